//! `zklink bench pools`: AMM pools, at the API and in the executor.
//!
//! 1. Quote latency: an in-process node (keeper with its write-ahead log on disk) holding a
//!    USD/WETH pool, the API on 127.0.0.1, and clients calling `zklink_quoteSwap` over HTTP: one
//!    client alone, then several at once, then the same clients while another submits swaps into
//!    the pool (each applied and logged with an fsync under the keeper's lock, which quotes take
//!    too). p50, p99 and max latency, quotes per second.
//! 2. Executor swaps per second on the `main` preset's trees (as `cargo bench -p zklink-executor
//!    --bench throughput` measures transfers and matchings): blocks of pre-signed exact-in swaps
//!    against one pool, alternating direction, through `verify_batch` (parallel), `apply_verified`
//!    (in order) and `root()`, with transfers of the same users through the same path for
//!    comparison.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_executor::{verify_batch, Executor};
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_state::State;
use zklink_types::api::{QuoteSwapRequest, SwapQuoteView};
use zklink_types::test_utils::{E18, USD, USDC, WETH};
use zklink_types::*;

use crate::bench::{ms, percentile};

/// Options of `zklink bench pools`.
#[derive(clap::Args)]
pub(crate) struct PoolsArgs {
    /// Quotes per client.
    #[arg(long, default_value_t = 2000)]
    quotes: usize,
    /// Concurrent quoting clients in the second and third rounds.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Blocks of 1,000 swaps (and of 1,000 transfers) through the executor.
    #[arg(long, default_value_t = 3)]
    blocks: usize,
}

/// Txs per executor block.
const BLOCK_TXS: usize = 1000;

/// A node with a USD/WETH pool (3,000,000 USD and 1,000 WETH) and a funded trader, and the
/// trader's pre-signed swaps (alternating direction, 1 USD or 0.0003 WETH in, any output).
fn quote_node(dir: &std::path::Path, swaps: usize) -> anyhow::Result<(NodeHandle, Network, u32, Vec<L2Tx>)> {
    let network = Network::dev(3);
    let store = Arc::new(BlockStore::open(&dir.join("node.redb")).context("opening the block store")?);
    let mut keeper =
        StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16, zklink_node::node::unix_now())
            .context("opening the state keeper")?;
    let mut mirror = TestNet::new(network.clone());
    let (lp, trader) = (mirror.user(0), mirror.user(1));
    let deposits = [
        (&lp, USDC, USD, 10_000_000 * E18),
        (&lp, WETH, WETH, 10_000 * E18),
        (&trader, USDC, USD, 1_000_000 * E18),
        (&trader, WETH, WETH, 1_000 * E18),
    ];
    for (serial, (u, l1, l2, amount)) in deposits.into_iter().enumerate() {
        let mut d = mirror.deposit_tx(1, u.address, 0, l1, l2, amount);
        if let PriorityTx::Deposit(dep) = &mut d {
            dep.serial_id.0 = serial as u64;
        }
        mirror.apply_priority(&d).context("funding (mirror)")?;
        keeper.submit_priority(d, 1).context("funding")?;
    }
    fn both(mirror: &mut TestNet, keeper: &mut StateKeeper, tx: L2Tx) -> anyhow::Result<()> {
        mirror.apply_l2(tx.clone()).context("a setup tx (mirror)")?;
        keeper.submit(tx, 1).context("a setup tx")?;
        Ok(())
    }
    for tx in [mirror.change_pubkey_tx(&lp), mirror.change_pubkey_tx(&trader)] {
        both(&mut mirror, &mut keeper, tx)?;
    }
    let create = mirror.create_pool_tx(&lp, USD, WETH, 30, 20, USD, 0);
    both(&mut mirror, &mut keeper, create)?;
    let first_lp = TokenId(*network.preset.lp_tokens().start());
    let pool = mirror.state().pool_of_lp_token(first_lp).context("the pool")?;
    let add = mirror.add_liquidity_tx(&lp, pool, 3_000_000 * E18, 1_000 * E18, 0, 0);
    both(&mut mirror, &mut keeper, add)?;
    let mut signed = Vec::with_capacity(swaps);
    for i in 0..swaps {
        let (token_in, amount) = if i.is_multiple_of(2) { (USD, E18) } else { (WETH, 3 * E18 / 10_000) };
        let tx = mirror.swap_tx(&trader, pool, token_in, false, amount, 0, 0);
        mirror.apply_l2(tx.clone()).context("signing the swaps")?;
        signed.push(tx);
    }
    Ok((NodeHandle::new(keeper, store), network, pool.0, signed))
}

/// `clients` clients each send `quotes` quotes; returns the sorted latencies and the wall time.
async fn quote_over_http(
    url: &str,
    pool: u32,
    clients: usize,
    quotes: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let client = HttpClientBuilder::default().build(url).with_context(|| format!("connecting to {url}"))?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(quotes);
            for i in 0..quotes {
                let (token_in, exact_out) = if (i + c) % 2 == 0 { (USD, false) } else { (WETH, true) };
                let amount = if exact_out { E18 / 1000 + i as u128 } else { E18 + i as u128 };
                let q = QuoteSwapRequest { pool, token_in, exact_out, amount };
                let t = Instant::now();
                let r: Result<SwapQuoteView, _> = client.request("zklink_quoteSwap", rpc_params![q]).await;
                r.context("zklink_quoteSwap")?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.context("a quoting task")??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((latencies, elapsed))
}

fn report_quotes(what: &str, latencies: &[Duration], elapsed: Duration) {
    println!(
        "  {what:<44} p50 {:.3} ms, p99 {:.3} ms, max {:.2} ms; {:.0} quotes/s",
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
}

/// The quote latency rounds.
async fn quotes(args: &PoolsArgs, dir: &std::path::Path) -> anyhow::Result<()> {
    let (node, network, pool, swaps) = quote_node(dir, args.quotes)?;
    let api = zklink_api::serve("127.0.0.1:0".parse().expect("literal"), node.clone(), network)
        .await
        .context("serving the API")?;
    let url = format!("http://{}", api.addr);
    println!("zklink_quoteSwap over HTTP (127.0.0.1), a USD/WETH pool on the dev preset:");
    // A warm-up: connections, allocations.
    quote_over_http(&url, pool, 1, 100).await?;
    let (l, t) = quote_over_http(&url, pool, 1, args.quotes).await?;
    report_quotes("1 client", &l, t);
    let (l, t) = quote_over_http(&url, pool, args.clients, args.quotes).await?;
    report_quotes(&format!("{} clients at once", args.clients), &l, t);
    // The same while swaps stream into the pool through zklink_submitTx.
    let submitter = HttpClientBuilder::default().build(&url).with_context(|| format!("connecting to {url}"))?;
    let stream = tokio::spawn(async move {
        let started = Instant::now();
        let n = swaps.len();
        for tx in swaps {
            let r: Result<TxHash, _> = submitter.request("zklink_submitTx", rpc_params![tx]).await;
            r.context("zklink_submitTx")?;
        }
        anyhow::Ok((n, started.elapsed()))
    });
    let (l, t) = quote_over_http(&url, pool, args.clients, args.quotes).await?;
    let (n, took) = stream.await.context("the swap stream")??;
    report_quotes(&format!("{} clients, swaps streaming in", args.clients), &l, t);
    println!(
        "  (the stream: {n} swaps accepted in {:.2} s, {:.0}/s, each applied and logged with an fsync)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    api.stop().await;
    Ok(())
}

/// The main preset with a block shape large enough for 1,000 swaps (tree depths unchanged).
fn main_network() -> Network {
    let mut n = Network::dev(3);
    n.preset = Preset::main();
    n.preset.block_chunk_sizes = vec![4096];
    n.name = "zklink-bench".into();
    n
}

/// An executor on the main preset with `users` funded (1,000,000 USD and 1,000 WETH each, set in
/// the state) and a USD/WETH pool holding 30,000,000 USD and 10,000 WETH created and funded by
/// the last user through txs; the pool's id.
fn pool_executor(users: &[TestUser]) -> anyhow::Result<(Executor, AccountId)> {
    let net = main_network();
    let mut state = State::genesis(net.preset.clone(), TEST_FEE_OWNER);
    for u in users {
        let id = state.create_account(u.address).context("an account")?;
        state.set_pubkey_hash(id, u.pkh).context("a key")?;
        state.set_balance(id, SubAccountId(0), TokenId(USD), 100_000_000 * E18).context("a balance")?;
        state.set_balance(id, SubAccountId(0), TokenId(WETH), 100_000 * E18).context("a balance")?;
    }
    let n = users.len() as u128;
    state
        .set_balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(1), TokenId(2), n * 100_000_000 * E18)
        .context("reserves")?;
    state
        .set_balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(1), TokenId(WETH), n * 100_000 * E18)
        .context("reserves")?;
    let mut exec = Executor::new(net.clone(), state).context("the executor")?;
    let lp = users.last().context("no users")?;
    let lp_id = AccountId(users.len() as u32 + 1);
    let create = L2Tx::CreatePool(CreatePool {
        account_id: lp_id,
        sub_account_id: SubAccountId(0),
        kind: PoolKind::ConstantProduct,
        token_a: TokenId(USD),
        token_b: TokenId(WETH),
        fee_bps: 30,
        protocol_share: 20,
        amp: 0,
        fee_token: TokenId(USD),
        fee: 0,
        nonce: Nonce(0),
        signature: TxSignature::default(),
    });
    exec.apply_l2(create.sign(&lp.l2)?).context("creating the pool")?;
    let pool = exec.state().pool_of_lp_token(TokenId(*net.preset.lp_tokens().start())).context("the pool")?;
    let add = L2Tx::AddLiquidity(AddLiquidity {
        account_id: lp_id,
        sub_account_id: SubAccountId(0),
        pool,
        max_a: 30_000_000 * E18,
        max_b: 10_000 * E18,
        min_shares: 0,
        fee_token: TokenId(USD),
        fee: 0,
        nonce: Nonce(1),
        valid_from: 0,
        valid_until: u32::MAX,
        signature: TxSignature::default(),
    });
    exec.apply_l2(add.sign(&lp.l2)?).context("funding the pool")?;
    exec.seal_block(BlockNumber(1)).context("sealing the setup block")?;
    exec.root();
    Ok((exec, pool))
}

/// Verify, apply and root times of `blocks`.
struct Phases {
    txs: usize,
    verify: Duration,
    apply: Duration,
    root: Duration,
}

fn run_blocks(exec: &mut Executor, first: u32, blocks: Vec<Vec<L2Tx>>) -> anyhow::Result<Phases> {
    let mut p = Phases { txs: 0, verify: Duration::ZERO, apply: Duration::ZERO, root: Duration::ZERO };
    for (i, txs) in blocks.into_iter().enumerate() {
        let t = Instant::now();
        let verified = verify_batch(txs);
        p.verify += t.elapsed();
        let t = Instant::now();
        for v in &verified {
            let v = v.as_ref().map_err(|e| anyhow::anyhow!("a bench tx does not verify: {e}"))?;
            exec.apply_verified(v).context("a bench tx")?;
        }
        p.apply += t.elapsed();
        let t = Instant::now();
        exec.root();
        p.root += t.elapsed();
        exec.seal_block(BlockNumber(first + i as u32)).context("sealing")?;
        p.txs += verified.len();
    }
    Ok(p)
}

fn report_phases(what: &str, p: &Phases) {
    let total = p.verify + p.apply + p.root;
    println!(
        "  {what:<10} {} txs: {:.0} tx/s end to end ({:.2} s: verify {:.2} s, apply {:.2} s = {:.0} tx/s, root {:.2} s)",
        p.txs,
        p.txs as f64 / total.as_secs_f64(),
        total.as_secs_f64(),
        p.verify.as_secs_f64(),
        p.apply.as_secs_f64(),
        p.txs as f64 / p.apply.as_secs_f64(),
        p.root.as_secs_f64()
    );
}

/// The executor rounds.
fn executor(args: &PoolsArgs) -> anyhow::Result<()> {
    let net = main_network();
    let n = BLOCK_TXS + 1;
    eprintln!("deriving {n} users' keys…");
    let users: Vec<TestUser> = (0..n as u64).map(|i| TestUser::new(i, &net)).collect();
    let (mut exec, pool) = pool_executor(&users)?;
    eprintln!("signing {} blocks of {BLOCK_TXS} swaps and of {BLOCK_TXS} transfers…", args.blocks);
    let swap = |i: usize, nonce: u32| {
        let (token_in, amount) = if i.is_multiple_of(2) { (USD, 100 * E18) } else { (WETH, E18 / 30) };
        L2Tx::Swap(Swap {
            account_id: AccountId(i as u32 + 2),
            sub_account_id: SubAccountId(0),
            pool,
            token_in: TokenId(token_in),
            exact_out: false,
            amount,
            limit: 0,
            fee: 0,
            nonce: Nonce(nonce),
            valid_from: 0,
            valid_until: u32::MAX,
            signature: TxSignature::default(),
        })
        .sign(&users[i].l2)
    };
    let swaps: Vec<Vec<L2Tx>> = (0..args.blocks)
        .map(|k| (0..BLOCK_TXS).map(|i| swap(i, k as u32)).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    let transfer = |i: usize, nonce: u32| {
        L2Tx::Transfer(Transfer {
            account_id: AccountId(i as u32 + 2),
            from_sub_account_id: SubAccountId(0),
            to: users[(i + 1) % BLOCK_TXS].address,
            to_sub_account_id: SubAccountId(0),
            token: TokenId(WETH),
            amount: E18,
            fee: 0,
            nonce: Nonce(nonce),
            signature: TxSignature::default(),
        })
        .sign(&users[i].l2)
    };
    let base = args.blocks as u32;
    let transfers: Vec<Vec<L2Tx>> = (0..args.blocks)
        .map(|k| (0..BLOCK_TXS).map(|i| transfer(i, base + k as u32)).collect::<Result<_, _>>())
        .collect::<Result<_, _>>()?;
    println!(
        "executor on the main preset's trees, blocks of {BLOCK_TXS} txs (verify in parallel on {} threads, apply in order, root):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let p = run_blocks(&mut exec, 2, swaps)?;
    report_phases("swaps", &p);
    let (_, r) = exec.state().pool(pool).context("the pool")?;
    let p = run_blocks(&mut exec, 2 + base, transfers)?;
    report_phases("transfers", &p);
    println!(
        "  (one pool: every swap reads and writes its leaves; after the swaps it holds {} USD and {} WETH)",
        units::format_units(r.a, 18),
        units::format_units(r.b, 18)
    );
    Ok(())
}

/// Runs both parts and prints the figures.
pub(crate) async fn pools(args: PoolsArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("zklink-bench-pools-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let quoted = quotes(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    quoted?;
    tokio::task::spawn_blocking(move || executor(&args)).await.context("the executor bench")?
}
