use zklink_types::op::RemoveLiquidityOp;
use zklink_types::pool;
use zklink_types::{Network, Op, PubKeyHash, RemoveLiquidity, TxError};

use super::pool::{open_trade, plan_remove, PoolTrade};
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
    let trade = PoolTrade {
        account: t.account_id,
        nonce: t.nonce,
        pool: t.pool,
        window: (t.valid_from, t.valid_until),
        fee_token: Some(t.fee_token),
    };
    let (nonce, p, r) = open_trade(plan, signer, trade, timestamp)?;
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
    plan_remove(plan, &op, &p, nonce)?;
    Ok(Op::RemoveLiquidity(op))
}
