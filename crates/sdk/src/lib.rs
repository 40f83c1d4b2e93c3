//! zklink's Rust SDK: a [`Wallet`] holds an L1 key, derives its L2 key from it (docs/protocol.md
//! §5), signs every L2 tx against the account's current id and nonce read from the node's API,
//! and sends deposits, full exits and claims to a chain's contract. Amounts are L2 units (18
//! decimals) unless a name says otherwise; [`parse_units`] reads decimal strings and
//! [`format_units`] writes them.
//!
//! L1 calls go to the endpoint the caller names or else the one the node publishes for the chain
//! (`zklink_l1Endpoints`), and only after the endpoint's `eth_chainId` proved to be the chain's
//! `l1ChainId`: a deposit can never land on another chain than the one named.
//!
//! [`Wallet::venue`] trades on zklink's order-book venue ([`venue`]): typed calls of its JSON-RPC
//! API, and [`Venue::buy`] / [`Venue::sell`] in whole units that choose the order slot and its
//! nonce themselves; orders may expire ([`Trade::valid_until`]), and [`Venue::cancel_hard`]
//! cancels an order for good with a `CancelOrder` L2 tx. [`Wallet::hard_cancel`] sends that tx
//! straight to the node, without a venue.
//!
//! [`Wallet::pools`] lists the AMM pools; [`Wallet::quote_swap`] (and `quote_liquidity`,
//! `quote_remove`) price a trade on the node's current state; [`Wallet::swap`],
//! [`Wallet::add_liquidity`] and [`Wallet::remove_liquidity`] sign their limits from a fresh quote
//! with a slippage tolerance, valid for a few minutes ([`pools`]); [`Wallet::create_pool`] creates
//! one.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod pools;
pub mod venue;

pub use pools::{
    AddLiquidityRequest, Added, NewPool, RemoveLiquidityRequest, Removed, SwapRequest, Swapped, DEFAULT_POOL_WINDOW,
    DEFAULT_SLIPPAGE_BPS,
};
pub use venue::{HardCancelled, OrderHash, OrderType, Placed, Side, Trade, Venue};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use k256::ecdsa::SigningKey;
use zklink_crypto::eddsa::PrivateKey;
use zklink_crypto::l1::{address_of, derive_l2_key, sign_change_pubkey, L1Domain};
use zklink_l1::{L1Client, L1Error};
pub use zklink_types::amount::format_units;
use zklink_types::api::{
    AccountView, BlockNumberView, BlockView, FeeView, L1EndpointView, PendingWithdrawalView, Stage, TxStatusView,
};
use zklink_types::describe::{tx_error, TxTokens};
use zklink_types::*;

/// Errors of the SDK.
#[derive(thiserror::Error, Debug)]
pub enum SdkError {
    /// The node rejected the call (the message says why; `code` is in `zklink_api::codes`).
    #[error("the node refused: {message} (code {code})")]
    Node {
        /// JSON-RPC error code.
        code: i32,
        /// The node's reason.
        message: String,
    },
    /// The node could not be reached.
    #[error("cannot reach the node: {0}")]
    Transport(#[source] jsonrpsee::core::client::Error),
    /// The account does not exist on L2 yet (deposit first).
    #[error("{0} has no L2 account yet: deposit to it first")]
    NoAccount(Address),
    /// Invalid input.
    #[error("{0}")]
    Input(String),
    /// A transaction, chain or token is not valid for this network.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The L1 secret key is not a valid secp256k1 secret.
    #[error("not a valid secp256k1 secret: {0}")]
    Secret(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The node answered with a fee that is not a decimal amount.
    #[error("the node returned fee {fee:?}: {source}")]
    BadFee {
        /// The fee as returned.
        fee: String,
        /// Why it does not parse.
        #[source]
        source: std::num::ParseIntError,
    },
    /// An L1 call failed.
    #[error(transparent)]
    L1(#[from] Box<L1Error>),
    /// Waiting took too long.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The L1 endpoint belongs to another chain than the one named: nothing was sent to it.
    #[error(
        "the L1 endpoint {url} is EVM chain {got}, but zklink chain {chain} is EVM chain {expected}: nothing was \
         sent; use chain {chain}'s endpoint"
    )]
    WrongL1Chain {
        /// The zklink chain named.
        chain: ChainId,
        /// The endpoint.
        url: String,
        /// The chain's `l1ChainId` in the network.
        expected: u64,
        /// What the endpoint's `eth_chainId` answered.
        got: u64,
    },
    /// No endpoint was given for a chain and the node publishes none.
    #[error(
        "no L1 endpoint for chain {chain}: the node publishes none (zklink_l1Endpoints); give the chain's \
         JSON-RPC URL (`--l1 <url>` in the CLI)"
    )]
    NoL1Endpoint {
        /// The zklink chain.
        chain: ChainId,
    },
    /// The L1 balance does not cover a deposit.
    #[error("your L1 balance of {symbol} on chain {chain} is {balance}, the deposit needs {needed}{hint}")]
    L1BalanceTooLow {
        /// The token's symbol.
        symbol: String,
        /// The zklink chain.
        chain: ChainId,
        /// The balance, in whole tokens.
        balance: String,
        /// The deposit, in whole tokens.
        needed: String,
        /// Where to get more (a devnet's mint for ERC-20s).
        hint: &'static str,
    },
    /// A deposit as USD of a token that is not a stablecoin.
    #[error("{symbol} (token {token}) is not a stablecoin (ids 17..=31): only stablecoins can be credited as USD")]
    NotStablecoin {
        /// The token.
        token: TokenId,
        /// Its symbol.
        symbol: String,
    },
    /// A token without a public mint (not a devnet's test token).
    #[error("{symbol} on chain {chain} cannot be minted: {reason}")]
    NotMintable {
        /// The token's symbol.
        symbol: String,
        /// The zklink chain.
        chain: ChainId,
        /// Why.
        reason: String,
    },
    /// A USD withdrawal without a stablecoin named, and no stablecoin of the chain can pay it.
    #[error(
        "chain {chain} cannot pay {amount} USD in any stablecoin: {choices}; withdraw less, to another chain, or \
         name the stablecoin (`--as`)"
    )]
    NoStablecoinReserve {
        /// The chain.
        chain: ChainId,
        /// The withdrawal, in USD.
        amount: String,
        /// Each stablecoin listed there with its reserve, e.g. "USDC holds 3.5, USDT holds 0".
        choices: String,
    },
    /// An amount or fee that the tx cannot carry exactly (a packed float): the message names the
    /// nearest packable values in whole tokens with the symbol.
    #[error("{message}")]
    NotPackable {
        /// The refusal in the user's terms ([`zklink_types::describe::tx_error`]).
        message: String,
        /// The packing error.
        #[source]
        source: TxError,
    },
    /// A token is not listed on the chain an L1 call names.
    #[error("{symbol} (token {token}) is not listed on chain {chain}")]
    TokenNotOnChain {
        /// Its symbol.
        symbol: String,
        /// The token.
        token: TokenId,
        /// The chain.
        chain: ChainId,
    },
    /// A token named by a symbol the network does not list.
    #[error("{name:?} is no token of this network: name one by symbol ({known}) or by id")]
    UnknownToken {
        /// What was given.
        name: String,
        /// The symbols the network lists.
        known: String,
    },
    /// The order-book venue refused the call (`code` is in [`venue::codes`]).
    #[error("the exchange refused: {message} (code {code})")]
    Venue {
        /// JSON-RPC error code.
        code: i32,
        /// The venue's reason.
        message: String,
    },
    /// The order-book venue could not be reached.
    #[error("cannot reach the exchange at {url}: {source}")]
    VenueTransport {
        /// The venue's URL.
        url: String,
        /// Why.
        #[source]
        source: jsonrpsee::core::client::Error,
    },
    /// A market named by a symbol or id the venue does not list.
    #[error("{name:?} is no market of this exchange: name one by symbol or id ({known})")]
    UnknownMarket {
        /// What was given.
        name: String,
        /// The markets the venue lists.
        known: String,
    },
    /// A price or amount that is not on the market's grid (nothing was signed).
    #[error(transparent)]
    OffGrid(Box<venue::OffGrid>),
    /// An amount below the market's smallest order (nothing was signed).
    #[error("the amount {amount} {unit} is below {market}'s minimum order of {min} {unit}")]
    BelowMinimum {
        /// The market's symbol.
        market: String,
        /// What was given, whole units.
        amount: String,
        /// The minimum, whole units.
        min: String,
        /// The base token.
        unit: String,
    },
    /// Every order slot a new order could use holds an open order on the venue.
    #[error(
        "every order slot 1..={max_slot} of sub-account {sub} holds an open order on the exchange: cancel one \
         (`zklink wallet cancel`), or name a slot to replace its order (`--slot`)"
    )]
    NoFreeSlot {
        /// The preset's largest slot.
        max_slot: u16,
        /// The sub-account.
        sub: u8,
    },
    /// The slot's order nonces are used up (24 bits).
    #[error("order slot {slot} has used up its order nonces: use another slot")]
    SlotExhausted {
        /// The slot.
        slot: u16,
    },
    /// A pool named by an id or pair that no pool has.
    #[error("{name:?} is no pool: name one by its id or its pair (\"WETH/USD\"); {known}")]
    UnknownPool {
        /// What was given.
        name: String,
        /// The pools there are, or that there are none.
        known: String,
    },
    /// Several pools trade the pair named.
    #[error("several pools trade {pair}: name one by its id: {choices}")]
    AmbiguousPool {
        /// The pair given.
        pair: String,
        /// The pools trading it, with their fees.
        choices: String,
    },
    /// The account's L2 key is not this wallet's (or not set): the venue would refuse its orders.
    #[error("{address}'s L2 key is not this wallet's key: set it first (ChangePubKey; `zklink wallet activate`)")]
    KeyNotSet {
        /// The account's address.
        address: Address,
    },
}

impl From<L1Error> for SdkError {
    fn from(e: L1Error) -> Self {
        Self::L1(Box::new(e))
    }
}

/// `token` named by its symbol (`USDC`, `usd`; any case) or its id (`17`).
pub fn parse_token(network: &Network, name: &str) -> Result<TokenId, SdkError> {
    network
        .token_by_name(name)
        .ok_or_else(|| SdkError::UnknownToken { name: name.trim().into(), known: network.token_names() })
}

/// Refuses `value` of `token` (L2 units) unless the tx can carry it exactly: an amount in 35+5
/// bits, a fee (`fee`) in 11+5; the error names the nearest packable values in whole tokens.
pub fn check_packable(network: &Network, token: TokenId, value: u128, fee: bool) -> Result<(), SdkError> {
    let (float, tokens) = if fee {
        (FEE_FLOAT, TxTokens { fee: Some(token), ..TxTokens::default() })
    } else {
        (AMOUNT_FLOAT, TxTokens { amount: Some(token), ..TxTokens::default() })
    };
    match float.pack(value) {
        Ok(_) => Ok(()),
        Err(source) => Err(SdkError::NotPackable { message: tx_error(&source, network, &tokens), source }),
    }
}

/// What one chain's contract holds of one reserve (account 1's balance; docs/api.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reserve {
    /// The chain holding it.
    pub chain: ChainId,
    /// The reserve id: a USD reserve 2..=16, or the token itself.
    pub reserve: TokenId,
    /// The L1 token it is held (and paid out) in.
    pub token: TokenId,
    /// Whether it backs USD (pays USD withdrawals as `token`).
    pub for_usd: bool,
    /// The amount, L2 units.
    pub amount: u128,
}

impl Reserve {
    fn of(chain: u8, reserve: u16, amount: u128) -> Self {
        let for_usd = USD_RESERVE_RANGE.contains(&reserve);
        let token = if for_usd { TokenId(reserve + USD_RESERVE_OFFSET) } else { TokenId(reserve) };
        Self { chain: ChainId(chain), reserve: TokenId(reserve), token, for_usd, amount }
    }
}

/// The stablecoin a USD withdrawal of `amount` (L2 units) to `chain` is paid in when none is named:
/// of the stablecoins listed there whose USD reserve holds at least `amount` and whose L1
/// decimals can carry it, the one with the largest reserve. Otherwise the error names every
/// stablecoin of the chain with its reserve.
pub fn choose_usd_payout(
    network: &Network,
    reserves: &[Reserve],
    chain: ChainId,
    amount: u128,
) -> Result<TokenId, SdkError> {
    let mut best: Option<(u128, TokenId)> = None;
    let mut choices = Vec::new();
    for t in network.tokens.iter().filter(|t| STABLECOIN_RANGE.contains(&t.id.0)) {
        let Some(listing) = t.chains.iter().find(|c| c.chain == chain) else { continue };
        let held = reserves.iter().find(|r| r.chain == chain && r.for_usd && r.token == t.id).map_or(0, |r| r.amount);
        let unit = 10u128.pow(u32::from(amount::L2_DECIMALS.saturating_sub(listing.decimals)));
        let mut choice = format!("{} holds {}", t.symbol, format_units(held, amount::L2_DECIMALS));
        if !amount.is_multiple_of(unit) {
            choice += &format!(" (and pays in steps of {})", format_units(unit, amount::L2_DECIMALS));
        } else if held >= amount && best.is_none_or(|(b, _)| held > b) {
            best = Some((held, t.id));
        }
        choices.push(choice);
    }
    best.map(|(_, id)| id).ok_or_else(|| SdkError::NoStablecoinReserve {
        chain,
        amount: format_units(amount, amount::L2_DECIMALS),
        choices: if choices.is_empty() { "it lists no stablecoin".into() } else { choices.join(", ") },
    })
}

/// What an address can claim of one token on one chain (an executed withdrawal or full exit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingBalance {
    /// The chain.
    pub chain: ChainId,
    /// The L1 token.
    pub token: TokenId,
    /// The amount, in the token's L1 units on that chain.
    pub amount: u128,
    /// The token's L1 decimals there.
    pub decimals: u8,
}

impl From<jsonrpsee::core::client::Error> for SdkError {
    fn from(e: jsonrpsee::core::client::Error) -> Self {
        match e {
            jsonrpsee::core::client::Error::Call(obj) => Self::Node { code: obj.code(), message: obj.message().into() },
            other => Self::Transport(other),
        }
    }
}

/// `"1.5"` with `decimals` 18 → 1.5 · 10^18. At most `decimals` fractional digits.
pub fn parse_units(s: &str, decimals: u8) -> Result<u128, SdkError> {
    units::parse_units(s, decimals)
        .ok_or_else(|| SdkError::Input(format!("{s:?} is not an amount with at most {decimals} decimals")))
}

/// A user's keys and a connection to a node.
pub struct Wallet {
    l1: SigningKey,
    address: Address,
    l2: PrivateKey,
    api: HttpClient,
    network: Network,
    /// The node's published L1 endpoints, read once when first needed.
    l1_endpoints: std::sync::OnceLock<Vec<L1EndpointView>>,
}

impl Wallet {
    /// Connects to the node's API at `api_url` with the L1 secret key `secret` (32 bytes).
    pub async fn connect(api_url: &str, secret: &[u8; 32]) -> Result<Self, SdkError> {
        let l1 = SigningKey::from_slice(secret).map_err(|e| SdkError::Secret(Box::new(e)))?;
        let api = HttpClientBuilder::default().build(api_url).map_err(SdkError::Transport)?;
        let network: Network = api.request("zklink_network", rpc_params![]).await?;
        let l2 = derive_l2_key(&l1, &network.name);
        Ok(Self { address: address_of(&l1), l1, l2, api, network, l1_endpoints: std::sync::OnceLock::new() })
    }

    /// The L1 (and L2 owner) address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The hash of the derived L2 public key.
    pub fn pubkey_hash(&self) -> PubKeyHash {
        self.l2.public_key().pubkey_hash()
    }

    /// The network the node runs.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// How users name `token` on this network: `USD`, `USDC`, …
    pub fn symbol(&self, token: TokenId) -> String {
        self.network.symbol(token)
    }

    /// A token named by symbol or id ([`parse_token`]).
    pub fn parse_token(&self, name: &str) -> Result<TokenId, SdkError> {
        parse_token(&self.network, name)
    }

    /// The reserves every chain holds (or `chain` holds): what withdrawals to it can be paid from.
    pub async fn reserves(&self, chain: Option<ChainId>) -> Result<Vec<Reserve>, SdkError> {
        let assets: Option<AccountView> = self.api.request("zklink_account", rpc_params![GLOBAL_ASSET_ADDRESS]).await?;
        let mut out: Vec<Reserve> = assets
            .map(|a| a.balances)
            .unwrap_or_default()
            .iter()
            // Sub-account 0 is the pool registry (LP token → pool id + 1), not a chain's reserves.
            .filter(|b| b.sub_account != 0 && chain.is_none_or(|c| c.0 == b.sub_account))
            .map(|b| Reserve::of(b.sub_account, b.token, b.amount.parse().unwrap_or(0)))
            .collect();
        out.sort_by_key(|r| (r.chain, r.token, r.reserve));
        Ok(out)
    }

    /// The stablecoin a USD withdrawal of `amount` to `chain` is paid in ([`choose_usd_payout`]
    /// over the chain's current reserves).
    pub async fn usd_payout(&self, chain: ChainId, amount: u128) -> Result<TokenId, SdkError> {
        self.network.check_chain(chain)?;
        let reserves = self.reserves(Some(chain)).await?;
        choose_usd_payout(&self.network, &reserves, chain, amount)
    }

    /// The public L1 endpoints the node publishes (`zklink_l1Endpoints`; none from a node that
    /// does not serve the method).
    pub async fn l1_endpoints(&self) -> Result<Vec<L1EndpointView>, SdkError> {
        if let Some(known) = self.l1_endpoints.get() {
            return Ok(known.clone());
        }
        let published = match self.api.request::<Vec<L1EndpointView>, _>("zklink_l1Endpoints", rpc_params![]).await {
            Ok(list) => list,
            Err(jsonrpsee::core::client::Error::Call(e)) if e.code() == METHOD_NOT_FOUND => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(self.l1_endpoints.get_or_init(|| published).clone())
    }

    /// The endpoint for `chain`'s L1 calls: `given`, else the one the node publishes.
    pub async fn l1_url(&self, chain: ChainId, given: Option<Url>) -> Result<Url, SdkError> {
        if let Some(url) = given {
            return Ok(url);
        }
        let published = self.l1_endpoints().await?.into_iter().find(|e| e.chain == chain.0);
        let url = published.ok_or(SdkError::NoL1Endpoint { chain })?.url;
        url.parse().map_err(|e| SdkError::Input(format!("the node publishes {url:?} for chain {chain}: {e}")))
    }

    /// The account as the node sees it now (`None` before the first deposit).
    pub async fn account(&self) -> Result<Option<AccountView>, SdkError> {
        Ok(self.api.request("zklink_account", rpc_params![self.address]).await?)
    }

    /// The account as of the newest block executed on every chain (what L1 has paid out against).
    pub async fn account_executed(&self) -> Result<Option<AccountView>, SdkError> {
        Ok(self.api.request("zklink_account", rpc_params![self.address, "executed"]).await?)
    }

    /// Sealed blocks and the open block's size.
    pub async fn block_number(&self) -> Result<BlockNumberView, SdkError> {
        Ok(self.api.request("zklink_blockNumber", rpc_params![]).await?)
    }

    /// Sealed block `n`, if any.
    pub async fn block(&self, n: u32) -> Result<Option<BlockView>, SdkError> {
        Ok(self.api.request("zklink_block", rpc_params![n]).await?)
    }

    /// The number of the sealed block holding tx `hash` (`from` is ignored: the node indexes txs).
    pub async fn block_of(&self, hash: TxHash, _from: u32) -> Result<Option<u32>, SdkError> {
        Ok(self.tx_status(hash).await?.and_then(|s| s.block))
    }

    /// Where tx `hash` is: queued, pending, or its block's stage on every chain (`None`: unknown).
    pub async fn tx_status(&self, hash: TxHash) -> Result<Option<TxStatusView>, SdkError> {
        Ok(self.api.request("zklink_txStatus", rpc_params![hash]).await?)
    }

    /// Polls tx `hash` every `every` until it reaches `stage` (or failed), for at most `limit`.
    pub async fn wait_for_stage(
        &self,
        hash: TxHash,
        stage: Stage,
        every: std::time::Duration,
        limit: std::time::Duration,
    ) -> Result<TxStatusView, SdkError> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(s) = self.tx_status(hash).await? {
                if s.stage >= stage || s.failed.is_some() {
                    return Ok(s);
                }
            }
            if std::time::Instant::now() >= deadline {
                return Err(SdkError::Timeout(format!("tx {hash:?} did not reach {stage:?} in {limit:?}")));
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The least fee the node takes for a tx of `kind` (`Transfer`, `Withdraw`, …) in `token`.
    pub async fn estimate_fee(&self, kind: &str, token: TokenId) -> Result<u128, SdkError> {
        let fee: FeeView = self.api.request("zklink_estimateFee", rpc_params![kind, token.0]).await?;
        fee.fee.parse().map_err(|source| SdkError::BadFee { fee: fee.fee.clone(), source })
    }

    /// Withdrawals to `chain` not yet executed there (what a fast-withdrawal acceptor may pay).
    pub async fn pending_withdrawals(&self, chain: ChainId) -> Result<Vec<PendingWithdrawalView>, SdkError> {
        Ok(self.api.request("zklink_pendingWithdrawals", rpc_params![chain.0]).await?)
    }

    async fn id_and_nonce(&self) -> Result<(AccountId, Nonce), SdkError> {
        let account = self.account().await?.ok_or(SdkError::NoAccount(self.address))?;
        Ok((AccountId(account.id), Nonce(account.nonce)))
    }

    /// Signs `tx` with the L2 key and submits it; returns its hash once the node has it durably.
    pub async fn submit(&self, tx: L2Tx) -> Result<TxHash, SdkError> {
        let tx = tx.sign(&self.l2)?;
        Ok(self.api.request("zklink_submitTx", rpc_params![tx]).await?)
    }

    /// Sets the account's L2 key, authorised by an EIP-712 signature checked by `chain`'s contract.
    pub async fn change_pubkey(&self, chain: ChainId, fee_token: TokenId, fee: u128) -> Result<TxHash, SdkError> {
        check_packable(&self.network, fee_token, fee, true)?;
        let (id, nonce) = self.id_and_nonce().await?;
        let info = self.network.check_chain(chain)?;
        let domain = L1Domain { l1_chain_id: info.l1_chain_id, verifying_contract: info.contract };
        let pkh = self.pubkey_hash();
        let signature = sign_change_pubkey(&self.l1, &domain, &pkh, nonce.0, id.0);
        self.submit(L2Tx::ChangePubKey(ChangePubKey {
            chain_id: chain,
            account_id: id,
            sub_account_id: SubAccountId(0),
            new_pk_hash: pkh,
            fee_token,
            fee,
            nonce,
            auth: ChangePubKeyAuth::EthEcdsa { signature },
            signature: TxSignature::default(),
        }))
        .await
    }

    /// Transfers `amount` of `token` from sub-account 0 to `to`'s sub-account 0.
    pub async fn transfer(&self, to: Address, token: TokenId, amount: u128, fee: u128) -> Result<TxHash, SdkError> {
        check_packable(&self.network, token, amount, false)?;
        check_packable(&self.network, token, fee, true)?;
        let (id, nonce) = self.id_and_nonce().await?;
        self.submit(L2Tx::Transfer(Transfer {
            account_id: id,
            from_sub_account_id: SubAccountId(0),
            to,
            to_sub_account_id: SubAccountId(0),
            token,
            amount,
            fee,
            nonce,
            signature: TxSignature::default(),
        }))
        .await
    }

    /// Withdraws `amount` of `l2_token` to this address on `chain`, paid as `l1_token` (for USD, any
    /// listed stablecoin); `fast_fee_ratio` > 0 (basis points) lets an acceptor pay early.
    pub async fn withdraw(
        &self,
        chain: ChainId,
        l2_token: TokenId,
        l1_token: TokenId,
        amount: u128,
        fee: u128,
        fast_fee_ratio: u16,
    ) -> Result<TxHash, SdkError> {
        check_packable(&self.network, l2_token, amount, false)?;
        check_packable(&self.network, l2_token, fee, true)?;
        let (id, nonce) = self.id_and_nonce().await?;
        self.submit(L2Tx::Withdraw(Withdraw {
            to_chain_id: chain,
            account_id: id,
            sub_account_id: SubAccountId(0),
            to: self.address,
            l2_source_token: l2_token,
            l1_target_token: l1_token,
            amount,
            fee,
            nonce,
            fast_withdraw_fee_ratio: fast_fee_ratio,
            signature: TxSignature::default(),
        }))
        .await
    }

    /// Signs a limit order of this account's sub-account 0 in order slot `slot` (`nonce`: the
    /// slot's current order nonce to continue it, or the next one to replace it). `price` is quote
    /// per base with 18 decimals; fee ratios are over 10000. It is valid at once and never expires;
    /// [`Wallet::sign_order_until`] signs one that does.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_order(
        &self,
        slot: u16,
        nonce: u32,
        base: TokenId,
        quote: TokenId,
        amount: u128,
        price: u128,
        is_sell: bool,
        fee_ratios: (u8, u8),
    ) -> Result<Order, SdkError> {
        self.sign_order_until(slot, nonce, base, quote, amount, price, is_sell, fee_ratios, Order::NO_EXPIRY).await
    }

    /// [`Wallet::sign_order`] valid until `valid_until` (Unix seconds, inclusive: the node fills it
    /// only in blocks whose timestamp is at most that; [`Order::NO_EXPIRY`] for never).
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_order_until(
        &self,
        slot: u16,
        nonce: u32,
        base: TokenId,
        quote: TokenId,
        amount: u128,
        price: u128,
        is_sell: bool,
        fee_ratios: (u8, u8),
        valid_until: u32,
    ) -> Result<Order, SdkError> {
        check_packable(&self.network, base, amount, false)?;
        let (id, _) = self.id_and_nonce().await?;
        let order = Order {
            account_id: id,
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(slot),
            nonce: OrderNonce(nonce),
            base_token: base,
            quote_token: quote,
            amount,
            price: Price(price),
            is_sell,
            maker_fee_ratio: fee_ratios.0,
            taker_fee_ratio: fee_ratios.1,
            valid_from: 0,
            valid_until,
            signature: TxSignature::default(),
        };
        Ok(order.sign(&self.l2)?)
    }

    /// Signs a hard cancel of this account's order slot `slot` in sub-account `sub`: a
    /// `CancelOrder` L2 tx that moves the slot to `order_nonce + 1` with nothing open, so that no
    /// order of the slot signed with a nonce up to `order_nonce` can be filled again, by any
    /// operator. It carries the account's current nonce and pays `fee` in `fee_token` to account 0.
    pub async fn sign_hard_cancel(
        &self,
        sub: u8,
        slot: u16,
        order_nonce: u32,
        fee_token: TokenId,
        fee: u128,
    ) -> Result<CancelOrder, SdkError> {
        check_packable(&self.network, fee_token, fee, true)?;
        let (id, nonce) = self.id_and_nonce().await?;
        let tx = CancelOrder {
            account_id: id,
            sub_account_id: SubAccountId(sub),
            slot_id: SlotId(slot),
            order_nonce: OrderNonce(order_nonce),
            fee_token,
            fee,
            nonce,
            signature: TxSignature::default(),
        };
        tx.validate(&self.network.preset)?;
        Ok(tx.sign(&self.l2)?)
    }

    /// Hard-cancels this account's order slot `slot` of sub-account `sub` up to `order_nonce`
    /// straight on the node ([`Wallet::sign_hard_cancel`], then `zklink_submitTx`), for a user
    /// without a venue; a venue keeps showing such orders open until it tries to settle them
    /// ([`Venue::cancel_hard`] tells the venue too). Returns the tx's hash.
    pub async fn hard_cancel(
        &self,
        sub: u8,
        slot: u16,
        order_nonce: u32,
        fee_token: TokenId,
        fee: u128,
    ) -> Result<TxHash, SdkError> {
        let tx = self.sign_hard_cancel(sub, slot, order_nonce, fee_token, fee).await?;
        Ok(self.api.request("zklink_submitTx", rpc_params![L2Tx::CancelOrder(tx)]).await?)
    }

    /// Submits the matching of two signed orders (the maker's rests, the taker's crosses it);
    /// this account submits, collects the trading fees and pays `fee` in `fee_token`.
    pub async fn match_orders(
        &self,
        maker: Order,
        taker: Order,
        fee_token: TokenId,
        fee: u128,
    ) -> Result<TxHash, SdkError> {
        check_packable(&self.network, fee_token, fee, true)?;
        let (id, nonce) = self.id_and_nonce().await?;
        self.submit(L2Tx::OrderMatching(Box::new(OrderMatching {
            account_id: id,
            sub_account_id: SubAccountId(0),
            nonce,
            maker,
            taker,
            fee_token,
            fee,
            expect_base_amount: 0,
            expect_quote_amount: 0,
            signature: TxSignature::default(),
        })))
        .await
    }

    /// A client for `chain`'s contract at `l1_url` (else the endpoint the node publishes for the
    /// chain), signing with this wallet's key, once the endpoint's `eth_chainId` proved to be the
    /// chain's ([`SdkError::WrongL1Chain`] otherwise).
    pub async fn l1(&self, chain: ChainId, l1_url: impl Into<Option<Url>>) -> Result<L1Client, SdkError> {
        let info = self.network.check_chain(chain)?;
        let url = self.l1_url(chain, l1_url.into()).await?;
        let signer = PrivateKeySigner::from_slice(&self.l1.to_bytes()).map_err(|e| SdkError::Secret(Box::new(e)))?;
        let client = L1Client::new(zklink_l1::client::connect(url.clone(), signer), info.contract);
        let got = client.provider().get_chain_id().await.map_err(|e| L1Error::rpc("eth_chainId", e))?;
        if got != info.l1_chain_id {
            return Err(SdkError::WrongL1Chain { chain, url: url.to_string(), expected: info.l1_chain_id, got });
        }
        Ok(client)
    }

    /// The L1 address and decimals of `token` on `chain` ([`SdkError::TokenNotOnChain`] if it is
    /// not listed there).
    pub fn token_on_chain(&self, token: TokenId, chain: ChainId) -> Result<(Address, u8), SdkError> {
        self.network.check_chain(chain)?;
        let t = self.network.token_on_chain(token, chain).map_err(|_| SdkError::TokenNotOnChain {
            symbol: self.symbol(token),
            token,
            chain,
        })?;
        Ok((t.address, t.decimals))
    }

    /// This address's L1 balance of `token` through `client` (`chain`'s), in L1 units.
    pub async fn l1_balance(&self, client: &L1Client, chain: ChainId, token: TokenId) -> Result<u128, SdkError> {
        let (address, _) = self.token_on_chain(token, chain)?;
        let balance = if address == Address::ZERO {
            client.provider().get_balance(self.address).await.map_err(|e| L1Error::rpc("eth_getBalance", e))?
        } else {
            let erc20 = zklink_contracts_erc20::Erc20::new(address, client.provider().clone());
            erc20.balanceOf(self.address).call().await.map_err(|e| L1Error::from_contract("balanceOf", e))?
        };
        Ok(balance.try_into().unwrap_or(u128::MAX))
    }

    /// Deposits `l1_amount` (L1 units) of `token` on `chain` to this wallet's sub-account 0 (as USD
    /// if `as_usd`, for stablecoins only): the native coin directly, an ERC-20 after approving the
    /// contract. `l1_url`: the chain's endpoint, else the one the node publishes; it must be that
    /// chain's. The L1 balance is checked first. Returns the deposit's L1 transaction.
    pub async fn deposit(
        &self,
        chain: ChainId,
        l1_url: impl Into<Option<Url>>,
        token: TokenId,
        l1_amount: u128,
        as_usd: bool,
    ) -> Result<B256, SdkError> {
        if as_usd && !STABLECOIN_RANGE.contains(&token.0) {
            return Err(SdkError::NotStablecoin { token, symbol: self.symbol(token) });
        }
        let (address, decimals) = self.token_on_chain(token, chain)?;
        let client = self.l1(chain, l1_url).await?;
        let balance = self.l1_balance(&client, chain, token).await?;
        if balance < l1_amount {
            let symbol = self.symbol(token);
            return Err(SdkError::L1BalanceTooLow {
                balance: format_units(balance, decimals),
                needed: format_units(l1_amount, decimals),
                hint: if address == Address::ZERO { "" } else { " (`zklink wallet mint` on a devnet)" },
                symbol,
                chain,
            });
        }
        let receipt = if address == Address::ZERO {
            client.deposit_eth(self.address, 0, U256::from(l1_amount)).await?
        } else {
            let erc20 = zklink_contracts_erc20::Erc20::new(address, client.provider().clone());
            zklink_l1::client::send("approve", erc20.approve(client.address(), U256::from(l1_amount))).await?;
            client.deposit_erc20(address, l1_amount, self.address, 0, as_usd).await?
        };
        Ok(receipt.transaction_hash)
    }

    /// Mints `l1_amount` (L1 units) of a devnet's test token to this address on `chain` (the test
    /// ERC-20 has a public mint); [`SdkError::NotMintable`] for the native coin or a token without
    /// one. Returns the L1 transaction.
    pub async fn mint(
        &self,
        chain: ChainId,
        l1_url: impl Into<Option<Url>>,
        token: TokenId,
        l1_amount: u128,
    ) -> Result<B256, SdkError> {
        let (address, _) = self.token_on_chain(token, chain)?;
        let not_mintable = |reason: String| SdkError::NotMintable { symbol: self.symbol(token), chain, reason };
        if address == Address::ZERO {
            return Err(not_mintable("it is the chain's native coin (a devnet's dev accounts hold plenty)".into()));
        }
        let client = self.l1(chain, l1_url).await?;
        let erc20 = zklink_contracts_erc20::Erc20::new(address, client.provider().clone());
        match zklink_l1::client::send("mint", erc20.mint(self.address, U256::from(l1_amount))).await {
            Ok(receipt) => Ok(receipt.transaction_hash),
            Err(L1Error::Reverted { revert, .. }) => {
                Err(not_mintable(format!("its contract has no public mint, only a devnet's test tokens do ({revert})")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Requests on L1 a full exit of this account's `l2_token` to `chain`, paid as `l1_token`
    /// (through `l1_url`, else the endpoint the node publishes). Returns the L1 transaction.
    pub async fn request_full_exit(
        &self,
        chain: ChainId,
        l1_url: impl Into<Option<Url>>,
        l1_token: TokenId,
        l2_token: TokenId,
    ) -> Result<B256, SdkError> {
        let (id, _) = self.id_and_nonce().await?;
        let client = self.l1(chain, l1_url).await?;
        let receipt = client.request_full_exit(id.0, 0, l1_token.0, l2_token.0).await?;
        Ok(receipt.transaction_hash)
    }

    /// What this address can claim on `chain` (of `token`, or of every token listed there),
    /// non-zero only.
    pub async fn pending_balances(
        &self,
        chain: ChainId,
        l1_url: impl Into<Option<Url>>,
        token: Option<TokenId>,
    ) -> Result<Vec<PendingBalance>, SdkError> {
        let client = self.l1(chain, l1_url).await?;
        self.pending_on(&client, chain, token).await
    }

    async fn pending_on(
        &self,
        client: &L1Client,
        chain: ChainId,
        token: Option<TokenId>,
    ) -> Result<Vec<PendingBalance>, SdkError> {
        let mut out = Vec::new();
        for t in &self.network.tokens {
            let Some(listing) = t.chains.iter().find(|c| c.chain == chain) else { continue };
            if token.is_some_and(|only| only != t.id) {
                continue;
            }
            let amount = client.pending_balance(self.address, t.id.0).await?;
            if amount != 0 {
                out.push(PendingBalance { chain, token: t.id, amount, decimals: listing.decimals });
            }
        }
        if let Some(only) = token {
            self.token_on_chain(only, chain)?;
        }
        Ok(out)
    }

    /// Claims this address's pending balances on `chain` (of `token`, or of every token): each
    /// non-zero one is paid out with `withdrawPendingBalance`. Returns what was claimed with the
    /// L1 transactions.
    pub async fn claim(
        &self,
        chain: ChainId,
        l1_url: impl Into<Option<Url>>,
        token: Option<TokenId>,
    ) -> Result<Vec<(PendingBalance, B256)>, SdkError> {
        let client = self.l1(chain, l1_url).await?;
        let mut out = Vec::new();
        for p in self.pending_on(&client, chain, token).await? {
            let receipt = client.withdraw_pending_balance(self.address, p.token.0, p.amount).await?;
            out.push((p, receipt.transaction_hash));
        }
        Ok(out)
    }
}

/// JSON-RPC's "method not found".
const METHOD_NOT_FOUND: i32 = -32601;

/// The ERC-20 calls a wallet makes.
mod zklink_contracts_erc20 {
    alloy::sol! {
        #[sol(rpc)]
        #[allow(missing_docs)]
        interface Erc20 {
            function approve(address spender, uint256 value) external returns (bool);
            function balanceOf(address owner) external view returns (uint256);
            function mint(address to, uint256 value) external;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const E18: u128 = 1_000_000_000_000_000_000;

    #[test]
    fn tokens_by_symbol_or_id() {
        let n = Network::dev(3);
        assert_eq!(parse_token(&n, "USDC").unwrap(), TokenId(17));
        assert_eq!(parse_token(&n, "usdt").unwrap(), TokenId(18));
        assert_eq!(parse_token(&n, "USD").unwrap(), USD_TOKEN_ID);
        assert_eq!(parse_token(&n, "32").unwrap(), TokenId(32));
        let e = parse_token(&n, "DOGE").unwrap_err().to_string();
        assert!(e.contains("USD, USDC, USDT, WETH"), "{e}");
        assert_eq!(n.symbol(TokenId(2)), "USD (USDC reserve)");
        assert_eq!(n.symbol(TokenId(40)), "token 40");
    }

    #[test]
    fn unpackable_amounts_suggest_the_nearest_in_units() {
        let n = Network::dev(3);
        check_packable(&n, TokenId(17), 123 * E18, false).unwrap();
        let e = check_packable(&n, TokenId(17), E18 + 1_000_000, false).unwrap_err().to_string();
        assert_eq!(
            e,
            "the amount 1.000000000001 USDC cannot be packed (35-bit mantissa, 5-bit exponent): the nearest \
             packable amounts are 1 USDC and 1.0000000001 USDC"
        );
        let e = check_packable(&n, USD_TOKEN_ID, 2049 * 10u128.pow(12), true).unwrap_err().to_string();
        assert!(e.starts_with("the fee 0.002049 USD") && e.contains("0.00204 USD and 0.00205 USD"), "{e}");
    }

    #[test]
    fn usd_withdrawals_default_to_a_stablecoin_that_can_pay() {
        let n = Network::dev(3);
        let reserves = vec![
            Reserve::of(2, 2, 5 * E18),    // USDC backing USD on chain 2
            Reserve::of(2, 3, 50 * E18),   // USDT backing USD on chain 2
            Reserve::of(2, 17, 900 * E18), // USDC deposited as USDC: not for USD withdrawals
            Reserve::of(1, 2, 100 * E18),
        ];
        assert!(reserves[0].for_usd && reserves[0].token == TokenId(17) && !reserves[2].for_usd);
        assert_eq!(choose_usd_payout(&n, &reserves, ChainId(2), 10 * E18).unwrap(), TokenId(18));
        assert_eq!(choose_usd_payout(&n, &reserves, ChainId(2), 5 * E18).unwrap(), TokenId(18), "the largest");
        assert_eq!(choose_usd_payout(&n, &reserves, ChainId(1), 10 * E18).unwrap(), TokenId(17));
        let e = choose_usd_payout(&n, &reserves, ChainId(2), 60 * E18).unwrap_err().to_string();
        assert_eq!(
            e,
            "chain 2 cannot pay 60 USD in any stablecoin: USDC holds 5, USDT holds 50; withdraw less, to another \
             chain, or name the stablecoin (`--as`)"
        );
        // USDC has 6 decimals on L1: an amount finer than that can only be paid in USDT.
        let fine = 3 * E18 + 1;
        let reserves = vec![Reserve::of(1, 2, 100 * E18)];
        let e = choose_usd_payout(&n, &reserves, ChainId(1), fine).unwrap_err().to_string();
        assert!(e.contains("USDC holds 100 (and pays in steps of 0.000001)"), "{e}");
    }

    #[test]
    fn units_parse_and_format() {
        assert_eq!(parse_units("1.5", 6).unwrap(), 1_500_000);
        assert_eq!(parse_units("100", 18).unwrap(), 100 * 10u128.pow(18));
        assert_eq!(parse_units(".25", 2).unwrap(), 25);
        for bad in ["", ".", "1.2345678", "-1", "1e3", "1.2.3"] {
            assert!(parse_units(bad, 6).is_err(), "{bad}");
        }
        assert!(parse_units("340282366920938463463374607431768211455", 18).is_err(), "overflow");
        assert_eq!(format_units(1_500_000, 6), "1.5");
        assert_eq!(format_units(10u128.pow(18), 18), "1");
        assert_eq!(format_units(5, 18), "0.000000000000000005");
    }
}
