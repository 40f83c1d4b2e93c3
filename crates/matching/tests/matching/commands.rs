//! Cancel, reduce and cancel-all: ownership, time priority, every market.

use zklink_matching::{
    CancelReason, Command, Engine, EventKind, MarketId, MarketSpec, NewOrder, OrderId, OrderType, Price, RejectReason,
    Side, Size,
};

use crate::{engine, kinds, place, ALICE, BOB, CAROL, M};
use OrderType::{Ioc, Limit};
use Side::{Buy, Sell};

fn cancel(e: &mut Engine, id: u64, account: zklink_matching::AccountId) -> Vec<EventKind> {
    kinds(e.execute_one(&Command::Cancel { market: M, order: OrderId(id), account }))
}

fn reduce(e: &mut Engine, id: u64, account: zklink_matching::AccountId, by: u64) -> Vec<EventKind> {
    kinds(e.execute_one(&Command::Reduce { market: M, order: OrderId(id), account, by: Size(by) }))
}

fn rejected(id: u64, account: zklink_matching::AccountId, reason: RejectReason) -> Vec<EventKind> {
    vec![EventKind::Rejected { order: Some(OrderId(id)), account, reason }]
}

#[test]
fn only_the_owner_can_cancel() {
    let mut e = engine();
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit);
    assert_eq!(cancel(&mut e, 1, BOB), rejected(1, BOB, RejectReason::NotOwner));
    assert_eq!(reduce(&mut e, 1, BOB, 1), rejected(1, BOB, RejectReason::NotOwner));
    assert_eq!(e.book(M).unwrap().remaining(OrderId(1)), Some(Size(5)));
    assert_eq!(
        cancel(&mut e, 1, ALICE),
        [EventKind::Cancelled {
            order: OrderId(1),
            account: ALICE,
            side: Sell,
            price: Price(101),
            remaining: Size(5),
            reason: CancelReason::User,
        }]
    );
    assert!(e.book(M).unwrap().is_empty());
    // Gone: a second cancel, or a cancel of an id never placed, names no order.
    assert_eq!(cancel(&mut e, 1, ALICE), rejected(1, ALICE, RejectReason::UnknownOrder));
    assert_eq!(cancel(&mut e, 77, ALICE), rejected(77, ALICE, RejectReason::UnknownOrder));
    let unknown_market = Command::Cancel { market: MarketId(5), order: OrderId(1), account: ALICE };
    assert_eq!(kinds(e.execute_one(&unknown_market)), rejected(1, ALICE, RejectReason::UnknownMarket));
}

#[test]
fn a_filled_order_cannot_be_cancelled() {
    let mut e = engine();
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit);
    place(&mut e, 2, BOB, Buy, 101, 5, Ioc);
    assert_eq!(cancel(&mut e, 1, ALICE), rejected(1, ALICE, RejectReason::UnknownOrder));
}

#[test]
fn reduce_keeps_time_priority() {
    let mut e = engine();
    place(&mut e, 1, ALICE, Sell, 101, 10, Limit);
    place(&mut e, 2, CAROL, Sell, 101, 10, Limit);
    let seq = e.book(M).unwrap().order(OrderId(1)).unwrap().seq;
    assert_eq!(
        reduce(&mut e, 1, ALICE, 7),
        [EventKind::Reduced {
            order: OrderId(1),
            account: ALICE,
            side: Sell,
            price: Price(101),
            by: Size(7),
            remaining: Size(3),
        }]
    );
    let book = e.book(M).unwrap();
    assert_eq!(book.order(OrderId(1)).unwrap().seq, seq);
    assert_eq!(book.depth(Sell, 1)[0].size, 13);
    // Still first in the queue: a buy of 4 takes Alice's 3, then 1 of Carol's (the later order).
    let ev = place(&mut e, 3, BOB, Buy, 101, 4, Ioc);
    let makers: Vec<(OrderId, Size)> = ev
        .iter()
        .filter_map(|k| match k {
            EventKind::Fill(f) => Some((f.maker, f.size)),
            _ => None,
        })
        .collect();
    assert_eq!(makers, [(OrderId(1), Size(3)), (OrderId(2), Size(1))]);
}

#[test]
fn reduce_by_everything_cancels_and_by_nothing_is_refused() {
    let mut e = engine();
    place(&mut e, 1, ALICE, Buy, 99, 5, Limit);
    assert_eq!(reduce(&mut e, 1, ALICE, 0), rejected(1, ALICE, RejectReason::ZeroSize));
    assert_eq!(reduce(&mut e, 2, ALICE, 1), rejected(2, ALICE, RejectReason::UnknownOrder));
    assert_eq!(
        reduce(&mut e, 1, ALICE, 9),
        [EventKind::Cancelled {
            order: OrderId(1),
            account: ALICE,
            side: Buy,
            price: Price(99),
            remaining: Size(5),
            reason: CancelReason::User,
        }]
    );
    assert!(e.book(M).unwrap().is_empty());
}

#[test]
fn cancel_all_in_one_market_and_in_every_market() {
    let mut e = Engine::new();
    for m in [1, 2, 3] {
        e.add_market(MarketId(m), MarketSpec::new(1, 1, Size(1))).unwrap();
    }
    let mut id = 0;
    let mut put = |e: &mut Engine, m: u32, account, side, price| {
        id += 1;
        let o = NewOrder {
            market: MarketId(m),
            id: OrderId(id),
            account,
            side,
            price: Price(price),
            size: Size(1),
            order_type: Limit,
        };
        e.execute_one(&Command::Place(o));
    };
    // Alice's orders (ids 1, 2, 4, 5, 7, 8), interleaved with Bob's (3, 6, 9), in three markets.
    for m in [3, 1, 2] {
        put(&mut e, m, ALICE, Sell, 110);
        put(&mut e, m, ALICE, Buy, 90);
        put(&mut e, m, BOB, Buy, 95);
    }
    let cancelled = |events: Vec<zklink_matching::Event>| -> Vec<(u32, u64)> {
        events
            .into_iter()
            .map(|ev| match ev.kind {
                EventKind::Cancelled { order, reason: CancelReason::User, .. } => (ev.market.0, order.0),
                other => panic!("{other:?}"),
            })
            .collect()
    };
    // One market: oldest first.
    let one = e.execute_one(&Command::CancelAll { account: ALICE, market: Some(MarketId(1)) });
    assert_eq!(cancelled(one), [(1, 4), (1, 5)]);
    // Every market: ascending market id, oldest first within each.
    let all = e.execute_one(&Command::CancelAll { account: ALICE, market: None });
    assert_eq!(cancelled(all), [(2, 7), (2, 8), (3, 1), (3, 2)]);
    for b in e.books() {
        assert_eq!(b.orders(Buy).map(|o| o.account).collect::<Vec<_>>(), [BOB]);
        assert_eq!(b.orders(Sell).count(), 0);
    }
    // Nothing left: no events. An unknown market is refused.
    assert!(e.execute_one(&Command::CancelAll { account: ALICE, market: None }).is_empty());
    assert!(e.execute_one(&Command::CancelAll { account: ALICE, market: Some(MarketId(1)) }).is_empty());
    assert_eq!(
        kinds(e.execute_one(&Command::CancelAll { account: ALICE, market: Some(MarketId(9)) })),
        [EventKind::Rejected { order: None, account: ALICE, reason: RejectReason::UnknownMarket }]
    );
}

#[test]
fn markets_are_listed_once_with_a_valid_spec() {
    let mut e = Engine::new();
    e.add_market(MarketId(1), MarketSpec::new(1, 1, Size(1))).unwrap();
    assert_eq!(
        e.add_market(MarketId(1), MarketSpec::new(1, 1, Size(1))),
        Err(zklink_matching::EngineError::DuplicateMarket(MarketId(1)))
    );
    assert_eq!(
        e.add_market(MarketId(2), MarketSpec::new(0, 1, Size(1))),
        Err(zklink_matching::EngineError::InvalidSpec(zklink_matching::GridError::InvalidSpec))
    );
}

#[test]
fn account_orders_follow_placement_and_removal() {
    let mut e = engine();
    place(&mut e, 1, ALICE, Sell, 105, 1, Limit);
    place(&mut e, 2, ALICE, Buy, 95, 1, Limit);
    place(&mut e, 3, ALICE, Sell, 103, 1, Limit);
    place(&mut e, 4, ALICE, Buy, 96, 1, Limit);
    cancel(&mut e, 2, ALICE);
    let ids = |e: &Engine| e.book(M).unwrap().account_orders(ALICE).map(|o| o.id.0).collect::<Vec<_>>();
    assert_eq!(ids(&e), [1, 3, 4]);
    cancel(&mut e, 1, ALICE);
    cancel(&mut e, 4, ALICE);
    assert_eq!(ids(&e), [3]);
    place(&mut e, 5, ALICE, Buy, 90, 1, Limit);
    assert_eq!(ids(&e), [3, 5]);
    assert_eq!(e.book(M).unwrap().account_orders(BOB).count(), 0);
}
