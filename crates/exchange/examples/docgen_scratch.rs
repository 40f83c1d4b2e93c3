//! Scratch (not committed): a real session to take documentation examples from.

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use serde_json::{json, Value};
use zklink_exchange::input::{CancelAllRequest, CancelRequest, OrderHash};
use zklink_exchange::service::{now_ms, Exchange, ExchangeSettings};
use zklink_exchange::MarketConfig;
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::test_utils::{USD, USDC, WETH};
use zklink_types::{
    message_of, AccountId, Network, Order, OrderNonce, Price, PriorityTx, SlotId, SubAccountId, TokenId, TxSignature,
};

const E18: u128 = 1_000_000_000_000_000_000;

struct World {
    node: NodeHandle,
    mirror: TestNet,
    node_url: String,
    serials: u64,
}

impl World {
    fn fund(&mut self, n: u64, l1: u16, l2: u16, amount: u128, activate: bool) -> TestUser {
        let u = self.mirror.user(n);
        let mut d = self.mirror.deposit_tx(1, u.address, 0, l1, l2, amount);
        if let PriorityTx::Deposit(d) = &mut d {
            d.serial_id.0 = self.serials;
        }
        self.serials += 1;
        self.mirror.apply_priority(&d).unwrap();
        self.node.keeper().submit_priority(d, unix_now()).unwrap();
        if activate && self.node.keeper().state().account(self.mirror.id_of(&u)).unwrap().pubkey_hash != u.pkh {
            let tx = self.mirror.change_pubkey_tx(&u);
            self.mirror.apply_l2(tx.clone()).unwrap();
            self.node.keeper().submit(tx, unix_now()).unwrap();
        }
        u
    }
    fn id(&self, u: &TestUser) -> AccountId {
        self.mirror.id_of(u)
    }
    fn balance(&self, u: &TestUser, token: u16) -> u128 {
        self.node.keeper().state().balance(self.id(u), SubAccountId(0), TokenId(token))
    }
}

fn market_config() -> MarketConfig {
    MarketConfig {
        id: 1,
        base: "WETH".into(),
        quote: "USD".into(),
        tick: "0.01".into(),
        lot: "0.001".into(),
        min_size: "0.01".into(),
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        stp: Default::default(),
    }
}

#[allow(clippy::too_many_arguments)]
fn order(
    w: &World,
    u: &TestUser,
    slot: u16,
    nonce: u32,
    is_sell: bool,
    milli: u128,
    cents: u128,
    fees: (u8, u8),
) -> Order {
    Order {
        account_id: w.id(u),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(slot),
        nonce: OrderNonce(nonce),
        base_token: TokenId(WETH),
        quote_token: TokenId(USD),
        amount: milli * E18 / 1000,
        price: Price(cents * E18 / 100),
        is_sell,
        maker_fee_ratio: fees.0,
        taker_fee_ratio: fees.1,
        signature: TxSignature::default(),
    }
    .sign(&u.l2)
    .unwrap()
}

fn show(title: &str, v: &Value) {
    println!("=== {title}\n{}", serde_json::to_string_pretty(v).unwrap());
}

async fn call(c: &HttpClient, method: &str, params: Value) -> Value {
    let p = params.as_array().unwrap().clone();
    let mut b = jsonrpsee::core::params::ArrayParams::new();
    for x in &p {
        b.insert(x).unwrap();
    }
    show(&format!("REQUEST {method}"), &json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    let r: Result<Value, _> = c.request(method, b).await;
    match r {
        Ok(v) => {
            show(&format!("RESULT {method}"), &v);
            v
        }
        Err(jsonrpsee::core::client::Error::Call(obj)) => {
            let e = json!({"code": obj.code(), "message": obj.message()});
            show(&format!("ERROR {method}"), &e);
            json!({"error": e})
        }
        Err(e) => panic!("{e}"),
    }
}

async fn settled(c: &HttpClient) {
    for _ in 0..200 {
        let s: Value = c.request("exchange_status", rpc_params![]).await.unwrap();
        if s["pending"].as_u64().unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("not settled");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let network = Network::dev(3);
    let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16, unix_now()).unwrap();
    let node = NodeHandle::new(keeper, store);
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
    let node_url = format!("http://{}", api.addr);
    let mut w = World { node, mirror: TestNet::new(network), node_url, serials: 0 };
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let carol = w.fund(3, USDC, USD, 10_000 * E18, false);
    println!("ids: submitter {} alice {} bob {} carol {}", w.id(&submitter), w.id(&alice), w.id(&bob), w.id(&carol));
    let xdir = tempfile::tempdir().unwrap();
    let settings = ExchangeSettings {
        node_url: w.node_url.clone(),
        data_dir: xdir.path().to_path_buf(),
        submitter_secret: submitter.l1.to_bytes().into(),
        sub_account: SubAccountId(0),
        fee_token: "USD".into(),
        markets: vec![market_config()],
        batch: 100,
    };
    let ex = Exchange::start(settings).await.unwrap();
    let xapi = zklink_exchange::rpc::serve("127.0.0.1:0".parse().unwrap(), ex.clone()).await.unwrap();
    let c = HttpClientBuilder::default().build(format!("http://{}", xapi.addr)).unwrap();
    let ws = WsClientBuilder::default().build(format!("ws://{}", xapi.addr)).await.unwrap();
    let mut book: Subscription<Value> =
        ws.subscribe("exchange_subscribeBook", rpc_params![1], "exchange_unsubscribeBook").await.unwrap();
    let mut trades: Subscription<Value> =
        ws.subscribe("exchange_subscribeTrades", rpc_params![1], "exchange_unsubscribeTrades").await.unwrap();
    let mut orders: Subscription<Value> = ws
        .subscribe("exchange_subscribeOrders", rpc_params![w.id(&bob).0], "exchange_unsubscribeOrders")
        .await
        .unwrap();

    call(&c, "exchange_markets", json!([])).await;
    let ask_o = order(&w, &alice, 1, 0, true, 1000, 300_000, (10, 20));
    let ask = call(&c, "exchange_placeOrder", json!([{"market": 1, "type": "Limit", "order": ask_o}])).await;
    let bid_o = order(&w, &bob, 1, 0, false, 400, 300_100, (10, 20));
    let bid = call(&c, "exchange_placeOrder", json!([{"market": 1, "type": "Limit", "order": bid_o}])).await;
    settled(&c).await;
    call(&c, "exchange_order", json!([bid["hash"]])).await;
    call(&c, "exchange_book", json!([1, 10])).await;
    let rest_o = order(&w, &bob, 2, 0, false, 500, 299_000, (10, 20));
    let rest = call(&c, "exchange_placeOrder", json!([{"market": 1, "order": rest_o}])).await;
    let rest_hash: OrderHash = serde_json::from_value(rest["hash"].clone()).unwrap();
    let cancel = CancelRequest::sign(w.id(&bob), rest_hash, &bob.l2).unwrap();
    println!(
        "cancel signed bytes 0x{} message {}",
        hex::encode(cancel.signed_bytes()),
        zklink_crypto::fr_serde::to_decimal(&message_of(&cancel.signed_bytes()).unwrap())
    );
    call(&c, "exchange_cancelOrder", json!([cancel])).await;
    call(&c, "exchange_cancelOrder", json!([cancel])).await;
    // batch
    let b1 = order(&w, &bob, 0, 0, false, 100, 295_000, (10, 20));
    let b2 = order(&w, &bob, 3, 0, false, 100_000, 295_000, (10, 20));
    call(
        &c,
        "exchange_placeOrders",
        json!([[{"market": 1, "type": "PostOnly", "order": b1}, {"market": 1, "order": b2}]]),
    )
    .await;

    let repl = order(&w, &bob, 0, 0, false, 200, 294_000, (10, 20));
    call(&c, "exchange_placeOrder", json!([{"market": 1, "type": "Limit", "order": repl}])).await;
    // errors
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Limit", "order": order(&w, &bob, 3, 0, false, 5000, 300_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Limit", "order": order(&w, &carol, 1, 0, false, 10, 300_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Limit", "order": order(&w, &alice, 1, 0, true, 100, 310_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "PostOnly", "order": order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Fok", "order": order(&w, &bob, 3, 0, false, 2000, 300_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Limit", "order": order(&w, &bob, 3, 0, false, 100, 300_000, (5, 20))}]),
    )
    .await;
    let mut off_tick = order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20));
    off_tick.price = Price(3000 * E18 + E18 / 1000);
    let off_tick = off_tick.sign(&bob.l2).unwrap();
    call(&c, "exchange_placeOrder", json!([{"market": 1, "order": off_tick}])).await;
    let mut off_lot = order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20));
    off_lot.amount = E18 / 10 + E18 / 10_000;
    let off_lot = off_lot.sign(&bob.l2).unwrap();
    call(&c, "exchange_placeOrder", json!([{"market": 1, "order": off_lot}])).await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "order": order(&w, &bob, 3, 0, false, 5, 300_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 2, "order": order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20))}]),
    )
    .await;
    call(&c, "exchange_placeOrder", json!([{"market": 1, "type": "Limit", "order": rest_o}])).await;
    call(&c, "exchange_placeOrder", json!([{"market": 1, "type": "Gtc", "order": rest_o}])).await;
    let mut forged = order(&w, &bob, 3, 0, true, 100, 300_000, (10, 20));
    forged.account_id = w.id(&alice);
    let forged = forged.sign(&bob.l2).unwrap();
    call(&c, "exchange_placeOrder", json!([{"market": 1, "order": forged}])).await;
    let mut badsig = order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20));
    badsig.signature.signature[0] ^= 1;
    call(&c, "exchange_placeOrder", json!([{"market": 1, "order": badsig}])).await;
    let mut sub1 = order(&w, &bob, 3, 0, false, 100, 300_000, (10, 20));
    sub1.sub_account_id = SubAccountId(1);
    let sub1 = sub1.sign(&bob.l2).unwrap();
    call(&c, "exchange_placeOrder", json!([{"market": 1, "order": sub1}])).await;
    let ask_hash: OrderHash = serde_json::from_value(ask["hash"].clone()).unwrap();
    call(&c, "exchange_cancelOrder", json!([CancelRequest::sign(w.id(&bob), ask_hash, &bob.l2).unwrap()])).await;
    call(&c, "exchange_cancelOrder", json!([CancelRequest::sign(w.id(&bob), OrderHash([7; 32]), &bob.l2).unwrap()]))
        .await;
    call(
        &c,
        "exchange_cancelAll",
        json!([CancelAllRequest::sign(w.id(&bob), 1, now_ms() - 120_000, &bob.l2).unwrap()]),
    )
    .await;
    call(&c, "exchange_cancelAll", json!([CancelAllRequest::sign(w.id(&bob), 9, now_ms(), &bob.l2).unwrap()])).await;
    call(&c, "exchange_candles", json!([1, "2m"])).await;
    call(&c, "exchange_openOrders", json!(["x"])).await;

    // refusal
    let transfer = w.mirror.transfer_tx(&alice, carol.address, WETH, w.balance(&alice, WETH), 0);
    w.node.keeper().submit(transfer, unix_now()).unwrap();
    let taker = call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "type": "Limit", "order": order(&w, &bob, 2, 0, false, 600, 300_000, (10, 20))}]),
    )
    .await;
    settled(&c).await;
    call(&c, "exchange_order", json!([ask["hash"]])).await;
    call(&c, "exchange_order", json!([taker["hash"]])).await;
    call(&c, "exchange_book", json!([1])).await;
    call(&c, "exchange_openOrders", json!([w.id(&bob).0])).await;
    call(&c, "exchange_orders", json!([w.id(&bob).0, 3])).await;
    let ca = CancelAllRequest::sign(w.id(&bob), 1, now_ms(), &bob.l2).unwrap();
    call(&c, "exchange_cancelAll", json!([ca])).await;
    call(&c, "exchange_cancelAll", json!([ca])).await;
    call(&c, "exchange_trades", json!([1, 10])).await;
    call(&c, "exchange_ticker", json!([1])).await;
    call(&c, "exchange_candles", json!([1, "1h", 10])).await;
    call(&c, "exchange_journal", json!([1, 100])).await;
    call(&c, "exchange_status", json!([])).await;

    for (name, sub) in [("book", &mut book), ("trades", &mut trades), ("orders", &mut orders)] {
        loop {
            match tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
                Ok(Some(Ok(v))) => show(&format!("NOTIFY {name}"), &v),
                _ => break,
            }
        }
    }
    let report = zklink_exchange::audit::audit(&format!("http://{}", xapi.addr), &w.node_url, 1).await.unwrap();
    w.node.keeper().seal(unix_now()).unwrap();
    let report2 = zklink_exchange::audit::audit(&format!("http://{}", xapi.addr), &w.node_url, 1).await.unwrap();
    println!("audit before seal {report:?}\naudit after seal {report2:?}");

    // Group probe: three resting bids in one batch.
    let mut book2: Subscription<Value> =
        ws.subscribe("exchange_subscribeBook", rpc_params![1], "exchange_unsubscribeBook").await.unwrap();
    let g: Vec<Value> = [(0u16, 280_000u128), (2, 281_000), (3, 282_000)]
        .iter()
        .map(|(slot, cents)| json!({"market": 1, "order": order(&w, &bob, *slot, 0, false, 100, *cents, (10, 20))}))
        .collect();
    call(&c, "exchange_placeOrders", json!([g])).await;
    loop {
        match tokio::time::timeout(Duration::from_millis(300), book2.next()).await {
            Ok(Some(Ok(v))) => println!("GROUP DELTA {v}"),
            _ => break,
        }
    }
    call(&c, "exchange_book", json!([1])).await;
    // Out-of-range slot probe.
    let alice = w.fund(1, WETH, WETH, E18, true);
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "order": order(&w, &alice, 2, 0, true, 100, 310_000, (10, 20))}]),
    )
    .await;
    call(
        &c,
        "exchange_placeOrder",
        json!([{"market": 1, "order": order(&w, &bob, 8, 0, false, 100, 310_000, (10, 20))}]),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    call(&c, "exchange_status", json!([])).await;
    // Vectors: the api.md example maker order (account 3, slot 0, nonce 0, 2 WETH at 3000).
    let u3 = TestUser::new(1, &Network::dev(3));
    let maker = Order {
        account_id: AccountId(3),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(0),
        nonce: OrderNonce(0),
        base_token: TokenId(32),
        quote_token: TokenId(1),
        amount: 2 * E18,
        price: Price(3000 * E18),
        is_sell: true,
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        signature: TxSignature::default(),
    }
    .sign(&u3.l2)
    .unwrap();
    let h = OrderHash::of(&maker).unwrap();
    println!("maker signed bytes 0x{}\nmaker order hash {h}", hex::encode(maker.signed_bytes().unwrap()));
    let cr = CancelRequest::sign(AccountId(3), h, &u3.l2).unwrap();
    println!(
        "cancel bytes 0x{}\ncancel message {}\ncancel json {}",
        hex::encode(cr.signed_bytes()),
        zklink_crypto::fr_serde::to_decimal(&message_of(&cr.signed_bytes()).unwrap()),
        serde_json::to_string_pretty(&cr).unwrap()
    );
    let ca = CancelAllRequest::sign(AccountId(3), u32::MAX, 1_700_000_000_000, &u3.l2).unwrap();
    println!(
        "cancelall bytes 0x{}\ncancelall message {}\ncancelall json {}",
        hex::encode(ca.signed_bytes()),
        zklink_crypto::fr_serde::to_decimal(&message_of(&ca.signed_bytes()).unwrap()),
        serde_json::to_string_pretty(&ca).unwrap()
    );
    let ca1 = CancelAllRequest::sign(AccountId(3), 1, 1_700_000_000_000, &u3.l2).unwrap();
    println!("cancelall market 1 bytes 0x{}", hex::encode(ca1.signed_bytes()));
    // Journal frame bytes of a genesis entry.
    let e = zklink_exchange::Entry {
        index: 1,
        time_ms: 1_700_000_000_000,
        input: zklink_exchange::Input::Genesis {
            submitter: AccountId(2),
            sub_account: SubAccountId(0),
            first_nonce: zklink_types::Nonce(1),
        },
    };
    let jdir = tempfile::tempdir().unwrap();
    let (mut j, _, _) = zklink_exchange::journal::Journal::open(&jdir.path().join("j.bin")).unwrap();
    j.append(&[e]).unwrap();
    println!("journal frame 0x{}", hex::encode(std::fs::read(jdir.path().join("j.bin")).unwrap()));
    xapi.stop().await;
}
