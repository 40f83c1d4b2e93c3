//! `zklink prover --node URL`: a remote prover worker for a node (see `zklink-prover-worker`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use zklink_prover::KeyStore;
use zklink_prover_worker::{client, load_keys, WorkerConfig};
use zklink_types::Network;

/// Options of `zklink prover`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's JSON-RPC API.
    #[arg(long, env = "ZKLINK_NODE_URL", default_value = "http://127.0.0.1:3030")]
    node: String,
    /// The node's prover token (`proverToken` in its configuration; the devnet prints it).
    #[arg(long, env = "ZKLINK_PROVER_TOKEN")]
    token: String,
    /// Directory of the proving keys (default: the dev key cache, target/zklink-keys).
    #[arg(long, env = "ZKLINK_KEY_DIR")]
    key_dir: Option<PathBuf>,
    /// Block sizes (chunks) to prove; a key per size must be in the key directory. Default: the
    /// network preset's sizes.
    #[arg(long, value_delimiter = ',')]
    block_sizes: Vec<usize>,
    /// This worker's name in the node's logs.
    #[arg(long, default_value = "remote")]
    name: String,
    /// Milliseconds between polls when there is no job.
    #[arg(long, default_value_t = 500)]
    idle_poll_ms: u64,
}

/// Runs the worker until Ctrl-C.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let api = client(&args.node).with_context(|| format!("connecting to the node at {}", args.node))?;
    let network = loop {
        // The node may start after its workers: wait for it (Ctrl-C stops waiting).
        match api.request::<Network, _>("zklink_network", rpc_params![]).await {
            Ok(network) => break network,
            Err(e) => {
                tracing::warn!(node = %args.node, error = %e, "the node does not answer yet; retrying in 1 s");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let sizes = if args.block_sizes.is_empty() { network.preset.block_chunk_sizes.clone() } else { args.block_sizes };
    let dir = args.key_dir.unwrap_or_else(crate::paths::dev_key_dir);
    eprintln!("loading proving keys for {sizes:?}-chunk blocks from {}…", dir.display());
    let keys = load_keys(&network, &KeyStore::new(&dir), &sizes)
        .with_context(|| format!("loading the proving keys from {}", dir.display()))?;
    eprintln!("proving for {} as {:?} (Ctrl-C stops)", args.node, args.name);
    let cfg = WorkerConfig {
        node_url: args.node,
        token: args.token,
        name: args.name,
        keys,
        idle_poll: Duration::from_millis(args.idle_poll_ms),
    };
    let stats = zklink_prover_worker::run(cfg, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("running the prover worker")?;
    eprintln!("prover stopped: {} proofs accepted, {} failed", stats.proven, stats.failed);
    Ok(())
}
