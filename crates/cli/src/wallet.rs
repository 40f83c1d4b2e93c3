//! `zklink wallet`: a user's commands against a node's API (and a chain's RPC for L1 calls).
//!
//! Tokens are named by symbol or id (`--token USDC` or `--token 17`) and amounts are given and
//! shown in whole tokens with their symbol. L1 calls go to `--l1` if given, else to the endpoint
//! the node publishes for the chain; either way only after the endpoint proved to be that chain.
//!
//! `buy`, `sell`, `cancel`, `orders`, `book`, `trades` and `markets` talk to an order-book venue
//! (`--exchange`): markets by symbol (`WETH/USD`) or id, amounts in whole base, prices in whole
//! quote per base; the order slot and its nonce are chosen unless `--slot` names one. `buy` and
//! `sell` take `--expires-in`, and `cancel --hard` cancels an order for good on L2 (a
//! `CancelOrder` tx through the venue).
//!
//! `pools`, `pool create|add|remove` and `swap` use the node's AMM pools ([`pools`]): pools by id
//! or pair, amounts in whole tokens, limits signed from a fresh quote less a slippage tolerance,
//! valid for a few minutes.

mod pools;

use alloy::primitives::B256;
use alloy::transports::http::reqwest::Url;
use anyhow::{bail, Context};
use zklink_sdk::venue::{
    market_symbols, valid_until_in, HardCancelled, MarketView, OrderStatus, OrderView, Placed, Settlement, Trade,
    EXPIRY_MARGIN_MS,
};
use zklink_sdk::{format_units, parse_units, OrderHash, OrderType, PendingBalance, SdkError, Side, Venue, Wallet};
use zklink_types::api::{Stage, TxStatusView};
use zklink_types::{Address, ChainId, Order, TokenId, TxHash, USD_TOKEN_ID};

/// Options of `zklink wallet`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's JSON-RPC API.
    #[arg(long, env = "ZKLINK_API", default_value = "http://127.0.0.1:3030")]
    api: String,
    /// The L1 secret key (hex); the L2 key is derived from it.
    #[arg(long, env = "ZKLINK_KEY", hide_env_values = true)]
    key: B256,
    /// The order-book venue's JSON-RPC API (buy, sell, cancel, orders, book, trades, markets).
    #[arg(long, env = "ZKLINK_EXCHANGE", default_value = "http://127.0.0.1:3040")]
    exchange: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Leave without the operator: restore the state from L1 (continuing in --state), then on
    /// every chain switch to exodus once a request has expired there, refund unexecuted
    /// deposits, prove and submit each of this address's exits, and claim what was credited.
    /// Talks to the chains only, never to the node.
    Exodus(crate::restore::ExodusArgs),
    /// Show the L1 address and the L2 key hash.
    Address,
    /// Show the account's id, nonce, key, balances and order slots, and what is claimable on L1.
    Balances {
        /// As of the newest block executed on every chain (default: the latest state).
        #[arg(long)]
        executed: bool,
    },
    /// Show what each chain holds for withdrawals (its reserves).
    Reserves {
        /// Only this zklink chain.
        #[arg(long)]
        chain: Option<u8>,
    },
    /// Deposit on L1 (an L1 transaction to chain CHAIN's contract).
    Deposit {
        /// zklink chain id (1..).
        #[arg(long)]
        chain: u8,
        /// That chain's JSON-RPC endpoint (default: the one the node publishes).
        #[arg(long)]
        l1: Option<Url>,
        /// Token symbol or id (ETH, the native coin, is 33 on the devnet).
        #[arg(long)]
        token: String,
        /// Amount in whole tokens ("1.5").
        #[arg(long)]
        amount: String,
        /// Credit a stablecoin (ids 17..=31) as USD.
        #[arg(long)]
        usd: bool,
    },
    /// Mint a devnet's test token to this address on L1 (test tokens have a public mint).
    Mint {
        /// zklink chain id.
        #[arg(long)]
        chain: u8,
        /// That chain's JSON-RPC endpoint (default: the one the node publishes).
        #[arg(long)]
        l1: Option<Url>,
        /// Token symbol or id.
        #[arg(long)]
        token: String,
        /// Amount in whole tokens.
        #[arg(long)]
        amount: String,
    },
    /// Set the L2 key (authorised by an EIP-712 signature checked on CHAIN).
    Activate {
        /// zklink chain id whose contract checks the authorisation.
        #[arg(long, default_value_t = 1)]
        chain: u8,
    },
    /// Transfer on L2.
    Transfer {
        /// Receiver's address (its account is created if new).
        #[arg(long)]
        to: Address,
        /// Token symbol or id (USD = 1).
        #[arg(long)]
        token: String,
        /// Amount in whole tokens.
        #[arg(long)]
        amount: String,
        /// Fee in whole tokens of the same token (default: the node's estimate).
        #[arg(long)]
        fee: Option<String>,
    },
    /// Withdraw to this address on CHAIN; claim it there with `claim` once executed.
    Withdraw {
        /// zklink chain id to withdraw to.
        #[arg(long)]
        chain: u8,
        /// L2 token symbol or id (USD = 1).
        #[arg(long)]
        token: String,
        /// L1 token paid (default: the same; for USD the stablecoin the chain holds most of).
        #[arg(long = "as")]
        as_token: Option<String>,
        /// Amount in whole tokens.
        #[arg(long)]
        amount: String,
        /// Fee in whole tokens (default: the node's estimate).
        #[arg(long)]
        fee: Option<String>,
        /// Fast-withdrawal fee ratio in basis points (0: wait for execution).
        #[arg(long, default_value_t = 0)]
        fast_ratio: u16,
    },
    /// Claim on L1 what executed withdrawals and full exits left pending for this address.
    Claim {
        /// Only this zklink chain (default: every chain).
        #[arg(long)]
        chain: Option<u8>,
        /// The chain's JSON-RPC endpoint (with --chain; default: the one the node publishes).
        #[arg(long, requires = "chain")]
        l1: Option<Url>,
        /// Only this token (symbol or id).
        #[arg(long)]
        token: Option<String>,
    },
    /// Show where a tx (or an L1 deposit or full exit) is: queued, pending, or its block's stage on
    /// every chain with the L1 transactions; `--wait` follows it.
    Status {
        /// The L2 tx hash, or the L1 transaction hash of a deposit or full exit (0x…).
        hash: TxHash,
        /// Follow the tx until it reaches STAGE on every chain (default: executed), printing each
        /// stage as it is reached. Stages: queued, pending, sealed, committed, proven, synced,
        /// executed.
        #[arg(long, value_name = "STAGE", num_args = 0..=1, default_missing_value = "executed", value_parser = parse_stage)]
        wait: Option<Stage>,
        /// Stop waiting after this many seconds (an error).
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Show the fee the node takes for a tx type.
    Fee {
        /// Transfer, Withdraw, ChangePubKey, ForcedExit, OrderMatching, CancelOrder, CreatePool,
        /// AddLiquidity, RemoveLiquidity or Swap.
        #[arg(long, default_value = "Transfer")]
        r#type: String,
        /// Fee token symbol or id.
        #[arg(long, default_value = "USD")]
        token: String,
    },
    /// Sign a limit order and write it as JSON (for a matcher to submit with `match`).
    Order {
        /// Sell BASE (default: buy it).
        #[arg(long)]
        sell: bool,
        /// Base token symbol or id.
        #[arg(long)]
        base: String,
        /// Quote token symbol or id.
        #[arg(long, default_value = "USD")]
        quote: String,
        /// Base amount in whole tokens.
        #[arg(long)]
        amount: String,
        /// Price: quote per base, in whole tokens ("100.5").
        #[arg(long)]
        price: String,
        /// Order slot (each slot holds one live order).
        #[arg(long, default_value_t = 0)]
        slot: u16,
        /// The slot's order nonce (the current one continues a partly filled order).
        #[arg(long, default_value_t = 0)]
        nonce: u32,
        /// Maker and taker fee ratios accepted, over 10000.
        #[arg(long, default_value_t = 10)]
        maker_fee: u8,
        /// See `maker_fee`.
        #[arg(long, default_value_t = 20)]
        taker_fee: u8,
        /// The last second (Unix time) a block may fill the order in (default: it never expires).
        #[arg(long, value_name = "UNIX_SECONDS")]
        valid_until: Option<u32>,
        /// Where to write the signed order.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Match two signed orders (files from `order`): this account submits and collects the
    /// trading fees.
    Match {
        /// The resting order.
        #[arg(long)]
        maker: std::path::PathBuf,
        /// The crossing order.
        #[arg(long)]
        taker: std::path::PathBuf,
        /// Fee token symbol or id.
        #[arg(long, default_value = "USD")]
        fee_token: String,
    },
    /// Buy on the exchange (`--exchange`): a signed order at the market's fee ratios, in a free
    /// order slot (from 1 up) with the nonce the slot needs; prints what traded and what rests.
    /// Every order needs --price; a market order's is its protective worst price.
    Buy(TradeArgs),
    /// Sell on the exchange (as `buy`).
    Sell(TradeArgs),
    /// Cancel an open order on the exchange by its hash, or every open order (`--all`, of one
    /// market with `--market`); `--hard` cancels an order for good, on L2.
    ///
    /// A plain (soft) cancel is free and immediate, but only the exchange forgets the order: its
    /// signature stays valid on L2 until its order slot's nonce moves. The exchange's journal is
    /// public, so anyone holding the signed order could still have it filled through another
    /// operator (`zklink wallet match` is one).
    ///
    /// `--hard` moves that nonce: it signs a CancelOrder L2 tx for the order's slot up to the
    /// highest order nonce this account used there, and the exchange sends it to the node and
    /// then cancels the slot's open orders. Once the node applied it, no operator can ever fill an
    /// order of that slot signed with such a nonce (the validity proof enforces it). It costs an
    /// L2 tx of this account: the account's next nonce and the node's network fee for a
    /// CancelOrder (`zklink wallet fee --type CancelOrder`), paid in --fee-token. It also works on
    /// an order already soft-cancelled, not on a filled one.
    Cancel {
        /// The order's hash (0x…, as `orders` shows it).
        #[arg(required_unless_present = "all", conflicts_with = "all", value_parser = parse_order_hash)]
        hash: Option<OrderHash>,
        /// Cancel the order for good on L2 with a CancelOrder tx (an L2 fee; see above).
        #[arg(long, requires = "hash")]
        hard: bool,
        /// With --hard: the token the network fee is paid in (symbol or id).
        #[arg(long, requires = "hard", default_value = "USD")]
        fee_token: String,
        /// Cancel every open order of this account.
        #[arg(long)]
        all: bool,
        /// With --all: only in this market (symbol or id).
        #[arg(long, requires = "all")]
        market: Option<String>,
    },
    /// Show this account's open orders on the exchange, oldest first (`--all`: its recent orders
    /// of any status, newest first).
    Orders {
        /// Every recent order, not only the open ones.
        #[arg(long)]
        all: bool,
        /// Only this market (symbol or id).
        #[arg(long)]
        market: Option<String>,
        /// With --all: how many of the newest (at most 1000).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show a market's order book: bids and asks side by side, best first.
    Book {
        /// The market: symbol ("WETH/USD") or id.
        market: String,
        /// Price levels per side.
        #[arg(long, default_value_t = 10)]
        depth: usize,
    },
    /// Show a market's recent trades, newest first.
    Trades {
        /// The market: symbol ("WETH/USD") or id.
        market: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Show the exchange's markets: symbol, tick, lot, minimum order, fee ratios.
    Markets,
    /// Show the AMM pools: pair, reserves in whole tokens, price both ways, fee, LP token and
    /// share supply.
    Pools,
    /// Create an AMM pool, deposit into one, or burn LP shares (`pool create|add|remove --help`).
    #[command(subcommand)]
    Pool(pools::PoolCommand),
    /// Swap against an AMM pool: pay exactly AMOUNT TOKEN for at least the quoted output less the
    /// slippage tolerance, or with --exact-out receive exactly AMOUNT TOKEN for at most the quoted
    /// input plus it.
    ///
    /// `zklink wallet swap WETH/USD 0.1 WETH` sells exactly 0.1 WETH for USD; `zklink wallet swap
    /// WETH/USD 300 USD --exact-out` buys exactly 300 USD with WETH. `--dry-run` prints the quote:
    /// both amounts, the price against the pool's spot price (the price impact, the swap fee
    /// included), the swap fee's split between the liquidity providers and the protocol, and the
    /// network fee, which is paid in the token paid, on top.
    #[command(after_help = pools::LIMITS_HELP)]
    Swap(pools::SwapArgs),
    /// Request on L1 a full exit of a token to CHAIN (works even if the operator ignores L2 txs).
    FullExit {
        /// zklink chain id.
        #[arg(long)]
        chain: u8,
        /// That chain's JSON-RPC endpoint (default: the one the node publishes).
        #[arg(long)]
        l1: Option<Url>,
        /// L2 token symbol or id.
        #[arg(long)]
        token: String,
        /// L1 token paid (default: the same).
        #[arg(long = "as")]
        as_token: Option<String>,
    },
}

/// `buy` and `sell`.
#[derive(clap::Args)]
struct TradeArgs {
    /// The market: its symbol ("WETH/USD") or id (`zklink wallet markets` lists them).
    market: String,
    /// Base amount in whole tokens ("0.4"): a multiple of the market's lot, at least its minimum.
    amount: String,
    /// Price in whole quote per base ("3000"), required: the limit price, on the market's tick
    /// grid; for `--type market` the protective worst price (a buy pays at most this, a sell
    /// receives at least this; it need not be on the grid).
    #[arg(long)]
    price: Option<String>,
    /// limit: rests what does not trade at once; ioc: cancels it; fok: trades all at once or
    /// nothing; post-only: only rests (refused if it would trade); market: an ioc up to --price.
    #[arg(long = "type", value_enum, default_value_t = Kind::Limit)]
    kind: Kind,
    /// The order slot (default: a free one from 1 up, an empty one first); an open order in the
    /// slot named is replaced.
    #[arg(long)]
    slot: Option<u16>,
    /// The order expires this long from now (`30s`, `5m`, `1h`, `2d`): no block after that may fill
    /// it, and the exchange stops matching it 2 s before and takes it off the book (default: it
    /// never expires).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    expires_in: Option<std::time::Duration>,
}

/// `--expires-in`, `--valid-for`: a whole number with a unit, `s`, `m`, `h` or `d`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{s:?} is not a duration: a whole number with a unit, as in 30s, 5m, 1h or 2d");
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(per).filter(|secs| *secs > 0).map(std::time::Duration::from_secs).ok_or_else(bad)
}

/// `--type`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    Limit,
    Ioc,
    Fok,
    PostOnly,
    Market,
}

impl Kind {
    fn order_type(self) -> OrderType {
        match self {
            Kind::Limit => OrderType::Limit,
            Kind::Ioc => OrderType::Ioc,
            Kind::Fok => OrderType::Fok,
            Kind::PostOnly => OrderType::PostOnly,
            Kind::Market => OrderType::Market,
        }
    }
}

/// An order hash as `orders` prints it.
fn parse_order_hash(s: &str) -> Result<OrderHash, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("{s:?} is not an order hash (0x and 64 hex digits, as `zklink wallet orders` shows)"))
}

/// `amount` (L2 units) in whole tokens with the token's symbol: "3.5 USDC".
fn units(w: &Wallet, amount: u128, token: TokenId) -> String {
    zklink_types::describe::amount(w.network(), amount, Some(token))
}

/// A pending balance in whole tokens with its symbol.
fn pending_units(w: &Wallet, p: &PendingBalance) -> String {
    format!("{} {}", format_units(p.amount, p.decimals), w.symbol(p.token))
}

/// Runs a wallet command and prints its outcome.
pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    if let Command::Exodus(exodus) = args.command {
        return crate::restore::exodus(exodus, &args.key).await;
    }
    let w = Wallet::connect(&args.api, &args.key.0)
        .await
        .with_context(|| format!("connecting to the node's API at {}", args.api))?;
    let l2 = |s: &str| parse_units(s, 18);
    let token = |s: &str| w.parse_token(s);
    match args.command {
        Command::Address => {
            println!("address      {}", w.address());
            println!("L2 key hash  {}", w.pubkey_hash());
        }
        Command::Balances { executed } => balances(&w, executed).await?,
        Command::Reserves { chain } => reserves(&w, chain.map(ChainId)).await?,
        Command::Deposit { chain, l1, token: name, amount, usd } => {
            let token = token(&name)?;
            let (_, decimals) = w.token_on_chain(token, ChainId(chain))?;
            let l1_amount = parse_units(&amount, decimals)?;
            let tx = w
                .deposit(ChainId(chain), l1, token, l1_amount, usd)
                .await
                .with_context(|| format!("depositing {amount} {} on chain {chain}", w.symbol(token)))?;
            let credited = if usd { "USD".to_string() } else { w.symbol(token) };
            println!(
                "deposited {amount} {} on chain {chain} (L1 tx {tx}); credited as {credited} once the node takes \
                 the request (`zklink wallet status {tx} --wait` follows it)",
                w.symbol(token)
            );
        }
        Command::Mint { chain, l1, token: name, amount } => {
            let token = token(&name)?;
            let (_, decimals) = w.token_on_chain(token, ChainId(chain))?;
            let tx = w
                .mint(ChainId(chain), l1, token, parse_units(&amount, decimals)?)
                .await
                .with_context(|| format!("minting {amount} {} on chain {chain}", w.symbol(token)))?;
            println!("minted {amount} {} to {} on chain {chain} (L1 tx {tx})", w.symbol(token), w.address());
        }
        Command::Activate { chain } => {
            let hash = w.change_pubkey(ChainId(chain), USD_TOKEN_ID, 0).await.context("setting the L2 key")?;
            println!("L2 key set: tx {hash:?}");
        }
        Command::Transfer { to, token: name, amount, fee } => {
            let token = token(&name)?;
            let fee = fee_or_estimate(&w, fee, "Transfer", token).await?;
            let hash = w.transfer(to, token, l2(&amount)?, fee).await.context("submitting the transfer")?;
            println!(
                "transferred {} to {to} (fee {}): tx {hash:?}",
                units(&w, l2(&amount)?, token),
                units(&w, fee, token)
            );
        }
        Command::Withdraw { chain, token: name, as_token, amount, fee, fast_ratio } => {
            let (chain, token, value) = (ChainId(chain), token(&name)?, l2(&amount)?);
            let (l1_token, chosen) = match as_token {
                Some(t) => (w.parse_token(&t)?, false),
                None if token == USD_TOKEN_ID => {
                    (w.usd_payout(chain, value).await.context("choosing the stablecoin to be paid in")?, true)
                }
                None => (token, false),
            };
            let fee = fee_or_estimate(&w, fee, "Withdraw", token).await?;
            let hash = w
                .withdraw(chain, token, l1_token, value, fee, fast_ratio)
                .await
                .context("submitting the withdrawal")?;
            let how = if chosen { format!(", the stablecoin chain {chain} holds enough of") } else { String::new() };
            println!(
                "withdrawal of {} to chain {chain}, paid as {}{how}: tx {hash:?}",
                units(&w, value, token),
                w.symbol(l1_token)
            );
            let claim = format!("`zklink wallet claim --chain {chain}`");
            if fast_ratio > 0 {
                println!(
                    "next: an acceptor may pay it on chain {chain} at once, keeping {}.{:02} %; if none does, it \
                     becomes claimable there once its block is executed: {claim}",
                    fast_ratio / 100,
                    fast_ratio % 100
                );
            } else {
                println!(
                    "next: it becomes claimable on chain {chain} once its block is executed there (`zklink wallet \
                     status {hash:?}` shows the stages; tens of seconds on a devnet); then {claim} pays it out"
                );
            }
        }
        Command::Claim { chain, l1, token: name } => {
            let token = name.as_deref().map(token).transpose()?;
            claim(&w, chain.map(ChainId), l1, token).await?;
        }
        Command::Status { hash, wait: None, .. } => match w.tx_status(hash).await.context("reading the tx status")? {
            None => println!(
                "the node does not know {hash:?}: never accepted or refused, or (an L1 deposit or full exit) \
                 not taken yet"
            ),
            Some(s) => print_status(&s),
        },
        Command::Status { hash, wait: Some(target), timeout } => {
            follow(&w, hash, target, std::time::Duration::from_secs(timeout)).await?;
        }
        Command::Fee { r#type, token: name } => {
            let token = token(&name)?;
            let fee = w.estimate_fee(&r#type, token).await.context("reading the fee")?;
            println!("{type} fee: {}", units(&w, fee, token), type = r#type);
        }
        Command::Order { sell, base, quote, amount, price, slot, nonce, maker_fee, taker_fee, valid_until, out } => {
            let (base, quote) = (token(&base)?, token(&quote)?);
            let until = valid_until.unwrap_or(Order::NO_EXPIRY);
            let order = w
                .sign_order_until(
                    slot,
                    nonce,
                    base,
                    quote,
                    l2(&amount)?,
                    l2(&price)?,
                    sell,
                    (maker_fee, taker_fee),
                    until,
                )
                .await
                .context("signing the order")?;
            let json = serde_json::to_string_pretty(&order).context("encoding the order")?;
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            let side = if sell { "sell" } else { "buy" };
            let expiry = valid_until.map_or_else(String::new, |t| format!(", valid until {t} (Unix seconds)"));
            println!(
                "signed: {side} {amount} {} at {price} {} (slot {slot}{expiry}) → {}",
                w.symbol(base),
                w.symbol(quote),
                out.display()
            );
        }
        Command::Match { maker, taker, fee_token } => {
            let read = |p: &std::path::Path| -> anyhow::Result<Order> { crate::node::read_json(p, "signed order") };
            let fee_token = token(&fee_token)?;
            let fee = fee_or_estimate(&w, None, "OrderMatching", fee_token).await?;
            let hash = w
                .match_orders(read(&maker)?, read(&taker)?, fee_token, fee)
                .await
                .context("submitting the order matching")?;
            println!("orders matched: tx {hash:?}");
        }
        Command::FullExit { chain, l1, token: name, as_token } => {
            let token = token(&name)?;
            let l1_token = as_token.as_deref().map(|t| w.parse_token(t)).transpose()?.unwrap_or(token);
            let tx = w
                .request_full_exit(ChainId(chain), l1, l1_token, token)
                .await
                .with_context(|| format!("requesting the full exit on chain {chain}"))?;
            println!(
                "full exit of {} requested on chain {chain} (L1 tx {tx}), paid as {}; once the node takes it and \
                 its block is executed there, `zklink wallet claim --chain {chain}` pays it out",
                w.symbol(token),
                w.symbol(l1_token)
            );
        }
        Command::Pools => pools::pools(&w).await?,
        Command::Pool(command) => pools::pool(&w, command).await?,
        Command::Swap(a) => pools::swap(&w, a).await?,
        Command::Buy(t) => trade(&w, &args.exchange, Side::Buy, t).await?,
        Command::Sell(t) => trade(&w, &args.exchange, Side::Sell, t).await?,
        Command::Cancel { hash: Some(hash), hard: true, fee_token, .. } => {
            cancel_hard(&w, &venue(&w, &args.exchange)?, hash, token(&fee_token)?).await?;
        }
        Command::Cancel { hash, all: _, market, .. } => cancel(&venue(&w, &args.exchange)?, hash, market).await?,
        Command::Orders { all, market, limit } => orders(&venue(&w, &args.exchange)?, all, market, limit).await?,
        Command::Book { market, depth } => book(&venue(&w, &args.exchange)?, &market, depth).await?,
        Command::Trades { market, limit } => trades(&venue(&w, &args.exchange)?, &market, limit).await?,
        Command::Markets => markets(&venue(&w, &args.exchange)?).await?,
        // Taken above, before connecting: it must work with the node gone.
        Command::Exodus(exodus) => crate::restore::exodus(exodus, &args.key).await?,
    }
    Ok(())
}

/// The venue client at `url`.
fn venue<'w>(w: &'w Wallet, url: &str) -> anyhow::Result<Venue<'w>> {
    w.venue(url).with_context(|| format!("connecting to the exchange at {url}"))
}

/// `buy` / `sell`.
async fn trade(w: &Wallet, url: &str, side: Side, t: TradeArgs) -> anyhow::Result<()> {
    let Some(price) = t.price else {
        if t.kind == Kind::Market {
            bail!(
                "a market order needs --price: its protective worst price in quote per base (a buy pays at most \
                 it, a sell receives at least it); it trades at the book's prices up to it"
            );
        }
        bail!("the order needs --price: its limit price in quote per base (\"3000\")");
    };
    let v = venue(w, url)?;
    let valid_until = t.expires_in.map(valid_until_in).transpose().context("--expires-in")?;
    let request = Trade {
        market: t.market,
        side,
        amount: t.amount,
        price,
        order_type: t.kind.order_type(),
        slot: t.slot,
        valid_until,
    };
    let what = if side == Side::Buy { "buy" } else { "sell" };
    let placed = v.trade(&request).await.with_context(|| format!("placing the {what} order on {url}"))?;
    print_placed(side, &placed);
    Ok(())
}

/// The fills' prices: "3000 USD", or "2999.5–3000 USD (1199.9 USD in all)".
fn fill_prices(o: &OrderView, quote: &str) -> String {
    let fills: Vec<_> = o.fills.iter().filter(|f| f.settlement != Settlement::Refused).collect();
    let raw = |s: &str| parse_units(s, 18).unwrap_or(0);
    let (Some(low), Some(high)) =
        (fills.iter().min_by_key(|f| raw(&f.price)), fills.iter().max_by_key(|f| raw(&f.price)))
    else {
        return format!("{} {quote}", o.price);
    };
    if low.price == high.price {
        return format!("{} {quote}", low.price);
    }
    let total: u128 = fills.iter().map(|f| raw(&f.quote)).sum();
    format!("{}–{} {quote} ({} {quote} in all)", low.price, high.price, format_units(total, 18))
}

fn print_placed(side: Side, p: &Placed) {
    let (base, quote) = market_symbols(&p.market);
    let o = &p.order;
    let (verb, noun) = if side == Side::Buy { ("bought", "buy") } else { ("sold", "sell") };
    let filled = parse_units(&o.filled, 18).unwrap_or(0);
    let rest = match o.status {
        OrderStatus::Open => format!("; {} {base} rests in the book at {} {quote}", o.remaining, o.price),
        OrderStatus::Cancelled if o.filled != o.size => {
            format!("; the rest was cancelled: {}", o.reason.as_deref().unwrap_or("no reason given"))
        }
        _ => String::new(),
    };
    if filled > 0 {
        let id = format!("order {}, filled {} of {}{rest}", o.hash, o.filled, o.size);
        println!("{verb} {} {base} at {} ({id})", o.filled, fill_prices(o, quote));
    } else if o.status == OrderStatus::Open {
        println!("{noun} order for {} {base} at {} {quote} rests in the book (order {})", o.size, o.price, o.hash);
    } else {
        let reason = o.reason.as_deref().unwrap_or("no reason given");
        println!("{verb} nothing: the order was cancelled: {reason} (order {})", o.hash);
    }
    println!(
        "  {}, slot {} nonce {}, fee ratios {}/{} (maker/taker, per 10^4){}",
        p.market.symbol,
        o.slot,
        o.nonce,
        o.order.maker_fee_ratio,
        o.order.taker_fee_ratio,
        expiry_text(&o.order)
    );
    if let Some(r) = &p.replaced {
        println!(
            "  replaced order {} ({} {} {base} at {} {quote}) in slot {}",
            r.hash,
            side_name(r.side),
            r.size,
            r.price,
            r.slot
        );
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// ", expires at T (Unix seconds; the exchange stops matching it 2 s before)", or nothing for an
/// order that does not expire.
fn expiry_text(order: &Order) -> String {
    order.expires_at().map_or_else(String::new, |until| {
        format!(
            ", expires at {until} (Unix seconds; the exchange stops matching it {} s before)",
            EXPIRY_MARGIN_MS / 1000
        )
    })
}

/// One order on one line: "0x…  WETH/USD  sell 1 WETH at 3000 USD  limit  filled 0.6  open".
fn order_line(o: &OrderView) -> String {
    let (base, quote) = o.symbol.split_once('/').unwrap_or((o.symbol.as_str(), ""));
    let kind = match o.order_type {
        OrderType::Limit => "limit",
        OrderType::Ioc => "ioc",
        OrderType::Fok => "fok",
        OrderType::PostOnly => "post-only",
        OrderType::Market => "market",
    };
    let status = match (&o.reason, o.status) {
        (Some(reason), OrderStatus::Cancelled) => format!("cancelled: {reason}"),
        (_, status) => status.name().to_string(),
    };
    let until = o.order.expires_at().map_or_else(String::new, |t| format!("  valid until {t}"));
    format!(
        "{}  {}  {} {} {base} at {} {quote}  {kind}  filled {}  slot {} nonce {}{until}  {status}",
        o.hash,
        o.symbol,
        side_name(o.side),
        o.size,
        o.price,
        o.filled,
        o.slot,
        o.nonce
    )
}

/// A cancelled order: "order 0x… (WETH/USD sell 0.5 WETH at 3100 USD, filled 0 of 0.5, slot 2)".
fn cancelled_line(o: &OrderView) -> String {
    let (base, quote) = o.symbol.split_once('/').unwrap_or((o.symbol.as_str(), ""));
    format!(
        "order {} ({} {} {} {base} at {} {quote}, filled {} of {}, slot {})",
        o.hash,
        o.symbol,
        side_name(o.side),
        o.size,
        o.price,
        o.filled,
        o.size,
        o.slot
    )
}

/// `cancel`.
async fn cancel(v: &Venue<'_>, hash: Option<OrderHash>, market: Option<String>) -> anyhow::Result<()> {
    let url = v.url();
    if let Some(hash) = hash {
        let o = v.cancel(hash).await.with_context(|| format!("cancelling order {hash} on {url}"))?;
        println!("cancelled {}", cancelled_line(&o));
        return Ok(());
    }
    let market = match market {
        Some(name) => Some(v.market(&name).await.with_context(|| format!("reading the markets of {url}"))?),
        None => None,
    };
    let cancelled =
        v.cancel_all(market.as_ref().map(|m| m.id)).await.with_context(|| format!("cancelling orders on {url}"))?;
    let scope = market.map_or_else(|| "in any market".to_string(), |m| format!("in {}", m.symbol));
    if cancelled.is_empty() {
        println!("no open orders {scope} to cancel");
    }
    for o in &cancelled {
        println!("cancelled {}", cancelled_line(o));
    }
    Ok(())
}

/// `cancel HASH --hard`.
async fn cancel_hard(w: &Wallet, v: &Venue<'_>, hash: OrderHash, fee_token: TokenId) -> anyhow::Result<()> {
    let url = v.url();
    let HardCancelled { tx, tx_hash, cancelled } =
        v.cancel_hard(hash, fee_token).await.with_context(|| format!("hard-cancelling order {hash} on {url}"))?;
    println!(
        "hard-cancelled order slot {} up to order nonce {} on L2: CancelOrder tx {tx_hash:?}, fee {}",
        tx.slot_id,
        tx.order_nonce,
        units(w, tx.fee, tx.fee_token)
    );
    println!(
        "  no operator can fill an order of slot {} signed with nonce {} or lower any more",
        tx.slot_id, tx.order_nonce
    );
    if cancelled.is_empty() {
        println!("  the exchange had no open order there (order {hash} was not open)");
    }
    for o in &cancelled {
        println!("cancelled {}", cancelled_line(o));
    }
    Ok(())
}

/// `orders`.
async fn orders(v: &Venue<'_>, all: bool, market: Option<String>, limit: usize) -> anyhow::Result<()> {
    let url = v.url();
    let market = match market {
        Some(name) => Some(v.market(&name).await.with_context(|| format!("reading the markets of {url}"))?),
        None => None,
    };
    let list = if all {
        let mut list = v.orders(Some(limit)).await.with_context(|| format!("reading the orders on {url}"))?;
        list.retain(|o| market.as_ref().is_none_or(|m| m.id == o.market));
        list
    } else {
        v.open_orders(market.as_ref().map(|m| m.id))
            .await
            .with_context(|| format!("reading the open orders on {url}"))?
    };
    let scope = market.map_or_else(String::new, |m| format!(" in {}", m.symbol));
    match (list.is_empty(), all) {
        (true, false) => println!("no open orders{scope}"),
        (true, true) => println!("no orders{scope}"),
        (false, false) => println!("open orders{scope}, oldest first:"),
        (false, true) => println!("orders{scope}, newest first:"),
    }
    for o in &list {
        println!("  {}", order_line(o));
    }
    Ok(())
}

/// `book`: bids and asks side by side.
async fn book(v: &Venue<'_>, name: &str, depth: usize) -> anyhow::Result<()> {
    let url = v.url();
    let m = v.market(name).await.with_context(|| format!("reading the markets of {url}"))?;
    let b = v.book(m.id, Some(depth)).await.with_context(|| format!("reading the {} book on {url}", m.symbol))?;
    let (base, quote) = market_symbols(&m);
    println!("{} order book (change {}): sizes in {base}, prices in {quote}", b.symbol, b.seq);
    println!("{:>20} {:>16}  |  {:<16} size", "size", "bid", "ask");
    for i in 0..b.bids.len().max(b.asks.len()) {
        let (bid_size, bid) = b.bids.get(i).map_or(("", ""), |l| (l.1.as_str(), l.0.as_str()));
        let (ask, ask_size) = b.asks.get(i).map_or(("", ""), |l| (l.0.as_str(), l.1.as_str()));
        println!("{}", format!("{bid_size:>20} {bid:>16}  |  {ask:<16} {ask_size}").trim_end());
    }
    if b.bids.is_empty() && b.asks.is_empty() {
        println!("{:>37}  |  (empty)", "(empty)");
    }
    Ok(())
}

/// `trades`.
async fn trades(v: &Venue<'_>, name: &str, limit: usize) -> anyhow::Result<()> {
    let url = v.url();
    let m = v.market(name).await.with_context(|| format!("reading the markets of {url}"))?;
    let list =
        v.trades(m.id, Some(limit)).await.with_context(|| format!("reading the {} trades on {url}", m.symbol))?;
    let (base, quote) = market_symbols(&m);
    if list.is_empty() {
        println!("no trades in {} yet", m.symbol);
        return Ok(());
    }
    println!("{} trades, newest first (UTC; the taker's side):", m.symbol);
    for t in &list {
        let secs = t.time_ms / 1000 % 86_400;
        let refused = if t.refused { "  (refused by the node: it did not happen)" } else { "" };
        println!(
            "  {:02}:{:02}:{:02}  {:<4} {:>16} {base} at {} {quote}{refused}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            side_name(t.taker_side),
            t.size,
            t.price
        );
    }
    Ok(())
}

/// A fee ratio per 10^4 as a percentage: "0.10 %".
fn percent(ratio: u8) -> String {
    format!("{}.{:02} %", ratio / 100, ratio % 100)
}

/// `markets`.
async fn markets(v: &Venue<'_>) -> anyhow::Result<()> {
    let list: Vec<MarketView> = v.markets().await.with_context(|| format!("reading the markets of {}", v.url()))?;
    if list.is_empty() {
        println!("the exchange lists no markets");
    }
    for m in &list {
        let (base, quote) = market_symbols(m);
        println!(
            "market {}  {}  tick {} {quote}  lot {} {base}  minimum {} {base}  fees {} maker, {} taker  \
             (sub-account {})",
            m.id,
            m.symbol,
            m.tick,
            m.lot,
            m.min_size,
            percent(m.maker_fee_ratio),
            percent(m.taker_fee_ratio),
            m.sub_account
        );
    }
    Ok(())
}

/// The L2 account, then per chain what is claimable on L1.
async fn balances(w: &Wallet, executed: bool) -> anyhow::Result<()> {
    let account = if executed { w.account_executed().await } else { w.account().await };
    match account.context("reading the account")? {
        None => println!("{} has no L2 account yet: deposit to it first", w.address()),
        Some(a) => {
            let key = if a.has_key() { "set" } else { "not set (run `zklink wallet activate`)" };
            let when = a.executed_block.map_or_else(|| "latest".into(), |b| format!("executed up to block {b}"));
            println!("account {}  nonce {}  L2 key {key}  ({when})", a.id, a.nonce);
            let tokens: Vec<u16> = a.balances.iter().map(|b| b.token).collect();
            let lp = pools::lp_names(w, &tokens).await;
            for b in &a.balances {
                let amount = format_units(b.amount.parse().unwrap_or(0), 18);
                let name = lp
                    .iter()
                    .find(|(t, _)| *t == b.token)
                    .map_or_else(|| w.symbol(TokenId(b.token)), |(_, n)| n.clone());
                println!("  sub-account {}  {:>28} {name}", b.sub_account, amount);
            }
            for o in &a.orders {
                let residue = format_units(o.residue.parse().unwrap_or(0), 18);
                println!("  sub-account {}  order slot {} (nonce {}): {residue} open", o.sub_account, o.slot, o.nonce);
            }
        }
    }
    println!("claimable on L1 (executed withdrawals and exits; `zklink wallet claim` pays them out):");
    for chain in w.network().chains.iter().map(|c| c.id) {
        match w.pending_balances(chain, None, None).await {
            Ok(pending) if pending.is_empty() => println!("  chain {chain}  nothing"),
            Ok(pending) => {
                let list: Vec<String> = pending.iter().map(|p| pending_units(w, p)).collect();
                println!("  chain {chain}  {}", list.join(", "));
            }
            Err(e @ SdkError::NoL1Endpoint { .. }) => {
                println!("  chain {chain}  unknown: {e}");
            }
            Err(e) => println!("  chain {chain}  unknown: reading it failed: {e}"),
        }
    }
    Ok(())
}

/// Every chain's (or one chain's) reserves by symbol.
async fn reserves(w: &Wallet, chain: Option<ChainId>) -> anyhow::Result<()> {
    if let Some(c) = chain {
        w.network().check_chain(c)?;
    }
    let reserves = w.reserves(chain).await.context("reading the reserves")?;
    println!("what each chain's contract holds for withdrawals:");
    for info in w.network().chains.iter().filter(|c| chain.is_none_or(|only| only == c.id)) {
        let held: Vec<String> = reserves
            .iter()
            .filter(|r| r.chain == info.id && r.amount != 0)
            .map(|r| {
                let usd = if r.for_usd { " (pays USD withdrawals)" } else { "" };
                format!("{}{usd}", units(w, r.amount, r.token))
            })
            .collect();
        let held = if held.is_empty() { "nothing".to_string() } else { held.join(", ") };
        println!("  chain {}  {held}", info.id);
    }
    Ok(())
}

/// Claims what is pending on `chain` (or every chain) of `token` (or every token).
async fn claim(w: &Wallet, chain: Option<ChainId>, l1: Option<Url>, token: Option<TokenId>) -> anyhow::Result<()> {
    let chains: Vec<ChainId> = match chain {
        Some(c) => vec![c],
        None => w.network().chains.iter().map(|c| c.id).collect(),
    };
    let mut failed = Vec::new();
    let mut claimed_any = false;
    for c in chains {
        match w.claim(c, l1.clone(), token).await {
            Ok(claimed) => {
                for (p, tx) in &claimed {
                    println!("claimed {} on chain {c} (L1 tx {tx})", pending_units(w, p));
                }
                claimed_any |= !claimed.is_empty();
            }
            Err(e) if chain.is_none() && matches!(e, SdkError::NoL1Endpoint { .. }) => {
                println!("chain {c}: skipped: {e}");
            }
            Err(e) => failed.push(format!("chain {c}: {e}")),
        }
    }
    if !failed.is_empty() {
        bail!("claiming failed on {}", failed.join("; "));
    }
    if !claimed_any {
        let what = token.map_or_else(|| "anything".to_string(), |t| w.symbol(t));
        let where_ = chain.map_or_else(|| "any chain".to_string(), |c| format!("chain {c}"));
        println!(
            "nothing to claim: {} has no pending balance of {what} on {where_} (a withdrawal becomes claimable \
             once its block is executed on its chain)",
            w.address()
        );
    }
    Ok(())
}

/// The fee given in whole tokens, or the node's estimate.
async fn fee_or_estimate(w: &Wallet, fee: Option<String>, kind: &str, token: TokenId) -> anyhow::Result<u128> {
    Ok(match fee {
        Some(f) => parse_units(&f, 18).context("--fee")?,
        None => w.estimate_fee(kind, token).await.with_context(|| format!("estimating the {kind} fee"))?,
    })
}

/// A stage as the API names it (`sealed`, `executed`…).
fn stage_name(stage: Stage) -> String {
    serde_json::to_value(stage).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `--wait STAGE`: a stage named as the API names it.
fn parse_stage(s: &str) -> Result<Stage, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("{s:?} is not a stage: queued, pending, sealed, committed, proven, synced or executed"))
}

/// Follows tx (or L1 request) `hash` until it reaches `target` on every chain or fails, printing
/// each stage when it is reached, for at most `limit`.
async fn follow(w: &Wallet, hash: TxHash, target: Stage, limit: std::time::Duration) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let mut last: Option<(Stage, Vec<Stage>)> = None;
    let mut said_unknown = false;
    loop {
        let status = w.tx_status(hash).await.context("reading the tx status")?;
        match &status {
            None if !said_unknown => {
                println!(
                    "{hash:?}: not known to the node yet (an L1 deposit or full exit is taken once its block is \
                     confirmed); waiting…"
                );
                said_unknown = true;
            }
            None => {}
            Some(s) => {
                let now = (s.stage, s.chains.iter().map(|c| c.stage).collect::<Vec<_>>());
                if last.as_ref() != Some(&now) {
                    print!("[{:>6.1} s] ", start.elapsed().as_secs_f64());
                    print_status(s);
                    last = Some(now);
                }
                if let Some(reason) = &s.failed {
                    bail!("tx {hash:?} failed: {reason}");
                }
                if s.stage >= target {
                    println!("reached {} after {:.1} s", stage_name(target), start.elapsed().as_secs_f64());
                    return Ok(());
                }
            }
        }
        if start.elapsed() >= limit {
            let at = last.map_or_else(|| "unknown to the node".to_owned(), |(stage, _)| stage_name(stage));
            bail!("tx {hash:?} did not reach {} within {limit:?} (it is {at})", stage_name(target));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn print_status(s: &TxStatusView) {
    let stage = stage_name(s.stage);
    match (&s.failed, s.block) {
        (Some(reason), _) => println!("tx {:?}: failed: {reason}", s.hash),
        (None, Some(block)) => println!("tx {:?}: {stage} (block {block}, op {})", s.hash, s.index.unwrap_or(0)),
        (None, None) => println!("tx {:?}: {stage}", s.hash),
    }
    for c in &s.chains {
        println!("  chain {}  {}", c.chain, stage_name(c.stage));
        let txs = [("commit", c.commit_tx), ("prove", c.prove_tx), ("sync", c.sync_tx), ("execute", c.execute_tx)];
        for (what, tx) in txs {
            if let Some(tx) = tx {
                println!("    {what:<8} {tx}");
            }
        }
    }
}
