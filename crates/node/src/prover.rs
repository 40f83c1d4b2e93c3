//! Proving a stored block directly, without the job queue (tests and tools): its witness is built
//! from the state at its start and proven with the proving key of its shape. Workers prove leased
//! jobs instead ([`zklink_prover_worker::job`]).

use zklink_circuit::block::{BlockWitness, WitnessError};
use zklink_prover::Prover;
use zklink_prover_worker::job::prove_witness;
use zklink_state::State;

use crate::store::{BlockStore, StoreError, StoredBlock};

/// Errors proving a block.
#[derive(thiserror::Error, Debug)]
pub enum ProveError {
    /// The witness could not be built: the state is not the block's start state.
    #[error("block {block}: witness: {source}")]
    Witness {
        /// The block.
        block: u32,
        /// Why.
        #[source]
        source: WitnessError,
    },
    /// The prover refused (the statement is false) or failed.
    #[error(transparent)]
    Prover(#[from] zklink_prover_worker::job::ProveError),
    /// Storing the proof failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Proves `b` from `start` (the state at its start; replayed, so pass a copy) and stores the proof.
pub fn prove_and_store(store: &BlockStore, pk: &Prover, start: &mut State, b: &StoredBlock) -> Result<(), ProveError> {
    let block = b.block.number.0;
    let witness =
        BlockWitness::build(start, &b.block, &b.txs).map_err(|source| ProveError::Witness { block, source })?;
    let proof = prove_witness(pk, witness)?;
    let words = zklink_contracts::proof_to_evm(&proof).map(|w| w.to_be_bytes::<32>());
    store.put_proof(block, &words)?;
    tracing::info!(block, "block proven");
    Ok(())
}
