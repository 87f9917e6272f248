#!/usr/bin/env bash
# Runs every test of the project. With an argument, only that part: rust, python, venv.
set -euo pipefail
cd "$(dirname "$0")/.."

part="${1:-all}"

venv() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
}

rust() {
    echo "== rustfmt"
    cargo fmt --all --check
    echo "== clippy"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    echo "== cargo test"
    cargo test --workspace --locked
    echo "== benchmarks build"
    cargo bench --workspace --locked --no-run
    if [ -d fuzz ]; then
        echo "== fuzz targets build"
        scripts/fuzz.sh build
    fi
}

python() {
    venv
    echo "== pytest"
    .venv/bin/python -m pytest tests
}

case "$part" in
    all) rust; python ;;
    rust) rust ;;
    python) python ;;
    venv) venv ;;
    *) echo "usage: $0 [rust|python|venv]" >&2; exit 2 ;;
esac
