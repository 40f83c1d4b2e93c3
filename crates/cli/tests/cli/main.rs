//! The integration tests of zklink-cli, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-cli --test cli resume::
//! ```

// A test binary: it reports figures and skips to the person running it, and its modules' items
// are its own (no public API to document or to keep unreachable).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

/// The oracle tests' helpers (start, fund and probe oracles), shared with zklink-oracle's tests.
#[path = "../../../oracle/tests/oracle/common.rs"]
mod common;
#[path = "../../../l1/tests/l1/support.rs"]
mod support;

mod crash;
mod devnet_pools;
mod devnet_process;
mod exchange_crash;
mod exodus;
mod newcomer;
mod oracle_network;
mod power_cut;
mod resume;
mod wallet_pools;
mod wallet_trading;
/// A node and its API in-process with funded users (zklink-exchange's test world).
#[path = "../../../exchange/tests/exchange/world.rs"]
#[allow(dead_code)] // what zklink-exchange's tests use and these do not
mod world;

/// Each test runs a whole network (anvil chains, a node, a prover, oracles; most as child
/// processes) on ports the OS picked, and restarts some of them on the same ports (the node in `crash`, the devnet's
/// anvils in `resume`). They take turns, as when each file was its own test binary, so that one
/// never takes a port another is about to bind again.
static ONE_DEVNET_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
