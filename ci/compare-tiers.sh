#!/usr/bin/env bash
# Times the micro benchmarks of corpus/bench/micro, and the Are-We-Fast-Yet programs that have a
# Lua version, in each tier (interp, jit, tiered) and, when installed, under luajit (NAME.jit.lua
# where LuaJIT needs its own version, else NAME.lua), side by side in one run (hyperfine, fastest
# of N runs, whole process including compilation). Prints the speedups of jit and tiered over the
# interpreter, tiered / luajit, and the geomeans.
# Needs hyperfine (apt install hyperfine); N runs per program (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-7}
command -v hyperfine >/dev/null || { echo "hyperfine is required (apt install hyperfine)" >&2; exit 1; }
cargo build --release -q -p echo-engine --bin echo-lang
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-14s %9s %9s %9s %9s %7s %7s %7s\n" benchmark interp jit tiered luajit "jit x" "tier x" "t/lj"
for e in corpus/bench/micro/*.echo corpus/bench/awfy/*.echo; do
  b=$(basename "$e" .echo)
  case "$e" in corpus/bench/awfy/*) [ -f "${e%.echo}.lua" ] || continue ;; esac
  for t in interp jit tiered; do
    hyperfine -N -w 1 -r "$N" --export-json "$tmp/$t.json" \
      "target/release/echo-lang run --tier $t $e" >/dev/null 2>&1
  done
  lua="${e%.echo}.jit.lua"
  [ -f "$lua" ] || lua="${e%.echo}.lua"
  if command -v luajit >/dev/null && [ -f "$lua" ]; then
    hyperfine -N -w 1 -r "$N" --export-json "$tmp/lj.json" "luajit $lua" >/dev/null 2>&1
  fi
  python3 - "$b" "$tmp" <<'PY'
import json, os, sys
b, d = sys.argv[1], sys.argv[2]
m = lambda f: min(json.load(open(os.path.join(d, f)))["results"][0]["times"]) * 1000
i, j, t = m("interp.json"), m("jit.json"), m("tiered.json")
lj = m("lj.json") if os.path.exists(os.path.join(d, "lj.json")) else None
l = f"{lj:9.1f}" if lj else f"{'-':>9}"
tl = f"{t/lj:7.2f}" if lj else f"{'-':>7}"
print(f"{b:<14} {i:9.1f} {j:9.1f} {t:9.1f} {l} {i/j:7.2f} {i/t:7.2f} {tl}")
with open(os.path.join(d, "ratios"), "a") as f:
    f.write(f"{i/j} {i/t} {t/lj if lj else 0}\n")
PY
  rm -f "$tmp/lj.json"
done
python3 - "$tmp/ratios" <<'PY'
import math, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
g = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")
lj = [r[2] for r in rows if r[2] > 0]
print(f"{'geomean':<14} {'':>9} {'':>9} {'':>9} {'':>9} {g([r[0] for r in rows]):7.2f} "
      f"{g([r[1] for r in rows]):7.2f} {g(lj):7.2f}  (tiered/luajit over {len(lj)} programs)")
PY
