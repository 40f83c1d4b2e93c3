//! Trading through the SDK's venue client against a real node, its API and a venue on 127.0.0.1
//! (no L1): two wallets buy and sell in whole units with slots and nonces chosen for them, list
//! and cancel their orders, read the book and the trades; off-grid orders are refused before
//! anything is signed, the venue's refusals keep their codes.

use std::time::Duration;

use zklink_exchange::service::{Exchange, ExchangeSettings};
use zklink_executor::testkit::TestUser;
use zklink_node::node::unix_now;
use zklink_sdk::venue::{codes, valid_until_in, LevelView, OrderStatus, Settlement};
use zklink_sdk::{OrderType, SdkError, Side, Trade, Venue, Wallet};
use zklink_types::test_utils::{typed, E18, USD, USDC, WETH};
use zklink_types::{OrderNonce, SlotId, SubAccountId};

use crate::node::Node;

impl Node {
    /// Deposits `amount` of `l1` credited as `l2` to user `n` and sets its key.
    fn fund(&mut self, n: u64, l1: u16, l2: u16, amount: u128) -> TestUser {
        let u = self.deposit(n, l1, l2, amount);
        let tx = self.mirror.change_pubkey_tx(&u);
        self.mirror.apply_l2(tx.clone()).unwrap();
        self.node.keeper().submit(tx, unix_now()).unwrap();
        u
    }

    async fn wallet(&self, u: &TestUser) -> Wallet {
        let secret: [u8; 32] = u.l1.to_bytes().into();
        Wallet::connect(&self.url, &secret).await.unwrap()
    }
}

/// Waits (bounded) until the node has every fill so far.
async fn settled(v: &Venue<'_>) {
    for _ in 0..200 {
        if v.status().await.unwrap().pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fills not settled in 5 s: {:?}", v.status().await.unwrap());
}

fn level(price: &str, size: &str, orders: u32) -> LevelView {
    LevelView(price.into(), size.into(), orders)
}

/// A venue on `node` with the WETH/USD market, settling as `submitter`, and its API's URL.
async fn venue(
    node: &Node,
    submitter: &TestUser,
    dir: &std::path::Path,
) -> (zklink_exchange::rpc::ExchangeApi, String) {
    let ex = Exchange::start(ExchangeSettings {
        node_url: node.url.clone(),
        data_dir: dir.to_path_buf(),
        submitter_secret: submitter.l1.to_bytes().into(),
        sub_account: SubAccountId(0),
        fee_token: "USD".into(),
        markets: vec![zklink_exchange::test_utils::weth_usd()],
        batch: 100,
    })
    .await
    .unwrap();
    let api = zklink_exchange::rpc::serve("127.0.0.1:0".parse().unwrap(), ex).await.unwrap();
    let url = format!("http://{}", api.addr);
    (api, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_trade_through_the_venue_client() {
    let (mut node, _api) = Node::start().await;
    let submitter = node.fund(0, USDC, USD, 10 * E18);
    let (alice, bob) = (node.fund(1, WETH, WETH, 10 * E18), node.fund(2, USDC, USD, 10_000 * E18));
    let dir = tempfile::tempdir().unwrap();
    let (api, url) = venue(&node, &submitter, dir.path()).await;
    let (alice_w, bob_w) = (node.wallet(&alice).await, node.wallet(&bob).await);
    let (a, b) = (alice_w.venue(&url).unwrap(), bob_w.venue(&url).unwrap());

    let markets = a.markets().await.unwrap();
    assert_eq!((markets.len(), markets[0].symbol.as_str(), markets[0].taker_fee_ratio), (1, "WETH/USD", 20));

    // Alice sells 1 WETH at 3000: it rests, in slot 1 (slot 0 stays free) with nonce 0.
    let ask = a.sell("WETH/USD", "1", "3000", OrderType::Limit).await.unwrap();
    assert_eq!((ask.order.status, ask.order.slot, ask.order.nonce), (OrderStatus::Open, 1, 0), "{ask:?}");
    assert_eq!((ask.order.order.maker_fee_ratio, ask.order.order.taker_fee_ratio), (10, 20), "the market's");
    assert_eq!(ask.replaced, None);

    // Bob buys 0.4 up to 3001 (the market by id): it trades at Alice's 3000.
    let bid = b.buy("1", "0.4", "3001", OrderType::Limit).await.unwrap();
    assert_eq!((bid.order.status, bid.order.filled.as_str(), bid.order.slot), (OrderStatus::Filled, "0.4", 1));
    assert_eq!(bid.order.fills[0].price, "3000");

    // Alice's slot 1 holds her open ask: her next order goes to slot 2.
    let ask2 = a.sell("weth/usd", "0.5", "3100", OrderType::PostOnly).await.unwrap();
    assert_eq!((ask2.order.status, ask2.order.slot, ask2.order.nonce), (OrderStatus::Open, 2, 0), "{ask2:?}");

    // Bob's slot 1 is free again: his filled order moved it to nonce 1, whether or not the node has
    // the fill yet.
    let ioc = b.buy("WETH/USD", "0.1", "3000", OrderType::Ioc).await.unwrap();
    assert_eq!((ioc.order.slot, ioc.order.nonce, ioc.order.filled.as_str()), (1, 1, "0.1"), "{ioc:?}");
    // A market order trades at the book's price, up to its protective price (off the tick grid).
    let market_buy = b.buy("WETH/USD", "0.1", "3050.005", OrderType::Market).await.unwrap();
    assert_eq!((market_buy.order.slot, market_buy.order.nonce), (1, 2));
    assert_eq!((market_buy.order.filled.as_str(), market_buy.order.fills[0].price.as_str()), ("0.1", "3000"));

    // Off the grid or unknown: refused before anything is signed.
    let e = b.buy("WETH/USD", "0.0005", "3000", OrderType::Limit).await.unwrap_err();
    assert!(matches!(&e, SdkError::OffGrid(g) if g.what == "amount" && g.above.as_deref() == Some("0.001")), "{e}");
    let e = b.buy("WETH/USD", "0.1", "3000.005", OrderType::Limit).await.unwrap_err();
    assert!(e.to_string().contains("the nearest prices are 3000 USD and 3000.01 USD"), "{e}");
    let e = b.sell("WETH/USD", "0.001", "3000", OrderType::Limit).await.unwrap_err();
    assert!(matches!(e, SdkError::BelowMinimum { .. }), "{e}");
    let e = b.buy("DOGE/USD", "1", "1", OrderType::Limit).await.unwrap_err();
    assert!(matches!(e, SdkError::UnknownMarket { .. }), "{e}");
    // The venue's refusals keep their code: a post-only bid that would take.
    let e = b.buy("WETH/USD", "0.1", "3000", OrderType::PostOnly).await.unwrap_err();
    assert!(matches!(&e, SdkError::Venue { code: codes::POST_ONLY, .. }), "{e}");

    // The book, the trades, the ticker and the candles.
    let book = a.book(1, Some(10)).await.unwrap();
    assert_eq!(book.asks, vec![level("3000", "0.4", 1), level("3100", "0.5", 1)], "{book:?}");
    assert!(book.bids.is_empty(), "{book:?}");
    let trades = a.trades(1, Some(10)).await.unwrap();
    let sizes: Vec<&str> = trades.iter().map(|t| t.size.as_str()).collect();
    assert_eq!(sizes, ["0.1", "0.1", "0.4"], "newest first: {trades:?}");
    assert!(trades.iter().all(|t| t.price == "3000" && t.taker_side == Side::Buy && !t.refused));
    let ticker = a.ticker(1).await.unwrap();
    assert_eq!((ticker.last.as_deref(), ticker.volume.as_str(), ticker.trades), (Some("3000"), "0.6", 3));
    let candles = a.candles(1, "1m", None).await.unwrap();
    assert_eq!(candles.iter().map(|c| c.trades).sum::<u64>(), 3, "{candles:?}");
    let e = a.candles(1, "2m", None).await.unwrap_err();
    assert!(matches!(e, SdkError::Venue { code: codes::INVALID_PARAMS, .. }), "{e}");

    // Orders: open ones, history, one by hash with its fills.
    let open = a.open_orders(None).await.unwrap();
    assert_eq!(open.iter().map(|o| (o.slot, o.remaining.as_str())).collect::<Vec<_>>(), [(1, "0.4"), (2, "0.5")]);
    assert_eq!(a.open_orders(Some(1)).await.unwrap().len(), 2);
    assert_eq!(b.orders(Some(10)).await.unwrap().len(), 3, "bob's three orders");
    settled(&a).await;
    let one = b.order(bid.order.hash).await.unwrap().unwrap();
    assert_eq!(one.fills[0].settlement, Settlement::Settled, "{one:?}");
    assert_eq!(b.order(zklink_sdk::OrderHash([9; 32])).await.unwrap(), None);

    // Only the owner cancels; the owner cancels one order, then all.
    let e = b.cancel(ask.order.hash).await.unwrap_err();
    assert!(matches!(&e, SdkError::Venue { code: codes::ORDER, message } if message.contains("owner")), "{e}");
    let cancelled = a.cancel(ask2.order.hash).await.unwrap();
    assert_eq!((cancelled.hash, cancelled.status), (ask2.order.hash, OrderStatus::Cancelled));
    let all = a.cancel_all(None).await.unwrap();
    assert_eq!(all.iter().map(|o| o.hash).collect::<Vec<_>>(), [ask.order.hash]);
    assert!(a.open_orders(None).await.unwrap().is_empty());

    // The same terms again after a cancel would be the same order (the venue takes each once): it
    // goes to another slot.
    let first = b.buy("WETH/USD", "0.1", "1000", OrderType::Limit).await.unwrap();
    assert_eq!((first.order.slot, first.order.nonce), (1, 3));
    b.cancel(first.order.hash).await.unwrap();
    let again = b.buy("WETH/USD", "0.1", "1000", OrderType::Limit).await.unwrap();
    assert_eq!((again.order.slot, again.order.nonce), (2, 0));
    b.cancel(again.order.hash).await.unwrap();

    // Signed orders placed together: each has its own outcome.
    let sign = |slot, price| bob_w.sign_order(slot, 0, typed::WETH, typed::USD, E18 / 10, price, false, (10, 20));
    let (o2, o3) = (sign(2, 2000 * E18).await.unwrap(), sign(3, 1990 * E18).await.unwrap());
    let batch = vec![
        zklink_sdk::venue::PlaceRequest { market: 1, order_type: OrderType::Limit, order: o2 },
        zklink_sdk::venue::PlaceRequest { market: 1, order_type: OrderType::Limit, order: o3.clone() },
        zklink_sdk::venue::PlaceRequest { market: 1, order_type: OrderType::Limit, order: o3 },
    ];
    let results = b.place_batch(batch).await.unwrap();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2, "{results:?}");
    let refused: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(matches!(refused[..], [SdkError::Venue { code: codes::DUPLICATE, .. }]), "{refused:?}");
    let book = b.book(1, None).await.unwrap();
    assert_eq!(book.bids, vec![level("2000", "0.1", 1), level("1990", "0.1", 1)]);

    // Alice's slots now: 1 holds 0.4 unfilled on L2 (partly filled, then cancelled), 2 and 3 are
    // empty. Empty slots come first; then slot 1 with the next nonce, which replaces its rest.
    settled(&a).await;
    let mut chosen = Vec::new();
    for price in ["5000", "5001", "5002"] {
        let p = a.sell("WETH/USD", "0.01", price, OrderType::Limit).await.unwrap();
        chosen.push((p.order.slot, p.order.nonce));
    }
    assert_eq!(chosen, [(2, 0), (3, 0), (1, 1)]);
    let e = a.sell("WETH/USD", "0.01", "5003", OrderType::Limit).await.unwrap_err();
    assert!(matches!(e, SdkError::NoFreeSlot { max_slot: 3, sub: 0 }), "{e}");
    // Naming a slot replaces its open order.
    let first = a.open_orders(None).await.unwrap().into_iter().find(|o| o.slot == 2).unwrap();
    let trade = Trade {
        market: "WETH/USD".into(),
        side: Side::Sell,
        amount: "0.02".into(),
        price: "5004".into(),
        order_type: OrderType::Limit,
        slot: Some(2),
        valid_until: None,
    };
    let replacing = a.trade(&trade).await.unwrap();
    assert_eq!((replacing.order.slot, replacing.order.nonce), (2, 0));
    assert_eq!(replacing.replaced.as_ref().map(|o| o.hash), Some(first.hash));
    assert_eq!(a.order(first.hash).await.unwrap().unwrap().status, OrderStatus::Cancelled);
    assert_eq!(a.open_orders(None).await.unwrap().len(), 3);
    assert_eq!(a.orders(None).await.unwrap()[0].hash, replacing.order.hash, "newest first");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_expire_and_hard_cancels_go_through_the_venue_or_straight_to_the_node() {
    let (mut node, _api) = Node::start().await;
    let submitter = node.fund(0, USDC, USD, 10 * E18);
    let (alice, bob) = (node.fund(1, WETH, WETH, 10 * E18), node.fund(2, USDC, USD, 10_000 * E18));
    let dir = tempfile::tempdir().unwrap();
    let (_venue_api, url) = venue(&node, &submitter, dir.path()).await;
    let (alice_w, bob_w) = (node.wallet(&alice).await, node.wallet(&bob).await);
    let (a, b) = (alice_w.venue(&url).unwrap(), bob_w.venue(&url).unwrap());
    let sell = |price: &str, slot: Option<u16>, valid_until: Option<u32>| Trade {
        market: "WETH/USD".into(),
        side: Side::Sell,
        amount: "1".into(),
        price: price.into(),
        order_type: OrderType::Limit,
        slot,
        valid_until,
    };

    // An expiry within the venue's margin is refused before anything is signed; a later one is
    // signed into the order.
    let e = a.trade(&sell("3000", None, Some(valid_until_in(Duration::from_secs(1)).unwrap()))).await.unwrap_err();
    assert!(matches!(&e, SdkError::Input(m) if m.contains("stops matching an order 2 s before")), "{e}");
    assert!(a.open_orders(None).await.unwrap().is_empty(), "nothing placed");
    let until = valid_until_in(Duration::from_secs(3600)).unwrap();
    let ask = a.trade(&sell("3000", None, Some(until))).await.unwrap();
    assert_eq!((ask.order.slot, ask.order.nonce, ask.order.order.valid_until), (1, 0, until), "{ask:?}");
    assert_eq!(ask.order.order.valid_from, 0);

    // Bob takes 0.4 of it; Alice replaces the rest in slot 1 with nonce 1, then soft-cancels it.
    b.buy("WETH/USD", "0.4", "3000", OrderType::Limit).await.unwrap();
    settled(&a).await;
    let replacing = a.trade(&sell("3100", Some(1), None)).await.unwrap();
    assert_eq!((replacing.order.slot, replacing.order.nonce), (1, 1));
    a.cancel(replacing.order.hash).await.unwrap();
    // Its signature stays valid on L2 until the slot moves: the hard cancel of the first order's
    // hash cancels up to the highest nonce Alice used in slot 1 (1, the replacement's), paying the
    // node's fee.
    let slot = |w: &Node, u: &TestUser, s: u16| {
        let id = w.mirror.id_of(u);
        w.node.keeper().state().order_slot(id, SubAccountId(0), SlotId(s))
    };
    assert_eq!(slot(&node, &alice, 1).nonce, OrderNonce(0), "L2 still takes nonce 0's rest or nonce 1");
    let done = a.cancel_hard(ask.order.hash, typed::USD).await.unwrap();
    assert_eq!((done.tx.slot_id, done.tx.order_nonce, done.tx.fee), (SlotId(1), OrderNonce(1), 0));
    assert!(done.cancelled.is_empty(), "nothing of slot 1 was open on the venue: {done:?}");
    assert_eq!((slot(&node, &alice, 1).nonce, slot(&node, &alice, 1).residue), (OrderNonce(2), 0));
    assert!(alice_w.tx_status(done.tx_hash).await.unwrap().is_some(), "the node has it");
    // An open order: the venue cancels it with the reason.
    let open = a.trade(&sell("3200", None, None)).await.unwrap();
    let done = a.cancel_hard(open.order.hash, typed::USD).await.unwrap();
    assert_eq!(done.cancelled.iter().map(|o| o.hash).collect::<Vec<_>>(), [open.order.hash]);
    let reason = done.cancelled[0].reason.clone().unwrap();
    assert!(reason.starts_with(&format!("hard cancel: slot {}", open.order.slot)), "{reason}");
    // Again: the slot is past that nonce already, the node's own refusal comes back as such.
    let e = a.cancel_hard(open.order.hash, typed::USD).await.unwrap_err();
    assert!(matches!(&e, SdkError::Node { code: -32001, message } if message.contains("would move it back")), "{e}");
    // Someone else's order, or a filled one: refused before anything is signed.
    let e = b.cancel_hard(open.order.hash, typed::USD).await.unwrap_err();
    assert!(matches!(&e, SdkError::Input(m) if m.contains("belongs to account")), "{e}");
    let filled = b.orders(Some(1)).await.unwrap().remove(0);
    assert_eq!(filled.status, OrderStatus::Filled);
    let e = b.cancel_hard(filled.hash, typed::USD).await.unwrap_err();
    assert!(matches!(&e, SdkError::Input(m) if m.contains("is filled")), "{e}");

    // Without a venue: Bob cancels his slot 2 up to nonce 3 straight on the node.
    let hash = bob_w.hard_cancel(0, 2, 3, typed::USD, 0).await.unwrap();
    assert!(bob_w.tx_status(hash).await.unwrap().is_some());
    assert_eq!(slot(&node, &bob, 2).nonce, OrderNonce(4));
    // A nonce the slot is already past: the node's refusal.
    let e = bob_w.hard_cancel(0, 2, 3, typed::USD, 0).await.unwrap_err();
    assert!(matches!(&e, SdkError::Node { .. }), "{e}");
}
