use zklink_state::OrderSlot;
use zklink_types::op::CancelOrderOp;
use zklink_types::{CancelOrder, Network, Op, OrderNonce, PubKeyHash, TxError, FEE_ACCOUNT_ID, MAX_ORDER_NONCE};

use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// The slot after a cancel up to `order_nonce`: `{order_nonce + 1, 0}`, if `order_nonce` is at
/// least the slot's nonce and its successor fits 24 bits.
pub(crate) fn cancelled_slot(old: &OrderSlot, order_nonce: OrderNonce) -> Option<OrderSlot> {
    (old.nonce <= order_nonce && order_nonce.0 < MAX_ORDER_NONCE)
        .then(|| OrderSlot { nonce: OrderNonce(order_nonce.0 + 1), residue: 0 })
}

/// Hard cancel: the slot moves to `{order_nonce + 1, 0}`, so no order of the slot signed with a
/// nonce up to `order_nonce` can be filled again; the owner pays the fee to account 0.
pub fn cancel_order(
    plan: &mut Plan<'_>,
    network: &Network,
    t: &CancelOrder,
    signer: &PubKeyHash,
) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let owner = signing_account(plan.state(), t.account_id, signer)?;
    check_nonce(t.account_id, owner.nonce, t.nonce)?;
    let old = plan.state().order_slot(t.account_id, t.sub_account_id, t.slot_id);
    // `validate` kept the order nonce below the 24-bit maximum: only the slot can refuse it.
    let next = cancelled_slot(&old, t.order_nonce).ok_or(TxError::CancelBelowSlot {
        account: t.account_id,
        slot: t.slot_id,
        slot_nonce: old.nonce,
        got: t.order_nonce,
    })?;
    plan.debit(t.account_id, t.sub_account_id, t.fee_token, t.fee)?;
    plan.bump_nonce(t.account_id, owner.nonce)?;
    plan.set_order_slot(t.account_id, t.sub_account_id, t.slot_id, old, next);
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.fee_token, t.fee)?;
    Ok(Op::CancelOrder(CancelOrderOp {
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        slot_id: t.slot_id,
        order_nonce: t.order_nonce,
        fee_token: t.fee_token,
        fee: t.fee,
    }))
}
