//! The devnet's venue: an exchange with three markets (ETH/USD, WETH/USD, USDC/USDT) settled by
//! dev account 9, and a small market maker (dev accounts 7 and 8) that keeps quotes on each side
//! of each market, so that a new user sees a live book. (The dev preset has 4 order slots per
//! sub-account, hence a quote per slot: dev account 8 quotes ETH/USD and WETH/USD, one level a
//! side; dev account 7 quotes USDC/USDT, two levels a side.)
//!
//! Both accounts are funded from their L1 grants on the devnet's first start (deposits, then
//! their L2 keys); the venue keeps its journal under `exchange/` and resumes it with the devnet.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use alloy::primitives::B256;
use anyhow::Context;
use zklink_exchange::rpc::{serve, ExchangeApi};
use zklink_exchange::service::{Exchange, ExchangeSettings};
use zklink_exchange::MarketConfig;
use zklink_matching::{MarketId, OrderType};
use zklink_sdk::Wallet;
use zklink_types::api::Stage;
use zklink_types::{ChainId, SubAccountId, TokenId, USD_TOKEN_ID};

/// Where the venue keeps its journal, under the devnet's directory.
pub(super) const EXCHANGE_DIR: &str = "exchange";
/// Dev account that settles the venue's fills.
const SUBMITTER: usize = 9;
/// Dev accounts that quote the markets: (account, [(market, level); 2]) — each quote takes a bid
/// slot and an ask slot. Two accounts (nine L2 ops to fund them and the submitter, each proven):
/// one level a side on ETH/USD and WETH/USD, two on USDC/USDT.
const MAKERS: [(usize, [(u32, u128); 2]); 2] = [(8, [(1, 1), (2, 1)]), (7, [(3, 1), (3, 2)])];
/// Seconds between two rounds of the market maker's quotes.
const QUOTE_EVERY: Duration = Duration::from_secs(3);

/// The devnet's markets.
pub(super) fn markets() -> Vec<MarketConfig> {
    let m = |id, base: &str, quote: &str, tick: &str, lot: &str, min: &str, maker, taker| MarketConfig {
        id,
        base: base.into(),
        quote: quote.into(),
        tick: tick.into(),
        lot: lot.into(),
        min_size: min.into(),
        maker_fee_ratio: maker,
        taker_fee_ratio: taker,
        stp: Default::default(),
    };
    vec![
        m(1, "ETH", "USD", "0.01", "0.001", "0.01", 5, 10),
        m(2, "WETH", "USD", "0.01", "0.001", "0.01", 5, 10),
        m(3, "USDC", "USDT", "0.0001", "1", "10", 1, 2),
    ]
}

/// A running venue and its market maker.
pub(super) struct DevVenue {
    /// The exchange.
    pub exchange: Exchange,
    /// Its API.
    pub api: ExchangeApi,
    makers: Vec<tokio::task::JoinHandle<()>>,
}

impl DevVenue {
    /// Stops the market maker and the API.
    pub(super) async fn stop(self) {
        for m in &self.makers {
            m.abort();
        }
        self.api.stop().await;
    }
}

/// The address to serve on: `preferred` if free, else a port the OS picks.
fn free(preferred: SocketAddr) -> anyhow::Result<SocketAddr> {
    std::net::TcpListener::bind(preferred)
        .or_else(|_| std::net::TcpListener::bind((preferred.ip(), 0)))
        .and_then(|l| l.local_addr())
        .context("choosing the exchange's port")
}

/// Deposits `(chain, token, L1 amount, as USD)` to `w` unless its account exists, and sets its
/// L2 key unless set; waits until each is applied.
async fn ensure_account(w: &Wallet, deposits: &[(u8, TokenId, u128, bool)]) -> anyhow::Result<()> {
    let wait = |hash| w.wait_for_stage(hash, Stage::Pending, Duration::from_millis(200), Duration::from_secs(120));
    if w.account().await?.is_none() {
        for &(chain, token, amount, usd) in deposits {
            let l1 = w
                .deposit(ChainId(chain), None, token, amount, usd)
                .await
                .with_context(|| format!("depositing {} for dev account {}", w.symbol(token), w.address()))?;
            let hash = zklink_types::TxHash(l1.0);
            wait(hash).await.with_context(|| format!("waiting for the deposit of {}", w.symbol(token)))?;
        }
    }
    let view = w.account().await?.context("the account exists after its deposits")?;
    if view.pubkey_hash.trim_start_matches("0x").bytes().all(|b| b == b'0') {
        let hash = w.change_pubkey(ChainId(1), USD_TOKEN_ID, 0).await.context("setting the L2 key")?;
        wait(hash).await.context("waiting for the L2 key")?;
    }
    Ok(())
}

/// Funds the venue's accounts if needed, starts the venue on `listen` (or a free port) with its
/// journal under `dir`, and its market maker.
pub(super) async fn start(api_url: &str, keys: &[B256], dir: &Path, listen: SocketAddr) -> anyhow::Result<DevVenue> {
    let key = |i: usize| keys.get(i).map(|k| k.0).with_context(|| format!("anvil has no dev key {i}"));
    let submitter = Wallet::connect(api_url, &key(SUBMITTER)?).await?;
    let t = |name: &str| submitter.parse_token(name);
    let (usdc, usdt, weth, eth) = (t("USDC")?, t("USDT")?, t("WETH")?, t("ETH")?);
    const E6: u128 = 1_000_000;
    const E18: u128 = 1_000_000_000_000_000_000;
    ensure_account(&submitter, &[(1, usdc, 10 * E6, true)]).await.context("funding the venue's submitter")?;
    let mut makers = Vec::new();
    for (account, quotes) in MAKERS {
        let w = Wallet::connect(api_url, &key(account)?).await?;
        let deposits: Vec<(u8, TokenId, u128, bool)> = if quotes[0].0 == 3 {
            vec![(3, usdc, 100_000 * E6, false), (3, usdt, 100_000 * E18, false)]
        } else {
            vec![(1, usdc, 100_000 * E6, true), (1, eth, 50 * E18, false), (2, weth, 50 * E18, false)]
        };
        ensure_account(&w, &deposits).await.with_context(|| format!("funding market maker {account}"))?;
        makers.push((w, quotes));
    }
    let settings = ExchangeSettings {
        node_url: api_url.to_string(),
        data_dir: dir.to_path_buf(),
        submitter_secret: key(SUBMITTER)?,
        sub_account: SubAccountId(0),
        fee_token: "USD".into(),
        markets: markets(),
        batch: zklink_exchange::settle::DEFAULT_BATCH,
    };
    let exchange = Exchange::start(settings).await.context("starting the devnet's exchange")?;
    let api = serve(free(listen)?, exchange.clone()).await.context("serving the exchange API")?;
    let makers = makers.into_iter().map(|(w, quotes)| tokio::spawn(quote(w, quotes, exchange.clone()))).collect();
    Ok(DevVenue { exchange, api, makers })
}

/// The mid price of a market in ticks: ETH and WETH near 3000 USD, USDC near 1 USDT.
fn mid(market: u32) -> u128 {
    match market {
        1 => 300_000,
        2 => 299_950,
        _ => 10_000,
    }
}

/// Every [`QUOTE_EVERY`], a bid and an ask for each `(market, level)` of `quotes` around a mid
/// that drifts slowly (±0.3 %), level 1 nearest, never repeating an order's terms within 10 hours; quote `i` uses slots `2i` (bid) and `2i + 1`
/// (ask), and a new quote replaces the slot's old one on the venue.
async fn quote(w: Wallet, quotes: [(u32, u128); 2], ex: Exchange) {
    loop {
        // The round from the clock, so that a restarted devnet does not repeat its quotes: the
        // venue takes an order's exact terms only once.
        let round = zklink_exchange::service::now_ms() / QUOTE_EVERY.as_millis() as u64;
        let slots = match w.account().await {
            Ok(Some(v)) => v.orders,
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "market maker: reading its account");
                tokio::time::sleep(QUOTE_EVERY).await;
                continue;
            }
        };
        for (i, &(market, level)) in quotes.iter().enumerate() {
            let Some((base, quote, tick, lot, fees)) = ({
                let v = ex.venue();
                v.market(MarketId(market)).map(|m| {
                    let m = &m.market;
                    (m.base, m.quote, m.spec.tick, m.spec.lot, (m.maker_fee_ratio, m.taker_fee_ratio))
                })
            }) else {
                continue;
            };
            // A drift of ±0.3 % over 12 rounds, a tick offset that moves every 12 rounds and a size
            // that moves every 600: a quote's terms repeat only after 12,000 rounds (10 hours).
            let drift = (round % 12) as i128 - 6;
            let offset = u128::from((round / 12) % 50);
            let mid = (mid(market) as i128 + mid(market) as i128 * drift / 2000) as u128 + offset;
            let step = level * (mid / 1000).max(1);
            let extra = u128::from((round / 600) % 20);
            for (side, sell) in [(0u16, false), (1, true)] {
                let ticks = if sell { mid + step } else { mid - step };
                let lots: u128 = if market == 3 { 1000 * level + extra } else { 200 * level + extra };
                let slot = (i as u16) * 2 + side;
                let state = slots.iter().find(|s| s.sub_account == 0 && s.slot == slot);
                let (nonce, residue) = state.map_or((0, 0), |s| (s.nonce, s.residue.parse::<u128>().unwrap_or(0)));
                let nonce = if residue == 0 { nonce } else { nonce + 1 };
                let order = match w.sign_order(slot, nonce, base, quote, lots * lot, ticks * tick, sell, fees).await {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::warn!(error = %e, "market maker: signing a quote");
                        continue;
                    }
                };
                if let Err(e) = ex.place(MarketId(market), OrderType::Limit, order).await {
                    tracing::debug!(market, slot, error = %e, "market maker: a quote was refused");
                }
            }
        }
        tokio::time::sleep(QUOTE_EVERY).await;
    }
}
