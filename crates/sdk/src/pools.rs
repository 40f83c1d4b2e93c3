//! AMM pools from a [`Wallet`]: list them, quote swaps, deposits and removals on the node's
//! current state (`zklink_quoteSwap`, `zklink_quoteLiquidity`, `zklink_quoteRemove`), and sign and
//! submit the pool txs (CreatePool, AddLiquidity, RemoveLiquidity, Swap) with the wallet's L2 key
//! at the account's current nonce.
//!
//! A swap, a deposit or a removal takes a slippage tolerance in basis points and signs its limit
//! from a fresh quote: an exact-in swap receives at least `⌊quoted out · (10^4 − s) / 10^4⌋`, an
//! exact-out swap pays at most `⌈quoted in · (10^4 + s) / 10^4⌉` (the network fee aside), a deposit
//! gets at least the quoted shares less `s`, a removal at least the quoted amounts less `s`. With
//! `s = 0` the tx executes exactly at the quote or is refused. Every pool tx carries a validity
//! window from 0 to now + `valid_for` ([`DEFAULT_POOL_WINDOW`] unless set): a tx the node has not
//! executed by then never executes.

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use zklink_types::api::{
    LiquidityQuoteView, PoolView, QuoteLiquidityRequest, QuoteRemoveRequest, QuoteSwapRequest, RemoveQuoteView,
    SwapQuoteView,
};
use zklink_types::pool::FEE_DENOMINATOR;
use zklink_types::{
    AddLiquidity, CreatePool, L2Tx, PoolKind, RemoveLiquidity, SubAccountId, Swap, TokenId, TxHash, TxSignature,
};

use crate::venue::valid_until_in;
use crate::{check_packable, SdkError, Wallet};

/// How long a pool tx stays valid unless the request says otherwise: 5 minutes.
pub const DEFAULT_POOL_WINDOW: Duration = Duration::from_secs(300);

/// The slippage tolerance unless the request says otherwise: 50 basis points (0.5 %).
pub const DEFAULT_SLIPPAGE_BPS: u16 = 50;

/// The least to accept of a quoted `amount` with a tolerance of `bps` basis points:
/// `⌊amount · (10^4 − bps) / 10^4⌋` (0 from 10^4 bps up).
pub fn min_with_slippage(amount: u128, bps: u16) -> u128 {
    let keep = FEE_DENOMINATOR.saturating_sub(u128::from(bps));
    zklink_types::pool::mul_div(amount, keep, FEE_DENOMINATOR, "slippage").unwrap_or(u128::MAX)
}

/// The most to pay of a quoted `amount` with a tolerance of `bps` basis points:
/// `⌈amount · (10^4 + bps) / 10^4⌉` (at most 2^128 − 1).
pub fn max_with_slippage(amount: u128, bps: u16) -> u128 {
    zklink_types::pool::mul_div_ceil(amount, FEE_DENOMINATOR + u128::from(bps), FEE_DENOMINATOR, "slippage")
        .unwrap_or(u128::MAX)
}

/// A pool to create (constant product: `amp` 0; stable pools are refused until their circuit
/// lands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPool {
    /// The curve.
    pub kind: PoolKind,
    /// Its two tokens, in any order (the tx names the smaller id first).
    pub tokens: (TokenId, TokenId),
    /// The swap fee in basis points (at most 1000).
    pub fee_bps: u16,
    /// The protocol's share of the swap fee in percent (0..=100).
    pub protocol_share: u8,
    /// A stable pool's amplification; 0 for constant product.
    pub amp: u16,
    /// The token the creation fee is paid in.
    pub fee_token: TokenId,
    /// The creation fee (the node's fee for a CreatePool); `None`: the node's estimate.
    pub fee: Option<u128>,
}

impl NewPool {
    /// A constant-product pool of `a` and `b` at `fee_bps`, no protocol share, the fee in USD at
    /// the node's estimate.
    pub fn constant_product(a: TokenId, b: TokenId, fee_bps: u16) -> Self {
        Self {
            kind: PoolKind::ConstantProduct,
            tokens: (a, b),
            fee_bps,
            protocol_share: 0,
            amp: 0,
            fee_token: zklink_types::USD_TOKEN_ID,
            fee: None,
        }
    }
}

/// A swap to sign from a fresh quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapRequest {
    /// The pool's account id.
    pub pool: u32,
    /// The token paid (one of the pool's two); the network fee is paid in it too.
    pub token_in: TokenId,
    /// `false`: `amount` is the exact input; `true`: the exact output.
    pub exact_out: bool,
    /// The exact input or output, L2 units.
    pub amount: u128,
    /// The slippage tolerance in basis points ([`min_with_slippage`], [`max_with_slippage`]).
    pub slippage_bps: u16,
    /// The network fee; `None`: the quote's (`networkFee`, the node's least).
    pub fee: Option<u128>,
    /// The tx is valid until this long from now.
    pub valid_for: Duration,
}

impl SwapRequest {
    /// Pays exactly `amount` of `token_in` into `pool`, at [`DEFAULT_SLIPPAGE_BPS`] and
    /// [`DEFAULT_POOL_WINDOW`].
    pub fn exact_in(pool: u32, token_in: TokenId, amount: u128) -> Self {
        Self {
            pool,
            token_in,
            exact_out: false,
            amount,
            slippage_bps: DEFAULT_SLIPPAGE_BPS,
            fee: None,
            valid_for: DEFAULT_POOL_WINDOW,
        }
    }

    /// Receives exactly `amount` of the pool's other token, paying `token_in`.
    pub fn exact_out(pool: u32, token_in: TokenId, amount: u128) -> Self {
        Self { exact_out: true, ..Self::exact_in(pool, token_in, amount) }
    }

    /// The same with a slippage tolerance of `bps` basis points.
    pub fn slippage_bps(self, bps: u16) -> Self {
        Self { slippage_bps: bps, ..self }
    }
}

/// A submitted swap: the tx as signed, its hash, and the quote its limit came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Swapped {
    /// The signed tx (its `limit` is the quote's amount with the slippage tolerance).
    pub tx: Swap,
    /// Its hash on the node.
    pub tx_hash: TxHash,
    /// The quote.
    pub quote: SwapQuoteView,
}

/// A deposit into a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddLiquidityRequest {
    /// The pool's account id.
    pub pool: u32,
    /// The most of the pool's first token to pay, L2 units.
    pub max_a: u128,
    /// The most of its second token.
    pub max_b: u128,
    /// The fewest shares to accept; `None`: the fresh quote's shares less the slippage tolerance.
    pub min_shares: Option<u128>,
    /// The slippage tolerance in basis points (without `min_shares`).
    pub slippage_bps: u16,
    /// The network fee, in the pool's first token; `None`: the node's estimate.
    pub fee: Option<u128>,
    /// The tx is valid until this long from now.
    pub valid_for: Duration,
}

impl AddLiquidityRequest {
    /// At most `max_a` and `max_b` into `pool`, at [`DEFAULT_SLIPPAGE_BPS`] and
    /// [`DEFAULT_POOL_WINDOW`].
    pub fn new(pool: u32, max_a: u128, max_b: u128) -> Self {
        Self {
            pool,
            max_a,
            max_b,
            min_shares: None,
            slippage_bps: DEFAULT_SLIPPAGE_BPS,
            fee: None,
            valid_for: DEFAULT_POOL_WINDOW,
        }
    }
}

/// A submitted deposit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The signed tx.
    pub tx: AddLiquidity,
    /// Its hash on the node.
    pub tx_hash: TxHash,
    /// The quote it was signed from.
    pub quote: LiquidityQuoteView,
}

/// A removal from a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoveLiquidityRequest {
    /// The pool's account id.
    pub pool: u32,
    /// LP shares to burn, L2 units.
    pub shares: u128,
    /// The least of each token to accept; `None`: the fresh quote's less the slippage tolerance.
    pub min: Option<(u128, u128)>,
    /// The slippage tolerance in basis points (without `min`).
    pub slippage_bps: u16,
    /// The network fee, in the pool's first token and paid out of it; `None`: the node's estimate.
    pub fee: Option<u128>,
    /// The tx is valid until this long from now.
    pub valid_for: Duration,
}

impl RemoveLiquidityRequest {
    /// Burns `shares` of `pool`, at [`DEFAULT_SLIPPAGE_BPS`] and [`DEFAULT_POOL_WINDOW`].
    pub fn new(pool: u32, shares: u128) -> Self {
        Self { pool, shares, min: None, slippage_bps: DEFAULT_SLIPPAGE_BPS, fee: None, valid_for: DEFAULT_POOL_WINDOW }
    }
}

/// A submitted removal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    /// The signed tx.
    pub tx: RemoveLiquidity,
    /// Its hash on the node.
    pub tx_hash: TxHash,
    /// The quote it was signed from.
    pub quote: RemoveQuoteView,
}

/// `(0, now + valid_for)`: a pool tx's window.
fn window(valid_for: Duration) -> Result<(u32, u32), SdkError> {
    Ok((0, valid_until_in(valid_for)?))
}

impl Wallet {
    /// Every pool on the node, in creation order, with its reserves in the latest state.
    pub async fn pools(&self) -> Result<Vec<PoolView>, SdkError> {
        Ok(self.api.request("zklink_pools", rpc_params![]).await?)
    }

    /// Pool `id` (the node's refusal if the account is not a pool).
    pub async fn pool(&self, id: u32) -> Result<PoolView, SdkError> {
        Ok(self.api.request("zklink_pool", rpc_params![id]).await?)
    }

    /// A pool named by its id (`"6"`) or its pair (`"WETH/USD"` or `"USD/WETH"`, symbols or ids in
    /// either order; [`SdkError::AmbiguousPool`] if several pools trade the pair).
    pub async fn find_pool(&self, name: &str) -> Result<PoolView, SdkError> {
        let pools = self.pools().await?;
        let known = || {
            let list: Vec<String> = pools.iter().map(|p| format!("{} ({})", p.pool, p.pair())).collect();
            if list.is_empty() {
                "there are no pools yet".to_string()
            } else {
                format!("the pools are {}", list.join(", "))
            }
        };
        let trimmed = name.trim();
        if let Ok(id) = trimmed.parse::<u32>() {
            return pools
                .iter()
                .find(|p| p.pool == id)
                .cloned()
                .ok_or_else(|| SdkError::UnknownPool { name: trimmed.into(), known: known() });
        }
        let Some((x, y)) = trimmed.split_once('/') else {
            return Err(SdkError::UnknownPool { name: trimmed.into(), known: known() });
        };
        let (x, y) = (self.parse_token(x)?, self.parse_token(y)?);
        let matching: Vec<&PoolView> = pools
            .iter()
            .filter(|p| {
                let pair = (TokenId(p.token_a), TokenId(p.token_b));
                pair == (x, y) || pair == (y, x)
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(SdkError::UnknownPool { name: trimmed.into(), known: known() }),
            several => Err(SdkError::AmbiguousPool {
                pair: trimmed.into(),
                choices: several
                    .iter()
                    .map(|p| format!("{} ({} bps)", p.pool, p.fee_bps))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// What a swap of `amount` (exact in, or exact out) paying `token_in` executes at now.
    pub async fn quote_swap(
        &self,
        pool: u32,
        token_in: TokenId,
        exact_out: bool,
        amount: u128,
    ) -> Result<SwapQuoteView, SdkError> {
        let q = QuoteSwapRequest { pool, token_in: token_in.0, exact_out, amount };
        Ok(self.api.request("zklink_quoteSwap", rpc_params![q]).await?)
    }

    /// What a deposit of at most `max_a` and `max_b` into `pool` takes and gets now.
    pub async fn quote_liquidity(&self, pool: u32, max_a: u128, max_b: u128) -> Result<LiquidityQuoteView, SdkError> {
        let q = QuoteLiquidityRequest { pool, max_a, max_b };
        Ok(self.api.request("zklink_quoteLiquidity", rpc_params![q]).await?)
    }

    /// What burning `shares` of `pool` pays now.
    pub async fn quote_remove(&self, pool: u32, shares: u128) -> Result<RemoveQuoteView, SdkError> {
        let q = QuoteRemoveRequest { pool, shares };
        Ok(self.api.request("zklink_quoteRemove", rpc_params![q]).await?)
    }

    /// The fee given, else the node's least for `kind` in `token`; refused unless packable.
    async fn fee_or_estimate(&self, fee: Option<u128>, kind: &str, token: TokenId) -> Result<u128, SdkError> {
        let fee = match fee {
            Some(f) => f,
            None => self.estimate_fee(kind, token).await?,
        };
        check_packable(&self.network, token, fee, true)?;
        Ok(fee)
    }

    async fn submit_signed(&self, tx: L2Tx) -> Result<TxHash, SdkError> {
        Ok(self.api.request("zklink_submitTx", rpc_params![tx]).await?)
    }

    /// Creates a pool from sub-account 0 (anyone may; the fee is the creation fee). The network
    /// gives it the next free account id and LP token: [`Wallet::find_pool`] finds it by its pair
    /// once the tx is applied.
    pub async fn create_pool(&self, p: &NewPool) -> Result<TxHash, SdkError> {
        let (a, b) = if p.tokens.0 <= p.tokens.1 { p.tokens } else { (p.tokens.1, p.tokens.0) };
        let fee = self.fee_or_estimate(p.fee, "CreatePool", p.fee_token).await?;
        let (id, nonce) = self.id_and_nonce().await?;
        let tx = CreatePool {
            account_id: id,
            sub_account_id: SubAccountId(0),
            kind: p.kind,
            token_a: a,
            token_b: b,
            fee_bps: p.fee_bps,
            protocol_share: p.protocol_share,
            amp: p.amp,
            fee_token: p.fee_token,
            fee,
            nonce,
            signature: TxSignature::default(),
        };
        tx.validate(&self.network.preset)?;
        self.submit_signed(L2Tx::CreatePool(tx.sign(&self.l2)?)).await
    }

    /// Swaps from sub-account 0: quotes `r` on the node's current state, signs a Swap whose limit
    /// is the quote's amount with `r.slippage_bps` of tolerance, valid for `r.valid_for`, paying
    /// the quote's network fee (or `r.fee`) in the input token, and submits it.
    pub async fn swap(&self, r: &SwapRequest) -> Result<Swapped, SdkError> {
        let quote = self.quote_swap(r.pool, r.token_in, r.exact_out, r.amount).await?;
        let fee = match r.fee {
            Some(f) => f,
            None => quote.network_fee,
        };
        check_packable(&self.network, r.token_in, fee, true)?;
        let limit = if r.exact_out {
            max_with_slippage(quote.amount_in, r.slippage_bps)
        } else {
            min_with_slippage(quote.amount_out, r.slippage_bps)
        };
        let (valid_from, valid_until) = window(r.valid_for)?;
        let (id, nonce) = self.id_and_nonce().await?;
        let tx = Swap {
            account_id: id,
            sub_account_id: SubAccountId(0),
            pool: zklink_types::AccountId(r.pool),
            token_in: r.token_in,
            exact_out: r.exact_out,
            amount: r.amount,
            limit,
            fee,
            nonce,
            valid_from,
            valid_until,
            signature: TxSignature::default(),
        };
        tx.validate(&self.network.preset)?;
        let tx = tx.sign(&self.l2)?;
        let tx_hash = self.submit_signed(L2Tx::Swap(tx.clone())).await?;
        Ok(Swapped { tx, tx_hash, quote })
    }

    /// Deposits into a pool from sub-account 0: at most `r.max_a` and `r.max_b`, for at least
    /// `r.min_shares` (else the fresh quote's shares less the tolerance), paying the fee in the
    /// pool's first token on top.
    pub async fn add_liquidity(&self, r: &AddLiquidityRequest) -> Result<Added, SdkError> {
        let pool = self.pool(r.pool).await?;
        let quote = self.quote_liquidity(r.pool, r.max_a, r.max_b).await?;
        let fee_token = TokenId(pool.token_a);
        let fee = self.fee_or_estimate(r.fee, "AddLiquidity", fee_token).await?;
        let min_shares = r.min_shares.unwrap_or_else(|| min_with_slippage(quote.shares, r.slippage_bps));
        let (valid_from, valid_until) = window(r.valid_for)?;
        let (id, nonce) = self.id_and_nonce().await?;
        let tx = AddLiquidity {
            account_id: id,
            sub_account_id: SubAccountId(0),
            pool: zklink_types::AccountId(r.pool),
            max_a: r.max_a,
            max_b: r.max_b,
            min_shares,
            fee_token,
            fee,
            nonce,
            valid_from,
            valid_until,
            signature: TxSignature::default(),
        };
        tx.validate(&self.network.preset)?;
        let tx = tx.sign(&self.l2)?;
        let tx_hash = self.submit_signed(L2Tx::AddLiquidity(tx.clone())).await?;
        Ok(Added { tx, tx_hash, quote })
    }

    /// Burns `r.shares` of a pool from sub-account 0 for at least `r.min` (else the fresh quote's
    /// amounts less the tolerance); the fee is paid out of the first token received.
    pub async fn remove_liquidity(&self, r: &RemoveLiquidityRequest) -> Result<Removed, SdkError> {
        let pool = self.pool(r.pool).await?;
        let quote = self.quote_remove(r.pool, r.shares).await?;
        let fee_token = TokenId(pool.token_a);
        let fee = self.fee_or_estimate(r.fee, "RemoveLiquidity", fee_token).await?;
        let (min_a, min_b) = r.min.unwrap_or_else(|| {
            (min_with_slippage(quote.amount_a, r.slippage_bps), min_with_slippage(quote.amount_b, r.slippage_bps))
        });
        let (valid_from, valid_until) = window(r.valid_for)?;
        let (id, nonce) = self.id_and_nonce().await?;
        let tx = RemoveLiquidity {
            account_id: id,
            sub_account_id: SubAccountId(0),
            pool: zklink_types::AccountId(r.pool),
            shares: r.shares,
            min_a,
            min_b,
            fee_token,
            fee,
            nonce,
            valid_from,
            valid_until,
            signature: TxSignature::default(),
        };
        tx.validate(&self.network.preset)?;
        let tx = tx.sign(&self.l2)?;
        let tx_hash = self.submit_signed(L2Tx::RemoveLiquidity(tx.clone())).await?;
        Ok(Removed { tx, tx_hash, quote })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slippage_rounds_against_the_trader() {
        assert_eq!(min_with_slippage(10_000, 50), 9_950);
        assert_eq!(min_with_slippage(10_001, 50), 9_950, "⌊10001 · 0.995⌋");
        assert_eq!(max_with_slippage(10_001, 50), 10_052, "⌈10001 · 1.005⌉");
        assert_eq!((min_with_slippage(7, 0), max_with_slippage(7, 0)), (7, 7));
        assert_eq!(min_with_slippage(7, 10_000), 0);
        assert_eq!(max_with_slippage(u128::MAX, 1), u128::MAX);
    }
}
