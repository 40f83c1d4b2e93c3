//! Exodus when the chains stopped at different blocks: chain 3 executed blocks 1–2 only, chains
//! 1 and 2 executed block 3 too. Each chain pays against its own newest executed root, so the
//! exits of chain 3 need a state restored to block 2 — the exodus run reports it (`needs_block`),
//! and a second state restored to that block pays them.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::common::*;
use crate::support::*;
use zklink_restore::{exodus, ChainExodus, ExodusStatus, Restorer};
use zklink_types::test_utils::{E18, WETH};
use zklink_types::Network;

const EXPIRY: u64 = 30;

fn weth_exits(run: &[ChainExodus], chain: u8) -> Vec<u128> {
    run.iter().filter(|c| c.chain == chain).flat_map(|c| c.exits.iter().map(|e| e.amount)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chain_pays_against_its_own_last_executed_block() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let (block_pk, exit_pk) = (block_key(&network), exit_key(&network));
    let chains =
        start(network, TestKeys { block: Some(block_pk.clone()), exit: Some(exit_pk.clone()) }, EXPIRY, None).await;
    let mut r = Rollup::new(&chains);
    let (alice, bob) = (r.net.user(0), r.net.user(1));

    // Block 1: alice deposits 10 WETH on chain 1 and 10 on chain 3. Block 2: her key. Block 3:
    // she pays bob 4 (a new account).
    for id in [1u8, 3] {
        let c = chains.chain(id);
        c.fund(1, WETH, 10 * E18).await.unwrap();
        c.client_for(1)
            .unwrap()
            .deposit_erc20(c.token(WETH).unwrap(), 10 * E18, alice.address, 0, false)
            .await
            .unwrap();
        r.apply_requests(id).await;
    }
    r.seal();
    r.apply(r.net.change_pubkey_tx(&alice));
    r.seal();
    r.apply(r.net.transfer_tx(&alice, bob.address, WETH, 4 * E18, 0));
    r.seal();
    let proofs: Vec<_> = (1..=3).map(|n| r.prove(&block_pk, n)).collect();
    let signers = oracles();
    let id = chains.network.network_id;
    for c in 1..=3u8 {
        let client = &chains.chain(c).client;
        client.commit_blocks(&r.stored(c, 0), (1..=3).map(|n| r.commit_arg(c, n)).collect()).await.unwrap();
        client.prove_blocks((1..=3).map(|n| r.stored(c, n)).collect(), vec![4; 3], proofs.clone()).await.unwrap();
        let signatures = sync_signatures(id, &r.stored(c, 3), &[&signers[0], &signers[1]]);
        client.sync_blocks(&r.stored(c, 3), signatures).await.unwrap();
        let executed = if c == 3 { 2 } else { 3 };
        client.execute_blocks((1..=executed).map(|n| r.execute_arg(c, n)).collect()).await.unwrap();
    }

    // The operator stops. Alice's first run starts every chain's clock; then all switch.
    let dir = tempfile::tempdir().unwrap();
    let mut latest = Restorer::open(restore_config(&chains, dir.path(), 1)).unwrap();
    assert_eq!(latest.run(None, |_| Ok(())).await.unwrap().block, 3, "the newest block executed anywhere");
    let alice_clients = user_clients(&chains, &alice).await;
    let first = exodus(&mut latest, &alice_clients, alice.address, &exit_pk).await.unwrap();
    assert!(first.iter().all(|c| matches!(c.status, ExodusStatus::NotYet(_))), "{first:?}");
    for c in &chains.chains {
        c.mine(EXPIRY).await.unwrap();
    }
    let run = exodus(&mut latest, &alice_clients, alice.address, &exit_pk).await.unwrap();
    assert!(run.iter().all(|c| c.status == ExodusStatus::Activated), "{run:?}");
    assert_eq!(weth_exits(&run, 1), vec![16 * E18 * 10 / 20], "chain 1 pays against block 3: half of her 16 WETH");
    assert_eq!(run[2].needs_block, Some(2), "chain 3 pays against block 2");
    assert!(run[2].exits.is_empty());

    // The state at block 2, beside the other: chain 3 pays alice's block-2 balance, its half.
    let at_block_2 = tempfile::tempdir().unwrap();
    let mut old = Restorer::open(restore_config(&chains, at_block_2.path(), 1)).unwrap();
    old.run(Some(2), |_| Ok(())).await.unwrap();
    let run = exodus(&mut old, &alice_clients, alice.address, &exit_pk).await.unwrap();
    assert_eq!(weth_exits(&run, 3), vec![20 * E18 * 10 / 20], "half of her 20 WETH at block 2");
    assert_eq!((run[0].needs_block, run[0].already_paid), (Some(3), 0), "chain 1 is left to the block-3 state");
    // Bob exists only from block 3: chain 1 pays him, chain 3 has nothing for him.
    let bob_clients = user_clients(&chains, &bob).await;
    let run = exodus(&mut latest, &bob_clients, bob.address, &exit_pk).await.unwrap();
    assert_eq!(weth_exits(&run, 1), vec![4 * E18 * 10 / 20]);
    let run = exodus(&mut old, &bob_clients, bob.address, &exit_pk).await.unwrap();
    assert!(weth_exits(&run, 3).is_empty());
}
