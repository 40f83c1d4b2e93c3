//! The venue's input: journal entries (what was accepted, in order, with the time it was
//! accepted) and the owner-signed requests that cancel orders.
//!
//! Every entry is journaled before its effects are acknowledged, and replaying the journal
//! through a fresh [`crate::Venue`] rebuilds the venue exactly: the engine's book, every order's
//! status, every fill. The journal is public (`exchange_journal`), so anyone can replay it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zklink_crypto::eddsa::PrivateKey;
use zklink_matching::{MarketId, OrderType};
use zklink_types::{message_of, AccountId, CancelOrder, Nonce, Order, PubKeyHash, SubAccountId, TxError, TxSignature};

use crate::market::Market;

/// Tag of a signed cancel's bytes (distinct from every tx type and from an order's `0xff`).
pub const CANCEL_TAG: u8 = 0xfc;
/// Tag of a signed cancel-all's bytes.
pub const CANCEL_ALL_TAG: u8 = 0xfb;
/// A cancel-all's `market` field meaning "every market".
pub const ALL_MARKETS: u32 = u32::MAX;

/// How long before an order's `valid_until` second begins the venue stops matching it, in
/// milliseconds. A fill is matched at one moment and lands in an L2 block a little later (the
/// settler's batch, the node's queue); the block's timestamp must still be within both orders'
/// windows. 2 s covers that gap on a venue that keeps up; a fill that lands later anyway is
/// refused by the node and handled as any refused fill (the offender is the expired order).
pub const EXPIRY_MARGIN_MS: u64 = 2_000;

/// The first moment, Unix milliseconds, at which the venue no longer matches `order`:
/// `valid_until · 1000 − EXPIRY_MARGIN_MS`. `u64::MAX` for an order that does not expire
/// ([`Order::NO_EXPIRY`]).
pub fn expiry_ms(order: &Order) -> u64 {
    order.expires_at().map_or(u64::MAX, |until| (u64::from(until) * 1000).saturating_sub(EXPIRY_MARGIN_MS))
}

/// An order's identity: SHA-256 of its signed bytes (the signature is not part of it, so the
/// same terms signed twice are the same order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderHash(#[serde(with = "zklink_types::serde_hex")] pub [u8; 32]);

impl OrderHash {
    /// The hash of `order`; fails if its amount is not packable.
    pub fn of(order: &Order) -> Result<OrderHash, TxError> {
        Ok(OrderHash(Sha256::digest(order.signed_bytes()?).into()))
    }
}

impl std::fmt::Display for OrderHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

/// The owner's request to cancel one of its orders: `msg(fc ‖ account u32 ‖ order hash 32)`
/// signed by the account's L2 key. It names the order by its hash, so it cannot cancel any
/// other order (a later order in the same slot, even with the same nonce, has another hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// The owner.
    pub account_id: AccountId,
    /// The order.
    pub order: OrderHash,
    /// The owner's signature.
    pub signature: TxSignature,
}

impl CancelRequest {
    /// The signed bytes.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(37);
        b.push(CANCEL_TAG);
        b.extend_from_slice(&self.account_id.0.to_be_bytes());
        b.extend_from_slice(&self.order.0);
        b
    }

    /// Signed by `key`.
    pub fn sign(account_id: AccountId, order: OrderHash, key: &PrivateKey) -> Result<CancelRequest, TxError> {
        let mut r = CancelRequest { account_id, order, signature: TxSignature::default() };
        r.signature = TxSignature::sign(key, message_of(&r.signed_bytes())?);
        Ok(r)
    }

    /// The key hash that signed it.
    pub fn signer(&self) -> Result<PubKeyHash, TxError> {
        self.signature.verify(message_of(&self.signed_bytes())?)
    }
}

/// The owner's request to cancel all its orders, in one market or all:
/// `msg(fb ‖ account u32 ‖ market u32 (ff…ff: all) ‖ time_ms u64)`. The time makes it single-use:
/// the venue takes it only within a minute of its clock and only after the account's previous
/// cancel-all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelAllRequest {
    /// The owner.
    pub account_id: AccountId,
    /// The market, or [`ALL_MARKETS`].
    pub market: u32,
    /// When it was signed, Unix milliseconds.
    pub time_ms: u64,
    /// The owner's signature.
    pub signature: TxSignature,
}

impl CancelAllRequest {
    /// The signed bytes.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(17);
        b.push(CANCEL_ALL_TAG);
        b.extend_from_slice(&self.account_id.0.to_be_bytes());
        b.extend_from_slice(&self.market.to_be_bytes());
        b.extend_from_slice(&self.time_ms.to_be_bytes());
        b
    }

    /// Signed by `key`.
    pub fn sign(account_id: AccountId, market: u32, time_ms: u64, key: &PrivateKey) -> Result<Self, TxError> {
        let mut r = CancelAllRequest { account_id, market, time_ms, signature: TxSignature::default() };
        r.signature = TxSignature::sign(key, message_of(&r.signed_bytes())?);
        Ok(r)
    }

    /// The key hash that signed it.
    pub fn signer(&self) -> Result<PubKeyHash, TxError> {
        self.signature.verify(message_of(&self.signed_bytes())?)
    }

    /// The market it names, `None` for all.
    pub fn market_id(&self) -> Option<MarketId> {
        (self.market != ALL_MARKETS).then_some(MarketId(self.market))
    }
}

/// Which side of a fill the node refused to settle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Offender {
    /// The resting order's owner (its funds, key or slot).
    Maker,
    /// The incoming order's owner.
    Taker,
}

/// One accepted input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Input {
    /// The journal's first entry: who settles, in which sub-account, from which nonce.
    Genesis {
        /// The submitter account (signs every `OrderMatching`, collects the trading fees).
        submitter: AccountId,
        /// The sub-account every order and matching uses.
        sub_account: SubAccountId,
        /// The submitter's nonce when the venue began: the n-th settled fill (0-based, refused
        /// fills not counted) carries nonce `first_nonce + n`.
        first_nonce: Nonce,
    },
    /// A market opens.
    ListMarket(Market),
    /// A signed order is placed.
    Place {
        /// The market.
        market: MarketId,
        /// What to do with its unfilled part.
        order_type: OrderType,
        /// The owner's signed order.
        order: Order,
    },
    /// The owner cancels an order.
    Cancel(CancelRequest),
    /// The owner cancels all its orders (in one market or all).
    CancelAll(CancelAllRequest),
    /// Nothing but its time: the resting orders expired by then leave the book (module docs,
    /// Expiry; every entry does that first, this one does nothing else).
    Expire,
    /// The owner's hard cancel, after the node accepted it: the `CancelOrder` L2 tx moved the
    /// slot's nonce past `order_nonce`, so every open order of that slot (in the venue's
    /// sub-account) with a nonce up to `order_nonce` is cancelled (reason `hard cancel …`), and
    /// no later order of the slot with such a nonce is placed.
    HardCancel(CancelOrder),
    /// The node refused a fill: the offending order is cancelled and the counterparty gets the
    /// size back at its time priority (if it was a resting order and is still live).
    SettlementRefused {
        /// The fill (its engine sequence number).
        fill: u64,
        /// Whose order failed.
        offender: Offender,
        /// The node's reason.
        reason: String,
    },
}

/// A journaled input: its index (1, 2, … without gaps) and when it was accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Position in the journal, from 1.
    pub index: u64,
    /// Acceptance time, Unix milliseconds (market data is stamped with it).
    pub time_ms: u64,
    /// What was accepted.
    pub input: Input,
}
