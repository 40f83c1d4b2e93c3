//! The integration tests of zklink-api, in one test binary (one build and one link, not one per
//! file). Each file is a module; the tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-api --test api api::
//! ```

mod api;
