//! The integration tests of zklink-api, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-api --test api api::
//! ```

// A test binary: it reports figures and skips to the person running it, and its modules' items
// are its own (no public API to document or to keep unreachable).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

mod api;
mod batch;
mod docs;
mod messages;
mod pools;

use std::path::Path;
use std::sync::Arc;

use jsonrpsee::core::client::Error;
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::Network;

/// A node on a fresh store in `dir` with the `dev` network of 3 chains and default limits.
fn dev_node(dir: &Path) -> (NodeHandle, Network) {
    let store = Arc::new(BlockStore::open(&dir.join("node.redb")).unwrap());
    let network = Network::dev(3);
    let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16, unix_now()).unwrap();
    (NodeHandle::new(keeper, store), network)
}

/// A JSON-RPC refusal's code and message.
fn refusal(e: Error) -> (i32, String) {
    match e {
        Error::Call(obj) => (obj.code(), obj.message().to_string()),
        other => panic!("not a JSON-RPC error: {other}"),
    }
}
