#!/usr/bin/env bash
# Builds (`build`) or runs for a while (`run SECONDS`) every cargo-fuzz target.
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the one stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1

targets=$(cargo fuzz list --fuzz-dir fuzz)
case "${1:-build}" in
    build)
        cargo fuzz build --fuzz-dir fuzz --sanitizer none
        ;;
    run)
        seconds="${2:-30}"
        for t in $targets; do
            cargo fuzz run --fuzz-dir fuzz --sanitizer none "$t" -- -max_total_time="$seconds"
        done
        ;;
    *) echo "usage: $0 [build|run SECONDS]" >&2; exit 2 ;;
esac
