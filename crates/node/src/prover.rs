//! Proving blocks: a block's witness is built from the state at its start and proven with the
//! proving key of its shape. Workers (in-process or remote) prove leased witnesses
//! ([`prove_witness`]) and send proofs in [`encode_proof`]'s form; tests and tools can prove and
//! store a block directly ([`prove_and_store`]).

use ark_bn254::Bn254;
use ark_groth16::{Proof, ProvingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
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

/// Proves a block's witness.
pub fn prove_witness(pk: &ProvingKey<Bn254>, witness: BlockWitness) -> Result<Proof<Bn254>, ProveError> {
    let block = witness.number;
    zklink_prover::prove(pk, BlockCircuit::new(witness))
        .map_err(|e| ProveError::Prover { block, reason: e.to_string() })
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
    let proof = prove_witness(pk, witness)?;
    let words = zklink_contracts::proof_to_evm(&proof).map(|w| w.to_be_bytes::<32>());
    store.put_proof(block, &words)?;
    tracing::info!(block, "block proven");
    Ok(())
}

/// A proof on the wire: `0x` + hex of its compressed canonical encoding (128 bytes).
pub fn encode_proof(proof: &Proof<Bn254>) -> String {
    let mut bytes = Vec::new();
    proof.serialize_compressed(&mut bytes).expect("writing to a Vec cannot fail");
    format!("0x{}", hex::encode(bytes))
}

/// Reads [`encode_proof`]'s form; the points must be on the curve and in the right subgroup.
pub fn decode_proof(s: &str) -> Result<Proof<Bn254>, String> {
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| format!("proof hex: {e}"))?;
    Proof::deserialize_compressed(bytes.as_slice()).map_err(|e| format!("proof encoding: {e}"))
}
