//! docs/exchange-openrpc.json against the code: it is well formed (every `$ref` resolves, every
//! schema is used and only uses keywords the checker here understands, the error codes are
//! `codes`), it names exactly the methods `rpc::module` registers and `rpc.discover` serves it,
//! and the schemas name exactly the fields serde writes: values built by the deterministic venue
//! and the answers and notifications of a running venue (every method called) are checked
//! against them.

use std::collections::BTreeSet;
use std::time::Duration;

use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::core::server::MethodsError;
use jsonrpsee::rpc_params;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use zklink_exchange::input::{CancelAllRequest, CancelRequest, OrderHash, ALL_MARKETS};
use zklink_exchange::rpc::{PlaceRequest, PlaceResult, StatusView, MAX_BATCH, OPENRPC};
use zklink_exchange::service::{now_ms, Exchange};
use zklink_exchange::stats::StatsView;
use zklink_exchange::views::{
    self, BookDelta, BookView, FillView, HardCancelView, LevelChange, MarketView, OrderView, TradeView,
};
use zklink_exchange::{codes, Input, Offender};
use zklink_executor::testkit::TestUser;
use zklink_matching::{MarketId, OrderId, OrderType};
use zklink_types::test_utils::{USD, USDC, WETH};
use zklink_types::{AccountId, CancelOrder, L2Tx, Order, OrderNonce, SlotId, SubAccountId, TokenId};

use crate::world::World;
use crate::{hard_cancel, key, order, windowed, Script};

const E18: u128 = zklink_types::test_utils::E18;

fn openrpc() -> Value {
    serde_json::from_str(OPENRPC).expect("docs/exchange-openrpc.json is JSON")
}

fn methods(doc: &Value) -> &Vec<Value> {
    doc["methods"].as_array().expect("methods")
}

fn method<'a>(doc: &'a Value, name: &str) -> &'a Value {
    methods(doc).iter().find(|m| m["name"] == name).unwrap_or_else(|| panic!("{name} is not documented"))
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let s = &doc["components"]["schemas"][name];
    assert!(s.is_object(), "components/schemas/{name} does not exist");
    s
}

/// The target of a `$ref` (`#/components/schemas/X` or `#/components/errors/X`).
fn target<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let (kind, name) = r
        .strip_prefix("#/components/")
        .and_then(|p| p.split_once('/'))
        .unwrap_or_else(|| panic!("unsupported $ref {r}"));
    let t = &doc["components"][kind][name];
    assert!(t.is_object(), "{r} does not exist");
    t
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => resolve(doc, target(doc, r)),
        None => schema,
    }
}

/// The keywords the schemas may use: what [`check`] checks, and annotations.
const KEYWORDS: [&str; 15] = [
    "$ref",
    "oneOf",
    "type",
    "items",
    "minItems",
    "maxItems",
    "additionalItems",
    "const",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "required",
    "properties",
    "additionalProperties",
];

/// Every schema below `s` uses only [`KEYWORDS`] and `description`; collects the `$ref`s.
fn walk_schema(s: &Value, at: &str, refs: &mut Vec<String>) {
    let obj = s.as_object().unwrap_or_else(|| panic!("{at}: a schema is not an object"));
    for (k, v) in obj {
        assert!(k == "description" || KEYWORDS.contains(&k.as_str()), "{at}: the test does not check the keyword {k}");
        match k.as_str() {
            "$ref" => refs.push(v.as_str().unwrap().to_string()),
            "oneOf" => v.as_array().unwrap().iter().for_each(|a| walk_schema(a, at, refs)),
            "items" => match v {
                Value::Array(items) => items.iter().for_each(|i| walk_schema(i, at, refs)),
                one => walk_schema(one, at, refs),
            },
            "properties" => {
                for (name, p) in v.as_object().unwrap() {
                    walk_schema(p, &format!("{at}.{name}"), refs);
                }
            }
            _ => {}
        }
    }
    if let Some(required) = s.get("required") {
        let props = s["properties"].as_object().unwrap_or_else(|| panic!("{at}: required without properties"));
        for r in required.as_array().unwrap() {
            assert!(props.contains_key(r.as_str().unwrap()), "{at}: required {r} is not a property");
        }
    }
}

/// The patterns the schemas use.
fn matches_pattern(pattern: &str, s: &str) -> bool {
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    match pattern {
        "^[0-9]+$" => digits(s),
        // Whole tokens as `format_units` writes them.
        "^[0-9]+(\\.[0-9]{0,17}[1-9])?$" => match s.split_once('.') {
            None => digits(s),
            Some((int, frac)) => digits(int) && digits(frac) && frac.len() <= 18 && !frac.ends_with('0'),
        },
        _ => {
            let n: usize = pattern
                .strip_prefix("^0x[0-9a-fA-F]{")
                .and_then(|p| p.strip_suffix("}$"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("the test does not know the pattern {pattern}"));
            s.strip_prefix("0x").is_some_and(|h| h.len() == n && h.bytes().all(|b| b.is_ascii_hexdigit()))
        }
    }
}

/// Checks `value` against `schema` (the keywords of [`KEYWORDS`]), and more strictly than JSON
/// Schema: an object checked against a schema with `properties` must have exactly those keys, so
/// a schema names exactly the fields serde writes.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let ok = alternatives.iter().filter(|s| check(doc, s, value, at).is_ok()).count();
        if ok != 1 {
            return Err(format!("{at}: {ok} alternatives of oneOf match {value}"));
        }
    }
    if let Some(t) = schema["type"].as_str() {
        let ok = match t {
            "integer" => value.is_u64() || value.is_i64(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "null" => value.is_null(),
            other => panic!("{at}: the test does not check type {other}"),
        };
        if !ok {
            return Err(format!("{at}: {value} is not of type {t}"));
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            return Err(format!("{at}: {value} is not {c}"));
        }
    }
    if let Some(e) = schema["enum"].as_array() {
        if !e.contains(value) {
            return Err(format!("{at}: {value} is not one of {e:?}"));
        }
    }
    if let (Some(p), Some(s)) = (schema["pattern"].as_str(), value.as_str()) {
        if !matches_pattern(p, s) {
            return Err(format!("{at}: {s:?} does not match {p}"));
        }
    }
    if let Some(n) = value.as_u64() {
        if schema["minimum"].as_u64().is_some_and(|m| n < m) || schema["maximum"].as_u64().is_some_and(|m| n > m) {
            return Err(format!("{at}: {n} is out of range"));
        }
    }
    if let Some(elements) = value.as_array() {
        let n = elements.len() as u64;
        if schema["maxItems"].as_u64().is_some_and(|m| n > m) || schema["minItems"].as_u64().is_some_and(|m| n < m) {
            return Err(format!("{at}: {n} items is out of range"));
        }
        match schema.get("items") {
            Some(Value::Array(tuple)) => {
                if elements.len() > tuple.len() && schema["additionalItems"] == json!(false) {
                    return Err(format!("{at}: more than {} items", tuple.len()));
                }
                for (i, (s, v)) in tuple.iter().zip(elements).enumerate() {
                    check(doc, s, v, &format!("{at}[{i}]"))?;
                }
            }
            Some(items) => {
                for (i, v) in elements.iter().enumerate() {
                    check(doc, items, v, &format!("{at}[{i}]"))?;
                }
            }
            None => {}
        }
    }
    if let Some(fields) = value.as_object() {
        for r in schema["required"].as_array().into_iter().flatten() {
            if !fields.contains_key(r.as_str().unwrap()) {
                return Err(format!("{at}: required {r} is missing"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            let (documented, written) = (keys(props.keys()), keys(fields.keys()));
            if documented != written {
                return Err(format!("{at}: the schema has properties {documented:?}, the value has {written:?}"));
            }
            for (k, v) in fields {
                check(doc, &props[k], v, &format!("{at}.{k}"))?;
            }
        }
    }
    Ok(())
}

fn keys<'a>(names: impl Iterator<Item = &'a String>) -> BTreeSet<String> {
    names.cloned().collect()
}

/// `value` (as serde writes it) fits the named schema, which names exactly its fields, all
/// required.
fn fits(doc: &Value, name: &str, value: &impl serde::Serialize) {
    let value = serde_json::to_value(value).unwrap();
    check(doc, schema(doc, name), &value, name).unwrap_or_else(|e| panic!("{e}"));
    let s = resolve(doc, schema(doc, name));
    if let (Some(props), Some(fields)) = (s["properties"].as_object(), value.as_object()) {
        let required: BTreeSet<String> =
            s["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
        assert_eq!(keys(props.keys()), keys(fields.keys()), "{name}: properties");
        assert_eq!(required, keys(fields.keys()), "{name}: required");
    }
}

/// The error names of components/errors and their codes, as `codes` has them.
fn documented_codes() -> Vec<(&'static str, i32)> {
    vec![
        ("InvalidParams", codes::INVALID_PARAMS),
        ("MarketRules", codes::MARKET_RULES),
        ("BadSignature", codes::BAD_SIGNATURE),
        ("Unfundable", codes::UNFUNDABLE),
        ("Slot", codes::SLOT),
        ("PostOnly", codes::POST_ONLY),
        ("Fok", codes::FOK),
        ("Duplicate", codes::DUPLICATE),
        ("UnknownMarket", codes::UNKNOWN_MARKET),
        ("Order", codes::ORDER),
        ("Unavailable", codes::UNAVAILABLE),
        ("OrderWindow", codes::ORDER_WINDOW),
        ("NodeRefused", codes::NODE_REFUSED),
    ]
}

#[test]
fn the_document_is_well_formed_with_every_ref_resolved_and_the_venue_s_error_codes() {
    let doc = openrpc();
    assert_eq!(doc["openrpc"], "1.2.6");
    assert_eq!(doc["info"]["title"], "zklink exchange API");
    let description = doc["info"]["description"].as_str().unwrap();
    for needed in ["own port", "GET /health", "GET /metrics"] {
        assert!(description.contains(needed), "info.description should say {needed:?}");
    }

    // Every schema is one the checker understands, every $ref resolves, every component is used.
    let mut refs = Vec::new();
    for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
        walk_schema(s, name, &mut refs);
    }
    let mut names = BTreeSet::new();
    for m in methods(&doc) {
        let name = m["name"].as_str().unwrap();
        assert!(names.insert(name), "{name} is documented twice");
        assert!(m["summary"].is_string(), "{name} has no summary");
        let mut optional = false;
        for p in m["params"].as_array().unwrap() {
            assert!(p["name"].is_string() && p["required"].is_boolean(), "{name}: {p}");
            // Params are by position: an optional one cannot come before a required one.
            let required = p["required"] == json!(true);
            assert!(!(required && optional), "{name}: a required param after an optional one");
            optional |= !required;
            walk_schema(&p["schema"], &format!("{name}({})", p["name"]), &mut refs);
        }
        walk_schema(&m["result"]["schema"], &format!("{name} result"), &mut refs);
        for e in m["errors"].as_array().into_iter().flatten() {
            refs.push(e["$ref"].as_str().unwrap_or_else(|| panic!("{name}: an error that is not a $ref")).into());
        }
    }
    for r in &refs {
        target(&doc, r);
    }
    for (name, _) in doc["components"]["schemas"].as_object().unwrap() {
        assert!(refs.contains(&format!("#/components/schemas/{name}")), "components/schemas/{name} is not used");
    }

    // The errors are exactly the venue's codes, also listed in the description.
    let errors = doc["components"]["errors"].as_object().unwrap();
    let listed: BTreeSet<(&str, i32)> =
        errors.iter().map(|(n, e)| (n.as_str(), e["code"].as_i64().unwrap() as i32)).collect();
    assert_eq!(listed, documented_codes().into_iter().collect());
    // … and `documented_codes` is every code of `codes` (error.rs).
    let source = include_str!("../../src/error.rs");
    let module = &source[source.find("pub mod codes {").unwrap()..];
    let module = &module[..module.find("\n}").unwrap()];
    assert_eq!(module.matches("pub const ").count(), documented_codes().len(), "a code of `codes` is not documented");
    for (name, code) in documented_codes() {
        assert!(errors[name]["message"].is_string(), "{name} has no message");
        assert!(description.contains(&format!("{code} {name}")), "info.description should list {code} {name}");
        assert!(refs.contains(&format!("#/components/errors/{name}")), "no method names the error {name}");
    }

    // Subscriptions: each names its notification and its unsubscribe method, which is documented.
    let notifications: Vec<&str> = methods(&doc)
        .iter()
        .filter(|m| m["name"].as_str().unwrap().starts_with("exchange_subscribe"))
        .map(|m| {
            let name = m["name"].as_str().unwrap();
            let notification = m["x-notification"].as_str().unwrap_or_else(|| panic!("{name}: no x-notification"));
            assert!(m["summary"].as_str().unwrap().contains(notification), "{name}: summary");
            let unsubscribe = m["x-unsubscribe"].as_str().unwrap();
            assert_eq!(unsubscribe, name.replace("subscribe", "unsubscribe"));
            assert_eq!(method(&doc, unsubscribe)["result"]["schema"], json!({"type": "boolean"}));
            notification
        })
        .collect();
    assert_eq!(notifications, ["exchange_book", "exchange_trade", "exchange_orderChanged"]);

    // The batch limit is the code's.
    let batch = &method(&doc, "exchange_placeOrders")["params"][0]["schema"];
    assert_eq!(batch["maxItems"], json!(MAX_BATCH));
}

#[test]
fn the_schemas_name_exactly_what_serde_writes() {
    let doc = openrpc();
    // A venue with resting, filled, cancelled and refused orders, fills of every settlement.
    let mut s = Script::start();
    s.place(order(1, 1, 0, true, 100, 300_000)); // sell 0.1 at 3000
    s.place(order(2, 1, 0, true, 100, 300_100)); // sell 0.1 at 3001
    let taken = s.place(order(3, 1, 0, false, 150, 300_200)); // buy 0.15: two fills
    let (first, second) = (taken.fills[0], taken.fills[1]);
    s.push(Input::SettlementRefused { fill: second, offender: Offender::Maker, reason: "gone".into() });
    let resting = s.place(order(4, 1, 0, false, 100, 299_000));
    let resting_hash = s.venue.order(resting.orders[0]).unwrap().hash;
    s.push(Input::Cancel(CancelRequest::sign(AccountId(4), resting_hash, &key(4)).unwrap()));
    s.place(order(5, 1, 0, true, 100, 310_000));
    let time_ms = 1_700_000_000_000 + s.entries.len() as u64 * 1000;
    s.push(Input::CancelAll(CancelAllRequest::sign(AccountId(5), ALL_MARKETS, time_ms, &key(5)).unwrap()));
    s.place(order(6, 1, 0, true, 100, 320_000));
    // An order that expires (an expire entry takes it) and one a hard cancel takes.
    let secs = (Script::START_MS / 1000) as u32 + s.entries.len() as u32;
    s.place(windowed(order(9, 1, 0, true, 100, 330_000), 0, secs + 3));
    let expire_at = Script::START_MS + s.entries.len() as u64 * 1000 + 5_000;
    assert_eq!(s.push_at(Input::Expire, expire_at).expired.len(), 1);
    let hard = hard_cancel(9, 0, 2, 0);
    s.place(order(9, 2, 0, true, 100, 340_000));
    let hard_cancelled = s.push_at(Input::HardCancel(hard.clone()), expire_at + 1000);
    assert_eq!(hard_cancelled.orders.len(), 1);
    let live = s.push_at(
        Input::Place { market: MarketId(1), order_type: OrderType::Limit, order: order(7, 1, 0, false, 100, 290_000) },
        expire_at + 2000,
    );
    let v = &s.venue;

    for e in &s.entries {
        fits(&doc, "Entry", e);
    }
    let kinds: BTreeSet<String> = s
        .entries
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["input"]["type"].as_str().unwrap().to_string())
        .collect();
    let variants: BTreeSet<String> = schema(&doc, "Input")["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["properties"]["type"]["const"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, variants, "every input kind is in the journal and documented");

    let ms = v.market(MarketId(1)).unwrap();
    fits(&doc, "MarketView", &MarketView::of(v, &ms.market));
    let mut statuses = BTreeSet::new();
    for id in 3..=live.orders[0].0 {
        let Some(o) = v.order(OrderId(id)) else { continue };
        let view = OrderView::of(v, o, first, true).unwrap();
        statuses.insert(serde_json::to_value(view.status).unwrap().as_str().unwrap().to_string());
        fits(&doc, "OrderView", &view);
    }
    assert_eq!(statuses.len(), 3, "open, filled and cancelled orders: {statuses:?}");
    let hash = L2Tx::CancelOrder(hard.clone()).hash().unwrap();
    let view = HardCancelView {
        tx_hash: hash,
        cancelled: hard_cancelled
            .orders
            .iter()
            .map(|id| OrderView::of(v, v.order(*id).unwrap(), first, true).unwrap())
            .collect(),
    };
    fits(&doc, "HardCancelView", &view);
    fits(&doc, "CancelOrder", &L2Tx::CancelOrder(hard));
    let mut settlements = BTreeSet::new();
    for seq in [first, second] {
        let f = FillView::of(v, v.fill(seq).unwrap(), first).unwrap();
        settlements.insert(serde_json::to_value(f.settlement).unwrap().as_str().unwrap().to_string());
        fits(&doc, "FillView", &f);
        fits(&doc, "TradeView", &TradeView::of(v, v.fill(seq).unwrap()).unwrap());
    }
    let pending = FillView::of(v, v.fill(first).unwrap(), 0).unwrap();
    settlements.insert(serde_json::to_value(pending.settlement).unwrap().as_str().unwrap().to_string());
    assert_eq!(settlements.len(), 3, "{settlements:?}");
    let book = BookView::of(v, MarketId(1), 10).unwrap();
    assert!(!book.bids.is_empty() && !book.asks.is_empty(), "{book:?}");
    fits(&doc, "BookView", &book);
    let (_, seq, levels) = &live.deltas[0];
    let delta = BookDelta {
        market: 1,
        seq: *seq,
        changes: levels
            .iter()
            .map(|&(side, p, lots, orders)| LevelChange {
                side,
                price: views::price(&ms.market, p),
                size: zklink_types::units::format_units(ms.market.spec.lot * lots, 18),
                orders,
            })
            .collect(),
    };
    fits(&doc, "BookDelta", &delta);
    fits(&doc, "LevelChange", &delta.changes[0]);
    let now = 1_700_000_000_000 + 60_000;
    fits(&doc, "TickerView", &views::ticker(v, MarketId(1), now).unwrap());
    let empty = Script::start();
    fits(&doc, "TickerView", &views::ticker(&empty.venue, MarketId(1), now).unwrap());
    for c in views::candles(v, MarketId(1), 60_000, 10).unwrap() {
        fits(&doc, "CandleView", &c);
    }
    let stats = StatsView { groups: 1, journal_ns: 2, ..Default::default() };
    fits(&doc, "StatsView", &stats);
    let status = StatusView {
        journal: v.last_index(),
        digest: format!("0x{}", hex::encode(v.engine().digest())),
        fills: 2,
        refused: 1,
        settled_upto: first,
        pending: 0,
        submitter: 9,
        failed: false,
        stats,
    };
    fits(&doc, "StatusView", &status);
    fits(&doc, "Lagged", &json!({ "event": "lagged", "missed": 3 }));

    // A batch's results, both kinds.
    let placed = OrderView::of(v, v.order(live.orders[0]).unwrap(), first, true).unwrap();
    for r in [PlaceResult::Ok(Box::new(placed)), PlaceResult::Error { code: codes::FOK, message: "no".into() }] {
        check(&doc, schema(&doc, "PlaceResult"), &serde_json::to_value(r).unwrap(), "PlaceResult").unwrap();
    }

    // Requests: what serde writes fits, an unknown field does not.
    let o = order(8, 1, 0, true, 100, 300_000);
    let request = PlaceRequest { market: 1, order_type: OrderType::PostOnly, order: o.clone() };
    fits(&doc, "Order", &o);
    fits(&doc, "TxSignature", &o.signature);
    let cancel = CancelRequest::sign(AccountId(8), OrderHash::of(&o).unwrap(), &key(8)).unwrap();
    let cancel_all = CancelAllRequest::sign(AccountId(8), 1, 1_700_000_000_000, &key(8)).unwrap();
    let params = [
        ("exchange_cancelHard", serde_json::to_value(L2Tx::CancelOrder(hard_cancel(8, 0, 1, 0))).unwrap()),
        ("exchange_placeOrder", serde_json::to_value(&request).unwrap()),
        ("exchange_cancelOrder", serde_json::to_value(&cancel).unwrap()),
        ("exchange_cancelAll", serde_json::to_value(&cancel_all).unwrap()),
    ];
    for (name, value) in params {
        let param = &method(&doc, name)["params"][0]["schema"];
        check(&doc, param, &value, name).unwrap();
        let mut extra = value.clone();
        extra["memo"] = json!(1);
        assert!(check(&doc, param, &extra, name).is_err(), "{name}: an unknown field is allowed");
    }
    // `type` may be left out of a placement (Limit); more than MAX_BATCH placements are refused.
    let mut untyped = serde_json::to_value(&request).unwrap();
    untyped.as_object_mut().unwrap().remove("type");
    assert_eq!(serde_json::from_value::<PlaceRequest>(untyped).unwrap().order_type, OrderType::Limit);
    let required = &schema(&doc, "PlaceRequest")["required"];
    assert_eq!(required, &json!(["market", "order"]));
    let batch = &method(&doc, "exchange_placeOrders")["params"][0]["schema"];
    let request = serde_json::to_value(&request).unwrap();
    check(&doc, batch, &json!(vec![request.clone(); MAX_BATCH]), "batch").unwrap();
    assert!(check(&doc, batch, &json!(vec![request; MAX_BATCH + 1]), "batch").is_err());
}

/// A signed WETH/USD order of `u` (`milli` thousandths of WETH at `cents` USD cents).
fn signed(w: &World, u: &TestUser, slot: u16, is_sell: bool, milli: u128, cents: u128) -> Order {
    zklink_exchange::test_utils::weth_usd_order(w.id(u), &u.l2, (slot, 0), is_sell, milli, cents)
}

/// Calls methods on a module and checks each answer against the method's result schema and each
/// refusal's code against the method's errors.
struct Caller<'a> {
    doc: &'a Value,
    module: &'a RpcModule<Exchange>,
    checked: BTreeSet<String>,
}

impl Caller<'_> {
    async fn call(&mut self, name: &str, params: ArrayParams) -> Value {
        let v: Value = self.module.call(name, params).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        check(self.doc, &method(self.doc, name)["result"]["schema"], &v, name).unwrap_or_else(|e| panic!("{e}"));
        self.checked.insert(name.to_string());
        v
    }

    async fn refused(&mut self, name: &str, params: ArrayParams, code: i32) {
        let e = match self.module.call::<_, Value>(name, params).await {
            Err(MethodsError::JsonRpc(e)) => e,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(e.code(), code, "{name}: {}", e.message());
        self.documents(name, code);
    }

    fn documents(&self, name: &str, code: i32) {
        let listed: Vec<i64> = method(self.doc, name)["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| target(self.doc, e["$ref"].as_str().unwrap())["code"].as_i64().unwrap())
            .collect();
        assert!(listed.contains(&i64::from(code)), "{name} can answer {code}; its errors are {listed:?}");
    }

    /// The next notification of `sub`, checked against the subscribe method's result schema.
    async fn notification(&self, name: &str, sub: &mut jsonrpsee::core::server::Subscription) -> Value {
        let next = tokio::time::timeout(Duration::from_secs(10), sub.next::<Value>()).await;
        let (v, _) = next.unwrap_or_else(|_| panic!("{name}: no notification")).unwrap().unwrap();
        check(self.doc, &method(self.doc, name)["result"]["schema"], &v, name).unwrap_or_else(|e| panic!("{e}"));
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_venue_registers_exactly_the_documented_methods_and_answers_as_they_say() {
    let doc = openrpc();
    let (mut w, _api) = World::new().await;
    let submitter = w.fund(0, USDC, USD, 10 * E18, true);
    let alice = w.fund(1, WETH, WETH, 10 * E18, true);
    let bob = w.fund(2, USDC, USD, 10_000 * E18, true);
    let dir = tempfile::tempdir().unwrap();
    let ex = Exchange::start(w.settings(dir.path(), &submitter, vec![crate::market_config()])).await.unwrap();
    let module = zklink_exchange::rpc::module(ex);

    // Exactly the documented names, and rpc.discover serves the document.
    let served: BTreeSet<String> = module.method_names().map(String::from).collect();
    let documented: BTreeSet<String> = methods(&doc).iter().map(|m| m["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(documented, served);
    let mut c = Caller { doc: &doc, module: &module, checked: BTreeSet::new() };
    assert_eq!(c.call("rpc.discover", rpc_params![]).await, doc);

    // Subscriptions: an unknown market is refused with a documented code.
    match module.subscribe_unbounded("exchange_subscribeBook", rpc_params![9]).await {
        Err(MethodsError::JsonRpc(e)) => {
            assert_eq!(e.code(), codes::UNKNOWN_MARKET);
            c.documents("exchange_subscribeBook", e.code());
        }
        other => panic!("{:?}", other.map(|s| s.subscription_id().clone())),
    }
    let mut book = module.subscribe_unbounded("exchange_subscribeBook", rpc_params![1]).await.unwrap();
    let mut trades = module.subscribe_unbounded("exchange_subscribeTrades", rpc_params![1]).await.unwrap();
    let mut orders = module.subscribe_unbounded("exchange_subscribeOrders", rpc_params![w.id(&alice).0]).await.unwrap();

    // Alice's ask; Bob's bid takes 0.4 of it in a batch with a placement the venue refuses.
    let ask_order = signed(&w, &alice, 1, true, 1000, 300_000);
    let ask =
        c.call("exchange_placeOrder", rpc_params![json!({ "market": 1, "type": "Limit", "order": ask_order })]).await;
    let bid = signed(&w, &bob, 1, false, 400, 300_100);
    let unknown = json!({ "market": 9, "order": signed(&w, &bob, 3, false, 100, 290_000) });
    let batch = c.call("exchange_placeOrders", rpc_params![json!([{ "market": 1, "order": bid }, unknown])]).await;
    assert_eq!(batch[0]["ok"]["status"], "filled", "{batch}");
    assert_eq!(batch[1]["error"]["code"], codes::UNKNOWN_MARKET, "{batch}");
    c.documents("exchange_placeOrder", codes::UNKNOWN_MARKET);
    c.refused("exchange_placeOrder", rpc_params![json!({ "market": 1, "order": ask_order })], codes::DUPLICATE).await;
    let memo = json!({ "market": 1, "order": signed(&w, &bob, 2, false, 100, 290_000), "memo": 1 });
    c.refused("exchange_placeOrder", rpc_params![memo], codes::INVALID_PARAMS).await;

    // The notifications of both placements.
    let delta = c.notification("exchange_subscribeBook", &mut book).await;
    assert_eq!(delta["changes"][0]["side"], "Sell", "{delta}");
    let trade = c.notification("exchange_subscribeTrades", &mut trades).await;
    assert_eq!(trade["takerSide"], "Buy", "{trade}");
    let changed = c.notification("exchange_subscribeOrders", &mut orders).await;
    assert_eq!(changed["hash"], ask["hash"], "{changed}");

    // Every read.
    let alice_id = w.id(&alice).0;
    let markets = c.call("exchange_markets", rpc_params![]).await;
    assert_eq!(markets[0]["symbol"], "WETH/USD");
    assert_eq!(c.call("exchange_openOrders", rpc_params![alice_id]).await.as_array().unwrap().len(), 1);
    assert_eq!(c.call("exchange_openOrders", rpc_params![alice_id, 1]).await.as_array().unwrap().len(), 1);
    assert_eq!(c.call("exchange_orders", rpc_params![w.id(&bob).0, 10]).await.as_array().unwrap().len(), 1);
    let filled = c.call("exchange_order", rpc_params![batch[0]["ok"]["hash"].clone()]).await;
    assert_eq!(filled["fills"].as_array().unwrap().len(), 1, "{filled}");
    assert_eq!(c.call("exchange_order", rpc_params![OrderHash([7; 32])]).await, Value::Null);
    let depth = c.call("exchange_book", rpc_params![1, 10]).await;
    assert_eq!(depth["asks"][0], json!(["3000", "0.6", 1]), "{depth}");
    assert_eq!(c.call("exchange_trades", rpc_params![1]).await.as_array().unwrap().len(), 1);
    let ticker = c.call("exchange_ticker", rpc_params![1]).await;
    assert_eq!(ticker["last"], "3000", "{ticker}");
    assert_eq!(c.call("exchange_candles", rpc_params![1, "1m"]).await.as_array().unwrap().len(), 1);
    c.refused("exchange_candles", rpc_params![1, "2m"], codes::INVALID_PARAMS).await;
    c.refused("exchange_book", rpc_params![9], codes::UNKNOWN_MARKET).await;
    c.refused("exchange_trades", rpc_params![9], codes::UNKNOWN_MARKET).await;
    c.refused("exchange_ticker", rpc_params![9], codes::UNKNOWN_MARKET).await;

    // Cancels: Bob may not cancel Alice's ask; Alice cancels it, then all of a new one.
    let ask_hash: OrderHash = serde_json::from_value(ask["hash"].clone()).unwrap();
    let by_bob = CancelRequest::sign(w.id(&bob), ask_hash, &bob.l2).unwrap();
    c.refused("exchange_cancelOrder", rpc_params![by_bob], codes::ORDER).await;
    let own = CancelRequest::sign(w.id(&alice), ask_hash, &alice.l2).unwrap();
    let cancelled = c.call("exchange_cancelOrder", rpc_params![own]).await;
    assert_eq!(cancelled["status"], "cancelled");
    c.call(
        "exchange_placeOrder",
        rpc_params![json!({ "market": 1, "order": signed(&w, &alice, 2, true, 100, 310_000) })],
    )
    .await;
    let all = CancelAllRequest::sign(w.id(&alice), ALL_MARKETS, now_ms(), &alice.l2).unwrap();
    assert_eq!(c.call("exchange_cancelAll", rpc_params![all]).await.as_array().unwrap().len(), 1);
    let nowhere = CancelAllRequest::sign(w.id(&alice), 9, now_ms() + 1, &alice.l2).unwrap();
    c.refused("exchange_cancelAll", rpc_params![nowhere], codes::UNKNOWN_MARKET).await;

    // A hard cancel of Alice's slot 3 up to nonce 0: the node takes it, the venue cancels the
    // order there; the same slot cancelled again below its new nonce is the node's refusal.
    c.call(
        "exchange_placeOrder",
        rpc_params![json!({ "market": 1, "order": signed(&w, &alice, 3, true, 100, 320_000) })],
    )
    .await;
    let hard = |order_nonce: u32| {
        let nonce = w.node.keeper().state().account(w.id(&alice)).unwrap().nonce;
        let tx = CancelOrder {
            account_id: w.id(&alice),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(3),
            order_nonce: OrderNonce(order_nonce),
            fee_token: TokenId(USD),
            fee: 0,
            nonce,
            signature: Default::default(),
        };
        L2Tx::CancelOrder(tx).sign(&alice.l2).unwrap()
    };
    let done = c.call("exchange_cancelHard", rpc_params![hard(0)]).await;
    assert_eq!(done["cancelled"].as_array().unwrap().len(), 1, "{done}");
    c.refused("exchange_cancelHard", rpc_params![hard(0)], codes::NODE_REFUSED).await;
    let transfer = w.mirror.transfer_tx(&alice, bob.address, WETH, 1, 0);
    c.refused("exchange_cancelHard", rpc_params![transfer], codes::INVALID_PARAMS).await;

    // The journal has every kind of input a venue writes without a refused fill.
    let journal = c.call("exchange_journal", rpc_params![0]).await;
    let kinds: BTreeSet<&str> =
        journal.as_array().unwrap().iter().map(|e| e["input"]["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, BTreeSet::from(["genesis", "listMarket", "place", "cancel", "cancelAll", "hardCancel"]));
    let status = c.call("exchange_status", rpc_params![]).await;
    assert_eq!(status["submitter"], w.id(&submitter).0);

    // Unsubscribing takes the (integer) id the subscription answered.
    for (name, sub) in [
        ("exchange_unsubscribeBook", book),
        ("exchange_unsubscribeTrades", trades),
        ("exchange_unsubscribeOrders", orders),
    ] {
        let id = serde_json::to_value(sub.subscription_id()).unwrap();
        check(&doc, &method(&doc, name)["params"][0]["schema"], &id, name).unwrap();
        assert_eq!(c.call(name, rpc_params![id]).await, json!(true));
        c.checked.insert(name.replace("unsubscribe", "subscribe"));
    }
    assert_eq!(c.checked, documented, "every method's answer was checked against its schema");
}

/// docs/protocol.md §15's vectors: account 3 of docs/api.md's examples (test user 1 on
/// `Network::dev(3)`) and its maker order of the `OrderMatching` example, with the cancel and
/// cancel-all it signs.
#[test]
fn protocol_md_venue_message_vectors_are_the_code_s() {
    const PROTOCOL_MD: &str = include_str!("../../../../docs/protocol.md");
    let user = TestUser::new(1, &zklink_types::Network::dev(3));
    let maker = Order {
        account_id: AccountId(3),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(0),
        nonce: OrderNonce(0),
        base_token: TokenId(WETH),
        quote_token: TokenId(USD),
        amount: 2 * E18,
        price: zklink_types::Price(3000 * zklink_types::PRICE_ONE),
        is_sell: true,
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        valid_from: 0,
        valid_until: 4_102_444_800,
        signature: Default::default(),
    };
    let hash = OrderHash::of(&maker).unwrap();
    let cancel = CancelRequest::sign(AccountId(3), hash, &user.l2).unwrap();
    let cancel_all = CancelAllRequest::sign(AccountId(3), ALL_MARKETS, 1_700_000_000_000, &user.l2).unwrap();
    let message = |bytes: &[u8]| zklink_crypto::fr_serde::to_decimal(&zklink_types::message_of(bytes).unwrap());
    let text = format!(
        "order bytes         0x{}\norder hash          {hash}\ncancel bytes        0x{}\ncancel message      {}\n\
         cancel signature    0x{}\ncancel-all bytes    0x{}     (every market, time_ms 1700000000000)\n\
         cancel-all message  {}\ncancel-all signature 0x{}\n",
        hex::encode(maker.signed_bytes().unwrap()),
        hex::encode(cancel.signed_bytes()),
        message(&cancel.signed_bytes()),
        hex::encode(cancel.signature.signature),
        hex::encode(cancel_all.signed_bytes()),
        message(&cancel_all.signed_bytes()),
        hex::encode(cancel_all.signature.signature),
    );
    assert!(PROTOCOL_MD.contains(&text), "docs/protocol.md §15 should show:\n{text}");
    let pub_key = format!("`0x{}`", hex::encode(user.l2.public_key().to_packed()));
    assert!(PROTOCOL_MD.contains(&pub_key), "docs/protocol.md §15 should name account 3's pubKey {pub_key}");
}
