function weights() return ("a"):rep(100000):find(("a"):rep(50000) .. "b", 1, true) end
