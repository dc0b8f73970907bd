#!/usr/bin/env bash
# Times the benchmarks of corpus/bench/micro and corpus/bench/awfy that have a Lua version
# (NAME.lua next to NAME.echo) as whole processes under echo-lang (interpreter tier, and the
# default tiered JIT) and lua5.4, side by side in one run, and prints the median times, their
# ratios (echo / lua; <= 1.0 means Echo is at least as fast), the geomean of the ratios and
# each process's peak resident memory. Installs lua5.4 with apt if it is missing. Each program
# runs ROUNDS times (default 5), the three commands taking turns, so that load from other work
# on a shared machine falls on all of them alike.
#   ROUNDS=N     runs per program and command
#   ONLY=REGEX   only the benchmarks whose name matches
#   CLOCK=cpu    time by the CPU time each process used instead of the wall clock (steadier on
#                a machine busy with other work; on a quiet one the two agree)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
if ! command -v lua5.4 >/dev/null; then
  echo "installing lua5.4..." >&2
  (apt-get update -qq && apt-get install -y -qq lua5.4) >/dev/null
fi
cargo build --release -q -p echo-engine --bin echo-lang
ECHO=target/release/echo-lang
mkdir -p target/ci
gcc -O2 -o target/ci/peakmem ci/peakmem.c
python3 - "$ECHO" "$ROUNDS" "${ONLY:-}" target/ci/peakmem "${CLOCK:-wall}" <<'PY'
import glob, math, os, re, statistics, subprocess, sys, time
echo, rounds, only, peakmem, clock = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def run(cmd):
    """Runs cmd; returns (seconds, peak RSS in KiB, stdout)."""
    s = time.perf_counter()
    p = subprocess.run([peakmem] + cmd, capture_output=True, text=True)
    t = time.perf_counter() - s
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed with status {p.returncode}: {p.stderr}")
    m = re.search(r"^peak-kib (\d+) cpu-us (\d+)$", p.stderr, re.M)
    if clock == "cpu":
        t = int(m.group(2)) / 1e6
    return t, int(m.group(1)), p.stdout.strip()

names = []
for e in sorted(glob.glob("corpus/bench/micro/*.echo")) + sorted(glob.glob("corpus/bench/awfy/*.echo")):
    name = os.path.basename(e)[:-5]
    if os.path.exists(e[:-5] + ".lua") and (not only or re.search(only, name)):
        names.append((name, e))
print(f"{'benchmark':<14} {'interp ms':>9} {'tiered ms':>9} {'lua5.4 ms':>9} {'interp/lua':>10} "
      f"{'tiered/lua':>10} {'interp KiB':>10} {'tiered KiB':>10} {'lua KiB':>8}  checksum")
ri, rt = [], []
for name, e in names:
    cmds = {"interp": [echo, "run", "--tier", "interp", e],
            "tiered": [echo, "run", "--tier", "tiered", e],
            "lua": ["lua5.4", e[:-5] + ".lua"]}
    times = {k: [] for k in cmds}
    mem = {k: 0 for k in cmds}
    outs = {}
    for _ in range(rounds):
        for k, cmd in cmds.items():
            t, rss, out = run(cmd)
            times[k].append(t)
            mem[k] = max(mem[k], rss)
            outs[k] = out
    med = {k: statistics.median(v) for k, v in times.items()}
    ok = "ok" if outs["interp"] == outs["tiered"] == outs["lua"] else \
        f"MISMATCH {outs['interp']!r} / {outs['tiered']!r} vs {outs['lua']!r}"
    ri.append(med["interp"] / med["lua"]); rt.append(med["tiered"] / med["lua"])
    print(f"{name:<14} {med['interp']*1e3:>9.1f} {med['tiered']*1e3:>9.1f} {med['lua']*1e3:>9.1f} "
          f"{ri[-1]:>10.2f} {rt[-1]:>10.2f} {mem['interp']:>10} {mem['tiered']:>10} {mem['lua']:>8}  {ok}")
if ri:
    g = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
    print(f"{'geomean':<14} {'':>9} {'':>9} {'':>9} {g(ri):>10.2f} {g(rt):>10.2f}")
PY
