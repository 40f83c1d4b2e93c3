//! Typed errors. Every message says what was wrong and what was expected.

use thiserror::Error;

use crate::ids::{AccountId, ChainId, Nonce, OrderNonce, SlotId, SubAccountId, TokenId};

/// Malformed bytes: a decoder never panics, it returns one of these.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length { what: &'static str, expected: usize, got: usize },
    #[error("unexpected end of input reading {what}: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd { what: &'static str, needed: usize, remaining: usize },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: &'static str },
    #[error("unknown operation type 0x{0:02x}")]
    UnknownOpType(u8),
    #[error("{what}: {trailing} trailing bytes after the last field")]
    Trailing { what: &'static str, trailing: usize },
}

/// Why a transaction was rejected (by field validation or by the executor).
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    #[error("malformed input: {0}")]
    Decode(#[from] DecodeError),
    #[error("{field} = {value} is out of range: at most {max} allowed")]
    FieldOutOfRange { field: &'static str, value: u128, max: u128 },
    #[error("account {0} does not exist")]
    AccountNotFound(AccountId),
    #[error("account id {account} is out of range for this network (at most {max})")]
    AccountIdOutOfRange { account: AccountId, max: u32 },
    #[error("the account tree is full: no free account id left (capacity {capacity})")]
    AccountTreeFull { capacity: u64 },
    #[error("account {account} may not {action}: {reason}")]
    ReservedAccount { account: AccountId, action: &'static str, reason: &'static str },
    #[error("sub-account {sub} is out of range (this network has sub-accounts 0..={max})")]
    SubAccountOutOfRange { sub: SubAccountId, max: u8 },
    #[error("token {token} is not valid here: {reason}")]
    InvalidToken { token: TokenId, reason: &'static str },
    #[error("token {token} is out of range for this network (at most {max})")]
    TokenOutOfRange { token: TokenId, max: u16 },
    #[error("token {token} is not registered on chain {chain}")]
    TokenNotOnChain { token: TokenId, chain: ChainId },
    #[error("cannot move L2 token {l2_token} as L1 token {l1_token}: {reason}")]
    InvalidTokenMapping { l1_token: TokenId, l2_token: TokenId, reason: &'static str },
    #[error("chain {chain} is not usable: {reason}")]
    InvalidChain { chain: ChainId, reason: &'static str },
    #[error("slot {slot} is out of range (this network has slots 0..={max})")]
    SlotOutOfRange { slot: SlotId, max: u16 },
    #[error("{value} cannot be packed as a {format}; round it with round_down/round_up first")]
    NotPackable { value: u128, format: &'static str },
    #[error("amount {amount} has precision finer than the L1 token's {decimals} decimals on chain {chain}; it must be a multiple of {unit}")]
    AmountBelowL1Precision { amount: u128, decimals: u8, chain: ChainId, unit: u128 },
    #[error("amount must be greater than zero")]
    ZeroAmount,
    #[error("fast-withdraw fee ratio {0} exceeds 10000 (100%)")]
    FeeRatioTooHigh(u16),
    #[error("wrong nonce for account {account}: tx has {got}, account is at {expected}")]
    NonceMismatch { account: AccountId, expected: Nonce, got: Nonce },
    #[error("account {0}'s nonce is at its maximum; it cannot sign any more transactions")]
    NonceOverflow(AccountId),
    #[error("account {0} has no L2 key yet: set one with ChangePubKey first")]
    NoPubKey(AccountId),
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("the signer's key (pubkey hash {got}) is not account {account}'s key ({expected})")]
    WrongSigner { account: AccountId, expected: String, got: String },
    #[error("bad L1 authorisation: {0}")]
    BadL1Auth(String),
    #[error("no on-chain authorisation fact for account {account} with nonce {nonce} on chain {chain}")]
    MissingAuthFact { account: AccountId, nonce: Nonce, chain: ChainId },
    #[error(
        "insufficient balance: account {account} sub-account {sub} has {available} of token {token}, needs {required}"
    )]
    InsufficientBalance { account: AccountId, sub: SubAccountId, token: TokenId, available: u128, required: u128 },
    #[error("balance overflow: account {account} sub-account {sub} token {token} would exceed 2^128 - 1")]
    BalanceOverflow { account: AccountId, sub: SubAccountId, token: TokenId },
    #[error("chain {chain} holds only {available} of reserve token {reserve}, cannot pay out {required}")]
    InsufficientReserve { chain: ChainId, reserve: TokenId, available: u128, required: u128 },
    #[error("a transfer must move funds between different (account, sub-account) pairs")]
    SelfTransfer,
    #[error("the receiver address is invalid: {0}")]
    InvalidAddress(&'static str),
    #[error("forced exit target account {0} has an L2 key; only keyless accounts can be force-exited")]
    TargetHasKey(AccountId),
    #[error("nothing to exit: the target balance is zero (or below the L1 token's precision)")]
    NothingToExit,
    #[error("orders do not match: {0}")]
    OrderMismatch(&'static str),
    #[error("order slot {slot} of account {account}: order nonce {got} is not usable, slot is at nonce {slot_nonce} with residue {residue}")]
    OrderNonceMismatch { account: AccountId, slot: SlotId, slot_nonce: OrderNonce, residue: u128, got: OrderNonce },
    #[error("prices do not cross: {0}")]
    PricesDoNotCross(&'static str),
    #[error("trade amount is zero: {0}")]
    ZeroFill(&'static str),
    #[error("the quote amount {quote} exceeds the submitter's expected quote cap {cap}")]
    ExpectedQuoteExceeded { quote: u128, cap: u128 },
    #[error("arithmetic overflow computing {0}")]
    ArithmeticOverflow(&'static str),
    #[error("internal error (the node must stop and be checked): {0}")]
    Internal(String),
    #[error("the block is full: {needed} chunks needed, {available} left")]
    BlockFull { needed: usize, available: usize },
}
