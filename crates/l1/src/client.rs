//! Typed calls to one chain's zklink deployment (the proxy address), sent from one key.
//!
//! Every state-changing call is first simulated (`eth_call`), so a rejection comes back as the
//! contract's decoded error ([`L1Error::Reverted`]) without spending gas; then its gas is estimated
//! and sent with a 20 % margin (state may change between estimation and inclusion).
//!
//! Sending follows a [`SendPolicy`]: the nonce is read from the node (pending count) once per
//! call and pinned, so a failed send never leaves a gap and several processes may share a key;
//! the EIP-1559 fees come from the provider's estimate, under an optional cap. The client polls
//! for a receipt of any transaction it broadcast for that nonce. One not mined within
//! `stuck_after` (fees spiked, or it was underpriced) is replaced: the same call, the same nonce,
//! both fees at least `bump_percent` higher (or the fresh estimate if that is more). After
//! `max_replacements` the call fails with [`L1Error::Stuck`] and no longer waits; a cap that
//! forbids a valid bump fails it with [`L1Error::FeeCapReached`]. Either way the transactions
//! already broadcast may still be mined later. A node answering "nonce too low" to a replacement
//! means a transaction with that nonce was mined: ours is awaited for another `stuck_after`, else
//! the call fails with [`L1Error::NonceTaken`] (another process sending from the key).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use alloy::transports::TransportError;
use zklink_contracts::zklink::{
    periphery_block, CommitBlockInfo, ExecuteBlockInfo, StoredBlockInfo, Timelock, ZkLink, ZkLinkPeriphery,
};

use crate::L1Error;

/// Gas limit = estimate × (100 + GAS_MARGIN_PERCENT) / 100.
pub const GAS_MARGIN_PERCENT: u64 = 20;

/// The smallest fee bump nodes accept for a replacement (geth's txpool `PriceBump`).
pub const MIN_BUMP_PERCENT: u64 = 10;

/// The first pause between receipt polls; it doubles up to [`SendPolicy::poll_interval`], so a
/// fast chain (a devnet) answers in milliseconds and a slow one is not polled needlessly.
const FIRST_POLL: Duration = Duration::from_millis(25);

/// How state-changing calls are sent and, when stuck, replaced (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendPolicy {
    /// A transaction not mined this long after its broadcast is replaced.
    pub stuck_after: Duration,
    /// Each replacement raises both fees by at least this much, in percent
    /// (≥ [`MIN_BUMP_PERCENT`], or nodes reject it as underpriced).
    pub bump_percent: u64,
    /// Replacements before the call fails with [`L1Error::Stuck`].
    pub max_replacements: u32,
    /// The highest max fee per gas ever offered, in wei; `None`: no cap.
    pub max_fee_per_gas: Option<u128>,
    /// The longest pause between two receipt polls.
    pub poll_interval: Duration,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self {
            stuck_after: Duration::from_secs(30),
            bump_percent: 20,
            max_replacements: 5,
            max_fee_per_gas: None,
            poll_interval: Duration::from_secs(1),
        }
    }
}

impl SendPolicy {
    /// Checks the policy: a bump below [`MIN_BUMP_PERCENT`] or a zero duration is refused, with
    /// the reason ([`send_with`] returns it as [`L1Error::Config`] before sending anything).
    pub fn validate(&self) -> Result<(), String> {
        if self.bump_percent < MIN_BUMP_PERCENT {
            return Err(format!("bump_percent {} is below the {MIN_BUMP_PERCENT} % nodes require", self.bump_percent));
        }
        if self.stuck_after.is_zero() || self.poll_interval.is_zero() {
            return Err("stuck_after and poll_interval must be positive".into());
        }
        Ok(())
    }
}

/// Where one chain's zklink deployment is, as a node or an oracle reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainEndpoint {
    /// JSON-RPC endpoint of the chain.
    pub url: Url,
    /// The zklink proxy.
    pub zklink: Address,
    /// The L1 block it was deployed in (events are read from there).
    pub deployed_at: u64,
}

/// A provider for `url` that signs with `signer` and fills the chain id ([`send`] pins the nonce,
/// gas and fees itself).
pub fn connect(url: Url, signer: PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new()
        .with_simple_nonce_management()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased()
}

/// [`send_with`] under the default [`SendPolicy`].
pub async fn send<P: Provider, D: CallDecoder>(
    call: &'static str,
    tx: CallBuilder<P, D>,
) -> Result<TransactionReceipt, L1Error> {
    send_with(&SendPolicy::default(), call, tx).await
}

/// Simulates, estimates and sends `tx` under `policy`, replacing it while it is stuck, and returns
/// the receipt of whichever broadcast was mined; `call` names it in errors and logs.
pub async fn send_with<P: Provider, D: CallDecoder>(
    policy: &SendPolicy,
    call: &'static str,
    tx: CallBuilder<P, D>,
) -> Result<TransactionReceipt, L1Error> {
    policy.validate().map_err(L1Error::Config)?;
    tx.call_raw().await.map_err(|e| L1Error::from_contract(call, e))?;
    let gas = tx.estimate_gas().await.map_err(|e| L1Error::from_contract(call, e))?;
    let request = tx.as_ref().clone().with_gas_limit(gas + gas * GAS_MARGIN_PERCENT / 100);
    let receipt = Sending::start(&tx.provider, policy, call, request).await?.until_mined().await?;
    if !receipt.status() {
        return Err(L1Error::Failed { call, tx: receipt.transaction_hash });
    }
    tracing::debug!(call, gas_used = receipt.gas_used, tx = %receipt.transaction_hash, "L1 transaction mined");
    Ok(receipt)
}

/// The address `provider` signs with. A [`DynProvider`] does not expose its wallet, but the wallet
/// fills `from` into every `eth_call`: this one runs init code that returns `CALLER`.
async fn signer_address<P: Provider>(provider: &P, call: &'static str) -> Result<Address, L1Error> {
    // CALLER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    const RETURN_CALLER: [u8; 9] = [0x33, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let probe = TransactionRequest::default().with_deploy_code(Bytes::from_static(&RETURN_CALLER));
    let out = provider.call(probe).await.map_err(|e| L1Error::rpc(call, e))?;
    match <[u8; 32]>::try_from(out.as_ref()) {
        Ok(word) if word != [0; 32] => Ok(Address::from_word(B256::from(word))),
        _ => Err(L1Error::Config(format!("{call}: the provider has no signer (eth_call sender {out})"))),
    }
}

/// EIP-1559 fees per gas, in wei.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fees {
    max: u128,
    tip: u128,
}

impl Fees {
    async fn estimate<P: Provider>(provider: &P, call: &'static str) -> Result<Self, L1Error> {
        let e = provider.estimate_eip1559_fees().await.map_err(|e| L1Error::rpc(call, e))?;
        Ok(Self { max: e.max_fee_per_gas, tip: e.max_priority_fee_per_gas })
    }

    /// At most `cap` (the tip never exceeds the max fee).
    fn capped(self, cap: Option<u128>) -> Self {
        let max = cap.map_or(self.max, |cap| self.max.min(cap));
        Self { max, tip: self.tip.min(max) }
    }

    /// Both fees raised by `percent`, rounded up (nodes compare against the exact product).
    fn bumped(self, percent: u64) -> Self {
        let up = |fee: u128| fee.saturating_mul(100 + u128::from(percent)).div_ceil(100);
        Self { max: up(self.max), tip: up(self.tip) }
    }

    /// The fees replacing a transaction sent with `self`: the fresh estimate, but at least a
    /// valid bump; `Err(needed max fee)` if the cap is below that bump.
    fn replacement(self, fresh: Self, policy: &SendPolicy) -> Result<Self, u128> {
        let min = self.bumped(policy.bump_percent);
        if policy.max_fee_per_gas.is_some_and(|cap| min.max > cap) {
            return Err(min.max);
        }
        Ok(Self { max: fresh.max.max(min.max), tip: fresh.tip.max(min.tip) }.capped(policy.max_fee_per_gas))
    }
}

/// How a node refused a re-broadcast we can live with (messages of geth, reth and anvil).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// The nonce is used: one of our transactions (or another sender's with our key) was mined.
    NonceUsed,
    /// The node already has this exact transaction.
    Known,
    /// The node wants a higher bump than ours (or holds a pricier one for this nonce).
    Underpriced,
}

impl Refusal {
    fn of(err: &TransportError) -> Option<Self> {
        Self::of_message(&err.as_error_resp()?.message)
    }

    fn of_message(message: &str) -> Option<Self> {
        let message = message.to_lowercase();
        if message.contains("nonce too low") {
            Some(Self::NonceUsed)
        } else if message.contains("already known") || message.contains("already imported") {
            Some(Self::Known)
        } else if message.contains("underpriced") {
            Some(Self::Underpriced)
        } else {
            None
        }
    }
}

/// One call in flight: its pinned nonce, the fees of its last broadcast and every hash sent.
struct Sending<'a, P> {
    provider: &'a P,
    policy: &'a SendPolicy,
    call: &'static str,
    request: TransactionRequest,
    nonce: u64,
    fees: Fees,
    txs: Vec<B256>,
}

impl<'a, P: Provider> Sending<'a, P> {
    /// Pins the nonce and fees and makes the first broadcast (whose refusal is an error).
    async fn start(
        provider: &'a P,
        policy: &'a SendPolicy,
        call: &'static str,
        request: TransactionRequest,
    ) -> Result<Self, L1Error> {
        let from = match request.from {
            Some(from) => from,
            None => signer_address(provider, call).await?,
        };
        let nonce = provider.get_transaction_count(from).pending().await.map_err(|e| L1Error::rpc(call, e))?;
        let fees = Fees::estimate(provider, call).await?.capped(policy.max_fee_per_gas);
        let mut sending = Self { provider, policy, call, request, nonce, fees, txs: Vec::new() };
        let hash = sending.broadcast(fees).await.map_err(|e| L1Error::rpc(call, e))?;
        sending.txs.push(hash);
        Ok(sending)
    }

    /// Polls, replacing while stuck, until one broadcast is mined or the policy gives up.
    async fn until_mined(mut self) -> Result<TransactionReceipt, L1Error> {
        let mut replacements = 0;
        loop {
            if let Some(receipt) = self.poll_for(self.policy.stuck_after).await {
                return Ok(receipt);
            }
            if replacements == self.policy.max_replacements {
                return Err(L1Error::Stuck { call: self.call, nonce: self.nonce, txs: self.txs });
            }
            replacements += 1;
            if let Some(receipt) = self.replace().await? {
                return Ok(receipt);
            }
        }
    }

    /// Re-broadcasts with bumped fees; `Some(receipt)` if the node showed that one of ours was mined.
    async fn replace(&mut self) -> Result<Option<TransactionReceipt>, L1Error> {
        let next = self.next_fees().await?;
        let (old, stuck) = (self.fees, self.txs.last().copied().unwrap_or_default());
        // Later bumps start from these fees even if the node refuses them, so they keep rising.
        self.fees = next;
        match self.broadcast(next).await {
            Ok(tx) => {
                tracing::warn!(
                    call = self.call,
                    nonce = self.nonce,
                    old_max_fee = old.max,
                    old_tip = old.tip,
                    new_max_fee = next.max,
                    new_tip = next.tip,
                    %stuck,
                    %tx,
                    "replacing a stuck L1 transaction"
                );
                self.txs.push(tx);
                Ok(None)
            }
            Err(e) => self.refused(e).await,
        }
    }

    /// The fresh estimate, raised to a valid bump of the last fees, within the cap.
    async fn next_fees(&self) -> Result<Fees, L1Error> {
        let fresh = Fees::estimate(self.provider, self.call).await?;
        self.fees.replacement(fresh, self.policy).map_err(|needed| L1Error::FeeCapReached {
            call: self.call,
            nonce: self.nonce,
            cap: self.policy.max_fee_per_gas.unwrap_or_default(),
            needed,
            txs: self.txs.clone(),
        })
    }

    /// Handles a refused re-broadcast: "nonce too low" means a transaction with our nonce was mined,
    /// so ours should have a receipt soon; other known refusals wait for the next bump.
    async fn refused(&self, err: TransportError) -> Result<Option<TransactionReceipt>, L1Error> {
        let (call, nonce) = (self.call, self.nonce);
        match Refusal::of(&err) {
            Some(Refusal::NonceUsed) => match self.poll_for(self.policy.stuck_after).await {
                Some(receipt) => Ok(Some(receipt)),
                None => Err(L1Error::NonceTaken { call, nonce, txs: self.txs.clone() }),
            },
            Some(refusal) => {
                tracing::warn!(call, nonce, ?refusal, max_fee = self.fees.max, "L1 replacement refused");
                Ok(None)
            }
            None => Err(L1Error::rpc(call, err)),
        }
    }

    /// Signs and broadcasts the call with the pinned nonce and `fees`.
    async fn broadcast(&self, fees: Fees) -> Result<B256, TransportError> {
        let tx = self
            .request
            .clone()
            .with_nonce(self.nonce)
            .with_max_fee_per_gas(fees.max)
            .with_max_priority_fee_per_gas(fees.tip);
        Ok(*self.provider.send_transaction(tx).await?.tx_hash())
    }

    /// The receipt of any broadcast, polled (with back-off) for at most `limit`. A failed poll is
    /// only logged: the transactions are out, and giving up on them would not stop them.
    async fn poll_for(&self, limit: Duration) -> Option<TransactionReceipt> {
        let deadline = Instant::now() + limit;
        let mut pause = FIRST_POLL.min(self.policy.poll_interval);
        loop {
            match self.receipt().await {
                Ok(Some(receipt)) => return Some(receipt),
                Ok(None) => {}
                Err(e) => tracing::warn!(call = self.call, nonce = self.nonce, error = %e, "L1 receipt poll failed"),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(self.policy.poll_interval);
        }
    }

    async fn receipt(&self) -> Result<Option<TransactionReceipt>, TransportError> {
        for tx in self.txs.iter().rev() {
            if let Some(receipt) = self.provider.get_transaction_receipt(*tx).await? {
                return Ok(Some(receipt));
            }
        }
        Ok(None)
    }
}

/// One chain's zklink contracts, called from one key.
#[derive(Clone, Debug)]
pub struct L1Client {
    provider: DynProvider,
    zklink: ZkLink::ZkLinkInstance<DynProvider>,
    periphery: ZkLinkPeriphery::ZkLinkPeripheryInstance<DynProvider>,
    policy: SendPolicy,
    /// The address the provider signs with, found by the first send and reused.
    sender: Arc<OnceLock<Address>>,
}

impl L1Client {
    /// The deployment whose proxy is at `zklink`, through `provider` (which signs), sending under
    /// the default [`SendPolicy`].
    pub fn new(provider: DynProvider, zklink: Address) -> Self {
        Self {
            zklink: ZkLink::new(zklink, provider.clone()),
            periphery: ZkLinkPeriphery::new(zklink, provider.clone()),
            provider,
            policy: SendPolicy::default(),
            sender: Arc::default(),
        }
    }

    /// The same client, sending under `policy` (checked when a call is sent).
    pub fn with_policy(mut self, policy: SendPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy state-changing calls are sent under.
    pub fn policy(&self) -> &SendPolicy {
        &self.policy
    }

    /// The same deployment and policy, called from another provider (another key).
    pub fn with_provider(&self, provider: DynProvider) -> Self {
        Self::new(provider, *self.zklink.address()).with_policy(self.policy.clone())
    }

    async fn send<D: CallDecoder>(
        &self,
        call: &'static str,
        tx: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, L1Error> {
        // A bad policy is refused before anything reaches the node; the signer is probed once
        // per client, not once per transaction.
        self.policy.validate().map_err(L1Error::Config)?;
        let from = match self.sender.get() {
            Some(from) => *from,
            None => {
                let from = signer_address(&self.provider, call).await?;
                *self.sender.get_or_init(|| from)
            }
        };
        send_with(&self.policy, call, tx.from(from)).await
    }

    /// The proxy's address: the deployment's address.
    pub fn address(&self) -> Address {
        *self.zklink.address()
    }

    /// The provider calls go through.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The core bindings, for views (`totalBlocksCommitted`, `storedBlockHashes`, …).
    pub fn zklink(&self) -> &ZkLink::ZkLinkInstance<DynProvider> {
        &self.zklink
    }

    /// The periphery bindings at the proxy, for views (`oracles`, `implementation`, …).
    pub fn periphery(&self) -> &ZkLinkPeriphery::ZkLinkPeripheryInstance<DynProvider> {
        &self.periphery
    }

    // ------------------------------------------------------------ users
    /// Deposits `value` wei of the native coin to `to`'s sub-account.
    pub async fn deposit_eth(&self, to: Address, sub: u8, value: U256) -> Result<TransactionReceipt, L1Error> {
        self.send("depositETH", self.zklink.depositETH(to, sub).value(value)).await
    }

    /// Deposits `amount` (L1 units) of `token`, as USD if `map_to_usd`; the token must be approved.
    pub async fn deposit_erc20(
        &self,
        token: Address,
        amount: u128,
        to: Address,
        sub: u8,
        map_to_usd: bool,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("depositERC20", self.zklink.depositERC20(token, amount, to, sub, map_to_usd)).await
    }

    /// Requests a full exit of (account, sub, l2 token) paid as `l1_token` on this chain.
    pub async fn request_full_exit(
        &self,
        account: u32,
        sub: u8,
        l1_token: u16,
        l2_token: u16,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("requestFullExit", self.zklink.requestFullExit(account, sub, l1_token, l2_token)).await
    }

    /// Authorises `pubkey_hash` for the sender's account at `nonce` (ChangePubKey without a signature).
    pub async fn set_auth_pubkey_hash(&self, pubkey_hash: [u8; 20], nonce: u32) -> Result<TransactionReceipt, L1Error> {
        self.send("setAuthPubkeyHash", self.zklink.setAuthPubkeyHash(FixedBytes(pubkey_hash), nonce)).await
    }

    /// Pays `amount` of `owner`'s pending balance of `token` to `owner`.
    pub async fn withdraw_pending_balance(
        &self,
        owner: Address,
        token: u16,
        amount: u128,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("withdrawPendingBalance", self.periphery.withdrawPendingBalance(owner, token, amount)).await
    }

    /// Accepts a fast withdrawal (the Withdraw op's fields): pays its receiver now, and `value`
    /// must be the amount paid when the token is the native coin.
    pub async fn accept_withdraw(&self, w: &WithdrawalKey, value: U256) -> Result<TransactionReceipt, L1Error> {
        let call = self
            .periphery
            .acceptWithdraw(w.receiver, w.l1_token, w.amount, w.fee_ratio, w.account, w.sub, w.nonce)
            .value(value);
        self.send("acceptWithdraw", call).await
    }

    // ------------------------------------------------------------ operator
    /// Commits `blocks` on top of `last` (the latest committed block as stored).
    pub async fn commit_blocks(
        &self,
        last: &StoredBlockInfo,
        blocks: Vec<CommitBlockInfo>,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("commitBlocks", self.zklink.commitBlocks(last.clone(), blocks)).await
    }

    /// Proves the next committed blocks: each with its chunk count and EVM-encoded proof.
    pub async fn prove_blocks(
        &self,
        blocks: Vec<StoredBlockInfo>,
        chunks: Vec<u32>,
        proofs: Vec<[U256; 8]>,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("proveBlocks", self.zklink.proveBlocks(blocks, chunks, proofs)).await
    }

    /// Syncs up to `block` with oracle signatures (65 bytes each, ascending signer order).
    pub async fn sync_blocks(
        &self,
        block: &StoredBlockInfo,
        signatures: Vec<Bytes>,
    ) -> Result<TransactionReceipt, L1Error> {
        self.send("syncBlocks", self.zklink.syncBlocks(block.clone(), signatures)).await
    }

    /// Executes the next proven, synced blocks.
    pub async fn execute_blocks(&self, blocks: Vec<ExecuteBlockInfo>) -> Result<TransactionReceipt, L1Error> {
        self.send("executeBlocks", self.zklink.executeBlocks(blocks)).await
    }

    /// Reverts unexecuted blocks, newest first.
    pub async fn revert_blocks(&self, blocks: Vec<StoredBlockInfo>) -> Result<TransactionReceipt, L1Error> {
        self.send("revertBlocks", self.zklink.revertBlocks(blocks)).await
    }

    // ------------------------------------------------------------ exodus
    /// Switches the chain to exodus (the oldest unexecuted request must have expired).
    pub async fn activate_exodus(&self) -> Result<TransactionReceipt, L1Error> {
        self.send("activateExodus", self.periphery.activateExodus()).await
    }

    /// Submits an exit proof against `last_executed` (the last executed block as stored).
    pub async fn perform_exodus(
        &self,
        last_executed: &StoredBlockInfo,
        exit: &ExitCall,
        proof: [U256; 8],
    ) -> Result<TransactionReceipt, L1Error> {
        let call = self.periphery.performExodus(
            periphery_block(last_executed),
            exit.owner,
            exit.account,
            exit.sub,
            exit.l2_token,
            exit.reserve_token,
            exit.amount,
            proof,
        );
        self.send("performExodus", call).await
    }

    /// Refunds the oldest `pubdata.len()` unexecuted requests (their pubdata as emitted).
    pub async fn cancel_outstanding_deposits(&self, pubdata: Vec<Bytes>) -> Result<TransactionReceipt, L1Error> {
        let call = self.periphery.cancelOutstandingDepositsForExodus(pubdata.len() as u64, pubdata);
        self.send("cancelOutstandingDepositsForExodus", call).await
    }

    // ------------------------------------------------------------ views
    /// `(committed, proven, synced, executed)` block counters.
    pub async fn block_counters(&self) -> Result<BlockCounters, L1Error> {
        let z = &self.zklink;
        let view = |e| L1Error::from_contract("block counters", e);
        Ok(BlockCounters {
            committed: z.totalBlocksCommitted().call().await.map_err(view)?,
            proven: z.totalBlocksProven().call().await.map_err(view)?,
            synced: z.totalBlocksSynced().call().await.map_err(view)?,
            executed: z.totalBlocksExecuted().call().await.map_err(view)?,
        })
    }

    /// What `owner` can claim of `token` (L1 units).
    pub async fn pending_balance(&self, owner: Address, token: u16) -> Result<u128, L1Error> {
        self.zklink.pendingBalances(owner, token).call().await.map_err(|e| L1Error::from_contract("pendingBalances", e))
    }

    /// The stored hash of block `n` (zero if not committed).
    pub async fn stored_block_hash(&self, n: u32) -> Result<B256, L1Error> {
        self.zklink.storedBlockHashes(n).call().await.map_err(|e| L1Error::from_contract("storedBlockHashes", e))
    }
}

/// The block counters of one chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BlockCounters {
    /// Blocks committed.
    pub committed: u32,
    /// Blocks proven.
    pub proven: u32,
    /// Blocks synced by the oracles.
    pub synced: u32,
    /// Blocks executed.
    pub executed: u32,
}

/// A Withdraw op's fields that identify it for fast withdrawal (amount in L2 units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawalKey {
    /// Who receives the withdrawal.
    pub receiver: Address,
    /// The L1 token paid.
    pub l1_token: u16,
    /// The amount, L2 units (18 decimals).
    pub amount: u128,
    /// The fee an acceptor keeps, in basis points.
    pub fee_ratio: u16,
    /// The withdrawing account.
    pub account: u32,
    /// Its sub-account.
    pub sub: u8,
    /// The account nonce the withdrawal used.
    pub nonce: u32,
}

/// An exit claim as `performExodus` takes it (docs/protocol.md §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCall {
    /// The account leaf's owner, who is paid.
    pub owner: Address,
    /// The exiting account.
    pub account: u32,
    /// Its sub-account.
    pub sub: u8,
    /// The balance's token (1 = USD, or ≥ 17).
    pub l2_token: u16,
    /// The reserve paid from.
    pub reserve_token: u16,
    /// This chain's share, L2 units.
    pub amount: u128,
}

/// The governor: calls to the deployment are queued, wait out the delay, then execute.
#[derive(Clone, Debug)]
pub struct TimelockClient {
    timelock: Timelock::TimelockInstance<DynProvider>,
    policy: SendPolicy,
}

impl TimelockClient {
    /// The timelock at `address`, driven by `provider` (the admin's key), sending under the
    /// default [`SendPolicy`].
    pub fn new(provider: DynProvider, address: Address) -> Self {
        Self { timelock: Timelock::new(address, provider), policy: SendPolicy::default() }
    }

    /// The same client, sending under `policy` (checked when a call is sent).
    pub fn with_policy(mut self, policy: SendPolicy) -> Self {
        self.policy = policy;
        self
    }

    async fn send<D: CallDecoder>(
        &self,
        call: &'static str,
        tx: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, L1Error> {
        send_with(&self.policy, call, tx).await
    }

    /// The bindings, for views (`delay`, `admin`, `queued`).
    pub fn timelock(&self) -> &Timelock::TimelockInstance<DynProvider> {
        &self.timelock
    }

    /// Queues `data` to `target`, executable from `eta` (unix seconds).
    pub async fn queue(&self, target: Address, data: Bytes, eta: u64) -> Result<TransactionReceipt, L1Error> {
        self.send("Timelock.queue", self.timelock.queue(target, U256::ZERO, data, U256::from(eta))).await
    }

    /// Executes a queued call once its `eta` has passed.
    pub async fn execute(&self, target: Address, data: Bytes, eta: u64) -> Result<TransactionReceipt, L1Error> {
        self.send("Timelock.execute", self.timelock.execute(target, U256::ZERO, data, U256::from(eta))).await
    }

    /// Cancels a queued call.
    pub async fn cancel(&self, target: Address, data: Bytes, eta: u64) -> Result<TransactionReceipt, L1Error> {
        self.send("Timelock.cancel", self.timelock.cancel(target, U256::ZERO, data, U256::from(eta))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bump_percent: u64, cap: Option<u128>) -> SendPolicy {
        SendPolicy { bump_percent, max_fee_per_gas: cap, ..SendPolicy::default() }
    }

    #[test]
    fn a_bump_below_the_txpool_minimum_is_refused() {
        assert!(SendPolicy::default().validate().is_ok());
        assert!(policy(9, None).validate().is_err());
        assert!(policy(MIN_BUMP_PERCENT, None).validate().is_ok());
        let zero = SendPolicy { stuck_after: Duration::ZERO, ..SendPolicy::default() };
        assert!(zero.validate().is_err());
    }

    #[test]
    fn replacement_fees_are_the_larger_of_a_rounded_up_bump_and_the_estimate() {
        let sent = Fees { max: 15, tip: 3 };
        // 15 × 1.1 = 16.5 and 3 × 1.1 = 3.3: rounded down, nodes would refuse them.
        assert_eq!(sent.replacement(Fees { max: 10, tip: 1 }, &policy(10, None)), Ok(Fees { max: 17, tip: 4 }));
        assert_eq!(sent.replacement(Fees { max: 40, tip: 2 }, &policy(10, None)), Ok(Fees { max: 40, tip: 4 }));
    }

    #[test]
    fn the_cap_bounds_fees_and_refuses_an_impossible_bump() {
        assert_eq!(Fees { max: 100, tip: 120 }.capped(Some(90)), Fees { max: 90, tip: 90 });
        let sent = Fees { max: 100, tip: 10 };
        // The estimate exceeds the cap but a valid bump fits under it: the cap is paid.
        assert_eq!(
            sent.replacement(Fees { max: 500, tip: 50 }, &policy(20, Some(130))),
            Ok(Fees { max: 130, tip: 50 })
        );
        assert_eq!(sent.replacement(Fees { max: 500, tip: 50 }, &policy(20, Some(119))), Err(120));
    }

    #[test]
    fn node_refusals_are_recognised() {
        let refusal = Refusal::of_message;
        assert_eq!(refusal("nonce too low: next nonce 5, tx nonce 4"), Some(Refusal::NonceUsed));
        assert_eq!(refusal("already known"), Some(Refusal::Known));
        assert_eq!(refusal("transaction already imported"), Some(Refusal::Known));
        assert_eq!(refusal("replacement transaction underpriced"), Some(Refusal::Underpriced));
        assert_eq!(refusal("insufficient funds for gas * price + value"), None);
    }
}
