//! The pool methods: every pool with its reserves and price, and quotes of swaps, deposits and
//! removals on the keeper's current state (the open block included).
//!
//! A quote calls the same functions the executor does (`zklink_types::pool`: `swap_exact_in`,
//! `swap_exact_out`, `add_liquidity`, `remove_liquidity`) on the same state, with the executor's
//! checks around them (the pool exists, the token is one of its two, the input reserve stays under
//! the cap), so a tx signed with a quote's amounts and submitted at once executes exactly at them.
//! A quote is refused with the code and reason the tx's submission would get: a malformed param
//! or an account that is not a pool or a token not in it is invalid params, an amount the pool
//! cannot serve is the executor's rejection (`TX_REJECTED`), a fee token the node does not take is
//! `FEE`.

use alloy_primitives::U256;
use zklink_node::{FeeError, NodeHandle};
use zklink_state::State;
use zklink_types::api::{
    LiquidityQuoteView, PoolPriceView, PoolView, QuoteLiquidityRequest, QuoteRemoveRequest, QuoteSwapRequest,
    RemoveQuoteView, SwapQuoteView,
};
use zklink_types::pool::{self, FEE_DENOMINATOR};
use zklink_types::{AccountId, Network, PoolParams, Reserves, TokenId, TxError, TxKind};

/// Prices are integers with this many decimals (10^18 is a price of 1), as orders' prices.
pub const PRICE_DECIMALS: u32 = 18;

/// Why a pool method cannot answer.
#[derive(thiserror::Error, Debug)]
pub enum PoolError {
    /// The account named is not a pool (`pools`: the pools there are, to name in the message).
    #[error("account {id} is not a pool")]
    NotAPool {
        /// The account named.
        id: u32,
        /// The pools: id and pair.
        pools: Vec<(u32, String)>,
    },
    /// The token named is not one of the pool's two.
    #[error("token {token} is not one of pool {}'s tokens", pool.pool)]
    NotInPool {
        /// The pool.
        pool: Box<PoolView>,
        /// The token named.
        token: u16,
    },
    /// The pool cannot do it: the executor would reject the tx for this reason.
    #[error("{source}")]
    Rejected {
        /// The pool as it is now.
        pool: Box<PoolView>,
        /// The executor's reason.
        source: TxError,
        /// The token of the amount given, for the message.
        token: Option<TokenId>,
    },
    /// The node takes no fee in the token a Swap pays its fee in (its input token).
    #[error(transparent)]
    Fee(#[from] FeeError),
}

/// `⌊n · 10^18 / d⌋` as a decimal string; `"0"` if `d` is 0 (a reserve a pool cannot empty).
fn ratio(n: u128, d: u128) -> String {
    let scaled = U256::from(n) * U256::from(10u8).pow(U256::from(PRICE_DECIMALS));
    scaled.checked_div(U256::from(d)).unwrap_or_default().to_string()
}

/// The view of pool `id` with parameters `p` and reserves `r`.
fn view(network: &Network, id: AccountId, p: &PoolParams, r: &Reserves) -> PoolView {
    let price = (r.a != 0 && r.b != 0).then(|| PoolPriceView { b_per_a: ratio(r.b, r.a), a_per_b: ratio(r.a, r.b) });
    PoolView {
        pool: id.0,
        address: p.address(),
        kind: p.kind,
        fee_bps: p.fee_bps,
        protocol_share: p.protocol_share,
        amp: p.amp,
        token_a: p.token_a.0,
        token_b: p.token_b.0,
        lp_token: p.lp_token.0,
        symbol_a: network.symbol(p.token_a),
        symbol_b: network.symbol(p.token_b),
        reserve_a: r.a,
        reserve_b: r.b,
        supply: r.supply,
        price,
    }
}

/// Every pool in `state`.
pub fn pools_in(state: &State, network: &Network) -> Vec<PoolView> {
    state.pools().filter_map(|id| state.pool(id).map(|(p, r)| view(network, id, &p, &r))).collect()
}

/// Every pool in the latest state, in creation order.
pub fn pools(node: &NodeHandle, network: &Network) -> Vec<PoolView> {
    pools_in(node.keeper().state(), network)
}

/// Pool `id` in `state`: its parameters, reserves and view.
fn pool_in(state: &State, network: &Network, id: u32) -> Result<(PoolParams, Reserves, PoolView), PoolError> {
    match state.pool(AccountId(id)) {
        Some((p, r)) => Ok((p, r, view(network, AccountId(id), &p, &r))),
        None => {
            let pools = pools_in(state, network).into_iter().map(|v| (v.pool, v.pair())).collect();
            Err(PoolError::NotAPool { id, pools })
        }
    }
}

/// Pool `id` in the latest state.
pub fn pool(node: &NodeHandle, network: &Network, id: u32) -> Result<PoolView, PoolError> {
    pool_in(node.keeper().state(), network, id).map(|(_, _, v)| v)
}

/// The swap `q` on the keeper's current state, with the node's network fee for it.
pub fn quote_swap(node: &NodeHandle, network: &Network, q: &QuoteSwapRequest) -> Result<SwapQuoteView, PoolError> {
    let keeper = node.keeper();
    let (p, r, v) = pool_in(keeper.state(), network, q.pool)?;
    let token_in = TokenId(q.token_in);
    let Some(token_out) = p.other(token_in) else {
        return Err(PoolError::NotInPool { pool: Box::new(v), token: q.token_in });
    };
    let (r_in, r_out) = if token_in == p.token_a { (r.a, r.b) } else { (r.b, r.a) };
    let given = if q.exact_out { token_out } else { token_in };
    let rejected = |source| PoolError::Rejected { pool: Box::new(v.clone()), source, token: Some(given) };
    if q.amount == 0 {
        return Err(rejected(TxError::ZeroAmount));
    }
    let amounts = if q.exact_out {
        pool::swap_exact_out(&p, r_in, r_out, q.amount)
    } else {
        pool::swap_exact_in(&p, r_in, r_out, q.amount)
    }
    .map_err(rejected)?;
    pool::check_cap(r_in.checked_add(amounts.pool_gets()), "reserve of the input token").map_err(rejected)?;
    let network_fee = keeper.fee_policy().required(TxKind::Swap.max_chunks(), token_in)?;
    drop(keeper);
    let swap_fee = pool::mul_div(amounts.amount_in, u128::from(p.fee_bps), FEE_DENOMINATOR, "swap fee")
        .map_err(|e| PoolError::Rejected { pool: Box::new(v.clone()), source: e, token: Some(token_in) })?;
    // 10^4 · (out / in) / (r_out / r_in), exactly; the impact is what it falls short of 10^4.
    let kept = (U256::from(amounts.amount_out) * U256::from(r_in) * U256::from(FEE_DENOMINATOR))
        .checked_div(U256::from(amounts.amount_in) * U256::from(r_out))
        .unwrap_or_default();
    let impact = U256::from(FEE_DENOMINATOR).saturating_sub(kept);
    Ok(SwapQuoteView {
        pool: q.pool,
        token_in: q.token_in,
        token_out: token_out.0,
        exact_out: q.exact_out,
        amount_in: amounts.amount_in,
        amount_out: amounts.amount_out,
        protocol_fee: amounts.protocol_fee,
        lp_fee: swap_fee - amounts.protocol_fee,
        network_fee,
        spot_price: ratio(r_out, r_in),
        execution_price: ratio(amounts.amount_out, amounts.amount_in),
        price_impact_bps: impact.to::<u32>(),
    })
}

/// An AddLiquidity of at most `q.max_a` and `q.max_b` on the keeper's current state.
pub fn quote_liquidity(
    node: &NodeHandle,
    network: &Network,
    q: &QuoteLiquidityRequest,
) -> Result<LiquidityQuoteView, PoolError> {
    let keeper = node.keeper();
    let (_, r, v) = pool_in(keeper.state(), network, q.pool)?;
    drop(keeper);
    let rejected = |source| PoolError::Rejected { pool: Box::new(v.clone()), source, token: None };
    if q.max_a == 0 || q.max_b == 0 {
        return Err(rejected(TxError::ZeroAmount));
    }
    let added = pool::add_liquidity(&r, q.max_a, q.max_b).map_err(rejected)?;
    Ok(LiquidityQuoteView { pool: q.pool, amount_a: added.a, amount_b: added.b, shares: added.shares })
}

/// A RemoveLiquidity of `q.shares` on the keeper's current state.
pub fn quote_remove(
    node: &NodeHandle,
    network: &Network,
    q: &QuoteRemoveRequest,
) -> Result<RemoveQuoteView, PoolError> {
    let keeper = node.keeper();
    let (p, r, v) = pool_in(keeper.state(), network, q.pool)?;
    drop(keeper);
    let rejected = |source| PoolError::Rejected { pool: Box::new(v.clone()), source, token: Some(p.lp_token) };
    if q.shares == 0 {
        return Err(rejected(TxError::ZeroAmount));
    }
    let (amount_a, amount_b) = pool::remove_liquidity(&r, q.shares).map_err(rejected)?;
    Ok(RemoveQuoteView { pool: q.pool, shares: q.shares, amount_a, amount_b })
}
