//! `zklink wallet` with AMM pools, against a node and its API in this process (no L1): the help
//! of `swap` and `pool` says what the slippage limit, the rounding and the validity window do;
//! `pool create` (tokens in any order) and `pool add` create and fund a USD/WETH pool, `pools`
//! lists it in whole tokens with its price and fee; `swap --dry-run` prints the quote, `swap` (by
//! pair, exact in with no tolerance, then by id exact out) pays and receives exactly the
//! executor's amounts; `balances` names the LP shares; `pool remove all` burns them; refusals say
//! what was wrong and what was expected.

use std::process::Command;

use zklink_sdk::format_units;
use zklink_types::pool::{swap_exact_in, swap_exact_out};
use zklink_types::test_utils::{E18, USD, USDC, WETH};
use zklink_types::{AccountId, SubAccountId, TokenId};

use crate::world::World;

/// `zklink wallet <args>` with `key` against `api`: success, stdout, stderr.
fn wallet(api: &str, key: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zklink"))
        .args(["wallet", "--api", api, "--key", key])
        .args(args)
        .env_remove("ZKLINK_KEY")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run zklink wallet");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    println!("$ zklink wallet {}\n{stdout}{stderr}", args.join(" "));
    (out.status.success(), stdout, stderr)
}

#[test]
fn swap_and_pool_help_say_what_the_limits_and_the_window_do() {
    let key = format!("0x{}", "11".repeat(32));
    let (ok, help, _) = wallet("http://127.0.0.1:1", &key, &["swap", "--help"]);
    assert!(ok, "{help}");
    for needed in [
        "<POOL> <AMOUNT> <TOKEN>",
        "--exact-out",
        "--slippage <SLIPPAGE>",
        "[default: 0.5%]",
        "the node refuses it and nothing happens",
        "Every rounding favours the pool",
        "--valid-for <VALID_FOR>",
        "never executes",
        "--dry-run",
        "sells exactly 0.1 WETH for USD",
    ] {
        assert!(help.contains(needed), "`swap --help` should say {needed:?}:\n{help}");
    }
    let (ok, help, _) = wallet("http://127.0.0.1:1", &key, &["pool", "--help"]);
    assert!(ok && help.contains("create") && help.contains("add") && help.contains("remove"), "{help}");
    let (ok, help, _) = wallet("http://127.0.0.1:1", &key, &["pool", "create", "--help"]);
    assert!(ok && help.contains("Stable pools are not supported yet") && help.contains("--fee-bps"), "{help}");
    let (ok, help, _) = wallet("http://127.0.0.1:1", &key, &["pool", "remove", "--help"]);
    assert!(ok && help.contains("`all`") && help.contains("rounded down"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_from_the_wallet() {
    let (mut w, api) = World::new().await;
    let alice = w.fund(0, USDC, USD, 10_000 * E18, true);
    w.fund(0, WETH, WETH, 10 * E18, false);
    let bob = w.fund(1, USDC, USD, 5_000 * E18, true);
    let hex_key =
        |u: &zklink_executor::testkit::TestUser| format!("0x{}", hex::encode(<[u8; 32]>::from(u.l1.to_bytes())));
    let (alice_key, bob_key) = (hex_key(&alice), hex_key(&bob));
    let url = w.node_url.clone();
    let run = |key: &str, args: &[&str]| {
        let (url, key) = (url.clone(), key.to_string());
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            wallet(&url, &key, &args)
        })
    };

    let (ok, out, err) = run(&alice_key, &["pools"]).await.unwrap();
    assert!(ok && out.contains("no pools yet"), "{out}{err}");

    // Created with the tokens in either order, then funded: 3000 USD and 1 WETH.
    let (ok, out, err) = run(&alice_key, &["pool", "create", "WETH", "USD", "--protocol-share", "20"]).await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(
            "created pool 4 (USD/WETH, constant product, fee 0.30 % (20 % of it to the protocol), LP token 57344)"
        ) && out.contains("it is empty"),
        "{out}"
    );
    let pool = AccountId(4);
    let (params, _) = w.node.keeper().state().pool(pool).expect("pool 4");
    let (ok, out, err) =
        run(&alice_key, &["pool", "add", "WETH/USD", "--max-a", "3000", "--max-b", "1"]).await.unwrap();
    assert!(ok, "{out}{err}");
    let shares = 54_772_255_750_516_611_345u128 - 1000; // ⌊√(3000 · 1)⌋ in units, less the locked 1000
    assert!(
        out.contains(&format!(
            "deposited 3000 USD and 1 WETH into pool 4 (USD/WETH, fee 0.30 %) for {} LP shares",
            format_units(shares, 18)
        )),
        "{out}"
    );
    assert_eq!(w.balance(&alice, params.lp_token.0), shares);
    let (ok, out, err) = run(&bob_key, &["pools"]).await.unwrap();
    assert!(ok, "{out}{err}");
    for needed in [
        "USD/WETH",
        "3000 USD + 1 WETH",
        "1 WETH = 3000 USD, 1 USD = 0.000333333 WETH",
        "0.30 % (20 % of it to the protocol)",
    ] {
        assert!(out.contains(needed), "`pools` should show {needed:?}:\n{out}");
    }

    // A dry run signs nothing; the swap pays exactly 100 USD and receives exactly the curve's
    // output at 0 tolerance.
    let expected = swap_exact_in(&params, 3000 * E18, E18, 100 * E18).unwrap();
    let out_weth = format_units(expected.amount_out, 18);
    let (ok, out, err) = run(&bob_key, &["swap", "WETH/USD", "100", "USD", "--dry-run"]).await.unwrap();
    assert!(ok && out.contains(&format!("quote: 100 USD for {out_weth} WETH in pool 4")), "{out}{err}");
    assert!(
        out.contains("nothing signed")
            && out.contains("price 1 WETH = 3109.0")
            && out.contains("(spot 3000), impact 3.51 %"),
        "{out}"
    );
    assert_eq!(w.balance(&bob, WETH), 0, "nothing signed");
    let (ok, out, err) = run(&bob_key, &["swap", "WETH/USD", "100", "USD", "--slippage", "0"]).await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("swapped 100 USD for {out_weth} WETH in pool 4 (USD/WETH, fee 0.30 %): tx 0x")),
        "{out}"
    );
    assert!(out.contains(&format!("signed to receive at least {out_weth} WETH (0.00 % slippage tolerance)")), "{out}");
    assert!(out.contains("swap fee 0.3 USD (0.24 USD to the liquidity providers, 0.06 USD to the protocol)"), "{out}");
    assert_eq!(w.balance(&bob, WETH), expected.amount_out);
    assert_eq!(w.balance(&bob, USD), 4_900 * E18);

    // Exact out, by id: exactly 0.01 WETH for the curve's input, at most 0.5 % more signed.
    let (_, r) = w.node.keeper().state().pool(pool).unwrap();
    let expected = swap_exact_out(&params, r.a, r.b, E18 / 100).unwrap();
    let (ok, out, err) = run(&bob_key, &["swap", "4", "0.01", "WETH", "--exact-out"]).await.unwrap();
    assert!(ok && out.contains("signed to pay at most") && out.contains("(0.50 % slippage tolerance)"), "{out}{err}");
    assert_eq!(4_900 * E18 - w.balance(&bob, USD), expected.amount_in);

    // Refusals in words.
    let (ok, _, err) = run(&bob_key, &["swap", "WETH/USD", "1", "USDC"]).await.unwrap();
    assert!(
        !ok && err.contains("USDC is not one of pool 4 (USD/WETH, fee 0.30 %)'s tokens: name USD or WETH"),
        "{err}"
    );
    let (ok, _, err) = run(&bob_key, &["swap", "USDC/USDT", "1", "USDC"]).await.unwrap();
    assert!(!ok && err.contains("\"USDC/USDT\" is no pool") && err.contains("the pools are 4 (USD/WETH)"), "{err}");
    let (ok, _, err) = run(&bob_key, &["swap", "4", "1", "USD", "--slippage", "0.005%"]).await.unwrap();
    assert!(!ok && err.contains("is not a slippage tolerance"), "{err}");
    let (ok, _, err) = run(&bob_key, &["swap", "4", "2", "WETH", "--exact-out"]).await.unwrap();
    assert!(
        !ok && err.contains("the node refused: rejected: swap refused") && err.contains("pool 4 (USD/WETH) holds"),
        "{err}"
    );
    let (ok, _, err) = run(&bob_key, &["pool", "remove", "4", "all"]).await.unwrap();
    assert!(!ok && err.contains("holds no shares of pool 4 (USD/WETH, fee 0.30 %)"), "{err}");

    // Alice's shares are named as such, and she takes them all back.
    let (ok, out, err) = run(&alice_key, &["balances"]).await.unwrap();
    assert!(ok && out.contains(&format!("{} LP shares of pool 4 (USD/WETH)", format_units(shares, 18))), "{out}{err}");
    let (ok, out, err) = run(&alice_key, &["pool", "remove", "WETH/USD", "all", "--valid-for", "1m"]).await.unwrap();
    assert!(ok && out.contains(&format!("burnt {} LP shares of pool 4", format_units(shares, 18))), "{out}{err}");
    assert_eq!(w.balance(&alice, params.lp_token.0), 0);
    let (_, r) = w.node.keeper().state().pool(pool).unwrap();
    assert_eq!(r.supply, 1000, "only the locked shares are left");
    assert_eq!(w.node.keeper().state().balance(pool, SubAccountId(0), TokenId(params.lp_token.0)), 1000);
    api.stop().await;
}
