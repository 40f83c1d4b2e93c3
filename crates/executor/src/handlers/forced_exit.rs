use zklink_types::op::ForcedExitOp;
use zklink_types::{
    ForcedExit, Network, Op, PubKeyHash, TokenMapping, TxError, FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID,
};

use super::{check_nonce, check_not_reserved, header, l1_unit, signing_account};
use crate::plan::Plan;

/// Withdraws a keyless account's whole balance (rounded down to L1 precision) to its own
/// address on the chosen chain; the initiator signs and pays the fee.
pub fn forced_exit(plan: &mut Plan<'_>, network: &Network, t: &ForcedExit, signer: &PubKeyHash) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    // A pool has no key, but its reserves belong to its LPs.
    check_not_reserved(&t.target)?;
    network.check_chain(t.to_chain_id)?;
    let mapping = TokenMapping::new(t.l1_target_token, t.l2_source_token)?;
    let unit = l1_unit(network, t.l1_target_token, t.to_chain_id)?;
    let initiator = signing_account(plan.state(), t.initiator_account_id, signer)?;
    check_nonce(t.initiator_account_id, initiator.nonce, t.nonce)?;
    let target = plan
        .state()
        .account_id_by_address(&t.target)
        .ok_or(TxError::InvalidAddress("the forced-exit target has no account"))?;
    if header(plan.state(), target)?.pubkey_hash != PubKeyHash::default() {
        return Err(TxError::TargetHasKey(target));
    }
    let amount = plan.balance(target, t.target_sub_account_id, t.l2_source_token) / unit * unit;
    if amount == 0 {
        return Err(TxError::NothingToExit);
    }
    let reserve_sub = t.to_chain_id.as_sub_account();
    let available = plan.balance(GLOBAL_ASSET_ACCOUNT_ID, reserve_sub, mapping.reserve);
    if available < amount {
        return Err(TxError::InsufficientReserve {
            chain: t.to_chain_id,
            reserve: mapping.reserve,
            available,
            required: amount,
        });
    }
    plan.debit(t.initiator_account_id, t.initiator_sub_account_id, t.fee_token, t.fee)?;
    plan.bump_nonce(t.initiator_account_id, initiator.nonce)?;
    plan.debit(target, t.target_sub_account_id, t.l2_source_token, amount)?;
    plan.debit(GLOBAL_ASSET_ACCOUNT_ID, reserve_sub, mapping.reserve, amount)?;
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.fee_token, t.fee)?;
    Ok(Op::ForcedExit(ForcedExitOp {
        chain_id: t.to_chain_id,
        initiator: t.initiator_account_id,
        initiator_sub: t.initiator_sub_account_id,
        target,
        target_sub: t.target_sub_account_id,
        l1_token: t.l1_target_token,
        l2_token: t.l2_source_token,
        fee_token: t.fee_token,
        fee: t.fee,
        amount,
        target_address: t.target,
    }))
}
