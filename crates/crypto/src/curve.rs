//! Baby Jubjub (ERC-2494 form, `168700x² + y² = 1 + 168696x²y²`) helpers on top of
//! `taceo-ark-babyjubjub`: circomlib point packing, a fixed-base table for `Base8`, a variable-time
//! wNAF multiplication for public data, and the prime-order-subgroup check.

use std::sync::OnceLock;

use ark_ec::twisted_edwards::TECurveConfig;
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::{AdditiveGroup, BigInt, BigInteger, Field, PrimeField, Zero};
use taceo_ark_babyjubjub::{EdwardsAffine, EdwardsConfig, EdwardsProjective};

use crate::{CryptoError, Fr, PointError};

/// Scalar field of the prime-order subgroup (order l).
pub(crate) type SubScalar = taceo_ark_babyjubjub::Fr;

/// `Base8` = 8 · (circomlib generator), the generator of the prime-order subgroup; it is
/// taceo's `GENERATOR`.
pub(crate) fn base8() -> EdwardsAffine {
    EdwardsConfig::GENERATOR
}

/// circomlib `packPoint`: y little-endian, top bit of byte 31 set iff x > (p-1)/2.
pub(crate) fn pack(p: &EdwardsAffine) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&p.y.into_bigint().to_bytes_le());
    if p.x.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO {
        out[31] |= 0x80;
    }
    out
}

/// circomlib `unpackPoint`, strict: rejects a y that is not below p, a y with no curve point,
/// and x = 0 (identity / order-2 point). Does NOT check the subgroup (see [`in_subgroup`]).
pub(crate) fn unpack(bytes: &[u8; 32], what: &'static str) -> Result<EdwardsAffine, CryptoError> {
    let err = |reason| CryptoError::InvalidPoint { what, reason };
    let sign = bytes[31] & 0x80 != 0;
    let mut y_bytes = *bytes;
    y_bytes[31] &= 0x7f;
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(y_bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    let y = Fr::from_bigint(BigInt(limbs)).ok_or(err(PointError::NonCanonicalY))?;
    let y2 = y.square();
    let num = Fr::ONE - y2;
    let den = EdwardsConfig::COEFF_A - EdwardsConfig::COEFF_D * y2;
    let x2 = num * den.inverse().ok_or(err(PointError::NotOnCurve))?;
    let mut x = x2.sqrt().ok_or(err(PointError::NotOnCurve))?;
    if x.is_zero() {
        return Err(err(PointError::ZeroX));
    }
    if (x.into_bigint() > Fr::MODULUS_MINUS_ONE_DIV_TWO) != sign {
        x = -x;
    }
    let p = EdwardsAffine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err(err(PointError::NotOnCurve));
    }
    Ok(p)
}

/// True iff `l · p` is the identity (l = order of Base8).
pub(crate) fn in_subgroup(p: &EdwardsAffine) -> bool {
    mul_vartime(p, &SubScalar::MODULUS).is_zero()
}

/// Unpack and require membership of the prime-order subgroup.
pub(crate) fn unpack_subgroup(bytes: &[u8; 32], what: &'static str) -> Result<EdwardsAffine, CryptoError> {
    let p = unpack(bytes, what)?;
    if !in_subgroup(&p) {
        return Err(CryptoError::InvalidPoint { what, reason: PointError::NotInSubgroup });
    }
    Ok(p)
}

const WNAF_WINDOW: usize = 5;

/// `k · p` for public `p` and `k` (variable time, wNAF with window 5). `k` is an integer: no
/// reduction modulo the group order is applied, so this is correct for any curve point.
pub(crate) fn mul_vartime(p: &EdwardsAffine, k: &BigInt<4>) -> EdwardsProjective {
    let Some(digits) = k.find_wnaf(WNAF_WINDOW) else {
        // Unreachable (the window is a valid constant): fall back to the integer ladder.
        return EdwardsProjective::from(*p).mul_bigint(k);
    };
    // Odd multiples p, 3p, …, 15p.
    let p_proj = EdwardsProjective::from(*p);
    let double = p_proj.double();
    let mut odd = [p_proj; 1 << (WNAF_WINDOW - 2)];
    for i in 1..odd.len() {
        odd[i] = odd[i - 1] + double;
    }
    let odd = EdwardsProjective::normalize_batch(&odd);
    let mut acc = EdwardsProjective::zero();
    for &d in digits.iter().rev() {
        acc.double_in_place();
        if d > 0 {
            acc += &odd[(d as usize) / 2];
        } else if d < 0 {
            acc -= &odd[(d.unsigned_abs() as usize) / 2];
        }
    }
    acc
}

/// Fixed-base table: `TABLE[w][j] = j · 16^w · Base8` for 64 windows of 4 bits.
fn base8_table() -> &'static [[EdwardsAffine; 16]] {
    static TABLE: OnceLock<Vec<[EdwardsAffine; 16]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::with_capacity(64);
        let mut base = EdwardsProjective::from(base8());
        for _ in 0..64 {
            let mut row = [EdwardsProjective::zero(); 16];
            for j in 1..16 {
                row[j] = row[j - 1] + base;
            }
            let affine = EdwardsProjective::normalize_batch(&row);
            rows.push(std::array::from_fn(|j| affine[j]));
            for _ in 0..4 {
                base.double_in_place();
            }
        }
        rows
    })
}

#[inline(always)]
fn nibble(k: &[u64; 4], w: usize) -> usize {
    ((k[w / 16] >> ((w % 16) * 4)) & 0xf) as usize
}

/// `k · Base8` for a secret 256-bit integer `k` (little-endian limbs), constant time with respect
/// to `k`: every table row is scanned with masks and the addition formula is complete.
pub(crate) fn base8_mul_ct(k: &[u64; 4]) -> EdwardsProjective {
    let table = base8_table();
    let mut acc = EdwardsProjective::zero();
    for (w, row) in table.iter().enumerate() {
        let digit = nibble(k, w) as u64;
        let mut sel = EdwardsAffine::zero();
        for (j, entry) in row.iter().enumerate() {
            // mask = all ones iff j == digit, computed without branches.
            let diff = (j as u64) ^ digit;
            let mask = ((diff | diff.wrapping_neg()) >> 63).wrapping_sub(1);
            for (s, e) in sel.x.0 .0.iter_mut().zip(entry.x.0 .0) {
                *s ^= mask & (*s ^ e);
            }
            for (s, e) in sel.y.0 .0.iter_mut().zip(entry.y.0 .0) {
                *s ^= mask & (*s ^ e);
            }
        }
        acc += &sel;
    }
    acc
}

/// `k · Base8` for a public integer `k` (variable time).
pub(crate) fn base8_mul_vartime(k: &[u64; 4]) -> EdwardsProjective {
    let table = base8_table();
    let mut acc = EdwardsProjective::zero();
    for (w, row) in table.iter().enumerate() {
        let digit = nibble(k, w);
        if digit != 0 {
            acc += &row[digit];
        }
    }
    acc
}

/// `p == q` for projective `p` and affine `q` without an inversion.
pub(crate) fn eq_affine(p: &EdwardsProjective, q: &EdwardsAffine) -> bool {
    p.x == q.x * p.z && p.y == q.y * p.z
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use std::str::FromStr;

    #[test]
    fn base8_is_circomlib_base8() {
        let b = base8();
        assert_eq!(
            b.x,
            Fr::from_str("5299619240641551281634865583518297030282874472190772894086521144482721001553").unwrap()
        );
        assert_eq!(
            b.y,
            Fr::from_str("16950150798460657717958625567821834550301663161624707787222815936182638968203").unwrap()
        );
        assert!(in_subgroup(&b));
        assert_eq!(
            SubScalar::MODULUS,
            BigInt::from_str("2736030358979909402780800718157159386076813972158567259200215660948447373041").unwrap()
        );
    }

    #[test]
    fn multiplications_agree_with_arkworks() {
        let mut rng = ark_std::test_rng();
        for _ in 0..8 {
            let k =
                BigInt::<4>([u64::rand(&mut rng), u64::rand(&mut rng), u64::rand(&mut rng), u64::rand(&mut rng) >> 2]);
            let expected = EdwardsProjective::generator().mul_bigint(k);
            assert_eq!(base8_mul_ct(&k.0), expected);
            assert_eq!(base8_mul_vartime(&k.0), expected);
            let p = (EdwardsProjective::generator() * SubScalar::rand(&mut rng)).into_affine();
            assert_eq!(mul_vartime(&p, &k), EdwardsProjective::from(p).mul_bigint(k));
        }
        assert!(base8_mul_ct(&[0; 4]).is_zero());
        assert!(mul_vartime(&base8(), &BigInt::zero()).is_zero());
    }

    #[test]
    fn pack_unpack_roundtrip() {
        let mut rng = ark_std::test_rng();
        for _ in 0..16 {
            let p = (EdwardsProjective::generator() * SubScalar::rand(&mut rng)).into_affine();
            let packed = pack(&p);
            assert_eq!(unpack_subgroup(&packed, "point").unwrap(), p);
            assert_eq!(unpack(&packed, "point").unwrap(), p);
            let neg = -p;
            assert_eq!(unpack(&pack(&neg), "point").unwrap(), neg);
        }
    }

    #[test]
    fn subgroup_check_rejects_torsion() {
        // A point of order 2: (0, -1). Adding it to Base8 leaves the subgroup.
        let t2 = EdwardsAffine::new_unchecked(Fr::ZERO, -Fr::ONE);
        assert!(t2.is_on_curve());
        let p = (EdwardsProjective::from(base8()) + t2).into_affine();
        assert!(p.is_on_curve());
        assert!(!in_subgroup(&p));
        assert_eq!(
            unpack_subgroup(&pack(&p), "public key"),
            Err(CryptoError::InvalidPoint { what: "public key", reason: PointError::NotInSubgroup })
        );
    }
}
