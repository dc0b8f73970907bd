#!/usr/bin/env bash
# rustc wrapper for the workspace's own crates (see config.toml next to this file): compiles
# the engine crate, which holds the interpreter's dispatch loop, with the code generation
# flags that loop needs, and every other crate as it is. Bash, not sh: dash drops variables
# whose names are not shell names, such as the CARGO_BIN_EXE_echo-lang of integration tests.
rustc="$1"
shift
for arg in "$@"; do
    if [ "$arg" = "echo_engine" ]; then
        exec "$rustc" "$@" \
            -C llvm-args=-tail-dup-pred-size=1000 \
            -C llvm-args=-tail-dup-succ-size=1000 \
            -C llvm-args=-align-all-nofallthru-blocks=5 \
            -C llvm-args=-align-all-functions=6
    fi
done
exec "$rustc" "$@"
