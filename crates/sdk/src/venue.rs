//! Trading on zklink's order-book venue (`zklink-exchange`) through its JSON-RPC API: a
//! [`Venue`] client made by [`Wallet::venue`] with one typed function per method, and
//! [`Venue::buy`] / [`Venue::sell`] that take whole units and do the rest.
//!
//! # Choosing a slot and its nonce
//! An order lives in one of the account's order slots (`0 .. 2^slot_bits` of the network's
//! preset) and carries an order nonce that must fit the slot: the slot's nonce if its unfilled
//! residue is 0, else that nonce + 1 (which replaces the partly filled order). [`Venue::trade`]
//! picks, from slot 1 upwards (slot 0 stays free for manual use, e.g. `wallet order`), a slot
//! that holds no open order of the account on the venue, preferring one whose residue is 0 over
//! one it would replace. The slot's state is the account's L2 slot (`zklink_account`'s
//! `orders`) brought up to date with the account's orders on the venue whose fills the node may
//! not have applied yet ([`slot_states`], [`choose_slot`]). A slot where the same terms were
//! placed before with the nonce the slot needs now is skipped: that would be the same order
//! again, which the venue refuses ([`placed_before`]).
//!
//! # Expiry
//! An order may carry an expiry ([`Trade::valid_until`], Unix seconds; [`valid_until_in`] turns
//! a duration into one): the node fills it only in blocks whose timestamp is at most that, and the
//! venue stops matching it [`EXPIRY_MARGIN_MS`] before, when it leaves the book. An expiry
//! already within that margin is refused before anything is signed. Orders default to valid at
//! once and never expiring.
//!
//! # Hard cancel
//! [`Venue::cancel`] takes an order off the venue's book only; its signature stays valid on L2
//! until its slot's nonce moves. [`Venue::cancel_hard`] moves it: it signs a `CancelOrder` L2 tx
//! for the order's slot up to the highest order nonce this account used there (the order's, or a
//! later one in the account's venue history), paying the node's fee, and the venue sends it to
//! the node and cancels the slot's open orders once the node accepted it.
//!
//! # The grid
//! Amounts are base, prices quote per base, both given in whole units and carried with 18
//! decimals. The price must be a positive multiple of the market's tick (a market order's
//! protective price need not be: the venue rounds it in the signer's favour), the amount a
//! multiple of the lot, at least the market's minimum and packable. What is off the grid is
//! refused before anything is signed, naming the nearest values ([`order_terms`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::core::DeserializeOwned;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use zklink_exchange::input::ALL_MARKETS;
pub use zklink_exchange::input::{expiry_ms, EXPIRY_MARGIN_MS};
pub use zklink_exchange::ledger::SlotState;
pub use zklink_exchange::rpc::{PlaceRequest, PlaceResult, StatusView};
pub use zklink_exchange::views::{
    BookView, CandleView, FillView, HardCancelView, LevelView, MarketView, OrderView, Settlement, TickerView, TradeView,
};
pub use zklink_exchange::{codes, CancelAllRequest, CancelRequest, OrderHash, OrderStatus};
pub use zklink_matching::{OrderType, Side};
use zklink_types::api::OrderSlotView;
use zklink_types::units::{format_units, parse_units, L2_DECIMALS};
use zklink_types::{
    AccountId, CancelOrder, L2Tx, Network, Order, OrderNonce, Price, PubKeyHash, SlotId, SubAccountId, TokenId, TxHash,
    TxSignature, MAX_ORDER_NONCE,
};

use crate::{check_packable, SdkError, Wallet};

/// How many of the account's newest venue orders [`Venue::trade`] reads to bring its slots up to
/// date (older ones are settled long since).
const HISTORY: usize = 1000;

/// A buy or a sell in whole units, for [`Venue::trade`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trade {
    /// The market: its symbol (`WETH/USD`, any case) or its id (`1`).
    pub market: String,
    /// Buy or sell base.
    pub side: Side,
    /// Base amount in whole units (`"0.4"`).
    pub amount: String,
    /// Quote per base in whole units: the limit price, or a market order's protective (worst)
    /// price.
    pub price: String,
    /// `Limit`, `Ioc`, `Fok`, `PostOnly` or `Market`.
    pub order_type: OrderType,
    /// The slot to use (an open order there is replaced); `None`: a free one ([`choose_slot`]).
    pub slot: Option<u16>,
    /// The order's expiry, Unix seconds (the last second a block may fill it in; the venue stops
    /// matching it [`EXPIRY_MARGIN_MS`] before); `None`: it never expires.
    pub valid_until: Option<u32>,
}

/// What [`Venue::cancel_hard`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HardCancelled {
    /// The signed `CancelOrder` tx (its slot, the order nonce it cancels up to, its fee).
    pub tx: CancelOrder,
    /// Its hash on the node (`zklink_txStatus`, [`Wallet::tx_status`]).
    pub tx_hash: TxHash,
    /// The orders the venue cancelled (the slot's open orders up to the nonce; possibly none).
    pub cancelled: Vec<OrderView>,
}

/// Unix seconds `after` from now: an expiry for [`Trade::valid_until`].
pub fn valid_until_in(after: std::time::Duration) -> Result<u32, SdkError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| SdkError::Input(format!("the clock is before 1970: {e}")))?;
    u32::try_from((now + after).as_secs())
        .ok()
        .filter(|t| *t != Order::NO_EXPIRY)
        .ok_or_else(|| SdkError::Input(format!("an expiry {after:?} from now is beyond 2106 (u32 seconds)")))
}

/// What [`Venue::trade`] placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The market.
    pub market: MarketView,
    /// The order right after matching, with its fills.
    pub order: OrderView,
    /// The open order the named slot held, which the new order replaced.
    pub replaced: Option<OrderView>,
}

/// An order's amount and price in 18-decimal units, on the market's grid ([`order_terms`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderTerms {
    /// Base amount.
    pub amount: u128,
    /// Quote per base.
    pub price: u128,
}

/// A price or amount that is not on a market's grid, with the nearest values that are.
#[derive(thiserror::Error, Clone, Debug, PartialEq, Eq)]
#[error(
    "the {what} {value} {unit} is not on {market}'s {step_name} grid ({step} {unit}): {}",
    nearest(what, below.as_deref(), above.as_deref(), unit)
)]
pub struct OffGrid {
    /// The market's symbol.
    pub market: String,
    /// `price` or `amount`.
    pub what: &'static str,
    /// `tick` or `lot`.
    pub step_name: &'static str,
    /// What was given, whole units.
    pub value: String,
    /// The grid's step, whole units.
    pub step: String,
    /// The token the value is in.
    pub unit: String,
    /// The nearest value on the grid below (none if that is 0).
    pub below: Option<String>,
    /// The nearest value on the grid above.
    pub above: Option<String>,
}

/// "the nearest prices are 3000 USD and 3000.01 USD" / "the nearest amount is 0.001 WETH".
fn nearest(what: &str, below: Option<&str>, above: Option<&str>, unit: &str) -> String {
    match (below, above) {
        (Some(b), Some(a)) => format!("the nearest {what}s are {b} {unit} and {a} {unit}"),
        (Some(v), None) | (None, Some(v)) => format!("the nearest {what} is {v} {unit}"),
        (None, None) => format!("no {what} on the grid is near"),
    }
}

/// A client of the venue at one URL, trading as one [`Wallet`].
pub struct Venue<'w> {
    wallet: &'w Wallet,
    url: String,
    client: HttpClient,
    account: OnceLock<AccountId>,
}

impl Wallet {
    /// A client of the order-book venue whose JSON-RPC API is at `url`, signing as this wallet.
    pub fn venue(&self, url: &str) -> Result<Venue<'_>, SdkError> {
        let client = HttpClientBuilder::default()
            .build(url)
            .map_err(|source| SdkError::VenueTransport { url: url.into(), source })?;
        Ok(Venue { wallet: self, url: url.into(), client, account: OnceLock::new() })
    }
}

impl Venue<'_> {
    /// The venue's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call<R: DeserializeOwned>(&self, method: &str, params: ArrayParams) -> Result<R, SdkError> {
        self.client.request(method, params).await.map_err(|e| match e {
            jsonrpsee::core::client::Error::Call(obj) => {
                SdkError::Venue { code: obj.code(), message: obj.message().into() }
            }
            other => SdkError::VenueTransport { url: self.url.clone(), source: other },
        })
    }

    /// This wallet's L2 account id (read from the node once).
    async fn account_id(&self) -> Result<AccountId, SdkError> {
        if let Some(id) = self.account.get() {
            return Ok(*id);
        }
        let a = self.wallet.account().await?.ok_or(SdkError::NoAccount(self.wallet.address))?;
        Ok(*self.account.get_or_init(|| AccountId(a.id)))
    }

    /// Every market (`exchange_markets`).
    pub async fn markets(&self) -> Result<Vec<MarketView>, SdkError> {
        self.call("exchange_markets", ArrayParams::new()).await
    }

    /// The market named by its symbol (`WETH/USD`, any case) or id ([`SdkError::UnknownMarket`]
    /// names the ones there are).
    pub async fn market(&self, name: &str) -> Result<MarketView, SdkError> {
        find_market(&self.markets().await?, name)
    }

    /// The venue's journal, digest and settlement progress (`exchange_status`).
    pub async fn status(&self) -> Result<StatusView, SdkError> {
        self.call("exchange_status", ArrayParams::new()).await
    }

    /// Places a signed order in `market` (`exchange_placeOrder`): the order right after matching.
    pub async fn place(&self, market: u32, order_type: OrderType, order: Order) -> Result<OrderView, SdkError> {
        let request = PlaceRequest { market, order_type, order };
        self.call("exchange_placeOrder", rpc_params![request]).await
    }

    /// Places signed orders together (`exchange_placeOrders`, one journal write): per order the
    /// order, or why it was refused ([`SdkError::Venue`]).
    pub async fn place_batch(&self, orders: Vec<PlaceRequest>) -> Result<Vec<Result<OrderView, SdkError>>, SdkError> {
        let results: Vec<PlaceResult> = self.call("exchange_placeOrders", rpc_params![orders]).await?;
        Ok(results
            .into_iter()
            .map(|r| match r {
                PlaceResult::Ok(v) => Ok(*v),
                PlaceResult::Error { code, message } => Err(SdkError::Venue { code, message }),
            })
            .collect())
    }

    /// Cancels this account's order `hash` (a [`CancelRequest`] signed with the L2 key).
    pub async fn cancel(&self, hash: OrderHash) -> Result<OrderView, SdkError> {
        let request = CancelRequest::sign(self.account_id().await?, hash, &self.wallet.l2)?;
        self.call("exchange_cancelOrder", rpc_params![request]).await
    }

    /// Cancels this account's order `hash` for good (module docs, Hard cancel): a `CancelOrder` L2
    /// tx for the order's slot up to the highest order nonce this account used there (the
    /// order's, or a later one in its venue history), paying the node's fee in `fee_token`, sent
    /// through the venue (`exchange_cancelHard`), which cancels the slot's open orders once the
    /// node accepted it. An open order or a (soft-)cancelled one can be; a filled one cannot. A
    /// refusal by the node is [`SdkError::Node`] with the node's code and message.
    pub async fn cancel_hard(&self, hash: OrderHash, fee_token: TokenId) -> Result<HardCancelled, SdkError> {
        let id = self.account_id().await?;
        let order = self
            .order(hash)
            .await?
            .ok_or_else(|| SdkError::Input(format!("no order {hash} was placed on the exchange at {}", self.url)))?;
        if order.account != id.0 {
            return Err(SdkError::Input(format!(
                "order {hash} belongs to account {}, not to this wallet's account {id}",
                order.account
            )));
        }
        if order.status == OrderStatus::Filled {
            return Err(SdkError::Input(format!(
                "order {hash} is filled: no part of it can be filled again, there is nothing to cancel"
            )));
        }
        let (sub, slot) = (order.order.sub_account_id.0, order.slot);
        let history: Vec<OrderView> = self.call("exchange_orders", rpc_params![id.0, HISTORY]).await?;
        let order_nonce = highest_nonce(&history, sub, slot).map_or(order.nonce, |n| n.max(order.nonce));
        let fee = self.wallet.estimate_fee("CancelOrder", fee_token).await?;
        let tx = self.wallet.sign_hard_cancel(sub, slot, order_nonce, fee_token, fee).await?;
        let request = L2Tx::CancelOrder(tx.clone());
        let view: HardCancelView =
            self.client.request("exchange_cancelHard", rpc_params![request]).await.map_err(|e| match e {
                jsonrpsee::core::client::Error::Call(obj) => {
                    let node = obj.data().and_then(|d| serde_json::from_str::<NodeRefusal>(d.get()).ok());
                    match node {
                        Some(n) if obj.code() == codes::NODE_REFUSED => {
                            SdkError::Node { code: n.node_code, message: n.node_message }
                        }
                        _ => SdkError::Venue { code: obj.code(), message: obj.message().into() },
                    }
                }
                other => SdkError::VenueTransport { url: self.url.clone(), source: other },
            })?;
        Ok(HardCancelled { tx, tx_hash: view.tx_hash, cancelled: view.cancelled })
    }

    /// Cancels all this account's open orders in `market` (or in every market): a
    /// [`CancelAllRequest`] signed now. Returns the cancelled orders.
    pub async fn cancel_all(&self, market: Option<u32>) -> Result<Vec<OrderView>, SdkError> {
        let time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let request =
            CancelAllRequest::sign(self.account_id().await?, market.unwrap_or(ALL_MARKETS), time_ms, &self.wallet.l2)?;
        self.call("exchange_cancelAll", rpc_params![request]).await
    }

    /// This account's open orders (in `market`), oldest first.
    pub async fn open_orders(&self, market: Option<u32>) -> Result<Vec<OrderView>, SdkError> {
        let id = self.account_id().await?;
        self.call("exchange_openOrders", rpc_params![id.0, market]).await
    }

    /// This account's orders, newest first (the venue's default is 100, its most 1000).
    pub async fn orders(&self, limit: Option<usize>) -> Result<Vec<OrderView>, SdkError> {
        let id = self.account_id().await?;
        self.call("exchange_orders", rpc_params![id.0, limit]).await
    }

    /// Any account's order `hash` with its fills and their settlement (`None`: unknown here).
    pub async fn order(&self, hash: OrderHash) -> Result<Option<OrderView>, SdkError> {
        self.call("exchange_order", rpc_params![hash]).await
    }

    /// The top `depth` levels of each side of `market` (the venue's default is 50).
    pub async fn book(&self, market: u32, depth: Option<usize>) -> Result<BookView, SdkError> {
        self.call("exchange_book", rpc_params![market, depth]).await
    }

    /// Recent trades of `market`, newest first (the venue's default is 100).
    pub async fn trades(&self, market: u32, limit: Option<usize>) -> Result<Vec<TradeView>, SdkError> {
        self.call("exchange_trades", rpc_params![market, limit]).await
    }

    /// The last 24 hours of `market`.
    pub async fn ticker(&self, market: u32) -> Result<TickerView, SdkError> {
        self.call("exchange_ticker", rpc_params![market]).await
    }

    /// Candles of `market` at `interval` (`1m`, `5m`, `15m`, `1h`, `4h`, `1d`), oldest first (the
    /// venue's default is the newest 500).
    pub async fn candles(
        &self,
        market: u32,
        interval: &str,
        limit: Option<usize>,
    ) -> Result<Vec<CandleView>, SdkError> {
        self.call("exchange_candles", rpc_params![market, interval, limit]).await
    }

    /// Buys `amount` base at `price` (whole units) in `market` (symbol or id): [`Venue::trade`]
    /// in a free slot.
    pub async fn buy(
        &self,
        market: &str,
        amount: &str,
        price: &str,
        order_type: OrderType,
    ) -> Result<Placed, SdkError> {
        self.trade_in_free_slot(Side::Buy, market, amount, price, order_type).await
    }

    /// Sells `amount` base at `price` (whole units) in `market` (symbol or id): [`Venue::trade`]
    /// in a free slot.
    pub async fn sell(
        &self,
        market: &str,
        amount: &str,
        price: &str,
        order_type: OrderType,
    ) -> Result<Placed, SdkError> {
        self.trade_in_free_slot(Side::Sell, market, amount, price, order_type).await
    }

    async fn trade_in_free_slot(
        &self,
        side: Side,
        market: &str,
        amount: &str,
        price: &str,
        order_type: OrderType,
    ) -> Result<Placed, SdkError> {
        let trade = Trade {
            market: market.into(),
            side,
            amount: amount.into(),
            price: price.into(),
            order_type,
            slot: None,
            valid_until: None,
        };
        self.trade(&trade).await
    }

    /// Signs and places `t`: the amount and price on the market's grid ([`order_terms`]), in the
    /// market's sub-account with its fee ratios, in the slot named or a free one with the nonce the
    /// slot needs (module docs).
    pub async fn trade(&self, t: &Trade) -> Result<Placed, SdkError> {
        let network = self.wallet.network();
        let market = self.market(&t.market).await?;
        let terms = order_terms(network, &market, t.side, t.order_type, &t.amount, &t.price)?;
        let account = self.wallet.account().await?.ok_or(SdkError::NoAccount(self.wallet.address))?;
        if account.pubkey_hash.parse::<PubKeyHash>().ok() != Some(self.wallet.pubkey_hash()) {
            return Err(SdkError::KeyNotSet { address: self.wallet.address });
        }
        let id = *self.account.get_or_init(|| AccountId(account.id));
        let open: Vec<OrderView> = self.call("exchange_openOrders", rpc_params![id.0]).await?;
        let history: Vec<OrderView> = self.call("exchange_orders", rpc_params![id.0, HISTORY]).await?;
        let sub = market.sub_account;
        let mut order = Order {
            account_id: id,
            sub_account_id: SubAccountId(sub),
            slot_id: SlotId(0),
            nonce: OrderNonce(0),
            base_token: TokenId(market.base),
            quote_token: TokenId(market.quote),
            amount: terms.amount,
            price: Price(terms.price),
            is_sell: t.side == Side::Sell,
            maker_fee_ratio: market.maker_fee_ratio,
            taker_fee_ratio: market.taker_fee_ratio,
            valid_from: 0,
            valid_until: t.valid_until.unwrap_or(Order::NO_EXPIRY),
            signature: TxSignature::default(),
        };
        check_expiry(&order)?;
        let states = slot_states(sub, &account.orders, &history);
        let (slot, nonce) = match t.slot {
            Some(slot) => {
                network.preset.check_slot(SlotId(slot))?;
                let state = states.get(&slot).copied().unwrap_or_default();
                (slot, slot_nonce(state).ok_or(SdkError::SlotExhausted { slot })?)
            }
            None => {
                let placed = placed_before(&history, &order);
                choose_slot(&states, &busy_slots(sub, &open), &placed, network.preset.max_slot(), sub)?
            }
        };
        let replaced = open.into_iter().find(|o| o.slot == slot && o.order.sub_account_id.0 == sub);
        (order.slot_id, order.nonce) = (SlotId(slot), OrderNonce(nonce));
        order.validate(&network.preset)?;
        let order = order.sign(&self.wallet.l2)?;
        let placed = self.place(market.id, t.order_type, order).await?;
        Ok(Placed { market, order: placed, replaced })
    }
}

/// The venue's data on a node refusal (`exchange_cancelHard`, code [`codes::NODE_REFUSED`]).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeRefusal {
    node_code: i32,
    node_message: String,
}

/// The highest order nonce of the account's orders in `slot` of sub-account `sub` in `history`.
pub fn highest_nonce(history: &[OrderView], sub: u8, slot: u16) -> Option<u32> {
    history.iter().filter(|o| o.order.sub_account_id.0 == sub && o.slot == slot).map(|o| o.nonce).max()
}

/// Refuses an order whose expiry is past or within the venue's margin now (nothing is signed).
fn check_expiry(order: &Order) -> Result<(), SdkError> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if expiry_ms(order) <= now_ms {
        return Err(SdkError::Input(format!(
            "the order would be valid until {} (Unix seconds), but the exchange stops matching an order {} s \
             before its expiry and the time is {} ms: give a later expiry",
            order.valid_until,
            EXPIRY_MARGIN_MS / 1000,
            now_ms
        )));
    }
    Ok(())
}

/// The market of `markets` named by its symbol (any case) or id.
pub fn find_market(markets: &[MarketView], name: &str) -> Result<MarketView, SdkError> {
    let wanted = name.trim();
    let by_id = wanted.parse::<u32>().ok();
    markets.iter().find(|m| Some(m.id) == by_id || m.symbol.eq_ignore_ascii_case(wanted)).cloned().ok_or_else(|| {
        SdkError::UnknownMarket {
            name: wanted.into(),
            known: if markets.is_empty() {
                "it lists none".into()
            } else {
                markets.iter().map(|m| format!("{} (id {})", m.symbol, m.id)).collect::<Vec<_>>().join(", ")
            },
        }
    })
}

/// `BASE/QUOTE` of a market as (base, quote).
pub fn market_symbols(m: &MarketView) -> (&str, &str) {
    m.symbol.split_once('/').unwrap_or((m.symbol.as_str(), ""))
}

fn grid_step(market: &MarketView, field: &'static str, value: &str) -> Result<u128, SdkError> {
    match parse_units(value, L2_DECIMALS) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(SdkError::Input(format!("the exchange lists market {} with {field} {value:?}", market.symbol))),
    }
}

/// `amount` base at `price` quote per base (decimal strings, whole units) as an order of `market`
/// would carry them, refused unless on the market's grid: the price a positive multiple of the
/// tick (a market order's protective price need only be positive, and a market buy's at least
/// one tick), the amount a multiple of the lot, at least the minimum, and packable. Off-grid
/// values are refused with the nearest ones ([`SdkError::OffGrid`]).
pub fn order_terms(
    network: &Network,
    market: &MarketView,
    side: Side,
    order_type: OrderType,
    amount: &str,
    price: &str,
) -> Result<OrderTerms, SdkError> {
    let (base_symbol, quote_symbol) = market_symbols(market);
    let (tick, lot, min) = (grid_step(market, "tick", &market.tick)?, grid_step(market, "lot", &market.lot)?, {
        parse_units(&market.min_size, L2_DECIMALS).unwrap_or(0)
    });
    let raw_amount = crate::parse_units(amount, L2_DECIMALS)?;
    let raw_price = crate::parse_units(price, L2_DECIMALS)?;
    let off = |what, step_name, value: u128, step: u128, unit: &str| {
        let below = value - value % step;
        SdkError::OffGrid(Box::new(OffGrid {
            market: market.symbol.clone(),
            what,
            step_name,
            value: format_units(value, L2_DECIMALS),
            step: format_units(step, L2_DECIMALS),
            unit: unit.into(),
            below: (below > 0).then(|| format_units(below, L2_DECIMALS)),
            above: below.checked_add(step).map(|a| format_units(a, L2_DECIMALS)),
        }))
    };
    if raw_price == 0 {
        return Err(SdkError::Input(format!("the price must be positive (quote {quote_symbol} per {base_symbol})")));
    }
    if order_type == OrderType::Market {
        if side == Side::Buy && raw_price < tick {
            return Err(SdkError::Input(format!(
                "a market buy's protective price must be at least the tick, {} {quote_symbol}",
                format_units(tick, L2_DECIMALS)
            )));
        }
    } else if !raw_price.is_multiple_of(tick) {
        return Err(off("price", "tick", raw_price, tick, quote_symbol));
    }
    Price(raw_price).check()?;
    if raw_price / tick > u128::from(u64::MAX) {
        return Err(SdkError::Input(format!("the price {price} {quote_symbol} is beyond the market's grid")));
    }
    if !raw_amount.is_multiple_of(lot) {
        return Err(off("amount", "lot", raw_amount, lot, base_symbol));
    }
    if raw_amount < min.max(1) {
        return Err(SdkError::BelowMinimum {
            market: market.symbol.clone(),
            amount: format_units(raw_amount, L2_DECIMALS),
            min: format_units(min.max(lot), L2_DECIMALS),
            unit: base_symbol.into(),
        });
    }
    if raw_amount / lot > u128::from(u64::MAX) {
        return Err(SdkError::Input(format!("the amount {amount} {base_symbol} is beyond the market's grid")));
    }
    check_packable(network, TokenId(market.base), raw_amount, false)?;
    Ok(OrderTerms { amount: raw_amount, price: raw_price })
}

/// The nonce an order in a slot in `state` must carry: the slot's nonce if its residue is 0,
/// else the next one (replacing the partly filled order); `None` if that is beyond the 24-bit
/// nonces.
pub fn slot_nonce(state: SlotState) -> Option<u32> {
    let n = state.next_order_nonce().0;
    (n <= MAX_ORDER_NONCE).then_some(n)
}

/// The account's slots in sub-account `sub` as the venue sees them: the L2 slots (`l2`, from
/// `zklink_account`) with the fills of its venue orders (`history`, from `exchange_orders`) that
/// the node may not have applied yet. A venue order that traded `f` of its amount `a` leaves its
/// slot at its nonce with `a − f` unfilled, or at the next nonce if `f = a`; that is the slot's
/// state unless L2 holds a later nonce. Slots neither lists are absent (nonce 0, empty).
pub fn slot_states(sub: u8, l2: &[OrderSlotView], history: &[OrderView]) -> BTreeMap<u16, SlotState> {
    let mut out: BTreeMap<u16, SlotState> = l2
        .iter()
        .filter(|s| s.sub_account == sub)
        .map(|s| (s.slot, SlotState { nonce: OrderNonce(s.nonce), residue: s.residue.parse().unwrap_or(0) }))
        .collect();
    // Per slot, the traded venue order with the highest nonce.
    let mut traded: BTreeMap<u16, (SlotState, u32)> = BTreeMap::new();
    for o in history.iter().filter(|o| o.order.sub_account_id.0 == sub) {
        let filled = parse_units(&o.filled, L2_DECIMALS).unwrap_or(0);
        if filled == 0 {
            continue;
        }
        let nonce = o.order.nonce.0;
        let after = if filled >= o.order.amount {
            SlotState { nonce: OrderNonce((nonce + 1).min(MAX_ORDER_NONCE)), residue: 0 }
        } else {
            SlotState { nonce: OrderNonce(nonce), residue: o.order.amount - filled }
        };
        let e = traded.entry(o.slot).or_insert((after, nonce));
        if nonce > e.1 {
            *e = (after, nonce);
        }
    }
    for (slot, (venue, _)) in traded {
        let s = out.entry(slot).or_default();
        if venue.nonce >= s.nonce {
            *s = venue;
        }
    }
    out
}

/// The slots of sub-account `sub` that hold an open order on the venue.
pub fn busy_slots(sub: u8, open: &[OrderView]) -> BTreeSet<u16> {
    open.iter().filter(|o| o.order.sub_account_id.0 == sub).map(|o| o.slot).collect()
}

/// The `(slot, nonce)` pairs in which an order with the very terms of `order` (account,
/// sub-account, tokens, side, amount, price, fee ratios, validity window) was placed before: the same terms signed
/// again are the same order to the venue (its hash leaves out the signature), which takes each
/// order once.
pub fn placed_before(history: &[OrderView], order: &Order) -> BTreeSet<(u16, u32)> {
    let same = |o: &Order| {
        (o.account_id, o.sub_account_id, o.base_token, o.quote_token, o.is_sell, o.amount, o.price)
            == (
                order.account_id,
                order.sub_account_id,
                order.base_token,
                order.quote_token,
                order.is_sell,
                order.amount,
                order.price,
            )
            && (o.maker_fee_ratio, o.taker_fee_ratio) == (order.maker_fee_ratio, order.taker_fee_ratio)
            && (o.valid_from, o.valid_until) == (order.valid_from, order.valid_until)
    };
    history.iter().filter(|o| same(&o.order)).map(|o| (o.order.slot_id.0, o.order.nonce.0)).collect()
}

/// A slot for a new order and its nonce: from slot 1 up to `max_slot` (slot 0 stays free for
/// manual use), the first that is not `busy` and whose residue is 0, else the first that is not
/// busy (the new order replaces its partly filled L2 order). Skipped: slots whose nonces are used
/// up, and `(slot, nonce)` pairs in which this very order was placed before ([`placed_before`]).
/// [`SdkError::NoFreeSlot`] if there is none.
pub fn choose_slot(
    states: &BTreeMap<u16, SlotState>,
    busy: &BTreeSet<u16>,
    placed: &BTreeSet<(u16, u32)>,
    max_slot: u16,
    sub: u8,
) -> Result<(u16, u32), SdkError> {
    let mut replacing = None;
    let mut same_order = false;
    for slot in (1..=max_slot).filter(|s| !busy.contains(s)) {
        let state = states.get(&slot).copied().unwrap_or_default();
        let Some(nonce) = slot_nonce(state) else { continue };
        if placed.contains(&(slot, nonce)) {
            same_order = true;
            continue;
        }
        if state.residue == 0 {
            return Ok((slot, nonce));
        }
        replacing = replacing.or(Some((slot, nonce)));
    }
    match replacing {
        Some(found) => Ok(found),
        None if same_order => Err(SdkError::Input(
            "this very order (same side, amount and price) was placed before in every free order slot with the \
             nonce it would carry there, and the exchange takes each signed order once: change the price or the \
             amount, or free another slot"
                .into(),
        )),
        None => Err(SdkError::NoFreeSlot { max_slot, sub }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E18: u128 = 1_000_000_000_000_000_000;

    fn market() -> MarketView {
        MarketView {
            id: 1,
            symbol: "WETH/USD".into(),
            base: 32,
            quote: 1,
            tick: "0.01".into(),
            lot: "0.001".into(),
            min_size: "0.01".into(),
            maker_fee_ratio: 10,
            taker_fee_ratio: 20,
            stp: Default::default(),
            sub_account: 0,
            submitter: 5,
        }
    }

    fn l2(slot: u16, nonce: u32, residue: u128) -> OrderSlotView {
        OrderSlotView { sub_account: 0, slot, nonce, residue: residue.to_string() }
    }

    /// A venue order of `amount` in `slot` with `nonce` that traded `filled`.
    fn venue_order(slot: u16, nonce: u32, amount: u128, filled: u128) -> OrderView {
        let order = Order {
            account_id: AccountId(7),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(slot),
            nonce: OrderNonce(nonce),
            base_token: TokenId(32),
            quote_token: TokenId(1),
            amount,
            price: Price(3000 * E18),
            is_sell: true,
            maker_fee_ratio: 10,
            taker_fee_ratio: 20,
            valid_from: 0,
            valid_until: Order::NO_EXPIRY,
            signature: TxSignature::default(),
        };
        let whole = |v| format_units(v, 18);
        OrderView {
            hash: OrderHash([slot as u8; 32]),
            id: 1,
            market: 1,
            symbol: "WETH/USD".into(),
            account: 7,
            slot,
            nonce,
            side: Side::Sell,
            order_type: OrderType::Limit,
            price: "3000".into(),
            size: whole(amount),
            filled: whole(filled),
            remaining: whole(amount - filled),
            status: if filled == amount { OrderStatus::Filled } else { OrderStatus::Open },
            reason: None,
            priority: 1,
            placed_ms: 0,
            fills: Vec::new(),
            order,
        }
    }

    fn state(nonce: u32, residue: u128) -> SlotState {
        SlotState { nonce: OrderNonce(nonce), residue }
    }

    #[test]
    fn the_nonce_follows_the_slot_rule() {
        assert_eq!(slot_nonce(state(0, 0)), Some(0), "an empty slot: its nonce");
        assert_eq!(slot_nonce(state(4, 0)), Some(4));
        assert_eq!(slot_nonce(state(4, E18)), Some(5), "a partly filled slot: the next nonce replaces it");
        assert_eq!(slot_nonce(state(MAX_ORDER_NONCE, 1)), None, "nonces used up");
    }

    #[test]
    fn slots_are_l2_brought_up_to_date_with_the_venues_fills() {
        // L2: slot 1 at nonce 2 (empty), slot 2 at nonce 0 with 0.6 open, slot 3 at nonce 9.
        let l2 = [l2(1, 2, 0), l2(2, 0, 6 * E18 / 10), l2(3, 9, 0)];
        let history = [
            venue_order(1, 2, E18, E18 / 2),  // half filled, not yet on L2
            venue_order(2, 0, E18, E18),      // the rest of slot 2 filled since
            venue_order(3, 4, E18, E18),      // an old order: L2 is past it
            venue_order(0, 0, E18, 0),        // no fill: leaves the slot as it is
            venue_order(1, 1, E18, E18 / 10), // an older order of slot 1
        ];
        let s = slot_states(0, &l2, &history);
        assert_eq!(s[&1], state(2, E18 / 2));
        assert_eq!(s[&2], state(1, 0));
        assert_eq!(s[&3], state(9, 0));
        assert!(!s.contains_key(&0));
        assert_eq!(slot_states(1, &l2, &history), BTreeMap::new(), "another sub-account");
    }

    #[test]
    fn a_free_slot_from_1_up_preferring_empty_ones() {
        let states = BTreeMap::from([(1, state(3, E18)), (2, state(5, 0)), (3, state(1, 0))]);
        let (none, no) = (BTreeSet::new(), BTreeSet::new());
        assert_eq!(choose_slot(&states, &none, &no, 3, 0).unwrap(), (2, 5), "slot 1 holds a residue");
        assert_eq!(choose_slot(&states, &BTreeSet::from([2]), &no, 3, 0).unwrap(), (3, 1));
        assert_eq!(
            choose_slot(&states, &BTreeSet::from([2, 3]), &no, 3, 0).unwrap(),
            (1, 4),
            "only a partly filled slot is left: replace its order"
        );
        assert_eq!(choose_slot(&BTreeMap::new(), &none, &no, 3, 0).unwrap(), (1, 0), "never slot 0");
        let e = choose_slot(&states, &BTreeSet::from([1, 2, 3]), &no, 3, 0).unwrap_err();
        assert!(matches!(e, SdkError::NoFreeSlot { max_slot: 3, sub: 0 }), "{e}");
        assert!(e.to_string().contains("every order slot 1..=3"), "{e}");
        let used_up = BTreeMap::from([(1, state(MAX_ORDER_NONCE, 1))]);
        assert_eq!(choose_slot(&used_up, &none, &no, 3, 0).unwrap(), (2, 0));
        // The same terms placed (and cancelled) before in slot 2 with nonce 5: that would be the
        // same order again, so slot 3.
        assert_eq!(choose_slot(&states, &none, &BTreeSet::from([(2, 5)]), 3, 0).unwrap(), (3, 1));
        let e = choose_slot(&states, &BTreeSet::from([1, 3]), &BTreeSet::from([(2, 5)]), 3, 0).unwrap_err();
        assert!(e.to_string().contains("this very order"), "{e}");
    }

    #[test]
    fn the_same_terms_placed_before() {
        let history = [venue_order(1, 0, E18, 0), venue_order(2, 3, E18, E18 / 2), venue_order(3, 0, 2 * E18, 0)];
        let mut order = venue_order(0, 0, E18, 0).order;
        assert_eq!(placed_before(&history, &order), BTreeSet::from([(1, 0), (2, 3)]));
        order.price = Price(3001 * E18);
        assert!(placed_before(&history, &order).is_empty(), "another price: another order");
        order.price = Price(3000 * E18);
        order.valid_until = 1_900_000_000;
        assert!(placed_before(&history, &order).is_empty(), "another expiry: another order");
    }

    #[test]
    fn a_hard_cancel_reaches_the_highest_nonce_used_in_the_slot() {
        let history = [venue_order(1, 0, E18, E18 / 2), venue_order(1, 2, E18, 0), venue_order(2, 5, E18, 0)];
        assert_eq!(highest_nonce(&history, 0, 1), Some(2));
        assert_eq!(highest_nonce(&history, 0, 2), Some(5));
        assert_eq!(highest_nonce(&history, 0, 3), None);
        assert_eq!(highest_nonce(&history, 1, 1), None, "another sub-account");
    }

    #[test]
    fn expiries_from_now() {
        let in_an_hour = valid_until_in(std::time::Duration::from_secs(3600)).unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!((u64::from(in_an_hour) - now).abs_diff(3600) <= 1, "{in_an_hour} vs {now}");
        assert!(valid_until_in(std::time::Duration::from_secs(u64::from(u32::MAX))).is_err(), "beyond 2106");
        let mut o = venue_order(1, 0, E18, 0).order;
        o.valid_until = in_an_hour;
        assert!(check_expiry(&o).is_ok());
        o.valid_until = u32::try_from(now + 1).unwrap();
        let e = check_expiry(&o).unwrap_err().to_string();
        assert!(e.contains("stops matching an order 2 s before its expiry"), "{e}");
    }

    #[test]
    fn prices_and_amounts_on_the_grid() {
        let n = Network::dev(3);
        let m = market();
        let t = order_terms(&n, &m, Side::Buy, OrderType::Limit, "0.4", "3000.01").unwrap();
        assert_eq!(t, OrderTerms { amount: 4 * E18 / 10, price: 300_001 * E18 / 100 });

        let e = order_terms(&n, &m, Side::Buy, OrderType::Limit, "0.4", "3000.005").unwrap_err();
        assert!(matches!(&e, SdkError::OffGrid(g) if g.what == "price"), "{e}");
        assert_eq!(
            e.to_string(),
            "the price 3000.005 USD is not on WETH/USD's tick grid (0.01 USD): the nearest prices are 3000 USD \
             and 3000.01 USD"
        );
        let e = order_terms(&n, &m, Side::Sell, OrderType::PostOnly, "0.4005", "3000").unwrap_err().to_string();
        assert!(e.contains("the nearest amounts are 0.4 WETH and 0.401 WETH"), "{e}");
        let e = order_terms(&n, &m, Side::Sell, OrderType::Limit, "0.0005", "3000").unwrap_err().to_string();
        assert!(e.ends_with("the nearest amount is 0.001 WETH"), "{e}");
        let e = order_terms(&n, &m, Side::Sell, OrderType::Limit, "0.005", "3000").unwrap_err();
        assert_eq!(e.to_string(), "the amount 0.005 WETH is below WETH/USD's minimum order of 0.01 WETH");
        assert!(order_terms(&n, &m, Side::Buy, OrderType::Limit, "1", "0").is_err());
        assert!(order_terms(&n, &m, Side::Buy, OrderType::Limit, "1", "abc").is_err());

        // A market order's protective price need not be on the grid.
        let t = order_terms(&n, &m, Side::Buy, OrderType::Market, "1", "3000.005").unwrap();
        assert_eq!(t.price, 3_000_005 * E18 / 1000);
        assert!(order_terms(&n, &m, Side::Buy, OrderType::Market, "1", "0.001").is_err(), "below one tick");
        assert!(order_terms(&n, &m, Side::Sell, OrderType::Market, "1", "0.001").is_ok());

        // On the lot grid but not packable (35-bit mantissa).
        let fine = MarketView { lot: "0.000000000000000001".into(), min_size: "0.000000000000000001".into(), ..m };
        let e = order_terms(&n, &fine, Side::Sell, OrderType::Limit, "1.000000000000000001", "3000").unwrap_err();
        assert!(matches!(e, SdkError::NotPackable { .. }), "{e}");
    }

    #[test]
    fn markets_by_symbol_or_id() {
        let ms = [market(), MarketView { id: 2, symbol: "WETH/USDC".into(), ..market() }];
        assert_eq!(find_market(&ms, "weth/usd").unwrap().id, 1);
        assert_eq!(find_market(&ms, "2").unwrap().symbol, "WETH/USDC");
        let e = find_market(&ms, "DOGE/USD").unwrap_err().to_string();
        assert_eq!(
            e,
            "\"DOGE/USD\" is no market of this exchange: name one by symbol or id (WETH/USD (id 1), WETH/USDC (id 2))"
        );
        assert_eq!(market_symbols(&ms[0]), ("WETH", "USD"));
    }
}
