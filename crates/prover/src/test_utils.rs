//! Helpers for tests and benchmarks (feature `test-utils`): the environment lookups the library
//! itself does not do.

use std::path::{Path, PathBuf};

/// Where tests and benchmarks of a checkout at `workspace` cache dev keys: `$ZKLINK_KEY_DIR` if
/// set, else `zklink-keys` in cargo's target directory (`$CARGO_TARGET_DIR` or
/// `<workspace>/target`); see [`crate::dev_key_dir_from`].
pub fn dev_key_dir(workspace: &Path) -> PathBuf {
    crate::dev_key_dir_from(
        workspace,
        std::env::var_os("ZKLINK_KEY_DIR").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from),
    )
}
