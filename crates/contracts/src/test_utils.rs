//! Helpers for tests that need anvil (feature `test-utils`, and this crate's own tests): whether
//! such a test runs or is skipped is decided here, on the test side, not in [`crate::anvil`].
//!
//! Outside CI a missing anvil skips the test with a message on stderr, so `cargo test` works on a
//! machine without node; in CI (`CI=true`) it is the [`AnvilError::BinaryMissing`] error: the
//! suite must not pass by skipping.

use crate::anvil::{anvil_binary, Anvil, AnvilError};

/// Whether a missing anvil fails the test instead of skipping it: `CI=true`.
pub fn anvil_required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `Ok(true)` if the pinned anvil is installed; `Ok(false)` (with a `SKIPPING` message printed)
/// if it is not and [`anvil_required`] is false; in CI a missing anvil is the error.
#[allow(clippy::print_stderr, reason = "a skipped test says why on the test runner's stderr")]
pub fn anvil_available() -> Result<bool, AnvilError> {
    match anvil_binary() {
        Ok(_) => Ok(true),
        Err(e @ AnvilError::BinaryMissing { .. }) if !anvil_required() => {
            eprintln!("SKIPPING an anvil test: {e}");
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// A fresh anvil for `chain_id`, or `Ok(None)` when the test is skipped ([`anvil_available`]).
pub fn anvil_for_tests(chain_id: u64) -> Result<Option<Anvil>, AnvilError> {
    if anvil_available()? {
        Anvil::spawn(chain_id).map(Some)
    } else {
        Ok(None)
    }
}
