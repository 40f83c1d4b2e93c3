//! Transactions: L2 transactions signed by users, and L1 priority requests.
//!
//! Each L2 tx has canonical signed bytes (docs/protocol.md §4). The EdDSA message is the
//! circomlib Poseidon hash of those bytes split into 31-byte field elements; the tx hash is
//! SHA-256 of the signed bytes.

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};
use zklink_crypto::eddsa::{PrivateKey, PubKeyHash};
use zklink_crypto::{poseidon, Fr};

use crate::amount::{Amount, Price, AMOUNT_FLOAT, FEE_FLOAT};
use crate::bytes::{Reader, Writer};
use crate::error::{DecodeError, SignatureFault, TxError};
use crate::ids::*;
use crate::network::Preset;
use crate::op::op_chunks;
use crate::pool::PoolKind;
pub use crate::pool_tx::{AddLiquidity, CreatePool, RemoveLiquidity, Swap};
use crate::signature::TxSignature;
use crate::token::*;
use std::cmp::max;

/// Address of account 1 (the global asset account), which nobody controls.
pub const GLOBAL_ASSET_ADDRESS: Address = Address::new([0xff; 20]);

pub use crate::signed::{message_of, tx_type};

/// Max fast-withdraw fee ratio: 10000 = 100%.
pub const MAX_FEE_RATIO: u16 = 10_000;
/// Denominator of order fee ratios (u8): 100 = 1%.
pub const ORDER_FEE_DENOMINATOR: u128 = 10_000;

/// Hash of an L2 tx: `sha256(signed bytes)`; shown and serialised as `0x`-hex.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TxHash(#[serde(with = "crate::serde_hex")] pub [u8; 32]);

impl std::fmt::Debug for TxHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}
impl std::fmt::Display for TxHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl std::str::FromStr for TxHash {
    type Err = ParseTxHashError;

    /// `0x` and 64 hex digits (the prefix is optional).
    fn from_str(s: &str) -> Result<Self, ParseTxHashError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut out).map_err(ParseTxHashError)?;
        Ok(TxHash(out))
    }
}

/// A string that is not a tx hash.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
#[error("a tx hash is 32 bytes of hex (0x + 64 digits): {0}")]
pub struct ParseTxHashError(#[source] pub hex::FromHexError);

fn check_receiver(to: &Address) -> Result<(), TxError> {
    if to.is_zero() {
        return Err(TxError::InvalidAddress("the zero address cannot own funds"));
    }
    if *to == GLOBAL_ASSET_ADDRESS {
        return Err(TxError::InvalidAddress("0xff..ff is the global asset account"));
    }
    Ok(())
}

fn check_packable(value: u128, amount: bool) -> Result<(), TxError> {
    let f = if amount { AMOUNT_FLOAT } else { FEE_FLOAT };
    f.pack(value).map(|_| ())
}

fn check_nonzero(amount: u128) -> Result<(), TxError> {
    if amount == 0 {
        Err(TxError::ZeroAmount)
    } else {
        Ok(())
    }
}

/// How the L1 owner authorised a new L2 key. JSON: `{"type": "ethEcdsa", "signature": "0x…"}` or
/// `{"type": "onchain"}`; any other field is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", from = "ChangePubKeyAuthJson")]
pub enum ChangePubKeyAuth {
    /// EIP-712 signature by the account's L1 address (docs/protocol.md §5).
    EthEcdsa {
        /// `r ‖ s ‖ v` (65 bytes, low s) over `ChangePubKey(pubKeyHash, nonce, accountId)` in the
        /// chain's zklink domain.
        #[serde(with = "crate::serde_hex")]
        signature: [u8; 65],
    },
    /// The owner registered (pubkey hash, nonce) on the chain's contract beforehand.
    Onchain,
}

/// What [`ChangePubKeyAuth`] is read from: the same tags and fields, but `onchain` as a struct
/// variant, because serde ignores the extra fields of a unit variant even with
/// `deny_unknown_fields`.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
enum ChangePubKeyAuthJson {
    EthEcdsa {
        #[serde(with = "crate::serde_hex")]
        signature: [u8; 65],
    },
    Onchain {},
}

impl From<ChangePubKeyAuthJson> for ChangePubKeyAuth {
    fn from(json: ChangePubKeyAuthJson) -> Self {
        match json {
            ChangePubKeyAuthJson::EthEcdsa { signature } => ChangePubKeyAuth::EthEcdsa { signature },
            ChangePubKeyAuthJson::Onchain {} => ChangePubKeyAuth::Onchain,
        }
    }
}

/// Sets the account's L2 key. Signed by the new key; authorised on L1 by the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePubKey {
    /// The chain whose contract checks the L1 authorisation.
    pub chain_id: ChainId,
    /// The account whose key is set (never account 1).
    pub account_id: AccountId,
    /// Sub-account paying the fee.
    pub sub_account_id: SubAccountId,
    /// Hash of the new L2 public key (20 bytes, not zero); the tx must be signed by that key.
    pub new_pk_hash: PubKeyHash,
    /// The token the fee is paid in (a user token).
    pub fee_token: TokenId,
    /// Network fee to account 0, in L2 units of `fee_token`; must be packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The account's current nonce; the L1 authorisation names it too.
    pub nonce: Nonce,
    /// The owner's L1 authorisation (not part of the signed bytes).
    pub auth: ChangePubKeyAuth,
    /// Signature by the new key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl ChangePubKey {
    /// `06 ‖ chain u8 ‖ account u32 ‖ sub u8 ‖ new_pkh 20 ‖ fee_token u16 ‖ fee packed2 ‖ nonce u32`
    /// (35 bytes); fails if the fee is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(35);
        w.u8(tx_type::CHANGE_PUBKEY)
            .u8(self.chain_id.0)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .bytes(&self.new_pk_hash.0)
            .u16(self.fee_token.0)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0);
        Ok(w.finish())
    }

    /// Stateless field checks: chain id in 1..=31, ids in the preset's ranges, a user fee token,
    /// a packable fee and a non-zero new key hash.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        self.chain_id.check_range()?;
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        self.fee_token.check_user_token()?;
        preset.check_token(self.fee_token)?;
        check_packable(self.fee, false)?;
        if self.new_pk_hash.is_zero() {
            return Err(TxError::BadSignature(SignatureFault::Rule("the new pubkey hash must not be zero")));
        }
        Ok(())
    }
}

/// Moves funds to an address; creates the receiving account if the address is new.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transfer {
    /// The sending account, which signs and pays the fee.
    pub account_id: AccountId,
    /// The sender's sub-account debited with `amount + fee`.
    pub from_sub_account_id: SubAccountId,
    /// The receiver's L1 address (not zero, not `0xff…ff`); an address without an account gets one.
    pub to: Address,
    /// The receiver's sub-account credited.
    pub to_sub_account_id: SubAccountId,
    /// The token moved (a user token); the fee is paid in it too.
    pub token: TokenId,
    /// Amount in L2 units (18 decimals); non-zero and packable as an amount float.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Network fee to account 0, in L2 units of `token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The sender's current nonce.
    pub nonce: Nonce,
    /// Signature by the sender's key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl Transfer {
    /// `04 ‖ account u32 ‖ from_sub u8 ‖ to 20 ‖ to_sub u8 ‖ token u16 ‖ amount packed5 ‖ fee packed2 ‖
    /// nonce u32` (40 bytes); fails if amount or fee is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(40);
        w.u8(tx_type::TRANSFER)
            .u32(self.account_id.0)
            .u8(self.from_sub_account_id.0)
            .address(&self.to)
            .u8(self.to_sub_account_id.0)
            .u16(self.token.0)
            .float(AMOUNT_FLOAT, self.amount)?
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0);
        Ok(w.finish())
    }

    /// Stateless field checks: ids in the preset's ranges, a user token, a non-zero packable
    /// amount, a packable fee and a usable receiver address.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.from_sub_account_id)?;
        preset.check_sub_account(self.to_sub_account_id)?;
        self.token.check_user_token()?;
        preset.check_token(self.token)?;
        check_nonzero(self.amount)?;
        check_packable(self.amount, true)?;
        check_packable(self.fee, false)?;
        check_receiver(&self.to)
    }
}

/// Moves funds from L2 to an L1 address on any connected chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Withdraw {
    /// The chain that pays out; its reserve of the mapped token must cover `amount`.
    pub to_chain_id: ChainId,
    /// The withdrawing account, which signs and pays the fee.
    pub account_id: AccountId,
    /// The sub-account debited with `amount + fee`.
    pub sub_account_id: SubAccountId,
    /// L1 receiver.
    pub to: Address,
    /// Token debited on L2 (also the fee token).
    pub l2_source_token: TokenId,
    /// Token paid on L1: equal to the source, or a stablecoin when the source is USD.
    pub l1_target_token: TokenId,
    /// Full u128 (not packed): what L1 pays, before the fast-withdraw fee.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Network fee to account 0, in L2 units of `l2_source_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The account's current nonce; with the rest of the op it keys the withdrawal on L1.
    pub nonce: Nonce,
    /// 0 = normal withdrawal; > 0 lets an acceptor pay early for `amount · ratio / 10000`.
    pub fast_withdraw_fee_ratio: u16,
    /// Signature by the account's key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl Withdraw {
    /// `03 ‖ to_chain u8 ‖ account u32 ‖ sub u8 ‖ to 20 ‖ l2_source_token u16 ‖ l1_target_token u16 ‖
    /// amount u128 ‖ fee packed2 ‖ nonce u32 ‖ fast_withdraw_fee_ratio u16` (55 bytes); fails if the
    /// fee is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(55);
        w.u8(tx_type::WITHDRAW)
            .u8(self.to_chain_id.0)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .address(&self.to)
            .u16(self.l2_source_token.0)
            .u16(self.l1_target_token.0)
            .u128(self.amount)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0)
            .u16(self.fast_withdraw_fee_ratio);
        Ok(w.finish())
    }

    /// Stateless field checks: chain id in 1..=31, ids in the preset's ranges, a valid token
    /// mapping, a non-zero amount, a packable fee, a fee ratio ≤ 10000 and a usable receiver.
    /// Whether the chain is connected and the amount a whole number of L1 units is the executor's.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        self.to_chain_id.check_range()?;
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        TokenMapping::new(self.l1_target_token, self.l2_source_token)?;
        preset.check_token(self.l1_target_token)?;
        check_nonzero(self.amount)?;
        check_packable(self.fee, false)?;
        if self.fast_withdraw_fee_ratio > MAX_FEE_RATIO {
            return Err(TxError::FeeRatioTooHigh(self.fast_withdraw_fee_ratio));
        }
        check_receiver(&self.to)
    }
}

/// Withdraws the whole balance of a keyless account to its own L1 address; the initiator pays the fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForcedExit {
    /// The chain that pays out to the target; its reserve must cover the amount.
    pub to_chain_id: ChainId,
    /// The account that signs and pays the fee.
    pub initiator_account_id: AccountId,
    /// The initiator's sub-account that pays the fee.
    pub initiator_sub_account_id: SubAccountId,
    /// The L1 address of the account to exit, which must have no L2 key; it is also the payee.
    pub target: Address,
    /// The target's sub-account exited.
    pub target_sub_account_id: SubAccountId,
    /// The target's balance exited: `l1_target_token`, or USD (1) for a stablecoin.
    pub l2_source_token: TokenId,
    /// The token paid out on L1.
    pub l1_target_token: TokenId,
    /// The token the initiator pays the fee in (a user token).
    pub fee_token: TokenId,
    /// Network fee to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The initiator's current nonce.
    pub nonce: Nonce,
    /// Signature by the initiator's key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl ForcedExit {
    /// `07 ‖ to_chain u8 ‖ initiator u32 ‖ initiator_sub u8 ‖ target 20 ‖ target_sub u8 ‖
    /// l2_source_token u16 ‖ l1_target_token u16 ‖ fee_token u16 ‖ fee packed2 ‖ nonce u32`;
    /// fails if the fee is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(40);
        w.u8(tx_type::FORCED_EXIT)
            .u8(self.to_chain_id.0)
            .u32(self.initiator_account_id.0)
            .u8(self.initiator_sub_account_id.0)
            .address(&self.target)
            .u8(self.target_sub_account_id.0)
            .u16(self.l2_source_token.0)
            .u16(self.l1_target_token.0)
            .u16(self.fee_token.0)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0);
        Ok(w.finish())
    }

    /// Stateless field checks: chain id in 1..=31, ids in the preset's ranges, a valid token
    /// mapping, a user fee token, a packable fee and a usable target address.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        self.to_chain_id.check_range()?;
        preset.check_account(self.initiator_account_id)?;
        preset.check_sub_account(self.initiator_sub_account_id)?;
        preset.check_sub_account(self.target_sub_account_id)?;
        TokenMapping::new(self.l1_target_token, self.l2_source_token)?;
        preset.check_token(self.l1_target_token)?;
        self.fee_token.check_user_token()?;
        preset.check_token(self.fee_token)?;
        check_packable(self.fee, false)?;
        check_receiver(&self.target)
    }
}

/// A signed limit order resting in an order slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Order {
    /// The order's owner, which signs it.
    pub account_id: AccountId,
    /// The owner's sub-account that trades; it must be the matching's sub-account.
    pub sub_account_id: SubAccountId,
    /// The order slot it uses in that sub-account.
    pub slot_id: SlotId,
    /// The order's nonce (24-bit): the slot's nonce (continue, or an empty slot) or the next one
    /// (replace the resting order).
    pub nonce: OrderNonce,
    /// The token bought or sold (a user token).
    pub base_token: TokenId,
    /// The token it is priced in (a user token other than `base_token`).
    pub quote_token: TokenId,
    /// Base amount (packable).
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Limit price: quote units per base unit, 18-decimal fixed point; a fill trades at the maker's.
    pub price: Price,
    /// Whether the order sells base for quote (else it buys base).
    pub is_sell: bool,
    /// Fee ratio the owner pays on what it receives when the order is the maker, in units of
    /// 1/10^4 (100 = 1 %; at most 255 = 2.55 %).
    pub maker_fee_ratio: u8,
    /// Fee ratio the owner pays on what it receives when the order is the taker, in units of
    /// 1/10^4 (100 = 1 %; at most 255 = 2.55 %).
    pub taker_fee_ratio: u8,
    /// The order can be filled only in blocks whose timestamp (Unix seconds) is at least this.
    pub valid_from: u32,
    /// The order can be filled only in blocks whose timestamp (Unix seconds) is at most this
    /// ([`Order::NO_EXPIRY`] for good-till-cancelled).
    pub valid_until: u32,
    /// Signature by the owner's key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl Order {
    /// Length of an order's signed bytes.
    pub const SIGNED_BYTES: usize = 46;
    /// `valid_until` of an order that does not expire (before 2106).
    pub const NO_EXPIRY: u32 = u32::MAX;

    /// `ff ‖ account u32 ‖ sub u8 ‖ slot u16 ‖ order_nonce u24 ‖ base_token u16 ‖ quote_token u16 ‖
    /// price 15 ‖ is_sell u8 ‖ maker_fee_ratio u8 ‖ taker_fee_ratio u8 ‖ amount packed5 ‖
    /// valid_from u32 ‖ valid_until u32` (46 bytes); fails if the amount is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(Self::SIGNED_BYTES);
        w.u8(tx_type::ORDER)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .u16(self.slot_id.0)
            .u24(self.nonce.0)
            .u16(self.base_token.0)
            .u16(self.quote_token.0)
            .price(self.price.0)
            .u8(self.is_sell as u8)
            .u8(self.maker_fee_ratio)
            .u8(self.taker_fee_ratio)
            .float(AMOUNT_FLOAT, self.amount)?
            .u32(self.valid_from)
            .u32(self.valid_until);
        Ok(w.finish())
    }

    /// The last second (Unix time) a block may fill the order in; `None` for [`Order::NO_EXPIRY`].
    pub fn expires_at(&self) -> Option<u32> {
        (self.valid_until != Self::NO_EXPIRY).then_some(self.valid_until)
    }

    /// Whether a block with timestamp `timestamp` (Unix seconds) may fill the order.
    pub fn is_valid_at(&self, timestamp: u64) -> bool {
        u64::from(self.valid_from) <= timestamp && timestamp <= u64::from(self.valid_until)
    }

    /// What the owner signs: `msg(signed bytes)`.
    pub fn message(&self) -> Result<Fr, TxError> {
        message_of(&self.signed_bytes()?)
    }

    /// Stateless field checks: ids in the preset's ranges, a 24-bit nonce, distinct user tokens,
    /// a non-zero packable amount, a price in `1 ..= 2^120 − 1` and a validity window that is
    /// not empty.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        if self.valid_from > self.valid_until {
            return Err(TxError::OrderWindowEmpty { valid_from: self.valid_from, valid_until: self.valid_until });
        }
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        preset.check_slot(self.slot_id)?;
        self.nonce.check_range()?;
        for t in [self.base_token, self.quote_token] {
            t.check_user_token()?;
            preset.check_token(t)?;
        }
        if self.base_token == self.quote_token {
            return Err(TxError::OrderMismatch("base and quote token must differ"));
        }
        check_nonzero(self.amount)?;
        check_packable(self.amount, true)?;
        self.price.check()
    }

    /// The order signed by `key` (its owner's L2 key); fails if the amount is not packable.
    pub fn sign(mut self, key: &PrivateKey) -> Result<Self, TxError> {
        self.signature = TxSignature::sign(key, self.message()?);
        Ok(self)
    }
}

/// Cancels, for good, every order of one order slot up to a nonce: the slot moves to
/// `{order_nonce + 1, 0}`, so no order signed with a nonce ≤ `order_nonce` can be filled again,
/// by any operator. The owner signs it and pays the network fee.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelOrder {
    /// The slot's owner, which signs the cancel.
    pub account_id: AccountId,
    /// The sub-account of the slot; it also pays the fee.
    pub sub_account_id: SubAccountId,
    /// The order slot.
    pub slot_id: SlotId,
    /// The highest order nonce cancelled: at least the slot's nonce, below 2^24 − 1.
    pub order_nonce: OrderNonce,
    /// The token the fee is paid in (a user token).
    pub fee_token: TokenId,
    /// Network fee to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The owner's current nonce.
    pub nonce: Nonce,
    /// Signature by the owner's key over `msg(signed bytes)`.
    pub signature: TxSignature,
}

impl CancelOrder {
    /// `09 ‖ account u32 ‖ sub u8 ‖ slot u16 ‖ order_nonce u24 ‖ fee_token u16 ‖ fee packed2 ‖
    /// nonce u32` (19 bytes); fails if the fee is not packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(19);
        w.u8(tx_type::CANCEL_ORDER)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .u16(self.slot_id.0)
            .u24(self.order_nonce.0)
            .u16(self.fee_token.0)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0);
        Ok(w.finish())
    }

    /// What the owner signs: `msg(signed bytes)` ([`L2Tx::message`] of the tx).
    pub fn message(&self) -> Result<Fr, TxError> {
        message_of(&self.signed_bytes()?)
    }

    /// The cancel signed by `key` (the owner's L2 key); fails if the fee is not packable.
    pub fn sign(mut self, key: &PrivateKey) -> Result<Self, TxError> {
        self.signature = TxSignature::sign(key, self.message()?);
        Ok(self)
    }

    /// Stateless field checks: ids in the preset's ranges, an order nonce whose successor fits
    /// 24 bits, a user fee token and a packable fee.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        preset.check_slot(self.slot_id)?;
        if self.order_nonce.0 >= MAX_ORDER_NONCE {
            return Err(TxError::FieldOutOfRange {
                field: "order nonce of a cancel",
                value: self.order_nonce.0.into(),
                max: (MAX_ORDER_NONCE - 1).into(),
            });
        }
        self.fee_token.check_user_token()?;
        preset.check_token(self.fee_token)?;
        check_packable(self.fee, false)
    }
}

/// A submitter (DEX) matches a taker order against a resting maker order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderMatching {
    /// The submitter; receives the trading fees and pays the network fee.
    pub account_id: AccountId,
    /// Shared by the submitter and both orders.
    pub sub_account_id: SubAccountId,
    /// The submitter's current nonce.
    pub nonce: Nonce,
    /// The resting order; the fill trades at its price and charges its maker fee ratio.
    pub maker: Order,
    /// The incoming order, on the opposite side; it is charged its taker fee ratio.
    pub taker: Order,
    /// The token the submitter pays the network fee in (a user token).
    pub fee_token: TokenId,
    /// Network fee to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// 0 = no cap; otherwise the fill in base units is at most this.
    #[serde(with = "crate::serde_str")]
    pub expect_base_amount: Amount,
    /// 0 = no cap; otherwise the matching is rejected if the quote amount exceeds this.
    #[serde(with = "crate::serde_str")]
    pub expect_quote_amount: Amount,
    /// Signature by the submitter's key over [`OrderMatching::message`].
    pub signature: TxSignature,
}

impl OrderMatching {
    /// Submitter header; the orders enter the signed message by their own messages.
    pub fn header_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(46);
        w.u8(tx_type::ORDER_MATCHING)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .u32(self.nonce.0)
            .u16(self.fee_token.0)
            .float(FEE_FLOAT, self.fee)?
            .u128(self.expect_base_amount)
            .u128(self.expect_quote_amount);
        Ok(w.finish())
    }

    /// Header ‖ maker order bytes ‖ taker order bytes.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut b = self.header_bytes()?;
        b.extend(self.maker.signed_bytes()?);
        b.extend(self.taker.signed_bytes()?);
        Ok(b)
    }

    /// Poseidon(hash(header), maker message, taker message).
    pub fn message(&self) -> Result<Fr, TxError> {
        self.message_with(self.maker.message()?, self.taker.message()?)
    }

    /// [`OrderMatching::message`] given the orders' messages (computed once by a caller that
    /// needs them anyway, e.g. to verify the orders' signatures).
    pub fn message_with(&self, maker: Fr, taker: Fr) -> Result<Fr, TxError> {
        let header = message_of(&self.header_bytes()?)?;
        poseidon::hash(&[header, maker, taker]).map_err(SignatureFault::crypto("message"))
    }

    /// Stateless field checks of the header and both orders, and that the orders can trade:
    /// same sub-account as the submitter, same base and quote, opposite sides, different owners.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        self.fee_token.check_user_token()?;
        preset.check_token(self.fee_token)?;
        check_packable(self.fee, false)?;
        self.maker.validate(preset)?;
        self.taker.validate(preset)?;
        if self.maker.sub_account_id != self.sub_account_id || self.taker.sub_account_id != self.sub_account_id {
            return Err(TxError::OrderMismatch("both orders must be in the submitter's sub-account"));
        }
        if self.maker.base_token != self.taker.base_token || self.maker.quote_token != self.taker.quote_token {
            return Err(TxError::OrderMismatch("orders must trade the same base and quote tokens"));
        }
        if self.maker.is_sell == self.taker.is_sell {
            return Err(TxError::OrderMismatch("one order must buy and the other sell"));
        }
        if self.maker.account_id == self.taker.account_id {
            return Err(TxError::OrderMismatch("maker and taker must be different accounts"));
        }
        Ok(())
    }
}

/// A transaction submitted on L2. JSON: `{"type": "Transfer", …}` with the variant's camelCase
/// fields, every one required; a field the variant does not have (anywhere in the tx) is refused
/// (docs/api.md, Transactions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum L2Tx {
    /// Sets an account's L2 key.
    ChangePubKey(ChangePubKey),
    /// Moves funds to an address.
    Transfer(Transfer),
    /// Moves funds to L1 through a chain.
    Withdraw(Withdraw),
    /// Exits a keyless account's balance to its own L1 address.
    ForcedExit(ForcedExit),
    /// Boxed: two orders make it several times larger than the other variants.
    OrderMatching(Box<OrderMatching>),
    /// Cancels an order slot's orders for good.
    CancelOrder(CancelOrder),
    /// Creates an AMM pool.
    CreatePool(CreatePool),
    /// Adds liquidity to a pool.
    AddLiquidity(AddLiquidity),
    /// Removes liquidity from a pool.
    RemoveLiquidity(RemoveLiquidity),
    /// Swaps against a pool.
    Swap(Swap),
}

impl L2Tx {
    /// The tx's canonical signed bytes (docs/protocol.md §4); fails if an amount or fee is not
    /// packable.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        match self {
            L2Tx::ChangePubKey(t) => t.signed_bytes(),
            L2Tx::Transfer(t) => t.signed_bytes(),
            L2Tx::Withdraw(t) => t.signed_bytes(),
            L2Tx::ForcedExit(t) => t.signed_bytes(),
            L2Tx::OrderMatching(t) => t.signed_bytes(),
            L2Tx::CancelOrder(t) => t.signed_bytes(),
            L2Tx::CreatePool(t) => t.signed_bytes(),
            L2Tx::AddLiquidity(t) => t.signed_bytes(),
            L2Tx::RemoveLiquidity(t) => t.signed_bytes(),
            L2Tx::Swap(t) => t.signed_bytes(),
        }
    }

    /// The field element the tx's main signature signs.
    pub fn message(&self) -> Result<Fr, TxError> {
        match self {
            L2Tx::OrderMatching(t) => t.message(),
            other => message_of(&other.signed_bytes()?),
        }
    }

    /// SHA-256 of the signed bytes.
    pub fn hash(&self) -> Result<TxHash, TxError> {
        Ok(TxHash(zklink_crypto::sha256(&self.signed_bytes()?)))
    }

    /// Stateless field checks (ranges, packability, token mapping).
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        match self {
            L2Tx::ChangePubKey(t) => t.validate(preset),
            L2Tx::Transfer(t) => t.validate(preset),
            L2Tx::Withdraw(t) => t.validate(preset),
            L2Tx::ForcedExit(t) => t.validate(preset),
            L2Tx::OrderMatching(t) => t.validate(preset),
            L2Tx::CancelOrder(t) => t.validate(preset),
            L2Tx::CreatePool(t) => t.validate(preset),
            L2Tx::AddLiquidity(t) => t.validate(preset),
            L2Tx::RemoveLiquidity(t) => t.validate(preset),
            L2Tx::Swap(t) => t.validate(preset),
        }
    }

    /// The tx's main signature (an OrderMatching's submitter signature, not the orders').
    pub fn signature(&self) -> &TxSignature {
        match self {
            L2Tx::ChangePubKey(t) => &t.signature,
            L2Tx::Transfer(t) => &t.signature,
            L2Tx::Withdraw(t) => &t.signature,
            L2Tx::ForcedExit(t) => &t.signature,
            L2Tx::OrderMatching(t) => &t.signature,
            L2Tx::CancelOrder(t) => &t.signature,
            L2Tx::CreatePool(t) => &t.signature,
            L2Tx::AddLiquidity(t) => &t.signature,
            L2Tx::RemoveLiquidity(t) => &t.signature,
            L2Tx::Swap(t) => &t.signature,
        }
    }

    fn signature_mut(&mut self) -> &mut TxSignature {
        match self {
            L2Tx::ChangePubKey(t) => &mut t.signature,
            L2Tx::Transfer(t) => &mut t.signature,
            L2Tx::Withdraw(t) => &mut t.signature,
            L2Tx::ForcedExit(t) => &mut t.signature,
            L2Tx::OrderMatching(t) => &mut t.signature,
            L2Tx::CancelOrder(t) => &mut t.signature,
            L2Tx::CreatePool(t) => &mut t.signature,
            L2Tx::AddLiquidity(t) => &mut t.signature,
            L2Tx::RemoveLiquidity(t) => &mut t.signature,
            L2Tx::Swap(t) => &mut t.signature,
        }
    }

    /// Signs the tx's main signature (orders inside an OrderMatching are signed separately).
    pub fn sign(mut self, key: &PrivateKey) -> Result<Self, TxError> {
        let msg = self.message()?;
        *self.signature_mut() = TxSignature::sign(key, msg);
        Ok(self)
    }

    /// The account whose key signs the tx and whose nonce it uses.
    pub fn signer(&self) -> AccountId {
        match self {
            L2Tx::ChangePubKey(t) => t.account_id,
            L2Tx::Transfer(t) => t.account_id,
            L2Tx::Withdraw(t) => t.account_id,
            L2Tx::ForcedExit(t) => t.initiator_account_id,
            L2Tx::OrderMatching(t) => t.account_id,
            L2Tx::CancelOrder(t) => t.account_id,
            L2Tx::CreatePool(t) => t.account_id,
            L2Tx::AddLiquidity(t) => t.account_id,
            L2Tx::RemoveLiquidity(t) => t.account_id,
            L2Tx::Swap(t) => t.account_id,
        }
    }

    /// The signer's account nonce the tx uses.
    pub fn nonce(&self) -> Nonce {
        match self {
            L2Tx::ChangePubKey(t) => t.nonce,
            L2Tx::Transfer(t) => t.nonce,
            L2Tx::Withdraw(t) => t.nonce,
            L2Tx::ForcedExit(t) => t.nonce,
            L2Tx::OrderMatching(t) => t.nonce,
            L2Tx::CancelOrder(t) => t.nonce,
            L2Tx::CreatePool(t) => t.nonce,
            L2Tx::AddLiquidity(t) => t.nonce,
            L2Tx::RemoveLiquidity(t) => t.nonce,
            L2Tx::Swap(t) => t.nonce,
        }
    }

    /// The fee's token and amount (a transfer pays in the token it moves, a withdrawal in its
    /// source token).
    pub fn fee(&self) -> (TokenId, Amount) {
        match self {
            L2Tx::ChangePubKey(t) => (t.fee_token, t.fee),
            L2Tx::Transfer(t) => (t.token, t.fee),
            L2Tx::Withdraw(t) => (t.l2_source_token, t.fee),
            L2Tx::ForcedExit(t) => (t.fee_token, t.fee),
            L2Tx::OrderMatching(t) => (t.fee_token, t.fee),
            L2Tx::CancelOrder(t) => (t.fee_token, t.fee),
            L2Tx::CreatePool(t) => (t.fee_token, t.fee),
            L2Tx::AddLiquidity(t) => (t.fee_token, t.fee),
            L2Tx::RemoveLiquidity(t) => (t.fee_token, t.fee),
            L2Tx::Swap(t) => (t.token_in, t.fee),
        }
    }

    /// The tx's type.
    pub fn tx_kind(&self) -> TxKind {
        match self {
            L2Tx::ChangePubKey(_) => TxKind::ChangePubKey,
            L2Tx::Transfer(_) => TxKind::Transfer,
            L2Tx::Withdraw(_) => TxKind::Withdraw,
            L2Tx::ForcedExit(_) => TxKind::ForcedExit,
            L2Tx::OrderMatching(_) => TxKind::OrderMatching,
            L2Tx::CancelOrder(_) => TxKind::CancelOrder,
            L2Tx::CreatePool(_) => TxKind::CreatePool,
            L2Tx::AddLiquidity(_) => TxKind::AddLiquidity,
            L2Tx::RemoveLiquidity(_) => TxKind::RemoveLiquidity,
            L2Tx::Swap(_) => TxKind::Swap,
        }
    }

    /// The tx type's name, e.g. `"Transfer"`.
    pub fn kind(&self) -> &'static str {
        self.tx_kind().name()
    }

    /// The most chunks this tx's op can take.
    pub fn max_chunks(&self) -> usize {
        self.tx_kind().max_chunks()
    }
}

/// The types of L2 tx, by name (`"Transfer"`, …) in the API and the CLI.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// [`ChangePubKey`].
    ChangePubKey,
    /// [`Transfer`].
    Transfer,
    /// [`Withdraw`].
    Withdraw,
    /// [`ForcedExit`].
    ForcedExit,
    /// [`OrderMatching`].
    OrderMatching,
    /// [`CancelOrder`].
    CancelOrder,
    /// [`CreatePool`].
    CreatePool,
    /// [`AddLiquidity`].
    AddLiquidity,
    /// [`RemoveLiquidity`].
    RemoveLiquidity,
    /// [`Swap`].
    Swap,
}

impl TxKind {
    /// Every type.
    pub const ALL: [TxKind; 10] = [
        TxKind::ChangePubKey,
        TxKind::Transfer,
        TxKind::Withdraw,
        TxKind::ForcedExit,
        TxKind::OrderMatching,
        TxKind::CancelOrder,
        TxKind::CreatePool,
        TxKind::AddLiquidity,
        TxKind::RemoveLiquidity,
        TxKind::Swap,
    ];

    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            TxKind::ChangePubKey => "ChangePubKey",
            TxKind::Transfer => "Transfer",
            TxKind::Withdraw => "Withdraw",
            TxKind::ForcedExit => "ForcedExit",
            TxKind::OrderMatching => "OrderMatching",
            TxKind::CancelOrder => "CancelOrder",
            TxKind::CreatePool => "CreatePool",
            TxKind::AddLiquidity => "AddLiquidity",
            TxKind::RemoveLiquidity => "RemoveLiquidity",
            TxKind::Swap => "Swap",
        }
    }

    /// Whether this tx's op is an on-chain op (it names a chain, which pays or keys it on L1).
    pub fn is_onchain(self) -> bool {
        matches!(self, TxKind::ChangePubKey | TxKind::Withdraw | TxKind::ForcedExit)
    }

    /// The most chunks a tx of this type can take (a transfer to a new account takes more than
    /// one to an existing account), from [`op_chunks`].
    pub fn max_chunks(self) -> usize {
        match self {
            TxKind::ChangePubKey => op_chunks::CHANGE_PUBKEY,
            TxKind::Transfer => max(op_chunks::TRANSFER, op_chunks::TRANSFER_TO_NEW),
            TxKind::Withdraw => op_chunks::WITHDRAW,
            TxKind::ForcedExit => op_chunks::FORCED_EXIT,
            TxKind::OrderMatching => op_chunks::ORDER_MATCHING,
            TxKind::CancelOrder => op_chunks::CANCEL_ORDER,
            TxKind::CreatePool => op_chunks::CREATE_POOL,
            TxKind::AddLiquidity => op_chunks::ADD_LIQUIDITY,
            TxKind::RemoveLiquidity => op_chunks::REMOVE_LIQUIDITY,
            TxKind::Swap => op_chunks::SWAP,
        }
    }

    /// The op code of this tx's op (a transfer's to an existing account).
    pub fn op_code(self) -> u8 {
        use crate::op::op_code;
        match self {
            TxKind::ChangePubKey => op_code::CHANGE_PUBKEY,
            TxKind::Transfer => op_code::TRANSFER,
            TxKind::Withdraw => op_code::WITHDRAW,
            TxKind::ForcedExit => op_code::FORCED_EXIT,
            TxKind::OrderMatching => op_code::ORDER_MATCHING,
            TxKind::CancelOrder => op_code::CANCEL_ORDER,
            TxKind::CreatePool => op_code::CREATE_POOL,
            TxKind::AddLiquidity => op_code::ADD_LIQUIDITY,
            TxKind::RemoveLiquidity => op_code::REMOVE_LIQUIDITY,
            TxKind::Swap => op_code::SWAP,
        }
    }
}

impl std::fmt::Display for TxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an L2 tx type.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error(
    "unknown tx type {0:?}: expected one of ChangePubKey, Transfer, Withdraw, ForcedExit, OrderMatching, CancelOrder, CreatePool, AddLiquidity, RemoveLiquidity, Swap"
)]
pub struct UnknownTxKind(pub String);

impl std::str::FromStr for TxKind {
    type Err = UnknownTxKind;

    fn from_str(s: &str) -> Result<Self, UnknownTxKind> {
        TxKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| UnknownTxKind(s.chars().take(64).collect()))
    }
}

/// Deposit request from a chain's priority queue. The L1 contract has already scaled the
/// amount to 18 decimals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deposit {
    /// The chain whose contract received the deposit.
    pub chain_id: ChainId,
    /// The request's position in that chain's priority queue (from 0).
    pub serial_id: SerialId,
    /// L1 sender (informational; not in pubdata).
    pub from: Address,
    /// The L2 receiver: the L1 address whose account is credited (created if new).
    pub to: Address,
    /// The receiver's sub-account credited.
    pub sub_account_id: SubAccountId,
    /// The token deposited on L1 (listed on that chain).
    pub l1_token: TokenId,
    /// Equal to `l1_token`, or USD to credit a stablecoin as USD.
    pub l2_token: TokenId,
    /// Amount in L2 units (18 decimals); non-zero.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
}

/// Full-exit request from a chain's priority queue: exit the whole balance of one
/// (sub-account, token), capped by the chain's reserve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FullExit {
    /// The chain whose contract queued the request and pays out.
    pub chain_id: ChainId,
    /// The request's position in that chain's priority queue (from 0).
    pub serial_id: SerialId,
    /// The account to exit.
    pub account_id: AccountId,
    /// The sub-account to exit.
    pub sub_account_id: SubAccountId,
    /// L1 sender; must own the account or the exit pays nothing.
    pub owner: Address,
    /// The token paid out on L1.
    pub l1_token: TokenId,
    /// The balance exited: `l1_token`, or USD (1) for a stablecoin.
    pub l2_token: TokenId,
}

/// A request from a chain's L1 priority queue, applied in serial-id order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PriorityTx {
    /// Credit a deposit made on L1.
    Deposit(Deposit),
    /// Exit a whole balance, requested on L1.
    FullExit(FullExit),
}

impl PriorityTx {
    /// The chain whose queue holds the request.
    pub fn chain_id(&self) -> ChainId {
        match self {
            PriorityTx::Deposit(d) => d.chain_id,
            PriorityTx::FullExit(f) => f.chain_id,
        }
    }
    /// The request's position in that chain's queue.
    pub fn serial_id(&self) -> SerialId {
        match self {
            PriorityTx::Deposit(d) => d.serial_id,
            PriorityTx::FullExit(f) => f.serial_id,
        }
    }
    /// The chunks its op takes.
    pub fn chunks(&self) -> usize {
        match self {
            PriorityTx::Deposit(_) => op_chunks::DEPOSIT,
            PriorityTx::FullExit(_) => op_chunks::FULL_EXIT,
        }
    }
}

/// Decodes an `Order` from its signed bytes (used by the API and fuzzing); the signature is left empty.
pub fn decode_order(bytes: &[u8]) -> Result<Order, DecodeError> {
    let mut r = Reader::new(bytes, "order");
    if r.u8()? != tx_type::ORDER {
        return Err(DecodeError::Invalid { what: "order", reason: "type byte must be 0xff" });
    }
    let order = Order {
        account_id: AccountId(r.u32()?),
        sub_account_id: SubAccountId(r.u8()?),
        slot_id: SlotId(r.u16()?),
        nonce: OrderNonce(r.u24()?),
        base_token: TokenId(r.u16()?),
        quote_token: TokenId(r.u16()?),
        price: Price(r.price()?),
        is_sell: r.bool()?,
        maker_fee_ratio: r.u8()?,
        taker_fee_ratio: r.u8()?,
        amount: r.float(AMOUNT_FLOAT)?,
        valid_from: r.u32()?,
        valid_until: r.u32()?,
        signature: TxSignature::default(),
    };
    r.finish()?;
    Ok(order)
}

/// Decodes a Transfer from its signed bytes; the signature is left empty.
pub fn decode_transfer(bytes: &[u8]) -> Result<Transfer, DecodeError> {
    let mut r = Reader::new(bytes, "transfer");
    if r.u8()? != tx_type::TRANSFER {
        return Err(DecodeError::Invalid { what: "transfer", reason: "type byte must be 0x04" });
    }
    let t = Transfer {
        account_id: AccountId(r.u32()?),
        from_sub_account_id: SubAccountId(r.u8()?),
        to: r.address()?,
        to_sub_account_id: SubAccountId(r.u8()?),
        token: TokenId(r.u16()?),
        amount: r.float(AMOUNT_FLOAT)?,
        fee: r.float(FEE_FLOAT)?,
        nonce: Nonce(r.u32()?),
        signature: TxSignature::default(),
    };
    r.finish()?;
    Ok(t)
}

/// Decodes the signed bytes of any L2 tx. Signatures (and a ChangePubKey's L1 authorisation,
/// which is not part of the signed bytes) are left empty.
pub fn decode_signed_tx(bytes: &[u8]) -> Result<L2Tx, DecodeError> {
    let kind = *bytes.first().ok_or(DecodeError::UnexpectedEnd { what: "tx", needed: 1, remaining: 0 })?;
    match kind {
        tx_type::TRANSFER => decode_transfer(bytes).map(L2Tx::Transfer),
        tx_type::CHANGE_PUBKEY => {
            let mut r = Reader::new(bytes, "change-pubkey");
            r.u8()?;
            let t = ChangePubKey {
                chain_id: ChainId(r.u8()?),
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                new_pk_hash: PubKeyHash(r.array()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
                nonce: Nonce(r.u32()?),
                auth: ChangePubKeyAuth::Onchain,
                signature: TxSignature::default(),
            };
            r.finish()?;
            Ok(L2Tx::ChangePubKey(t))
        }
        tx_type::WITHDRAW => {
            let mut r = Reader::new(bytes, "withdraw");
            r.u8()?;
            let t = Withdraw {
                to_chain_id: ChainId(r.u8()?),
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                to: r.address()?,
                l2_source_token: TokenId(r.u16()?),
                l1_target_token: TokenId(r.u16()?),
                amount: r.u128()?,
                fee: r.float(FEE_FLOAT)?,
                nonce: Nonce(r.u32()?),
                fast_withdraw_fee_ratio: r.u16()?,
                signature: TxSignature::default(),
            };
            r.finish()?;
            Ok(L2Tx::Withdraw(t))
        }
        tx_type::FORCED_EXIT => {
            let mut r = Reader::new(bytes, "forced-exit");
            r.u8()?;
            let t = ForcedExit {
                to_chain_id: ChainId(r.u8()?),
                initiator_account_id: AccountId(r.u32()?),
                initiator_sub_account_id: SubAccountId(r.u8()?),
                target: r.address()?,
                target_sub_account_id: SubAccountId(r.u8()?),
                l2_source_token: TokenId(r.u16()?),
                l1_target_token: TokenId(r.u16()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
                nonce: Nonce(r.u32()?),
                signature: TxSignature::default(),
            };
            r.finish()?;
            Ok(L2Tx::ForcedExit(t))
        }
        tx_type::ORDER_MATCHING => {
            let mut r = Reader::new(bytes, "order-matching");
            r.u8()?;
            let account_id = AccountId(r.u32()?);
            let sub_account_id = SubAccountId(r.u8()?);
            let nonce = Nonce(r.u32()?);
            let fee_token = TokenId(r.u16()?);
            let fee = r.float(FEE_FLOAT)?;
            let expect_base_amount = r.u128()?;
            let expect_quote_amount = r.u128()?;
            let maker = decode_order(r.take(Order::SIGNED_BYTES)?)?;
            let taker = decode_order(r.take(Order::SIGNED_BYTES)?)?;
            r.finish()?;
            Ok(L2Tx::OrderMatching(Box::new(OrderMatching {
                account_id,
                sub_account_id,
                nonce,
                maker,
                taker,
                fee_token,
                fee,
                expect_base_amount,
                expect_quote_amount,
                signature: TxSignature::default(),
            })))
        }
        tx_type::CANCEL_ORDER => {
            let mut r = Reader::new(bytes, "cancel-order");
            r.u8()?;
            let t = CancelOrder {
                account_id: AccountId(r.u32()?),
                sub_account_id: SubAccountId(r.u8()?),
                slot_id: SlotId(r.u16()?),
                order_nonce: OrderNonce(r.u24()?),
                fee_token: TokenId(r.u16()?),
                fee: r.float(FEE_FLOAT)?,
                nonce: Nonce(r.u32()?),
                signature: TxSignature::default(),
            };
            r.finish()?;
            Ok(L2Tx::CancelOrder(t))
        }
        other => decode_pool_tx(bytes)?.ok_or(DecodeError::UnknownOpType(other)),
    }
}

/// Decodes the signed bytes of a pool tx (type 0x0a..=0x0d); the signature is left empty.
fn decode_pool_tx(bytes: &[u8]) -> Result<Option<L2Tx>, DecodeError> {
    let Some(&kind) = bytes.first() else { return Ok(None) };
    let mut r = Reader::new(bytes, "pool tx");
    r.u8()?;
    let sig = TxSignature::default();
    let tx = match kind {
        tx_type::CREATE_POOL => L2Tx::CreatePool(CreatePool {
            account_id: AccountId(r.u32()?),
            sub_account_id: SubAccountId(r.u8()?),
            kind: PoolKind::from_code(r.u8()?)
                .map_err(|_| DecodeError::Invalid { what: "pool kind", reason: "not 0 or 1" })?,
            token_a: TokenId(r.u16()?),
            token_b: TokenId(r.u16()?),
            fee_bps: r.u16()?,
            protocol_share: r.u8()?,
            amp: r.u16()?,
            fee_token: TokenId(r.u16()?),
            fee: r.float(FEE_FLOAT)?,
            nonce: Nonce(r.u32()?),
            signature: sig,
        }),
        tx_type::ADD_LIQUIDITY => L2Tx::AddLiquidity(AddLiquidity {
            account_id: AccountId(r.u32()?),
            sub_account_id: SubAccountId(r.u8()?),
            pool: AccountId(r.u32()?),
            max_a: r.u128()?,
            max_b: r.u128()?,
            min_shares: r.u128()?,
            fee_token: TokenId(r.u16()?),
            fee: r.float(FEE_FLOAT)?,
            nonce: Nonce(r.u32()?),
            valid_from: r.u32()?,
            valid_until: r.u32()?,
            signature: sig,
        }),
        tx_type::REMOVE_LIQUIDITY => L2Tx::RemoveLiquidity(RemoveLiquidity {
            account_id: AccountId(r.u32()?),
            sub_account_id: SubAccountId(r.u8()?),
            pool: AccountId(r.u32()?),
            shares: r.u128()?,
            min_a: r.u128()?,
            min_b: r.u128()?,
            fee_token: TokenId(r.u16()?),
            fee: r.float(FEE_FLOAT)?,
            nonce: Nonce(r.u32()?),
            valid_from: r.u32()?,
            valid_until: r.u32()?,
            signature: sig,
        }),
        tx_type::SWAP => L2Tx::Swap(Swap {
            account_id: AccountId(r.u32()?),
            sub_account_id: SubAccountId(r.u8()?),
            pool: AccountId(r.u32()?),
            token_in: TokenId(r.u16()?),
            exact_out: r.bool()?,
            amount: r.u128()?,
            limit: r.u128()?,
            fee: r.float(FEE_FLOAT)?,
            nonce: Nonce(r.u32()?),
            valid_from: r.u32()?,
            valid_until: r.u32()?,
            signature: sig,
        }),
        _ => return Ok(None),
    };
    r.finish()?;
    Ok(Some(tx))
}
