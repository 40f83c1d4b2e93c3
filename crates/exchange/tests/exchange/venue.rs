//! The venue applied entry by entry: what users and the settler see, and that a replay of the
//! journal rebuilds it byte for byte.

use zklink_exchange::input::{CancelRequest, Offender, OrderHash};
use zklink_exchange::{codes, CancelError, Entry, Input, OrderStatus, PlaceError, Venue};
use zklink_matching::{MarketId, OrderId, Side};
use zklink_types::test_utils::E18;
use zklink_types::{AccountId, Nonce, Order, OrderNonce, SlotId};

use crate::{hard_cancel, key, order, windowed, Script};

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
    assert_eq!(s.venue.live_in_slot(AccountId(1), SlotId(1)).unwrap().id, OrderId(4));
    assert_eq!(s.venue.engine().book(MarketId(1)).unwrap().len(), 1);
}

#[test]
fn only_the_owner_cancels_and_a_cancelled_order_cannot_be_placed_again() {
    let mut s = Script::start();
    let o = order(1, 1, 0, true, 100, 300_000);
    let hash = OrderHash::of(&o).unwrap();
    s.place(o.clone());
    let forged = CancelRequest::sign(AccountId(2), hash, &key(2)).unwrap();
    let a = s.push(Input::Cancel(forged));
    assert!(matches!(a.cancel_error, Some(CancelError::NotOwner { .. })), "{:?}", a.cancel_error);
    let own = CancelRequest::sign(AccountId(1), hash, &key(1)).unwrap();
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

/// A placement of `o` as a limit order on market 1.
fn limit(o: Order) -> Input {
    Input::Place { market: MarketId(1), order_type: zklink_matching::OrderType::Limit, order: o }
}

#[test]
fn an_order_outside_its_window_is_refused_at_placement_and_changes_nothing() {
    let mut s = Script::start();
    let t = Script::START_MS + 10_000;
    let secs = (t / 1000) as u32;
    s.push_at(limit(order(1, 1, 0, true, 100, 300_000)), t); // a live ask in slot 1 (id 3)
    let refused = |s: &mut Script, o: Order| {
        let a = s.push_at(limit(o), t);
        assert!(a.orders.is_empty() && a.deltas.is_empty() && a.fills.is_empty(), "{a:?}");
        assert_eq!(s.venue.order(OrderId(3)).unwrap().status, OrderStatus::Open, "the slot's order stays");
        let e = a.place_error.expect("refused");
        assert_eq!(e.code(), codes::ORDER_WINDOW, "{e}");
        e
    };
    // Not valid yet: its window begins the next second.
    let e = refused(&mut s, windowed(order(1, 1, 0, true, 100, 301_000), secs + 1, Order::NO_EXPIRY));
    assert_eq!(e, PlaceError::NotYetValid { valid_from: secs + 1, now_ms: t });
    assert!(e
        .to_string()
        .contains(&format!("valid from {} (Unix seconds), later than the venue's time {t} ms", secs + 1)));
    // Expired a second ago.
    let e = refused(&mut s, windowed(order(1, 1, 0, true, 100, 302_000), 0, secs - 1));
    assert!(matches!(e, PlaceError::Expired { valid_until, now_ms, .. } if valid_until == secs - 1 && now_ms == t));
    // Valid until two seconds from now: within the margin (the venue stops matching it now).
    let e = refused(&mut s, windowed(order(1, 1, 0, true, 100, 303_000), 0, secs + 2));
    assert_eq!(e, PlaceError::Expired { valid_until: secs + 2, expiry_ms: t, now_ms: t });
    assert!(e.to_string().contains("only until 2 s before that"), "{e}");
    // One second more is enough: it rests, and its window's start may be now.
    let ok = s.push_at(limit(windowed(order(1, 2, 0, true, 100, 304_000), secs, secs + 3)), t);
    assert!(ok.place_error.is_none(), "{:?}", ok.place_error);
    assert_eq!(s.venue.next_expiry_ms(), Some(t + 1000));
}

#[test]
fn a_resting_order_expires_and_no_later_order_matches_it() {
    let mut s = Script::start();
    let t = Script::START_MS + 10_000;
    let secs = (t / 1000) as u32;
    // An ask valid until secs + 5: the venue matches it until t + 3000 (2 s margin).
    s.push_at(limit(windowed(order(1, 1, 0, true, 100, 300_000), 0, secs + 5)), t); // id 3
    let ask = OrderId(3);
    assert_eq!(s.venue.next_expiry_ms(), Some(t + 3000));
    // A millisecond before: a crossing bid trades with it.
    let before = s.push_at(limit(order(2, 1, 0, false, 40, 300_000)), t + 2999);
    assert_eq!(before.fills.len(), 1);
    assert!(before.expired.is_empty());
    // At its expiry: it leaves the book before the next bid is matched, which rests instead.
    let at = s.push_at(limit(order(3, 1, 0, false, 100, 300_000)), t + 3000);
    assert_eq!(at.expired, vec![ask]);
    assert!(at.fills.is_empty(), "an expired order is never matched: {:?}", at.fills);
    let rec = s.venue.order(ask).unwrap();
    assert_eq!((rec.status, rec.filled.0, rec.remaining.0), (OrderStatus::Cancelled, 40, 0));
    assert_eq!(
        rec.reason.as_deref(),
        Some(
            format!(
                "expired at {} (its validUntil, Unix seconds; the venue stops matching an order 2 s before)",
                secs + 5
            )
            .as_str()
        )
    );
    let bid = s.venue.order(OrderId(5)).unwrap();
    assert_eq!((bid.status, bid.remaining.0), (OrderStatus::Open, 100));
    let book = s.venue.engine().book(MarketId(1)).unwrap();
    assert_eq!((book.orders(Side::Sell).count(), book.len()), (0, 1), "only the bid rests");
    assert_eq!(s.venue.open_orders(AccountId(1)).count(), 0, "gone from the account's open orders");
    assert!(s.venue.live_in_slot(AccountId(1), SlotId(1)).is_none(), "its slot is free");
    assert_eq!(s.venue.next_expiry_ms(), None);
    // The book delta of that entry removed the ask's level.
    let (_, _, levels) = at.deltas.iter().find(|d| d.0 == MarketId(1)).unwrap();
    assert!(levels.iter().any(|l| l.0 == Side::Sell && l.2 == 0), "{levels:?}");

    // An expire entry alone does the same, and not before the expiry.
    s.push_at(limit(windowed(order(4, 1, 0, true, 100, 310_000), 0, secs + 9)), t + 4000); // id 6, due t + 7000
    assert!(s.push_at(Input::Expire, t + 6999).expired.is_empty());
    assert_eq!(s.venue.order(OrderId(6)).unwrap().status, OrderStatus::Open);
    assert_eq!(s.push_at(Input::Expire, t + 7000).expired, vec![OrderId(6)]);
    assert_eq!(s.venue.order(OrderId(6)).unwrap().status, OrderStatus::Cancelled);
    // A good-till-cancelled order never expires.
    s.push_at(limit(order(4, 2, 0, true, 100, 320_000)), t + 8000);
    assert!(s.push_at(Input::Expire, u64::MAX / 2).expired.is_empty());
}

#[test]
fn a_hard_cancel_takes_the_slots_orders_up_to_its_nonce_and_keeps_them_out() {
    let mut s = Script::start();
    s.place(order(1, 1, 0, true, 100, 300_000)); // id 3: slot 1, nonce 0
    s.place(order(1, 2, 4, true, 100, 310_000)); // id 4: slot 2, nonce 4
                                                 // Another sub-account than the venue's holds none of its orders: nothing happens.
    let other = s.push(Input::HardCancel(hard_cancel(1, 1, 1, 0)));
    assert!(other.orders.is_empty());
    assert_eq!(s.venue.hard_cancelled_upto(AccountId(1), SlotId(1)), None);
    // Up to a nonce below the open order's: it stays.
    assert!(s.push(Input::HardCancel(hard_cancel(1, 0, 2, 3))).orders.is_empty());
    assert_eq!(s.venue.order(OrderId(4)).unwrap().status, OrderStatus::Open);
    // Up to its nonce: cancelled, with the reason.
    let a = s.push(Input::HardCancel(hard_cancel(1, 0, 1, 0)));
    assert_eq!(a.orders, vec![OrderId(3)]);
    let rec = s.venue.order(OrderId(3)).unwrap();
    assert_eq!(rec.status, OrderStatus::Cancelled);
    let reason = rec.reason.clone().unwrap();
    assert!(
        reason.starts_with("hard cancel: slot 1 was cancelled up to order nonce 0 on L2 (CancelOrder tx 0x"),
        "{reason}"
    );
    assert_eq!(s.venue.engine().book(MarketId(1)).unwrap().len(), 1);
    assert_eq!(s.venue.hard_cancelled_upto(AccountId(1), SlotId(1)), Some(OrderNonce(0)));
    // No order of the slot with a cancelled nonce is placed again (other terms, same nonce); the
    // next nonce is.
    let again = s.place(order(1, 1, 0, true, 50, 300_000)).place_error.expect("refused");
    assert_eq!(
        again,
        PlaceError::SlotHardCancelled { slot: SlotId(1), cancelled_upto: OrderNonce(0), got: OrderNonce(0) }
    );
    assert_eq!(again.code(), codes::SLOT);
    assert!(again.to_string().contains("must use nonce 1 or later"), "{again}");
    assert!(s.place(order(1, 1, 1, true, 50, 300_000)).place_error.is_none());
}

#[test]
fn a_refused_fill_does_not_restore_a_counterparty_that_expired_or_was_hard_cancelled() {
    let mut s = Script::start();
    let t = Script::START_MS + 10_000;
    let secs = (t / 1000) as u32;
    // A rests and B takes all of it: both filled.
    s.push_at(limit(order(1, 1, 0, true, 100, 300_000)), t); // A, id 3
    let fill = s.push_at(limit(order(2, 1, 0, false, 100, 300_000)), t).fills[0]; // B, id 4
                                                                                  // A's owner hard-cancels A's slot before the fill settles: nothing open to cancel here.
    assert!(s.push_at(Input::HardCancel(hard_cancel(1, 0, 1, 0)), t + 100).orders.is_empty());
    // The node refuses the fill for B's fault: A would get its size back, but A can never settle.
    let r = s.push_at(Input::SettlementRefused { fill, offender: Offender::Taker, reason: "gone".into() }, t + 200);
    assert_eq!(r.voided, Some(fill));
    let a = s.venue.order(OrderId(3)).unwrap();
    assert_eq!((a.status, a.filled.0, a.remaining.0), (OrderStatus::Cancelled, 0, 0));
    assert!(a.reason.as_deref().unwrap().starts_with("hard cancel: slot 1"), "{:?}", a.reason);
    assert!(s.venue.engine().book(MarketId(1)).unwrap().is_empty(), "nothing restored");

    // The same with a counterparty that expired since its fill.
    s.push_at(limit(windowed(order(3, 1, 0, true, 100, 300_000), 0, secs + 5)), t + 1000); // C, id 7, due t + 3000
    let fill = s.push_at(limit(order(4, 1, 0, false, 100, 300_000)), t + 1000).fills[0]; // D, id 8
    let r = s.push_at(Input::SettlementRefused { fill, offender: Offender::Taker, reason: "gone".into() }, t + 3000);
    assert_eq!(r.voided, Some(fill));
    let c = s.venue.order(OrderId(7)).unwrap();
    assert_eq!((c.status, c.filled.0), (OrderStatus::Cancelled, 0));
    assert!(c.reason.as_deref().unwrap().starts_with(&format!("expired at {}", secs + 5)), "{:?}", c.reason);
    assert!(s.venue.engine().book(MarketId(1)).unwrap().is_empty(), "nothing restored");
    // Refused a moment before its expiry, it would have come back (the ordinary path).
    s.push_at(limit(windowed(order(5, 1, 0, true, 100, 300_000), 0, secs + 9)), t + 4000); // E, id 10, due t + 7000
    let fill = s.push_at(limit(order(6, 1, 0, false, 100, 300_000)), t + 4000).fills[0];
    s.push_at(Input::SettlementRefused { fill, offender: Offender::Taker, reason: "gone".into() }, t + 6999);
    assert_eq!(s.venue.order(OrderId(10)).unwrap().status, OrderStatus::Open);
    assert_eq!(s.venue.next_expiry_ms(), Some(t + 7000), "and expires in its turn");
}

#[test]
fn replaying_a_journal_with_expiries_and_hard_cancels_rebuilds_the_venue_exactly() {
    let mut s = Script::start();
    let t0 = Script::START_MS + 10_000;
    let mut t = t0;
    for i in 0..60u32 {
        t += 250 + u64::from(i % 7) * 300;
        let secs = (t / 1000) as u32;
        let sell = i % 3 == 0;
        let price = 300_000 + u128::from(i % 5) * 100;
        let o = order(10 + i % 6, (i / 6) as u16 + 1, 0, sell, 10 + u128::from(i % 4) * 10, price);
        // Every other order expires a few seconds later; some are placed too late or too early.
        let o = match i % 8 {
            0 | 2 | 4 => windowed(o, 0, secs + 3 + i % 4),
            6 => windowed(o, 0, secs + 1),                // within the margin: refused
            7 => windowed(o, secs + 2, Order::NO_EXPIRY), // not valid yet: refused
            _ => o,
        };
        s.push_at(limit(o), t);
        match i % 10 {
            3 => {
                s.push_at(Input::Expire, t + 1500);
            }
            7 => {
                let account = 10 + i % 6;
                s.push_at(Input::HardCancel(hard_cancel(account, 0, (i / 6) as u16 + 1, 0)), t + 10);
            }
            9 => {
                if let Some(f) = s.venue.fills().filter(|f| f.refused.is_none()).last().map(|f| f.seq) {
                    let offender = if i % 4 == 1 { Offender::Maker } else { Offender::Taker };
                    s.push_at(Input::SettlementRefused { fill: f, offender, reason: "gone".into() }, t + 20);
                }
            }
            _ => {}
        }
    }
    s.push_at(Input::Expire, t + 10_000);
    let reasons: Vec<String> =
        (1..=s.venue.last_index()).filter_map(|id| s.venue.order(OrderId(id))?.reason.clone()).collect();
    let count = |prefix: &str| reasons.iter().filter(|r| r.starts_with(prefix)).count();
    assert!(count("expired at") > 3 && count("hard cancel") > 0, "the script expires and hard-cancels: {reasons:?}");
    assert!(s.venue.fills().any(|f| f.refused.is_some()), "and has refused fills");
    // Replayed from the journal's bytes (as the journal file and `exchange_journal` carry them).
    let bytes: Vec<String> = s.entries.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    assert!(
        bytes.iter().any(|b| b.contains("\"type\":\"expire\""))
            && bytes.iter().any(|b| b.contains("\"type\":\"hardCancel\""))
    );
    let mut replay = Venue::new();
    for b in &bytes {
        replay.apply(&serde_json::from_str::<Entry>(b).unwrap()).unwrap();
    }
    assert_eq!(replay.engine().snapshot(), s.venue.engine().snapshot());
    assert_eq!(replay.fills().cloned().collect::<Vec<_>>(), s.venue.fills().cloned().collect::<Vec<_>>());
    for id in 1..=s.venue.last_index() {
        assert_eq!(replay.order(OrderId(id)), s.venue.order(OrderId(id)), "order {id}");
    }
    assert_eq!(replay.next_expiry_ms(), s.venue.next_expiry_ms());
    for account in 10..16 {
        for slot in 1..12 {
            let (a, sl) = (AccountId(account), SlotId(slot));
            assert_eq!(replay.hard_cancelled_upto(a, sl), s.venue.hard_cancelled_upto(a, sl));
        }
    }
}

/// The settler finds the block timestamp of a window refusal in the node's message, which is
/// the executor's `TxError::OrderNotValidAt` as the node renders it: the two are tied here.
#[test]
fn the_settler_reads_the_block_timestamp_of_a_window_refusal() {
    let e = zklink_types::TxError::OrderNotValidAt {
        account: AccountId(3),
        slot: SlotId(1),
        valid_from: 10,
        valid_until: 20,
        timestamp: 1_796_643_006,
    };
    let network = zklink_types::Network::dev(3);
    let rendered = zklink_types::describe::tx_error(&e, &network, &Default::default());
    let message = format!("rejected: {rendered}");
    assert_eq!(zklink_exchange::settle::refused_at(&message), Some(1_796_643_006), "{message}");
    assert_eq!(zklink_exchange::settle::refused_at("rejected: insufficient balance"), None);
    let order = windowed(order(3, 1, 0, true, 100, 300_000), 10, 20);
    assert!(zklink_exchange::settle::window_fault(&order, 21).is_some());
    assert!(zklink_exchange::settle::window_fault(&order, 20).is_none());
}
