//! The integration tests of zklink-crypto, in one test binary (one build and one link, not one per
//! file): `cargo test -p zklink-crypto --test crypto`. Each file is a module; a module's tests run
//! alone with its name as the filter, e.g. `cargo test -p zklink-crypto --test crypto
//! circomlib_vectors::`.

mod circomlib_vectors;
