//! zklink's L1 contracts, seen from Rust.
//!
//! * [`artifacts`]: the compiled contracts, embedded from `contracts/artifacts/*.json` (written by
//!   `node tools/l1/compile.js` with the pinned solc and committed, so building never needs node or
//!   solc). A test checks that each artifact was compiled from the current `contracts/src` source.
//! * [`verifier`]: typed alloy bindings for `Groth16Verifier` (generated from the artifact's ABI and
//!   bytecode) and the conversion of arkworks Groth16 keys and proofs into its EVM encoding.
//! * [`anvil`]: start a local anvil (the pinned npm build under `tools/l1`) for tests and the devnet.
//! * `test_utils` (feature `test-utils`): whether a test that needs anvil runs or is skipped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod anvil;
pub mod artifacts;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod verifier;
pub mod zklink;

pub use verifier::{constructor_args, proof_to_evm, verifying_key_hash, Groth16Verifier};

/// Errors from encoding keys and proofs for, and deploying, the L1 contracts.
#[derive(thiserror::Error, Debug)]
pub enum ContractsError {
    /// The Groth16Verifier contract takes keys with exactly one public input.
    #[error(
        "the verifying key is for {got} public inputs, but Groth16Verifier takes exactly one \
         (gamma_abc_g1 must hold 2 points, it holds {points})"
    )]
    PublicInputCount {
        /// How many public inputs the key has.
        got: usize,
        /// `gamma_abc_g1.len()`.
        points: usize,
    },
    /// A contract call or deployment failed on the node.
    #[error("{what} failed: {source}")]
    Contract {
        /// What was attempted.
        what: &'static str,
        /// The error from alloy (boxed: it is large).
        source: Box<alloy::contract::Error>,
    },
}
