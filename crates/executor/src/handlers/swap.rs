use zklink_types::op::SwapOp;
use zklink_types::pool;
use zklink_types::{Network, Op, PubKeyHash, Swap, TxError};

use super::pool::{check_swap_cap, open_trade, plan_swap, swap_reserves, token_out, PoolTrade};
use crate::plan::Plan;

/// Swaps against a pool in a block with timestamp `timestamp` (Unix seconds), which the tx's
/// window must hold: exact in (`amount` in, at least `limit` out) or exact out (`amount` out, at
/// most `limit` in). The swap fee stays in the pool but for the protocol's share, which goes to
/// account 0 with the network fee, both in the input token.
pub fn swap(
    plan: &mut Plan<'_>,
    network: &Network,
    t: &Swap,
    signer: &PubKeyHash,
    timestamp: u64,
) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let trade = PoolTrade {
        account: t.account_id,
        nonce: t.nonce,
        pool: t.pool,
        window: (t.valid_from, t.valid_until),
        fee_token: None,
    };
    let (nonce, p, r) = open_trade(plan, signer, trade, timestamp)?;
    let token_out = token_out(&p, t.token_in)?;
    let (r_in, r_out) = swap_reserves(&p, &r, t.token_in);
    let amounts = if t.exact_out {
        let amounts = pool::swap_exact_out(&p, r_in, r_out, t.amount)?;
        if amounts.amount_in > t.limit {
            return Err(TxError::PoolLimit {
                what: "swap input above the signed maximum",
                got: amounts.amount_in,
                limit: t.limit,
            });
        }
        amounts
    } else {
        let amounts = pool::swap_exact_in(&p, r_in, r_out, t.amount)?;
        if amounts.amount_out < t.limit {
            return Err(TxError::PoolLimit {
                what: "swap output below the signed minimum",
                got: amounts.amount_out,
                limit: t.limit,
            });
        }
        amounts
    };
    check_swap_cap(r_in, &amounts)?;
    let op = SwapOp {
        account_id: t.account_id,
        sub_account_id: t.sub_account_id,
        pool: t.pool,
        token_in: t.token_in,
        amount_in: amounts.amount_in,
        amount_out: amounts.amount_out,
        fee: t.fee,
        fee_bps: p.fee_bps,
        protocol_share: p.protocol_share,
    };
    plan_swap(plan, &op, token_out, nonce)?;
    Ok(Op::Swap(op))
}
