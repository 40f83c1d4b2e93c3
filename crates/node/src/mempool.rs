//! Txs accepted ahead of their turn. A tx whose nonce is above its account's next nonce waits here
//! (and, durably, in the store's queue) until the txs before it are applied; then the keeper
//! applies it. Limits keep one account, or everyone together, from filling the node's memory.

use std::collections::{BTreeMap, HashSet};

use zklink_executor::verify::VerifiedTx;
use zklink_types::{AccountId, TxHash};

/// How many txs may wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Per account; also the furthest a nonce may be ahead of the account's next nonce.
    pub per_account: u32,
    /// For all accounts together.
    pub total: usize,
}

impl Default for MempoolLimits {
    fn default() -> Self {
        Self { per_account: 16, total: 10_000 }
    }
}

/// Why a tx may not wait.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum QueueError {
    /// The nonce is too far ahead.
    #[error("nonce {nonce} is more than {limit} ahead of account {account}'s next nonce {next}")]
    NonceTooFar {
        /// The account.
        account: u32,
        /// The tx's nonce.
        nonce: u32,
        /// The account's next nonce.
        next: u32,
        /// How far ahead a nonce may be.
        limit: u32,
    },
    /// Another tx with the same nonce waits already.
    #[error("account {account} already has a tx with nonce {nonce} waiting")]
    NonceTaken {
        /// The account.
        account: u32,
        /// The nonce.
        nonce: u32,
    },
    /// The node has as many txs waiting as it may.
    #[error("the node's queue is full ({limit} txs waiting); retry later")]
    Full {
        /// The total limit.
        limit: usize,
    },
}

/// The waiting txs, by account and nonce.
#[derive(Debug, Default)]
pub struct Mempool {
    limits: MempoolLimits,
    by_account: BTreeMap<u32, BTreeMap<u32, VerifiedTx>>,
    hashes: HashSet<TxHash>,
}

impl Mempool {
    /// An empty pool with `limits`.
    pub fn new(limits: MempoolLimits) -> Self {
        Self { limits, ..Self::default() }
    }

    /// Txs waiting.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `hash` waits here.
    pub fn contains(&self, hash: &TxHash) -> bool {
        self.hashes.contains(hash)
    }

    /// Whether a tx of `account` with `nonce` may wait, the account's next nonce being `next`.
    pub fn check(&self, account: AccountId, nonce: u32, next: u32) -> Result<(), QueueError> {
        let limit = self.limits.per_account;
        if nonce - next > limit {
            return Err(QueueError::NonceTooFar { account: account.0, nonce, next, limit });
        }
        // Nonces (next, next + limit] leave room for `limit` txs per account.
        if self.by_account.get(&account.0).is_some_and(|w| w.contains_key(&nonce)) {
            return Err(QueueError::NonceTaken { account: account.0, nonce });
        }
        if self.len() >= self.limits.total {
            return Err(QueueError::Full { limit: self.limits.total });
        }
        Ok(())
    }

    /// Adds a tx that passed [`Mempool::check`].
    pub fn insert(&mut self, tx: VerifiedTx) {
        self.hashes.insert(tx.hash());
        let (account, nonce) = (tx.tx().signer().0, tx.tx().nonce().0);
        self.by_account.entry(account).or_default().insert(nonce, tx);
    }

    /// Takes `account`'s tx with `nonce`, if one waits.
    pub fn take(&mut self, account: AccountId, nonce: u32) -> Option<VerifiedTx> {
        let waiting = self.by_account.get_mut(&account.0)?;
        let tx = waiting.remove(&nonce)?;
        if waiting.is_empty() {
            self.by_account.remove(&account.0);
        }
        self.hashes.remove(&tx.hash());
        Some(tx)
    }

    /// Accounts with txs waiting.
    pub fn accounts(&self) -> Vec<AccountId> {
        self.by_account.keys().map(|&a| AccountId(a)).collect()
    }
}
