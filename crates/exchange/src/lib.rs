//! zklink's order-book venue. Users sign [`zklink_types::Order`]s; the venue matches them with
//! [`zklink_matching`] and settles every fill on L2 as an `OrderMatching` tx signed by its own
//! submitter account. It never holds users' funds: the node checks every fill against the signed
//! terms and the owners' balances.
//!
//! # The flow
//! 1. **Check** (off the sequencing path): the order's signature is verified once, when it is
//!    placed.
//! 2. **Gate** ([`ledger`]): the signer is the account's L2 key, the order's nonce fits its slot,
//!    the account's balance covers it on top of its open orders. What the venue does not know
//!    well enough (a new account, a failed check) is read from the node first.
//! 3. **Journal** ([`journal`]): the accepted input is appended to the write-ahead journal;
//!    requests that arrive together share one sync (group commit). Nothing is acknowledged
//!    before it is durable.
//! 4. **Apply** ([`venue`]): the input runs through the engine; orders, fills and market data
//!    are updated. This part is deterministic: the journal replayed rebuilds it exactly (after a
//!    crash; by an auditor, [`audit`]).
//! 5. **Settle** ([`settle`]): fills go to the node in their engine sequence, in batches
//!    (`zklink_submitTxs`). The n-th fill that is not refused carries submitter nonce
//!    `first nonce + n`, so after a crash the node's nonce of the submitter says exactly which
//!    fills it has. A fill the node refuses is journaled as a refusal: the offending order is
//!    cancelled, the counterparty gets the size back at its time priority.
//!
//! Orders sign a validity window: the venue refuses one that is not valid yet or expires within
//! [`EXPIRY_MARGIN_MS`], and every entry first expires the resting orders past it, so a replay
//! expires exactly what the venue did ([`input`], Expiry). A hard cancel
//! ([`service::Exchange::cancel_hard`]) is the owner's `CancelOrder` L2 tx: the venue sends it to
//! the node and, once accepted, journals it and cancels the slot's orders up to its nonce.
//! 6. **Publish** ([`service`], [`rpc`]): replies, book deltas with sequence numbers, trades,
//!    each account's order updates.

pub mod audit;
pub mod error;
pub mod input;
pub mod journal;
pub mod ledger;
pub mod market;
pub mod node;
pub mod rpc;
pub mod service;
pub mod settle;
pub mod stats;
#[cfg(feature = "test-utils")]
pub mod test_utils;
pub mod venue;
pub mod views;

pub use error::{codes, CancelError, HardCancelError, PlaceError};
pub use input::{expiry_ms, CancelAllRequest, CancelRequest, Entry, Input, Offender, OrderHash, EXPIRY_MARGIN_MS};
pub use market::{Market, MarketConfig};
pub use venue::{FillRecord, OrderRecord, OrderStatus, Venue};
