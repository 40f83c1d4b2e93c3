//! Refusals in the user's terms: tokens named by their symbol on the network (`USDC`, `USD`) and
//! amounts in whole tokens ("3.5"), not ids and raw 18-decimal integers.
//!
//! [`TxError`] carries ids and L2 units; [`tx_error`] renders it with the network's symbols,
//! taking from the refused tx ([`TxTokens`]) the tokens an error does not name (the token of an
//! amount that cannot be packed, say). The API's refusals and the node's recorded failures of
//! queued txs both use it.

use crate::amount::{format_units, L2_DECIMALS};
use crate::{L2Tx, Network, TokenId, TxError, USD_RESERVE_OFFSET, USD_RESERVE_RANGE};

/// The tokens a tx moves, to name them in its refusal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxTokens {
    /// The token of the tx's amount (a transfer's token, a withdrawal's L2 token).
    pub amount: Option<TokenId>,
    /// The token the fee is paid in.
    pub fee: Option<TokenId>,
    /// The token paid on L1 (withdrawals, forced exits).
    pub l1: Option<TokenId>,
    /// An order matching's base token.
    pub base: Option<TokenId>,
    /// An order matching's quote token.
    pub quote: Option<TokenId>,
}

impl TxTokens {
    /// The tokens `tx` moves.
    pub fn of(tx: &L2Tx) -> Self {
        let fee = Some(tx.fee().0);
        match tx {
            L2Tx::ChangePubKey(_) => Self { fee, ..Self::default() },
            L2Tx::Transfer(t) => Self { amount: Some(t.token), fee, ..Self::default() },
            L2Tx::Withdraw(t) => {
                Self { amount: Some(t.l2_source_token), fee, l1: Some(t.l1_target_token), ..Self::default() }
            }
            L2Tx::ForcedExit(t) => {
                Self { amount: Some(t.l2_source_token), fee, l1: Some(t.l1_target_token), ..Self::default() }
            }
            L2Tx::OrderMatching(m) => Self {
                amount: Some(m.maker.base_token),
                fee,
                base: Some(m.maker.base_token),
                quote: Some(m.maker.quote_token),
                ..Self::default()
            },
            L2Tx::CancelOrder(_) | L2Tx::CreatePool(_) | L2Tx::AddLiquidity(_) | L2Tx::RemoveLiquidity(_) => {
                Self { fee, ..Self::default() }
            }
            L2Tx::Swap(t) => Self { amount: Some(t.token_in), fee, ..Self::default() },
        }
    }
}

/// `amount` (L2 units) in whole tokens with `token`'s symbol, e.g. "3.5 USDC"; without a token,
/// the number alone.
pub fn amount(network: &Network, amount: u128, token: Option<TokenId>) -> String {
    let number = format_units(amount, L2_DECIMALS);
    match token {
        Some(t) => format!("{number} {}", network.symbol(t)),
        None => number,
    }
}

/// `token`'s symbol with its id, e.g. "USDC (token 17)".
pub fn named(network: &Network, token: TokenId) -> String {
    let symbol = network.symbol(token);
    if symbol == format!("token {token}") {
        symbol
    } else {
        format!("{symbol} (token {token})")
    }
}

/// What a USD reserve id pays out as (2..=16: the stablecoin 15 ids up), else the id itself.
fn paid_as(reserve: TokenId) -> TokenId {
    if USD_RESERVE_RANGE.contains(&reserve.0) {
        TokenId(reserve.0 + USD_RESERVE_OFFSET)
    } else {
        reserve
    }
}

/// `e` with tokens by symbol and amounts in whole tokens; `tokens` names what `e` leaves out.
pub fn tx_error(e: &TxError, network: &Network, tokens: &TxTokens) -> String {
    let units = |value: u128, token: Option<TokenId>| amount(network, value, token);
    match e {
        TxError::NotPackable { value, format, below, above } => {
            let is_fee = format.starts_with("fee");
            let token = if is_fee { tokens.fee } else { tokens.amount };
            let what = if is_fee { "fee" } else { "amount" };
            let shape = format.split_once(' ').map_or(*format, |(_, shape)| shape);
            let below = units(*below, token);
            let nearest = match above {
                Some(above) => format!("the nearest packable {what}s are {below} and {}", units(*above, token)),
                None => format!("the largest packable {what} is {below}"),
            };
            format!("the {what} {} cannot be packed {shape}: {nearest}", units(*value, token))
        }
        TxError::AmountBelowL1Precision { amount, decimals, chain, unit } => {
            let l1 = tokens.l1.map_or_else(|| "the L1 token".into(), |t| network.symbol(t));
            format!(
                "{} has more decimals than {l1} has on chain {chain} ({decimals}): the amount must be a multiple of {}",
                units(*amount, tokens.amount),
                units(*unit, tokens.amount)
            )
        }
        TxError::InsufficientBalance { account, sub, token, available, required } => format!(
            "insufficient balance: account {account} sub-account {sub} has {}, needs {}",
            units(*available, Some(*token)),
            units(*required, Some(*token))
        ),
        TxError::BalanceOverflow { account, sub, token } => format!(
            "balance overflow: account {account} sub-account {sub} would hold more than 2^128 - 1 units of {}",
            network.symbol(*token)
        ),
        TxError::InsufficientReserve { chain, reserve, available, required } => {
            let paid = Some(paid_as(*reserve));
            let purpose = if USD_RESERVE_RANGE.contains(&reserve.0) { " for USD withdrawals" } else { "" };
            format!(
                "chain {chain} holds only {} of reserve{purpose}, cannot pay out {}",
                units(*available, paid),
                units(*required, paid)
            )
        }
        TxError::TokenNotOnChain { token, chain } => {
            format!("{} is not listed on chain {chain}", named(network, *token))
        }
        TxError::InvalidToken { token, reason } => format!("{} is not valid here: {reason}", named(network, *token)),
        TxError::InvalidTokenMapping { l1_token, l2_token, reason } => {
            format!("cannot move L2 {} as L1 {}: {reason}", named(network, *l2_token), named(network, *l1_token))
        }
        TxError::ExpectedQuoteExceeded { quote, cap } => format!(
            "the quote amount {} exceeds the submitter's expected quote cap {}",
            units(*quote, tokens.quote),
            units(*cap, tokens.quote)
        ),
        TxError::OrderNonceMismatch { account, slot, slot_nonce, residue, got } => format!(
            "order slot {slot} of account {account}: order nonce {got} is not usable, the slot is at nonce \
             {slot_nonce} with {} open",
            units(*residue, tokens.base)
        ),
        other => other.to_string(),
    }
}
