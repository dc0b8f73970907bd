# 3 * 10^6 method calls that read and write a field. Checksum: 3000000.
class Counter:
    def __init__(self):
        self.n = 0

    def add(self, k):
        self.n = self.n + k
        return self


def main():
    c = Counter()
    for _ in range(3000000):
        c.add(1)
    return c.n


print(main())
