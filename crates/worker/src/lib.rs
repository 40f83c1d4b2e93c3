//! A remote prover worker (`zklink prover --node URL`). It leases the oldest proof job from a
//! node's API (`zklink_proverLease`), proves the witness with the proving key of the block's size,
//! and returns the proof (`zklink_proverSubmit`); the node verifies it before storing it, so a
//! faulty worker can waste time but never push a wrong proof. Any number of workers may serve one
//! node; a job a worker does not return within the node's lease time is offered again.
//!
//! The worker survives the node going away: it retries with a capped back-off until it is
//! stopped.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod job;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use zklink_circuit::block::BlockCircuit;
use zklink_prover::{KeyStore, Prover};
use zklink_types::Network;

use crate::job::{encode_proof, prove_witness, ProofLease};

/// Errors that stop the worker.
#[derive(thiserror::Error, Debug)]
pub enum WorkerError {
    /// The node's URL is not usable.
    #[error("node API {url}: {reason}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A proving key is missing or does not load.
    #[error("proving key {name}: {reason}")]
    Key {
        /// The key's shape name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Proving keys by block size (chunks).
pub type BlockKeys = Vec<(usize, Arc<Prover>)>;

/// What the worker needs.
pub struct WorkerConfig {
    /// The node's API, e.g. `http://127.0.0.1:3030`.
    pub node_url: String,
    /// The node's prover token.
    pub token: String,
    /// This worker's name (the node logs it).
    pub name: String,
    /// Proving keys by block size.
    pub keys: BlockKeys,
    /// Pause when there is no job.
    pub idle_poll: Duration,
}

/// What a worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Proofs the node accepted.
    pub proven: u64,
    /// Proofs the node refused, or jobs the worker could not prove.
    pub failed: u64,
}

/// A client of the node's API.
pub fn client(url: &str) -> Result<HttpClient, WorkerError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(120))
        .build(url)
        .map_err(|e| WorkerError::Connect { url: url.into(), reason: e.to_string() })
}

/// Loads the proving keys for `sizes` of `network` from `keys` (made by `zklink devnet` or a
/// trusted setup).
pub fn load_keys(network: &Network, keys: &KeyStore, sizes: &[usize]) -> Result<BlockKeys, WorkerError> {
    let chains = network.chains.len() as u8;
    sizes
        .iter()
        .map(|&chunks| {
            let name = BlockCircuit::shape_name(&network.preset, chains, chunks);
            let prover =
                keys.load_prover(&name).map_err(|e| WorkerError::Key { name: name.clone(), reason: e.to_string() })?;
            Ok((chunks, Arc::new(prover)))
        })
        .collect()
}

/// Waits longer after each failure to reach the node, up to 10 s.
fn backoff(failures: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << failures.min(6))).min(Duration::from_secs(10))
}

/// Proves jobs from the node until `shutdown` resolves; a proof being made is finished first.
pub async fn run(cfg: WorkerConfig, shutdown: impl Future<Output = ()>) -> Result<WorkerStats, WorkerError> {
    let api = client(&cfg.node_url)?;
    let mut stats = WorkerStats::default();
    let mut failures = 0u32;
    tokio::pin!(shutdown);
    loop {
        let pause = match api
            .request::<Option<ProofLease>, _>("zklink_proverLease", rpc_params![&cfg.token, &cfg.name])
            .await
        {
            Ok(Some(lease)) => {
                failures = 0;
                prove_and_submit(&api, &cfg, lease, &mut stats).await;
                Duration::ZERO
            }
            Ok(None) => {
                failures = 0;
                cfg.idle_poll
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, node = %cfg.node_url, "leasing a proof job failed; retrying");
                backoff(failures)
            }
        };
        tokio::select! {
            _ = &mut shutdown => return Ok(stats),
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

async fn prove_and_submit(api: &HttpClient, cfg: &WorkerConfig, lease: ProofLease, stats: &mut WorkerStats) {
    let (block, chunks) = (lease.block, lease.chunks);
    let Some((_, pk)) = cfg.keys.iter().find(|(c, _)| *c == chunks) else {
        tracing::error!(block, chunks, "no proving key for this block size; the job will go to another worker");
        stats.failed += 1;
        return;
    };
    let pk = pk.clone();
    let started = Instant::now();
    tracing::info!(block, chunks, "proving");
    let proved = tokio::task::spawn_blocking(move || prove_witness(&pk, lease.witness)).await;
    let proof = match proved {
        Ok(Ok(proof)) => proof,
        Ok(Err(e)) => {
            tracing::error!(block, error = %e, "proving failed");
            stats.failed += 1;
            return;
        }
        Err(e) => {
            tracing::error!(block, error = %e, "the proving thread failed");
            stats.failed += 1;
            return;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let sent =
        api.request::<bool, _>("zklink_proverSubmit", rpc_params![&cfg.token, block, encode_proof(&proof)]).await;
    match sent {
        Ok(_) => {
            stats.proven += 1;
            tracing::info!(block, seconds = secs, "proof accepted by the node");
        }
        Err(e) => {
            stats.failed += 1;
            tracing::warn!(block, error = %e, "the node refused the proof");
        }
    }
}
