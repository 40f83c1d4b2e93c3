//! Serde helper: u128 amounts travel as decimal strings (JSON numbers lose precision above 2^53).

use serde::{de::Error, Deserialize, Deserializer, Serializer};

/// Writes `v` as a decimal string, e.g. `"1000000000000000000"`.
pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Reads a decimal string into a u128; a JSON number or a value above u128 is an error.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<u128>().map_err(|e| D::Error::custom(format!("expected a decimal u128 string, got {s:?}: {e}")))
}
