//! Settlement: every fill becomes an `OrderMatching` signed by the venue's submitter and sent to
//! the node in engine sequence, in batches (`zklink_submitTxs`, one durable write on the node per
//! batch).
//!
//! Nonces: the n-th fill not refused carries `first_nonce + n`. The settler keeps no state of
//! its own: at start it reads the submitter's nonce from the node, and every fill whose nonce is
//! below it is settled. A refusal is journaled (by the sequencer) before anything else is sent,
//! so the mapping from fills to nonces is always the journal's.
//!
//! When the node refuses a fill the settler finds out whose order is at fault: an order outside
//! its validity window at the block's timestamp (the node's refusal names it; else the time now),
//! or, reading both accounts, the maker's or the taker's balance, slot (moved by a fill elsewhere
//! or by a hard cancel) or key no longer allows the fill. If
//! neither is at fault (the submitter's own fee balance, the node stopped…), it waits and tries
//! again: nothing is cancelled for the venue's own trouble.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use zklink_crypto::eddsa::PrivateKey;
use zklink_types::api::AccountView;
use zklink_types::{AccountId, FillSettlement, L2Tx, Nonce, Order, OrderMatching, SubAccountId, TokenId, TxSignature};

use crate::input::Offender;
use crate::ledger::SlotState;
use crate::node::{NodeClient, NodeError};

/// The most fills in one `zklink_submitTxs` call (the node's limit is 1000).
pub const MAX_BATCH: usize = 1000;

/// The default fills per batch.
pub const DEFAULT_BATCH: usize = 500;

/// One fill to settle.
#[derive(Clone, Debug)]
pub struct SettleJob {
    /// Its engine sequence number.
    pub seq: u64,
    /// The resting order.
    pub maker: Order,
    /// The incoming order.
    pub taker: Order,
    /// Base amount.
    pub base: u128,
    /// Quote amount.
    pub quote: u128,
}

/// What the settler asks of the sequencer.
#[derive(Debug)]
pub enum SettlerEvent {
    /// Every fill up to `upto` is applied by the node.
    Settled {
        /// The last settled fill.
        upto: u64,
    },
    /// The node refused fill `seq`: journal the refusal, then answer on `done`.
    Refused {
        /// The fill.
        seq: u64,
        /// Whose order is at fault.
        offender: Offender,
        /// The node's reason.
        reason: String,
        /// Answered once the refusal is durable.
        done: oneshot::Sender<()>,
    },
}

/// What the sequencer asks of the settler.
#[derive(Debug)]
pub enum SettlerRequest {
    /// New fills, in sequence.
    Jobs(Vec<SettleJob>),
    /// Read an account between two batches: the answer carries the last fill the node had
    /// applied (the watermark), so the venue adds exactly the fills after it.
    Read {
        /// The account.
        account: AccountId,
        /// The answer.
        reply: oneshot::Sender<Result<(Option<AccountView>, u64), NodeError>>,
    },
}

/// The settler's fixed settings.
#[derive(Clone)]
pub struct SettlerConfig {
    /// The submitter account.
    pub submitter: AccountId,
    /// Its L2 key.
    pub key: PrivateKey,
    /// The sub-account.
    pub sub_account: SubAccountId,
    /// The network fee's token.
    pub fee_token: TokenId,
    /// The network fee per fill.
    pub fee: u128,
    /// Fills per batch.
    pub batch: usize,
}

/// The `OrderMatching`s that settle `jobs` with nonces from `first`, signed on every core; each
/// order's message is computed once per batch (a taker that took several makers appears in
/// several fills). Stops at the first that cannot be built.
pub fn matching_txs(cfg: &SettlerConfig, jobs: &[SettleJob], first: Nonce) -> Vec<Result<L2Tx, zklink_types::TxError>> {
    use rayon::prelude::*;
    let mut messages: std::collections::HashMap<Vec<u8>, Option<zklink_crypto::Fr>> = Default::default();
    for o in jobs.iter().flat_map(|j| [&j.maker, &j.taker]) {
        if let Ok(bytes) = o.signed_bytes() {
            messages.entry(bytes).or_insert(None);
        }
    }
    let computed: Vec<(Vec<u8>, Option<zklink_crypto::Fr>)> =
        messages.into_par_iter().map(|(b, _)| (b.clone(), zklink_types::message_of(&b).ok())).collect();
    let messages: std::collections::HashMap<Vec<u8>, Option<zklink_crypto::Fr>> = computed.into_iter().collect();
    let message = |o: &Order| o.signed_bytes().ok().and_then(|b| messages.get(&b).copied().flatten());
    jobs.par_iter()
        .enumerate()
        .map(|(i, job)| {
            let nonce = Nonce(first.0 + i as u32);
            match (message(&job.maker), message(&job.taker)) {
                (Some(m), Some(t)) => matching_tx_with(cfg, job, nonce, m, t),
                _ => matching_tx(cfg, job, nonce),
            }
        })
        .collect()
}

/// [`matching_tx`] with the orders' messages given.
fn matching_tx_with(
    cfg: &SettlerConfig,
    job: &SettleJob,
    nonce: Nonce,
    maker: zklink_crypto::Fr,
    taker: zklink_crypto::Fr,
) -> Result<L2Tx, zklink_types::TxError> {
    let mut m = unsigned(cfg, job, nonce);
    m.signature = TxSignature::sign(&cfg.key, m.message_with(maker, taker)?);
    Ok(L2Tx::OrderMatching(Box::new(m)))
}

fn unsigned(cfg: &SettlerConfig, job: &SettleJob, nonce: Nonce) -> OrderMatching {
    OrderMatching {
        account_id: cfg.submitter,
        sub_account_id: cfg.sub_account,
        nonce,
        maker: job.maker.clone(),
        taker: job.taker.clone(),
        fee_token: cfg.fee_token,
        fee: cfg.fee,
        expect_base_amount: job.base,
        expect_quote_amount: job.quote,
        signature: TxSignature::default(),
    }
}

/// The `OrderMatching` that settles `job` with `nonce`, signed.
pub fn matching_tx(cfg: &SettlerConfig, job: &SettleJob, nonce: Nonce) -> Result<L2Tx, zklink_types::TxError> {
    let mut m = unsigned(cfg, job, nonce);
    m.signature = TxSignature::sign(&cfg.key, m.message()?);
    Ok(L2Tx::OrderMatching(Box::new(m)))
}

/// Why `order` cannot be filled in a block with timestamp `timestamp` (Unix seconds): outside
/// its signed validity window. `None` if it can.
pub fn window_fault(order: &Order, timestamp: u64) -> Option<String> {
    (!order.is_valid_at(timestamp)).then(|| {
        format!(
            "account {}'s order in slot {} is valid from {} until {} (Unix seconds), not at the block's timestamp \
             {timestamp}",
            order.account_id, order.slot_id, order.valid_from, order.valid_until
        )
    })
}

/// The block timestamp a refusal of the node names (`TxError::OrderNotValidAt`: "… not at the
/// block's timestamp T").
pub fn refused_at(message: &str) -> Option<u64> {
    let (_, rest) = message.split_once("the block's timestamp ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether `order`'s owner (as `view` shows it) can still give `gives` of its sell token and
/// fill `base` from its slot, with the key that signed the order; the reason if not.
pub fn fault(order: &Order, view: Option<&AccountView>, sub: SubAccountId, gives: u128, base: u128) -> Option<String> {
    let Some(view) = view else { return Some(format!("account {} does not exist", order.account_id)) };
    let token = if order.is_sell { order.base_token } else { order.quote_token };
    let balance = view.balance(sub.0, token.0);
    if balance < gives {
        return Some(format!("account {} holds {balance} of token {token}, the fill needs {gives}", order.account_id));
    }
    let signer = order.signature.verify(order.message().ok()?).ok()?;
    if format!("0x{}", hex::encode(signer.0)) != view.pubkey_hash.to_lowercase() {
        return Some(format!("account {}'s L2 key changed since it signed the order", order.account_id));
    }
    let slot = view
        .orders
        .iter()
        .find(|s| s.sub_account == sub.0 && s.slot == order.slot_id.0)
        .map(|s| SlotState { nonce: zklink_types::OrderNonce(s.nonce), residue: s.residue.parse().unwrap_or(0) })
        .unwrap_or_default();
    let fits = if slot.residue == 0 {
        order.nonce == slot.nonce
    } else {
        (order.nonce == slot.nonce && slot.residue >= base) || order.nonce.0 == slot.nonce.0 + 1
    };
    if !fits {
        return Some(format!(
            "account {}'s slot {} now holds order nonce {} with {} unfilled; the order has nonce {}",
            order.account_id, order.slot_id, slot.nonce, slot.residue, order.nonce
        ));
    }
    None
}

/// The settler task: settles the jobs it is sent, from the node's current nonce of the submitter.
/// `pending` are the journal's unsettled fills at start (the caller found them with the nonce
/// mapping) and `first` the nonce the first of them carries.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    mut cfg: SettlerConfig,
    node: NodeClient,
    stats: std::sync::Arc<crate::stats::Stats>,
    mut pending: VecDeque<SettleJob>,
    first: Nonce,
    mut requests: mpsc::UnboundedReceiver<SettlerRequest>,
    events: mpsc::UnboundedSender<SettlerEvent>,
) {
    let mut next = first;
    let mut watermark = 0u64;
    let mut presigned: Option<Presigned> = None;
    let mut ahead_time = Duration::ZERO;
    let mut backoff = Duration::from_millis(50);
    loop {
        // Take everything waiting; block only when there is nothing to do.
        let mut reads = Vec::new();
        loop {
            let msg = if pending.is_empty() && reads.is_empty() {
                match requests.recv().await {
                    Some(m) => m,
                    None => return,
                }
            } else {
                match requests.try_recv() {
                    Ok(m) => m,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => return,
                }
            };
            match msg {
                SettlerRequest::Jobs(jobs) => pending.extend(jobs),
                SettlerRequest::Read { account, reply } => reads.push((account, reply)),
            }
        }
        for (account, reply) in reads {
            let r = node.account(account).await.map(|v| (v, watermark));
            let _ = reply.send(r);
        }
        if pending.is_empty() {
            continue;
        }
        let n = pending.len().min(cfg.batch.max(1));
        let signing = std::time::Instant::now();
        let batch: Vec<SettleJob> = pending.iter().take(n).cloned().collect();
        // The batch signed while the previous one was at the node, if it is still this one.
        let signed = match presigned.take() {
            Some(p) if p.first == next && p.seqs.len() == n && p.seqs.iter().eq(batch.iter().map(|j| &j.seq)) => {
                ahead_time = p.took;
                p.txs
            }
            _ => matching_txs(&cfg, &batch, next),
        };
        let mut txs = Vec::with_capacity(n);
        for (job, tx) in batch.iter().zip(signed) {
            match tx {
                Ok(tx) => txs.push(tx),
                Err(e) => {
                    tracing::error!(fill = job.seq, error = %e, "cannot build the matching of a fill");
                    break;
                }
            }
        }
        // Signing this batch: here, or ahead while the previous batch was at the node.
        let sign_time = signing.elapsed() + std::mem::take(&mut ahead_time);
        // Sign the next batch while the node works on this one (assuming this one is accepted
        // whole; if not, its nonces are wrong and it is signed again).
        let ahead: Vec<SettleJob> = pending.iter().skip(n).take(cfg.batch.max(1)).cloned().collect();
        let ahead_first = Nonce(next.0 + txs.len() as u32);
        let signer = (!ahead.is_empty()).then(|| {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let txs = matching_txs(&cfg, &ahead, ahead_first);
                Presigned {
                    first: ahead_first,
                    seqs: ahead.iter().map(|j| j.seq).collect(),
                    txs,
                    took: started.elapsed(),
                }
            })
        });
        let submitting = std::time::Instant::now();
        let sent = node.submit_txs(&txs).await;
        let submit_time = submitting.elapsed();
        if let Some(signer) = signer {
            presigned = signer.await.ok();
        }
        let outcome = match sent {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(error = %e, "settlement batch not sent; resyncing with the node");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                // The node may have applied the batch before the error: its nonce tells.
                if let Ok(Some(sub)) = node.account(cfg.submitter).await {
                    let applied = sub.nonce.saturating_sub(next.0) as usize;
                    settle_prefix(&mut pending, applied.min(n), &mut next, &mut watermark, &events);
                }
                continue;
            }
        };
        backoff = Duration::from_millis(50);
        let accepted = outcome.accepted.len().min(n);
        stats.batch(accepted, sign_time, submit_time);
        settle_prefix(&mut pending, accepted, &mut next, &mut watermark, &events);
        let Some(refusal) = outcome.refused else { continue };
        if refusal.code == crate::node::TX_DUPLICATE {
            // Sent before (a retry after a lost answer): the nonce says how far the node is.
            if let Ok(Some(sub)) = node.account(cfg.submitter).await {
                let applied = sub.nonce.saturating_sub(next.0) as usize;
                let applied = applied.min(pending.len());
                settle_prefix(&mut pending, applied, &mut next, &mut watermark, &events);
            }
            continue;
        }
        if refusal.code == FEE {
            // The node's fee changed since the venue read it: read it again, not the orders' fault.
            match node.order_matching_fee(cfg.fee_token).await {
                Ok(fee) if fee != cfg.fee => {
                    tracing::info!(old = cfg.fee, new = fee, "the node's fee for an OrderMatching changed");
                    cfg.fee = fee;
                    presigned = None;
                }
                Ok(_) => {
                    tracing::error!(reason = %refusal.message, "the node refuses the submitter's fee; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => tracing::warn!(error = %e, "reading the node's fee"),
            }
            continue;
        }
        let Some(job) = pending.front().cloned() else { continue };
        match offender(&node, &cfg, &job, &refusal.message).await {
            Ok(Some((offender, why))) => {
                let (done, wait) = oneshot::channel();
                let reason = format!("{} ({why})", refusal.message);
                tracing::info!(fill = job.seq, ?offender, %reason, "the node refused a fill");
                if events.send(SettlerEvent::Refused { seq: job.seq, offender, reason, done }).is_err() {
                    return;
                }
                // The refusal must be durable before the next nonce goes to another fill.
                if wait.await.is_err() {
                    return;
                }
                pending.pop_front();
            }
            Ok(None) => {
                tracing::error!(fill = job.seq, reason = %refusal.message, "the node refused a fill and neither order is at fault; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the accounts of a refused fill");
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// A batch signed ahead: its first nonce, its fills and their matchings.
struct Presigned {
    first: Nonce,
    seqs: Vec<u64>,
    txs: Vec<Result<L2Tx, zklink_types::TxError>>,
    took: Duration,
}

/// `zklink_submitTx`'s code for a fee below the node's price or in a token it does not take.
const FEE: i32 = -32005;

fn settle_prefix(
    pending: &mut VecDeque<SettleJob>,
    count: usize,
    next: &mut Nonce,
    watermark: &mut u64,
    events: &mpsc::UnboundedSender<SettlerEvent>,
) {
    if count == 0 {
        return;
    }
    let mut last = None;
    for _ in 0..count {
        if let Some(j) = pending.pop_front() {
            last = Some(j.seq);
        }
    }
    next.0 += count as u32;
    if let Some(upto) = last {
        *watermark = upto;
        let _ = events.send(SettlerEvent::Settled { upto });
    }
}

/// Which order of a refused fill is at fault: one outside its validity window at the timestamp
/// the refusal names (else now), or one whose owner, read from the node, cannot fill it.
async fn offender(
    node: &NodeClient,
    cfg: &SettlerConfig,
    job: &SettleJob,
    refusal: &str,
) -> Result<Option<(Offender, String)>, NodeError> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let at = refused_at(refusal).unwrap_or(now);
    for (order, who) in [(&job.maker, Offender::Maker), (&job.taker, Offender::Taker)] {
        if let Some(why) = window_fault(order, at) {
            return Ok(Some((who, why)));
        }
    }
    let s = FillSettlement::new(
        job.maker.is_sell,
        (job.maker.base_token, job.maker.quote_token),
        (job.base, job.quote),
        job.maker.maker_fee_ratio,
        job.taker.taker_fee_ratio,
    );
    let maker = node.account(job.maker.account_id).await?;
    if let Some(why) = fault(&job.maker, maker.as_ref(), cfg.sub_account, s.maker_gives, job.base) {
        return Ok(Some((Offender::Maker, why)));
    }
    let taker = node.account(job.taker.account_id).await?;
    if let Some(why) = fault(&job.taker, taker.as_ref(), cfg.sub_account, s.maker_gets, job.base) {
        return Ok(Some((Offender::Taker, why)));
    }
    Ok(None)
}
