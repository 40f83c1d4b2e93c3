//! zklink protocol types: ids, amounts and packed floats, network presets and config,
//! transactions with their canonical signed bytes, and operations with their pubdata.
//! `docs/protocol.md` is the byte-exact specification of everything encoded here.

pub mod amount;
pub mod api;
pub mod bytes;
pub mod describe;
pub mod error;
pub mod ids;
pub mod network;
pub mod op;
pub mod pool;
pub mod pool_tx;
pub mod ranges;
pub mod serde_hex;
pub mod serde_str;
pub mod settlement;
pub mod signature;
pub mod signed;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod token;
pub mod tx;
pub mod units;

pub use alloy_primitives::Address;
pub use amount::{Amount, FloatFormat, Price, AMOUNT_FLOAT, FEE_FLOAT, PRICE_ONE};
pub use error::{DecodeError, SignatureFault, TxError};
pub use ids::*;
pub use network::{ChainInfo, Network, NetworkError, Preset, PresetError, TokenInfo, TokenOnChain};
pub use op::{Op, CHUNK_BYTES};
pub use pool::{PoolKind, PoolParams, Reserves};
pub use settlement::{order_fee, FillSettlement};
pub use signature::TxSignature;
pub use token::*;
pub use tx::*;
pub use zklink_crypto::eddsa::PubKeyHash;
