//! The integration tests of zklink-executor, in one test binary (one build and one link, not one
//! per file): `cargo test -p zklink-executor --test executor`. Each file is a module; a module's
//! tests run alone with its name as the filter, e.g. `cargo test -p zklink-executor --test executor
//! rules::`.

mod invariants;
mod replay;
mod rules;
