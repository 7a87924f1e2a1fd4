#!/usr/bin/env bash
# The whole test suite: installs what the tests need when it is missing,
# then checks formatting and lints, runs every test (unit, end-to-end
# against real Knot DNS and dig/kdig, differential against Knot, fuzz
# corpus replay), and a bounded fuzz smoke: each target for a fixed
# number of inputs from a fixed seed (about a minute each; at most
# ZONECAST_FUZZ_SECONDS), so that its result repeats from machine to
# machine; long fuzzing is `tools/fuzz` alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

tools/install-deps.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
# The README starts the server with a bare `cargo run`: it must pick the
# server binary.
cargo run --locked -q -- --version >/dev/null
FUZZ_SEED=${ZONECAST_FUZZ_SEED:-1} tools/fuzz "${ZONECAST_FUZZ_SECONDS:-120}"
