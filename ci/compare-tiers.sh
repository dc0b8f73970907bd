#!/usr/bin/env bash
# Times the micro benchmarks of corpus/bench/micro in each tier (interp, jit, tiered) and, when
# installed, under luajit, side by side in one run (hyperfine, fastest of N runs, whole process
# including compilation), and prints the speedups of jit and tiered over the interpreter.
# Needs hyperfine (apt install hyperfine); N runs per program (default 7).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-7}
command -v hyperfine >/dev/null || { echo "hyperfine is required (apt install hyperfine)" >&2; exit 1; }
cargo build --release -q -p echo-engine --bin echo-lang
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-14s %9s %9s %9s %9s %7s %7s\n" benchmark interp jit tiered luajit "jit x" "tier x"
for e in corpus/bench/micro/*.echo; do
  b=$(basename "$e" .echo)
  for t in interp jit tiered; do
    hyperfine -N -w 1 -r "$N" --export-json "$tmp/$t.json" \
      "target/release/echo-lang run --tier $t $e" >/dev/null 2>&1
  done
  lua="${e%.echo}.lua"
  if command -v luajit >/dev/null && [ -f "$lua" ]; then
    hyperfine -N -w 1 -r "$N" --export-json "$tmp/lj.json" "luajit $lua" >/dev/null 2>&1
  fi
  python3 - "$b" "$tmp" <<'PY'
import json, os, sys
b, d = sys.argv[1], sys.argv[2]
m = lambda f: min(json.load(open(os.path.join(d, f)))["results"][0]["times"]) * 1000
i, j, t = m("interp.json"), m("jit.json"), m("tiered.json")
l = f"{m('lj.json'):9.1f}" if os.path.exists(os.path.join(d, "lj.json")) else f"{'-':>9}"
print(f"{b:<14} {i:9.1f} {j:9.1f} {t:9.1f} {l} {i/j:7.2f} {i/t:7.2f}")
PY
  rm -f "$tmp/lj.json"
done
