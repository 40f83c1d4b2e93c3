#!/usr/bin/env bash
# The project's test command (README): formatting, the structure check, lints, and the whole
# test suite.
# Installs the pinned JS tools first when node is available: the circomlibjs cross-checks
# (tools/vectors) and the L1 tooling (tools/l1: solc, and the anvil the contract tests run on),
# then checks that the committed contract artifacts match a fresh compile.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tools/vectors --no-audit --no-fund --loglevel=error
  npm ci --prefix tools/l1 --no-audit --no-fund --loglevel=error
elif [ "${CI:-}" = "true" ]; then
  echo "npm is required in CI for the circomlibjs cross-checks and the L1 tools (solc, anvil)" >&2
  exit 1
fi

if command -v node >/dev/null 2>&1; then
  node tools/l1/compile.js --check
elif [ "${CI:-}" = "true" ]; then
  echo "node is required in CI to check contracts/artifacts against contracts/src" >&2
  exit 1
fi

# A CI run builds from scratch once: incremental compilation would only add work.
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi

cargo fmt --all -- --check
# No module cycles, roles that link only what they use, typed errors, inherited lints.
python3 scripts/check-structure.py
cargo clippy --workspace --all-targets --locked -- -D warnings
# One integration-test binary per crate (tests/<crate>/main.rs): the workspace builds once. The
# binaries then run in two lanes: zklink-cli's devnet drills beside the other crates' tests
# (scripts/test-lanes.py says why that is safe).
python3 scripts/test-lanes.py
