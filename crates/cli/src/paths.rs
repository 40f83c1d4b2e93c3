//! Directories the binary resolves from its environment (the libraries read none).

use std::path::PathBuf;

use zklink_contracts::anvil::workspace_root;

/// Where dev proving keys are cached: `$ZKLINK_KEY_DIR` if set, else `zklink-keys` in cargo's
/// target directory (`$CARGO_TARGET_DIR` or the checkout's `target/`).
pub(crate) fn dev_key_dir() -> PathBuf {
    zklink_prover::dev_key_dir_from(
        &workspace_root(),
        std::env::var_os("ZKLINK_KEY_DIR").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from),
    )
}
