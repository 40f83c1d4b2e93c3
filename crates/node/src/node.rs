//! The node's main loop: each pass takes the confirmed priority requests of every chain into the
//! state keeper, seals the open block once it is `block_time` old, hands new proof jobs to the
//! prover thread, and runs one pass of the L1 pipeline. Errors of one pass are logged and the next
//! pass retries; the loop ends when the shutdown signal fires.

use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use zklink_crypto::fr_to_bytes;
use zklink_l1::client::connect;
use zklink_l1::L1Client;
use zklink_state::State;
use zklink_types::{ChainId, Network};

use crate::keeper::{KeeperError, ProofJob, StateKeeper};
use crate::oracle::LocalOracles;
use crate::pipeline::{ChainSender, Pipeline};
use crate::prover::prove_and_store;
use crate::store::{BlockStore, StoreError};
use crate::watcher::PriorityWatcher;

/// Where one chain's deployment is.
#[derive(Clone, Debug)]
pub struct ChainEndpoint {
    /// JSON-RPC endpoint.
    pub url: Url,
    /// The zklink proxy.
    pub zklink: Address,
    /// The L1 block it was deployed in (the watcher starts there).
    pub deployed_at: u64,
}

/// Everything the node runs with.
pub struct NodeConfig {
    /// The network (chains in order, tokens, preset).
    pub network: Network,
    /// One endpoint per chain, in chain order.
    pub chains: Vec<ChainEndpoint>,
    /// The validator key, the same on every chain.
    pub operator: PrivateKeySigner,
    /// In-process oracle keys (devnet).
    pub oracles: Vec<PrivateKeySigner>,
    /// Directory of the node's database.
    pub data_dir: PathBuf,
    /// Owner of the fee account (account 0) at genesis.
    pub fee_owner: Address,
    /// The open block is sealed once it is this old.
    pub block_time: Duration,
    /// Pause between passes.
    pub poll_interval: Duration,
    /// Confirmations before a priority request is taken.
    pub confirmations: u64,
    /// Proving keys by block chunk count; the largest bounds the blocks the keeper seals.
    pub block_keys: Vec<(usize, Arc<ProvingKey<Bn254>>)>,
    /// Blocks per L1 transaction at most.
    pub max_batch: u32,
}

impl NodeConfig {
    /// A node for local [`zklink_l1::TestChains`]: their endpoints and network, dev account 0 as
    /// validator, 0 confirmations, 4 blocks per L1 transaction, a 100 ms pass; `oracles` sign
    /// in-process and `block_keys` prove.
    pub fn for_test_chains(
        chains: &zklink_l1::TestChains,
        data_dir: PathBuf,
        fee_owner: Address,
        oracles: Vec<PrivateKeySigner>,
        block_keys: Vec<(usize, Arc<ProvingKey<Bn254>>)>,
        block_time: Duration,
    ) -> Result<Self, NodeError> {
        let operator = chains
            .chains
            .first()
            .and_then(|c| c.anvil.signer(0))
            .ok_or_else(|| NodeError::Config("the test chains have no dev account".into()))?;
        Ok(Self {
            network: chains.network.clone(),
            chains: chains
                .chains
                .iter()
                .map(|c| ChainEndpoint {
                    url: c.anvil.endpoint_url(),
                    zklink: c.deployment.zklink,
                    deployed_at: c.deployment.deployed_at,
                })
                .collect(),
            operator,
            oracles,
            data_dir,
            fee_owner,
            block_time,
            poll_interval: Duration::from_millis(100),
            confirmations: 0,
            block_keys,
            max_batch: 4,
        })
    }
}

/// Errors starting the node.
#[derive(thiserror::Error, Debug)]
pub enum NodeError {
    /// The configuration is inconsistent.
    #[error("node configuration: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keeper could not replay its history.
    #[error(transparent)]
    Keeper(#[from] KeeperError),
}

/// A running node's shared handles (the API reads and submits through them).
#[derive(Clone)]
pub struct NodeHandle {
    keeper: Arc<Mutex<StateKeeper>>,
    store: Arc<BlockStore>,
}

impl NodeHandle {
    /// Handles over a keeper and its store (the node makes these; tests and tools may too).
    pub fn new(keeper: StateKeeper, store: Arc<BlockStore>) -> Self {
        Self { keeper: Arc::new(Mutex::new(keeper)), store }
    }

    /// The state keeper (lock briefly; never across an await).
    pub fn keeper(&self) -> MutexGuard<'_, StateKeeper> {
        self.keeper.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The block store.
    pub fn store(&self) -> &BlockStore {
        &self.store
    }
}

/// The operator node.
pub struct Node {
    handle: NodeHandle,
    watchers: Vec<PriorityWatcher>,
    pipeline: Pipeline,
    block_time: Duration,
    poll_interval: Duration,
    keys: Vec<(usize, Arc<ProvingKey<Bn254>>)>,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Node {
    /// Opens the node's store under `cfg.data_dir` (replaying its history) and connects to
    /// every chain.
    pub fn open(cfg: NodeConfig) -> Result<Self, NodeError> {
        if cfg.chains.len() != cfg.network.chains.len() {
            return Err(NodeError::Config(format!(
                "{} endpoints for {} chains",
                cfg.chains.len(),
                cfg.network.chains.len()
            )));
        }
        let max_chunks =
            cfg.block_keys.iter().map(|(c, _)| *c).max().ok_or(NodeError::Config("no block keys".into()))?;
        std::fs::create_dir_all(&cfg.data_dir)
            .map_err(|e| NodeError::Config(format!("{}: {e}", cfg.data_dir.display())))?;
        let store = Arc::new(BlockStore::open(&cfg.data_dir.join("node.redb"))?);
        let keeper = StateKeeper::open(cfg.network.clone(), store.clone(), cfg.fee_owner, max_chunks)?;
        let genesis = State::genesis(cfg.network.preset.clone(), cfg.fee_owner).root();
        let genesis = B256::from(fr_to_bytes(&genesis));
        let mut watchers = Vec::new();
        let mut senders = Vec::new();
        for (info, end) in cfg.network.chains.iter().zip(&cfg.chains) {
            let provider = connect(end.url.clone(), cfg.operator.clone());
            let next = keeper.next_serial(info.id.0);
            watchers.push(PriorityWatcher::new(
                info.id,
                provider.clone(),
                end.zklink,
                end.deployed_at,
                cfg.confirmations,
                next,
            ));
            let client = L1Client::new(provider, end.zklink);
            senders.push(ChainSender::new(ChainId(info.id.0), info.data_availability, client, genesis));
        }
        let oracles = LocalOracles::new(cfg.network.network_id, cfg.oracles.clone());
        Ok(Self {
            handle: NodeHandle { keeper: Arc::new(Mutex::new(keeper)), store },
            watchers,
            pipeline: Pipeline::new(senders, oracles, cfg.max_batch),
            block_time: cfg.block_time,
            poll_interval: cfg.poll_interval,
            keys: cfg.block_keys,
        })
    }

    /// The handles the API uses.
    pub fn handle(&self) -> NodeHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` resolves. The prover thread finishes the proof it is making first.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let (jobs, prover) = self.start_prover();
        tokio::pin!(shutdown);
        let mut opened = Instant::now();
        loop {
            self.take_requests().await;
            let now = unix_now();
            {
                let mut keeper = self.handle.keeper();
                if keeper.pending_chunks() == 0 {
                    opened = Instant::now();
                } else if opened.elapsed() >= self.block_time {
                    if let Err(e) = keeper.seal(now) {
                        tracing::error!(error = %e, "sealing failed");
                    }
                    opened = Instant::now();
                }
                for job in keeper.take_jobs() {
                    let _ = jobs.send(job);
                }
            }
            match self.pipeline.step(self.handle.store()).await {
                Ok(r) if !r.actions.is_empty() => tracing::info!(actions = ?r.actions, "L1 pipeline"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "L1 pipeline pass failed; retrying"),
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
        drop(jobs);
        let _ = prover.join();
        tracing::info!("node stopped");
    }

    async fn take_requests(&mut self) {
        for w in &mut self.watchers {
            match w.poll().await {
                Ok(txs) => {
                    let mut keeper = self.handle.keeper();
                    for tx in txs {
                        if let Err(e) = keeper.submit_priority(tx, unix_now()) {
                            tracing::error!(error = %e, "a priority request was refused");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "watching L1 failed; retrying"),
            }
        }
    }

    /// The prover thread: proves each job with the key of its block's size.
    fn start_prover(&self) -> (mpsc::Sender<ProofJob>, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<ProofJob>();
        let store = self.handle.store.clone();
        let keys = self.keys.clone();
        let thread = std::thread::spawn(move || {
            for mut job in rx {
                let chunks = job.block.block.chunks;
                let Some((_, pk)) = keys.iter().find(|(c, _)| *c == chunks) else {
                    tracing::error!(block = job.block.block.number.0, chunks, "no proving key for this block size");
                    continue;
                };
                if let Err(e) = prove_and_store(&store, pk, &mut job.start, &job.block) {
                    tracing::error!(error = %e, "proving failed");
                }
            }
        });
        (tx, thread)
    }
}
