//! `zklink restore`, `zklink exit-proof` and `zklink wallet exodus`: recovering the state from L1
//! alone, and leaving with it. None of them talks to the operator.
//!
//! They read a *network file*: the network, its genesis fee owner and every chain's endpoint and
//! deployment. A node's configuration file is one (its other fields are ignored); the devnet
//! writes `network.json` in its data directory.

use std::path::{Path, PathBuf};

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use zklink_circuit::exit::{ExitCircuit, ExitRequest, ExitShape};
use zklink_l1::L1Client;
use zklink_node::store::StoredBlock;
use zklink_node::BlockStore;
use zklink_prover::{KeyStore, ProvingKey, INSECURE_DEV_SEED};
use zklink_restore::{
    BlockRestored, ChainExodus, ExitPlan, ExodusStatus, HandlerError, RestoreConfig, RestoreReport, Restorer,
};
use zklink_types::{
    AccountId, Address, ChainId, Network, SubAccountId, TokenId, GLOBAL_ASSET_ACCOUNT_ID, USD_RESERVE_OFFSET,
    USD_RESERVE_RANGE, USD_TOKEN_ID,
};

use crate::node::{read_json, ChainFile};

/// The public facts a restore needs.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NetworkFile {
    /// The network (preset, chains, tokens).
    pub network: Network,
    /// Owner of the fee account at genesis.
    pub fee_owner: Address,
    /// Every chain's endpoint and deployment, in chain order.
    pub chains: Vec<ChainFile>,
}

impl NetworkFile {
    /// Reads `path`.
    pub(crate) fn read(path: &Path) -> anyhow::Result<Self> {
        let f: Self = read_json(path, "network file")?;
        f.network.validate().with_context(|| format!("{}: network", path.display()))?;
        Ok(f)
    }

    /// Writes it as `path` (the devnet does).
    pub(crate) fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self).context("encoding the network file")?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    fn restore_config(&self, state_dir: &Path) -> RestoreConfig {
        RestoreConfig {
            network: self.network.clone(),
            fee_owner: self.fee_owner,
            chains: self.chains.iter().map(ChainFile::endpoint).collect(),
            state_path: state_dir.join("state.redb"),
            checkpoint_every: 100,
        }
    }
}

/// Where the restored state lives, shared by the three commands.
#[derive(clap::Args, Clone)]
pub(crate) struct Source {
    /// The network file: network, fee owner, every chain's endpoint and deployment (a node's
    /// config file works; the devnet writes `network.json` in its data directory).
    #[arg(long, env = "ZKLINK_NETWORK")]
    network: PathBuf,
    /// Directory of the restored state; a later run continues from it.
    #[arg(long, env = "ZKLINK_STATE_DIR", default_value = "zklink-restored")]
    state: PathBuf,
}

impl Source {
    fn open(&self) -> anyhow::Result<(NetworkFile, Restorer)> {
        let file = NetworkFile::read(&self.network)?;
        let restorer = Restorer::open(file.restore_config(&self.state))
            .with_context(|| format!("opening the restored state in {}", self.state.display()))?;
        Ok((file, restorer))
    }
}

/// Options of `zklink restore`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: Source,
    /// Stop at this block (default: the newest block executed on any chain).
    #[arg(long)]
    until: Option<u32>,
    /// Also write every restored block into a node's data directory (its `node.redb`), so that
    /// `zklink node` started with that `dataDir` continues from the restored state. Use with a
    /// fresh --state and a fresh directory, or the pair an earlier run left (it continues).
    #[arg(long)]
    into_node: Option<PathBuf>,
}

/// Restores (or continues restoring) and prints what every chain confirmed.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let (_, mut restorer) = args.source.open()?;
    let report = match &args.into_node {
        None => restore_with_progress(&mut restorer, args.until, |_| Ok(())).await?,
        Some(dir) => {
            let store = node_store(dir, restorer.block())?;
            let import = |b: &BlockRestored| import_block(&store, b.block).map_err(HandlerError::from);
            restore_with_progress(&mut restorer, args.until, import).await?
        }
    };
    print_report(&report);
    if let Some(dir) = &args.into_node {
        println!(
            "the node store in {} holds blocks 1..={}: start `zklink node` with dataDir there",
            dir.display(),
            report.block
        );
    }
    Ok(())
}

/// The node store in `dir`. It may be ahead of the restored state (a run stopped between two
/// checkpoints wrote blocks the state file does not have yet), never behind it.
fn node_store(dir: &Path, restored: u32) -> anyhow::Result<BlockStore> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("node.redb");
    let store = BlockStore::open(&path).with_context(|| format!("opening the node store {}", path.display()))?;
    let last = store.last_block().context("reading the node store")?;
    if last < restored {
        bail!(
            "the node store in {} holds {last} blocks but the restored state is at block {restored}: \
             use a fresh --state directory with a fresh node directory",
            dir.display()
        );
    }
    Ok(store)
}

/// Appends `block` to the node store, or checks the block already there (written by an earlier
/// run that stopped before its checkpoint) is the same.
fn import_block(store: &BlockStore, block: &zklink_block::Block) -> anyhow::Result<()> {
    let n = block.number.0;
    match store.block(n).context("node store")? {
        Some(kept) if kept.block.new_root == block.new_root => Ok(()),
        Some(_) => bail!("the node store's block {n} is not the one restored from L1"),
        None => store.put_block(&StoredBlock::imported(block.clone())).context("node store"),
    }
}

/// Runs the restore with a progress bar on a terminal, handing each block to `on_block`.
async fn restore_with_progress(
    restorer: &mut Restorer,
    until: Option<u32>,
    mut on_block: impl FnMut(&BlockRestored) -> Result<(), HandlerError>,
) -> anyhow::Result<RestoreReport> {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("restoring {bar:40} block {pos}/{len} [{elapsed}, {per_sec}, eta {eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report = restorer
        .run(until, |b| {
            if bar.length().is_none() {
                bar.set_length(u64::from(b.target));
            }
            bar.set_position(u64::from(b.number));
            on_block(b)
        })
        .await;
    bar.finish_and_clear();
    report.context("restoring from L1")
}

fn print_report(r: &RestoreReport) {
    let blocks = r.block - r.from;
    let rate = |n: f64| if r.secs > 0.0 { n / r.secs } else { 0.0 };
    println!("restored to block {} (root {}), {} accounts", r.block, r.root, r.accounts);
    println!(
        "this run: blocks {}..={} — {blocks} blocks, {} ops in {:.2} s ({:.1} blocks/s, {:.0} ops/s)",
        r.from + 1,
        r.block,
        r.ops,
        r.secs,
        rate(f64::from(blocks)),
        rate(r.ops as f64)
    );
    for c in &r.chains {
        println!(
            "chain {}: executed {}; stored hash of block {} matches{}{}",
            c.chain,
            c.executed,
            c.checked,
            if c.exodus { "; in EXODUS" } else { "" },
            if c.open_requests > 0 { format!("; {} requests unexecuted", c.open_requests) } else { String::new() }
        );
    }
}

/// The exit circuit's proving key: from `dir`, or for the dev preset made with the public dev
/// seed (like the devnet's keys) when missing.
fn exit_key(network: &Network, dir: Option<&Path>) -> anyhow::Result<ProvingKey> {
    let store = KeyStore::new(dir.map_or_else(crate::paths::dev_key_dir, Path::to_path_buf));
    if network.preset.name == "dev" {
        return insecure_dev_exit_key(&store, network);
    }
    let name = ExitCircuit::shape_name(&network.preset, network.chains.len() as u8);
    store.load(&name).map(|(pk, _)| pk).with_context(|| format!("loading exit key {name}"))
}

/// `network`'s exit key from `store`, made with the public dev seed when missing (devnets,
/// tests, benchmarks: whoever knows the seed can forge exits).
pub(crate) fn insecure_dev_exit_key(store: &KeyStore, network: &Network) -> anyhow::Result<ProvingKey> {
    let chains = network.chains.len() as u8;
    let shape = ExitShape::new(&network.preset, chains).context("the exit circuit's shape")?;
    let name = ExitCircuit::shape_name(&network.preset, chains);
    store
        .load_or_setup(&name, INSECURE_DEV_SEED, || ExitCircuit::blank(shape.clone()))
        .with_context(|| format!("loading or making the dev exit key {name}"))
}

/// Options of `zklink exit-proof`.
#[derive(clap::Args)]
pub(crate) struct ExitArgs {
    #[command(flatten)]
    source: Source,
    /// The paying chain (it must be in exodus to accept the proof).
    #[arg(long)]
    chain: u8,
    /// The exiting account id.
    #[arg(long)]
    account: u32,
    /// Its sub-account.
    #[arg(long, default_value_t = 0)]
    sub: u8,
    /// The balance's token (1 = USD).
    #[arg(long)]
    token: u16,
    /// For USD, the stablecoin reserve paid from (reserve id 2..=16, i.e. stablecoin id − 15);
    /// default: the token itself.
    #[arg(long)]
    reserve: Option<u16>,
    /// Directory of the exit proving key (default: the dev key cache).
    #[arg(long)]
    key_dir: Option<PathBuf>,
    /// Write the `performExodus` arguments and proof here as JSON (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Proves one exit from the restored state.
pub(crate) async fn exit_proof(args: ExitArgs) -> anyhow::Result<()> {
    let (file, mut restorer) = args.source.open()?;
    restorer.refresh().await.context("reading the chains")?;
    let chain = ChainId(args.chain);
    let index =
        file.network.chains.iter().position(|c| c.id == chain).ok_or_else(|| anyhow!("no chain {}", args.chain))?;
    let reserve = match args.reserve {
        Some(r) => r,
        None if args.token == USD_TOKEN_ID.0 => {
            let reserves = chain.as_sub_account();
            let held: Vec<String> = USD_RESERVE_RANGE
                .filter(|&r| restorer.state().balance(GLOBAL_ASSET_ACCOUNT_ID, reserves, TokenId(r)) > 0)
                .map(|r| format!("{r} (token {})", r + USD_RESERVE_OFFSET))
                .collect();
            bail!(
                "USD is paid from a stablecoin reserve: pass --reserve (stablecoin id − 15); chain {} holds: {}",
                args.chain,
                if held.is_empty() { "none".to_string() } else { held.join(", ") }
            );
        }
        None => args.token,
    };
    let history = &restorer.histories()[index];
    if !history.exodus() {
        eprintln!("note: chain {} is not in exodus yet; performExodus refuses the proof until it is", args.chain);
    }
    let executed = history.counters().executed;
    let last = history.stored(executed).cloned().context("the chain's executed block has no commit event")?;
    let pk = exit_key(&file.network, args.key_dir.as_deref())?;
    let block = restorer.block();
    let mut plan = ExitPlan::for_chain(restorer.state_mut(), block, &file.network, chain, last.clone())?;
    let req = ExitRequest {
        chain,
        account: AccountId(args.account),
        sub: SubAccountId(args.sub),
        l2_token: TokenId(args.token),
        reserve_token: TokenId(reserve),
    };
    let proven = plan.prove(&pk, &req).context("proving the exit")?;
    let r = &proven.report;
    eprintln!(
        "proved the exit of account {} on chain {} against block {}: {} (L2 units) to {} — {} constraints, \
         synthesis {:.2} s, check {:.2} s, proving {:.2} s",
        args.account,
        args.chain,
        block,
        proven.call.amount,
        proven.call.owner,
        r.constraints,
        r.synthesis.as_secs_f64(),
        r.check.as_secs_f64(),
        r.proving.as_secs_f64()
    );
    let json = serde_json::json!({
        "chain": args.chain,
        "lastExecuted": {
            "blockNumber": last.blockNumber,
            "priorityOperations": last.priorityOperations,
            "pendingOnchainOpsHash": last.pendingOnchainOpsHash,
            "timestamp": last.timestamp,
            "stateRoot": last.stateRoot,
            "commitment": last.commitment,
            "syncHash": last.syncHash,
        },
        "owner": proven.call.owner,
        "account": proven.call.account,
        "sub": proven.call.sub,
        "l2Token": proven.call.l2_token,
        "reserveToken": proven.call.reserve_token,
        "amount": proven.call.amount.to_string(),
        "proof": proven.proof.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&json).context("encoding the proof")?;
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// Options of `zklink wallet exodus`.
#[derive(clap::Args)]
pub(crate) struct ExodusArgs {
    #[command(flatten)]
    source: Source,
    /// Directory of the exit proving key (default: the dev key cache).
    #[arg(long)]
    key_dir: Option<PathBuf>,
}

/// The wallet's exodus on every chain: restore (continuing), then activate, refund, exit, claim.
pub(crate) async fn exodus(args: ExodusArgs, key: &B256) -> anyhow::Result<()> {
    let (file, mut restorer) = args.source.open()?;
    let signer = PrivateKeySigner::from_bytes(key).context("invalid key")?;
    let owner = signer.address();
    let report = restore_with_progress(&mut restorer, None, |_| Ok(())).await?;
    println!("restored to block {} (root {})", report.block, report.root);
    let clients: Vec<L1Client> = file
        .chains
        .iter()
        .map(|c| L1Client::new(zklink_l1::client::connect(c.url.clone(), signer.clone()), c.zklink))
        .collect();
    let pk = exit_key(&file.network, args.key_dir.as_deref())?;
    let results = zklink_restore::exodus(&mut restorer, &clients, owner, &pk).await.context("exodus")?;
    for c in &results {
        print_chain_exodus(c);
    }
    // Chains that executed fewer (or more) blocks pay against their own newest executed block:
    // a state restored to exactly that block is kept beside the main one.
    let blocks: std::collections::BTreeSet<u32> = results.iter().filter_map(|c| c.needs_block).collect();
    for block in blocks {
        let dir = args.source.state.join(format!("block-{block}"));
        println!("restoring the state at block {block} in {} for the chains that pay against it", dir.display());
        let mut at_block = Restorer::open(file.restore_config(&dir))
            .with_context(|| format!("opening the restored state in {}", dir.display()))?;
        restore_with_progress(&mut at_block, Some(block), |_| Ok(())).await?;
        let results = zklink_restore::exodus(&mut at_block, &clients, owner, &pk)
            .await
            .with_context(|| format!("exodus against block {block}"))?;
        for c in results.iter().filter(|c| c.block == block) {
            print_chain_exodus(c);
        }
    }
    Ok(())
}

fn print_chain_exodus(c: &ChainExodus) {
    let status = match &c.status {
        ExodusStatus::Active => "in exodus".to_string(),
        ExodusStatus::Activated => "switched to exodus now".to_string(),
        ExodusStatus::NotYet(why) => format!("not in exodus: {why}"),
    };
    println!("chain {}: {status}", c.chain);
    if matches!(c.status, ExodusStatus::NotYet(_)) {
        return;
    }
    if let Some(block) = c.needs_block {
        println!("  it pays against block {block}: its exits follow with the state at that block");
    }
    if c.refunded > 0 {
        println!("  refunded {} unexecuted requests (deposits go back to their owners)", c.refunded);
    }
    for e in &c.exits {
        println!(
            "  exited account {} sub {} token {} from reserve {}: {} (L2 units), against block {}",
            e.account, e.sub, e.l2_token, e.reserve_token, e.amount, c.block
        );
    }
    if c.already_paid > 0 {
        println!("  {} exits were already paid", c.already_paid);
    }
    for (token, amount) in &c.claimed {
        println!("  claimed {amount} (L1 units) of token {token}");
    }
    if c.exits.is_empty() && c.claimed.is_empty() && c.already_paid == 0 && c.needs_block.is_none() {
        println!("  nothing to exit here");
    }
}
