# shellcheck shell=bash
# Shared by the .ci/cross-* scripts (sourced, not run). Defines paths, the Debian
# toolchain environment and small timing/logging helpers.

CROSS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything the Debian compiler produces goes here, never into target/debug or
# target/release: the rustup toolchain (1.95) and Debian's rustc-web (1.96) make
# incompatible artifacts, and mixing them would force full rebuilds of the main tree.
CROSS_TARGET_DIR=${CROSS_TARGET_DIR:-$CROSS_ROOT/target/cross}
CROSS_OUT=$CROSS_TARGET_DIR/out
# Debian 12 does not put wine64 on PATH; this is the real loader.
WINE64=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
MINGW_CC=x86_64-w64-mingw32-gcc
export CROSS_ROOT CROSS_TARGET_DIR CROSS_OUT WINE64 WINESERVER MINGW_CC

export CARGO_TERM_COLOR=never
# No prompts anywhere (apt, wine) even when run by hand.
export DEBIAN_FRONTEND=noninteractive

# Environment for cargo to drive Debian's rustc instead of rustup's: only that
# compiler has a std source matching itself (rust-web-src) so -Zbuild-std can build
# std for targets rustup cannot download here; RUSTC_BOOTSTRAP unlocks -Z flags
# on the stable cargo.
debian_rust_env() {
    export RUSTC=/usr/bin/rustc
    export RUSTC_BOOTSTRAP=1
    # rustdoc/clippy wrappers from the caller's rustup environment would pair a
    # 1.95 tool with 1.96 artifacts.
    unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTDOC
    # Named here as well as in .cargo/config.toml so the scripts still work if
    # that file changes.
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$MINGW_CC
}

_cross_now() { date +%s.%N; }
# elapsed START -> seconds with one decimal since START
_cross_elapsed() { awk -v a="$1" -v b="$(_cross_now)" 'BEGIN { printf "%.1f", b - a }'; }

# Timings are collected as "label<TAB>seconds" lines and printed by timing_summary.
CROSS_TIMINGS=()
# timed LABEL CMD...: runs CMD, records and prints how long it took; propagates failure.
timed() {
    local label=$1; shift
    local t0 rc=0
    t0=$(_cross_now)
    "$@" || rc=$?
    local dt
    dt=$(_cross_elapsed "$t0")
    CROSS_TIMINGS+=("$label"$'\t'"$dt")
    if [ "$rc" -eq 0 ]; then
        printf -- '--- %s: %ss\n' "$label" "$dt"
    else
        printf -- '--- %s: FAILED (exit %s) after %ss\n' "$label" "$rc" "$dt" >&2
    fi
    return "$rc"
}

timing_summary() {
    local title=$1 line
    printf '\n%s timings:\n' "$title"
    for line in "${CROSS_TIMINGS[@]}"; do
        printf '  %-44s %8ss\n' "${line%%$'\t'*}" "${line#*$'\t'}"
    done
}

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Fails with a pointer to cross-setup when a tool it installs is missing.
require_setup() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || command -v "$f" >/dev/null 2>&1 \
            || die "$f not found: run .ci/cross-setup first"
    done
}
