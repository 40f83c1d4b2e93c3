//! Why the venue refuses a placement or a cancel: typed, with what was wrong and what was
//! expected, and a JSON-RPC code per kind ([`codes`]).

use zklink_matching::{MarketId, Price};
use zklink_types::{AccountId, Nonce, OrderNonce, SlotId, SubAccountId, TokenId, TxError};

use crate::input::{OrderHash, EXPIRY_MARGIN_MS};

/// The exchange API's error codes (JSON-RPC server range, apart from the node's −320xx).
pub mod codes {
    /// The params are not what the method takes.
    pub const INVALID_PARAMS: i32 = -32602;
    /// The order does not fit the market (tokens, sub-account, fee ratios, tick, lot, minimum).
    pub const MARKET_RULES: i32 = -32101;
    /// The order's or the request's signature is not the account's.
    pub const BAD_SIGNATURE: i32 = -32102;
    /// The account cannot fund the order (its L2 balance minus its open orders).
    pub const UNFUNDABLE: i32 = -32103;
    /// The order slot holds another order or another nonce.
    pub const SLOT: i32 = -32104;
    /// A post-only order would take liquidity.
    pub const POST_ONLY: i32 = -32105;
    /// A fill-or-kill order cannot fill completely.
    pub const FOK: i32 = -32106;
    /// The order was placed before (the same signed terms).
    pub const DUPLICATE: i32 = -32107;
    /// No such market.
    pub const UNKNOWN_MARKET: i32 = -32108;
    /// No such order, or not the caller's, or no longer open.
    pub const ORDER: i32 = -32109;
    /// The venue cannot take orders now (its journal failed, or the node is unreachable).
    pub const UNAVAILABLE: i32 = -32110;
    /// The order is outside its signed validity window at the venue's time: not valid yet,
    /// expired, or expiring within the venue's margin.
    pub const ORDER_WINDOW: i32 = -32111;
    /// The node refused the hard cancel (`exchange_cancelHard`); the error's data holds the node's
    /// code and message.
    pub const NODE_REFUSED: i32 = -32112;
}

/// Why an order was not placed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PlaceError {
    /// No such market.
    #[error("market {0} does not exist (exchange_markets lists them)")]
    UnknownMarket(u32),
    /// The order's fields are invalid on this network.
    #[error("invalid order: {0}")]
    Invalid(#[source] TxError),
    /// The order trades other tokens than the market.
    #[error("market {market} trades base token {base} for quote token {quote}; the order has {got_base}/{got_quote}")]
    WrongTokens {
        /// The market.
        market: u32,
        /// Its base.
        base: TokenId,
        /// Its quote.
        quote: TokenId,
        /// The order's base.
        got_base: TokenId,
        /// The order's quote.
        got_quote: TokenId,
    },
    /// The order is for another sub-account than the venue's.
    #[error("this venue trades in sub-account {expected}; the order is for sub-account {got}")]
    WrongSubAccount {
        /// The venue's.
        expected: SubAccountId,
        /// The order's.
        got: SubAccountId,
    },
    /// The order signs lower fee ratios than the market charges.
    #[error("market {market} charges maker/taker fee ratios {maker}/{taker} (per 10^4); the order signs {got_maker}/{got_taker}")]
    FeeRatio {
        /// The market.
        market: u32,
        /// The market's maker ratio.
        maker: u8,
        /// The market's taker ratio.
        taker: u8,
        /// The order's maker ratio.
        got_maker: u8,
        /// The order's taker ratio.
        got_taker: u8,
    },
    /// The price is not on the market's tick grid.
    #[error("price {price} is not a multiple of the market's tick {tick}")]
    OffTick {
        /// The price (whole quote per base).
        price: String,
        /// The tick.
        tick: String,
    },
    /// The amount is not on the market's lot grid.
    #[error("amount {amount} is not a multiple of the market's lot {lot}")]
    OffLot {
        /// The amount (whole base).
        amount: String,
        /// The lot.
        lot: String,
    },
    /// The amount is below the market's minimum.
    #[error("amount {amount} is below the market's minimum {min}")]
    BelowMinimum {
        /// The amount (whole base).
        amount: String,
        /// The minimum.
        min: String,
    },
    /// The price or amount is out of the grid's range.
    #[error("price or amount out of range: {0}")]
    Range(String),
    /// A post-only order whose price reaches the opposite best price.
    #[error("post-only order would take liquidity: the best opposite price is {best}")]
    PostOnlyWouldCross {
        /// The opposite best price (whole quote per base).
        best: String,
    },
    /// A fill-or-kill order that cannot fill completely at once; nothing was filled.
    #[error("fill-or-kill order cannot be filled completely at its price; nothing was filled")]
    FillOrKill,
    /// The same signed order was placed before.
    #[error("order {hash} was placed before (it is {status}); sign a new one")]
    Duplicate {
        /// The order.
        hash: OrderHash,
        /// Its status now.
        status: &'static str,
    },
    /// The signature is not by the account's current L2 key.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The account does not exist on L2.
    #[error("account {0} does not exist on L2")]
    NoAccount(AccountId),
    /// The order's nonce does not fit its slot on L2.
    #[error(
        "slot {slot} holds order nonce {slot_nonce} with {residue} unfilled: an order there must use nonce \
         {expected} (got {got})"
    )]
    SlotNonce {
        /// The slot.
        slot: SlotId,
        /// The slot's nonce (L2 state with the venue's unsettled fills).
        slot_nonce: OrderNonce,
        /// Its unfilled base amount, whole units.
        residue: String,
        /// The nonces accepted, e.g. "5 (continue) or 6 (replace)".
        expected: String,
        /// The order's.
        got: OrderNonce,
    },
    /// The order's slot was hard-cancelled up to a nonce at least the order's.
    #[error(
        "slot {slot}'s orders up to nonce {cancelled_upto} were hard-cancelled on L2: an order there must use \
         nonce {} or later (got {got})",
        cancelled_upto.0 + 1
    )]
    SlotHardCancelled {
        /// The slot.
        slot: SlotId,
        /// The highest order nonce a hard cancel of the slot named.
        cancelled_upto: OrderNonce,
        /// The order's.
        got: OrderNonce,
    },
    /// The order's validity window begins after the venue's time.
    #[error(
        "the order is valid from {valid_from} (Unix seconds), later than the venue's time {now_ms} ms: place it \
         once it is valid"
    )]
    NotYetValid {
        /// The order's `valid_from`.
        valid_from: u32,
        /// The venue's time, Unix milliseconds.
        now_ms: u64,
    },
    /// The order expired, or expires within the venue's margin.
    #[error(
        "the order is valid until {valid_until} (Unix seconds), and the venue matches an order only until {} s \
         before that ({expiry_ms} ms); its time is {now_ms} ms: sign it with a later validUntil",
        EXPIRY_MARGIN_MS / 1000
    )]
    Expired {
        /// The order's `valid_until`.
        valid_until: u32,
        /// When the venue stops matching it, Unix milliseconds.
        expiry_ms: u64,
        /// The venue's time, Unix milliseconds.
        now_ms: u64,
    },
    /// The account's balance minus its open orders cannot fund the order.
    #[error("cannot fund the order: it needs {required} {symbol}, the account has {available} {symbol} free (balance {balance}, {committed} in open orders)")]
    Unfundable {
        /// The token.
        token: TokenId,
        /// Its symbol.
        symbol: String,
        /// What the order commits, whole units.
        required: String,
        /// What is free.
        available: String,
        /// The L2 balance (with the venue's unsettled fills).
        balance: String,
        /// What open orders commit.
        committed: String,
    },
    /// The venue cannot take orders now.
    #[error("the venue is unavailable: {0}")]
    Unavailable(String),
}

impl PlaceError {
    /// The JSON-RPC code.
    pub fn code(&self) -> i32 {
        match self {
            PlaceError::UnknownMarket(_) => codes::UNKNOWN_MARKET,
            PlaceError::Invalid(_)
            | PlaceError::WrongTokens { .. }
            | PlaceError::WrongSubAccount { .. }
            | PlaceError::FeeRatio { .. }
            | PlaceError::OffTick { .. }
            | PlaceError::OffLot { .. }
            | PlaceError::BelowMinimum { .. }
            | PlaceError::Range(_) => codes::MARKET_RULES,
            PlaceError::PostOnlyWouldCross { .. } => codes::POST_ONLY,
            PlaceError::FillOrKill => codes::FOK,
            PlaceError::Duplicate { .. } => codes::DUPLICATE,
            PlaceError::BadSignature(_) | PlaceError::NoAccount(_) => codes::BAD_SIGNATURE,
            PlaceError::SlotNonce { .. } | PlaceError::SlotHardCancelled { .. } => codes::SLOT,
            PlaceError::NotYetValid { .. } | PlaceError::Expired { .. } => codes::ORDER_WINDOW,
            PlaceError::Unfundable { .. } => codes::UNFUNDABLE,
            PlaceError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }
}

/// Why a cancel was refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum CancelError {
    /// No order with this hash was placed here.
    #[error("no order {0} was placed on this venue")]
    UnknownOrder(OrderHash),
    /// The order is another account's.
    #[error("order {order} belongs to account {owner}, not {caller}: only its owner can cancel it")]
    NotOwner {
        /// The order.
        order: OrderHash,
        /// Its owner.
        owner: AccountId,
        /// Who asked.
        caller: AccountId,
    },
    /// The order is no longer open.
    #[error("order {order} is {status}, not open")]
    NotOpen {
        /// The order.
        order: OrderHash,
        /// Its status.
        status: &'static str,
    },
    /// No such market.
    #[error("market {} does not exist", .0 .0)]
    UnknownMarket(MarketId),
    /// The signature is not the account's key.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A cancel-all signed too long ago, in the future, or not after the previous one.
    #[error("cancel-all signed at {time_ms} ms is stale: {reason}")]
    Stale {
        /// Its time.
        time_ms: u64,
        /// Why.
        reason: String,
    },
    /// The venue cannot take requests now.
    #[error("the venue is unavailable: {0}")]
    Unavailable(String),
}

impl CancelError {
    /// The JSON-RPC code.
    pub fn code(&self) -> i32 {
        match self {
            CancelError::UnknownOrder(_) | CancelError::NotOwner { .. } | CancelError::NotOpen { .. } => codes::ORDER,
            CancelError::UnknownMarket(_) => codes::UNKNOWN_MARKET,
            CancelError::BadSignature(_) => codes::BAD_SIGNATURE,
            CancelError::Stale { .. } => codes::INVALID_PARAMS,
            CancelError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }
}

/// Why a hard cancel (`exchange_cancelHard`) was not taken. Only [`HardCancelError::Unavailable`]
/// can come after the node accepted the tx; every other refusal leaves the orders untouched and
/// sent nothing to the node, or the node refused it.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HardCancelError {
    /// The cancel is for another sub-account than the venue's.
    #[error("this venue trades in sub-account {expected}; the cancel is for sub-account {got}")]
    WrongSubAccount {
        /// The venue's.
        expected: SubAccountId,
        /// The cancel's.
        got: SubAccountId,
    },
    /// The tx's fields are invalid on this network.
    #[error("invalid CancelOrder: {0}")]
    Invalid(#[source] TxError),
    /// The signature does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// The account does not exist on L2.
    #[error("account {0} does not exist on L2")]
    NoAccount(AccountId),
    /// The tx's nonce is ahead of the account's: the node would queue it, not apply it, and the
    /// slot would not move.
    #[error(
        "the cancel carries account nonce {got}, but account {account}'s nonce on the node is {expected}: the node \
         would hold it until the txs before it arrive; sign it with nonce {expected}"
    )]
    NonceAhead {
        /// The account.
        account: AccountId,
        /// The account's nonce on the node.
        expected: Nonce,
        /// The tx's.
        got: Nonce,
    },
    /// The node refused the tx: nothing changed, on L2 or on the venue.
    #[error("the node refused the hard cancel: {message} (node code {code})")]
    NodeRefused {
        /// The node's JSON-RPC code (docs/api.md).
        code: i32,
        /// The node's reason.
        message: String,
    },
    /// The node or the venue could not be reached or could not record it.
    #[error("the venue is unavailable: {0}")]
    Unavailable(String),
}

impl HardCancelError {
    /// The JSON-RPC code.
    pub fn code(&self) -> i32 {
        match self {
            HardCancelError::WrongSubAccount { .. }
            | HardCancelError::Invalid(_)
            | HardCancelError::NonceAhead { .. } => codes::INVALID_PARAMS,
            HardCancelError::BadSignature(_) | HardCancelError::NoAccount(_) => codes::BAD_SIGNATURE,
            HardCancelError::NodeRefused { .. } => codes::NODE_REFUSED,
            HardCancelError::Unavailable(_) => codes::UNAVAILABLE,
        }
    }
}

/// A price in ticks as whole quote per base, for messages.
pub(crate) fn price_text(tick: u128, price: Price) -> String {
    zklink_types::units::format_units(tick.saturating_mul(u128::from(price.0)), 18)
}
