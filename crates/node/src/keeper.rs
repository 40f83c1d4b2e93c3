//! The state keeper: applies priority requests and signed txs to the open block, seals blocks,
//! and makes both durable. A tx is acknowledged only after it is applied and written to the
//! write-ahead log, so nothing acknowledged is lost if the process dies: [`StateKeeper::open`]
//! replays the stored blocks (checking each against the store) and then the log.
//!
//! Blocks are sealed before a tx could overflow `max_chunks` (the largest shape with a proving
//! key), so every sealed block has a circuit that proves it. A tx with a future nonce waits in the
//! [`Mempool`] (and durably in the store's queue, so it too survives a crash) until the txs before
//! it are applied; one whose turn comes but fails is dropped and its failure recorded.
//!
//! [`StateKeeper::submit_batch`] takes many txs in order, stops at the first refused, and makes
//! the accepted ones durable with one commit of the log (group commit) before it returns.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::broadcast;
use zklink_executor::verify::VerifiedTx;
use zklink_executor::Executor;
use zklink_state::State;
use zklink_types::{AccountId, Address, BlockNumber, L2Tx, Network, PriorityTx, TxError, TxHash};

use crate::events::{NodeEvent, EVENT_BUFFER};
use crate::fees::{FeeError, FeePolicy};
use crate::mempool::{Mempool, MempoolLimits, QueueError};
use crate::proofs::ProofJob;
use crate::store::{BlockStore, StoreError, StoredBlock, WalEntry};
use zklink_types::describe::{tx_error, TxTokens};

/// Why a submission was refused.
#[derive(thiserror::Error, Debug)]
pub enum SubmitError {
    /// The tx is invalid (signature, nonce, balance, …): the executor's typed reason.
    #[error("rejected: {0}")]
    Rejected(#[from] TxError),
    /// The same tx is already in the open block or waiting.
    #[error("tx {0:?} was already accepted")]
    Duplicate(TxHash),
    /// The fee is too low or in a token the node does not take.
    #[error("rejected: {0}")]
    Fee(#[from] FeeError),
    /// A tx with a future nonce may not wait.
    #[error("not queued: {0}")]
    Queue(#[from] QueueError),
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
    /// Sealing the open block to make room for the tx failed.
    #[error("sealing the open block failed: {0}")]
    Seal(#[source] Box<KeeperError>),
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
    Network(#[source] zklink_executor::ExecutorConfigError),
    /// Replaying a stored block or the log gave another result than recorded.
    #[error("replay of block {block}: {what}")]
    Replay {
        /// The block (the open one for the log).
        block: u32,
        /// What was being replayed, or what differed.
        what: &'static str,
        /// The error that stopped it, if one did.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Sealing failed.
    #[error("sealing block {block}: {source}")]
    Seal {
        /// The block.
        block: u32,
        /// Why.
        #[source]
        source: zklink_block::BlockError,
    },
}

/// What became of an accepted tx.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Applied to the open block.
    Applied(TxHash),
    /// Waiting for an earlier nonce of its account.
    Queued(TxHash),
}

impl Submitted {
    /// The tx hash.
    pub fn hash(&self) -> TxHash {
        match self {
            Self::Applied(h) | Self::Queued(h) => *h,
        }
    }
}

/// What became of a batch ([`StateKeeper::submit_batch`]).
#[derive(Debug)]
pub struct BatchOutcome {
    /// The txs accepted (applied or queued), durably: always a prefix of the batch, in order.
    pub accepted: Vec<Submitted>,
    /// The first tx not accepted: its index in the batch and why. The txs after it were not
    /// looked at. `None`: the whole batch was accepted.
    pub refused: Option<(usize, SubmitError)>,
}

/// Writes and events held back while a batch is applied, so that the whole batch is one commit.
#[derive(Default)]
struct Deferred {
    /// Log entries of the txs applied since the last durable point, in order; the hash names a
    /// queued tx the entry is (it leaves the stored queue).
    wal: Vec<(WalEntry, Option<TxHash>)>,
    /// Txs of the batch that wait for an earlier nonce, not yet in the stored queue.
    queued: Vec<(TxHash, L2Tx)>,
    /// Events of what is not durable yet, in order.
    events: Vec<NodeEvent>,
    /// What the batch accepted so far (in memory).
    accepted: Vec<Submitted>,
    /// How many of `accepted` are durable already (in a block sealed during the batch).
    durable: usize,
}

/// The sequencer's state.
pub struct StateKeeper {
    exec: Executor,
    fee_owner: Address,
    store: Arc<BlockStore>,
    max_chunks: usize,
    /// The state at the open block's start.
    block_start: State,
    txs: Vec<Option<L2Tx>>,
    priority: Vec<PriorityTx>,
    seen: HashSet<TxHash>,
    mempool: Mempool,
    fees: FeePolicy,
    events: broadcast::Sender<NodeEvent>,
    next_serials: Vec<u64>,
    jobs: Vec<ProofJob>,
    /// Blocks sealed so far (the last block's number).
    sealed: u32,
    stopped: bool,
    /// While a batch is applied: its writes and events, held back for one commit.
    deferred: Option<Deferred>,
}

impl StateKeeper {
    /// Opens the keeper over `store`: replays every stored block and the write-ahead log, then
    /// reloads the queue (txs that became applicable are applied as of `now`, Unix seconds).
    /// Blocks without a proof become proof jobs.
    pub fn open(
        network: Network,
        store: Arc<BlockStore>,
        fee_owner: Address,
        max_chunks: usize,
        now: u64,
    ) -> Result<Self, KeeperError> {
        Self::open_with(network, store, fee_owner, max_chunks, MempoolLimits::default(), now)
    }

    /// [`StateKeeper::open`] with the queue's limits.
    pub fn open_with(
        network: Network,
        store: Arc<BlockStore>,
        fee_owner: Address,
        max_chunks: usize,
        limits: MempoolLimits,
        now: u64,
    ) -> Result<Self, KeeperError> {
        let chains = network.chains.len();
        let state = State::genesis(network.preset.clone(), fee_owner);
        let exec = Executor::new(network, state.clone()).map_err(KeeperError::Network)?;
        let mut keeper = Self {
            exec,
            fee_owner,
            store,
            max_chunks,
            block_start: state,
            txs: Vec::new(),
            priority: Vec::new(),
            seen: HashSet::new(),
            mempool: Mempool::new(limits),
            fees: FeePolicy::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            next_serials: vec![0; chains],
            jobs: Vec::new(),
            sealed: 0,
            stopped: false,
            deferred: None,
        };
        keeper.replay()?;
        keeper.reload_queue(now)?;
        Ok(keeper)
    }

    fn replay(&mut self) -> Result<(), KeeperError> {
        for n in 1..=self.store.last_block()? {
            let stored = self.store.block(n)?.ok_or(KeeperError::Replay { block: n, what: "missing", source: None })?;
            let differs = |what| KeeperError::Replay { block: n, what, source: None };
            let failed = |what, e: SubmitError| KeeperError::Replay { block: n, what, source: Some(e.into()) };
            self.exec.set_block_timestamp(stored.block.timestamp).map_err(|e| failed_at(n, e))?;
            if stored.imported {
                self.replay_imported(&stored)?;
                continue;
            }
            let mut priority = stored.priority.iter();
            for tx in stored.replayed_txs() {
                match tx {
                    Some(tx) => self.apply_l2(tx.clone()).map_err(|e| failed("a stored tx", e))?,
                    None => {
                        let p = priority.next().ok_or_else(|| differs("fewer priority requests than ops"))?;
                        self.apply_priority(p.clone()).map_err(|e| failed("a stored priority request", e))?;
                    }
                }
            }
            let (sealed, job) = self.seal_open_block()?;
            if sealed != stored {
                return Err(differs("the replayed block differs from the stored one"));
            }
            if self.store.proof(n)?.is_none() {
                self.jobs.push(job);
            }
        }
        for entry in self.store.wal()? {
            let block = self.next_block_number();
            let fail = |e: SubmitError| KeeperError::Replay { block, what: "write-ahead log", source: Some(e.into()) };
            match entry {
                WalEntry::L2(tx) => self.apply_l2(tx).map_err(fail)?,
                WalEntry::Priority(tx) => self.apply_priority(tx).map_err(fail)?,
                WalEntry::Timestamp(t) => self.exec.set_block_timestamp(t).map_err(|e| failed_at(block, e))?,
            }
        }
        Ok(())
    }

    /// Replays a block imported from L1 from its ops, at its timestamp (set by the caller). It was proven on L1, so it makes no proof
    /// job (without signed txs there would be no witness anyway).
    fn replay_imported(&mut self, stored: &StoredBlock) -> Result<(), KeeperError> {
        let n = stored.block.number.0;
        let differs = |what| KeeperError::Replay { block: n, what, source: None };
        for op in &stored.block.ops {
            self.exec.apply_op(op).map_err(|e| KeeperError::Replay {
                block: n,
                what: "an imported op",
                source: Some(e.into()),
            })?;
            if let Some(chain) = op.chain_id().filter(|_| op.is_priority()) {
                let next = self
                    .next_serials
                    .get_mut(chain.0 as usize - 1)
                    .ok_or_else(|| differs("a priority op of a chain the network does not have"))?;
                *next += 1;
            }
        }
        let (sealed, _) = self.seal_open_block()?;
        if sealed.block.new_root != stored.block.new_root {
            return Err(differs("the replayed root differs from the imported one"));
        }
        Ok(())
    }

    /// Puts the stored queue back in the mempool: txs applied before the crash leave it, txs whose
    /// nonce another tx took fail, and whatever became applicable is applied.
    fn reload_queue(&mut self, now: u64) -> Result<(), KeeperError> {
        for tx in self.store.queued()? {
            let hash =
                tx.hash().map_err(|e| KeeperError::Replay { block: 0, what: "a queued tx", source: Some(e.into()) })?;
            let tokens = TxTokens::of(&tx);
            let verified = match VerifiedTx::verify(tx) {
                Ok(v) => v,
                Err(e) => {
                    self.store.drop_queued(&hash, Some(&tx_error(&e, self.exec.network(), &tokens)))?;
                    continue;
                }
            };
            let (account, nonce) = (verified.tx().signer(), verified.tx().nonce().0);
            let next = self.next_nonce(account).unwrap_or(0);
            if nonce >= next {
                self.mempool.insert(verified);
            } else if self.seen.contains(&hash) || self.store.tx_location(&hash)?.is_some() {
                self.store.drop_queued(&hash, None)?;
            } else {
                self.store.drop_queued(&hash, Some(&format!("nonce {nonce} was used by another tx")))?;
            }
        }
        for account in self.mempool.accounts() {
            self.promote(account, now);
        }
        Ok(())
    }

    /// The next nonce of `account`, if it exists.
    fn next_nonce(&self, account: AccountId) -> Option<u32> {
        self.exec.state().account(account).map(|a| a.nonce.0)
    }

    /// Charges fees by `policy` from now on (replayed txs are not checked again).
    pub fn set_fee_policy(&mut self, policy: FeePolicy) {
        self.fees = policy;
    }

    /// The fee policy.
    pub fn fee_policy(&self) -> FeePolicy {
        self.fees
    }

    /// Whether txs are accepted (not after a storage failure).
    pub fn accepting(&self) -> bool {
        !self.stopped
    }

    /// The keeper's event stream.
    pub fn events(&self) -> broadcast::Sender<NodeEvent> {
        self.events.clone()
    }

    /// Sends `event`, or holds it back until the batch being applied is durable.
    fn emit(&mut self, event: NodeEvent) {
        match &mut self.deferred {
            Some(d) => d.events.push(event),
            // No subscriber is not an error.
            None => drop(self.events.send(event)),
        }
    }

    /// Txs waiting for an earlier nonce.
    pub fn queued(&self) -> usize {
        self.mempool.len()
    }

    /// Whether `hash` is in the open block (applied, durable, not sealed yet).
    pub fn is_pending(&self, hash: &TxHash) -> bool {
        self.seen.contains(hash)
    }

    /// Whether priority request `serial_id` of `chain` is in the open block.
    pub fn is_priority_pending(&self, chain: u8, serial_id: u64) -> bool {
        self.priority.iter().any(|p| p.chain_id().0 == chain && p.serial_id().0 == serial_id)
    }

    /// Whether `hash` waits for an earlier nonce.
    pub fn is_queued(&self, hash: &TxHash) -> bool {
        self.mempool.contains(hash)
    }

    /// The network it sequences.
    pub fn network(&self) -> &Network {
        self.exec.network()
    }

    /// The owner of the fee account at genesis.
    pub fn fee_owner(&self) -> Address {
        self.fee_owner
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

    /// Verifies, applies and logs a signed tx (or queues it if its nonce is ahead); returns what
    /// became of it once that is durable.
    pub fn submit(&mut self, tx: L2Tx, now: u64) -> Result<Submitted, SubmitError> {
        self.submit_verified(VerifiedTx::verify(tx)?, now)
    }

    /// [`StateKeeper::submit`] for a tx whose signatures were checked already: callers verify
    /// before taking the keeper's lock, so signature checks run in parallel, off the sequencing
    /// path.
    pub fn submit_verified(&mut self, verified: VerifiedTx, now: u64) -> Result<Submitted, SubmitError> {
        let account = verified.tx().signer();
        let submitted = self.accept(verified, now)?;
        if let Submitted::Applied(_) = submitted {
            self.promote(account, now);
        }
        Ok(submitted)
    }

    /// Many txs whose signatures were checked already, with one durable commit for all of them
    /// (group commit of the write-ahead log) instead of one per tx.
    ///
    /// The txs are taken in order, each exactly as [`StateKeeper::submit_verified`] takes it: the
    /// duplicate check (also against the txs before it in the batch), the fee check, sealing
    /// the open block when its op might not fit, applying it, and then applying the queued txs
    /// of its account whose turn came (their log entries join the batch's commit; they are not
    /// part of the outcome). A tx with a future nonce is queued, as
    /// [`StateKeeper::submit_verified`] would queue it ([`Submitted::Queued`]; it is applied once
    /// the txs before it are, e.g. by a later tx of the same batch).
    ///
    /// The batch stops at the first tx refused: [`BatchOutcome::refused`] is its index and the
    /// same typed error `submit_verified` would give; the txs after it are not looked at (not
    /// applied, not queued). The txs before it are accepted, and their log entries (and queue
    /// entries) are written in ONE redb write transaction before this returns, so only durable
    /// txs are acknowledged. Their events ([`NodeEvent::TxApplied`], [`NodeEvent::TxQueued`]) are
    /// sent once they are durable.
    ///
    /// Sealing within the batch: the block written by the seal holds every tx applied so far,
    /// the batch's included ([`BlockStore::put_block`] writes them and empties the log), so the
    /// log entries held back for those txs are dropped, never written twice; their events are
    /// sent then, before the block's. (If txs of the batch were queued or left the queue before
    /// the seal, the held-back entries are written first, since the block does not record the
    /// queue.)
    ///
    /// A storage failure (the commit, or a seal's write) stops the keeper, as for single txs:
    /// only the txs already durable (in a block sealed during the batch, usually none) are
    /// accepted, and the first tx after them is refused with [`SubmitError::Storage`] (or
    /// [`SubmitError::Stopped`]). An empty batch writes nothing and accepts nothing.
    pub fn submit_batch(&mut self, txs: Vec<VerifiedTx>, now: u64) -> BatchOutcome {
        if txs.is_empty() {
            return BatchOutcome { accepted: Vec::new(), refused: None };
        }
        if self.stopped {
            return BatchOutcome { accepted: Vec::new(), refused: Some((0, SubmitError::Stopped)) };
        }
        self.deferred = Some(Deferred::default());
        let mut refused = None;
        for (i, verified) in txs.into_iter().enumerate() {
            let account = verified.tx().signer();
            match self.accept(verified, now) {
                Ok(submitted) => {
                    self.deferred.get_or_insert_with(Deferred::default).accepted.push(submitted);
                    if let Submitted::Applied(_) = submitted {
                        self.promote(account, now);
                    }
                }
                Err(e) => {
                    refused = Some((i, e));
                    break;
                }
            }
        }
        let mut d = self.deferred.take().unwrap_or_default();
        let written = if self.stopped {
            // A seal's write failed (or the log, in a promotion): what was not sealed is lost.
            Err(match refused.take() {
                Some((_, e @ SubmitError::Storage(_))) => e,
                _ => SubmitError::Stopped,
            })
        } else {
            self.store.append_wal_batch(&d.wal, &d.queued).map_err(|e| {
                self.stopped = true;
                SubmitError::Storage(e)
            })
        };
        match written {
            Ok(()) => {
                for event in d.events {
                    self.emit(event);
                }
                BatchOutcome { accepted: d.accepted, refused }
            }
            Err(e) => {
                tracing::error!(error = %e, accepted = d.durable, "a batch was not written; the keeper stops");
                d.accepted.truncate(d.durable);
                BatchOutcome { refused: Some((d.durable, e)), accepted: d.accepted }
            }
        }
    }

    /// Takes one tx as [`StateKeeper::submit_verified`] does, without promoting queued txs.
    fn accept(&mut self, verified: VerifiedTx, now: u64) -> Result<Submitted, SubmitError> {
        if self.stopped {
            return Err(SubmitError::Stopped);
        }
        let hash = verified.hash();
        let (account, nonce) = (verified.tx().signer(), verified.tx().nonce().0);
        let next = self.next_nonce(account);
        // A retry of a tx already in a sealed block (its nonce is used): the same answer as before
        // sealing. The index is read only on this path, never for a new tx.
        let in_sealed_block = || -> Result<bool, StoreError> {
            Ok(next.is_some_and(|next| nonce < next) && self.store.tx_location(&hash)?.is_some())
        };
        if self.seen.contains(&hash) || self.mempool.contains(&hash) || in_sealed_block()? {
            return Err(SubmitError::Duplicate(hash));
        }
        self.fees.check(verified.tx())?;
        if let Some(next) = next.filter(|&next| nonce > next) {
            self.mempool.check(account, nonce, next)?;
            match &mut self.deferred {
                Some(d) => d.queued.push((hash, verified.tx().clone())),
                None => self.store.put_queued(&hash, verified.tx())?,
            }
            self.mempool.insert(verified);
            self.emit(NodeEvent::TxQueued { hash });
            return Ok(Submitted::Queued(hash));
        }
        self.apply_new(verified, false, now)?;
        Ok(Submitted::Applied(hash))
    }

    /// Applies, logs and records a new tx; `queued`: it leaves the stored queue in the same write.
    fn apply_new(&mut self, verified: VerifiedTx, queued: bool, now: u64) -> Result<(), SubmitError> {
        let hash = verified.hash();
        self.make_room(self.exec.shape_with_tx(verified.tx()))?;
        self.open_block(now)?;
        self.exec.apply_verified(&verified)?;
        self.log(WalEntry::L2(verified.tx().clone()), queued.then_some(&hash))?;
        self.seen.insert(hash);
        self.record_tx(Some(verified.into_tx()));
        self.emit(NodeEvent::TxApplied { hash });
        Ok(())
    }

    /// Applies `account`'s queued txs while the next one waits; the first that fails is dropped
    /// with its reason (the ones after it keep waiting for a replacement).
    fn promote(&mut self, account: AccountId, now: u64) {
        while let Some(next) = self.next_nonce(account) {
            let Some(verified) = self.mempool.take(account, next) else { return };
            let hash = verified.hash();
            let tokens = TxTokens::of(verified.tx());
            match self.apply_new(verified, true, now) {
                Ok(()) => {}
                Err(SubmitError::Rejected(e)) => {
                    // Recorded for `zklink_txStatus`: in the user's terms (symbols, whole tokens).
                    let reason = tx_error(&e, self.exec.network(), &tokens);
                    if let Err(e) = self.store.drop_queued(&hash, Some(&reason)) {
                        tracing::error!(error = %e, "recording a failed queued tx");
                    }
                    tracing::info!(tx = ?hash, %reason, "a queued tx failed");
                    self.emit(NodeEvent::TxFailed { hash, reason });
                    return;
                }
                Err(e) => {
                    // Still in the stored queue: it is retried when the keeper is reopened.
                    tracing::error!(error = %e, tx = ?hash, "applying a queued tx");
                    return;
                }
            }
        }
    }

    /// Applies and logs a priority request (from the watcher, in serial order).
    pub fn submit_priority(&mut self, tx: PriorityTx, now: u64) -> Result<(), SubmitError> {
        if self.stopped {
            return Err(SubmitError::Stopped);
        }
        let period = self.exec.network().preset.onchain_period;
        self.make_room(self.exec.shape_with(tx.chunks(), period, &[]))?;
        self.open_block(now)?;
        let (chain, serial_id) = (tx.chain_id().0, serial_of(&tx));
        self.apply_priority(tx.clone())?;
        self.log(WalEntry::Priority(tx), None)?;
        self.emit(NodeEvent::PriorityApplied { chain, serial_id });
        Ok(())
    }

    /// Seals the open block if it has ops, with the timestamp it was opened at; returns its
    /// number.
    pub fn seal(&mut self) -> Result<Option<u32>, KeeperError> {
        if self.exec.pending_ops().is_empty() {
            return Ok(None);
        }
        let (block, job) = self.seal_open_block()?;
        if let Err(e) = self.store.put_block(&block) {
            // The block left memory but is not on disk: stop until the keeper is reopened (the
            // log still holds what the block had, except a batch's held-back entries, which
            // are then not acknowledged).
            self.stopped = true;
            return Err(e.into());
        }
        tracing::info!(
            block = block.block.number.0,
            chunks = block.block.chunks,
            ops = block.txs.len(),
            "block sealed"
        );
        self.jobs.push(job);
        self.emit(NodeEvent::BlockSealed { number: block.block.number.0 });
        Ok(Some(block.block.number.0))
    }

    /// Seals the open block first unless, with the next op, it still fits a shape this node
    /// proves: `shape` is the one it would need ([`Executor::shape_with`]).
    fn make_room(&mut self, shape: Option<usize>) -> Result<(), SubmitError> {
        if shape.is_some_and(|s| s <= self.max_chunks) {
            return Ok(());
        }
        // Within a batch, the block about to be written holds the txs applied so far; only what
        // it does not record (the queue) must be written before it.
        if let Some(d) = &mut self.deferred {
            if !d.queued.is_empty() || d.wal.iter().any(|(_, unqueue)| unqueue.is_some()) {
                let written = self.store.append_wal_batch(&d.wal, &d.queued);
                d.wal.clear();
                d.queued.clear();
                if let Err(e) = written {
                    self.stopped = true;
                    return Err(SubmitError::Storage(e));
                }
                self.batch_durable();
            }
        }
        self.seal().map_err(|e| match e {
            KeeperError::Store(s) => SubmitError::Storage(s),
            other => SubmitError::Seal(Box::new(other)),
        })?;
        // The block holds the txs whose log entries were held back: they are not written.
        if let Some(d) = &mut self.deferred {
            d.wal.clear();
        }
        self.batch_durable();
        Ok(())
    }

    /// Before the first op of a block: fixes the block's timestamp at `now` (never below the
    /// previous block's, as the contracts require), against which its orders' validity windows
    /// are checked, and logs it when it changes so that a restart replays the same checks.
    fn open_block(&mut self, now: u64) -> Result<(), SubmitError> {
        let timestamp = now.max(self.exec.block_timestamp());
        if !self.exec.pending_ops().is_empty() || timestamp == self.exec.block_timestamp() {
            return Ok(());
        }
        self.exec
            .set_block_timestamp(timestamp)
            .map_err(|e| SubmitError::Rejected(TxError::Internal(e.to_string())))?;
        self.log(WalEntry::Timestamp(timestamp), None)
    }

    /// Within a batch: everything it accepted so far is durable; their events are sent.
    fn batch_durable(&mut self) {
        if let Some(d) = &mut self.deferred {
            d.durable = d.accepted.len();
            for event in std::mem::take(&mut d.events) {
                // No subscriber is not an error.
                let _ = self.events.send(event);
            }
        }
    }

    /// Logs an entry of the open block durably, or holds it back for the batch's commit.
    fn log(&mut self, entry: WalEntry, unqueue: Option<&TxHash>) -> Result<(), SubmitError> {
        if let Some(d) = &mut self.deferred {
            d.wal.push((entry, unqueue.copied()));
            return Ok(());
        }
        self.store.append_wal(&entry, unqueue).map_err(|e| {
            self.stopped = true;
            SubmitError::Storage(e)
        })
    }

    fn apply_l2(&mut self, tx: L2Tx) -> Result<(), SubmitError> {
        let verified = VerifiedTx::verify(tx)?;
        self.exec.apply_verified(&verified)?;
        self.seen.insert(verified.hash());
        self.record_tx(Some(verified.into_tx()));
        Ok(())
    }

    /// Records the signed tx (or `None` for a priority op) of the op just applied, one entry per
    /// op of the open block: the Noop chunks that aligned it get `None` first.
    fn record_tx(&mut self, tx: Option<L2Tx>) {
        let ops = self.exec.pending_ops().len();
        self.txs.resize(ops.saturating_sub(1), None);
        self.txs.push(tx);
    }

    fn apply_priority(&mut self, tx: PriorityTx) -> Result<(), SubmitError> {
        let chain = tx.chain_id().0;
        let expected = self.next_serial(chain);
        let got = serial_of(&tx);
        if got != expected {
            return Err(SubmitError::OutOfOrder { chain, expected, got });
        }
        self.exec.apply_priority(&tx)?;
        self.next_serials[chain as usize - 1] += 1;
        self.record_tx(None);
        self.priority.push(tx);
        Ok(())
    }

    fn seal_open_block(&mut self) -> Result<(StoredBlock, ProofJob), KeeperError> {
        let number = self.sealed + 1;
        let sealed =
            self.exec.seal_block(BlockNumber(number)).map_err(|source| KeeperError::Seal { block: number, source })?;
        let block =
            StoredBlock::sealed(sealed.block, std::mem::take(&mut self.txs), std::mem::take(&mut self.priority));
        let start = std::mem::replace(&mut self.block_start, self.exec.state().clone());
        self.seen.clear();
        self.sealed = number;
        Ok((block.clone(), ProofJob { block, start }))
    }
}

/// A replayed block or log whose timestamp the executor refused.
fn failed_at(block: u32, e: zklink_executor::TimestampFixed) -> KeeperError {
    KeeperError::Replay { block, what: "the block's timestamp", source: Some(e.into()) }
}

fn serial_of(tx: &PriorityTx) -> u64 {
    match tx {
        PriorityTx::Deposit(d) => d.serial_id.0,
        PriorityTx::FullExit(f) => f.serial_id.0,
    }
}
