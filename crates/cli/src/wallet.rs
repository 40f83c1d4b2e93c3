//! `zklink wallet`: a user's commands against a node's API (and a chain's RPC for L1 calls).

use alloy::primitives::B256;
use alloy::transports::http::reqwest::Url;
use zklink_sdk::{format_units, parse_units, SdkError, Wallet};
use zklink_types::{Address, ChainId, TokenId};

/// Options of `zklink wallet`.
#[derive(clap::Args)]
pub struct Args {
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
    /// Show the L1 address and the L2 key hash.
    Address,
    /// Show the account's id, nonce, key and balances.
    Balances,
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
        /// Fee in whole tokens of the same token.
        #[arg(long, default_value = "0")]
        fee: String,
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
        /// Fee in whole tokens.
        #[arg(long, default_value = "0")]
        fee: String,
        /// Fast-withdrawal fee ratio in basis points (0: wait for execution).
        #[arg(long, default_value_t = 0)]
        fast_ratio: u16,
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
pub async fn run(args: Args) -> Result<(), String> {
    let w = Wallet::connect(&args.api, &args.key.0).await.map_err(|e| e.to_string())?;
    let l2 = |s: &str| parse_units(s, 18).map_err(|e| e.to_string());
    let err = |e: SdkError| e.to_string();
    match args.command {
        Command::Address => {
            println!("address      {}", w.address());
            println!("L2 key hash  {}", w.pubkey_hash());
        }
        Command::Balances => match w.account().await.map_err(err)? {
            None => println!("{} has no L2 account yet: deposit to it first", w.address()),
            Some(a) => {
                let key = if a.has_key() { "set" } else { "not set (run `zklink wallet activate`)" };
                println!("account {}  nonce {}  L2 key {key}", a.id, a.nonce);
                for b in &a.balances {
                    let amount = format_units(b.amount.parse().unwrap_or(0), 18);
                    println!("  sub-account {}  {:>28} {}", b.sub_account, amount, symbol(&w, b.token));
                }
            }
        },
        Command::Deposit { chain, l1, token, amount, usd } => {
            let (_, decimals) = w.token_on_chain(TokenId(token), ChainId(chain)).map_err(err)?;
            let l1_amount = parse_units(&amount, decimals).map_err(err)?;
            w.deposit(ChainId(chain), l1, TokenId(token), l1_amount, usd).await.map_err(err)?;
            println!(
                "deposited {amount} {} on chain {chain}; credited once the node takes the request",
                symbol(&w, token)
            );
        }
        Command::Activate { chain } => {
            let hash = w.change_pubkey(ChainId(chain), TokenId(1), 0).await.map_err(err)?;
            println!("L2 key set: tx {hash:?}");
        }
        Command::Transfer { to, token, amount, fee } => {
            let hash = w.transfer(to, TokenId(token), l2(&amount)?, l2(&fee)?).await.map_err(err)?;
            println!("transferred {amount} {} to {to}: tx {hash:?}", symbol(&w, token));
        }
        Command::Withdraw { chain, token, as_token, amount, fee, fast_ratio } => {
            let l1_token = TokenId(as_token.unwrap_or(token));
            let hash = w
                .withdraw(ChainId(chain), TokenId(token), l1_token, l2(&amount)?, l2(&fee)?, fast_ratio)
                .await
                .map_err(err)?;
            println!(
                "withdrawal of {amount} {} to chain {chain} as {}: tx {hash:?}",
                symbol(&w, token),
                symbol(&w, l1_token.0)
            );
        }
        Command::FullExit { chain, l1, token, as_token } => {
            let l1_token = TokenId(as_token.unwrap_or(token));
            w.request_full_exit(ChainId(chain), l1, l1_token, TokenId(token)).await.map_err(err)?;
            println!("full exit of {} requested on chain {chain}", symbol(&w, token));
        }
    }
    Ok(())
}
