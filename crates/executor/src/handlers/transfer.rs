use zklink_types::op::{TransferOp, TransferToNewOp};
use zklink_types::{Network, Op, PubKeyHash, Transfer, TxError, FEE_ACCOUNT_ID};

use super::{check_nonce, check_not_reserved, signing_account};
use crate::plan::Plan;

/// Moves `amount` to the account owning `to` (created if new); the fee goes to account 0.
pub fn transfer(plan: &mut Plan<'_>, network: &Network, t: &Transfer, signer: &PubKeyHash) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    // Pools are credited by their own ops only (a transfer could not mint or burn their shares).
    check_not_reserved(&t.to)?;
    let from = signing_account(plan.state(), t.account_id, signer)?;
    check_nonce(t.account_id, from.nonce, t.nonce)?;
    let existing = plan.state().account_id_by_address(&t.to);
    if existing == Some(t.account_id) && t.to_sub_account_id == t.from_sub_account_id {
        return Err(TxError::SelfTransfer);
    }
    let total = t.amount.checked_add(t.fee).ok_or(TxError::ArithmeticOverflow("amount + fee"))?;
    plan.debit(t.account_id, t.from_sub_account_id, t.token, total)?;
    plan.bump_nonce(t.account_id, from.nonce)?;
    let to = match existing {
        Some(id) => id,
        None => plan.create_account(t.to)?,
    };
    plan.credit(to, t.to_sub_account_id, t.token, t.amount)?;
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.token, t.fee)?;
    Ok(if existing.is_some() {
        Op::Transfer(TransferOp {
            from: t.account_id,
            from_sub: t.from_sub_account_id,
            token: t.token,
            to,
            to_sub: t.to_sub_account_id,
            amount: t.amount,
            fee: t.fee,
        })
    } else {
        Op::TransferToNew(TransferToNewOp {
            from: t.account_id,
            from_sub: t.from_sub_account_id,
            token: t.token,
            amount: t.amount,
            to,
            to_sub: t.to_sub_account_id,
            fee: t.fee,
            to_address: t.to,
        })
    })
}
