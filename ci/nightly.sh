#!/usr/bin/env bash
# The nightly run: long fuzzing of every fuzz target (each followed by a corpus merge), a long
# differential campaign that reports every distinct divergence, and the benchmark report.
# Everything it produces lands in one folder:
#
#   OUT/fuzz/TARGET/        fuzz.log, cmin.log, artifacts/ (libFuzzer crash inputs),
#                           reproducers/ (whole and reduced programs), corpus.tar.gz
#   OUT/campaign/           campaign.log, summary.json, cases/, regress/ (reduced reproducers)
#   OUT/bench/              the benchmark report, bench.log
#   OUT/SUMMARY.txt         one line per part: passed, failed or skipped
#
# Environment:
#   ECHO_NIGHTLY_OUT=DIR             the folder (default target/nightly/YYYY-MM-DD)
#   ECHO_NIGHTLY_FUZZ_SECONDS=N      per fuzz target (default 3600)
#   ECHO_NIGHTLY_DIFF_SECONDS=N      differential campaign (default 3600)
#   ECHO_NIGHTLY_TARGETS="T ..."     fuzz targets to run (default: all)
#   ECHO_NIGHTLY_SKIP="PART ..."     parts to skip: fuzz, campaign, bench
#
# The fuzz corpora grow in fuzz/corpus/TARGET/ from night to night (seeded by
# fuzz/seed-corpus.sh when empty). Every part runs even when an earlier one failed; the exit
# status is 1 if any part failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
source ci/lib.sh

out="$(output_dir "${ECHO_NIGHTLY_OUT:-target/nightly/$(date -u +%Y-%m-%d)}")"
fuzz_seconds="${ECHO_NIGHTLY_FUZZ_SECONDS:-3600}"
diff_seconds="${ECHO_NIGHTLY_DIFF_SECONDS:-3600}"
failed=0
: >"$out/SUMMARY.txt"

note() {
    printf '%-28s %s\n' "$1" "$2" | tee -a "$out/SUMMARY.txt"
}

skipped() {
    [[ " ${ECHO_NIGHTLY_SKIP:-} " == *" $1 "* ]]
}

fuzz_one() {
    local target=$1 dir="$out/fuzz/$1"
    mkdir -p "$dir/artifacts" "fuzz/corpus/$target"
    if [[ -z $(ls -A "fuzz/corpus/$target") ]]; then
        bash fuzz/seed-corpus.sh
    fi
    local dict=()
    [[ -f fuzz/$target.dict ]] && dict=("-dict=fuzz/$target.dict")
    echo "=== fuzz $target for ${fuzz_seconds}s"
    local status=passed
    if ! ECHO_FUZZ_OUT="$dir/reproducers" cargo_fuzz run "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$fuzz_seconds" -artifact_prefix="$dir/artifacts/" "${dict[@]}" \
        >"$dir/fuzz.log" 2>&1; then
        status="FAILED (see $dir/fuzz.log, $dir/artifacts/, $dir/reproducers/)"
        failed=1
    fi
    note "fuzz $target" "$status; $(grep -E '^#[0-9]+[[:space:]]' "$dir/fuzz.log" | tail -n 1 || true)"
    # Merge: keep the smallest set of inputs with the same coverage.
    if cargo_fuzz cmin "$target" "fuzz/corpus/$target" >"$dir/cmin.log" 2>&1; then
        note "cmin $target" "$(find "fuzz/corpus/$target" -type f | wc -l) inputs"
    else
        note "cmin $target" "FAILED (see $dir/cmin.log)"
        failed=1
    fi
    tar -czf "$dir/corpus.tar.gz" -C fuzz/corpus "$target"
}

campaign() {
    local dir="$out/campaign"
    mkdir -p "$dir"
    echo "=== differential campaign for ${diff_seconds}s"
    if cargo run --release --quiet -p echo-harness -- diff --seconds "$diff_seconds" \
        --keep-going --quiet --out "$dir" --regress-dir "$dir/regress" >"$dir/campaign.log" 2>&1; then
        note campaign "passed; $(grep -m 1 ' cases in ' "$dir/campaign.log" || true)"
    else
        note campaign "FAILED (see $dir/campaign.log, $dir/regress/)"
        failed=1
    fi
}

bench() {
    local dir="$out/bench"
    mkdir -p "$dir"
    # The report compares with the Lua reference runtimes when they are installed.
    if ! command -v lua5.4 >/dev/null; then
        apt_install lua5.4 luajit >"$dir/apt.log" 2>&1 ||
            echo "could not install lua5.4 and luajit (see $dir/apt.log)"
    fi
    echo "=== benchmark report"
    # Earlier nights' reports (siblings of this night's folder) give the trend plot.
    if cargo run --release --quiet -p echo-harness -- bench --out "$dir" \
        --history "$(dirname "$out")" >"$dir/bench.log" 2>&1; then
        note bench "passed; report in $dir"
    else
        note bench "FAILED (see $dir/bench.log)"
        failed=1
    fi
}

if skipped fuzz; then
    note fuzz skipped
else
    ensure_cargo_fuzz
    if ! have_nightly; then
        echo "no nightly toolchain: building the fuzz targets with stable and RUSTC_BOOTSTRAP=1"
    fi
    cargo_fuzz build
    for target in ${ECHO_NIGHTLY_TARGETS:-$(fuzz_targets)}; do
        fuzz_one "$target"
    done
fi
if skipped campaign; then note campaign skipped; else campaign; fi
if skipped bench; then note bench skipped; else bench; fi

echo
echo "artifacts: $out"
cat "$out/SUMMARY.txt"
exit "$failed"
