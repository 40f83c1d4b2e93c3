//! The pool methods against a keeper with a temporary store, over HTTP on 127.0.0.1: `zklink_pools`
//! and `zklink_pool` list a pool with its symbols, reserves, supply and price; a Swap signed with
//! `zklink_quoteSwap`'s amount as its limit executes exactly at the quote (exact in: the trader
//! receives exactly `amountOut`, a limit one unit above is refused; exact out: pays exactly
//! `amountIn`, one unit below is refused), and so do deposits and removals signed with
//! `zklink_quoteLiquidity`'s and `zklink_quoteRemove`'s amounts; the fees and prices of a quote
//! follow their documented definitions; the network fee is `zklink_estimateFee`'s; refusals carry
//! their code and say what was wrong and what was expected.

use jsonrpsee::core::client::ClientT;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use zklink_api::codes;
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_node::{FeePolicy, NodeHandle};
use zklink_types::api::{LiquidityQuoteView, PoolView, RemoveQuoteView, SwapQuoteView};
use zklink_types::test_utils::{E18, USD, USDC, WETH};
use zklink_types::{AccountId, L2Tx, PriorityTx, SubAccountId, TokenId, TxHash, FEE_ACCOUNT_ID};

/// A node with its API, a mirror of its state that signs the txs, and funded, activated users.
pub(crate) struct PoolNode {
    pub _dir: tempfile::TempDir,
    pub node: NodeHandle,
    pub api: zklink_api::Api,
    pub client: HttpClient,
    pub mirror: TestNet,
    serials: u64,
}

impl PoolNode {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (node, network) = crate::dev_node(dir.path());
        let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
        let client = HttpClientBuilder::default().build(format!("http://{}", api.addr)).unwrap();
        Self { _dir: dir, node, api, client, mirror: TestNet::new(network), serials: 0 }
    }

    /// Deposits `amount` of `l1` as `l2` to user `n` (its account created by the first).
    pub fn fund(&mut self, n: u64, l1: u16, l2: u16, amount: u128) -> TestUser {
        let u = self.mirror.user(n);
        let mut d = self.mirror.deposit_tx(1, u.address, 0, l1, l2, amount);
        if let PriorityTx::Deposit(d) = &mut d {
            d.serial_id.0 = self.serials;
        }
        self.serials += 1;
        self.mirror.apply_priority(&d).unwrap();
        self.node.keeper().submit_priority(d, 1).unwrap();
        u
    }

    /// Applies `tx` to the mirror and submits it through `zklink_submitTx`.
    pub async fn submit(&mut self, tx: L2Tx) -> TxHash {
        let kind = tx.kind();
        self.mirror.apply_l2(tx.clone()).unwrap_or_else(|e| panic!("{kind} (mirror): {e}"));
        self.client.request("zklink_submitTx", rpc_params![tx]).await.unwrap_or_else(|e| panic!("{kind}: {e}"))
    }

    /// Sets `u`'s L2 key.
    pub async fn activate(&mut self, u: &TestUser) {
        let tx = self.mirror.change_pubkey_tx(u);
        self.submit(tx).await;
    }

    /// `u`'s balance of `token` in sub-account 0 on the node.
    pub fn balance(&self, u: &TestUser, token: u16) -> u128 {
        let state = self.node.keeper();
        let id = state.state().account_id_by_address(&u.address).unwrap();
        state.state().balance(id, SubAccountId(0), TokenId(token))
    }

    pub async fn call<T: serde::de::DeserializeOwned>(&self, method: &str, params: Value) -> T {
        let params: Vec<Value> = serde_json::from_value(params).unwrap();
        let mut p = jsonrpsee::core::params::ArrayParams::new();
        for v in params {
            p.insert(v).unwrap();
        }
        self.client.request(method, p).await.unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    pub async fn refused(&self, method: &str, params: Value) -> (i32, String) {
        let params: Vec<Value> = serde_json::from_value(params).unwrap();
        let mut p = jsonrpsee::core::params::ArrayParams::new();
        for v in params {
            p.insert(v).unwrap();
        }
        crate::refusal(self.client.request::<Value, _>(method, p).await.unwrap_err())
    }

    /// Alice (user 0: 10,000 USD and 10 WETH) and Bob (user 1: 5,000 USD and 5 WETH), activated;
    /// Alice creates a USD/WETH pool at 30 bps with a 20 % protocol share and deposits 3000 USD and
    /// 1 WETH into it. Returns them and the pool's id.
    pub async fn with_pool() -> (Self, TestUser, TestUser, u32) {
        let mut n = Self::start().await;
        let alice = n.fund(0, USDC, USD, 10_000 * E18);
        n.fund(0, WETH, WETH, 10 * E18);
        let bob = n.fund(1, USDC, USD, 5_000 * E18);
        n.fund(1, WETH, WETH, 5 * E18);
        n.activate(&alice).await;
        n.activate(&bob).await;
        let create = n.mirror.create_pool_tx(&alice, USD, WETH, 30, 20, USD, 0);
        n.submit(create).await;
        let pool = n.mirror.state().pool_of_lp_token(TokenId(56)).expect("the pool took LP token 56").0;
        let quote: LiquidityQuoteView = n
            .call(
                "zklink_quoteLiquidity",
                json!([{ "pool": pool, "maxA": (3000 * E18).to_string(), "maxB": E18.to_string() }]),
            )
            .await;
        let add = n.mirror.add_liquidity_tx(&alice, AccountId(pool), 3000 * E18, E18, quote.shares, 0);
        n.submit(add).await;
        (n, alice, bob, pool)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_are_listed_and_quotes_execute_exactly() {
    let mut n = PoolNode::start().await;
    let none: Vec<PoolView> = n.call("zklink_pools", json!([])).await;
    assert!(none.is_empty());
    let (code, message) = n.refused("zklink_pool", json!([4])).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    assert_eq!(message, "expected a pool's account id: account 4 is not a pool, and there are no pools yet");

    // Alice creates a USD/WETH pool: listed empty, without a price.
    let alice = n.fund(0, USDC, USD, 10_000 * E18);
    n.fund(0, WETH, WETH, 10 * E18);
    let bob = n.fund(1, USDC, USD, 5_000 * E18);
    n.fund(1, WETH, WETH, 5 * E18);
    n.activate(&alice).await;
    n.activate(&bob).await;
    let create = n.mirror.create_pool_tx(&alice, USD, WETH, 30, 20, USD, 0);
    n.submit(create).await;
    let listed: Vec<Value> = n.call("zklink_pools", json!([])).await;
    assert_eq!(listed.len(), 1);
    let pool = listed[0]["pool"].as_u64().unwrap() as u32;
    assert_eq!(pool, 4, "the next account id");
    let (params, _) = n.mirror.pool(AccountId(pool)).unwrap();
    assert_eq!(
        listed[0],
        json!({
            "pool": 4, "address": params.address(), "kind": "constantProduct", "feeBps": 30, "protocolShare": 20,
            "amp": 0, "tokenA": 1, "tokenB": 32, "lpToken": 56, "symbolA": "USD", "symbolB": "WETH",
            "reserveA": "0", "reserveB": "0", "supply": "0", "price": null
        })
    );

    // The first deposit: exactly the quoted amounts and shares.
    let q: LiquidityQuoteView = n
        .call(
            "zklink_quoteLiquidity",
            json!([{ "pool": pool, "maxA": (3000 * E18).to_string(), "maxB": E18.to_string() }]),
        )
        .await;
    let root: u128 = 54_772_255_750_516_611_345; // ⌊√(3000·10^18 · 10^18)⌋
    assert_eq!((q.amount_a, q.amount_b, q.shares), (3000 * E18, E18, root - 1000));
    let (usd, weth) = (n.balance(&alice, USD), n.balance(&alice, WETH));
    let add = n.mirror.add_liquidity_tx(&alice, AccountId(pool), 3000 * E18, E18, q.shares, 0);
    n.submit(add).await;
    assert_eq!(n.balance(&alice, 56), q.shares);
    assert_eq!((usd - n.balance(&alice, USD), weth - n.balance(&alice, WETH)), (q.amount_a, q.amount_b));
    let view: PoolView = n.call("zklink_pool", json!([pool])).await;
    assert_eq!((view.reserve_a, view.reserve_b, view.supply), (3000 * E18, E18, root));
    let price = view.price.clone().unwrap();
    assert_eq!((price.b_per_a.as_str(), price.a_per_b.as_str()), ("333333333333333", "3000000000000000000000"));

    // Exact in: Bob pays 100 USD; a limit one unit above the quote is refused, the quote's own
    // limit gets exactly the quoted output.
    let q: SwapQuoteView =
        n.call("zklink_quoteSwap", json!([{ "pool": pool, "tokenIn": USD, "amount": (100 * E18).to_string() }])).await;
    assert_eq!((q.token_in, q.token_out, q.exact_out, q.amount_in), (USD, WETH, false, 100 * E18));
    let expected = zklink_types::pool::swap_exact_in(&params, 3000 * E18, E18, 100 * E18).unwrap();
    assert_eq!((q.amount_out, q.protocol_fee), (expected.amount_out, expected.protocol_fee));
    assert_eq!(q.protocol_fee, 100 * E18 * 30 * 20 / 1_000_000, "0.06 USD");
    assert_eq!(q.lp_fee, 100 * E18 * 30 / 10_000 - q.protocol_fee, "0.24 USD stays in the pool");
    assert_eq!(q.network_fee, 0, "the node charges nothing");
    assert_eq!(q.spot_price, price.b_per_a, "WETH per USD before the swap");
    assert_eq!(q.execution_price, (q.amount_out * E18 / q.amount_in).to_string());
    // 100 USD of 3000 moves the price by about 3.2 %, the fee included.
    assert_eq!(q.price_impact_bps, 10_000 - (q.amount_out * 3000 * 10_000 / (100 * E18)) as u32);
    assert!((350..=360).contains(&q.price_impact_bps), "{}", q.price_impact_bps);
    let too_tight = n.mirror.swap_tx(&bob, AccountId(pool), USD, false, 100 * E18, q.amount_out + 1, 0);
    let (code, message) =
        crate::refusal(n.client.request::<TxHash, _>("zklink_submitTx", rpc_params![too_tight]).await.unwrap_err());
    assert_eq!(code, codes::TX_REJECTED);
    assert!(message.contains("swap output below the signed minimum"), "{message}");
    let (usd, weth) = (n.balance(&bob, USD), n.balance(&bob, WETH));
    let fees_usd = n.node.keeper().state().balance(FEE_ACCOUNT_ID, SubAccountId(0), TokenId(USD));
    let swap = n.mirror.swap_tx(&bob, AccountId(pool), USD, false, 100 * E18, q.amount_out, q.network_fee);
    n.submit(swap).await;
    assert_eq!(n.balance(&bob, WETH) - weth, q.amount_out, "exactly the quoted output");
    assert_eq!(usd - n.balance(&bob, USD), q.amount_in + q.network_fee);
    let fees_now = n.node.keeper().state().balance(FEE_ACCOUNT_ID, SubAccountId(0), TokenId(USD));
    assert_eq!(fees_now - fees_usd, q.protocol_fee, "the protocol's part goes to account 0");
    let after: PoolView = n.call("zklink_pool", json!([pool])).await;
    assert_eq!(after.reserve_a, 3100 * E18 - q.protocol_fee, "the LPs' part stays in the pool");
    assert_eq!(after.reserve_b, E18 - q.amount_out);

    // Exact out: Bob buys exactly 0.01 WETH with USD; one unit below the quoted input is refused.
    let q: SwapQuoteView = n
        .call(
            "zklink_quoteSwap",
            json!([{ "pool": pool, "tokenIn": USD, "exactOut": true, "amount": (E18 / 100).to_string() }]),
        )
        .await;
    assert_eq!((q.amount_out, q.exact_out), (E18 / 100, true));
    let expected = zklink_types::pool::swap_exact_out(&params, after.reserve_a, after.reserve_b, E18 / 100).unwrap();
    assert_eq!(q.amount_in, expected.amount_in);
    let too_tight = n.mirror.swap_tx(&bob, AccountId(pool), USD, true, E18 / 100, q.amount_in - 1, 0);
    let (code, message) =
        crate::refusal(n.client.request::<TxHash, _>("zklink_submitTx", rpc_params![too_tight]).await.unwrap_err());
    assert!(code == codes::TX_REJECTED && message.contains("swap input above the signed maximum"), "{message}");
    let (usd, weth) = (n.balance(&bob, USD), n.balance(&bob, WETH));
    let swap = n.mirror.swap_tx(&bob, AccountId(pool), USD, true, E18 / 100, q.amount_in, q.network_fee);
    n.submit(swap).await;
    assert_eq!(usd - n.balance(&bob, USD), q.amount_in, "exactly the quoted input");
    assert_eq!(n.balance(&bob, WETH) - weth, E18 / 100);

    // The other way: WETH in.
    let q: SwapQuoteView =
        n.call("zklink_quoteSwap", json!([{ "pool": pool, "tokenIn": WETH, "amount": (E18 / 10).to_string() }])).await;
    assert_eq!((q.token_in, q.token_out), (WETH, USD));
    let (usd, weth) = (n.balance(&bob, USD), n.balance(&bob, WETH));
    let swap = n.mirror.swap_tx(&bob, AccountId(pool), WETH, false, E18 / 10, q.amount_out, 0);
    n.submit(swap).await;
    assert_eq!((n.balance(&bob, USD) - usd, weth - n.balance(&bob, WETH)), (q.amount_out, E18 / 10));

    // A later deposit and a removal, each exactly as quoted.
    let q: LiquidityQuoteView = n
        .call(
            "zklink_quoteLiquidity",
            json!([{ "pool": pool, "maxA": (300 * E18).to_string(), "maxB": (E18 / 2).to_string() }]),
        )
        .await;
    let now: PoolView = n.call("zklink_pool", json!([pool])).await;
    let expected = zklink_types::pool::add_liquidity(&now.reserves(), 300 * E18, E18 / 2).unwrap();
    assert_eq!((q.amount_a, q.amount_b, q.shares), (expected.a, expected.b, expected.shares));
    assert!(q.amount_a <= 300 * E18 && q.amount_b < E18 / 2, "USD is the scarcer side: {q:?}");
    let (usd, weth, lp) = (n.balance(&bob, USD), n.balance(&bob, WETH), n.balance(&bob, 56));
    let add = n.mirror.add_liquidity_tx(&bob, AccountId(pool), 300 * E18, E18 / 2, q.shares, 0);
    n.submit(add).await;
    assert_eq!(
        (usd - n.balance(&bob, USD), weth - n.balance(&bob, WETH), n.balance(&bob, 56) - lp),
        (q.amount_a, q.amount_b, q.shares)
    );
    let shares = n.balance(&bob, 56);
    let q: RemoveQuoteView =
        n.call("zklink_quoteRemove", json!([{ "pool": pool, "shares": shares.to_string() }])).await;
    let (usd, weth) = (n.balance(&bob, USD), n.balance(&bob, WETH));
    let remove = n.mirror.remove_liquidity_tx(&bob, AccountId(pool), shares, q.amount_a, q.amount_b, 0);
    n.submit(remove).await;
    assert_eq!((n.balance(&bob, USD) - usd, n.balance(&bob, WETH) - weth), (q.amount_a, q.amount_b));
    assert_eq!(n.balance(&bob, 56), 0);
    n.api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_price_the_network_fee_and_refuse_in_words() {
    let (n, _alice, _bob, pool) = PoolNode::with_pool().await;
    let swap = |token: u16, exact_out: bool, amount: u128| json!([{ "pool": pool, "tokenIn": token, "exactOut": exact_out, "amount": amount.to_string() }]);

    // The network fee is zklink_estimateFee's for a Swap in the input token; the node takes fees
    // in USD only once it charges, so a WETH-in quote is a fee refusal.
    n.node.keeper().set_fee_policy(FeePolicy { usd_per_chunk: E18 / 1000 });
    let q: SwapQuoteView = n.call("zklink_quoteSwap", swap(USD, false, E18)).await;
    let estimate: Value = n.call("zklink_estimateFee", json!(["Swap", USD])).await;
    assert_eq!(estimate["fee"], json!(q.network_fee.to_string()));
    assert_eq!(q.network_fee, 2 * E18 / 1000, "a Swap is 2 chunks");
    let (code, message) = n.refused("zklink_quoteSwap", swap(WETH, false, E18 / 10)).await;
    assert_eq!(code, codes::FEE);
    assert_eq!(
        message,
        "fees are paid in USD (token 1) on this node, not in WETH (token 32): a Swap pays its network fee in its input token"
    );
    n.node.keeper().set_fee_policy(FeePolicy::default());

    // Not a pool, a token not in it: invalid params naming what is expected.
    let (code, message) = n.refused("zklink_pool", json!([2])).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    assert_eq!(
        message,
        format!("expected a pool's account id: account 2 is not a pool; the pools are {pool} (USD/WETH)")
    );
    let (code, message) = n.refused("zklink_quoteSwap", json!([{ "pool": 99, "tokenIn": USD, "amount": "1" }])).await;
    assert!(code == codes::INVALID_PARAMS && message.contains("account 99 is not a pool"), "{message}");
    let (code, message) = n.refused("zklink_quoteSwap", swap(USDC, false, E18)).await;
    assert_eq!(code, codes::INVALID_PARAMS);
    assert_eq!(
        message,
        format!("expected one of pool {pool}'s tokens, USD (token 1) or WETH (token 32): not USDC (token 17)")
    );

    // Amounts the pool cannot serve: the executor's reason with the pool's holdings.
    let holds = format!("pool {pool} (USD/WETH) holds 3000 USD and 1 WETH, 54.772255750516611345 shares");
    let (code, message) = n.refused("zklink_quoteSwap", swap(USD, true, E18)).await;
    assert_eq!(code, codes::TX_REJECTED);
    assert_eq!(
        message,
        format!("rejected: swap refused: the pool holds 1000000000000000000 of the output token, 1000000000000000000 asked ({holds})")
    );
    let (code, message) = n.refused("zklink_quoteSwap", swap(USD, false, 0)).await;
    assert!(code == codes::TX_REJECTED && message.contains("zero"), "{message}");
    let (code, message) = n.refused("zklink_quoteSwap", swap(USD, false, 1)).await;
    assert!(code == codes::TX_REJECTED && message.contains("buys nothing at these reserves"), "{message}");
    let (code, message) =
        n.refused("zklink_quoteRemove", json!([{ "pool": pool, "shares": (60 * E18).to_string() }])).await;
    assert!(
        code == codes::TX_REJECTED && message.contains("minus the 1000 locked") && message.contains(&holds),
        "{message}"
    );
    let (code, message) = n.refused("zklink_quoteLiquidity", json!([{ "pool": pool, "maxA": "1", "maxB": "1" }])).await;
    assert!(code == codes::TX_REJECTED && message.contains("buy no share"), "{message}");

    // Malformed params: what the method takes.
    for (method, params) in [
        ("zklink_quoteSwap", json!([{ "pool": pool, "tokenIn": USD, "amount": 5 }])),
        ("zklink_quoteSwap", json!([{ "pool": pool, "tokenIn": USD, "amount": "5", "slippage": 1 }])),
        ("zklink_quoteLiquidity", json!([{ "pool": pool, "maxA": "1" }])),
        ("zklink_quoteRemove", json!([pool, "1"])),
        ("zklink_pool", json!(["six"])),
    ] {
        let (code, message) = n.refused(method, params).await;
        assert_eq!(code, codes::INVALID_PARAMS, "{method}: {message}");
        assert!(message.starts_with("expected ["), "{method}: {message}");
    }
    n.api.stop().await;
}
