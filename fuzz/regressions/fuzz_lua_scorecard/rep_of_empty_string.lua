function weights(bucket, input) return #string.rep("", 1e9) end
