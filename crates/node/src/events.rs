//! What happens in the node, as a stream: the API turns it into subscriptions. Events are
//! broadcast; a slow reader misses events (it is told how many) rather than slowing the node.

use serde::Serialize;
use zklink_types::TxHash;

use crate::pipeline::Action;

/// Events kept for slow readers before the oldest are dropped.
pub const EVENT_BUFFER: usize = 4_096;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum NodeEvent {
    /// A tx was accepted to wait for an earlier nonce.
    #[serde(rename_all = "camelCase")]
    TxQueued {
        /// The tx.
        hash: TxHash,
    },
    /// A tx was applied to the open block (durably).
    #[serde(rename_all = "camelCase")]
    TxApplied {
        /// The tx.
        hash: TxHash,
    },
    /// A queued tx failed when its turn came.
    #[serde(rename_all = "camelCase")]
    TxFailed {
        /// The tx.
        hash: TxHash,
        /// Why.
        reason: String,
    },
    /// A priority request from L1 was applied.
    #[serde(rename_all = "camelCase")]
    PriorityApplied {
        /// The zklink chain id.
        chain: u8,
        /// Its serial id on that chain.
        serial_id: u64,
    },
    /// A block was sealed.
    #[serde(rename_all = "camelCase")]
    BlockSealed {
        /// Its number.
        number: u32,
    },
    /// A block's proof is stored.
    #[serde(rename_all = "camelCase")]
    BlockProven {
        /// Its number.
        number: u32,
    },
    /// An L1 transaction took blocks `first..=last` through a stage on a chain.
    #[serde(rename_all = "camelCase")]
    L1Sent {
        /// The zklink chain id.
        chain: u8,
        /// The stage.
        stage: Action,
        /// First block.
        first: u32,
        /// Last block.
        last: u32,
        /// The L1 transaction.
        tx: alloy::primitives::B256,
    },
}
