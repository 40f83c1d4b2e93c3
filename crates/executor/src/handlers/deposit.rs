use zklink_types::op::DepositOp;
use zklink_types::{Deposit, Network, Op, TokenMapping, TxError, GLOBAL_ASSET_ACCOUNT_ID, GLOBAL_ASSET_ADDRESS};

use super::check_not_reserved;
use crate::plan::Plan;

/// Credits the receiver (created if new) and the chain's reserve in account 1.
pub fn deposit(plan: &mut Plan<'_>, network: &Network, d: &Deposit) -> Result<Op, TxError> {
    let preset = &network.preset;
    network.check_chain(d.chain_id)?;
    preset.check_sub_account(d.sub_account_id)?;
    let mapping = TokenMapping::new(d.l1_token, d.l2_token)?;
    preset.check_token(d.l1_token)?;
    network.token_on_chain(d.l1_token, d.chain_id)?;
    if d.amount == 0 {
        return Err(TxError::ZeroAmount);
    }
    if d.to.is_zero() || d.to == GLOBAL_ASSET_ADDRESS {
        return Err(TxError::InvalidAddress("deposits cannot credit the zero address or the global asset account"));
    }
    check_not_reserved(&d.to)?;
    let account = match plan.state().account_id_by_address(&d.to) {
        Some(id) => id,
        None => plan.create_account(d.to)?,
    };
    plan.credit(account, d.sub_account_id, mapping.l2_token, d.amount)?;
    plan.credit(GLOBAL_ASSET_ACCOUNT_ID, d.chain_id.as_sub_account(), mapping.reserve, d.amount)?;
    Ok(Op::Deposit(DepositOp {
        chain_id: d.chain_id,
        account_id: account,
        sub_account_id: d.sub_account_id,
        l1_token: d.l1_token,
        l2_token: d.l2_token,
        amount: d.amount,
        owner: d.to,
    }))
}
