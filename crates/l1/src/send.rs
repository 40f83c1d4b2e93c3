//! Sending state-changing calls to L1: simulation, gas with a margin, a pinned nonce, and
//! fee-bump replacement of stuck transactions under a [`SendPolicy`].
//!
//! Every call is first simulated (`eth_call`), so a rejection comes back as the contract's
//! decoded error ([`L1Error::Reverted`]) without spending gas; then its gas is estimated and sent
//! with a 20 % margin (state may change between estimation and inclusion).
//!
//! The nonce is read from the node (pending count) once per call and pinned, so a failed send
//! never leaves a gap and several processes may share a key; the EIP-1559 fees come from the
//! provider's estimate, under an optional cap. The sender polls for a receipt of any transaction
//! it broadcast for that nonce. One not mined within `stuck_after` (fees spiked, or it was
//! underpriced) is replaced: the same call, the same nonce, both fees at least `bump_percent`
//! higher (or the fresh estimate if that is more). After `max_replacements` the call fails with
//! [`L1Error::Stuck`] and no longer waits; a cap that forbids a valid bump fails it with
//! [`L1Error::FeeCapReached`]. Either way the transactions already broadcast may still be mined
//! later. A node answering "nonce too low" to a replacement means a transaction with that nonce
//! was mined: ours is awaited for another `stuck_after`, else the call fails with
//! [`L1Error::NonceTaken`] (another process sending from the key).

use std::time::{Duration, Instant};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use alloy::transports::TransportError;

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
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.bump_percent < MIN_BUMP_PERCENT {
            return Err(PolicyError::BumpTooSmall { bump_percent: self.bump_percent });
        }
        if self.stuck_after.is_zero() || self.poll_interval.is_zero() {
            return Err(PolicyError::ZeroDuration);
        }
        Ok(())
    }
}

/// Why a [`SendPolicy`] is refused.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Nodes reject a replacement whose fees rise by less than [`MIN_BUMP_PERCENT`].
    #[error("bump_percent {bump_percent} is below the {MIN_BUMP_PERCENT} % nodes require")]
    BumpTooSmall {
        /// The policy's bump.
        bump_percent: u64,
    },
    /// `stuck_after` or `poll_interval` is zero.
    #[error("stuck_after and poll_interval must be positive")]
    ZeroDuration,
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
    policy.validate().map_err(L1Error::config)?;
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
pub(crate) async fn signer_address<P: Provider>(provider: &P, call: &'static str) -> Result<Address, L1Error> {
    // CALLER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN
    const RETURN_CALLER: [u8; 9] = [0x33, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let probe = TransactionRequest::default().with_deploy_code(Bytes::from_static(&RETURN_CALLER));
    let out = provider.call(probe).await.map_err(|e| L1Error::rpc(call, e))?;
    match <[u8; 32]>::try_from(out.as_ref()) {
        Ok(word) if word != [0; 32] => Ok(Address::from_word(B256::from(word))),
        _ => Err(L1Error::config(format!("{call}: the provider has no signer (eth_call sender {out})"))),
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
