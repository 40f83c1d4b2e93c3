//! Replaying ops from pubdata: the state change an op records, without the transaction that
//! produced it.
//!
//! This is how the state is rebuilt from L1 alone (`zklink restore`): a block's pubdata holds
//! every op, and each op carries enough to redo its updates (ids, amounts, fees, the nonce or
//! order nonce it used, new keys and addresses). Signatures and rules are not checked again —
//! the block's validity proof did that — but every field an op states about the state it
//! applies to (an account's address, its nonce, an order slot's nonce) is compared with the
//! state, so pubdata that does not fit the rebuilt state is reported instead of applied. The
//! updates come out in the same order as the handlers plan them (a pool op's with the same
//! function, `handlers::pool::plan_*`).

use zklink_state::OrderSlot;
use zklink_types::op::{AddLiquidityOp, CreatePoolOp, OrderFill, OrderMatchingOp, RemoveLiquidityOp, SwapOp};
use zklink_types::{
    AccountId, Address, FillSettlement, Network, Nonce, Op, OrderNonce, PoolParams, Reserves, SubAccountId,
    TokenMapping, TxError, FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID,
};

use crate::handlers::pool as pools;
use crate::handlers::{cancelled_slot, header};
use crate::plan::Plan;

/// Why an op could not be replayed.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// A state rule failed (insufficient balance, a full tree, …).
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The op states something about the state that is not so.
    #[error("{op} does not fit the state: {what}")]
    Mismatch {
        /// The op's kind.
        op: &'static str,
        /// What differs, with the op's and the state's values.
        what: String,
    },
}

fn mismatch(op: &'static str, what: String) -> ReplayError {
    ReplayError::Mismatch { op, what }
}

/// Plans the updates `op` records.
pub fn plan_op(plan: &mut Plan<'_>, network: &Network, op: &Op) -> Result<(), ReplayError> {
    match op {
        Op::Noop => Ok(()),
        Op::Deposit(o) => {
            network.check_chain(o.chain_id)?;
            let account = existing_or_new(plan, "Deposit", o.account_id, o.owner)?;
            let reserve = TokenMapping::new(o.l1_token, o.l2_token)?.reserve;
            plan.credit(account, o.sub_account_id, o.l2_token, o.amount)?;
            plan.credit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            Ok(())
        }
        Op::Transfer(o) => {
            let nonce = account_nonce(plan, o.from)?;
            header(plan.state(), o.to)?;
            transfer(plan, o.from, o.from_sub, o.token, o.amount, o.fee, nonce)?;
            plan.credit(o.to, o.to_sub, o.token, o.amount)?;
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.token, o.fee)?;
            Ok(())
        }
        Op::TransferToNew(o) => {
            let nonce = account_nonce(plan, o.from)?;
            transfer(plan, o.from, o.from_sub, o.token, o.amount, o.fee, nonce)?;
            if plan.state().account_id_by_address(&o.to_address).is_some() {
                return Err(mismatch("TransferToNew", format!("{} already has an account", o.to_address)));
            }
            let to = plan.create_account(o.to_address)?;
            if to != o.to {
                return Err(mismatch("TransferToNew", format!("new account id {} but the next free id is {to}", o.to)));
            }
            plan.credit(to, o.to_sub, o.token, o.amount)?;
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.token, o.fee)?;
            Ok(())
        }
        Op::Withdraw(o) => {
            network.check_chain(o.chain_id)?;
            let nonce = stated_nonce(plan, "Withdraw", o.account_id, o.nonce)?;
            let reserve = TokenMapping::new(o.l1_token, o.l2_token)?.reserve;
            let total = o.amount.checked_add(o.fee).ok_or(TxError::ArithmeticOverflow("amount + fee"))?;
            plan.debit(o.account_id, o.sub_account_id, o.l2_token, total)?;
            plan.bump_nonce(o.account_id, nonce)?;
            plan.debit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.l2_token, o.fee)?;
            Ok(())
        }
        Op::FullExit(o) => {
            network.check_chain(o.chain_id)?;
            if o.amount > 0 {
                let reserve = TokenMapping::new(o.l1_token, o.l2_token)?.reserve;
                let owner = header(plan.state(), o.account_id)?.address;
                if owner != o.owner {
                    return Err(mismatch(
                        "FullExit",
                        format!("owner {} but account {} is {owner}", o.owner, o.account_id),
                    ));
                }
                plan.debit(o.account_id, o.sub_account_id, o.l2_token, o.amount)?;
                plan.debit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            }
            Ok(())
        }
        Op::ChangePubKey(o) => {
            network.check_chain(o.chain_id)?;
            let account = header(plan.state(), o.account_id)?;
            if account.address != o.owner {
                return Err(mismatch(
                    "ChangePubKey",
                    format!("owner {} but account {} is {}", o.owner, o.account_id, account.address),
                ));
            }
            let nonce = stated_nonce(plan, "ChangePubKey", o.account_id, o.nonce)?;
            plan.debit(o.account_id, o.sub_account_id, o.fee_token, o.fee)?;
            plan.set_pubkey_hash(o.account_id, account.pubkey_hash, o.new_pk_hash);
            plan.bump_nonce(o.account_id, nonce)?;
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.fee_token, o.fee)?;
            Ok(())
        }
        Op::ForcedExit(o) => {
            network.check_chain(o.chain_id)?;
            let nonce = account_nonce(plan, o.initiator)?;
            let target = header(plan.state(), o.target)?.address;
            if target != o.target_address {
                return Err(mismatch(
                    "ForcedExit",
                    format!("target {} but account {} is {target}", o.target_address, o.target),
                ));
            }
            let reserve = TokenMapping::new(o.l1_token, o.l2_token)?.reserve;
            plan.debit(o.initiator, o.initiator_sub, o.fee_token, o.fee)?;
            plan.bump_nonce(o.initiator, nonce)?;
            plan.debit(o.target, o.target_sub, o.l2_token, o.amount)?;
            plan.debit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.fee_token, o.fee)?;
            Ok(())
        }
        Op::OrderMatching(o) => order_matching(plan, o),
        Op::CancelOrder(o) => {
            let nonce = account_nonce(plan, o.account_id)?;
            let old = plan.state().order_slot(o.account_id, o.sub_account_id, o.slot_id);
            let next = cancelled_slot(&old, o.order_nonce).ok_or_else(|| {
                mismatch(
                    "CancelOrder",
                    format!(
                        "cancel up to order nonce {} in slot {} of account {}, which holds nonce {}",
                        o.order_nonce.0, o.slot_id.0, o.account_id, old.nonce.0
                    ),
                )
            })?;
            plan.debit(o.account_id, o.sub_account_id, o.fee_token, o.fee)?;
            plan.bump_nonce(o.account_id, nonce)?;
            plan.set_order_slot(o.account_id, o.sub_account_id, o.slot_id, old, next);
            plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.fee_token, o.fee)?;
            Ok(())
        }
        Op::CreatePool(o) => create_pool(plan, network, o),
        Op::AddLiquidity(o) => add_liquidity(plan, o),
        Op::RemoveLiquidity(o) => remove_liquidity(plan, o),
        Op::Swap(o) => swap(plan, o),
    }
}

/// The account `id`, created for `owner` if it is the next free id; its address must be `owner`.
fn existing_or_new(
    plan: &mut Plan<'_>,
    op: &'static str,
    id: AccountId,
    owner: Address,
) -> Result<AccountId, ReplayError> {
    if let Some(account) = plan.state().account(id) {
        if account.address != owner {
            return Err(mismatch(op, format!("owner {owner} but account {id} is {}", account.address)));
        }
        return Ok(id);
    }
    if let Some(other) = plan.state().account_id_by_address(&owner) {
        return Err(mismatch(op, format!("account {id} for {owner}, who already has account {other}")));
    }
    let created = plan.create_account(owner)?;
    if created != id {
        return Err(mismatch(op, format!("new account id {id} but the next free id is {created}")));
    }
    Ok(id)
}

fn account_nonce(plan: &Plan<'_>, id: AccountId) -> Result<Nonce, ReplayError> {
    Ok(header(plan.state(), id)?.nonce)
}

/// The account's nonce, which must be the one the op says it used.
fn stated_nonce(plan: &Plan<'_>, op: &'static str, id: AccountId, stated: Nonce) -> Result<Nonce, ReplayError> {
    let nonce = account_nonce(plan, id)?;
    if nonce != stated {
        return Err(mismatch(op, format!("nonce {stated} but account {id} is at {nonce}")));
    }
    Ok(nonce)
}

/// The sender's side of a transfer: amount + fee debited, nonce bumped.
fn transfer(
    plan: &mut Plan<'_>,
    from: AccountId,
    sub: SubAccountId,
    token: zklink_types::TokenId,
    amount: u128,
    fee: u128,
    nonce: Nonce,
) -> Result<(), ReplayError> {
    let total = amount.checked_add(fee).ok_or(TxError::ArithmeticOverflow("amount + fee"))?;
    plan.debit(from, sub, token, total)?;
    plan.bump_nonce(from, nonce)?;
    Ok(())
}

/// The slot before and after a fill of `base`, by the slot rule of the order-matching handler.
fn fill_slot(
    plan: &Plan<'_>,
    sub: SubAccountId,
    fill: &OrderFill,
    base: u128,
) -> Result<(OrderSlot, OrderSlot), ReplayError> {
    let old = plan.state().order_slot(fill.account_id, sub, fill.slot_id);
    let available = if old.residue != 0 && fill.nonce == old.nonce {
        old.residue
    } else if (old.residue != 0 && fill.nonce.0 == old.nonce.0 + 1) || (old.residue == 0 && fill.nonce == old.nonce) {
        fill.amount
    } else {
        return Err(mismatch(
            "OrderMatching",
            format!(
                "order nonce {} in slot {} of account {}, which holds nonce {} with residue {}",
                fill.nonce.0, fill.slot_id.0, fill.account_id, old.nonce.0, old.residue
            ),
        ));
    };
    let residue = available.checked_sub(base).ok_or_else(|| {
        mismatch(
            "OrderMatching",
            format!("fill {base} exceeds the {available} left of account {}'s order", fill.account_id),
        )
    })?;
    let new = if residue > 0 {
        OrderSlot { nonce: fill.nonce, residue }
    } else {
        OrderSlot { nonce: OrderNonce(fill.nonce.0 + 1), residue: 0 }
    };
    Ok((old, new))
}

fn order_matching(plan: &mut Plan<'_>, o: &OrderMatchingOp) -> Result<(), ReplayError> {
    let submitter_nonce = account_nonce(plan, o.submitter)?;
    let (maker, taker, sub) = (&o.maker, &o.taker, o.sub_account_id);
    let base = o.base_amount;
    let FillSettlement {
        maker_sell_token: sell_token,
        maker_buy_token: buy_token,
        maker_gives,
        maker_gets,
        maker_fee,
        taker_fee,
    } = o.settlement();
    let (maker_old, maker_new) = fill_slot(plan, sub, maker, base)?;
    let (taker_old, taker_new) = fill_slot(plan, sub, taker, base)?;

    plan.debit(maker.account_id, sub, sell_token, maker_gives)?;
    plan.credit(maker.account_id, sub, buy_token, maker_gets - maker_fee)?;
    plan.set_order_slot(maker.account_id, sub, maker.slot_id, maker_old, maker_new);
    plan.debit(taker.account_id, sub, buy_token, maker_gets)?;
    plan.credit(taker.account_id, sub, sell_token, maker_gives - taker_fee)?;
    plan.set_order_slot(taker.account_id, sub, taker.slot_id, taker_old, taker_new);
    plan.credit(o.submitter, sub, buy_token, maker_fee)?;
    plan.credit(o.submitter, sub, sell_token, taker_fee)?;
    plan.debit(o.submitter, sub, o.fee_token, o.fee)?;
    plan.bump_nonce(o.submitter, submitter_nonce)?;
    plan.credit(FEE_ACCOUNT_ID, SubAccountId::default(), o.fee_token, o.fee)?;
    Ok(())
}

/// A pool fact the op states, checked by the handlers' definition: its failure is a mismatch.
fn fact<T>(op: &'static str, checked: Result<T, TxError>) -> Result<T, ReplayError> {
    checked.map_err(|e| mismatch(op, e.to_string()))
}

/// The pool the op names, with its reserves; a mismatch if the account is not a pool.
fn pool_of(plan: &Plan<'_>, op: &'static str, id: AccountId) -> Result<(PoolParams, Reserves), ReplayError> {
    fact(op, pools::pool_at(plan, id))
}

fn create_pool(plan: &mut Plan<'_>, network: &Network, o: &CreatePoolOp) -> Result<(), ReplayError> {
    const OP: &str = "CreatePool";
    let nonce = account_nonce(plan, o.account_id)?;
    fact(OP, o.params.check())?;
    fact(OP, pools::check_lp_free(plan, &network.preset, o.params.lp_token))?;
    let address = o.params.address();
    if let Some(existing) = plan.state().account_id_by_address(&address) {
        return Err(mismatch(OP, format!("pool {} for {address}, which account {existing} has", o.pool)));
    }
    let pool = pools::plan_create(plan, (o.account_id, o.sub_account_id, nonce), o.fee_token, o.fee, &o.params)?;
    if pool != o.pool {
        return Err(mismatch(OP, format!("new pool id {} but the next free id is {pool}", o.pool)));
    }
    Ok(())
}

fn add_liquidity(plan: &mut Plan<'_>, o: &AddLiquidityOp) -> Result<(), ReplayError> {
    const OP: &str = "AddLiquidity";
    let nonce = account_nonce(plan, o.account_id)?;
    let (p, r) = pool_of(plan, OP, o.pool)?;
    if o.token_a != p.token_a {
        return Err(mismatch(OP, format!("first token {} but pool {} has {}", o.token_a, o.pool, p.token_a)));
    }
    let minted = fact(OP, pools::check_stated_add(&r, o.amount_a, o.amount_b, o.shares))?;
    pools::plan_add(plan, o, &p, nonce, minted)?;
    Ok(())
}

fn remove_liquidity(plan: &mut Plan<'_>, o: &RemoveLiquidityOp) -> Result<(), ReplayError> {
    const OP: &str = "RemoveLiquidity";
    let nonce = account_nonce(plan, o.account_id)?;
    let (p, r) = pool_of(plan, OP, o.pool)?;
    if o.token_a != p.token_a {
        return Err(mismatch(OP, format!("first token {} but pool {} has {}", o.token_a, o.pool, p.token_a)));
    }
    fact(OP, pools::check_stated_remove(&r, o.shares, o.amount_a, o.amount_b, o.fee))?;
    pools::plan_remove(plan, o, &p, nonce)?;
    Ok(())
}

fn swap(plan: &mut Plan<'_>, o: &SwapOp) -> Result<(), ReplayError> {
    const OP: &str = "Swap";
    let nonce = account_nonce(plan, o.account_id)?;
    let (p, r) = pool_of(plan, OP, o.pool)?;
    let token_out = fact(OP, pools::token_out(&p, o.token_in))?;
    if (o.fee_bps, o.protocol_share) != (p.fee_bps, p.protocol_share) {
        return Err(mismatch(
            OP,
            format!(
                "fee {} bps with a {} % protocol share, but pool {} has {} bps and {} %",
                o.fee_bps, o.protocol_share, o.pool, p.fee_bps, p.protocol_share
            ),
        ));
    }
    let (r_in, r_out) = pools::swap_reserves(&p, &r, o.token_in);
    fact(OP, pools::check_stated_swap(&p, r_in, r_out, o.amount_in, o.amount_out))?;
    pools::plan_swap(plan, o, token_out, nonce)?;
    Ok(())
}
