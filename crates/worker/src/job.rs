//! The proof job on the wire, shared by the node that hands jobs out and every prover that takes
//! them (the node's own prover thread and remote `zklink prover` workers):
//!
//! * [`ProofLease`]: a leased job, the block's number and size and its circuit witness (JSON).
//! * [`prove_witness`]: proving a lease's witness with the proving key of its size.
//! * [`encode_proof`] / [`decode_proof`]: a proof as `0x` + hex of its compressed encoding.

use ark_bn254::Bn254;
use ark_groth16::Proof;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, SerializationError};
use serde::{Deserialize, Serialize};
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_prover::Prover;

/// A leased job: what a worker proves.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofLease {
    /// The block.
    pub block: u32,
    /// Its size: the worker proves with the key of this shape.
    pub chunks: usize,
    /// The circuit's witness.
    pub witness: BlockWitness,
}

/// The prover refused a witness (the statement is false) or failed.
#[derive(thiserror::Error, Debug)]
#[error("block {block}: prover: {source}")]
pub struct ProveError {
    /// The block.
    pub block: u32,
    /// Why.
    #[source]
    pub source: zklink_prover::ProverError,
}

/// Proves a block's witness with `prover`, the prover of its size (it keeps the circuit's
/// matrices after its first proof, so later blocks synthesise only their witness).
pub fn prove_witness(prover: &Prover, witness: BlockWitness) -> Result<Proof<Bn254>, ProveError> {
    let block = witness.number;
    prover.prove(BlockCircuit::new(witness)).map_err(|source| ProveError { block, source })
}

/// A proof on the wire: `0x` + hex of its compressed canonical encoding (128 bytes).
pub fn encode_proof(proof: &Proof<Bn254>) -> String {
    let mut bytes = Vec::new();
    proof.serialize_compressed(&mut bytes).expect("writing to a Vec cannot fail");
    format!("0x{}", hex::encode(bytes))
}

/// Why a proof string is not a proof.
#[derive(thiserror::Error, Debug)]
pub enum ProofDecodeError {
    /// Not hex.
    #[error("proof hex: {0}")]
    Hex(#[from] hex::FromHexError),
    /// Not a compressed Groth16 proof with its points on the curve and in the right subgroup.
    #[error("proof encoding: {0}")]
    Encoding(#[from] SerializationError),
}

/// Reads [`encode_proof`]'s form; the points must be on the curve and in the right subgroup.
pub fn decode_proof(s: &str) -> Result<Proof<Bn254>, ProofDecodeError> {
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s))?;
    Ok(Proof::deserialize_compressed(bytes.as_slice())?)
}
