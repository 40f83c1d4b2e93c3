//! `zklink devnet`: everything on one machine, on loopback, kept on disk across restarts.
//!
//! Everything lives under `--data-dir`: `devnet.json` (what was deployed where, written once the
//! deployment succeeded and was saved), `network.json` (the public facts `zklink restore` needs),
//! `chain-<n>.json` (each anvil's state, saved whenever its chain grew, at most every
//! `--state-interval`, and on a clean stop), `chain-<n>.pid`, `node/` (the node's database) and
//! `exchange/` (the venue's journal, see [`venue`]). A
//! start with all of them there resumes: the anvils come back on their ports with their blocks,
//! the node replays its store and its pipeline continues from each chain's counters. Otherwise
//! (or with `--fresh`) the devnet starts over.
//!
//! A devnet killed at any instant, anvils included, resumes: each save replaces the state file
//! atomically, and the node takes a deposit or full exit only from an L1 block already saved (a
//! [`zklink_l1::ReadCeiling`] per chain, raised after each save). So the chains on disk always
//! hold every request the node's store has taken; what a crash takes back is at most the L1
//! transactions of the last moments, which the node sends again (it continues from each chain's
//! counters) and which a user sees as not mined.
//!
//! This module has the options and the run (start or resume, serve until a signal, stop in
//! order); [`launch`] starts the chains, the node and the oracles, `persist` keeps and checks what
//! the data directory holds, and `children` deals with anvils an earlier devnet left running;
//! [`venue`] runs the exchange and [`pools`] creates and seeds the AMM pools once (a restart finds
//! them through the API).

mod children;
mod launch;
mod persist;
mod pools;
mod setup;
mod venue;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::providers::Provider;
use anyhow::Context;
use zklink_contracts::anvil::STOP_TIMEOUT;
use zklink_l1::{ChainsSetup, ReadCeiling, TestChains};
use zklink_oracle::api::OracleApi;
use zklink_oracle::Oracle;
use zklink_types::Network;

use children::stop_leftover_anvils;
use launch::{deploy_chains, fund_dev_accounts, start_node, DEV_TOKEN_GRANT};
pub(crate) use launch::{launch, run_network, Devnet, LaunchOptions, DEVNET_PROVER_TOKEN};
use persist::{recorded_ports, resume_chains, wipe, write_manifest, MANIFEST, NETWORK_FILE, NODE_DIR};
use setup::{prepare, Prepared};

/// Options of `zklink devnet`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// Where the devnet keeps its chains (`chain-<n>.json`), what was deployed where
    /// (`devnet.json`) and the node's database (`node/`). A restart resumes from it.
    #[arg(long, env = "ZKLINK_DEVNET_DIR", default_value = "target/devnet")]
    data_dir: PathBuf,
    /// Start over: delete the devnet in --data-dir and deploy new chains.
    #[arg(long)]
    fresh: bool,
    /// Port of chain 1's anvil; chains 2 and 3 listen on the next two ports. 0: ports the OS
    /// picks (a restart then reuses the recorded ones).
    #[arg(long, env = "ZKLINK_DEVNET_L1_PORT", default_value_t = 8545)]
    l1_port: u16,
    /// Seconds between saves of a chain that changed (a crash loses at most that much L1
    /// history; Ctrl-C loses nothing). Deposits are credited on L2 once their L1 block is saved.
    #[arg(long, default_value_t = 1)]
    state_interval: u64,
    /// Address of the JSON-RPC API.
    #[arg(long, env = "ZKLINK_RPC", default_value = "127.0.0.1:3030")]
    rpc: SocketAddr,
    /// Seal the open block once it is this many milliseconds old.
    #[arg(long, default_value_t = 2_000)]
    block_time_ms: u64,
    /// Block shapes to deploy verifiers for and prove, in chunks ("4,16"); the node seals blocks
    /// of the smallest that fits, up to the largest. Default: every shape the dev preset lists. A
    /// resumed devnet must have been deployed with them.
    #[arg(long, value_delimiter = ',')]
    block_sizes: Option<Vec<usize>>,
    /// L1 blocks a priority request may wait before exodus can start (set at deployment: a
    /// resumed devnet keeps its value).
    #[arg(long, default_value_t = 10_000)]
    priority_expiration_blocks: u64,
    /// Address of the devnet's exchange API (another free port if it is taken).
    #[arg(long, env = "ZKLINK_EXCHANGE_LISTEN", default_value = "127.0.0.1:3040")]
    exchange: SocketAddr,
    /// Run no exchange (and no market maker).
    #[arg(long)]
    no_exchange: bool,
    /// Create no AMM pools (by default dev account 6 creates and seeds a WETH/USD and a
    /// USDC/USDT pool once, on the first start; a restart finds them).
    #[arg(long)]
    no_pools: bool,
}

/// How a persistent devnet started.
enum Started {
    /// New chains.
    Fresh,
    /// From disk: the node's last block.
    Resumed(u32),
}

/// Resumes the devnet in `args.data_dir` if it holds one (and `--fresh` is not given), else
/// starts a new one there.
async fn open(args: &Args, keys: &Prepared) -> anyhow::Result<(Devnet, Started)> {
    let dir = &args.data_dir;
    let setup = ChainsSetup { base_port: Some(args.l1_port), state_dir: Some(dir.clone()), own_process_group: true };
    let block_time = Duration::from_millis(args.block_time_ms);
    let manifest = dir.join(MANIFEST);
    stop_leftover_anvils(dir, 3, &recorded_ports(&manifest)).await?;
    if !args.fresh && manifest.is_file() {
        let resumed = async {
            let chains = resume_chains(&manifest, keys, &setup).await?;
            write_manifest(dir, &chains)?;
            let ceilings = save_chains(&chains).await?;
            let devnet = start_node(chains, keys, dir.join(NODE_DIR), args.rpc, block_time, ceilings).await?;
            let block = devnet.node.handle().store().last_block().context("reading the node's store")?;
            anyhow::Ok((devnet, Started::Resumed(block)))
        };
        return resumed.await.with_context(|| {
            format!(
                "cannot resume the devnet in {} (`zklink devnet --fresh` deletes it and starts over; \
                 --l1-port moves the chains)",
                dir.display()
            )
        });
    }
    wipe(dir, 3)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let chains = deploy_chains(keys, args.priority_expiration_blocks, &setup).await.map_err(|e| {
        if format!("{e:#}").contains("Address already in use") {
            e.context(format!("a port of --l1-port {} and the next two is taken: choose others", args.l1_port))
        } else {
            e
        }
    })?;
    fund_dev_accounts(&chains).await?;
    // Saved before the manifest names them: a devnet with a manifest always has its chain files.
    let ceilings = save_chains(&chains).await?;
    write_manifest(dir, &chains)?;
    let devnet = start_node(chains, keys, dir.join(NODE_DIR), args.rpc, block_time, ceilings).await?;
    Ok((devnet, Started::Fresh))
}

/// Saves every chain to its state file; the node may read each up to the block saved.
async fn save_chains(chains: &TestChains) -> anyhow::Result<Vec<ReadCeiling>> {
    let heights = chains.save().await.context("saving the chains")?;
    Ok(heights.into_iter().map(ReadCeiling::at).collect())
}

/// Saves each chain whenever it has grown, at most every `every`, and raises its read ceiling to
/// the block saved, until `stop` turns true. A failed save is retried at the next turn (the node
/// then waits for it: its ceiling stays).
async fn keep_saving(
    chains: &TestChains,
    ceilings: &[ReadCeiling],
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        for (c, ceiling) in chains.chains.iter().zip(ceilings) {
            let grown = c.client.provider().get_block_number().await.is_ok_and(|head| head > ceiling.get());
            if grown {
                match c.anvil.dump_state().await {
                    Ok(saved) => ceiling.raise(saved),
                    Err(e) => tracing::warn!(chain_id = c.anvil.chain_id(), error = %e, "saving the chain failed"),
                }
            }
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// The signals that stop the devnet: Ctrl-C (SIGINT), SIGTERM and SIGHUP on Unix. Listening to
/// them replaces their default action (exit at once), so the devnet always shuts down in order.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind| signal(kind).context("listening for signals");
            Ok(Self {
                interrupt: listen(SignalKind::interrupt())?,
                terminate: listen(SignalKind::terminate())?,
                hangup: listen(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves at the next signal.
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the devnet until Ctrl-C (or SIGTERM), then stops the node, the API and the anvils, in
/// that order, with the anvils' state dumped.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    // Before listening for Ctrl-C: making the key the first time takes a while, and nothing needs
    // cleaning up if it is interrupted.
    let network = Network::dev(3);
    let keys = prepare(&network, args.block_sizes.as_deref().unwrap_or(&network.preset.block_chunk_sizes))?;
    let mut signals = Signals::listen()?;
    let opened = tokio::select! {
        opened = open(&args, &keys) => opened?,
        () = signals.recv() => {
            // Dropping the half-started devnet kills its anvils; a fresh devnet has no manifest yet.
            eprintln!("interrupted while starting");
            return Ok(());
        }
    };
    let (Devnet { chains, node, api, oracles, ceilings }, started) = opened;
    match started {
        Started::Fresh => eprintln!("fresh devnet in {}", args.data_dir.display()),
        Started::Resumed(block) => {
            let mut heights = Vec::new();
            for c in &chains.chains {
                heights.push(c.client.provider().get_block_number().await.map_or("?".into(), |h| h.to_string()));
            }
            eprintln!("resumed from {} at block {block} (L1 blocks {})", args.data_dir.display(), heights.join(", "));
        }
    }
    print_summary(&args, &chains, &api, &oracles);
    // The venue funds its accounts through the running node, so it starts beside it.
    let venue = (!args.no_exchange).then(|| {
        let (url, dir, listen) =
            (format!("http://{}", api.addr), args.data_dir.join(venue::EXCHANGE_DIR), args.exchange);
        let keys = chains.chains.first().map(|c| c.anvil.keys().to_vec()).unwrap_or_default();
        eprintln!("starting the exchange (funding its accounts on a fresh devnet takes a few seconds)…");
        tokio::spawn(async move {
            match venue::start(&url, &keys, &dir, listen).await {
                Ok(v) => {
                    print_venue(&v);
                    Some(v)
                }
                Err(e) => {
                    eprintln!("the devnet's exchange did not start: {e:#}");
                    None
                }
            }
        })
    });
    // The pools are created through the running node too; a restart finds them.
    let pools = (!args.no_pools).then(|| {
        let url = format!("http://{}", api.addr);
        let keys = chains.chains.first().map(|c| c.anvil.keys().to_vec()).unwrap_or_default();
        eprintln!("checking the devnet's AMM pools (creating and seeding them on a fresh devnet takes a few seconds)…");
        tokio::spawn(async move {
            match pools::ensure(&url, &keys).await {
                Ok((list, created)) => pools::print(&list, created),
                Err(e) => eprintln!("the devnet's AMM pools are not ready: {e:#}"),
            }
        })
    });
    let (oracles, oracle_apis): (Vec<_>, Vec<_>) = oracles.into_iter().unzip();
    let (stop_saving, saving_stopped) = tokio::sync::watch::channel(false);
    let network = async {
        run_network(node, oracles, async {
            signals.recv().await;
            eprintln!("\nstopping (the node first: it finishes the proof in progress)…");
        })
        .await;
        let _ = stop_saving.send(true);
    };
    let every = Duration::from_secs(args.state_interval.max(1));
    tokio::join!(network, keep_saving(&chains, &ceilings, every, saving_stopped));
    if let Some(task) = pools {
        task.abort();
        let _ = task.await;
    }
    if let Some(task) = venue {
        if !task.is_finished() {
            task.abort();
        }
        if let Ok(Some(v)) = task.await {
            v.stop().await;
        }
    }
    for oracle_api in oracle_apis {
        oracle_api.stop().await;
    }
    api.stop().await;
    chains.save().await.context("saving the chains")?;
    chains.stop(STOP_TIMEOUT).context("stopping the chains")?;
    eprintln!("devnet stopped; `zklink devnet --data-dir {}` resumes it", args.data_dir.display());
    Ok(())
}

fn print_venue(v: &venue::DevVenue) {
    let venue = v.exchange.venue();
    let markets: Vec<String> = venue.markets().map(|m| format!("{} ({})", m.market.symbol, m.market.id.0)).collect();
    println!(
        "\n  exchange       http://{0} and ws://{0}: markets {1}; a market maker quotes them. Try:\n    \
         ZKLINK_KEY=<key> zklink wallet book 1",
        v.api.addr,
        markets.join(", ")
    );
}

fn print_summary(args: &Args, chains: &TestChains, api: &zklink_api::Api, oracles: &[(Oracle, OracleApi)]) {
    let (dir, with_pools, with_exchange) = (&args.data_dir, !args.no_pools, !args.no_exchange);
    println!("\nzklink devnet is running (Ctrl-C stops it; a restart resumes from {})\n", dir.display());
    println!("  JSON-RPC API   http://{0} and ws://{0} (OpenRPC: rpc.discover)", api.addr);
    println!("  health         http://{}/health   metrics http://{}/metrics", api.addr, api.addr);
    println!("  more provers   zklink prover --node http://{} --token {DEVNET_PROVER_TOKEN}", api.addr);
    println!("  restore        zklink restore --network {} (from L1 alone)", dir.join(NETWORK_FILE).display());
    for (oracle, oracle_api) in oracles {
        println!(
            "  oracle         http://{} ({}, threshold 2 of {})",
            oracle_api.addr,
            oracle.address(),
            oracles.len()
        );
    }
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let da = if info.data_availability { ", data availability" } else { "" };
        println!("  chain {}        {} (EVM chain id {}{da})", info.id.0, c.anvil.endpoint(), info.l1_chain_id);
        println!("                 zklink {}", c.deployment.zklink);
        for (id, address, decimals) in &c.tokens {
            let symbol = chains.network.symbol(zklink_types::TokenId(*id));
            println!("                 {symbol:<5} token {id}: {address} ({decimals} decimals, anyone can mint)");
        }
        println!("                 ETH   token {}: the native coin (depositETH)", zklink_l1::NATIVE_TOKEN_ID);
    }
    let symbols: Vec<String> = chains
        .chains
        .first()
        .map(|c| c.tokens.iter().map(|(id, _, _)| chains.network.symbol(zklink_types::TokenId(*id))).collect())
        .unwrap_or_default();
    println!(
        "\n  funded accounts (the same on every chain; account 0 is the operator): each holds 10000 ETH and \
         {DEV_TOKEN_GRANT} {} on every chain (minted at the devnet's first start). Try:",
        symbols.join(", ")
    );
    println!(
        "    ZKLINK_KEY=<key> zklink wallet deposit --chain 2 --token USDC --amount 100 --usd   (no --l1: the API \
         publishes the chains' endpoints; `zklink wallet mint` mints more)"
    );
    if let Some(c) = chains.chains.first() {
        for (i, key) in c.anvil.keys().iter().enumerate().skip(1) {
            let role = match i {
                pools::POOL_ACCOUNT if with_pools => "   (seeds the AMM pools)",
                7 | 8 if with_exchange => "   (the exchange's market maker)",
                9 if with_exchange => "   (the exchange's submitter)",
                _ => "",
            };
            println!("    {} key {key}{role}", c.anvil.address(i).unwrap_or_default());
        }
    }
    println!();
}
