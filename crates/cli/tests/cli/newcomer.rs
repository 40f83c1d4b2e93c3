//! What a newcomer meets first, driven through the `zklink` binary (`wallet` subcommands with
//! `ZKLINK_KEY` and `ZKLINK_API`) on one fresh `zklink devnet` with real proofs:
//!
//! * the printed dev account holds every test token on every chain, and deposits on each of the 3
//!   chains by chain id only (no `--l1`: the API publishes the anvils' endpoints);
//! * a deposit with `--l1` naming another chain's endpoint is refused with both EVM chain ids and
//!   nothing is deposited; `--usd` of a non-stablecoin, an unpackable amount and minting the
//!   native coin are refused in words, in whole tokens with symbols;
//! * activate, transfer, withdraw USD without `--as` (paid in the stablecoin the chain holds
//!   enough of), `status --wait` follows it to execution (the API's stage names), `wallet claim`,
//!   and the L1 balance went up;
//! * `status --wait` follows a deposit by its L1 transaction hash;
//! * a tx resubmitted after its block was sealed is answered −32002 (already accepted);
//! * the devnet's exchange shows a live book (its market maker's quotes); the newcomer buys and
//!   sells WETH against it (`wallet buy` / `sell`, slot and nonce chosen for it) and both fills
//!   are executed on every chain (the account's executed view).
//!
//! The devnet runs without its AMM pools (`--no-pools`): seeding them adds about a minute of 4-chunk
//! proofs before the withdrawal's block; `devnet_pools` drives them.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::devnet_process::*;
use crate::support::*;
use zklink_sdk::Wallet;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

const USD: TokenId = TokenId(1);
const USDC: TokenId = TokenId(17);
const USDT: TokenId = TokenId(18);
const WETH: TokenId = TokenId(32);

/// What one `zklink wallet …` run printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `zklink wallet <args>` as the dev account against the devnet's API.
fn wallet(api: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_zklink"))
        .arg("wallet")
        .args(args)
        .env("ZKLINK_KEY", USER_KEY)
        .env("ZKLINK_API", api)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run zklink wallet");
    let run = Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    println!("$ zklink wallet {}\n{}{}", args.join(" "), run.stdout, run.stderr);
    run
}

/// `zklink wallet <args>`, which must succeed; its output.
fn ok(api: &str, args: &[&str]) -> String {
    let run = wallet(api, args);
    assert!(run.ok, "zklink wallet {args:?} failed:\n{}{}", run.stdout, run.stderr);
    run.stdout
}

/// `zklink wallet <args>`, which must fail; its error output.
fn refused(api: &str, args: &[&str]) -> String {
    let run = wallet(api, args);
    assert!(!run.ok, "zklink wallet {args:?} should have failed:\n{}", run.stdout);
    run.stderr
}

/// The first 0x-prefixed 32-byte hash in `text`.
fn first_hash(text: &str) -> String {
    let at = text.find("0x").unwrap_or_else(|| panic!("no hash in {text}"));
    let hash: String = text[at..].chars().take(66).collect();
    assert!(hash.len() == 66 && hash[2..].chars().all(|c| c.is_ascii_hexdigit()), "no hash in {text}");
    hash
}

/// The user's L1 balances (L1 units) of `token` on chains 1..=3.
async fn l1_balances(w: &Wallet, token: TokenId) -> Vec<u128> {
    let mut out = Vec::new();
    for chain in 1..=3 {
        let client = w.l1(ChainId(chain), None).await.unwrap();
        out.push(w.l1_balance(&client, ChainId(chain), token).await.unwrap());
    }
    out
}

async fn l2_balance(w: &Wallet, token: TokenId) -> u128 {
    w.account().await.unwrap().map_or(0, |a| a.balance(0, token.0))
}

#[tokio::test(flavor = "current_thread")]
async fn a_newcomer_deposits_by_chain_withdraws_usd_and_claims_it() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    block_key(&Network::dev(3)); // made and cached before the devnet loads it
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::pick();
    let api = ports.api();
    let mut devnet = DevnetProcess::start(dir.path(), ports, &["--block-sizes", "4", "--no-pools"]);
    let w = connect(&mut devnet, &api).await;
    println!("devnet up in {:?}", started.elapsed());
    let api = api.as_str();

    // The API publishes every chain's endpoint; the dev account holds every test token there.
    let endpoints = w.l1_endpoints().await.unwrap();
    assert_eq!(endpoints.iter().map(|e| e.chain).collect::<Vec<_>>(), vec![1, 2, 3], "{endpoints:?}");
    let usdc_before = l1_balances(&w, USDC).await;
    assert_eq!(usdc_before, vec![1_000_000 * 10u128.pow(6); 3], "1,000,000 USDC (6 decimals) on each chain");
    assert_eq!(l1_balances(&w, WETH).await, vec![1_000_000 * E18; 3]);
    assert!(ok(api, &["reserves"]).contains("chain 2  nothing"));

    // A deposit against another chain's endpoint is refused before anything is sent.
    let chain_1_url = endpoints[0].url.as_str();
    let err = refused(api, &["deposit", "--chain", "3", "--l1", chain_1_url, "--token", "USDC", "--amount", "7"]);
    assert!(
        err.contains(&format!("the L1 endpoint {chain_1_url}"))
            && err.contains("is EVM chain 31338, but zklink chain 3 is EVM chain 31340"),
        "{err}"
    );
    // Refusals in words, by symbol and in whole tokens.
    let err = refused(api, &["deposit", "--chain", "3", "--token", "WETH", "--amount", "1", "--usd"]);
    assert!(err.contains("WETH (token 32) is not a stablecoin"), "{err}");
    let err = refused(api, &["mint", "--chain", "1", "--token", "ETH", "--amount", "1"]);
    assert!(err.contains("ETH on chain 1 cannot be minted"), "{err}");
    let err = refused(api, &["deposit", "--chain", "1", "--token", "USDC", "--amount", "2000000"]);
    assert!(
        err.contains("your L1 balance of USDC on chain 1 is 1000000, the deposit needs 2000000 (`zklink wallet mint` on a devnet)"),
        "{err}"
    );
    assert!(
        ok(api, &["mint", "--chain", "1", "--token", "USDC", "--amount", "1000000"]).contains("minted 1000000 USDC")
    );

    // One deposit per chain, by chain id only.
    let out = ok(api, &["deposit", "--chain", "1", "--token", "USDC", "--amount", "100", "--usd"]);
    assert!(out.contains("deposited 100 USDC on chain 1 (L1 tx 0x"), "{out}");
    let deposit_l1_tx = first_hash(&out);
    ok(api, &["deposit", "--chain", "2", "--token", "USDT", "--amount", "50", "--usd"]);
    ok(api, &["deposit", "--chain", "3", "--token", "32", "--amount", "2"]);
    wait_for("the three deposits", DEADLINE, async || {
        l2_balance(&w, USD).await == 150 * E18 && l2_balance(&w, WETH).await == 2 * E18
    })
    .await;
    assert_eq!(
        l1_balances(&w, USDC).await,
        vec![2_000_000 * 10u128.pow(6) - 100 * 10u128.pow(6), 1_000_000 * 10u128.pow(6), 1_000_000 * 10u128.pow(6)],
        "the refused deposit took nothing from any chain"
    );
    let balances = ok(api, &["balances"]);
    assert!(balances.contains(" 150 USD") && balances.contains(" 2 WETH"), "{balances}");
    assert!(ok(api, &["reserves", "--chain", "2"]).contains("50 USDT (pays USD withdrawals)"));

    // Activate, transfer; an amount that cannot be packed gets the nearest packable ones.
    ok(api, &["activate"]);
    let friend = "0x00000000000000000000000000000000000000f1";
    let err = refused(api, &["transfer", "--to", friend, "--token", "USD", "--amount", "1.000000000001"]);
    assert!(err.contains("the nearest packable amounts are 1 USD and 1.0000000001 USD"), "{err}");
    assert!(ok(api, &["transfer", "--to", friend, "--token", "USD", "--amount", "10"]).contains("transferred 10 USD"));

    // Trading, before the withdrawal so that the fills' block is proven and executed while the
    // withdrawal's is: the devnet's venue has a live book from its market maker; two users trade.
    let ex = ports.exchange();
    let trade = |args: &[&str]| {
        let mut all = vec!["--exchange", ex.as_str()];
        all.extend_from_slice(args);
        ok(api, &all)
    };
    let venue = w.venue(&ex).unwrap();
    wait_for("the market maker's quotes", DEADLINE, async || {
        venue.book(2, Some(5)).await.is_ok_and(|b| !b.asks.is_empty() && !b.bids.is_empty())
    })
    .await;
    assert!(trade(&["markets"]).contains("WETH/USD"));
    let book = trade(&["book", "WETH/USD"]);
    assert!(book.contains("WETH/USD"), "{book}");
    let weth_before = l2_balance(&w, WETH).await;
    let bought = trade(&["buy", "WETH/USD", "0.01", "--price", "3100", "--type", "ioc"]);
    assert!(bought.contains("bought 0.01 WETH at "), "{bought}");
    let sold = trade(&["sell", "WETH/USD", "0.01", "--price", "2900", "--type", "ioc"]);
    assert!(sold.contains("sold 0.01 WETH at "), "{sold}");
    let orders = trade(&["orders", "--all"]);
    assert!(orders.matches("WETH/USD").count() >= 2, "{orders}");
    // USD to chain 2 without --as: chain 2 holds USDT only, so it is paid in USDT.
    let too_much = refused(api, &["withdraw", "--chain", "2", "--token", "USD", "--amount", "60"]);
    assert!(
        too_much.contains("chain 2 cannot pay 60 USD in any stablecoin: USDC holds 0, USDT holds 50"),
        "{too_much}"
    );
    let out = ok(api, &["withdraw", "--chain", "2", "--token", "USD", "--amount", "30"]);
    assert!(out.contains("withdrawal of 30 USD to chain 2, paid as USDT"), "{out}");
    assert!(out.contains("zklink wallet claim --chain 2"), "{out}");
    let withdrawal = first_hash(&out);
    let usdt_before = l1_balances(&w, USDT).await[1];
    let since_withdraw = Instant::now();
    // `status --wait` follows the withdrawal through the API's stages to execution everywhere.
    let followed = ok(api, &["status", &withdrawal, "--wait"]);
    assert!(followed.contains(" (block ") && followed.contains("reached executed after"), "{followed}");
    assert!(followed.contains("  chain 2  executed"), "the API's stage names, not Rust's: {followed}");
    wait_for("the withdrawal claimable on chain 2", DEADLINE, async || {
        !w.pending_balances(ChainId(2), None, Some(USDT)).await.unwrap().is_empty()
    })
    .await;
    println!("withdrawal claimable {:?} after it was submitted", since_withdraw.elapsed());
    let balances = ok(api, &["balances"]);
    assert!(balances.contains("chain 2  30 USDT"), "{balances}");
    let out = ok(api, &["claim"]);
    assert!(out.contains("claimed 30 USDT on chain 2 (L1 tx 0x"), "{out}");
    assert_eq!(l1_balances(&w, USDT).await[1], usdt_before + 30 * E18, "paid out on L1");
    assert!(ok(api, &["claim", "--chain", "2"]).contains("nothing to claim"));

    // The deposit's L1 transaction is followed like an L2 tx: its priority op's stage.
    let followed = ok(api, &["status", &deposit_l1_tx, "--wait", "committed", "--timeout", "60"]);
    assert!(followed.contains("reached committed"), "{followed}");
    assert!(refused(api, &["status", &deposit_l1_tx, "--wait", "done"]).contains("\"done\" is not a stage"));

    // A client retrying a tx after its block was sealed hears "already accepted" (−32002), as
    // before sealing, not a nonce error.
    let account = w.account().await.unwrap().unwrap();
    let retry = zklink_types::L2Tx::Transfer(zklink_types::Transfer {
        account_id: zklink_types::AccountId(account.id),
        from_sub_account_id: zklink_types::SubAccountId(0),
        to: friend.parse().unwrap(),
        to_sub_account_id: zklink_types::SubAccountId(0),
        token: USD,
        amount: E18,
        fee: w.estimate_fee("Transfer", USD).await.unwrap(),
        nonce: zklink_types::Nonce(account.nonce),
        signature: Default::default(),
    });
    let hash = w.submit(retry.clone()).await.unwrap();
    w.wait_for_stage(hash, zklink_types::api::Stage::Sealed, Duration::from_millis(200), DEADLINE).await.unwrap();
    match w.submit(retry).await {
        Err(zklink_sdk::SdkError::Node { code: -32002, .. }) => {}
        other => panic!("a sealed tx resubmitted: {other:?}"),
    }

    // Bought 0.01 less the 0.1 % taker fee, sold 0.01: both fills executed on every
    // chain (in a block before the withdrawal's, so by now).
    let weth_after = weth_before - E18 / 100_000;
    wait_for("both fills executed on every chain", DEADLINE, async || {
        w.account_executed().await.unwrap().is_some_and(|a| a.balance(0, WETH.0) == weth_after)
    })
    .await;
    assert_eq!(l2_balance(&w, WETH).await, weth_after);

    println!("newcomer journey took {:?}", started.elapsed());
    devnet.interrupt();
}
