//! `zklink wallet`: a user's commands against a node's API (and a chain's RPC for L1 calls).

use alloy::primitives::B256;
use alloy::transports::http::reqwest::Url;
use anyhow::Context;
use zklink_sdk::{format_units, parse_units, Wallet};
use zklink_types::api::TxStatusView;
use zklink_types::{Address, ChainId, Order, TokenId, TxHash};

/// Options of `zklink wallet`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The node's JSON-RPC API.
    #[arg(long, env = "ZKLINK_API", default_value = "http://127.0.0.1:3030")]
    api: String,
    /// The L1 secret key (hex); the L2 key is derived from it.
    #[arg(long, env = "ZKLINK_KEY", hide_env_values = true)]
    key: B256,
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
    /// Show the account's id, nonce, key, balances and order slots.
    Balances {
        /// As of the newest block executed on every chain (default: the latest state).
        #[arg(long)]
        executed: bool,
    },
    /// Deposit on L1 (an L1 transaction to chain CHAIN's contract).
    Deposit {
        /// zklink chain id (1..).
        #[arg(long)]
        chain: u8,
        /// That chain's JSON-RPC endpoint.
        #[arg(long)]
        l1: Url,
        /// Token id (33 = the native coin on the devnet).
        #[arg(long)]
        token: u16,
        /// Amount in whole tokens ("1.5").
        #[arg(long)]
        amount: String,
        /// Credit a stablecoin (ids 17..=31) as USD.
        #[arg(long)]
        usd: bool,
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
        /// Token id (1 = USD).
        #[arg(long)]
        token: u16,
        /// Amount in whole tokens.
        #[arg(long)]
        amount: String,
        /// Fee in whole tokens of the same token (default: the node's estimate).
        #[arg(long)]
        fee: Option<String>,
    },
    /// Withdraw to this address on CHAIN.
    Withdraw {
        /// zklink chain id to withdraw to.
        #[arg(long)]
        chain: u8,
        /// L2 token id (1 = USD).
        #[arg(long)]
        token: u16,
        /// L1 token paid (default: the same; for USD a stablecoin id 17..=31).
        #[arg(long = "as")]
        as_token: Option<u16>,
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
    /// Show where a tx is: queued, pending, or its block's stage on every chain with the L1
    /// transactions.
    Status {
        /// The tx hash (0x…).
        hash: TxHash,
    },
    /// Show the fee the node takes for a tx type.
    Fee {
        /// Transfer, Withdraw, ChangePubKey, ForcedExit or OrderMatching.
        #[arg(long, default_value = "Transfer")]
        r#type: String,
        /// Fee token id.
        #[arg(long, default_value_t = 1)]
        token: u16,
    },
    /// Sign a limit order and write it as JSON (for a matcher to submit with `match`).
    Order {
        /// Sell BASE (default: buy it).
        #[arg(long)]
        sell: bool,
        /// Base token id.
        #[arg(long)]
        base: u16,
        /// Quote token id (1 = USD).
        #[arg(long, default_value_t = 1)]
        quote: u16,
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
        /// Fee token id.
        #[arg(long, default_value_t = 1)]
        fee_token: u16,
    },
    /// Request on L1 a full exit of a token to CHAIN (works even if the operator ignores L2 txs).
    FullExit {
        /// zklink chain id.
        #[arg(long)]
        chain: u8,
        /// That chain's JSON-RPC endpoint.
        #[arg(long)]
        l1: Url,
        /// L2 token id.
        #[arg(long)]
        token: u16,
        /// L1 token paid (default: the same).
        #[arg(long = "as")]
        as_token: Option<u16>,
    },
}

fn symbol(w: &Wallet, token: u16) -> String {
    if token == 1 {
        return "USD".into();
    }
    w.network().tokens.iter().find(|t| t.id.0 == token).map_or_else(|| format!("token {token}"), |t| t.symbol.clone())
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
    match args.command {
        Command::Address => {
            println!("address      {}", w.address());
            println!("L2 key hash  {}", w.pubkey_hash());
        }
        Command::Balances { executed } => {
            let account = if executed { w.account_executed().await } else { w.account().await };
            match account.context("reading the account")? {
                None => println!("{} has no L2 account yet: deposit to it first", w.address()),
                Some(a) => {
                    let key = if a.has_key() { "set" } else { "not set (run `zklink wallet activate`)" };
                    let when =
                        a.executed_block.map_or_else(|| "latest".into(), |b| format!("executed up to block {b}"));
                    println!("account {}  nonce {}  L2 key {key}  ({when})", a.id, a.nonce);
                    for b in &a.balances {
                        let amount = format_units(b.amount.parse().unwrap_or(0), 18);
                        println!("  sub-account {}  {:>28} {}", b.sub_account, amount, symbol(&w, b.token));
                    }
                    for o in &a.orders {
                        let residue = format_units(o.residue.parse().unwrap_or(0), 18);
                        println!(
                            "  sub-account {}  order slot {} (nonce {}): {residue} open",
                            o.sub_account, o.slot, o.nonce
                        );
                    }
                }
            }
        }
        Command::Deposit { chain, l1, token, amount, usd } => {
            let (_, decimals) = w.token_on_chain(TokenId(token), ChainId(chain))?;
            let l1_amount = parse_units(&amount, decimals)?;
            w.deposit(ChainId(chain), l1, TokenId(token), l1_amount, usd)
                .await
                .with_context(|| format!("depositing on chain {chain}"))?;
            println!(
                "deposited {amount} {} on chain {chain}; credited once the node takes the request",
                symbol(&w, token)
            );
        }
        Command::Activate { chain } => {
            let hash = w.change_pubkey(ChainId(chain), TokenId(1), 0).await.context("setting the L2 key")?;
            println!("L2 key set: tx {hash:?}");
        }
        Command::Transfer { to, token, amount, fee } => {
            let fee = fee_or_estimate(&w, fee, "Transfer", token).await?;
            let hash = w.transfer(to, TokenId(token), l2(&amount)?, fee).await.context("submitting the transfer")?;
            println!("transferred {amount} {} to {to}: tx {hash:?}", symbol(&w, token));
        }
        Command::Withdraw { chain, token, as_token, amount, fee, fast_ratio } => {
            let l1_token = TokenId(as_token.unwrap_or(token));
            let fee = fee_or_estimate(&w, fee, "Withdraw", token).await?;
            let hash = w
                .withdraw(ChainId(chain), TokenId(token), l1_token, l2(&amount)?, fee, fast_ratio)
                .await
                .context("submitting the withdrawal")?;
            println!(
                "withdrawal of {amount} {} to chain {chain} as {}: tx {hash:?}",
                symbol(&w, token),
                symbol(&w, l1_token.0)
            );
        }
        Command::Status { hash } => match w.tx_status(hash).await.context("reading the tx status")? {
            None => println!("the node does not know tx {hash:?} (never accepted, or refused)"),
            Some(s) => print_status(&s),
        },
        Command::Fee { r#type, token } => {
            let fee = w.estimate_fee(&r#type, TokenId(token)).await.context("reading the fee")?;
            println!("{type} fee: {} {}", format_units(fee, 18), symbol(&w, token), type = r#type);
        }
        Command::Order { sell, base, quote, amount, price, slot, nonce, maker_fee, taker_fee, out } => {
            let order = w
                .sign_order(
                    slot,
                    nonce,
                    TokenId(base),
                    TokenId(quote),
                    l2(&amount)?,
                    l2(&price)?,
                    sell,
                    (maker_fee, taker_fee),
                )
                .await
                .context("signing the order")?;
            let json = serde_json::to_string_pretty(&order).context("encoding the order")?;
            std::fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
            let side = if sell { "sell" } else { "buy" };
            println!(
                "signed: {side} {amount} {} at {price} {} (slot {slot}) → {}",
                symbol(&w, base),
                symbol(&w, quote),
                out.display()
            );
        }
        Command::Match { maker, taker, fee_token } => {
            let read = |p: &std::path::Path| -> anyhow::Result<Order> { crate::node::read_json(p, "signed order") };
            let fee = fee_or_estimate(&w, None, "OrderMatching", fee_token).await?;
            let hash = w
                .match_orders(read(&maker)?, read(&taker)?, TokenId(fee_token), fee)
                .await
                .context("submitting the order matching")?;
            println!("orders matched: tx {hash:?}");
        }
        Command::FullExit { chain, l1, token, as_token } => {
            let l1_token = TokenId(as_token.unwrap_or(token));
            w.request_full_exit(ChainId(chain), l1, l1_token, TokenId(token))
                .await
                .with_context(|| format!("requesting the full exit on chain {chain}"))?;
            println!("full exit of {} requested on chain {chain}", symbol(&w, token));
        }
        // Taken above, before connecting: it must work with the node gone.
        Command::Exodus(exodus) => crate::restore::exodus(exodus, &args.key).await?,
    }
    Ok(())
}

/// The fee given in whole tokens, or the node's estimate.
async fn fee_or_estimate(w: &Wallet, fee: Option<String>, kind: &str, token: u16) -> anyhow::Result<u128> {
    Ok(match fee {
        Some(f) => parse_units(&f, 18).context("--fee")?,
        None => w.estimate_fee(kind, TokenId(token)).await.with_context(|| format!("estimating the {kind} fee"))?,
    })
}

fn print_status(s: &TxStatusView) {
    match (&s.failed, s.block) {
        (Some(reason), _) => println!("tx {:?}: failed: {reason}", s.hash),
        (None, Some(block)) => println!("tx {:?}: {:?} (block {block}, op {})", s.hash, s.stage, s.index.unwrap_or(0)),
        (None, None) => println!("tx {:?}: {:?}", s.hash, s.stage),
    }
    for c in &s.chains {
        println!("  chain {}  {:?}", c.chain, c.stage);
        let txs = [("commit", c.commit_tx), ("prove", c.prove_tx), ("sync", c.sync_tx), ("execute", c.execute_tx)];
        for (what, tx) in txs {
            if let Some(tx) = tx {
                println!("    {what:<8} {tx}");
            }
        }
    }
}
