#!/usr/bin/env bash
# Times the benchmarks of corpus/bench/micro and corpus/bench/awfy that have a Lua version
# (NAME.lua next to NAME.echo) under echo-lang (interpreter tier, and the
# default tiered JIT) and lua5.4, side by side in one run, and prints the time ratios (echo /
# lua; <= 1.0 means Echo is at least as fast). Installs lua5.4 with apt if it is missing. Each program runs
# ROUNDS times (default 11) alternately and the fastest run of each counts, which filters
# out noise from other work on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-11}
if ! command -v lua5.4 >/dev/null; then
  echo "installing lua5.4..." >&2
  (apt-get update -qq && apt-get install -y -qq lua5.4) >/dev/null
fi
cargo build --release -q -p echo-engine --bin echo-lang
ECHO=target/release/echo-lang
python3 - "$ECHO" "$ROUNDS" <<'PY'
import subprocess, sys, time, glob, os
echo, rounds = sys.argv[1], int(sys.argv[2])
def best(cmd):
    t = float("inf"); out = None
    for _ in range(rounds):
        s = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        t = min(t, time.perf_counter() - s)
    return t, out.strip()
print(f"{'benchmark':<14} {'interp (ms)':>11} {'tiered (ms)':>11} {'lua5.4 (ms)':>12} {'interp/lua':>10} {'tiered/lua':>10}  checksum")
for e in sorted(glob.glob("corpus/bench/micro/*.echo")) + sorted(glob.glob("corpus/bench/awfy/*.echo")):
    l = e[:-5] + ".lua"
    if not os.path.exists(l):
        continue
    te, oe = best([echo, "run", "--tier", "interp", e])
    tt, ot = best([echo, "run", "--tier", "tiered", e])
    tl, ol = best(["lua5.4", l])
    ok = "ok" if oe == ol == ot else f"MISMATCH {oe!r} / {ot!r} vs {ol!r}"
    print(f"{os.path.basename(e)[:-5]:<14} {te*1e3:>11.1f} {tt*1e3:>11.1f} {tl*1e3:>12.1f} {te/tl:>10.2f} {tt/tl:>10.2f}  {ok}")
PY
