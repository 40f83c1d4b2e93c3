//! The engine's input: commands, applied one at a time in the order given.

use serde::{Deserialize, Serialize};

use crate::types::{AccountId, MarketId, OrderId, OrderType, Price, Side, Size};

/// A new order, on the market's grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewOrder {
    /// The market (order book).
    pub market: MarketId,
    /// The caller's id for it; refused if an order with this id rests in the book.
    pub id: OrderId,
    /// The owner.
    pub account: AccountId,
    /// Buy or sell.
    pub side: Side,
    /// The limit price in ticks (for [`OrderType::Market`], the protective worst price).
    pub price: Price,
    /// The size in lots.
    pub size: Size,
    /// What to do with the part that does not fill at once.
    pub order_type: OrderType,
}

/// One input to the [`Engine`](crate::Engine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Place a new order.
    Place(NewOrder),
    /// Cancel a resting order; only its owner may.
    Cancel {
        /// The market.
        market: MarketId,
        /// The order.
        order: OrderId,
        /// Who asks; must be the order's owner.
        account: AccountId,
    },
    /// Reduce a resting order's remaining size by `by` lots, keeping its time priority; a
    /// reduction by its whole remaining size (or more) cancels it. Only its owner may. (A larger
    /// size or another price is a cancel and a new order, at the back of the queue.)
    Reduce {
        /// The market.
        market: MarketId,
        /// The order.
        order: OrderId,
        /// Who asks; must be the order's owner.
        account: AccountId,
        /// How many lots to take off (> 0).
        by: Size,
    },
    /// Cancel every resting order of an account, oldest first: in one market, or in every
    /// market (ascending market id) when `market` is `None`.
    CancelAll {
        /// The account.
        account: AccountId,
        /// The market, or all of them.
        market: Option<MarketId>,
    },
}

impl Command {
    /// The account that issued the command.
    pub fn account(&self) -> AccountId {
        match self {
            Command::Place(o) => o.account,
            Command::Cancel { account, .. } | Command::Reduce { account, .. } | Command::CancelAll { account, .. } => {
                *account
            }
        }
    }
}
