//! `zklink exchange` killed with SIGKILL and restarted, against a node and its API in this process.
//!
//! 1. Quiet kill: after a burst of acknowledged orders, the book and the engine's snapshot digest
//!    after the restart are exactly the ones before the kill.
//! 2. Kill in flight: orders keep arriving (and fills keep settling) when the process dies at a
//!    random moment (seed printed; `ZKLINK_EXCHANGE_CRASH_SEED` repeats it). After the restart
//!    every acknowledged order is there, the journal replays to the venue's digest, settlement
//!    catches up, the submitter's nonce on L2 is exactly the first nonce plus the fills that were
//!    not refused (no fill settled twice or lost), and each trader's L2 balance is what those
//!    fills say. The audit finds L2 as the replay has it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_exchange::Venue;
use zklink_executor::testkit::TestUser;
use zklink_types::test_utils::{E18, USD, USDC, WETH};
use zklink_types::{FillSettlement, Order};

use crate::devnet_process::Ports;
use crate::world::World;

/// A `zklink exchange` process; killed when dropped.
struct ExchangeProcess(Child);

impl ExchangeProcess {
    fn start(config: &Path, log: &Path) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_zklink"))
            .args(["exchange", "--config", config.to_str().unwrap()])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start zklink exchange");
        Self(child)
    }

    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for ExchangeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn order(w: &World, u: &TestUser, slot: u16, is_sell: bool, milli: u128, cents: u128) -> Order {
    zklink_exchange::test_utils::weth_usd_order(w.id(u), &u.l2, (slot, 0), is_sell, milli, cents)
}

/// Waits (bounded) until the venue answers.
async fn wait_up(c: &HttpClient, log: &Path) -> Value {
    let start = Instant::now();
    loop {
        if let Ok(s) = c.request::<Value, _>("exchange_status", rpc_params![]).await {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the exchange did not start:\n{}", read(log));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned()
}

/// Waits (bounded) until no fill waits for the node.
async fn settled(c: &HttpClient) -> Value {
    for _ in 0..400 {
        let s: Value = c.request("exchange_status", rpc_params![]).await.unwrap();
        if s["pending"] == 0 {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fills not settled in 10 s");
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_killed_mid_flight_rebuilds_its_book_and_settles_every_fill_once() {
    let seed = std::env::var("ZKLINK_EXCHANGE_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64
    });
    println!("exchange crash seed {seed} (ZKLINK_EXCHANGE_CRASH_SEED={seed} repeats it)");
    let mut rng = Rng(seed);
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 1_000 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000_000 * E18, true);
    let dir = tempfile::tempdir().unwrap();
    let port = Ports::pick().exchange;
    let config = dir.path().join("exchange.json");
    let secret: [u8; 32] = submitter.l1.to_bytes().into();
    let file = json!({
        "node": w.node_url,
        "listen": format!("127.0.0.1:{port}"),
        "dataDir": dir.path().join("venue"),
        "submitterKey": format!("0x{}", hex::encode(secret)),
        "batch": 50,
        "markets": [zklink_exchange::test_utils::weth_usd()],
    });
    std::fs::write(&config, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
    let log = dir.path().join("exchange.log");
    let url = format!("http://127.0.0.1:{port}");
    let c = HttpClientBuilder::default().request_timeout(Duration::from_secs(10)).build(&url).unwrap();
    let place = |o: Order| {
        let c = c.clone();
        async move { c.request::<Value, _>("exchange_placeOrder", rpc_params![json!({ "market": 1, "order": o })]).await }
    };

    // 1. A quiet kill: the book comes back exactly.
    let ex = ExchangeProcess::start(&config, &log);
    wait_up(&c, &log).await;
    let mut slot = 0u16;
    let mut next_slot = || {
        slot += 1;
        slot
    };
    for i in 0..40u128 {
        let (who, sell) = if i % 2 == 0 { (&alice, true) } else { (&bob, false) };
        let cents = 300_000 + (i % 7) * 50 - if sell { 0 } else { 200 };
        place(order(&w, who, next_slot(), sell, 10 + i % 5 * 10, cents)).await.unwrap();
    }
    let before: Value = c.request("exchange_status", rpc_params![]).await.unwrap();
    let book_before: Value = c.request("exchange_book", rpc_params![1, 100]).await.unwrap();
    ex.kill();
    let ex = ExchangeProcess::start(&config, &log);
    let after = wait_up(&c, &log).await;
    assert_eq!(after["digest"], before["digest"], "the same engine snapshot after kill -9");
    let book_after: Value = c.request("exchange_book", rpc_params![1, 100]).await.unwrap();
    assert_eq!(book_after, book_before);

    // 2. Killed while orders arrive and fills settle.
    let mut acked: Vec<Value> = Vec::new();
    let kill_after = Duration::from_millis(100 + rng.next() % 900);
    let started = Instant::now();
    let mut in_flight = tokio::task::JoinSet::new();
    let mut ex = Some(ex);
    while ex.is_some() || !in_flight.is_empty() {
        if ex.is_some() && started.elapsed() >= kill_after {
            ex.take().unwrap().kill();
        }
        if ex.is_some() && in_flight.len() < 8 {
            let sell = rng.next().is_multiple_of(2);
            let who = if sell { &alice } else { &bob };
            let cents = 299_500 + (rng.next() % 10) as u128 * 100;
            in_flight.spawn(place(order(&w, who, next_slot(), sell, 10 + (rng.next() % 10) as u128 * 10, cents)));
            continue;
        }
        if let Some(done) = in_flight.join_next().await {
            if let Ok(v) = done.unwrap() {
                acked.push(v);
            }
        }
    }
    println!("{} orders acknowledged before the kill at {kill_after:?}", acked.len());
    let _ex = ExchangeProcess::start(&config, &log);
    let status = wait_up(&c, &log).await;
    for v in &acked {
        let back: Value = c.request("exchange_order", rpc_params![v["hash"].clone()]).await.unwrap();
        assert_eq!(back["hash"], v["hash"], "an acknowledged order is lost: {v}");
    }
    let journal: Vec<zklink_exchange::Entry> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    let mut replay = Venue::new();
    for e in &journal {
        replay.apply(e).unwrap();
    }
    assert_eq!(format!("0x{}", hex::encode(replay.engine().digest())), status["digest"].as_str().unwrap());

    // Settlement catches up: every fill not refused is on L2 exactly once.
    let s = settled(&c).await;
    let genesis = replay.genesis().unwrap();
    let settleable = replay.settleable_fills() as u32;
    let nonce = w.node.keeper().state().account(genesis.submitter).unwrap().nonce.0;
    assert_eq!(nonce, genesis.first_nonce.0 + settleable, "one OrderMatching per fill: {s}");
    assert!(settleable > 0, "the test traded");
    let mut weth = 1_000 * E18;
    let mut usd = 0u128;
    for f in replay.fills().filter(|f| f.refused.is_none()) {
        let (maker, taker) = (&replay.order(f.maker).unwrap().order, &replay.order(f.taker).unwrap().order);
        let m = FillSettlement::new(maker.is_sell, (maker.base_token, maker.quote_token), (f.base, f.quote), 10, 20);
        // Alice only sells and Bob only buys: whichever is the maker, Alice gives base, gets quote.
        let alice_is_maker = maker.account_id == w.id(&alice);
        weth -= f.base;
        usd += if alice_is_maker { m.maker_gets - m.maker_fee } else { m.maker_gives - m.taker_fee };
        let _ = taker;
    }
    assert_eq!(w.balance(&alice, WETH), weth, "Alice's WETH is what the fills say");
    assert_eq!(w.balance(&alice, USD), usd, "Alice's USD is what the fills say");

    w.node.keeper().seal().unwrap();
    let report = zklink_exchange::audit::audit(&url, &w.node_url, 1).await.unwrap();
    assert_eq!(report.divergence, None, "{report:?}");
    assert_eq!(report.settled_on_l2, settleable as usize);
}
