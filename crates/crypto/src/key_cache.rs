//! A bounded cache of decoded public keys.
//!
//! Decoding a packed key checks prime-order-subgroup membership (a full scalar
//! multiplication, ~125 µs) and its pubkey hash costs a Poseidon; traders sign many txs with
//! one key, so verifiers look keys up here first. Only keys that decoded successfully are
//! cached, so a cache hit is exactly as trustworthy as a fresh decode.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use crate::eddsa::{PubKeyHash, PublicKey};
use crate::CryptoError;

/// Packed key → (decoded key, pubkey hash), bounded in size.
pub struct KeyCache {
    map: RwLock<HashMap<[u8; 32], (PublicKey, PubKeyHash)>>,
    capacity: usize,
}

impl KeyCache {
    /// A cache holding at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        Self { map: RwLock::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// The process-wide cache (65,536 keys, about 10 MiB at most).
    pub fn global() -> &'static KeyCache {
        static CACHE: OnceLock<KeyCache> = OnceLock::new();
        CACHE.get_or_init(|| KeyCache::new(1 << 16))
    }

    /// The decoded key and its hash, from the cache or by decoding (and then caching) it.
    pub fn get_or_decode(&self, packed: &[u8; 32]) -> Result<(PublicKey, PubKeyHash), CryptoError> {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still valid.
        if let Some(hit) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(packed) {
            return Ok(*hit);
        }
        let key = PublicKey::from_packed(packed)?;
        let entry = (key, key.pubkey_hash());
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity {
            // Bounded memory: start over rather than track recency; hot keys return at once.
            map.clear();
        }
        map.insert(*packed, entry);
        Ok(entry)
    }

    /// Number of cached keys.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eddsa::PrivateKey;

    #[test]
    fn caches_valid_keys_only_and_stays_bounded() {
        let cache = KeyCache::new(2);
        let keys: Vec<_> = (1u8..=3).map(|i| PrivateKey::from_bytes([i; 32]).public_key()).collect();
        for k in &keys {
            let (decoded, pkh) = cache.get_or_decode(&k.to_packed()).unwrap();
            assert_eq!(decoded, *k);
            assert_eq!(pkh, k.pubkey_hash());
            assert!(cache.len() <= 2);
        }
        assert!(cache.get_or_decode(&[0xff; 32]).is_err());
        assert!(cache.len() <= 2);
        // A hit returns the same as a fresh decode.
        let again = cache.get_or_decode(&keys[2].to_packed()).unwrap();
        assert_eq!(again.0, keys[2]);
    }
}
