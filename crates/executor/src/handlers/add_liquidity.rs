use zklink_types::op::AddLiquidityOp;
use zklink_types::pool;
use zklink_types::pool_tx::check_valid_at;
use zklink_types::{AddLiquidity, Network, Op, PoolKind, PubKeyHash, TxError};

use super::pool::{plan_add, pool_at};
use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// Adds liquidity to a pool in a block with timestamp `timestamp` (Unix seconds), which the tx's
/// window must hold: at most `max_a` and `max_b` for at least `min_shares` shares; the fee is paid
/// in the pool's first token.
pub fn add_liquidity(
    plan: &mut Plan<'_>,
    network: &Network,
    t: &AddLiquidity,
    signer: &PubKeyHash,
    timestamp: u64,
) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let provider = signing_account(plan.state(), t.account_id, signer)?;
    check_nonce(t.account_id, provider.nonce, t.nonce)?;
    let (p, r) = pool_at(plan, t.pool)?;
    if t.fee_token != p.token_a {
        return Err(TxError::PoolParams(format!(
            "the fee of a liquidity change is paid in the pool's first token {}, not in token {}",
            p.token_a, t.fee_token
        )));
    }
    check_valid_at(t.valid_from, t.valid_until, timestamp)?;
    if p.kind == PoolKind::Stable {
        return Err(TxError::PoolKindUnsupported(p.kind.name()));
    }
    let amounts = pool::add_liquidity(&r, t.max_a, t.max_b)?;
    if amounts.shares < t.min_shares {
        return Err(TxError::PoolLimit {
            what: "shares below the signed minimum",
            got: amounts.shares,
            limit: t.min_shares,
        });
    }
    let op = AddLiquidityOp {
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        pool: t.pool,
        token_a: p.token_a,
        amount_a: amounts.a,
        amount_b: amounts.b,
        shares: amounts.shares,
        fee: t.fee,
    };
    plan_add(plan, &op, &p, provider.nonce, amounts.minted)?;
    Ok(Op::AddLiquidity(op))
}
