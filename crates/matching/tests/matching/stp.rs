//! Self-trade prevention under each policy.

use zklink_matching::{
    AccountId, CancelReason, EventKind, Fill, MarketSpec, OrderId, OrderType, Price, Side, Size, StpPolicy,
};

use crate::{engine_with, place, ALICE, BOB, M};
use OrderType::{Fok, Ioc, Limit};
use Side::{Buy, Sell};

fn cancelled(id: u64, account: AccountId, side: Side, price: u64, remaining: u64, reason: CancelReason) -> EventKind {
    EventKind::Cancelled { order: OrderId(id), account, side, price: Price(price), remaining: Size(remaining), reason }
}

fn bob_fill(maker: u64, taker: u64, price: u64, size: u64, taker_left: u64) -> EventKind {
    EventKind::Fill(Fill {
        maker: OrderId(maker),
        taker: OrderId(taker),
        maker_account: BOB,
        taker_account: ALICE,
        taker_side: Buy,
        price: Price(price),
        size: Size(size),
        maker_remaining: Size(0),
        taker_remaining: Size(taker_left),
    })
}

fn accepted(id: u64, price: u64, size: u64, t: OrderType) -> EventKind {
    EventKind::Accepted {
        order: OrderId(id),
        account: ALICE,
        side: Buy,
        price: Price(price),
        size: Size(size),
        order_type: t,
    }
}

/// Asks: Alice 5 @ 101 (id 1), Bob 5 @ 101 (id 2), Alice 5 @ 102 (id 3), Bob 5 @ 103 (id 4).
fn book(stp: StpPolicy) -> zklink_matching::Engine {
    let mut e = engine_with(stp, 1);
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit);
    place(&mut e, 2, BOB, Sell, 101, 5, Limit);
    place(&mut e, 3, ALICE, Sell, 102, 5, Limit);
    place(&mut e, 4, BOB, Sell, 103, 5, Limit);
    e
}

#[test]
fn the_default_policy_cancels_the_resting_order() {
    assert_eq!(StpPolicy::default(), StpPolicy::CancelResting);
    assert_eq!(MarketSpec::new(1, 1, Size(1)).stp, StpPolicy::CancelResting);
}

#[test]
fn cancel_resting_skips_past_own_orders_and_keeps_matching() {
    let mut e = book(StpPolicy::CancelResting);
    assert_eq!(
        place(&mut e, 10, ALICE, Buy, 102, 8, Limit),
        [
            accepted(10, 102, 8, Limit),
            cancelled(1, ALICE, Sell, 101, 5, CancelReason::SelfTradeResting),
            bob_fill(2, 10, 101, 5, 3),
            cancelled(3, ALICE, Sell, 102, 5, CancelReason::SelfTradeResting),
            EventKind::Rested { order: OrderId(10), account: ALICE, side: Buy, price: Price(102), size: Size(3) },
        ]
    );
    let b = e.book(M).unwrap();
    assert_eq!((b.best_bid(), b.best_ask(), b.len()), (Some(Price(102)), Some(Price(103)), 2));
}

#[test]
fn cancel_incoming_stops_the_incoming_order_at_its_own() {
    let mut e = book(StpPolicy::CancelIncoming);
    let before = e.snapshot();
    // Alice's own ask is first in the queue: nothing trades, her buy is cancelled.
    assert_eq!(
        place(&mut e, 10, ALICE, Buy, 102, 8, Limit),
        [accepted(10, 102, 8, Limit), cancelled(10, ALICE, Buy, 102, 8, CancelReason::SelfTradeIncoming)]
    );
    assert_eq!(e.snapshot()[13..], before[13..]);
    // Fills before the meeting stand: Bob 5 @ 100, then Alice's own at 101 stops the rest.
    place(&mut e, 5, BOB, Sell, 100, 5, Limit);
    assert_eq!(
        place(&mut e, 11, ALICE, Buy, 102, 8, Ioc),
        [
            accepted(11, 102, 8, Ioc),
            bob_fill(5, 11, 100, 5, 3),
            cancelled(11, ALICE, Buy, 102, 3, CancelReason::SelfTradeIncoming),
        ]
    );
    assert_eq!(e.book(M).unwrap().remaining(OrderId(1)), Some(Size(5)));
}

#[test]
fn cancel_both_cancels_the_resting_order_and_the_rest_of_the_incoming() {
    let mut e = book(StpPolicy::CancelBoth);
    place(&mut e, 5, BOB, Sell, 100, 5, Limit);
    assert_eq!(
        place(&mut e, 10, ALICE, Buy, 103, 12, Limit),
        [
            accepted(10, 103, 12, Limit),
            bob_fill(5, 10, 100, 5, 7),
            cancelled(1, ALICE, Sell, 101, 5, CancelReason::SelfTradeResting),
            cancelled(10, ALICE, Buy, 103, 7, CancelReason::SelfTradeIncoming),
        ]
    );
    let b = e.book(M).unwrap();
    assert_eq!(b.orders(Sell).map(|o| o.id.0).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(b.best_bid(), None);
}

#[test]
fn fill_or_kill_counts_only_what_it_could_take_under_the_policy() {
    // Cancel resting: own orders are skipped, Bob's 5 @ 101 and 5 @ 103 are reachable.
    let mut e = book(StpPolicy::CancelResting);
    let before = e.snapshot();
    assert_eq!(
        place(&mut e, 10, ALICE, Buy, 103, 11, Fok),
        [accepted(10, 103, 11, Fok), cancelled(10, ALICE, Buy, 103, 11, CancelReason::FillOrKill)]
    );
    // Killed before anything: her own resting orders were not cancelled either.
    assert_eq!(e.snapshot()[13..], before[13..]);
    assert_eq!(
        place(&mut e, 11, ALICE, Buy, 103, 10, Fok),
        [
            accepted(11, 103, 10, Fok),
            cancelled(1, ALICE, Sell, 101, 5, CancelReason::SelfTradeResting),
            bob_fill(2, 11, 101, 5, 5),
            cancelled(3, ALICE, Sell, 102, 5, CancelReason::SelfTradeResting),
            bob_fill(4, 11, 103, 5, 0),
        ]
    );
    assert!(e.book(M).unwrap().is_empty());

    // Cancel incoming / both: the walk ends at her first own order, so nothing is reachable.
    for stp in [StpPolicy::CancelIncoming, StpPolicy::CancelBoth] {
        let mut e = book(stp);
        assert_eq!(
            place(&mut e, 10, ALICE, Buy, 103, 1, Fok),
            [accepted(10, 103, 1, Fok), cancelled(10, ALICE, Buy, 103, 1, CancelReason::FillOrKill)]
        );
        assert_eq!(e.book(M).unwrap().len(), 4);
        // Liquidity ahead of her own order is fine.
        place(&mut e, 5, BOB, Sell, 100, 5, Limit);
        assert_eq!(place(&mut e, 11, ALICE, Buy, 103, 5, Fok), [accepted(11, 103, 5, Fok), bob_fill(5, 11, 100, 5, 0)]);
    }
}

#[test]
fn an_account_with_orders_on_both_sides_never_trades_with_itself() {
    for stp in [StpPolicy::CancelResting, StpPolicy::CancelIncoming, StpPolicy::CancelBoth] {
        let mut e = engine_with(stp, 1);
        place(&mut e, 1, ALICE, Buy, 99, 5, Limit);
        place(&mut e, 2, ALICE, Sell, 101, 5, Limit);
        for (id, side, price) in [(3, Sell, 99), (4, Buy, 101)] {
            let ev = place(&mut e, id, ALICE, side, price, 5, Limit);
            assert!(!ev.iter().any(|k| matches!(k, EventKind::Fill(_))), "{stp:?}: {ev:?}");
            let b = e.book(M).unwrap();
            if let (Some(bid), Some(ask)) = (b.best_bid(), b.best_ask()) {
                assert!(bid < ask, "{stp:?}: crossed");
            }
        }
    }
}
