//! Matching engine throughput and latency on one core, with a realistic command mix.
//!
//! The book starts with 100,000 resting orders over 1,000 price levels (500 a side, 100 orders
//! each, sizes 1–100 lots, 2,000 accounts). Then a seeded stream of commands:
//! * 50 % new orders that do not cross (45 % limit, 5 % post-only), on a random side, behind
//!   the opposite best price by 1–20 ticks (half of them) or 1–500 ticks (the other half);
//! * 30 % cancels and reductions of random live orders by their owners (25 % cancel, 5 % reduce);
//! * 20 % crossing orders, up to 10 ticks through the opposite best price (10 % IOC, 4 % market,
//!   4 % limit that may rest its remainder, 2 % fill-or-kill). Their sizes keep the book near
//!   its starting size: uniform in 1..=200 lots while the book holds 100,000 orders, scaled by
//!   (orders / 100,000)^4 otherwise.
//!
//! The stream is generated once by running it through an engine (to know which orders are
//! live), then replayed on fresh copies of the starting engine (with room reserved for 100,000
//! more orders, see `Engine::reserve`), which give the same events:
//! * throughput: the whole stream, one timer around it;
//! * latency: each command timed alone with `Instant` (clock overhead measured and reported);
//!   and the pause the reservation avoids (the slab and the id index growing once) is timed.
//!
//! `cargo bench -p zklink-matching` (env `ZKLINK_BENCH_QUICK=1` runs a small smoke version).

// A benchmark: it reports to the person running it.
#![allow(clippy::print_stdout, missing_docs, unreachable_pub)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zklink_matching::{
    AccountId, CancelReason, Command, Engine, Event, EventKind, MarketId, MarketSpec, NewOrder, OrderBook, OrderId,
    OrderType, Price, Side, Size,
};

const M: MarketId = MarketId(1);
const MID: u64 = 1_000_000;
const ACCOUNTS: u32 = 2_000;
/// New orders land within this many ticks of the touch half of the time.
const NEAR: u64 = 20;
/// Crossing orders reach up to this many ticks through the opposite best price.
const THROUGH: u64 = 10;
/// Crossing orders average this many lots while the book holds its starting number of orders.
const TAKE: f64 = 100.0;

fn quick() -> bool {
    std::env::var("ZKLINK_BENCH_QUICK").is_ok()
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

/// What kind of command an entry of the stream is, for the per-kind latencies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Place,
    Cancel,
    Cross,
}

/// The live orders of the generator (id → owner), with O(1) random pick and removal.
#[derive(Default)]
struct Live {
    orders: Vec<(OrderId, AccountId)>,
    pos: HashMap<OrderId, usize>,
}

impl Live {
    fn add(&mut self, id: OrderId, account: AccountId) {
        self.pos.insert(id, self.orders.len());
        self.orders.push((id, account));
    }

    fn remove(&mut self, id: OrderId) {
        if let Some(i) = self.pos.remove(&id) {
            self.orders.swap_remove(i);
            if let Some(&(moved, _)) = self.orders.get(i) {
                self.pos.insert(moved, i);
            }
        }
    }

    fn follow(&mut self, events: &[Event]) {
        for ev in events {
            match ev.kind {
                EventKind::Rested { order, account, .. } => self.add(order, account),
                EventKind::Fill(f) if f.maker_remaining.0 == 0 => self.remove(f.maker),
                EventKind::Cancelled { order, reason, .. } if reason.removes_from_book() => self.remove(order),
                _ => {}
            }
        }
    }
}

struct Generator {
    rng: ChaCha8Rng,
    next_id: u64,
    /// The number of resting orders the stream keeps the book near.
    target: usize,
}

impl Generator {
    fn order(&mut self, side: Side, price: u64, size: u64, order_type: OrderType) -> Command {
        self.next_id += 1;
        Command::Place(NewOrder {
            market: M,
            id: OrderId(self.next_id),
            account: AccountId(self.rng.gen_range(1..=ACCOUNTS)),
            side,
            price: Price(price),
            size: Size(size),
            order_type,
        })
    }

    fn side(&mut self) -> Side {
        if self.rng.gen() {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    /// The next command of the mix for the book as it is now.
    fn next(&mut self, book: &OrderBook, live: &Live) -> (Kind, Command) {
        let bid = book.best_bid().map_or(MID - 1, |p| p.0);
        let ask = book.best_ask().map_or(MID, |p| p.0);
        let roll = self.rng.gen_range(0..100);
        if roll < 50 {
            let side = self.side();
            // Half near the touch, half anywhere in the 500 ticks behind it: books are deeper
            // near the best price, and the crossing orders find liquidity there.
            let behind = if self.rng.gen() { self.rng.gen_range(1..=NEAR) } else { self.rng.gen_range(1..=500) };
            let price = match side {
                Side::Buy => ask.saturating_sub(behind).max(1),
                Side::Sell => bid + behind,
            };
            let order_type = if roll < 45 { OrderType::Limit } else { OrderType::PostOnly };
            let size = self.rng.gen_range(1..=100);
            return (Kind::Place, self.order(side, price, size, order_type));
        }
        if roll < 80 && !live.orders.is_empty() {
            let (order, account) = live.orders[self.rng.gen_range(0..live.orders.len())];
            let cmd = if roll < 75 {
                Command::Cancel { market: M, order, account }
            } else {
                let by = Size(self.rng.gen_range(1..=20));
                Command::Reduce { market: M, order, account, by }
            };
            return (Kind::Cancel, cmd);
        }
        let side = self.side();
        let through = self.rng.gen_range(0..=THROUGH);
        let price = match side {
            Side::Buy => ask + through,
            Side::Sell => bid.saturating_sub(through).max(1),
        };
        let order_type = match roll {
            0..=89 => OrderType::Ioc,
            90..=93 => OrderType::Market,
            94..=97 => OrderType::Limit,
            _ => OrderType::Fok,
        };
        // The stream keeps the book near its starting size: crossing orders grow when the book
        // is larger and shrink when it is smaller (the command mix itself stays fixed).
        let scale = (live.orders.len() as f64 / self.target as f64).powi(4).clamp(0.1, 10.0);
        let size = self.rng.gen_range(1..=(2.0 * TAKE * scale) as u64);
        (Kind::Cross, self.order(side, price, size, order_type))
    }
}

/// The starting engine: `orders` resting orders, `levels / 2` levels a side, same count per level.
fn starting_engine(orders: u64, levels: u64, gen: &mut Generator, live: &mut Live) -> Engine {
    let mut e = Engine::new();
    e.add_market(M, MarketSpec::new(1, 1, Size(1))).unwrap();
    let mut out = Vec::new();
    for i in 0..orders {
        let level = i % levels;
        let (side, price) =
            if level.is_multiple_of(2) { (Side::Buy, MID - 1 - level / 2) } else { (Side::Sell, MID + level / 2) };
        let size = gen.rng.gen_range(1..=100);
        let cmd = gen.order(side, price, size, OrderType::Limit);
        out.clear();
        e.execute(&cmd, &mut out);
        live.follow(&out);
    }
    e
}

struct Stream {
    cmds: Vec<Command>,
    kinds: Vec<Kind>,
    min_live: usize,
    max_live: usize,
    end_live: usize,
    end_levels: usize,
    fills: usize,
    self_trade_cancels: usize,
}

fn generate(start: &Engine, gen: &mut Generator, live: &mut Live, n: usize) -> Stream {
    let mut e = start.clone();
    let mut s = Stream {
        cmds: Vec::with_capacity(n),
        kinds: Vec::with_capacity(n),
        min_live: usize::MAX,
        max_live: 0,
        end_live: 0,
        end_levels: 0,
        fills: 0,
        self_trade_cancels: 0,
    };
    let mut out = Vec::new();
    for _ in 0..n {
        let (kind, cmd) = gen.next(e.book(M).unwrap(), live);
        out.clear();
        e.execute(&cmd, &mut out);
        live.follow(&out);
        for ev in &out {
            match ev.kind {
                EventKind::Fill(_) => s.fills += 1,
                EventKind::Cancelled {
                    reason: CancelReason::SelfTradeResting | CancelReason::SelfTradeIncoming,
                    ..
                } => s.self_trade_cancels += 1,
                _ => {}
            }
        }
        s.cmds.push(cmd);
        s.kinds.push(kind);
        let n = live.orders.len();
        s.min_live = s.min_live.min(n);
        s.max_live = s.max_live.max(n);
    }
    let book = e.book(M).unwrap();
    assert_eq!(book.len(), live.orders.len(), "the generator tracks the book");
    s.end_live = book.len();
    s.end_levels = book.level_count(Side::Buy) + book.level_count(Side::Sell);
    s
}

/// Each command's latency in ns, on a fresh copy of `start` with room for `reserve` more orders.
fn latencies(start: &Engine, cmds: &[Command], reserve: usize) -> Vec<u32> {
    let mut e = start.clone();
    e.reserve(M, reserve);
    let mut out = Vec::with_capacity(1024);
    cmds.iter()
        .map(|cmd| {
            out.clear();
            let t = Instant::now();
            e.execute(cmd, &mut out);
            t.elapsed().as_nanos() as u32
        })
        .collect()
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    let i = ((sorted.len() as f64 - 1.0) * p / 100.0).round() as usize;
    sorted[i]
}

/// Median cost of one `Instant::now()` pair, in ns.
fn clock_overhead() -> u32 {
    let mut v: Vec<u32> = (0..100_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as u32
        })
        .collect();
    v.sort_unstable();
    percentile(&v, 50.0)
}

fn main() {
    let (orders, levels, n, runs) =
        if quick() { (10_000u64, 1_000u64, 200_000usize, 2) } else { (100_000u64, 1_000u64, 2_000_000usize, 5) };
    let mut gen = Generator { rng: ChaCha8Rng::seed_from_u64(2026), next_id: 0, target: orders as usize };
    let mut live = Live::default();

    let start = starting_engine(orders, levels, &mut gen, &mut live);
    let book = start.book(M).unwrap();
    // A copy of the engine allocates the book afresh: the RSS it adds is the book's memory.
    let rss_before = rss_bytes();
    let copy = start.clone();
    let rss_after = rss_bytes();
    black_box(&copy);
    drop(copy);
    println!("## Matching engine — {} resting orders, {} levels, {} accounts", book.len(), levels, ACCOUNTS);
    println!();
    println!(
        "memory per resting order: node {} B; book estimate (capacity of its slabs and maps) {:.0} B/order \
         ({:.1} MB); a copy of the engine grew the process RSS by {:.0} B/order",
        OrderBook::node_bytes(),
        book.memory_bytes() as f64 / book.len() as f64,
        book.memory_bytes() as f64 / 1e6,
        (rss_after.saturating_sub(rss_before)) as f64 / book.len() as f64,
    );

    let t = Instant::now();
    let stream = generate(&start, &mut gen, &mut live, n);
    let count = |k: Kind| stream.kinds.iter().filter(|&&x| x == k).count();
    println!(
        "stream: {} commands ({} place, {} cancel/reduce, {} crossing), {} fills, {} self-trade cancels; \
         resting orders min {} max {} end {}, {} levels at the end (generated in {:.1} s)",
        n,
        count(Kind::Place),
        count(Kind::Cancel),
        count(Kind::Cross),
        stream.fills,
        stream.self_trade_cancels,
        stream.min_live,
        stream.max_live,
        stream.end_live,
        stream.end_levels,
        t.elapsed().as_secs_f64()
    );
    println!();

    // Throughput: one timer around the whole stream, on a fresh copy each run.
    println!("| run | commands/s | ns/command | events |");
    println!("|---|---|---|---|");
    let mut out: Vec<Event> = Vec::with_capacity(1024);
    for run in 1..=runs {
        let mut e = start.clone();
        e.reserve(M, orders as usize);
        let mut events = 0usize;
        let t = Instant::now();
        for cmd in &stream.cmds {
            out.clear();
            e.execute(cmd, &mut out);
            events += out.len();
        }
        let secs = t.elapsed().as_secs_f64();
        black_box(&e);
        println!("| {run} | {:.2} M | {:.0} | {events} |", n as f64 / secs / 1e6, secs * 1e9 / n as f64);
    }
    println!();

    // Latency: each command timed alone.
    let overhead = clock_overhead();
    let lat = latencies(&start, &stream.cmds, orders as usize);
    println!("latency per command, ns (each timed alone; an Instant pair costs {overhead} ns, included):");
    println!();
    println!("| commands | count | p50 | p90 | p99 | p99.9 | max |");
    println!("|---|---|---|---|---|---|---|");
    let kinds = [
        ("all", None),
        ("place", Some(Kind::Place)),
        ("cancel/reduce", Some(Kind::Cancel)),
        ("crossing", Some(Kind::Cross)),
    ];
    for (name, kind) in kinds {
        let mut v: Vec<u32> = lat
            .iter()
            .zip(&stream.kinds)
            .filter(|(_, k)| kind.is_none_or(|want| **k == want))
            .map(|(l, _)| *l)
            .collect();
        v.sort_unstable();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            v.len(),
            percentile(&v, 50.0),
            percentile(&v, 90.0),
            percentile(&v, 99.0),
            percentile(&v, 99.9),
            v[v.len() - 1]
        );
    }
    let slow = lat.iter().filter(|&&l| l > 100_000).count();
    let mut e = start.clone();
    let t = Instant::now();
    e.reserve(M, orders as usize);
    let growth = t.elapsed();
    println!();
    println!(
        "commands over 100 µs: {slow} (outliers of that size are the thread being preempted on a shared VM). \
         Growing the slab and the id index once at {} orders (what `Engine::reserve` does ahead of time) takes {:.2} ms.",
        start.book(M).unwrap().len(),
        growth.as_secs_f64() * 1e3
    );
    println!();

    // One large market order sweeping many makers: the cost per fill.
    let makers = if quick() { 10_000 } else { 100_000 };
    let mut e = Engine::new();
    e.add_market(M, MarketSpec::new(1, 1, Size(1))).unwrap();
    for i in 0..makers {
        let o = NewOrder {
            market: M,
            id: OrderId(i + 1),
            account: AccountId(1 + (i % 1000) as u32),
            side: Side::Sell,
            price: Price(MID + i / 100),
            size: Size(10),
            order_type: OrderType::Limit,
        };
        e.execute(&Command::Place(o), &mut out);
    }
    out.clear();
    let sweep = Command::Place(NewOrder {
        market: M,
        id: OrderId(u64::MAX),
        account: AccountId(5_000),
        side: Side::Buy,
        price: Price(MID * 2),
        size: Size(10 * makers),
        order_type: OrderType::Market,
    });
    let t = Instant::now();
    e.execute(&sweep, &mut out);
    let secs = t.elapsed().as_secs_f64();
    assert!(e.book(M).unwrap().is_empty());
    println!(
        "sweep: one market order filled {} makers over {} levels in {:.2} ms: {:.0} ns per fill",
        out.len() - 1,
        makers / 100,
        secs * 1e3,
        secs * 1e9 / (out.len() - 1) as f64
    );
}
