//! EdDSA-Poseidon verification in R1CS (circomlib `EdDSAPoseidonVerifier`, ERC-2494 Baby Jubjub),
//! matching `zklink_crypto::eddsa::PublicKey::verify`:
//!
//! `h = Poseidon(R8.x, R8.y, A.x, A.y, msg)` and `S·Base8 == R8 + (8·h)·A`.
//!
//! Points are allocated with the on-curve check only: multiplying A by the cofactor 8 removes
//! any small-order component, and `S·Base8` is always in the prime-order subgroup, so no
//! (expensive) subgroup check is needed for soundness. S is taken as 251 bits (l < 2^251).

use ark_r1cs_std::alloc::AllocationMode;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::groups::CurveVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use taceo_ark_babyjubjub::constraints::EdwardsVar;
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsProjective};
use zklink_crypto::Fr;

use super::poseidon::poseidon;

/// Bits of the scalar S (the subgroup order l is below 2^251).
pub const S_BITS: usize = 251;

/// Allocates a curve point as a witness, checking only that it is on the curve.
pub fn alloc_point(cs: ConstraintSystemRef<Fr>, x: Fr, y: Fr) -> Result<EdwardsVar, SynthesisError> {
    let p = EdwardsAffine::new_unchecked(x, y);
    EdwardsVar::new_variable_omit_prime_order_check(cs, || Ok(EdwardsProjective::from(p)), AllocationMode::Witness)
}

/// Whether (R8, S) is a valid signature of `msg` by `a`. Callers enforce it (or not, for
/// padding chunks) themselves.
pub fn verify(
    msg: &FpVar<Fr>,
    a: &EdwardsVar,
    r8: &EdwardsVar,
    s_bits: &[Boolean<Fr>],
) -> Result<Boolean<Fr>, SynthesisError> {
    if s_bits.len() != S_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let h = poseidon(&[r8.x.clone(), r8.y.clone(), a.x.clone(), a.y.clone(), msg.clone()])?;
    let h_bits = h.to_bits_le()?;
    let a8 = a.double()?.double()?.double()?;
    let rhs = r8.clone() + a8.scalar_mul_le(h_bits.iter())?;
    let base8 = EdwardsVar::constant(EdwardsProjective::from(EdwardsAffine::new_unchecked(
        taceo_ark_babyjubjub::GENERATOR_X,
        taceo_ark_babyjubjub::GENERATOR_Y,
    )));
    let lhs = base8.scalar_mul_le(s_bits.iter())?;
    lhs.is_eq(&rhs)
}
