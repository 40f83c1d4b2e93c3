//! Reusable R1CS gadgets, each bit-compatible with its native counterpart.

pub mod commitment;
pub mod eddsa;
pub mod merkle;
pub mod poseidon;
pub mod sha256;
