//! zklink-exchange's tests, one binary: the deterministic venue (matching signed orders, slot
//! replacement, refusals and restores, replay), the journal, the service, and its OpenRPC document.

mod docs;
mod journal;
mod service;
mod venue;
pub mod world;

use zklink_crypto::eddsa::PrivateKey;
use zklink_exchange::{Entry, Input, Market, MarketConfig, Venue};
use zklink_matching::{MarketId, OrderType};
use zklink_types::{AccountId, CancelOrder, Network, Nonce, Order, OrderNonce, SlotId, SubAccountId, TokenId};

/// ETH/USD-like market 1 on `Network::dev`: WETH for USD, tick 0.01, lot 0.001, minimum 0.01,
/// fee ratios 10/20.
pub fn market() -> Market {
    market_config().resolve(&Network::dev(1)).expect("valid market")
}

/// [`market`] as configured.
pub fn market_config() -> MarketConfig {
    zklink_exchange::test_utils::weth_usd()
}

/// A venue journal under construction: entries with consecutive indexes and times.
pub struct Script {
    /// What was journaled.
    pub entries: Vec<Entry>,
    /// The venue after them.
    pub venue: Venue,
}

impl Script {
    /// The time of the first entry, Unix ms.
    pub const START_MS: u64 = 1_700_000_000_000;

    /// Genesis (submitter 9, sub-account 0, first nonce 5) and market 1.
    pub fn start() -> Script {
        let mut s = Script { entries: Vec::new(), venue: Venue::new() };
        s.push(Input::Genesis { submitter: AccountId(9), sub_account: SubAccountId(0), first_nonce: Nonce(5) });
        s.push(Input::ListMarket(market()));
        s
    }

    /// Applies and records an input, one second after the previous one (from
    /// [`Script::START_MS`]).
    pub fn push(&mut self, input: Input) -> zklink_exchange::venue::Applied {
        let time_ms = Script::START_MS + self.entries.len() as u64 * 1000;
        self.push_at(input, time_ms)
    }

    /// Applies and records an input accepted at `time_ms`.
    pub fn push_at(&mut self, input: Input, time_ms: u64) -> zklink_exchange::venue::Applied {
        let e = Entry { index: self.venue.last_index() + 1, time_ms, input };
        let a = self.venue.apply(&e).expect("applies");
        self.entries.push(e);
        a
    }

    /// Places `order` as a limit order on market 1.
    pub fn place(&mut self, order: Order) -> zklink_exchange::venue::Applied {
        self.push(Input::Place { market: MarketId(1), order_type: OrderType::Limit, order })
    }
}

/// The L2 key of test account `id`.
pub fn key(id: u32) -> PrivateKey {
    let mut b = [7u8; 32];
    b[..4].copy_from_slice(&id.to_be_bytes());
    PrivateKey::from_bytes(b)
}

/// A signed order of account `id` in `slot` with `nonce`: `amount` WETH (in thousandths) at
/// `price` USD (in cents).
pub fn order(id: u32, slot: u16, nonce: u32, is_sell: bool, milli: u128, cents: u128) -> Order {
    zklink_exchange::test_utils::weth_usd_order(AccountId(id), &key(id), (slot, nonce), is_sell, milli, cents)
}

/// [`order`] valid from `valid_from` until `valid_until` (Unix seconds), signed.
pub fn windowed(o: Order, valid_from: u32, valid_until: u32) -> Order {
    let id = o.account_id.0;
    Order { valid_from, valid_until, ..o }.sign(&key(id)).expect("signs")
}

/// Account `id`'s hard cancel of its `slot` up to `order_nonce` in sub-account `sub`, signed.
pub fn hard_cancel(id: u32, sub: u8, slot: u16, order_nonce: u32) -> CancelOrder {
    let tx = CancelOrder {
        account_id: AccountId(id),
        sub_account_id: SubAccountId(sub),
        slot_id: SlotId(slot),
        order_nonce: OrderNonce(order_nonce),
        fee_token: TokenId(zklink_types::test_utils::USD),
        fee: 0,
        nonce: Nonce(0),
        signature: Default::default(),
    };
    tx.sign(&key(id)).unwrap()
}
