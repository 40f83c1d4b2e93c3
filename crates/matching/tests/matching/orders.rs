//! Each order type, each rejection, fills across many makers.

use zklink_matching::{
    CancelReason, Command, DepthLevel, Engine, EventKind, Fill, MarketId, MarketSpec, NewOrder, OrderId, OrderType,
    Price, RejectReason, Side, Size,
};

use crate::{engine, engine_with, kinds, order, place, ALICE, BOB, CAROL, M};
use OrderType::{Fok, Ioc, Limit, Market, PostOnly};
use Side::{Buy, Sell};

fn accepted(
    id: u64,
    account: zklink_matching::AccountId,
    side: Side,
    price: u64,
    size: u64,
    t: OrderType,
) -> EventKind {
    EventKind::Accepted { order: OrderId(id), account, side, price: Price(price), size: Size(size), order_type: t }
}

fn rejected(id: u64, account: zklink_matching::AccountId, reason: RejectReason) -> EventKind {
    EventKind::Rejected { order: Some(OrderId(id)), account, reason }
}

fn cancelled(
    id: u64,
    account: zklink_matching::AccountId,
    side: Side,
    price: u64,
    remaining: u64,
    reason: CancelReason,
) -> EventKind {
    EventKind::Cancelled { order: OrderId(id), account, side, price: Price(price), remaining: Size(remaining), reason }
}

#[allow(clippy::too_many_arguments)]
fn fill(maker: u64, taker: u64, taker_side: Side, price: u64, size: u64, maker_left: u64, taker_left: u64) -> Fill {
    Fill {
        maker: OrderId(maker),
        taker: OrderId(taker),
        maker_account: if taker_side == Buy { ALICE } else { BOB },
        taker_account: if taker_side == Buy { BOB } else { ALICE },
        taker_side,
        price: Price(price),
        size: Size(size),
        maker_remaining: Size(maker_left),
        taker_remaining: Size(taker_left),
    }
}

/// Alice's asks: 5 @ 101, 5 @ 102, 5 @ 103.
fn asks() -> Engine {
    let mut e = engine();
    for (id, price) in [(1, 101), (2, 102), (3, 103)] {
        place(&mut e, id, ALICE, Sell, price, 5, Limit);
    }
    e
}

#[test]
fn limit_order_rests_then_fills_at_the_makers_price() {
    let mut e = engine();
    let ev = e.execute_one(&order(1, ALICE, Sell, 100, 10, Limit));
    assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        kinds(ev),
        [
            accepted(1, ALICE, Sell, 100, 10, Limit),
            EventKind::Rested { order: OrderId(1), account: ALICE, side: Sell, price: Price(100), size: Size(10) },
        ]
    );
    // A buy of 12 at 105 takes the 10 resting at 100 (the maker's price) and rests 2 at 105.
    assert_eq!(
        place(&mut e, 2, BOB, Buy, 105, 12, Limit),
        [
            accepted(2, BOB, Buy, 105, 12, Limit),
            EventKind::Fill(fill(1, 2, Buy, 100, 10, 0, 2)),
            EventKind::Rested { order: OrderId(2), account: BOB, side: Buy, price: Price(105), size: Size(2) },
        ]
    );
    let book = e.book(M).unwrap();
    assert_eq!((book.best_bid(), book.best_ask()), (Some(Price(105)), None));
    assert_eq!(book.remaining(OrderId(2)), Some(Size(2)));
    assert_eq!(book.remaining(OrderId(1)), None);
    assert_eq!(e.next_seq(), 6);
}

#[test]
fn a_limit_order_within_the_spread_does_not_trade() {
    let mut e = asks();
    assert_eq!(
        place(&mut e, 10, BOB, Buy, 100, 4, Limit),
        [
            accepted(10, BOB, Buy, 100, 4, Limit),
            EventKind::Rested { order: OrderId(10), account: BOB, side: Buy, price: Price(100), size: Size(4) },
        ]
    );
    assert_eq!(e.book(M).unwrap().len(), 4);
}

#[test]
fn partial_fills_across_many_makers_in_price_then_time_order() {
    let mut e = engine();
    // 20 makers: 4 at each of 5 prices, placed interleaved so that time order differs from id order.
    let mut id = 0;
    for round in 0..4 {
        for price in (100..105).rev() {
            id += 1;
            place(&mut e, id, ALICE, Sell, price, 3 + round, Limit);
        }
    }
    // Take everything at 100..=102 and part of the first order at 103.
    let at = |price: u64| (0..4u64).map(move |round| (round * 5 + (105 - price), 3 + round));
    let taken: u64 = (100..=102).flat_map(at).map(|(_, s)| s).sum();
    let ev = place(&mut e, 100, BOB, Buy, 103, taken + 2, Ioc);
    let fills: Vec<Fill> = ev
        .iter()
        .filter_map(|k| match k {
            EventKind::Fill(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(fills.len(), 13);
    let mut left = taken + 2;
    let mut expected = Vec::new();
    for price in 100..=102 {
        for (maker, size) in at(price) {
            left -= size;
            expected.push(fill(maker, 100, Buy, price, size, 0, left));
        }
    }
    expected.push(fill(2, 100, Buy, 103, 2, 1, 0));
    assert_eq!(fills, expected);
    // Fully filled: no cancellation follows the last fill.
    assert!(matches!(ev.last(), Some(EventKind::Fill(f)) if f.taker_remaining == Size(0)));
    let book = e.book(M).unwrap();
    assert_eq!(book.best_ask(), Some(Price(103)));
    assert_eq!(book.remaining(OrderId(2)), Some(Size(1)));
    assert_eq!(
        book.depth(Sell, 2),
        [
            DepthLevel { price: Price(103), size: 1 + 4 + 5 + 6, orders: 4 },
            DepthLevel { price: Price(104), size: 3 + 4 + 5 + 6, orders: 4 },
        ]
    );
}

#[test]
fn ioc_fills_what_it_can_and_cancels_the_rest() {
    let mut e = asks();
    assert_eq!(
        place(&mut e, 10, BOB, Buy, 102, 12, Ioc),
        [
            accepted(10, BOB, Buy, 102, 12, Ioc),
            EventKind::Fill(fill(1, 10, Buy, 101, 5, 0, 7)),
            EventKind::Fill(fill(2, 10, Buy, 102, 5, 0, 2)),
            cancelled(10, BOB, Buy, 102, 2, CancelReason::ImmediateOrCancel),
        ]
    );
    // Nothing crosses: an IOC is cancelled whole and never rests.
    assert_eq!(
        place(&mut e, 11, BOB, Buy, 102, 3, Ioc),
        [accepted(11, BOB, Buy, 102, 3, Ioc), cancelled(11, BOB, Buy, 102, 3, CancelReason::ImmediateOrCancel)]
    );
    assert_eq!(e.book(M).unwrap().best_bid(), None);
}

#[test]
fn fok_fills_exactly_the_available_size_and_not_one_lot_more() {
    // 10 lots within 102: a FOK for 11 is killed with nothing touched, a FOK for 10 fills.
    let mut e = asks();
    let before = e.snapshot();
    assert_eq!(
        place(&mut e, 10, BOB, Buy, 102, 11, Fok),
        [accepted(10, BOB, Buy, 102, 11, Fok), cancelled(10, BOB, Buy, 102, 11, CancelReason::FillOrKill)]
    );
    // Only the sequence number moved.
    assert_eq!(e.snapshot()[13..], before[13..]);
    assert_eq!(
        place(&mut e, 11, BOB, Buy, 102, 10, Fok),
        [
            accepted(11, BOB, Buy, 102, 10, Fok),
            EventKind::Fill(fill(1, 11, Buy, 101, 5, 0, 5)),
            EventKind::Fill(fill(2, 11, Buy, 102, 5, 0, 0)),
        ]
    );
    assert_eq!(e.book(M).unwrap().best_ask(), Some(Price(103)));
    // A sell FOK against bids, with the limit cutting off liquidity.
    let mut e = engine();
    place(&mut e, 1, BOB, Buy, 99, 4, Limit);
    place(&mut e, 2, BOB, Buy, 98, 4, Limit);
    assert!(matches!(
        place(&mut e, 3, ALICE, Sell, 99, 5, Fok)[1],
        EventKind::Cancelled { reason: CancelReason::FillOrKill, .. }
    ));
    assert_eq!(place(&mut e, 4, ALICE, Sell, 98, 8, Fok).len(), 3);
    assert!(e.book(M).unwrap().is_empty());
}

#[test]
fn post_only_rests_or_is_refused_with_the_best_price() {
    let mut e = asks();
    assert_eq!(
        place(&mut e, 10, BOB, Buy, 101, 1, PostOnly),
        [rejected(10, BOB, RejectReason::PostOnlyWouldCross { best: Price(101) })]
    );
    assert_eq!(
        place(&mut e, 11, BOB, Buy, 250, 1, PostOnly),
        [rejected(11, BOB, RejectReason::PostOnlyWouldCross { best: Price(101) })]
    );
    assert_eq!(
        place(&mut e, 12, BOB, Buy, 100, 1, PostOnly),
        [
            accepted(12, BOB, Buy, 100, 1, PostOnly),
            EventKind::Rested { order: OrderId(12), account: BOB, side: Buy, price: Price(100), size: Size(1) },
        ]
    );
    // A sell post-only at the best bid crosses too, whoever owns that bid (here the seller).
    assert_eq!(
        place(&mut e, 13, BOB, Sell, 100, 1, PostOnly),
        [rejected(13, BOB, RejectReason::PostOnlyWouldCross { best: Price(100) })]
    );
    // A refusal changes nothing and takes one sequence number.
    let book = e.book(M).unwrap();
    assert_eq!((book.len(), book.best_bid(), book.best_ask()), (4, Some(Price(100)), Some(Price(101))));
}

#[test]
fn market_order_stops_at_its_protective_price() {
    let mut e = asks();
    assert_eq!(
        place(&mut e, 10, BOB, Buy, 102, 100, Market),
        [
            accepted(10, BOB, Buy, 102, 100, Market),
            EventKind::Fill(fill(1, 10, Buy, 101, 5, 0, 95)),
            EventKind::Fill(fill(2, 10, Buy, 102, 5, 0, 90)),
            cancelled(10, BOB, Buy, 102, 90, CancelReason::ImmediateOrCancel),
        ]
    );
    // The 103 ask is beyond the signed worst price: untouched.
    assert_eq!(e.book(M).unwrap().remaining(OrderId(3)), Some(Size(5)));
    // A market order into an empty side is cancelled whole.
    assert_eq!(
        place(&mut e, 11, ALICE, Sell, 1, 3, Market),
        [accepted(11, ALICE, Sell, 1, 3, Market), cancelled(11, ALICE, Sell, 1, 3, CancelReason::ImmediateOrCancel)]
    );
}

#[test]
fn market_order_protective_price_from_raw_units() {
    // A signed worst price between two ticks is rounded in the signer's favour, and the order
    // does not fill at the tick beyond it.
    let spec = MarketSpec::new(10, 1, Size(1));
    let mut e = Engine::new();
    e.add_market(M, spec).unwrap();
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit); // raw 1010
    place(&mut e, 2, ALICE, Sell, 102, 5, Limit); // raw 1020
    let worst = spec.protective_price_to_ticks(1019, Buy).unwrap();
    assert_eq!(worst, Price(101));
    let ev = place(&mut e, 3, BOB, Buy, worst.0, 8, Market);
    assert_eq!(ev[1], EventKind::Fill(fill(1, 3, Buy, 101, 5, 0, 3)));
    assert_eq!(ev[2], cancelled(3, BOB, Buy, 101, 3, CancelReason::ImmediateOrCancel));
}

#[test]
fn each_rejection_of_a_new_order() {
    let mut e = engine_with(Default::default(), 5);
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit);
    let cases = [
        (order(2, BOB, Buy, 100, 0, Limit), RejectReason::ZeroSize),
        (order(2, BOB, Buy, 100, 4, Ioc), RejectReason::BelowMinSize { min: Size(5) }),
        (order(2, BOB, Buy, 0, 5, Market), RejectReason::ZeroPrice),
        (order(1, BOB, Buy, 100, 5, Limit), RejectReason::DuplicateOrderId),
        (order(1, BOB, Buy, 100, 5, Ioc), RejectReason::DuplicateOrderId),
        (order(2, BOB, Buy, 101, 5, PostOnly), RejectReason::PostOnlyWouldCross { best: Price(101) }),
    ];
    for (cmd, reason) in cases {
        let Command::Place(o) = cmd else { unreachable!() };
        assert_eq!(kinds(e.execute_one(&cmd)), [rejected(o.id.0, BOB, reason)], "{cmd:?}");
    }
    let unknown = Command::Place(NewOrder {
        market: MarketId(7),
        id: OrderId(9),
        account: CAROL,
        side: Buy,
        price: Price(1),
        size: Size(5),
        order_type: Limit,
    });
    let ev = e.execute_one(&unknown);
    assert_eq!(ev[0].market, MarketId(7));
    assert_eq!(kinds(ev), [rejected(9, CAROL, RejectReason::UnknownMarket)]);
    // Nothing changed but the sequence: 2 events for the first order, then one per refusal.
    assert_eq!(e.next_seq(), 1 + 2 + 7);
    assert_eq!(e.book(M).unwrap().len(), 1);
    // An id is free again once its order has left the book.
    place(&mut e, 3, BOB, Buy, 101, 5, Ioc);
    assert!(matches!(place(&mut e, 1, BOB, Buy, 100, 5, Limit)[0], EventKind::Accepted { .. }));
}

#[test]
fn remainders_below_the_minimum_rest_and_fill() {
    let mut e = engine_with(Default::default(), 5);
    place(&mut e, 1, ALICE, Sell, 101, 5, Limit);
    assert_eq!(
        place(&mut e, 2, BOB, Buy, 101, 7, Limit).last().copied(),
        Some(EventKind::Rested { order: OrderId(2), account: BOB, side: Buy, price: Price(101), size: Size(2) })
    );
    assert_eq!(e.book(M).unwrap().remaining(OrderId(2)), Some(Size(2)));
}
