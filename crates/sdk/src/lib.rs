//! zklink's Rust SDK: a [`Wallet`] holds an L1 key, derives its L2 key from it (docs/protocol.md
//! §5), signs every L2 tx against the account's current id and nonce read from the node's API,
//! and sends deposits and full exits to a chain's contract. Amounts are L2 units (18 decimals)
//! unless a name says otherwise; [`parse_units`] reads decimal strings.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use k256::ecdsa::SigningKey;
use zklink_crypto::eddsa::PrivateKey;
use zklink_crypto::l1::{address_of, derive_l2_key, sign_change_pubkey, L1Domain};
use zklink_l1::L1Client;
use zklink_types::api::{AccountView, BlockNumberView, BlockView, FeeView, PendingWithdrawalView, Stage, TxStatusView};
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
    L1(#[from] Box<zklink_l1::L1Error>),
    /// Waiting took too long.
    #[error("timed out: {0}")]
    Timeout(String),
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
    let bad = || SdkError::Input(format!("{s:?} is not an amount with at most {decimals} decimals"));
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || frac.len() > decimals as usize {
        return Err(bad());
    }
    let digits = |d: &str| d.is_empty() || d.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return Err(bad());
    }
    let scale = 10u128.checked_pow(decimals as u32).ok_or_else(bad)?;
    let int: u128 = if int.is_empty() { 0 } else { int.parse().map_err(|_| bad())? };
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
    let frac_scaled = frac_value * 10u128.pow((decimals as usize - frac.len()) as u32);
    int.checked_mul(scale).and_then(|v| v.checked_add(frac_scaled)).ok_or_else(bad)
}

/// `amount` with `decimals` as a decimal string ("1.5").
pub fn format_units(amount: u128, decimals: u8) -> String {
    let scale = 10u128.pow(decimals as u32);
    let (int, frac) = (amount / scale, amount % scale);
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// A user's keys and a connection to a node.
pub struct Wallet {
    l1: SigningKey,
    address: Address,
    l2: PrivateKey,
    api: HttpClient,
    network: Network,
}

impl Wallet {
    /// Connects to the node's API at `api_url` with the L1 secret key `secret` (32 bytes).
    pub async fn connect(api_url: &str, secret: &[u8; 32]) -> Result<Self, SdkError> {
        let l1 = SigningKey::from_slice(secret).map_err(|e| SdkError::Secret(Box::new(e)))?;
        let api = HttpClientBuilder::default().build(api_url).map_err(SdkError::Transport)?;
        let network: Network = api.request("zklink_network", rpc_params![]).await?;
        let l2 = derive_l2_key(&l1, &network.name);
        Ok(Self { address: address_of(&l1), l1, l2, api, network })
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
    /// per base with 18 decimals; fee ratios are over 10000.
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
            signature: TxSignature::default(),
        };
        Ok(order.sign(&self.l2)?)
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

    /// A client for `chain`'s contract at the L1 endpoint `l1_url`, signing with this wallet's key.
    pub fn l1(&self, chain: ChainId, l1_url: Url) -> Result<L1Client, SdkError> {
        let info = self.network.check_chain(chain)?;
        let signer = PrivateKeySigner::from_slice(&self.l1.to_bytes()).map_err(|e| SdkError::Secret(Box::new(e)))?;
        Ok(L1Client::new(zklink_l1::client::connect(l1_url, signer), info.contract))
    }

    /// The L1 address and decimals of `token` on `chain`.
    pub fn token_on_chain(&self, token: TokenId, chain: ChainId) -> Result<(Address, u8), SdkError> {
        let t = self.network.token_on_chain(token, chain)?;
        Ok((t.address, t.decimals))
    }

    /// Deposits `l1_amount` (L1 units) of `token` on `chain` to this wallet's sub-account 0 (as USD
    /// if `as_usd`): the native coin directly, an ERC-20 after approving the contract.
    pub async fn deposit(
        &self,
        chain: ChainId,
        l1_url: Url,
        token: TokenId,
        l1_amount: u128,
        as_usd: bool,
    ) -> Result<(), SdkError> {
        let client = self.l1(chain, l1_url)?;
        let (address, _) = self.token_on_chain(token, chain)?;
        if address == Address::ZERO {
            client.deposit_eth(self.address, 0, U256::from(l1_amount)).await.map_err(Box::new)?;
            return Ok(());
        }
        let erc20 = zklink_contracts_erc20::Erc20::new(address, client.provider().clone());
        zklink_l1::client::send("approve", erc20.approve(client.address(), U256::from(l1_amount)))
            .await
            .map_err(Box::new)?;
        client.deposit_erc20(address, l1_amount, self.address, 0, as_usd).await.map_err(Box::new)?;
        Ok(())
    }

    /// Requests on L1 a full exit of this account's `l2_token` to `chain`, paid as `l1_token`.
    pub async fn request_full_exit(
        &self,
        chain: ChainId,
        l1_url: Url,
        l1_token: TokenId,
        l2_token: TokenId,
    ) -> Result<(), SdkError> {
        let (id, _) = self.id_and_nonce().await?;
        let client = self.l1(chain, l1_url)?;
        client.request_full_exit(id.0, 0, l1_token.0, l2_token.0).await.map_err(Box::new)?;
        Ok(())
    }
}

/// The ERC-20 calls a wallet makes.
mod zklink_contracts_erc20 {
    alloy::sol! {
        #[sol(rpc)]
        #[allow(missing_docs)]
        interface Erc20 {
            function approve(address spender, uint256 value) external returns (bool);
            function balanceOf(address owner) external view returns (uint256);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
