//! Typed errors. Every message says what was wrong and what was expected.

use thiserror::Error;
use zklink_crypto::CryptoError;

use crate::ids::{AccountId, ChainId, Nonce, OrderNonce, SlotId, SubAccountId, TokenId};

/// Malformed bytes: a decoder never panics, it returns one of these.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A fixed-size field or message had the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length {
        /// What was being decoded.
        what: &'static str,
        /// The length it must have, in bytes.
        expected: usize,
        /// The length it had.
        got: usize,
    },
    /// The input ended in the middle of a field.
    #[error("unexpected end of input reading {what}: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd {
        /// What was being decoded.
        what: &'static str,
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A field's value is not allowed (non-canonical float, boolean not 0/1, non-zero padding, ...).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// Which rule the value breaks.
        reason: &'static str,
    },
    /// Pubdata starts with a byte that is no op code (see [`crate::op::op_code`]).
    #[error("unknown operation type 0x{0:02x}")]
    UnknownOpType(u8),
    /// Bytes were left after the last field of a message that must be consumed exactly.
    #[error("{what}: {trailing} trailing bytes after the last field")]
    Trailing {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left over.
        trailing: usize,
    },
}

/// Why a transaction was rejected (by field validation or by the executor).
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum TxError {
    /// The tx or one of its parts could not be decoded.
    #[error("malformed input: {0}")]
    Decode(#[from] DecodeError),
    /// A numeric field exceeds its protocol maximum (price, order nonce, fee ratio of an order, ...).
    #[error("{field} = {value} is out of range: at most {max} allowed")]
    FieldOutOfRange {
        /// The field's name.
        field: &'static str,
        /// Its value.
        value: u128,
        /// The largest value allowed.
        max: u128,
    },
    /// The tx names an account id that has no account yet.
    #[error("account {0} does not exist")]
    AccountNotFound(AccountId),
    /// An account id is at least `2^account_bits` of the network's preset.
    #[error("account id {account} is out of range for this network (at most {max})")]
    AccountIdOutOfRange {
        /// The id named.
        account: AccountId,
        /// The largest id of the preset.
        max: u32,
    },
    /// A new account is needed but every id of the preset is taken.
    #[error("the account tree is full: no free account id left (capacity {capacity})")]
    AccountTreeFull {
        /// Number of account ids of the preset (`2^account_bits`).
        capacity: u64,
    },
    /// The tx would make account 1 (the global asset account) sign, hold a key or otherwise act.
    #[error("account {account} may not {action}: {reason}")]
    ReservedAccount {
        /// The reserved account named.
        account: AccountId,
        /// What the tx tried to make it do.
        action: &'static str,
        /// Why that is not allowed.
        reason: &'static str,
    },
    /// A sub-account id is at least `2^sub_account_bits` of the network's preset.
    #[error("sub-account {sub} is out of range (this network has sub-accounts 0..={max})")]
    SubAccountOutOfRange {
        /// The sub-account named.
        sub: SubAccountId,
        /// The largest sub-account id of the preset.
        max: u8,
    },
    /// A token id a user tx may not name: 0 or a USD reserve id (2..=16).
    #[error("token {token} is not valid here: {reason}")]
    InvalidToken {
        /// The token named.
        token: TokenId,
        /// Why it is not allowed here.
        reason: &'static str,
    },
    /// A token id is at least `2^token_bits` of the network's preset.
    #[error("token {token} is out of range for this network (at most {max})")]
    TokenOutOfRange {
        /// The token named.
        token: TokenId,
        /// The largest token id of the preset.
        max: u16,
    },
    /// The L1 token is not listed on the chain the funds move through.
    #[error("token {token} is not registered on chain {chain}")]
    TokenNotOnChain {
        /// The L1 token named.
        token: TokenId,
        /// The chain it is missing on.
        chain: ChainId,
    },
    /// The pair of L1 and L2 token breaks the token-mapping rule (docs/protocol.md §2).
    #[error("cannot move L2 token {l2_token} as L1 token {l1_token}: {reason}")]
    InvalidTokenMapping {
        /// The token that would move on L1.
        l1_token: TokenId,
        /// The token of the L2 balance.
        l2_token: TokenId,
        /// Which part of the rule is broken.
        reason: &'static str,
    },
    /// A chain id outside 1..=31 or not connected to this network.
    #[error("chain {chain} is not usable: {reason}")]
    InvalidChain {
        /// The chain named.
        chain: ChainId,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// An order slot id is at least `2^slot_bits` of the network's preset.
    #[error("slot {slot} is out of range (this network has slots 0..={max})")]
    SlotOutOfRange {
        /// The slot named.
        slot: SlotId,
        /// The largest slot id of the preset.
        max: u16,
    },
    /// An amount or fee that goes into pubdata as a packed float is not exactly representable.
    #[error(
        "{} is not a packable {format}: {}",
        crate::units::format_units(*.value, crate::units::L2_DECIMALS),
        crate::units::nearest_packable(*.below, *.above)
    )]
    NotPackable {
        /// The value, in L2 units.
        value: u128,
        /// The float format it had to fit (amount or fee).
        format: &'static str,
        /// The largest packable value below it.
        below: u128,
        /// The smallest packable value above it (`None`: none fits a u128).
        above: Option<u128>,
    },
    /// A withdraw amount is not a multiple of the L1 token's smallest unit on the target chain.
    #[error("amount {amount} has precision finer than the L1 token's {decimals} decimals on chain {chain}; it must be a multiple of {unit}")]
    AmountBelowL1Precision {
        /// The amount, in L2 units (18 decimals).
        amount: u128,
        /// The token's decimals on that chain.
        decimals: u8,
        /// The chain the amount would leave through.
        chain: ChainId,
        /// `10^(18 − decimals)`: the L2 amount of one L1 unit.
        unit: u128,
    },
    /// An amount that must be positive (deposit, transfer, withdraw, order) is zero.
    #[error("amount must be greater than zero")]
    ZeroAmount,
    /// A withdraw's fast-withdraw fee ratio is above 10000 (100 %).
    #[error("fast-withdraw fee ratio {0} exceeds 10000 (100%)")]
    FeeRatioTooHigh(u16),
    /// The tx's nonce is not the account's current nonce.
    #[error("wrong nonce for account {account}: tx has {got}, account is at {expected}")]
    NonceMismatch {
        /// The signing account.
        account: AccountId,
        /// The account's current nonce.
        expected: Nonce,
        /// The nonce in the tx.
        got: Nonce,
    },
    /// The account's nonce is `2^32 − 1`: incrementing it would overflow.
    #[error("account {0}'s nonce is at its maximum; it cannot sign any more transactions")]
    NonceOverflow(AccountId),
    /// The account must sign but has no L2 key (its pubkey hash is zero).
    #[error("account {0} has no L2 key yet: set one with ChangePubKey first")]
    NoPubKey(AccountId),
    /// A signature is malformed or does not verify, or the message to sign cannot be built.
    #[error("bad signature: {0}")]
    BadSignature(#[source] SignatureFault),
    /// The tx verifies, but under a key other than the account's (ChangePubKey: other than the new key).
    #[error("the signer's key (pubkey hash {got}) is not account {account}'s key ({expected})")]
    WrongSigner {
        /// The account that must sign.
        account: AccountId,
        /// The pubkey hash that must have signed, hex.
        expected: String,
        /// The pubkey hash that did sign, hex.
        got: String,
    },
    /// A ChangePubKey's EIP-712 signature is malformed or not by the account's L1 owner.
    #[error("bad L1 authorisation: {0}")]
    BadL1Auth(#[source] SignatureFault),
    /// A ChangePubKey with on-chain authorisation, but the owner registered no matching
    /// `(pubkey hash, nonce)` on that chain's contract.
    #[error("no on-chain authorisation fact for account {account} with nonce {nonce} on chain {chain}")]
    MissingAuthFact {
        /// The account whose key would change.
        account: AccountId,
        /// The tx's nonce, which the fact must carry.
        nonce: Nonce,
        /// The chain whose contract must hold the fact.
        chain: ChainId,
    },
    /// A debit exceeds the balance of that (account, sub-account, token).
    #[error(
        "insufficient balance: account {account} sub-account {sub} has {available} of token {token}, needs {required}"
    )]
    InsufficientBalance {
        /// The debited account.
        account: AccountId,
        /// The debited sub-account.
        sub: SubAccountId,
        /// The debited token.
        token: TokenId,
        /// The balance, in L2 units.
        available: u128,
        /// The debit, in L2 units.
        required: u128,
    },
    /// A credit would take a balance above `2^128 − 1`.
    #[error("balance overflow: account {account} sub-account {sub} token {token} would exceed 2^128 - 1")]
    BalanceOverflow {
        /// The credited account.
        account: AccountId,
        /// The credited sub-account.
        sub: SubAccountId,
        /// The credited token.
        token: TokenId,
    },
    /// A withdraw or forced exit needs more than the target chain holds of that reserve id.
    #[error("chain {chain} holds only {available} of reserve token {reserve}, cannot pay out {required}")]
    InsufficientReserve {
        /// The chain that would pay out.
        chain: ChainId,
        /// The reserve id in account 1 (the L1 token, or 2..=16 for USD).
        reserve: TokenId,
        /// What the chain holds, in L2 units.
        available: u128,
        /// What the tx pays out, in L2 units.
        required: u128,
    },
    /// A transfer to the same (account, sub-account) it is from.
    #[error("a transfer must move funds between different (account, sub-account) pairs")]
    SelfTransfer,
    /// A receiver or target address that cannot be used: zero, `0xff…ff`, or without an account.
    #[error("the receiver address is invalid: {0}")]
    InvalidAddress(&'static str),
    /// A forced exit targets an account that has an L2 key.
    #[error("forced exit target account {0} has an L2 key; only keyless accounts can be force-exited")]
    TargetHasKey(AccountId),
    /// A forced exit whose target balance, rounded down to the L1 token's unit, is zero.
    #[error("nothing to exit: the target balance is zero (or below the L1 token's precision)")]
    NothingToExit,
    /// The two orders of a matching cannot trade (tokens, sides, sub-accounts or accounts do not fit).
    #[error("orders do not match: {0}")]
    OrderMismatch(&'static str),
    /// An order's nonce fits neither rule of its slot (continue the resting order, or replace it
    /// with the next nonce).
    #[error("order slot {slot} of account {account}: order nonce {got} is not usable, slot is at nonce {slot_nonce} with residue {residue}")]
    OrderNonceMismatch {
        /// The order's owner.
        account: AccountId,
        /// The order's slot.
        slot: SlotId,
        /// The nonce the slot holds.
        slot_nonce: OrderNonce,
        /// The base amount still open in the slot.
        residue: u128,
        /// The order's nonce.
        got: OrderNonce,
    },
    /// An order's (or a pool tx's) signed validity window is empty.
    #[error("the validity window is empty: valid from {valid_from} is after valid until {valid_until} (Unix seconds)")]
    OrderWindowEmpty {
        /// The order's `valid_from`.
        valid_from: u32,
        /// The order's `valid_until`.
        valid_until: u32,
    },
    /// An order is not valid at the open block's timestamp: not yet, or expired.
    #[error("the order of account {account} in slot {slot} is valid from {valid_from} until {valid_until} (Unix seconds), not at the block's timestamp {timestamp}")]
    OrderNotValidAt {
        /// The order's owner.
        account: AccountId,
        /// The order's slot.
        slot: SlotId,
        /// The order's `valid_from`.
        valid_from: u32,
        /// The order's `valid_until`.
        valid_until: u32,
        /// The open block's timestamp.
        timestamp: u64,
    },
    /// A cancel names an order nonce below its slot's: those orders are unusable already.
    #[error("order slot {slot} of account {account} is at nonce {slot_nonce}: cancelling up to nonce {got} would move it back")]
    CancelBelowSlot {
        /// The slot's owner.
        account: AccountId,
        /// The slot.
        slot: SlotId,
        /// The nonce the slot holds.
        slot_nonce: OrderNonce,
        /// The cancel's order nonce.
        got: OrderNonce,
    },
    /// A pool's parameters are invalid (tokens, fee, protocol share, amplification).
    #[error("invalid pool parameters: {0}")]
    PoolParams(String),
    /// The pool kind is defined but not yet executable (its circuit rule has not landed).
    #[error("{0} pools are not supported yet: the block circuit has no rule for them, so no block holding one could be proven")]
    PoolKindUnsupported(&'static str),
    /// The account named as a pool is not a pool.
    #[error("account {0} is not a pool")]
    NotAPool(AccountId),
    /// Every LP token id of the preset is taken.
    #[error("no pool can be created: all {max} LP token ids of the preset are taken")]
    TooManyPools {
        /// The preset's pool count.
        max: u16,
    },
    /// A pool with the same parameters exists already.
    #[error("a pool with these parameters exists already: account {0}")]
    PoolExists(AccountId),
    /// A swap cannot be made at the pool's reserves.
    #[error("swap refused: {0}")]
    PoolSwap(String),
    /// Liquidity cannot be added or removed as asked.
    #[error("liquidity change refused: {0}")]
    PoolLiquidity(String),
    /// A pool's reserve or share supply would reach 2^112.
    #[error("the pool's {what} would exceed {max}, the most a pool may hold")]
    PoolReserveCap {
        /// Which reserve, or the share supply.
        what: &'static str,
        /// The cap, 2^112 − 1.
        max: u128,
    },
    /// The user's signed limit is not met (slippage).
    #[error("{what}: {got} against the signed limit {limit}")]
    PoolLimit {
        /// What is compared (for example "swap output below the signed minimum").
        what: &'static str,
        /// What execution gives, in L2 units.
        got: u128,
        /// The signed limit, in L2 units.
        limit: u128,
    },
    /// A pool tx is not valid at the open block's timestamp.
    #[error("the tx is valid from {valid_from} until {valid_until} (Unix seconds), not at the block's timestamp {timestamp}")]
    TxNotValidAt {
        /// The tx's `valid_from`.
        valid_from: u32,
        /// The tx's `valid_until`.
        valid_until: u32,
        /// The open block's timestamp.
        timestamp: u64,
    },
    /// The address is reserved for pools and the global asset account (it starts with 8 `ff`
    /// bytes): nothing may be deposited, transferred or forced out to it.
    #[error("address {0} is reserved for pools (it starts with 8 ff bytes): it cannot receive deposits or transfers, or be forced out")]
    ReservedAddress(alloy_primitives::Address),
    /// The taker's price does not cross the maker's.
    #[error("prices do not cross: {0}")]
    PricesDoNotCross(&'static str),
    /// A matching would trade no base, or its quote rounds down to zero.
    #[error("trade amount is zero: {0}")]
    ZeroFill(&'static str),
    /// A matching's quote amount exceeds the submitter's non-zero `expect_quote_amount`.
    #[error("the quote amount {quote} exceeds the submitter's expected quote cap {cap}")]
    ExpectedQuoteExceeded {
        /// The quote the fill would trade, in L2 units.
        quote: u128,
        /// The submitter's cap, in L2 units.
        cap: u128,
    },
    /// An intermediate sum or product exceeds u128.
    #[error("arithmetic overflow computing {0}")]
    ArithmeticOverflow(&'static str),
    /// A broken invariant (state tree or witness inconsistency), not the tx's fault.
    #[error("internal error (the node must stop and be checked): {0}")]
    Internal(String),
    /// The tx's op needs more chunks than the open block has left.
    #[error("the block is full: {needed} chunks needed, {available} left")]
    BlockFull {
        /// Chunks the op needs.
        needed: usize,
        /// Chunks left in the block.
        available: usize,
    },
}

/// What is wrong with a signature or an L1 authorisation.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum SignatureFault {
    /// A protocol rule the signed data breaks.
    #[error("{0}")]
    Rule(&'static str),
    /// The key, the signature or the message does not decode or does not verify.
    #[error("{what}: {source}")]
    Crypto {
        /// Which part failed (`public key`, `signature`, `message`, …).
        what: &'static str,
        /// The cryptographic error.
        #[source]
        source: CryptoError,
    },
    /// Someone other than the account's owner signed.
    #[error("signed by {signer}, but account {account} is owned by {owner}")]
    NotTheOwner {
        /// The account.
        account: AccountId,
        /// Who signed.
        signer: alloy_primitives::Address,
        /// Who owns the account.
        owner: alloy_primitives::Address,
    },
}

impl SignatureFault {
    /// A cryptographic failure of `what`.
    pub fn crypto(what: &'static str) -> impl FnOnce(CryptoError) -> TxError {
        move |source| TxError::BadSignature(SignatureFault::Crypto { what, source })
    }
}
