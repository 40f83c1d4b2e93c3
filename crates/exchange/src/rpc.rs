//! The exchange's JSON-RPC 2.0 API over HTTP and WebSocket on one port (docs/api.md, "Exchange";
//! the machine-readable description is docs/exchange-openrpc.json, served by `rpc.discover`).
//!
//! | method | params | result |
//! |---|---|---|
//! | `exchange_markets` | — | every market: symbol, tokens, tick, lot, minimum, fee ratios, sub-account, submitter |
//! | `exchange_placeOrder` | `[{market, type, order}]` | the order (status, fills) right after matching |
//! | `exchange_placeOrders` | `[[{market, type, order}, …]]` | per order: `{ok: order}` or `{error: {code, message}}` |
//! | `exchange_cancelOrder` | `[cancelRequest]` | the cancelled order |
//! | `exchange_cancelAll` | `[cancelAllRequest]` | the cancelled orders |
//! | `exchange_cancelHard` | `[cancelOrderTx]` | the owner's signed `CancelOrder` L2 tx sent to the node, then the slot's open orders up to its nonce cancelled: `{txHash, cancelled}` |
//! | `exchange_openOrders` | `[account, market?]` | the account's open orders, oldest first |
//! | `exchange_orders` | `[account, limit?]` | the account's orders, newest first |
//! | `exchange_order` | `[hash]` | the order with its fills and their settlement, or `null` |
//! | `exchange_book` | `[market, depth?]` | bids and asks (price, size, orders) with the book's change number |
//! | `exchange_trades` | `[market, limit?]` | recent trades, newest first |
//! | `exchange_ticker` | `[market]` | the last 24 hours: last, best bid/ask, open, high, low, volumes |
//! | `exchange_candles` | `[market, interval, limit?]` | OHLCV (`1m`, `5m`, `15m`, `1h`, `4h`, `1d`), oldest first |
//! | `exchange_journal` | `[from, limit?]` | journal entries from index `from` (the auditable input) |
//! | `exchange_status` | — | journal length, engine digest, fills, settled up to, submitter |
//! | `exchange_subscribeBook` | `[market]` | book deltas `{market, seq, changes}` (WebSocket) |
//! | `exchange_subscribeTrades` | `[market]` | trades (WebSocket) |
//! | `exchange_subscribeOrders` | `[account]` | the account's order updates with the fills each made (WebSocket) |
//! | `rpc.discover` | — | the OpenRPC document ([`OPENRPC`]) |
//!
//! `GET /health` (JSON; 503 after a journal failure) and `GET /metrics` (Prometheus text) on the
//! same port.

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use zklink_matching::{MarketId, OrderType};
use zklink_probes::{Probe, Probes, PROMETHEUS_TEXT};
use zklink_types::{AccountId, L2Tx, Order};

use crate::error::{codes, HardCancelError};
use crate::input::{CancelAllRequest, CancelRequest, OrderHash};
use crate::service::{now_ms, Exchange, Published};
use crate::views::{candles, ticker, BookView, MarketView, OrderView, TradeView};

/// The OpenRPC description of every method (docs/exchange-openrpc.json), served by `rpc.discover`.
pub const OPENRPC: &str = include_str!("../../../docs/exchange-openrpc.json");

/// The most orders in one `exchange_placeOrders`.
pub const MAX_BATCH: usize = 1000;
/// The most price levels a side in one `exchange_book` answer.
pub const MAX_DEPTH: usize = 1000;
/// The most journal entries in one `exchange_journal` answer.
pub const MAX_JOURNAL: usize = 10_000;

/// One placement.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceRequest {
    /// The market.
    pub market: u32,
    /// `Limit` (default), `Ioc`, `Fok`, `PostOnly`, `Market`.
    #[serde(rename = "type", default = "limit")]
    pub order_type: OrderType,
    /// The signed order.
    pub order: Order,
}

fn limit() -> OrderType {
    OrderType::Limit
}

/// One result of a batch placement.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PlaceResult {
    /// Placed.
    Ok(Box<OrderView>),
    /// Refused.
    Error {
        /// The code `exchange_placeOrder` would give.
        code: i32,
        /// Why.
        message: String,
    },
}

/// `exchange_status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    /// Journal entries.
    pub journal: u64,
    /// SHA-256 of the engine's canonical snapshot.
    pub digest: String,
    /// Fills so far.
    pub fills: usize,
    /// Fills refused by the node.
    pub refused: usize,
    /// Every fill up to this one is applied by the node or was refused.
    pub settled_upto: u64,
    /// Fills matched and not yet applied by the node.
    pub pending: usize,
    /// The submitter account.
    pub submitter: u32,
    /// Whether the venue stopped after a journal failure.
    pub failed: bool,
    /// Where the time went since the start.
    pub stats: crate::stats::StatsView,
}

fn error(code: i32, msg: impl ToString) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.to_string(), None::<()>)
}

fn invalid(expected: &str, e: ErrorObjectOwned) -> ErrorObjectOwned {
    error(codes::INVALID_PARAMS, format!("expected {expected}: {}", e.data().map_or(e.message(), |d| d.get())))
}

/// A hard cancel's refusal; the node's own carries its code and message as data
/// (`{nodeCode, nodeMessage}`).
fn hard_cancel_error(e: &HardCancelError) -> ErrorObjectOwned {
    match e {
        HardCancelError::NodeRefused { code, message } => ErrorObjectOwned::owned(
            e.code(),
            e.to_string(),
            Some(serde_json::json!({ "nodeCode": code, "nodeMessage": message })),
        ),
        other => error(other.code(), other),
    }
}

fn unknown_market(m: u32) -> ErrorObjectOwned {
    error(codes::UNKNOWN_MARKET, format!("market {m} does not exist (exchange_markets lists them)"))
}

fn ok<T>(r: Result<T, jsonrpsee::core::RegisterMethodError>) {
    r.map(drop).expect("method names are unique literals");
}

fn interval_ms(s: &str) -> Option<u64> {
    Some(match s {
        "1m" => 60_000,
        "5m" => 300_000,
        "15m" => 900_000,
        "1h" => 3_600_000,
        "4h" => 14_400_000,
        "1d" => 86_400_000,
        _ => return None,
    })
}

/// The exchange's methods.
pub fn module(ex: Exchange) -> RpcModule<Exchange> {
    let mut m = RpcModule::new(ex);
    ok(m.register_method("exchange_markets", |_, ex, _| {
        let v = ex.venue();
        Ok::<_, ErrorObjectOwned>(v.markets().map(|ms| MarketView::of(&v, &ms.market)).collect::<Vec<_>>())
    }));
    ok(m.register_async_method("exchange_placeOrder", |params: Params<'static>, ex, _| async move {
        let (p,): (PlaceRequest,) = params.parse().map_err(|e| invalid("[{market, type, order}]", e))?;
        ex.place(MarketId(p.market), p.order_type, p.order).await.map_err(|e| error(e.code(), e))
    }));
    ok(m.register_async_method("exchange_placeOrders", |params: Params<'static>, ex, _| async move {
        let (ps,): (Vec<PlaceRequest>,) = params.parse().map_err(|e| invalid("[[{market, type, order}, …]]", e))?;
        if ps.len() > MAX_BATCH {
            return Err(error(codes::INVALID_PARAMS, format!("at most {MAX_BATCH} orders per call, got {}", ps.len())));
        }
        // All placements go to the sequencer together: they share one journal write.
        let futures = ps.into_iter().map(|p| {
            let ex = ex.clone();
            async move { ex.place(MarketId(p.market), p.order_type, p.order).await }
        });
        let results = futures_join(futures).await;
        Ok::<_, ErrorObjectOwned>(
            results
                .into_iter()
                .map(|r| match r {
                    Some(Ok(v)) => PlaceResult::Ok(Box::new(v)),
                    Some(Err(e)) => PlaceResult::Error { code: e.code(), message: e.to_string() },
                    None => {
                        PlaceResult::Error { code: codes::UNAVAILABLE, message: "the placement task failed".into() }
                    }
                })
                .collect::<Vec<_>>(),
        )
    }));
    ok(m.register_async_method("exchange_cancelOrder", |params: Params<'static>, ex, _| async move {
        let (r,): (CancelRequest,) = params.parse().map_err(|e| invalid("[{accountId, order, signature}]", e))?;
        let mut v = ex.cancel(r).await.map_err(|e| error(e.code(), e))?;
        v.pop().ok_or_else(|| error(codes::ORDER, "nothing was cancelled"))
    }));
    ok(m.register_async_method("exchange_cancelAll", |params: Params<'static>, ex, _| async move {
        let (r,): (CancelAllRequest,) =
            params.parse().map_err(|e| invalid("[{accountId, market, timeMs, signature}]", e))?;
        ex.cancel_all(r).await.map_err(|e| error(e.code(), e))
    }));
    ok(m.register_async_method("exchange_cancelHard", |params: Params<'static>, ex, _| async move {
        let expected =
            "[{type: \"CancelOrder\", accountId, subAccountId, slotId, orderNonce, feeToken, fee, nonce, signature}]";
        let (tx,): (L2Tx,) = params.parse().map_err(|e| invalid(expected, e))?;
        let L2Tx::CancelOrder(tx) = tx else {
            let kind = tx.kind();
            return Err(error(codes::INVALID_PARAMS, format!("expected {expected}: a {kind} is not a hard cancel")));
        };
        ex.cancel_hard(tx).await.map_err(|e| hard_cancel_error(&e))
    }));
    ok(m.register_method("exchange_openOrders", |params: Params, ex, _| {
        let mut seq = params.sequence();
        let account: u32 = seq.next().map_err(|e| invalid("[account, market?]", e))?;
        let market: Option<u32> = seq.optional_next().map_err(|e| invalid("[account, market?]", e))?;
        let v = ex.venue();
        if let Some(m) = market.filter(|m| v.market(MarketId(*m)).is_none()) {
            return Err(unknown_market(m));
        }
        let settled = ex.settled_upto();
        Ok::<_, ErrorObjectOwned>(
            v.open_orders(AccountId(account))
                .filter(|o| market.is_none_or(|m| o.market.0 == m))
                .filter_map(|o| OrderView::of(&v, o, settled, false))
                .collect::<Vec<_>>(),
        )
    }));
    ok(m.register_method("exchange_orders", |params: Params, ex, _| {
        let mut seq = params.sequence();
        let account: u32 = seq.next().map_err(|e| invalid("[account, limit?]", e))?;
        let limit: Option<usize> = seq.optional_next().map_err(|e| invalid("[account, limit?]", e))?;
        let v = ex.venue();
        let settled = ex.settled_upto();
        Ok::<_, ErrorObjectOwned>(
            v.account_orders(AccountId(account), limit.unwrap_or(100).min(1000))
                .into_iter()
                .filter_map(|o| OrderView::of(&v, o, settled, false))
                .collect::<Vec<_>>(),
        )
    }));
    ok(m.register_method("exchange_order", |params: Params, ex, _| {
        let (hash,): (OrderHash,) = params.parse().map_err(|e| invalid("[order hash]", e))?;
        let v = ex.venue();
        Ok::<_, ErrorObjectOwned>(v.order_by_hash(&hash).and_then(|o| OrderView::of(&v, o, ex.settled_upto(), true)))
    }));
    ok(m.register_method("exchange_book", |params: Params, ex, _| {
        let mut seq = params.sequence();
        let market: u32 = seq.next().map_err(|e| invalid("[market, depth?]", e))?;
        let depth: Option<usize> = seq.optional_next().map_err(|e| invalid("[market, depth?]", e))?;
        BookView::of(&ex.venue(), MarketId(market), depth.unwrap_or(50).min(MAX_DEPTH))
            .ok_or_else(|| unknown_market(market))
    }));
    ok(m.register_method("exchange_trades", |params: Params, ex, _| {
        let mut seq = params.sequence();
        let market: u32 = seq.next().map_err(|e| invalid("[market, limit?]", e))?;
        let limit: Option<usize> = seq.optional_next().map_err(|e| invalid("[market, limit?]", e))?;
        let v = ex.venue();
        let ms = v.market(MarketId(market)).ok_or_else(|| unknown_market(market))?;
        Ok::<_, ErrorObjectOwned>(
            ms.trades
                .iter()
                .rev()
                .take(limit.unwrap_or(100))
                .filter_map(|s| v.fill(*s))
                .filter_map(|f| TradeView::of(&v, f))
                .collect::<Vec<_>>(),
        )
    }));
    ok(m.register_method("exchange_ticker", |params: Params, ex, _| {
        let (market,): (u32,) = params.parse().map_err(|e| invalid("[market]", e))?;
        ticker(&ex.venue(), MarketId(market), now_ms()).ok_or_else(|| unknown_market(market))
    }));
    ok(m.register_method("exchange_candles", |params: Params, ex, _| {
        let expected = "[market, \"1m\" | \"5m\" | \"15m\" | \"1h\" | \"4h\" | \"1d\", limit?]";
        let mut seq = params.sequence();
        let market: u32 = seq.next().map_err(|e| invalid(expected, e))?;
        let interval: String = seq.next().map_err(|e| invalid(expected, e))?;
        let limit: Option<usize> = seq.optional_next().map_err(|e| invalid(expected, e))?;
        let ms = interval_ms(&interval).ok_or_else(|| {
            error(codes::INVALID_PARAMS, format!("expected {expected}: unknown interval {interval:?}"))
        })?;
        candles(&ex.venue(), MarketId(market), ms, limit.unwrap_or(500)).ok_or_else(|| unknown_market(market))
    }));
    ok(m.register_method("exchange_journal", |params: Params, ex, _| {
        let mut seq = params.sequence();
        let from: u64 = seq.next().map_err(|e| invalid("[from, limit?]", e))?;
        let limit: Option<usize> = seq.optional_next().map_err(|e| invalid("[from, limit?]", e))?;
        ex.journal_entries(from, limit.unwrap_or(1000).min(MAX_JOURNAL)).map_err(|e| error(codes::UNAVAILABLE, e))
    }));
    ok(m.register_method("exchange_status", |_, ex, _| {
        let v = ex.venue();
        Ok::<_, ErrorObjectOwned>(StatusView {
            journal: v.last_index(),
            digest: format!("0x{}", hex::encode(v.engine().digest())),
            fills: v.fills().count(),
            refused: v.fills().count() - v.settleable_fills(),
            settled_upto: ex.settled_upto(),
            pending: v.fills_after(ex.settled_upto()).filter(|f| f.refused.is_none()).count(),
            submitter: v.genesis().map_or(0, |g| g.submitter.0),
            failed: ex.failed(),
            stats: ex.stats(),
        })
    }));
    // A market's book deltas or its trades.
    for (subscribe, notification, unsubscribe, trades) in [
        ("exchange_subscribeBook", "exchange_book", "exchange_unsubscribeBook", false),
        ("exchange_subscribeTrades", "exchange_trade", "exchange_unsubscribeTrades", true),
    ] {
        ok(m.register_subscription(subscribe, notification, unsubscribe, move |params, pending, ex, _| async move {
            let market = match market_param(&params, &ex) {
                Ok(m) => m,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            stream(pending, &ex, move |p| match p {
                Published::Book(d) if !trades && d.market == market => Some(serde_json::to_value(d)),
                Published::Trade(t) if trades && t.market == market => Some(serde_json::to_value(t)),
                _ => None,
            })
            .await
        }));
    }
    ok(m.register_subscription(
        "exchange_subscribeOrders",
        "exchange_orderChanged",
        "exchange_unsubscribeOrders",
        |params, pending, ex, _| async move {
            let (account,): (u32,) = match params.parse() {
                Ok(p) => p,
                Err(e) => {
                    pending.reject(invalid("[account]", e)).await;
                    return Ok(());
                }
            };
            stream(pending, &ex, move |p| match p {
                Published::Order(o) if o.account == account => Some(serde_json::to_value(o)),
                _ => None,
            })
            .await
        },
    ));
    ok(m.register_method("rpc.discover", |_, _, _| {
        serde_json::from_str::<serde_json::Value>(OPENRPC).map_err(|e| {
            error(jsonrpsee::types::error::INTERNAL_ERROR_CODE, format!("docs/exchange-openrpc.json: {e}"))
        })
    }));
    m
}

/// A subscription's `[market]`: a market the venue lists.
fn market_param(params: &Params<'_>, ex: &Exchange) -> Result<u32, ErrorObjectOwned> {
    let (market,): (u32,) = params.parse().map_err(|e| invalid("[market]", e))?;
    if ex.venue().market(MarketId(market)).is_none() {
        return Err(unknown_market(market));
    }
    Ok(market)
}

/// Forwards the published events `pick` selects until the client goes away. A subscriber that
/// falls behind gets `{"event": "lagged", "missed": n}` (a book subscriber then resyncs).
async fn stream<F>(pending: PendingSubscriptionSink, ex: &Exchange, pick: F) -> SubscriptionResult
where
    F: Fn(&Published) -> Option<Result<serde_json::Value, serde_json::Error>>,
{
    let mut rx = ex.subscribe();
    let sink = pending.accept().await?;
    loop {
        let event = tokio::select! {
            _ = sink.closed() => return Ok(()),
            e = rx.recv() => e,
        };
        match event {
            Ok(p) => {
                if let Some(v) = pick(&p) {
                    sink.send(serde_json::value::to_raw_value(&v?)?).await?;
                }
            }
            Err(RecvError::Lagged(missed)) => {
                let v = serde_json::json!({ "event": "lagged", "missed": missed });
                sink.send(serde_json::value::to_raw_value(&v)?).await?;
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}

/// Runs every future concurrently and returns their outputs in order (`None` for one that
/// panicked).
async fn futures_join<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<Option<T>>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.ok());
    }
    out
}

/// A running exchange API.
pub struct ExchangeApi {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl ExchangeApi {
    /// Stops the server.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// The venue's `/health` (200, or 503 after a journal failure) and `/metrics` (Prometheus text).
pub fn probes(ex: Exchange) -> Probes {
    let health_ex = ex.clone();
    let health: Probe = Arc::new(move || {
        let g = health_ex.gauges();
        let body = serde_json::json!({
            "status": if g.failed { "stopped: journal failure, restart the venue" } else { "ok" },
            "journal": g.journal,
            "openOrders": g.open_orders,
            "pendingFills": g.pending_fills,
            "settledUpto": health_ex.settled_upto(),
        });
        (if g.failed { 503 } else { 200 }, "application/json", serde_json::to_string_pretty(&body).unwrap_or_default())
    });
    let metrics: Probe = Arc::new(move || (200, PROMETHEUS_TEXT, crate::stats::render(&ex.stats(), &ex.gauges())));
    Probes::new(vec![("/health", health), ("/metrics", metrics)])
}

/// Serves the exchange's API on `addr`, with `GET /health` and `GET /metrics` on the same port.
pub async fn serve(addr: SocketAddr, ex: Exchange) -> std::io::Result<ExchangeApi> {
    let server = Server::builder()
        .set_http_middleware(tower::ServiceBuilder::new().layer(probes(ex.clone())))
        .build(addr)
        .await?;
    let addr = server.local_addr()?;
    let handle = server.start(module(ex));
    tracing::info!(%addr, "exchange API listening (JSON-RPC over HTTP and WebSocket)");
    Ok(ExchangeApi { addr, handle })
}
