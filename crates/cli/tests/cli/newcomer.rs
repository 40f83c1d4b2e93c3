//! What a newcomer meets first, driven through the `zklink` binary (`wallet` subcommands with
//! `ZKLINK_KEY` and `ZKLINK_API`) on one fresh `zklink devnet` with real proofs:
//!
//! * the printed dev account holds every test token on every chain, and deposits on each of the 3
//!   chains by chain id only (no `--l1`: the API publishes the anvils' endpoints);
//! * a deposit with `--l1` naming another chain's endpoint is refused with both EVM chain ids and
//!   nothing is deposited; `--usd` of a non-stablecoin, an unpackable amount and minting the
//!   native coin are refused in words, in whole tokens with symbols;
//! * activate, transfer, withdraw USD without `--as` (paid in the stablecoin the chain holds
//!   enough of), wait until it is claimable, `wallet claim`, and the L1 balance went up.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::process::Command;
use std::time::Instant;

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
    let rpc = free_port();
    let api = format!("http://127.0.0.1:{rpc}");
    let mut devnet = DevnetProcess::start(dir.path(), rpc, &["--block-sizes", "4"]);
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

    // USD to chain 2 without --as: chain 2 holds USDT only, so it is paid in USDT.
    let too_much = refused(api, &["withdraw", "--chain", "2", "--token", "USD", "--amount", "60"]);
    assert!(
        too_much.contains("chain 2 cannot pay 60 USD in any stablecoin: USDC holds 0, USDT holds 50"),
        "{too_much}"
    );
    let out = ok(api, &["withdraw", "--chain", "2", "--token", "USD", "--amount", "30"]);
    assert!(out.contains("withdrawal of 30 USD to chain 2, paid as USDT"), "{out}");
    assert!(out.contains("zklink wallet claim --chain 2"), "{out}");
    let usdt_before = l1_balances(&w, USDT).await[1];
    let since_withdraw = Instant::now();
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

    // ---- Extension point: `wallet status --wait` and a sealed-tx resubmission (−32002) go
    // ---- here, on the same devnet.

    println!("newcomer journey took {:?}", started.elapsed());
    devnet.interrupt();
}
