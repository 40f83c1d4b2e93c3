//! The state keeper: applies priority requests and signed txs to the open block, seals blocks,
//! and makes both durable. A tx is acknowledged only after it is applied and written to the
//! write-ahead log, so nothing acknowledged is lost if the process dies: [`StateKeeper::open`]
//! replays the stored blocks (checking each against the store) and then the log.
//!
//! Blocks are sealed before a tx could overflow `max_chunks` (the largest shape with a proving
//! key), so every sealed block has a circuit that proves it. Txs are not queued: one with a
//! future nonce is rejected with the executor's typed error and may be resubmitted.

use std::collections::HashSet;
use std::sync::Arc;

use zklink_executor::verify::VerifiedTx;
use zklink_executor::Executor;
use zklink_state::State;
use zklink_types::{Address, BlockNumber, L2Tx, Network, PriorityTx, TxError, TxHash};

use crate::store::{BlockStore, StoreError, StoredBlock, WalEntry};

/// The most chunks `tx`'s op can take (§8: a transfer to a new account takes 2).
fn max_chunks(tx: &L2Tx) -> usize {
    match tx {
        L2Tx::Transfer(_) => 2,
        L2Tx::Withdraw(_) | L2Tx::ChangePubKey(_) | L2Tx::ForcedExit(_) => 3,
        L2Tx::OrderMatching(_) => 4,
    }
}

/// Deposits and full exits take 2 chunks.
const PRIORITY_CHUNKS: usize = 2;

/// Why a submission was refused.
#[derive(thiserror::Error, Debug)]
pub enum SubmitError {
    /// The tx is invalid (signature, nonce, balance, …): the executor's typed reason.
    #[error("rejected: {0}")]
    Rejected(#[from] TxError),
    /// The same tx is already in the open block.
    #[error("tx {0:?} was already accepted")]
    Duplicate(TxHash),
    /// A priority request out of serial order.
    #[error("chain {chain}: priority request {got} out of order (expected {expected})")]
    OutOfOrder {
        /// The zklink chain id.
        chain: u8,
        /// The serial id expected.
        expected: u64,
        /// The one offered.
        got: u64,
    },
    /// Writing it to disk failed: it was not accepted, and the keeper stops accepting (its memory
    /// is ahead of its disk) until it is reopened.
    #[error("storage failed, the keeper must be restarted: {0}")]
    Storage(#[from] StoreError),
    /// A previous storage failure stopped the keeper.
    #[error("the keeper stopped after a storage failure and must be restarted")]
    Stopped,
}

/// Why the keeper could not open or seal.
#[derive(thiserror::Error, Debug)]
pub enum KeeperError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network configuration is invalid.
    #[error("network: {0}")]
    Network(String),
    /// Replaying a stored block or the log gave another result than recorded.
    #[error("replay of block {block}: {reason}")]
    Replay {
        /// The block (the open one for the log).
        block: u32,
        /// What differed.
        reason: String,
    },
    /// Sealing failed.
    #[error("sealing block {block}: {reason}")]
    Seal {
        /// The block.
        block: u32,
        /// Why.
        reason: String,
    },
}

/// A sealed block not proven yet, with the state at its start (the prover replays from it).
pub struct ProofJob {
    /// The block.
    pub block: StoredBlock,
    /// The state before it.
    pub start: State,
}

/// The sequencer's state.
pub struct StateKeeper {
    exec: Executor,
    store: Arc<BlockStore>,
    max_chunks: usize,
    /// The state at the open block's start.
    block_start: State,
    txs: Vec<Option<L2Tx>>,
    priority: Vec<PriorityTx>,
    seen: HashSet<TxHash>,
    next_serials: Vec<u64>,
    jobs: Vec<ProofJob>,
    /// Blocks sealed so far (the last block's number).
    sealed: u32,
    stopped: bool,
}

impl StateKeeper {
    /// Opens the keeper over `store`: replays every stored block and the write-ahead log.
    /// Blocks without a proof become proof jobs.
    pub fn open(
        network: Network,
        store: Arc<BlockStore>,
        fee_owner: Address,
        max_chunks: usize,
    ) -> Result<Self, KeeperError> {
        let chains = network.chains.len();
        let state = State::genesis(network.preset.clone(), fee_owner);
        let exec = Executor::new(network, state.clone()).map_err(KeeperError::Network)?;
        let mut keeper = Self {
            exec,
            store,
            max_chunks,
            block_start: state,
            txs: Vec::new(),
            priority: Vec::new(),
            seen: HashSet::new(),
            next_serials: vec![0; chains],
            jobs: Vec::new(),
            sealed: 0,
            stopped: false,
        };
        keeper.replay()?;
        Ok(keeper)
    }

    fn replay(&mut self) -> Result<(), KeeperError> {
        for n in 1..=self.store.last_block()? {
            let stored = self.store.block(n)?.ok_or(KeeperError::Replay { block: n, reason: "missing".into() })?;
            let fail = |reason: String| KeeperError::Replay { block: n, reason };
            let mut priority = stored.priority.iter();
            for tx in &stored.txs {
                match tx {
                    Some(tx) => self.apply_l2(tx.clone()).map_err(|e| fail(e.to_string()))?,
                    None => {
                        let p = priority.next().ok_or_else(|| fail("fewer priority requests than ops".into()))?;
                        self.apply_priority(p.clone()).map_err(|e| fail(e.to_string()))?;
                    }
                }
            }
            let (sealed, job) = self.seal_open_block(stored.block.timestamp)?;
            if sealed != stored {
                return Err(fail("the replayed block differs from the stored one".into()));
            }
            if self.store.proof(n)?.is_none() {
                self.jobs.push(job);
            }
        }
        for entry in self.store.wal()? {
            let block = self.next_block_number();
            let fail = |e: SubmitError| KeeperError::Replay { block, reason: format!("write-ahead log: {e}") };
            match entry {
                WalEntry::L2(tx) => self.apply_l2(tx).map_err(fail)?,
                WalEntry::Priority(tx) => self.apply_priority(tx).map_err(fail)?,
            }
        }
        Ok(())
    }

    /// The number the open block will get.
    pub fn next_block_number(&self) -> u32 {
        self.sealed + 1
    }

    /// The serial id of the next priority request expected from `chain` (1-based).
    pub fn next_serial(&self, chain: u8) -> u64 {
        self.next_serials.get(chain as usize - 1).copied().unwrap_or(0)
    }

    /// The current state (including the open block).
    pub fn state(&self) -> &State {
        self.exec.state()
    }

    /// Chunks used in the open block.
    pub fn pending_chunks(&self) -> usize {
        self.exec.pending_chunks()
    }

    /// Takes the proof jobs of sealed, unproven blocks.
    pub fn take_jobs(&mut self) -> Vec<ProofJob> {
        std::mem::take(&mut self.jobs)
    }

    /// Verifies, applies and logs a signed tx; returns its hash once it is durable.
    pub fn submit(&mut self, tx: L2Tx, now: u64) -> Result<TxHash, SubmitError> {
        self.submit_verified(VerifiedTx::verify(tx)?, now)
    }

    /// Applies and logs a tx whose signatures were checked already: callers verify before taking
    /// the keeper's lock, so signature checks run in parallel, off the sequencing path.
    pub fn submit_verified(&mut self, verified: VerifiedTx, now: u64) -> Result<TxHash, SubmitError> {
        if self.stopped {
            return Err(SubmitError::Stopped);
        }
        if self.seen.contains(&verified.hash()) {
            return Err(SubmitError::Duplicate(verified.hash()));
        }
        self.make_room(max_chunks(verified.tx()), now)?;
        self.exec.apply_verified(&verified)?;
        self.log(WalEntry::L2(verified.tx().clone()))?;
        self.seen.insert(verified.hash());
        self.txs.push(Some(verified.tx().clone()));
        Ok(verified.hash())
    }

    /// Applies and logs a priority request (from the watcher, in serial order).
    pub fn submit_priority(&mut self, tx: PriorityTx, now: u64) -> Result<(), SubmitError> {
        if self.stopped {
            return Err(SubmitError::Stopped);
        }
        self.make_room(PRIORITY_CHUNKS, now)?;
        self.apply_priority(tx.clone())?;
        self.log(WalEntry::Priority(tx))
    }

    /// Seals the open block if it has ops; returns its number.
    pub fn seal(&mut self, timestamp: u64) -> Result<Option<u32>, KeeperError> {
        if self.exec.pending_ops().is_empty() {
            return Ok(None);
        }
        let (block, job) = self.seal_open_block(timestamp)?;
        self.store.put_block(&block)?;
        tracing::info!(
            block = block.block.number.0,
            chunks = block.block.chunks,
            ops = block.txs.len(),
            "block sealed"
        );
        self.jobs.push(job);
        Ok(Some(block.block.number.0))
    }

    /// Seals the open block if an op of `chunks` might not fit in it.
    fn make_room(&mut self, chunks: usize, now: u64) -> Result<(), SubmitError> {
        if self.exec.pending_chunks() + chunks > self.max_chunks {
            self.seal(now).map_err(|e| match e {
                KeeperError::Store(s) => SubmitError::Storage(s),
                other => SubmitError::Storage(StoreError::Db(other.to_string())),
            })?;
        }
        Ok(())
    }

    fn log(&mut self, entry: WalEntry) -> Result<(), SubmitError> {
        self.store.append_wal(&entry).map_err(|e| {
            self.stopped = true;
            SubmitError::Storage(e)
        })
    }

    fn apply_l2(&mut self, tx: L2Tx) -> Result<(), SubmitError> {
        let verified = VerifiedTx::verify(tx)?;
        self.exec.apply_verified(&verified)?;
        self.seen.insert(verified.hash());
        self.txs.push(Some(verified.into_tx()));
        Ok(())
    }

    fn apply_priority(&mut self, tx: PriorityTx) -> Result<(), SubmitError> {
        let chain = tx.chain_id().0;
        let expected = self.next_serial(chain);
        let got = match &tx {
            PriorityTx::Deposit(d) => d.serial_id.0,
            PriorityTx::FullExit(f) => f.serial_id.0,
        };
        if got != expected {
            return Err(SubmitError::OutOfOrder { chain, expected, got });
        }
        self.exec.apply_priority(&tx)?;
        self.next_serials[chain as usize - 1] += 1;
        self.txs.push(None);
        self.priority.push(tx);
        Ok(())
    }

    fn seal_open_block(&mut self, timestamp: u64) -> Result<(StoredBlock, ProofJob), KeeperError> {
        let number = self.sealed + 1;
        let sealed = self
            .exec
            .seal_block(BlockNumber(number), timestamp)
            .map_err(|e| KeeperError::Seal { block: number, reason: e.to_string() })?;
        let block = StoredBlock {
            block: sealed.block,
            txs: std::mem::take(&mut self.txs),
            priority: std::mem::take(&mut self.priority),
        };
        let start = std::mem::replace(&mut self.block_start, self.exec.state().clone());
        self.seen.clear();
        self.sealed = number;
        Ok((block.clone(), ProofJob { block, start }))
    }
}
