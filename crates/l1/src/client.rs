//! Typed calls to one chain's zklink deployment (the proxy address), sent from one key.
//!
//! Every state-changing call goes through [`crate::send`]: simulated first, so a rejection comes
//! back as the contract's decoded error ([`L1Error::Reverted`]) without spending gas, then sent
//! with a gas margin, a pinned nonce and fee-bump replacement under the client's [`SendPolicy`].
//! The sending machinery is re-exported here ([`send`], [`send_with`], [`connect`], …) for the
//! callers that name it through this module.

use std::sync::{Arc, OnceLock};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionReceipt;
use alloy::transports::http::reqwest::Url;
use zklink_contracts::zklink::{
    periphery_block, CommitBlockInfo, ExecuteBlockInfo, StoredBlockInfo, Timelock, ZkLink, ZkLinkPeriphery,
};

use crate::send::signer_address;
pub use crate::send::{connect, send, send_with, PolicyError, SendPolicy, GAS_MARGIN_PERCENT, MIN_BUMP_PERCENT};
use crate::L1Error;

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
        self.policy.validate().map_err(L1Error::config)?;
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
