//! The pool transactions (docs/protocol.md §4): create a pool, add and remove liquidity, swap.
//! Each is signed by its user over `msg(signed bytes)`; the three that trade against a pool
//! carry a validity window (Unix seconds, both ends inclusive) checked against the block's
//! timestamp, like an order's.

use serde::{Deserialize, Serialize};
use zklink_crypto::eddsa::PrivateKey;
use zklink_crypto::Fr;

use crate::amount::{Amount, FEE_FLOAT};
use crate::bytes::Writer;
use crate::error::TxError;
use crate::ids::*;
use crate::network::Preset;
use crate::pool::{PoolKind, PoolParams};
use crate::signature::TxSignature;
use crate::signed::{message_of, tx_type};

/// Checks a validity window: `valid_from ≤ valid_until`.
fn check_window(valid_from: u32, valid_until: u32) -> Result<(), TxError> {
    if valid_from > valid_until {
        return Err(TxError::OrderWindowEmpty { valid_from, valid_until });
    }
    Ok(())
}

/// `TxNotValidAt` unless `valid_from ≤ timestamp ≤ valid_until`.
pub fn check_valid_at(valid_from: u32, valid_until: u32, timestamp: u64) -> Result<(), TxError> {
    if u64::from(valid_from) <= timestamp && timestamp <= u64::from(valid_until) {
        Ok(())
    } else {
        Err(TxError::TxNotValidAt { valid_from, valid_until, timestamp })
    }
}

fn check_fee(preset: &Preset, fee_token: TokenId, fee: Amount) -> Result<(), TxError> {
    fee_token.check_user_token()?;
    preset.check_token(fee_token)?;
    FEE_FLOAT.pack(fee).map(|_| ())
}

fn check_signer(preset: &Preset, account: AccountId, sub: SubAccountId) -> Result<(), TxError> {
    preset.check_account(account)?;
    preset.check_sub_account(sub)
}

/// The signed bytes both liquidity changes share: `code ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ three
/// u128 amounts ‖ fee_token u16 ‖ fee packed2 ‖ nonce u32 ‖ valid_from u32 ‖ valid_until u32`
/// (74 bytes).
fn liquidity_bytes(
    code: u8,
    (account, sub, pool): (AccountId, SubAccountId, AccountId),
    amounts: [Amount; 3],
    fee_token: TokenId,
    fee: Amount,
    nonce: Nonce,
    (valid_from, valid_until): (u32, u32),
) -> Result<Vec<u8>, TxError> {
    let mut w = Writer::with_capacity(74);
    w.u8(code).u32(account.0).u8(sub.0).u32(pool.0);
    for a in amounts {
        w.u128(a);
    }
    w.u16(fee_token.0).float(FEE_FLOAT, fee)?.u32(nonce.0).u32(valid_from).u32(valid_until);
    Ok(w.finish())
}

macro_rules! signing {
    ($t:ty) => {
        impl $t {
            /// What the signer signs: `msg(signed bytes)`.
            pub fn message(&self) -> Result<Fr, TxError> {
                message_of(&self.signed_bytes()?)
            }

            /// The tx signed by `key` (the signer's L2 key); fails if the fee is not packable.
            pub fn sign(mut self, key: &PrivateKey) -> Result<Self, TxError> {
                self.signature = TxSignature::sign(key, self.message()?);
                Ok(self)
            }
        }
    };
}

/// Creates an AMM pool: a new account that no key controls, whose address encodes the
/// parameters, with the next free LP token id. Anyone may create one; the creation fee is the
/// network fee the node asks for this tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePool {
    /// The creator, which signs and pays the fee.
    pub account_id: AccountId,
    /// The creator's sub-account that pays the fee.
    pub sub_account_id: SubAccountId,
    /// The curve.
    pub kind: PoolKind,
    /// The pool's first token (a user token, the smaller id).
    pub token_a: TokenId,
    /// The pool's second token (a user token, the larger id).
    pub token_b: TokenId,
    /// Swap fee in basis points (at most 1000).
    pub fee_bps: u16,
    /// The protocol's share of the swap fee, in percent (at most 100).
    pub protocol_share: u8,
    /// Amplification of a stable pool (1..=10000); 0 for constant product.
    pub amp: u16,
    /// The token the fee is paid in.
    pub fee_token: TokenId,
    /// Network fee to account 0, in L2 units of `fee_token`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The creator's current nonce.
    pub nonce: Nonce,
    /// Signature by the creator's key.
    pub signature: TxSignature,
}

impl CreatePool {
    /// `0a ‖ account u32 ‖ sub u8 ‖ kind u8 ‖ token_a u16 ‖ token_b u16 ‖ fee_bps u16 ‖
    /// protocol_share u8 ‖ amp u16 ‖ fee_token u16 ‖ fee packed2 ‖ nonce u32` (24 bytes).
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(24);
        w.u8(tx_type::CREATE_POOL)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .u8(self.kind.code())
            .u16(self.token_a.0)
            .u16(self.token_b.0)
            .u16(self.fee_bps)
            .u8(self.protocol_share)
            .u16(self.amp)
            .u16(self.fee_token.0)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0);
        Ok(w.finish())
    }

    /// The pool's parameters with LP token `lp_token`.
    pub fn params(&self, lp_token: TokenId) -> PoolParams {
        PoolParams {
            kind: self.kind,
            fee_bps: self.fee_bps,
            protocol_share: self.protocol_share,
            amp: self.amp,
            token_a: self.token_a,
            token_b: self.token_b,
            lp_token,
        }
    }

    /// Stateless checks: ids in range, the parameters, two user tokens that are not LP tokens.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        check_signer(preset, self.account_id, self.sub_account_id)?;
        self.params(TokenId(0)).check()?;
        for t in [self.token_a, self.token_b] {
            t.check_user_token()?;
            preset.check_token(t)?;
            if preset.is_lp_token(t) {
                return Err(TxError::PoolParams(format!(
                    "token {t} is an LP token: pools of LP tokens are not allowed"
                )));
            }
        }
        check_fee(preset, self.fee_token, self.fee)
    }
}
signing!(CreatePool);

/// Adds liquidity to a pool: at most `max_a` and `max_b`, for at least `min_shares` LP shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddLiquidity {
    /// The provider, which signs.
    pub account_id: AccountId,
    /// The provider's sub-account: pays both tokens and the fee, receives the shares.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// The most of the pool's first token to pay.
    #[serde(with = "crate::serde_str")]
    pub max_a: Amount,
    /// The most of the pool's second token to pay.
    #[serde(with = "crate::serde_str")]
    pub max_b: Amount,
    /// The fewest shares to accept.
    #[serde(with = "crate::serde_str")]
    pub min_shares: Amount,
    /// The fee token: the pool's first token.
    pub fee_token: TokenId,
    /// Network fee to account 0; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The provider's current nonce.
    pub nonce: Nonce,
    /// First second (Unix) the tx may execute in.
    pub valid_from: u32,
    /// Last second (Unix) the tx may execute in.
    pub valid_until: u32,
    /// Signature by the provider's key.
    pub signature: TxSignature,
}

impl AddLiquidity {
    /// `0b ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ max_a u128 ‖ max_b u128 ‖ min_shares u128 ‖
    /// fee_token u16 ‖ fee packed2 ‖ nonce u32 ‖ valid_from u32 ‖ valid_until u32` (74 bytes).
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let t = (self.account_id, self.sub_account_id, self.pool);
        liquidity_bytes(
            tx_type::ADD_LIQUIDITY,
            t,
            [self.max_a, self.max_b, self.min_shares],
            self.fee_token,
            self.fee,
            self.nonce,
            (self.valid_from, self.valid_until),
        )
    }

    /// Stateless checks: ids in range, non-zero amounts, fee, window.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        check_signer(preset, self.account_id, self.sub_account_id)?;
        preset.check_account(self.pool)?;
        if self.max_a == 0 || self.max_b == 0 {
            return Err(TxError::ZeroAmount);
        }
        check_window(self.valid_from, self.valid_until)?;
        check_fee(preset, self.fee_token, self.fee)
    }
}
signing!(AddLiquidity);

/// Removes liquidity: burns `shares` for at least `min_a` and `min_b`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveLiquidity {
    /// The provider, which signs.
    pub account_id: AccountId,
    /// The provider's sub-account: gives the shares, receives both tokens.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// LP shares to burn.
    #[serde(with = "crate::serde_str")]
    pub shares: Amount,
    /// The least of the pool's first token to receive (before the fee, which is paid from it).
    #[serde(with = "crate::serde_str")]
    pub min_a: Amount,
    /// The least of the pool's second token to receive.
    #[serde(with = "crate::serde_str")]
    pub min_b: Amount,
    /// The fee token: the pool's first token.
    pub fee_token: TokenId,
    /// Network fee to account 0, paid out of the first token received; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The provider's current nonce.
    pub nonce: Nonce,
    /// First second (Unix) the tx may execute in.
    pub valid_from: u32,
    /// Last second (Unix) the tx may execute in.
    pub valid_until: u32,
    /// Signature by the provider's key.
    pub signature: TxSignature,
}

impl RemoveLiquidity {
    /// `0c ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ shares u128 ‖ min_a u128 ‖ min_b u128 ‖
    /// fee_token u16 ‖ fee packed2 ‖ nonce u32 ‖ valid_from u32 ‖ valid_until u32` (74 bytes).
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let t = (self.account_id, self.sub_account_id, self.pool);
        liquidity_bytes(
            tx_type::REMOVE_LIQUIDITY,
            t,
            [self.shares, self.min_a, self.min_b],
            self.fee_token,
            self.fee,
            self.nonce,
            (self.valid_from, self.valid_until),
        )
    }

    /// Stateless checks: ids in range, non-zero shares, fee, window.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        check_signer(preset, self.account_id, self.sub_account_id)?;
        preset.check_account(self.pool)?;
        if self.shares == 0 {
            return Err(TxError::ZeroAmount);
        }
        check_window(self.valid_from, self.valid_until)?;
        check_fee(preset, self.fee_token, self.fee)
    }
}
signing!(RemoveLiquidity);

/// Swaps against a pool: exact in (`amount` in, at least `limit` out) or exact out (`amount`
/// out, at most `limit` in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Swap {
    /// The trader, which signs.
    pub account_id: AccountId,
    /// The trader's sub-account: pays the input and the fee, receives the output.
    pub sub_account_id: SubAccountId,
    /// The pool's account.
    pub pool: AccountId,
    /// The token paid in (one of the pool's two); the fee is paid in it too.
    pub token_in: TokenId,
    /// `false`: `amount` is the exact input; `true`: the exact output.
    pub exact_out: bool,
    /// The exact input or output, in L2 units.
    #[serde(with = "crate::serde_str")]
    pub amount: Amount,
    /// Exact in: the least output accepted; exact out: the most input paid (fee excluded).
    #[serde(with = "crate::serde_str")]
    pub limit: Amount,
    /// Network fee to account 0 in `token_in`; packable as a fee float.
    #[serde(with = "crate::serde_str")]
    pub fee: Amount,
    /// The trader's current nonce.
    pub nonce: Nonce,
    /// First second (Unix) the tx may execute in.
    pub valid_from: u32,
    /// Last second (Unix) the tx may execute in.
    pub valid_until: u32,
    /// Signature by the trader's key.
    pub signature: TxSignature,
}

impl Swap {
    /// `0d ‖ account u32 ‖ sub u8 ‖ pool u32 ‖ token_in u16 ‖ exact_out u8 ‖ amount u128 ‖
    /// limit u128 ‖ fee packed2 ‖ nonce u32 ‖ valid_from u32 ‖ valid_until u32` (59 bytes).
    pub fn signed_bytes(&self) -> Result<Vec<u8>, TxError> {
        let mut w = Writer::with_capacity(59);
        w.u8(tx_type::SWAP)
            .u32(self.account_id.0)
            .u8(self.sub_account_id.0)
            .u32(self.pool.0)
            .u16(self.token_in.0)
            .u8(self.exact_out as u8)
            .u128(self.amount)
            .u128(self.limit)
            .float(FEE_FLOAT, self.fee)?
            .u32(self.nonce.0)
            .u32(self.valid_from)
            .u32(self.valid_until);
        Ok(w.finish())
    }

    /// Stateless checks: ids in range, a non-zero amount, a user input token, fee, window.
    pub fn validate(&self, preset: &Preset) -> Result<(), TxError> {
        check_signer(preset, self.account_id, self.sub_account_id)?;
        preset.check_account(self.pool)?;
        if self.amount == 0 {
            return Err(TxError::ZeroAmount);
        }
        check_window(self.valid_from, self.valid_until)?;
        check_fee(preset, self.token_in, self.fee)
    }
}
signing!(Swap);
