//! The L1 watcher on anvil: deposits are handed out once confirmed, in serial order, each once;
//! a watcher restarted with the next serial id skips what was taken.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::support::*;
use alloy::primitives::{Address, U256};
use zklink_node::PriorityWatcher;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, PriorityTx};

fn receivers(txs: &[(PriorityTx, alloy::primitives::B256)]) -> Vec<(u64, Address)> {
    txs.iter()
        .map(|(t, _)| match t {
            PriorityTx::Deposit(d) => (d.serial_id.0, d.to),
            PriorityTx::FullExit(f) => (f.serial_id.0, f.owner),
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn requests_are_taken_confirmed_in_order_and_once() {
    if !have_anvil() {
        return;
    }
    let chains = start(Network::dev(1), TestKeys::default(), 100, None).await;
    let c = chains.chain(1);
    let user = c.client_for(1).unwrap();
    let (provider, address, from) = (c.client.provider().clone(), c.deployment.zklink, c.deployment.deployed_at);
    let mut watcher = PriorityWatcher::new(ChainId(1), provider.clone(), address, from, 1, 0);
    for to in [1u8, 2, 3] {
        user.deposit_eth(Address::repeat_byte(to), 0, U256::from(E18)).await.unwrap();
    }
    let first = receivers(&watcher.poll().await.unwrap());
    assert_eq!(
        first,
        [(0, Address::repeat_byte(1)), (1, Address::repeat_byte(2))],
        "the last one is not confirmed yet"
    );
    c.mine(1).await.unwrap();
    assert_eq!(receivers(&watcher.poll().await.unwrap()), [(2, Address::repeat_byte(3))]);
    assert!(watcher.poll().await.unwrap().is_empty(), "never twice");
    assert_eq!(watcher.next_serial(), 3);

    // Restarted after taking requests 0 and 1: it reads from the deployment block and skips them.
    let mut restarted = PriorityWatcher::new(ChainId(1), provider, address, from, 1, 2);
    assert_eq!(receivers(&restarted.poll().await.unwrap()), [(2, Address::repeat_byte(3))]);
}
