//! The devnet's AMM pools, on a fresh `zklink devnet` (no exchange, 4-chunk blocks):
//!
//! * dev account 6 creates and seeds a WETH/USD pool (0.30 %, 300,000 USD + 100 WETH) and a
//!   USDC/USDT pool (0.05 %, constant product, 100,000 of each) and the devnet prints them, with the
//!   note that stable pools come later and dev account 6's role beside its key;
//! * a user deposits WETH, activates and sells WETH with `zklink wallet swap` at exactly the quote;
//! * stopped with Ctrl-C and started again, the devnet finds both pools through the API, says so,
//!   and creates none: the same ids, the swap's WETH still in the pool.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::process::Command;

use crate::devnet_process::*;
use crate::support::*;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

const USD: TokenId = TokenId(1);
const WETH: TokenId = TokenId(32);

/// `zklink wallet <args>` as the dev account against `api`, which must succeed; its stdout.
fn wallet(api: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_zklink"))
        .arg("wallet")
        .args(args)
        .env("ZKLINK_KEY", USER_KEY)
        .env("ZKLINK_API", api)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run zklink wallet");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("$ zklink wallet {}\n{stdout}{stderr}", args.join(" "));
    assert!(out.status.success(), "zklink wallet {args:?} failed:\n{stdout}{stderr}");
    stdout.into_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn the_devnet_seeds_its_pools_once() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    block_key(&Network::dev(3)); // made and cached before the devnet loads it
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::pick();
    let api = ports.api();
    let args = ["--block-sizes", "4", "--no-exchange"];

    // A fresh devnet creates and seeds its pools.
    let mut devnet = DevnetProcess::start(dir.path(), ports, &args);
    let w = connect(&mut devnet, &api).await;
    wait_for("the devnet's pools", DEADLINE, async || devnet.log_text().contains("AMM pools      dev account 6")).await;
    let log = devnet.log_text();
    assert!(log.contains("AMM pools      dev account 6's, created and seeded now:"), "{log}");
    assert!(log.contains("USD/WETH  constant product, fee 0.30 %: 300000 USD + 100 WETH, 1 WETH = 3000 USD"), "{log}");
    assert!(log.contains("USDC/USDT  constant product, fee 0.05 %: 100000 USDC + 100000 USDT"), "{log}");
    assert!(log.contains("stable pools come once their circuit lands"), "{log}");
    assert!(log.contains("(seeds the AMM pools)"), "{log}");
    let pools = w.pools().await.unwrap();
    assert_eq!(pools.len(), 2, "{pools:?}");
    let listed = wallet(&api, &["pools"]);
    assert!(listed.contains("USD/WETH") && listed.contains("USDC/USDT"), "{listed}");

    // A user sells 0.5 WETH at exactly the quote.
    w.deposit(ChainId(2), None, WETH, E18, false).await.unwrap();
    wait_for("the deposit", DEADLINE, async || w.account().await.unwrap().is_some_and(|a| a.balance(0, WETH.0) == E18))
        .await;
    w.change_pubkey(ChainId(1), USD, 0).await.unwrap();
    let weth_pool = w.find_pool("WETH/USD").await.unwrap();
    let quote = w.quote_swap(weth_pool.pool, WETH, false, E18 / 2).await.unwrap();
    let out = wallet(&api, &["swap", "WETH/USD", "0.5", "WETH", "--slippage", "0"]);
    let got = zklink_sdk::format_units(quote.amount_out, 18);
    assert!(out.contains(&format!("swapped 0.5 WETH for {got} USD in pool {}", weth_pool.pool)), "{out}");
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.balance(0, WETH.0), account.balance(0, USD.0)), (E18 / 2, quote.amount_out));
    devnet.interrupt();

    // Started again: found through the API, none created.
    let mut devnet = DevnetProcess::start(dir.path(), ports, &args);
    let w = connect(&mut devnet, &api).await;
    wait_for("the resumed devnet's pools", DEADLINE, async || {
        devnet.log_text().contains("AMM pools      dev account 6")
    })
    .await;
    let log = devnet.log_text();
    assert!(log.contains("resumed from"), "{log}");
    assert!(log.contains("AMM pools      dev account 6's, found in the node's state, not created again:"), "{log}");
    let again = w.pools().await.unwrap();
    assert_eq!(again.iter().map(|p| p.pool).collect::<Vec<_>>(), pools.iter().map(|p| p.pool).collect::<Vec<_>>());
    let weth_now = again.iter().find(|p| p.pool == weth_pool.pool).unwrap();
    assert_eq!(weth_now.reserve_b, weth_pool.reserve_b + E18 / 2, "the swap's WETH is in the pool");
    devnet.interrupt();
}
