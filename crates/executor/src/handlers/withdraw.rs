use zklink_types::op::WithdrawOp;
use zklink_types::{Network, Op, PubKeyHash, TokenMapping, TxError, Withdraw, FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID};

use super::{check_l1_precision, check_nonce, signing_account};
use crate::plan::Plan;

/// Debits the user (amount + fee in the source token) and the target chain's reserve of the
/// L1 token; rejected if that chain holds too little.
pub fn withdraw(plan: &mut Plan<'_>, network: &Network, t: &Withdraw, signer: &PubKeyHash) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    network.check_chain(t.to_chain_id)?;
    let mapping = TokenMapping::new(t.l1_target_token, t.l2_source_token)?;
    check_l1_precision(network, t.l1_target_token, t.to_chain_id, t.amount)?;
    let account = signing_account(plan.state(), t.account_id, signer)?;
    check_nonce(t.account_id, account.nonce, t.nonce)?;
    let reserve_sub = t.to_chain_id.as_sub_account();
    let available = plan.balance(GLOBAL_ASSET_ACCOUNT_ID, reserve_sub, mapping.reserve);
    if available < t.amount {
        return Err(TxError::InsufficientReserve {
            chain: t.to_chain_id,
            reserve: mapping.reserve,
            available,
            required: t.amount,
        });
    }
    let total = t.amount.checked_add(t.fee).ok_or(TxError::ArithmeticOverflow("amount + fee"))?;
    plan.debit(t.account_id, t.sub_account_id, t.l2_source_token, total)?;
    plan.bump_nonce(t.account_id, account.nonce)?;
    plan.debit(GLOBAL_ASSET_ACCOUNT_ID, reserve_sub, mapping.reserve, t.amount)?;
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.l2_source_token, t.fee)?;
    Ok(Op::Withdraw(WithdrawOp {
        chain_id: t.to_chain_id,
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        l1_token: t.l1_target_token,
        l2_token: t.l2_source_token,
        amount: t.amount,
        fee: t.fee,
        to: t.to,
        nonce: t.nonce,
        fast_withdraw_fee_ratio: t.fast_withdraw_fee_ratio,
    }))
}
