function self_test() return ("a"):rep(60000):gsub(("a-"):rep(20) .. "b", "") == nil end
