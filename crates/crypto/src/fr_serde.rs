//! Serde helpers for [`Fr`] as strings: serialised as canonical decimal; deserialised from
//! decimal or `0x`-prefixed hex (big-endian). Non-canonical values (`>= p`) are rejected.
//!
//! Use as `#[serde(with = "zklink_crypto::fr_serde")]` on an `Fr` field.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::{self, Write as _};

/// A string that is not a canonical field element.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("invalid field element string {0:?}")]
pub struct ParseFrError(pub String);

/// Canonical decimal representation.
pub fn to_decimal(x: &Fr) -> String {
    const CHUNK: u128 = 10_000_000_000_000_000_000; // 10^19
    let mut limbs = x.into_bigint().0;
    let mut chunks: Vec<u64> = Vec::with_capacity(5);
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u128 = 0;
        for limb in limbs.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / CHUNK) as u64;
            rem = cur % CHUNK;
        }
        chunks.push(rem as u64);
    }
    let mut out = String::with_capacity(78);
    match chunks.split_last() {
        None => out.push('0'),
        Some((most, rest)) => {
            let _ = write!(out, "{most}");
            for c in rest.iter().rev() {
                let _ = write!(out, "{c:019}");
            }
        }
    }
    out
}

/// `0x` + 64 lowercase hex digits, big-endian.
pub fn to_hex(x: &Fr) -> String {
    let limbs = x.into_bigint().0;
    let mut out = String::with_capacity(66);
    out.push_str("0x");
    for limb in limbs.iter().rev() {
        let _ = write!(out, "{limb:016x}");
    }
    out
}

/// Parses a decimal or `0x`-hex string into a canonical field element.
pub fn parse(s: &str) -> Result<Fr, ParseFrError> {
    let err = || ParseFrError(s.chars().take(100).collect());
    let mut limbs = [0u64; 4];
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => (hex, 16u32),
        None => (s, 10u32),
    };
    if digits.is_empty() || digits.len() > 80 {
        return Err(err());
    }
    for ch in digits.chars() {
        let d = ch.to_digit(radix).ok_or_else(err)?;
        // limbs = limbs * radix + d, rejecting overflow past 256 bits.
        let mut carry = u128::from(d);
        for limb in limbs.iter_mut() {
            let cur = u128::from(*limb) * u128::from(radix) + carry;
            *limb = cur as u64;
            carry = cur >> 64;
        }
        if carry != 0 {
            return Err(err());
        }
    }
    let big = BigInt::new(limbs);
    if big >= Fr::MODULUS {
        return Err(err());
    }
    Fr::from_bigint(big).ok_or_else(err)
}

/// `Fr` wrapper that (de)serialises through [`to_decimal`] / [`parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrStr(pub Fr);

impl Serialize for FrStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_decimal(&self.0))
    }
}

impl<'de> Deserialize<'de> for FrStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = FrStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field element as a decimal or 0x-hex string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FrStr, E> {
                parse(v).map(FrStr).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FrStr, E> {
                Ok(FrStr(Fr::from(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `#[serde(with = "fr_serde")]` serialiser for an `Fr` field.
pub fn serialize<S: Serializer>(x: &Fr, s: S) -> Result<S::Ok, S::Error> {
    FrStr(*x).serialize(s)
}

/// `#[serde(with = "fr_serde")]` deserialiser for an `Fr` field.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fr, D::Error> {
    FrStr::deserialize(d).map(|f| f.0)
}

/// `#[serde(with = "fr_serde::pair")]` for `(Fr, Fr)` (a curve point's coordinates).
pub mod pair {
    use super::FrStr;
    use ark_bn254::Fr;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises both coordinates.
    pub fn serialize<S: Serializer>(v: &(Fr, Fr), s: S) -> Result<S::Ok, S::Error> {
        (FrStr(v.0), FrStr(v.1)).serialize(s)
    }

    /// Reads both coordinates.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(Fr, Fr), D::Error> {
        let (a, b) = <(FrStr, FrStr)>::deserialize(d)?;
        Ok((a.0, b.0))
    }
}

/// `#[serde(with = "fr_serde::siblings")]` for `Vec<[Fr; 3]>`.
pub mod siblings {
    use super::FrStr;
    use ark_bn254::Fr;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises every level's three siblings.
    pub fn serialize<S: Serializer>(v: &[[Fr; 3]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|level| level.map(FrStr)))
    }

    /// Reads every level's three siblings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[Fr; 3]>, D::Error> {
        let raw = Vec::<[FrStr; 3]>::deserialize(d)?;
        Ok(raw.into_iter().map(|level| level.map(|f| f.0)).collect())
    }
}
