//! The integration tests of zklink-matching, in one test binary. Each file is a module; the
//! tests of one file run alone with the module as the filter:
//!
//! ```text
//! cargo test -p zklink-matching --test matching stp::
//! ```

// A test binary: its modules' items are its own (no public API to document or to keep
// unreachable).
#![allow(missing_docs, unreachable_pub)]

mod commands;
mod determinism;
mod model;
mod orders;
mod reference;
mod restore;
mod stp;

use zklink_matching::{
    AccountId, Command, Engine, Event, EventKind, MarketId, MarketSpec, NewOrder, OrderId, OrderType, Price, Side,
    Size, StpPolicy,
};

/// The market of the single-market tests.
pub const M: MarketId = MarketId(1);

/// Accounts.
pub const ALICE: AccountId = AccountId(1);
pub const BOB: AccountId = AccountId(2);
pub const CAROL: AccountId = AccountId(3);

/// An engine with market `M`: tick 1, lot 1, minimum size `min`, the given self-trade policy.
pub fn engine_with(stp: StpPolicy, min: u64) -> Engine {
    let mut e = Engine::new();
    e.add_market(M, MarketSpec::new(1, 1, Size(min)).with_stp(stp)).unwrap();
    e
}

/// An engine with market `M`, minimum size 1 and the default self-trade policy.
pub fn engine() -> Engine {
    engine_with(StpPolicy::default(), 1)
}

/// A new order in market `M`.
pub fn order(id: u64, account: AccountId, side: Side, price: u64, size: u64, order_type: OrderType) -> Command {
    Command::Place(NewOrder {
        market: M,
        id: OrderId(id),
        account,
        side,
        price: Price(price),
        size: Size(size),
        order_type,
    })
}

/// Places an order in market `M` and returns what happened, without sequence numbers.
pub fn place(
    e: &mut Engine,
    id: u64,
    account: AccountId,
    side: Side,
    price: u64,
    size: u64,
    order_type: OrderType,
) -> Vec<EventKind> {
    kinds(e.execute_one(&order(id, account, side, price, size, order_type)))
}

/// The kinds of events, in order.
pub fn kinds(events: Vec<Event>) -> Vec<EventKind> {
    events.into_iter().map(|e| e.kind).collect()
}
