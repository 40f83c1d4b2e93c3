//! The engine's output: the ordered events each command causes, with global sequence numbers.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::types::{AccountId, MarketId, OrderId, OrderType, Price, Side, Size};

/// One thing that happened, in the order it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    /// The engine's global sequence number: consecutive from 1 across all markets.
    pub seq: u64,
    /// The market it happened in (for a rejection: the market the command named).
    pub market: MarketId,
    /// What happened.
    pub kind: EventKind,
}

/// A trade between a resting (maker) order and an incoming (taker) order, at the maker's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fill {
    /// The resting order.
    pub maker: OrderId,
    /// The incoming order.
    pub taker: OrderId,
    /// The resting order's owner.
    pub maker_account: AccountId,
    /// The incoming order's owner (never the maker's: self-trades are prevented).
    pub taker_account: AccountId,
    /// The incoming order's side (the maker is on the other).
    pub taker_side: Side,
    /// The price: the maker's.
    pub price: Price,
    /// The size traded.
    pub size: Size,
    /// What remains of the maker after this fill (0: it left the book).
    pub maker_remaining: Size,
    /// What remains of the taker after this fill (0: it is done).
    pub taker_remaining: Size,
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A new order passed validation; its sequence number is its time priority. Fills,
    /// cancellations and [`EventKind::Rested`] follow.
    Accepted {
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its limit (or protective) price.
        price: Price,
        /// Its size.
        size: Size,
        /// Its type.
        order_type: OrderType,
    },
    /// The unfilled part of a new order went into the book at its price.
    Rested {
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// The size that rests.
        size: Size,
    },
    /// A trade.
    Fill(Fill),
    /// An order's remaining size was cancelled. [`CancelReason::removes_from_book`] says
    /// whether it was resting (a book change) or was the unfilled part of an incoming order.
    Cancelled {
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// The size cancelled.
        remaining: Size,
        /// Why.
        reason: CancelReason,
    },
    /// A resting order's size was reduced in place (it keeps its time priority).
    Reduced {
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// The lots taken off.
        by: Size,
        /// The size left.
        remaining: Size,
    },
    /// Lots were given back to an order at its time priority
    /// ([`Command::Restore`](crate::Command::Restore)): a resting order grew in place, or an
    /// order that was not in the book entered it at its price, at the place in the queue its
    /// priority gives it. The last event of a restore that leaves lots in the book; the fills
    /// (and self-trade cancellations) it caused first, if its price crossed, come before.
    Restored {
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its price.
        price: Price,
        /// The lots added to the book: the restored size less what traded first.
        size: Size,
        /// Its size in the book after the restore (`size` when it was not resting).
        remaining: Size,
        /// Its time priority (the command's, which is the one it keeps).
        priority: u64,
    },
    /// A command was refused and changed nothing.
    Rejected {
        /// The order it named (none for a cancel-all).
        order: Option<OrderId>,
        /// The account that sent it.
        account: AccountId,
        /// Why.
        reason: RejectReason,
    },
}

/// Why an order's size was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CancelReason {
    /// The owner cancelled it (a cancel, a cancel-all, or a reduction by its whole size).
    User,
    /// The unfilled part of an IOC or market order.
    ImmediateOrCancel,
    /// A fill-or-kill order that could not fill completely; nothing was filled.
    FillOrKill,
    /// A resting order cancelled because an incoming order of the same account met it.
    SelfTradeResting,
    /// The rest of an incoming order cancelled because it met a resting order of the same
    /// account.
    SelfTradeIncoming,
}

impl CancelReason {
    /// Whether the cancelled order was resting in the book (else it was an incoming order's
    /// unfilled part, never in the book).
    pub fn removes_from_book(self) -> bool {
        matches!(self, CancelReason::User | CancelReason::SelfTradeResting)
    }
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Error)]
pub enum RejectReason {
    /// No market with this id.
    #[error("unknown market")]
    UnknownMarket,
    /// A size of zero lots.
    #[error("size is zero")]
    ZeroSize,
    /// A size below the market's minimum.
    #[error("size is below the market's minimum of {} lots", min.0)]
    BelowMinSize {
        /// The market's minimum, in lots.
        min: Size,
    },
    /// A price of zero ticks.
    #[error("price is zero")]
    ZeroPrice,
    /// An order with this id rests in the book.
    #[error("an order with this id is live in the book")]
    DuplicateOrderId,
    /// A post-only order whose price reaches the opposite best price.
    #[error("post-only order would cross the best opposite price {}", best.0)]
    PostOnlyWouldCross {
        /// The opposite best price it would have taken.
        best: Price,
    },
    /// No resting order with this id.
    #[error("no such order in the book")]
    UnknownOrder,
    /// The order belongs to another account.
    #[error("the order belongs to another account")]
    NotOwner,
    /// A restore's priority is 0 or not below the engine's next sequence number: not the
    /// sequence number of an event that happened.
    #[error("the priority is not a past sequence number")]
    InvalidPriority,
    /// A restore names an order that rests in the book with another side, price or priority:
    /// another order with the same id, or wrong data.
    #[error("the resting order with this id has another side, price or priority")]
    RestoreMismatch,
    /// A restore of an order that is not in the book names a priority that a resting order at
    /// the same side and price, or of the same account, holds. Sequence numbers are unique,
    /// so it cannot be the order's own, and two orders with one priority in one queue or in
    /// one account's list would have no defined order.
    #[error("a resting order at this price or of this account has this priority")]
    PriorityInUse,
    /// A restore would take a resting order's size beyond `u64::MAX` lots.
    #[error("the order's size would overflow")]
    SizeOverflow,
}
