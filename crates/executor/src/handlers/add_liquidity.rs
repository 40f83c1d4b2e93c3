use zklink_types::op::AddLiquidityOp;
use zklink_types::pool;
use zklink_types::{AddLiquidity, Network, Op, PubKeyHash, TxError};

use super::pool::{open_trade, plan_add, PoolTrade};
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
    let trade = PoolTrade {
        account: t.account_id,
        nonce: t.nonce,
        pool: t.pool,
        window: (t.valid_from, t.valid_until),
        fee_token: Some(t.fee_token),
    };
    let (nonce, p, r) = open_trade(plan, signer, trade, timestamp)?;
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
    plan_add(plan, &op, &p, nonce, amounts.minted)?;
    Ok(Op::AddLiquidity(op))
}
