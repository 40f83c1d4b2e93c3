//! One chain's rollup history read from the chain alone: every block as committed (the
//! `BlockCommit` events), every priority request (`NewPriorityRequest`), the block counters and
//! the exodus flag — what `zklink restore` and the exodus tools need when the operator's own data
//! is gone.
//!
//! A block may have been committed more than once (committed, reverted, committed again); the
//! newest commit is the live one for every block up to the committed counter, and callers check
//! the block they rely on against `storedBlockHashes` ([`ChainHistory::check_stored`]). Pubdata is
//! not in any event: on a data-availability chain it is in the `commitBlocks` calldata, which
//! [`committed_pubdata`] reads back from the commit transaction.

use std::collections::BTreeMap;

use alloy::primitives::{Bytes, B256};
use alloy::providers::Provider;
use alloy::sol_types::SolCall;
use zklink_contracts::zklink::{genesis_block, stored_block_hash, StoredBlockInfo, ZkLink};
use zklink_types::ChainId;

use crate::{BlockCounters, EventReader, L1Client, L1Error};

/// A block as one chain stores it, and the transaction that committed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedBlock {
    /// The block as stored.
    pub info: StoredBlockInfo,
    /// The `commitBlocks` transaction.
    pub tx_hash: B256,
    /// The L1 block it was mined in.
    pub l1_block: u64,
}

/// A priority request as queued on its chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedRequest {
    /// Its serial id on that chain (from 0).
    pub serial: u64,
    /// Op code (Deposit or FullExit).
    pub op_type: u8,
    /// The op's pubdata with the fields L1 cannot know zeroed, as emitted.
    pub pubdata: Bytes,
    /// The L1 block from which it counts as expired.
    pub expiration_block: u64,
}

/// Why a chain's history could not be used.
#[derive(thiserror::Error, Debug)]
pub enum HistoryError {
    /// Talking to the chain failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The chain counts a block no `BlockCommit` event was read for.
    #[error("chain {chain} counts block {block} as committed but no BlockCommit event of it was found")]
    MissingCommit {
        /// The chain.
        chain: u8,
        /// The block.
        block: u32,
    },
    /// The newest commit event of a block is not what the chain stores for it.
    #[error("chain {chain} stores block {block} as {stored}, not as its newest BlockCommit event ({event})")]
    NotStored {
        /// The chain.
        chain: u8,
        /// The block.
        block: u32,
        /// `storedBlockHashes[block]`.
        stored: B256,
        /// The event's `keccak256(abi.encode(info))`.
        event: B256,
    },
    /// The commit transaction's calldata does not hold the block's pubdata.
    #[error("block {block}: pubdata is not readable from commit transaction {tx}: {reason}")]
    PubdataUnavailable {
        /// The block.
        block: u32,
        /// The commit transaction.
        tx: B256,
        /// What was found instead.
        reason: &'static str,
    },
    /// The commit transaction is not a direct `commitBlocks` call (e.g. one through a multisig).
    #[error("block {block}: pubdata is not readable from commit transaction {tx}: not a direct commitBlocks call ({source})")]
    NotACommitCall {
        /// The block.
        block: u32,
        /// The commit transaction.
        tx: B256,
        /// Why its calldata does not decode as `commitBlocks`.
        #[source]
        source: alloy::sol_types::Error,
    },
}

/// One chain's history, read incrementally.
pub struct ChainHistory {
    chain: ChainId,
    client: L1Client,
    events: EventReader,
    genesis: StoredBlockInfo,
    commits: BTreeMap<u32, CommittedBlock>,
    requests: BTreeMap<u64, QueuedRequest>,
    counters: BlockCounters,
    first_open_request: u64,
    open_requests: u64,
    exodus: bool,
}

impl ChainHistory {
    /// A reader of `client`'s deployment on `chain` from L1 block `deployed_at` (nothing is read
    /// until [`Self::refresh`]). `genesis_root` is the network's genesis state root (block 0).
    pub fn new(chain: ChainId, client: L1Client, deployed_at: u64, genesis_root: B256) -> Self {
        let events = EventReader::new(client.provider().clone(), client.address(), deployed_at, 0);
        Self {
            chain,
            client,
            events,
            genesis: genesis_block(genesis_root),
            commits: BTreeMap::new(),
            requests: BTreeMap::new(),
            counters: BlockCounters::default(),
            first_open_request: 0,
            open_requests: 0,
            exodus: false,
        }
    }

    /// Reads the counters, then every event since the last refresh (so every counted block's
    /// event has been read).
    pub async fn refresh(&mut self) -> Result<(), HistoryError> {
        let z = self.client.zklink();
        let view = |what| move |e| L1Error::from_contract(what, e);
        self.counters = self.client.block_counters().await?;
        self.first_open_request = z.firstPriorityRequestId().call().await.map_err(view("firstPriorityRequestId"))?;
        self.open_requests = z.totalOpenPriorityRequests().call().await.map_err(view("totalOpenPriorityRequests"))?;
        self.exodus = z.exodusMode().call().await.map_err(view("exodusMode"))?;
        for e in self.events.poll().await? {
            match e.event {
                ZkLink::ZkLinkEvents::BlockCommit(c) => {
                    let committed = CommittedBlock { info: c.info, tx_hash: e.tx_hash, l1_block: e.block_number };
                    self.commits.insert(c.blockNumber, committed);
                }
                ZkLink::ZkLinkEvents::NewPriorityRequest(r) => {
                    self.requests.insert(
                        r.serialId,
                        QueuedRequest {
                            serial: r.serialId,
                            op_type: r.opType,
                            pubdata: r.pubData,
                            expiration_block: r.expirationBlock,
                        },
                    );
                }
                _ => {}
            }
        }
        if let Some(n) = (1..=self.counters.committed).find(|n| !self.commits.contains_key(n)) {
            return Err(HistoryError::MissingCommit { chain: self.chain.0, block: n });
        }
        Ok(())
    }

    /// The chain.
    pub fn chain(&self) -> ChainId {
        self.chain
    }

    /// The client it reads through.
    pub fn client(&self) -> &L1Client {
        &self.client
    }

    /// The block counters as of the last refresh.
    pub fn counters(&self) -> BlockCounters {
        self.counters
    }

    /// Whether the chain is in exodus mode.
    pub fn exodus(&self) -> bool {
        self.exodus
    }

    /// Block `n` as committed on this chain (block 0: genesis); `None` above the committed count.
    pub fn stored(&self, n: u32) -> Option<&StoredBlockInfo> {
        if n == 0 {
            return Some(&self.genesis);
        }
        (n <= self.counters.committed).then(|| self.commits.get(&n).map(|c| &c.info)).flatten()
    }

    /// Block `n`'s commit, if `n` is committed.
    pub fn committed(&self, n: u32) -> Option<&CommittedBlock> {
        (n <= self.counters.committed).then(|| self.commits.get(&n)).flatten()
    }

    /// The request with serial id `serial`.
    pub fn request(&self, serial: u64) -> Option<&QueuedRequest> {
        self.requests.get(&serial)
    }

    /// The requests no executed block has consumed, oldest first.
    pub fn open_requests(&self) -> impl Iterator<Item = &QueuedRequest> {
        self.requests.range(self.first_open_request..self.first_open_request + self.open_requests).map(|(_, r)| r)
    }

    /// Checks that the chain stores block `n` as this history has it.
    pub async fn check_stored(&self, n: u32) -> Result<(), HistoryError> {
        let info = self.stored(n).ok_or(HistoryError::MissingCommit { chain: self.chain.0, block: n })?;
        let stored = self.client.stored_block_hash(n).await?;
        let event = stored_block_hash(info);
        if stored != event {
            return Err(HistoryError::NotStored { chain: self.chain.0, block: n, stored, event });
        }
        Ok(())
    }
}

/// Every block's pubdata in the `commitBlocks` call of transaction `tx` (one transaction often
/// commits several blocks); `block` names the block wanted, for errors.
pub async fn committed_pubdata(client: &L1Client, block: u32, tx: B256) -> Result<Vec<(u32, Vec<u8>)>, HistoryError> {
    let unavailable = |reason| HistoryError::PubdataUnavailable { block, tx, reason };
    let found = client
        .provider()
        .get_transaction_by_hash(tx)
        .await
        .map_err(|e| L1Error::rpc("eth_getTransactionByHash", e))?
        .ok_or_else(|| unavailable("the node does not know the transaction"))?;
    let input = alloy::consensus::Transaction::input(&found);
    // A validator that commits through another contract (a multisig) leaves the call nested in
    // its own calldata; only direct calls are read.
    let call = ZkLink::commitBlocksCall::abi_decode(input).map_err(|source| HistoryError::NotACommitCall {
        block,
        tx,
        source,
    })?;
    let blocks: Vec<(u32, Vec<u8>)> = call.newBlocks.into_iter().map(|b| (b.blockNumber, b.pubdata.to_vec())).collect();
    if blocks.iter().any(|(_, p)| p.is_empty()) {
        return Err(unavailable("the call carries no pubdata (not a data-availability chain)"));
    }
    Ok(blocks)
}
