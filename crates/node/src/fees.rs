//! The node's fee policy. Fees are priced in USD per chunk of pubdata (what a tx costs the
//! operator on L1 is proportional to its chunks), and paid in USD (token 1): the node has no price
//! feed for other tokens, so with a non-zero price it refuses fees in them rather than guess.
//! A price of zero (the devnet's default) accepts any fee. The chunks a tx may take are the
//! protocol's ([`zklink_types::TxKind::max_chunks`]).

use zklink_types::{L2Tx, TokenId, USD_TOKEN_ID};

/// What the node charges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeePolicy {
    /// USD (L2 units, 18 decimals) per chunk.
    pub usd_per_chunk: u128,
}

/// Why a fee was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum FeeError {
    /// Too low.
    #[error("fee {offered} is below the {required} this {kind} must pay (USD, L2 units)")]
    TooLow {
        /// The tx type.
        kind: &'static str,
        /// The least fee.
        required: u128,
        /// The fee offered.
        offered: u128,
    },
    /// Not payable in this token.
    #[error("fees are paid in USD (token 1) on this node, not in token {0}")]
    Token(u16),
}

impl FeePolicy {
    /// The least fee for a tx of `chunks` paid in `token`.
    pub fn required(&self, chunks: usize, token: TokenId) -> Result<u128, FeeError> {
        if self.usd_per_chunk == 0 {
            return Ok(0);
        }
        if token != USD_TOKEN_ID {
            return Err(FeeError::Token(token.0));
        }
        Ok(self.usd_per_chunk.saturating_mul(chunks as u128))
    }

    /// Whether `tx` pays enough.
    pub fn check(&self, tx: &L2Tx) -> Result<(), FeeError> {
        let (token, offered) = tx.fee();
        let required = self.required(tx.max_chunks(), token)?;
        if offered < required {
            return Err(FeeError::TooLow { kind: tx.kind(), required, offered });
        }
        Ok(())
    }
}
