//! Signature verification, separated from execution so that it can run in parallel and off
//! the sequencing path: a `VerifiedTx` can only be built by checking its signatures, and the
//! executor then only compares the signers' pubkey hashes with the accounts'.

use rayon::prelude::*;
use zklink_types::{L2Tx, PubKeyHash, TxError, TxHash};

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
        let signer = tx.signature().verify(tx.message()?)?;
        let order_signers = match &tx {
            L2Tx::OrderMatching(m) => {
                Some((m.maker.signature.verify(m.maker.message()?)?, m.taker.signature.verify(m.taker.message()?)?))
            }
            _ => None,
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

/// Verifies many txs on all cores, keeping their order.
pub fn verify_batch(txs: Vec<L2Tx>) -> Vec<Result<VerifiedTx, TxError>> {
    txs.into_par_iter().map(VerifiedTx::verify).collect()
}
