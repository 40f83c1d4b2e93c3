//! zklink's validity-proof circuits (issue 3). So far: the gadgets every circuit stands on,
//! each checked against the native implementation — circomlib Poseidon and 4-ary Merkle paths.
//! The block circuit, exit circuit and Groth16 prover build on these.

pub mod block;
pub mod exit;
pub mod gadgets;
#[cfg(any(test, feature = "test-utils"))]
pub mod update;
