//! Same commands, same bytes; snapshots that read back into an engine that continues the same.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zklink_matching::{
    AccountId, Command, Engine, MarketId, NewOrder, OrderId, OrderType, Price, Side, Size, SnapshotError,
};

use crate::model::{markets, resolve, step, DENSE, WIDE};

fn fresh() -> Engine {
    let mut e = Engine::new();
    for (id, spec) in markets() {
        e.add_market(id, spec).unwrap();
    }
    e
}

/// A seeded stream of commands over three markets, 50 accounts and 2,000 ids.
fn workload(seed: u64, n: usize) -> Vec<Command> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let types =
        [OrderType::Limit, OrderType::Limit, OrderType::Ioc, OrderType::Fok, OrderType::PostOnly, OrderType::Market];
    (0..n)
        .map(|_| {
            let market = MarketId(rng.gen_range(1..=3));
            let account = AccountId(rng.gen_range(1..=50));
            let id = OrderId(rng.gen_range(1..=2000));
            match rng.gen_range(0..40) {
                0..=25 => {
                    // Bids mostly below 1000 and asks mostly above: a deep book with a
                    // narrow overlap where orders cross.
                    let (side, price) = if rng.gen() {
                        (Side::Buy, rng.gen_range(900..=1005))
                    } else {
                        (Side::Sell, rng.gen_range(995..=1100))
                    };
                    Command::Place(NewOrder {
                        market,
                        id,
                        account,
                        side,
                        price: Price(price),
                        size: Size(rng.gen_range(1..=50)),
                        order_type: types[rng.gen_range(0..types.len())],
                    })
                }
                26..=33 => Command::Cancel { market, order: id, account },
                34..=38 => Command::Reduce { market, order: id, account, by: Size(rng.gen_range(1..=20)) },
                _ => Command::CancelAll { account, market: rng.gen_bool(0.5).then_some(market) },
            }
        })
        .collect()
}

/// Runs commands and returns the JSON bytes of all events and the snapshot.
fn run(cmds: &[Command]) -> (Vec<u8>, Vec<u8>, [u8; 32]) {
    let mut e = fresh();
    let mut events = Vec::new();
    for cmd in cmds {
        e.execute(cmd, &mut events);
    }
    (serde_json::to_vec(&events).unwrap(), e.snapshot(), e.digest())
}

#[test]
fn two_runs_give_the_same_bytes() {
    let cmds = workload(7, 50_000);
    let (events_a, snap_a, digest_a) = run(&cmds);
    let (events_b, snap_b, digest_b) = run(&cmds);
    assert!(events_a == events_b, "event bytes differ");
    assert!(snap_a == snap_b, "snapshots differ");
    assert_eq!(digest_a, digest_b);
    // The workload is not trivial: it filled, rested and left a book behind.
    let text = String::from_utf8(events_a).unwrap();
    assert!(text.matches("\"Fill\"").count() > 1000);
    assert!(snap_a.len() > 1000);
    // Another history gives another digest.
    assert_ne!(run(&workload(8, 50_000)).2, digest_a);
}

#[test]
fn json_round_trip_of_commands_and_events() {
    let cmds = workload(3, 200);
    let text = serde_json::to_string(&cmds).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Command>>(&text).unwrap(), cmds);
    let mut e = fresh();
    let mut events = Vec::new();
    for cmd in &cmds {
        e.execute(cmd, &mut events);
    }
    let text = serde_json::to_string(&events).unwrap();
    assert_eq!(serde_json::from_str::<Vec<zklink_matching::Event>>(&text).unwrap(), events);
}

#[test]
fn an_engine_read_back_from_its_snapshot_continues_identically() {
    let cmds = workload(11, 20_000);
    let (head, tail) = cmds.split_at(12_000);
    let mut a = fresh();
    let mut sink = Vec::new();
    for cmd in head {
        a.execute(cmd, &mut sink);
    }
    let snapshot = a.snapshot();
    let mut b = Engine::from_snapshot(&snapshot).unwrap();
    assert!(b.snapshot() == snapshot);
    let resting: Vec<usize> = b.books().map(|book| book.len()).collect();
    assert!(resting.iter().all(|&n| n > 100), "{resting:?}");
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
    for cmd in tail {
        out_a.clear();
        out_b.clear();
        a.execute(cmd, &mut out_a);
        b.execute(cmd, &mut out_b);
        assert_eq!(out_a, out_b, "{cmd:?}");
    }
    assert_eq!(a.digest(), b.digest());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn snapshots_round_trip_at_any_point(
        steps in prop::collection::vec(prop_oneof![step(DENSE), step(WIDE)], 1..200),
        cut in any::<prop::sample::Index>(),
    ) {
        // Restores included (resolved against a first run): restored orders rest at priorities
        // below those of orders that entered the book before them.
        let cmds = resolve(&mut fresh(), &steps);
        let cut = cut.index(cmds.len() + 1);
        let mut a = fresh();
        let mut sink = Vec::new();
        for cmd in &cmds[..cut] {
            a.execute(cmd, &mut sink);
        }
        let mut b = Engine::from_snapshot(&a.snapshot()).unwrap();
        for cmd in &cmds[cut..] {
            prop_assert_eq!(a.execute_one(cmd), b.execute_one(cmd));
        }
        prop_assert_eq!(a.snapshot(), b.snapshot());
    }
}

#[test]
fn corrupt_snapshots_are_refused() {
    let mut e = fresh();
    for cmd in workload(5, 300) {
        e.execute_one(&cmd);
    }
    let good = e.snapshot();
    assert!(Engine::from_snapshot(&good).is_ok());

    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(Engine::from_snapshot(&bad).unwrap_err(), SnapshotError::BadHeader);
    assert_eq!(Engine::from_snapshot(&good[..good.len() - 1]).unwrap_err(), SnapshotError::Truncated);
    let mut long = good.clone();
    long.push(0);
    assert_eq!(Engine::from_snapshot(&long).unwrap_err(), SnapshotError::Trailing(1));
    // Market 1's self-trade policy byte: header (17) + market id (4) + tick, lot (32) + min size (8).
    let mut bad = good.clone();
    bad[61] = 7;
    assert_eq!(Engine::from_snapshot(&bad).unwrap_err(), SnapshotError::Invalid("self-trade policy"));

    // Hand-made books: two bids out of priority order, and a crossed book.
    let book = |bids: &[(u64, u64)], asks: &[(u64, u64)]| {
        let mut s = Vec::new();
        s.extend_from_slice(b"ZKME");
        s.push(1);
        s.extend_from_slice(&100u64.to_be_bytes());
        s.extend_from_slice(&1u32.to_be_bytes());
        s.extend_from_slice(&1u32.to_be_bytes());
        s.extend_from_slice(&1u128.to_be_bytes());
        s.extend_from_slice(&1u128.to_be_bytes());
        s.extend_from_slice(&1u64.to_be_bytes());
        s.push(0);
        let mut id = 0u64;
        for side in [bids, asks] {
            s.extend_from_slice(&(side.len() as u64).to_be_bytes());
            for &(price, seq) in side {
                id += 1;
                s.extend_from_slice(&price.to_be_bytes());
                s.extend_from_slice(&id.to_be_bytes());
                s.extend_from_slice(&1u32.to_be_bytes());
                s.extend_from_slice(&5u64.to_be_bytes());
                s.extend_from_slice(&seq.to_be_bytes());
            }
        }
        Engine::from_snapshot(&s)
    };
    assert!(book(&[(99, 1), (98, 2)], &[(101, 3)]).is_ok());
    assert_eq!(book(&[(98, 1), (99, 2)], &[]).unwrap_err(), SnapshotError::Invalid("orders out of priority order"));
    assert_eq!(book(&[(99, 2), (99, 1)], &[]).unwrap_err(), SnapshotError::Invalid("orders out of priority order"));
    assert_eq!(book(&[(99, 1)], &[(99, 2)]).unwrap_err(), SnapshotError::Invalid("crossed book"));
    assert_eq!(
        book(&[(99, 1)], &[(101, 1)]).unwrap_err(),
        SnapshotError::Invalid("two orders of one account with one priority")
    );
    assert_eq!(book(&[(99, 100)], &[]).unwrap_err(), SnapshotError::Invalid("order price, size or sequence"));
}
