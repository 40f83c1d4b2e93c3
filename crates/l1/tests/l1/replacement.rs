//! Stuck L1 transactions on anvil: with automine off, a deposit whose fees fall below the base
//! fee is replaced (same nonce, higher fees) and completes; a call that is never mined fails with
//! `L1Error::Stuck` after its replacements, one whose bump the fee cap forbids with
//! `L1Error::FeeCapReached`, and one whose nonce another sender of the key used with
//! `L1Error::NonceTaken`, each in bounded time.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::time::{Duration, Instant};

use crate::support::*;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionRequest;
use serde_json::{json, Value};
use zklink_contracts::anvil::Anvil;
use zklink_contracts::zklink::TestToken;
use zklink_l1::client::send_with;
use zklink_l1::{L1Client, L1Error, SendPolicy};
use zklink_types::test_utils::E18;
use zklink_types::Network;

/// Every test gives up after this (no test waits on a future that may never end).
const LIMIT: Duration = Duration::from_secs(60);

fn fast_policy() -> SendPolicy {
    SendPolicy {
        stuck_after: Duration::from_millis(300),
        poll_interval: Duration::from_millis(50),
        ..SendPolicy::default()
    }
}

async fn rpc(provider: &DynProvider, method: &'static str, params: Value) -> Value {
    provider.raw_request(method.into(), params).await.unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn quantity(v: &Value) -> u128 {
    let hex = v.as_str().expect("a hex quantity").trim_start_matches("0x");
    u128::from_str_radix(hex, 16).expect("a hex quantity")
}

/// `from`'s transactions in anvil's pool: (hash, max fee per gas).
async fn pooled(provider: &DynProvider, from: Address) -> Vec<(B256, u128)> {
    let pool = rpc(provider, "txpool_content", json!([])).await;
    let by_sender = pool["pending"].as_object().cloned().unwrap_or_default();
    let ours = by_sender.iter().filter(|(a, _)| a.parse::<Address>().ok() == Some(from));
    let txs = ours.flat_map(|(_, by_nonce)| by_nonce.as_object().cloned().unwrap_or_default().into_values());
    txs.map(|tx| (tx["hash"].as_str().unwrap().parse().unwrap(), quantity(&tx["maxFeePerGas"]))).collect()
}

/// Waits (bounded) until `from` has exactly one transaction in the pool and returns it.
async fn first_in_pool(provider: &DynProvider, from: Address) -> (B256, u128) {
    let start = Instant::now();
    loop {
        if let [tx] = pooled(provider, from).await[..] {
            return tx;
        }
        assert!(start.elapsed() < LIMIT, "no transaction of {from} reached the pool");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Mines a block every 100 ms with the base fee pinned at `base_fee`, until `from` has sent
/// `nonce` (bounded).
async fn mine_at_base_fee(provider: &DynProvider, from: Address, nonce: u64, base_fee: u128) {
    let start = Instant::now();
    while provider.get_transaction_count(from).await.unwrap() <= nonce {
        assert!(start.elapsed() < LIMIT, "the replacement was never mined");
        rpc(provider, "anvil_setNextBlockBaseFeePerGas", json!([U256::from(base_fee)])).await;
        rpc(provider, "evm_mine", json!([])).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_deposit_priced_out_by_the_base_fee_is_replaced_and_mined() {
    if !have_anvil() {
        return;
    }
    let chains = start(Network::dev(1), TestKeys::default(), 100, None).await;
    let c = chains.chain(1);
    let admin = c.client.provider();
    let user = c.anvil.address(1).unwrap();
    let client = c.client_for(1).unwrap().with_policy(fast_policy());
    let nonce = admin.get_transaction_count(user).await.unwrap();
    rpc(admin, "evm_setAutomine", json!([false])).await;

    let deposit = tokio::time::timeout(LIMIT, client.deposit_eth(user, 0, U256::from(E18)));
    let miner = async {
        let (first, paid) = first_in_pool(admin, user).await;
        // Every block from now on costs more than the first attempt offers: it can never be mined.
        mine_at_base_fee(admin, user, nonce, 2 * paid).await;
        (first, paid)
    };
    let (receipt, (first, paid)) = tokio::join!(deposit, miner);
    let receipt = receipt.expect("bounded").expect("the replacement is mined");

    assert!(receipt.status());
    assert_ne!(receipt.transaction_hash, first, "a replacement was mined, not the first attempt");
    assert!(receipt.effective_gas_price > paid, "{} ≤ {paid}", receipt.effective_gas_price);
    assert!(admin.get_transaction_receipt(first).await.unwrap().is_none());
    assert_eq!(admin.get_transaction_count(user).await.unwrap(), nonce + 1, "the nonce was used once");
}

/// An anvil with automine off (nothing is ever mined), a TestToken and its minter's provider.
async fn frozen_chain() -> (Anvil, DynProvider, TestToken::TestTokenInstance<DynProvider>) {
    let anvil = Anvil::spawn(31_337).expect("anvil");
    let provider = anvil.provider(0).unwrap();
    let token = TestToken::deploy(provider.clone(), "T".into(), "T".into(), 18, 0).await.expect("deploy TestToken");
    rpc(&provider, "evm_setAutomine", json!([false])).await;
    (anvil, provider, token)
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_never_mined_fails_as_stuck_after_its_replacements() {
    if !have_anvil() {
        return;
    }
    let (anvil, provider, token) = frozen_chain().await;
    let owner = anvil.address(0).unwrap();
    let nonce = provider.get_transaction_count(owner).await.unwrap();
    let policy = SendPolicy { max_replacements: 2, ..fast_policy() };

    let started = Instant::now();
    let sent = send_with(&policy, "TestToken.mint", token.mint(owner, U256::from(1)));
    let result = tokio::time::timeout(LIMIT, sent).await.expect("bounded");
    let Err(L1Error::Stuck { call, nonce: stuck, txs }) = result else { panic!("expected Stuck, got {result:?}") };

    assert_eq!((call, stuck, txs.len()), ("TestToken.mint", nonce, 3));
    assert!(started.elapsed() >= 3 * policy.stuck_after);
    // Each replacement took the place of the one before in the pool.
    let pool = pooled(&provider, owner).await;
    assert_eq!(pool.len(), 1);
    assert_eq!(pool[0].0, txs[2]);
}

#[tokio::test(flavor = "current_thread")]
async fn a_fee_cap_below_the_next_bump_fails_the_call() {
    if !have_anvil() {
        return;
    }
    let (anvil, provider, token) = frozen_chain().await;
    let owner = anvil.address(0).unwrap();
    // The first attempt fits under the cap; a 20 % bump of it does not.
    let cap = provider.estimate_eip1559_fees().await.unwrap().max_fee_per_gas * 11 / 10;
    let policy = SendPolicy { max_fee_per_gas: Some(cap), ..fast_policy() };

    let sent = send_with(&policy, "TestToken.mint", token.mint(owner, U256::from(1)));
    let result = tokio::time::timeout(LIMIT, sent).await.expect("bounded");
    let Err(L1Error::FeeCapReached { cap: reported, needed, txs, .. }) = result else {
        panic!("expected FeeCapReached, got {result:?}")
    };
    assert_eq!(reported, cap);
    assert!(needed > cap);
    assert_eq!(txs.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_nonce_taken_by_another_sender_of_the_key_is_reported() {
    if !have_anvil() {
        return;
    }
    let (anvil, provider, token) = frozen_chain().await;
    let owner = anvil.address(0).unwrap();
    let nonce = provider.get_transaction_count(owner).await.unwrap();

    let policy = fast_policy();
    let sent = tokio::time::timeout(LIMIT, send_with(&policy, "TestToken.mint", token.mint(owner, U256::from(1))));
    let intruder = async {
        let (first, paid) = first_in_pool(&provider, owner).await;
        // Another process with the same key outbids it for the same nonce, and is mined.
        let other = TransactionRequest::default()
            .with_to(owner)
            .with_nonce(nonce)
            .with_gas_limit(21_000)
            .with_max_fee_per_gas(10 * paid)
            .with_max_priority_fee_per_gas(10 * paid);
        let other = *provider.send_transaction(other).await.expect("the outbidding transaction").tx_hash();
        rpc(&provider, "evm_mine", json!([])).await;
        (first, other)
    };
    let (result, (first, other)) = tokio::join!(sent, intruder);
    let result = result.expect("bounded");
    assert!(provider.get_transaction_receipt(other).await.unwrap().is_some());

    let Err(L1Error::NonceTaken { nonce: taken, txs, .. }) = result else {
        panic!("expected NonceTaken, got {result:?}")
    };
    assert_eq!((taken, txs), (nonce, vec![first]));
}

#[tokio::test(flavor = "current_thread")]
async fn a_bump_below_ten_percent_is_refused_before_sending() {
    // No node is contacted: the policy is checked first (the address is unreachable).
    let url = "http://127.0.0.1:9".parse().unwrap();
    let signer = alloy::signers::local::PrivateKeySigner::random();
    let client = L1Client::new(zklink_l1::client::connect(url, signer), Address::ZERO)
        .with_policy(SendPolicy { bump_percent: 5, ..SendPolicy::default() });
    let result = client.deposit_eth(Address::ZERO, 0, U256::from(1)).await;
    assert!(matches!(result, Err(L1Error::Config(_))), "{result:?}");
}
