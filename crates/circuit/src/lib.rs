//! zklink's validity-proof circuits (docs/protocol.md §11–12), proven with Groth16 by
//! `zklink-prover`:
//!
//! * [`gadgets`]: what every circuit stands on, each checked against its native twin —
//!   circomlib Poseidon, 4-ary Merkle paths, EdDSA-Poseidon, a lean SHA-256, the commitment.
//! * [`block`]: the block circuit. Its native witness builder ([`block::BlockWitness::build`])
//!   replays a block on the state at its start; the constraints check every chunk's op rules,
//!   the leaf-update slots, the per-chain hashes and the commitment against the one public input.
//! * [`exit`]: the exit circuit (exodus): one claim of an account's balance against the last
//!   executed root, with the chain's pro-rata share; native witness apart from the constraints.

pub mod block;
pub mod exit;
pub mod gadgets;
#[cfg(any(test, feature = "test-utils"))]
pub mod update;
