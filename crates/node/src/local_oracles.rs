//! In-process oracle signing, a shortcut for tests and a single-machine devnet: the keys sign a
//! block's sync attestation once the block is proven on every chain, and the signatures go
//! through the same `syncBlocks` path as the independent oracles' (`zklink-oracle`). With no keys
//! the node leaves syncing to the oracle network.

use alloy::primitives::{Bytes, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use zklink_contracts::zklink::sync_signing_hash;

/// Oracle keys held by the node (devnet only).
#[derive(Clone, Debug)]
pub struct LocalOracles {
    network_id: u32,
    keys: Vec<PrivateKeySigner>,
}

impl LocalOracles {
    /// Signs for `network_id` with `keys` (all of them sign every attestation).
    pub fn new(network_id: u32, mut keys: Vec<PrivateKeySigner>) -> Self {
        // The contract wants signatures in ascending signer order.
        keys.sort_by_key(|k| k.address());
        Self { network_id, keys }
    }

    /// Whether there are no keys (the oracle network attests instead).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// 65-byte signatures of `(network id, block number, sync hash)`, in ascending signer order.
    pub fn attest(&self, block_number: u32, sync_hash: B256) -> Vec<Bytes> {
        let hash = sync_signing_hash(self.network_id, block_number, sync_hash);
        self.keys
            .iter()
            .filter_map(|k| k.sign_hash_sync(&hash).ok())
            .map(|sig| Bytes::copy_from_slice(&sig.as_bytes()))
            .collect()
    }
}
