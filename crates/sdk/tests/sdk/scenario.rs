//! The devnet scenario end to end: three anvil chains, the node with real proofs, and wallets
//! talking to its API.
//!
//! * USDC deposited on chain 1 and USDT on chain 2 become one USD balance.
//! * Two users' limit orders are matched with a partial fill.
//! * A USD withdrawal paid as USDT on chain 3 is rejected while chain 3 holds no USDT. It is
//!   accepted once another user deposits USDT there.
//! * A fast withdrawal is paid early by an acceptor, who is repaid at execution.
//! * Every block is committed, proven, synced and executed on all three chains.
//!
//! Also a single wallet's round trip: deposit, key, transfer, a typed overdraft rejection,
//! withdrawal and a full exit requested on L1, both claimable on chain 1.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::sync::Arc;
use std::time::Duration;
use zklink_prover::Prover;

use crate::support::*;
use alloy::primitives::{B256, U256};
use zklink_contracts::zklink::TestToken;
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_l1::{TestChains, WithdrawalKey};
use zklink_node::{Node, NodeConfig};
use zklink_sdk::{SdkError, Wallet};
use zklink_types::api::Stage;
use zklink_types::test_utils::typed::{USD, USDC, USDT, WETH};
use zklink_types::test_utils::E18;
use zklink_types::{Address, ChainId, Network, TokenId};

/// Mints `amount` (L1 units) of `token` on chain `id` to `w` and deposits it (as USD if `usd`).
async fn deposit(chains: &TestChains, id: u8, w: &Wallet, token: TokenId, amount: u128, usd: bool) {
    let chain = chains.chain(id);
    let t = TestToken::new(chain.token(token.0).unwrap(), chain.client.provider().clone());
    t.mint(w.address(), U256::from(amount)).send().await.unwrap().get_receipt().await.unwrap();
    w.deposit(ChainId(id), chain.anvil.endpoint_url(), token, amount, usd).await.unwrap();
}

async fn usd(w: &Wallet, token: TokenId) -> u128 {
    w.account().await.unwrap().map_or(0, |a| a.balance(0, token.0))
}

const DEADLINE: Duration = Duration::from_secs(300);

/// Three anvil chains with everything deployed, the node (not yet running) with the cached dev
/// key, and its API on loopback; `None` (skip) without anvil.
struct Devnet {
    chains: TestChains,
    node: Node,
    api: zklink_api::Api,
    _dir: tempfile::TempDir,
}

async fn devnet() -> Option<Devnet> {
    if !have_anvil() {
        return None;
    }
    let network = Network::dev(3);
    let pk = Arc::new(Prover::new(block_key(&network)));
    let chains = start(network, TestKeys { block: Some((*pk).clone()), exit: None }, 1_000, None).await;
    let dir = tempfile::tempdir().unwrap();
    let keys = vec![(4, pk)];
    let config = NodeConfig::for_test_chains(
        &chains,
        dir.path().to_path_buf(),
        TEST_FEE_OWNER,
        oracles(),
        keys,
        Duration::from_millis(300),
    );
    let node = Node::open(config.unwrap()).unwrap();
    let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.handle(), chains.network.clone()).await.unwrap();
    Some(Devnet { chains, node, api, _dir: dir })
}

#[tokio::test(flavor = "current_thread")]
async fn a_wallet_deposits_transfers_withdraws_and_exits() {
    let Some(Devnet { chains, node, api, _dir }) = devnet().await else { return };
    let url = format!("http://{}", api.addr);
    let c1 = chains.chain(1);
    let key: B256 = c1.anvil.keys()[1];
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let scenario = async {
        let w = Wallet::connect(&url, &key.0).await.unwrap();
        assert_eq!(Some(w.address()), c1.anvil.address(1));
        let usdc = TestToken::new(c1.token(USDC.0).unwrap(), c1.client.provider().clone());
        usdc.mint(w.address(), U256::from(100_000_000u64)).send().await.unwrap().get_receipt().await.unwrap();
        let l1 = c1.anvil.endpoint_url();
        w.deposit(ChainId(1), l1.clone(), USDC, 100_000_000, true).await.unwrap();
        wait_for("the deposit", DEADLINE, async || {
            w.account().await.unwrap().is_some_and(|a| a.balance(0, USD.0) == 100 * E18)
        })
        .await;

        w.change_pubkey(ChainId(1), USD, 0).await.unwrap();
        let friend = Address::repeat_byte(0xf1);
        w.transfer(friend, USD, 10 * E18, 0).await.unwrap();
        let overdraft = w.transfer(friend, USD, 1_000 * E18, 0).await.unwrap_err();
        assert!(matches!(overdraft, SdkError::Node { code: zklink_api::codes::TX_REJECTED, .. }), "{overdraft}");
        w.withdraw(ChainId(1), USD, USDC, 5 * E18, 0, 0).await.unwrap();
        let account = w.account().await.unwrap().unwrap();
        assert_eq!(account.balance(0, USD.0), 85 * E18);
        assert!(account.has_key());

        // The full exit is an L1 request: the node must take it from chain 1's queue.
        w.request_full_exit(ChainId(1), l1, USDC, USD).await.unwrap();
        wait_for("withdrawal and exit claimable", DEADLINE, async || {
            c1.client.pending_balance(w.address(), USDC.0).await.unwrap() == 90_000_000
        })
        .await;
        assert_eq!(w.account().await.unwrap().unwrap().balance(0, USD.0), 0, "the exit took the whole balance");
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );
    api.stop().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_devnet_scenario_runs_end_to_end() {
    let Some(Devnet { chains, node, api, _dir }) = devnet().await else { return };
    let url = format!("http://{}", api.addr);
    let (c1, c3) = (chains.chain(1), chains.chain(3));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let scenario = async {
        let key = |i: usize| c1.anvil.keys()[i].0;
        let (alice, bob, carol) = (
            Wallet::connect(&url, &key(1)).await.unwrap(),
            Wallet::connect(&url, &key(2)).await.unwrap(),
            Wallet::connect(&url, &key(3)).await.unwrap(),
        );

        // One USD balance from USDC on chain 1 and USDT on chain 2.
        deposit(&chains, 1, &alice, USDC, 600_000_000, true).await;
        deposit(&chains, 2, &alice, USDT, 400 * E18, true).await;
        deposit(&chains, 2, &bob, WETH, 10 * E18, false).await;
        wait_for("the deposits", DEADLINE, async || {
            usd(&alice, USD).await == 1_000 * E18 && usd(&bob, WETH).await == 10 * E18
        })
        .await;
        alice.change_pubkey(ChainId(1), USD, 0).await.unwrap();
        bob.change_pubkey(ChainId(2), USD, 0).await.unwrap();

        // Bob sells 2 WETH at 100 USD; alice buys 1: bob's order is partly filled.
        let price = 100 * E18;
        let ask = bob.sign_order(0, 0, WETH, USD, 2 * E18, price, true, (10, 20)).await.unwrap();
        let bid = alice.sign_order(0, 0, WETH, USD, E18, price, false, (10, 20)).await.unwrap();
        alice.match_orders(ask.clone(), bid, USD, 0).await.unwrap();
        assert_eq!(usd(&bob, WETH).await, 9 * E18);
        let slot = bob.account().await.unwrap().unwrap().orders;
        assert_eq!(
            (slot.len(), slot[0].residue.as_str()),
            (1, "1000000000000000000"),
            "half of bob's order rests: {slot:?}"
        );
        assert_eq!(usd(&bob, USD).await, 100 * E18 - 100 * E18 * 10 / 10_000, "less the 0.1 % maker fee");
        let alice_weth = usd(&alice, WETH).await;
        assert!(alice_weth > 99 * E18 / 100 && alice_weth <= E18, "{alice_weth}");
        // The rest of bob's order is still open in his slot: a second buyer can take it.
        let bid2 = alice.sign_order(1, 0, WETH, USD, E18, price, false, (10, 20)).await.unwrap();
        alice.match_orders(ask, bid2, USD, 0).await.unwrap();
        assert_eq!(usd(&bob, WETH).await, 8 * E18, "filled completely");

        // USD paid as USDT on chain 3: refused until chain 3 holds USDT.
        let early = alice.withdraw(ChainId(3), USD, USDT, 50 * E18, 0, 0).await.unwrap_err();
        assert!(matches!(early, SdkError::Node { code: zklink_api::codes::TX_REJECTED, .. }), "{early}");
        deposit(&chains, 3, &carol, USDT, 1_000 * E18, true).await;
        wait_for("carol's deposit", DEADLINE, async || usd(&carol, USD).await == 1_000 * E18).await;
        alice.withdraw(ChainId(3), USD, USDT, 50 * E18, 0, 0).await.unwrap();

        // A fast withdrawal of 20 USD as USDC on chain 1, paid at once by dev account 4.
        // The acceptor finds it among the pending withdrawals once it is sealed.
        let fast = alice.withdraw(ChainId(1), USD, USDC, 20 * E18, 0, 50).await.unwrap();
        c1.fund(4, USDC.0, 100_000_000).await.unwrap();
        let acceptor = c1.client_for(4).unwrap();
        let mut listed = Vec::new();
        wait_for("the fast withdrawal listed for acceptors", DEADLINE, async || {
            listed = alice.pending_withdrawals(ChainId(1)).await.unwrap();
            listed.iter().any(|p| p.fast_withdraw_fee_ratio == 50)
        })
        .await;
        let p = listed.iter().find(|p| p.fast_withdraw_fee_ratio == 50).unwrap();
        let w = WithdrawalKey {
            receiver: p.receiver,
            l1_token: p.l1_token,
            amount: p.amount.parse().unwrap(),
            fee_ratio: p.fast_withdraw_fee_ratio,
            account: p.account_id,
            sub: p.sub_account_id,
            nonce: p.nonce,
        };
        assert_eq!((w.receiver, w.amount), (alice.address(), 20 * E18));
        acceptor.accept_withdraw(&w, U256::ZERO).await.unwrap();
        let usdc = TestToken::new(c1.token(USDC.0).unwrap(), c1.client.provider().clone());
        assert_eq!(
            usdc.balanceOf(alice.address()).call().await.unwrap(),
            U256::from(19_900_000u64),
            "20 USDC less 0.5 %"
        );

        // Everything reaches execution on every chain.
        wait_for("execution of every block on every chain", DEADLINE, async || {
            let n = alice.block_number().await.unwrap();
            n.pending_chunks == 0 && executed_everywhere(&chains, n.sealed).await
        })
        .await;
        // Its status shows every chain's L1 transactions.
        let status = alice.wait_for_stage(fast, Stage::Executed, Duration::from_millis(200), DEADLINE).await.unwrap();
        assert_eq!(status.stage, Stage::Executed, "{status:?}");
        assert_eq!(status.chains.len(), 3);
        assert!(status.chains.iter().all(|c| c.commit_tx.is_some() && c.execute_tx.is_some()), "{status:?}");
        assert!(alice.pending_withdrawals(ChainId(1)).await.unwrap().is_empty(), "executed: none pending");
        // Everything executed: the executed view has caught up with the latest one.
        let latest = alice.account().await.unwrap().unwrap();
        wait_for("the executed state", DEADLINE, async || {
            alice.account_executed().await.unwrap().is_some_and(|a| a.balances == latest.balances)
        })
        .await;
        let acceptor_address = c1.anvil.address(4).unwrap();
        assert_eq!(c1.client.pending_balance(acceptor_address, USDC.0).await.unwrap(), 20_000_000, "repaid in full");
        assert_eq!(c3.client.pending_balance(alice.address(), USDT.0).await.unwrap(), 50 * E18);
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );
    api.stop().await;
}
