//! The integration tests of zklink-oracle, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-oracle --test oracle divergence::
//! ```

// A test binary: it reports figures and skips to the person running it, and its modules' items
// are its own (no public API to document or to keep unreachable).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

mod common;
#[path = "../../../l1/tests/l1/support.rs"]
mod support;

mod divergence;
mod oracles;

/// Each test starts three anvil chains, a node and three oracles whose APIs listen on ports the
/// OS picked (reserved, freed, then bound, and bound again when an oracle restarts). They take
/// turns, as when each file was its own test binary, so that one never takes a port the other
/// is about to bind.
static ONE_NETWORK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
