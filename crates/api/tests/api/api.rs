//! The JSON-RPC API over HTTP and WebSocket on 127.0.0.1 against a keeper with a temporary store:
//! network and account views, tx submission with its typed error codes, queued txs, fees, tx
//! status, blocks, pending withdrawals, subscriptions, the prover methods, /health and /metrics,
//! and the OpenRPC document.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Error, Subscription, SubscriptionClientT};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::Value;
use zklink_api::codes;
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, FeePolicy, MempoolLimits, NodeHandle, StateKeeper};
use zklink_types::test_utils::E18;
use zklink_types::{L2Tx, Network, PriorityTx, TxHash};

fn code(e: Error) -> i32 {
    crate::refusal(e).0
}

#[tokio::test(flavor = "current_thread")]
async fn the_api_serves_accounts_txs_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let (node, network) = crate::dev_node(dir.path());
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();

    let health: Value = client.request("zklink_health", rpc_params![]).await.unwrap();
    assert_eq!((health["status"].as_str(), health["accepting"].as_bool()), (Some("ok"), Some(true)), "{health}");
    let net: Value = client.request("zklink_network", rpc_params![]).await.unwrap();
    assert_eq!(net["chains"].as_array().unwrap().len(), 3);

    let mut mirror = TestNet::dev();
    let alice = mirror.user(0);
    let mut deposit = mirror.deposit_tx(1, alice.address, 0, 17, 1, 100 * E18);
    if let PriorityTx::Deposit(d) = &mut deposit {
        d.serial_id.0 = 0;
    }
    mirror.apply_priority(&deposit).unwrap();
    node.keeper().submit_priority(deposit, 1).unwrap();
    let account: Value = client.request("zklink_account", rpc_params![alice.address]).await.unwrap();
    assert_eq!(account["balances"][0]["amount"], (100 * E18).to_string());
    assert_eq!(account["balances"][0]["token"], 1, "credited as USD");
    let nobody: Value =
        client.request("zklink_account", rpc_params![zklink_types::Address::repeat_byte(3)]).await.unwrap();
    assert!(nobody.is_null());
    // Nothing is executed on L1 yet: the executed view has no such account.
    let executed: Value = client.request("zklink_account", rpc_params![alice.address, "executed"]).await.unwrap();
    assert!(executed.is_null(), "{executed}");
    let latest: Value = client.request("zklink_account", rpc_params![alice.address, "latest"]).await.unwrap();
    assert_eq!(latest["balances"], account["balances"]);
    let by_id: Value = client.request("zklink_account", rpc_params![account["id"].as_u64().unwrap()]).await.unwrap();
    assert_eq!(by_id, account, "the same account by its L2 id");
    let no_id: Value = client.request("zklink_account", rpc_params![4_000_000u32]).await.unwrap();
    assert!(no_id.is_null());
    let bad = client.request::<Value, _>("zklink_account", rpc_params![alice.address, "soon"]).await.unwrap_err();
    assert_eq!(code(bad), codes::INVALID_PARAMS);

    // Submission: accepted, then the duplicate and a tampered copy get their own codes.
    let cpk = mirror.change_pubkey_tx(&alice);
    let hash: TxHash = client.request("zklink_submitTx", rpc_params![cpk.clone()]).await.unwrap();
    assert_eq!(hash, cpk.hash().unwrap());
    let again = client.request::<TxHash, _>("zklink_submitTx", rpc_params![cpk.clone()]).await.unwrap_err();
    assert_eq!(code(again), codes::TX_DUPLICATE);
    let mut tampered = cpk;
    if let L2Tx::ChangePubKey(c) = &mut tampered {
        c.nonce.0 += 1;
    }
    let bad = client.request::<TxHash, _>("zklink_submitTx", rpc_params![tampered]).await.unwrap_err();
    assert_eq!(code(bad), codes::TX_REJECTED);
    let garbage = client.request::<TxHash, _>("zklink_submitTx", rpc_params!["not a tx"]).await.unwrap_err();
    assert_eq!(code(garbage), codes::INVALID_PARAMS);

    // Blocks.
    let n: Value = client.request("zklink_blockNumber", rpc_params![]).await.unwrap();
    assert_eq!((n["sealed"].as_u64(), n["pendingChunks"].as_u64()), (Some(0), Some(5)));
    node.keeper().seal().unwrap();
    let block: Value = client.request("zklink_block", rpc_params![1]).await.unwrap();
    assert_eq!(block["chunks"], 16);
    assert_eq!(block["txHashes"][1], serde_json::to_value(hash).unwrap());
    let none: Value = client.request("zklink_block", rpc_params![2]).await.unwrap();
    assert!(none.is_null());
    api.stop().await;
}

/// A plain HTTP/1.0 GET: (status, body).
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// `tx` with another nonce, signed again.
fn with_nonce(tx: L2Tx, nonce: u32, user: &TestUser) -> L2Tx {
    let mut tx = tx;
    if let L2Tx::Transfer(t) = &mut tx {
        t.nonce.0 = nonce;
    }
    tx.sign(&user.l2).unwrap()
}

async fn next<T: serde::de::DeserializeOwned>(sub: &mut Subscription<T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), sub.next()).await.expect("a notification in time").unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_queues_prices_tracks_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let network = Network::dev(3);
    let limits = MempoolLimits { per_account: 4, total: 100 };
    let keeper =
        StateKeeper::open_with(network.clone(), store.clone(), TEST_FEE_OWNER, 16, limits, unix_now()).unwrap();
    let node = NodeHandle::new(keeper, store);
    let cfg = zklink_api::ApiConfig { prover_token: Some("secret".into()), ..Default::default() };
    let api = zklink_api::serve_with("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone(), cfg).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();
    let ws = WsClientBuilder::default().build(format!("ws://{}", api.addr)).await.unwrap();

    let mut mirror = TestNet::dev();
    let (alice, bob) = (mirror.user(0), mirror.user(1));
    let mut account: Subscription<Value> =
        ws.subscribe("zklink_subscribeAccount", rpc_params![alice.address], "zklink_unsubscribeAccount").await.unwrap();
    let mut blocks: Subscription<Value> =
        ws.subscribe("zklink_subscribeBlocks", rpc_params![], "zklink_unsubscribeBlocks").await.unwrap();
    let mut deposit = mirror.deposit_tx(1, alice.address, 0, 17, 1, 100 * E18);
    if let PriorityTx::Deposit(d) = &mut deposit {
        d.serial_id.0 = 0;
    }
    mirror.apply_priority(&deposit).unwrap();
    node.keeper().submit_priority(deposit, 1).unwrap();
    let seen = next(&mut account).await;
    assert_eq!(seen["balances"][0]["amount"], (100 * E18).to_string(), "the account subscription saw the deposit");

    // Fees: priced in USD per chunk once the node charges.
    node.keeper().set_fee_policy(FeePolicy { usd_per_chunk: E18 / 1000 });
    let fee: Value = client.request("zklink_estimateFee", rpc_params!["Transfer", 1]).await.unwrap();
    assert_eq!((fee["fee"].as_str(), fee["chunks"].as_u64()), (Some("2000000000000000"), Some(2)));
    let other = client.request::<Value, _>("zklink_estimateFee", rpc_params!["Transfer", 17]).await.unwrap_err();
    assert_eq!(code(other), codes::INVALID_PARAMS, "no price for token 17");
    let unknown = client.request::<Value, _>("zklink_estimateFee", rpc_params!["Teleport", 1]).await.unwrap_err();
    assert_eq!(code(unknown), codes::INVALID_PARAMS);
    let cpk = mirror.change_pubkey_tx(&alice);
    let cheap = client.request::<TxHash, _>("zklink_submitTx", rpc_params![cpk]).await.unwrap_err();
    assert_eq!(code(cheap), codes::FEE, "a free change-pubkey is refused");
    node.keeper().set_fee_policy(FeePolicy::default());
    let cpk = mirror.change_pubkey_tx(&alice);
    mirror.apply_l2(cpk.clone()).unwrap();
    let _: TxHash = client.request("zklink_submitTx", rpc_params![cpk]).await.unwrap();

    // A future nonce waits; the gap filled, both are applied in order.
    let nonce = mirror.nonce_of(&alice).0;
    let first = mirror.transfer_tx(&alice, bob.address, 1, E18, 0);
    let second = with_nonce(first.clone(), nonce + 1, &alice);
    let second_hash: TxHash = client.request("zklink_submitTx", rpc_params![second.clone()]).await.unwrap();
    let status: Value = client.request("zklink_txStatus", rpc_params![second_hash]).await.unwrap();
    assert_eq!(status["stage"], "queued");
    let mut tx_sub: Subscription<Value> =
        ws.subscribe("zklink_subscribeTx", rpc_params![second_hash], "zklink_unsubscribeTx").await.unwrap();
    assert_eq!(next(&mut tx_sub).await["stage"], "queued");
    let far = with_nonce(first.clone(), nonce + 9, &alice);
    let too_far = client.request::<TxHash, _>("zklink_submitTx", rpc_params![far]).await.unwrap_err();
    assert_eq!(code(too_far), codes::QUEUE_LIMIT, "more than 4 ahead");
    let _: TxHash = client.request("zklink_submitTx", rpc_params![first]).await.unwrap();
    assert_eq!(next(&mut tx_sub).await["stage"], "pending", "promoted once the gap was filled");
    let unknown: Value = client.request("zklink_txStatus", rpc_params![TxHash([7; 32])]).await.unwrap();
    assert!(unknown.is_null());

    // A withdrawal, sealed: listed for acceptors until its chain executes it.
    mirror.apply_l2(mirror.transfer_tx(&alice, bob.address, 1, E18, 0)).unwrap();
    mirror.apply_l2(with_nonce(mirror.transfer_tx(&alice, bob.address, 1, E18, 0), nonce + 1, &alice)).unwrap();
    let withdraw = mirror.withdraw_tx(&alice, 1, 1, 17, 5 * E18, 0, 30);
    let _: TxHash = client.request("zklink_submitTx", rpc_params![withdraw]).await.unwrap();
    node.keeper().seal().unwrap();
    let sealed = next(&mut blocks).await;
    assert_eq!((sealed["event"].as_str(), sealed["number"].as_u64()), (Some("blockSealed"), Some(1)));
    assert_eq!(next(&mut tx_sub).await["stage"], "sealed");
    let status: Value = client.request("zklink_txStatus", rpc_params![second_hash]).await.unwrap();
    assert_eq!((status["block"].as_u64(), status["stage"].as_str()), (Some(1), Some("sealed")), "{status}");
    let pending: Value = client.request("zklink_pendingWithdrawals", rpc_params![1]).await.unwrap();
    assert_eq!(pending.as_array().map(Vec::len), Some(1), "{pending}");
    assert_eq!(
        (pending[0]["amount"].as_str(), pending[0]["fastWithdrawFeeRatio"].as_u64()),
        (Some("5000000000000000000"), Some(30))
    );
    let none: Value = client.request("zklink_pendingWithdrawals", rpc_params![2]).await.unwrap();
    assert_eq!(none.as_array().map(Vec::len), Some(0));

    // Prover methods: the token is checked; a lease hands out block 1's witness; a proof that
    // does not verify is refused (this node has no keys at all, so any proof is).
    let denied = client.request::<Value, _>("zklink_proverLease", rpc_params!["guess", "w"]).await.unwrap_err();
    assert_eq!(code(denied), codes::UNAUTHORIZED);
    node.proofs().push(node.keeper().take_jobs());
    let job: Value = client.request("zklink_proverLease", rpc_params!["secret", "w"]).await.unwrap();
    assert_eq!((job["block"].as_u64(), job["chunks"].as_u64()), (Some(1), Some(16)));
    let proof = zklink_prover_worker::job::encode_proof(&ark_groth16::Proof::default());
    let refused = client.request::<bool, _>("zklink_proverSubmit", rpc_params!["secret", 1, proof]).await.unwrap_err();
    assert_eq!(code(refused), codes::PROOF_REFUSED);

    // Health and metrics over plain HTTP on the same port.
    let (status, body) = http_get(api.addr, "/health");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"accepting\": true"), "{body}");
    let (status, metrics) = http_get(api.addr, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("zklink_txs_accepted_total{status=\"queued\"} 1"), "{metrics}");
    assert!(metrics.contains("zklink_txs_refused_total{reason=\"queue\"} 1"), "{metrics}");

    // The OpenRPC document names exactly the methods served.
    let doc: Value = client.request("rpc.discover", rpc_params![]).await.unwrap();
    let mut documented: Vec<String> =
        doc["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
    let module = zklink_api::module(
        node.clone(),
        network,
        zklink_api::ApiConfig { prover_token: Some("x".into()), ..Default::default() },
    );
    let mut served: Vec<String> = module.method_names().map(String::from).collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    api.stop().await;
}
