//! The integration tests of zklink-sdk, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-sdk --test sdk scenario::
//! ```

// A test binary: it reports figures and skips to the person running it, and its modules' items
// are its own (no public API to document or to keep unreachable).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

#[path = "../../../l1/tests/l1/support.rs"]
mod support;

mod node;
mod pools;
mod scenario;
mod venue;
