//! The tx JSON documented in docs/api.md and docs/openrpc.json against the code: every example
//! is the tx the code builds and signs (same JSON value, same signed bytes, message and hash), it
//! round-trips through `L2Tx`, the executor accepts the examples in order, and every tx schema
//! names exactly the fields serde writes and describes its example. A submitted tx with a field
//! it does not have is refused naming the field.

use std::collections::BTreeSet;

use jsonrpsee::core::client::{ClientT, Error};
use jsonrpsee::http_client::HttpClientBuilder;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_crypto::fr_serde::to_decimal;
use zklink_crypto::l1::{sign_change_pubkey, L1Domain};
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_types::test_utils::E18;
use zklink_types::*;

const API_MD: &str = include_str!("../../../../docs/api.md");

/// The L1 secret of test user `n` (`TestUser::new`): `0x11 ‖ 0^23 ‖ (n + 1) as u64`.
fn l1_secret(n: u64) -> String {
    let mut secret = [0u8; 32];
    secret[24..].copy_from_slice(&(n + 1).to_be_bytes());
    secret[0] = 0x11;
    format!("0x{}", hex::encode(secret))
}

/// Accounts 2, 3, 4 and 5 of the examples: test users 0..=3 on `Network::dev(3)`, in deposit order.
fn users() -> Vec<TestUser> {
    let network = Network::dev(3);
    (0..4).map(|n| TestUser::new(n, &network)).collect()
}

fn sig() -> TxSignature {
    TxSignature::default()
}

/// The documented examples, signed: ChangePubKey, Transfer, Withdraw, ForcedExit, OrderMatching,
/// CancelOrder, CreatePool, AddLiquidity, RemoveLiquidity, Swap, all by account 2 with nonces
/// 0..=9 (the matching's orders by accounts 3 and 4).
fn examples() -> Vec<L2Tx> {
    let network = Network::dev(3);
    let u = users();
    let chain1 = &network.chains[0];
    let domain = L1Domain { l1_chain_id: chain1.l1_chain_id, verifying_contract: chain1.contract };
    let change_pubkey = L2Tx::ChangePubKey(ChangePubKey {
        chain_id: ChainId(1),
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        new_pk_hash: u[0].pkh,
        fee_token: TokenId(1),
        fee: 0,
        nonce: Nonce(0),
        auth: ChangePubKeyAuth::EthEcdsa { signature: sign_change_pubkey(&u[0].l1, &domain, &u[0].pkh, 0, 2) },
        signature: sig(),
    });
    let transfer = L2Tx::Transfer(Transfer {
        account_id: AccountId(2),
        from_sub_account_id: SubAccountId(0),
        to: u[1].address,
        to_sub_account_id: SubAccountId(1),
        token: TokenId(1),
        amount: 15 * E18 / 10,
        fee: E18 / 10_000,
        nonce: Nonce(1),
        signature: sig(),
    });
    let withdraw = L2Tx::Withdraw(Withdraw {
        to_chain_id: ChainId(2),
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        to: u[0].address,
        l2_source_token: TokenId(1),
        l1_target_token: TokenId(17),
        amount: 25 * E18 / 10,
        fee: 0,
        nonce: Nonce(2),
        fast_withdraw_fee_ratio: 50,
        signature: sig(),
    });
    let forced_exit = L2Tx::ForcedExit(ForcedExit {
        to_chain_id: ChainId(1),
        initiator_account_id: AccountId(2),
        initiator_sub_account_id: SubAccountId(0),
        target: u[3].address,
        target_sub_account_id: SubAccountId(0),
        l2_source_token: TokenId(32),
        l1_target_token: TokenId(32),
        fee_token: TokenId(1),
        fee: 0,
        nonce: Nonce(3),
        signature: sig(),
    });
    let order = |account: u32, slot: u16, amount: u128, price: u128, is_sell: bool| Order {
        account_id: AccountId(account),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(slot),
        nonce: OrderNonce(0),
        base_token: TokenId(32),
        quote_token: TokenId(1),
        amount,
        price: Price(price),
        is_sell,
        maker_fee_ratio: 10,
        taker_fee_ratio: 20,
        valid_from: 0,
        valid_until: Order::NO_EXPIRY,
        signature: sig(),
    };
    // The maker's order expires at 2100-01-01T00:00:00Z; the taker's never does.
    let maker = Order { valid_until: 4_102_444_800, ..order(3, 0, 2 * E18, 3000 * PRICE_ONE, true) };
    let maker = maker.sign(&u[1].l2).unwrap();
    let taker = order(4, 1, E18, 3100 * PRICE_ONE, false).sign(&u[2].l2).unwrap();
    let matching = L2Tx::OrderMatching(Box::new(OrderMatching {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        nonce: Nonce(4),
        maker,
        taker,
        fee_token: TokenId(1),
        fee: 0,
        expect_base_amount: E18,
        expect_quote_amount: 3000 * E18,
        signature: sig(),
    }));
    // Account 2 retires whatever it signed in its order slot 0 up to order nonce 0.
    let cancel = L2Tx::CancelOrder(CancelOrder {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(0),
        order_nonce: OrderNonce(0),
        fee_token: TokenId(1),
        fee: E18 / 10_000,
        nonce: Nonce(5),
        signature: sig(),
    });
    // Account 2 creates a USD/WETH pool at 30 bps with a 20 % protocol share (it becomes account
    // 6, the accounts 2..=5 being the users), deposits into it first, takes a share back and swaps
    // 30 USD for WETH; each within a window ending at 2100-01-01T00:00:00Z.
    let create_pool = L2Tx::CreatePool(CreatePool {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        kind: PoolKind::ConstantProduct,
        token_a: TokenId(1),
        token_b: TokenId(32),
        fee_bps: 30,
        protocol_share: 20,
        amp: 0,
        fee_token: TokenId(1),
        fee: E18 / 10_000,
        nonce: Nonce(6),
        signature: sig(),
    });
    let (pool, until) = (AccountId(6), 4_102_444_800);
    let add_liquidity = L2Tx::AddLiquidity(AddLiquidity {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        pool,
        max_a: 300 * E18,
        max_b: E18 / 10,
        min_shares: 5 * E18,
        fee_token: TokenId(1),
        fee: E18 / 10_000,
        nonce: Nonce(7),
        valid_from: 0,
        valid_until: until,
        signature: sig(),
    });
    let remove_liquidity = L2Tx::RemoveLiquidity(RemoveLiquidity {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        pool,
        shares: E18,
        min_a: 54 * E18,
        min_b: 18 * E18 / 1000,
        fee_token: TokenId(1),
        fee: E18 / 10_000,
        nonce: Nonce(8),
        valid_from: 0,
        valid_until: until,
        signature: sig(),
    });
    let swap = L2Tx::Swap(Swap {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        pool,
        token_in: TokenId(1),
        exact_out: false,
        amount: 30 * E18,
        limit: 8 * E18 / 1000,
        fee: E18 / 10_000,
        nonce: Nonce(9),
        valid_from: 0,
        valid_until: until,
        signature: sig(),
    });
    [
        change_pubkey,
        transfer,
        withdraw,
        forced_exit,
        matching,
        cancel,
        create_pool,
        add_liquidity,
        remove_liquidity,
        swap,
    ]
    .into_iter()
    .map(|tx| tx.sign(&u[0].l2).unwrap())
    .collect()
}

/// The ```text block docs/api.md shows after an example: its signed bytes, message(s) and hash.
fn vectors(tx: &L2Tx) -> String {
    let mut out = format!("signed bytes  0x{}\n", hex::encode(tx.signed_bytes().unwrap()));
    if let L2Tx::OrderMatching(m) = tx {
        out += &format!("maker message {}\n", to_decimal(&m.maker.message().unwrap()));
        out += &format!("taker message {}\n", to_decimal(&m.taker.message().unwrap()));
    }
    out += &format!("message       {}\n", to_decimal(&tx.message().unwrap()));
    out += &format!("hash          {}\n", tx.hash().unwrap());
    format!("```text\n{out}```\n")
}

/// The ```text block of the example keys in docs/api.md.
fn keys_block() -> String {
    let mut out = String::new();
    for (n, u) in users().iter().enumerate() {
        out += &format!(
            "account {}\n  L1 secret      {}\n  address        {}\n  L2 private key 0x{}\n  pubKey         0x{}\n  pubKeyHash     {}\n",
            n + 2,
            l1_secret(n as u64),
            u.address,
            hex::encode(u.l2.to_bytes()),
            hex::encode(u.l2.public_key().to_packed()),
            u.pkh
        );
    }
    format!("```text\n{out}```\n")
}

/// The fenced ```json blocks of docs/api.md that are txs (an object with a `type` that is a tx kind).
fn documented_tx_blocks() -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = API_MD;
    while let Some(start) = rest.find("```json\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("unterminated ```json block");
        let value: Value = serde_json::from_str(&body[..end]).expect("a ```json block of docs/api.md is not JSON");
        if value["type"].as_str().is_some_and(|t| t.parse::<TxKind>().is_ok()) {
            out.push(value);
        }
        rest = &body[end..];
    }
    out
}

fn roundtrips(value: &Value) -> L2Tx {
    let tx: L2Tx = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
    assert_eq!(&serde_json::to_value(&tx).unwrap(), value, "does not serialise back to the same JSON");
    tx
}

/// Prints the example blocks docs/api.md should show (run with `--ignored --nocapture` after
/// changing an example or a tx's encoding, and paste).
#[test]
#[ignore]
fn print_api_md_examples() {
    for tx in examples() {
        println!("```json\n{}\n```\n\n{}", serde_json::to_string_pretty(&tx).unwrap(), vectors(&tx));
    }
}

#[test]
fn api_md_examples_are_the_signed_txs_the_code_builds() {
    let built = examples();
    let keys = keys_block();
    assert!(API_MD.contains(&keys), "docs/api.md should show the example keys as:\n{keys}");
    let blocks = documented_tx_blocks();
    let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, TxKind::ALL.map(TxKind::name), "one ```json example per tx type, in this order");
    for (value, tx) in blocks.iter().zip(&built) {
        let expected = serde_json::to_value(tx).unwrap();
        assert_eq!(
            value,
            &expected,
            "docs/api.md's {} example should be:\n{}",
            tx.kind(),
            serde_json::to_string_pretty(&expected).unwrap()
        );
        assert_eq!(&roundtrips(value), tx);
        let text = vectors(tx);
        assert!(API_MD.contains(&text), "docs/api.md should follow the {} example with:\n{text}", tx.kind());
        tx.validate(&Preset::dev()).unwrap();
    }
}

#[test]
fn the_executor_accepts_the_examples_in_order() {
    let mut net = TestNet::dev();
    let u = users();
    net.deposit(1, &u[0], 0, 17, 1, 1000 * E18);
    net.deposit(1, &u[1], 0, 32, 32, 10 * E18);
    net.deposit(1, &u[2], 0, 17, 1, 10_000 * E18);
    net.deposit(1, &u[3], 0, 32, 32, E18);
    net.deposit(2, &u[0], 0, 17, 1, 1000 * E18);
    for (n, user) in u.iter().enumerate() {
        assert_eq!(net.id_of(user), AccountId(n as u32 + 2));
    }
    // WETH for account 2's pool deposit.
    net.deposit(1, &u[0], 0, 32, 32, E18);
    net.activate(&u[1]);
    net.activate(&u[2]);
    for tx in examples() {
        let kind = tx.kind();
        net.apply_l2(tx).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// docs/openrpc.json
// ---------------------------------------------------------------------------------------------

fn openrpc() -> Value {
    serde_json::from_str(zklink_api::OPENRPC).unwrap()
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unsupported $ref {r}"));
            let target = &doc["components"]["schemas"][name];
            assert!(target.is_object(), "{r} does not exist");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// `^0x[0-9a-fA-F]{N}$` and `^[0-9]+$`, the patterns the tx schemas use.
fn matches_pattern(pattern: &str, s: &str) -> bool {
    if pattern == "^[0-9]+$" {
        return !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    }
    let n: usize = pattern
        .strip_prefix("^0x[0-9a-fA-F]{")
        .and_then(|p| p.strip_suffix("}$"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the test does not know the pattern {pattern}"));
    s.strip_prefix("0x").is_some_and(|h| h.len() == n && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A JSON Schema check of `value` for the keywords the tx schemas use ($ref, oneOf, type, items,
/// maxItems, const, enum, pattern, minimum, maximum, required, properties, additionalProperties);
/// any other keyword apart from annotations fails the test, so a schema cannot say more than is
/// checked.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    let obj = schema.as_object().ok_or(format!("{at}: schema is not an object"))?;
    for key in obj.keys() {
        let known = [
            "oneOf",
            "type",
            "items",
            "maxItems",
            "const",
            "enum",
            "pattern",
            "minimum",
            "maximum",
            "required",
            "properties",
            "additionalProperties",
            "description",
            "examples",
            "title",
        ];
        assert!(known.contains(&key.as_str()), "{at}: the test does not check the keyword {key}");
    }
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
    if let (Some(max), Some(elements)) = (schema["maxItems"].as_u64(), value.as_array()) {
        if elements.len() as u64 > max {
            return Err(format!("{at}: {} items, at most {max}", elements.len()));
        }
    }
    if let (Some(items), Some(elements)) = (schema.get("items"), value.as_array()) {
        for (i, v) in elements.iter().enumerate() {
            check(doc, items, v, &format!("{at}[{i}]"))?;
        }
    }
    if let Some(fields) = value.as_object() {
        for r in schema["required"].as_array().into_iter().flatten() {
            if !fields.contains_key(r.as_str().unwrap()) {
                return Err(format!("{at}: required {r} is missing"));
            }
        }
        let props = schema["properties"].as_object();
        for (k, v) in fields {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(doc, s, v, &format!("{at}.{k}"))?,
                None if schema["additionalProperties"] == json!(false) => {
                    return Err(format!("{at}: {k} is not allowed"));
                }
                None => {}
            }
        }
    }
    Ok(())
}

fn names(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_string()).collect(),
        _ => panic!("neither an object nor an array: {v}"),
    }
}

/// `schema` (an object schema) names exactly the fields of `value`, all required, no others allowed.
fn names_exactly(schema: &Value, value: &Value, what: &str) {
    assert_eq!(names(&schema["properties"]), names(value), "{what}: properties");
    assert_eq!(names(&schema["required"]), names(value), "{what}: required");
    assert_eq!(schema["additionalProperties"], json!(false), "{what}: unknown fields are refused");
}

#[test]
fn openrpc_tx_schemas_match_the_serde_fields_and_the_examples_are_the_code_s_txs() {
    let doc = openrpc();
    let schemas = &doc["components"]["schemas"];
    let submit = doc["methods"].as_array().unwrap().iter().find(|m| m["name"] == "zklink_submitTx").unwrap();
    let param = &submit["params"][0]["schema"];
    let alternatives: Vec<String> = resolve(&doc, param)["oneOf"]
        .as_array()
        .expect("zklink_submitTx's param is a oneOf of the tx types")
        .iter()
        .map(|s| s["$ref"].as_str().unwrap().trim_start_matches("#/components/schemas/").to_string())
        .collect();
    assert_eq!(alternatives, TxKind::ALL.map(|k| k.name().to_string()));

    for tx in examples() {
        let kind = tx.kind();
        let schema = &schemas[kind];
        let value = serde_json::to_value(&tx).unwrap();
        names_exactly(schema, &value, kind);
        assert_eq!(schema["properties"]["type"]["const"], json!(kind), "{kind}: the type tag");
        let documented = schema["examples"].as_array().unwrap_or_else(|| panic!("{kind} has no examples"));
        assert_eq!(
            documented,
            &vec![value.clone()],
            "the {kind} schema's example should be:\n{}",
            serde_json::to_string_pretty(&value).unwrap()
        );
        assert_eq!(roundtrips(&documented[0]), tx);
        check(&doc, param, &value, kind).unwrap();
        check(&doc, schema, &value, kind).unwrap();
        let mut extra = value.clone();
        extra["memo"] = json!(1);
        assert!(check(&doc, param, &extra, kind).is_err(), "{kind}: the schema allows an unknown field");

        names_exactly(&schemas["TxSignature"], &value["signature"], "TxSignature");
        match &tx {
            L2Tx::OrderMatching(_) => {
                for side in ["maker", "taker"] {
                    names_exactly(&schemas["Order"], &value[side], "Order");
                    names_exactly(&schemas["TxSignature"], &value[side]["signature"], "TxSignature");
                }
            }
            L2Tx::ChangePubKey(_) => {
                // Each auth form matches exactly one alternative, which names exactly its fields.
                let auth = &schemas["ChangePubKeyAuth"]["oneOf"];
                for form in [value["auth"].clone(), serde_json::to_value(ChangePubKeyAuth::Onchain).unwrap()] {
                    let alt =
                        auth.as_array().unwrap().iter().find(|a| a["properties"]["type"]["const"] == form["type"]);
                    names_exactly(alt.unwrap(), &form, "ChangePubKeyAuth");
                    check(&doc, &schemas["ChangePubKeyAuth"], &form, "auth").unwrap();
                }
            }
            _ => {}
        }
    }
    // The small schemas' examples are real too.
    for (name, ty) in [("Order", "Order"), ("TxSignature", "TxSignature"), ("ChangePubKeyAuth", "ChangePubKeyAuth")] {
        for example in schemas[name]["examples"].as_array().unwrap_or_else(|| panic!("{name} has no examples")) {
            check(&doc, &schemas[name], example, name).unwrap();
            let back = match ty {
                "Order" => serde_json::to_value(serde_json::from_value::<Order>(example.clone()).unwrap()),
                "TxSignature" => serde_json::to_value(serde_json::from_value::<TxSignature>(example.clone()).unwrap()),
                _ => serde_json::to_value(serde_json::from_value::<ChangePubKeyAuth>(example.clone()).unwrap()),
            };
            assert_eq!(&back.unwrap(), example, "{name}");
        }
    }
    // The preset is camelCase, as zklink_network returns it (its old snake_case names are still
    // read, so the schema does not forbid other fields).
    let preset = serde_json::to_value(Preset::main()).unwrap();
    assert_eq!(names(&schemas["Preset"]["properties"]), names(&preset), "Preset: properties");
    assert_eq!(names(&schemas["Preset"]["required"]), names(&preset), "Preset: required");
    check(&doc, &schemas["Network"], &serde_json::to_value(Network::dev(3)).unwrap(), "Network").unwrap();
}

#[test]
fn openrpc_submit_txs_takes_at_most_the_limit_of_txs_and_describes_the_result() {
    use zklink_types::api::{SubmitTxsView, TxRefusalView};
    let doc = openrpc();
    let method = doc["methods"].as_array().unwrap().iter().find(|m| m["name"] == "zklink_submitTxs").unwrap();
    let param = &method["params"][0]["schema"];
    assert_eq!(param["maxItems"], json!(zklink_api::MAX_BATCH_TXS));
    let txs: Vec<Value> = examples().iter().map(|tx| serde_json::to_value(tx).unwrap()).collect();
    check(&doc, param, &json!(txs), "txs").unwrap();
    let too_many = vec![txs[0].clone(); zklink_api::MAX_BATCH_TXS + 1];
    assert!(check(&doc, param, &json!(too_many), "txs").is_err());

    let result = resolve(&doc, &method["result"]["schema"]);
    let refusal = TxRefusalView { index: 1, code: zklink_api::codes::TX_DUPLICATE, message: "duplicate".into() };
    let partly = SubmitTxsView { accepted: vec![examples()[0].hash().unwrap()], refused: Some(refusal.clone()) };
    let all = SubmitTxsView { accepted: examples().iter().map(|tx| tx.hash().unwrap()).collect(), refused: None };
    for view in [partly, all] {
        let value = serde_json::to_value(&view).unwrap();
        names_exactly(result, &value, "SubmitTxsResult");
        check(&doc, result, &value, "outcome").unwrap();
    }
    names_exactly(&doc["components"]["schemas"]["TxRefusal"], &serde_json::to_value(refusal).unwrap(), "TxRefusal");
}

#[tokio::test(flavor = "current_thread")]
async fn a_submitted_tx_with_an_unknown_field_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (node, network) = crate::dev_node(dir.path());
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node, network).await.unwrap();
    let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();
    let mut tx = serde_json::to_value(&examples()[1]).unwrap();
    tx["memo"] = json!("thanks");
    match client.request::<TxHash, _>("zklink_submitTx", rpc_params![tx]).await.unwrap_err() {
        Error::Call(e) => {
            assert_eq!(e.code(), zklink_api::codes::INVALID_PARAMS);
            assert!(e.message().contains("unknown field `memo`"), "{}", e.message());
        }
        other => panic!("not a JSON-RPC error: {other}"),
    }
    api.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The pool methods in docs/api.md and docs/openrpc.json
// ---------------------------------------------------------------------------------------------

fn method<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in openrpc.json"))
}

/// The codes a method's `errors` list.
fn error_codes(doc: &Value, name: &str) -> Vec<i64> {
    method(doc, name)["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| resolve_error(doc, e["$ref"].as_str().unwrap())["code"].as_i64().unwrap())
        .collect()
}

fn resolve_error<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let name = r.strip_prefix("#/components/errors/").unwrap_or_else(|| panic!("unsupported $ref {r}"));
    let e = &doc["components"]["errors"][name];
    assert!(e.is_object(), "{r} does not exist");
    e
}

/// `value` is what `schema` (an object schema) describes: exactly its properties, all required
/// but `optional`, and it checks.
fn describes(doc: &Value, schema: &Value, value: &Value, optional: &[&str], what: &str) {
    let schema = resolve(doc, schema);
    assert_eq!(names(&schema["properties"]), names(value), "{what}: properties");
    let required: BTreeSet<String> = names(value).into_iter().filter(|n| !optional.contains(&n.as_str())).collect();
    assert_eq!(names(&schema["required"]), required, "{what}: required");
    check(doc, schema, value, what).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn api_md_s_methods_table_names_every_method_served() {
    let dir = tempfile::tempdir().unwrap();
    let (node, network) = crate::dev_node(dir.path());
    let cfg = zklink_api::ApiConfig { prover_token: Some("x".into()), ..Default::default() };
    let module = zklink_api::module(node, network, cfg);
    let start = API_MD.find("## Methods").unwrap();
    let end = start + API_MD[start..].find("\n### ").unwrap();
    let subscriptions = API_MD.find("## Subscriptions (WebSocket)").unwrap();
    let subscriptions = &API_MD[subscriptions..subscriptions + 1 + API_MD[subscriptions + 1..].find("\n## ").unwrap()];
    for name in module.method_names() {
        let row = format!("| `{name}` |");
        let listed = API_MD[start..end].contains(&row) || subscriptions.contains(&format!("`{name}`"));
        assert!(listed, "docs/api.md's Methods table (or its Subscriptions table) does not list {name}");
    }
    // zklink_estimateFee takes every tx type.
    let doc = openrpc();
    let kinds = &method(&doc, "zklink_estimateFee")["params"][0]["schema"]["enum"];
    assert_eq!(names(kinds), TxKind::ALL.iter().map(|k| k.name().to_string()).collect::<BTreeSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openrpc_describes_the_pool_methods_results_and_refusals() {
    use crate::pools::PoolNode;
    let doc = openrpc();
    let result = |name: &str| method(&doc, name)["result"]["schema"].clone();
    let param = |name: &str| method(&doc, name)["params"][0]["schema"].clone();
    let documents = |name: &str, code: i32| {
        let listed = error_codes(&doc, name);
        assert!(listed.contains(&i64::from(code)), "{name} answers {code}; its documented errors are {listed:?}");
    };

    // An empty pool (price null), then one with liquidity.
    let mut empty = PoolNode::start().await;
    let alice = empty.fund(0, 17, 1, 10 * E18);
    empty.activate(&alice).await;
    let create = empty.mirror.create_pool_tx(&alice, 1, 32, 30, 0, 1, 0);
    empty.submit(create).await;
    let pools: Value = empty.call("zklink_pools", json!([])).await;
    check(&doc, &result("zklink_pools"), &pools, "zklink_pools").unwrap();
    describes(&doc, &json!({ "$ref": "#/components/schemas/Pool" }), &pools[0], &[], "Pool (empty)");
    assert!(pools[0]["price"].is_null());
    empty.api.stop().await;

    let (n, _alice, _bob, pool) = PoolNode::with_pool().await;
    let pools: Value = n.call("zklink_pools", json!([])).await;
    check(&doc, &result("zklink_pools"), &pools, "zklink_pools").unwrap();
    let one: Value = n.call("zklink_pool", json!([pool])).await;
    assert_eq!(one, pools[0]);
    describes(&doc, &result("zklink_pool"), &one, &[], "Pool");
    describes(&doc, &json!({ "$ref": "#/components/schemas/PoolPrice" }), &one["price"], &[], "PoolPrice");

    let requests = [
        ("zklink_quoteSwap", json!({ "pool": pool, "tokenIn": 1, "amount": E18.to_string() }), "SwapQuote"),
        (
            "zklink_quoteSwap",
            json!({ "pool": pool, "tokenIn": 32, "exactOut": true, "amount": E18.to_string() }),
            "SwapQuote",
        ),
        (
            "zklink_quoteLiquidity",
            json!({ "pool": pool, "maxA": E18.to_string(), "maxB": E18.to_string() }),
            "LiquidityQuote",
        ),
        ("zklink_quoteRemove", json!({ "pool": pool, "shares": E18.to_string() }), "RemoveQuote"),
    ];
    for (name, request, view) in requests {
        check(&doc, &param(name), &request, name).unwrap();
        let mut extra = request.clone();
        extra["memo"] = json!(1);
        assert!(check(&doc, &param(name), &extra, name).is_err(), "{name}: the schema allows an unknown field");
        let answer: Value = n.call(name, json!([request])).await;
        describes(&doc, &result(name), &answer, &[], view);
    }
    // The request schemas name exactly the fields serde reads (exactOut may be left out).
    let swap = serde_json::to_value(api::QuoteSwapRequest { pool, token_in: 1, exact_out: false, amount: 1 }).unwrap();
    describes(&doc, &param("zklink_quoteSwap"), &swap, &["exactOut"], "QuoteSwapRequest");
    let add = serde_json::to_value(api::QuoteLiquidityRequest { pool, max_a: 1, max_b: 1 }).unwrap();
    describes(&doc, &param("zklink_quoteLiquidity"), &add, &[], "QuoteLiquidityRequest");
    let remove = serde_json::to_value(api::QuoteRemoveRequest { pool, shares: 1 }).unwrap();
    describes(&doc, &param("zklink_quoteRemove"), &remove, &[], "QuoteRemoveRequest");

    // Each refusal's code is among the method's documented errors.
    let refusals = [
        ("zklink_pool", json!([2])),
        ("zklink_quoteSwap", json!([{ "pool": 2, "tokenIn": 1, "amount": "1" }])),
        (
            "zklink_quoteSwap",
            json!([{ "pool": pool, "tokenIn": 1, "exactOut": true, "amount": (E18 * 9).to_string() }]),
        ),
        ("zklink_quoteLiquidity", json!([{ "pool": pool, "maxA": "1", "maxB": "1" }])),
        ("zklink_quoteRemove", json!([{ "pool": pool, "shares": (E18 * 1000).to_string() }])),
        ("zklink_quoteRemove", json!([{ "pool": pool }])),
    ];
    for (name, params) in refusals {
        let (code, message) = n.refused(name, params).await;
        documents(name, code);
        assert!(!message.is_empty());
    }
    n.node.keeper().set_fee_policy(zklink_node::FeePolicy { usd_per_chunk: E18 / 1000 });
    let (code, _) = n.refused("zklink_quoteSwap", json!([{ "pool": pool, "tokenIn": 32, "amount": "1000" }])).await;
    assert_eq!(code, zklink_api::codes::FEE);
    documents("zklink_quoteSwap", code);
    n.api.stop().await;
}
