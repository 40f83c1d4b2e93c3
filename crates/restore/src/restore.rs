//! Rebuilding the state from L1 alone.
//!
//! For each block after the restored one, up to the newest block any chain executed:
//! 1. its pubdata is read from the `commitBlocks` calldata of a data-availability chain;
//! 2. the block is rebuilt from it (number, timestamp and new root as committed, the old root is
//!    the restored state's) and must be exactly what *every* chain stores for it: each chain's
//!    `StoredBlockInfo` is recomputed (commitment, chain hashes, priority count, pending-ops hash,
//!    sync hash) and compared;
//! 3. each chain's deposits and full exits in it must be that chain's next queued requests;
//! 4. its ops are replayed ([`zklink_executor::replay`]) and the new root must be the stored one.
//!
//! The state is checkpointed in redb every few blocks, so a stopped restore continues from its
//! last checkpoint. At the end every chain's stored hash of its newest executed block (or the
//! target, if lower) is read from the chain and compared, which ties the whole rebuilt history
//! to what each chain executed (the sync hash chains every commitment before it).

use std::path::PathBuf;
use std::time::Instant;

use alloy::primitives::{Bytes, B256};
use alloy::providers::{Provider, ProviderBuilder};
use zklink_block::{fr_to_bytes, Block, BlockError};
use zklink_contracts::zklink::{commit_info, StoredBlockInfo};
use zklink_crypto::Fr;
use zklink_executor::{Executor, ExecutorConfigError, ReplayError};
use zklink_l1::{committed_pubdata, ChainEndpoint, ChainHistory, HistoryError, L1Client};
use zklink_state::store::fr_from_bytes;
use zklink_state::{RedbStore, State, StateError, StateStore};
use zklink_types::op::op_code;
use zklink_types::{Address, BlockNumber, ChainId, ChainInfo, Network, NetworkError, Op, CHUNK_BYTES};

/// What a restore needs.
#[derive(Clone, Debug)]
pub struct RestoreConfig {
    /// The network (preset, chains, tokens) the deployments were made for.
    pub network: Network,
    /// The fee account's owner at genesis (with the preset, it fixes the genesis root, which
    /// every chain stores as block 0).
    pub fee_owner: Address,
    /// Every chain's deployment, in the network's chain order.
    pub chains: Vec<ChainEndpoint>,
    /// The redb file holding the restored state.
    pub state_path: PathBuf,
    /// Checkpoint the state at least every this many blocks.
    pub checkpoint_every: u32,
}

/// Why a restore stopped. The state keeps its last checkpoint.
#[derive(thiserror::Error, Debug)]
pub enum RestoreError {
    /// Reading a chain failed, or its history is inconsistent.
    #[error("chain {chain}: {source}")]
    Chain {
        /// The chain.
        chain: u8,
        /// What failed.
        #[source]
        source: Box<HistoryError>,
    },
    /// The configuration does not fit the deployments.
    #[error("configuration: {0}")]
    Config(String),
    /// The network configuration is invalid.
    #[error("configuration: {0}")]
    Network(#[source] NetworkError),
    /// The network and the state do not fit together.
    #[error("configuration: {0}")]
    Executor(#[source] ExecutorConfigError),
    /// The directory of the state file could not be created.
    #[error("configuration: cannot create {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A chain stores another genesis block than this network's (its preset or fee owner).
    #[error(
        "configuration: chain {chain} was deployed with another genesis state root: check the network's preset \
         and its fee owner"
    )]
    WrongGenesis {
        /// The chain.
        chain: u8,
        /// The mismatch as read.
        #[source]
        source: Box<HistoryError>,
    },
    /// The state is already past the requested block.
    #[error(
        "the restored state is at block {restored}, past the requested block {target}; \
         restore into an empty state file to stop earlier"
    )]
    BeyondTarget {
        /// The restored block.
        restored: u32,
        /// The requested one.
        target: u32,
    },
    /// Only executed blocks are restored.
    #[error("block {target} is not executed on any chain yet (the newest executed block is {executed})")]
    NotExecuted {
        /// The requested block.
        target: u32,
        /// The newest block executed on some chain.
        executed: u32,
    },
    /// No data-availability chain gave the block's pubdata.
    #[error("block {block}: no data-availability chain gave its pubdata: {}", join(reasons))]
    NoPubdata {
        /// The block.
        block: u32,
        /// Each data-availability chain's reason.
        reasons: Vec<PubdataMiss>,
    },
    /// The pubdata does not decode into ops.
    #[error("block {block}: the pubdata is malformed: {reason}")]
    BadPubdata {
        /// The block.
        block: u32,
        /// Why.
        #[source]
        reason: PubdataFault,
    },
    /// The block rebuilt from pubdata is not what a chain stores.
    #[error("block {block}: chain {chain} stores something else than the pubdata rebuilds: {what}")]
    BlockMismatch {
        /// The block.
        block: u32,
        /// The chain.
        chain: u8,
        /// The fields that differ.
        what: String,
    },
    /// A deposit or full exit in the block does not encode as a queued request.
    #[error("block {block}: chain {chain}'s priority request {serial}: {source}")]
    QueuedForm {
        /// The block.
        block: u32,
        /// The chain.
        chain: u8,
        /// The request's serial id.
        serial: u64,
        /// Why the op did not encode.
        #[source]
        source: zklink_types::TxError,
    },
    /// A deposit or full exit in the pubdata is not the chain's next queued request.
    #[error("block {block}: chain {chain}'s priority request {serial}: {what}")]
    PriorityMismatch {
        /// The block.
        block: u32,
        /// The chain.
        chain: u8,
        /// The request's serial id.
        serial: u64,
        /// What differs.
        what: String,
    },
    /// The caller's handler of a restored block failed (e.g. writing it to a node's store).
    #[error("block {block}: {source}")]
    Handler {
        /// The block.
        block: u32,
        /// The handler's error.
        #[source]
        source: HandlerError,
    },
    /// An op did not replay on the rebuilt state.
    #[error("block {block}, op {index}: {source}")]
    Replay {
        /// The block.
        block: u32,
        /// The op's position in the block.
        index: usize,
        /// Why.
        #[source]
        source: Box<ReplayError>,
    },
    /// The replayed state's root is not the block's.
    #[error("block {block}: the rebuilt root {rebuilt} differs from the stored root {stored}")]
    RootMismatch {
        /// The block.
        block: u32,
        /// The rebuilt root.
        rebuilt: B256,
        /// The root every chain stores.
        stored: B256,
    },
    /// The state file failed.
    #[error("state store: {0}")]
    Store(#[from] StateError),
}

/// The error of a caller's handler of restored blocks ([`Restorer::run`]).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// Why one data-availability chain did not give a block's pubdata.
#[derive(thiserror::Error, Debug)]
pub enum PubdataMiss {
    /// The chain has not committed the block.
    #[error("chain {chain}: not committed there")]
    NotCommitted {
        /// The chain.
        chain: u8,
    },
    /// The commit transaction could not be read or decoded.
    #[error("chain {chain}: {source}")]
    Unreadable {
        /// The chain.
        chain: u8,
        /// What failed.
        #[source]
        source: HistoryError,
    },
    /// The commit transaction commits other blocks only.
    #[error("chain {chain}: its commit transaction lacks the block")]
    NotInCommit {
        /// The chain.
        chain: u8,
    },
}

fn join(reasons: &[PubdataMiss]) -> String {
    reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// What is wrong with a block's pubdata (or with the block rebuilt from it).
#[derive(thiserror::Error, Debug)]
pub enum PubdataFault {
    /// No chain stores the block.
    #[error("no chain has the block committed")]
    NotCommitted,
    /// A priority op names a chain the network does not have.
    #[error("a priority op of unknown chain {0}")]
    UnknownChain(u8),
    /// The length is not a positive multiple of the chunk size.
    #[error("{0} bytes is not a whole number of {CHUNK_BYTES}-byte chunks")]
    NotChunks(usize),
    /// The state root the chain stores is not canonical.
    #[error("the stored state root is not a field element: {0}")]
    StateRoot(#[source] StateError),
    /// The ops do not decode.
    #[error("{0}")]
    Decode(#[source] BlockError),
    /// The ops decode but do not re-encode.
    #[error("{0}")]
    Encode(#[source] BlockError),
    /// The ops re-encode to other bytes (the decoding was not strict).
    #[error("the ops do not re-encode to the same pubdata")]
    NotCanonical,
    /// The replayed block could not be sealed.
    #[error("sealing the block: {0}")]
    Seal(#[source] BlockError),
    /// The block's timestamp could not be set: ops of an earlier failed replay are open.
    #[error("{0}")]
    Timestamp(#[source] zklink_executor::TimestampFixed),
    /// The chain's info of the block could not be computed from it.
    #[error("computing the stored block info: {0}")]
    CommitInfo(#[source] BlockError),
}

/// One block restored: for progress, and for callers that keep the blocks (a node's store).
#[derive(Clone, Copy, Debug)]
pub struct BlockRestored<'a> {
    /// The block number.
    pub number: u32,
    /// The block the restore runs to.
    pub target: u32,
    /// The block as rebuilt (ops without padding, roots, timestamp, size).
    pub block: &'a Block,
}

/// What one chain says about the restored state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainCheck {
    /// The chain.
    pub chain: u8,
    /// Its newest executed block.
    pub executed: u32,
    /// The block whose stored hash was read from the chain and matched (its executed block, or
    /// the restored block if lower).
    pub checked: u32,
    /// Whether it is in exodus mode.
    pub exodus: bool,
    /// Requests queued there that no executed block consumed.
    pub open_requests: u64,
}

/// The outcome of a restore run.
#[derive(Clone, Debug)]
pub struct RestoreReport {
    /// The block the run started from (0: genesis).
    pub from: u32,
    /// The block restored.
    pub block: u32,
    /// The state root after it.
    pub root: B256,
    /// Ops replayed in this run.
    pub ops: u64,
    /// Accounts in the state.
    pub accounts: usize,
    /// Seconds this run took.
    pub secs: f64,
    /// Every chain's check.
    pub chains: Vec<ChainCheck>,
}

/// Every block's pubdata in one commit transaction: (block number, pubdata).
type CommittedPubdata = Vec<(u32, Vec<u8>)>;

/// A restored state and the chains it is restored from.
pub struct Restorer {
    network: Network,
    histories: Vec<ChainHistory>,
    store: RedbStore,
    replayer: BlockReplayer,
    block: u32,
    checkpoint_every: u32,
    /// The last commit transaction read, with every block's pubdata in it.
    pubdata_cache: Option<(B256, CommittedPubdata)>,
}

fn root_bytes(root: &Fr) -> B256 {
    B256::from(fr_to_bytes(root))
}

/// A read-only client of `end` (restore never sends).
fn reader(end: &ChainEndpoint) -> L1Client {
    L1Client::new(ProviderBuilder::new().connect_http(end.url.clone()).erased(), end.zklink)
}

impl Restorer {
    /// Opens the state file (a new one starts at genesis) and the chains' readers.
    pub fn open(cfg: RestoreConfig) -> Result<Self, RestoreError> {
        cfg.network.validate().map_err(RestoreError::Network)?;
        if cfg.chains.len() != cfg.network.chains.len() {
            let (got, want) = (cfg.chains.len(), cfg.network.chains.len());
            return Err(RestoreError::Config(format!("{got} chain endpoints for a network of {want} chains")));
        }
        if !cfg.network.chains.iter().any(|c| c.data_availability) {
            return Err(RestoreError::Config("the network has no data-availability chain to read pubdata from".into()));
        }
        if let Some(dir) = cfg.state_path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| RestoreError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let store = RedbStore::open(&cfg.state_path)?;
        let preset = cfg.network.preset.clone();
        let genesis = State::genesis(preset.clone(), cfg.fee_owner);
        let genesis_root = root_bytes(&genesis.clone().root());
        let (state, block) = match store.load()? {
            Some(stored) => {
                let block = stored.block.0;
                (State::from_stored_verified(preset, stored)?, block)
            }
            None => (genesis, 0),
        };
        let histories = cfg
            .network
            .chains
            .iter()
            .zip(&cfg.chains)
            .map(|(info, end)| ChainHistory::new(info.id, reader(end), end.deployed_at, genesis_root))
            .collect();
        let replayer = BlockReplayer::new(cfg.network.clone(), state)?;
        let checkpoint_every = cfg.checkpoint_every.max(1);
        Ok(Self { network: cfg.network, histories, store, replayer, block, checkpoint_every, pubdata_cache: None })
    }

    /// The restored block (0: genesis).
    pub fn block(&self) -> u32 {
        self.block
    }

    /// The restored state.
    pub fn state(&self) -> &State {
        self.replayer.state()
    }

    /// The state, mutably (exit witnesses read Merkle paths, which flushes hashing).
    pub fn state_mut(&mut self) -> &mut State {
        self.replayer.state_mut()
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Every chain's history as of the last run.
    pub fn histories(&self) -> &[ChainHistory] {
        &self.histories
    }

    /// Reads every chain again (counters, new blocks and requests).
    pub async fn refresh(&mut self) -> Result<(), RestoreError> {
        for i in 0..self.histories.len() {
            self.refresh_chain(i).await?;
        }
        Ok(())
    }

    /// Reads the chain at index `i` (network order) again.
    pub async fn refresh_chain(&mut self, i: usize) -> Result<(), RestoreError> {
        let h = &mut self.histories[i];
        let chain = h.chain().0;
        h.refresh().await.map_err(|source| RestoreError::Chain { chain, source: Box::new(source) })
    }

    /// The newest block executed on some chain.
    pub fn newest_executed(&self) -> u32 {
        self.histories.iter().map(|h| h.counters().executed).max().unwrap_or(0)
    }

    /// Restores up to `until` (default: the newest block executed on any chain), calling
    /// `on_block` after each block (an error stops the run before the block's checkpoint), then
    /// checks the result against every chain.
    pub async fn run(
        &mut self,
        until: Option<u32>,
        mut on_block: impl FnMut(&BlockRestored) -> Result<(), HandlerError>,
    ) -> Result<RestoreReport, RestoreError> {
        let started = Instant::now();
        self.refresh().await?;
        let executed = self.newest_executed();
        let target = until.unwrap_or(executed);
        if target > executed {
            return Err(RestoreError::NotExecuted { target, executed });
        }
        if self.block > target {
            return Err(RestoreError::BeyondTarget { restored: self.block, target });
        }
        let from = self.block;
        if from == 0 {
            self.check_genesis().await?;
        }
        self.check_restored_root()?;
        let mut serials = self.consumed_requests(from);
        let mut ops = 0u64;
        while self.block < target {
            let n = self.block + 1;
            let block = self.restore_block(n, &mut serials).await?;
            ops += block.ops.len() as u64;
            let restored = BlockRestored { number: n, target, block: &block };
            on_block(&restored).map_err(|source| RestoreError::Handler { block: n, source })?;
            if n.is_multiple_of(self.checkpoint_every) || n == target {
                self.checkpoint()?;
            }
        }
        let chains = self.check_chains().await?;
        let root = root_bytes(&self.replayer.root());
        Ok(RestoreReport {
            from,
            block: self.block,
            root,
            ops,
            accounts: self.replayer.state().account_count(),
            secs: started.elapsed().as_secs_f64(),
            chains,
        })
    }

    /// Every chain stores this network's genesis as block 0 (else the preset or fee owner given
    /// is not the deployment's, and every block would look forged).
    async fn check_genesis(&self) -> Result<(), RestoreError> {
        for h in &self.histories {
            if let Err(e) = h.check_stored(0).await {
                return Err(match e {
                    HistoryError::NotStored { chain, .. } => RestoreError::WrongGenesis { chain, source: Box::new(e) },
                    other => RestoreError::Chain { chain: h.chain().0, source: Box::new(other) },
                });
            }
        }
        Ok(())
    }

    /// The restored state's root must be what every chain that committed the block stores.
    fn check_restored_root(&mut self) -> Result<(), RestoreError> {
        let rebuilt = root_bytes(&self.replayer.root());
        for h in &self.histories {
            if let Some(info) = h.stored(self.block) {
                if info.stateRoot != rebuilt {
                    return Err(RestoreError::RootMismatch { block: self.block, rebuilt, stored: info.stateRoot });
                }
            }
        }
        Ok(())
    }

    /// Per chain, the requests blocks 1..=`block` consumed (the next serial id to expect).
    fn consumed_requests(&self, block: u32) -> Vec<u64> {
        let count = |h: &ChainHistory| (1..=block).filter_map(|n| h.stored(n)).map(|i| i.priorityOperations).sum();
        self.histories.iter().map(count).collect()
    }

    /// Restores block `n`; returns it.
    async fn restore_block(&mut self, n: u32, serials: &mut [u64]) -> Result<Block, RestoreError> {
        let pubdata = self.pubdata(n).await?;
        let reference = self
            .histories
            .iter()
            .find_map(|h| h.stored(n))
            .ok_or(RestoreError::BadPubdata { block: n, reason: PubdataFault::NotCommitted })?;
        let block = self.replayer.rebuild(n, &pubdata, reference)?;
        for (h, info) in self.histories.iter().zip(&self.network.chains) {
            if let (Some(stored), Some(prev)) = (h.stored(n), h.stored(n - 1)) {
                check_stored(&block, info, prev, stored)?;
            }
        }
        self.check_priority(&block, serials)?;
        self.replayer.apply(&block)?;
        self.block = n;
        Ok(block)
    }

    /// Block `n`'s pubdata from the first data-availability chain that has it.
    async fn pubdata(&mut self, n: u32) -> Result<Vec<u8>, RestoreError> {
        let mut reasons = Vec::new();
        for (i, info) in self.network.chains.iter().enumerate() {
            if !info.data_availability {
                continue;
            }
            let h = &self.histories[i];
            let chain = info.id.0;
            let Some(commit) = h.committed(n) else {
                reasons.push(PubdataMiss::NotCommitted { chain });
                continue;
            };
            let cached = self.pubdata_cache.as_ref().filter(|(tx, _)| *tx == commit.tx_hash);
            let blocks = match cached {
                Some((_, blocks)) => blocks.clone(),
                None => match committed_pubdata(h.client(), n, commit.tx_hash).await {
                    Ok(blocks) => {
                        self.pubdata_cache = Some((commit.tx_hash, blocks.clone()));
                        blocks
                    }
                    Err(source) => {
                        reasons.push(PubdataMiss::Unreadable { chain, source });
                        continue;
                    }
                },
            };
            match blocks.into_iter().find(|(b, _)| *b == n) {
                Some((_, pubdata)) => return Ok(pubdata),
                None => reasons.push(PubdataMiss::NotInCommit { chain }),
            }
        }
        Err(RestoreError::NoPubdata { block: n, reasons })
    }

    /// Each chain's deposits and full exits in the block are its next queued requests.
    fn check_priority(&self, block: &Block, serials: &mut [u64]) -> Result<(), RestoreError> {
        let n = block.number.0;
        for op in block.ops.iter().filter(|op| op.is_priority()) {
            let chain = op.chain_id().map_or(0, |c| c.0);
            let index = self
                .chain_index(ChainId(chain))
                .ok_or(RestoreError::BadPubdata { block: n, reason: PubdataFault::UnknownChain(chain) })?;
            let serial = serials[index];
            let mismatch = |what: String| RestoreError::PriorityMismatch { block: n, chain, serial, what };
            let request = self.histories[index]
                .request(serial)
                .ok_or_else(|| mismatch("was never queued (no NewPriorityRequest event)".into()))?;
            let expected =
                queued_form(op).map_err(|source| RestoreError::QueuedForm { block: n, chain, serial, source })?;
            if request.pubdata != expected {
                return Err(mismatch(format!("was queued as {} but the block has {}", request.pubdata, expected)));
            }
            serials[index] += 1;
        }
        Ok(())
    }

    fn chain_index(&self, chain: ChainId) -> Option<usize> {
        self.network.chains.iter().position(|c| c.id == chain)
    }

    /// Writes the state changed since the last checkpoint, with the block and root.
    fn checkpoint(&mut self) -> Result<(), RestoreError> {
        let root = self.replayer.root();
        let changed = self.replayer.state_mut().take_unsaved();
        self.store.commit(BlockNumber(self.block), root, &changed)?;
        tracing::info!(block = self.block, root = %root_bytes(&root), accounts_written = changed.len(), "restore checkpoint");
        Ok(())
    }

    /// Reads from every chain the stored hash of its newest executed block (or of the restored
    /// block, if that is lower) and compares it with the history the state was rebuilt from.
    async fn check_chains(&self) -> Result<Vec<ChainCheck>, RestoreError> {
        let mut checks = Vec::new();
        for h in &self.histories {
            let chain = h.chain().0;
            let counters = h.counters();
            let checked = counters.executed.min(self.block);
            h.check_stored(checked).await.map_err(|source| RestoreError::Chain { chain, source: Box::new(source) })?;
            checks.push(ChainCheck {
                chain,
                executed: counters.executed,
                checked,
                exodus: h.exodus(),
                open_requests: h.open_requests().count() as u64,
            });
        }
        Ok(checks)
    }
}

/// The CPU side of a restore: pubdata in, a checked block applied to the state.
pub struct BlockReplayer {
    network: Network,
    exec: Executor,
}

impl BlockReplayer {
    /// Replays onto `state` (genesis, or a restored state).
    pub fn new(network: Network, state: State) -> Result<Self, RestoreError> {
        let exec = Executor::new(network.clone(), state).map_err(RestoreError::Executor)?;
        Ok(Self { network, exec })
    }

    /// The state.
    pub fn state(&self) -> &State {
        self.exec.state()
    }

    /// The state, mutably.
    pub fn state_mut(&mut self) -> &mut State {
        self.exec.state_mut()
    }

    /// The state root (flushes pending hashing).
    pub fn root(&mut self) -> Fr {
        self.exec.root()
    }

    /// Block `n` as its pubdata and `reference` (the info a chain stores for it: timestamp and
    /// new root) describe it, on top of the current state.
    pub fn rebuild(&mut self, n: u32, pubdata: &[u8], reference: &StoredBlockInfo) -> Result<Block, RestoreError> {
        let bad = |reason| RestoreError::BadPubdata { block: n, reason };
        if pubdata.is_empty() || !pubdata.len().is_multiple_of(CHUNK_BYTES) {
            return Err(bad(PubdataFault::NotChunks(pubdata.len())));
        }
        let new_root = fr_from_bytes(reference.stateRoot.as_slice()).map_err(|e| bad(PubdataFault::StateRoot(e)))?;
        let ops = Block::ops_from_pubdata(pubdata).map_err(|e| bad(PubdataFault::Decode(e)))?;
        let block = Block {
            number: BlockNumber(n),
            timestamp: reference.timestamp,
            old_root: self.exec.root(),
            new_root,
            ops,
            chunks: pubdata.len() / CHUNK_BYTES,
            chain_count: self.network.chains.len() as u8,
        };
        // Decoding is strict (no unknown codes or non-zero padding); re-encoding must give the
        // same bytes, so the ops replayed are exactly the data whose hash was proven.
        if block.pubdata().map_err(|e| bad(PubdataFault::Encode(e)))? != pubdata {
            return Err(bad(PubdataFault::NotCanonical));
        }
        Ok(block)
    }

    /// Applies `block`'s ops; the new root must be the block's.
    pub fn apply(&mut self, block: &Block) -> Result<(), RestoreError> {
        let n = block.number.0;
        self.exec
            .set_block_timestamp(block.timestamp)
            .map_err(|e| RestoreError::BadPubdata { block: n, reason: PubdataFault::Timestamp(e) })?;
        for (index, op) in block.ops.iter().enumerate() {
            self.exec.apply_op(op).map_err(|source| RestoreError::Replay {
                block: n,
                index,
                source: Box::new(source),
            })?;
        }
        let sealed = self
            .exec
            .seal_block(BlockNumber(n))
            .map_err(|e| RestoreError::BadPubdata { block: n, reason: PubdataFault::Seal(e) })?;
        if sealed.block.new_root != block.new_root {
            let (rebuilt, stored) = (root_bytes(&sealed.block.new_root), root_bytes(&block.new_root));
            return Err(RestoreError::RootMismatch { block: n, rebuilt, stored });
        }
        Ok(())
    }
}

/// `block` is exactly what `chain` stores, given the chain's info of the block before: the info
/// recomputed from the block (commitment, chain hashes, priority count, pending-ops hash, sync
/// hash) equals the stored one.
pub fn check_stored(
    block: &Block,
    chain: &ChainInfo,
    prev: &StoredBlockInfo,
    stored: &StoredBlockInfo,
) -> Result<(), RestoreError> {
    let n = block.number.0;
    let (_, expected) = commit_info(block, &[], chain.id, chain.data_availability, prev)
        .map_err(|e| RestoreError::BadPubdata { block: n, reason: PubdataFault::CommitInfo(e) })?;
    let what = info_diff(stored, &expected);
    if !what.is_empty() {
        return Err(RestoreError::BlockMismatch { block: n, chain: chain.id.0, what });
    }
    Ok(())
}

/// The op as its chain queued it: the fields L1 cannot know zeroed (a deposit's account id, a
/// full exit's amount).
fn queued_form(op: &Op) -> Result<Bytes, zklink_types::TxError> {
    let mut bytes = op.pubdata()?;
    match op.code() {
        op_code::DEPOSIT => bytes[2..6].fill(0),
        op_code::FULL_EXIT => bytes[11..27].fill(0),
        _ => {}
    }
    Ok(bytes.into())
}

/// The fields in which `stored` differs from `expected`, named; empty if equal.
fn info_diff(stored: &StoredBlockInfo, expected: &StoredBlockInfo) -> String {
    let mut diffs = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            diffs.push(format!("{name} stored {a}, rebuilt {b}"));
        }
    };
    field("timestamp", stored.timestamp.to_string(), expected.timestamp.to_string());
    field("state root", stored.stateRoot.to_string(), expected.stateRoot.to_string());
    field("commitment", stored.commitment.to_string(), expected.commitment.to_string());
    field("sync hash", stored.syncHash.to_string(), expected.syncHash.to_string());
    field("priority operations", stored.priorityOperations.to_string(), expected.priorityOperations.to_string());
    field(
        "pending on-chain ops hash",
        stored.pendingOnchainOpsHash.to_string(),
        expected.pendingOnchainOpsHash.to_string(),
    );
    diffs.join("; ")
}
