//! Markets: what the configuration names (symbols and decimal strings) and what the venue uses
//! (token ids, the engine's grid in raw protocol units, fee ratios).

use serde::{Deserialize, Serialize};
use zklink_matching::{MarketId, MarketSpec, Size, StpPolicy};
use zklink_types::units::{parse_units, L2_DECIMALS};
use zklink_types::{Network, TokenId};

/// A market as configured (`exchange.json`): tokens by symbol, grid and minimum in whole units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarketConfig {
    /// The market's id (stable: the journal and clients name markets by it).
    pub id: u32,
    /// The token bought and sold, by symbol or id (`ETH`, `WETH`, `32`).
    pub base: String,
    /// The token prices are in, by symbol or id (`USD`, `USDC`).
    pub quote: String,
    /// Price step in quote per base, as a decimal ("0.01").
    pub tick: String,
    /// Size step in base, as a decimal ("0.001").
    pub lot: String,
    /// The smallest order, in base, as a decimal ("0.01"); a multiple of the lot.
    pub min_size: String,
    /// Fee ratio a maker pays on what it receives, in 1/10^4 (at most 255). Orders must sign at
    /// least this.
    pub maker_fee_ratio: u8,
    /// Fee ratio a taker pays on what it receives, in 1/10^4 (at most 255).
    pub taker_fee_ratio: u8,
    /// Self-trade prevention (`CancelResting`, the default; `CancelIncoming`; `CancelBoth`).
    #[serde(default)]
    pub stp: StpPolicy,
}

/// A market the venue trades: resolved tokens and the engine's grid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Market {
    /// Its id.
    pub id: MarketId,
    /// `BASE/QUOTE` by the network's symbols.
    pub symbol: String,
    /// The base token.
    pub base: TokenId,
    /// The quote token.
    pub quote: TokenId,
    /// Grid in raw units (price: 18-decimal quote per base; size: base L2 units), minimum in
    /// lots, self-trade policy. (Written with decimal strings: the journal's tagged entries
    /// cannot carry 128-bit numbers.)
    #[serde(with = "spec_serde")]
    pub spec: MarketSpec,
    /// Least maker fee ratio an order must sign.
    pub maker_fee_ratio: u8,
    /// Least taker fee ratio an order must sign.
    pub taker_fee_ratio: u8,
}

/// Why a market's configuration is refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum MarketError {
    /// A token the network does not list.
    #[error("market {market}: {name:?} is no token of this network (known: {known})")]
    UnknownToken {
        /// The market id.
        market: u32,
        /// What was given.
        name: String,
        /// The names the network knows.
        known: String,
    },
    /// Base and quote are the same token.
    #[error("market {market}: base and quote are both token {token}")]
    SameToken {
        /// The market id.
        market: u32,
        /// The token.
        token: TokenId,
    },
    /// A decimal field that does not parse, is zero, or is not on the grid.
    #[error("market {market}: {field} {value:?} {reason}")]
    Field {
        /// The market id.
        market: u32,
        /// The field.
        field: &'static str,
        /// What was given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two markets with one id.
    #[error("market id {0} is configured twice")]
    DuplicateId(u32),
}

impl MarketConfig {
    /// Resolves symbols against `network` and decimals into raw units.
    pub fn resolve(&self, network: &Network) -> Result<Market, MarketError> {
        let token = |name: &str| {
            network.token_by_name(name).ok_or_else(|| MarketError::UnknownToken {
                market: self.id,
                name: name.into(),
                known: network.token_names(),
            })
        };
        let (base, quote) = (token(&self.base)?, token(&self.quote)?);
        if base == quote {
            return Err(MarketError::SameToken { market: self.id, token: base });
        }
        let field = |field: &'static str, value: &str| -> Result<u128, MarketError> {
            let bad = |reason| MarketError::Field { market: self.id, field, value: value.into(), reason };
            match parse_units(value, L2_DECIMALS) {
                None => Err(bad("is not a decimal with at most 18 decimals")),
                Some(0) => Err(bad("must be positive")),
                Some(v) => Ok(v),
            }
        };
        let (tick, lot, min) =
            (field("tick", &self.tick)?, field("lot", &self.lot)?, field("minSize", &self.min_size)?);
        if !min.is_multiple_of(lot) {
            return Err(MarketError::Field {
                market: self.id,
                field: "minSize",
                value: self.min_size.clone(),
                reason: "is not a multiple of the lot",
            });
        }
        let min_lots = u64::try_from(min / lot).map_err(|_| MarketError::Field {
            market: self.id,
            field: "minSize",
            value: self.min_size.clone(),
            reason: "is more than 2^64 lots",
        })?;
        Ok(Market {
            id: MarketId(self.id),
            symbol: format!("{}/{}", network.symbol(base), network.symbol(quote)),
            base,
            quote,
            spec: MarketSpec::new(tick, lot, Size(min_lots)).with_stp(self.stp),
            maker_fee_ratio: self.maker_fee_ratio,
            taker_fee_ratio: self.taker_fee_ratio,
        })
    }
}

/// Resolves every configured market; ids must be unique.
pub fn resolve_all(configs: &[MarketConfig], network: &Network) -> Result<Vec<Market>, MarketError> {
    let mut out: Vec<Market> = Vec::with_capacity(configs.len());
    for c in configs {
        if out.iter().any(|m| m.id.0 == c.id) {
            return Err(MarketError::DuplicateId(c.id));
        }
        out.push(c.resolve(network)?);
    }
    Ok(out)
}

mod spec_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use zklink_matching::{MarketSpec, Size, StpPolicy};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire {
        #[serde(with = "zklink_types::serde_str")]
        tick: u128,
        #[serde(with = "zklink_types::serde_str")]
        lot: u128,
        min_size: u64,
        stp: StpPolicy,
    }

    pub(super) fn serialize<S: Serializer>(s: &MarketSpec, ser: S) -> Result<S::Ok, S::Error> {
        Wire { tick: s.tick, lot: s.lot, min_size: s.min_size.0, stp: s.stp }.serialize(ser)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<MarketSpec, D::Error> {
        let w = Wire::deserialize(de)?;
        Ok(MarketSpec::new(w.tick, w.lot, Size(w.min_size)).with_stp(w.stp))
    }
}
