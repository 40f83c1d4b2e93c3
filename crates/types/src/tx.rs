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
use crate::error::{DecodeError, TxError};
use crate::ids::*;
use crate::network::Preset;
use crate::op::op_chunks;
use crate::signature::TxSignature;
use crate::token::*;
use std::cmp::max;

/// Address of account 1 (the global asset account), which nobody controls.
pub const GLOBAL_ASSET_ADDRESS: Address = Address::new([0xff; 20]);

/// Signing type bytes; operation codes share the numbering (docs/protocol.md §4).
pub mod tx_type {
    use crate::op::op_code;

    pub const DEPOSIT: u8 = op_code::DEPOSIT;
    pub const WITHDRAW: u8 = op_code::WITHDRAW;
    pub const TRANSFER: u8 = op_code::TRANSFER;
    pub const FULL_EXIT: u8 = op_code::FULL_EXIT;
    pub const CHANGE_PUBKEY: u8 = op_code::CHANGE_PUBKEY;
    pub const FORCED_EXIT: u8 = op_code::FORCED_EXIT;
    pub const ORDER_MATCHING: u8 = op_code::ORDER_MATCHING;
    /// Orders are signed but never an op of their own.
    pub const ORDER: u8 = 0xff;
}

/// Max fast-withdraw fee ratio: 10000 = 100%.
pub const MAX_FEE_RATIO: u16 = 10_000;
/// Denominator of order fee ratios (u8): 100 = 1%.
pub const ORDER_FEE_DENOMINATOR: u128 = 10_000;

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

/// How the L1 owner authorised a new L2 key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ChangePubKeyAuth {
    /// EIP-712 signature by the account's L1 address (docs/protocol.md §5).
    EthEcdsa {
        #[serde(with = "crate::serde_hex")]
        signature: [u8; 65],
    },
    /// The owner registered (pubkey hash, nonce) on the chain's contract beforehand.
    Onchain,
}

/// Sets the account's L2 key. Signed by the new key; authorised on L1 by the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePubKey {
    /// The chain whose contract checks the L1 authorisation.
    pub chain_id: ChainId,
    pub account_id: AccountId,
    /// Sub-account paying the fee.
    pub sub_account_id: SubAccountId,
    pub new_pk_hash: PubKeyHash,
    pub fee_token: TokenId,
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    pub nonce: Nonce,
    pub auth: ChangePubKeyAuth,
    pub signature: TxSignature,
}

impl ChangePubKey {
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

    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        self.chain_id.check_range()?;
        preset.check_account(self.account_id)?;
        preset.check_sub_account(self.sub_account_id)?;
        self.fee_token.check_user_token()?;
        preset.check_token(self.fee_token)?;
        check_packable(self.fee, false)?;
        if self.new_pk_hash.is_zero() {
            return Err(TxError::BadSignature("the new pubkey hash must not be zero".into()));
        }
        Ok(())
    }
}

/// Moves funds to an address; creates the receiving account if the address is new.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    pub account_id: AccountId,
    pub from_sub_account_id: SubAccountId,
    pub to: Address,
    pub to_sub_account_id: SubAccountId,
    pub token: TokenId,
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    pub nonce: Nonce,
    pub signature: TxSignature,
}

impl Transfer {
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
#[serde(rename_all = "camelCase")]
pub struct Withdraw {
    pub to_chain_id: ChainId,
    pub account_id: AccountId,
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
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    pub nonce: Nonce,
    /// 0 = normal withdrawal; > 0 lets an acceptor pay early for `amount · ratio / 10000`.
    pub fast_withdraw_fee_ratio: u16,
    pub signature: TxSignature,
}

impl Withdraw {
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
#[serde(rename_all = "camelCase")]
pub struct ForcedExit {
    pub to_chain_id: ChainId,
    pub initiator_account_id: AccountId,
    pub initiator_sub_account_id: SubAccountId,
    pub target: Address,
    pub target_sub_account_id: SubAccountId,
    pub l2_source_token: TokenId,
    pub l1_target_token: TokenId,
    pub fee_token: TokenId,
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    pub nonce: Nonce,
    pub signature: TxSignature,
}

impl ForcedExit {
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
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    pub slot_id: SlotId,
    pub nonce: OrderNonce,
    pub base_token: TokenId,
    pub quote_token: TokenId,
    /// Base amount (packable).
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    pub price: Price,
    pub is_sell: bool,
    /// Fee ratios the owner accepts when the order makes / takes (u8 over 10000: 255 = 2.55%).
    pub maker_fee_ratio: u8,
    pub taker_fee_ratio: u8,
    pub signature: TxSignature,
}

impl Order {
    pub const SIGNED_BYTES: usize = 38;

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
            .float(AMOUNT_FLOAT, self.amount)?;
        Ok(w.finish())
    }

    pub fn message(&self) -> Result<Fr, TxError> {
        message_of(&self.signed_bytes()?)
    }

    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
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

    pub fn sign(mut self, key: &PrivateKey) -> Result<Self, TxError> {
        self.signature = TxSignature::sign(key, self.message()?);
        Ok(self)
    }
}

/// A submitter (DEX) matches a taker order against a resting maker order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderMatching {
    /// The submitter; receives the trading fees and pays the network fee.
    pub account_id: AccountId,
    /// Shared by the submitter and both orders.
    pub sub_account_id: SubAccountId,
    pub nonce: Nonce,
    pub maker: Order,
    pub taker: Order,
    pub fee_token: TokenId,
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// 0 = no cap; otherwise the fill in base units is at most this.
    #[serde(with = "crate::serde_str")]
    pub expect_base_amount: Amount,
    /// 0 = no cap; otherwise the matching is rejected if the quote amount exceeds this.
    #[serde(with = "crate::serde_str")]
    pub expect_quote_amount: Amount,
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
        let header = message_of(&self.header_bytes()?)?;
        poseidon::hash(&[header, self.maker.message()?, self.taker.message()?])
            .map_err(|e| TxError::BadSignature(e.to_string()))
    }

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

/// EdDSA message of a byte string: circomlib Poseidon over its 31-byte chunks.
pub fn message_of(bytes: &[u8]) -> Result<Fr, TxError> {
    poseidon::hash_bytes(bytes).map_err(|e| TxError::BadSignature(e.to_string()))
}

/// A transaction submitted on L2.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum L2Tx {
    ChangePubKey(ChangePubKey),
    Transfer(Transfer),
    Withdraw(Withdraw),
    ForcedExit(ForcedExit),
    /// Boxed: two orders make it several times larger than the other variants.
    OrderMatching(Box<OrderMatching>),
}

impl L2Tx {
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        match self {
            L2Tx::ChangePubKey(t) => t.signed_bytes(),
            L2Tx::Transfer(t) => t.signed_bytes(),
            L2Tx::Withdraw(t) => t.signed_bytes(),
            L2Tx::ForcedExit(t) => t.signed_bytes(),
            L2Tx::OrderMatching(t) => t.signed_bytes(),
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
        }
    }

    pub fn signature(&self) -> &TxSignature {
        match self {
            L2Tx::ChangePubKey(t) => &t.signature,
            L2Tx::Transfer(t) => &t.signature,
            L2Tx::Withdraw(t) => &t.signature,
            L2Tx::ForcedExit(t) => &t.signature,
            L2Tx::OrderMatching(t) => &t.signature,
        }
    }

    fn signature_mut(&mut self) -> &mut TxSignature {
        match self {
            L2Tx::ChangePubKey(t) => &mut t.signature,
            L2Tx::Transfer(t) => &mut t.signature,
            L2Tx::Withdraw(t) => &mut t.signature,
            L2Tx::ForcedExit(t) => &mut t.signature,
            L2Tx::OrderMatching(t) => &mut t.signature,
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
        }
    }

    pub fn nonce(&self) -> Nonce {
        match self {
            L2Tx::ChangePubKey(t) => t.nonce,
            L2Tx::Transfer(t) => t.nonce,
            L2Tx::Withdraw(t) => t.nonce,
            L2Tx::ForcedExit(t) => t.nonce,
            L2Tx::OrderMatching(t) => t.nonce,
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
}

impl TxKind {
    /// Every type.
    pub const ALL: [TxKind; 5] =
        [TxKind::ChangePubKey, TxKind::Transfer, TxKind::Withdraw, TxKind::ForcedExit, TxKind::OrderMatching];

    /// The type's name.
    pub fn name(self) -> &'static str {
        match self {
            TxKind::ChangePubKey => "ChangePubKey",
            TxKind::Transfer => "Transfer",
            TxKind::Withdraw => "Withdraw",
            TxKind::ForcedExit => "ForcedExit",
            TxKind::OrderMatching => "OrderMatching",
        }
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
#[error("unknown tx type {0:?}: expected one of ChangePubKey, Transfer, Withdraw, ForcedExit, OrderMatching")]
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
    pub chain_id: ChainId,
    pub serial_id: SerialId,
    /// L1 sender (informational; not in pubdata).
    pub from: Address,
    pub to: Address,
    pub sub_account_id: SubAccountId,
    pub l1_token: TokenId,
    /// Equal to `l1_token`, or USD to credit a stablecoin as USD.
    pub l2_token: TokenId,
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
}

/// Full-exit request from a chain's priority queue: exit the whole balance of one
/// (sub-account, token), capped by the chain's reserve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FullExit {
    pub chain_id: ChainId,
    pub serial_id: SerialId,
    pub account_id: AccountId,
    pub sub_account_id: SubAccountId,
    /// L1 sender; must own the account or the exit pays nothing.
    pub owner: Address,
    pub l1_token: TokenId,
    pub l2_token: TokenId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum PriorityTx {
    Deposit(Deposit),
    FullExit(FullExit),
}

impl PriorityTx {
    pub fn chain_id(&self) -> ChainId {
        match self {
            PriorityTx::Deposit(d) => d.chain_id,
            PriorityTx::FullExit(f) => f.chain_id,
        }
    }
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
        other => Err(DecodeError::UnknownOpType(other)),
    }
}
