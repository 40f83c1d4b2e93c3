//! EdDSA-Poseidon on Baby Jubjub — circomlib's `eddsa.signPoseidon` / `verifyPoseidon` with its
//! `packPoint` / `packSignature` encodings, so circomlibjs and zk-kit wallets interoperate.
//!
//! * private key: 32 bytes; `h = BLAKE-512(key)`, `s = LE(prune(h[0..32]))`, `A = (s >> 3)·Base8`
//!   where prune clears the low 3 bits of byte 0 and the top bit of byte 31 and sets bit 6 of
//!   byte 31;
//! * sign(msg): `r = LE(BLAKE-512(h[32..64] ‖ LE32(msg))) mod l`, `R8 = r·Base8`,
//!   `hm = Poseidon(R8.x, R8.y, A.x, A.y, msg)`, `S = (r + hm·s) mod l`;
//! * verify: `S < l` and `S·Base8 == R8 + (8·hm)·A`.
//!
//! Public keys are only constructed from the private key or through [`PublicKey::from_packed`],
//! which checks that the point lies in the prime-order subgroup, so `(8·hm)·A` may be computed
//! with `8·hm` reduced modulo l. A signature's R8 is checked to be a canonical curve point when
//! unpacked (as circomlib does); that it lies in the subgroup follows from the verification
//! equation itself (every other term does), so a signature whose R8 has a torsion component
//! never verifies and signatures are not malleable.

use std::fmt;
use std::str::FromStr;

use ark_ec::CurveGroup;
use ark_ff::{BigInt, BigInteger, PrimeField};
use blake_hash::{Blake512, Digest};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use taceo_ark_babyjubjub::EdwardsAffine;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::curve::{self, SubScalar};
use crate::{poseidon, CryptoError, Fr};

/// A circomlib EdDSA private key: 32 arbitrary bytes (hashed with BLAKE-512 before use).
///
/// `Debug` does not print the key; the bytes are wiped when the value is dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PrivateKey([u8; 32]);

/// The expanded secret: the pruned scalar buffer and the nonce prefix.
#[derive(Zeroize, ZeroizeOnDrop)]
struct Expanded {
    s_buf: [u8; 32],
    prefix: [u8; 32],
}

impl Expanded {
    /// `s` as little-endian limbs.
    fn s_limbs(&self) -> [u64; 4] {
        le_limbs(&self.s_buf)
    }

    /// `s >> 3` as little-endian limbs: the multiplier of Base8 that gives A.
    fn s_div8_limbs(&self) -> [u64; 4] {
        let s = self.s_limbs();
        [(s[0] >> 3) | (s[1] << 61), (s[1] >> 3) | (s[2] << 61), (s[2] >> 3) | (s[3] << 61), s[3] >> 3]
    }
}

fn le_limbs(bytes: &[u8; 32]) -> [u64; 4] {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    limbs
}

fn fr_to_le32(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_le());
    out
}

impl PrivateKey {
    /// Wraps 32 key bytes (any value is a valid key).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        PrivateKey(bytes)
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    fn expand(&self) -> Expanded {
        let mut h: [u8; 64] = Blake512::digest(&self.0).into();
        let mut exp = Expanded { s_buf: [0; 32], prefix: [0; 32] };
        exp.s_buf.copy_from_slice(&h[..32]);
        exp.prefix.copy_from_slice(&h[32..]);
        h.zeroize();
        exp.s_buf[0] &= 0xf8;
        exp.s_buf[31] &= 0x7f;
        exp.s_buf[31] |= 0x40;
        exp
    }

    /// `A = (s >> 3)·Base8` (circomlib `prv2pub`).
    pub fn public_key(&self) -> PublicKey {
        let exp = self.expand();
        PublicKey(curve::base8_mul_ct(&exp.s_div8_limbs()).into_affine())
    }

    /// circomlib `signPoseidon(prv, msg)`: deterministic, byte-identical to circomlibjs.
    pub fn sign(&self, msg: Fr) -> Signature {
        let exp = self.expand();
        let a = curve::base8_mul_ct(&exp.s_div8_limbs()).into_affine();

        let mut nonce_input = [0u8; 64];
        nonce_input[..32].copy_from_slice(&exp.prefix);
        nonce_input[32..].copy_from_slice(&fr_to_le32(&msg));
        let mut r_buf: [u8; 64] = Blake512::digest(&nonce_input).into();
        nonce_input.zeroize();
        let r = SubScalar::from_le_bytes_mod_order(&r_buf);
        r_buf.zeroize();
        let r8 = curve::base8_mul_ct(&r.into_bigint().0).into_affine();

        let hm = challenge(&r8, &a, msg);
        let s = SubScalar::from_le_bytes_mod_order(&exp.s_buf);
        Signature { r8, s: r + hm * s }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// `hm = Poseidon(R8.x, R8.y, A.x, A.y, msg)` as an integer reduced modulo l.
fn challenge(r8: &EdwardsAffine, a: &EdwardsAffine, msg: Fr) -> SubScalar {
    let hm = poseidon::hash5(&[r8.x, r8.y, a.x, a.y, msg]);
    SubScalar::from_le_bytes_mod_order(&fr_to_le32(&hm))
}

/// An EdDSA public key: a point of the prime-order subgroup of Baby Jubjub, other than the
/// identity.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(EdwardsAffine);

impl PublicKey {
    /// circomlib `packPoint`: y little-endian, top bit of byte 31 = (x > (p-1)/2).
    pub fn to_packed(&self) -> [u8; 32] {
        curve::pack(&self.0)
    }

    /// circomlib `unpackPoint`, strict: rejects a non-canonical y (≥ p), a y with no curve
    /// point, x = 0, and points outside the prime-order subgroup.
    pub fn from_packed(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        curve::unpack_subgroup(bytes, "public key").map(PublicKey)
    }

    /// Builds a public key from affine coordinates, with the same checks as [`Self::from_packed`].
    pub fn from_xy(x: Fr, y: Fr) -> Result<Self, CryptoError> {
        let p = EdwardsAffine::new_unchecked(x, y);
        // Round-trip through the packed form: one place for all the checks.
        let key = Self::from_packed(&curve::pack(&p))?;
        if key.0 != p {
            return Err(CryptoError::InvalidPoint { what: "public key", reason: crate::PointError::NotOnCurve });
        }
        Ok(key)
    }

    /// x coordinate of A.
    pub fn x(&self) -> Fr {
        self.0.x
    }

    /// y coordinate of A.
    pub fn y(&self) -> Fr {
        self.0.y
    }

    /// `Poseidon(A.x, A.y)` mod 2^160 — the 20 bytes stored in the account leaf.
    pub fn pubkey_hash(&self) -> PubKeyHash {
        let h = poseidon::hash2(self.0.x, self.0.y);
        let be = h.into_bigint().to_bytes_be();
        let mut out = [0u8; 20];
        out.copy_from_slice(&be[12..]);
        PubKeyHash(out)
    }

    /// circomlib `verifyPoseidon(msg, sig, A)`: `S·Base8 == R8 + (8·hm)·A`.
    pub fn verify(&self, msg: Fr, sig: &Signature) -> Result<(), CryptoError> {
        // S < l and R8 on the curve are invariants of `Signature`; A is in the subgroup, so the
        // multiplier 8·hm may be reduced modulo l.
        let k = challenge(&sig.r8, &self.0, msg) * SubScalar::from(8u64);
        let lhs = curve::base8_mul_vartime(&sig.s.into_bigint().0) - curve::mul_vartime(&self.0, &k.into_bigint());
        if curve::eq_affine(&lhs, &sig.r8) {
            Ok(())
        } else {
            Err(CryptoError::SignatureMismatch)
        }
    }
}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_packed().hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// An EdDSA-Poseidon signature `(R8, S)` with `S < l` and R8 a curve point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    r8: EdwardsAffine,
    s: SubScalar,
}

impl Signature {
    /// circomlib `packSignature`: `packPoint(R8) ‖ S` (S as 32 bytes little-endian).
    pub fn to_packed(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&curve::pack(&self.r8));
        out[32..].copy_from_slice(&self.s());
        out
    }

    /// circomlib `unpackSignature`, strict: rejects `S ≥ l` and an R8 that is not a canonical
    /// curve point (non-canonical y, no point, x = 0).
    pub fn from_packed(bytes: &[u8; 64]) -> Result<Self, CryptoError> {
        let mut r8_bytes = [0u8; 32];
        r8_bytes.copy_from_slice(&bytes[..32]);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&bytes[32..]);
        let s = SubScalar::from_bigint(BigInt(le_limbs(&s_bytes))).ok_or(CryptoError::SignatureScalarOutOfRange)?;
        let r8 = curve::unpack(&r8_bytes, "signature R8")?;
        Ok(Signature { r8, s })
    }

    /// Affine coordinates of R8.
    pub fn r8(&self) -> (Fr, Fr) {
        (self.r8.x, self.r8.y)
    }

    /// S as 32 bytes little-endian.
    pub fn s(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.s.into_bigint().to_bytes_le());
        out
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

/// 20 bytes: the integer of `Poseidon(A.x, A.y)` mod 2^160, big-endian. All zero = no key set.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct PubKeyHash(pub [u8; 20]);

impl PubKeyHash {
    /// The hash as a field element (the 160-bit big-endian integer).
    pub fn to_field(&self) -> Fr {
        Fr::from_be_bytes_mod_order(&self.0)
    }

    /// True for the all-zero hash, meaning "no public key set".
    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 20]
    }
}

impl fmt::Debug for PubKeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PubKeyHash({self})")
    }
}

// ---------------------------------------------------------------------------------------------
// 0x-hex text forms and serde
// ---------------------------------------------------------------------------------------------

/// Parses exactly `N` bytes of hex, with or without a `0x` prefix.
pub(crate) fn parse_hex<const N: usize>(s: &str, what: &'static str) -> Result<[u8; N], CryptoError> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    if digits.len() != 2 * N {
        return Err(CryptoError::HexLength { what, expected: 2 * N, bytes: N, got: digits.len() });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|source| CryptoError::InvalidHex { what, source })?;
    Ok(out)
}

macro_rules! hex_text_and_serde {
    ($ty:ty, $n:literal, $what:literal, |$v:ident| $to:expr, |$b:ident| $from:expr) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let $v = self;
                write!(f, "0x{}", hex::encode($to))
            }
        }

        impl FromStr for $ty {
            type Err = CryptoError;
            fn from_str(s: &str) -> Result<Self, CryptoError> {
                let $b = parse_hex::<$n>(s, $what)?;
                $from
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_text_and_serde!(PubKeyHash, 20, "pubkey hash", |v| v.0, |b| Ok(PubKeyHash(b)));
hex_text_and_serde!(PublicKey, 32, "packed public key", |v| v.to_packed(), |b| PublicKey::from_packed(&b));
hex_text_and_serde!(Signature, 64, "packed signature", |v| v.to_packed(), |b| Signature::from_packed(&b));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PointError;
    use ark_ff::{AdditiveGroup, Field, UniformRand};
    use taceo_ark_babyjubjub::EdwardsProjective;

    fn key(i: u8) -> PrivateKey {
        PrivateKey::from_bytes([i; 32])
    }

    #[test]
    fn sign_verify_roundtrip() {
        let mut rng = ark_std::test_rng();
        for i in 0..8 {
            let sk = key(i);
            let pk = sk.public_key();
            let msg = Fr::rand(&mut rng);
            let sig = sk.sign(msg);
            assert_eq!(pk.verify(msg, &sig), Ok(()));
            let packed = Signature::from_packed(&sig.to_packed()).unwrap();
            assert_eq!(packed, sig);
            let pk2 = PublicKey::from_packed(&pk.to_packed()).unwrap();
            assert_eq!(pk2, pk);
            assert_eq!(pk2.verify(msg, &packed), Ok(()));
            assert_eq!(PublicKey::from_xy(pk.x(), pk.y()), Ok(pk));
        }
    }

    #[test]
    fn verify_with_integer_multiplier_matches_reduced() {
        // The reduction of 8·hm modulo l relies on A being in the subgroup: compare against the
        // unreduced integer multiplication with arkworks' generic ladder.
        use ark_ec::PrimeGroup;
        let sk = key(42);
        let pk = sk.public_key();
        let msg = Fr::from(77u64);
        let sig = sk.sign(msg);
        let hm = poseidon::hash5(&[sig.r8.x, sig.r8.y, pk.x(), pk.y(), msg]);
        let hm8 = num_bigint::BigUint::from(hm) * 8u32; // < 2^258
        let mut limbs = hm8.to_u64_digits();
        limbs.resize(5, 0);
        let lhs = EdwardsProjective::from(curve::base8()).mul_bigint(sig.s.into_bigint());
        let rhs = EdwardsProjective::from(sig.r8) + EdwardsProjective::from(pk.0).mul_bigint(&limbs);
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn tampering_is_detected() {
        let sk = key(1);
        let pk = sk.public_key();
        let msg = Fr::from(1234u64);
        let sig = sk.sign(msg);
        assert_eq!(pk.verify(msg + Fr::ONE, &sig), Err(CryptoError::SignatureMismatch));
        assert_eq!(key(2).public_key().verify(msg, &sig), Err(CryptoError::SignatureMismatch));

        // Flip S.
        let mut bytes = sig.to_packed();
        bytes[32] ^= 1;
        let bad = Signature::from_packed(&bytes).unwrap();
        assert_eq!(pk.verify(msg, &bad), Err(CryptoError::SignatureMismatch));

        // Replace R8 by another valid point.
        let other = key(3).sign(msg);
        let mut bytes = sig.to_packed();
        bytes[..32].copy_from_slice(&other.to_packed()[..32]);
        let bad = Signature::from_packed(&bytes).unwrap();
        assert_eq!(pk.verify(msg, &bad), Err(CryptoError::SignatureMismatch));

        // R8 + (point of order 2): still on the curve, must not verify.
        let t2 = EdwardsAffine::new_unchecked(Fr::ZERO, -Fr::ONE);
        let r8t = (EdwardsProjective::from(sig.r8) + t2).into_affine();
        let mut bytes = sig.to_packed();
        bytes[..32].copy_from_slice(&curve::pack(&r8t));
        let bad = Signature::from_packed(&bytes).unwrap();
        assert_eq!(pk.verify(msg, &bad), Err(CryptoError::SignatureMismatch));
    }

    #[test]
    fn s_out_of_range_is_rejected() {
        let sig = key(5).sign(Fr::from(9u64));
        let mut bytes = sig.to_packed();
        // S = l
        bytes[32..].copy_from_slice(&SubScalar::MODULUS.to_bytes_le());
        assert_eq!(Signature::from_packed(&bytes), Err(CryptoError::SignatureScalarOutOfRange));
        // S = l + original S (the classic malleability attempt) and S = 2^256 - 1.
        let s_plus_l = {
            let mut b = sig.s.into_bigint();
            b.add_with_carry(&SubScalar::MODULUS);
            b.to_bytes_le()
        };
        bytes[32..].copy_from_slice(&s_plus_l);
        assert_eq!(Signature::from_packed(&bytes), Err(CryptoError::SignatureScalarOutOfRange));
        bytes[32..].copy_from_slice(&[0xff; 32]);
        assert_eq!(Signature::from_packed(&bytes), Err(CryptoError::SignatureScalarOutOfRange));
    }

    #[test]
    fn bad_packed_public_keys() {
        let err = |reason| Err(CryptoError::InvalidPoint { what: "public key", reason });
        assert_eq!(PublicKey::from_packed(&[0xff; 32]), err(PointError::NonCanonicalY));
        // y = p exactly (circomlib accepts it because it only checks y > p).
        let p_le: [u8; 32] = Fr::MODULUS.to_bytes_le().try_into().unwrap();
        assert_eq!(PublicKey::from_packed(&p_le), err(PointError::NonCanonicalY));
        // Identity (0, 1) and (0, -1), with and without the sign bit.
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(PublicKey::from_packed(&one), err(PointError::ZeroX));
        one[31] |= 0x80;
        assert_eq!(PublicKey::from_packed(&one), err(PointError::ZeroX));
        let minus_one = curve::pack(&EdwardsAffine::new_unchecked(Fr::ZERO, -Fr::ONE));
        assert_eq!(PublicKey::from_packed(&minus_one), err(PointError::ZeroX));
        // Some y with no curve point: search the small integers.
        let not_on_curve = (2u64..)
            .map(|y| curve::pack(&EdwardsAffine::new_unchecked(Fr::ZERO, Fr::from(y))))
            .find(|b| {
                matches!(curve::unpack(b, "x"), Err(CryptoError::InvalidPoint { reason: PointError::NotOnCurve, .. }))
            })
            .unwrap();
        assert_eq!(PublicKey::from_packed(&not_on_curve), err(PointError::NotOnCurve));
        // A valid key plus a point of order 2: on the curve, wrong subgroup.
        let pk = key(7).public_key();
        let t2 = EdwardsAffine::new_unchecked(Fr::ZERO, -Fr::ONE);
        let off = (EdwardsProjective::from(pk.0) + t2).into_affine();
        assert_eq!(PublicKey::from_packed(&curve::pack(&off)), err(PointError::NotInSubgroup));
        assert!(PublicKey::from_xy(off.x, off.y).is_err());
        assert!(PublicKey::from_xy(Fr::from(1u64), Fr::from(2u64)).is_err());
        // Error messages say what was wrong and what was expected.
        let msg = PublicKey::from_packed(&[0xff; 32]).unwrap_err().to_string();
        assert!(msg.contains("public key") && msg.contains("expected"), "{msg}");
    }

    #[test]
    fn pubkey_hash_text_and_serde() {
        let pkh = key(9).public_key().pubkey_hash();
        let s = pkh.to_string();
        assert!(s.starts_with("0x") && s.len() == 42);
        assert_eq!(s.parse::<PubKeyHash>(), Ok(pkh));
        assert_eq!(s.trim_start_matches("0x").parse::<PubKeyHash>(), Ok(pkh));
        let json = serde_json::to_string(&pkh).unwrap();
        assert_eq!(json, format!("\"{s}\""));
        assert_eq!(serde_json::from_str::<PubKeyHash>(&json).unwrap(), pkh);
        assert!(serde_json::from_str::<PubKeyHash>("\"0x1234\"").is_err());
        assert!("0xzz".repeat(10).parse::<PubKeyHash>().is_err());
        assert!(PubKeyHash::default().is_zero());
        assert!(!pkh.is_zero());
        // to_field is the 160-bit truncation of Poseidon(Ax, Ay).
        let pk = key(9).public_key();
        let full = num_bigint::BigUint::from(poseidon::hash2(pk.x(), pk.y()));
        let truncated = full % (num_bigint::BigUint::from(1u8) << 160);
        assert_eq!(num_bigint::BigUint::from(pkh.to_field()), truncated);
        assert_eq!(format!("{pkh:?}"), format!("PubKeyHash({s})"));
    }

    #[test]
    fn public_key_and_signature_text_forms() {
        let sk = key(11);
        let pk = sk.public_key();
        let sig = sk.sign(Fr::from(5u64));
        assert_eq!(pk.to_string().parse::<PublicKey>(), Ok(pk));
        assert_eq!(sig.to_string().parse::<Signature>(), Ok(sig));
        let json = serde_json::to_string(&(pk, sig)).unwrap();
        assert_eq!(serde_json::from_str::<(PublicKey, Signature)>(&json).unwrap(), (pk, sig));
    }

    #[test]
    fn private_key_debug_is_redacted() {
        let sk = PrivateKey::from_bytes([0xab; 32]);
        let dbg = format!("{sk:?}");
        assert!(!dbg.to_lowercase().contains("ab"), "{dbg}");
        assert_eq!(sk.to_bytes(), [0xab; 32]);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn public_key_from_packed_never_panics(bytes in any::<[u8; 32]>()) {
                if let Ok(pk) = PublicKey::from_packed(&bytes) {
                    prop_assert_eq!(pk.to_packed(), bytes);
                }
            }

            #[test]
            fn signature_from_packed_never_panics(a in any::<[u8; 32]>(), b in any::<[u8; 32]>()) {
                let mut bytes = [0u8; 64];
                bytes[..32].copy_from_slice(&a);
                bytes[32..].copy_from_slice(&b);
                if let Ok(sig) = Signature::from_packed(&bytes) {
                    prop_assert_eq!(sig.to_packed(), bytes);
                    // Garbage must not verify.
                    let pk = PrivateKey::from_bytes(a).public_key();
                    prop_assert!(pk.verify(Fr::from(1u64), &sig).is_err());
                }
            }

            #[test]
            fn signatures_verify(k in any::<[u8; 32]>(), m in any::<[u8; 32]>()) {
                let sk = PrivateKey::from_bytes(k);
                let msg = Fr::from_le_bytes_mod_order(&m);
                let sig = sk.sign(msg);
                prop_assert!(sk.public_key().verify(msg, &sig).is_ok());
            }
        }
    }
}
