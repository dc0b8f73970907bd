# 10^7 reads and writes of instance fields in a loop. Checksum: 49999995000000.
class Point:
    def __init__(self):
        self.x = 0
        self.y = 0


def main():
    p = Point()
    for i in range(10000000):
        p.x = p.x + i
        p.y = p.x
    return p.y


print(main())
