//! `zklink wallet` on a venue, against a node, its API and a venue in this process (no L1): the
//! help of `cancel` says what a hard cancel guarantees and costs; `buy --expires-in` signs the
//! expiry and `orders` shows it, one within the venue's margin is refused before signing;
//! `cancel --hard` moves the slot on L2, pays the fee and prints both; a second one is the node's
//! refusal; `order --valid-until` writes the expiry into the signed order.

use std::process::Command;

use zklink_node::FeePolicy;
use zklink_types::test_utils::{E18, USD, USDC};
use zklink_types::{OrderNonce, SlotId, SubAccountId};

use crate::world::World;

/// `zklink wallet <args>` with `key` against `api` and the venue at `exchange`: success, stdout,
/// stderr.
fn wallet(api: &str, exchange: &str, key: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zklink"))
        .args(["wallet", "--api", api, "--exchange", exchange, "--key", key])
        .args(args)
        .env_remove("ZKLINK_KEY")
        .output()
        .expect("run zklink wallet");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    println!("$ zklink wallet {}\n{stdout}{stderr}", args.join(" "));
    (out.status.success(), stdout, stderr)
}

#[test]
fn cancel_help_says_what_a_hard_cancel_guarantees_and_costs() {
    let key = format!("0x{}", "11".repeat(32));
    let (ok, help, _) = wallet("http://127.0.0.1:1", "http://127.0.0.1:1", &key, &["cancel", "--help"]);
    assert!(ok, "{help}");
    for needed in [
        "soft",
        "its signature stays valid on L2 until its order slot's nonce moves",
        "no operator can ever fill an order of that slot",
        "network fee for a CancelOrder",
        "--hard",
        "--fee-token",
    ] {
        assert!(help.contains(needed), "`cancel --help` should say {needed:?}:\n{help}");
    }
    let (ok, help, _) = wallet("http://127.0.0.1:1", "http://127.0.0.1:1", &key, &["buy", "--help"]);
    assert!(ok && help.contains("--expires-in <DURATION>") && help.contains("(`30s`, `5m`, `1h`, `2d`)"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_with_an_expiry_and_a_hard_cancel_from_the_wallet() {
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, USDC, USD, 10_000 * E18, true);
    // The node charges 0.01 USD a chunk: a CancelOrder (1 chunk) costs 0.01 USD.
    w.node.keeper().set_fee_policy(FeePolicy { usd_per_chunk: E18 / 100 });
    let dir = tempfile::tempdir().unwrap();
    let settings = w.settings(dir.path(), &submitter, vec![zklink_exchange::test_utils::weth_usd()]);
    let ex = zklink_exchange::service::Exchange::start(settings).await.unwrap();
    let api = zklink_exchange::rpc::serve("127.0.0.1:0".parse().unwrap(), ex).await.unwrap();
    let exchange = format!("http://{}", api.addr);
    let key = format!("0x{}", hex::encode(<[u8; 32]>::from(alice.l1.to_bytes())));
    let node_url = w.node_url.clone();
    let run = |args: Vec<String>| {
        let (node_url, exchange, key) = (node_url.clone(), exchange.clone(), key.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            wallet(&node_url, &exchange, &key, &args)
        })
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // A bid that expires in an hour rests; `orders` shows when.
    let (ok, out, err) = run(args(&["buy", "WETH/USD", "0.1", "--price", "2000", "--expires-in", "1h"])).await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(out.contains("rests in the book") && out.contains("expires at"), "{out}");
    let hash = out.split("(order ").nth(1).and_then(|r| r.get(..66)).expect("the order's hash").to_string();
    let (ok, out, err) = run(args(&["orders"])).await.unwrap();
    assert!(ok && out.contains(&hash) && out.contains("valid until"), "{out}{err}");
    // An expiry within the venue's margin: refused before anything is signed; a bad duration.
    let (ok, _, err) = run(args(&["buy", "WETH/USD", "0.1", "--price", "1990", "--expires-in", "1s"])).await.unwrap();
    assert!(!ok && err.contains("stops matching an order 2 s before its expiry"), "{err}");
    let (ok, _, err) = run(args(&["buy", "WETH/USD", "0.1", "--price", "1990", "--expires-in", "5x"])).await.unwrap();
    assert!(!ok && err.contains("is not a duration"), "{err}");

    // The hard cancel: printed with its tx and its fee; the slot moved on L2, the fee paid.
    let usd = w.balance(&alice, USD);
    let (ok, out, err) = run(args(&["cancel", &hash, "--hard"])).await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(out.contains("hard-cancelled order slot 1 up to order nonce 0 on L2: CancelOrder tx 0x"), "{out}");
    assert!(out.contains("fee 0.01 USD"), "{out}");
    assert!(out.contains("no operator can fill an order of slot 1 signed with nonce 0 or lower"), "{out}");
    assert!(out.contains(&format!("cancelled order {hash}")), "{out}");
    let slot = w.node.keeper().state().order_slot(w.id(&alice), SubAccountId(0), SlotId(1));
    assert_eq!((slot.nonce, slot.residue), (OrderNonce(1), 0));
    assert_eq!(w.balance(&alice, USD), usd - E18 / 100);
    let (ok, out, _) = run(args(&["orders", "--all"])).await.unwrap();
    assert!(ok && out.contains("cancelled: hard cancel: slot 1"), "{out}");
    // Again: the slot is past that nonce, and the node says so.
    let (ok, _, err) = run(args(&["cancel", &hash, "--hard"])).await.unwrap();
    assert!(!ok && err.contains("the node refused") && err.contains("would move it back"), "{err}");

    // A raw signed order with an expiry.
    let file = dir.path().join("order.json");
    let (ok, out, err) = run(args(&[
        "order",
        "--sell",
        "--base",
        "WETH",
        "--amount",
        "0.1",
        "--price",
        "3000",
        "--valid-until",
        "1900000000",
        "--out",
        file.to_str().unwrap(),
    ]))
    .await
    .unwrap();
    assert!(ok && out.contains("valid until 1900000000"), "{out}{err}");
    let order: zklink_types::Order = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!((order.valid_from, order.valid_until), (0, 1_900_000_000));
    api.stop().await;
}
