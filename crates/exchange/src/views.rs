//! What the exchange API returns: prices and amounts as decimal strings in whole units (quote per
//! base, base), with the market's symbol, computed from the [`Venue`].

use serde::{Deserialize, Serialize};
use zklink_matching::{MarketId, OrderType, Price, Side, Size, StpPolicy};
use zklink_types::units::format_units;
use zklink_types::{Order, TxHash};

use crate::input::OrderHash;
use crate::market::Market;
use crate::venue::{Candle, FillRecord, OrderRecord, OrderStatus, Venue};

fn whole(v: u128) -> String {
    format_units(v, 18)
}

/// A price in ticks, in whole quote per base.
pub fn price(m: &Market, p: Price) -> String {
    whole(m.spec.tick.saturating_mul(u128::from(p.0)))
}

/// A size in lots, in whole base.
pub fn size(m: &Market, s: Size) -> String {
    whole(m.spec.lot.saturating_mul(u128::from(s.0)))
}

/// A market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketView {
    /// Id.
    pub id: u32,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// Base token id.
    pub base: u16,
    /// Quote token id.
    pub quote: u16,
    /// Price step.
    pub tick: String,
    /// Size step.
    pub lot: String,
    /// Smallest order.
    pub min_size: String,
    /// Maker fee ratio (per 10^4) orders must sign at least.
    pub maker_fee_ratio: u8,
    /// Taker fee ratio.
    pub taker_fee_ratio: u8,
    /// Self-trade prevention.
    pub stp: StpPolicy,
    /// The sub-account orders must be in.
    pub sub_account: u8,
    /// The account that settles (and collects the trading fees).
    pub submitter: u32,
}

impl MarketView {
    /// The view of `m` on `venue`.
    pub fn of(venue: &Venue, m: &Market) -> MarketView {
        let g = venue.genesis();
        MarketView {
            id: m.id.0,
            symbol: m.symbol.clone(),
            base: m.base.0,
            quote: m.quote.0,
            tick: whole(m.spec.tick),
            lot: whole(m.spec.lot),
            min_size: size(m, m.spec.min_size),
            maker_fee_ratio: m.maker_fee_ratio,
            taker_fee_ratio: m.taker_fee_ratio,
            stp: m.spec.stp,
            sub_account: g.map_or(0, |g| g.sub_account.0),
            submitter: g.map_or(0, |g| g.submitter.0),
        }
    }
}

/// Where a fill is in settlement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Settlement {
    /// Matched, not yet applied by the node.
    Pending,
    /// Applied by the node (in its open block or later).
    Settled,
    /// Refused by the node: it never happened.
    Refused,
}

/// A fill as one of its orders sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FillView {
    /// Engine sequence number.
    pub seq: u64,
    /// Market.
    pub market: u32,
    /// Price.
    pub price: String,
    /// Base size.
    pub size: String,
    /// Quote amount.
    pub quote: String,
    /// The taker's side.
    pub taker_side: Side,
    /// The resting order.
    pub maker: OrderHash,
    /// The incoming order.
    pub taker: OrderHash,
    /// When, Unix ms.
    pub time_ms: u64,
    /// Settlement state.
    pub settlement: Settlement,
    /// The `OrderMatching`'s submitter nonce (not for a refused fill).
    pub nonce: Option<u32>,
    /// Why the node refused it.
    pub refused: Option<String>,
}

impl FillView {
    /// The view of fill `f`; fills up to `settled_upto` are settled.
    pub fn of(venue: &Venue, f: &FillRecord, settled_upto: u64) -> Option<FillView> {
        let m = &venue.market(f.market)?.market;
        let hash = |id| venue.order(id).map(|o| o.hash);
        Some(FillView {
            seq: f.seq,
            market: f.market.0,
            price: price(m, f.price),
            size: size(m, f.size),
            quote: whole(f.quote),
            taker_side: f.taker_side,
            maker: hash(f.maker)?,
            taker: hash(f.taker)?,
            time_ms: f.time_ms,
            settlement: if f.refused.is_some() {
                Settlement::Refused
            } else if f.seq <= settled_upto {
                Settlement::Settled
            } else {
                Settlement::Pending
            },
            nonce: venue.settlement_nonce(f.seq).map(|n| n.0),
            refused: f.refused.clone(),
        })
    }
}

/// An order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    /// Its hash (cancels name it).
    pub hash: OrderHash,
    /// The venue's id.
    pub id: u64,
    /// Market.
    pub market: u32,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// Owner.
    pub account: u32,
    /// Slot.
    pub slot: u16,
    /// Order nonce.
    pub nonce: u32,
    /// Side.
    pub side: Side,
    /// Type.
    pub order_type: OrderType,
    /// Limit (or protective) price.
    pub price: String,
    /// Size when placed.
    pub size: String,
    /// Traded (refused fills not counted).
    pub filled: String,
    /// Resting in the book.
    pub remaining: String,
    /// Status.
    pub status: OrderStatus,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// Time priority (engine sequence number of its acceptance).
    pub priority: u64,
    /// Placed at, Unix ms.
    pub placed_ms: u64,
    /// Its fills (in `exchange_order`; empty in lists).
    pub fills: Vec<FillView>,
    /// The signed order.
    pub order: Order,
}

impl OrderView {
    /// The view of `o`, with its fills if `with_fills`.
    pub fn of(venue: &Venue, o: &OrderRecord, settled_upto: u64, with_fills: bool) -> Option<OrderView> {
        let m = &venue.market(o.market)?.market;
        let fills = if with_fills {
            o.fills.iter().filter_map(|s| venue.fill(*s)).filter_map(|f| FillView::of(venue, f, settled_upto)).collect()
        } else {
            Vec::new()
        };
        Some(OrderView {
            hash: o.hash,
            id: o.id.0,
            market: o.market.0,
            symbol: m.symbol.clone(),
            account: o.order.account_id.0,
            slot: o.order.slot_id.0,
            nonce: o.order.nonce.0,
            side: o.side,
            order_type: o.order_type,
            price: price(m, o.price),
            size: size(m, o.size),
            filled: size(m, o.filled),
            remaining: size(m, o.remaining),
            status: o.status,
            reason: o.reason.clone(),
            priority: o.priority,
            placed_ms: o.placed_ms,
            fills,
            order: o.order.clone(),
        })
    }
}

/// What `exchange_cancelHard` did: the node accepted the `CancelOrder` tx, and the venue cancelled
/// the slot's open orders up to its order nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HardCancelView {
    /// The `CancelOrder` tx's hash (`zklink_txStatus` follows it).
    pub tx_hash: TxHash,
    /// The orders it cancelled on the venue (possibly none), with their fills.
    pub cancelled: Vec<OrderView>,
}

/// One price level: `[price, size, orders]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelView(pub String, pub String, pub u32);

/// A book snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookView {
    /// Market.
    pub market: u32,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// The book's change number: apply deltas with a higher one, in order.
    pub seq: u64,
    /// Bids, best first.
    pub bids: Vec<LevelView>,
    /// Asks, best first.
    pub asks: Vec<LevelView>,
}

impl BookView {
    /// The top `depth` levels of market `id`.
    pub fn of(venue: &Venue, id: MarketId, depth: usize) -> Option<BookView> {
        let ms = venue.market(id)?;
        let book = venue.engine().book(id)?;
        let m = &ms.market;
        let levels = |side| {
            book.depth(side, depth)
                .into_iter()
                .map(|l| LevelView(price(m, l.price), whole(m.spec.lot.saturating_mul(l.size)), l.orders))
                .collect()
        };
        Some(BookView {
            market: id.0,
            symbol: m.symbol.clone(),
            seq: ms.book_seq,
            bids: levels(Side::Buy),
            asks: levels(Side::Sell),
        })
    }
}

/// A change of one price level: its new total (`"0"`: the level is gone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelChange {
    /// Side.
    pub side: Side,
    /// Price.
    pub price: String,
    /// Total size now.
    pub size: String,
    /// Orders now.
    pub orders: u32,
}

/// The book changes one input made in one market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookDelta {
    /// Market.
    pub market: u32,
    /// The book's change number after this delta (the previous one is `seq − 1`: a client that
    /// saw another has missed a delta and must resync from `exchange_book`).
    pub seq: u64,
    /// The levels that changed.
    pub changes: Vec<LevelChange>,
}

/// A trade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeView {
    /// Engine sequence number.
    pub seq: u64,
    /// Market.
    pub market: u32,
    /// Price.
    pub price: String,
    /// Base size.
    pub size: String,
    /// The taker's side.
    pub taker_side: Side,
    /// When, Unix ms.
    pub time_ms: u64,
    /// Whether the node refused it (it did not happen).
    pub refused: bool,
}

impl TradeView {
    /// The view of fill `f`.
    pub fn of(venue: &Venue, f: &FillRecord) -> Option<TradeView> {
        let m = &venue.market(f.market)?.market;
        Some(TradeView {
            seq: f.seq,
            market: f.market.0,
            price: price(m, f.price),
            size: size(m, f.size),
            taker_side: f.taker_side,
            time_ms: f.time_ms,
            refused: f.refused.is_some(),
        })
    }
}

/// A candle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CandleView {
    /// Start, Unix ms.
    pub start_ms: u64,
    /// Open.
    pub open: String,
    /// High.
    pub high: String,
    /// Low.
    pub low: String,
    /// Close.
    pub close: String,
    /// Base volume.
    pub volume: String,
    /// Quote volume.
    pub quote_volume: String,
    /// Trades.
    pub trades: u64,
}

/// Candles of `interval_ms` (a multiple of a minute), the newest `limit`, oldest first.
pub fn candles(venue: &Venue, id: MarketId, interval_ms: u64, limit: usize) -> Option<Vec<CandleView>> {
    let ms = venue.market(id)?;
    let m = &ms.market;
    let mut out: Vec<Candle> = Vec::new();
    for c in &ms.candles {
        let start = c.start_ms - c.start_ms % interval_ms;
        match out.last_mut() {
            Some(last) if last.start_ms == start => last.merge(c),
            _ => out.push(Candle { start_ms: start, ..*c }),
        }
    }
    let skip = out.len().saturating_sub(limit);
    Some(
        out.into_iter()
            .skip(skip)
            .map(|c| CandleView {
                start_ms: c.start_ms,
                open: price(m, c.open),
                high: price(m, c.high),
                low: price(m, c.low),
                close: price(m, c.close),
                volume: whole(m.spec.lot.saturating_mul(c.volume)),
                quote_volume: whole(c.quote_volume),
                trades: c.trades,
            })
            .collect(),
    )
}

/// The last 24 hours of a market.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TickerView {
    /// Market.
    pub market: u32,
    /// `BASE/QUOTE`.
    pub symbol: String,
    /// Last trade's price.
    pub last: Option<String>,
    /// Best bid.
    pub best_bid: Option<String>,
    /// Best ask.
    pub best_ask: Option<String>,
    /// First price of the window.
    pub open: Option<String>,
    /// Highest.
    pub high: Option<String>,
    /// Lowest.
    pub low: Option<String>,
    /// Base volume.
    pub volume: String,
    /// Quote volume.
    pub quote_volume: String,
    /// Trades.
    pub trades: u64,
}

/// The ticker of market `id` as of `now_ms`.
pub fn ticker(venue: &Venue, id: MarketId, now_ms: u64) -> Option<TickerView> {
    let ms = venue.market(id)?;
    let m = &ms.market;
    let book = venue.engine().book(id)?;
    let from = now_ms.saturating_sub(24 * 3600 * 1000);
    let mut day: Option<Candle> = None;
    for c in ms.candles.iter().filter(|c| c.start_ms >= from) {
        match day.as_mut() {
            Some(d) => d.merge(c),
            None => day = Some(*c),
        }
    }
    let last = ms.trades.back().and_then(|s| venue.fill(*s)).map(|f| price(m, f.price));
    Some(TickerView {
        market: id.0,
        symbol: m.symbol.clone(),
        last,
        best_bid: book.best_bid().map(|p| price(m, p)),
        best_ask: book.best_ask().map(|p| price(m, p)),
        open: day.map(|d| price(m, d.open)),
        high: day.map(|d| price(m, d.high)),
        low: day.map(|d| price(m, d.low)),
        volume: whole(day.map_or(0, |d| m.spec.lot.saturating_mul(d.volume))),
        quote_volume: whole(day.map_or(0, |d| d.quote_volume)),
        trades: day.map_or(0, |d| d.trades),
    })
}
