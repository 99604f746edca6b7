function weights() local co = coroutine.wrap(function() while true do coroutine.yield(("a"):rep(1000):gsub("a", "b")) end end) for i = 1, 1e6 do co() end end
