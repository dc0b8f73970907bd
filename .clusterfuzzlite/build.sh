#!/bin/bash -eu
# Builds every fuzz target with `cargo fuzz build -O` and copies it to $OUT with its seed
# corpus (TARGET_seed_corpus.zip), dictionary (TARGET.dict) and libFuzzer options
# (TARGET.options). Runs in the ClusterFuzzLite image (see Dockerfile); outside it, set SRC
# (the folder holding this repository as echo/, or SRC_DIR to the repository itself) and OUT;
# CARGO_TARGET_DIR moves the build.
set -o pipefail
src="${SRC_DIR:-$SRC/echo}"
cd "$src"

cargo fuzz build -O
bin="${CARGO_TARGET_DIR:-fuzz/target}/x86_64-unknown-linux-gnu/release"
seeds="${WORK:-$(mktemp -d)}/seed-corpus"
rm -rf "$seeds"
bash fuzz/seed-corpus.sh "$seeds"

for f in fuzz/fuzz_targets/*.rs; do
    target=$(basename "${f%.rs}")
    cp "$bin/$target" "$OUT/"
    if [ -d "$seeds/$target" ]; then
        (cd "$seeds/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    fi
    if [ -f "fuzz/$target.dict" ]; then
        cp "fuzz/$target.dict" "$OUT/$target.dict"
    fi
    # Generated programs take a few KiB of input; source programs up to the largest corpus file.
    printf '[libfuzzer]\nmax_len = 32768\n' >"$OUT/$target.options"
done
