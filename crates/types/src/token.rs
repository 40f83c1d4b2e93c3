//! What a token id denotes (the ranges fixed by docs/protocol.md §2), and the pairing of the
//! L2 token a balance is in with the L1 token that moves on a chain.

use crate::error::TxError;
use crate::ids::TokenId;

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
    /// 1: USD, the L2-only virtual stablecoin that listed stablecoins may be credited as.
    Usd,
    /// Reserve of USD backed by a given stablecoin, only in account 1.
    UsdReserve,
    /// 17..=31: a real stablecoin (USDC, USDT, DAI, ...), which may move to and from USD.
    Stablecoin,
    /// 32 and above: any other token, which only ever maps to itself.
    Other,
}

impl TokenId {
    /// What this id denotes.
    pub fn kind(self) -> TokenKind {
        match self.0 {
            0 => TokenKind::Invalid,
            1 => TokenKind::Usd,
            x if USD_RESERVE_RANGE.contains(&x) => TokenKind::UsdReserve,
            x if STABLECOIN_RANGE.contains(&x) => TokenKind::Stablecoin,
            _ => TokenKind::Other,
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
    /// The token that moves on L1 (never USD, never a reserve id).
    pub l1_token: TokenId,
    /// The token the user's L2 balance is in: `l1_token` itself, or USD for a stablecoin.
    pub l2_token: TokenId,
    /// Account 1's token id for the chain's holdings: `l1_token`, or `l1_token − 15` (2..=16) for USD.
    pub reserve: TokenId,
}

impl TokenMapping {
    /// Validates a pairing (docs/protocol.md §2): `l1_token` a user token other than USD, and either
    /// `l2_token == l1_token` or `l2_token` USD with `l1_token` a stablecoin; [`TxError::InvalidToken`] or
    /// [`TxError::InvalidTokenMapping`] otherwise.
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
}
