//! The venue's deterministic core: the journal's inputs applied, one at a time, to the matching
//! engine and the venue's records (orders with their status and fills, slots, market data).
//!
//! Everything here is a function of the journal alone (no clock, no node, no randomness), so a
//! replay of the journal (after a crash, or by an auditor) rebuilds the same venue. What depends
//! on the outside world — signatures against the account's current key, L2 balances, the L2
//! state of order slots — is checked before an input is journaled (`crate::ledger`), and is not
//! replayed.
//!
//! # Orders
//! A signed [`Order`] becomes one engine order with the venue's id (the journal index of its
//! `Place`): side from `is_sell`, price in ticks (a market order's signed price is its
//! protective price, rounded onto the grid in the signer's favour), size in lots. A slot holds
//! one live order: placing into a slot whose order is live cancels that order first
//! ("replaced"). The same signed terms (the same [`OrderHash`]) are placed at most once, so a
//! cancelled order cannot be brought back by anyone who saw it in the journal.
//!
//! # Fills and settlement
//! Every engine fill is a [`FillRecord`] at the maker's price: `base = lots · lot`,
//! `quote = ⌊base · price / 10^18⌋` (the node computes the same). Fills settle in their engine
//! sequence; the n-th fill not refused carries submitter nonce `first_nonce + n`
//! ([`Venue::settlement_nonce`]). A refusal (`Input::SettlementRefused`) voids the fill: the
//! offending order is cancelled, and the counterparty, if it was a limit or post-only order still
//! its slot's live order, gets the size back at its original time priority (`Command::Restore`).
//!
//! # Expiry and hard cancels
//! Every entry first expires the resting orders whose [`expiry_ms`] is not later than its time
//! (`crate::input`, Expiry): they are cancelled with the reason `expired at …`, and free their
//! slot and funds. A placement is refused if its order is not valid yet at the entry's time
//! ([`PlaceError::NotYetValid`]) or already past its expiry ([`PlaceError::Expired`]), so an
//! order the venue matches is always within its window, less the margin. `Input::HardCancel`
//! cancels the open orders of the slot up to the cancelled nonce (`hard cancel …`) and remembers
//! the nonce: a later order of the slot with a nonce up to it is refused
//! ([`PlaceError::SlotHardCancelled`]), and a refused fill does not restore such an order, nor an
//! expired one.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use zklink_matching::{
    AccountId as EngineAccount, CancelReason, Command, Engine, Event, EventKind, GridError, MarketId, NewOrder,
    OrderId, OrderType, Price, RejectReason, Side, Size,
};
use zklink_types::units::format_units;
use zklink_types::{AccountId, CancelOrder, L2Tx, Nonce, Order, OrderNonce, SlotId, SubAccountId, TxError};

use crate::error::{price_text, CancelError, PlaceError};
use crate::input::{expiry_ms, CancelAllRequest, CancelRequest, Entry, Input, Offender, OrderHash, EXPIRY_MARGIN_MS};
use crate::market::Market;

/// Trades kept per market for `exchange_trades`.
pub const RECENT_TRADES: usize = 1000;
/// One-minute candles kept per market (7 days).
pub const CANDLE_MINUTES: usize = 7 * 24 * 60;

/// An order's state on the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderStatus {
    /// Resting in the book.
    Open,
    /// Filled completely.
    Filled,
    /// Cancelled (by its owner, by replacement, as an IOC/FOK rest, by self-trade prevention,
    /// after the node refused one of its fills, by its expiry, or by a hard cancel of its slot);
    /// `reason` says which.
    Cancelled,
}

impl OrderStatus {
    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// An order placed on the venue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    /// The venue's id (journal index of its placement).
    pub id: OrderId,
    /// Its hash (cancels name it).
    pub hash: OrderHash,
    /// The market.
    pub market: MarketId,
    /// The signed order.
    pub order: Order,
    /// Its type.
    pub order_type: OrderType,
    /// Buy or sell.
    pub side: Side,
    /// Its limit (or protective) price in ticks.
    pub price: Price,
    /// Its size in lots when placed.
    pub size: Size,
    /// What rests in the book, in lots (0 unless open).
    pub remaining: Size,
    /// Lots traded (fills refused by the node are not counted).
    pub filled: Size,
    /// Its state.
    pub status: OrderStatus,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// Its time priority (the engine sequence number of its acceptance).
    pub priority: u64,
    /// When it was placed, Unix ms.
    pub placed_ms: u64,
    /// Its fills (engine sequence numbers).
    pub fills: Vec<u64>,
}

/// A trade between two orders, to be settled as one `OrderMatching`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FillRecord {
    /// The engine's sequence number of the fill (its place in settlement order).
    pub seq: u64,
    /// The market.
    pub market: MarketId,
    /// The resting order.
    pub maker: OrderId,
    /// The incoming order.
    pub taker: OrderId,
    /// The taker's side.
    pub taker_side: Side,
    /// The price in ticks (the maker's).
    pub price: Price,
    /// The size in lots.
    pub size: Size,
    /// Base amount, L2 units.
    #[serde(with = "zklink_types::serde_str")]
    pub base: u128,
    /// Quote amount at the maker's signed price, L2 units.
    #[serde(with = "zklink_types::serde_str")]
    pub quote: u128,
    /// When it happened (its input's time), Unix ms.
    pub time_ms: u64,
    /// Set when the node refused to settle it: why.
    pub refused: Option<String>,
}

/// One-minute OHLCV bucket (prices in ticks, volume in lots and quote units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candle {
    /// Start of the minute, Unix ms.
    pub start_ms: u64,
    /// First price.
    pub open: Price,
    /// Highest.
    pub high: Price,
    /// Lowest.
    pub low: Price,
    /// Last.
    pub close: Price,
    /// Base volume, lots.
    pub volume: u128,
    /// Quote volume, L2 units.
    pub quote_volume: u128,
    /// Number of trades.
    pub trades: u64,
}

impl Candle {
    fn new(start_ms: u64, price: Price) -> Candle {
        Candle { start_ms, open: price, high: price, low: price, close: price, volume: 0, quote_volume: 0, trades: 0 }
    }

    /// Merges a later candle into this one.
    pub fn merge(&mut self, later: &Candle) {
        self.high = self.high.max(later.high);
        self.low = self.low.min(later.low);
        self.close = later.close;
        self.volume += later.volume;
        self.quote_volume += later.quote_volume;
        self.trades += later.trades;
    }
}

/// A market and its data.
#[derive(Clone, Debug)]
pub struct MarketState {
    /// The market.
    pub market: Market,
    /// Recent fills (engine sequence numbers), oldest first.
    pub trades: VecDeque<u64>,
    /// One-minute candles by start, oldest first.
    pub candles: VecDeque<Candle>,
    /// Number of book changes so far: book deltas carry it, so a subscriber sees a gap.
    pub book_seq: u64,
}

/// What applying an input did, for the API and the settler.
#[derive(Clone, Debug, Default)]
pub struct Applied {
    /// The placed order (`Place`), or the cancelled orders (`Cancel`, `CancelAll`, `HardCancel`).
    pub orders: Vec<OrderId>,
    /// Why a `Place` or `Cancel` was refused (nothing changed).
    pub place_error: Option<PlaceError>,
    /// Why a cancel was refused.
    pub cancel_error: Option<CancelError>,
    /// New fills, in sequence.
    pub fills: Vec<u64>,
    /// Orders whose state changed.
    pub changed: BTreeSet<OrderId>,
    /// Price levels whose total changed: (market, side, price).
    pub levels: BTreeSet<(MarketId, Side, Price)>,
    /// The fill a refusal voided.
    pub voided: Option<u64>,
    /// The orders that expired at this entry's time (before the input itself applied).
    pub expired: Vec<OrderId>,
    /// Per market whose book changed: its change number after this input and the changed levels
    /// with their totals then.
    pub deltas: Vec<(MarketId, u64, Vec<LevelTotal>)>,
}

/// A price level's total after a change: (side, price, lots, orders); 0 lots: the level is gone.
pub type LevelTotal = (Side, Price, u128, u32);

/// Why the journal cannot be applied (a corrupt or foreign journal, not a user error).
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum JournalError {
    /// Entries out of order.
    #[error("journal entry {got} where {expected} was expected")]
    Gap {
        /// Expected index.
        expected: u64,
        /// Found.
        got: u64,
    },
    /// Anything before the genesis entry, or a second one.
    #[error("journal entry {0}: the genesis entry must come first, once")]
    Genesis(u64),
    /// A market listed twice or with an invalid spec.
    #[error("journal entry {index}: market {market}: {reason}")]
    Market {
        /// Entry.
        index: u64,
        /// Market.
        market: u32,
        /// Why.
        reason: String,
    },
    /// A refusal of a fill that does not exist or was refused before.
    #[error("journal entry {index}: settlement refusal of fill {fill}, which {reason}")]
    Refusal {
        /// Entry.
        index: u64,
        /// The fill.
        fill: u64,
        /// Why it cannot be.
        reason: &'static str,
    },
}

/// Who settles and from which nonce (the genesis entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Genesis {
    /// The submitter.
    pub submitter: AccountId,
    /// The sub-account.
    pub sub_account: SubAccountId,
    /// The submitter's first nonce.
    pub first_nonce: Nonce,
}

/// The venue: engine, records and market data, driven by journal entries.
#[derive(Clone, Debug, Default)]
pub struct Venue {
    engine: Engine,
    genesis: Option<Genesis>,
    markets: BTreeMap<MarketId, MarketState>,
    orders: HashMap<OrderId, OrderRecord>,
    by_hash: HashMap<OrderHash, OrderId>,
    slots: HashMap<(AccountId, SlotId), OrderId>,
    open_by_account: HashMap<AccountId, BTreeSet<OrderId>>,
    all_by_account: HashMap<AccountId, Vec<OrderId>>,
    fills: BTreeMap<u64, FillRecord>,
    /// Every fill's sequence number, ascending (fills are numbered in the order they happen).
    fill_seqs: Vec<u64>,
    /// The refused fills' sequence numbers, ascending.
    refused_seqs: Vec<u64>,
    last_cancel_all: HashMap<AccountId, u64>,
    /// The open orders that expire, by [`expiry_ms`].
    expiries: BTreeSet<(u64, OrderId)>,
    /// Per slot (of the genesis sub-account), the highest order nonce a hard cancel named.
    hard_cancelled: HashMap<(AccountId, SlotId), OrderNonce>,
    last_index: u64,
    events: Vec<Event>,
}

fn engine_account(a: AccountId) -> EngineAccount {
    EngineAccount(a.0)
}

fn grid_error(e: GridError, market: &Market, order: &Order) -> PlaceError {
    let whole = |v: u128| format_units(v, 18);
    match e {
        GridError::OffTick { price, tick } => PlaceError::OffTick { price: whole(price), tick: whole(tick) },
        GridError::OffLot { amount, lot } => PlaceError::OffLot { amount: whole(amount), lot: whole(lot) },
        GridError::ZeroPrice => PlaceError::Range(format!(
            "price {} rounds to zero ticks of {}",
            whole(order.price.0),
            whole(market.spec.tick)
        )),
        other => PlaceError::Range(other.to_string()),
    }
}

impl Venue {
    /// An empty venue (before its genesis entry).
    pub fn new() -> Venue {
        Venue::default()
    }

    /// The index of the last applied entry (0: none).
    pub fn last_index(&self) -> u64 {
        self.last_index
    }

    /// The genesis entry, once applied.
    pub fn genesis(&self) -> Option<Genesis> {
        self.genesis
    }

    /// The engine (book queries, snapshot, digest).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A market and its data.
    pub fn market(&self, id: MarketId) -> Option<&MarketState> {
        self.markets.get(&id)
    }

    /// Every market, by id.
    pub fn markets(&self) -> impl Iterator<Item = &MarketState> {
        self.markets.values()
    }

    /// An order by id.
    pub fn order(&self, id: OrderId) -> Option<&OrderRecord> {
        self.orders.get(&id)
    }

    /// An order by hash.
    pub fn order_by_hash(&self, hash: &OrderHash) -> Option<&OrderRecord> {
        self.by_hash.get(hash).and_then(|id| self.orders.get(id))
    }

    /// The live order in an account's slot.
    pub fn live_in_slot(&self, account: AccountId, slot: SlotId) -> Option<&OrderRecord> {
        self.slots.get(&(account, slot)).and_then(|id| self.orders.get(id))
    }

    /// An account's open orders, oldest first.
    pub fn open_orders(&self, account: AccountId) -> impl Iterator<Item = &OrderRecord> {
        self.open_by_account.get(&account).into_iter().flatten().filter_map(|id| self.orders.get(id))
    }

    /// An account's orders, newest first, at most `limit`.
    pub fn account_orders(&self, account: AccountId, limit: usize) -> Vec<&OrderRecord> {
        self.all_by_account
            .get(&account)
            .map(|ids| ids.iter().rev().take(limit).filter_map(|id| self.orders.get(id)).collect())
            .unwrap_or_default()
    }

    /// A fill.
    pub fn fill(&self, seq: u64) -> Option<&FillRecord> {
        self.fills.get(&seq)
    }

    /// Every fill in settlement order.
    pub fn fills(&self) -> impl Iterator<Item = &FillRecord> {
        self.fills.values()
    }

    /// Fills after `seq`, in order.
    pub fn fills_after(&self, seq: u64) -> impl Iterator<Item = &FillRecord> {
        self.fills.range(seq + 1..).map(|(_, f)| f)
    }

    /// Number of fills not refused.
    pub fn settleable_fills(&self) -> usize {
        self.fills.len() - self.refused_seqs.len()
    }

    /// The submitter nonce fill `seq` settles with, given the refusals journaled so far: the
    /// genesis nonce plus the number of earlier fills not refused. `None` for a refused or unknown
    /// fill or before the genesis.
    pub fn settlement_nonce(&self, seq: u64) -> Option<Nonce> {
        let g = self.genesis?;
        let fill = self.fills.get(&seq)?;
        if fill.refused.is_some() {
            return None;
        }
        // Earlier fills less earlier refusals: two binary searches, not a walk of the history.
        let before = self.fill_seqs.partition_point(|&s| s < seq) - self.refused_seqs.partition_point(|&s| s < seq);
        Some(Nonce(g.first_nonce.0 + u32::try_from(before).ok()?))
    }

    /// When the next open order expires ([`expiry_ms`], Unix ms), if one does.
    pub fn next_expiry_ms(&self) -> Option<u64> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// The highest order nonce of an account's slot that a hard cancel named (the slot's orders up
    /// to it can never be filled).
    pub fn hard_cancelled_upto(&self, account: AccountId, slot: SlotId) -> Option<OrderNonce> {
        self.hard_cancelled.get(&(account, slot)).copied()
    }

    /// The last cancel-all time of an account (ms).
    pub fn last_cancel_all(&self, account: AccountId) -> Option<u64> {
        self.last_cancel_all.get(&account).copied()
    }

    /// Stateless checks of a placement against the market: the ones a journal replay also makes.
    /// Returns the engine order it would become (id 0).
    pub fn check_place(&self, market: MarketId, order_type: OrderType, order: &Order) -> Result<NewOrder, PlaceError> {
        let m = &self.markets.get(&market).ok_or(PlaceError::UnknownMarket(market.0))?.market;
        if let Some(g) = self.genesis {
            if order.sub_account_id != g.sub_account {
                return Err(PlaceError::WrongSubAccount { expected: g.sub_account, got: order.sub_account_id });
            }
        }
        if order.base_token != m.base || order.quote_token != m.quote {
            return Err(PlaceError::WrongTokens {
                market: market.0,
                base: m.base,
                quote: m.quote,
                got_base: order.base_token,
                got_quote: order.quote_token,
            });
        }
        if order.maker_fee_ratio < m.maker_fee_ratio || order.taker_fee_ratio < m.taker_fee_ratio {
            return Err(PlaceError::FeeRatio {
                market: market.0,
                maker: m.maker_fee_ratio,
                taker: m.taker_fee_ratio,
                got_maker: order.maker_fee_ratio,
                got_taker: order.taker_fee_ratio,
            });
        }
        let side = if order.is_sell { Side::Sell } else { Side::Buy };
        let price = match order_type {
            OrderType::Market => m.spec.protective_price_to_ticks(order.price.0, side),
            _ => m.spec.price_to_ticks(order.price.0),
        }
        .map_err(|e| grid_error(e, m, order))?;
        let size = m.spec.amount_to_lots(order.amount).map_err(|e| grid_error(e, m, order))?;
        if size < m.spec.min_size {
            return Err(PlaceError::BelowMinimum {
                amount: format_units(order.amount, 18),
                min: format_units(m.spec.lot * u128::from(m.spec.min_size.0), 18),
            });
        }
        Ok(NewOrder {
            market,
            id: OrderId(0),
            account: engine_account(order.account_id),
            side,
            price,
            size,
            order_type,
        })
    }

    /// Every check a placement at `now_ms` (its entry's time) meets before the engine would change
    /// anything: the market's rules ([`Venue::check_place`]), the order's validity window (valid
    /// at `now_ms` and not past its [`expiry_ms`]), its slot not hard-cancelled up to its nonce,
    /// the same order placed before, and the engine's own refusals (a post-only order that would
    /// cross, a fill-or-kill order that cannot fill completely). The sequencer journals only
    /// placements that pass, so refused requests never grow the journal; applying a placement
    /// makes the same checks first.
    pub fn precheck_place(
        &self,
        market: MarketId,
        order_type: OrderType,
        order: &Order,
        now_ms: u64,
    ) -> Result<(NewOrder, OrderHash), PlaceError> {
        let mut new = self.check_place(market, order_type, order)?;
        if u64::from(order.valid_from) * 1000 > now_ms {
            return Err(PlaceError::NotYetValid { valid_from: order.valid_from, now_ms });
        }
        let expiry = expiry_ms(order);
        if expiry <= now_ms {
            return Err(PlaceError::Expired { valid_until: order.valid_until, expiry_ms: expiry, now_ms });
        }
        if let Some(upto) = self.hard_cancelled_upto(order.account_id, order.slot_id) {
            if order.nonce <= upto {
                return Err(PlaceError::SlotHardCancelled {
                    slot: order.slot_id,
                    cancelled_upto: upto,
                    got: order.nonce,
                });
            }
        }
        let hash = OrderHash::of(order).map_err(PlaceError::Invalid)?;
        if let Some(old) = self.order_by_hash(&hash) {
            return Err(PlaceError::Duplicate { hash, status: old.status.name() });
        }
        new.id = OrderId(self.last_index + 1);
        let book = self.engine.book(market).ok_or(PlaceError::UnknownMarket(market.0))?;
        if let Some(reason) = book.would_refuse(&new) {
            return Err(self.reject_error(market, reason));
        }
        if order_type == OrderType::Fok && !book.fills_completely(&new) {
            return Err(PlaceError::FillOrKill);
        }
        Ok((new, hash))
    }

    /// The checks of a cancel that the venue's records decide (the order exists, is the caller's
    /// and is open), before anything is journaled.
    pub fn precheck_cancel(&self, req: &CancelRequest) -> Result<(), CancelError> {
        let rec = self.order_by_hash(&req.order).ok_or(CancelError::UnknownOrder(req.order))?;
        if rec.order.account_id != req.account_id {
            return Err(CancelError::NotOwner {
                order: req.order,
                owner: rec.order.account_id,
                caller: req.account_id,
            });
        }
        if rec.status != OrderStatus::Open {
            return Err(CancelError::NotOpen { order: req.order, status: rec.status.name() });
        }
        Ok(())
    }

    /// Applies the next journal entry.
    pub fn apply(&mut self, entry: &Entry) -> Result<Applied, JournalError> {
        if entry.index != self.last_index + 1 {
            return Err(JournalError::Gap { expected: self.last_index + 1, got: entry.index });
        }
        let is_genesis = matches!(entry.input, Input::Genesis { .. });
        if is_genesis != self.genesis.is_none() {
            return Err(JournalError::Genesis(entry.index));
        }
        let mut out = Applied::default();
        self.expire_due(entry, &mut out);
        match &entry.input {
            Input::Genesis { submitter, sub_account, first_nonce } => {
                self.genesis =
                    Some(Genesis { submitter: *submitter, sub_account: *sub_account, first_nonce: *first_nonce });
            }
            Input::ListMarket(m) => {
                let bad = |reason: String| JournalError::Market { index: entry.index, market: m.id.0, reason };
                self.engine.add_market(m.id, m.spec).map_err(|e| bad(e.to_string()))?;
                self.markets.insert(
                    m.id,
                    MarketState { market: m.clone(), trades: VecDeque::new(), candles: VecDeque::new(), book_seq: 0 },
                );
            }
            Input::Place { market, order_type, order } => self.place(entry, *market, *order_type, order, &mut out),
            Input::Cancel(req) => self.cancel(entry, req, &mut out),
            Input::CancelAll(req) => self.cancel_all(entry, req, &mut out),
            Input::Expire => {}
            Input::HardCancel(tx) => self.hard_cancel(entry, tx, &mut out),
            Input::SettlementRefused { fill, offender, reason } => {
                self.refuse(entry, *fill, *offender, reason, &mut out)?;
            }
        }
        // One book change per input and market: its delta carries the new number and the totals
        // of the levels it changed, as they are now.
        let touched: BTreeSet<MarketId> = out.levels.iter().map(|l| l.0).collect();
        for m in touched {
            let (Some(ms), Some(book)) = (self.markets.get_mut(&m), self.engine.book(m)) else { continue };
            ms.book_seq += 1;
            let changes = out
                .levels
                .iter()
                .filter(|l| l.0 == m)
                .map(|&(_, side, price)| {
                    let level = book.level(side, price);
                    (side, price, level.map_or(0, |l| l.size), level.map_or(0, |l| l.orders))
                })
                .collect();
            out.deltas.push((m, ms.book_seq, changes));
        }
        self.last_index = entry.index;
        Ok(out)
    }

    fn place(&mut self, entry: &Entry, market: MarketId, order_type: OrderType, order: &Order, out: &mut Applied) {
        // Refused before anything changes (also the order its slot holds).
        let (mut new, hash) = match self.precheck_place(market, order_type, order, entry.time_ms) {
            Ok(checked) => checked,
            Err(e) => return out.place_error = Some(e),
        };
        // A slot holds one live order: the new one replaces it.
        if let Some(old) = self.live_in_slot(order.account_id, order.slot_id).map(|o| (o.id, o.market)) {
            let reason = format!("replaced by order {hash} in its slot");
            self.run(
                entry,
                Command::Cancel { market: old.1, order: old.0, account: engine_account(order.account_id) },
                Some(&reason),
                out,
            );
        }
        let id = OrderId(entry.index);
        new.id = id;
        let record = OrderRecord {
            id,
            hash,
            market,
            order: order.clone(),
            order_type,
            side: new.side,
            price: new.price,
            size: new.size,
            remaining: Size(0),
            filled: Size(0),
            status: OrderStatus::Open,
            reason: None,
            priority: 0,
            placed_ms: entry.time_ms,
            fills: Vec::new(),
        };
        self.orders.insert(id, record);
        self.by_hash.insert(hash, id);
        self.all_by_account.entry(order.account_id).or_default().push(id);
        out.orders.push(id);
        out.changed.insert(id);
        self.run(entry, Command::Place(new), None, out);
        let Some(rec) = self.orders.get_mut(&id) else { return };
        if rec.priority != 0 {
            // Accepted: an order that traded in full and never rested is filled.
            if rec.status == OrderStatus::Open && rec.remaining.0 == 0 {
                rec.status = OrderStatus::Filled;
            }
            return;
        }
        // Refused by the engine after all (the pre-checks make the same checks, so only a journal
        // written by another version gets here): forget it entirely, it changed nothing.
        if let Some(rec) = self.orders.remove(&id) {
            self.by_hash.remove(&rec.hash);
        }
        if let Some(v) = self.all_by_account.get_mut(&order.account_id) {
            v.retain(|o| *o != id);
        }
        out.orders.retain(|o| *o != id);
        out.changed.remove(&id);
        if out.place_error.is_none() {
            out.place_error = Some(PlaceError::Unavailable("the engine refused the order".into()));
        }
    }

    fn cancel(&mut self, entry: &Entry, req: &CancelRequest, out: &mut Applied) {
        if let Err(e) = self.precheck_cancel(req) {
            return out.cancel_error = Some(e);
        }
        let Some(rec) = self.order_by_hash(&req.order) else { return };
        let (market, id) = (rec.market, rec.id);
        out.orders.push(id);
        self.run(entry, Command::Cancel { market, order: id, account: engine_account(req.account_id) }, None, out);
    }

    fn cancel_all(&mut self, entry: &Entry, req: &CancelAllRequest, out: &mut Applied) {
        let market = req.market_id();
        if let Some(m) = market.filter(|m| !self.markets.contains_key(m)) {
            return out.cancel_error = Some(CancelError::UnknownMarket(m));
        }
        self.last_cancel_all.insert(req.account_id, req.time_ms);
        let before: BTreeSet<OrderId> = out.changed.clone();
        self.run(entry, Command::CancelAll { account: engine_account(req.account_id), market }, None, out);
        out.orders.extend(out.changed.difference(&before).copied());
    }

    /// Cancels the resting orders whose expiry is not later than the entry's time, soonest first.
    fn expire_due(&mut self, entry: &Entry, out: &mut Applied) {
        while let Some((at, id)) = self.expiries.first().copied() {
            if at > entry.time_ms {
                return;
            }
            // Cancelling it unlists it (and so takes it out of `expiries`); an order the book no
            // longer holds is taken out here, so the loop always ends.
            self.expiries.remove(&(at, id));
            let Some(o) = self.orders.get(&id).filter(|o| o.status == OrderStatus::Open) else { continue };
            let (market, account) = (o.market, engine_account(o.order.account_id));
            let reason = expired_reason(&o.order);
            out.expired.push(id);
            self.run(entry, Command::Cancel { market, order: id, account }, Some(&reason), out);
        }
    }

    /// A hard cancel the node accepted: the slot's open orders up to its nonce are cancelled, and
    /// the slot's orders up to it are never placed or restored again.
    fn hard_cancel(&mut self, entry: &Entry, tx: &CancelOrder, out: &mut Applied) {
        // Orders live in the genesis sub-account only: a cancel of another one touches nothing.
        if self.genesis.is_none_or(|g| g.sub_account != tx.sub_account_id) {
            return;
        }
        let key = (tx.account_id, tx.slot_id);
        let upto = self.hard_cancelled.get(&key).map_or(tx.order_nonce, |n| (*n).max(tx.order_nonce));
        self.hard_cancelled.insert(key, upto);
        let doomed: Vec<(OrderId, MarketId)> = self
            .open_orders(tx.account_id)
            .filter(|o| o.order.slot_id == tx.slot_id && o.order.nonce <= tx.order_nonce)
            .map(|o| (o.id, o.market))
            .collect();
        let reason = hard_cancel_reason(tx);
        for (id, market) in doomed {
            out.orders.push(id);
            let cmd = Command::Cancel { market, order: id, account: engine_account(tx.account_id) };
            self.run(entry, cmd, Some(&reason), out);
        }
    }

    /// Why an order that is not open can no longer be restored at `time_ms` (expired, or its slot
    /// hard-cancelled up to its nonce).
    fn gone_reason(&self, o: &OrderRecord, time_ms: u64) -> Option<String> {
        if expiry_ms(&o.order) <= time_ms {
            return Some(expired_reason(&o.order));
        }
        let upto = self.hard_cancelled_upto(o.order.account_id, o.order.slot_id)?;
        (o.order.nonce <= upto).then(|| hard_cancelled_text(o.order.slot_id, upto))
    }

    fn refuse(
        &mut self,
        entry: &Entry,
        seq: u64,
        offender: Offender,
        reason: &str,
        out: &mut Applied,
    ) -> Result<(), JournalError> {
        let bad = |why| JournalError::Refusal { index: entry.index, fill: seq, reason: why };
        let fill = self.fills.get_mut(&seq).ok_or_else(|| bad("does not exist"))?;
        if fill.refused.is_some() {
            return Err(bad("was refused before"));
        }
        fill.refused = Some(reason.to_string());
        let at = self.refused_seqs.partition_point(|&s| s < seq);
        self.refused_seqs.insert(at, seq);
        out.voided = Some(seq);
        let (maker, taker, size, market) = (fill.maker, fill.taker, fill.size, fill.market);
        for id in [maker, taker] {
            if let Some(o) = self.orders.get_mut(&id) {
                o.filled = Size(o.filled.0.saturating_sub(size.0));
                out.changed.insert(id);
            }
        }
        let (bad_id, other) = match offender {
            Offender::Maker => (maker, taker),
            Offender::Taker => (taker, maker),
        };
        let why = format!("the node refused to settle fill {seq}: {reason}");
        if let Some(o) = self.orders.get_mut(&bad_id) {
            if o.status == OrderStatus::Open {
                let (m, acc) = (o.market, o.order.account_id);
                self.run(
                    entry,
                    Command::Cancel { market: m, order: bad_id, account: engine_account(acc) },
                    Some(&why),
                    out,
                );
            } else if o.status == OrderStatus::Filled {
                o.status = OrderStatus::Cancelled;
                o.reason = Some(why.clone());
            }
        }
        // The counterparty gets the size back at its priority, if it would rest and is still its
        // slot's order (not cancelled by its owner, not replaced).
        let Some(o) = self.orders.get(&other) else { return Ok(()) };
        let rests = matches!(o.order_type, OrderType::Limit | OrderType::PostOnly);
        let slot_free = self.slots.get(&(o.order.account_id, o.order.slot_id)).is_none_or(|id| *id == other);
        let restorable = o.status == OrderStatus::Open || (o.status == OrderStatus::Filled && slot_free);
        if !(rests && restorable) {
            return Ok(());
        }
        // A filled order that expired since, or whose slot was hard-cancelled, is not brought
        // back: it could never settle. It is cancelled, its fill void. (An open order is never
        // either: every entry expires the due ones first, and a hard cancel cancels its slot's.)
        if o.status == OrderStatus::Filled {
            if let Some(why) = self.gone_reason(o, entry.time_ms) {
                if let Some(o) = self.orders.get_mut(&other) {
                    o.status = OrderStatus::Cancelled;
                    o.reason = Some(why);
                }
                return Ok(());
            }
        }
        let cmd = Command::Restore {
            market,
            order: other,
            account: engine_account(o.order.account_id),
            side: o.side,
            price: o.price,
            size,
            priority: o.priority,
        };
        self.run(entry, cmd, None, out);
        Ok(())
    }

    /// Executes one engine command and applies its events to the records.
    fn run(&mut self, entry: &Entry, cmd: Command, cancel_reason: Option<&str>, out: &mut Applied) {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.engine.execute(&cmd, &mut events);
        for ev in &events {
            self.on_event(entry, ev, cancel_reason, out);
        }
        self.events = events;
    }

    fn on_event(&mut self, entry: &Entry, ev: &Event, cancel_reason: Option<&str>, out: &mut Applied) {
        let market = ev.market;
        match ev.kind {
            EventKind::Accepted { order, .. } => {
                if let Some(o) = self.orders.get_mut(&order) {
                    o.priority = ev.seq;
                }
            }
            EventKind::Rested { order, side, price, size, .. }
            | EventKind::Restored { order, side, price, remaining: size, .. } => {
                if let Some(o) = self.orders.get_mut(&order) {
                    o.remaining = size;
                    o.status = OrderStatus::Open;
                    o.reason = None;
                    let acc = o.order.account_id;
                    self.slots.insert((acc, o.order.slot_id), order);
                    self.open_by_account.entry(acc).or_default().insert(order);
                    if o.order.expires_at().is_some() {
                        self.expiries.insert((expiry_ms(&o.order), order));
                    }
                    out.changed.insert(order);
                }
                Self::level_changed(market, side, price, out);
            }
            EventKind::Fill(f) => self.on_fill(entry, ev.seq, market, &f, out),
            EventKind::Cancelled { order, side, price, reason, .. } => {
                let text = cancel_reason.map_or_else(|| cancel_text(reason).to_string(), str::to_string);
                if let Some(o) = self.orders.get_mut(&order) {
                    o.status = OrderStatus::Cancelled;
                    o.reason = Some(text);
                    o.remaining = Size(0);
                    out.changed.insert(order);
                }
                self.unlist(order);
                if reason.removes_from_book() {
                    Self::level_changed(market, side, price, out);
                }
            }
            EventKind::Reduced { order, side, price, remaining, .. } => {
                if let Some(o) = self.orders.get_mut(&order) {
                    o.remaining = remaining;
                    out.changed.insert(order);
                }
                Self::level_changed(market, side, price, out);
            }
            EventKind::Rejected { reason, .. } => {
                out.place_error = Some(self.reject_error(market, reason));
            }
        }
    }

    fn reject_error(&self, market: MarketId, reason: RejectReason) -> PlaceError {
        let tick = self.markets.get(&market).map_or(1, |m| m.market.spec.tick);
        let lot = self.markets.get(&market).map_or(1, |m| m.market.spec.lot);
        match reason {
            RejectReason::UnknownMarket => PlaceError::UnknownMarket(market.0),
            RejectReason::PostOnlyWouldCross { best } => {
                PlaceError::PostOnlyWouldCross { best: price_text(tick, best) }
            }
            RejectReason::BelowMinSize { min } => PlaceError::BelowMinimum {
                amount: "the order".into(),
                min: format_units(lot.saturating_mul(u128::from(min.0)), 18),
            },
            other => PlaceError::Range(other.to_string()),
        }
    }

    fn on_fill(&mut self, entry: &Entry, seq: u64, market: MarketId, f: &zklink_matching::Fill, out: &mut Applied) {
        let Some(ms) = self.markets.get_mut(&market) else { return };
        let spec = ms.market.spec;
        let base = spec.lots_to_amount(f.size).unwrap_or(u128::MAX);
        let maker_price = self.orders.get(&f.maker).map_or(zklink_types::Price(0), |o| o.order.price);
        let quote = maker_price.quote_for(base).unwrap_or(u128::MAX);
        let maker_side = f.taker_side.opposite();
        ms.trades.push_back(seq);
        if ms.trades.len() > RECENT_TRADES {
            ms.trades.pop_front();
        }
        let minute = entry.time_ms - entry.time_ms % 60_000;
        if ms.candles.back().is_none_or(|c| c.start_ms < minute) {
            ms.candles.push_back(Candle::new(minute, f.price));
            if ms.candles.len() > CANDLE_MINUTES {
                ms.candles.pop_front();
            }
        }
        if let Some(c) = ms.candles.back_mut() {
            c.merge(&Candle {
                start_ms: minute,
                open: f.price,
                high: f.price,
                low: f.price,
                close: f.price,
                volume: u128::from(f.size.0),
                quote_volume: quote,
                trades: 1,
            });
        }
        self.fill_seqs.push(seq);
        self.fills.insert(
            seq,
            FillRecord {
                seq,
                market,
                maker: f.maker,
                taker: f.taker,
                taker_side: f.taker_side,
                price: f.price,
                size: f.size,
                base,
                quote,
                time_ms: entry.time_ms,
                refused: None,
            },
        );
        out.fills.push(seq);
        for (id, remaining, in_book) in [(f.maker, f.maker_remaining, true), (f.taker, f.taker_remaining, false)] {
            if let Some(o) = self.orders.get_mut(&id) {
                o.filled = Size(o.filled.0 + f.size.0);
                o.fills.push(seq);
                if in_book {
                    o.remaining = remaining;
                }
                if remaining.0 == 0 {
                    o.status = OrderStatus::Filled;
                    o.remaining = Size(0);
                }
                out.changed.insert(id);
            }
            if remaining.0 == 0 {
                self.unlist(id);
            }
        }
        Self::level_changed(market, maker_side, f.price, out);
    }

    /// The order left the book: free its slot and its account's open set.
    fn unlist(&mut self, id: OrderId) {
        let Some(o) = self.orders.get(&id) else { return };
        let key = (o.order.account_id, o.order.slot_id);
        if self.slots.get(&key) == Some(&id) {
            self.slots.remove(&key);
        }
        if let Some(set) = self.open_by_account.get_mut(&o.order.account_id) {
            set.remove(&id);
        }
        self.expiries.remove(&(expiry_ms(&o.order), id));
    }

    fn level_changed(market: MarketId, side: Side, price: Price, out: &mut Applied) {
        out.levels.insert((market, side, price));
    }
}

/// The reason an order expired: `expired at T (its validUntil, Unix seconds; the venue stops
/// matching 2 s before)`.
fn expired_reason(order: &Order) -> String {
    format!(
        "expired at {} (its validUntil, Unix seconds; the venue stops matching an order {} s before)",
        order.valid_until,
        EXPIRY_MARGIN_MS / 1000
    )
}

/// `hard cancel: slot S was cancelled up to order nonce N on L2`.
fn hard_cancelled_text(slot: SlotId, upto: OrderNonce) -> String {
    format!("hard cancel: slot {slot} was cancelled up to order nonce {upto} on L2")
}

/// The reason of an order a hard cancel took: [`hard_cancelled_text`] and ` (CancelOrder tx 0x…)`.
fn hard_cancel_reason(tx: &CancelOrder) -> String {
    let hash = L2Tx::CancelOrder(tx.clone()).hash().map(|h| format!(" (CancelOrder tx {h})"));
    format!("{}{}", hard_cancelled_text(tx.slot_id, tx.order_nonce), hash.unwrap_or_default())
}

fn cancel_text(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::User => "cancelled by its owner",
        CancelReason::ImmediateOrCancel => "the unfilled rest of an immediate-or-cancel order",
        CancelReason::FillOrKill => "fill-or-kill: could not fill completely",
        CancelReason::SelfTradeResting => "self-trade prevention: an order of the same account met it",
        CancelReason::SelfTradeIncoming => "self-trade prevention: it met a resting order of the same account",
    }
}

/// Converts an order's L2 error for the API.
impl From<TxError> for PlaceError {
    fn from(e: TxError) -> Self {
        PlaceError::Invalid(e)
    }
}
