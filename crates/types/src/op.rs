//! Operations: what an applied transaction leaves in a block, and their pubdata.
//!
//! Pubdata is a sequence of 24-byte chunks. Every op has a fixed chunk count and a fixed byte
//! layout (docs/protocol.md §8), zero-padded to its chunks. On-chain ops (Deposit, FullExit,
//! ChangePubKey, Withdraw, ForcedExit) carry the chain they belong to in byte 1.

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};
use zklink_crypto::eddsa::PubKeyHash;

use crate::amount::{Amount, AMOUNT_FLOAT, FEE_FLOAT};
use crate::bytes::{Reader, Writer};
use crate::error::{DecodeError, TxError};
use crate::ids::*;
use crate::pool::{PoolKind, PoolParams};

/// Size of one pubdata chunk in bytes; every op fills a whole number of chunks.
pub const CHUNK_BYTES: usize = 24;

/// Op codes: byte 0 of every op's pubdata (docs/protocol.md §8).
pub mod op_code {
    /// Padding chunk (all zero).
    pub const NOOP: u8 = 0x00;
    /// Deposit from a chain's priority queue.
    pub const DEPOSIT: u8 = 0x01;
    /// Transfer that creates the receiving account.
    pub const TRANSFER_TO_NEW: u8 = 0x02;
    /// Withdraw to a chain.
    pub const WITHDRAW: u8 = 0x03;
    /// Transfer between existing accounts.
    pub const TRANSFER: u8 = 0x04;
    /// Full exit from a chain's priority queue.
    pub const FULL_EXIT: u8 = 0x05;
    /// Change of an account's L2 key.
    pub const CHANGE_PUBKEY: u8 = 0x06;
    /// Forced exit of a keyless account.
    pub const FORCED_EXIT: u8 = 0x07;
    /// Fill of a maker order against a taker order.
    pub const ORDER_MATCHING: u8 = 0x08;
    /// Cancel of an order slot's orders.
    pub const CANCEL_ORDER: u8 = 0x09;
    /// Creation of an AMM pool.
    pub const CREATE_POOL: u8 = 0x0a;
    /// Liquidity added to a pool.
    pub const ADD_LIQUIDITY: u8 = 0x0b;
    /// Liquidity removed from a pool.
    pub const REMOVE_LIQUIDITY: u8 = 0x0c;
    /// A swap against a pool.
    pub const SWAP: u8 = 0x0d;
}

/// Chunks each op occupies (docs/protocol.md §8): the one native definition. The block circuit
/// and the rollup contract (`_onchainOpChunks`) have their own twins, tied to these by tests.
pub mod op_chunks {
    /// A no-op fills one chunk.
    pub const NOOP: usize = 1;
    /// Deposit.
    pub const DEPOSIT: usize = 2;
    /// Transfer to an account created by it.
    pub const TRANSFER_TO_NEW: usize = 2;
    /// Withdraw.
    pub const WITHDRAW: usize = 3;
    /// Transfer between existing accounts.
    pub const TRANSFER: usize = 1;
    /// Full exit.
    pub const FULL_EXIT: usize = 2;
    /// Change of the L2 key.
    pub const CHANGE_PUBKEY: usize = 3;
    /// Forced exit.
    pub const FORCED_EXIT: usize = 3;
    /// Order matching.
    pub const ORDER_MATCHING: usize = 4;
    /// Cancel of an order slot's orders.
    pub const CANCEL_ORDER: usize = 1;
    /// Pool creation.
    pub const CREATE_POOL: usize = 2;
    /// Liquidity added.
    pub const ADD_LIQUIDITY: usize = 3;
    /// Liquidity removed.
    pub const REMOVE_LIQUIDITY: usize = 3;
    /// Swap.
    pub const SWAP: usize = 2;
}

/// Pool creation and liquidity changes start only at multiples of this chunk index.
pub const POOL_PERIOD: usize = 4;
/// Swaps start only at multiples of this chunk index.
pub const SWAP_PERIOD: usize = 2;
/// Order matchings start only at multiples of this chunk index: their rules and signed values
/// cost constraints only at those chunks (docs/protocol.md §12).
pub const ORDER_MATCHING_PERIOD: usize = 2;

/// Every how many chunks an op that is not on-chain may start (on-chain ops: the preset's
/// `onchain_period`, [`crate::Preset::start_period`]).
pub const fn start_period_of(code: u8) -> usize {
    match code {
        op_code::SWAP => SWAP_PERIOD,
        op_code::ORDER_MATCHING => ORDER_MATCHING_PERIOD,
        op_code::CREATE_POOL | op_code::ADD_LIQUIDITY | op_code::REMOVE_LIQUIDITY => POOL_PERIOD,
        _ => 1,
    }
}

/// Whether ops with op code `code` are on-chain ops: they carry a chain byte and feed that
/// chain's rolling hash, so they start only at multiples of the preset's `onchain_period`.
pub const fn is_onchain_code(code: u8) -> bool {
    matches!(
        code,
        op_code::DEPOSIT | op_code::WITHDRAW | op_code::FULL_EXIT | op_code::CHANGE_PUBKEY | op_code::FORCED_EXIT
    )
}

/// Chunks each op code occupies; `None` for unknown codes.
pub const fn chunks_of(code: u8) -> Option<usize> {
    Some(match code {
        op_code::NOOP => op_chunks::NOOP,
        op_code::DEPOSIT => op_chunks::DEPOSIT,
        op_code::TRANSFER_TO_NEW => op_chunks::TRANSFER_TO_NEW,
        op_code::WITHDRAW => op_chunks::WITHDRAW,
        op_code::TRANSFER => op_chunks::TRANSFER,
        op_code::FULL_EXIT => op_chunks::FULL_EXIT,
        op_code::CHANGE_PUBKEY => op_chunks::CHANGE_PUBKEY,
        op_code::FORCED_EXIT => op_chunks::FORCED_EXIT,
        op_code::ORDER_MATCHING => op_chunks::ORDER_MATCHING,
        op_code::CANCEL_ORDER => op_chunks::CANCEL_ORDER,
        op_code::CREATE_POOL => op_chunks::CREATE_POOL,
        op_code::ADD_LIQUIDITY => op_chunks::ADD_LIQUIDITY,
        op_code::REMOVE_LIQUIDITY => op_chunks::REMOVE_LIQUIDITY,
        op_code::SWAP => op_chunks::SWAP,
        _ => return None,
    })
}

/// A deposit as applied: the receiver's account (possibly new) and the credited amount.
///
/// Layout `01 ‖ chain ‖ account ‖ sub ‖ l1_token ‖ l2_token ‖ amount u128 ‖ owner` (2 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositOp {
    /// The chain whose contract received the deposit and queued the request.
    pub chain_id: ChainId,
    /// The credited account: the owner's, or the next free id if the owner had none.
    pub account_id: AccountId,
    /// The credited sub-account.
    pub sub_account_id: SubAccountId,
    /// The token deposited on L1.
    pub l1_token: TokenId,
    /// The token credited on L2: `l1_token`, or USD (1) for a stablecoin.
    pub l2_token: TokenId,
    /// Amount credited, in L2 units (18 decimals).
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// The L1 address that owns the credited account.
    pub owner: Address,
}

/// A transfer between existing accounts.
///
/// Layout `04 ‖ from ‖ from_sub ‖ token ‖ to ‖ to_sub ‖ amount packed5 ‖ fee packed2` (1 chunk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferOp {
    /// The sending account, which signed and pays the fee.
    pub from: AccountId,
    /// The sender's sub-account debited with amount and fee.
    pub from_sub: SubAccountId,
    /// The token moved; the fee is paid in it too.
    pub token: TokenId,
    /// The receiving account.
    pub to: AccountId,
    /// The receiver's sub-account credited.
    pub to_sub: SubAccountId,
    /// Amount moved, in L2 units (18 decimals); packable as an amount float.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Network fee paid to account 0, in L2 units of `token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
}

/// A transfer to an address without an account, which creates it.
///
/// Layout `02 ‖ from ‖ from_sub ‖ token ‖ amount packed5 ‖ to ‖ to_sub ‖ fee packed2 ‖ to_address` (2 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferToNewOp {
    /// The sending account, which signed and pays the fee.
    pub from: AccountId,
    /// The sender's sub-account debited with amount and fee.
    pub from_sub: SubAccountId,
    /// The token moved; the fee is paid in it too.
    pub token: TokenId,
    /// Amount moved, in L2 units (18 decimals); packable as an amount float.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// The id of the account created for `to_address` (the next free id).
    pub to: AccountId,
    /// The new account's sub-account credited.
    pub to_sub: SubAccountId,
    /// Network fee paid to account 0, in L2 units of `token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The L1 address that owns the new account.
    pub to_address: Address,
}

/// A withdraw to a chain, paid out by that chain's contract when the block is executed.
///
/// Layout `03 ‖ chain ‖ account ‖ sub ‖ l1_token ‖ l2_token ‖ amount u128 ‖ fee packed2 ‖ to ‖ nonce ‖
/// fast_withdraw_fee_ratio` (3 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawOp {
    /// The chain that pays out (its reserve is debited).
    pub chain_id: ChainId,
    /// The withdrawing account, which signed and pays the fee.
    pub account_id: AccountId,
    /// The sub-account debited with amount and fee.
    pub sub_account_id: SubAccountId,
    /// The token paid out on L1.
    pub l1_token: TokenId,
    /// The token debited on L2 (also the fee token): `l1_token`, or USD (1) for a stablecoin.
    pub l2_token: TokenId,
    /// Amount withdrawn, in L2 units (18 decimals); a multiple of the L1 token's unit on `chain_id`.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Network fee paid to account 0, in L2 units of `l2_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The L1 address that receives the payout (unless a fast withdrawal was accepted).
    pub to: Address,
    /// The account nonce the withdraw used: keys a fast withdrawal on L1 uniquely.
    pub nonce: Nonce,
    /// Fee a fast-withdrawal acceptor may keep, in units of 1/10^4 of the amount (at most 10000 = 100 %).
    pub fast_withdraw_fee_ratio: u16,
}

/// A full exit requested on L1, as applied.
///
/// Layout `05 ‖ chain ‖ account ‖ sub ‖ l1_token ‖ l2_token ‖ amount u128 ‖ owner` (2 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FullExitOp {
    /// The chain whose queue held the request and which pays out.
    pub chain_id: ChainId,
    /// The account to exit.
    pub account_id: AccountId,
    /// The sub-account to exit.
    pub sub_account_id: SubAccountId,
    /// The token paid out on L1.
    pub l1_token: TokenId,
    /// The balance exited: `l1_token`, or USD (1) for a stablecoin.
    pub l2_token: TokenId,
    /// What was actually exited (0 if the request was invalid).
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// The L1 address that requested the exit and is paid; must own the account for a non-zero amount.
    pub owner: Address,
}

/// A change of an account's L2 key, authorised by its L1 owner.
///
/// Layout `06 ‖ chain ‖ account ‖ sub ‖ new_pkh ‖ owner ‖ nonce ‖ fee_token ‖ fee packed2` (3 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePubKeyOp {
    /// The chain whose contract checks the L1 authorisation.
    pub chain_id: ChainId,
    /// The account whose key is set.
    pub account_id: AccountId,
    /// The sub-account that pays the fee.
    pub sub_account_id: SubAccountId,
    /// Hash of the new L2 public key (20 bytes); the tx was signed by that key.
    pub new_pk_hash: PubKeyHash,
    /// The account's L1 address, which authorised the change.
    pub owner: Address,
    /// The account nonce the change used (the one in the authorisation).
    pub nonce: Nonce,
    /// The token the fee is paid in.
    pub fee_token: TokenId,
    /// Network fee paid to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
}

/// A forced exit: a keyless account's balance paid out to its own L1 address.
///
/// Layout `07 ‖ chain ‖ initiator ‖ initiator_sub ‖ target ‖ target_sub ‖ l1_token ‖ l2_token ‖ fee_token ‖
/// fee packed2 ‖ amount u128 ‖ target_address` (3 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForcedExitOp {
    /// The chain that pays out (its reserve is debited).
    pub chain_id: ChainId,
    /// The account that signed and pays the fee.
    pub initiator: AccountId,
    /// The initiator's sub-account that pays the fee.
    pub initiator_sub: SubAccountId,
    /// The keyless account exited.
    pub target: AccountId,
    /// The target's sub-account exited.
    pub target_sub: SubAccountId,
    /// The token paid out on L1.
    pub l1_token: TokenId,
    /// The target's balance exited: `l1_token`, or USD (1) for a stablecoin.
    pub l2_token: TokenId,
    /// The token the initiator pays the fee in.
    pub fee_token: TokenId,
    /// Network fee paid to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// Amount exited, in L2 units: the target's balance rounded down to the L1 token's unit.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// The target account's L1 address, which is paid.
    pub target_address: Address,
}

/// One side of a match as it enters pubdata: enough to rebuild the order slot from L1 data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFill {
    /// The order's owner.
    pub account_id: AccountId,
    /// The order slot the order uses in the owner's sub-account.
    pub slot_id: SlotId,
    /// The order's nonce (24-bit), checked against the slot's.
    pub nonce: OrderNonce,
    /// The order's signed base amount.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// The fee ratio applied to this side (maker ratio of the maker order, taker ratio of the taker order).
    pub fee_ratio: u8,
}

/// A fill of a maker order by a taker order at the maker's price.
///
/// Layout `08 ‖ sub ‖ submitter ‖ fee_token ‖ fee packed2 ‖ maker fill ‖ taker fill ‖ base_token ‖ quote_token ‖
/// maker_is_sell ‖ base_amount u128 ‖ quote_amount u128` (4 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderMatchingOp {
    /// The sub-account of the submitter, the maker and the taker (all three share it).
    pub sub_account_id: SubAccountId,
    /// The account that signed the matching, pays the network fee and receives both order fees.
    pub submitter: AccountId,
    /// The token the submitter pays the network fee in.
    pub fee_token: TokenId,
    /// Network fee paid to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The resting order's side.
    pub maker: OrderFill,
    /// The incoming order's side.
    pub taker: OrderFill,
    /// The token traded (the orders' base token).
    pub base_token: TokenId,
    /// The token it is priced in (the orders' quote token).
    pub quote_token: TokenId,
    /// Whether the maker sells base (and the taker buys it).
    pub maker_is_sell: bool,
    /// Base traded, in L2 units: the seller gives it.
    #[serde(with = "crate::serde_str")]
    pub base_amount: Amount,
    /// Quote traded, in L2 units: `⌊base_amount · maker price / 10^18⌋`, which the buyer gives.
    #[serde(with = "crate::serde_str")]
    pub quote_amount: Amount,
}

/// A hard cancel: an order slot moved to `{order_nonce + 1, 0}`.
///
/// Layout `09 ‖ account ‖ sub ‖ slot u16 ‖ order_nonce u24 ‖ fee_token ‖ fee packed2` (1 chunk).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderOp {
    /// The slot's owner, which signed the cancel and pays the fee.
    pub account_id: AccountId,
    /// The sub-account of the slot and of the fee.
    pub sub_account_id: SubAccountId,
    /// The order slot.
    pub slot_id: SlotId,
    /// The highest order nonce cancelled; the slot's nonce becomes the next one.
    pub order_nonce: OrderNonce,
    /// The token the fee is paid in.
    pub fee_token: TokenId,
    /// Network fee paid to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
}

/// A pool's creation: a new account whose address encodes `params`, registered under its LP
/// token in the global asset account's sub-account 0.
///
/// Layout `0a ‖ account u32 ‖ sub u8 ‖ fee_token u16 ‖ fee packed2 ‖ pool u32 ‖ kind u8 ‖ fee_bps u16 ‖
/// protocol_share u8 ‖ amp u16 ‖ token_a u16 ‖ token_b u16 ‖ lp_token u16` (26 bytes, 2 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePoolOp {
    /// The creator, which signed and pays the fee.
    pub account_id: AccountId,
    /// The creator's sub-account that pays the fee.
    pub sub_account_id: SubAccountId,
    /// The token the fee is paid in.
    pub fee_token: TokenId,
    /// Network fee paid to account 0 (the pool creation fee), in L2 units; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The pool's account (the next free id).
    pub pool: AccountId,
    /// The pool's parameters (its address encodes them).
    pub params: PoolParams,
}

/// Liquidity added to a pool.
///
/// Layout `0b ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ token_a u16 ‖ amount_a u128 ‖ amount_b u128 ‖ shares u128 ‖
/// fee packed2` (62 bytes, 3 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddLiquidityOp {
    /// The provider, which signed and pays the fee.
    pub account_id: AccountId,
    /// The provider's sub-account: pays both tokens and the fee, receives the shares.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// The pool's first token, in which the fee is paid.
    pub token_a: TokenId,
    /// Taken from the provider in the pool's first token.
    #[serde(with = "crate::serde_str")]
    pub amount_a: Amount,
    /// Taken from the provider in the pool's second token.
    #[serde(with = "crate::serde_str")]
    pub amount_b: Amount,
    /// LP shares credited to the provider.
    #[serde(with = "crate::serde_str")]
    pub shares: Amount,
    /// Network fee paid to account 0 in `token_a`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
}

/// Liquidity removed from a pool.
///
/// Layout `0c ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ token_a u16 ‖ shares u128 ‖ amount_a u128 ‖ amount_b u128 ‖
/// fee packed2` (62 bytes, 3 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveLiquidityOp {
    /// The provider, which signed and pays the fee.
    pub account_id: AccountId,
    /// The provider's sub-account: gives the shares, receives both tokens.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// The pool's first token, in which the fee is paid (out of `amount_a`).
    pub token_a: TokenId,
    /// LP shares burnt.
    #[serde(with = "crate::serde_str")]
    pub shares: Amount,
    /// Paid out of the pool in its first token (the fee comes out of it).
    #[serde(with = "crate::serde_str")]
    pub amount_a: Amount,
    /// Paid out of the pool in its second token.
    #[serde(with = "crate::serde_str")]
    pub amount_b: Amount,
    /// Network fee paid to account 0 in `token_a`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
}

/// A swap against a pool.
///
/// Layout `0d ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ token_in u16 ‖ amount_in u120 ‖ amount_out u120 ‖
/// fee packed2 ‖ fee_bps u16 ‖ protocol_share u8` (47 bytes, 2 chunks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwapOp {
    /// The trader, which signed and pays the fee.
    pub account_id: AccountId,
    /// The trader's sub-account: pays the input and the fee, receives the output.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// The token paid in (one of the pool's two); the network fee is paid in it too.
    pub token_in: TokenId,
    /// Paid into the pool, protocol fee included (below 2^120).
    #[serde(with = "crate::serde_str")]
    pub amount_in: Amount,
    /// Paid out of the pool in its other token (below 2^120).
    #[serde(with = "crate::serde_str")]
    pub amount_out: Amount,
    /// Network fee paid to account 0 in `token_in`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The pool's swap fee (basis points), as its address states.
    pub fee_bps: u16,
    /// The pool's protocol share of the swap fee (percent), as its address states.
    pub protocol_share: u8,
}

impl SwapOp {
    /// The protocol's part of the swap fee, paid to account 0 in `token_in`
    /// ([`crate::pool::protocol_fee`]).
    pub fn protocol_fee(&self) -> Result<Amount, TxError> {
        crate::pool::protocol_fee_at(self.amount_in, self.fee_bps, self.protocol_share)
    }
}

/// An operation: what an applied tx or priority request leaves in a block, encoded as pubdata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Op {
    /// Padding: one all-zero chunk.
    Noop,
    /// A deposit from a chain's priority queue.
    Deposit(DepositOp),
    /// A transfer that created the receiving account.
    TransferToNew(TransferToNewOp),
    /// A withdraw to a chain.
    Withdraw(WithdrawOp),
    /// A transfer between existing accounts.
    Transfer(TransferOp),
    /// A full exit from a chain's priority queue.
    FullExit(FullExitOp),
    /// A change of an account's L2 key.
    ChangePubKey(ChangePubKeyOp),
    /// A forced exit of a keyless account.
    ForcedExit(ForcedExitOp),
    /// A fill of a maker order by a taker order.
    OrderMatching(OrderMatchingOp),
    /// A hard cancel of an order slot's orders.
    CancelOrder(CancelOrderOp),
    /// A pool's creation.
    CreatePool(CreatePoolOp),
    /// Liquidity added to a pool.
    AddLiquidity(AddLiquidityOp),
    /// Liquidity removed from a pool.
    RemoveLiquidity(RemoveLiquidityOp),
    /// A swap against a pool.
    Swap(SwapOp),
}

/// A fee an op credits to an account (docs/protocol.md §12): the network fee to account 0's
/// sub-account 0, and an order matching's two order fees to its submitter. The block circuit
/// credits them through the block's *credit slots* (one per distinct [`Credit::key`]) instead
/// of a state update per op, which is why a block shape bounds how many distinct keys its ops
/// may credit ([`crate::Preset::credit_slots`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credit {
    /// The account credited.
    pub account: AccountId,
    /// Its sub-account.
    pub sub: SubAccountId,
    /// The token credited.
    pub token: TokenId,
    /// The amount, in L2 units (never 0: zero fees credit nothing).
    pub amount: Amount,
}

impl Credit {
    /// The balance leaf credited: (account, sub-account, token).
    pub fn key(&self) -> (AccountId, SubAccountId, TokenId) {
        (self.account, self.sub, self.token)
    }
}

impl Op {
    /// The fees this op credits ([`Credit`]), zero amounts left out, in the op's order: for an
    /// order matching the maker's fee, the taker's fee, then the network fee.
    pub fn credits(&self) -> Vec<Credit> {
        let network =
            |token: TokenId, amount: Amount| Credit { account: FEE_ACCOUNT_ID, sub: SubAccountId(0), token, amount };
        let all = match self {
            Op::Noop | Op::Deposit(_) | Op::FullExit(_) => Vec::new(),
            Op::Transfer(o) => vec![network(o.token, o.fee)],
            Op::TransferToNew(o) => vec![network(o.token, o.fee)],
            Op::Withdraw(o) => vec![network(o.l2_token, o.fee)],
            Op::ChangePubKey(o) => vec![network(o.fee_token, o.fee)],
            Op::ForcedExit(o) => vec![network(o.fee_token, o.fee)],
            Op::CancelOrder(o) => vec![network(o.fee_token, o.fee)],
            Op::CreatePool(o) => vec![network(o.fee_token, o.fee)],
            Op::AddLiquidity(o) => vec![network(o.token_a, o.fee)],
            Op::RemoveLiquidity(o) => vec![network(o.token_a, o.fee)],
            // The pool's protocol fee, then the network fee: both to account 0 in the input token.
            Op::Swap(o) => vec![network(o.token_in, o.protocol_fee().unwrap_or(0)), network(o.token_in, o.fee)],
            Op::OrderMatching(o) => {
                let s = o.settlement();
                let venue = |token: TokenId, amount: Amount| Credit {
                    account: o.submitter,
                    sub: o.sub_account_id,
                    token,
                    amount,
                };
                vec![
                    venue(s.maker_buy_token, s.maker_fee),
                    venue(s.maker_sell_token, s.taker_fee),
                    network(o.fee_token, o.fee),
                ]
            }
        };
        all.into_iter().filter(|c| c.amount != 0).collect()
    }

    /// The op code (byte 0 of the pubdata, see [`op_code`]).
    pub fn code(&self) -> u8 {
        match self {
            Op::Noop => op_code::NOOP,
            Op::Deposit(_) => op_code::DEPOSIT,
            Op::TransferToNew(_) => op_code::TRANSFER_TO_NEW,
            Op::Withdraw(_) => op_code::WITHDRAW,
            Op::Transfer(_) => op_code::TRANSFER,
            Op::FullExit(_) => op_code::FULL_EXIT,
            Op::ChangePubKey(_) => op_code::CHANGE_PUBKEY,
            Op::ForcedExit(_) => op_code::FORCED_EXIT,
            Op::OrderMatching(_) => op_code::ORDER_MATCHING,
            Op::CancelOrder(_) => op_code::CANCEL_ORDER,
            Op::CreatePool(_) => op_code::CREATE_POOL,
            Op::AddLiquidity(_) => op_code::ADD_LIQUIDITY,
            Op::RemoveLiquidity(_) => op_code::REMOVE_LIQUIDITY,
            Op::Swap(_) => op_code::SWAP,
        }
    }

    /// Number of 24-byte chunks the op occupies (see [`op_chunks`]).
    pub fn chunks(&self) -> usize {
        // Every code used by `Op` is in the table.
        chunks_of(self.code()).unwrap_or(1)
    }

    /// The chain an on-chain op belongs to; `None` for ops only the circuit sees.
    pub fn chain_id(&self) -> Option<ChainId> {
        match self {
            Op::Deposit(o) => Some(o.chain_id),
            Op::Withdraw(o) => Some(o.chain_id),
            Op::FullExit(o) => Some(o.chain_id),
            Op::ChangePubKey(o) => Some(o.chain_id),
            Op::ForcedExit(o) => Some(o.chain_id),
            _ => None,
        }
    }

    /// Whether the op comes from a chain's priority queue (Deposit or FullExit).
    pub fn is_priority(&self) -> bool {
        matches!(self, Op::Deposit(_) | Op::FullExit(_))
    }

    /// The op's pubdata, zero-padded to `chunks() · CHUNK_BYTES`.
    pub fn pubdata(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(self.chunks() * CHUNK_BYTES);
        w.u8(self.code());
        match self {
            Op::Noop => {}
            Op::Deposit(o) => put_priority(
                &mut w,
                o.chain_id,
                o.account_id,
                o.sub_account_id,
                o.l1_token,
                o.l2_token,
                o.amount,
                &o.owner,
            ),
            Op::TransferToNew(o) => {
                w.u32(o.from.0)
                    .u8(o.from_sub.0)
                    .u16(o.token.0)
                    .float(AMOUNT_FLOAT, o.amount)?
                    .u32(o.to.0)
                    .u8(o.to_sub.0)
                    .float(FEE_FLOAT, o.fee)?
                    .address(&o.to_address);
            }
            Op::Withdraw(o) => {
                w.u8(o.chain_id.0)
                    .u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u16(o.l1_token.0)
                    .u16(o.l2_token.0)
                    .u128(o.amount)
                    .float(FEE_FLOAT, o.fee)?
                    .address(&o.to)
                    .u32(o.nonce.0)
                    .u16(o.fast_withdraw_fee_ratio);
            }
            Op::Transfer(o) => {
                w.u32(o.from.0)
                    .u8(o.from_sub.0)
                    .u16(o.token.0)
                    .u32(o.to.0)
                    .u8(o.to_sub.0)
                    .float(AMOUNT_FLOAT, o.amount)?
                    .float(FEE_FLOAT, o.fee)?;
            }
            Op::FullExit(o) => put_priority(
                &mut w,
                o.chain_id,
                o.account_id,
                o.sub_account_id,
                o.l1_token,
                o.l2_token,
                o.amount,
                &o.owner,
            ),
            Op::ChangePubKey(o) => {
                w.u8(o.chain_id.0)
                    .u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .bytes(&o.new_pk_hash.0)
                    .address(&o.owner)
                    .u32(o.nonce.0)
                    .u16(o.fee_token.0)
                    .float(FEE_FLOAT, o.fee)?;
            }
            Op::ForcedExit(o) => {
                w.u8(o.chain_id.0)
                    .u32(o.initiator.0)
                    .u8(o.initiator_sub.0)
                    .u32(o.target.0)
                    .u8(o.target_sub.0)
                    .u16(o.l1_token.0)
                    .u16(o.l2_token.0)
                    .u16(o.fee_token.0)
                    .float(FEE_FLOAT, o.fee)?
                    .u128(o.amount)
                    .address(&o.target_address);
            }
            Op::OrderMatching(o) => {
                w.u8(o.sub_account_id.0).u32(o.submitter.0).u16(o.fee_token.0).float(FEE_FLOAT, o.fee)?;
                for f in [&o.maker, &o.taker] {
                    w.u32(f.account_id.0)
                        .u16(f.slot_id.0)
                        .u24(f.nonce.0)
                        .float(AMOUNT_FLOAT, f.amount)?
                        .u8(f.fee_ratio);
                }
                w.u16(o.base_token.0)
                    .u16(o.quote_token.0)
                    .u8(o.maker_is_sell as u8)
                    .u128(o.base_amount)
                    .u128(o.quote_amount);
            }
            Op::CancelOrder(o) => {
                w.u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u16(o.slot_id.0)
                    .u24(o.order_nonce.0)
                    .u16(o.fee_token.0)
                    .float(FEE_FLOAT, o.fee)?;
            }
            Op::CreatePool(o) => {
                let p = &o.params;
                w.u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u16(o.fee_token.0)
                    .float(FEE_FLOAT, o.fee)?
                    .u32(o.pool.0)
                    .u8(p.kind.code())
                    .u16(p.fee_bps)
                    .u8(p.protocol_share)
                    .u16(p.amp)
                    .u16(p.token_a.0)
                    .u16(p.token_b.0)
                    .u16(p.lp_token.0);
            }
            Op::AddLiquidity(o) => {
                w.u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u32(o.pool.0)
                    .u16(o.token_a.0)
                    .u128(o.amount_a)
                    .u128(o.amount_b)
                    .u128(o.shares)
                    .float(FEE_FLOAT, o.fee)?;
            }
            Op::RemoveLiquidity(o) => {
                w.u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u32(o.pool.0)
                    .u16(o.token_a.0)
                    .u128(o.shares)
                    .u128(o.amount_a)
                    .u128(o.amount_b)
                    .float(FEE_FLOAT, o.fee)?;
            }
            Op::Swap(o) => {
                for v in [o.amount_in, o.amount_out] {
                    if v >> 120 != 0 {
                        return Err(TxError::ArithmeticOverflow("swap amount above 2^120"));
                    }
                }
                w.u32(o.account_id.0)
                    .u8(o.sub_account_id.0)
                    .u32(o.pool.0)
                    .u16(o.token_in.0)
                    .u120(o.amount_in)
                    .u120(o.amount_out)
                    .float(FEE_FLOAT, o.fee)?
                    .u16(o.fee_bps)
                    .u8(o.protocol_share);
            }
        }
        let len = self.chunks() * CHUNK_BYTES;
        debug_assert!(w.0.len() <= len, "op layout exceeds its chunks");
        w.pad_to(len);
        Ok(w.finish())
    }

    /// Decodes one op from the start of `bytes` (which must hold at least its chunks).
    /// Returns the op and the number of bytes it occupied.
    pub fn from_pubdata(bytes: &[u8]) -> Result<(Op, usize), DecodeError> {
        let code = *bytes.first().ok_or(DecodeError::UnexpectedEnd { what: "op", needed: 1, remaining: 0 })?;
        let chunks = chunks_of(code).ok_or(DecodeError::UnknownOpType(code))?;
        let len = chunks * CHUNK_BYTES;
        if bytes.len() < len {
            return Err(DecodeError::UnexpectedEnd { what: "op pubdata", needed: len, remaining: bytes.len() });
        }
        let mut r = Reader::new(&bytes[1..len], "op pubdata");
        let op = match code {
            op_code::NOOP => Op::Noop,
            op_code::DEPOSIT => {
                let p = read_priority(&mut r)?;
                Op::Deposit(DepositOp {
                    chain_id: p.chain_id,
                    account_id: p.account_id,
                    sub_account_id: p.sub_account_id,
                    l1_token: p.l1_token,
                    l2_token: p.l2_token,
                    amount: p.amount,
                    owner: p.owner,
                })
            }
            op_code::TRANSFER_TO_NEW => Op::TransferToNew(TransferToNewOp {
                from: AccountId(r.u32()?),
                from_sub: SubAccountId(r.u8()?),
                token: TokenId(r.u16()?),
                amount: r.float(AMOUNT_FLOAT)?,
                to: AccountId(r.u32()?),
                to_sub: SubAccountId(r.u8()?),
                fee: r.float(FEE_FLOAT)?,
                to_address: r.address()?,
            }),
            op_code::WITHDRAW => Op::Withdraw(WithdrawOp {
                chain_id: ChainId(r.u8()?),
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                l1_token: TokenId(r.u16()?),
                l2_token: TokenId(r.u16()?),
                amount: r.u128()?,
                fee: r.float(FEE_FLOAT)?,
                to: r.address()?,
                nonce: Nonce(r.u32()?),
                fast_withdraw_fee_ratio: r.u16()?,
            }),
            op_code::TRANSFER => Op::Transfer(TransferOp {
                from: AccountId(r.u32()?),
                from_sub: SubAccountId(r.u8()?),
                token: TokenId(r.u16()?),
                to: AccountId(r.u32()?),
                to_sub: SubAccountId(r.u8()?),
                amount: r.float(AMOUNT_FLOAT)?,
                fee: r.float(FEE_FLOAT)?,
            }),
            op_code::FULL_EXIT => Op::FullExit(read_priority(&mut r)?),
            op_code::CHANGE_PUBKEY => Op::ChangePubKey(ChangePubKeyOp {
                chain_id: ChainId(r.u8()?),
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                new_pk_hash: PubKeyHash(r.address()?.into_array()),
                owner: r.address()?,
                nonce: Nonce(r.u32()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
            }),
            op_code::FORCED_EXIT => Op::ForcedExit(ForcedExitOp {
                chain_id: ChainId(r.u8()?),
                initiator: AccountId(r.u32()?),
                initiator_sub: SubAccountId(r.u8()?),
                target: AccountId(r.u32()?),
                target_sub: SubAccountId(r.u8()?),
                l1_token: TokenId(r.u16()?),
                l2_token: TokenId(r.u16()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
                amount: r.u128()?,
                target_address: r.address()?,
            }),
            op_code::ORDER_MATCHING => {
                let sub_account_id = SubAccountId(r.u8()?);
                let submitter = AccountId(r.u32()?);
                let fee_token = TokenId(r.u16()?);
                let fee = r.float(FEE_FLOAT)?;
                let mut fill = || -> Result<OrderFill, DecodeError> {
                    Ok(OrderFill {
                        account_id: AccountId(r.u32()?),
                        slot_id: SlotId(r.u16()?),
                        nonce: OrderNonce(r.u24()?),
                        amount: r.float(AMOUNT_FLOAT)?,
                        fee_ratio: r.u8()?,
                    })
                };
                let maker = fill()?;
                let taker = fill()?;
                Op::OrderMatching(OrderMatchingOp {
                    sub_account_id,
                    submitter,
                    fee_token,
                    fee,
                    maker,
                    taker,
                    base_token: TokenId(r.u16()?),
                    quote_token: TokenId(r.u16()?),
                    maker_is_sell: r.bool()?,
                    base_amount: r.u128()?,
                    quote_amount: r.u128()?,
                })
            }
            op_code::CANCEL_ORDER => Op::CancelOrder(CancelOrderOp {
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                slot_id: SlotId(r.u16()?),
                order_nonce: OrderNonce(r.u24()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
            }),
            op_code::CREATE_POOL => {
                let account_id = AccountId(r.u32()?);
                let sub_account_id = SubAccountId(r.u8()?);
                let fee_token = TokenId(r.u16()?);
                let fee = r.float(FEE_FLOAT)?;
                let pool = AccountId(r.u32()?);
                let kind = PoolKind::from_code(r.u8()?).map_err(|_| DecodeError::Invalid {
                    what: "pool kind",
                    reason: "not 0 (constant product) or 1 (stable)",
                })?;
                let params = PoolParams {
                    kind,
                    fee_bps: r.u16()?,
                    protocol_share: r.u8()?,
                    amp: r.u16()?,
                    token_a: TokenId(r.u16()?),
                    token_b: TokenId(r.u16()?),
                    lp_token: TokenId(r.u16()?),
                };
                Op::CreatePool(CreatePoolOp { account_id, sub_account_id, fee_token, fee, pool, params })
            }
            op_code::ADD_LIQUIDITY => Op::AddLiquidity(AddLiquidityOp {
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                pool: AccountId(r.u32()?),
                token_a: TokenId(r.u16()?),
                amount_a: r.u128()?,
                amount_b: r.u128()?,
                shares: r.u128()?,
                fee: r.float(FEE_FLOAT)?,
            }),
            op_code::REMOVE_LIQUIDITY => Op::RemoveLiquidity(RemoveLiquidityOp {
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                pool: AccountId(r.u32()?),
                token_a: TokenId(r.u16()?),
                shares: r.u128()?,
                amount_a: r.u128()?,
                amount_b: r.u128()?,
                fee: r.float(FEE_FLOAT)?,
            }),
            op_code::SWAP => Op::Swap(SwapOp {
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                pool: AccountId(r.u32()?),
                token_in: TokenId(r.u16()?),
                amount_in: r.u120()?,
                amount_out: r.u120()?,
                fee: r.float(FEE_FLOAT)?,
                fee_bps: r.u16()?,
                protocol_share: r.u8()?,
            }),
            other => return Err(DecodeError::UnknownOpType(other)),
        };
        r.finish_zero_padded()?;
        Ok((op, len))
    }
}

/// Deposit and FullExit share one layout (docs/protocol.md §8): chain, account, sub-account,
/// L1 token, L2 token, amount, L1 address.
#[allow(clippy::too_many_arguments)]
fn put_priority(
    w: &mut Writer,
    chain: ChainId,
    account: AccountId,
    sub: SubAccountId,
    l1_token: TokenId,
    l2_token: TokenId,
    amount: Amount,
    owner: &Address,
) {
    w.u8(chain.0).u32(account.0).u8(sub.0).u16(l1_token.0).u16(l2_token.0).u128(amount).address(owner);
}

/// Reads the shared layout; the fields are returned in `FullExitOp` form.
fn read_priority(r: &mut Reader<'_>) -> Result<FullExitOp, DecodeError> {
    Ok(FullExitOp {
        chain_id: ChainId(r.u8()?),
        account_id: AccountId(r.u32()?),
        sub_account_id: SubAccountId(r.u8()?),
        l1_token: TokenId(r.u16()?),
        l2_token: TokenId(r.u16()?),
        amount: r.u128()?,
        owner: r.address()?,
    })
}

/// Splits a block's pubdata into ops. Trailing Noop chunks are returned as `Op::Noop` each.
pub fn decode_pubdata(pubdata: &[u8]) -> Result<Vec<Op>, DecodeError> {
    if !pubdata.len().is_multiple_of(CHUNK_BYTES) {
        return Err(DecodeError::Invalid {
            what: "block pubdata",
            reason: "length is not a multiple of 24-byte chunks",
        });
    }
    let mut ops = Vec::new();
    let mut pos = 0;
    while pos < pubdata.len() {
        let (op, len) = Op::from_pubdata(&pubdata[pos..])?;
        ops.push(op);
        pos += len;
    }
    Ok(ops)
}
