//! The JSON-RPC API over HTTP on 127.0.0.1 against a keeper with a temporary store: network and
//! account views, tx submission with its typed error codes, blocks.

use std::sync::Arc;

use jsonrpsee::core::client::{ClientT, Error};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::Value;
use zklink_api::codes;
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::{L2Tx, Network, PriorityTx, TxHash};

const E18: u128 = 1_000_000_000_000_000_000;

fn code(e: Error) -> i32 {
    match e {
        Error::Call(obj) => obj.code(),
        other => panic!("not a JSON-RPC error: {other}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_api_serves_accounts_txs_and_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let network = Network::dev(3);
    let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16).unwrap();
    let node = NodeHandle::new(keeper, store);
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();

    let health: String = client.request("zklink_health", rpc_params![]).await.unwrap();
    assert_eq!(health, "ok");
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
    node.keeper().seal(2).unwrap();
    let block: Value = client.request("zklink_block", rpc_params![1]).await.unwrap();
    assert_eq!(block["chunks"], 16);
    assert_eq!(block["txHashes"][1], serde_json::to_value(hash).unwrap());
    let none: Value = client.request("zklink_block", rpc_params![2]).await.unwrap();
    assert!(none.is_null());
    api.stop().await;
}
