#!/usr/bin/env bash
# Runs every test of the project. With an argument, only that part: rust, python, venv, extension.
set -euo pipefail
cd "$(dirname "$0")/.."

part="${1:-all}"

venv() {
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        -r tests/requirements.txt -r tests/thirdparty/requirements.txt
}

# Builds the native module into .venv (release: the benchmarks use the same build).
extension() {
    venv
    VIRTUAL_ENV="$PWD/.venv" .venv/bin/maturin develop --release --quiet
}

rust() {
    echo "== rustfmt"
    cargo fmt --all --check
    echo "== module layers (no circle of modules in any crate)"
    python3 scripts/module_cycles.py
    echo "== clippy"
    cargo clippy --workspace --all-targets --locked -- -D warnings
    echo "== each transport alone, and none (no code left unused or unbuilt by a feature set)"
    cargo clippy --quiet -p pyrometer-export --no-default-features --locked -- -D warnings
    for feature in http pushgateway otlp remote-write tls textfile graphite statsd; do
        cargo clippy --quiet -p pyrometer-export --no-default-features --features "$feature" --locked -- -D warnings
    done
    echo "== cargo test"
    # The extension module links against the interpreter that loads it, so its tests are the
    # Python suite's.
    cargo test --workspace --locked --exclude pyrometer-python
    echo "== benchmarks build"
    cargo bench --workspace --locked --no-run --exclude pyrometer-python
    if [ -d fuzz ]; then
        echo "== fuzz targets, ${FUZZ_SECONDS:-20} s each"
        scripts/fuzz.sh run "${FUZZ_SECONDS:-20}"
    fi
}

python() {
    extension
    echo "== mypy --strict and stubtest"
    .venv/bin/python -m mypy --strict python/pyrometer
    .venv/bin/python -m mypy.stubtest pyrometer._native
    echo "== pytest"
    .venv/bin/python -m pytest tests
    echo "== prometheus_client's own test suite, against pyrometer"
    .venv/bin/python tests/upstream/run.py -q
    echo "== libraries built on prometheus_client, their own suites, with pyrometer standing in"
    .venv/bin/python tests/thirdparty/run.py -q
}

case "$part" in
    all) rust; python ;;
    rust) rust ;;
    python) python ;;
    venv) venv ;;
    extension) extension ;;
    *) echo "usage: $0 [rust|python|venv|extension]" >&2; exit 2 ;;
esac
