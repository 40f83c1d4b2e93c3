use zklink_types::op::RemoveLiquidityOp;
use zklink_types::pool;
use zklink_types::pool_tx::check_valid_at;
use zklink_types::{Network, Op, PoolKind, PubKeyHash, RemoveLiquidity, TxError};

use super::pool::{plan_remove, pool_at};
use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// Removes liquidity in a block with timestamp `timestamp` (Unix seconds), which the tx's window
/// must hold: burns `shares` for at least `min_a` and `min_b`; the fee is paid out of the first
/// token received.
pub fn remove_liquidity(
    plan: &mut Plan<'_>,
    network: &Network,
    t: &RemoveLiquidity,
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
    let (a, b) = pool::remove_liquidity(&r, t.shares)?;
    if a < t.min_a {
        return Err(TxError::PoolLimit {
            what: "first token received below the signed minimum",
            got: a,
            limit: t.min_a,
        });
    }
    if b < t.min_b {
        return Err(TxError::PoolLimit {
            what: "second token received below the signed minimum",
            got: b,
            limit: t.min_b,
        });
    }
    let op = RemoveLiquidityOp {
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        pool: t.pool,
        token_a: p.token_a,
        shares: t.shares,
        amount_a: a,
        amount_b: b,
        fee: t.fee,
    };
    // The fee is checked against `a` first thing (`check_remove_fee`).
    plan_remove(plan, &op, &p, provider.nonce)?;
    Ok(Op::RemoveLiquidity(op))
}
