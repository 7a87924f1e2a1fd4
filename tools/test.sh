#!/usr/bin/env bash
# The whole test suite: installs what the tests need when it is missing,
# then checks formatting and lints, and runs every test (unit, end-to-end
# against real Knot DNS and dig/kdig, differential against Knot).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

tools/install-deps.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked
