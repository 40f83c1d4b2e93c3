//! The L1 pipeline: for every chain, commit what is sealed, prove what has a proof, sync what is
//! proven on every chain, execute what is synced. Each pass starts from the counters the chain's
//! contract reports, so after a restart (or another sender's progress) the node simply continues
//! from whatever state each chain is in; nothing about L1 progress is kept locally.

use alloy::primitives::{B256, U256};
use zklink_contracts::zklink::{commit_info, execute_info, genesis_block, StoredBlockInfo};
use zklink_l1::{BlockCounters, L1Client, L1Error};
use zklink_types::ChainId;

use crate::local_oracles::LocalOracles;
use crate::store::{BlockStore, StoreError};

/// Errors of the pipeline.
#[derive(thiserror::Error, Debug)]
pub enum PipelineError {
    /// Reading the block store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A chain refused or failed a call.
    #[error("chain {chain}: {source}")]
    L1 {
        /// The zklink chain id.
        chain: u8,
        /// What happened (boxed: reverts carry the decoded error).
        source: Box<L1Error>,
    },
    /// A chain's block history could not be read.
    #[error("chain {chain}: reading its block history: {source}")]
    History {
        /// The zklink chain id.
        chain: u8,
        /// What happened.
        #[source]
        source: Box<zklink_l1::HistoryError>,
    },
    /// The chain holds a block the store does not: it was committed by another node or from
    /// another store, and this node must not overwrite it.
    #[error("chain {chain} has {committed} blocks committed but the store only {stored}")]
    AheadOfStore {
        /// The zklink chain id.
        chain: u8,
        /// Blocks committed on the chain.
        committed: u32,
        /// Blocks in the store.
        stored: u32,
    },
    /// A block the chain needs is missing from the store.
    #[error("block {0} is missing from the store")]
    MissingBlock(u32),
    /// The stored info computed from the store differs from the chain's: the store and the
    /// chain disagree about history.
    #[error("chain {chain}: block {block} on the chain differs from the stored block")]
    Diverged {
        /// The zklink chain id.
        chain: u8,
        /// The block.
        block: u32,
    },
}

/// One chain the pipeline drives.
#[derive(Debug)]
pub struct ChainSender {
    chain: ChainId,
    data_availability: bool,
    client: L1Client,
    /// `StoredBlockInfo` of blocks 0..: computed from the store, cached.
    stored: Vec<StoredBlockInfo>,
    /// Set (to the deployment's L1 block, where its events start): revert committed blocks the
    /// store does not hold.
    revert_unknown_from: Option<u64>,
}

impl ChainSender {
    /// Chain `chain` at `client`, for a network whose genesis root is `genesis_root`.
    pub fn new(chain: ChainId, data_availability: bool, client: L1Client, genesis_root: B256) -> Self {
        Self { chain, data_availability, client, stored: vec![genesis_block(genesis_root)], revert_unknown_from: None }
    }

    /// With `Some(deployed_at)`, committed blocks beyond the store are reverted (read from the
    /// chain's `BlockCommit` events from that L1 block) instead of stopping the pipeline, as long
    /// as none of them is executed.
    pub fn with_revert_unknown(mut self, deployed_at: Option<u64>) -> Self {
        self.revert_unknown_from = deployed_at;
        self
    }

    /// Reverts the chain's committed blocks above `last` (newest first); returns the tx hash.
    async fn revert_unknown(&mut self, last: u32, k: &BlockCounters) -> Result<B256, PipelineError> {
        let ahead = PipelineError::AheadOfStore { chain: self.chain.0, committed: k.committed, stored: last };
        let Some(from) = self.revert_unknown_from else { return Err(ahead) };
        if k.executed > last {
            return Err(ahead);
        }
        let genesis = self.stored[0].stateRoot;
        let mut history = zklink_l1::ChainHistory::new(self.chain, self.client.clone(), from, genesis);
        history.refresh().await.map_err(|e| PipelineError::History { chain: self.chain.0, source: Box::new(e) })?;
        let blocks: Option<Vec<StoredBlockInfo>> =
            (last + 1..=k.committed).rev().map(|n| history.stored(n).cloned()).collect();
        let blocks = blocks.ok_or(ahead)?;
        tracing::warn!(
            chain = self.chain.0,
            first = last + 1,
            last = k.committed,
            "reverting committed blocks this store does not hold"
        );
        let receipt = self.client.revert_blocks(blocks).await.map_err(|e| self.l1(e))?;
        Ok(receipt.transaction_hash)
    }

    /// The zklink chain id.
    pub fn chain(&self) -> ChainId {
        self.chain
    }

    /// The record of an L1 transaction this chain was sent.
    fn sent(&self, action: Action, first: u32, last: u32, tx: B256) -> Sent {
        Sent { chain: self.chain.0, action, first, last, tx }
    }

    fn l1(&self, source: L1Error) -> PipelineError {
        PipelineError::L1 { chain: self.chain.0, source: Box::new(source) }
    }

    /// Block `n`'s info as this chain stores it, computed from the block store.
    fn info(&mut self, store: &BlockStore, n: u32) -> Result<StoredBlockInfo, PipelineError> {
        while self.stored.len() <= n as usize {
            let next = self.stored.len() as u32;
            let b = store.block(next)?.ok_or(PipelineError::MissingBlock(next))?;
            // Never empty: block 0 (genesis) is there from the start.
            let prev = self.stored[self.stored.len() - 1].clone();
            let (_, info) = commit_info(&b.block, &b.txs, self.chain, self.data_availability, &prev)
                .map_err(|_| PipelineError::MissingBlock(next))?;
            self.stored.push(info);
        }
        Ok(self.stored[n as usize].clone())
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    /// The L1 transactions sent, in order.
    pub sent: Vec<Sent>,
    /// Every chain's counters after the pass, in chain order.
    pub counters: Vec<BlockCounters>,
}

impl StepReport {
    /// What was sent as `(chain, action, first block, last block)`.
    pub fn actions(&self) -> Vec<(u8, Action, u32, u32)> {
        self.sent.iter().map(|s| (s.chain, s.action, s.first, s.last)).collect()
    }
}

/// One L1 transaction the pipeline sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The zklink chain id.
    pub chain: u8,
    /// What it did.
    pub action: Action,
    /// First block.
    pub first: u32,
    /// Last block.
    pub last: u32,
    /// Its hash.
    pub tx: B256,
}

/// The stages a block goes through on each chain, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum Action {
    /// `commitBlocks`.
    Commit,
    /// `proveBlocks`.
    Prove,
    /// `syncBlocks`.
    Sync,
    /// `executeBlocks`.
    Execute,
    /// `revertBlocks`: not a stage, committed blocks the store does not hold undone.
    Revert,
}

impl Action {
    /// All stages in order (a revert is none).
    pub const ALL: [Action; 4] = [Action::Commit, Action::Prove, Action::Sync, Action::Execute];

    /// Its name in metrics and the API.
    pub fn name(self) -> &'static str {
        match self {
            Action::Commit => "commit",
            Action::Prove => "prove",
            Action::Sync => "sync",
            Action::Execute => "execute",
            Action::Revert => "revert",
        }
    }

    /// The block count a chain's counters report for this stage (a revert: the committed count).
    pub fn of(self, k: &BlockCounters) -> u32 {
        match self {
            Action::Commit | Action::Revert => k.committed,
            Action::Prove => k.proven,
            Action::Sync => k.synced,
            Action::Execute => k.executed,
        }
    }
}

/// Drives every chain of the network.
#[derive(Debug)]
pub struct Pipeline {
    chains: Vec<ChainSender>,
    oracles: LocalOracles,
    /// Blocks per L1 transaction at most.
    max_batch: u32,
}

impl Pipeline {
    /// A pipeline over `chains` (chain 1 first) with in-process oracles.
    pub fn new(chains: Vec<ChainSender>, oracles: LocalOracles, max_batch: u32) -> Self {
        Self { chains, oracles, max_batch: max_batch.max(1) }
    }

    /// Every chain's counters, in chain order.
    pub async fn counters(&self) -> Result<Vec<BlockCounters>, PipelineError> {
        let mut out = Vec::new();
        for c in &self.chains {
            out.push(c.client.block_counters().await.map_err(|e| c.l1(e))?);
        }
        Ok(out)
    }

    /// One pass: commit, prove, sync, execute wherever something is ready.
    pub async fn step(&mut self, store: &BlockStore) -> Result<StepReport, PipelineError> {
        let mut report = StepReport::default();
        let last = store.last_block()?;
        let max_batch = self.max_batch;
        // Read once per pass, then advanced by what this pass sends.
        let mut counters = Vec::with_capacity(self.chains.len());
        for c in &mut self.chains {
            let mut k = c.client.block_counters().await.map_err(|e| c.l1(e))?;
            if k.committed > last {
                let tx = c.revert_unknown(last, &k).await?;
                report.sent.push(c.sent(Action::Revert, last + 1, k.committed, tx));
                k = c.client.block_counters().await.map_err(|e| c.l1(e))?;
            }
            check_same_history(c, store, k.committed).await?;
            if k.committed < last {
                let to = last.min(k.committed + max_batch);
                let tx = commit(c, store, k.committed, to).await?;
                report.sent.push(c.sent(Action::Commit, k.committed + 1, to, tx));
                k.committed = to;
            }
            let proofs = available_proofs(store, k.proven, k.committed.min(k.proven + max_batch))?;
            if let (Some(first), Some(last_proof)) = (proofs.first().map(|p| p.0), proofs.last().map(|p| p.0)) {
                let tx = prove(c, store, &proofs).await?;
                report.sent.push(c.sent(Action::Prove, first, last_proof, tx));
                k.proven = last_proof;
            }
            counters.push(k);
        }
        self.sync_and_execute(store, &mut counters, &mut report).await?;
        report.counters = counters;
        Ok(report)
    }

    /// Syncs every chain to the newest block proven on all of them, then executes what is synced.
    async fn sync_and_execute(
        &mut self,
        store: &BlockStore,
        counters: &mut [BlockCounters],
        report: &mut StepReport,
    ) -> Result<(), PipelineError> {
        let target = counters.iter().map(|k| k.proven).min().unwrap_or(0);
        let max_batch = self.max_batch;
        // Without in-process oracle keys the oracle network syncs (zklink-oracle); the pipeline
        // executes whatever it synced.
        let sync_here = !self.oracles.is_empty();
        for (c, k) in self.chains.iter_mut().zip(counters) {
            if sync_here && k.synced < target {
                let info = c.info(store, target)?;
                let signatures = self.oracles.attest(target, info.syncHash);
                let r = c.client.sync_blocks(&info, signatures).await.map_err(|e| c.l1(e))?;
                report.sent.push(c.sent(Action::Sync, k.synced + 1, target, r.transaction_hash));
                k.synced = target;
            }
            let synced = k.synced;
            if k.executed < synced {
                let to = synced.min(k.executed + max_batch);
                let mut blocks = Vec::new();
                for n in k.executed + 1..=to {
                    let b = store.block(n)?.ok_or(PipelineError::MissingBlock(n))?;
                    let info = c.info(store, n)?;
                    blocks.push(execute_info(&b.block, c.chain, &info).map_err(|_| PipelineError::MissingBlock(n))?);
                }
                let tx = c.client.execute_blocks(blocks).await.map_err(|e| c.l1(e))?.transaction_hash;
                report.sent.push(c.sent(Action::Execute, k.executed + 1, to, tx));
                k.executed = to;
            }
        }
        Ok(())
    }
}

/// The chain's newest committed block must be the store's block of that number.
async fn check_same_history(c: &mut ChainSender, store: &BlockStore, committed: u32) -> Result<(), PipelineError> {
    if committed == 0 {
        return Ok(());
    }
    let info = c.info(store, committed)?;
    let on_chain = c.client.stored_block_hash(committed).await.map_err(|e| c.l1(e))?;
    if on_chain != zklink_contracts::zklink::stored_block_hash(&info) {
        return Err(PipelineError::Diverged { chain: c.chain.0, block: committed });
    }
    Ok(())
}

async fn commit(c: &mut ChainSender, store: &BlockStore, from: u32, to: u32) -> Result<B256, PipelineError> {
    let prev = c.info(store, from)?;
    let mut blocks = Vec::new();
    for n in from + 1..=to {
        let b = store.block(n)?.ok_or(PipelineError::MissingBlock(n))?;
        let before = c.info(store, n - 1)?;
        let (info, _) = commit_info(&b.block, &b.txs, c.chain, c.data_availability, &before)
            .map_err(|_| PipelineError::MissingBlock(n))?;
        blocks.push(info);
    }
    let receipt = c.client.commit_blocks(&prev, blocks).await.map_err(|e| c.l1(e))?;
    Ok(receipt.transaction_hash)
}

/// Consecutive proofs after block `proven`, up to block `to`.
fn available_proofs(store: &BlockStore, proven: u32, to: u32) -> Result<Vec<(u32, [U256; 8])>, PipelineError> {
    let mut out = Vec::new();
    for n in proven + 1..=to {
        let Some(words) = store.proof(n)? else { break };
        out.push((n, words.map(U256::from_be_bytes)));
    }
    Ok(out)
}

async fn prove(c: &mut ChainSender, store: &BlockStore, proofs: &[(u32, [U256; 8])]) -> Result<B256, PipelineError> {
    let mut infos = Vec::new();
    let mut chunks = Vec::new();
    for (n, _) in proofs {
        infos.push(c.info(store, *n)?);
        chunks.push(store.block(*n)?.ok_or(PipelineError::MissingBlock(*n))?.block.chunks as u32);
    }
    let proofs = proofs.iter().map(|(_, p)| *p).collect();
    let receipt = c.client.prove_blocks(infos, chunks, proofs).await.map_err(|e| c.l1(e))?;
    Ok(receipt.transaction_hash)
}
