//! The event reader on anvil: events appear once they are `confirmations` deep, each once; a
//! reorganisation shallower than the depth never shows its dropped events, and a deeper one is
//! reported instead of leaving events that no longer exist.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::support::*;
use alloy::primitives::{Address, U256};
use zklink_contracts::zklink::ZkLink::ZkLinkEvents;
use zklink_l1::{EventReader, L1Error, L1Event};
use zklink_types::test_utils::E18;
use zklink_types::Network;

/// The receivers of the deposits among `events`.
fn deposit_receivers(events: &[L1Event]) -> Vec<Address> {
    events
        .iter()
        .filter_map(|e| match &e.event {
            ZkLinkEvents::NewPriorityRequest(r) => Some(Address::from_slice(&r.pubData[27..47])),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn events_are_read_behind_the_confirmation_depth() {
    if !have_anvil() {
        return;
    }
    let chains = start(Network::dev(1), TestKeys::default(), 100, None).await;
    let c = chains.chain(1);
    let user = c.client_for(1).unwrap();
    let deposit = |to: u8| {
        let user = user.clone();
        async move { user.deposit_eth(Address::repeat_byte(to), 0, U256::from(E18)).await.unwrap() }
    };
    let mut reader = EventReader::new(c.client.provider().clone(), c.deployment.zklink, c.deployment.deployed_at, 2);
    let setup = reader.poll().await.unwrap();
    assert!(setup.iter().any(|e| matches!(e.event, ZkLinkEvents::TokenAdded(_))), "deployment events are read");

    deposit(0xa).await;
    assert!(deposit_receivers(&reader.poll().await.unwrap()).is_empty(), "not 2 blocks deep yet");
    c.mine(2).await.unwrap();
    assert_eq!(deposit_receivers(&reader.poll().await.unwrap()), [Address::repeat_byte(0xa)]);
    assert!(reader.poll().await.unwrap().is_empty(), "each event once");

    // A reorganisation within the depth: B is dropped before it is confirmed, C replaces it.
    let snapshot = c.snapshot().await.unwrap();
    deposit(0xb).await;
    assert!(reader.poll().await.unwrap().is_empty());
    assert!(c.revert_to(snapshot).await.unwrap());
    deposit(0xc).await;
    c.mine(2).await.unwrap();
    assert_eq!(deposit_receivers(&reader.poll().await.unwrap()), [Address::repeat_byte(0xc)]);

    // A reorganisation deeper than the depth: D was confirmed, then its block vanished.
    let snapshot = c.snapshot().await.unwrap();
    deposit(0xd).await;
    c.mine(2).await.unwrap();
    assert_eq!(deposit_receivers(&reader.poll().await.unwrap()), [Address::repeat_byte(0xd)]);
    assert!(c.revert_to(snapshot).await.unwrap());
    c.mine(4).await.unwrap();
    let err = reader.poll().await.unwrap_err();
    assert!(matches!(err, L1Error::DeepReorg { .. }), "{err}");
}
