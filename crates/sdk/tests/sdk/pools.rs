//! AMM pools through the SDK against a real node and its API on 127.0.0.1 (no L1): a wallet
//! creates a pool (tokens in any order), finds it by its pair, deposits into it; another swaps
//! exact in with no tolerance (it receives exactly the quote, the signed limit is the quote) and
//! exact out with 0.5 % (it pays exactly the quote, the limit is the quote plus 0.5 % rounded up),
//! within the default window; a removal pays exactly its quote; pools named by an unknown id or
//! pair, or a pair two pools trade, are refused naming the pools, and a swap on an account that is
//! not a pool keeps the node's code.

use zklink_executor::testkit::TestUser;
use zklink_node::node::unix_now;
use zklink_sdk::pools::{max_with_slippage, min_with_slippage};
use zklink_sdk::{AddLiquidityRequest, NewPool, RemoveLiquidityRequest, SdkError, SwapRequest, Wallet};
use zklink_types::test_utils::{typed, E18, USD, USDC, WETH};
use zklink_types::{SubAccountId, TokenId};

use crate::node::Node;

impl Node {
    /// A wallet of `u` with its L2 key set.
    async fn keyed_wallet(&self, u: &TestUser) -> Wallet {
        let secret: [u8; 32] = u.l1.to_bytes().into();
        let w = Wallet::connect(&self.url, &secret).await.unwrap();
        w.change_pubkey(zklink_types::ChainId(1), typed::USD, 0).await.unwrap();
        w
    }

    fn balance(&self, w: &Wallet, token: u16) -> u128 {
        let k = self.node.keeper();
        let id = k.state().account_id_by_address(&w.address()).unwrap();
        k.state().balance(id, SubAccountId(0), TokenId(token))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_create_fund_swap_and_leave_a_pool() {
    let (mut node, api) = Node::start().await;
    let (alice, bob) = (node.deposit(0, USDC, USD, 10_000 * E18), node.deposit(1, USDC, USD, 5_000 * E18));
    node.deposit(0, WETH, WETH, 10 * E18);
    node.deposit(1, WETH, WETH, 5 * E18);
    let (a, b) = (node.keyed_wallet(&alice).await, node.keyed_wallet(&bob).await);
    assert!(a.pools().await.unwrap().is_empty());

    // Created with the tokens in either order; found by its pair either way, or by its id.
    a.create_pool(&NewPool { protocol_share: 20, ..NewPool::constant_product(typed::WETH, typed::USD, 30) })
        .await
        .unwrap();
    let pool = a.find_pool("WETH/USD").await.unwrap();
    assert_eq!((pool.token_a, pool.token_b, pool.fee_bps, pool.protocol_share), (USD, WETH, 30, 20));
    assert_eq!(a.find_pool("usd/weth").await.unwrap(), pool);
    assert_eq!(a.find_pool(&pool.pool.to_string()).await.unwrap(), pool);
    assert_eq!(b.pool(pool.pool).await.unwrap(), pool);

    // Alice's first deposit: the quoted shares exactly (the default tolerance only bounds them).
    let added = a.add_liquidity(&AddLiquidityRequest::new(pool.pool, 3000 * E18, E18)).await.unwrap();
    assert_eq!(added.tx.min_shares, min_with_slippage(added.quote.shares, 50));
    assert_eq!(node.balance(&a, pool.lp_token), added.quote.shares);
    let now = unix_now() as u32;
    assert!((now + 290..=now + 301).contains(&added.tx.valid_until), "5 minutes from now: {}", added.tx.valid_until);

    // Bob swaps 100 USD in with no tolerance: the signed limit is the quoted output, received
    // exactly.
    let (usd, weth) = (node.balance(&b, USD), node.balance(&b, WETH));
    let quote = b.quote_swap(pool.pool, typed::USD, false, 100 * E18).await.unwrap();
    let swapped = b.swap(&SwapRequest::exact_in(pool.pool, typed::USD, 100 * E18).slippage_bps(0)).await.unwrap();
    assert_eq!(swapped.quote, quote, "nothing moved the pool in between");
    assert_eq!((swapped.tx.limit, swapped.tx.fee, swapped.tx.exact_out), (quote.amount_out, 0, false));
    assert_eq!(node.balance(&b, WETH) - weth, quote.amount_out);
    assert_eq!(usd - node.balance(&b, USD), 100 * E18);
    let status = b.tx_status(swapped.tx_hash).await.unwrap().unwrap();
    assert_eq!(status.stage, zklink_types::api::Stage::Pending);

    // Exact out at the default 0.5 %: the limit is the quoted input plus 0.5 % rounded up; it pays
    // exactly the quoted input.
    let usd = node.balance(&b, USD);
    let swapped = b.swap(&SwapRequest::exact_out(pool.pool, typed::USD, E18 / 10)).await.unwrap();
    assert_eq!(swapped.tx.limit, max_with_slippage(swapped.quote.amount_in, 50));
    assert!(swapped.tx.limit > swapped.quote.amount_in);
    assert_eq!(usd - node.balance(&b, USD), swapped.quote.amount_in);
    assert_eq!(node.balance(&b, WETH) - weth, quote.amount_out + E18 / 10);

    // Alice takes half her shares back: exactly the quote.
    let (usd, weth) = (node.balance(&a, USD), node.balance(&a, WETH));
    let shares = added.quote.shares / 2;
    let removed = a.remove_liquidity(&RemoveLiquidityRequest::new(pool.pool, shares)).await.unwrap();
    assert_eq!(
        (node.balance(&a, USD) - usd, node.balance(&a, WETH) - weth),
        (removed.quote.amount_a, removed.quote.amount_b)
    );
    assert_eq!(node.balance(&a, pool.lp_token), added.quote.shares - shares);

    // Unknown pools and pairs name the pools; a second WETH/USD pool makes the pair ambiguous.
    let e = a.find_pool("USDC/USDT").await.unwrap_err();
    assert!(matches!(&e, SdkError::UnknownPool { .. }), "{e}");
    assert!(e.to_string().contains(&format!("the pools are {} (USD/WETH)", pool.pool)), "{e}");
    assert!(matches!(a.find_pool("99").await.unwrap_err(), SdkError::UnknownPool { .. }));
    a.create_pool(&NewPool::constant_product(typed::USD, typed::WETH, 5)).await.unwrap();
    let e = a.find_pool("WETH/USD").await.unwrap_err();
    assert!(matches!(&e, SdkError::AmbiguousPool { .. }), "{e}");
    assert!(e.to_string().contains(&format!("{} (30 bps), {} (5 bps)", pool.pool, pool.pool + 1)), "{e}");
    let e = b.swap(&SwapRequest::exact_in(2, typed::USD, E18)).await.unwrap_err();
    assert!(
        matches!(&e, SdkError::Node { code: -32602, message } if message.contains("account 2 is not a pool")),
        "{e}"
    );
    api.stop().await;
}
