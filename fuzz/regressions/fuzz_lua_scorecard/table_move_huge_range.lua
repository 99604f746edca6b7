function weights(bucket, input) return table.move({}, 1, 1e8, 2) end
