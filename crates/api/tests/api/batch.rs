//! `zklink_submitTxs`: a batch is taken in order up to the first refusal, which carries the code
//! and message `zklink_submitTx` gives for that tx (a bad signature included); the result's JSON
//! shape is the documented one; an empty batch accepts nothing and an oversized one is invalid.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_api::{codes, MAX_BATCH_TXS};
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_types::api::SubmitTxsView;
use zklink_types::test_utils::{E18, USD};
use zklink_types::{L2Tx, PriorityTx, TxHash};

/// A transfer of `amount` from `from` to `to` at `nonce`, signed.
fn transfer_at(mirror: &TestNet, from: &TestUser, to: &TestUser, amount: u128, nonce: u32) -> L2Tx {
    let mut tx = mirror.transfer_tx(from, to.address, USD, amount, 0);
    if let L2Tx::Transfer(t) = &mut tx {
        t.nonce.0 = nonce;
    }
    tx.sign(&from.l2).unwrap()
}

fn hash(tx: &L2Tx) -> Value {
    serde_json::to_value(tx.hash().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_accepted_up_to_the_first_refusal_with_submit_tx_s_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (node, network) = crate::dev_node(dir.path());
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();

    let mut mirror = TestNet::dev();
    let (alice, bob) = (mirror.user(0), mirror.user(1));
    let mut deposit = mirror.deposit_tx(1, alice.address, 0, 17, USD, 10 * E18);
    if let PriorityTx::Deposit(d) = &mut deposit {
        d.serial_id.0 = 0;
    }
    mirror.apply_priority(&deposit).unwrap();
    node.keeper().submit_priority(deposit, 1).unwrap();
    let cpk = mirror.change_pubkey_tx(&alice);
    mirror.apply_l2(cpk.clone()).unwrap();
    let n = mirror.nonce_of(&alice).0;
    let t: Vec<L2Tx> = (0..6).map(|i| transfer_at(&mirror, &alice, &bob, E18, n + i)).collect();

    // All accepted: the hashes in order, `refused` null (present).
    let batch = [cpk.clone(), t[0].clone(), t[1].clone()];
    let all: Value = client.request("zklink_submitTxs", rpc_params![batch.to_vec()]).await.unwrap();
    assert_eq!(all, json!({ "accepted": [hash(&cpk), hash(&t[0]), hash(&t[1])], "refused": null }));
    assert!(node.keeper().is_pending(&t[1].hash().unwrap()));

    // A bad signature at index 1: the tx before it is submitted, the one after it is not; the
    // refusal is what zklink_submitTx says about the same tx.
    let mut tampered = t[3].clone();
    if let L2Tx::Transfer(x) = &mut tampered {
        x.amount += 1;
    }
    let batch = vec![t[2].clone(), tampered.clone(), t[3].clone()];
    let outcome: SubmitTxsView = client.request("zklink_submitTxs", rpc_params![batch]).await.unwrap();
    assert_eq!(outcome.accepted, vec![t[2].hash().unwrap()]);
    let refused = outcome.refused.expect("the tampered tx is refused");
    let alone = client.request::<TxHash, _>("zklink_submitTx", rpc_params![tampered]).await.unwrap_err();
    let (code, message) = crate::refusal(alone);
    assert_eq!(code, codes::TX_REJECTED);
    assert_eq!((refused.index, refused.code, refused.message), (1, code, message));
    assert!(!node.keeper().is_pending(&t[3].hash().unwrap()));

    // The keeper's refusals: a duplicate, and an overdraft after an accepted tx.
    let dup: SubmitTxsView = client.request("zklink_submitTxs", rpc_params![vec![t[0].clone()]]).await.unwrap();
    let alone = client.request::<TxHash, _>("zklink_submitTx", rpc_params![t[0].clone()]).await.unwrap_err();
    let refused = dup.refused.unwrap();
    assert!(dup.accepted.is_empty());
    assert_eq!((refused.index, refused.code), (0, codes::TX_DUPLICATE));
    assert_eq!(refused.message, crate::refusal(alone).1);
    let overdraw = transfer_at(&mirror, &alice, &bob, 100 * E18, n + 4);
    let batch = vec![t[3].clone(), overdraw.clone(), t[5].clone()];
    let outcome: Value = client.request("zklink_submitTxs", rpc_params![batch]).await.unwrap();
    let alone = client.request::<TxHash, _>("zklink_submitTx", rpc_params![overdraw]).await.unwrap_err();
    let (code, message) = crate::refusal(alone);
    assert_eq!(code, codes::TX_REJECTED);
    assert_eq!(
        outcome,
        json!({ "accepted": [hash(&t[3])], "refused": { "index": 1, "code": code, "message": message } })
    );

    // Nothing to do, too much to take, not txs.
    let empty: Value = client.request("zklink_submitTxs", rpc_params![Vec::<L2Tx>::new()]).await.unwrap();
    assert_eq!(empty, json!({ "accepted": [], "refused": null }));
    let many = vec![t[4].clone(); MAX_BATCH_TXS + 1];
    let over = client.request::<Value, _>("zklink_submitTxs", rpc_params![many]).await.unwrap_err();
    let (code, message) = crate::refusal(over);
    assert_eq!(code, codes::INVALID_PARAMS);
    assert!(message.contains("at most 1000 txs") && message.contains("got 1001"), "{message}");
    let garbage = client.request::<Value, _>("zklink_submitTxs", rpc_params![vec!["not a tx"]]).await.unwrap_err();
    assert_eq!(crate::refusal(garbage).0, codes::INVALID_PARAMS);
    let flat = client.request::<Value, _>("zklink_submitTxs", rpc_params![t[4].clone()]).await.unwrap_err();
    assert_eq!(crate::refusal(flat).0, codes::INVALID_PARAMS, "the txs are one array param");

    // Counted as zklink_submitTx counts: per tx accepted, and the refusal.
    let m = node.metrics();
    assert_eq!(m.txs_accepted.with_label_values(&["applied"]).get(), 5);
    assert_eq!(m.txs_refused.with_label_values(&["rejected"]).get(), 4, "two in batches, two alone");
    assert_eq!(m.txs_refused.with_label_values(&["duplicate"]).get(), 2);
    api.stop().await;
}
