-- An integer loop of 10^7 iterations. Checksum: 29999994.
local function main()
  local sum = 0
  local i = 0
  while i < 10000000 do
    sum = sum + i % 7
    i = i + 1
  end
  return sum
end
print(main())
