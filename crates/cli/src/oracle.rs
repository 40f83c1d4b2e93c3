//! `zklink oracle --config oracle.json`: an independent oracle node (see `zklink-oracle`). Its
//! configuration names its own endpoint for every chain, its key and its peers; nothing comes from
//! the operator.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use zklink_l1::SendPolicy;
use zklink_oracle::{Oracle, OracleConfig};
use zklink_types::Network;

use crate::node::{read_json, ChainFile};

/// Options of `zklink oracle`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The oracle's configuration file (JSON; see `OracleFile`).
    #[arg(long, env = "ZKLINK_ORACLE_CONFIG")]
    config: PathBuf,
}

/// The configuration file of `zklink oracle`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct OracleFile {
    /// The network (its id and chains).
    pub network: Network,
    /// One entry per chain, in chain order: the oracle's own endpoints.
    pub chains: Vec<ChainFile>,
    /// The oracle's secret key (hex): it signs attestations and pays for `syncBlocks`.
    pub key: B256,
    /// The other oracles' APIs (`http://host:port`).
    pub peers: Vec<String>,
    /// Where its store lives.
    pub data_dir: PathBuf,
    /// Address of its own API (attestations, status, /metrics, /health).
    pub listen: SocketAddr,
    /// Confirmations before a chain's `BlockCommit` event is read.
    pub confirmations: u64,
    /// Pause between passes (ms).
    pub poll_ms: u64,
}

/// Runs the oracle until Ctrl-C.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let f: OracleFile = read_json(&args.config, "oracle configuration")?;
    f.network.validate().with_context(|| format!("{}: network", args.config.display()))?;
    let key = PrivateKeySigner::from_bytes(&f.key).context("key")?;
    let oracle = Oracle::open(OracleConfig {
        network: f.network.clone(),
        chains: f.chains.iter().map(ChainFile::endpoint).collect(),
        key,
        peers: f.peers.clone(),
        data_dir: f.data_dir.clone(),
        confirmations: f.confirmations,
        poll_interval: Duration::from_millis(f.poll_ms),
        send_policy: SendPolicy::default(),
    })
    .context("opening the oracle")?;
    let address = oracle.address();
    let api = zklink_oracle::api::serve(f.listen, oracle.handle())
        .await
        .with_context(|| format!("serving the oracle API on {}", f.listen))?;
    println!("zklink oracle {address}: API on http://{} ({} peers)", api.addr, f.peers.len());
    oracle
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    api.stop().await;
    Ok(())
}
