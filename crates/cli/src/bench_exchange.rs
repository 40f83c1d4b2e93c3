//! `zklink bench exchange`: the venue end to end on loopback. An in-process node with its API
//! (keeper, write-ahead log on disk), the venue with its journal on disk and its API, and clients
//! over HTTP with orders signed beforehand (signing is the users' cost, not the venue's).
//!
//! 1. **Placement**: concurrent clients place orders that do not cross; orders accepted per
//!    second (signature checked, gated, journaled, matched) and the acknowledgement latency.
//! 2. **Settlement**: makers rest asks, then takers' immediate-or-cancel bids each take several;
//!    fills settled per second through the node (from the first taker order to the last fill
//!    applied), and where the time went: the venue's journal syncs, the settler's signing and
//!    the node's `zklink_submitTxs` calls (verifying three signatures per matching, executing,
//!    logging).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_exchange::service::{Exchange, ExchangeSettings};
use zklink_exchange::test_utils::{weth_usd, weth_usd_order};
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::test_utils::{E18, USD, USDC, WETH};
use zklink_types::{Network, Order, Preset, PriorityTx, SubAccountId};

/// Options of `zklink bench exchange`.
#[derive(clap::Args)]
pub(crate) struct ExchangeArgs {
    /// Orders per client in the placement run.
    #[arg(long, default_value_t = 400)]
    orders: usize,
    /// Concurrent clients (each with its own account).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Fills in the settlement run.
    #[arg(long, default_value_t = 10_000)]
    fills: usize,
    /// Fills each taker order makes (it takes that many resting asks).
    #[arg(long, default_value_t = 5)]
    fills_per_taker: usize,
    /// Fills per settlement batch (`zklink_submitTxs` call).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Largest block the node seals (chunks).
    #[arg(long, default_value_t = 256)]
    block_chunks: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(((sorted.len() as f64 - 1.0) * p).round() as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Setup {
    node: NodeHandle,
    mirror: TestNet,
    serial: u64,
}

impl Setup {
    fn fund(&mut self, n: u64, token: (u16, u16), amount: u128) -> anyhow::Result<TestUser> {
        let u = self.mirror.user(n);
        let mut d = self.mirror.deposit_tx(1, u.address, 0, token.0, token.1, amount);
        if let PriorityTx::Deposit(dep) = &mut d {
            dep.serial_id.0 = self.serial;
        }
        self.serial += 1;
        self.mirror.apply_priority(&d).context("funding (mirror)")?;
        self.node.keeper().submit_priority(d, 1).context("funding")?;
        let cpk = self.mirror.change_pubkey_tx(&u);
        self.mirror.apply_l2(cpk.clone()).context("setting a key (mirror)")?;
        self.node.keeper().submit(cpk, 1).context("setting a key")?;
        Ok(u)
    }

    fn order(&self, u: &TestUser, slot: u16, is_sell: bool, lots: u128, cents: u128) -> anyhow::Result<Order> {
        // Lots of 0.001 WETH are the fixture's thousandths.
        Ok(weth_usd_order(self.mirror.id_of(u), &u.l2, (slot, 0), is_sell, lots, cents))
    }
}

/// Places every client's orders concurrently (`in_flight` at a time per client); returns the
/// sorted latencies and the wall time.
async fn place_all(
    url: &str,
    per_client: Vec<Vec<(Order, &'static str)>>,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for orders in per_client {
        let c: HttpClient = HttpClientBuilder::default().build(url).context("connecting to the venue")?;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(orders.len());
            for (o, kind) in orders {
                let t = Instant::now();
                let r: Result<Value, _> = c
                    .request("exchange_placeOrder", rpc_params![json!({ "market": 1, "type": kind, "order": o })])
                    .await;
                r.context("exchange_placeOrder")?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.context("a client task")??);
    }
    let wall = started.elapsed();
    all.sort();
    Ok((all, wall))
}

/// Runs the benchmark and prints the figures.
pub(crate) async fn exchange(args: ExchangeArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("zklink-bench-exchange-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let network = Network { preset: Preset::main(), ..Network::dev(3) };
    let store = Arc::new(BlockStore::open(&dir.join("node.redb")).context("opening the block store")?);
    let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, args.block_chunks, 1)
        .context("opening the state keeper")?;
    let node = NodeHandle::new(keeper, store);
    let api = zklink_api::serve("127.0.0.1:0".parse().expect("literal"), node.clone(), network.clone())
        .await
        .context("serving the node's API")?;
    let mut s = Setup { node: node.clone(), mirror: TestNet::new(network), serial: 0 };
    let clients = args.clients.max(2);
    // One resting ask per fill.
    let makers_needed = args.fills.max(1);
    eprintln!("funding {} accounts…", clients + 3);
    let submitter = s.fund(0, (USDC, USD), 1_000 * E18)?;
    let traders: Vec<TestUser> = (1..=clients as u64)
        .map(|n| {
            if n % 2 == 1 {
                s.fund(n, (WETH, WETH), 1_000_000 * E18)
            } else {
                s.fund(n, (USDC, USD), 1e12 as u128 * E18)
            }
        })
        .collect::<anyhow::Result<_>>()?;
    let maker = s.fund(clients as u64 + 1, (WETH, WETH), 1_000_000 * E18)?;
    let taker = s.fund(clients as u64 + 2, (USDC, USD), 1e12 as u128 * E18)?;
    let ex = Exchange::start(ExchangeSettings {
        node_url: format!("http://{}", api.addr),
        data_dir: dir.join("venue"),
        submitter_secret: submitter.l1.to_bytes().into(),
        sub_account: SubAccountId(0),
        fee_token: "USD".into(),
        markets: vec![weth_usd()],
        batch: args.batch,
    })
    .await
    .context("starting the venue")?;
    let venue_api = zklink_exchange::rpc::serve("127.0.0.1:0".parse().expect("literal"), ex.clone())
        .await
        .context("serving the venue's API")?;
    let url = format!("http://{}", venue_api.addr);

    // 1. Placement: sellers above 3100, buyers below 2900, one slot per order.
    eprintln!("signing {} × {} orders…", clients, args.orders);
    let mut per_client = Vec::new();
    for (i, u) in traders.iter().enumerate() {
        let sell = i % 2 == 0;
        let orders = (0..args.orders)
            .map(|k| {
                let cents = if sell { 310_000 + (k % 500) as u128 } else { 290_000 - (k % 500) as u128 };
                s.order(u, k as u16 + 1, sell, 10, cents).map(|o| (o, "Limit"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        per_client.push(orders);
    }
    let before = ex.stats();
    let (lat, wall) = place_all(&url, per_client).await?;
    let after = ex.stats();
    let n = lat.len();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("exchange bench ({cores} cores; node, venue and clients in one process, HTTP on 127.0.0.1)");
    println!("1. placement: {n} non-crossing limit orders from {clients} concurrent clients");
    println!(
        "  accepted        {:.0} orders/s (signature checked, gated, journaled, matched)",
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "  ack latency     p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&lat, 0.999)),
        ms(lat.last().copied().unwrap_or_default())
    );
    let groups = (after.groups - before.groups).max(1);
    println!(
        "  journal         {} groups ({:.1} entries each), {:.3} ms per sync; gate+apply {:.1} µs per entry",
        groups,
        (after.entries - before.entries) as f64 / groups as f64,
        (after.journal_ns - before.journal_ns) as f64 / groups as f64 / 1e6,
        (after.apply_ns - before.apply_ns) as f64 / (after.entries - before.entries).max(1) as f64 / 1e3
    );

    // 2. Settlement: asks of 10 lots at 3000.00 from one maker in its own slots; each taker IOC
    // bid of `fills_per_taker` × 10 lots takes that many.
    eprintln!("resting {makers_needed} asks…");
    let asks: Vec<(Order, &'static str)> = (0..makers_needed)
        .map(|k| s.order(&maker, (k + 1) as u16, true, 10, 300_000).map(|o| (o, "PostOnly")))
        .collect::<anyhow::Result<_>>()?;
    let chunks: Vec<Vec<_>> = asks.chunks(asks.len().div_ceil(4)).map(<[_]>::to_vec).collect();
    place_all(&url, chunks).await?;
    let per = args.fills_per_taker.max(1) as u128;
    let bids: Vec<(Order, &'static str)> = (0..args.fills.div_ceil(per as usize))
        .map(|k| s.order(&taker, (k + 1) as u16, false, 10 * per, 300_000).map(|o| (o, "Ioc")))
        .collect::<anyhow::Result<_>>()?;
    let fills_before = ex.venue().fills().count();
    let settled_before = ex.stats();
    let started = Instant::now();
    let chunks: Vec<Vec<_>> = bids.chunks(bids.len().div_ceil(4)).map(<[_]>::to_vec).collect();
    let (_, matched_in) = place_all(&url, chunks).await?;
    let fills = ex.venue().fills().count() - fills_before;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let pending = { ex.venue().fills_after(ex.settled_upto()).filter(|f| f.refused.is_none()).count() };
        if pending == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "{pending} fills still unsettled after 10 minutes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall = started.elapsed();
    let st = ex.stats();
    let settled = st.settled - settled_before.settled;
    let batches = (st.batches - settled_before.batches).max(1);
    println!("2. settlement: {fills} fills ({per} per taker order), each an OrderMatching through the node");
    println!(
        "  matched         in {:.2} s ({:.0} fills/s)",
        matched_in.as_secs_f64(),
        fills as f64 / matched_in.as_secs_f64()
    );
    println!(
        "  settled         {:.0} fills/s through the node ({settled} fills in {:.2} s, {batches} batches of ≤ {})",
        settled as f64 / wall.as_secs_f64(),
        wall.as_secs_f64(),
        args.batch
    );
    let per_fill = |ns: u64| ns as f64 / settled.max(1) as f64 / 1e3;
    println!(
        "  per fill        settler signing {:.1} µs (of which most beside the node's work), node call {:.1} µs \
         (submitter's signature, each order's once, execute, log; one commit per batch)",
        per_fill(st.sign_ns - settled_before.sign_ns),
        per_fill(st.submit_ns - settled_before.submit_ns),
    );
    println!("  blocks sealed   {} (≤ {} chunks)", node.keeper().next_block_number() - 1, args.block_chunks);
    venue_api.stop().await;
    api.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
