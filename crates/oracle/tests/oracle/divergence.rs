//! The operator commits and proves two different histories: block 2 on chain 1 differs from
//! chains 2 and 3, each with a valid proof. Three independent oracles (threshold 2) attest block 1,
//! which all chains share, and refuse block 2, reporting the disagreement; so no chain can execute
//! block 2, and the operator cannot sync it alone. Users still leave: a full exit requested on
//! chain 2 expires unprocessed, exodus starts there, and a real exit proof against the last
//! executed root pays the user's whole balance.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::*;
use crate::support::*;
use alloy::primitives::FixedBytes;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::Value;
use zklink_circuit::exit::{ExitCircuit, ExitRequest, ExitShape, ExitWitness};
use zklink_contracts::proof_to_evm;
use zklink_contracts::zklink::ZkLink::ZkLinkErrors as E;
use zklink_l1::ExitCall;
use zklink_types::test_utils::{E18, USD, USDC};
use zklink_types::{AccountId, ChainId, Network, SubAccountId, TokenId};

const EXPIRY: u64 = 30;
const DEADLINE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_histories_are_never_attested_and_users_still_exit() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let (block_pk, exit_pk) = (block_key(&network), exit_key(&network));
    let keys = TestKeys { block: Some(block_pk.clone()), exit: Some(exit_pk.clone()) };
    let chains = start(network, keys, EXPIRY, None).await;
    fund_oracles(&chains).await;
    let (c1, c2) = (chains.chain(1), chains.chain(2));

    // Block 1, shared: USDC deposits on chain 2. Block 2 forks: a transfer of 10 USD to bob
    // in history A, of 20 USD in history B.
    let mut a = Rollup::new(&chains);
    let mut b = Rollup::new(&chains);
    let (alice, bob) = (a.net.user(0), a.net.user(1));
    c2.fund(1, USDC, 1_500_000_000).await.unwrap();
    let depositor = c2.client_for(1).unwrap();
    // Bob deposits too, so that the transfer to him fits a 4-chunk block beside alice's key.
    for (who, amount) in [(alice.address, 1_000_000_000), (bob.address, 500_000_000)] {
        depositor.deposit_erc20(c2.token(USDC).unwrap(), amount, who, 0, true).await.unwrap();
    }
    for r in [&mut a, &mut b] {
        assert_eq!(r.apply_requests(2).await, 2);
        r.seal();
        r.apply(r.net.change_pubkey_tx(&alice));
    }
    a.apply(a.net.transfer_tx(&alice, bob.address, USD, 10 * E18, 0));
    b.apply(b.net.transfer_tx(&alice, bob.address, USD, 20 * E18, 0));
    a.seal();
    b.seal();
    assert_eq!(a.stored(1, 1), b.stored(1, 1), "block 1 is the same in both histories");
    assert_ne!(a.stored(1, 2).syncHash, b.stored(1, 2).syncHash, "block 2 is not");

    // The operator commits and proves history A on chain 1 and history B on chains 2 and 3.
    let (p1, pa, pb) = (a.prove(&block_pk, 1), a.prove(&block_pk, 2), b.prove(&block_pk, 2));
    for id in 1..=3u8 {
        let (r, p2) = if id == 1 { (&a, pa) } else { (&b, pb) };
        let client = &chains.chain(id).client;
        client.commit_blocks(&r.stored(id, 0), vec![r.commit_arg(id, 1), r.commit_arg(id, 2)]).await.unwrap();
        client.prove_blocks(vec![r.stored(id, 1), r.stored(id, 2)], vec![4, 4], vec![p1, p2]).await.unwrap();
    }

    // Three oracles: block 1 is attested and synced everywhere; block 2 never is.
    let keys = oracles();
    let dir = tempfile::tempdir().unwrap();
    let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
    let dirs: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("oracle-{i}"))).collect();
    let mut running = Vec::new();
    for i in 0..3 {
        running.push(start_oracle(&chains, &keys[i], &dirs[i], addrs[i], &addrs).await);
    }
    wait_for("block 1 synced on every chain", DEADLINE, async || {
        for c in &chains.chains {
            if c.client.block_counters().await.unwrap().synced != 1 {
                return false;
            }
        }
        true
    })
    .await;
    for addr in &addrs {
        let api = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();
        wait_for("the oracle to report the disagreement", DEADLINE, async || {
            let status: Value = api.request("oracle_status", rpc_params![]).await.unwrap();
            status["inconsistency"]["block"] == 2
        })
        .await;
        let status: Value = api.request("oracle_status", rpc_params![]).await.unwrap();
        assert_eq!(status["lastAttested"], 1, "{status}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for c in &chains.chains {
        assert_eq!(c.client.block_counters().await.unwrap().synced, 1, "block 2 is never synced");
    }
    // Block 1 executes everywhere; block 2 cannot execute on any chain.
    for id in 1..=3u8 {
        let (r, client) = (if id == 1 { &a } else { &b }, &chains.chain(id).client);
        client.execute_blocks(vec![r.execute_arg(id, 1)]).await.unwrap();
        assert!(matches!(revert(client.execute_blocks(vec![r.execute_arg(id, 2)]).await), E::NotSynced(_)));
    }
    for r in running {
        r.stop().await;
    }

    // Alice asks chain 2 for a full exit; nobody processes it, it expires, exodus starts, and her
    // balance at the last executed root (block 1) is paid from chain 2's USDC reserve.
    let alice_key = alloy::signers::local::PrivateKeySigner::from_bytes(&FixedBytes::from_slice(&alice.l1.to_bytes()))
        .expect("alice's L1 key");
    fund(&chains, alice.address).await;
    let alice_client = c2.client.with_provider(zklink_l1::client::connect(c2.anvil.endpoint_url(), alice_key));
    let account = a.net.id_of(&alice).0;
    alice_client.request_full_exit(account, 0, USDC, USD).await.unwrap();
    assert!(matches!(revert(alice_client.activate_exodus().await), E::NotExpired(_)));
    c2.mine(EXPIRY + 1).await.unwrap();
    alice_client.activate_exodus().await.unwrap();
    assert!(c2.client.zklink().exodusMode().call().await.unwrap());
    assert!(!c1.client.zklink().exodusMode().call().await.unwrap(), "exodus is per chain");

    let req = ExitRequest {
        chain: ChainId(2),
        account: AccountId(account),
        sub: SubAccountId(0),
        l2_token: TokenId(USD),
        reserve_token: TokenId(USDC - 15),
    };
    let mut state = a.blocks[1].start.clone(); // the state after block 1
    let witness = ExitWitness::build(&mut state, 3, &req).expect("exit witness");
    let claim = witness.claim.clone();
    assert_eq!(claim.amount, 1_000 * E18, "her whole balance at block 1");
    let shape = ExitShape::new(&chains.network.preset, 3).unwrap();
    let proof = proof_to_evm(&zklink_prover::prove(&exit_pk, ExitCircuit::new(shape, witness).unwrap()).unwrap());
    let exit =
        ExitCall { owner: claim.owner, account, sub: 0, l2_token: USD, reserve_token: USDC - 15, amount: claim.amount };
    alice_client.perform_exodus(&b.stored(2, 1), &exit, proof).await.unwrap();
    assert_eq!(c2.client.pending_balance(alice.address, USDC).await.unwrap(), 1_000_000_000, "1000 USDC back");
    assert!(matches!(
        revert(alice_client.perform_exodus(&b.stored(2, 1), &exit, proof).await),
        E::ExodusAlreadyPerformed(_)
    ));
}
