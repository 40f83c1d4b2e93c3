//! `zklink node`: the operator node against configured chains, with the JSON-RPC API. The
//! configuration is one JSON file (`--config`), so a node can be restarted, e.g. after a crash,
//! with exactly the same settings; its database lives in `dataDir`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use zklink_circuit::block::BlockCircuit;
use zklink_l1::SendPolicy;
use zklink_node::{ChainEndpoint, FeePolicy, MempoolLimits, Node, NodeConfig};
use zklink_prover::KeyStore;
use zklink_types::{Address, Network};

/// Options of `zklink node`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's configuration file (JSON; see `NodeFile`).
    #[arg(long, env = "ZKLINK_NODE_CONFIG")]
    config: PathBuf,
}

/// One chain in the configuration file.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChainFile {
    /// JSON-RPC endpoint of the chain.
    pub url: Url,
    /// The zklink proxy on it.
    pub zklink: Address,
    /// The L1 block of its deployment.
    pub deployed_at: u64,
}

/// The configuration file of `zklink node`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NodeFile {
    /// The network (with the deployed contract and token addresses).
    pub network: Network,
    /// One entry per chain, in chain order.
    pub chains: Vec<NodeChainFile>,
    /// The validator's L1 secret key (hex).
    pub operator_key: B256,
    /// In-process oracle keys (hex; devnets only).
    pub oracle_keys: Vec<B256>,
    /// The node's database directory.
    pub data_dir: PathBuf,
    /// Owner of the fee account at genesis.
    pub fee_owner: Address,
    /// Directory of the proving keys (`<shape>.pk` with its `.json`).
    pub key_dir: PathBuf,
    /// Block sizes (chunks) to prove; a key per size must be in `keyDir`.
    pub block_sizes: Vec<usize>,
    /// Address of the JSON-RPC API.
    pub rpc: SocketAddr,
    /// Seal the open block once it is this old (ms).
    pub block_time_ms: u64,
    /// Pause between passes (ms).
    pub poll_ms: u64,
    /// Confirmations before a priority request is taken.
    pub confirmations: u64,
    /// Blocks per L1 transaction at most.
    pub max_batch: u32,
    /// Whether the node proves blocks itself (default true); remote workers may prove too.
    #[serde(default = "yes")]
    pub local_prover: bool,
    /// The secret remote provers (`zklink prover`) present; none: no prover methods are served.
    #[serde(default)]
    pub prover_token: Option<String>,
    /// Seconds a prover may hold a job before it is offered again (default 600).
    #[serde(default)]
    pub proof_lease_secs: Option<u64>,
    /// The fee price: USD (L2 units, 18 decimals) per chunk; 0 (default): no fee required.
    #[serde(default, with = "zklink_types::serde_str")]
    pub fee_usd_per_chunk: u128,
    /// Txs one account may have waiting for an earlier nonce (default 16).
    #[serde(default)]
    pub mempool_per_account: Option<u32>,
    /// Txs all accounts together may have waiting (default 10000).
    #[serde(default)]
    pub mempool_total: Option<usize>,
    /// How L1 transactions are sent (defaults: replaced after 30 s, +20 %, 5 times, no cap).
    #[serde(default)]
    pub send_policy: SendPolicyFile,
    /// Revert committed blocks the store does not hold (none executed) instead of stopping: for
    /// a node started from `zklink restore --into-node` after the old operator's data was lost.
    #[serde(default)]
    pub revert_unknown_blocks: bool,
}

/// One chain in the node's configuration file: where the node reaches it, and optionally the
/// endpoint the API tells wallets to use (`zklink_l1Endpoints`).
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeChainFile {
    /// `url`, `zklink` and `deployedAt`.
    #[serde(flatten)]
    pub chain: ChainFile,
    /// A public JSON-RPC endpoint of the chain for wallets (deposits, full exits, claims); none:
    /// wallets must be given one. The node's own `url` may be private, so it is never published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_rpc: Option<Url>,
}

/// `sendPolicy` in the configuration file; every field optional.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SendPolicyFile {
    /// Seconds before an unmined transaction is replaced.
    pub stuck_after_secs: Option<u64>,
    /// Percent each replacement raises the fees by (at least 10).
    pub bump_percent: Option<u64>,
    /// Replacements before the call fails.
    pub max_replacements: Option<u32>,
    /// The highest max fee per gas, in gwei.
    pub max_fee_gwei: Option<u64>,
}

impl SendPolicyFile {
    fn policy(&self) -> SendPolicy {
        let d = SendPolicy::default();
        SendPolicy {
            stuck_after: self.stuck_after_secs.map_or(d.stuck_after, Duration::from_secs),
            bump_percent: self.bump_percent.unwrap_or(d.bump_percent),
            max_replacements: self.max_replacements.unwrap_or(d.max_replacements),
            max_fee_per_gas: self.max_fee_gwei.map(|g| u128::from(g) * 1_000_000_000).or(d.max_fee_per_gas),
            poll_interval: d.poll_interval,
        }
    }
}

fn yes() -> bool {
    true
}

impl ChainFile {
    /// The endpoint the node or oracle connects to.
    pub(crate) fn endpoint(&self) -> ChainEndpoint {
        ChainEndpoint { url: self.url.clone(), zklink: self.zklink, deployed_at: self.deployed_at }
    }
}

fn signer(key: &B256) -> anyhow::Result<PrivateKeySigner> {
    PrivateKeySigner::from_bytes(key).context("invalid key")
}

/// Reads and parses the JSON file at `path` (`what` names it in errors).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: not a valid {what}", path.display()))
}

/// Runs the node until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let f: NodeFile = read_json(&args.config, "node configuration")?;
    f.network.validate().with_context(|| format!("{}: network", args.config.display()))?;
    let chains = f.network.chains.len() as u8;
    let store = KeyStore::new(f.key_dir.clone());
    let mut block_keys = Vec::new();
    for &chunks in &f.block_sizes {
        let name = BlockCircuit::shape_name(&f.network.preset, chains, chunks);
        let prover = store.load_prover(&name).with_context(|| format!("loading proving key {name}"))?;
        block_keys.push((chunks, Arc::new(prover)));
    }
    let node = Node::open(NodeConfig {
        network: f.network.clone(),
        chains: f.chains.iter().map(|c| c.chain.endpoint()).collect(),
        operator: signer(&f.operator_key).context("operatorKey")?,
        oracles: f.oracle_keys.iter().map(signer).collect::<anyhow::Result<_>>().context("oracleKeys")?,
        data_dir: f.data_dir.clone(),
        fee_owner: f.fee_owner,
        block_time: Duration::from_millis(f.block_time_ms),
        poll_interval: Duration::from_millis(f.poll_ms),
        confirmations: f.confirmations,
        read_ceilings: Vec::new(),
        block_keys,
        max_batch: f.max_batch,
        local_prover: f.local_prover,
        proof_lease: f.proof_lease_secs.map_or(zklink_node::node::DEFAULT_PROOF_LEASE, Duration::from_secs),
        mempool: MempoolLimits {
            per_account: f.mempool_per_account.unwrap_or(MempoolLimits::default().per_account),
            total: f.mempool_total.unwrap_or(MempoolLimits::default().total),
        },
        fees: FeePolicy { usd_per_chunk: f.fee_usd_per_chunk },
        revert_unknown_blocks: f.revert_unknown_blocks,
        send_policy: {
            let policy = f.send_policy.policy();
            policy.validate().context("sendPolicy")?;
            policy
        },
    })
    .context("opening the node")?;
    // Each chain's `publicRpc`, for wallets (its `url` is the node's own, maybe private).
    let l1_endpoints = f
        .network
        .chains
        .iter()
        .zip(&f.chains)
        .filter_map(|(info, c)| Some((info.id, c.public_rpc.as_ref()?.to_string())))
        .collect();
    let api_cfg = zklink_api::ApiConfig { prover_token: f.prover_token.clone(), l1_endpoints };
    let api = zklink_api::serve_with(f.rpc, node.handle(), f.network.clone(), api_cfg)
        .await
        .with_context(|| format!("serving the JSON-RPC API on {}", f.rpc))?;
    println!("zklink node: JSON-RPC API on http://{}", api.addr);
    node.run(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    api.stop().await;
    Ok(())
}
