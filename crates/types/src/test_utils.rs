//! Fixtures shared by the tests and benchmarks of every crate: the token ids of
//! [`Network::dev`](crate::Network::dev) (the network of the executor's test kit, the anvil test
//! chains and `zklink devnet`) and the amount units the tests write amounts in.
//!
//! Behind the `test-utils` feature: a crate's tests enable it with
//! `zklink-types = { workspace = true, features = ["test-utils"] }` in `[dev-dependencies]`.
//!
//! The ids are raw `u16`s, as the test kit (`TestNet::deposit_tx`, `transfer_tx`, …) and the test
//! chains (`TestChain::token`, `fund`) take them; [`typed`] has the same ids as
//! [`TokenId`](crate::TokenId)s, for the APIs that take those (the SDK's wallet, exit requests).

use crate::USD_TOKEN_ID;

/// USD (1): the L2-only stablecoin every listed stablecoin merges into ([`USD_TOKEN_ID`]).
pub const USD: u16 = USD_TOKEN_ID.0;
/// USDC (17): a stablecoin with 6 decimals on every chain of `Network::dev`.
pub const USDC: u16 = 17;
/// USDT (18): a stablecoin with 18 decimals on every chain of `Network::dev`.
pub const USDT: u16 = 18;
/// WETH (32): an ERC-20 that is not a stablecoin, 18 decimals on every chain of `Network::dev`.
pub const WETH: u16 = 32;

/// 10^18: one whole token in L2 units (every L2 amount has 18 decimals, docs/protocol.md §3),
/// and one whole token of an 18-decimal L1 token in its L1 units.
pub const E18: u128 = 1_000_000_000_000_000_000;
/// 10^6: one whole USDC in its L1 units (6 decimals).
pub const E6: u128 = 1_000_000;
/// 10^12: the L2 amount of one L1 unit of USDC (10^(18 − 6)); what a chain pays in USDC is an
/// L2 amount divided by this.
pub const USDC_UNIT: u128 = 1_000_000_000_000;

/// The same token ids as [`TokenId`](crate::TokenId)s.
pub mod typed {
    use crate::{TokenId, USD_TOKEN_ID};

    /// USD (1), [`USD_TOKEN_ID`].
    pub const USD: TokenId = USD_TOKEN_ID;
    /// USDC (17), [`super::USDC`].
    pub const USDC: TokenId = TokenId(super::USDC);
    /// USDT (18), [`super::USDT`].
    pub const USDT: TokenId = TokenId(super::USDT);
    /// WETH (32), [`super::WETH`].
    pub const WETH: TokenId = TokenId(super::WETH);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Network, TokenId};

    #[test]
    fn the_test_tokens_are_those_of_the_dev_network() {
        let dev = Network::dev(3);
        for (id, symbol, decimals) in [(USDC, "USDC", 6), (USDT, "USDT", 18), (WETH, "WETH", 18)] {
            let token = dev.tokens.iter().find(|t| t.id == TokenId(id)).expect("listed on Network::dev");
            assert_eq!(token.symbol, symbol);
            assert!(token.chains.iter().all(|c| c.decimals == decimals), "{symbol}");
        }
        assert_eq!(USDC_UNIT, E18 / E6);
    }
}
