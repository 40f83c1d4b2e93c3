//! An oracle's attestation: its EIP-712 signature of `(network id, block number, sync hash)`
//! (docs/protocol.md §13). Attestations are self-authenticating: whoever relays one, its signer is
//! recovered from the signature, so peers exchange them over plain HTTP.

use alloy::primitives::{Address, Bytes, Signature, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use serde::{Deserialize, Serialize};
use zklink_contracts::zklink::sync_signing_hash;

/// One oracle's signature over one block's sync hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The block.
    pub block: u32,
    /// Its sync hash (the same on every chain).
    pub sync_hash: B256,
    /// The oracle that signed.
    pub signer: Address,
    /// 65 bytes, r ‖ s ‖ v.
    pub signature: Bytes,
}

/// Why an attestation does not count.
#[derive(thiserror::Error, Debug)]
pub enum AttestationError {
    /// The bytes are not a signature, or no key recovers from it.
    #[error("block {block}: not a signature: {source}")]
    Malformed {
        /// The block.
        block: u32,
        /// Why.
        #[source]
        source: alloy::primitives::SignatureError,
    },
    /// The signature is someone else's (or over another message: network, block or hash).
    #[error("block {block}: signed by {recovered}, not by {claimed}")]
    WrongSigner {
        /// The block.
        block: u32,
        /// Who it claims.
        claimed: Address,
        /// Who signed.
        recovered: Address,
    },
}

impl Attestation {
    /// `key` attests `sync_hash` for `block` of network `network_id`.
    pub fn sign(key: &PrivateKeySigner, network_id: u32, block: u32, sync_hash: B256) -> Self {
        let digest = sync_signing_hash(network_id, block, sync_hash);
        let signature = key.sign_hash_sync(&digest).expect("signing a 32-byte hash with a local key cannot fail");
        Self { block, sync_hash, signer: key.address(), signature: Bytes::copy_from_slice(&signature.as_bytes()) }
    }

    /// Whether `signer` signed this `(network_id, block, sync_hash)`.
    pub fn verify(&self, network_id: u32) -> Result<(), AttestationError> {
        let malformed = |source| AttestationError::Malformed { block: self.block, source };
        let signature = Signature::try_from(self.signature.as_ref()).map_err(malformed)?;
        let digest = sync_signing_hash(network_id, self.block, self.sync_hash);
        let recovered = signature.recover_address_from_prehash(&digest).map_err(malformed)?;
        if recovered != self.signer {
            return Err(AttestationError::WrongSigner { block: self.block, claimed: self.signer, recovered });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attestation_verifies_only_for_its_network_block_and_hash() {
        let key = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x41)).unwrap();
        let a = Attestation::sign(&key, 7, 3, B256::repeat_byte(9));
        assert!(a.verify(7).is_ok(), "{:?}", a.verify(7));
        assert!(matches!(a.verify(8), Err(AttestationError::WrongSigner { .. })), "another network");
        let other_block = Attestation { block: 4, ..a.clone() };
        assert!(matches!(other_block.verify(7), Err(AttestationError::WrongSigner { .. })), "another block");
        let other_hash = Attestation { sync_hash: B256::repeat_byte(8), ..a.clone() };
        assert!(matches!(other_hash.verify(7), Err(AttestationError::WrongSigner { .. })), "another hash");
        let garbage = Attestation { signature: Bytes::from_static(&[1, 2, 3]), ..a };
        assert!(matches!(garbage.verify(7), Err(AttestationError::Malformed { .. })));
    }
}
