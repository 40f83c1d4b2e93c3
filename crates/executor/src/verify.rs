//! Signature verification, separated from execution so that it can run in parallel and off
//! the sequencing path: a `VerifiedTx` can only be built by checking its signatures, and the
//! executor then only compares the signers' pubkey hashes with the accounts'.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;
use zklink_crypto::Fr;
use zklink_types::{message_of, L2Tx, Order, PubKeyHash, TxError, TxHash};

/// An L2 tx whose signatures all verified, with the key hashes that signed it. Built only by
/// [`VerifiedTx::verify`]; the executor then checks those key hashes against the accounts'.
#[derive(Clone, Debug)]
pub struct VerifiedTx {
    tx: L2Tx,
    hash: TxHash,
    /// Key hash of the main signature's signer.
    signer: PubKeyHash,
    /// For OrderMatching: the maker's and the taker's order signers.
    order_signers: Option<(PubKeyHash, PubKeyHash)>,
}

impl VerifiedTx {
    /// Stateless checks: field validity is left to the executor (it needs the preset); this
    /// checks every signature against the message it must sign.
    pub fn verify(tx: L2Tx) -> Result<Self, TxError> {
        let hash = tx.hash()?;
        let (signer, order_signers) = match &tx {
            L2Tx::OrderMatching(m) => {
                // Each order's message is computed once, and an order verified before (a resting
                // order filled again, a taker that takes several makers) is not verified again.
                let (maker_msg, maker) = OrderCache::global().verify(&m.maker)?;
                let (taker_msg, taker) = OrderCache::global().verify(&m.taker)?;
                (m.signature.verify(m.message_with(maker_msg, taker_msg)?)?, Some((maker, taker)))
            }
            _ => (tx.signature().verify(tx.message()?)?, None),
        };
        Ok(Self { tx, hash, signer, order_signers })
    }

    /// The verified tx.
    pub fn tx(&self) -> &L2Tx {
        &self.tx
    }
    /// The tx hash, `sha256(signed bytes)`.
    pub fn hash(&self) -> TxHash {
        self.hash
    }
    /// Pubkey hash of the key that made the tx's own signature (OrderMatching: the submitter's).
    pub fn signer(&self) -> PubKeyHash {
        self.signer
    }
    /// For an OrderMatching, the pubkey hashes that signed the maker and the taker order; `None` otherwise.
    pub fn order_signers(&self) -> Option<(PubKeyHash, PubKeyHash)> {
        self.order_signers
    }
    /// The tx, dropping the verification result.
    pub fn into_tx(self) -> L2Tx {
        self.tx
    }
}

/// Orders whose signatures verified, by SHA-256 of their signed bytes and signature: an order
/// is matched many times (a resting order by each taker, a taker against each maker), and its
/// signature and message do not change. Verification is deterministic, so remembering a result is
/// sound; the map is emptied when it reaches its capacity.
pub struct OrderCache {
    map: Mutex<HashMap<[u8; 32], (Fr, PubKeyHash)>>,
    capacity: usize,
}

impl OrderCache {
    /// Entries kept at most (about 100 bytes each).
    pub const CAPACITY: usize = 1 << 17;

    /// The process-wide cache.
    pub fn global() -> &'static OrderCache {
        static CACHE: OnceLock<OrderCache> = OnceLock::new();
        CACHE.get_or_init(|| OrderCache { map: Mutex::new(HashMap::new()), capacity: Self::CAPACITY })
    }

    /// The order's message and the key hash that signed it, verified now or before.
    pub fn verify(&self, order: &Order) -> Result<(Fr, PubKeyHash), TxError> {
        let bytes = order.signed_bytes()?;
        let mut key_input = Vec::with_capacity(bytes.len() + 96);
        key_input.extend_from_slice(&bytes);
        key_input.extend_from_slice(&order.signature.pub_key);
        key_input.extend_from_slice(&order.signature.signature);
        let key = zklink_crypto::sha256(&key_input);
        if let Some(hit) = self.map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(*hit);
        }
        let msg = message_of(&bytes)?;
        let signer = order.signature.verify(msg)?;
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, (msg, signer));
        Ok((msg, signer))
    }
}

/// Verifies many txs on all cores, keeping their order.
pub fn verify_batch(txs: Vec<L2Tx>) -> Vec<Result<VerifiedTx, TxError>> {
    txs.into_par_iter().map(VerifiedTx::verify).collect()
}
