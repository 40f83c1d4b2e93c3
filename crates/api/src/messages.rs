//! Refusals in the user's terms: the node's fee and submission errors rendered with the
//! network's symbols and whole-token amounts; tx rule errors through
//! [`zklink_types::describe`], shared with the node's recorded failures.

use zklink_node::{FeeError, SubmitError};
pub use zklink_types::describe::{amount, named, tx_error, TxTokens};
use zklink_types::{Network, TokenId};

/// A fee refusal with amounts in USD.
pub fn fee_error(e: &FeeError, network: &Network) -> String {
    let usd = Some(zklink_types::USD_TOKEN_ID);
    match e {
        FeeError::TooLow { kind, required, offered } => format!(
            "the fee {} is below the {} a {kind} must pay",
            amount(network, *offered, usd),
            amount(network, *required, usd)
        ),
        FeeError::Token(t) => {
            format!("fees are paid in USD (token 1) on this node, not in {}", named(network, TokenId(*t)))
        }
    }
}

/// A refused submission as the API's error message.
pub fn submit_error(e: &SubmitError, network: &Network, tokens: &TxTokens) -> String {
    match e {
        SubmitError::Rejected(e) => format!("rejected: {}", tx_error(e, network, tokens)),
        SubmitError::Fee(e) => format!("rejected: {}", fee_error(e, network)),
        other => other.to_string(),
    }
}

/// A pool method's refusal: what was wrong and what was expected, tokens by symbol and amounts in
/// whole tokens.
pub fn pool_error(e: &crate::pools::PoolError, network: &Network) -> String {
    use crate::pools::PoolError;
    match e {
        PoolError::NotAPool { id, pools } if pools.is_empty() => {
            format!("expected a pool's account id: account {id} is not a pool, and there are no pools yet")
        }
        PoolError::NotAPool { id, pools } => {
            let list: Vec<String> = pools.iter().map(|(p, pair)| format!("{p} ({pair})")).collect();
            format!("expected a pool's account id: account {id} is not a pool; the pools are {}", list.join(", "))
        }
        PoolError::NotInPool { pool, token } => format!(
            "expected one of pool {}'s tokens, {} or {}: not {}",
            pool.pool,
            named(network, TokenId(pool.token_a)),
            named(network, TokenId(pool.token_b)),
            named(network, TokenId(*token))
        ),
        PoolError::Rejected { pool, source, token } => {
            let tokens = TxTokens { amount: *token, fee: *token, ..TxTokens::default() };
            format!("rejected: {} ({})", tx_error(source, network, &tokens), holdings(network, pool))
        }
        PoolError::Fee(f) => format!("{}: a Swap pays its network fee in its input token", fee_error(f, network)),
    }
}

/// "pool 6 (USD/WETH) holds 1000 USD and 0.3 WETH, 17.32 shares".
pub fn holdings(network: &Network, p: &zklink_types::api::PoolView) -> String {
    format!(
        "pool {} ({}) holds {} and {}, {} shares",
        p.pool,
        p.pair(),
        amount(network, p.reserve_a, Some(TokenId(p.token_a))),
        amount(network, p.reserve_b, Some(TokenId(p.token_b))),
        amount(network, p.supply, None)
    )
}
