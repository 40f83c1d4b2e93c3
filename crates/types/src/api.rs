//! What the JSON-RPC API returns (docs in `zklink-api`): shared by the server and the SDK so both
//! sides agree on every field.

use serde::{Deserialize, Serialize};

use crate::{Address, Op, TxHash};

/// An account.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Account id.
    pub id: u32,
    /// L1 owner.
    pub address: Address,
    /// Next nonce.
    pub nonce: u32,
    /// L2 key hash, `0x`-hex (all zero: no key set yet).
    pub pubkey_hash: String,
    /// Non-zero balances.
    pub balances: Vec<BalanceView>,
}

impl AccountView {
    /// The balance of `token` in sub-account `sub` (L2 units).
    pub fn balance(&self, sub: u8, token: u16) -> u128 {
        self.balances
            .iter()
            .find(|b| b.sub_account == sub && b.token == token)
            .and_then(|b| b.amount.parse().ok())
            .unwrap_or(0)
    }

    /// Whether an L2 key is set.
    pub fn has_key(&self) -> bool {
        self.pubkey_hash.trim_start_matches("0x").chars().any(|c| c != '0')
    }
}

/// One balance.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    /// Sub-account.
    pub sub_account: u8,
    /// Token id.
    pub token: u16,
    /// Amount in L2 units (18 decimals), as a decimal string.
    pub amount: String,
}

/// A sealed block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BlockView {
    /// Number.
    pub number: u32,
    /// Seal time (Unix seconds).
    pub timestamp: u64,
    /// State root after it, `0x`-hex.
    pub new_root: String,
    /// Its size in chunks.
    pub chunks: usize,
    /// Its ops.
    pub ops: Vec<Op>,
    /// Hashes of its L2 txs (null for priority requests).
    pub tx_hashes: Vec<Option<TxHash>>,
}

/// The sealed block count and the open block's size.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BlockNumberView {
    /// Blocks sealed.
    pub sealed: u32,
    /// Chunks used in the open block.
    pub pending_chunks: usize,
}
