//! Auditing a venue from outside, with nothing but its public API and a node's: replay its
//! journal (`exchange_journal`) through a fresh [`Venue`] and check the result against L2.
//!
//! The replay *is* the matching: the same engine, the same inputs in the same order, so its fills
//! are the ones price-time priority gives, and an order cancelled before a fill cannot be in it.
//! The checks:
//! 1. every journal entry applies, with consecutive indexes;
//! 2. the replayed engine's digest equals the one the venue reports for the same journal length;
//! 3. the submitter's `OrderMatching` ops in sealed L2 blocks are, one for one and in order, the
//!    replay's fills that were not refused (same orders — account, slot, nonce —, same base and
//!    quote amounts): nothing settled that the replay does not have, nothing out of order, no
//!    refused fill settled;
//! 4. no more such ops than fills.
//!
//! The report names the first divergence, if there is one.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde::{Deserialize, Serialize};
use zklink_types::api::{BlockNumberView, BlockView};
use zklink_types::op::OrderMatchingOp;
use zklink_types::Op;

use crate::input::Entry;
use crate::node::NodeClient;
use crate::rpc::StatusView;
use crate::venue::{FillRecord, Venue};

/// Entries asked for per `exchange_journal` call.
const PAGE: usize = 5_000;

/// What the audit found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Journal entries replayed.
    pub entries: u64,
    /// The replayed engine's digest.
    pub digest: String,
    /// Fills in the replay.
    pub fills: usize,
    /// Fills the node refused (journaled).
    pub refused: usize,
    /// Fills found settled in sealed L2 blocks, matching the replay.
    pub settled_on_l2: usize,
    /// Sealed blocks read.
    pub blocks: u32,
    /// The first divergence; `None`: the venue's settlement is its journal's replay.
    pub divergence: Option<String>,
}

/// Why the audit could not run (not a divergence: the venue or the node could not be read).
#[derive(thiserror::Error, Debug)]
pub enum AuditError {
    /// Calling the exchange's API.
    #[error("calling the exchange's {method}: {source}")]
    Exchange {
        /// The method.
        method: &'static str,
        /// Why.
        #[source]
        source: jsonrpsee::core::client::Error,
    },
    /// Calling the node.
    #[error(transparent)]
    Node(#[from] crate::node::NodeError),
    /// Calling the node's block methods.
    #[error("calling the node's {method}: {source}")]
    Blocks {
        /// The method.
        method: &'static str,
        /// Why.
        #[source]
        source: jsonrpsee::core::client::Error,
    },
}

/// How `op` differs from `fill` of `venue` (the two orders, the amounts); `None`: it settles it.
pub fn mismatch(venue: &Venue, fill: &FillRecord, op: &OrderMatchingOp) -> Option<String> {
    let (Some(maker), Some(taker)) = (venue.order(fill.maker), venue.order(fill.taker)) else {
        return Some(format!("fill {} names orders the replay does not have", fill.seq));
    };
    let side = |o: &zklink_types::Order, f: &zklink_types::op::OrderFill| {
        o.account_id == f.account_id && o.slot_id == f.slot_id && o.nonce == f.nonce && o.amount == f.amount
    };
    let mut wrong = Vec::new();
    if !side(&maker.order, &op.maker) {
        wrong.push(format!(
            "maker: replay has account {} slot {} nonce {}, L2 has account {} slot {} nonce {}",
            maker.order.account_id,
            maker.order.slot_id,
            maker.order.nonce,
            op.maker.account_id,
            op.maker.slot_id,
            op.maker.nonce
        ));
    }
    if !side(&taker.order, &op.taker) {
        wrong.push(format!(
            "taker: replay has account {} slot {} nonce {}, L2 has account {} slot {} nonce {}",
            taker.order.account_id,
            taker.order.slot_id,
            taker.order.nonce,
            op.taker.account_id,
            op.taker.slot_id,
            op.taker.nonce
        ));
    }
    if op.base_amount != fill.base || op.quote_amount != fill.quote {
        wrong.push(format!(
            "amounts: replay has base {} quote {}, L2 has base {} quote {}",
            fill.base, fill.quote, op.base_amount, op.quote_amount
        ));
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// Audits the venue at `exchange_url` against the node at `node_url`, reading sealed blocks from
/// `from_block` on (1: all; the venue's first fill cannot be in an earlier block than its
/// genesis anyway).
pub async fn audit(exchange_url: &str, node_url: &str, from_block: u32) -> Result<AuditReport, AuditError> {
    let ex = HttpClientBuilder::default()
        .max_response_size(256 * 1024 * 1024)
        .build(exchange_url)
        .map_err(|source| AuditError::Exchange { method: "connect", source })?;
    let status: StatusView = ex
        .request("exchange_status", rpc_params![])
        .await
        .map_err(|source| AuditError::Exchange { method: "exchange_status", source })?;
    let mut venue = Venue::new();
    let mut report = AuditReport::default();
    let mut from = 1u64;
    loop {
        let page: Vec<Entry> = ex
            .request("exchange_journal", rpc_params![from, PAGE])
            .await
            .map_err(|source| AuditError::Exchange { method: "exchange_journal", source })?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            if let Err(err) = venue.apply(e) {
                report.entries = venue.last_index();
                report.divergence = Some(format!("journal entry {} does not replay: {err}", e.index));
                return Ok(report);
            }
            if e.index == status.journal {
                let digest = format!("0x{}", hex::encode(venue.engine().digest()));
                if digest != status.digest {
                    report.divergence = Some(format!(
                        "after entry {} the replayed engine's digest is {digest}, the venue reports {}",
                        e.index, status.digest
                    ));
                }
            }
        }
        from = venue.last_index() + 1;
    }
    report.entries = venue.last_index();
    report.digest = format!("0x{}", hex::encode(venue.engine().digest()));
    report.fills = venue.fills().count();
    report.refused = report.fills - venue.settleable_fills();
    if report.divergence.is_some() {
        return Ok(report);
    }
    let Some(genesis) = venue.genesis() else { return Ok(report) };

    // The submitter's matchings on L2, in block order.
    let node = NodeClient::new(node_url)?;
    let blocks = HttpClientBuilder::default()
        .max_response_size(256 * 1024 * 1024)
        .build(node.url())
        .map_err(|source| AuditError::Blocks { method: "connect", source })?;
    let height: BlockNumberView = blocks
        .request("zklink_blockNumber", rpc_params![])
        .await
        .map_err(|source| AuditError::Blocks { method: "zklink_blockNumber", source })?;
    let mut expected = venue.fills().filter(|f| f.refused.is_none());
    for n in from_block.max(1)..=height.sealed {
        let block: Option<BlockView> = blocks
            .request("zklink_block", rpc_params![n])
            .await
            .map_err(|source| AuditError::Blocks { method: "zklink_block", source })?;
        let Some(block) = block else { continue };
        report.blocks += 1;
        for (i, op) in block.ops.iter().enumerate() {
            let Op::OrderMatching(m) = op else { continue };
            if m.submitter != genesis.submitter || m.sub_account_id != genesis.sub_account {
                continue;
            }
            let Some(fill) = expected.next() else {
                report.divergence = Some(format!(
                    "block {n} op {i}: an OrderMatching by the submitter (account {}) that the journal has no fill \
                     for (the replay has {} fills to settle)",
                    genesis.submitter,
                    venue.settleable_fills()
                ));
                return Ok(report);
            };
            if let Some(why) = mismatch(&venue, fill, m) {
                report.divergence = Some(format!(
                    "block {n} op {i} settles something else than fill {} (the {}-th fill to settle): {why}",
                    fill.seq,
                    report.settled_on_l2 + 1
                ));
                return Ok(report);
            }
            report.settled_on_l2 += 1;
        }
    }
    Ok(report)
}
