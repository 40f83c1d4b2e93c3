//! The integration tests of zklink-sdk, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-sdk --test sdk scenario::
//! ```

#[path = "../../../l1/tests/l1/support.rs"]
mod support;

mod scenario;
