//! Random command sequences through the engine and the naive reference engine: identical
//! events and identical books after every command.

use proptest::option;
use proptest::prelude::*;
use zklink_matching::{
    AccountId, Command, Engine, MarketId, MarketSpec, NewOrder, OrderId, OrderType, Price, Side, Size, StpPolicy,
};

use crate::reference::RefEngine;

/// Three markets, one per self-trade policy; market 2 has a minimum size of 2 lots.
pub fn markets() -> Vec<(MarketId, MarketSpec)> {
    vec![
        (MarketId(1), MarketSpec::new(1, 1, Size(1)).with_stp(StpPolicy::CancelResting)),
        (MarketId(2), MarketSpec::new(1, 1, Size(2)).with_stp(StpPolicy::CancelIncoming)),
        (MarketId(3), MarketSpec::new(1, 1, Size(1)).with_stp(StpPolicy::CancelBoth)),
    ]
}

/// The shape of a random sequence: how many accounts, ids and price levels it draws from.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub accounts: u32,
    pub ids: u64,
    pub low: u64,
    pub high: u64,
}

/// A few price levels and ids: lots of crossing, self-trades, duplicate and unknown ids.
pub const DENSE: Shape = Shape { accounts: 4, ids: 30, low: 97, high: 103 };
/// More levels, ids and accounts: deeper books.
pub const WIDE: Shape = Shape { accounts: 8, ids: 300, low: 80, high: 120 };

/// One random command: every order type, cancels and reductions by any account (so some by
/// non-owners), cancel-alls, zero sizes and prices, and an unknown market now and then.
pub fn command(s: Shape) -> impl Strategy<Value = Command> {
    let market = || prop_oneof![12 => 1u32..=3, 1 => Just(9)].prop_map(MarketId);
    let account = move || (1..=s.accounts).prop_map(AccountId);
    let id = move || (1..=s.ids).prop_map(OrderId);
    let side = prop_oneof![Just(Side::Buy), Just(Side::Sell)];
    let price = prop_oneof![40 => s.low..=s.high, 1 => Just(0u64)].prop_map(Price);
    let size = prop_oneof![1 => Just(0u64), 30 => 1u64..=12].prop_map(Size);
    let order_type = prop_oneof![
        5 => Just(OrderType::Limit),
        2 => Just(OrderType::Ioc),
        2 => Just(OrderType::Fok),
        2 => Just(OrderType::PostOnly),
        1 => Just(OrderType::Market),
    ];
    prop_oneof![
        10 => (market(), id(), account(), side, price, size, order_type).prop_map(
            |(market, id, account, side, price, size, order_type)| {
                Command::Place(NewOrder { market, id, account, side, price, size, order_type })
            }
        ),
        3 => (market(), id(), account()).prop_map(|(market, order, account)| Command::Cancel { market, order, account }),
        2 => (market(), id(), account(), 0u64..=6)
            .prop_map(|(market, order, account, by)| Command::Reduce { market, order, account, by: Size(by) }),
        1 => (account(), option::weighted(0.7, market()))
            .prop_map(|(account, market)| Command::CancelAll { account, market }),
    ]
}

/// Requires the engine's book to equal the reference's, through every query.
pub fn assert_same_books(e: &Engine, r: &RefEngine, s: Shape) {
    assert_eq!(e.next_seq(), r.next_seq());
    for (m, _) in markets() {
        let book = e.book(m).unwrap();
        let mut total = 0;
        for side in [Side::Buy, Side::Sell] {
            let want = r.orders(m, side);
            total += want.len();
            assert_eq!(book.orders(side).collect::<Vec<_>>(), want, "{m:?} {side:?} orders");
            assert_eq!(book.depth(side, 4), r.depth(m, side, 4), "{m:?} {side:?} depth");
            assert_eq!(book.depth(side, usize::MAX).len(), book.level_count(side));
            for o in &want {
                assert_eq!(book.order(o.id), Some(*o));
                assert_eq!(book.remaining(o.id), Some(o.remaining));
            }
        }
        assert_eq!(book.best_bid(), r.orders(m, Side::Buy).first().map(|o| o.price));
        assert_eq!(book.best_ask(), r.orders(m, Side::Sell).first().map(|o| o.price));
        if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
            assert!(bid < ask, "{m:?} crossed: {bid:?} >= {ask:?}");
        }
        assert_eq!(book.len(), total);
        for a in 1..=s.accounts {
            let a = AccountId(a);
            assert_eq!(book.account_orders(a).collect::<Vec<_>>(), r.account_orders(m, a), "{m:?} {a:?}");
        }
    }
}

/// Runs `cmds` through both engines, comparing after each command.
pub fn run_both(cmds: &[Command], s: Shape) -> Engine {
    let mut e = Engine::new();
    for (id, spec) in markets() {
        e.add_market(id, spec).unwrap();
    }
    let mut r = RefEngine::new(&markets());
    let mut out = Vec::new();
    for (i, cmd) in cmds.iter().enumerate() {
        out.clear();
        e.execute(cmd, &mut out);
        let want = r.execute(cmd);
        assert_eq!(out, want, "command {i}: {cmd:?}");
        for ev in &out {
            if let zklink_matching::EventKind::Fill(f) = ev.kind {
                assert_ne!(f.maker_account, f.taker_account, "a self-trade: {f:?}");
            }
        }
        assert_same_books(&e, &r, s);
    }
    e
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn dense_books_match_the_reference(cmds in prop::collection::vec(command(DENSE), 1..160)) {
        run_both(&cmds, DENSE);
    }

    #[test]
    fn wide_books_match_the_reference(cmds in prop::collection::vec(command(WIDE), 1..400)) {
        run_both(&cmds, WIDE);
    }
}

/// The random sequences reach every kind of outcome (a property test that never crossed a
/// book or never prevented a self-trade would prove little).
#[test]
fn random_sequences_cover_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use zklink_matching::{CancelReason, EventKind, RejectReason};

    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(command(DENSE), 300);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let cmds = strategy.new_tree(&mut runner).unwrap().current();
        let mut e = Engine::new();
        for (id, spec) in markets() {
            e.add_market(id, spec).unwrap();
        }
        for cmd in &cmds {
            for ev in e.execute_one(cmd) {
                let name = match ev.kind {
                    EventKind::Accepted { .. } => "accepted".to_string(),
                    EventKind::Rested { .. } => "rested".to_string(),
                    EventKind::Fill(f) if f.maker_remaining.0 > 0 => "fill, maker stays".to_string(),
                    EventKind::Fill(_) => "fill, maker done".to_string(),
                    EventKind::Reduced { .. } => "reduced".to_string(),
                    EventKind::Cancelled { reason, .. } => format!("cancelled {reason:?} in market {}", ev.market.0),
                    EventKind::Rejected { reason: RejectReason::BelowMinSize { .. }, .. } => "below min".to_string(),
                    EventKind::Rejected { reason: RejectReason::PostOnlyWouldCross { .. }, .. } => {
                        "post-only crosses".to_string()
                    }
                    EventKind::Rejected { reason, .. } => format!("{reason:?}"),
                };
                seen.insert(name);
            }
        }
    }
    let mut want: Vec<String> = [
        "accepted",
        "rested",
        "fill, maker stays",
        "fill, maker done",
        "reduced",
        "below min",
        "post-only crosses",
        "UnknownMarket",
        "ZeroSize",
        "ZeroPrice",
        "DuplicateOrderId",
        "UnknownOrder",
        "NotOwner",
    ]
    .map(String::from)
    .to_vec();
    for (reason, markets) in [
        (CancelReason::User, &[1, 2, 3][..]),
        (CancelReason::ImmediateOrCancel, &[1, 2, 3]),
        (CancelReason::FillOrKill, &[1, 2, 3]),
        (CancelReason::SelfTradeResting, &[1, 3]),
        (CancelReason::SelfTradeIncoming, &[2, 3]),
    ] {
        for m in markets {
            want.push(format!("cancelled {reason:?} in market {m}"));
        }
    }
    let missing: Vec<&String> = want.iter().filter(|w| !seen.contains(*w)).collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
}
