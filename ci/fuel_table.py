#!/usr/bin/env python3
"""The worst program per builtin and operator for fuel: each repeats one operation on big
operands; prints a markdown table of fuel used, time and nanoseconds per fuel unit, the
figure that bounds a run's time by its fuel budget (docs/LANGUAGE.md §15).

Usage: ci/fuel_table.py [--tier interp|jit|tiered] [--echo PATH]
(build first: cargo build --release -p echo-engine)
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

# name, setup, operation repeated in the loop (K times)
BIG = "let l = range(0, 100000); let s = \"a\" * 1000000; "
CASES = [
    ("loop iteration (baseline)", "", "", 20000000),
    ("call of an empty function (baseline)", "fn f() {} ", "f();", 10000000),
    ("remove(map, oldest key)", "let m = {}; for i in 0..30000 { m[i] = i; } let k = 0; ",
     "remove(m, k); m[k] = k; k += 1;", 30000),
    ("insert(list, 0, v)", BIG, "insert(l, 0, i); pop(l);", 20000),
    ("remove(list, 0)", BIG, "remove(l, 0); push(l, i);", 20000),
    ("contains(list of ints, missing)", BIG, "contains(l, -1);", 3000),
    ("contains(list of 200-byte strings, missing)",
     "let l = []; for i in 0..10000 { push(l, \"x\" * 199 + str(i % 10)); } let t = \"x\" * 199 + \"y\"; ",
     "contains(l, t);", 1000),
    ("contains(string, missing)", BIG, "contains(s, \"ab\");", 300),
    ("find(string, missing)", BIG, "find(s, \"ab\");", 300),
    ("starts_with(s, s)", BIG, "starts_with(s, s);", 300),
    ("join(list, sep)", BIG, "join(l, \",\");", 100),
    ("split(string, sep)", "let s = join(range(0, 100000), \",\"); ", "split(s, \",\");", 100),
    ("slice(list, 0, n)", BIG, "slice(l, 0, 100000);", 1000),
    ("slice(non-ASCII string)", "let s = \"é\" * 500000; ", "slice(s, 499990, 500000);", 300),
    ("string index, non-ASCII", "let s = \"é\" * 500000; ", "s[499999];", 300),
    ("string * n", "", "\"ab\" * 500000;", 300),
    ("list * n", "", "[1] * 100000;", 1000),
    ("string + string", BIG, "s + s;", 300),
    ("list + list", BIG, "l + l;", 300),
    ("str(list)", BIG, "str(l);", 100),
    ("print-sized str(map)", "let m = {}; for i in 0..30000 { m[str(i)] = [i]; } ", "str(m);", 50),
    ("list == list (equal)", BIG + "let c = copy(l); ", "l == c;", 300),
    ("string == string (equal, distinct)", BIG + "let t = \"a\" * 1000000; ", "s == t;", 1000),
    ("string < string (equal prefix)", BIG + "let t = \"a\" * 1000000; ", "s < t;", 1000),
    ("sort(list of ints)", BIG, "sort(l);", 50),
    ("sort(list of strings)", "let l = []; for i in 0..20000 { push(l, str(i * 7919 % 20000)); } ",
     "sort(l);", 20),
    ("reverse(list)", BIG, "reverse(l);", 3000),
    ("copy(list)", BIG, "copy(l);", 1000),
    ("copy(map)", "let m = {}; for i in 0..30000 { m[i] = i; } ", "copy(m);", 100),
    ("keys(map)", "let m = {}; for i in 0..30000 { m[i] = i; } ", "keys(m);", 1000),
    ("range(0, n)", "", "range(0, 100000);", 1000),
    ("upper(string)", BIG, "upper(s);", 100),
    ("trim(whitespace)", "let s = \" \" * 1000000; ", "trim(s);", 300),
    ("replace(string)", BIG, "replace(s, \"a\", \"bc\");", 30),
    ("int(long digit string)", "let s = \"1\" * 1000000; ", "try { int(s); } catch e {}", 300),
    ("max(list)", BIG, "max(l);", 1000),
]


def run(echo, tier, source):
    with tempfile.NamedTemporaryFile("w", suffix=".echo", delete=False) as f:
        f.write(source)
        path = f.name
    try:
        start = time.perf_counter()
        p = subprocess.run([echo, "run", "--tier", tier, "--fuel", "unlimited", "--stats", path],
                           capture_output=True, text=True)
        wall = time.perf_counter() - start
    finally:
        os.unlink(path)
    fuel = int(re.search(r"fuel used\s+(\d+)", p.stderr).group(1))
    run_ms = float(re.search(r"run time\s+([\d.]+) ms", p.stderr).group(1))
    return fuel, run_ms, wall, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tier", default="tiered")
    ap.add_argument("--echo", default="target/release/echo-lang")
    args = ap.parse_args()
    print(f"| Operation (repeated) | fuel | time | ns per unit |")
    print(f"|---|---:|---:|---:|")
    worst = 0.0
    for name, setup, op, k in CASES:
        # The setup alone, to subtract its fuel and time.
        f0, t0, _, _ = run(args.echo, args.tier, setup)
        loop = f"for i in 0..{k} {{ {op} }}"
        f1, t1, _, p = run(args.echo, args.tier, setup + loop)
        if p.returncode != 0:
            print(f"{name}: failed: {p.stderr.strip().splitlines()[0]}", file=sys.stderr)
            continue
        fuel, ms = f1 - f0, max(t1 - t0, 0.0)
        ns = ms * 1e6 / max(fuel, 1)
        worst = max(worst, ns)
        print(f"| `{op}` ({name}) | {fuel:,} | {ms:.0f} ms | {ns:.1f} |")
    print(f"\nworst: {worst:.1f} ns per fuel unit ({args.tier})")


if __name__ == "__main__":
    main()
