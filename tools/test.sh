#!/usr/bin/env bash
# The whole test suite: installs what the tests need when it is missing,
# then checks formatting and lints, runs every test (unit, end-to-end
# against real Knot DNS and dig/kdig, differential against Knot, fuzz
# corpus replay), and a bounded fuzz smoke: each target for 60 s
# (ZONECAST_FUZZ_SECONDS changes it) with a fixed seed, so that its
# result repeats from run to run; long fuzzing is `tools/fuzz` alone.
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
FUZZ_SEED=${ZONECAST_FUZZ_SEED:-1} tools/fuzz "${ZONECAST_FUZZ_SECONDS:-60}"
