# String building: 200000 concatenations of short strings. Checksum: 778000.
def main():
    total = 0
    for i in range(200000):
        s = "k" + str(i % 1000)
        total = total + len(s)
    return total


print(main())
