//! What the pool handlers and the pubdata replay share (docs/protocol.md §7): where a pool keeps
//! its state, the pool registry, the checks of what a pool op states, and each pool op's updates
//! in the circuit's slot order. Each fact has one definition here; the handlers compute an op
//! with `zklink_types::pool`'s arithmetic, the replay checks an op read from pubdata against the
//! same arithmetic, and both plan the op's updates with the same function.
//!
//! A pool is an account whose address is [`PoolParams::address`] and whose pubkey hash is 0 (no
//! key can sign for it). Its sub-account 0 holds reserve A (its balance of `token_a`), reserve B
//! (of `token_b`) and the share supply S (of its own `lp_token`, the locked
//! `MIN_LIQUIDITY` included). The **registry** is account 1's sub-account 0 (chains use 1..=n):
//! the balance leaf of LP token `lp` is the pool's account id + 1 once that LP token is taken,
//! 0 while it is free.

use zklink_types::op::{AddLiquidityOp, RemoveLiquidityOp, SwapOp};
use zklink_types::pool::{self, SwapAmounts, POOL_SUB_ACCOUNT as POOL_SUB, REGISTRY_SUB_ACCOUNT as REGISTRY_SUB};
use zklink_types::pool_tx::check_valid_at;
use zklink_types::{
    AccountId, Nonce, PoolKind, PoolParams, Preset, PubKeyHash, Reserves, SubAccountId, TokenId, TxError,
    FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID,
};

use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// The pool at account `id`: its parameters (from its address) and its reserves and share supply
/// as the plan leaves them (`State::pool` reads them from the state alone); [`TxError::NotAPool`]
/// if no account has that id or its address is not a pool's.
pub(crate) fn pool_at(plan: &Plan<'_>, id: AccountId) -> Result<(PoolParams, Reserves), TxError> {
    // State::pool checks the address and that the registry names this account (the plan's
    // reserves may differ from the state's within a tx, so they are read through the plan).
    let (p, _) = plan.state().pool(id).ok_or(TxError::NotAPool(id))?;
    let r = Reserves {
        a: plan.balance(id, POOL_SUB, p.token_a),
        b: plan.balance(id, POOL_SUB, p.token_b),
        supply: plan.balance(id, POOL_SUB, p.lp_token),
    };
    Ok((p, r))
}

/// What a pool trade names, for [`open_trade`].
pub(crate) struct PoolTrade {
    /// The signing account.
    pub account: AccountId,
    /// Its nonce as the tx states it.
    pub nonce: Nonce,
    /// The pool's account.
    pub pool: AccountId,
    /// The tx's validity window.
    pub window: (u32, u32),
    /// A liquidity change's fee token; `None` for a swap.
    pub fee_token: Option<TokenId>,
}

/// What every pool trade checks first, in this order: the signer owns the account's key, the
/// nonce, the pool, for a liquidity change (`fee_token` given) that the fee is in the pool's first
/// token, the window against the block's `timestamp`, and for a liquidity change that the kind is
/// executable. Returns the signer's nonce and the pool.
pub(crate) fn open_trade(
    plan: &Plan<'_>,
    signer: &PubKeyHash,
    t: PoolTrade,
    timestamp: u64,
) -> Result<(Nonce, PoolParams, Reserves), TxError> {
    let signer = signing_account(plan.state(), t.account, signer)?;
    check_nonce(t.account, signer.nonce, t.nonce)?;
    let (p, r) = pool_at(plan, t.pool)?;
    if let Some(fee_token) = t.fee_token {
        if fee_token != p.token_a {
            return Err(TxError::PoolParams(format!(
                "the fee of a liquidity change is paid in the pool's first token {}, not in token {fee_token}",
                p.token_a
            )));
        }
    }
    check_valid_at(t.window.0, t.window.1, timestamp)?;
    if t.fee_token.is_some() && p.kind == PoolKind::Stable {
        return Err(TxError::PoolKindUnsupported(p.kind.name()));
    }
    Ok((signer.nonce, p, r))
}

/// The registry leaf of LP token `lp`: the id + 1 of the pool that took it, 0 if it is free.
pub(crate) fn registry_leaf(plan: &Plan<'_>, lp: TokenId) -> u128 {
    plan.balance(GLOBAL_ASSET_ACCOUNT_ID, REGISTRY_SUB, lp)
}

/// The LP token the next pool gets: the first of the preset's LP range whose registry leaf is 0.
pub(crate) fn next_lp_token(plan: &Plan<'_>, preset: &Preset) -> Result<TokenId, TxError> {
    preset
        .lp_tokens()
        .map(TokenId)
        .find(|&lp| registry_leaf(plan, lp) == 0)
        .ok_or(TxError::TooManyPools { max: preset.max_pools() })
}

/// The pool whose parameters are `params`'s, its LP token aside, if one exists: one pool per
/// parameter set (an executor rule; the circuit keeps one pool per LP token).
pub(crate) fn same_pool(plan: &Plan<'_>, params: &PoolParams) -> Option<AccountId> {
    plan.state().pools().find(|&id| {
        plan.state().pool(id).is_some_and(|(p, _)| PoolParams { lp_token: params.lp_token, ..p } == *params)
    })
}

/// [`TxError::PoolParams`] unless `lp` is in the preset's LP range and free in the registry.
pub(crate) fn check_lp_free(plan: &Plan<'_>, preset: &Preset, lp: TokenId) -> Result<(), TxError> {
    if !preset.is_lp_token(lp) {
        return Err(TxError::PoolParams(format!(
            "token {lp} is not an LP token of this preset ({:?})",
            preset.lp_tokens()
        )));
    }
    match registry_leaf(plan, lp) {
        0 => Ok(()),
        taken => Err(TxError::PoolParams(format!("LP token {lp} is taken by pool {}", taken - 1))),
    }
}

/// The token a swap pays out: the pool's other token; [`TxError::PoolSwap`] if `token_in` is not
/// one of the pool's two.
pub(crate) fn token_out(p: &PoolParams, token_in: TokenId) -> Result<TokenId, TxError> {
    p.other(token_in).ok_or_else(|| {
        TxError::PoolSwap(format!("token {token_in} is not one of the pool's tokens {} and {}", p.token_a, p.token_b))
    })
}

/// The reserves of a swap's input and output tokens (`token_in` is one of the pool's).
pub(crate) fn swap_reserves(p: &PoolParams, r: &Reserves, token_in: TokenId) -> (u128, u128) {
    if token_in == p.token_a {
        (r.a, r.b)
    } else {
        (r.b, r.a)
    }
}

/// [`TxError::PoolReserveCap`] if the input reserve would exceed the cap once the pool gets its
/// part of the input.
pub(crate) fn check_swap_cap(r_in: u128, amounts: &SwapAmounts) -> Result<(), TxError> {
    pool::check_cap(r_in.checked_add(amounts.pool_gets()), "reserve of the input token").map(|_| ())
}

/// [`TxError::PoolLiquidity`] if a removal's fee exceeds the first token it pays out (the fee is
/// paid out of it).
pub(crate) fn check_remove_fee(amount_a: u128, fee: u128) -> Result<(), TxError> {
    if fee > amount_a {
        return Err(TxError::PoolLiquidity(format!(
            "the fee {fee} exceeds the first token received {amount_a}, out of which it is paid"
        )));
    }
    Ok(())
}

/// Checks what an AddLiquidity op states against the pool's reserves: the first deposit gives
/// exactly what [`pool::add_liquidity`] gives for `(a, b)`; a later one takes `⌈shares·Ra/S⌉` and
/// `⌈shares·Rb/S⌉` and keeps the reserves and the supply under the cap. Returns the shares the
/// supply grows by (with the locked minimum on the first deposit).
pub(crate) fn check_stated_add(r: &Reserves, a: u128, b: u128, shares: u128) -> Result<u128, TxError> {
    let wrong = |expected: (u128, u128, u128)| {
        TxError::PoolLiquidity(format!(
            "amounts {a} and {b} for {shares} shares, but the pool's reserves {} and {} and {} shares give {} and {} for {}",
            r.a, r.b, r.supply, expected.0, expected.1, expected.2
        ))
    };
    if r.supply == 0 {
        let first = pool::add_liquidity(r, a, b)?;
        if (first.a, first.b, first.shares) != (a, b, shares) {
            return Err(wrong((first.a, first.b, first.shares)));
        }
        return Ok(first.minted);
    }
    let need_a = pool::mul_div_ceil(shares, r.a, r.supply, "amount a")?;
    let need_b = pool::mul_div_ceil(shares, r.b, r.supply, "amount b")?;
    if (need_a, need_b) != (a, b) {
        return Err(wrong((need_a, need_b, shares)));
    }
    pool::check_cap(r.a.checked_add(a), "reserve of token a")?;
    pool::check_cap(r.b.checked_add(b), "reserve of token b")?;
    pool::check_cap(r.supply.checked_add(shares), "share supply")?;
    Ok(shares)
}

/// Checks what a RemoveLiquidity op states: `(a, b)` is exactly what [`pool::remove_liquidity`]
/// pays for `shares`, and the fee is paid out of `a`.
pub(crate) fn check_stated_remove(r: &Reserves, shares: u128, a: u128, b: u128, fee: u128) -> Result<(), TxError> {
    let paid = pool::remove_liquidity(r, shares)?;
    if paid != (a, b) {
        return Err(TxError::PoolLiquidity(format!(
            "{shares} shares pay {} and {} at the pool's reserves {} and {} and {} shares, not {a} and {b}",
            paid.0, paid.1, r.a, r.b, r.supply
        )));
    }
    check_remove_fee(a, fee)
}

/// Checks what a Swap op states (the pubdata does not say which side was exact): `amount_out` is
/// what an exact-in swap of `amount_in` pays, or `amount_in` what an exact-out swap of
/// `amount_out` costs, at the pool's reserves; then the input reserve's cap.
pub(crate) fn check_stated_swap(
    p: &PoolParams,
    r_in: u128,
    r_out: u128,
    amount_in: u128,
    amount_out: u128,
) -> Result<SwapAmounts, TxError> {
    let exact_in = pool::swap_exact_in(p, r_in, r_out, amount_in).ok().filter(|s| s.amount_out == amount_out);
    let exact_out = || pool::swap_exact_out(p, r_in, r_out, amount_out).ok().filter(|s| s.amount_in == amount_in);
    let amounts = exact_in.or_else(exact_out).ok_or_else(|| {
        TxError::PoolSwap(format!(
            "{amount_in} in for {amount_out} out is neither an exact-in nor an exact-out swap at reserves {r_in} and {r_out}"
        ))
    })?;
    check_swap_cap(r_in, &amounts)?;
    Ok(amounts)
}

/// CreatePool's updates, in the slot order: the creator pays the fee and bumps its nonce, the
/// pool account is created for `params`, the registry takes its LP token; then account 0 gets the
/// fee. Returns the pool's id.
pub(crate) fn plan_create(
    plan: &mut Plan<'_>,
    (account, sub, nonce): (AccountId, SubAccountId, Nonce),
    fee_token: TokenId,
    fee: u128,
    params: &PoolParams,
) -> Result<AccountId, TxError> {
    plan.debit(account, sub, fee_token, fee)?;
    plan.bump_nonce(account, nonce)?;
    let pool = plan.create_account(params.address())?;
    plan.credit(GLOBAL_ASSET_ACCOUNT_ID, REGISTRY_SUB, params.lp_token, u128::from(pool.0) + 1)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), fee_token, fee)?;
    Ok(pool)
}

/// AddLiquidity's updates (`minted`: the shares the supply grows by), in the block circuit's slot
/// order (docs/protocol.md §12): provider −(a + fee) and its nonce, pool +a, provider −b, pool +b,
/// provider +shares, S +minted; then the fee to account 0 (a credit slot in the circuit).
pub(crate) fn plan_add(
    plan: &mut Plan<'_>,
    o: &AddLiquidityOp,
    p: &PoolParams,
    nonce: Nonce,
    minted: u128,
) -> Result<(), TxError> {
    let (user, sub) = (o.account_id, o.sub_account_id);
    let total_a = o.amount_a.checked_add(o.fee).ok_or(TxError::ArithmeticOverflow("amount a + fee"))?;
    plan.debit(user, sub, p.token_a, total_a)?;
    plan.bump_nonce(user, nonce)?;
    plan.credit(o.pool, POOL_SUB, p.token_a, o.amount_a)?;
    plan.debit(user, sub, p.token_b, o.amount_b)?;
    plan.credit(o.pool, POOL_SUB, p.token_b, o.amount_b)?;
    plan.credit(user, sub, p.lp_token, o.shares)?;
    plan.credit(o.pool, POOL_SUB, p.lp_token, minted)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), p.token_a, o.fee)
}

/// RemoveLiquidity's updates (the fee is at most `amount_a`: [`check_remove_fee`]), in the slot
/// order: provider −shares and its nonce, pool −a, provider +(a − fee), pool −b, provider +b,
/// S −shares; then the fee to account 0.
pub(crate) fn plan_remove(
    plan: &mut Plan<'_>,
    o: &RemoveLiquidityOp,
    p: &PoolParams,
    nonce: Nonce,
) -> Result<(), TxError> {
    let (user, sub) = (o.account_id, o.sub_account_id);
    check_remove_fee(o.amount_a, o.fee)?;
    plan.debit(user, sub, p.lp_token, o.shares)?;
    plan.bump_nonce(user, nonce)?;
    plan.debit(o.pool, POOL_SUB, p.token_a, o.amount_a)?;
    plan.credit(user, sub, p.token_a, o.amount_a - o.fee)?;
    plan.debit(o.pool, POOL_SUB, p.token_b, o.amount_b)?;
    plan.credit(user, sub, p.token_b, o.amount_b)?;
    plan.debit(o.pool, POOL_SUB, p.lp_token, o.shares)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), p.token_a, o.fee)
}

/// Swap's updates, in the slot order: the user pays `amount_in + fee` (and its nonce moves), the
/// pool gets `amount_in − protocol fee`, the user gets `amount_out`, the pool pays it; then
/// account 0 gets the protocol fee and the network fee, both in the input token.
pub(crate) fn plan_swap(plan: &mut Plan<'_>, o: &SwapOp, token_out: TokenId, nonce: Nonce) -> Result<(), TxError> {
    let (user, sub, token_in) = (o.account_id, o.sub_account_id, o.token_in);
    let protocol_fee = o.protocol_fee()?;
    let total_in = o.amount_in.checked_add(o.fee).ok_or(TxError::ArithmeticOverflow("amount in + fee"))?;
    let pool_gets =
        o.amount_in.checked_sub(protocol_fee).ok_or(TxError::ArithmeticOverflow("amount in − protocol fee"))?;
    plan.debit(user, sub, token_in, total_in)?;
    plan.bump_nonce(user, nonce)?;
    plan.credit(o.pool, POOL_SUB, token_in, pool_gets)?;
    plan.credit(user, sub, token_out, o.amount_out)?;
    plan.debit(o.pool, POOL_SUB, token_out, o.amount_out)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), token_in, protocol_fee)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), token_in, o.fee)
}
