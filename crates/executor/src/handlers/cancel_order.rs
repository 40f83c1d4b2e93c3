use zklink_state::OrderSlot;
use zklink_types::op::CancelOrderOp;
use zklink_types::{CancelOrder, Network, Op, OrderNonce, PubKeyHash, TxError, FEE_ACCOUNT_ID};

use super::{check_nonce, signing_account};
use crate::plan::Plan;

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
    if t.order_nonce < old.nonce {
        return Err(TxError::CancelBelowSlot {
            account: t.account_id,
            slot: t.slot_id,
            slot_nonce: old.nonce,
            got: t.order_nonce,
        });
    }
    plan.debit(t.account_id, t.sub_account_id, t.fee_token, t.fee)?;
    plan.bump_nonce(t.account_id, owner.nonce)?;
    // `validate` keeps the order nonce below the 24-bit maximum, so its successor fits.
    let next = OrderSlot { nonce: OrderNonce(t.order_nonce.0 + 1), residue: 0 };
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
