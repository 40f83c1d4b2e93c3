//! circomlib Poseidon in R1CS: the textbook permutation over `FpVar`s with the same constants
//! as the native hash (`zklink_crypto::poseidon`), output `state[0]`.
//!
//! Cost: 3 constraints per S-box (x², x⁴, x⁵); round constants and the MDS mix are linear and
//! free, and the first round's S-box on the constant capacity element folds away.
//! t = 3: 3·(8·3 + 57) − 3 = 240 constraints; t = 5 (4-ary Merkle node): 3·(8·5 + 60) − 3 = 297;
//! t = 6 (account leaf): 3·(8·6 + 60) − 3 = 321.

use std::sync::OnceLock;

use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_relations::gr1cs::SynthesisError;
use light_poseidon::parameters::bn254_x5::get_poseidon_parameters;
use zklink_crypto::Fr;

/// Largest number of inputs (t = 13), as natively.
pub const MAX_INPUTS: usize = 12;

struct Params {
    full_rounds: usize,
    partial_rounds: usize,
    /// Round constants, `width` per round.
    ark: Vec<Fr>,
    mds: Vec<Vec<Fr>>,
}

fn params(width: usize) -> Option<&'static Params> {
    static TABLE: OnceLock<Vec<Option<Params>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=MAX_INPUTS + 1)
            .map(|t| {
                let p = get_poseidon_parameters::<Fr>(u8::try_from(t).ok()?).ok()?;
                Some(Params { full_rounds: p.full_rounds, partial_rounds: p.partial_rounds, ark: p.ark, mds: p.mds })
            })
            .collect()
    });
    table.get(width)?.as_ref()
}

fn pow5(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// Poseidon of 1..=12 field variables; constants fold without constraints.
pub fn poseidon(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let width = inputs.len() + 1;
    let p = params(width).filter(|_| !inputs.is_empty()).ok_or(SynthesisError::Unsatisfiable)?;
    let mut state: Vec<FpVar<Fr>> = Vec::with_capacity(width);
    state.push(FpVar::zero());
    state.extend(inputs.iter().cloned());
    let half = p.full_rounds / 2;
    for round in 0..p.full_rounds + p.partial_rounds {
        for (i, s) in state.iter_mut().enumerate() {
            *s += p.ark[round * width + i];
        }
        if round < half || round >= half + p.partial_rounds {
            for s in state.iter_mut() {
                *s = pow5(s)?;
            }
        } else {
            state[0] = pow5(&state[0])?;
        }
        state =
            p.mds.iter().map(|row| row.iter().zip(&state).fold(FpVar::zero(), |acc, (m, s)| acc + s * *m)).collect();
    }
    Ok(state.swap_remove(0))
}
