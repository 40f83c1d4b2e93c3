//! Fixtures for the venue's tests and benchmarks (behind the `test-utils` feature): the WETH/USD
//! market they trade and signed orders on it.

use zklink_crypto::eddsa::PrivateKey;
use zklink_types::test_utils::{E18, USD, WETH};
use zklink_types::{AccountId, Order, OrderNonce, Price, SlotId, SubAccountId, TokenId, TxSignature};

use crate::market::MarketConfig;

/// Market 1, WETH/USD on `Network::dev`'s tokens: tick 0.01 USD, lot 0.001 WETH, minimum 0.01 WETH,
/// fee ratios 10/20 (per 10^4).
pub fn weth_usd() -> MarketConfig {
    MarketConfig {
        id: 1,
        base: "WETH".into(),
        quote: "USD".into(),
        tick: "0.01".into(),
        lot: "0.001".into(),
        min_size: "0.01".into(),
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        stp: Default::default(),
    }
}

/// An order of `account` on [`weth_usd`] in sub-account 0, signed by `key`: `milli` thousandths of
/// WETH at `cents` USD cents, in `slot` with order nonce `nonce`, at the market's fee ratios.
pub fn weth_usd_order(
    account: AccountId,
    key: &PrivateKey,
    (slot, nonce): (u16, u32),
    is_sell: bool,
    milli: u128,
    cents: u128,
) -> Order {
    Order {
        account_id: account,
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(slot),
        nonce: OrderNonce(nonce),
        base_token: TokenId(WETH),
        quote_token: TokenId(USD),
        amount: milli * E18 / 1000,
        price: Price(cents * E18 / 100),
        is_sell,
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        valid_from: 0,
        valid_until: Order::NO_EXPIRY,
        signature: TxSignature::default(),
    }
    .sign(key)
    .expect("thousandths of a token are packable")
}
