-- String building: 200000 concatenations of short strings. Checksum: 778000.
local function main()
  local total = 0
  local s = ""
  for i = 0, 200000 - 1 do
    s = "k" .. tostring(i % 1000)
    total = total + #s
  end
  return total
end
print(main())
