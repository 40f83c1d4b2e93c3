//! Identifiers, the integer price/size grid, order types, self-trade policies and a market's
//! specification (with the conversions between raw protocol units and the grid).

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A market (one order book), named by the exchange's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MarketId(pub u32);

/// The account that owns an order. Self-trade prevention compares these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u32);

/// An order's id, assigned by the caller. A market refuses an id that is live in its book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// A price in ticks of its market ([`MarketSpec::tick`] raw price units per tick).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(pub u64);

/// A size in lots of its market ([`MarketSpec::lot`] raw base units per lot).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Size(pub u64);

/// Which side of the book an order is on: a buy (bid) or a sell (ask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Side {
    /// Buys base for quote; rests on the bid side.
    Buy,
    /// Sells base for quote; rests on the ask side.
    Sell,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    /// Whether an order on this side with limit `limit` may trade at `price` (a buy at or
    /// below its limit, a sell at or above).
    pub fn accepts(self, limit: Price, price: Price) -> bool {
        match self {
            Side::Buy => price <= limit,
            Side::Sell => price >= limit,
        }
    }
}

/// How an order treats the part it cannot fill at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    /// Good till cancelled: matches what it can, rests the remainder at its limit price.
    Limit,
    /// Immediate or cancel: matches what it can, cancels the remainder.
    Ioc,
    /// Fill or kill: fills completely at once or not at all (checked before any fill).
    Fok,
    /// Rests without taking: refused if its price would cross the opposite best price.
    PostOnly,
    /// A market order: an IOC whose limit is the user's signed protective (worst) price.
    Market,
}

/// What a market does when an incoming order meets a resting order of the same account.
///
/// The engine never fills an account against itself; the policy only chooses which order
/// gives way. See the crate docs for the default and why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StpPolicy {
    /// Cancel the resting order (in full) and keep matching the incoming one against the
    /// orders behind it ("expire maker", "cancel oldest"). The default.
    #[default]
    CancelResting,
    /// Keep the resting order and cancel the rest of the incoming order ("expire taker",
    /// "cancel newest"). Fills before the meeting stand.
    CancelIncoming,
    /// Cancel both the resting order and the rest of the incoming order ("expire both").
    CancelBoth,
}

/// A market's grid and rules.
///
/// Prices and sizes inside the engine are integers on this grid. The raw units are the
/// protocol's: a price is quote units per base unit in 18-decimal fixed point, an amount is
/// base units (see `zklink_types::Order`), both `u128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MarketSpec {
    /// Raw price units per tick (> 0).
    pub tick: u128,
    /// Raw base-amount units per lot (> 0).
    pub lot: u128,
    /// The smallest order a market accepts, in lots (≥ 1). Remainders after fills and
    /// reductions may be smaller.
    pub min_size: Size,
    /// Self-trade prevention.
    pub stp: StpPolicy,
}

/// Why a raw price or amount does not fit a market's grid, or a market spec is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum GridError {
    /// The spec's tick or lot is zero, or its minimum size is zero.
    #[error("invalid market spec: tick, lot and minimum size must be positive")]
    InvalidSpec,
    /// A price of zero (after rounding a protective price down, for a buy).
    #[error("price is zero")]
    ZeroPrice,
    /// An amount of zero.
    #[error("amount is zero")]
    ZeroAmount,
    /// The raw price is not a multiple of the tick.
    #[error("price {price} is not a multiple of the tick {tick}")]
    OffTick {
        /// The raw price.
        price: u128,
        /// The market's tick.
        tick: u128,
    },
    /// The raw amount is not a multiple of the lot.
    #[error("amount {amount} is not a multiple of the lot {lot}")]
    OffLot {
        /// The raw amount.
        amount: u128,
        /// The market's lot.
        lot: u128,
    },
    /// The value in ticks or lots does not fit in 64 bits, or the raw value in 128 bits.
    #[error("value out of range")]
    Overflow,
}

impl MarketSpec {
    /// A spec with the default self-trade policy.
    pub fn new(tick: u128, lot: u128, min_size: Size) -> MarketSpec {
        MarketSpec { tick, lot, min_size, stp: StpPolicy::default() }
    }

    /// The same spec with another self-trade policy.
    pub fn with_stp(self, stp: StpPolicy) -> MarketSpec {
        MarketSpec { stp, ..self }
    }

    /// Fails with [`GridError::InvalidSpec`] if the tick, the lot or the minimum size is zero.
    pub fn check(&self) -> Result<(), GridError> {
        if self.tick == 0 || self.lot == 0 || self.min_size.0 == 0 {
            return Err(GridError::InvalidSpec);
        }
        Ok(())
    }

    /// A limit price in raw units as ticks: it must be a positive multiple of the tick.
    pub fn price_to_ticks(&self, raw: u128) -> Result<Price, GridError> {
        self.check()?;
        if raw == 0 {
            return Err(GridError::ZeroPrice);
        }
        if !raw.is_multiple_of(self.tick) {
            return Err(GridError::OffTick { price: raw, tick: self.tick });
        }
        u64::try_from(raw / self.tick).map(Price).map_err(|_| GridError::Overflow)
    }

    /// A signed protective (worst) price as ticks, rounded to the grid in the signer's favour:
    /// down for a buy (it never pays more than signed), up for a sell (it never receives
    /// less). Market orders use this, since their worst price need not sit on the grid.
    pub fn protective_price_to_ticks(&self, raw: u128, side: Side) -> Result<Price, GridError> {
        self.check()?;
        let ticks = match side {
            Side::Buy => raw / self.tick,
            Side::Sell => raw.div_ceil(self.tick),
        };
        if ticks == 0 {
            return Err(GridError::ZeroPrice);
        }
        u64::try_from(ticks).map(Price).map_err(|_| GridError::Overflow)
    }

    /// A base amount in raw units as lots: it must be a positive multiple of the lot.
    pub fn amount_to_lots(&self, raw: u128) -> Result<Size, GridError> {
        self.check()?;
        if raw == 0 {
            return Err(GridError::ZeroAmount);
        }
        if !raw.is_multiple_of(self.lot) {
            return Err(GridError::OffLot { amount: raw, lot: self.lot });
        }
        u64::try_from(raw / self.lot).map(Size).map_err(|_| GridError::Overflow)
    }

    /// A price in ticks as raw units.
    pub fn ticks_to_price(&self, price: Price) -> Result<u128, GridError> {
        self.tick.checked_mul(u128::from(price.0)).ok_or(GridError::Overflow)
    }

    /// A size in lots as raw base units.
    pub fn lots_to_amount(&self, size: Size) -> Result<u128, GridError> {
        self.lot.checked_mul(u128::from(size.0)).ok_or(GridError::Overflow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E18: u128 = 1_000_000_000_000_000_000;

    fn spec() -> MarketSpec {
        // ETH/USD: tick 0.01 USD, lot 0.001 ETH.
        MarketSpec::new(E18 / 100, E18 / 1000, Size(10))
    }

    #[test]
    fn price_on_and_off_the_tick() {
        let s = spec();
        assert_eq!(s.price_to_ticks(3000 * E18), Ok(Price(300_000)));
        assert_eq!(s.price_to_ticks(E18 / 1000), Err(GridError::OffTick { price: E18 / 1000, tick: E18 / 100 }));
        assert_eq!(s.price_to_ticks(0), Err(GridError::ZeroPrice));
        let tiny = MarketSpec::new(1, 1, Size(1));
        assert_eq!(tiny.price_to_ticks(u128::from(u64::MAX)), Ok(Price(u64::MAX)));
        assert_eq!(tiny.price_to_ticks(u128::from(u64::MAX) + 1), Err(GridError::Overflow));
    }

    #[test]
    fn protective_price_rounds_in_the_signers_favour() {
        let s = spec();
        let raw = 3000 * E18 + E18 / 1000; // 3000.001, between two ticks
        assert_eq!(s.protective_price_to_ticks(raw, Side::Buy), Ok(Price(300_000)));
        assert_eq!(s.protective_price_to_ticks(raw, Side::Sell), Ok(Price(300_001)));
        assert_eq!(s.protective_price_to_ticks(3000 * E18, Side::Sell), Ok(Price(300_000)));
        assert_eq!(s.protective_price_to_ticks(E18 / 1000, Side::Buy), Err(GridError::ZeroPrice));
        assert_eq!(s.protective_price_to_ticks(1, Side::Sell), Ok(Price(1)));
    }

    #[test]
    fn amounts_and_back() {
        let s = spec();
        assert_eq!(s.amount_to_lots(E18 / 4), Ok(Size(250)));
        assert_eq!(s.amount_to_lots(E18 / 4 + 1), Err(GridError::OffLot { amount: E18 / 4 + 1, lot: E18 / 1000 }));
        assert_eq!(s.amount_to_lots(0), Err(GridError::ZeroAmount));
        assert_eq!(s.lots_to_amount(Size(250)), Ok(E18 / 4));
        assert_eq!(s.ticks_to_price(Price(300_000)), Ok(3000 * E18));
        let huge = MarketSpec::new(u128::MAX / 2, u128::MAX / 2, Size(1));
        assert_eq!(huge.ticks_to_price(Price(3)), Err(GridError::Overflow));
        assert_eq!(huge.lots_to_amount(Size(3)), Err(GridError::Overflow));
    }

    #[test]
    fn invalid_specs_are_refused() {
        for s in [MarketSpec::new(0, 1, Size(1)), MarketSpec::new(1, 0, Size(1)), MarketSpec::new(1, 1, Size(0))] {
            assert_eq!(s.check(), Err(GridError::InvalidSpec));
            assert_eq!(s.price_to_ticks(5), Err(GridError::InvalidSpec));
            assert_eq!(s.amount_to_lots(5), Err(GridError::InvalidSpec));
        }
    }
}
