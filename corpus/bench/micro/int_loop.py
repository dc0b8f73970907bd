# An integer loop of 10^7 iterations. Checksum: 29999994.
def main():
    total = 0
    i = 0
    while i < 10000000:
        total = total + i % 7
        i = i + 1
    return total


print(main())
