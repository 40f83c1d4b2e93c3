//! What signing shares: the type byte that starts each tx's signed bytes, and the EdDSA message
//! of signed bytes (docs/protocol.md §1, §4).

use zklink_crypto::{poseidon, Fr};

use crate::error::{SignatureFault, TxError};

/// Signing type bytes; operation codes share the numbering (docs/protocol.md §4).
pub mod tx_type {
    use crate::op::op_code;

    /// Deposit (a priority request; never signed on L2).
    pub const DEPOSIT: u8 = op_code::DEPOSIT;
    /// Withdraw: byte 0 of its signed bytes.
    pub const WITHDRAW: u8 = op_code::WITHDRAW;
    /// Transfer: byte 0 of its signed bytes (also when it becomes a TransferToNew op).
    pub const TRANSFER: u8 = op_code::TRANSFER;
    /// Full exit (a priority request; never signed on L2).
    pub const FULL_EXIT: u8 = op_code::FULL_EXIT;
    /// ChangePubKey: byte 0 of its signed bytes.
    pub const CHANGE_PUBKEY: u8 = op_code::CHANGE_PUBKEY;
    /// ForcedExit: byte 0 of its signed bytes.
    pub const FORCED_EXIT: u8 = op_code::FORCED_EXIT;
    /// OrderMatching: byte 0 of its header.
    pub const ORDER_MATCHING: u8 = op_code::ORDER_MATCHING;
    /// Orders are signed but never an op of their own.
    pub const ORDER: u8 = 0xff;
    /// CancelOrder: byte 0 of its signed bytes.
    pub const CANCEL_ORDER: u8 = op_code::CANCEL_ORDER;
    /// CreatePool: byte 0 of its signed bytes.
    pub const CREATE_POOL: u8 = op_code::CREATE_POOL;
    /// AddLiquidity: byte 0 of its signed bytes.
    pub const ADD_LIQUIDITY: u8 = op_code::ADD_LIQUIDITY;
    /// RemoveLiquidity: byte 0 of its signed bytes.
    pub const REMOVE_LIQUIDITY: u8 = op_code::REMOVE_LIQUIDITY;
    /// Swap: byte 0 of its signed bytes.
    pub const SWAP: u8 = op_code::SWAP;
}

/// EdDSA message of a byte string: circomlib Poseidon over its 31-byte chunks.
pub fn message_of(bytes: &[u8]) -> Result<Fr, TxError> {
    poseidon::hash_bytes(bytes).map_err(SignatureFault::crypto("message"))
}
