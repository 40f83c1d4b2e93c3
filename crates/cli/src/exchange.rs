//! `zklink exchange`: an order-book venue as its own process, talking to a node's API.
//!
//! * `zklink exchange --config exchange.json` runs the venue (`ExchangeFile`): its journal in
//!   `dataDir`, its API on `listen`, fills settled by its submitter account (key in the file or in
//!   `ZKLINK_EXCHANGE_KEY`). A restart, also after kill -9, replays the journal and resumes
//!   settlement where the node is.
//! * `zklink exchange audit --api URL --node URL` replays a venue's public journal and checks
//!   every settled `OrderMatching` on L2 against the replay.

use std::net::SocketAddr;
use std::path::PathBuf;

use alloy::primitives::B256;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use zklink_exchange::service::{Exchange, ExchangeSettings};
use zklink_exchange::MarketConfig;
use zklink_types::SubAccountId;

/// Options of `zklink exchange`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// The venue's configuration file (JSON: node, listen, dataDir, submitterKey, subAccount,
    /// feeToken, batch, markets).
    #[arg(long, env = "ZKLINK_EXCHANGE_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Replay a venue's public journal and check every settled OrderMatching on L2 against it;
    /// names the first divergence (exit status 1), else prints the figures.
    Audit {
        /// The venue's API.
        #[arg(long, default_value = "http://127.0.0.1:3040")]
        api: String,
        /// A node's API (any node of the network).
        #[arg(long, env = "ZKLINK_API", default_value = "http://127.0.0.1:3030")]
        node: String,
        /// The first L2 block to read.
        #[arg(long, default_value_t = 1)]
        from_block: u32,
    },
}

fn default_fee_token() -> String {
    "USD".into()
}

fn default_batch() -> usize {
    zklink_exchange::settle::DEFAULT_BATCH
}

/// The configuration file of `zklink exchange`.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ExchangeFile {
    /// The node's JSON-RPC API.
    pub node: String,
    /// Where the venue's API listens.
    pub listen: SocketAddr,
    /// Where its journal lives.
    pub data_dir: PathBuf,
    /// The submitter's L1 secret (hex); else `ZKLINK_EXCHANGE_KEY`.
    #[serde(default)]
    pub submitter_key: Option<B256>,
    /// The sub-account its orders and matchings use (default 0).
    #[serde(default)]
    pub sub_account: u8,
    /// The token it pays network fees in (default USD).
    #[serde(default = "default_fee_token")]
    pub fee_token: String,
    /// Fills per settlement batch (default 500, at most 1000: the node's limit per call).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// The markets.
    pub markets: Vec<MarketConfig>,
}

impl ExchangeFile {
    /// The settings, with the key from the file or the environment.
    pub(crate) fn settings(&self) -> anyhow::Result<ExchangeSettings> {
        let key = match self.submitter_key {
            Some(k) => k,
            None => std::env::var("ZKLINK_EXCHANGE_KEY")
                .context("no submitterKey in the configuration and ZKLINK_EXCHANGE_KEY is not set")?
                .parse()
                .context("ZKLINK_EXCHANGE_KEY is not a 32-byte hex secret")?,
        };
        Ok(ExchangeSettings {
            node_url: self.node.clone(),
            data_dir: self.data_dir.clone(),
            submitter_secret: key.0,
            sub_account: SubAccountId(self.sub_account),
            fee_token: self.fee_token.clone(),
            markets: self.markets.clone(),
            batch: self.batch,
        })
    }
}

/// Starts a venue and its API; returns them running.
pub(crate) async fn start(f: &ExchangeFile) -> anyhow::Result<(Exchange, zklink_exchange::rpc::ExchangeApi)> {
    let ex = Exchange::start(f.settings()?).await.context("starting the exchange")?;
    let api = zklink_exchange::rpc::serve(f.listen, ex.clone())
        .await
        .with_context(|| format!("serving the exchange API on {}", f.listen))?;
    Ok((ex, api))
}

/// Runs `zklink exchange`.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    if let Some(Sub::Audit { api, node, from_block }) = args.command {
        return audit(&api, &node, from_block).await;
    }
    let config = args.config.context("give --config exchange.json (or a subcommand: audit)")?;
    let f: ExchangeFile = crate::node::read_json(&config, "exchange configuration")?;
    let (ex, api) = start(&f).await?;
    {
        let venue = ex.venue();
        println!("zklink exchange: API on http://{}, journal {}", api.addr, f.data_dir.display());
        for m in venue.markets() {
            let v = zklink_exchange::views::MarketView::of(&venue, &m.market);
            println!(
                "  market {} {}: tick {}, lot {}, minimum {}, fees maker {}/taker {} per 10^4",
                v.id, v.symbol, v.tick, v.lot, v.min_size, v.maker_fee_ratio, v.taker_fee_ratio
            );
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    api.stop().await;
    Ok(())
}

async fn audit(api: &str, node: &str, from_block: u32) -> anyhow::Result<()> {
    let r = zklink_exchange::audit::audit(api, node, from_block).await.context("auditing the exchange")?;
    println!(
        "journal: {} entries replayed, engine digest {}\nfills: {} ({} refused by the node), {} found settled on L2 \
         in {} blocks, each as the replay has it",
        r.entries, r.digest, r.fills, r.refused, r.settled_on_l2, r.blocks
    );
    if let Some(d) = r.divergence {
        anyhow::bail!("divergence: {d}");
    }
    println!("no divergence");
    Ok(())
}
