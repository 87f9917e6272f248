# The two commands of the README, and the pieces they are made of.
.PHONY: demo test test-rust test-python bench goldens

# Run the demo service: an instrumented app that makes its own traffic and serves live metrics.
demo:
	cargo run --release -p pyrometer-cli -- demo

# Run every test: Rust (fmt, clippy, unit, doc, golden), fuzz and bench builds, Python compat suite.
test:
	scripts/test.sh

test-rust:
	scripts/test.sh rust

test-python:
	scripts/test.sh python

# Run the Rust benchmarks side by side with the peer crates.
bench:
	cargo bench -p pyrometer-benches

# Regenerate the golden exposition files from prometheus_client.
goldens:
	scripts/test.sh venv && .venv/bin/python tests/compat/golden_scenarios.py
