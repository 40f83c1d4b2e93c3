#!/usr/bin/env bash
# The project's test command (README): formatting, lints, and the whole test suite.
# Installs the pinned JS cross-check tools (circomlibjs) first when node is available.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tools/vectors --no-audit --no-fund --loglevel=error
elif [ "${CI:-}" = "true" ]; then
  echo "npm is required in CI for the circomlibjs cross-checks" >&2
  exit 1
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
