//! Small arithmetic gadgets the op rules are written with: gated equalities, range checks,
//! comparisons and packed-float decoding. Witness values are read from the variables inside
//! allocation closures, so everything also synthesises in setup mode (no values).

use ark_ff::{BigInteger, Field as _, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::SynthesisError;
use zklink_crypto::Fr;

/// What every gadget returns: an arkworks [`SynthesisError`] on failure to synthesise (an unsatisfied
/// constraint is not an error; it makes the system unsatisfiable).
pub type R<T> = Result<T, SynthesisError>;

/// `g ⇒ a == b` (one constraint).
pub fn eq_if(g: &Boolean<Fr>, a: &FpVar<Fr>, b: &FpVar<Fr>) -> R<()> {
    a.conditional_enforce_equal(b, g)
}

/// `g ⇒ b` for a Boolean `b`.
pub fn require_if(g: &Boolean<Fr>, b: &Boolean<Fr>) -> R<()> {
    b.conditional_enforce_equal(&Boolean::TRUE, g)
}

/// A constant field element.
pub fn c(v: u128) -> FpVar<Fr> {
    FpVar::constant(Fr::from(v))
}

/// 2^k as a field constant.
pub fn pow2(k: u32) -> Fr {
    let mut x = Fr::from(1u64);
    for _ in 0..k {
        x = x + x;
    }
    x
}

/// The low `n` bits of a field value (little-endian); `None` in setup mode.
fn low_bits(v: &FpVar<Fr>, n: usize) -> Vec<Option<bool>> {
    let bits = v.value().ok().map(|f| f.into_bigint().to_bits_le());
    (0..n).map(|i| bits.as_ref().map(|b| b.get(i).copied().unwrap_or(false))).collect()
}

/// Decomposes `v` into `n` little-endian witness bits and enforces `v == Σ bits·2^i`, so that
/// `0 ≤ v < 2^n` (n < 254). Returns the bits.
pub fn to_bits_le(v: &FpVar<Fr>, n: usize) -> R<Vec<Boolean<Fr>>> {
    if let FpVar::Constant(k) = v {
        let bits = k.into_bigint().to_bits_le();
        if bits.iter().skip(n).any(|b| *b) {
            return Err(SynthesisError::Unsatisfiable);
        }
        return Ok((0..n).map(|i| Boolean::Constant(bits[i])).collect());
    }
    let cs = v.cs();
    let bits = low_bits(v, n)
        .into_iter()
        .map(|b| Boolean::new_witness(cs.clone(), || b.ok_or(SynthesisError::AssignmentMissing)))
        .collect::<R<Vec<_>>>()?;
    Boolean::le_bits_to_fp(&bits)?.enforce_equal(v)?;
    Ok(bits)
}

/// Enforces `0 ≤ v < 2^n`.
pub fn range(v: &FpVar<Fr>, n: usize) -> R<()> {
    to_bits_le(v, n).map(|_| ())
}

/// `g ⇒ a ≤ b`, for values known to be below 2^n.
pub fn le_if(g: &Boolean<Fr>, a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> R<()> {
    let diff = FpVar::from(g.clone()) * (b - a);
    range(&diff, n)
}

/// `a ≥ b` as a Boolean, for values below 2^n.
pub fn ge(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> R<Boolean<Fr>> {
    // a − b + 2^n lies in [0, 2^(n+1)); its top bit says a ≥ b.
    let shifted = a - b + FpVar::constant(pow2(n as u32));
    to_bits_le(&shifted, n + 1)?.pop().ok_or(SynthesisError::Unsatisfiable)
}

/// `v != 0` (two constraints).
pub fn nonzero(v: &FpVar<Fr>) -> R<Boolean<Fr>> {
    v.is_neq(&FpVar::zero())
}

/// Big-endian bits to a field element (a free linear combination below 254 bits).
pub fn be_to_fp(bits: &[Boolean<Fr>]) -> R<FpVar<Fr>> {
    let le: Vec<_> = bits.iter().rev().cloned().collect();
    Boolean::le_bits_to_fp(&le)
}

/// `v`'s `n` bits, big-endian (also a range check).
pub fn to_bits_be(v: &FpVar<Fr>, n: usize) -> R<Vec<Boolean<Fr>>> {
    let mut bits = to_bits_le(v, n)?;
    bits.reverse();
    Ok(bits)
}

/// `cond ? a : b`.
pub fn select(cond: &Boolean<Fr>, a: &FpVar<Fr>, b: &FpVar<Fr>) -> R<FpVar<Fr>> {
    FpVar::conditionally_select(cond, a, b)
}

/// Σ gᵢ·vᵢ for mutually exclusive gates: the value of whichever gate is on (0 if none).
pub fn gated_sum(items: &[(Boolean<Fr>, FpVar<Fr>)]) -> R<FpVar<Fr>> {
    let mut acc = FpVar::zero();
    for (g, v) in items {
        acc += FpVar::from(g.clone()) * v;
    }
    Ok(acc)
}

/// OR of mutually exclusive gates (their sum, a Boolean by exclusivity).
pub fn exclusive_or(gates: &[Boolean<Fr>]) -> R<Boolean<Fr>> {
    if gates.is_empty() {
        return Ok(Boolean::FALSE);
    }
    if gates.len() == 1 {
        return Ok(gates[0].clone());
    }
    let sum = gates.iter().fold(FpVar::zero(), |acc, g| acc + FpVar::from(g.clone()));
    let cs = sum.cs();
    let out = Boolean::new_witness(cs, || Ok(sum.value()? == Fr::from(1u64)))?;
    FpVar::from(out.clone()).enforce_equal(&sum)?;
    Ok(out)
}

/// A decoded packed float (docs/protocol.md §3): `value = m·10^e`, canonical, below 2^128.
pub struct Packed {
    /// The decoded value, `m · 10^e`.
    pub value: FpVar<Fr>,
}

/// Decodes the `mbits + 5` big-endian bits of a packed float (`m·2^5 + e`), enforcing
/// canonical form when `g` is set and that the value fits u128.
pub fn unpack(g: &Boolean<Fr>, bits: &[Boolean<Fr>], mbits: usize) -> R<Packed> {
    if bits.len() != mbits + 5 {
        return Err(SynthesisError::Unsatisfiable);
    }
    let m = be_to_fp(&bits[..mbits])?;
    let e_bits_le: Vec<_> = bits[mbits..].iter().rev().cloned().collect();
    let mut scale = FpVar::one();
    for (i, b) in e_bits_le.iter().enumerate() {
        let factor = Fr::from(10u64).pow([1u64 << i]);
        scale = select(b, &(scale.clone() * factor), &scale)?;
    }
    let value = &m * &scale;
    // Gated: under a false gate the bits belong to another op and may decode to anything.
    range(&(FpVar::from(g.clone()) * &value), 128)?;
    // Canonical: the exponent is minimal, so a non-zero exponent needs 10·m ≥ 2^mbits.
    let e_nonzero = Boolean::kary_or(&e_bits_le)?;
    let gate = g & &e_nonzero;
    le_if(&gate, &FpVar::constant(pow2(mbits as u32)), &(m * Fr::from(10u64)), mbits + 4)?;
    Ok(Packed { value })
}

/// Enforces `q = ⌊a·b / d⌋` for a constant `d` (as `a·b = q·d + r`, `0 ≤ r < d`), with `a·b`
/// below the field size and `q` below 2^qbits. Returns `q`.
pub fn mul_div_floor(a: &FpVar<Fr>, b: &FpVar<Fr>, d: u128, qbits: usize) -> R<FpVar<Fr>> {
    let product = a * b;
    let cs = product.cs();
    let (q_val, r_val) = match product.value() {
        Ok(p) => {
            let p = num_bigint::BigUint::from_bytes_le(&p.into_bigint().to_bytes_le());
            let d = num_bigint::BigUint::from(d);
            (Some(Fr::from(&p / &d)), Some(Fr::from(&p % &d)))
        }
        Err(_) => (None, None),
    };
    let q = FpVar::new_witness(cs.clone(), || q_val.ok_or(SynthesisError::AssignmentMissing))?;
    let r = FpVar::new_witness(cs, || r_val.ok_or(SynthesisError::AssignmentMissing))?;
    (&q * Fr::from(d) + &r).enforce_equal(&product)?;
    let dbits = 128 - d.leading_zeros() as usize;
    range(&q, qbits)?;
    range(&r, dbits)?;
    range(&(c(d - 1) - &r), dbits)?;
    Ok(q)
}
