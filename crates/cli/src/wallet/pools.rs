//! `zklink wallet pools`, `pool create|add|remove` and `swap`: AMM pools from the wallet.
//!
//! A pool is named by its id (`4`) or its pair (`WETH/USD` or `USD/WETH`; symbols or ids, either
//! order). Amounts are whole tokens ("0.5"), LP shares too (18 decimals like every L2 amount).
//! A pool's "A" token is its first (the smaller id: USD in USD/WETH), as `pools` lists it.
//! Swaps, deposits and removals sign their limits from a fresh quote of the node
//! (`zklink_quoteSwap`, …) less a slippage tolerance, and are valid for a window (5 minutes by
//! default) after which they never execute.

use std::time::Duration;

use anyhow::{bail, Context};
use zklink_sdk::pools::{max_with_slippage, min_with_slippage};
use zklink_sdk::{
    format_units, parse_units, AddLiquidityRequest, NewPool, RemoveLiquidityRequest, SwapRequest, Wallet,
};
use zklink_types::api::{PoolView, SwapQuoteView};
use zklink_types::TokenId;

/// What slippage tolerance and validity window mean, shared by the help of `swap`, `pool add` and
/// `pool remove`.
pub(crate) const LIMITS_HELP: &str = "\
The node quotes the trade on its current state first; the tx is signed with that quote's
amounts as its limits, less the slippage tolerance for what you receive and plus it for what you
pay (`--slippage`, 0.5 % by default): if the pool moves against you by more before the tx
executes (another trade came first), the node refuses it and nothing happens. With
`--slippage 0` it executes exactly at the quote or not at all. Every rounding favours the pool:
what you receive is rounded down and what you pay up, to the smallest unit (10^-18).

The tx is valid from now until `--valid-for` from now (5m by default: `30s`, `5m`, `1h`): a tx
the node has not executed by then never executes, so a stale one cannot surprise you later.
The node's network fee for the tx comes besides (`zklink wallet fee --type Swap`, `AddLiquidity`
or `RemoveLiquidity`).";

/// `pool …`.
#[derive(clap::Subcommand)]
pub(crate) enum PoolCommand {
    /// Create a constant-product pool of tokens A and B (in any order), from sub-account 0.
    ///
    /// Anyone may create a pool; it pays the node's fee for a CreatePool in --fee-token. The pool
    /// gets the next free account id and LP token; one pool exists per set of parameters. Stable
    /// pools are not supported yet (their circuit has not landed). Then `pool add` funds it.
    Create {
        /// One token (symbol or id).
        a: String,
        /// The other token.
        b: String,
        /// The swap fee in basis points (30 = 0.30 %, at most 1000), paid by traders to the pool.
        #[arg(long, default_value_t = 30)]
        fee_bps: u16,
        /// The protocol's share of the swap fee in percent (0..=100), paid to the fee account.
        #[arg(long, default_value_t = 0)]
        protocol_share: u8,
        /// The token the creation fee is paid in (symbol or id).
        #[arg(long, default_value = "USD")]
        fee_token: String,
    },
    /// Deposit into a pool: at most --max-a of its first token and --max-b of its second, for LP
    /// shares.
    ///
    /// The first deposit takes both amounts and sets the price; it mints √(a·b) shares, 0.000000000000001
    /// (1000 units) of which stay locked in the pool for good. A later deposit takes the two
    /// tokens at the pool's ratio: as many shares as the scarcer side buys (rounded down), and that
    /// many shares' worth of each token (rounded up); the rest stays with you. The network fee is
    /// paid in the pool's first token on top.
    #[command(after_help = LIMITS_HELP)]
    Add {
        /// The pool: its id or pair (`zklink wallet pools`).
        pool: String,
        /// The most of the pool's first token to pay (whole tokens; the first as `pools` names the
        /// pair).
        #[arg(long)]
        max_a: String,
        /// The most of its second token to pay.
        #[arg(long)]
        max_b: String,
        /// The fewest shares to accept (whole shares; default: the quote's less --slippage).
        #[arg(long)]
        min_shares: Option<String>,
        #[command(flatten)]
        limits: Limits,
    },
    /// Burn LP shares of a pool for their part of both reserves (rounded down).
    ///
    /// The network fee is paid out of the first token received.
    #[command(after_help = LIMITS_HELP)]
    Remove {
        /// The pool: its id or pair.
        pool: String,
        /// Shares to burn, in whole shares ("12.5"), or `all` (this account's shares of the pool).
        shares: String,
        #[command(flatten)]
        limits: Limits,
    },
}

/// The slippage tolerance and the validity window.
#[derive(clap::Args)]
pub(crate) struct Limits {
    /// The slippage tolerance: `0.5%`, `0.5` (percent) or `50bps`; 0 executes only at the quote.
    #[arg(long, default_value = "0.5%", value_parser = parse_slippage)]
    slippage: u16,
    /// How long the tx stays valid (`30s`, `5m`, `1h`).
    #[arg(long, default_value = "5m", value_parser = super::parse_duration)]
    valid_for: Duration,
}

/// `swap`.
#[derive(clap::Args)]
pub(crate) struct SwapArgs {
    /// The pool: its id or pair (`WETH/USD` or `USD/WETH`; `zklink wallet pools` lists them).
    pool: String,
    /// The exact amount, in whole tokens of TOKEN.
    amount: String,
    /// The token AMOUNT is in (symbol or id), one of the pool's two: what you pay, or with
    /// --exact-out what you receive. You receive (or pay) the pool's other token.
    token: String,
    /// AMOUNT TOKEN is the exact output: receive exactly that, paying at most the quoted input
    /// plus --slippage (default: pay exactly AMOUNT TOKEN, receive at least the quoted output less
    /// --slippage).
    #[arg(long)]
    exact_out: bool,
    /// Print the quote and sign nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    limits: Limits,
}

/// `--slippage`: `0.5%`, `0.5` (percent) or `50bps`, in basis points (at most 100 %).
pub(crate) fn parse_slippage(s: &str) -> Result<u16, String> {
    let bad = |why: &str| format!("{s:?} is not a slippage tolerance ({why}): give `0.5%`, `0.5` (percent) or `50bps`");
    let t = s.trim();
    let bps = if let Some(n) = t.strip_suffix("bps").or_else(|| t.strip_suffix("bp")) {
        n.trim().parse::<u32>().map_err(|_| bad("not a whole number of basis points"))?
    } else {
        let percent = t.strip_suffix('%').unwrap_or(t).trim();
        let units = parse_units(percent, 2).map_err(|_| bad("at most 2 decimals of a percent, 0.01 % = 1 bps"))?;
        u32::try_from(units).map_err(|_| bad("too large"))?
    };
    if bps > 10_000 {
        return Err(bad("more than 100 %"));
    }
    Ok(bps as u16)
}

/// Basis points as a percentage: "0.30 %".
pub(crate) fn bps_percent(bps: u32) -> String {
    format!("{}.{:02} %", bps / 100, bps % 100)
}

/// `amount` (L2 units) in whole tokens with `token`'s symbol.
fn units(w: &Wallet, amount: u128, token: u16) -> String {
    zklink_types::describe::amount(w.network(), amount, Some(TokenId(token)))
}

/// A price given as an integer with 18 decimals (a decimal string, possibly above 2^128), in
/// decimal notation, exactly.
pub(crate) fn price_decimal(raw: &str) -> String {
    let digits = raw.trim_start_matches('0');
    let padded = format!("{digits:0>19}");
    let (int, frac) = padded.split_at(padded.len() - 18);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// A price for the eye: 4 decimals above 1, 6 significant digits below (truncated).
pub(crate) fn price_short(raw: &str) -> String {
    let exact = price_decimal(raw);
    let Some((int, frac)) = exact.split_once('.') else { return exact };
    let keep = if int != "0" { 4 } else { frac.find(|c| c != '0').map_or(frac.len(), |first| first + 6) };
    let frac = frac[..keep.min(frac.len())].trim_end_matches('0');
    if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    }
}

/// "0.30 % (20 % of it to the protocol)".
fn fee_text(p: &PoolView) -> String {
    let share =
        if p.protocol_share == 0 { String::new() } else { format!(" ({} % of it to the protocol)", p.protocol_share) };
    format!("{}{share}", bps_percent(u32::from(p.fee_bps)))
}

/// `pools`: a table of every pool.
pub(crate) async fn pools(w: &Wallet) -> anyhow::Result<()> {
    let list = w.pools().await.context("reading the pools")?;
    if list.is_empty() {
        println!("no pools yet (`zklink wallet pool create A B` creates one)");
        return Ok(());
    }
    println!(
        "{:>4}  {:<11} {:<40} {:<46} {:<36} {:>8}  shares",
        "pool", "pair (A/B)", "reserves", "price", "fee", "LP token"
    );
    for p in &list {
        let reserves = format!("{} + {}", units(w, p.reserve_a, p.token_a), units(w, p.reserve_b, p.token_b));
        let price = match &p.price {
            Some(price) => format!(
                "1 {} = {} {}, 1 {} = {} {}",
                p.symbol_b,
                price_short(&price.a_per_b),
                p.symbol_a,
                p.symbol_a,
                price_short(&price.b_per_a),
                p.symbol_b
            ),
            None => "empty (no price yet)".to_string(),
        };
        println!(
            "{:>4}  {:<11} {:<40} {:<46} {:<36} {:>8}  {}",
            p.pool,
            p.pair(),
            reserves,
            price,
            fee_text(p),
            p.lp_token,
            format_units(p.supply, 18)
        );
    }
    println!(
        "(A is each pool's first token; `zklink wallet swap POOL AMOUNT TOKEN` trades, `pool add` provides liquidity)"
    );
    Ok(())
}

/// The pool named, with the context of the lookup.
async fn find(w: &Wallet, name: &str) -> anyhow::Result<PoolView> {
    w.find_pool(name).await.with_context(|| format!("finding pool {name:?}"))
}

/// "pool 4 (USD/WETH, fee 0.30 %)".
fn pool_name(p: &PoolView) -> String {
    format!("pool {} ({}, fee {})", p.pool, p.pair(), bps_percent(u32::from(p.fee_bps)))
}

/// `swap`.
pub(crate) async fn swap(w: &Wallet, a: SwapArgs) -> anyhow::Result<()> {
    let p = find(w, &a.pool).await?;
    let token = w.parse_token(&a.token)?;
    let other = p.params().other(token).with_context(|| {
        format!("{} is not one of {}'s tokens: name {} or {}", w.symbol(token), pool_name(&p), p.symbol_a, p.symbol_b)
    })?;
    let amount = parse_units(&a.amount, 18).context("AMOUNT")?;
    let token_in = if a.exact_out { other } else { token };
    if a.dry_run {
        let q = w.quote_swap(p.pool, token_in, a.exact_out, amount).await.context("quoting the swap")?;
        println!(
            "quote: {} for {} in {}, nothing signed",
            units(w, q.amount_in, q.token_in),
            units(w, q.amount_out, q.token_out),
            pool_name(&p)
        );
        print_quote(w, &p, &q);
        let slippage = a.limits.slippage;
        let limit = if q.exact_out {
            format!("pay at most {}", units(w, max_with_slippage(q.amount_in, slippage), q.token_in))
        } else {
            format!("receive at least {}", units(w, min_with_slippage(q.amount_out, slippage), q.token_out))
        };
        println!("  with {} slippage tolerance the tx would {limit}", bps_percent(u32::from(slippage)));
        return Ok(());
    }
    let request = SwapRequest {
        slippage_bps: a.limits.slippage,
        valid_for: a.limits.valid_for,
        ..if a.exact_out {
            SwapRequest::exact_out(p.pool, token_in, amount)
        } else {
            SwapRequest::exact_in(p.pool, token_in, amount)
        }
    };
    let s = w.swap(&request).await.with_context(|| format!("swapping in {}", pool_name(&p)))?;
    let q = &s.quote;
    println!(
        "swapped {} for {} in {}: tx {:?}",
        units(w, q.amount_in, q.token_in),
        units(w, q.amount_out, q.token_out),
        pool_name(&p),
        s.tx_hash
    );
    print_quote(w, &p, q);
    let limit = if s.tx.exact_out {
        format!("pay at most {}", units(w, s.tx.limit, q.token_in))
    } else {
        format!("receive at least {}", units(w, s.tx.limit, q.token_out))
    };
    println!(
        "  signed to {limit} ({} slippage tolerance), valid until {} (Unix seconds); `zklink wallet status {:?}` follows it",
        bps_percent(u32::from(a.limits.slippage)),
        s.tx.valid_until,
        s.tx_hash
    );
    Ok(())
}

/// `⌊n · 10^18 / d⌋` as a decimal string (a price with 18 decimals), `"0"` if `d` is 0.
fn ratio(n: u128, d: u128) -> String {
    if d == 0 {
        return "0".into();
    }
    let scaled = alloy::primitives::U256::from(n) * alloy::primitives::U256::from(E18);
    (scaled / alloy::primitives::U256::from(d)).to_string()
}

const E18: u128 = 1_000_000_000_000_000_000;

/// The quote's prices (in the orientation that reads above 1), price impact and fees; `p` is the
/// pool as read just before the quote.
fn print_quote(w: &Wallet, p: &PoolView, q: &SwapQuoteView) {
    let (sym_in, sym_out) = (w.symbol(TokenId(q.token_in)), w.symbol(TokenId(q.token_out)));
    let (r_in, r_out) = if q.token_in == p.token_a { (p.reserve_a, p.reserve_b) } else { (p.reserve_b, p.reserve_a) };
    let price = if q.amount_out >= q.amount_in {
        format!("1 {sym_in} = {} {sym_out} (spot {})", price_short(&q.execution_price), price_short(&q.spot_price))
    } else {
        format!(
            "1 {sym_out} = {} {sym_in} (spot {})",
            price_short(&ratio(q.amount_in, q.amount_out)),
            price_short(&ratio(r_in, r_out))
        )
    };
    println!("  price {price}, impact {} (the swap fee included)", bps_percent(q.price_impact_bps));
    println!(
        "  swap fee {} ({} to the liquidity providers, {} to the protocol), network fee {}",
        units(w, q.lp_fee + q.protocol_fee, q.token_in),
        units(w, q.lp_fee, q.token_in),
        units(w, q.protocol_fee, q.token_in),
        units(w, q.network_fee, q.token_in)
    );
}

/// `pool …`.
pub(crate) async fn pool(w: &Wallet, command: PoolCommand) -> anyhow::Result<()> {
    match command {
        PoolCommand::Create { a, b, fee_bps, protocol_share, fee_token } => {
            let (a, b) = (w.parse_token(&a)?, w.parse_token(&b)?);
            let fee_token = w.parse_token(&fee_token)?;
            let spec = NewPool { protocol_share, fee_token, ..NewPool::constant_product(a, b, fee_bps) };
            let hash = w.create_pool(&spec).await.context("creating the pool")?;
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let created = w.pools().await.context("reading the pools")?.into_iter().find(|p| {
                (TokenId(p.token_a), TokenId(p.token_b)) == (lo, hi)
                    && p.fee_bps == fee_bps
                    && p.protocol_share == protocol_share
            });
            let pair = format!("{}/{}", w.symbol(lo), w.symbol(hi));
            match created {
                Some(p) => println!(
                    "created pool {} ({}, constant product, fee {}, LP token {}): tx {hash:?}; it is empty: `zklink \
                     wallet pool add {} --max-a … --max-b …` funds it and sets its price",
                    p.pool,
                    p.pair(),
                    fee_text(&p),
                    p.lp_token,
                    p.pool
                ),
                None => println!("submitted the creation of a {pair} pool: tx {hash:?} (not applied yet)"),
            }
        }
        PoolCommand::Add { pool, max_a, max_b, min_shares, limits } => {
            let p = find(w, &pool).await?;
            let request = AddLiquidityRequest {
                min_shares: min_shares.as_deref().map(|s| parse_units(s, 18)).transpose().context("--min-shares")?,
                slippage_bps: limits.slippage,
                valid_for: limits.valid_for,
                ..AddLiquidityRequest::new(
                    p.pool,
                    parse_units(&max_a, 18).context("--max-a")?,
                    parse_units(&max_b, 18).context("--max-b")?,
                )
            };
            let added =
                w.add_liquidity(&request).await.with_context(|| format!("depositing into {}", pool_name(&p)))?;
            let q = &added.quote;
            println!(
                "deposited {} and {} into {} for {} LP shares (token {}), fee {}: tx {:?}",
                units(w, q.amount_a, p.token_a),
                units(w, q.amount_b, p.token_b),
                pool_name(&p),
                format_units(q.shares, 18),
                p.lp_token,
                units(w, added.tx.fee, p.token_a),
                added.tx_hash
            );
            println!(
                "  signed for at least {} shares, valid until {} (Unix seconds)",
                format_units(added.tx.min_shares, 18),
                added.tx.valid_until
            );
        }
        PoolCommand::Remove { pool, shares, limits } => {
            let p = find(w, &pool).await?;
            let shares = if shares.trim().eq_ignore_ascii_case("all") {
                let held = w.account().await.context("reading the account")?.map_or(0, |a| a.balance(0, p.lp_token));
                if held == 0 {
                    bail!("{} holds no shares of {} (LP token {})", w.address(), pool_name(&p), p.lp_token);
                }
                held
            } else {
                parse_units(&shares, 18).context("SHARES")?
            };
            let request = RemoveLiquidityRequest {
                slippage_bps: limits.slippage,
                valid_for: limits.valid_for,
                ..RemoveLiquidityRequest::new(p.pool, shares)
            };
            let removed = w
                .remove_liquidity(&request)
                .await
                .with_context(|| format!("removing liquidity from {}", pool_name(&p)))?;
            let q = &removed.quote;
            println!(
                "burnt {} LP shares of {} for {} and {} (the fee {} paid out of the first): tx {:?}",
                format_units(shares, 18),
                pool_name(&p),
                units(w, q.amount_a, p.token_a),
                units(w, q.amount_b, p.token_b),
                units(w, removed.tx.fee, p.token_a),
                removed.tx_hash
            );
            println!(
                "  signed for at least {} and {}, valid until {} (Unix seconds)",
                units(w, removed.tx.min_a, p.token_a),
                units(w, removed.tx.min_b, p.token_b),
                removed.tx.valid_until
            );
        }
    }
    Ok(())
}

/// Names the LP tokens among `tokens`: "LP shares of pool 4 (USD/WETH)" by token id.
pub(crate) async fn lp_names(w: &Wallet, tokens: &[u16]) -> Vec<(u16, String)> {
    if !tokens.iter().any(|t| w.network().preset.is_lp_token(TokenId(*t))) {
        return Vec::new();
    }
    w.pools()
        .await
        .map(|list| list.iter().map(|p| (p.lp_token, format!("LP shares of pool {} ({})", p.pool, p.pair()))).collect())
        .unwrap_or_default()
}
