//! `zklink bench load`: a bounded loopback load generator for the API. Users are funded by
//! deposits, transfers are pre-signed in nonce order (one sequence per client), and the clients
//! submit them concurrently over HTTP to an in-process node (keeper with its write-ahead log on
//! disk, the API on 127.0.0.1). It reports accepted transfers per second and the acknowledgement
//! latency percentiles, then the cost per transfer in-process: the signature check (parallel,
//! before the keeper's lock) and the sequencing path (execution, write-ahead log, sealing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_executor::verify::VerifiedTx;
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::test_utils::{E18, USD, USDC};
use zklink_types::{L2Tx, Network, PriorityTx, TxHash};

/// Options of `zklink bench load`.
#[derive(clap::Args)]
pub(crate) struct LoadArgs {
    /// Transfers per client.
    #[arg(long, default_value_t = 250)]
    txs: usize,
    /// Concurrent clients (each with its own account).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Largest block the keeper seals (chunks).
    #[arg(long, default_value_t = 16)]
    block_chunks: usize,
}

/// A node with funded users, and their pre-signed transfers (one sequence per client).
fn prepare(args: &LoadArgs, dir: &std::path::Path) -> anyhow::Result<(NodeHandle, Vec<Vec<L2Tx>>, Network)> {
    let network = Network::dev(3);
    let store = Arc::new(BlockStore::open(&dir.join("node.redb")).context("opening the block store")?);
    let mut keeper = StateKeeper::open(
        network.clone(),
        store.clone(),
        TEST_FEE_OWNER,
        args.block_chunks,
        zklink_node::node::unix_now(),
    )
    .context("opening the state keeper")?;
    let mut mirror = TestNet::new(network.clone());
    let users: Vec<_> = (0..args.clients as u64).map(|i| mirror.user(i)).collect();
    for (serial, u) in users.iter().enumerate() {
        let mut d = mirror.deposit_tx(1, u.address, 0, USDC, USD, 1_000_000 * E18);
        if let PriorityTx::Deposit(dep) = &mut d {
            dep.serial_id.0 = serial as u64;
        }
        mirror.apply_priority(&d).context("funding a user (mirror)")?;
        keeper.submit_priority(d, 1).context("funding a user")?;
    }
    for u in &users {
        let cpk = mirror.change_pubkey_tx(u);
        mirror.apply_l2(cpk.clone()).context("setting a user's key (mirror)")?;
        keeper.submit(cpk, 1).context("setting a user's key")?;
    }
    let mut sequences = vec![Vec::with_capacity(args.txs); users.len()];
    for _ in 0..args.txs {
        for (i, u) in users.iter().enumerate() {
            let to = users[(i + 1) % users.len()].address;
            let tx = mirror.transfer_tx(u, to, USD, E18, 0);
            mirror.apply_l2(tx.clone()).context("signing the transfers")?;
            sequences[i].push(tx);
        }
    }
    Ok((NodeHandle::new(keeper, store), sequences, network))
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Submits every sequence concurrently over HTTP; returns the sorted latencies and the wall time.
async fn submit_over_http(url: &str, sequences: Vec<Vec<L2Tx>>) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for txs in sequences {
        let client = HttpClientBuilder::default().build(url).with_context(|| format!("connecting to {url}"))?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(txs.len());
            for tx in txs {
                let t = Instant::now();
                let r: Result<TxHash, _> = client.request("zklink_submitTx", rpc_params![tx]).await;
                r.context("zklink_submitTx")?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.context("a client task")??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((latencies, elapsed))
}

/// Runs the load test and prints the figures.
pub(crate) async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("zklink-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("direct")).with_context(|| format!("creating {}", dir.display()))?;
    eprintln!("preparing {} clients × {} signed transfers…", args.clients, args.txs);
    let (node, sequences, network) = prepare(&args, &dir)?;
    let api = zklink_api::serve("127.0.0.1:0".parse().expect("literal"), node.clone(), network)
        .await
        .context("serving the API")?;
    let (latencies, elapsed) = submit_over_http(&format!("http://{}", api.addr), sequences).await?;
    let sealed = node.keeper().next_block_number() - 1;
    api.stop().await;
    let total = latencies.len();
    println!("API load: {total} transfers from {} concurrent clients over HTTP (127.0.0.1)", args.clients);
    println!("  throughput      {:.0} transfers/s accepted", total as f64 / elapsed.as_secs_f64());
    println!(
        "  ack latency     p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!("  blocks sealed   {sealed} (≤ {} chunks each)", args.block_chunks);

    // The same transfers in-process, one at a time: where the time goes.
    let (node, sequences, _) = prepare(&args, &dir.join("direct"))?;
    let ordered: Vec<L2Tx> = (0..args.txs).flat_map(|i| sequences.iter().map(move |s| s[i].clone())).collect();
    let n = ordered.len() as u32;
    let started = Instant::now();
    let verified = ordered
        .into_iter()
        .map(VerifiedTx::verify)
        .collect::<Result<Vec<_>, _>>()
        .context("verifying the transfers")?;
    let verify = started.elapsed() / n;
    let started = Instant::now();
    for v in verified {
        node.keeper().submit_verified(v, 2).context("submitting a transfer in-process")?;
    }
    let apply = started.elapsed() / n;
    println!("  in-process, per transfer on one core:");
    println!("    signature check (parallel, before the keeper's lock)   {:.3} ms", ms(verify));
    println!(
        "    execution + write-ahead log (fsync) + sealing          {:.3} ms = {:.0}/s on the sequencing path",
        ms(apply),
        1.0 / apply.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Options of `zklink bench devnet`.
#[derive(clap::Args)]
pub(crate) struct DevnetArgs {
    /// Rounds of deposit, transfer and withdrawal.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// The node's block time (ms).
    #[arg(long, default_value_t = 500)]
    block_time_ms: u64,
}

/// Polls `done` every 50 ms until it holds (at most 10 minutes); returns how long it took.
async fn time_until(
    what: &str,
    start: Instant,
    mut done: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Duration> {
    while !done().await? {
        if start.elapsed() > Duration::from_secs(600) {
            bail!("{what} did not happen within 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(start.elapsed())
}

/// One round's latencies: deposit → credited, transfer → executed on every chain, withdrawal → claimable.
async fn devnet_round(
    chains: &zklink_l1::TestChains,
    w: &zklink_sdk::Wallet,
    round: usize,
) -> anyhow::Result<[Duration; 3]> {
    use zklink_types::{ChainId, TokenId};
    let (usd, usdc) = (TokenId(USD), TokenId(USDC));
    let c1 = chains.chain(1);
    let balance =
        async || anyhow::Ok(w.account().await.context("reading the account")?.map_or(0, |a| a.balance(0, usd.0)));
    let token =
        zklink_contracts::zklink::TestToken::new(c1.token(usdc.0).context("no USDC")?, c1.client.provider().clone());
    token
        .mint(w.address(), alloy::primitives::U256::from(10_000_000u64))
        .send()
        .await
        .context("minting USDC")?
        .get_receipt()
        .await
        .context("minting USDC")?;
    let before = balance().await?;
    w.deposit(ChainId(1), c1.anvil.endpoint_url(), usdc, 10_000_000, true).await.context("depositing")?;
    let start = Instant::now();
    let deposit = time_until("credit", start, async || Ok(balance().await? >= before + 10 * E18)).await?;
    if round == 0 {
        w.change_pubkey(ChainId(1), usd, 0).await.context("setting the L2 key")?;
    }

    let start = Instant::now();
    let hash = w
        .transfer(alloy::primitives::Address::repeat_byte(0xf1), usd, E18, 0)
        .await
        .context("submitting the transfer")?;
    let transfer = time_until("execution", start, async || {
        let Some(n) = w.block_of(hash, 1).await.context("reading the tx status")? else { return Ok(false) };
        for c in &chains.chains {
            if c.client.block_counters().await.context("reading the block counters")?.executed < n {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .await?;

    let pending = async || c1.client.pending_balance(w.address(), usdc.0).await.context("reading the pending balance");
    let claimable = pending().await?;
    let start = Instant::now();
    w.withdraw(ChainId(1), usd, usdc, E18, 0, 0).await.context("submitting the withdrawal")?;
    let withdraw = time_until("claimable", start, async || Ok(pending().await? > claimable)).await?;
    Ok([deposit, transfer, withdraw])
}

/// Runs the devnet in-process and times deposit → credited, transfer → executed on every chain
/// and withdrawal → claimable.
pub(crate) async fn devnet(args: DevnetArgs) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("zklink-bench-devnet-{}", std::process::id()));
    let crate::devnet::Devnet { chains, node, api, oracles, .. } =
        crate::devnet::launch(crate::devnet::LaunchOptions {
            data_dir: dir.clone(),
            rpc: "127.0.0.1:0".parse().expect("literal"),
            block_time: Duration::from_millis(args.block_time_ms),
            priority_expiration_blocks: 10_000,
            // The figures in docs/benchmarks.md are of 4-chunk blocks (a round is a few ops).
            block_sizes: Some(vec![4]),
        })
        .await?;
    let url = format!("http://{}", api.addr);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let key = chains.chain(1).anvil.keys()[1];
    let measure = async {
        let result = async {
            let w = zklink_sdk::Wallet::connect(&url, &key.0).await.context("connecting the wallet")?;
            let mut rounds = Vec::new();
            for r in 0..args.rounds {
                let t = devnet_round(&chains, &w, r).await?;
                eprintln!(
                    "round {}: deposit→credited {:.2} s, transfer→executed {:.2} s, withdraw→claimable {:.2} s",
                    r + 1,
                    t[0].as_secs_f64(),
                    t[1].as_secs_f64(),
                    t[2].as_secs_f64()
                );
                rounds.push(t);
            }
            let restored = restore_devnet(&chains, &dir).await?;
            anyhow::Ok((rounds, restored))
        }
        .await;
        let _ = stop.send(());
        result
    };
    let (oracles, oracle_apis): (Vec<_>, Vec<_>) = oracles.into_iter().unzip();
    let ((), rounds) = tokio::join!(
        crate::devnet::run_network(node, oracles, async {
            let _ = stopped.await;
        }),
        measure
    );
    for oracle_api in oracle_apis {
        oracle_api.stop().await;
    }
    api.stop().await;
    drop(chains);
    let _ = std::fs::remove_dir_all(&dir);
    let (rounds, restored) = rounds?;
    let mean = |i: usize| rounds.iter().map(|r| r[i].as_secs_f64()).sum::<f64>() / rounds.len().max(1) as f64;
    println!(
        "devnet latencies ({} rounds, block time {} ms, 4-chunk dev blocks, one prover thread):",
        rounds.len(),
        args.block_time_ms
    );
    println!("  deposit → credited on L2                 {:.2} s", mean(0));
    println!("  transfer → executed on all 3 chains      {:.2} s", mean(1));
    println!("  withdrawal → claimable on L1             {:.2} s", mean(2));
    let rate = |n: f64| n / restored.secs.max(1e-9);
    println!(
        "  restore from L1 (anvil RPC on loopback)   {} blocks, {} ops in {:.2} s: {:.1} blocks/s, {:.0} ops/s",
        restored.block,
        restored.ops,
        restored.secs,
        rate(f64::from(restored.block)),
        rate(restored.ops as f64)
    );
    Ok(())
}

/// Restores the devnet's state from its chains alone (end to end: event scan, commit calldata,
/// checks, replay) and checks it against every chain.
async fn restore_devnet(
    chains: &zklink_l1::TestChains,
    dir: &std::path::Path,
) -> anyhow::Result<zklink_restore::RestoreReport> {
    let config = zklink_restore::RestoreConfig {
        network: chains.network.clone(),
        fee_owner: alloy::signers::local::PrivateKeySigner::from_bytes(&chains.chain(1).anvil.keys()[0])
            .context("anvil's dev key 0")?
            .address(),
        chains: chains.endpoints(),
        state_path: dir.join("restored").join("state.redb"),
        checkpoint_every: 100,
    };
    let mut restorer = zklink_restore::Restorer::open(config).context("opening the restored state")?;
    restorer.run(None, |_| Ok(())).await.context("restoring from L1")
}
