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
    /// Give an order `size` lots back at its original time priority: the exchange's answer to
    /// a fill the L2 refused, for the counterparty of the order it cancels (see the crate docs,
    /// "Restore"). If the order rests, it grows in place (side, price and priority must be
    /// its own). If not, it first trades with whatever its price now crosses, as a limit
    /// order would, and the rest re-enters its price level's queue at the place `priority`
    /// gives it. The market's minimum size does not apply (a fill can be smaller).
    Restore {
        /// The market.
        market: MarketId,
        /// The order.
        order: OrderId,
        /// Its owner.
        account: AccountId,
        /// Its side.
        side: Side,
        /// Its limit price in ticks.
        price: Price,
        /// How many lots to give back (> 0).
        size: Size,
        /// Its time priority: the sequence number of its
        /// [`EventKind::Accepted`](crate::EventKind::Accepted) (≥ 1 and below
        /// [`Engine::next_seq`](crate::Engine::next_seq)), which it keeps.
        priority: u64,
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
            Command::Cancel { account, .. }
            | Command::Reduce { account, .. }
            | Command::Restore { account, .. }
            | Command::CancelAll { account, .. } => *account,
        }
    }
}
