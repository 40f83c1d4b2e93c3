//! The oracle network with a real node (here, where every role is linked, so that the oracle
//! crate itself never links the node): three independent oracles (threshold 2) on three anvil
//! chains with real proofs, the node running without oracle keys:
//! * they attest and sync every block, and execution follows on every chain;
//! * with two of them offline, blocks are proven everywhere but not synced: withdrawals stall,
//!   nothing is lost; restarted from their stores, they catch up and everything executes;
//! * a minority cannot sync: an honest attestation plus one over a wrong hash, another network
//!   or another block is refused by the contract;
//! * once governance (the Timelock, after its delay) replaces an oracle in the set, the removed
//!   oracle's attestations no longer count, and the new oracle's do.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zklink_prover::Prover;

use crate::common::*;
use crate::support::*;
use alloy::eips::BlockId;
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::Value;
use zklink_contracts::zklink::ZkLinkPeriphery;
use zklink_contracts::zklink::{StoredBlockInfo, TestToken, ZkLink};
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_l1::{EventReader, L1Error, TestChains, TimelockClient};
use zklink_node::{Node, NodeConfig};
use zklink_oracle::Attestation;
use zklink_sdk::Wallet;
use zklink_types::test_utils::typed::{USD, USDC};
use zklink_types::{ChainId, Network};

const DEADLINE: Duration = Duration::from_secs(300);
/// The governor's delay (the Timelock's minimum).
const TIMELOCK_DELAY: u64 = 3_600;

/// Block `n` as chain 1 stores it, from its `BlockCommit` event.
async fn stored_on_chain_1(chains: &TestChains, n: u32) -> StoredBlockInfo {
    let c = chains.chain(1);
    let mut reader = EventReader::new(c.client.provider().clone(), c.deployment.zklink, c.deployment.deployed_at, 0);
    let events = reader.poll().await.unwrap();
    events
        .into_iter()
        .filter_map(|e| match e.event {
            ZkLink::ZkLinkEvents::BlockCommit(b) if b.blockNumber == n => Some(b.info),
            _ => None,
        })
        .next_back()
        .unwrap()
}

fn signature(key: &PrivateKeySigner, network_id: u32, block: u32, hash: B256) -> Bytes {
    Attestation::sign(key, network_id, block, hash).signature
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_oracles_sync_stall_when_offline_and_refuse_minorities() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    let network = Network::dev(3);
    let pk = Arc::new(Prover::new(block_key(&network)));
    let chains = start(network, TestKeys { block: Some((*pk).clone()), exit: None }, 1_000, Some(TIMELOCK_DELAY)).await;
    fund_oracles(&chains).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = NodeConfig::for_test_chains(
        &chains,
        dir.path().join("node"),
        TEST_FEE_OWNER,
        Vec::new(), // no oracle keys: the oracle network syncs
        vec![(4, pk)],
        Duration::from_millis(300),
    )
    .unwrap();
    let node = Node::open(cfg).unwrap();
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.handle(), chains.network.clone()).await.unwrap();
    let (stop_node, node_stopped) = tokio::sync::oneshot::channel::<()>();
    let node_task = tokio::spawn(node.run(async {
        let _ = node_stopped.await;
    }));

    let keys = oracles();
    let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
    let dirs: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("oracle-{i}"))).collect();
    let mut running = Vec::new();
    for i in 0..3 {
        running.push(start_oracle(&chains, &keys[i], &dirs[i], addrs[i], &addrs).await);
    }

    // Traffic: a deposit, the key, a withdrawal; every block synced by the oracles and executed.
    let url = format!("http://{}", api.addr);
    let c1 = chains.chain(1);
    let w = Wallet::connect(&url, &c1.anvil.keys()[1].0).await.unwrap();
    let usdc = TestToken::new(c1.token(USDC.0).unwrap(), c1.client.provider().clone());
    usdc.mint(w.address(), U256::from(100_000_000u64)).send().await.unwrap().get_receipt().await.unwrap();
    w.deposit(ChainId(1), c1.anvil.endpoint_url(), USDC, 100_000_000, true).await.unwrap();
    wait_for("the deposit", DEADLINE, async || w.account().await.unwrap().is_some_and(|a| a.balance(0, USD.0) > 0))
        .await;
    w.change_pubkey(ChainId(1), USD, 0).await.unwrap();
    w.withdraw(ChainId(1), USD, USDC, 5 * 10u128.pow(18), 0, 0).await.unwrap();
    wait_for("every block synced by the oracles and executed everywhere", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        n.pending_chunks == 0 && executed_everywhere(&chains, n.sealed).await
    })
    .await;
    assert_eq!(c1.client.pending_balance(w.address(), USDC.0).await.unwrap(), 5_000_000);
    let oracle_api = HttpClientBuilder::default().build(format!("http://{}", addrs[0])).unwrap();
    let status: Value = oracle_api.request("oracle_status", rpc_params![]).await.unwrap();
    assert!(status["lastAttested"].as_u64().unwrap() >= 1, "{status}");
    assert!(status["inconsistency"].is_null());

    // Two oracles offline: the next block is proven everywhere but never synced.
    let c = running.pop().unwrap();
    let b = running.pop().unwrap();
    b.stop().await;
    c.stop().await;
    let before = c1.client.block_counters().await.unwrap().synced;
    w.transfer(Address::repeat_byte(0xf1), USD, 10u128.pow(18), 0).await.unwrap();
    let mut sealed = 0;
    wait_for("the transfer's block proven on every chain", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        sealed = n.sealed;
        n.pending_chunks == 0 && sealed > before && proven_everywhere(&chains, sealed).await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for ch in &chains.chains {
        let k = ch.client.block_counters().await.unwrap();
        assert_eq!((k.synced, k.executed), (before, before), "one oracle of three cannot sync");
    }

    // A minority cannot sync by itself: oracle A's honest attestation plus one from C over a wrong
    // hash, for another network or for another block, is refused.
    let info = stored_on_chain_1(&chains, sealed).await;
    let net = chains.network.network_id;
    let honest: Vec<Attestation> = oracle_api.request("oracle_attestations", rpc_params![sealed]).await.unwrap();
    let honest = honest.into_iter().find(|a| a.block == sealed).expect("oracle A attested the block");
    assert_eq!(honest.sync_hash, info.syncHash);
    let forged = [
        signature(&keys[2], net, sealed, B256::repeat_byte(0xee)),
        signature(&keys[2], net + 1, sealed, info.syncHash),
        signature(&keys[2], net, sealed - 1, info.syncHash),
    ];
    for bad in forged {
        let mut pair = vec![(keys[0].address(), honest.signature.clone()), (keys[2].address(), bad)];
        pair.sort_by_key(|(a, _)| *a);
        let sigs = pair.into_iter().map(|(_, s)| s).collect();
        let refused = c1.client.sync_blocks(&info, sigs).await.unwrap_err();
        assert!(matches!(refused, L1Error::Reverted { .. }), "{refused}");
    }

    // Back online from their stores: they catch up and everything executes.
    running.push(start_oracle(&chains, &keys[1], &dirs[1], addrs[1], &addrs).await);
    running.push(start_oracle(&chains, &keys[2], &dirs[2], addrs[2], &addrs).await);
    wait_for("the stalled block synced and executed everywhere", DEADLINE, async || {
        executed_everywhere(&chains, sealed).await
    })
    .await;
    let metrics = reqwest_get(addrs[1], "/metrics").await;
    assert!(metrics.contains("zklink_oracle_attestations_total"), "{metrics}");

    // Governance (the Timelock, after its delay) replaces C by a new oracle D, threshold still 2,
    // on every chain. With B offline, A and C attest the next block, but C no longer counts: it
    // stays unsynced until D runs.
    let d_key = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x44)).unwrap();
    let members = vec![keys[0].address(), keys[1].address(), d_key.address()];
    let call = ZkLinkPeriphery::setOracleSetCall { members, threshold: 2 }.abi_encode();
    for ch in &chains.chains {
        let tl = TimelockClient::new(ch.anvil.provider(0).unwrap(), ch.deployment.timelock.unwrap());
        let now = ch.client.provider().get_block(BlockId::latest()).await.unwrap().unwrap().header.timestamp;
        let eta = now + TIMELOCK_DELAY + 10;
        tl.queue(ch.client.address(), call.clone().into(), eta).await.unwrap();
        ch.advance_time(TIMELOCK_DELAY + 20).await.unwrap();
        tl.execute(ch.client.address(), call.clone().into(), eta).await.unwrap();
    }
    fund(&chains, d_key.address()).await;
    let c_running = running.pop().unwrap();
    running.pop().unwrap().stop().await; // B
    let before = c1.client.block_counters().await.unwrap().synced;
    w.transfer(Address::repeat_byte(0xf2), USD, 10u128.pow(18), 0).await.unwrap();
    let mut sealed = 0;
    wait_for("the next block proven on every chain", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        sealed = n.sealed;
        n.pending_chunks == 0 && sealed > before && proven_everywhere(&chains, sealed).await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        c1.client.block_counters().await.unwrap().synced,
        before,
        "a removed oracle's attestation does not count"
    );
    let d_addr = free_addr();
    let d = start_oracle(&chains, &d_key, &dir.path().join("oracle-d"), d_addr, &addrs).await;
    wait_for("the block synced with A and D and executed everywhere", DEADLINE, async || {
        executed_everywhere(&chains, sealed).await
    })
    .await;
    running.push(c_running);
    running.push(d);

    for r in running {
        r.stop().await;
    }
    let _ = stop_node.send(());
    node_task.await.unwrap();
    api.stop().await;
}
