//! The block commitment in R1CS (docs/protocol.md §9):
//! `sha256(block_number u32 ‖ timestamp u64 ‖ old_root ‖ new_root ‖ sha256(pubdata) ‖ H_1 ‖ … ‖ H_n)`,
//! each H_c a rolling SHA-256 over chain c's on-chain ops, and the proof's single public input
//! = the commitment with its top 3 bits cleared.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::uint8::UInt8;
use ark_relations::gr1cs::SynthesisError;
use zklink_crypto::Fr;

/// Bytes in the circuit (each byte a [`UInt8`] of 8 Boolean witnesses).
pub type Bytes = Vec<UInt8<Fr>>;

/// SHA-256 of `data` with this crate's gadget (`super::sha256`, ~26k constraints per 64-byte block).
pub fn sha256(data: &[UInt8<Fr>]) -> Result<Bytes, SynthesisError> {
    super::sha256::sha256(data)
}

/// One step of a chain's rolling hash: `sha256(prev ‖ op pubdata)`.
pub fn roll_chain_hash(prev: &[UInt8<Fr>], op_pubdata: &[UInt8<Fr>]) -> Result<Bytes, SynthesisError> {
    let mut buf = prev.to_vec();
    buf.extend_from_slice(op_pubdata);
    sha256(&buf)
}

/// The canonical 32-byte big-endian encoding of a field variable (its bits are unique).
pub fn fr_to_bytes_be(f: &FpVar<Fr>) -> Result<Bytes, SynthesisError> {
    let mut bits = f.to_bits_le()?;
    bits.resize(256, Boolean::FALSE);
    Ok(bits.chunks(8).rev().map(UInt8::from_bits_le).collect())
}

/// The commitment bytes. `block_number` is 4 big-endian bytes, `timestamp` 8.
pub fn commitment(
    block_number: &[UInt8<Fr>],
    timestamp: &[UInt8<Fr>],
    old_root: &FpVar<Fr>,
    new_root: &FpVar<Fr>,
    pubdata: &[UInt8<Fr>],
    chain_hashes: &[Bytes],
) -> Result<Bytes, SynthesisError> {
    if block_number.len() != 4 || timestamp.len() != 8 || chain_hashes.iter().any(|h| h.len() != 32) {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut pre = Vec::with_capacity(4 + 8 + 32 * (3 + chain_hashes.len()));
    pre.extend_from_slice(block_number);
    pre.extend_from_slice(timestamp);
    pre.extend(fr_to_bytes_be(old_root)?);
    pre.extend(fr_to_bytes_be(new_root)?);
    pre.extend(sha256(pubdata)?);
    for h in chain_hashes {
        pre.extend_from_slice(h);
    }
    sha256(&pre)
}

/// The commitment read big-endian with its top 3 bits cleared: the proof's public input.
pub fn public_input(commitment: &[UInt8<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    if commitment.len() != 32 {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut bits = Vec::with_capacity(256);
    for byte in commitment.iter().rev() {
        bits.extend(byte.to_bits_le()?);
    }
    Boolean::le_bits_to_fp(&bits[..253])
}
