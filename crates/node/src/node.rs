//! The node's main loop: each pass takes the confirmed priority requests of every chain into the
//! state keeper, seals the open block once it is `block_time` old, queues new proof jobs for the
//! prover workers, and runs one pass of the L1 pipeline, recording what it sent and each chain's
//! progress. Errors of one pass are logged and the next pass retries; the loop ends when the
//! shutdown signal fires.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256};
use alloy::signers::local::PrivateKeySigner;
use ark_bn254::Bn254;
use tokio::sync::broadcast;
use zklink_crypto::fr_to_bytes;
use zklink_l1::client::connect;
pub use zklink_l1::ChainEndpoint;
use zklink_l1::{BlockCounters, L1Client, ReadCeiling, SendPolicy};
use zklink_prover_worker::job::prove_witness;
use zklink_prover_worker::BlockKeys;
use zklink_state::State;
use zklink_types::{ChainId, Network};

use crate::events::NodeEvent;
use crate::executed::ExecutedState;
use crate::keeper::{KeeperError, StateKeeper};
use crate::local_oracles::LocalOracles;
use crate::mempool::MempoolLimits;
use crate::metrics::Metrics;
use crate::pipeline::{Action, ChainSender, Pipeline, PipelineError, StepReport};
use crate::proofs::ProofQueue;
use crate::store::{BlockStore, StoreError};
use crate::watcher::PriorityWatcher;

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
    /// Per chain (in chain order), the newest L1 block priority requests may be taken from, or
    /// none: the devnet raises it as it saves its chains, so that a crash of the chains never
    /// takes back a request the node has taken. Empty: no ceilings.
    pub read_ceilings: Vec<ReadCeiling>,
    /// Proving keys by block chunk count; the largest bounds the blocks the keeper seals.
    pub block_keys: BlockKeys,
    /// Blocks per L1 transaction at most.
    pub max_batch: u32,
    /// Whether the node proves blocks itself (otherwise only remote workers do).
    pub local_prover: bool,
    /// How long a worker may hold a proof job before it is offered again.
    pub proof_lease: Duration,
    /// Limits on txs waiting for an earlier nonce.
    pub mempool: MempoolLimits,
    /// Fees charged.
    pub fees: crate::FeePolicy,
    /// How L1 transactions are sent: stuck ones are replaced with higher fees.
    pub send_policy: SendPolicy,
    /// Revert, on a chain, committed blocks this store does not hold (none of them executed):
    /// for a node started from a restored state after the old operator left unexecuted blocks.
    /// Off by default: a node must not undo another node's blocks by accident.
    pub revert_unknown_blocks: bool,
}

impl NodeConfig {
    /// A node against chains on this machine (the devnet, tests): `chains` in chain order, no
    /// confirmations to wait for, a 100 ms pass, at most 4 blocks per L1 transaction, the node
    /// proving with `block_keys`, no oracle keys (the oracle network syncs), default limits,
    /// fees and send policy.
    pub fn local(
        network: Network,
        chains: Vec<ChainEndpoint>,
        operator: PrivateKeySigner,
        data_dir: PathBuf,
        fee_owner: Address,
        block_keys: BlockKeys,
        block_time: Duration,
    ) -> Self {
        Self {
            network,
            chains,
            operator,
            oracles: Vec::new(),
            data_dir,
            fee_owner,
            block_time,
            poll_interval: Duration::from_millis(100),
            confirmations: 0,
            read_ceilings: Vec::new(),
            block_keys,
            max_batch: 4,
            local_prover: true,
            proof_lease: DEFAULT_PROOF_LEASE,
            mempool: MempoolLimits::default(),
            fees: crate::FeePolicy::default(),
            send_policy: SendPolicy::default(),
            revert_unknown_blocks: false,
        }
    }

    /// [`NodeConfig::local`] for [`zklink_l1::TestChains`]: their endpoints and network, dev
    /// account 0 as validator; `oracles` sign in-process.
    #[cfg(feature = "test-utils")]
    pub fn for_test_chains(
        chains: &zklink_l1::TestChains,
        data_dir: PathBuf,
        fee_owner: Address,
        oracles: Vec<PrivateKeySigner>,
        block_keys: BlockKeys,
        block_time: Duration,
    ) -> Result<Self, NodeError> {
        let operator = chains
            .chains
            .first()
            .and_then(|c| c.anvil.signer(0))
            .ok_or_else(|| NodeError::Config("the test chains have no dev account".into()))?;
        let local = Self::local(
            chains.network.clone(),
            chains.endpoints(),
            operator,
            data_dir,
            fee_owner,
            block_keys,
            block_time,
        );
        Ok(Self { oracles, ..local })
    }
}

/// Errors starting the node.
#[derive(thiserror::Error, Debug)]
pub enum NodeError {
    /// The configuration is inconsistent.
    #[error("node configuration: {0}")]
    Config(String),
    /// The data directory cannot be created.
    #[error("data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keeper could not replay its history.
    #[error(transparent)]
    Keeper(Box<KeeperError>),
}

impl From<KeeperError> for NodeError {
    fn from(e: KeeperError) -> Self {
        Self::Keeper(Box::new(e))
    }
}

/// How long a worker may hold a proof job by default: several times a dev block's proving time.
pub const DEFAULT_PROOF_LEASE: Duration = Duration::from_secs(600);

/// What the node last learnt of one chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainStatus {
    /// The zklink chain id.
    pub chain: u8,
    /// Its block counters after the last successful pass (none before the first).
    pub counters: Option<BlockCounters>,
    /// When a pass last succeeded on it (Unix seconds).
    pub last_success: Option<u64>,
    /// The last pass's error, if it failed.
    pub error: Option<String>,
}

/// A running node's shared handles (the API reads and submits through them).
#[derive(Clone)]
pub struct NodeHandle {
    keeper: Arc<Mutex<StateKeeper>>,
    store: Arc<BlockStore>,
    events: broadcast::Sender<NodeEvent>,
    chains: Arc<RwLock<Vec<ChainStatus>>>,
    proofs: Arc<ProofQueue>,
    metrics: Arc<Metrics>,
    executed: Arc<Mutex<ExecutedState>>,
}

impl NodeHandle {
    /// Handles over a keeper and its store, with a proof queue that has no keys (the node makes
    /// its own; tests and tools may use this).
    pub fn new(keeper: StateKeeper, store: Arc<BlockStore>) -> Self {
        let proofs = ProofQueue::new(store.clone(), Vec::new(), DEFAULT_PROOF_LEASE, keeper.events());
        Self::with_queue(keeper, store, proofs, 0)
    }

    fn with_queue(keeper: StateKeeper, store: Arc<BlockStore>, proofs: ProofQueue, chains: u8) -> Self {
        let executed = ExecutedState::genesis(keeper.network().clone(), keeper.fee_owner())
            .expect("the keeper's network and fee owner opened an executor already");
        Self {
            executed: Arc::new(Mutex::new(executed)),
            events: keeper.events(),
            keeper: Arc::new(Mutex::new(keeper)),
            store,
            chains: Arc::new(RwLock::new(
                (1..=chains).map(|chain| ChainStatus { chain, ..Default::default() }).collect(),
            )),
            proofs: Arc::new(proofs),
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The state keeper (lock briefly; never across an await).
    pub fn keeper(&self) -> MutexGuard<'_, StateKeeper> {
        self.keeper.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The block store.
    pub fn store(&self) -> &BlockStore {
        &self.store
    }

    /// A receiver of the node's events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// What the node last learnt of each chain.
    pub fn chains(&self) -> Vec<ChainStatus> {
        self.chains.read().map(|c| c.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The state as of the newest block executed on every chain (lock briefly).
    pub fn executed(&self) -> MutexGuard<'_, ExecutedState> {
        self.executed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Advances the executed state to the newest block every chain executed.
    fn advance_executed(&self) {
        let chains = self.chains();
        let Some(target) = chains.iter().map(|c| c.counters.map_or(0, |k| k.executed)).min() else { return };
        let mut executed = self.executed();
        if target > executed.block() {
            if let Err(e) = executed.advance_to(&self.store, target) {
                tracing::error!(error = %e, "advancing the executed state");
            }
        }
    }

    /// The prover job queue.
    pub fn proofs(&self) -> &ProofQueue {
        &self.proofs
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Records a pipeline pass: counters, L1 transactions, errors; updates gauges.
    fn record_pass(&self, result: &Result<StepReport, PipelineError>) {
        let now = unix_now();
        let m = &self.metrics;
        let mut chains = self.chains.write().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(report) => {
                for (status, k) in chains.iter_mut().zip(&report.counters) {
                    status.counters = Some(*k);
                    status.last_success = Some(now);
                    status.error = None;
                    for stage in Action::ALL {
                        m.l1_blocks
                            .with_label_values(&[&status.chain.to_string(), stage.name()])
                            .set(stage.of(k) as i64);
                    }
                }
                for s in &report.sent {
                    if let Err(e) = self.store.put_l1_tx(s.chain, s.action as u8, s.first, s.last, &s.tx.0) {
                        tracing::warn!(error = %e, "recording an L1 transaction");
                    }
                    m.l1_txs.with_label_values(&[&s.chain.to_string(), s.action.name()]).inc();
                    let _ = self.events.send(NodeEvent::L1Sent {
                        chain: s.chain,
                        stage: s.action,
                        first: s.first,
                        last: s.last,
                        tx: s.tx,
                    });
                }
            }
            Err(e) => {
                let failed = match e {
                    PipelineError::L1 { chain, .. }
                    | PipelineError::AheadOfStore { chain, .. }
                    | PipelineError::Diverged { chain, .. } => Some(*chain),
                    _ => None,
                };
                for status in chains.iter_mut().filter(|c| failed.is_none_or(|f| f == c.chain)) {
                    status.error = Some(e.to_string());
                    m.pipeline_errors.with_label_values(&[&status.chain.to_string()]).inc();
                }
            }
        }
    }

    /// Hands a worker's proof to the queue (verified, then stored) and counts it.
    pub fn complete_proof(&self, block: u32, proof: &ark_groth16::Proof<Bn254>) -> Result<(), crate::ProofError> {
        let result = self.proofs.complete(block, proof);
        match &result {
            Ok(()) => self.metrics.proofs.inc(),
            Err(crate::ProofError::Invalid(_)) => self.metrics.proofs_refused.inc(),
            Err(_) => {}
        }
        result
    }

    /// Updates the keeper and queue gauges.
    fn record_gauges(&self) {
        let m = &self.metrics;
        {
            let keeper = self.keeper();
            m.queued.set(keeper.queued() as i64);
            m.open_block_chunks.set(keeper.pending_chunks() as i64);
            m.sealed.set(keeper.next_block_number() as i64 - 1);
        }
        let (waiting, leased) = self.proofs.backlog();
        m.proof_jobs.with_label_values(&["waiting"]).set(waiting as i64);
        m.proof_jobs.with_label_values(&["leased"]).set(leased as i64);
    }
}

/// The operator node.
pub struct Node {
    handle: NodeHandle,
    watchers: Vec<PriorityWatcher>,
    pipeline: Pipeline,
    block_time: Duration,
    poll_interval: Duration,
    keys: BlockKeys,
    local_prover: bool,
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
            .map_err(|source| NodeError::DataDir { path: cfg.data_dir.clone(), source })?;
        let store = Arc::new(BlockStore::open(&cfg.data_dir.join("node.redb"))?);
        let mut keeper = StateKeeper::open_with(
            cfg.network.clone(),
            store.clone(),
            cfg.fee_owner,
            max_chunks,
            cfg.mempool,
            unix_now(),
        )?;
        keeper.set_fee_policy(cfg.fees);
        let genesis = State::genesis(cfg.network.preset.clone(), cfg.fee_owner).root();
        let genesis = B256::from(fr_to_bytes(&genesis));
        let mut watchers = Vec::new();
        let mut senders = Vec::new();
        for (i, (info, end)) in cfg.network.chains.iter().zip(&cfg.chains).enumerate() {
            let provider = connect(end.url.clone(), cfg.operator.clone());
            let next = keeper.next_serial(info.id.0);
            let watcher =
                PriorityWatcher::new(info.id, provider.clone(), end.zklink, end.deployed_at, cfg.confirmations, next);
            watchers.push(watcher.with_ceiling(cfg.read_ceilings.get(i).cloned()));
            let client = L1Client::new(provider, end.zklink).with_policy(cfg.send_policy.clone());
            let sender = ChainSender::new(ChainId(info.id.0), info.data_availability, client, genesis)
                .with_revert_unknown(cfg.revert_unknown_blocks.then_some(end.deployed_at));
            senders.push(sender);
        }
        let oracles = LocalOracles::new(cfg.network.network_id, cfg.oracles.clone());
        let vks = cfg.block_keys.iter().map(|(c, pk)| (*c, pk.vk.clone())).collect();
        let proofs = ProofQueue::new(store.clone(), vks, cfg.proof_lease, keeper.events());
        let chain_count = cfg.network.chains.len() as u8;
        Ok(Self {
            handle: NodeHandle::with_queue(keeper, store, proofs, chain_count),
            watchers,
            pipeline: Pipeline::new(senders, oracles, cfg.max_batch),
            block_time: cfg.block_time,
            poll_interval: cfg.poll_interval,
            keys: cfg.block_keys,
            local_prover: cfg.local_prover,
        })
    }

    /// The handles the API uses.
    pub fn handle(&self) -> NodeHandle {
        self.handle.clone()
    }

    /// Runs until `shutdown` resolves. The prover thread finishes the proof it is making first.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        let prover = self.local_prover.then(|| self.start_prover());
        tokio::pin!(shutdown);
        let mut opened = Instant::now();
        loop {
            self.take_requests().await;
            {
                let mut keeper = self.handle.keeper();
                if keeper.pending_chunks() == 0 {
                    opened = Instant::now();
                } else if opened.elapsed() >= self.block_time {
                    if let Err(e) = keeper.seal() {
                        tracing::error!(error = %e, "sealing failed");
                    }
                    opened = Instant::now();
                }
                self.handle.proofs.push(keeper.take_jobs());
            }
            let pass = self.pipeline.step(self.handle.store()).await;
            match &pass {
                Ok(r) if !r.sent.is_empty() => tracing::info!(actions = ?r.actions(), "L1 pipeline"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "L1 pipeline pass failed; retrying"),
            }
            self.handle.record_pass(&pass);
            self.handle.record_gauges();
            self.handle.advance_executed();
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.poll_interval) => {}
            }
        }
        self.handle.proofs.stop();
        if let Some(prover) = prover {
            let _ = prover.join();
        }
        tracing::info!("node stopped");
    }

    async fn take_requests(&mut self) {
        for w in &mut self.watchers {
            match w.poll().await {
                Ok(txs) => {
                    let chain = w.chain().0.to_string();
                    self.handle.metrics.priority_requests.with_label_values(&[&chain]).inc_by(txs.len() as u64);
                    let mut keeper = self.handle.keeper();
                    for (tx, l1_tx) in txs {
                        // Indexed first: a crash between the two leaves an entry for a request
                        // not taken yet (harmless), never a taken one that status cannot find.
                        let (chain, serial) = (tx.chain_id().0, tx.serial_id().0);
                        if let Err(e) = self.handle.store().put_l1_request(&l1_tx.0, chain, serial) {
                            tracing::error!(error = %e, "indexing a priority request failed");
                        }
                        if let Err(e) = keeper.submit_priority(tx, unix_now()) {
                            tracing::error!(error = %e, "a priority request was refused");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "watching L1 failed; retrying"),
            }
        }
    }

    /// The in-process prover: a worker of the proof queue like remote ones, on its own thread.
    fn start_prover(&self) -> std::thread::JoinHandle<()> {
        let handle = self.handle.clone();
        let keys = self.keys.clone();
        std::thread::spawn(move || {
            let queue = handle.proofs();
            while !queue.stopped() {
                let lease = match queue.lease_blocking("in-process", Duration::from_millis(500)) {
                    Ok(Some(lease)) => lease,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "no proof job");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                let (block, chunks) = (lease.block, lease.chunks);
                let Some((_, pk)) = keys.iter().find(|(c, _)| *c == chunks) else {
                    tracing::error!(block, chunks, "no proving key for this block size");
                    continue;
                };
                let started = Instant::now();
                match prove_witness(pk, lease.witness) {
                    Err(e) => tracing::error!(block, error = %e, "proving failed"),
                    Ok(proof) => match handle.complete_proof(block, &proof) {
                        Ok(()) => handle.metrics.proving_seconds.observe(started.elapsed().as_secs_f64()),
                        Err(e) => tracing::error!(block, error = %e, "the proof was refused"),
                    },
                }
            }
        })
    }
}
