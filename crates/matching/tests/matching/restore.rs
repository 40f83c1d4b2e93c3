//! Restore: an order given its size back at its original time priority, in place or back into
//! the middle of its queue, after trading what its price crosses; the rejections; snapshots
//! and determinism with restored orders in the book.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use zklink_matching::{
    AccountId, CancelReason, Command, Engine, Event, EventKind, Fill, MarketId, OrderId, OrderType, Price,
    RejectReason, RestingOrder, Side, Size, StpPolicy,
};

use crate::model::{fresh, resolve, step, History, Step, DENSE, WIDE};
use crate::{engine, engine_with, kinds, order, place, ALICE, BOB, CAROL, M};
use OrderType::{Ioc, Limit};
use Side::{Buy, Sell};

const DAVE: AccountId = AccountId(4);

fn restore_cmd(id: u64, account: AccountId, side: Side, price: u64, size: u64, priority: u64) -> Command {
    Command::Restore { market: M, order: OrderId(id), account, side, price: Price(price), size: Size(size), priority }
}

/// Restores an order in market `M` and returns the events, with their sequence numbers.
fn restore(
    e: &mut Engine,
    id: u64,
    account: AccountId,
    side: Side,
    price: u64,
    size: u64,
    priority: u64,
) -> Vec<Event> {
    e.execute_one(&restore_cmd(id, account, side, price, size, priority))
}

fn restored(
    id: u64,
    account: AccountId,
    side: Side,
    price: u64,
    size: u64,
    remaining: u64,
    priority: u64,
) -> EventKind {
    EventKind::Restored {
        order: OrderId(id),
        account,
        side,
        price: Price(price),
        size: Size(size),
        remaining: Size(remaining),
        priority,
    }
}

fn rejected(id: u64, account: AccountId, reason: RejectReason) -> Vec<EventKind> {
    vec![EventKind::Rejected { order: Some(OrderId(id)), account, reason }]
}

fn fill(
    maker: (u64, AccountId),
    taker: (u64, AccountId),
    taker_side: Side,
    price: u64,
    size: u64,
    left: (u64, u64),
) -> EventKind {
    EventKind::Fill(Fill {
        maker: OrderId(maker.0),
        taker: OrderId(taker.0),
        maker_account: maker.1,
        taker_account: taker.1,
        taker_side,
        price: Price(price),
        size: Size(size),
        maker_remaining: Size(left.0),
        taker_remaining: Size(left.1),
    })
}

/// The priority (the sequence number of its `Accepted` event) of the order whose placement
/// caused `events`.
fn accepted_seq(events: &[Event]) -> u64 {
    match events[0].kind {
        EventKind::Accepted { .. } => events[0].seq,
        other => panic!("not accepted: {other:?}"),
    }
}

fn place_seq(e: &mut Engine, id: u64, account: AccountId, side: Side, price: u64, size: u64) -> u64 {
    accepted_seq(&e.execute_one(&order(id, account, side, price, size, Limit)))
}

/// (id, remaining, priority) of a side's orders in priority order.
fn queue(e: &Engine, side: Side) -> Vec<(u64, u64, u64)> {
    e.book(M).unwrap().orders(side).map(|o| (o.id.0, o.remaining.0, o.seq)).collect()
}

fn account_ids(e: &Engine, account: AccountId) -> Vec<u64> {
    e.book(M).unwrap().account_orders(account).map(|o| o.id.0).collect()
}

#[test]
fn a_gone_order_goes_back_into_the_middle_of_its_queue() {
    let mut e = engine();
    let s1 = place_seq(&mut e, 1, ALICE, Sell, 101, 5);
    let s2 = place_seq(&mut e, 2, BOB, Sell, 101, 3);
    let s3 = place_seq(&mut e, 3, CAROL, Sell, 101, 5);
    // Dave takes Alice's and Bob's orders whole.
    place(&mut e, 10, DAVE, Buy, 101, 8, Ioc);
    let s4 = place_seq(&mut e, 4, ALICE, Sell, 101, 2);
    assert_eq!(queue(&e, Sell), [(3, 5, s3), (4, 2, s4)]);
    // Dave's funds fail: both fills are refused. Bob first (into the front), then Alice (in
    // front of Bob), then Bob's queue place is in the middle.
    let ev = restore(&mut e, 2, BOB, Sell, 101, 3, s2);
    assert_eq!(kinds(ev.clone()), [restored(2, BOB, Sell, 101, 3, 3, s2)]);
    assert_eq!(ev[0].seq, e.next_seq() - 1, "a restore's event takes the next sequence number");
    assert_eq!(queue(&e, Sell), [(2, 3, s2), (3, 5, s3), (4, 2, s4)]);
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Sell, 101, 5, s1)), [restored(1, ALICE, Sell, 101, 5, 5, s1)]);
    assert_eq!(queue(&e, Sell), [(1, 5, s1), (2, 3, s2), (3, 5, s3), (4, 2, s4)]);
    // Alice's list is in priority order: the restored order before the one she placed later.
    assert_eq!(account_ids(&e, ALICE), [1, 4]);
    let book = e.book(M).unwrap();
    assert_eq!(
        book.order(OrderId(1)),
        Some(RestingOrder {
            id: OrderId(1),
            account: ALICE,
            side: Sell,
            price: Price(101),
            remaining: Size(5),
            seq: s1
        })
    );
    assert_eq!(book.depth(Sell, 1)[0].size, 15);
    assert_eq!(book.depth(Sell, 1)[0].orders, 4);
    // Matching treats them as never gone: a buy of 9 takes 1, 2 and one lot of 3.
    let ev = place(&mut e, 11, CAROL, Buy, 101, 9, Ioc);
    let makers: Vec<(OrderId, Size)> = ev
        .iter()
        .filter_map(|k| match k {
            EventKind::Fill(f) => Some((f.maker, f.size)),
            _ => None,
        })
        .collect();
    // Carol's own order 3 is in the way under cancel-resting: it is cancelled, Alice's 4 fills.
    assert_eq!(makers, [(OrderId(1), Size(5)), (OrderId(2), Size(3)), (OrderId(4), Size(1))]);
    assert!(ev.contains(&EventKind::Cancelled {
        order: OrderId(3),
        account: CAROL,
        side: Sell,
        price: Price(101),
        remaining: Size(5),
        reason: CancelReason::SelfTradeResting,
    }));
}

#[test]
fn a_restored_order_goes_to_the_front_of_a_new_level_and_of_a_long_queue() {
    let mut e = engine();
    let s1 = place_seq(&mut e, 1, ALICE, Buy, 99, 4);
    place(&mut e, 2, BOB, Sell, 99, 4, Ioc);
    assert!(e.book(M).unwrap().is_empty());
    // Into an empty book: a new level.
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Buy, 99, 4, s1)), [restored(1, ALICE, Buy, 99, 4, 4, s1)]);
    assert_eq!(queue(&e, Buy), [(1, 4, s1)]);
    // Filled again, then 50 orders join the level; restored, it goes before all of them.
    place(&mut e, 2, BOB, Sell, 99, 4, Ioc);
    for id in 100..150 {
        place(&mut e, id, CAROL, Buy, 99, 1, Limit);
    }
    restore(&mut e, 1, ALICE, Buy, 99, 4, s1);
    let q = queue(&e, Buy);
    assert_eq!(q.len(), 51);
    assert_eq!(q[0], (1, 4, s1));
    assert!(q.windows(2).all(|w| w[0].2 < w[1].2));
}

#[test]
fn a_resting_order_grows_in_place_and_keeps_its_place() {
    let mut e = engine();
    let s1 = place_seq(&mut e, 1, ALICE, Sell, 101, 10);
    let s2 = place_seq(&mut e, 2, CAROL, Sell, 101, 10);
    place(&mut e, 3, BOB, Buy, 101, 4, Ioc);
    assert_eq!(queue(&e, Sell), [(1, 6, s1), (2, 10, s2)]);
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Sell, 101, 4, s1)), [restored(1, ALICE, Sell, 101, 4, 10, s1)]);
    assert_eq!(queue(&e, Sell), [(1, 10, s1), (2, 10, s2)]);
    assert_eq!(e.book(M).unwrap().depth(Sell, 1)[0].size, 20);
    // More than it ever had is fine too (the engine does not know the original size).
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Sell, 101, 7, s1)), [restored(1, ALICE, Sell, 101, 7, 17, s1)]);
    assert_eq!(
        kinds(restore(&mut e, 1, ALICE, Sell, 101, u64::MAX, s1)),
        rejected(1, ALICE, RejectReason::SizeOverflow)
    );
    assert_eq!(queue(&e, Sell), [(1, 17, s1), (2, 10, s2)]);
    let ev = place(&mut e, 4, BOB, Buy, 101, 18, Ioc);
    assert_eq!(ev[1], fill((1, ALICE), (4, BOB), Buy, 101, 17, (0, 1)));
}

#[test]
fn a_restore_that_crosses_trades_first_at_the_makers_prices() {
    let mut e = engine();
    let s1 = place_seq(&mut e, 1, ALICE, Sell, 101, 5);
    // Bob's buy takes Alice's order; the ask side is then empty, so bids come to rest above 101.
    place(&mut e, 2, BOB, Buy, 101, 5, Limit);
    place(&mut e, 3, CAROL, Buy, 103, 2, Limit);
    place(&mut e, 4, DAVE, Buy, 102, 2, Limit);
    place(&mut e, 5, CAROL, Buy, 100, 9, Limit);
    let s6 = place_seq(&mut e, 6, DAVE, Sell, 104, 1);
    // Bob's fill is refused: Alice gets her 5 lots back. Her price crosses the bids at 103 and
    // 102: she sells there (better than her limit), then rests the last lot at 101, ahead of
    // any order placed at 101 after her original one.
    let before = e.next_seq();
    let ev = restore(&mut e, 1, ALICE, Sell, 101, 5, s1);
    assert_eq!(
        kinds(ev.clone()),
        [
            fill((3, CAROL), (1, ALICE), Sell, 103, 2, (0, 3)),
            fill((4, DAVE), (1, ALICE), Sell, 102, 2, (0, 1)),
            restored(1, ALICE, Sell, 101, 1, 1, s1),
        ]
    );
    assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [before, before + 1, before + 2]);
    assert_eq!(queue(&e, Sell), [(1, 1, s1), (6, 1, s6)]);
    assert_eq!(queue(&e, Buy), [(5, 9, e.book(M).unwrap().order(OrderId(5)).unwrap().seq)]);
    // A taker restored, trading all of its size: Bob's sell takes 3 lots of Carol's bid; her
    // funds fail, so the exchange cancels her order and gives Bob's back. Dave bids meanwhile.
    let s7 = place_seq(&mut e, 7, BOB, Sell, 100, 3);
    e.execute_one(&Command::Cancel { market: M, order: OrderId(5), account: CAROL });
    place(&mut e, 9, DAVE, Buy, 100, 4, Limit);
    let ev = kinds(restore(&mut e, 7, BOB, Sell, 100, 3, s7));
    // It ends with its last fill (taker_remaining 0): nothing enters the book.
    assert_eq!(ev, [fill((9, DAVE), (7, BOB), Sell, 100, 3, (1, 0))]);
    assert_eq!(e.book(M).unwrap().order(OrderId(7)), None);
}

/// Alice's ask 1 (5 @ 101) was taken by Bob; meanwhile Bob bids 2 @ 103 and Alice herself
/// bids 3 @ 102 (order 5) and 1 @ 99 (order 6).
fn own_bid_in_the_way(stp: StpPolicy) -> (Engine, u64) {
    let mut e = engine_with(stp, 1);
    let s1 = place_seq(&mut e, 1, ALICE, Sell, 101, 5);
    place(&mut e, 2, BOB, Buy, 101, 5, Ioc);
    place(&mut e, 3, BOB, Buy, 103, 2, Limit);
    place(&mut e, 5, ALICE, Buy, 102, 3, Limit);
    place(&mut e, 6, ALICE, Buy, 99, 1, Limit);
    (e, s1)
}

fn alice_bid_cancelled(id: u64, price: u64, remaining: u64) -> EventKind {
    EventKind::Cancelled {
        order: OrderId(id),
        account: ALICE,
        side: Buy,
        price: Price(price),
        remaining: Size(remaining),
        reason: CancelReason::SelfTradeResting,
    }
}

#[test]
fn a_restore_that_meets_its_own_order_follows_the_self_trade_policy() {
    let bob_fill = fill((3, BOB), (1, ALICE), Sell, 103, 2, (0, 3));

    let (mut e, s1) = own_bid_in_the_way(StpPolicy::CancelResting);
    assert_eq!(
        kinds(restore(&mut e, 1, ALICE, Sell, 101, 5, s1)),
        [bob_fill, alice_bid_cancelled(5, 102, 3), restored(1, ALICE, Sell, 101, 3, 3, s1)]
    );
    assert_eq!(account_ids(&e, ALICE), [1, 6]);

    let (mut e, s1) = own_bid_in_the_way(StpPolicy::CancelIncoming);
    assert_eq!(
        kinds(restore(&mut e, 1, ALICE, Sell, 101, 5, s1)),
        [
            bob_fill,
            EventKind::Cancelled {
                order: OrderId(1),
                account: ALICE,
                side: Sell,
                price: Price(101),
                remaining: Size(3),
                reason: CancelReason::SelfTradeIncoming,
            },
        ]
    );
    assert_eq!(account_ids(&e, ALICE), [5, 6]);
    assert!(!CancelReason::SelfTradeIncoming.removes_from_book());

    let (mut e, s1) = own_bid_in_the_way(StpPolicy::CancelBoth);
    let ev = kinds(restore(&mut e, 1, ALICE, Sell, 101, 5, s1));
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[..2], [bob_fill, alice_bid_cancelled(5, 102, 3)]);
    assert!(matches!(ev[2], EventKind::Cancelled { order: OrderId(1), reason: CancelReason::SelfTradeIncoming, .. }));
    assert_eq!(account_ids(&e, ALICE), [6]);
    assert_eq!(e.book(M).unwrap().best_ask(), None);
}

#[test]
fn each_rejection_of_a_restore_changes_nothing() {
    let mut e = engine_with(StpPolicy::CancelResting, 3);
    let s1 = place_seq(&mut e, 1, ALICE, Sell, 101, 5);
    let s2 = place_seq(&mut e, 2, BOB, Sell, 101, 5);
    let s3 = place_seq(&mut e, 3, ALICE, Buy, 90, 5);
    place(&mut e, 4, CAROL, Buy, 101, 7, Ioc); // order 1 gone, order 2 left with 3
    let s5 = place_seq(&mut e, 5, CAROL, Sell, 105, 5);
    let snapshot_books = |e: &Engine| (queue(e, Buy), queue(e, Sell));
    let books = snapshot_books(&e);
    let cases: Vec<(Command, RejectReason)> = vec![
        (
            Command::Restore {
                market: MarketId(7),
                order: OrderId(1),
                account: ALICE,
                side: Sell,
                price: Price(101),
                size: Size(5),
                priority: s1,
            },
            RejectReason::UnknownMarket,
        ),
        (restore_cmd(1, ALICE, Sell, 101, 0, s1), RejectReason::ZeroSize),
        (restore_cmd(1, ALICE, Sell, 0, 5, s1), RejectReason::ZeroPrice),
        (restore_cmd(1, ALICE, Sell, 101, 5, 0), RejectReason::InvalidPriority),
        (restore_cmd(1, ALICE, Sell, 101, 5, u64::MAX), RejectReason::InvalidPriority),
        // Order 2 rests: only as itself.
        (restore_cmd(2, ALICE, Sell, 101, 2, s2), RejectReason::NotOwner),
        (restore_cmd(2, BOB, Buy, 101, 2, s2), RejectReason::RestoreMismatch),
        (restore_cmd(2, BOB, Sell, 102, 2, s2), RejectReason::RestoreMismatch),
        (restore_cmd(2, BOB, Sell, 101, 2, s1), RejectReason::RestoreMismatch),
        (restore_cmd(2, BOB, Sell, 101, u64::MAX - 2, s2), RejectReason::SizeOverflow),
        // Id 3 is live as another order of Alice's (her bid at 90): no restore under that id
        // but of that order.
        (restore_cmd(3, ALICE, Sell, 101, 2, s1), RejectReason::RestoreMismatch),
        (restore_cmd(5, ALICE, Sell, 105, 2, s5), RejectReason::NotOwner),
        // A priority held by an order of the same level, or of the same account.
        (restore_cmd(1, ALICE, Sell, 101, 2, s2), RejectReason::PriorityInUse),
        (restore_cmd(1, ALICE, Sell, 101, 2, s3), RejectReason::PriorityInUse),
        (restore_cmd(9, CAROL, Buy, 90, 2, s3), RejectReason::PriorityInUse),
    ];
    for (cmd, reason) in cases {
        let Command::Restore { order, account, .. } = cmd else { unreachable!() };
        assert_eq!(kinds(e.execute_one(&cmd)), rejected(order.0, account, reason), "{cmd:?}");
        assert_eq!(snapshot_books(&e), books, "{cmd:?}");
    }
    // The next sequence number is not a past one (the rejections took theirs: it moved on).
    let next = e.next_seq();
    assert!(next > 20);
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Sell, 101, 5, next)), rejected(1, ALICE, RejectReason::InvalidPriority));
    assert_eq!(e.next_seq(), next + 1);
    assert_eq!(snapshot_books(&e), books);
    // The same restore, faithful, goes through; the market's minimum (3) does not apply to it.
    assert_eq!(kinds(restore(&mut e, 1, ALICE, Sell, 101, 2, s1)), [restored(1, ALICE, Sell, 101, 2, 2, s1)]);
    assert_eq!(queue(&e, Sell)[..2], [(1, 2, s1), (2, 3, s2)]);
}

#[test]
fn a_wrong_priority_that_collides_elsewhere_is_taken_and_snapshots_still_read_back() {
    // The engine cannot tell a wrong priority from the order's own, unless it is held at the
    // same price or by the same account. A collision elsewhere is harmless: no queue and no
    // account list holds both orders.
    let mut e = engine();
    let s1 = place_seq(&mut e, 1, BOB, Buy, 95, 5);
    let s2 = place_seq(&mut e, 2, CAROL, Sell, 105, 5);
    assert_eq!(kinds(restore(&mut e, 7, ALICE, Sell, 106, 3, s1)), [restored(7, ALICE, Sell, 106, 3, 3, s1)]);
    assert_eq!(kinds(restore(&mut e, 8, DAVE, Sell, 104, 3, s2)), [restored(8, DAVE, Sell, 104, 3, 3, s2)]);
    assert_eq!(queue(&e, Sell), [(8, 3, s2), (2, 5, s2), (7, 3, s1)]);
    let copy = Engine::from_snapshot(&e.snapshot()).unwrap();
    assert!(copy.snapshot() == e.snapshot());
    assert_eq!(copy.digest(), e.digest());
}

/// A book with restored orders at priorities below those of orders that entered the book
/// before them, in several levels, accounts and markets.
fn restored_book() -> (Engine, Vec<Command>) {
    let mut e = fresh();
    let mut cmds = Vec::new();
    let mut run = |e: &mut Engine, cmd: Command| {
        cmds.push(cmd);
        e.execute_one(&cmd)
    };
    let mut seqs = Vec::new();
    for (i, m) in [1u32, 3].into_iter().enumerate() {
        let m = MarketId(m);
        let base = 100 * i as u64;
        for k in 0..6u64 {
            let cmd = Command::Place(zklink_matching::NewOrder {
                market: m,
                id: OrderId(base + k),
                account: AccountId(1 + (k % 3) as u32),
                side: Sell,
                price: Price(101 + k % 2),
                size: Size(4),
                order_type: Limit,
            });
            seqs.push((
                m,
                base + k,
                AccountId(1 + (k % 3) as u32),
                Price(101 + k % 2),
                accepted_seq(&run(&mut e, cmd)),
            ));
        }
        // Account 4 sweeps both levels, then the same orders are placed again behind.
        let sweep = Command::Place(zklink_matching::NewOrder {
            market: m,
            id: OrderId(base + 50),
            account: DAVE,
            side: Buy,
            price: Price(102),
            size: Size(18),
            order_type: Ioc,
        });
        run(&mut e, sweep);
        for k in 10..14u64 {
            let cmd = Command::Place(zklink_matching::NewOrder {
                market: m,
                id: OrderId(base + k),
                account: AccountId(1 + (k % 3) as u32),
                side: Sell,
                price: Price(101 + k % 2),
                size: Size(2),
                order_type: Limit,
            });
            run(&mut e, cmd);
        }
    }
    // Every filled or partly filled order gets its fill back, newest first.
    for &(market, id, account, price, priority) in seqs.iter().rev() {
        let cmd = Command::Restore { market, order: OrderId(id), account, side: Sell, price, size: Size(3), priority };
        let ev = run(&mut e, cmd);
        assert!(matches!(ev.last().unwrap().kind, EventKind::Restored { .. }), "{ev:?}");
    }
    (e, cmds)
}

#[test]
fn snapshots_and_digests_round_trip_after_restores() {
    let (e, cmds) = restored_book();
    let book = e.book(MarketId(1)).unwrap();
    // Priority order is not entry order: the restored orders come first in their queues.
    let ids: Vec<u64> = book.orders(Sell).map(|o| o.id.0).collect();
    assert_eq!(ids, [0, 2, 4, 10, 12, 1, 3, 5, 11, 13]);
    let seqs: Vec<u64> = book.account_orders(ALICE).map(|o| o.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(book.account_orders(ALICE).map(|o| o.id.0).collect::<Vec<_>>(), [0, 3, 12]);

    let snapshot = e.snapshot();
    let mut copy = Engine::from_snapshot(&snapshot).unwrap();
    assert!(copy.snapshot() == snapshot);
    assert_eq!(copy.digest(), e.digest());
    // The same commands from scratch give the same bytes.
    let mut again = fresh();
    for cmd in &cmds {
        again.execute_one(cmd);
    }
    assert_eq!(again.digest(), e.digest());
    // And both continue identically: sweeps, cancels, another restore.
    let mut e = e;
    let more = [
        Command::Place(zklink_matching::NewOrder {
            market: MarketId(1),
            id: OrderId(60),
            account: CAROL,
            side: Buy,
            price: Price(101),
            size: Size(7),
            order_type: Ioc,
        }),
        // Bob's order 4 (restored) is cancelled, then given back again at its priority.
        Command::CancelAll { account: BOB, market: None },
        Command::Restore {
            market: MarketId(1),
            order: OrderId(4),
            account: BOB,
            side: Sell,
            price: Price(101),
            size: Size(2),
            priority: e.book(MarketId(1)).unwrap().order(OrderId(4)).unwrap().seq,
        },
    ];
    for cmd in &more {
        assert_eq!(e.execute_one(cmd), copy.execute_one(cmd), "{cmd:?}");
    }
    assert_eq!(e.digest(), copy.digest());
}

#[test]
fn random_restores_are_deterministic_and_read_back_at_any_point() {
    let mut runner = TestRunner::deterministic();
    let steps = proptest::collection::vec(step(WIDE), 3000).new_tree(&mut runner).unwrap().current();
    let cmds = resolve(&mut fresh(), &steps);
    let restores = cmds.iter().filter(|c| matches!(c, Command::Restore { .. })).count();
    assert!(restores > 200, "{restores} restores");
    let run = |cmds: &[Command]| {
        let mut e = fresh();
        let mut events = Vec::new();
        for cmd in cmds {
            e.execute(cmd, &mut events);
        }
        (serde_json::to_vec(&events).unwrap(), e)
    };
    let (events_a, a) = run(&cmds);
    let (events_b, b) = run(&cmds);
    assert!(events_a == events_b, "event bytes differ");
    assert!(a.snapshot() == b.snapshot());
    for cut in [500, 1500, 2500] {
        let (_, mut head) = run(&cmds[..cut]);
        let mut copy = Engine::from_snapshot(&head.snapshot()).unwrap();
        for cmd in &cmds[cut..] {
            assert_eq!(head.execute_one(cmd), copy.execute_one(cmd), "{cmd:?}");
        }
        assert_eq!(copy.digest(), a.digest());
    }
}

/// The random restores of the property tests reach every outcome of a restore.
#[test]
fn random_restores_cover_every_outcome() {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(step(DENSE), 400);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let mut e = fresh();
        let mut history = History::default();
        for s in &steps {
            let cmd = match s {
                Step::Command(cmd) => *cmd,
                Step::Restore(pick) => history.restore(pick, &e),
            };
            let events = e.execute_one(&cmd);
            history.record(&cmd, &events);
            let Command::Restore { market, order, priority, .. } = cmd else { continue };
            if let Some(book) = e.book(market) {
                let holders =
                    [Buy, Sell].into_iter().flat_map(|s| book.orders(s)).filter(|o| o.seq == priority).count();
                if holders > 1 {
                    // A wrong priority taken: another order, at another price and of another
                    // account, holds it too.
                    seen.insert("priority shared across queues");
                }
            }
            for ev in &events {
                let name = match ev.kind {
                    EventKind::Restored { size, remaining, .. } if size == remaining => "restored into the book",
                    EventKind::Restored { .. } => "restored in place",
                    EventKind::Fill(f) if f.taker == order && f.taker_remaining.0 == 0 => "traded all",
                    EventKind::Fill(f) if f.taker == order => "traded",
                    EventKind::Cancelled { reason: CancelReason::SelfTradeResting, .. } => "self-trade resting",
                    EventKind::Cancelled { reason: CancelReason::SelfTradeIncoming, .. } => "self-trade incoming",
                    EventKind::Rejected { reason, .. } => match reason {
                        RejectReason::UnknownMarket => "UnknownMarket",
                        RejectReason::ZeroSize => "ZeroSize",
                        RejectReason::InvalidPriority => "InvalidPriority",
                        RejectReason::NotOwner => "NotOwner",
                        RejectReason::RestoreMismatch => "RestoreMismatch",
                        RejectReason::PriorityInUse => "PriorityInUse",
                        RejectReason::SizeOverflow => "SizeOverflow",
                        other => panic!("a restore refused with {other:?}"),
                    },
                    other => panic!("a restore caused {other:?}"),
                };
                seen.insert(name);
            }
        }
        assert!(history.traded() > 0);
    }
    let want = [
        "restored into the book",
        "restored in place",
        "traded all",
        "traded",
        "self-trade resting",
        "self-trade incoming",
        "UnknownMarket",
        "ZeroSize",
        "InvalidPriority",
        "NotOwner",
        "RestoreMismatch",
        "PriorityInUse",
        "priority shared across queues",
    ];
    let missing: Vec<&&str> = want.iter().filter(|w| !seen.contains(**w)).collect();
    assert!(missing.is_empty(), "never produced: {missing:?} (saw {seen:?})");
}
