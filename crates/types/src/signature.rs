//! The L2 signature carried by a transaction: the signer's packed Baby Jubjub public key and
//! the packed EdDSA-Poseidon signature (circomlib format), 96 bytes in all.

use serde::{Deserialize, Serialize};
use zklink_crypto::eddsa::{PrivateKey, PubKeyHash, Signature};
use zklink_crypto::key_cache::KeyCache;
use zklink_crypto::Fr;

use crate::error::{DecodeError, SignatureFault, TxError};

/// An L2 signature (docs/protocol.md §4–5): the signer's packed public key and the packed
/// signature. The default, all zero, is the placeholder of a tx not signed yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxSignature {
    /// The signer's packed public key: `y` little-endian with the sign of `x` in the top bit.
    #[serde(with = "crate::serde_hex")]
    pub pub_key: [u8; 32],
    /// The packed signature: packed `R8` ‖ `S` (32 bytes little-endian).
    #[serde(with = "crate::serde_hex")]
    pub signature: [u8; 64],
}

impl Default for TxSignature {
    fn default() -> Self {
        Self { pub_key: [0; 32], signature: [0; 64] }
    }
}

impl TxSignature {
    /// Size of the encoded signature: public key (32) ‖ signature (64).
    pub const BYTES: usize = 96;

    /// Signs the message `msg` (a field element, e.g. `msg(signed bytes)`) with `key`.
    pub fn sign(key: &PrivateKey, msg: Fr) -> Self {
        Self { pub_key: key.public_key().to_packed(), signature: key.sign(msg).to_packed() }
    }

    /// Checks the signature over `msg` and returns the signer's pubkey hash, which the caller
    /// compares with the account's. Decoded keys come from the process-wide [`KeyCache`].
    pub fn verify(&self, msg: Fr) -> Result<PubKeyHash, TxError> {
        let (pk, pkh) =
            KeyCache::global().get_or_decode(&self.pub_key).map_err(SignatureFault::crypto("public key"))?;
        let sig = Signature::from_packed(&self.signature).map_err(SignatureFault::crypto("signature"))?;
        pk.verify(msg, &sig).map_err(SignatureFault::crypto("verification"))?;
        Ok(pkh)
    }

    /// The 96-byte encoding: `pub_key ‖ signature`.
    pub fn to_bytes(&self) -> [u8; 96] {
        let mut out = [0u8; 96];
        out[..32].copy_from_slice(&self.pub_key);
        out[32..].copy_from_slice(&self.signature);
        out
    }

    /// Splits a 96-byte encoding into key and signature (nothing is decoded or checked);
    /// [`DecodeError::Length`] for any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() != Self::BYTES {
            return Err(DecodeError::Length { what: "tx signature", expected: Self::BYTES, got: bytes.len() });
        }
        let mut pub_key = [0u8; 32];
        let mut signature = [0u8; 64];
        pub_key.copy_from_slice(&bytes[..32]);
        signature.copy_from_slice(&bytes[32..]);
        Ok(Self { pub_key, signature })
    }
}
