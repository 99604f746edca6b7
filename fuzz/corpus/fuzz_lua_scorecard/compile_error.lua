function weights( return 1 end
