local s = ("x"):rep(1e5) function weights() for i = 1, 1e6 do string.format("%s", s) end end
