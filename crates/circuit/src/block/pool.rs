//! The AMM pool rules (docs/protocol.md §7, §12) as constraints: pool creation, adding and
//! removing liquidity, swaps. The native definitions are `zklink_types::pool`'s; here each
//! division is checked, not computed: `q = ⌊n / d⌋` holds iff `0 ≤ n − q·d ≤ d − 1`.
//!
//! The three kinds that trade against a pool start only at even chunks (swaps) or multiples of
//! 4 (liquidity changes), read the pool at their slot 1, and share one *pool context* per chunk
//! where one of them may start ([`open`]): the pool's parameters parsed from its address, the
//! signed limits and window ([`super::witness::PoolAuxVar`]), the window check, and two
//! bounded-remainder checks that whichever kind starts there routes its divisions through
//! ([`close`]). So a chunk pays for those once, not once per kind.
//!
//! Every pool quantity (reserves, share supply) is below 2^112: each rule that grows one checks
//! the new value, so every product below stays under the field size.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_r1cs_std::GR1CSVar;
use zklink_crypto::Fr;
use zklink_types::pool::{FEE_DENOMINATOR, MAX_FEE_BPS, MAX_PROTOCOL_SHARE, MIN_LIQUIDITY, RESERVE_BITS};
use zklink_types::tx::tx_type;

use super::bytes::{Cursor, Field, Message};
use super::num::{self, c, eq_if, le_if, nonzero, pow2, range, require_if, select, R};
use super::ops::{
    account_field, balance_index, credit, debit, fee_to_account_0, packed, reader, signer_pays, sub_field, token_field,
    user_token, within, Change, OpKind,
};
use super::witness::PoolAuxVar;
use super::Ctx;

/// Width of the bounded-remainder checks: every remainder and bound is below 2^136.
const REMAINDER_BITS: usize = 136;

/// The pool's parameters as its address encodes them (`zklink_types::pool::PoolParams::address`).
#[derive(Clone)]
pub struct PoolFields {
    /// Swap fee, basis points.
    pub fee_bps: FpVar<Fr>,
    /// Protocol share of the fee, percent.
    pub protocol_share: FpVar<Fr>,
    /// The pool's first token.
    pub token_a: FpVar<Fr>,
    /// The pool's second token.
    pub token_b: FpVar<Fr>,
    /// The pool's LP token.
    pub lp_token: FpVar<Fr>,
}

/// What the pool kinds starting at one chunk share.
pub struct PoolChunk {
    /// The parameters of the pool at the chunk's slot 1.
    pub params: PoolFields,
    /// The signed limits and window.
    pub aux: PoolAuxVar,
    /// Per bounded-remainder check: `(Σ g·r, Σ g·(m − r))` over the kinds that use it.
    checks: [(FpVar<Fr>, FpVar<Fr>); 2],
}

/// Sets up the pool context of chunk `j` if a swap or liquidity change may start there: parses
/// the address of slot 1's account (it must be a pool's: the reserved prefix, a constant-product
/// kind) and checks the signed window, under the OR of those kinds' gates.
pub fn open(ctx: &mut Ctx, j: usize, row: &[Boolean<Fr>]) -> R<()> {
    let gates: Vec<Boolean<Fr>> = OpKind::ALL
        .iter()
        .zip(row)
        .filter(|(k, g)| k.is_pool_trade() && !g.is_constant())
        .map(|(_, g)| g.clone())
        .collect();
    if gates.is_empty() {
        return Ok(());
    }
    let Some(aux) = ctx.pool_aux[j].clone() else { return Err(ark_relations::gr1cs::SynthesisError::Unsatisfiable) };
    let any = num::exclusive_or(&gates)?;
    let address = FpVar::from(any.clone()) * &ctx.slot(j, 1).old_address;
    let bits = num::to_bits_be(&address, 160)?;
    let byte = |i: usize, n: usize| num::be_to_fp(&bits[8 * i..8 * (i + n)]);
    // A pool: the reserved prefix (8 bytes of ff), and kind 0 (constant product; stable pools
    // cannot be created yet).
    let prefix = bits[..64].iter().fold(FpVar::zero(), |acc, b| acc + FpVar::from(b.clone()));
    eq_if(&any, &prefix, &c(64))?;
    eq_if(&any, &byte(8, 1)?, &FpVar::zero())?;
    let params = PoolFields {
        fee_bps: byte(9, 2)?,
        protocol_share: byte(11, 1)?,
        token_a: byte(14, 2)?,
        token_b: byte(16, 2)?,
        lp_token: byte(18, 2)?,
    };
    within(ctx, &any, &aux.window)?;
    let zero = || (FpVar::zero(), FpVar::zero());
    ctx.pool[j] = Some(PoolChunk { params, aux, checks: [zero(), zero()] });
    Ok(())
}

/// Enforces chunk `j`'s bounded-remainder checks: for the kind that starts there, each
/// remainder `r` it registered lies in `[0, m]`.
pub fn close(ctx: &mut Ctx, j: usize) -> R<()> {
    if let Some(p) = ctx.pool[j].take() {
        // A check no kind of this chunk uses is the constant 0 and costs nothing.
        for (r, rest) in p.checks.iter().filter(|(r, _)| !r.is_constant()) {
            range(r, REMAINDER_BITS)?;
            range(rest, REMAINDER_BITS)?;
        }
    }
    Ok(())
}

fn chunk(ctx: &Ctx, j: usize) -> R<(PoolFields, PoolAuxVar)> {
    let p = ctx.pool[j].as_ref().ok_or(ark_relations::gr1cs::SynthesisError::Unsatisfiable)?;
    Ok((p.params.clone(), p.aux.clone()))
}

/// `g ⇒ 0 ≤ r ≤ m`, through check `k` of chunk `j` (`r, m` below 2^136 when `g` holds).
fn bounded(ctx: &mut Ctx, j: usize, k: usize, g: &Boolean<Fr>, r: &FpVar<Fr>, m: &FpVar<Fr>) -> R<()> {
    let p = ctx.pool[j].as_mut().ok_or(ark_relations::gr1cs::SynthesisError::Unsatisfiable)?;
    let gf = FpVar::from(g.clone());
    let (acc_r, acc_rest) = &mut p.checks[k];
    *acc_r += &gf * r;
    *acc_rest += gf * (m - r);
    Ok(())
}

/// `g ⇒ v < 2^112` (a pool quantity after the op).
fn capped(g: &Boolean<Fr>, v: &FpVar<Fr>) -> R<()> {
    range(&(FpVar::from(g.clone()) * v), RESERVE_BITS as usize)
}

fn window_bits(aux: &PoolAuxVar) -> Vec<Boolean<Fr>> {
    [aux.window.0.bits.clone(), aux.window.1.bits.clone()].concat()
}

/// Pool creation: 0 the creator pays the fee (its nonce moves on); 1 the pool's leaf, empty, gets
/// the address that encodes the parameters; 2 the registry leaf of the LP token (account 1,
/// sub-account 0) goes from 0 to the pool's id + 1, so each LP token names one pool, for good.
pub fn create_pool(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::CreatePool);
    let account = account_field(ctx, g, &mut cur)?;
    let sub = sub_field(ctx, g, &mut cur)?;
    let fee_token = token_field(ctx, g, &mut cur)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    let pool = account_field(ctx, g, &mut cur)?;
    let kind = cur.uint(1)?;
    let fee_bps = cur.uint(2)?;
    let share = cur.uint(1)?;
    let amp = cur.uint(2)?;
    let token_a = token_field(ctx, g, &mut cur)?;
    let token_b = token_field(ctx, g, &mut cur)?;
    let lp = token_field(ctx, g, &mut cur)?;
    cur.zero_padding(g)?;
    // Constant product only (stable pools have no rule yet), so amplification 0.
    eq_if(g, &kind.value, &FpVar::zero())?;
    eq_if(g, &amp.value, &FpVar::zero())?;
    le_if(g, &fee_bps.value, &c(MAX_FEE_BPS as u128), 16)?;
    le_if(g, &share.value, &c(MAX_PROTOCOL_SHARE as u128), 8)?;
    // Two user tokens in increasing order, neither an LP token; the LP token from the LP range.
    user_token(g, &token_a.value)?;
    user_token(g, &token_b.value)?;
    le_if(g, &(&token_a.value + c(1)), &token_b.value, 16)?;
    let lp_first = *ctx.preset.lp_tokens().start() as u128;
    le_if(g, &token_b.value, &c(lp_first - 1), 16)?;
    le_if(g, &c(lp_first), &lp.value, 16)?;
    user_token(g, &fee_token.value)?;

    let index = balance_index(ctx, &sub.value, &fee_token.value);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &account.value, index, fee.clone(), None)?;
    // The address: ff ×8 ‖ kind ‖ fee_bps ‖ share ‖ amp ‖ token_a ‖ token_b ‖ lp.
    let fields = [(&kind, 88), (&fee_bps, 72), (&share, 64), (&amp, 48), (&token_a, 32), (&token_b, 16), (&lp, 0)];
    let prefix = FpVar::constant((pow2(64) - Fr::from(1u64)) * pow2(96));
    let address = fields.iter().fold(prefix, |acc, (f, shift)| acc + &f.value * pow2(*shift));
    let s = ctx.slot(j, 1);
    eq_if(g, &s.old_address, &FpVar::zero())?;
    let lp_index = balance_index(ctx, &FpVar::zero(), &lp.value);
    let mut change = Change::balance(pool.value.clone(), lp_index.clone(), s.old_lo.clone());
    change.address = Some(address);
    ctx.bind(j, 1, g, change)?;
    eq_if(g, &ctx.slot(j, 2).old_lo.clone(), &FpVar::zero())?;
    credit(ctx, j, 2, g, c(1), lp_index, &(&pool.value + c(1)))?;
    fee_to_account_0(ctx, g, &fee_token.value, &fee);
    let msg = Message::default()
        .byte(tx_type::CREATE_POOL)
        .bits(&account.bits)
        .bits(&sub.bits)
        .bits(&kind.bits)
        .bits(&token_a.bits)
        .bits(&token_b.bits)
        .bits(&fee_bps.bits)
        .bits(&share.bits)
        .bits(&amp.bits)
        .bits(&fee_token.bits)
        .bits(&fee_bits)
        .bits(&nonce_bits);
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}

/// The fields every pool trade starts with: account, sub-account, pool.
struct Trader {
    account: Field,
    sub: Field,
    pool: Field,
}

fn trader(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Trader> {
    Ok(Trader { account: account_field(ctx, g, cur)?, sub: sub_field(ctx, g, cur)?, pool: account_field(ctx, g, cur)? })
}

/// A swap: 0 trader −(in + fee) in the input token (nonce + 1); 1 pool +(in − protocol fee);
/// 2 trader +out in the other token; 3 pool −out. Exact in: `out = ⌊in'·R_out / (R_in·10^4 +
/// in')⌋` with `in' = in·(10^4 − fee_bps)`; exact out: `in − 1 = ⌊R_in·out·10^4 / ((R_out −
/// out)·(10^4 − fee_bps))⌋`. The fee rate and protocol share in the pubdata are the pool's.
pub fn swap(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::Swap);
    let t = trader(ctx, g, &mut cur)?;
    let token_in = token_field(ctx, g, &mut cur)?;
    let amount_in = cur.uint(15)?;
    let amount_out = cur.uint(15)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    let fee_bps = cur.uint(2)?.value;
    let share = cur.uint(1)?.value;
    cur.zero_padding(g)?;
    let (p, aux) = chunk(ctx, j)?;
    eq_if(g, &fee_bps, &p.fee_bps)?;
    eq_if(g, &share, &p.protocol_share)?;
    let in_is_a = token_in.value.is_eq(&p.token_a)?;
    let in_is_b = token_in.value.is_eq(&p.token_b)?;
    require_if(g, &(&in_is_a | &in_is_b))?;
    let token_out = select(&in_is_a, &p.token_b, &p.token_a)?;
    require_if(g, &nonzero(&amount_in.value)?)?;
    require_if(g, &nonzero(&amount_out.value)?)?;
    let gf = FpVar::from(g.clone());
    // ⌊in · fee_bps · share / 10^6⌋, computed on gated values (zero where another op starts).
    let protocol_fee = num::mul_div_floor(&(&gf * &amount_in.value), &(&fee_bps * &share), FEE_DENOMINATOR * 100, 120)?;

    let (s, zero) = (&t.sub.value, FpVar::zero());
    let index = balance_index(ctx, s, &token_in.value);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &t.account.value, index, &amount_in.value + &fee, None)?;
    let (r_in, r_out) = (ctx.slot(j, 1).old_lo.clone(), ctx.slot(j, 3).old_lo.clone());
    let pool_gets = &amount_in.value - &protocol_fee;
    credit(ctx, j, 1, g, t.pool.value.clone(), balance_index(ctx, &zero, &token_in.value), &pool_gets)?;
    credit(ctx, j, 2, g, t.account.value.clone(), balance_index(ctx, s, &token_out), &amount_out.value)?;
    debit(ctx, j, 3, g, t.pool.value.clone(), balance_index(ctx, &zero, &token_out), &amount_out.value)?;
    capped(g, &(&r_in + &pool_gets))?;
    capped(g, &r_out)?;
    ctx.credit_fee(g, &FpVar::zero(), &balance_index(ctx, &zero, &token_in.value), &fee + &protocol_fee);

    // One division check for either mode.
    let exact_out = aux.exact_out.clone();
    let keep = c(FEE_DENOMINATOR) - &fee_bps;
    let in_eff = &amount_in.value * &keep;
    let (num_in, den_in) = (&in_eff * &r_out, &r_in * Fr::from(FEE_DENOMINATOR) + &in_eff);
    let num_out = &r_in * &amount_out.value * Fr::from(FEE_DENOMINATOR);
    let den_out = (&r_out - &amount_out.value) * &keep;
    let num = select(&exact_out, &num_out, &num_in)?;
    let den = select(&exact_out, &den_out, &den_in)?;
    let q = select(&exact_out, &(&amount_in.value - c(1)), &amount_out.value)?;
    let r = num - &q * &den;
    bounded(ctx, j, 0, g, &r, &(den - c(1)))?;
    // The limit: exact in, out ≥ limit; exact out, in ≤ limit.
    let limit = &aux.limit_a.value;
    let low = select(&exact_out, &amount_in.value, limit)?;
    let high = select(&exact_out, limit, &amount_out.value)?;
    le_if(g, &low, &high, 128)?;

    // The signed amount is the exact side: 16 bytes, of which the pubdata's 15.
    let exact = amount_in
        .bits
        .iter()
        .zip(&amount_out.bits)
        .map(|(i, o)| Boolean::conditionally_select(&exact_out, o, i))
        .collect::<R<Vec<_>>>()?;
    let mode = [vec![Boolean::FALSE; 7], vec![exact_out]].concat();
    let msg = Message::default()
        .byte(tx_type::SWAP)
        .bits(&t.account.bits)
        .bits(&t.sub.bits)
        .bits(&t.pool.bits)
        .bits(&token_in.bits)
        .bits(&mode)
        .byte(0)
        .bits(&exact)
        .bits(&aux.limit_a.bits)
        .bits(&fee_bits)
        .bits(&nonce_bits)
        .bits(&window_bits(&aux));
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}

/// The fields of a liquidity change after the trader: the pool's first token (the fee token),
/// three u128 amounts and the fee.
struct Liquidity {
    token_a: Field,
    x: Field,
    y: Field,
    z: Field,
    fee: (FpVar<Fr>, Vec<Boolean<Fr>>),
}

fn liquidity(ctx: &Ctx, kind: OpKind, j: usize, g: &Boolean<Fr>) -> R<(Trader, Liquidity)> {
    let mut cur = reader(ctx, j, kind);
    let t = trader(ctx, g, &mut cur)?;
    let token_a = token_field(ctx, g, &mut cur)?;
    let (x, y, z) = (cur.uint(16)?, cur.uint(16)?, cur.uint(16)?);
    let fee = packed(g, &mut cur, 2)?;
    cur.zero_padding(g)?;
    Ok((t, Liquidity { token_a, x, y, z, fee }))
}

fn liquidity_message(
    code: u8,
    t: &Trader,
    l: &Liquidity,
    amounts: [&[Boolean<Fr>]; 3],
    aux: &PoolAuxVar,
    nonce: &[Boolean<Fr>],
) -> Message {
    Message::default()
        .byte(code)
        .bits(&t.account.bits)
        .bits(&t.sub.bits)
        .bits(&t.pool.bits)
        .bits(amounts[0])
        .bits(amounts[1])
        .bits(amounts[2])
        .bits(&l.token_a.bits)
        .bits(&l.fee.1)
        .bits(nonce)
        .bits(&window_bits(aux))
}

/// Adding liquidity: 0 provider −(a + fee) in token a (nonce + 1); 1 pool +a; 2 provider −b;
/// 3 pool +b; 4 provider +shares; 5 supply +shares, plus the locked minimum on the first
/// deposit. First deposit (supply 0): `a, b` are the signed maximums and `shares + 1000 =
/// ⌊√(a·b)⌋`; later: `a = ⌈shares·Ra/S⌉`, `b = ⌈shares·Rb/S⌉`, within the maximums. Shares are
/// at least the signed minimum.
pub fn add_liquidity(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let (t, l) = liquidity(ctx, OpKind::AddLiquidity, j, g)?;
    let (a, b, shares) = (&l.x.value, &l.y.value, &l.z.value);
    let (p, aux) = chunk(ctx, j)?;
    eq_if(g, &l.token_a.value, &p.token_a)?;
    require_if(g, &nonzero(shares)?)?;
    let (ra, rb, supply) =
        (ctx.slot(j, 1).old_lo.clone(), ctx.slot(j, 3).old_lo.clone(), ctx.slot(j, 5).old_lo.clone());
    let first = supply.is_zero()?;
    let minted = shares + FpVar::from(first.clone()) * c(MIN_LIQUIDITY);

    let (s, zero, pool) = (&t.sub.value, FpVar::zero(), &t.pool.value);
    let index = balance_index(ctx, s, &p.token_a);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &t.account.value, index, a + &l.fee.0, None)?;
    credit(ctx, j, 1, g, pool.clone(), balance_index(ctx, &zero, &p.token_a), a)?;
    debit(ctx, j, 2, g, t.account.value.clone(), balance_index(ctx, s, &p.token_b), b)?;
    credit(ctx, j, 3, g, pool.clone(), balance_index(ctx, &zero, &p.token_b), b)?;
    credit(ctx, j, 4, g, t.account.value.clone(), balance_index(ctx, s, &p.lp_token), shares)?;
    credit(ctx, j, 5, g, pool.clone(), balance_index(ctx, &zero, &p.lp_token), &minted)?;
    capped(g, &(&ra + a))?;
    capped(g, &(&rb + b))?;
    capped(g, &(&supply + &minted))?;
    fee_to_account_0(ctx, g, &p.token_a, &l.fee.0);

    le_if(g, a, &aux.limit_a.value, 128)?;
    le_if(g, b, &aux.limit_b.value, 128)?;
    le_if(g, &aux.min_shares.value, shares, 128)?;
    // First deposit: the maximums exactly, and s' = shares + 1000 with s'² ≤ a·b ≤ s'² + 2s'.
    let g_first = g & &first;
    eq_if(&g_first, a, &aux.limit_a.value)?;
    eq_if(&g_first, b, &aux.limit_b.value)?;
    let root = shares + c(MIN_LIQUIDITY);
    let r_root = a * b - &root * &root;
    // Later deposits: 0 ≤ a·S − shares·Ra ≤ S − 1 (a is the ceiling), the same for b.
    let r_a = a * &supply - shares * &ra;
    let r0 = select(&first, &r_root, &r_a)?;
    let m0 = select(&first, &(&root + &root), &(&supply - c(1)))?;
    bounded(ctx, j, 0, g, &r0, &m0)?;
    let g_later = g & &!&first;
    bounded(ctx, j, 1, &g_later, &(b * &supply - shares * &rb), &(&supply - c(1)))?;

    let msg = liquidity_message(
        tx_type::ADD_LIQUIDITY,
        &t,
        &l,
        [&aux.limit_a.bits, &aux.limit_b.bits, &aux.min_shares.bits],
        &aux,
        &nonce_bits,
    );
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}

/// Removing liquidity: 0 provider −shares (nonce + 1); 1 pool −a; 2 provider +(a − fee); 3 pool
/// −b; 4 provider +b; 5 supply −shares; `a = ⌊shares·Ra/S⌋`, `b = ⌊shares·Rb/S⌋`, at least the
/// signed minimums, and the fee at most `a`.
pub fn remove_liquidity(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let (t, l) = liquidity(ctx, OpKind::RemoveLiquidity, j, g)?;
    let (shares, a, b) = (&l.x.value, &l.y.value, &l.z.value);
    let (p, aux) = chunk(ctx, j)?;
    eq_if(g, &l.token_a.value, &p.token_a)?;
    require_if(g, &nonzero(shares)?)?;
    let (ra, rb, supply) =
        (ctx.slot(j, 1).old_lo.clone(), ctx.slot(j, 3).old_lo.clone(), ctx.slot(j, 5).old_lo.clone());

    let (s, zero, pool) = (&t.sub.value, FpVar::zero(), &t.pool.value);
    let index = balance_index(ctx, s, &p.lp_token);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &t.account.value, index, shares.clone(), None)?;
    debit(ctx, j, 1, g, pool.clone(), balance_index(ctx, &zero, &p.token_a), a)?;
    credit(ctx, j, 2, g, t.account.value.clone(), balance_index(ctx, s, &p.token_a), &(a - &l.fee.0))?;
    debit(ctx, j, 3, g, pool.clone(), balance_index(ctx, &zero, &p.token_b), b)?;
    credit(ctx, j, 4, g, t.account.value.clone(), balance_index(ctx, s, &p.token_b), b)?;
    debit(ctx, j, 5, g, pool.clone(), balance_index(ctx, &zero, &p.lp_token), shares)?;
    capped(g, &supply)?;
    fee_to_account_0(ctx, g, &p.token_a, &l.fee.0);

    le_if(g, &l.fee.0, a, 128)?;
    le_if(g, &aux.limit_a.value, a, 128)?;
    le_if(g, &aux.limit_b.value, b, 128)?;
    bounded(ctx, j, 0, g, &(shares * &ra - a * &supply), &(&supply - c(1)))?;
    bounded(ctx, j, 1, g, &(shares * &rb - b * &supply), &(&supply - c(1)))?;

    let msg = liquidity_message(
        tx_type::REMOVE_LIQUIDITY,
        &t,
        &l,
        [&l.x.bits, &aux.limit_a.bits, &aux.limit_b.bits],
        &aux,
        &nonce_bits,
    );
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}
