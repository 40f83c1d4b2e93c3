//! The execution rules of docs/protocol.md §7 as constraints, one function per op kind (the
//! pool kinds' are in [`super::pool`]; [`super::rules`] dispatches). Each
//! rule runs under the gate `g` = "an op of this kind starts at chunk j": it parses the op's
//! fields from its pubdata bits, binds the slots it uses, asks for the signatures it needs and
//! registers on-chain ops for their chain's hash.

use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use zklink_crypto::Fr;
use zklink_types::op::op_code as code;
use zklink_types::MAX_ORDER_NONCE;

use super::bytes::{Cursor, Field, Message};
use super::num::{self, c, eq_if, le_if, nonzero, pow2, require_if, select, unpack, R};
use super::slot::SlotVar;
use super::Ctx;
use crate::gadgets::poseidon;

/// Op kinds, with their code and chunk count (docs/protocol.md §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// All-zero padding chunk.
    Noop,
    /// Deposit from a chain's priority queue.
    Deposit,
    /// Transfer that creates the receiving account.
    TransferToNew,
    /// Withdraw to a chain.
    Withdraw,
    /// Transfer between existing accounts.
    Transfer,
    /// Full exit from a chain's priority queue.
    FullExit,
    /// Change of an account's L2 key.
    ChangePubKey,
    /// Forced exit of a keyless account.
    ForcedExit,
    /// Fill of a maker order by a taker order.
    OrderMatching,
    /// Hard cancel of an order slot's orders.
    CancelOrder,
    /// Creation of an AMM pool.
    CreatePool,
    /// Liquidity added to a pool.
    AddLiquidity,
    /// Liquidity removed from a pool.
    RemoveLiquidity,
    /// A swap against a pool.
    Swap,
}

impl OpKind {
    /// Every kind, in op-code order (the order of each chunk's start flags).
    pub const ALL: [OpKind; 14] = [
        OpKind::Noop,
        OpKind::Deposit,
        OpKind::TransferToNew,
        OpKind::Withdraw,
        OpKind::Transfer,
        OpKind::FullExit,
        OpKind::ChangePubKey,
        OpKind::ForcedExit,
        OpKind::OrderMatching,
        OpKind::CancelOrder,
        OpKind::CreatePool,
        OpKind::AddLiquidity,
        OpKind::RemoveLiquidity,
        OpKind::Swap,
    ];

    /// The op code (byte 0 of the op's pubdata).
    pub fn code(self) -> u8 {
        match self {
            OpKind::Noop => code::NOOP,
            OpKind::Deposit => code::DEPOSIT,
            OpKind::TransferToNew => code::TRANSFER_TO_NEW,
            OpKind::Withdraw => code::WITHDRAW,
            OpKind::Transfer => code::TRANSFER,
            OpKind::FullExit => code::FULL_EXIT,
            OpKind::ChangePubKey => code::CHANGE_PUBKEY,
            OpKind::ForcedExit => code::FORCED_EXIT,
            OpKind::OrderMatching => code::ORDER_MATCHING,
            OpKind::CancelOrder => code::CANCEL_ORDER,
            OpKind::CreatePool => code::CREATE_POOL,
            OpKind::AddLiquidity => code::ADD_LIQUIDITY,
            OpKind::RemoveLiquidity => code::REMOVE_LIQUIDITY,
            OpKind::Swap => code::SWAP,
        }
    }

    /// The kind with op code `c`, if any.
    pub fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == c)
    }

    /// Whether ops of this kind are on-chain ops ([`is_onchain_code`](zklink_types::op::is_onchain_code)):
    /// they start only at multiples of the preset's `onchain_period`.
    pub fn is_onchain(self) -> bool {
        zklink_types::op::is_onchain_code(self.code())
    }

    /// Whether ops of this kind trade against a pool (they share the chunk's pool context:
    /// the pool's parameters, the signed limits and window, the division checks).
    pub fn is_pool_trade(self) -> bool {
        matches!(self, OpKind::Swap | OpKind::AddLiquidity | OpKind::RemoveLiquidity)
    }

    /// Chunks an op of this kind occupies ([`chunks_of`](zklink_types::op::chunks_of)).
    pub fn chunks(self) -> usize {
        zklink_types::op::chunks_of(self.code()).unwrap_or(1)
    }
}

/// What an op does to one slot; fields left `None` stay as they were.
pub struct Change {
    /// The account id the slot must rewrite.
    pub account: FpVar<Fr>,
    /// The sub-leaf index the slot must rewrite: `sub · 2^token_bits + token` or `sub · 2^slot_bits + slot`.
    pub index: FpVar<Fr>,
    /// Whether the sub-leaf is in the order tree (else the balance tree).
    pub order: bool,
    /// New account address, bound where an op may create the account (Deposit, TransferToNew).
    pub address: Option<FpVar<Fr>>,
    /// New pubkey hash (ChangePubKey).
    pub pkh: Option<FpVar<Fr>>,
    /// New account nonce (the signer's `nonce + 1`).
    pub nonce: Option<FpVar<Fr>>,
    /// New high part of an order-slot leaf: the slot's order nonce.
    pub hi: Option<FpVar<Fr>>,
    /// New low part of the sub-leaf: the balance, or an order slot's residue (always bound).
    pub lo: FpVar<Fr>,
}

impl Change {
    /// A balance slot of (account, index) whose new balance is `lo`.
    pub fn balance(account: FpVar<Fr>, index: FpVar<Fr>, lo: FpVar<Fr>) -> Self {
        Change { account, index, order: false, address: None, pkh: None, nonce: None, hi: None, lo }
    }

    /// `g ⇒` the slot does exactly this.
    pub fn enforce(&self, g: &Boolean<Fr>, s: &SlotVar) -> R<()> {
        eq_if(g, &s.account, &self.account)?;
        eq_if(g, &s.sub_index, &self.index)?;
        eq_if(g, &FpVar::from(s.is_order.clone()), &c(self.order as u128))?;
        let keep = |new: &Option<FpVar<Fr>>, old: &FpVar<Fr>| new.clone().unwrap_or_else(|| old.clone());
        eq_if(g, &s.new_address, &keep(&self.address, &s.old_address))?;
        eq_if(g, &s.new_pkh, &keep(&self.pkh, &s.old_pkh))?;
        eq_if(g, &s.new_nonce, &keep(&self.nonce, &s.old_nonce))?;
        eq_if(g, &s.new_lo, &self.lo)?;
        // Balances are plain u128 leaves; order slots carry their nonce above bit 128.
        let hi = if self.order { keep(&self.hi, &s.old_hi) } else { FpVar::zero() };
        eq_if(g, &s.new_hi, &hi)
    }
}

// ---- shared rule pieces ----

pub(super) fn reader(ctx: &Ctx, j: usize, kind: OpKind) -> Cursor {
    let mut cur = Cursor::new(ctx.op_bits(j, kind.chunks()));
    cur.bits(1); // op code, checked by the chunk state machine
    cur
}

pub(super) fn balance_index(ctx: &Ctx, sub: &FpVar<Fr>, token: &FpVar<Fr>) -> FpVar<Fr> {
    sub * pow2(ctx.preset.token_bits) + token
}

fn order_index(ctx: &Ctx, sub: &FpVar<Fr>, slot: &FpVar<Fr>) -> FpVar<Fr> {
    sub * pow2(ctx.preset.slot_bits) + slot
}

pub(super) fn fits(g: &Boolean<Fr>, f: &Field, width: u32) -> R<()> {
    if (width as usize) < f.bits.len() {
        f.fits(g, width as usize)?;
    }
    Ok(())
}

pub(super) fn account_field(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Field> {
    let f = cur.uint(4)?;
    fits(g, &f, ctx.preset.account_bits)?;
    Ok(f)
}

pub(super) fn sub_field(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Field> {
    let f = cur.uint(1)?;
    fits(g, &f, ctx.preset.sub_account_bits)?;
    Ok(f)
}

pub(super) fn token_field(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Field> {
    let f = cur.uint(2)?;
    fits(g, &f, ctx.preset.token_bits)?;
    Ok(f)
}

/// `g ⇒ 1 ≤ chain ≤ n`.
fn chain_field(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Field> {
    let f = cur.uint(1)?;
    require_if(g, &nonzero(&f.value)?)?;
    le_if(g, &f.value, &c(ctx.chain_count as u128), 8)?;
    Ok(f)
}

/// Tokens users may name: USD (1) and real tokens (≥ 17), not reserve ids.
pub(super) fn user_token(g: &Boolean<Fr>, token: &FpVar<Fr>) -> R<()> {
    let is_usd = token.is_eq(&c(1))?;
    let real = num::ge(token, &c(17), 16)?;
    require_if(g, &(&is_usd | &real))
}

/// The token mapping rule; returns the reserve id. An LP token never moves to or from L1: its
/// balances are claims on a pool, not on a chain's reserves.
fn mapping(ctx: &Ctx, g: &Boolean<Fr>, l1: &FpVar<Fr>, l2: &FpVar<Fr>) -> R<FpVar<Fr>> {
    let l2_usd = l2.is_eq(&c(1))?;
    let l1_real = num::ge(l1, &c(17), 16)?;
    let l1_stable = num::ge(&c(31), l1, 16)?;
    let l1_not_lp = num::ge(&c(*ctx.preset.lp_tokens().start() as u128 - 1), l1, 16)?;
    let same = l1.is_eq(l2)?;
    let valid = &(&l1_real & &l1_not_lp) & &(&same | &(&l2_usd & &l1_stable));
    require_if(g, &valid)?;
    select(&l2_usd, &(l1 - c(15)), l1)
}

pub(super) fn packed(g: &Boolean<Fr>, cur: &mut Cursor, bytes: usize) -> R<(FpVar<Fr>, Vec<Boolean<Fr>>)> {
    let bits = cur.bits(bytes);
    let mbits = if bytes == 5 { 35 } else { 11 };
    Ok((unpack(g, &bits, mbits)?.value, bits))
}

pub(super) fn differs(a: &FpVar<Fr>, b: &FpVar<Fr>) -> R<Boolean<Fr>> {
    nonzero(&(a - b))
}

/// The signer's slot: pays `total` from (sub, token) and bumps its nonce (which must equal
/// `nonce` when given). Returns (pubkey hash, nonce bits big-endian) for the signature check.
#[allow(clippy::too_many_arguments)]
pub(super) fn signer_pays(
    ctx: &mut Ctx,
    j: usize,
    m: usize,
    g: &Boolean<Fr>,
    account: &FpVar<Fr>,
    index: FpVar<Fr>,
    total: FpVar<Fr>,
    nonce: Option<&FpVar<Fr>>,
) -> R<(FpVar<Fr>, Vec<Boolean<Fr>>)> {
    let s = ctx.slot(j, m);
    let (old_lo, old_nonce, pkh) = (s.old_lo.clone(), s.old_nonce.clone(), s.old_pkh.clone());
    if let Some(n) = nonce {
        eq_if(g, n, &old_nonce)?;
    }
    let nonce_bits = num::to_bits_be(&old_nonce, 32)?;
    let mut change = Change::balance(account.clone(), index, old_lo - total);
    change.nonce = Some(old_nonce + c(1));
    ctx.bind(j, m, g, change)?;
    Ok((pkh, nonce_bits))
}

/// Credits `amount` of `token` to (account, sub).
pub(super) fn credit(
    ctx: &mut Ctx,
    j: usize,
    m: usize,
    g: &Boolean<Fr>,
    account: FpVar<Fr>,
    index: FpVar<Fr>,
    amount: &FpVar<Fr>,
) -> R<()> {
    let lo = &ctx.slot(j, m).old_lo + amount;
    ctx.bind(j, m, g, Change::balance(account, index, lo))
}

/// Debits `amount` from (account, sub); the slot's u128 range check rules out underflow.
pub(super) fn debit(
    ctx: &mut Ctx,
    j: usize,
    m: usize,
    g: &Boolean<Fr>,
    account: FpVar<Fr>,
    index: FpVar<Fr>,
    amount: &FpVar<Fr>,
) -> R<()> {
    let lo = &ctx.slot(j, m).old_lo - amount;
    ctx.bind(j, m, g, Change::balance(account, index, lo))
}

/// The network fee: credited to account 0's sub-account 0 through the credit slots.
pub(super) fn fee_to_account_0(ctx: &mut Ctx, g: &Boolean<Fr>, token: &FpVar<Fr>, fee: &FpVar<Fr>) {
    let index = balance_index(ctx, &FpVar::zero(), token);
    ctx.credit_fee(g, &FpVar::zero(), &index, fee.clone());
}

// ---- the rules ----

pub(super) fn noop(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    Cursor::new(ctx.op_bits(j, 1)).zero_padding(g)
}

pub(super) fn deposit(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::Deposit);
    let chain = chain_field(ctx, g, &mut cur)?;
    let account = account_field(ctx, g, &mut cur)?;
    let sub = sub_field(ctx, g, &mut cur)?;
    let l1 = token_field(ctx, g, &mut cur)?;
    let l2 = token_field(ctx, g, &mut cur)?;
    let amount = cur.uint(16)?.value;
    let owner_field = cur.uint(20)?;
    cur.zero_padding(g)?;
    let reserve = mapping(ctx, g, &l1.value, &l2.value)?;
    require_if(g, &nonzero(&amount)?)?;
    require_if(g, &nonzero(&owner_field.value)?)?;
    not_reserved(g, &owner_field.bits)?;
    let owner = owner_field.value;
    // The receiver's leaf is empty (a new account) or already owned by `owner`.
    let old_address = ctx.slot(j, 0).old_address.clone();
    eq_if(g, &(&old_address * (&old_address - &owner)), &FpVar::zero())?;
    let lo = &ctx.slot(j, 0).old_lo + &amount;
    let mut change = Change::balance(account.value, balance_index(ctx, &sub.value, &l2.value), lo);
    change.address = Some(owner);
    ctx.bind(j, 0, g, change)?;
    let index = balance_index(ctx, &chain.value, &reserve);
    credit(ctx, j, 1, g, c(1), index, &amount)?;
    ctx.onchain_op(j, g, 2);
    Ok(())
}

/// `g ⇒` the address (its 160 bits, big-endian) is not reserved for pools: its first 8 bytes
/// are not all `ff` (docs/protocol.md §6; the global asset account's address is reserved too).
pub(super) fn not_reserved(g: &Boolean<Fr>, bits: &[Boolean<Fr>]) -> R<()> {
    let prefix = num::be_to_fp(&bits[..64])?;
    require_if(g, &differs(&prefix, &FpVar::constant(pow2(64) - Fr::from(1u64)))?)
}

pub(super) fn full_exit(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::FullExit);
    let chain = chain_field(ctx, g, &mut cur)?;
    let account = cur.uint(4)?;
    let sub = cur.uint(1)?;
    let l1 = cur.uint(2)?;
    let l2 = cur.uint(2)?;
    let amount = cur.uint(16)?.value;
    let owner = cur.uint(20)?.value;
    cur.zero_padding(g)?;
    // A request that exits nothing (invalid, or an empty balance) changes no state.
    let paid = g & &nonzero(&amount)?;
    fits(&paid, &account, ctx.preset.account_bits)?;
    fits(&paid, &sub, ctx.preset.sub_account_bits)?;
    fits(&paid, &l1, ctx.preset.token_bits)?;
    fits(&paid, &l2, ctx.preset.token_bits)?;
    require_if(&paid, &differs(&account.value, &c(1))?)?;
    let reserve = mapping(ctx, &paid, &l1.value, &l2.value)?;
    eq_if(&paid, &ctx.slot(j, 0).old_address.clone(), &owner)?;
    let index = balance_index(ctx, &sub.value, &l2.value);
    debit(ctx, j, 0, &paid, account.value, index, &amount)?;
    let index = balance_index(ctx, &chain.value, &reserve);
    debit(ctx, j, 1, &paid, c(1), index, &amount)?;
    ctx.onchain_op(j, g, 2);
    Ok(())
}

pub(super) fn change_pubkey(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::ChangePubKey);
    let chain = chain_field(ctx, g, &mut cur)?;
    let account = account_field(ctx, g, &mut cur)?;
    let sub = sub_field(ctx, g, &mut cur)?;
    let new_pkh = cur.uint(20)?;
    let owner = cur.uint(20)?.value;
    let nonce = cur.uint(4)?;
    let fee_token = token_field(ctx, g, &mut cur)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    cur.zero_padding(g)?;
    user_token(g, &fee_token.value)?;
    require_if(g, &differs(&account.value, &c(1))?)?;
    let s = ctx.slot(j, 0);
    eq_if(g, &s.old_address, &owner)?;
    eq_if(g, &s.old_nonce, &nonce.value)?;
    let mut change =
        Change::balance(account.value.clone(), balance_index(ctx, &sub.value, &fee_token.value), &s.old_lo - &fee);
    change.pkh = Some(new_pkh.value.clone());
    change.nonce = Some(&s.old_nonce + c(1));
    ctx.bind(j, 0, g, change)?;
    fee_to_account_0(ctx, g, &fee_token.value, &fee);
    let msg = Message::default()
        .byte(code::CHANGE_PUBKEY)
        .bits(&chain.bits)
        .bits(&account.bits)
        .bits(&sub.bits)
        .bits(&new_pkh.bits)
        .bits(&fee_token.bits)
        .bits(&fee_bits)
        .bits(&nonce.bits);
    ctx.require_signature(j, g, msg.hash()?, new_pkh.value);
    ctx.onchain_op(j, g, 3);
    Ok(())
}

pub(super) fn transfer(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>, to_new: bool) -> R<()> {
    let kind = if to_new { OpKind::TransferToNew } else { OpKind::Transfer };
    let mut cur = reader(ctx, j, kind);
    let from = account_field(ctx, g, &mut cur)?;
    let from_sub = sub_field(ctx, g, &mut cur)?;
    let token = token_field(ctx, g, &mut cur)?;
    let (to, to_sub, amount, fee, to_address) = if to_new {
        let amount = packed(g, &mut cur, 5)?;
        let to = account_field(ctx, g, &mut cur)?;
        let to_sub = sub_field(ctx, g, &mut cur)?;
        let fee = packed(g, &mut cur, 2)?;
        let to_address = cur.uint(20)?;
        (to, to_sub, amount, fee, Some(to_address))
    } else {
        let to = account_field(ctx, g, &mut cur)?;
        let to_sub = sub_field(ctx, g, &mut cur)?;
        (to, to_sub, packed(g, &mut cur, 5)?, packed(g, &mut cur, 2)?, None)
    };
    cur.zero_padding(g)?;
    user_token(g, &token.value)?;
    require_if(g, &nonzero(&amount.0)?)?;
    let same = (&from.value - &to.value) * pow2(8) + (&from_sub.value - &to_sub.value);
    require_if(g, &nonzero(&same)?)?;

    let index = balance_index(ctx, &from_sub.value, &token.value);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &from.value, index, &amount.0 + &fee.0, None)?;
    let receiver = ctx.slot(j, 1);
    let (old_address, old_lo) = (receiver.old_address.clone(), receiver.old_lo.clone());
    let mut change =
        Change::balance(to.value.clone(), balance_index(ctx, &to_sub.value, &token.value), old_lo + &amount.0);
    let to_bits = match &to_address {
        Some(addr) => {
            // A new account: the leaf was empty and now belongs to `to_address`.
            eq_if(g, &old_address, &FpVar::zero())?;
            require_if(g, &nonzero(&addr.value)?)?;
            not_reserved(g, &addr.bits)?;
            change.address = Some(addr.value.clone());
            addr.bits.clone()
        }
        None => {
            require_if(g, &nonzero(&old_address)?)?;
            require_if(g, &differs(&to.value, &c(1))?)?;
            // Not to a pool: its reserves move only by the pool's own rules.
            let bits = num::to_bits_be(&old_address, 160)?;
            not_reserved(g, &bits)?;
            bits
        }
    };
    ctx.bind(j, 1, g, change)?;
    fee_to_account_0(ctx, g, &token.value, &fee.0);
    let msg = Message::default()
        .byte(zklink_types::tx::tx_type::TRANSFER)
        .bits(&from.bits)
        .bits(&from_sub.bits)
        .bits(&to_bits)
        .bits(&to_sub.bits)
        .bits(&token.bits)
        .bits(&amount.1)
        .bits(&fee.1)
        .bits(&nonce_bits);
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}

pub(super) fn withdraw(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::Withdraw);
    let chain = chain_field(ctx, g, &mut cur)?;
    let account = account_field(ctx, g, &mut cur)?;
    let sub = sub_field(ctx, g, &mut cur)?;
    let l1 = token_field(ctx, g, &mut cur)?;
    let l2 = token_field(ctx, g, &mut cur)?;
    let amount = cur.uint(16)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    let to = cur.uint(20)?;
    let nonce = cur.uint(4)?;
    let ratio = cur.uint(2)?;
    cur.zero_padding(g)?;
    let reserve = mapping(ctx, g, &l1.value, &l2.value)?;
    require_if(g, &nonzero(&amount.value)?)?;
    le_if(g, &ratio.value, &c(10_000), 16)?;
    let index = balance_index(ctx, &sub.value, &l2.value);
    let (pkh, _) = signer_pays(ctx, j, 0, g, &account.value, index, &amount.value + &fee, Some(&nonce.value))?;
    let index = balance_index(ctx, &chain.value, &reserve);
    debit(ctx, j, 1, g, c(1), index, &amount.value)?;
    fee_to_account_0(ctx, g, &l2.value, &fee);
    let msg = Message::default()
        .byte(zklink_types::tx::tx_type::WITHDRAW)
        .bits(&chain.bits)
        .bits(&account.bits)
        .bits(&sub.bits)
        .bits(&to.bits)
        .bits(&l2.bits)
        .bits(&l1.bits)
        .bits(&amount.bits)
        .bits(&fee_bits)
        .bits(&nonce.bits)
        .bits(&ratio.bits);
    ctx.require_signature(j, g, msg.hash()?, pkh);
    ctx.onchain_op(j, g, 3);
    Ok(())
}

pub(super) fn forced_exit(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::ForcedExit);
    let chain = chain_field(ctx, g, &mut cur)?;
    let initiator = account_field(ctx, g, &mut cur)?;
    let initiator_sub = sub_field(ctx, g, &mut cur)?;
    let target = account_field(ctx, g, &mut cur)?;
    let target_sub = sub_field(ctx, g, &mut cur)?;
    let l1 = token_field(ctx, g, &mut cur)?;
    let l2 = token_field(ctx, g, &mut cur)?;
    let fee_token = token_field(ctx, g, &mut cur)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    let amount = cur.uint(16)?.value;
    let target_address = cur.uint(20)?;
    cur.zero_padding(g)?;
    let reserve = mapping(ctx, g, &l1.value, &l2.value)?;
    user_token(g, &fee_token.value)?;
    require_if(g, &nonzero(&amount)?)?;
    let index = balance_index(ctx, &initiator_sub.value, &fee_token.value);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &initiator.value, index, fee.clone(), None)?;
    // The target is the account owned by `target_address`, and it has no key.
    not_reserved(g, &target_address.bits)?;
    let t = ctx.slot(j, 1);
    eq_if(g, &t.old_address, &target_address.value)?;
    eq_if(g, &t.old_pkh, &FpVar::zero())?;
    let index = balance_index(ctx, &target_sub.value, &l2.value);
    debit(ctx, j, 1, g, target.value.clone(), index, &amount)?;
    let index = balance_index(ctx, &chain.value, &reserve);
    debit(ctx, j, 2, g, c(1), index, &amount)?;
    fee_to_account_0(ctx, g, &fee_token.value, &fee);
    let msg = Message::default()
        .byte(zklink_types::tx::tx_type::FORCED_EXIT)
        .bits(&chain.bits)
        .bits(&initiator.bits)
        .bits(&initiator_sub.bits)
        .bits(&target_address.bits)
        .bits(&target_sub.bits)
        .bits(&l2.bits)
        .bits(&l1.bits)
        .bits(&fee_token.bits)
        .bits(&fee_bits)
        .bits(&nonce_bits);
    ctx.require_signature(j, g, msg.hash()?, pkh);
    ctx.onchain_op(j, g, 3);
    Ok(())
}

/// One order's fill as it appears in the pubdata.
struct Fill {
    account: Field,
    slot: Field,
    nonce: Field,
    amount: FpVar<Fr>,
    amount_bits: Vec<Boolean<Fr>>,
    ratio: Field,
}

fn fill(ctx: &Ctx, g: &Boolean<Fr>, cur: &mut Cursor) -> R<Fill> {
    let account = account_field(ctx, g, cur)?;
    let slot = cur.uint(2)?;
    fits(g, &slot, ctx.preset.slot_bits)?;
    let nonce = cur.uint(3)?;
    let (amount, amount_bits) = packed(g, cur, 5)?;
    let ratio = cur.uint(1)?;
    Ok(Fill { account, slot, nonce, amount, amount_bits, ratio })
}

/// The slot rule: with slot `{n, r}`, an order with nonce `o` continues (`r > 0, o = n`: it may
/// trade `r`) or starts fresh (`r > 0, o = n + 1`, or `r = 0, o = n`: it may trade its amount).
/// Binds the slot to `{o, available − base}`, or `{o + 1, 0}` once filled; returns `available`.
fn order_slot(
    ctx: &mut Ctx,
    j: usize,
    m: usize,
    g: &Boolean<Fr>,
    sub: &FpVar<Fr>,
    f: &Fill,
    base: &FpVar<Fr>,
) -> R<FpVar<Fr>> {
    let s = ctx.slot(j, m);
    let (n, r) = (s.old_hi.clone(), s.old_lo.clone());
    let o = &f.nonce.value;
    let has_rest = nonzero(&r)?;
    let same = o.is_eq(&n)?;
    let next = o.is_eq(&(&n + c(1)))?;
    let continues = &has_rest & &same;
    let fresh = &(&has_rest & &next) | &(&!&has_rest & &same);
    require_if(g, &(&continues | &fresh))?;
    let available = select(&continues, &r, &f.amount)?;
    let residue = &available - base;
    let filled = residue.is_zero()?;
    // A filled slot moves to the next nonce, which must still fit 24 bits.
    le_if(&(g & &filled), o, &c(MAX_ORDER_NONCE as u128 - 1), 25)?;
    let new_nonce = select(&filled, &(o + c(1)), o)?;
    let change = Change {
        account: f.account.value.clone(),
        index: order_index(ctx, sub, &f.slot.value),
        order: true,
        address: None,
        pkh: None,
        nonce: None,
        hi: Some(new_nonce),
        lo: residue,
    };
    // Trading at most what is available is implied by the residue's u128 range check; that the
    // fill is the largest allowed is the caller's check against `available`.
    ctx.bind(j, m, g, change)?;
    Ok(available)
}

#[allow(clippy::too_many_arguments)]
fn order_message(
    account: &Field,
    sub: &Field,
    f: &Fill,
    base_token: &Field,
    quote_token: &Field,
    price: &Field,
    is_sell: &[Boolean<Fr>],
    maker_ratio: &[Boolean<Fr>],
    taker_ratio: &[Boolean<Fr>],
    window: &(Field, Field),
) -> Message {
    Message::default()
        .byte(zklink_types::tx::tx_type::ORDER)
        .bits(&account.bits)
        .bits(&sub.bits)
        .bits(&f.slot.bits)
        .bits(&f.nonce.bits)
        .bits(&base_token.bits)
        .bits(&quote_token.bits)
        .bits(&price.bits)
        .bits(is_sell)
        .bits(maker_ratio)
        .bits(taker_ratio)
        .bits(&f.amount_bits)
        .bits(&window.0.bits)
        .bits(&window.1.bits)
}

/// `g ⇒` the block's timestamp lies in the order's signed window `(from, until)` (32-bit values;
/// the timestamp is below 2^64).
pub(super) fn within(ctx: &Ctx, g: &Boolean<Fr>, window: &(Field, Field)) -> R<()> {
    le_if(g, &window.0.value, &ctx.timestamp, 64)?;
    le_if(g, &ctx.timestamp, &window.1.value, 64)
}

pub(super) fn order_matching(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::OrderMatching);
    let sub = sub_field(ctx, g, &mut cur)?;
    let submitter = account_field(ctx, g, &mut cur)?;
    let fee_token = token_field(ctx, g, &mut cur)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    let maker = fill(ctx, g, &mut cur)?;
    let taker = fill(ctx, g, &mut cur)?;
    let base_token = token_field(ctx, g, &mut cur)?;
    let quote_token = token_field(ctx, g, &mut cur)?;
    let is_sell_byte = cur.uint(1)?;
    let base = cur.uint(16)?.value;
    let quote = cur.uint(16)?.value;
    cur.zero_padding(g)?;
    is_sell_byte.fits(g, 1)?;
    let maker_sells = is_sell_byte.bits[7].clone();
    for t in [&fee_token, &base_token, &quote_token] {
        user_token(g, &t.value)?;
    }
    require_if(g, &differs(&base_token.value, &quote_token.value)?)?;
    require_if(g, &differs(&maker.account.value, &taker.account.value)?)?;
    let aux = ctx.aux[j].clone().ok_or(ark_relations::gr1cs::SynthesisError::Unsatisfiable)?;
    require_if(g, &nonzero(&aux.maker_price.value)?)?;
    require_if(g, &nonzero(&aux.taker_price.value)?)?;
    within(ctx, g, &aux.maker_window)?;
    within(ctx, g, &aux.taker_window)?;

    // Prices cross; the trade happens at the maker's price.
    le_if(&(g & &maker_sells), &aux.maker_price.value, &aux.taker_price.value, 120)?;
    le_if(&(g & &!&maker_sells), &aux.taker_price.value, &aux.maker_price.value, 120)?;
    require_if(g, &nonzero(&base)?)?;
    let exact_quote = num::mul_div_floor(&base, &aux.maker_price.value, 1_000_000_000_000_000_000, 128)?;
    eq_if(g, &quote, &exact_quote)?;
    require_if(g, &nonzero(&quote)?)?;
    let quote_capped = nonzero(&aux.expect_quote.value)?;
    le_if(&(g & &quote_capped), &quote, &aux.expect_quote.value, 128)?;

    let maker_gives = select(&maker_sells, &base, &quote)?;
    let maker_gets = select(&maker_sells, &quote, &base)?;
    let sell_token = select(&maker_sells, &base_token.value, &quote_token.value)?;
    let buy_token = select(&maker_sells, &quote_token.value, &base_token.value)?;
    let maker_fee = num::mul_div_floor(&maker_gets, &maker.ratio.value, 10_000, 128)?;
    let taker_fee = num::mul_div_floor(&maker_gives, &taker.ratio.value, 10_000, 128)?;
    let s = &sub.value;
    let (sell, buy) = (balance_index(ctx, s, &sell_token), balance_index(ctx, s, &buy_token));

    debit(ctx, j, 0, g, maker.account.value.clone(), sell.clone(), &maker_gives)?;
    credit(ctx, j, 1, g, maker.account.value.clone(), buy.clone(), &(&maker_gets - &maker_fee))?;
    let maker_available = order_slot(ctx, j, 2, g, s, &maker, &base)?;
    debit(ctx, j, 3, g, taker.account.value.clone(), buy.clone(), &maker_gets)?;
    credit(ctx, j, 4, g, taker.account.value.clone(), sell.clone(), &(&maker_gives - &taker_fee))?;
    let taker_available = order_slot(ctx, j, 5, g, s, &taker, &base)?;
    // The order fees go to the submitter through the credit slots.
    ctx.credit_fee(g, &submitter.value, &buy, maker_fee.clone());
    ctx.credit_fee(g, &submitter.value, &sell, taker_fee.clone());
    let index = balance_index(ctx, s, &fee_token.value);
    let (submitter_pkh, nonce_bits) = signer_pays(ctx, j, 6, g, &submitter.value, index, fee.clone(), None)?;
    fee_to_account_0(ctx, g, &fee_token.value, &fee);

    // The fill is the largest allowed: base = min(maker available, taker available, cap).
    let base_capped = nonzero(&aux.expect_base.value)?;
    le_if(&(g & &base_capped), &base, &aux.expect_base.value, 128)?;
    let cap_term = select(&base_capped, &(&base - &aux.expect_base.value), &FpVar::one())?;
    let tight = (&base - &maker_available) * (&base - &taker_available) * cap_term;
    eq_if(g, &tight, &FpVar::zero())?;

    let taker_sells = [vec![Boolean::FALSE; 7], vec![!&maker_sells]].concat();
    let maker_msg = order_message(
        &maker.account,
        &sub,
        &maker,
        &base_token,
        &quote_token,
        &aux.maker_price,
        &is_sell_byte.bits,
        &maker.ratio.bits,
        &aux.maker_taker_ratio.bits,
        &aux.maker_window,
    );
    let taker_msg = order_message(
        &taker.account,
        &sub,
        &taker,
        &base_token,
        &quote_token,
        &aux.taker_price,
        &taker_sells,
        &aux.taker_maker_ratio.bits,
        &taker.ratio.bits,
        &aux.taker_window,
    );
    let header = Message::default()
        .byte(zklink_types::tx::tx_type::ORDER_MATCHING)
        .bits(&submitter.bits)
        .bits(&sub.bits)
        .bits(&nonce_bits)
        .bits(&fee_token.bits)
        .bits(&fee_bits)
        .bits(&aux.expect_base.bits)
        .bits(&aux.expect_quote.bits);
    let (maker_hash, taker_hash) = (maker_msg.hash()?, taker_msg.hash()?);
    let matching = poseidon::poseidon(&[header.hash()?, maker_hash.clone(), taker_hash.clone()])?;
    let maker_pkh = ctx.slot(j, 0).old_pkh.clone();
    let taker_pkh = ctx.slot(j, 3).old_pkh.clone();
    ctx.require_signature(j, g, matching, submitter_pkh);
    ctx.require_signature(j + 1, g, maker_hash, maker_pkh);
    ctx.require_signature(j + 2, g, taker_hash, taker_pkh);
    Ok(())
}

/// Hard cancel: the owner pays the fee from (sub, fee token) and bumps its nonce (slot 0); its
/// order slot `{n, r}` becomes `{order_nonce + 1, 0}` with `n ≤ order_nonce < 2^24 − 1` (slot 1).
pub(super) fn cancel_order(ctx: &mut Ctx, j: usize, g: &Boolean<Fr>) -> R<()> {
    let mut cur = reader(ctx, j, OpKind::CancelOrder);
    let account = account_field(ctx, g, &mut cur)?;
    let sub = sub_field(ctx, g, &mut cur)?;
    let slot = cur.uint(2)?;
    fits(g, &slot, ctx.preset.slot_bits)?;
    let order_nonce = cur.uint(3)?;
    let fee_token = token_field(ctx, g, &mut cur)?;
    let (fee, fee_bits) = packed(g, &mut cur, 2)?;
    cur.zero_padding(g)?;
    user_token(g, &fee_token.value)?;
    le_if(g, &order_nonce.value, &c(MAX_ORDER_NONCE as u128 - 1), 25)?;
    let index = balance_index(ctx, &sub.value, &fee_token.value);
    let (pkh, nonce_bits) = signer_pays(ctx, j, 0, g, &account.value, index, fee.clone(), None)?;
    // The slot's nonce (below 2^32 by the slot's range check) never moves back.
    le_if(g, &ctx.slot(j, 1).old_hi.clone(), &order_nonce.value, 32)?;
    let change = Change {
        account: account.value.clone(),
        index: order_index(ctx, &sub.value, &slot.value),
        order: true,
        address: None,
        pkh: None,
        nonce: None,
        hi: Some(&order_nonce.value + c(1)),
        lo: FpVar::zero(),
    };
    ctx.bind(j, 1, g, change)?;
    fee_to_account_0(ctx, g, &fee_token.value, &fee);
    let msg = Message::default()
        .byte(zklink_types::tx::tx_type::CANCEL_ORDER)
        .bits(&account.bits)
        .bits(&sub.bits)
        .bits(&slot.bits)
        .bits(&order_nonce.bits)
        .bits(&fee_token.bits)
        .bits(&fee_bits)
        .bits(&nonce_bits);
    ctx.require_signature(j, g, msg.hash()?, pkh);
    Ok(())
}
