//! Reading a deployment's events behind a confirmation depth.
//!
//! [`EventReader::poll`] returns only events of blocks at least `confirmations` deep, in chain
//! order, each exactly once: a reorganisation shallower than the depth never shows (those blocks
//! were not read yet). It remembers the hash of the last block it read and checks it at every
//! poll, so a reorganisation deeper than the depth is reported ([`L1Error::DeepReorg`]) instead of
//! silently leaving events that no longer exist.
//!
//! A [`ReadCeiling`] also keeps it below a block its owner raises: the devnet raises it after each
//! durable dump of its anvils, so that nothing reads a block a crash could take back.

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEventInterface;
use zklink_contracts::zklink::ZkLink;
use zklink_types::op::decode_pubdata;
use zklink_types::{ChainId, DecodeError, Deposit, FullExit, Op, PriorityTx, SerialId};

use crate::L1Error;

/// `eth_getLogs` spans at most this many blocks per request (public endpoints cap the range).
pub const MAX_LOG_RANGE: u64 = 5_000;

/// The newest L1 block a reader may take events from, shared with whoever raises it (the devnet,
/// after it has saved its chains up to that block). Readers without one read up to the
/// confirmation depth only.
#[derive(Clone, Debug, Default)]
pub struct ReadCeiling(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl ReadCeiling {
    /// A ceiling at block `block`.
    pub fn at(block: u64) -> Self {
        Self(std::sync::Arc::new(std::sync::atomic::AtomicU64::new(block)))
    }

    /// The newest block that may be read.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Raises the ceiling to `block` (never lowers it).
    pub fn raise(&self, block: u64) {
        self.0.fetch_max(block, std::sync::atomic::Ordering::AcqRel);
    }
}

/// One decoded ZkLink event and where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct L1Event {
    /// The L1 block.
    pub block_number: u64,
    /// The transaction that emitted it.
    pub tx_hash: B256,
    /// Its index in the block's logs.
    pub log_index: u64,
    /// The event.
    pub event: ZkLink::ZkLinkEvents,
}

/// Reads one deployment's events, confirmed and in order.
#[derive(Clone, Debug)]
pub struct EventReader {
    provider: DynProvider,
    address: Address,
    confirmations: u64,
    /// The next block to read.
    next: u64,
    /// The last block read and its hash.
    last: Option<(u64, B256)>,
    /// Blocks above it are not read yet.
    ceiling: Option<ReadCeiling>,
}

impl EventReader {
    /// Reads `address`'s events from block `from` on, each once it is `confirmations` deep
    /// (0: as soon as it is mined).
    pub fn new(provider: DynProvider, address: Address, from: u64, confirmations: u64) -> Self {
        Self { provider, address, confirmations, next: from, last: None, ceiling: None }
    }

    /// Reads no block above `ceiling` (besides the confirmation depth).
    pub fn with_ceiling(mut self, ceiling: Option<ReadCeiling>) -> Self {
        self.ceiling = ceiling;
        self
    }

    /// The next block [`Self::poll`] will read.
    pub fn next_block(&self) -> u64 {
        self.next
    }

    /// The events of the blocks confirmed since the last poll.
    pub async fn poll(&mut self) -> Result<Vec<L1Event>, L1Error> {
        self.check_last_block().await?;
        let head = self.provider.get_block_number().await.map_err(|e| L1Error::rpc("eth_blockNumber", e))?;
        let Some(safe) = head.checked_sub(self.confirmations) else { return Ok(Vec::new()) };
        let safe = self.ceiling.as_ref().map_or(safe, |c| safe.min(c.get()));
        if safe < self.next {
            return Ok(Vec::new());
        }
        let mut events = Vec::new();
        let mut from = self.next;
        while from <= safe {
            let to = safe.min(from + MAX_LOG_RANGE - 1);
            let filter = Filter::new().address(self.address).from_block(from).to_block(to);
            let logs = self.provider.get_logs(&filter).await.map_err(|e| L1Error::rpc("eth_getLogs", e))?;
            events.extend(logs.iter().filter_map(decode));
            from = to + 1;
        }
        self.last = Some((safe, self.block_hash(safe).await?));
        self.next = safe + 1;
        Ok(events)
    }

    /// Fails if the last block read is no longer on the chain.
    async fn check_last_block(&self) -> Result<(), L1Error> {
        let Some((number, expected)) = self.last else { return Ok(()) };
        let found = self.block_hash(number).await.unwrap_or(B256::ZERO);
        if found != expected {
            return Err(L1Error::DeepReorg { block: number, expected, found });
        }
        Ok(())
    }

    async fn block_hash(&self, number: u64) -> Result<B256, L1Error> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(|e| L1Error::rpc("eth_getBlockByNumber", e))?;
        Ok(block.map(|b| b.header.hash).unwrap_or(B256::ZERO))
    }
}

/// A ZkLink log decoded, or `None` for a log it does not declare (or a pending one).
fn decode(log: &Log) -> Option<L1Event> {
    let event = ZkLink::ZkLinkEvents::decode_log(&log.inner).ok()?.data;
    Some(L1Event { block_number: log.block_number?, tx_hash: log.transaction_hash?, log_index: log.log_index?, event })
}

/// Errors turning a queued request into the executor's priority tx.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub enum PriorityError {
    /// The pubdata does not decode into ops.
    #[error("request {serial_id}: pubdata is not a single deposit or full exit ({source})")]
    Undecodable {
        /// The request's serial id.
        serial_id: u64,
        /// The decoder's error.
        #[source]
        source: DecodeError,
    },
    /// The pubdata is not one Deposit or FullExit op.
    #[error("request {serial_id}: pubdata is not a single deposit or full exit ({reason})")]
    BadPubdata {
        /// The request's serial id.
        serial_id: u64,
        /// What was wrong.
        reason: String,
    },
    /// The op names another chain than the contract that queued it.
    #[error("request {serial_id} of chain {chain} was emitted on chain {expected}")]
    WrongChain {
        /// The request's serial id.
        serial_id: u64,
        /// The op's chain byte.
        chain: u8,
        /// The chain it was read from.
        expected: u8,
    },
}

/// The priority tx that `NewPriorityRequest` queued on `chain`, as the executor applies it.
pub fn priority_tx(chain: ChainId, e: &ZkLink::NewPriorityRequest) -> Result<PriorityTx, PriorityError> {
    let serial_id = e.serialId;
    let ops = decode_pubdata(&e.pubData).map_err(|source| PriorityError::Undecodable { serial_id, source })?;
    let tx = match &ops[..] {
        [Op::Deposit(d)] => PriorityTx::Deposit(Deposit {
            chain_id: d.chain_id,
            serial_id: SerialId(serial_id),
            from: e.sender,
            to: d.owner,
            sub_account_id: d.sub_account_id,
            l1_token: d.l1_token,
            l2_token: d.l2_token,
            amount: d.amount,
        }),
        [Op::FullExit(f)] => PriorityTx::FullExit(FullExit {
            chain_id: f.chain_id,
            serial_id: SerialId(serial_id),
            account_id: f.account_id,
            sub_account_id: f.sub_account_id,
            owner: f.owner,
            l1_token: f.l1_token,
            l2_token: f.l2_token,
        }),
        other => return Err(PriorityError::BadPubdata { serial_id, reason: format!("{} ops", other.len()) }),
    };
    if tx.chain_id() != chain {
        return Err(PriorityError::WrongChain { serial_id, chain: tx.chain_id().0, expected: chain.0 });
    }
    Ok(tx)
}
