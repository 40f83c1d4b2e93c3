use zklink_types::op::CreatePoolOp;
use zklink_types::{CreatePool, Network, Op, PoolKind, PubKeyHash, TxError};

use super::pool::{next_lp_token, plan_create, same_pool};
use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// Creates a constant-product pool: a new account at the next free id whose address encodes the
/// parameters with the next free LP token, registered under that token in account 1's
/// sub-account 0; the creator pays the fee to account 0.
pub fn create_pool(plan: &mut Plan<'_>, network: &Network, t: &CreatePool, signer: &PubKeyHash) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let creator = signing_account(plan.state(), t.account_id, signer)?;
    check_nonce(t.account_id, creator.nonce, t.nonce)?;
    if t.kind == PoolKind::Stable {
        return Err(TxError::PoolKindUnsupported(t.kind.name()));
    }
    let lp = next_lp_token(plan, &network.preset)?;
    let params = t.params(lp);
    let taken = plan.state().account_id_by_address(&params.address());
    if let Some(existing) = same_pool(plan, &params).or(taken) {
        return Err(TxError::PoolExists(existing));
    }
    let pool = plan_create(plan, (t.account_id, t.sub_account_id, creator.nonce), t.fee_token, t.fee, &params)?;
    Ok(Op::CreatePool(CreatePoolOp {
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        fee_token: t.fee_token,
        fee: t.fee,
        pool,
        params,
    }))
}
