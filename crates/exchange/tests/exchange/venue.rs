//! The venue applied entry by entry: what users and the settler see, and that a replay of the
//! journal rebuilds it byte for byte.

use zklink_exchange::input::{CancelRequest, Offender, OrderHash};
use zklink_exchange::{CancelError, Input, OrderStatus, PlaceError, Venue};
use zklink_matching::{MarketId, OrderId, Side};
use zklink_types::test_utils::E18;
use zklink_types::Nonce;

use crate::{key, order, Script};

#[test]
fn a_crossing_order_fills_at_the_makers_signed_price_with_settlement_nonces_in_sequence() {
    let mut s = Script::start();
    s.place(order(1, 1, 0, true, 100, 300_000)); // sell 0.1 at 3000
    s.place(order(2, 1, 0, true, 100, 300_100)); // sell 0.1 at 3001
    let a = s.place(order(3, 1, 0, false, 150, 300_200)); // buy 0.15 up to 3002
    assert_eq!(a.fills.len(), 2, "two makers");
    let (f1, f2) = (s.venue.fill(a.fills[0]).unwrap().clone(), s.venue.fill(a.fills[1]).unwrap().clone());
    assert_eq!((f1.base, f1.quote), (E18 / 10, 300 * E18), "0.1 WETH at 3000");
    assert_eq!((f2.base, f2.quote), (E18 / 20, 15005 * E18 / 100), "0.05 WETH at 3001");
    assert_eq!(s.venue.settlement_nonce(f1.seq), Some(Nonce(5)));
    assert_eq!(s.venue.settlement_nonce(f2.seq), Some(Nonce(6)));
    let taker = s.venue.order(OrderId(5)).unwrap();
    assert_eq!(taker.status, OrderStatus::Filled);
    let maker2 = s.venue.order(OrderId(4)).unwrap();
    assert_eq!((maker2.status, maker2.remaining.0), (OrderStatus::Open, 50));
    assert_eq!(s.venue.market(MarketId(1)).unwrap().trades.len(), 2);
}

#[test]
fn off_grid_below_minimum_and_replayed_orders_are_refused_with_what_was_expected() {
    let mut s = Script::start();
    let off_tick = order(1, 1, 0, true, 100, 1); // 0.01 is the tick: fine; use 0.001 below
    assert!(s.place(off_tick).place_error.is_none());
    let mut o = order(1, 2, 0, true, 100, 300_000);
    o.price.0 += E18 / 1000;
    let o = o.sign(&key(1)).unwrap();
    assert!(matches!(s.place(o).place_error, Some(PlaceError::OffTick { .. })));
    let small = order(1, 3, 0, true, 5, 300_000);
    assert!(matches!(s.place(small).place_error, Some(PlaceError::BelowMinimum { .. })));
    let once = order(2, 1, 0, false, 10, 1);
    assert!(s.place(once.clone()).place_error.is_none());
    let again = s.place(once).place_error;
    assert!(matches!(again, Some(PlaceError::Duplicate { status: "filled", .. })), "{again:?}");
}

#[test]
fn a_new_order_in_a_live_slot_replaces_the_old_one() {
    let mut s = Script::start();
    s.place(order(1, 1, 0, false, 100, 290_000));
    let a = s.place(order(1, 1, 0, false, 100, 295_000));
    assert!(a.place_error.is_none());
    let old = s.venue.order(OrderId(3)).unwrap();
    assert_eq!(old.status, OrderStatus::Cancelled);
    assert!(old.reason.as_deref().unwrap().starts_with("replaced by order"), "{:?}", old.reason);
    assert_eq!(s.venue.live_in_slot(zklink_types::AccountId(1), zklink_types::SlotId(1)).unwrap().id, OrderId(4));
    assert_eq!(s.venue.engine().book(MarketId(1)).unwrap().len(), 1);
}

#[test]
fn only_the_owner_cancels_and_a_cancelled_order_cannot_be_placed_again() {
    let mut s = Script::start();
    let o = order(1, 1, 0, true, 100, 300_000);
    let hash = OrderHash::of(&o).unwrap();
    s.place(o.clone());
    let forged = CancelRequest::sign(zklink_types::AccountId(2), hash, &key(2)).unwrap();
    let a = s.push(Input::Cancel(forged));
    assert!(matches!(a.cancel_error, Some(CancelError::NotOwner { .. })), "{:?}", a.cancel_error);
    let own = CancelRequest::sign(zklink_types::AccountId(1), hash, &key(1)).unwrap();
    assert_eq!(own.signer().unwrap(), key(1).public_key().pubkey_hash());
    assert!(s.push(Input::Cancel(own)).cancel_error.is_none());
    assert!(matches!(s.place(o).place_error, Some(PlaceError::Duplicate { status: "cancelled", .. })));
    assert!(s.venue.engine().book(MarketId(1)).unwrap().is_empty());
}

#[test]
fn a_refused_fill_cancels_the_offender_and_gives_the_counterparty_its_size_back_at_its_priority() {
    let mut s = Script::start();
    s.place(order(1, 1, 0, true, 100, 300_000)); // maker A: sell 0.1 at 3000 (id 3)
    s.place(order(2, 1, 0, true, 100, 300_000)); // maker B behind it (id 4)
    let a = s.place(order(3, 1, 0, false, 100, 300_000)); // taker buys 0.1: fills A
    let fill = a.fills[0];
    assert_eq!(s.venue.order(OrderId(3)).unwrap().status, OrderStatus::Filled);
    // The node refuses the fill: the taker spent its USD meanwhile.
    let r = s.push(Input::SettlementRefused { fill, offender: Offender::Taker, reason: "balance".into() });
    assert_eq!(r.voided, Some(fill));
    let maker = s.venue.order(OrderId(3)).unwrap();
    assert_eq!((maker.status, maker.remaining.0, maker.filled.0), (OrderStatus::Open, 100, 0));
    let book = s.venue.engine().book(MarketId(1)).unwrap();
    let asks: Vec<_> = book.orders(Side::Sell).map(|o| o.id).collect();
    assert_eq!(asks, vec![OrderId(3), OrderId(4)], "A is first again, ahead of B");
    let taker = s.venue.order(OrderId(5)).unwrap();
    assert_eq!(taker.status, OrderStatus::Cancelled);
    assert_eq!(s.venue.settlement_nonce(fill), None, "a refused fill takes no nonce");
    // The next fill takes the nonce the refused one would have had.
    let b = s.place(order(4, 1, 0, false, 10, 300_000));
    assert_eq!(s.venue.settlement_nonce(b.fills[0]), Some(Nonce(5)));
}

#[test]
fn replaying_the_journal_rebuilds_the_venue_byte_for_byte() {
    let mut s = Script::start();
    for i in 0..40u32 {
        let sell = i % 3 == 0;
        let price = 300_000 + u128::from(i % 7) * 100;
        s.place(order(10 + i % 5, (i / 5) as u16 + 1, 0, sell, 10 + u128::from(i % 4) * 10, price));
    }
    let fill = s.venue.fills().next().map(|f| f.seq).expect("some fills");
    s.push(Input::SettlementRefused { fill, offender: Offender::Maker, reason: "gone".into() });
    let mut replay = Venue::new();
    for e in &s.entries {
        replay.apply(e).unwrap();
    }
    assert_eq!(replay.engine().snapshot(), s.venue.engine().snapshot());
    let fills = |v: &Venue| v.fills().cloned().collect::<Vec<_>>();
    assert_eq!(fills(&replay), fills(&s.venue));
    // A journal with a gap does not apply.
    let mut gap = Venue::new();
    gap.apply(&s.entries[0]).unwrap();
    assert!(gap.apply(&s.entries[2]).is_err());
}

#[test]
fn a_refused_order_leaves_the_order_in_its_slot_alone() {
    let mut s = Script::start();
    s.place(order(2, 1, 0, true, 100, 300_000)); // someone's ask at 3000
    s.place(order(1, 1, 0, false, 100, 290_000)); // account 1's bid at 2900 in slot 1 (id 4)
                                                  // A post-only bid at 3000 in the same slot would cross: refused, and the old bid stays.
    let cross = s.push(Input::Place {
        market: MarketId(1),
        order_type: zklink_matching::OrderType::PostOnly,
        order: order(1, 1, 0, false, 100, 300_000),
    });
    assert!(matches!(cross.place_error, Some(PlaceError::PostOnlyWouldCross { .. })), "{:?}", cross.place_error);
    assert_eq!(s.venue.order(OrderId(4)).unwrap().status, OrderStatus::Open);
    // So does a fill-or-kill that cannot fill completely, and nothing is recorded for either.
    let fok = s.push(Input::Place {
        market: MarketId(1),
        order_type: zklink_matching::OrderType::Fok,
        order: order(1, 1, 0, false, 500, 300_000),
    });
    assert_eq!(fok.place_error, Some(PlaceError::FillOrKill));
    assert!(fok.orders.is_empty() && fok.deltas.is_empty());
    assert_eq!(s.venue.order(OrderId(4)).unwrap().status, OrderStatus::Open);
}

#[test]
fn each_input_that_changes_a_book_carries_the_next_change_number_and_the_levels_then() {
    let mut s = Script::start();
    let mut seen = 0;
    for (i, o) in
        [order(1, 1, 0, true, 100, 300_000), order(2, 1, 0, true, 50, 300_000), order(3, 1, 0, false, 120, 300_000)]
            .into_iter()
            .enumerate()
    {
        let a = s.place(o);
        let (market, seq, levels) = a.deltas.first().cloned().expect("a book change");
        assert_eq!((market, seq), (MarketId(1), seen + 1), "input {i}");
        seen = seq;
        let book = s.venue.engine().book(MarketId(1)).unwrap();
        for (side, price, lots, orders) in levels {
            let now = book.level(side, price);
            assert_eq!((lots, orders), now.map_or((0, 0), |l| (l.size, l.orders)));
        }
    }
    // After the taker: 0.03 of the second ask is left at 3000.
    let book = s.venue.engine().book(MarketId(1)).unwrap();
    assert_eq!(book.level(Side::Sell, zklink_matching::Price(300_000)).unwrap().size, 30);
}
