//! The devnet's AMM pools: dev account 6 creates a WETH/USD pool (0.30 %) and a USDC/USDT pool
//! (0.05 %, constant product: stable pools are refused until their circuit lands) and makes their
//! first deposits, so that a new user can swap at once.
//!
//! Everything is read back through the node's API first, so a restarted devnet (or one stopped
//! half-way) does only what is missing: it creates the pools no pool with the same tokens and fee
//! stands for, funds dev account 6 on L2 only where its balance falls short, and seeds only
//! empty pools. A pool is never created twice.

use std::time::Duration;

use alloy::primitives::B256;
use anyhow::Context;
use zklink_sdk::{AddLiquidityRequest, NewPool, Wallet};
use zklink_types::api::{PoolView, Stage};
use zklink_types::{ChainId, PoolKind, TokenId, TxHash, USD_TOKEN_ID};

/// Dev account that creates and seeds the pools.
pub(super) const POOL_ACCOUNT: usize = 6;

const E6: u128 = 1_000_000;
const E18: u128 = 1_000_000_000_000_000_000;

/// A pool of the devnet: its two tokens (by symbol), fee, and the first deposit (whole tokens of
/// each, which sets its price).
struct DevPool {
    a: &'static str,
    b: &'static str,
    fee_bps: u16,
    seed: (u128, u128),
}

/// WETH/USD at 3000 USD per WETH, USDC/USDT at 1:1.
const POOLS: [DevPool; 2] = [
    DevPool { a: "WETH", b: "USD", fee_bps: 30, seed: (100, 300_000) },
    DevPool { a: "USDC", b: "USDT", fee_bps: 5, seed: (100_000, 100_000) },
];

/// How dev account 6 gets each token on L2: (chain, L1 token, L1 decimals' scale, as USD).
fn funding(symbol: &str) -> (u8, &'static str, u128, bool) {
    match symbol {
        "USD" => (1, "USDC", E6, true),
        "WETH" => (2, "WETH", E18, false),
        "USDC" => (3, "USDC", E6, false),
        _ => (3, "USDT", E18, false),
    }
}

/// The pool standing for `spec` among `pools`: the same two tokens and fee, constant product.
fn existing<'a>(pools: &'a [PoolView], spec: &DevPool, a: TokenId, b: TokenId) -> Option<&'a PoolView> {
    let pair = if a < b { (a, b) } else { (b, a) };
    pools.iter().find(|p| {
        (TokenId(p.token_a), TokenId(p.token_b)) == pair
            && p.fee_bps == spec.fee_bps
            && p.kind == PoolKind::ConstantProduct
    })
}

/// Waits (at most 2 minutes) until tx or L1 request `hash` is applied on L2.
async fn applied(w: &Wallet, hash: TxHash, what: &str) -> anyhow::Result<()> {
    let status = w
        .wait_for_stage(hash, Stage::Pending, Duration::from_millis(200), Duration::from_secs(120))
        .await
        .with_context(|| format!("waiting for {what}"))?;
    match status.failed {
        Some(reason) => anyhow::bail!("{what} failed: {reason}"),
        None => Ok(()),
    }
}

/// Creates and seeds whatever of the devnet's pools is missing, from dev account 6's L1 grants;
/// returns the pools and whether any was created or seeded now.
pub(super) async fn ensure(api_url: &str, keys: &[B256]) -> anyhow::Result<(Vec<PoolView>, bool)> {
    let key = keys.get(POOL_ACCOUNT).with_context(|| format!("anvil has no dev key {POOL_ACCOUNT}"))?;
    let w = Wallet::connect(api_url, &key.0).await?;
    let tokens = |spec: &DevPool| anyhow::Ok((w.parse_token(spec.a)?, w.parse_token(spec.b)?));
    let pools = w.pools().await.context("reading the pools")?;
    let mut todo = Vec::new();
    for spec in &POOLS {
        let (a, b) = tokens(spec)?;
        match existing(&pools, spec, a, b) {
            Some(p) if p.supply > 0 => {}
            found => todo.push((spec, a, b, found.map(|p| p.pool))),
        }
    }
    if todo.is_empty() {
        return Ok((pools, false));
    }

    // Dev account 6's L2 balances for the first deposits: deposited where short.
    let held = |token: TokenId| {
        let w = &w;
        async move { anyhow::Ok(w.account().await?.map_or(0, |a| a.balance(0, token.0))) }
    };
    for &(spec, a, b, _) in &todo {
        for (symbol, token, whole) in [(spec.a, a, spec.seed.0), (spec.b, b, spec.seed.1)] {
            if held(token).await? >= whole * E18 {
                continue;
            }
            let (chain, l1_symbol, scale, usd) = funding(symbol);
            let l1_token = w.parse_token(l1_symbol)?;
            let l1 = w
                .deposit(ChainId(chain), None, l1_token, whole * scale, usd)
                .await
                .with_context(|| format!("depositing {whole} {l1_symbol} for the devnet's pools"))?;
            applied(&w, TxHash(l1.0), &format!("the deposit of {whole} {symbol}")).await?;
        }
    }
    let account = w.account().await?.context("dev account 6 exists after its deposits")?;
    if !account.has_key() {
        let hash = w.change_pubkey(ChainId(1), USD_TOKEN_ID, 0).await.context("setting dev account 6's L2 key")?;
        applied(&w, hash, "dev account 6's L2 key").await?;
    }

    // The missing pools, then their first deposits.
    for (spec, a, b, pool) in todo {
        let id = match pool {
            Some(id) => id,
            None => {
                let hash = w
                    .create_pool(&NewPool::constant_product(a, b, spec.fee_bps))
                    .await
                    .with_context(|| format!("creating the {}/{} pool", spec.a, spec.b))?;
                applied(&w, hash, &format!("the creation of the {}/{} pool", spec.a, spec.b)).await?;
                let pools = w.pools().await.context("reading the pools")?;
                existing(&pools, spec, a, b).map(|p| p.pool).context("the pool just created is not listed")?
            }
        };
        // The pool's first token is the smaller id.
        let (max_a, max_b) =
            if a < b { (spec.seed.0 * E18, spec.seed.1 * E18) } else { (spec.seed.1 * E18, spec.seed.0 * E18) };
        let added = w
            .add_liquidity(&AddLiquidityRequest::new(id, max_a, max_b))
            .await
            .with_context(|| format!("seeding the {}/{} pool", spec.a, spec.b))?;
        applied(&w, added.tx_hash, &format!("the first deposit into the {}/{} pool", spec.a, spec.b)).await?;
    }
    Ok((w.pools().await.context("reading the pools")?, true))
}

/// The pools as the devnet prints them, after the other endpoints.
pub(super) fn print(pools: &[PoolView], created: bool) {
    let how = if created { "created and seeded now" } else { "found in the node's state, not created again" };
    println!("\n  AMM pools      dev account {POOL_ACCOUNT}'s, {how}:");
    for p in pools {
        let e = |v: u128| zklink_types::amount::format_units(v, zklink_types::amount::L2_DECIMALS);
        let price = p.price.as_ref().map_or_else(
            || "empty".to_string(),
            |price| format!("1 {} = {} {}", p.symbol_b, short(&price.a_per_b), p.symbol_a),
        );
        println!(
            "    pool {}  {}  constant product, fee {}.{:02} %: {} {} + {} {}, {price}",
            p.pool,
            p.pair(),
            p.fee_bps / 100,
            p.fee_bps % 100,
            e(p.reserve_a),
            p.symbol_a,
            e(p.reserve_b),
            p.symbol_b
        );
    }
    println!(
        "    (USDC/USDT is a constant-product pool for now: stable pools come once their circuit lands.) Try:\n    \
         ZKLINK_KEY=<key> zklink wallet swap WETH/USD 0.1 WETH --dry-run   (`zklink wallet pools` lists them)"
    );
}

/// A price with 18 decimals (a decimal string) with at most 4 decimals.
fn short(raw: &str) -> String {
    let digits = raw.trim_start_matches('0');
    let padded = format!("{digits:0>19}");
    let (int, frac) = padded.split_at(padded.len() - 18);
    let frac = frac[..4].trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}
