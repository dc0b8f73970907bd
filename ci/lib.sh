# shellcheck shell=bash
# Shared by ci/gate.sh and ci/nightly.sh (sourced, not run): setting up the tools the scripts
# need on a fresh machine, and running cargo-fuzz with the right toolchain.

# Creates folder DIR if needed and prints its absolute path (steps run in other folders).
output_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd)
}

# Whether the nightly toolchain is installed.
have_nightly() {
    rustup toolchain list 2>/dev/null | grep -q '^nightly'
}

# Makes rustfmt and clippy available (part of the default rustup profile; a minimal install
# lacks them).
ensure_components() {
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
        rustup component add rustfmt clippy
    fi
}

# Makes `cargo fuzz` available: installed from crates.io when missing (about a minute).
ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "cargo-fuzz is missing: installing it"
        cargo install cargo-fuzz --locked
    fi
}

# Build flags of every fuzz build the scripts make (ECHO_FUZZ_FLAGS overrides them): optimized,
# without debug assertions (which also turn on the Cranelift verifier in the engine) and
# without comparison tracing. With cargo-fuzz's defaults, most of a case's time goes to
# instrumented Cranelift: these flags give several times the executions per second.
read -r -a FUZZ_FLAGS <<<"${ECHO_FUZZ_FLAGS:--O --no-trace-compares}"

# Runs `cargo fuzz SUBCOMMAND ARGS...` with nightly when it is installed; otherwise with the
# stable toolchain allowed to use nightly flags (RUSTC_BOOTSTRAP=1), which works because
# stable ships the AddressSanitizer runtime. The scripts' builds go to their own folders
# (fuzz/target-ci, fuzz/target-stable): other flags or another toolchain would rebuild
# everything in fuzz/target, the folder of plain `cargo fuzz run`.
cargo_fuzz() {
    local sub=$1
    shift
    local toolchain=() dir=fuzz/target-ci
    if have_nightly; then
        toolchain=(+nightly)
    else
        export RUSTC_BOOTSTRAP=1
        dir=fuzz/target-stable
    fi
    case $sub in
    build | run | cmin | tmin)
        cargo "${toolchain[@]}" fuzz "$sub" "${FUZZ_FLAGS[@]}" --target-dir "$dir" "$@"
        ;;
    *)
        cargo "${toolchain[@]}" fuzz "$sub" "$@"
        ;;
    esac
}

# Names of the fuzz targets.
fuzz_targets() {
    cargo_fuzz list
}

# Installs Debian packages, as root or through sudo; best effort (returns non-zero on failure).
apt_install() {
    local sudo=()
    if ((EUID != 0)); then
        sudo -n true 2>/dev/null || return 1
        sudo=(sudo -n)
    fi
    "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq "$@"
}
