#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets in fuzz/corpus/TARGET/ (or in the folder given
# as the first argument):
#   source                      every corpus/**/*.echo program (names flattened: lang__basics__x.echo);
#   diff_tiers, gc_stress,
#   clif_roundtrip              random bytes: the generator turns any bytes into a valid program,
#                               so random inputs are as good a start as any; ECHO_SEED_FILES (32)
#                               files of ECHO_SEED_BYTES (4096) bytes each.
# Safe to re-run: it overwrites its own files and leaves inputs the fuzzer added alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/fuzz/corpus}"
files="${ECHO_SEED_FILES:-32}"
bytes="${ECHO_SEED_BYTES:-4096}"

mkdir -p "$out/source"
n=0
while IFS= read -r -d '' f; do
    rel="${f#"$root"/corpus/}"
    cp "$f" "$out/source/${rel//\//__}"
    n=$((n + 1))
done < <(find "$root/corpus" -name '*.echo' -print0)
echo "source: $n programs from corpus/"

for target in diff_tiers gc_stress clif_roundtrip; do
    mkdir -p "$out/$target"
    for i in $(seq 1 "$files"); do
        head -c "$bytes" /dev/urandom >"$out/$target/random-$i"
    done
    echo "$target: $files random inputs of $bytes bytes"
done
