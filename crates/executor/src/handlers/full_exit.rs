use zklink_types::op::FullExitOp;
use zklink_types::{FullExit, Network, Op, TokenMapping, TxError, GLOBAL_ASSET_ACCOUNT_ID};

use super::l1_unit;
use crate::plan::Plan;

/// Exits the whole balance of one (sub-account, token), capped by the chain's reserve and
/// rounded down to the L1 token's precision. A priority request is never rejected: an invalid
/// one (wrong owner, unknown account or token) is included with amount 0.
pub fn full_exit(plan: &mut Plan<'_>, network: &Network, f: &FullExit) -> Result<Op, TxError> {
    network.check_chain(f.chain_id)?;
    let amount = exit_amount(plan, network, f).unwrap_or(0);
    if amount > 0 {
        // Both debits are within the balances just read.
        let mapping = TokenMapping::new(f.l1_token, f.l2_token)?;
        plan.debit(f.account_id, f.sub_account_id, f.l2_token, amount)?;
        plan.debit(GLOBAL_ASSET_ACCOUNT_ID, f.chain_id.as_sub_account(), mapping.reserve, amount)?;
    }
    Ok(Op::FullExit(FullExitOp {
        chain_id: f.chain_id,
        account_id: f.account_id,
        sub_account_id: f.sub_account_id,
        l1_token: f.l1_token,
        l2_token: f.l2_token,
        amount,
        owner: f.owner,
    }))
}

fn exit_amount(plan: &Plan<'_>, network: &Network, f: &FullExit) -> Result<u128, TxError> {
    let preset = &network.preset;
    preset.check_account(f.account_id)?;
    preset.check_sub_account(f.sub_account_id)?;
    preset.check_token(f.l1_token)?;
    let mapping = TokenMapping::new(f.l1_token, f.l2_token)?;
    if f.account_id == GLOBAL_ASSET_ACCOUNT_ID {
        return Ok(0);
    }
    let owner = plan.state().account(f.account_id).ok_or(TxError::AccountNotFound(f.account_id))?.address;
    if owner != f.owner {
        return Ok(0);
    }
    let unit = l1_unit(network, f.l1_token, f.chain_id)?;
    let balance = plan.balance(f.account_id, f.sub_account_id, f.l2_token);
    let reserve = plan.balance(GLOBAL_ASSET_ACCOUNT_ID, f.chain_id.as_sub_account(), mapping.reserve);
    Ok(balance.min(reserve) / unit * unit)
}
