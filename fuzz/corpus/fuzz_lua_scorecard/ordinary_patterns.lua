function weights(bucket, input)
  local k, v = ("key = value"):match("(%w+)%s*=%s*(%w+)")
  local words = {}
  for w in ("one two three"):gmatch("%a+") do words[#words + 1] = w:upper() end
  local s = ("f(a(b)c)d"):gsub("%b()", "[]")
  return {k = k, v = v, words = table.concat(words, ","), s = s, f = ("THE (quick)"):find("%f[%a]%a+")}
end
function self_test() return weights("balanced", {}).k == "key" end
