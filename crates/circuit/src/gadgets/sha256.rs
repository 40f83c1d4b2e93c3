//! SHA-256 (FIPS 180-4) in R1CS, built for constraint count; used by the block commitment
//! (docs/protocol.md §1, §9).
//!
//! **Bit order.** Every bit vector of this module (message, 512-bit block, 256-bit state, digest)
//! is big-endian within each byte, bytes in message/digest order: bit `i` is bit `7 − i % 8`
//! (counting from the least significant bit) of byte `i / 8`. A 32-bit word is thus its bits
//! most significant first, and the state is `H0 ‖ … ‖ H7` exactly as the digest is laid out.
//! [`bytes_to_bits_be`] and [`bits_be_to_bytes`] convert from and to `UInt8`s.
//!
//! **Cost.** Rotations and shifts re-index bits, and the outputs of Σ, σ, Ch and Maj only ever
//! feed additions, so they stay linear combinations and are never decomposed back into bits.
//! Constraints come from products of two variable bits — XOR 1 (XOR3 2), Ch `e·(f−g)+g` 1,
//! Maj `ab + c·(a⊕b)` 2 — and from additions mod 2^32: a sum of n words is a free linear
//! combination, split into 32 + ⌈log2 n⌉ fresh bits (1 booleanity constraint each) tied to it by
//! 1 equality. With every input variable a compression costs 26,416 constraints:
//! 48 schedule words × (σ0 61 + σ1 54 + 4-word sum 35) = 7,200, 64 rounds × (Σ1 64 + Ch 32 +
//! Σ0 64 + Maj 64 + 6- and 7-word sums 36 + 36) = 18,944, and 8 final 2-word sums × 34 = 272.
//! Constant bits fold (a constant IV makes the first rounds' Ch and Maj free; an all-constant
//! input costs nothing and yields constants).

use ark_ff::{AdditiveGroup, Field, PrimeField, Zero};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::{AllocatedFp, FpVar};
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::uint8::UInt8;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};
use zklink_crypto::Fr;

/// Bits of the chaining state.
pub const STATE_BITS: usize = 256;
/// Bits of one message block.
pub const BLOCK_BITS: usize = 512;

/// A 32-bit word, most significant bit first.
type Word = Vec<Boolean<Fr>>;

/// A bitwise function of three bits, each given as a 0/1 field value.
type BitFn = fn(&FpVar<Fr>, &FpVar<Fr>, &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError>;

/// The initial hash value H0..H7 (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// Round constants, eight per line as in FIPS 180-4 §4.2.2.
#[rustfmt::skip]
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The bytes' bits in this module's order (big-endian per byte); no constraints.
pub fn bytes_to_bits_be(bytes: &[UInt8<Fr>]) -> Vec<Boolean<Fr>> {
    bytes.iter().flat_map(|b| b.bits.iter().rev().cloned()).collect()
}

/// Inverse of [`bytes_to_bits_be`]; no constraints. Panics unless `bits.len()` is a multiple of 8.
pub fn bits_be_to_bytes(bits: &[Boolean<Fr>]) -> Vec<UInt8<Fr>> {
    assert!(bits.len().is_multiple_of(8), "a whole number of bytes");
    bits.chunks(8).map(|byte| UInt8::from_bits_le(&byte.iter().rev().cloned().collect::<Vec<_>>())).collect()
}

/// The initial state `H0 ‖ … ‖ H7` as constants.
pub fn iv() -> Vec<Boolean<Fr>> {
    IV.iter().flat_map(|&w| constant_bits(w.into(), 32)).collect()
}

/// One compression: the 256-bit `state` updated with the 512-bit `block`.
pub fn compress(state: &[Boolean<Fr>], block: &[Boolean<Fr>]) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    if state.len() != STATE_BITS || block.len() != BLOCK_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let initial = words(state);
    let schedule = message_schedule(block)?;
    let mut working = initial.clone();
    for (&k, w) in K.iter().zip(&schedule) {
        working = round(working, k, w)?;
    }
    let mut out = Vec::with_capacity(STATE_BITS);
    for (h, x) in initial.iter().zip(&working) {
        out.extend(add_mod32(&[word_value(h)?, word_value(x)?])?);
    }
    Ok(out)
}

/// SHA-256 of a message of whole bytes (its length is fixed at synthesis time): the digest's bits.
pub fn sha256_bits(msg_bits: &[Boolean<Fr>]) -> Result<Vec<Boolean<Fr>>, SynthesisError> {
    if !msg_bits.len().is_multiple_of(8) {
        return Err(SynthesisError::Unsatisfiable);
    }
    pad(msg_bits).chunks(BLOCK_BITS).try_fold(iv(), |state, block| compress(&state, block))
}

/// SHA-256 of `data`: the 32 digest bytes.
pub fn sha256(data: &[UInt8<Fr>]) -> Result<Vec<UInt8<Fr>>, SynthesisError> {
    Ok(bits_be_to_bytes(&sha256_bits(&bytes_to_bits_be(data))?))
}

/// Standard padding, all constants: a 1 bit, zeros up to 448 mod 512, the 64-bit bit length.
fn pad(msg_bits: &[Boolean<Fr>]) -> Vec<Boolean<Fr>> {
    let mut bits = msg_bits.to_vec();
    bits.push(Boolean::TRUE);
    let zeros = (BLOCK_BITS + 448 - bits.len() % BLOCK_BITS) % BLOCK_BITS;
    bits.resize(bits.len() + zeros, Boolean::FALSE);
    bits.extend(constant_bits(msg_bits.len() as u64, 64));
    bits
}

/// The 64 schedule words W_0..W_63 of a block.
fn message_schedule(block: &[Boolean<Fr>]) -> Result<Vec<Word>, SynthesisError> {
    let mut w = words(block);
    for t in 16..64 {
        let terms =
            [small_sigma1(&w[t - 2])?, word_value(&w[t - 7])?, small_sigma0(&w[t - 15])?, word_value(&w[t - 16])?];
        w.push(add_mod32(&terms)?);
    }
    Ok(w)
}

/// One round on the working variables `[a, b, c, d, e, f, g, h]`.
fn round(mut s: Vec<Word>, k: u32, w: &Word) -> Result<Vec<Word>, SynthesisError> {
    let t1 = [
        word_value(&s[7])?,
        big_sigma1(&s[4])?,
        bitwise(&s[4], &s[5], &s[6], ch)?,
        FpVar::Constant(Fr::from(k)),
        word_value(w)?,
    ];
    let t2 = [big_sigma0(&s[0])?, bitwise(&s[0], &s[1], &s[2], maj)?];
    // T1 is never reduced on its own: it enters both new words' sums as a linear combination.
    let new_e = add_mod32(&[&t1[..], &[word_value(&s[3])?]].concat())?;
    let new_a = add_mod32(&[&t1[..], &t2[..]].concat())?;
    s.rotate_right(1);
    s[0] = new_a;
    s[4] = new_e;
    Ok(s)
}

fn big_sigma0(x: &Word) -> Result<FpVar<Fr>, SynthesisError> {
    bitwise(&rotr(x, 2), &rotr(x, 13), &rotr(x, 22), xor3)
}

fn big_sigma1(x: &Word) -> Result<FpVar<Fr>, SynthesisError> {
    bitwise(&rotr(x, 6), &rotr(x, 11), &rotr(x, 25), xor3)
}

fn small_sigma0(x: &Word) -> Result<FpVar<Fr>, SynthesisError> {
    bitwise(&rotr(x, 7), &rotr(x, 18), &shr(x, 3), xor3)
}

fn small_sigma1(x: &Word) -> Result<FpVar<Fr>, SynthesisError> {
    bitwise(&rotr(x, 17), &rotr(x, 19), &shr(x, 10), xor3)
}

fn rotr(x: &Word, n: usize) -> Word {
    (0..32).map(|i| x[(i + 32 - n) % 32].clone()).collect()
}

fn shr(x: &Word, n: usize) -> Word {
    (0..32).map(|i| if i < n { Boolean::FALSE } else { x[i - n].clone() }).collect()
}

/// The word value of `f` applied bit by bit: kept as a field value since it is only added.
fn bitwise(x: &Word, y: &Word, z: &Word, f: BitFn) -> Result<FpVar<Fr>, SynthesisError> {
    let bits = (0..32).map(|i| f(&bit(&x[i]), &bit(&y[i]), &bit(&z[i]))).collect::<Result<Vec<_>, _>>()?;
    pack(&bits)
}

fn xor(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let ab = mul(a, b)?;
    lin([(Fr::ONE, a), (Fr::ONE, b), (-Fr::from(2u64), &ab)])
}

fn xor3(a: &FpVar<Fr>, b: &FpVar<Fr>, c: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    xor(&xor(a, b)?, c)
}

/// `e ? f : g` as `e·(f − g) + g`: one product.
fn ch(e: &FpVar<Fr>, f: &FpVar<Fr>, g: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let f_minus_g = lin([(Fr::ONE, f), (-Fr::ONE, g)])?;
    lin([(Fr::ONE, &mul(e, &f_minus_g)?), (Fr::ONE, g)])
}

/// Majority as `ab + c·(a ⊕ b)`, sharing the product `ab` with the XOR: two products.
fn maj(a: &FpVar<Fr>, b: &FpVar<Fr>, c: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let ab = mul(a, b)?;
    let a_xor_b = lin([(Fr::ONE, a), (Fr::ONE, b), (-Fr::from(2u64), &ab)])?;
    lin([(Fr::ONE, &ab), (Fr::ONE, &mul(c, &a_xor_b)?)])
}

/// `(Σ terms) mod 2^32` as a word, each term < 2^32. A variable sum gets 32 + ⌈log2 n⌉ fresh
/// bits (carries included) and one equality with the sum; the sum is < 2^35, far below the
/// modulus, so it cannot wrap and its low 32 bits are the word.
fn add_mod32(terms: &[FpVar<Fr>]) -> Result<Word, SynthesisError> {
    let sum = lin(terms.iter().map(|t| (Fr::ONE, t)))?;
    let v = match &sum {
        FpVar::Constant(c) => return Ok(constant_bits(low_u64(c), 32)),
        FpVar::Var(v) => v,
    };
    let width = 32 + terms.len().next_power_of_two().trailing_zeros() as usize;
    let value = v.value().ok().map(|x| low_u64(&x));
    let bits = (0..width)
        .rev()
        .map(|i| {
            Boolean::new_witness(v.cs.clone(), || {
                value.map(|x| (x >> i) & 1 == 1).ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    pack(&bits.iter().map(bit).collect::<Vec<_>>())?.enforce_equal(&sum)?;
    Ok(bits[width - 32..].to_vec())
}

fn word_value(x: &Word) -> Result<FpVar<Fr>, SynthesisError> {
    pack(&x.iter().map(bit).collect::<Vec<_>>())
}

/// `Σ 2^(n−1−i)·bits[i]`: the integer whose bits (most significant first) are `bits`.
fn pack(bits: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    lin(bits.iter().enumerate().map(|(i, b)| (Fr::from(1u64 << (bits.len() - 1 - i)), b)))
}

/// `a·b`, costing a constraint only when neither factor is a constant.
fn mul(a: &FpVar<Fr>, b: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    match (a, b) {
        (FpVar::Constant(c), x) | (x, FpVar::Constant(c)) => lin([(*c, x)]),
        _ => {
            let product = FpVar::new_witness(a.cs().or(b.cs()), || Ok(a.value()? * b.value()?))?;
            a.mul_equals(b, &product)?;
            Ok(product)
        }
    }
}

/// `Σ c·x` as a single symbolic linear combination (no constraint). Constant terms fold, so a
/// sum without variables stays a constant and later products with it stay free.
fn lin<'a>(terms: impl IntoIterator<Item = (Fr, &'a FpVar<Fr>)>) -> Result<FpVar<Fr>, SynthesisError> {
    let mut constant = Fr::ZERO;
    let mut lc = LinearCombination::zero();
    let mut value = Some(Fr::ZERO);
    let mut cs = ConstraintSystemRef::None;
    for (c, x) in terms {
        match x {
            FpVar::Constant(k) => constant += c * k,
            FpVar::Var(v) if !c.is_zero() => {
                lc += (c, v.variable);
                value = value.zip(v.value().ok()).map(|(acc, x)| acc + c * x);
                cs = cs.or(v.cs.clone());
            }
            FpVar::Var(_) => {}
        }
    }
    if lc.is_empty() {
        return Ok(FpVar::Constant(constant));
    }
    if !constant.is_zero() {
        lc += (constant, Variable::One);
    }
    let variable = cs.new_lc(|| lc)?;
    Ok(FpVar::Var(AllocatedFp::new(value.map(|v| v + constant), variable, cs)))
}

/// A bit as a 0/1 field value, reusing its variable (no new linear combination).
fn bit(b: &Boolean<Fr>) -> FpVar<Fr> {
    match b {
        Boolean::Constant(c) => FpVar::Constant(Fr::from(*c)),
        Boolean::Var(v) => FpVar::Var(AllocatedFp::new(v.value().ok().map(Fr::from), v.variable(), b.cs())),
    }
}

fn words(bits: &[Boolean<Fr>]) -> Vec<Word> {
    bits.chunks(32).map(<[_]>::to_vec).collect()
}

/// The low `n` bits of `x` as constants, most significant first.
fn constant_bits(x: u64, n: usize) -> Vec<Boolean<Fr>> {
    (0..n).rev().map(|i| Boolean::Constant((x >> i) & 1 == 1)).collect()
}

/// The low 64 bits of a field element (sums here are < 2^35).
fn low_u64(x: &Fr) -> u64 {
    x.into_bigint().as_ref()[0]
}
