function weights(bucket, input) return ("a"):rep(60000):find(("a*"):rep(20) .. "b") end
