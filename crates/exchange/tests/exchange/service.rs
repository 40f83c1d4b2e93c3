//! The venue as a service against a real node and its API on 127.0.0.1: placements with every
//! refusal's code, fills settled as OrderMatching txs, book deltas with consecutive change
//! numbers, a fill the node refuses (the maker spent its funds), the public journal, the audit,
//! and a restart that resumes settlement from the node's nonce.

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{json, Value};
use zklink_exchange::codes;
use zklink_exchange::input::{CancelRequest, OrderHash};
use zklink_exchange::service::Exchange;
use zklink_exchange::Venue;
use zklink_executor::testkit::TestUser;
use zklink_node::node::unix_now;

use crate::world::World;
use zklink_types::test_utils::{USD, USDC, WETH};
use zklink_types::{L2Tx, Order, SubAccountId, TokenId, TxSignature};

const E18: u128 = zklink_types::test_utils::E18;

/// A signed WETH/USD order of `u` (`milli` thousandths of WETH at `cents` USD cents).
fn order(w: &World, u: &TestUser, slot: u16, nonce: u32, is_sell: bool, milli: u128, cents: u128) -> Order {
    zklink_exchange::test_utils::weth_usd_order(w.id(u), &u.l2, (slot, nonce), is_sell, milli, cents)
}

async fn place(c: &HttpClient, o: &Order, kind: &str) -> Result<Value, (i32, String)> {
    c.request("exchange_placeOrder", rpc_params![json!({ "market": 1, "type": kind, "order": o })]).await.map_err(|e| {
        match e {
            jsonrpsee::core::client::Error::Call(obj) => (obj.code(), obj.message().to_string()),
            other => panic!("not a JSON-RPC error: {other}"),
        }
    })
}

async fn status(c: &HttpClient) -> Value {
    c.request("exchange_status", rpc_params![]).await.unwrap()
}

/// Waits (bounded) until every fill so far is settled or refused.
async fn settled(c: &HttpClient) {
    for _ in 0..200 {
        let s = status(c).await;
        if s["pending"].as_u64().unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fills not settled in 5 s: {}", status(c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_match_settle_on_l2_and_a_refused_fill_restores_the_counterparty() {
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let carol = w.fund(3, USDC, USD, 10_000 * E18, false); // no L2 key
    let dir = tempfile::tempdir().unwrap();
    let ex = Exchange::start(w.settings(dir.path(), &submitter, vec![crate::market_config()])).await.unwrap();
    let api = zklink_exchange::rpc::serve("127.0.0.1:0".parse().unwrap(), ex.clone()).await.unwrap();
    let c = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();
    let ws = WsClientBuilder::default().build(format!("ws://{}", api.addr)).await.unwrap();
    let mut book: Subscription<Value> =
        ws.subscribe("exchange_subscribeBook", rpc_params![1], "exchange_unsubscribeBook").await.unwrap();

    let markets: Value = c.request("exchange_markets", rpc_params![]).await.unwrap();
    assert_eq!(markets[0]["symbol"], "WETH/USD", "{markets}");
    assert_eq!(markets[0]["submitter"], w.id(&submitter).0);

    // Alice sells 1 WETH at 3000; Bob buys 0.4 up to 3001 and trades at Alice's 3000.
    let ask = place(&c, &order(&w, &alice, 1, 0, true, 1000, 300_000), "Limit").await.unwrap();
    assert_eq!(ask["status"], "open");
    let bid = place(&c, &order(&w, &bob, 1, 0, false, 400, 300_100), "Limit").await.unwrap();
    assert_eq!((bid["status"].as_str(), bid["filled"].as_str()), (Some("filled"), Some("0.4")), "{bid}");
    assert_eq!(bid["fills"][0]["price"], "3000");
    settled(&c).await;
    assert_eq!(w.balance(&alice, USD), 1200 * E18 - 1200 * E18 / 1000, "1200 USD less the 0.1 % maker fee");
    assert_eq!(w.balance(&bob, WETH), 4 * E18 / 10 - 4 * E18 / 10 * 20 / 10_000, "0.4 WETH less the 0.2 % taker fee");
    assert_eq!(w.balance(&submitter, USD), 10 * E18 + 1200 * E18 / 1000, "the submitter collects the fees");
    let order_view: Value = c.request("exchange_order", rpc_params![bid["hash"].clone()]).await.unwrap();
    assert_eq!(order_view["fills"][0]["settlement"], "settled", "{order_view}");

    // Every refusal has its code and says what was expected.
    let too_big = place(&c, &order(&w, &bob, 2, 0, false, 5000, 300_000), "Limit").await.unwrap_err();
    assert_eq!(too_big.0, codes::UNFUNDABLE, "{too_big:?}");
    assert!(too_big.1.contains("needs 15000 USD"), "{}", too_big.1);
    let keyless = place(&c, &order(&w, &carol, 1, 0, false, 10, 300_000), "Limit").await.unwrap_err();
    assert_eq!(keyless.0, codes::BAD_SIGNATURE, "{keyless:?}");
    let mut forged = order(&w, &bob, 3, 0, true, 100, 300_000);
    forged.account_id = w.id(&alice);
    let forged = forged.sign(&bob.l2).unwrap();
    assert_eq!(place(&c, &forged, "Limit").await.unwrap_err().0, codes::BAD_SIGNATURE);
    let slot = place(&c, &order(&w, &alice, 1, 0, true, 100, 310_000), "Limit").await.unwrap_err();
    assert_eq!(slot.0, codes::SLOT, "{slot:?}");
    assert!(slot.1.contains("must use nonce 1"), "{}", slot.1);
    let post = place(&c, &order(&w, &bob, 4, 0, false, 100, 300_000), "PostOnly").await.unwrap_err();
    assert_eq!(post.0, codes::POST_ONLY, "{post:?}");
    let fok = place(&c, &order(&w, &bob, 5, 0, false, 2000, 300_000), "Fok").await.unwrap_err();
    assert_eq!(fok.0, codes::FOK, "{fok:?}");
    let off_tick = place(&c, &order(&w, &bob, 6, 0, false, 100, 1), "Limit").await;
    assert!(off_tick.is_ok(), "0.01 is on the tick: {off_tick:?}");
    let mut other_market = order(&w, &bob, 7, 0, false, 100, 300_000);
    other_market.quote_token = TokenId(USDC);
    let other_market = other_market.sign(&bob.l2).unwrap();
    assert_eq!(place(&c, &other_market, "Limit").await.unwrap_err().0, codes::MARKET_RULES);

    // Only the owner cancels.
    let ask_hash: OrderHash = serde_json::from_value(ask["hash"].clone()).unwrap();
    let by_bob = CancelRequest::sign(w.id(&bob), ask_hash, &bob.l2).unwrap();
    let e = c.request::<Value, _>("exchange_cancelOrder", rpc_params![by_bob]).await.unwrap_err();
    assert!(e.to_string().contains("only its owner can cancel it"), "{e}");

    // Alice moves her WETH away: the venue still shows her 0.6 ask; Bob takes it, the node refuses.
    let transfer = w.mirror.transfer_tx(&alice, carol.address, WETH, w.balance(&alice, WETH), 0);
    w.node.keeper().submit(transfer, unix_now()).unwrap();
    let taker = place(&c, &order(&w, &bob, 8, 0, false, 600, 300_000), "Limit").await.unwrap();
    assert_eq!(taker["status"], "filled", "the venue matched it: {taker}");
    settled(&c).await;
    let ask_now: Value = c.request("exchange_order", rpc_params![ask_hash]).await.unwrap();
    assert_eq!(ask_now["status"], "cancelled", "{ask_now}");
    assert!(ask_now["reason"].as_str().unwrap().contains("refused to settle"), "{ask_now}");
    let taker_now: Value = c.request("exchange_order", rpc_params![taker["hash"].clone()]).await.unwrap();
    assert_eq!(
        (taker_now["status"].as_str(), taker_now["remaining"].as_str()),
        (Some("open"), Some("0.6")),
        "{taker_now}"
    );
    assert_eq!(taker_now["fills"][0]["settlement"], "refused");
    let depth: Value = c.request("exchange_book", rpc_params![1, 10]).await.unwrap();
    assert_eq!(depth["bids"][0], json!(["3000", "0.6", 1]), "Bob's bid is back in the book: {depth}");
    assert!(depth["asks"].as_array().unwrap().is_empty(), "{depth}");
    assert_eq!(w.balance(&bob, WETH), 4 * E18 / 10 - 4 * E18 / 10 * 20 / 10_000, "nothing settled twice or lost");

    // Book deltas came with consecutive change numbers, up to the snapshot's.
    let mut seq = 0;
    while seq < depth["seq"].as_u64().unwrap() {
        let d = tokio::time::timeout(Duration::from_secs(5), book.next()).await.unwrap().unwrap().unwrap();
        let next = d["seq"].as_u64().unwrap();
        assert_eq!(next, seq + 1, "no gap: {d}");
        seq = next;
    }

    // The public journal replays to the venue's digest, and the audit finds L2 as the replay has it.
    let journal: Vec<zklink_exchange::Entry> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    let mut replay = Venue::new();
    for e in &journal {
        replay.apply(e).unwrap();
    }
    let s = status(&c).await;
    assert_eq!(format!("0x{}", hex::encode(replay.engine().digest())), s["digest"].as_str().unwrap());
    w.node.keeper().seal().unwrap();
    let report = zklink_exchange::audit::audit(&format!("http://{}", api.addr), &w.node_url, 1).await.unwrap();
    assert_eq!(report.divergence, None, "{report:?}");
    assert_eq!((report.settled_on_l2, report.refused), (1, 1), "{report:?}");

    // Probes on the API's port: /health and Prometheus /metrics.
    let get = |path: &str| {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(api.addr).unwrap();
        write!(tcp, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        tcp.read_to_string(&mut text).unwrap();
        text
    };
    let health = get("/health");
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("\"status\": \"ok\""), "{health}");
    let metrics = get("/metrics");
    assert!(metrics.contains("exchange_fills_settled_total 1\n"), "{metrics}");
    assert!(metrics.contains("exchange_fills_refused_total 1\n"), "{metrics}");
    assert!(metrics.contains("# TYPE exchange_orders_placed_total counter"), "{metrics}");

    // A second venue on a copy of the journal resumes exactly: same book, nothing left to settle.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(dir.path().join("journal.bin"), copy.path().join("journal.bin")).unwrap();
    let again = Exchange::start(w.settings(copy.path(), &submitter, vec![crate::market_config()])).await.unwrap();
    assert_eq!(again.venue().engine().digest(), ex.venue().engine().digest());
    assert_eq!(again.settled_upto(), ex.settled_upto());
    // The submitter settles something the journal does not have: the audit names it.
    let nonce = w.node.keeper().state().account(w.id(&submitter)).unwrap().nonce;
    let extra = zklink_types::OrderMatching {
        account_id: w.id(&submitter),
        sub_account_id: SubAccountId(0),
        nonce,
        maker: order(&w, &bob, 20, 0, true, 100, 300_000),
        taker: order(&w, &alice, 20, 0, false, 100, 300_000),
        fee_token: TokenId(USD),
        fee: 0,
        expect_base_amount: 0,
        expect_quote_amount: 0,
        signature: TxSignature::default(),
    };
    let extra = L2Tx::OrderMatching(Box::new(extra)).sign(&submitter.l2).unwrap();
    w.node.keeper().submit(extra, unix_now()).unwrap();
    w.node.keeper().seal().unwrap();
    let report = zklink_exchange::audit::audit(&format!("http://{}", api.addr), &w.node_url, 1).await.unwrap();
    let divergence = report.divergence.expect("a matching the journal does not have");
    assert!(divergence.contains("that the journal has no fill for"), "{divergence}");
}
