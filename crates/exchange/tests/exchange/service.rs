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
use zklink_node::FeePolicy;
use zklink_types::test_utils::{USD, USDC, WETH};
use zklink_types::{
    CancelOrder, L2Tx, Nonce, Order, OrderNonce, SlotId, SubAccountId, TokenId, TxSignature, FEE_ACCOUNT_ID,
};

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

/// A venue of `submitter` with the test market, over `w`'s node: its data directory, the
/// exchange, its API and a client of it.
async fn serve_venue(
    w: &World,
    submitter: &TestUser,
) -> (tempfile::TempDir, Exchange, zklink_exchange::rpc::ExchangeApi, HttpClient) {
    let dir = tempfile::tempdir().unwrap();
    let ex = Exchange::start(w.settings(dir.path(), submitter, vec![crate::market_config()])).await.unwrap();
    let api = zklink_exchange::rpc::serve("127.0.0.1:0".parse().unwrap(), ex.clone()).await.unwrap();
    let c = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();
    (dir, ex, api, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_match_settle_on_l2_and_a_refused_fill_restores_the_counterparty() {
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let carol = w.fund(3, USDC, USD, 10_000 * E18, false); // no L2 key
    let (dir, ex, api, c) = serve_venue(&w, &submitter).await;
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

/// `u`'s hard cancel of its `slot` up to `order_nonce`, paying `fee` USD (L2 units), with account
/// nonce `nonce` (`None`: its nonce on the node now), signed by `signer`'s key.
fn cancel_tx(
    w: &World,
    u: &TestUser,
    signer: &TestUser,
    slot: u16,
    order_nonce: u32,
    fee: u128,
    nonce: Option<u32>,
) -> L2Tx {
    let nonce = nonce.map_or_else(|| w.node.keeper().state().account(w.id(u)).unwrap().nonce, Nonce);
    let tx = CancelOrder {
        account_id: w.id(u),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(slot),
        order_nonce: OrderNonce(order_nonce),
        fee_token: TokenId(USD),
        fee,
        nonce,
        signature: TxSignature::default(),
    };
    L2Tx::CancelOrder(tx).sign(&signer.l2).unwrap()
}

/// `exchange_cancelHard [tx]`: the answer, or the error's code, message and data.
async fn cancel_hard(c: &HttpClient, tx: &L2Tx) -> Result<Value, (i32, String, Value)> {
    c.request("exchange_cancelHard", rpc_params![tx]).await.map_err(|e| match e {
        jsonrpsee::core::client::Error::Call(obj) => {
            let data = obj.data().map_or(Value::Null, |d| serde_json::from_str(d.get()).unwrap());
            (obj.code(), obj.message().to_string(), data)
        }
        other => panic!("not a JSON-RPC error: {other}"),
    })
}

async fn order_view(c: &HttpClient, hash: &Value) -> Value {
    c.request("exchange_order", rpc_params![hash.clone()]).await.unwrap()
}

/// Waits (bounded, 15 s) until no fill waits for the node; the settler retries a refusal with no
/// offender once a second.
async fn settled_long(c: &HttpClient) {
    for _ in 0..600 {
        if status(c).await["pending"].as_u64().unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fills not settled in 15 s: {}", status(c).await);
}

/// The journal's input types, in order.
async fn journal_kinds(c: &HttpClient) -> Vec<String> {
    let journal: Vec<Value> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    journal.iter().map(|e| e["input"]["type"].as_str().unwrap().to_string()).collect()
}

/// The journal replayed through a fresh venue has the venue's digest.
async fn replays_to_the_digest(c: &HttpClient) {
    let journal: Vec<zklink_exchange::Entry> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    let mut replay = Venue::new();
    for e in &journal {
        replay.apply(e).unwrap();
    }
    assert_eq!(format!("0x{}", hex::encode(replay.engine().digest())), status(c).await["digest"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_cancel_moves_the_slot_on_l2_and_a_fill_matched_before_it_is_refused_and_handled() {
    let (mut w, _api) = World::new().await;
    // The node charges 1 USD a chunk, a matching 4 USD. The submitter holds no USD yet, and the
    // trading fees a fill below brings it (1.2 USD) do not cover that: the fill cannot settle
    // until the submitter is funded.
    let submitter = w.fund(0, WETH, WETH, E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    w.fund(1, USDC, USD, 10 * E18, false); // the hard cancel's fee
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    w.node.keeper().set_fee_policy(FeePolicy { usd_per_chunk: E18 });
    let (_dir, _ex, _api, c) = serve_venue(&w, &submitter).await;

    // Alice's ask rests in slot 1; Bob's bid takes 0.4 of it: matched, not settled.
    let ask = place(&c, &order(&w, &alice, 1, 0, true, 1000, 300_000), "Limit").await.unwrap();
    let bid = place(&c, &order(&w, &bob, 1, 0, false, 400, 300_100), "Limit").await.unwrap();
    assert_eq!(bid["status"], "filled", "{bid}");
    assert_eq!(status(&c).await["pending"], 1, "the submitter cannot pay the matching's fee yet");

    // Alice hard-cancels slot 1 up to nonce 0 through the venue, paying the node's fee.
    let node = HttpClientBuilder::default().build(&w.node_url).unwrap();
    let fee: zklink_types::api::FeeView =
        node.request("zklink_estimateFee", rpc_params!["CancelOrder", USD]).await.unwrap();
    let fee: u128 = fee.fee.parse().unwrap();
    assert_eq!(fee, E18, "one chunk");
    let (usd_before, collected_before) = (w.balance(&alice, USD), fee_collected(&w));
    let tx = cancel_tx(&w, &alice, &alice, 1, 0, fee, None);
    let done = cancel_hard(&c, &tx).await.unwrap();
    let hash = format!("0x{}", hex::encode(tx.hash().unwrap().0));
    assert_eq!(done["txHash"], hash.as_str(), "{done}");
    let cancelled = done["cancelled"].as_array().unwrap();
    assert_eq!(cancelled.len(), 1, "{done}");
    assert_eq!((&cancelled[0]["hash"], cancelled[0]["status"].as_str()), (&ask["hash"], Some("cancelled")));
    let reason = cancelled[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("hard cancel: slot 1 was cancelled up to order nonce 0 on L2"), "{reason}");
    assert!(reason.contains(&hash), "{reason}");
    // On L2 the slot moved to nonce 1 with nothing open, and Alice paid the fee to account 0.
    let slot = w.node.keeper().state().order_slot(w.id(&alice), SubAccountId(0), SlotId(1));
    assert_eq!((slot.nonce, slot.residue), (OrderNonce(1), 0));
    assert_eq!(w.balance(&alice, USD), usd_before - fee);
    assert_eq!(fee_collected(&w), collected_before + fee);
    // The venue shows it cancelled for that reason, no longer open; the journal holds it.
    assert_eq!(order_view(&c, &ask["hash"]).await["reason"], reason);
    let open: Vec<Value> = c.request("exchange_openOrders", rpc_params![w.id(&alice).0]).await.unwrap();
    assert!(open.is_empty(), "{open:?}");
    assert!(journal_kinds(&c).await.contains(&"hardCancel".to_string()));
    // An order of the slot with the cancelled nonce is refused; with the next one it is taken.
    let again = place(&c, &order(&w, &alice, 1, 0, true, 500, 310_000), "Limit").await.unwrap_err();
    assert_eq!(again.0, codes::SLOT, "{again:?}");
    assert!(again.1.contains("hard-cancelled"), "{again:?}");

    // The fill matched before the cancel settles after it: the node refuses it (Alice's slot
    // moved; at once if the settler tried again meanwhile, else once the submitter can pay), the
    // venue journals the refusal with Alice as the offender and gives Bob's bid its size back at
    // its price.
    w.fund(0, USDC, USD, 10 * E18, false);
    settled_long(&c).await;
    let bid_now = order_view(&c, &bid["hash"]).await;
    assert_eq!(bid_now["fills"][0]["settlement"], "refused", "{bid_now}");
    let refused = bid_now["fills"][0]["refused"].as_str().unwrap();
    assert!(refused.contains("slot 1 now holds order nonce 1"), "{refused}");
    assert_eq!((bid_now["status"].as_str(), bid_now["remaining"].as_str()), (Some("open"), Some("0.4")), "{bid_now}");
    let ask_now = order_view(&c, &ask["hash"]).await;
    assert_eq!((ask_now["status"].as_str(), ask_now["filled"].as_str()), (Some("cancelled"), Some("0")), "{ask_now}");
    assert_eq!(ask_now["reason"], reason, "the hard cancel stays the reason");
    let journal: Vec<Value> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    let refusal = journal.iter().find(|e| e["input"]["type"] == "settlementRefused").expect("a refusal");
    assert_eq!(refusal["input"]["offender"], "Maker", "{refusal}");
    assert_eq!(w.balance(&bob, WETH), 0, "nothing settled");
    let depth: Value = c.request("exchange_book", rpc_params![1, 10]).await.unwrap();
    assert_eq!(depth["bids"][0], json!(["3001", "0.4", 1]), "{depth}");
    replays_to_the_digest(&c).await;
}

/// What account 0 collected in USD.
fn fee_collected(w: &World) -> u128 {
    w.node.keeper().state().balance(FEE_ACCOUNT_ID, SubAccountId(0), TokenId(USD))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_cancels_the_venue_or_the_node_refuses_leave_every_order_as_it_was() {
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let (_dir, _ex, _api, c) = serve_venue(&w, &submitter).await;
    let asks = [
        place(&c, &order(&w, &alice, 1, 0, true, 100, 300_000), "Limit").await.unwrap(),
        place(&c, &order(&w, &alice, 2, 0, true, 100, 301_000), "Limit").await.unwrap(),
    ];
    let alice_id = w.id(&alice);
    let untouched = |w: &World, journal: usize, kinds: &[String]| {
        assert_eq!(kinds.len(), journal, "nothing journaled: {kinds:?}");
        for slot in [1, 2] {
            let s = w.node.keeper().state().order_slot(alice_id, SubAccountId(0), SlotId(slot));
            assert_eq!((s.nonce, s.residue), (OrderNonce(0), 0), "slot {slot} did not move on L2");
        }
    };
    let journal = journal_kinds(&c).await.len();
    let nonce = w.node.keeper().state().account(alice_id).unwrap().nonce.0;

    // A tampered signature: the venue's own check, nothing sent to the node.
    let mut forged = cancel_tx(&w, &alice, &alice, 1, 0, 0, None);
    if let L2Tx::CancelOrder(t) = &mut forged {
        t.signature.signature[5] ^= 1;
    }
    let e = cancel_hard(&c, &forged).await.unwrap_err();
    assert_eq!(e.0, codes::BAD_SIGNATURE, "{e:?}");
    untouched(&w, journal, &journal_kinds(&c).await);
    // Signed by Bob's key for Alice's slot: a valid signature, but not the account's key. The
    // node refuses it, and its code and message come back.
    let e = cancel_hard(&c, &cancel_tx(&w, &alice, &bob, 1, 0, 0, None)).await.unwrap_err();
    assert_eq!(e.0, codes::NODE_REFUSED, "{e:?}");
    assert_eq!(e.2["nodeCode"], -32001, "the node's TX_REJECTED: {e:?}");
    assert!(e.1.starts_with("the node refused the hard cancel: "), "{e:?}");
    untouched(&w, journal, &journal_kinds(&c).await);
    // A nonce ahead of the account's: the node would hold it back; the venue does not send it.
    let e = cancel_hard(&c, &cancel_tx(&w, &alice, &alice, 1, 0, 0, Some(nonce + 1))).await.unwrap_err();
    assert_eq!(e.0, codes::INVALID_PARAMS, "{e:?}");
    assert!(e.1.contains(&format!("sign it with nonce {nonce}")), "{e:?}");
    assert_eq!(w.node.keeper().state().account(alice_id).unwrap().nonce.0, nonce, "not sent");
    // Another sub-account than the venue's, and an order nonce beyond the last.
    let mut elsewhere = cancel_tx(&w, &alice, &alice, 1, 0, 0, None);
    if let L2Tx::CancelOrder(t) = &mut elsewhere {
        t.sub_account_id = SubAccountId(1);
    }
    let elsewhere = elsewhere.sign(&alice.l2).unwrap();
    assert_eq!(cancel_hard(&c, &elsewhere).await.unwrap_err().0, codes::INVALID_PARAMS);
    let last = cancel_tx(&w, &alice, &alice, 1, zklink_types::MAX_ORDER_NONCE, 0, None);
    assert_eq!(cancel_hard(&c, &last).await.unwrap_err().0, codes::INVALID_PARAMS);
    untouched(&w, journal, &journal_kinds(&c).await);

    // A hard cancel of Alice's empty slot 3 goes through: journaled, nothing cancelled.
    let empty = cancel_tx(&w, &alice, &alice, 3, 0, 0, None);
    assert_eq!(cancel_hard(&c, &empty).await.unwrap()["cancelled"], json!([]));
    // The same tx again (a retry after a lost answer) is found on the node and journaled again.
    assert_eq!(cancel_hard(&c, &empty).await.unwrap()["txHash"], json!(empty.hash().unwrap()));
    let kinds = journal_kinds(&c).await;
    assert_eq!(kinds[journal..], ["hardCancel", "hardCancel"]);
    // A stale account nonce (the one that tx used): the node's refusal.
    let e = cancel_hard(&c, &cancel_tx(&w, &alice, &alice, 1, 0, 0, Some(nonce))).await.unwrap_err();
    assert_eq!((e.0, &e.2["nodeCode"]), (codes::NODE_REFUSED, &json!(-32001)), "{e:?}");
    // Slot 3 again below its new nonce: the node's CancelBelowSlot.
    let e = cancel_hard(&c, &cancel_tx(&w, &alice, &alice, 3, 0, 0, None)).await.unwrap_err();
    assert_eq!(e.0, codes::NODE_REFUSED, "{e:?}");
    assert!(e.1.contains("would move it back"), "{e:?}");
    untouched(&w, journal + 2, &journal_kinds(&c).await);
    for ask in &asks {
        let now = order_view(&c, &ask["hash"]).await;
        assert_eq!((now["status"].as_str(), now["remaining"].as_str()), (Some("open"), Some("0.1")), "{now}");
    }
    let open: Vec<Value> = c.request("exchange_openOrders", rpc_params![alice_id.0]).await.unwrap();
    assert_eq!(open.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_order_leaves_a_quiet_book_and_a_fill_out_of_its_window_is_refused_and_handled() {
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let (_dir, ex, _api, c) = serve_venue(&w, &submitter).await;
    let windowed = |u: &TestUser, slot, is_sell, milli, cents, valid_from, valid_until| {
        let o = order(&w, u, slot, 0, is_sell, milli, cents);
        Order { valid_from, valid_until, ..o }.sign(&u.l2).unwrap()
    };

    // Placed too late, or too early: refused with the times.
    let now = unix_now() as u32;
    let late = place(&c, &windowed(&alice, 1, true, 100, 300_000, 0, now - 1), "Limit").await.unwrap_err();
    assert_eq!(late.0, codes::ORDER_WINDOW, "{late:?}");
    assert!(late.1.contains(&format!("valid until {}", now - 1)), "{late:?}");
    let early = place(&c, &windowed(&alice, 1, true, 100, 300_000, now + 60, u32::MAX), "Limit").await.unwrap_err();
    assert_eq!(early.0, codes::ORDER_WINDOW, "{early:?}");

    // An ask valid for 4 more seconds rests; nothing else arrives, and the sweep takes it out.
    let ask = place(&c, &windowed(&alice, 1, true, 100, 300_000, 0, now + 4), "Limit").await.unwrap();
    assert_eq!(ask["status"], "open", "{ask}");
    let mut gone = Value::Null;
    for _ in 0..200 {
        gone = order_view(&c, &ask["hash"]).await;
        if gone["status"] == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gone["status"], "cancelled", "not expired in 10 s: {gone}");
    assert!(gone["reason"].as_str().unwrap().starts_with(&format!("expired at {}", now + 4)), "{gone}");
    assert!(journal_kinds(&c).await.contains(&"expire".to_string()));
    let open: Vec<Value> = c.request("exchange_openOrders", rpc_params![w.id(&alice).0]).await.unwrap();
    assert!(open.is_empty(), "{open:?}");
    let health = status(&c).await;
    assert_eq!(health["pending"], 0);
    assert_eq!(ex.gauges().open_orders, 0, "the market's open orders count it gone");
    // A crossing bid now rests instead of matching it.
    let bid = place(&c, &order(&w, &bob, 1, 0, false, 1000, 300_000), "Limit").await.unwrap();
    assert_eq!((bid["status"].as_str(), bid["fills"].as_array().unwrap().len()), (Some("open"), 0), "{bid}");

    // A window the venue cannot see: the block a fill lands in opened before the taker's
    // validFrom. A first sell opens a block and settles in it…
    w.node.keeper().seal().unwrap();
    let first = place(&c, &order(&w, &alice, 2, 0, true, 100, 300_000), "Ioc").await.unwrap();
    assert_eq!(first["status"], "filled", "{first}");
    settled(&c).await;
    let opened = unix_now();
    for _ in 0..100 {
        if unix_now() > opened {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // …then a sell valid from a later second than the block's timestamp: the venue takes and
    // matches it, the node refuses the fill in that block, the taker is the offender and Bob's
    // bid gets its size back.
    let later = unix_now() as u32;
    assert!(u64::from(later) > opened, "the clock moved on");
    let taker = place(&c, &windowed(&alice, 3, true, 200, 300_000, later, u32::MAX), "Limit").await.unwrap();
    assert_eq!(taker["status"], "filled", "{taker}");
    settled(&c).await;
    let taker_now = order_view(&c, &taker["hash"]).await;
    assert_eq!(taker_now["status"], "cancelled", "{taker_now}");
    let why = taker_now["reason"].as_str().unwrap();
    assert!(why.contains("the node refused to settle fill") && why.contains(&format!("valid from {later}")), "{why}");
    assert_eq!(taker_now["fills"][0]["settlement"], "refused", "{taker_now}");
    let bid_now = order_view(&c, &bid["hash"]).await;
    assert_eq!((bid_now["status"].as_str(), bid_now["remaining"].as_str()), (Some("open"), Some("0.9")), "{bid_now}");
    let journal: Vec<Value> = c.request("exchange_journal", rpc_params![1, 10_000]).await.unwrap();
    let refusal = journal.iter().find(|e| e["input"]["type"] == "settlementRefused").expect("a refusal");
    assert_eq!(refusal["input"]["offender"], "Taker", "{refusal}");
    replays_to_the_digest(&c).await;
}
