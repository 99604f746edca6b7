local s = ("a"):rep(60000):match(("a*"):rep(20) .. "b")
