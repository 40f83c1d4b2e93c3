//! 4-ary Merkle paths in R1CS, matching `zklink_state::smt` (docs/protocol.md §6): at level k the
//! node sits at child position `(index >> 2k) & 3` and the 3 siblings fill the other slots in
//! order; parent = Poseidon(c0, c1, c2, c3).

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use zklink_crypto::Fr;

use super::poseidon::poseidon;

/// Places `node` among `siblings` at position `lo + 2·hi`.
fn children(
    node: &FpVar<Fr>,
    siblings: &[FpVar<Fr>; 3],
    lo: &Boolean<Fr>,
    hi: &Boolean<Fr>,
) -> Result<[FpVar<Fr>; 4], SynthesisError> {
    let [s0, s1, s2] = siblings;
    let is0 = !lo & !hi;
    let is1 = lo & !hi;
    let is2 = !lo & hi;
    let is3 = lo & hi;
    let c0 = FpVar::conditionally_select(&is0, node, s0)?;
    let c1_rest = FpVar::conditionally_select(&is1, node, s1)?;
    let c1 = FpVar::conditionally_select(&is0, s0, &c1_rest)?;
    let c2_hi = FpVar::conditionally_select(&is2, node, s2)?;
    let c2 = FpVar::conditionally_select(hi, &c2_hi, s1)?;
    let c3 = FpVar::conditionally_select(&is3, node, s2)?;
    Ok([c0, c1, c2, c3])
}

/// The `2 · levels` little-endian bits of leaf index `index` (two per level), as witnesses; bits
/// past the 64 of a `u64` are zero.
pub fn index_bits(cs: &ConstraintSystemRef<Fr>, index: u64, levels: usize) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    (0..2 * levels).map(|i| Boolean::new_witness(cs.clone(), || Ok(i < 64 && (index >> i) & 1 == 1))).collect()
}

/// Root of the tree whose leaf at the index given by `index_bits` (little-endian, 2 per level)
/// is `leaf`, with `siblings` from the leaf up.
pub fn root_from_path(
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[[FpVar<Fr>; 3]],
) -> Result<FpVar<Fr>, SynthesisError> {
    let nodes = path_nodes(leaf, index_bits, siblings)?;
    Ok(nodes.last().cloned().unwrap_or_else(|| leaf.clone()))
}

/// The node above `leaf` at every level of the path (`nodes[k]` is at height k + 1), for trees
/// that share a path gadget but differ in depth.
pub fn path_nodes(
    leaf: &FpVar<Fr>,
    index_bits: &[Boolean<Fr>],
    siblings: &[[FpVar<Fr>; 3]],
) -> Result<Vec<FpVar<Fr>>, SynthesisError> {
    if index_bits.len() != 2 * siblings.len() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let mut node = leaf.clone();
    let mut nodes = Vec::with_capacity(siblings.len());
    for (level, sib) in siblings.iter().enumerate() {
        let c = children(&node, sib, &index_bits[2 * level], &index_bits[2 * level + 1])?;
        node = poseidon(&c)?;
        nodes.push(node.clone());
    }
    Ok(nodes)
}
