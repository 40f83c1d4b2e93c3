//! Serde helper: fixed-size byte arrays as 0x-prefixed hex strings.

use serde::{de::Error, Deserialize, Deserializer, Serializer};

/// Writes the `N` bytes as `0x` followed by `2N` lower-case hex digits.
pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("0x{}", hex::encode(v)))
}

/// Reads hex (the `0x` prefix is optional) that must decode to exactly `N` bytes.
pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    let s = String::deserialize(d)?;
    let raw = s.strip_prefix("0x").unwrap_or(&s);
    let bytes = hex::decode(raw).map_err(|e| D::Error::custom(format!("expected 0x-hex, got {s:?}: {e}")))?;
    bytes.try_into().map_err(|b: Vec<u8>| D::Error::custom(format!("expected {N} bytes of hex, got {}", b.len())))
}
