function weights() return {["caf\xe9"] = 1, balanced = "\xff"} end
function self_test() error("bad \xfe byte") end
