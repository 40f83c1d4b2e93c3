//! Identifiers. Each is a thin newtype so that an account id can never be passed where a
//! token id is expected. Range checks that depend on the network preset (tree depths) live in
//! [`crate::Preset`]; the ranges fixed by the protocol itself are checked here.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::TxError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// Index of an account leaf in the account tree.
    AccountId, u32
);
id_type!(
    /// Index of a sub-account inside an account (for account 1: the chain id).
    SubAccountId, u8
);
id_type!(
    /// L2 token id; the same asset on every chain has one id.
    TokenId, u16
);
id_type!(
    /// zklink chain id of a connected L1 (1..=31), not the EVM chain id.
    ChainId, u8
);
id_type!(
    /// Order slot inside a sub-account.
    SlotId, u16
);
id_type!(
    /// Account nonce: every L2 tx signed by the account must carry the current value.
    Nonce, u32
);
id_type!(
    /// 24-bit nonce of an order slot.
    OrderNonce, u32
);
id_type!(
    /// Serial id of a priority request in one chain's L1 queue.
    SerialId, u64
);
id_type!(
    /// Height of an L2 block; block 0 is genesis.
    BlockNumber, u32
);

/// Account 0 collects every network fee.
pub const FEE_ACCOUNT_ID: AccountId = AccountId(0);
/// Account 1 records the per-chain reserves: its sub-account index is the chain id.
pub const GLOBAL_ASSET_ACCOUNT_ID: AccountId = AccountId(1);
/// First account id handed to users.
pub const FIRST_USER_ACCOUNT_ID: AccountId = AccountId(2);

/// Largest zklink chain id the protocol allows (chain ids are 5-bit sub-account indices of account 1).
pub const MAX_CHAIN_ID: u8 = 31;
/// Order nonces are 24-bit.
pub const MAX_ORDER_NONCE: u32 = (1 << 24) - 1;

/// Virtual L2-only stablecoin every listed stablecoin can merge into.
pub const USD_TOKEN_ID: TokenId = TokenId(1);
/// Reserve ids 2..=16: per-stablecoin reserves of USD inside account 1 only.
pub const USD_RESERVE_RANGE: std::ops::RangeInclusive<u16> = 2..=16;
/// Real stablecoins 17..=31 (USDC, USDT, DAI, ...), which may be credited as USD.
pub const STABLECOIN_RANGE: std::ops::RangeInclusive<u16> = 17..=31;
/// Offset between a stablecoin id and its USD reserve id.
pub const USD_RESERVE_OFFSET: u16 = 15;
/// Everything else starts here.
pub const FIRST_OTHER_TOKEN_ID: u16 = 32;

/// What a token id denotes. The ranges are fixed by the protocol (see docs/protocol.md §2).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// 0 is never a token.
    Invalid,
    Usd,
    /// Reserve of USD backed by a given stablecoin, only in account 1.
    UsdReserve,
    Stablecoin,
    Other,
}

impl TokenId {
    pub fn kind(self) -> TokenKind {
        match self.0 {
            0 => TokenKind::Invalid,
            1 => TokenKind::Usd,
            x if USD_RESERVE_RANGE.contains(&x) => TokenKind::UsdReserve,
            x if STABLECOIN_RANGE.contains(&x) => TokenKind::Stablecoin,
            _ => TokenKind::Other,
        }
    }

    /// Tokens a user account may hold or name in a tx: USD, stablecoins and other tokens.
    pub fn check_user_token(self) -> Result<(), TxError> {
        match self.kind() {
            TokenKind::Usd | TokenKind::Stablecoin | TokenKind::Other => Ok(()),
            TokenKind::Invalid | TokenKind::UsdReserve => Err(TxError::InvalidToken {
                token: self,
                reason: "user transactions may only use USD (1), stablecoins (17..=31) or other tokens (>= 32)",
            }),
        }
    }

    /// Reserve id that backs USD paid out as this stablecoin.
    pub fn usd_reserve_of(self) -> Option<TokenId> {
        STABLECOIN_RANGE.contains(&self.0).then(|| TokenId(self.0 - USD_RESERVE_OFFSET))
    }
}

/// Pairing of the L2 token a user's balance is in and the L1 token that moves on a chain.
///
/// Either both are the same token, or the L2 side is USD and the L1 side is a stablecoin.
/// `reserve` is the token id under which account 1 tracks that chain's holdings.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TokenMapping {
    pub l1_token: TokenId,
    pub l2_token: TokenId,
    pub reserve: TokenId,
}

impl TokenMapping {
    pub fn new(l1_token: TokenId, l2_token: TokenId) -> Result<Self, TxError> {
        l1_token.check_user_token()?;
        if l1_token == USD_TOKEN_ID {
            return Err(TxError::InvalidTokenMapping {
                l1_token,
                l2_token,
                reason: "USD exists only on L2; name the stablecoin to move on L1",
            });
        }
        if l2_token == USD_TOKEN_ID {
            let reserve = l1_token.usd_reserve_of().ok_or(TxError::InvalidTokenMapping {
                l1_token,
                l2_token,
                reason: "only stablecoins (17..=31) map to USD",
            })?;
            return Ok(Self { l1_token, l2_token, reserve });
        }
        if l1_token != l2_token {
            return Err(TxError::InvalidTokenMapping {
                l1_token,
                l2_token,
                reason: "L1 and L2 token must be equal unless the L2 token is USD",
            });
        }
        Ok(Self { l1_token, l2_token, reserve: l1_token })
    }
}

impl ChainId {
    /// Protocol range only; the network config decides which chains are connected.
    pub fn check_range(self) -> Result<(), TxError> {
        if (1..=MAX_CHAIN_ID).contains(&self.0) {
            Ok(())
        } else {
            Err(TxError::InvalidChain { chain: self, reason: "chain ids are 1..=31" })
        }
    }

    pub fn as_sub_account(self) -> SubAccountId {
        SubAccountId(self.0)
    }
}

impl OrderNonce {
    pub fn check_range(self) -> Result<(), TxError> {
        if self.0 <= MAX_ORDER_NONCE {
            Ok(())
        } else {
            Err(TxError::FieldOutOfRange { field: "order nonce", value: self.0 as u128, max: MAX_ORDER_NONCE as u128 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_kinds() {
        assert_eq!(TokenId(0).kind(), TokenKind::Invalid);
        assert_eq!(TokenId(1).kind(), TokenKind::Usd);
        assert_eq!(TokenId(2).kind(), TokenKind::UsdReserve);
        assert_eq!(TokenId(16).kind(), TokenKind::UsdReserve);
        assert_eq!(TokenId(17).kind(), TokenKind::Stablecoin);
        assert_eq!(TokenId(31).kind(), TokenKind::Stablecoin);
        assert_eq!(TokenId(32).kind(), TokenKind::Other);
    }

    #[test]
    fn mappings() {
        let m = TokenMapping::new(TokenId(17), USD_TOKEN_ID).unwrap();
        assert_eq!(m.reserve, TokenId(2));
        let m = TokenMapping::new(TokenId(17), TokenId(17)).unwrap();
        assert_eq!(m.reserve, TokenId(17));
        assert!(matches!(TokenMapping::new(TokenId(32), USD_TOKEN_ID), Err(TxError::InvalidTokenMapping { .. })));
        assert!(matches!(TokenMapping::new(TokenId(32), TokenId(33)), Err(TxError::InvalidTokenMapping { .. })));
        assert!(matches!(TokenMapping::new(USD_TOKEN_ID, USD_TOKEN_ID), Err(TxError::InvalidTokenMapping { .. })));
        assert!(matches!(TokenMapping::new(TokenId(3), TokenId(3)), Err(TxError::InvalidToken { .. })));
        assert!(matches!(TokenMapping::new(TokenId(0), TokenId(0)), Err(TxError::InvalidToken { .. })));
    }

    #[test]
    fn chain_and_nonce_ranges() {
        assert!(ChainId(0).check_range().is_err());
        assert!(ChainId(1).check_range().is_ok());
        assert!(ChainId(31).check_range().is_ok());
        assert!(ChainId(32).check_range().is_err());
        assert!(OrderNonce(MAX_ORDER_NONCE).check_range().is_ok());
        assert!(OrderNonce(MAX_ORDER_NONCE + 1).check_range().is_err());
    }
}
