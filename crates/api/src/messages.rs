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
