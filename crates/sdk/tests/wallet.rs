//! A wallet end to end on three anvil chains, through the node's API, with real proofs. It
//! deposits USDC on chain 1 as USD, sets its key, transfers, and withdraws as USDC. It gets the
//! node's typed rejection for an overdraft, then requests a full exit on L1. The withdrawal and
//! the exit become claimable on chain 1.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

#[path = "../../l1/tests/support/mod.rs"]
mod support;

use std::sync::Arc;

use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use std::time::Duration;

use alloy::primitives::{B256, U256};
use support::*;
use zklink_contracts::zklink::TestToken;
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_l1::TestChains;
use zklink_node::{Node, NodeConfig};
use zklink_sdk::{SdkError, Wallet};
use zklink_types::{Address, ChainId, Network, TokenId};

const USD: TokenId = TokenId(1);
const USDC: TokenId = TokenId(17);

const DEADLINE: Duration = Duration::from_secs(300);

fn node_config(chains: &TestChains, dir: &std::path::Path, pk: Arc<ProvingKey<Bn254>>) -> NodeConfig {
    let keys = vec![(4, pk)];
    NodeConfig::for_test_chains(chains, dir.to_path_buf(), TEST_FEE_OWNER, oracles(), keys, Duration::from_millis(300))
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_wallet_deposits_transfers_withdraws_and_exits() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let pk = Arc::new(block_key(&network));
    let chains = start(network, TestKeys { block: Some((*pk).clone()), exit: None }, 1_000, None).await;
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(node_config(&chains, dir.path(), pk)).unwrap();
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.handle(), chains.network.clone()).await.unwrap();
    let url = format!("http://{}", api.addr);
    let c1 = chains.chain(1);
    let key: B256 = c1.anvil.keys()[1];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let scenario = async {
        let w = Wallet::connect(&url, &key.0).await.unwrap();
        assert_eq!(Some(w.address()), c1.anvil.address(1));
        let usdc = TestToken::new(c1.token(USDC.0).unwrap(), c1.client.provider().clone());
        usdc.mint(w.address(), U256::from(100_000_000u64)).send().await.unwrap().get_receipt().await.unwrap();
        let l1 = c1.anvil.endpoint_url();
        w.deposit(ChainId(1), l1.clone(), USDC, 100_000_000, true).await.unwrap();
        wait_for("the deposit", DEADLINE, async || {
            w.account().await.unwrap().is_some_and(|a| a.balance(0, USD.0) == 100 * E18)
        })
        .await;

        w.change_pubkey(ChainId(1), USD, 0).await.unwrap();
        let friend = Address::repeat_byte(0xf1);
        w.transfer(friend, USD, 10 * E18, 0).await.unwrap();
        let overdraft = w.transfer(friend, USD, 1_000 * E18, 0).await.unwrap_err();
        assert!(matches!(overdraft, SdkError::Node { code: zklink_api::codes::TX_REJECTED, .. }), "{overdraft}");
        w.withdraw(ChainId(1), USD, USDC, 5 * E18, 0, 0).await.unwrap();
        let account = w.account().await.unwrap().unwrap();
        assert_eq!(account.balance(0, USD.0), 85 * E18);
        assert!(account.has_key());

        // The full exit is an L1 request: the node must take it from chain 1's queue.
        w.request_full_exit(ChainId(1), l1, USDC, USD).await.unwrap();
        wait_for("withdrawal and exit claimable", DEADLINE, async || {
            c1.client.pending_balance(w.address(), USDC.0).await.unwrap() == 90_000_000
        })
        .await;
        assert_eq!(w.account().await.unwrap().unwrap().balance(0, USD.0), 0, "the exit took the whole balance");
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );
    api.stop().await;
}
