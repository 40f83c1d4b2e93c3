//! The whole node on three anvil chains with real proofs: USDC deposited on chain 1 and USDT on
//! chain 2 become one USD balance through the watchers; a change-pubkey and a transfer submitted
//! to the keeper are sealed by time, proven on the prover thread, and committed, proven, synced
//! and executed on every chain by the pipeline. A restart over the same data directory replays
//! to the same state without taking any deposit twice.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_executor::Executor;
use zklink_l1::TestChains;
use zklink_node::{Node, NodeConfig, NodeHandle};
use zklink_prover::Prover;
use zklink_types::test_utils::{E18, USD, USDC, USDT};
use zklink_types::{AccountId, Network, SubAccountId, TokenId};

const DEADLINE: Duration = Duration::from_secs(240);

fn node_config(chains: &TestChains, dir: &std::path::Path, pk: &Arc<Prover>) -> NodeConfig {
    let keys = vec![(4, pk.clone())];
    NodeConfig::for_test_chains(chains, dir.to_path_buf(), TEST_FEE_OWNER, oracles(), keys, Duration::from_millis(500))
        .unwrap()
}

fn usd_of(node: &NodeHandle, who: zklink_types::Address) -> u128 {
    let keeper = node.keeper();
    let Some(id) = keeper.state().account_id_by_address(&who) else { return 0 };
    keeper.state().balance(id, SubAccountId(0), TokenId(USD))
}

#[tokio::test(flavor = "current_thread")]
async fn the_node_takes_deposits_and_txs_to_execution_on_every_chain() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let pk = Arc::new(Prover::new(block_key(&network)));
    let chains = start(network, TestKeys { block: Some((*pk).clone()), exit: None }, 1_000, None).await;
    let dir = tempfile::tempdir().unwrap();
    let mirror = TestNet::new(chains.network.clone());
    let (alice, bob) = (mirror.user(0), mirror.user(1));

    // Deposits on two chains, both credited as USD.
    for (chain, token, amount) in [(1u8, USDC, 100_000_000u128), (2, USDT, 50 * E18)] {
        let c = chains.chain(chain);
        c.fund(1, token, amount).await.unwrap();
        let user = c.client_for(1).unwrap();
        user.deposit_erc20(c.token(token).unwrap(), amount, alice.address, 0, true).await.unwrap();
    }

    let node = Node::open(node_config(&chains, dir.path(), &pk)).unwrap();
    let handle = node.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scenario = async {
        wait_for("both deposits", DEADLINE, async || usd_of(&handle, alice.address) == 150 * E18).await;
        // Txs signed against the node's state.
        let mut client = TestNet::new(chains.network.clone());
        client.exec = Executor::new(chains.network.clone(), handle.keeper().state().clone()).unwrap();
        let cpk = client.change_pubkey_tx(&alice);
        client.apply_l2(cpk.clone()).unwrap();
        handle.keeper().submit(cpk, zklink_node::node::unix_now()).unwrap();
        let transfer = client.transfer_tx(&alice, bob.address, USD, 10 * E18, 0);
        handle.keeper().submit(transfer, zklink_node::node::unix_now()).unwrap();
        wait_for("execution on every chain", DEADLINE, async || {
            let sealed = handle.store().last_block().unwrap();
            handle.keeper().pending_chunks() == 0 && executed_everywhere(&chains, sealed).await
        })
        .await;
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );

    let last = handle.store().last_block().unwrap();
    assert!(last >= 2, "deposits, then the key and the transfer");
    let root = handle.keeper().state().clone().root();
    assert_eq!(usd_of(&handle, bob.address), 10 * E18);
    drop(handle);

    // Restart: the same state, no deposit taken twice, nothing new to do.
    let node = Node::open(node_config(&chains, dir.path(), &pk)).unwrap();
    let handle = node.handle();
    assert_eq!(handle.keeper().state().clone().root(), root);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scenario = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );
    assert_eq!(handle.store().last_block().unwrap(), last, "no block from re-read deposits");
    assert_eq!(usd_of(&handle, alice.address), 140 * E18);
    let id = handle.keeper().state().account_id_by_address(&alice.address).unwrap();
    assert_ne!(id, AccountId(0));
}
