//! The integration tests of zklink-circuit, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-circuit --test circuit exit::
//! ```

mod block;
mod exit;
mod gadgets;
mod replay;
mod sha256;
