//! The integration tests of zklink-state, in one test binary (one build and one link, not one per
//! file): `cargo test -p zklink-state --test state`. Each file is a module; a module's tests run
//! alone with its name as the filter, e.g. `cargo test -p zklink-state --test state store::`.

mod smt;
mod store;
