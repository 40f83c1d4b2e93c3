//! The running venue: start-up (journal replay, genesis, markets, where settlement resumes), the
//! sequencer thread (gate → journal with group commit → apply → reply → publish), the settler
//! task, the expiry sweep, and the hard cancel (the node first, then the journal).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc, oneshot};
use zklink_crypto::eddsa::PrivateKey;
use zklink_crypto::l1::{address_of, derive_l2_key};
use zklink_matching::{MarketId, OrderType, Side};
use zklink_types::api::{AccountView, Stage};
use zklink_types::{AccountId, CancelOrder, L2Tx, Network, Nonce, Order, PubKeyHash, SubAccountId};

use crate::error::{CancelError, HardCancelError, PlaceError};
use crate::input::{CancelAllRequest, CancelRequest, Entry, Input};
use crate::journal::{Journal, JournalIoError};
use crate::ledger::{Ledger, NeedsRefresh};
use crate::market::{resolve_all, Market, MarketConfig, MarketError};
use crate::node::{NodeClient, NodeError, TX_DUPLICATE};
use crate::settle::{SettleJob, SettlerConfig, SettlerEvent, SettlerRequest};
use crate::venue::{Applied, JournalError, Venue};
use crate::views::{BookDelta, HardCancelView, LevelChange, OrderView, TradeView};

/// How far a cancel-all's signing time may be from the venue's clock.
pub const CANCEL_ALL_WINDOW_MS: u64 = 60_000;
/// Requests the sequencer takes into one journal write at most.
pub const MAX_GROUP: usize = 4096;
/// Published events buffered per subscriber.
pub const EVENT_BUFFER: usize = 65_536;
/// How often the expiry sweep looks for an expired order in the books (ms): with no other
/// request arriving, an expired order leaves the book within this of its expiry.
pub const EXPIRY_SWEEP_MS: u64 = 500;

/// What the exchange needs to start.
#[derive(Clone)]
pub struct ExchangeSettings {
    /// The node's API.
    pub node_url: String,
    /// Where the journal lives.
    pub data_dir: PathBuf,
    /// The submitter's L1 secret (its L2 key is derived from it as wallets do).
    pub submitter_secret: [u8; 32],
    /// The sub-account orders and matchings use.
    pub sub_account: SubAccountId,
    /// The network fee's token, by symbol or id.
    pub fee_token: String,
    /// Markets.
    pub markets: Vec<MarketConfig>,
    /// Fills per settlement batch.
    pub batch: usize,
}

/// Why the exchange could not start.
#[derive(thiserror::Error, Debug)]
pub enum StartError {
    /// The node could not be asked.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A market's configuration.
    #[error(transparent)]
    Market(#[from] MarketError),
    /// The journal file.
    #[error(transparent)]
    Journal(#[from] JournalIoError),
    /// The journal does not replay.
    #[error("the journal does not replay: {0}")]
    Replay(#[from] JournalError),
    /// Anything else that does not fit.
    #[error("{0}")]
    Setup(String),
}

/// A published event.
#[derive(Clone, Debug)]
pub enum Published {
    /// A market's book changed.
    Book(BookDelta),
    /// A trade.
    Trade(TradeView),
    /// An order changed (its owner's stream).
    Order(Box<OrderView>),
}

/// The sequencer's answer to a request.
#[derive(Debug)]
pub enum Reply<T, E> {
    /// Done, or refused.
    Done(Result<T, E>),
    /// Read the account from the node and ask again.
    Refresh,
}

/// The answer to a placement: the order with its state right after matching.
pub type PlaceReply = Reply<Box<OrderView>, PlaceError>;

/// The answer to a cancel or cancel-all: the orders cancelled.
pub type CancelReply = Reply<Vec<OrderView>, CancelError>;

/// How a request's error type says the venue is unavailable.
trait Unavailable {
    fn unavailable(why: String) -> Self;
}

impl Unavailable for PlaceError {
    fn unavailable(why: String) -> Self {
        PlaceError::Unavailable(why)
    }
}

impl Unavailable for CancelError {
    fn unavailable(why: String) -> Self {
        CancelError::Unavailable(why)
    }
}

/// A fresh reading of an account: the node's view and the settler's watermark.
pub type Fresh = (Option<AccountView>, u64);

enum Request {
    Place {
        market: MarketId,
        order_type: OrderType,
        order: Order,
        signer: PubKeyHash,
        fresh: Option<Fresh>,
        reply: oneshot::Sender<PlaceReply>,
    },
    Cancel {
        req: CancelRequest,
        signer: PubKeyHash,
        fresh: Option<Fresh>,
        reply: oneshot::Sender<CancelReply>,
    },
    CancelAll {
        req: CancelAllRequest,
        signer: PubKeyHash,
        fresh: Option<Fresh>,
        reply: oneshot::Sender<CancelReply>,
    },
    /// A hard cancel the node accepted: journal it.
    HardCancel {
        tx: CancelOrder,
        reply: oneshot::Sender<CancelReply>,
    },
    /// The expiry sweep found an expired order in a book: expire it (a group with nothing else).
    Sweep,
    Settler(SettlerEvent),
}

/// What the API reads and sends to.
pub struct Shared {
    venue: RwLock<Venue>,
    network: Network,
    /// The node's API (hard cancels go to it; the settler has its own handle).
    node: NodeClient,
    settled_upto: AtomicU64,
    failed: AtomicBool,
    journal_path: PathBuf,
    /// Byte offset of each journaled entry (entry `i` at `offsets[i − 1]`).
    offsets: RwLock<Vec<u64>>,
    requests: mpsc::UnboundedSender<Request>,
    settler: mpsc::UnboundedSender<SettlerRequest>,
    events: broadcast::Sender<Published>,
    stats: Arc<crate::stats::Stats>,
}

/// A handle to the running exchange.
#[derive(Clone)]
pub struct Exchange {
    shared: Arc<Shared>,
}

/// Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Exchange {
    /// Starts the exchange: replays its journal, writes the genesis and new markets, finds where
    /// settlement resumes from the node's nonce of the submitter, and starts the sequencer and the
    /// settler. Runs on the current tokio runtime.
    pub async fn start(s: ExchangeSettings) -> Result<Exchange, StartError> {
        let node = NodeClient::new(&s.node_url)?;
        let network = node.network().await?;
        let l1 = k256::ecdsa::SigningKey::from_slice(&s.submitter_secret)
            .map_err(|e| StartError::Setup(format!("the submitter key is not a secp256k1 secret: {e}")))?;
        let key: PrivateKey = derive_l2_key(&l1, &network.name);
        let address = address_of(&l1);
        let sub = node.account_by_address(address).await?.ok_or_else(|| {
            StartError::Setup(format!("the submitter {address} has no L2 account: deposit to it and set its L2 key"))
        })?;
        if sub.pubkey_hash.trim_start_matches("0x").bytes().all(|b| b == b'0') {
            return Err(StartError::Setup(format!(
                "the submitter {address} (account {}) has no L2 key: set it (zklink wallet activate)",
                sub.id
            )));
        }
        let submitter = AccountId(sub.id);
        let markets = resolve_all(&s.markets, &network)?;
        let fee_token = network
            .token_by_name(&s.fee_token)
            .ok_or_else(|| StartError::Setup(format!("fee token {:?} is no token of this network", s.fee_token)))?;
        let fee = node.order_matching_fee(fee_token).await?;

        std::fs::create_dir_all(&s.data_dir)
            .map_err(|e| StartError::Setup(format!("creating {}: {e}", s.data_dir.display())))?;
        let (mut journal, entries, mut offsets) = Journal::open(&s.data_dir.join("journal.bin"))?;
        let mut venue = Venue::new();
        for e in &entries {
            venue.apply(e)?;
        }
        tracing::info!(entries = entries.len(), digest = %hex::encode(venue.engine().digest()), "journal replayed");
        let mut new = Vec::new();
        let mut push = |venue: &mut Venue, input: Input| -> Result<(), StartError> {
            let e = Entry { index: venue.last_index() + 1, time_ms: now_ms(), input };
            venue.apply(&e)?;
            new.push(e);
            Ok(())
        };
        match venue.genesis() {
            None => push(
                &mut venue,
                Input::Genesis { submitter, sub_account: s.sub_account, first_nonce: Nonce(sub.nonce) },
            )?,
            Some(g) if g.submitter != submitter || g.sub_account != s.sub_account => {
                return Err(StartError::Setup(format!(
                    "the journal settles with account {} in sub-account {}, the configuration with account {} in \
                     sub-account {}",
                    g.submitter, g.sub_account, submitter, s.sub_account
                )))
            }
            Some(_) => {}
        }
        for m in &markets {
            match venue.market(m.id) {
                None => push(&mut venue, Input::ListMarket(m.clone()))?,
                Some(have) if have.market != *m => {
                    return Err(StartError::Setup(format!(
                        "market {} in the configuration differs from the one the journal lists ({}): a market's \
                         terms cannot change under its orders",
                        m.id.0, have.market.symbol
                    )))
                }
                Some(_) => {}
            }
        }
        offsets.extend(journal.append(&new)?);

        // Where settlement resumes: the node's nonce of the submitter.
        let g = venue.genesis().ok_or_else(|| StartError::Setup("no genesis".into()))?;
        let settled = sub.nonce.checked_sub(g.first_nonce.0).map(|n| n as usize);
        let settleable: Vec<_> = venue.fills().filter(|f| f.refused.is_none()).collect();
        let settled = settled.filter(|n| *n <= settleable.len()).ok_or_else(|| {
            StartError::Setup(format!(
                "the submitter's nonce on the node is {}, but the journal's fills account for nonces {}..{}: the \
                 submitter account was used outside this venue",
                sub.nonce,
                g.first_nonce.0,
                g.first_nonce.0 as usize + settleable.len()
            ))
        })?;
        let pending: VecDeque<SettleJob> = settleable[settled..].iter().filter_map(|f| job(&venue, f)).collect();
        // Every fill before the first pending one is resolved (applied or refused).
        let settled_upto =
            pending.front().map_or_else(|| venue.fills().last().map_or(0, |f| f.seq), |j| j.seq.saturating_sub(1));
        tracing::info!(settled, pending = pending.len(), next_nonce = sub.nonce, "settlement resumes");

        let (req_tx, req_rx) = mpsc::unbounded_channel();
        let (set_tx, set_rx) = mpsc::unbounded_channel();
        let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            venue: RwLock::new(venue),
            network: network.clone(),
            node: node.clone(),
            settled_upto: AtomicU64::new(settled_upto),
            failed: AtomicBool::new(false),
            journal_path: journal.path().to_path_buf(),
            offsets: RwLock::new(offsets),
            requests: req_tx.clone(),
            settler: set_tx,
            events: broadcast::channel(EVENT_BUFFER).0,
            stats: Arc::default(),
        });
        // The node takes at most 1000 txs per zklink_submitTxs.
        let batch = s.batch.clamp(1, crate::settle::MAX_BATCH);
        let cfg = SettlerConfig { submitter, key, sub_account: s.sub_account, fee_token, fee, batch };
        tokio::spawn(crate::settle::run(cfg, node, shared.stats.clone(), pending, Nonce(sub.nonce), set_rx, ev_tx));
        let forward = req_tx.clone();
        tokio::spawn(async move {
            while let Some(e) = ev_rx.recv().await {
                if forward.send(Request::Settler(e)).is_err() {
                    return;
                }
            }
        });
        tokio::spawn(sweep(Arc::downgrade(&shared)));
        let seq_shared = shared.clone();
        let ledger = Ledger::new(s.sub_account);
        std::thread::Builder::new()
            .name("exchange-sequencer".into())
            .spawn(move || Sequencer { shared: seq_shared, journal, ledger }.run(req_rx))
            .map_err(|e| StartError::Setup(format!("starting the sequencer thread: {e}")))?;
        Ok(Exchange { shared })
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.shared.network
    }

    /// Read access to the venue.
    pub fn venue(&self) -> RwLockReadGuard<'_, Venue> {
        self.shared.venue.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The last fill resolved: every fill up to it is applied by the node or was refused.
    pub fn settled_upto(&self) -> u64 {
        self.shared.settled_upto.load(Ordering::Acquire)
    }

    /// Whether the venue stopped after a journal failure.
    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Journal entries from index `from` (1-based), at most `limit`.
    pub fn journal_entries(&self, from: u64, limit: usize) -> Result<Vec<Entry>, JournalIoError> {
        let offset = {
            let offsets = self.shared.offsets.read().unwrap_or_else(|e| e.into_inner());
            match offsets.get(from.max(1) as usize - 1) {
                Some(o) => *o,
                None => return Ok(Vec::new()),
            }
        };
        Journal::read_from(&self.shared.journal_path, offset, limit)
    }

    /// Where the time went so far.
    pub fn stats(&self) -> crate::stats::StatsView {
        self.shared.stats.read()
    }

    /// The gauges of `/metrics` and `/health`.
    pub fn gauges(&self) -> crate::stats::Gauges {
        let v = self.venue();
        let fills = v.fills().count();
        crate::stats::Gauges {
            journal: v.last_index(),
            open_orders: v.markets().filter_map(|m| v.engine().book(m.market.id)).map(|b| b.len()).sum(),
            fills,
            fills_refused: fills - v.settleable_fills(),
            pending_fills: v.fills_after(self.settled_upto()).filter(|f| f.refused.is_none()).count(),
            failed: self.failed(),
        }
    }

    /// Published events.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.shared.events.subscribe()
    }

    async fn read(&self, account: AccountId) -> Result<Fresh, ReadError> {
        let (reply, rx) = oneshot::channel();
        self.shared.settler.send(SettlerRequest::Read { account, reply }).map_err(|_| ReadError::Stopped)?;
        Ok(rx.await.map_err(|_| ReadError::Stopped)??)
    }

    /// Places a signed order (its signature is verified here, once).
    pub async fn place(&self, market: MarketId, order_type: OrderType, order: Order) -> Result<OrderView, PlaceError> {
        // The node's stateless rules first (slot and account ranges, tokens, packable amount,
        // price range): an order it would never settle is not placed.
        let checked = order
            .validate(&self.shared.network.preset)
            .and_then(|()| order.message())
            .map_err(PlaceError::Invalid)
            .and_then(|message| order.signature.verify(message).map_err(|e| PlaceError::BadSignature(fault(e))));
        let signer = checked.inspect_err(|_| self.shared.stats.placement(false))?;
        let request = |fresh, reply| Request::Place { market, order_type, order: order.clone(), signer, fresh, reply };
        let placed = self.ask(order.account_id, request).await;
        self.shared.stats.placement(placed.is_ok());
        placed.map(|v| *v)
    }

    /// Cancels an order on its owner's signed request.
    pub async fn cancel(&self, req: CancelRequest) -> Result<Vec<OrderView>, CancelError> {
        let signer = req.signer().map_err(|e| CancelError::BadSignature(fault(e)))?;
        let request = |fresh, reply| Request::Cancel { req: req.clone(), signer, fresh, reply };
        let cancelled = self.ask(req.account_id, request).await;
        self.shared.stats.cancels(cancelled.as_ref().map_or(0, Vec::len));
        cancelled
    }

    /// Cancels all of an account's orders (one market or all) on its signed request.
    pub async fn cancel_all(&self, req: CancelAllRequest) -> Result<Vec<OrderView>, CancelError> {
        let signer = req.signer().map_err(|e| CancelError::BadSignature(fault(e)))?;
        let request = |fresh, reply| Request::CancelAll { req: req.clone(), signer, fresh, reply };
        let cancelled = self.ask(req.account_id, request).await;
        self.shared.stats.cancels(cancelled.as_ref().map_or(0, Vec::len));
        cancelled
    }

    /// A hard cancel (module docs of `crate::input`; docs/exchange.md, Hard and soft cancels):
    /// the owner's signed `CancelOrder` L2 tx is checked (the venue's sub-account, its fields, its
    /// signature, its nonce not ahead of the account's on the node, which would hold it back),
    /// sent to the node, and only once the node has accepted it journaled as
    /// `Input::HardCancel`, which cancels the slot's open orders up to its order nonce. Returns
    /// the tx's hash and the cancelled orders. Every refusal before the node accepted it leaves
    /// the orders untouched; the node's own is [`HardCancelError::NodeRefused`] with its code and
    /// message. The same tx sent again after a lost answer is found on the node
    /// (`zklink_txStatus`) and journaled.
    pub async fn cancel_hard(&self, tx: CancelOrder) -> Result<HardCancelView, HardCancelError> {
        let sub = self.venue().genesis().map(|g| g.sub_account);
        let sub = sub.ok_or_else(|| HardCancelError::Unavailable("the venue has no genesis entry".into()))?;
        if tx.sub_account_id != sub {
            return Err(HardCancelError::WrongSubAccount { expected: sub, got: tx.sub_account_id });
        }
        tx.validate(&self.shared.network.preset).map_err(HardCancelError::Invalid)?;
        let l2 = L2Tx::CancelOrder(tx.clone());
        let hash = l2.hash().map_err(HardCancelError::Invalid)?;
        l2.message()
            .map_err(HardCancelError::Invalid)
            .and_then(|m| tx.signature.verify(m).map_err(|e| HardCancelError::BadSignature(fault(e))))?;
        let node = &self.shared.node;
        let unreachable = |e: NodeError| HardCancelError::Unavailable(e.to_string());
        let account = node.account(tx.account_id).await.map_err(unreachable)?;
        let account = account.ok_or(HardCancelError::NoAccount(tx.account_id))?;
        if tx.nonce.0 > account.nonce {
            return Err(HardCancelError::NonceAhead {
                account: tx.account_id,
                expected: Nonce(account.nonce),
                got: tx.nonce,
            });
        }
        match node.submit_tx(&l2).await {
            Ok(_) => {}
            Err(NodeError::Refused { code, message, .. }) => {
                // The same tx sent before (a retry after a lost answer) is accepted already.
                let known = code == TX_DUPLICATE
                    || matches!(node.tx_status(hash).await, Ok(Some(s)) if s.failed.is_none() && s.stage != Stage::Queued);
                if !known {
                    return Err(HardCancelError::NodeRefused { code, message });
                }
            }
            Err(e) => return Err(unreachable(e)),
        }
        tracing::info!(account = %tx.account_id, slot = %tx.slot_id, order_nonce = %tx.order_nonce, tx = ?hash, "hard cancel accepted by the node");
        let request = |_fresh, reply| Request::HardCancel { tx: tx.clone(), reply };
        let cancelled = self.ask(tx.account_id, request).await.map_err(|e: CancelError| {
            HardCancelError::Unavailable(format!(
                "the node accepted the hard cancel (tx {hash:?}: the slot moved on L2), but the venue could not \
                 record it: {e}"
            ))
        })?;
        self.shared.stats.cancels(cancelled.len());
        Ok(HardCancelView { tx_hash: hash, cancelled })
    }

    /// Sends the request `make` builds to the sequencer; when the sequencer needs a fresh reading
    /// of `account`, reads it from the node (through the settler) and asks again, once.
    async fn ask<T, E: Unavailable>(
        &self,
        account: AccountId,
        make: impl Fn(Option<Fresh>, oneshot::Sender<Reply<T, E>>) -> Request,
    ) -> Result<T, E> {
        let stopped = || E::unavailable(STOPPED.into());
        let mut fresh = None;
        loop {
            let (reply, rx) = oneshot::channel();
            self.shared.requests.send(make(fresh.take(), reply)).map_err(|_| stopped())?;
            match rx.await.map_err(|_| stopped())? {
                Reply::Done(r) => return r,
                Reply::Refresh => fresh = Some(self.read(account).await.map_err(|e| E::unavailable(e.to_string()))?),
            }
        }
    }
}

/// Why an account could not be read from the node.
#[derive(thiserror::Error, Debug)]
pub enum ReadError {
    /// The node did not answer.
    #[error("reading the account from the node: {0}")]
    Node(#[from] NodeError),
    /// The settler (which reads between its batches) stopped.
    #[error("the settler stopped")]
    Stopped,
}

/// A signature error's reason without the "bad signature" its own message starts with.
fn fault(e: zklink_types::TxError) -> String {
    match e {
        zklink_types::TxError::BadSignature(f) => f.to_string(),
        other => other.to_string(),
    }
}

/// Why a request finds no sequencer.
const STOPPED: &str = "the sequencer stopped (journal failure); restart the exchange";

fn unavailable() -> PlaceError {
    PlaceError::unavailable(STOPPED.into())
}

fn cancel_unavailable() -> CancelError {
    CancelError::unavailable(STOPPED.into())
}

/// The expiry sweep: every [`EXPIRY_SWEEP_MS`], if an order in a book is past its expiry, asks
/// the sequencer for a group (which journals an `Input::Expire` first). Ends when the exchange
/// is gone or stopped.
async fn sweep(shared: std::sync::Weak<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(EXPIRY_SWEEP_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else { return };
        if shared.failed.load(Ordering::Acquire) {
            return;
        }
        let next = shared.venue.read().unwrap_or_else(|e| e.into_inner()).next_expiry_ms();
        if next.is_some_and(|at| at <= now_ms()) && shared.requests.send(Request::Sweep).is_err() {
            return;
        }
    }
}

fn job(venue: &Venue, f: &crate::venue::FillRecord) -> Option<SettleJob> {
    Some(SettleJob {
        seq: f.seq,
        maker: venue.order(f.maker)?.order.clone(),
        taker: venue.order(f.taker)?.order.clone(),
        base: f.base,
        quote: f.quote,
    })
}

/// Journals-to-be and applies one input; the ledger takes its fills.
fn apply_input(venue: &mut Venue, ledger: &mut Ledger, now: u64, input: Input, entries: &mut Vec<Entry>) -> Applied {
    let e = Entry { index: venue.last_index() + 1, time_ms: now, input };
    let a = match venue.apply(&e) {
        Ok(a) => a,
        Err(err) => {
            // Inputs built by the sequencer always apply; a failure is a bug, not the user's, and
            // the entry is not journaled.
            tracing::error!(error = %err, "an input did not apply");
            return Applied::default();
        }
    };
    for seq in &a.fills {
        if let Some(f) = venue.fill(*seq) {
            ledger.on_fill(venue, f);
        }
    }
    entries.push(e);
    a
}

/// A reply waiting for the journal write.
enum Pending {
    Place(oneshot::Sender<PlaceReply>, Result<zklink_matching::OrderId, PlaceError>),
    Cancel(oneshot::Sender<CancelReply>, Result<Vec<zklink_matching::OrderId>, CancelError>),
    Refused(oneshot::Sender<()>),
}

struct Sequencer {
    shared: Arc<Shared>,
    journal: Journal,
    ledger: Ledger,
}

impl Sequencer {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        while let Some(first) = rx.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            self.group(group);
        }
    }

    fn fail_all(group: Vec<Request>) {
        for r in group {
            match r {
                Request::Place { reply, .. } => {
                    let _ = reply.send(PlaceReply::Done(Err(unavailable())));
                }
                Request::Cancel { reply, .. }
                | Request::CancelAll { reply, .. }
                | Request::HardCancel { reply, .. } => {
                    let _ = reply.send(CancelReply::Done(Err(cancel_unavailable())));
                }
                Request::Sweep | Request::Settler(_) => {}
            }
        }
    }

    /// One group: gate and apply each request, write the group's entries with one sync, then
    /// answer and publish.
    fn group(&mut self, group: Vec<Request>) {
        if self.shared.failed.load(Ordering::Acquire) {
            return Self::fail_all(group);
        }
        let shared = self.shared.clone();
        let mut venue = shared.venue.write().unwrap_or_else(|e| e.into_inner());
        let mut entries = Vec::new();
        let mut waiting = Vec::new();
        let mut applied_all: Vec<Applied> = Vec::new();
        let now = now_ms();
        let applying = std::time::Instant::now();
        // Orders past their expiry leave the books before anything is gated, so that the gate
        // (a post-only's cross, a fill-or-kill's depth) sees the books the entries apply to.
        if venue.next_expiry_ms().is_some_and(|at| at <= now) {
            let a = apply_input(&mut venue, &mut self.ledger, now, Input::Expire, &mut entries);
            applied_all.push(a);
        }
        for r in group {
            match r {
                Request::Place { market, order_type, order, signer, fresh, reply } => {
                    if let Some((view, wm)) = &fresh {
                        self.ledger.install(&venue, order.account_id, view.as_ref(), *wm);
                    }
                    if let Err(e) = venue.precheck_place(market, order_type, &order, now) {
                        let _ = reply.send(PlaceReply::Done(Err(e)));
                        continue;
                    }
                    match self.ledger.check_place(&venue, &shared.network, &order, signer, fresh.is_some()) {
                        Err(NeedsRefresh) => {
                            let _ = reply.send(PlaceReply::Refresh);
                            continue;
                        }
                        Ok(Err(e)) => {
                            let _ = reply.send(PlaceReply::Done(Err(e)));
                            continue;
                        }
                        Ok(Ok(())) => {}
                    }
                    let a = apply_input(
                        &mut venue,
                        &mut self.ledger,
                        now,
                        Input::Place { market, order_type, order },
                        &mut entries,
                    );
                    let result = match (a.orders.first(), &a.place_error) {
                        (Some(id), _) => Ok(*id),
                        (None, Some(e)) => Err(e.clone()),
                        (None, None) => Err(PlaceError::Unavailable("no order".into())),
                    };
                    waiting.push(Pending::Place(reply, result));
                    applied_all.push(a);
                }
                Request::Cancel { req, signer, fresh, reply } => {
                    if let Err(answer) = self.owner_gate(&venue, req.account_id, signer, fresh.as_ref()) {
                        let _ = reply.send(answer);
                        continue;
                    }
                    if let Err(e) = venue.precheck_cancel(&req) {
                        let _ = reply.send(CancelReply::Done(Err(e)));
                        continue;
                    }
                    let a = apply_input(&mut venue, &mut self.ledger, now, Input::Cancel(req), &mut entries);
                    let result = a.cancel_error.clone().map_or_else(|| Ok(a.orders.clone()), Err);
                    waiting.push(Pending::Cancel(reply, result));
                    applied_all.push(a);
                }
                Request::CancelAll { req, signer, fresh, reply } => {
                    if let Err(answer) = self.owner_gate(&venue, req.account_id, signer, fresh.as_ref()) {
                        let _ = reply.send(answer);
                        continue;
                    }
                    if let Some(m) = req.market_id().filter(|m| venue.market(*m).is_none()) {
                        let _ = reply.send(CancelReply::Done(Err(CancelError::UnknownMarket(m))));
                        continue;
                    }
                    let last = venue.last_cancel_all(req.account_id);
                    if req.time_ms.abs_diff(now) > CANCEL_ALL_WINDOW_MS || last.is_some_and(|l| req.time_ms <= l) {
                        let reason = if last.is_some_and(|l| req.time_ms <= l) {
                            "it is not later than the account's previous cancel-all".to_string()
                        } else {
                            format!(
                                "it is more than {} s from the venue's clock ({now} ms)",
                                CANCEL_ALL_WINDOW_MS / 1000
                            )
                        };
                        let _ = reply.send(CancelReply::Done(Err(CancelError::Stale { time_ms: req.time_ms, reason })));
                        continue;
                    }
                    let a = apply_input(&mut venue, &mut self.ledger, now, Input::CancelAll(req), &mut entries);
                    let result = a.cancel_error.clone().map_or_else(|| Ok(a.orders.clone()), Err);
                    waiting.push(Pending::Cancel(reply, result));
                    applied_all.push(a);
                }
                Request::HardCancel { tx, reply } => {
                    let account = tx.account_id;
                    let a = apply_input(&mut venue, &mut self.ledger, now, Input::HardCancel(tx), &mut entries);
                    // The slot moved on L2: the account is read again before its next order.
                    self.ledger.mark_stale(account);
                    waiting.push(Pending::Cancel(reply, Ok(a.orders.clone())));
                    applied_all.push(a);
                }
                Request::Sweep => {}
                Request::Settler(SettlerEvent::Settled { upto }) => {
                    shared.settled_upto.fetch_max(upto, Ordering::AcqRel);
                }
                Request::Settler(SettlerEvent::Refused { seq, offender, reason, done }) => {
                    let a = apply_input(
                        &mut venue,
                        &mut self.ledger,
                        now,
                        Input::SettlementRefused { fill: seq, offender, reason },
                        &mut entries,
                    );
                    if let Some(f) = a.voided.and_then(|s| venue.fill(s)) {
                        self.ledger.on_refused(&venue, f);
                    }
                    // Resolved: nothing up to it waits for the node any more.
                    shared.settled_upto.fetch_max(seq, Ordering::AcqRel);
                    waiting.push(Pending::Refused(done));
                    applied_all.push(a);
                }
            }
        }
        let apply_time = applying.elapsed();
        let journaling = std::time::Instant::now();
        let written = self.journal.append(&entries);
        shared.stats.group(entries.len(), apply_time, journaling.elapsed());
        if let Ok(offsets) = &written {
            shared.offsets.write().unwrap_or_else(|e| e.into_inner()).extend_from_slice(offsets);
        }
        if let Err(e) = written {
            // Memory is ahead of the disk: stop, answer nothing as accepted; a restart replays
            // the journal (without these entries).
            tracing::error!(error = %e, "journal write failed: the exchange stops taking orders until restarted");
            shared.failed.store(true, Ordering::Release);
            for w in waiting {
                match w {
                    Pending::Place(r, _) => {
                        let _ = r.send(PlaceReply::Done(Err(unavailable())));
                    }
                    Pending::Cancel(r, _) => {
                        let _ = r.send(CancelReply::Done(Err(cancel_unavailable())));
                    }
                    Pending::Refused(_) => {}
                }
            }
            return;
        }
        let settled = shared.settled_upto.load(Ordering::Acquire);
        let view = |id| venue.order(id).and_then(|o| OrderView::of(&venue, o, settled, true));
        for w in waiting {
            match w {
                Pending::Place(r, result) => {
                    let v = result.and_then(|id| {
                        view(id).map(Box::new).ok_or_else(|| PlaceError::Unavailable("no order".into()))
                    });
                    let _ = r.send(PlaceReply::Done(v));
                }
                Pending::Cancel(r, result) => {
                    let _ = r.send(CancelReply::Done(result.map(|ids| ids.into_iter().filter_map(view).collect())));
                }
                Pending::Refused(done) => {
                    let _ = done.send(());
                }
            }
        }
        // Settle and publish what is durable now.
        let mut jobs = Vec::new();
        for a in &applied_all {
            jobs.extend(a.fills.iter().filter_map(|s| venue.fill(*s)).filter_map(|f| job(&venue, f)));
            self.publish(&venue, a, settled);
        }
        if !jobs.is_empty() {
            let _ = shared.settler.send(SettlerRequest::Jobs(jobs));
        }
    }

    /// A cancel's owner check: installs a fresh reading of `account` if the request brings one,
    /// then the signer against the account's key; the answer to send instead if it fails.
    fn owner_gate(
        &mut self,
        venue: &Venue,
        account: AccountId,
        signer: PubKeyHash,
        fresh: Option<&Fresh>,
    ) -> Result<(), CancelReply> {
        if let Some((view, wm)) = fresh {
            self.ledger.install(venue, account, view.as_ref(), *wm);
        }
        match self.key_check(account, signer, fresh.is_some()) {
            None => Err(CancelReply::Refresh),
            Some(Err(e)) => Err(CancelReply::Done(Err(e))),
            Some(Ok(())) => Ok(()),
        }
    }

    /// The request's signer against the account's key: `None` to read the account first.
    fn key_check(&self, account: AccountId, signer: PubKeyHash, fresh: bool) -> Option<Result<(), CancelError>> {
        match self.ledger.account(account) {
            Some(a) if !a.stale && a.pubkey_hash == signer => Some(Ok(())),
            _ if !fresh => None,
            Some(a) => Some(Err(CancelError::BadSignature(format!(
                "signed by key hash 0x{}, account {account} has key hash 0x{}",
                hex::encode(signer.0),
                hex::encode(a.pubkey_hash.0)
            )))),
            None => Some(Err(CancelError::BadSignature(format!("account {account} does not exist on L2")))),
        }
    }

    fn publish(&self, venue: &Venue, a: &Applied, settled: u64) {
        let events = &self.shared.events;
        if events.receiver_count() == 0 {
            return;
        }
        for (m, seq, levels) in &a.deltas {
            let Some(ms) = venue.market(*m) else { continue };
            let lot = ms.market.spec.lot;
            let changes = levels
                .iter()
                .map(|&(side, p, lots, orders)| LevelChange {
                    side,
                    price: crate::views::price(&ms.market, p),
                    size: zklink_types::units::format_units(lot.saturating_mul(lots), 18),
                    orders,
                })
                .collect();
            let _ = events.send(Published::Book(BookDelta { market: m.0, seq: *seq, changes }));
        }
        for s in &a.fills {
            if let Some(t) = venue.fill(*s).and_then(|f| TradeView::of(venue, f)) {
                let _ = events.send(Published::Trade(t));
            }
        }
        // Each changed order goes to its owner with the fills this input made for it.
        for id in &a.changed {
            let Some(o) = venue.order(*id) else { continue };
            if let Some(mut v) = OrderView::of(venue, o, settled, false) {
                v.fills = a
                    .fills
                    .iter()
                    .filter_map(|s| venue.fill(*s))
                    .filter(|f| f.maker == *id || f.taker == *id)
                    .filter_map(|f| crate::views::FillView::of(venue, f, settled))
                    .collect();
                let _ = events.send(Published::Order(Box::new(v)));
            }
        }
    }
}

/// Side of an order as users say it.
pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// The markets as resolved for `network` (the CLI prints them at start).
pub fn markets(configs: &[MarketConfig], network: &Network) -> Result<Vec<Market>, MarketError> {
    resolve_all(configs, network)
}
