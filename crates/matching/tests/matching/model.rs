//! Random command sequences through the engine and the naive reference engine: identical
//! events and identical books after every command. The sequences include restores of orders
//! that traded earlier, at their original priority ([`Step`], [`History`]).

use std::collections::BTreeMap;

use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use zklink_matching::{
    AccountId, Command, Engine, Event, EventKind, MarketId, MarketSpec, NewOrder, OrderId, OrderType, Price, Side,
    Size, StpPolicy,
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

/// How a drawn restore departs from the order it restores, to reach the rejections.
#[derive(Clone, Copy, Debug)]
pub enum Tamper {
    /// The order as it was.
    Faithful,
    /// Another account.
    Account(AccountId),
    /// The other side.
    Side,
    /// Another price (`+ 1 + n` ticks, or `- 1 - n` when that stays positive).
    Price(u64, bool),
    /// An earlier priority (`- 1 - n`, down to 0).
    EarlierPriority(u64),
    /// The engine's next sequence number: not yet a past one.
    FuturePriority,
    /// The priority of a resting order in the market (of the same account or at the same
    /// price: refused; else a wrong priority the engine takes).
    HeldPriority(Index),
    /// A market that does not exist.
    UnknownMarket,
}

/// A restore drawn at random, made concrete against the history by [`History::restore`].
#[derive(Clone, Copy, Debug)]
pub struct RestorePick {
    /// Which side of which earlier fill.
    pub which: Index,
    /// The size: `None` gives back the fill's size.
    pub size: Option<u64>,
    /// How it departs from the order.
    pub tamper: Tamper,
}

/// One step of a random sequence.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// A command as drawn.
    Command(Command),
    /// A restore of an order that traded earlier.
    Restore(RestorePick),
}

/// A random restore: mostly of a filled order with the fill's size and its own priority,
/// sometimes another size (0, or `u64::MAX` to reach the overflow check) or a tampered field.
pub fn restore_pick(s: Shape) -> impl Strategy<Value = RestorePick> {
    let size = prop_oneof![
        12 => Just(None),
        4 => (1u64..=12).prop_map(Some),
        1 => Just(Some(0)),
        1 => Just(Some(u64::MAX)),
    ];
    let tamper = prop_oneof![
        14 => Just(Tamper::Faithful),
        1 => (1..=s.accounts).prop_map(|a| Tamper::Account(AccountId(a))),
        1 => Just(Tamper::Side),
        1 => (0u64..3, any::<bool>()).prop_map(|(n, up)| Tamper::Price(n, up)),
        1 => (0u64..3).prop_map(Tamper::EarlierPriority),
        1 => Just(Tamper::FuturePriority),
        1 => any::<Index>().prop_map(Tamper::HeldPriority),
        1 => Just(Tamper::UnknownMarket),
    ];
    (any::<Index>(), size, tamper).prop_map(|(which, size, tamper)| RestorePick { which, size, tamper })
}

/// One random step: a command (see [`command`]) or, one time in eight, a restore.
pub fn step(s: Shape) -> impl Strategy<Value = Step> {
    prop_oneof![
        7 => command(s).prop_map(Step::Command),
        1 => restore_pick(s).prop_map(Step::Restore),
    ]
}

/// An order as a restore names it: owner, side, price, priority.
type OrderFacts = (AccountId, Side, Price, u64);

/// What the engine did so far, as far as restores need it: the orders that traded, with their
/// original priorities, read from the events.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The last order accepted (or restored into the book) under each id of each market.
    orders: BTreeMap<(MarketId, OrderId), OrderFacts>,
    /// Both sides of every fill: the order and the size it traded.
    traded: Vec<(MarketId, OrderId, OrderFacts, Size)>,
}

impl History {
    /// Takes in a command and the events it caused.
    pub fn record(&mut self, cmd: &Command, events: &[Event]) {
        if let Command::Restore { market, order, account, side, price, priority, .. } = *cmd {
            if !matches!(events.first().map(|e| e.kind), Some(EventKind::Rejected { .. })) {
                self.orders.insert((market, order), (account, side, price, priority));
            }
        }
        for ev in events {
            match ev.kind {
                EventKind::Accepted { order, account, side, price, .. } => {
                    self.orders.insert((ev.market, order), (account, side, price, ev.seq));
                }
                EventKind::Fill(f) => {
                    for id in [f.maker, f.taker] {
                        let facts = self.orders[&(ev.market, id)];
                        self.traded.push((ev.market, id, facts, f.size));
                    }
                }
                _ => {}
            }
        }
    }

    /// How many fills' sides a restore can pick from.
    pub fn traded(&self) -> usize {
        self.traded.len()
    }

    /// The restore a pick stands for, in the engine's present state. Before the first fill, a
    /// restore of an order that never was (refused: its priority is not a past one).
    pub fn restore(&self, pick: &RestorePick, e: &Engine) -> Command {
        let next_seq = e.next_seq();
        let Some(&(market, order, (account, side, price, priority), size)) =
            (!self.traded.is_empty()).then(|| &self.traded[pick.which.index(self.traded.len())])
        else {
            return Command::Restore {
                market: MarketId(1),
                order: OrderId(1),
                account: AccountId(1),
                side: Side::Buy,
                price: Price(100),
                size: Size(1),
                priority: next_seq,
            };
        };
        let size = Size(pick.size.unwrap_or(size.0));
        let mut cmd = (market, order, account, side, price, size, priority);
        match pick.tamper {
            Tamper::Faithful => {}
            Tamper::Account(a) => cmd.2 = a,
            Tamper::Side => cmd.3 = side.opposite(),
            Tamper::Price(n, up) => {
                cmd.4 = if up || price.0 <= n + 1 { Price(price.0 + 1 + n) } else { Price(price.0 - 1 - n) }
            }
            Tamper::EarlierPriority(n) => cmd.6 = priority.saturating_sub(1 + n),
            Tamper::FuturePriority => cmd.6 = next_seq,
            Tamper::HeldPriority(i) => {
                let book = e.book(market).unwrap();
                let held: Vec<u64> =
                    [Side::Buy, Side::Sell].into_iter().flat_map(|s| book.orders(s)).map(|o| o.seq).collect();
                if !held.is_empty() {
                    cmd.6 = held[i.index(held.len())];
                }
            }
            Tamper::UnknownMarket => cmd.0 = MarketId(9),
        }
        let (market, order, account, side, price, size, priority) = cmd;
        Command::Restore { market, order, account, side, price, size, priority }
    }
}

/// Runs steps through an engine, resolving each restore against what happened before, and
/// returns the commands they became.
pub fn resolve(e: &mut Engine, steps: &[Step]) -> Vec<Command> {
    let mut history = History::default();
    steps
        .iter()
        .map(|step| {
            let cmd = match step {
                Step::Command(cmd) => *cmd,
                Step::Restore(pick) => history.restore(pick, e),
            };
            history.record(&cmd, &e.execute_one(&cmd));
            cmd
        })
        .collect()
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

/// An engine with the three markets of [`markets`].
pub fn fresh() -> Engine {
    let mut e = Engine::new();
    for (id, spec) in markets() {
        e.add_market(id, spec).unwrap();
    }
    e
}

/// Runs `steps` through both engines (a restore resolved against the history so far), comparing
/// after each command.
pub fn run_both(steps: &[Step], s: Shape) -> Engine {
    let mut e = fresh();
    let mut r = RefEngine::new(&markets());
    let mut history = History::default();
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let cmd = match step {
            Step::Command(cmd) => *cmd,
            Step::Restore(pick) => history.restore(pick, &e),
        };
        let cmd = &cmd;
        out.clear();
        e.execute(cmd, &mut out);
        let want = r.execute(cmd);
        assert_eq!(out, want, "command {i}: {cmd:?}");
        history.record(cmd, &out);
        for ev in &out {
            if let EventKind::Fill(f) = ev.kind {
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
    fn dense_books_match_the_reference(steps in prop::collection::vec(step(DENSE), 1..160)) {
        run_both(&steps, DENSE);
    }

    #[test]
    fn wide_books_match_the_reference(steps in prop::collection::vec(step(WIDE), 1..400)) {
        run_both(&steps, WIDE);
    }
}

/// The random sequences reach every kind of outcome (a property test that never crossed a
/// book or never prevented a self-trade would prove little).
#[test]
fn random_sequences_cover_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use zklink_matching::{CancelReason, RejectReason};

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
                    EventKind::Restored { .. } => "restored".to_string(),
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
