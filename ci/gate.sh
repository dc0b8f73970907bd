#!/usr/bin/env bash
# The gate: what every change must pass, as named steps. A failing step stops the gate and is
# named loudly at the end of the output.
#
#   fmt            cargo fmt --check (workspace and fuzz/)
#   clippy         cargo clippy -D warnings, default features (the JIT)
#   clippy-interp  cargo clippy -D warnings, --no-default-features (interpreter only)
#   clippy-fuzz    cargo clippy -D warnings on the fuzz crate
#   test           cargo test --workspace
#   test-interp    cargo test -p echo-engine --no-default-features
#   clippy-mutants cargo clippy -D warnings with the engine's deliberate JIT bugs compiled in
#   test-mutants   every mutant is killed by its reproducer in corpus/regress/mutants
#   campaign       a fixed-seed differential campaign (300 cases, seed 1)
#   replay         every corpus/ file in every tier (echo-harness replay corpus)
#   selftest       a campaign finds every mutant (ECHO_GATE_SELFTEST_SECONDS per mutant, default 30)
#   fuzz           every fuzz target for ECHO_GATE_FUZZ_SECONDS seconds
#   bench          the benchmark gate (echo-harness bench --gate ci/bench-baseline.json)
#
# Environment:
#   ECHO_GATE_ONLY="STEP ..."   run only these steps
#   ECHO_GATE_SKIP="STEP ..."   skip these steps
#   ECHO_GATE_FUZZ_SECONDS=N    seconds per fuzz target (default 30; 0 skips the fuzz step)
#   ECHO_GATE_SELFTEST_SECONDS=N  most seconds spent looking for each mutant (default 30)
#   ECHO_GATE_FUZZ_TARGETS="T ..."  fuzz targets to run (default: all)
#   ECHO_GATE_BENCH_MIN_DROP=F  smallest speedup drop the benchmark gate fails on (default 0.25)
#   ECHO_GATE_OUT=DIR           campaign output, fuzz corpora, logs and crashes (target/gate)
#
# On a fresh machine it installs what it needs: rustfmt and clippy (rustup components) and
# cargo-fuzz (from crates.io). The fuzz targets build with nightly when it is installed, else
# with stable and RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=ci/lib.sh
source ci/lib.sh

out="$(output_dir "${ECHO_GATE_OUT:-target/gate}")"
fuzz_seconds="${ECHO_GATE_FUZZ_SECONDS:-30}"
current="setup"
summary=()

on_exit() {
    local rc=$?
    if ((rc != 0)); then
        printf '\n%s\n' "########################################################################" >&2
        printf '### GATE FAILED at step: %s (exit status %d)\n' "$current" "$rc" >&2
        printf '%s\n' "########################################################################" >&2
    fi
}
trap on_exit EXIT

wanted() {
    local id=$1
    if [[ -n ${ECHO_GATE_ONLY:-} && " ${ECHO_GATE_ONLY} " != *" $id "* ]]; then
        return 1
    fi
    [[ " ${ECHO_GATE_SKIP:-} " != *" $id "* ]]
}

# step ID DESCRIPTION COMMAND...: runs COMMAND as step ID unless it is skipped.
step() {
    local id=$1 what=$2
    shift 2
    if ! wanted "$id"; then
        summary+=("$(printf '%-14s skipped' "$id")")
        return 0
    fi
    current="$id ($what)"
    printf '\n=== [%s] %s ===\n' "$id" "$what"
    local start=$SECONDS
    "$@"
    local took=$((SECONDS - start))
    printf -- '--- [%s] passed in %ds\n' "$id" "$took"
    summary+=("$(printf '%-14s passed  %4ds' "$id" "$took")")
}

harness() {
    cargo run --release --quiet -p echo-harness -- "$@"
}

fmt_check() {
    cargo fmt --all -- --check
    cargo fmt --manifest-path fuzz/Cargo.toml -- --check
}

campaign() {
    harness diff --cases 300 --seed 1 --jobs 2 --quiet \
        --out "$out/campaign" --regress-dir "$out/campaign/regress"
}

fuzz_all() {
    ensure_cargo_fuzz
    if ! have_nightly; then
        echo "no nightly toolchain: building the fuzz targets with stable and RUSTC_BOOTSTRAP=1"
    fi
    # A few random inputs are enough for the generator-driven targets in a short run.
    ECHO_SEED_FILES=8 bash fuzz/seed-corpus.sh "$out/fuzz/corpus"
    cargo_fuzz build
    local target
    for target in ${ECHO_GATE_FUZZ_TARGETS:-$(fuzz_targets)}; do
        local dict=()
        [[ -f fuzz/$target.dict ]] && dict=("-dict=fuzz/$target.dict")
        mkdir -p "$out/fuzz/artifacts/$target"
        echo "--- fuzz target $target: ${fuzz_seconds}s"
        local log="$out/fuzz/$target.log"
        # Reproducers of a finding go to the gate's output folder, not into the repository.
        if ! ECHO_FUZZ_OUT="$out/fuzz/reproducers" cargo_fuzz run "$target" \
            "$out/fuzz/corpus/$target" -- -max_total_time="$fuzz_seconds" \
            -artifact_prefix="$out/fuzz/artifacts/$target/" "${dict[@]}" >"$log" 2>&1; then
            tail -n 80 "$log"
            echo "fuzz target $target failed (log: $log, artifacts: $out/fuzz/artifacts/$target/," \
                "reproducers: $out/fuzz/reproducers/)"
            return 1
        fi
        grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" || true
    done
}

selftest() {
    # Reproducers go to the gate's output folder; corpus/regress/mutants holds the committed ones.
    cargo run --release --quiet -p echo-harness --features mutants -- selftest \
        --seconds-per-mutant "${ECHO_GATE_SELFTEST_SECONDS:-30}" --reduce-seconds 10 \
        --jobs 2 --seed 1 --out "$out/selftest" --regress-dir "$out/selftest/regress" \
        --json "$out/selftest/selftest.json"
}

bench_gate() {
    # The benchmark gate runs only once a baseline has been recorded in ci/bench-baseline.json
    # (`echo-harness bench` writes one); until then this step passes without running.
    if [[ -f ci/bench-baseline.json ]]; then
        harness bench --runs 3 --out "$out/bench" --gate ci/bench-baseline.json \
            --min-drop "${ECHO_GATE_BENCH_MIN_DROP:-0.25}"
    else
        echo "no ci/bench-baseline.json: benchmark gate not run"
    fi
}

# The builds take a few GB of target/: the free space at the start and the space used at the
# end tell a failure for want of disk from any other.
disk_free() { df -Ph . | awk 'NR == 2 { print $4 " free on " $6 }'; }
echo "disk: $(disk_free)"

if wanted fmt || wanted clippy || wanted clippy-interp || wanted clippy-fuzz; then
    ensure_components
fi

step fmt "cargo fmt --check" fmt_check
step clippy "clippy -D warnings (default features)" \
    cargo clippy --workspace --all-targets -- -D warnings
step clippy-interp "clippy -D warnings (--no-default-features: interpreter only)" \
    cargo clippy --workspace --all-targets --no-default-features -- -D warnings
step clippy-fuzz "clippy -D warnings (fuzz crate)" \
    cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings
step test "cargo test --workspace" cargo test --workspace
step test-interp "cargo test -p echo-engine --no-default-features (interpreter only)" \
    cargo test -p echo-engine --no-default-features
step clippy-mutants "clippy -D warnings (--features mutants)" \
    cargo clippy -p echo-harness --all-targets --features mutants -- -D warnings
step test-mutants "every mutant killed by its reproducer" \
    cargo test -p echo-harness --features mutants --test mutants
step campaign "differential campaign, 300 cases, seed 1" campaign
step replay "replay corpus/ in every tier" harness replay corpus
step selftest "campaigns find every mutant" selftest
if ((fuzz_seconds > 0)); then
    step fuzz "every fuzz target for ${fuzz_seconds}s" fuzz_all
else
    summary+=("$(printf '%-14s skipped' fuzz)")
fi
step bench "benchmark gate (when ci/bench-baseline.json exists)" bench_gate

current="done"
printf '\n=== gate passed in %ds ===\n' "$SECONDS"
printf '  %s\n' "${summary[@]}"
echo "disk: $(du -sh target fuzz/target 2>/dev/null | awk '{ printf "%s %s, ", $2, $1 }')$(disk_free)"
