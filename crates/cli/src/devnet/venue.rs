//! The devnet's venue: an exchange with three markets (ETH/USD, WETH/USD, USDC/USDT) settled by
//! dev account 9, and a small market maker (dev account 8) that keeps a ladder of quotes on
//! each, so that a new user sees a live book.
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
/// Dev account that quotes the markets.
const MAKER: usize = 8;
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
    maker: tokio::task::JoinHandle<()>,
}

impl DevVenue {
    /// Stops the market maker and the API.
    pub(super) async fn stop(self) {
        self.maker.abort();
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
    let maker = Wallet::connect(api_url, &key(MAKER)?).await?;
    let t = |name: &str| submitter.parse_token(name);
    let (usdc, usdt, weth, eth) = (t("USDC")?, t("USDT")?, t("WETH")?, t("ETH")?);
    const E6: u128 = 1_000_000;
    const E18: u128 = 1_000_000_000_000_000_000;
    ensure_account(&submitter, &[(1, usdc, 10 * E6, true)]).await.context("funding the venue's submitter")?;
    let maker_deposits = [
        (1, usdc, 500_000 * E6, true),
        (1, eth, 100 * E18, false),
        (2, weth, 100 * E18, false),
        (3, usdc, 100_000 * E6, false),
        (3, usdt, 100_000 * E18, false),
    ];
    ensure_account(&maker, &maker_deposits).await.context("funding the market maker")?;
    let settings = ExchangeSettings {
        node_url: api_url.to_string(),
        data_dir: dir.to_path_buf(),
        submitter_secret: key(SUBMITTER)?,
        sub_account: SubAccountId(0),
        fee_token: "USD".into(),
        markets: markets(),
        batch: zklink_exchange::settle::MAX_BATCH,
    };
    let exchange = Exchange::start(settings).await.context("starting the devnet's exchange")?;
    let api = serve(free(listen)?, exchange.clone()).await.context("serving the exchange API")?;
    let maker = tokio::spawn(make_markets(maker, exchange.clone()));
    Ok(DevVenue { exchange, api, maker })
}

/// Quotes every market every [`QUOTE_EVERY`]: five bids and five asks around a mid price that
/// drifts slowly, each in its own slot (a new quote replaces the slot's old one on the venue).
async fn make_markets(w: Wallet, ex: Exchange) {
    // (market, mid price in ticks): ETH and WETH near 3000 USD, USDC near 1 USDT.
    let mids: [(u32, u128); 3] = [(1, 300_000), (2, 299_950), (3, 10_000)];
    let mut round: u64 = 0;
    loop {
        round += 1;
        let slots = match w.account().await {
            Ok(Some(v)) => v.orders,
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "market maker: reading its account");
                tokio::time::sleep(QUOTE_EVERY).await;
                continue;
            }
        };
        for (i, &(market, mid)) in mids.iter().enumerate() {
            let Some((base, quote, tick, lot, fees)) = ({
                let v = ex.venue();
                v.market(MarketId(market)).map(|m| {
                    let m = &m.market;
                    (m.base, m.quote, m.spec.tick, m.spec.lot, (m.maker_fee_ratio, m.taker_fee_ratio))
                })
            }) else {
                continue;
            };
            // A slow drift of ±0.3 % around the mid.
            let drift = (round % 12) as i128 - 6;
            let mid = (mid as i128 + mid as i128 * drift / 2000) as u128;
            for level in 0..10u16 {
                let sell = level >= 5;
                let step = u128::from(level % 5) + 1;
                let ticks = if sell { mid + step * (mid / 1000).max(1) } else { mid - step * (mid / 1000).max(1) };
                let size_lots: u128 = if market == 3 { 1000 * step } else { 200 * step };
                let slot = (i as u16) * 10 + level + 1;
                let state = slots.iter().find(|s| s.sub_account == 0 && s.slot == slot);
                let (nonce, residue) = state.map_or((0, 0), |s| (s.nonce, s.residue.parse::<u128>().unwrap_or(0)));
                let nonce = if residue == 0 { nonce } else { nonce + 1 };
                let signed = w.sign_order(slot, nonce, base, quote, size_lots * lot, ticks * tick, sell, fees).await;
                let order = match signed {
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
