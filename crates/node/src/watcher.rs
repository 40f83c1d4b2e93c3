//! The L1 watcher of one chain: priority requests (deposits, full exits) handed to the state
//! keeper in serial-id order, only once they are `confirmations` deep, and never twice. The
//! keeper persists the next serial id it expects with its state; a watcher restarted with it
//! re-reads the chain from the deployment block and skips everything already taken. A missing
//! serial id (a log the node never received) stops the watcher rather than being skipped.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256};
use alloy::providers::DynProvider;
use zklink_contracts::zklink::ZkLink::ZkLinkEvents;
use zklink_l1::events::{priority_tx, PriorityError};
use zklink_l1::{EventReader, L1Error, ReadCeiling};
use zklink_types::{ChainId, PriorityTx};

/// Errors of the watcher.
#[derive(thiserror::Error, Debug)]
pub enum WatchError {
    /// Reading the chain failed (including a reorganisation deeper than the confirmations).
    #[error("chain {chain}: {source}")]
    L1 {
        /// The zklink chain id.
        chain: u8,
        /// What happened (boxed: it is large).
        source: Box<L1Error>,
    },
    /// A queued request does not decode as the op the contract must have emitted.
    #[error("chain {chain}: {source}")]
    BadRequest {
        /// The zklink chain id.
        chain: u8,
        /// What was wrong.
        source: PriorityError,
    },
    /// Requests arrived after a gap: `expected` was never seen.
    #[error("chain {chain}: priority request {expected} is missing (next seen: {got})")]
    Gap {
        /// The zklink chain id.
        chain: u8,
        /// The serial id expected next.
        expected: u64,
        /// The lowest one seen instead.
        got: u64,
    },
}

/// Priority requests of one chain, in order.
#[derive(Debug)]
pub struct PriorityWatcher {
    chain: ChainId,
    reader: EventReader,
    next_serial: u64,
}

impl PriorityWatcher {
    /// The zklink chain it watches.
    pub fn chain(&self) -> ChainId {
        self.chain
    }

    /// Watches the deployment at `address` from L1 block `from_block`; requests below
    /// `next_serial` were already taken and are skipped.
    pub fn new(
        chain: ChainId,
        provider: DynProvider,
        address: Address,
        from_block: u64,
        confirmations: u64,
        next_serial: u64,
    ) -> Self {
        Self { chain, reader: EventReader::new(provider, address, from_block, confirmations), next_serial }
    }

    /// Takes no request from a block above `ceiling` (see [`ReadCeiling`]).
    pub fn with_ceiling(mut self, ceiling: Option<ReadCeiling>) -> Self {
        self.reader = self.reader.with_ceiling(ceiling);
        self
    }

    /// The serial id of the next request to hand out.
    pub fn next_serial(&self) -> u64 {
        self.next_serial
    }

    /// The newly confirmed requests, in serial order, each with the L1 transaction that queued it.
    pub async fn poll(&mut self) -> Result<Vec<(PriorityTx, B256)>, WatchError> {
        let chain = self.chain.0;
        let events = self.reader.poll().await.map_err(|e| WatchError::L1 { chain, source: Box::new(e) })?;
        let mut found = BTreeMap::new();
        for e in events {
            if let ZkLinkEvents::NewPriorityRequest(r) = e.event {
                if r.serialId >= self.next_serial {
                    let tx = priority_tx(self.chain, &r).map_err(|source| WatchError::BadRequest { chain, source })?;
                    found.insert(r.serialId, (tx, e.tx_hash));
                }
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for (serial, tx) in found {
            if serial != self.next_serial {
                return Err(WatchError::Gap { chain, expected: self.next_serial, got: serial });
            }
            self.next_serial += 1;
            out.push(tx);
        }
        Ok(out)
    }
}
