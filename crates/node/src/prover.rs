//! Proving blocks for the pipeline: a block's witness is built from the state at its start, the
//! proof made with the proving key of its shape, and stored in the verifier's encoding.

use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_state::State;

use crate::store::{BlockStore, StoreError, StoredBlock};

/// Errors proving a block.
#[derive(thiserror::Error, Debug)]
pub enum ProveError {
    /// The witness could not be built: the state is not the block's start state.
    #[error("block {block}: witness: {reason}")]
    Witness {
        /// The block.
        block: u32,
        /// Why.
        reason: String,
    },
    /// The prover refused (the statement is false) or failed.
    #[error("block {block}: prover: {reason}")]
    Prover {
        /// The block.
        block: u32,
        /// Why.
        reason: String,
    },
    /// Storing the proof failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Proves `b` from `start` (the state at its start; replayed, so pass a copy) and stores the proof.
pub fn prove_and_store(
    store: &BlockStore,
    pk: &ProvingKey<Bn254>,
    start: &mut State,
    b: &StoredBlock,
) -> Result<(), ProveError> {
    let block = b.block.number.0;
    let witness = BlockWitness::build(start, &b.block, &b.txs)
        .map_err(|e| ProveError::Witness { block, reason: e.to_string() })?;
    let proof = zklink_prover::prove(pk, BlockCircuit::new(witness))
        .map_err(|e| ProveError::Prover { block, reason: e.to_string() })?;
    let words = zklink_contracts::proof_to_evm(&proof).map(|w| w.to_be_bytes::<32>());
    store.put_proof(block, &words)?;
    tracing::info!(block, "block proven");
    Ok(())
}
