//! Range checks fixed by the protocol itself (not by the network preset): chain ids, order
//! nonces, and the token ids a user may name.

use crate::error::TxError;
use crate::ids::{ChainId, OrderNonce, TokenId, MAX_CHAIN_ID, MAX_ORDER_NONCE};
use crate::token::TokenKind;

impl TokenId {
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
}

impl OrderNonce {
    /// Order nonces are 24-bit.
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
    fn chain_and_nonce_ranges() {
        assert!(ChainId(0).check_range().is_err());
        assert!(ChainId(1).check_range().is_ok());
        assert!(ChainId(31).check_range().is_ok());
        assert!(ChainId(32).check_range().is_err());
        assert!(OrderNonce(MAX_ORDER_NONCE).check_range().is_ok());
        assert!(OrderNonce(MAX_ORDER_NONCE + 1).check_range().is_err());
    }
}
