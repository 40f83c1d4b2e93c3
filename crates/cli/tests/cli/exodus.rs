//! The recovery commands end to end, as a user runs them against a real `zklink devnet` whose
//! operator is gone:
//!
//! * traffic on the devnet (ETH deposited on chains 1 and 2, a key, a transfer), everything
//!   executed; the devnet is killed (its anvils keep running) and the node's data directory is
//!   deleted;
//! * `zklink restore` rebuilds the state from the chains alone: the same block and state root the
//!   node reported;
//! * `zklink wallet exodus` finds no request waiting anywhere and starts every chain's clock; once
//!   they expired, it switches every chain to exodus and exits the user's ETH from chains 1 and 2
//!   pro rata (3 : 2), and claims it; a third run pays nothing twice;
//! * `zklink exit-proof` writes the `performExodus` arguments of one claim.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::devnet_process::Ports;
use crate::support::*;
use alloy::primitives::{Address, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;
use zklink_sdk::Wallet;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

const ETH: TokenId = TokenId(zklink_l1::NATIVE_TOKEN_ID);
const DEADLINE: Duration = Duration::from_secs(240);
const EXPIRY: u64 = 30;
/// Anvil's dev account 1 (public: anvil prints it on every start).
const USER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn zklink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zklink"))
        .args(args)
        .env("RUST_LOG", "warn,gr1cs=off")
        .stdin(Stdio::null())
        .output()
        .expect("run zklink")
}

/// Runs `zklink args…`, which must succeed; returns its stdout.
fn ok(args: &[&str]) -> String {
    let out = zklink(args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "zklink {args:?} failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

fn start_devnet(dir: &Path, ports: Ports) -> Child {
    let log = std::fs::File::create(dir.join("devnet.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_zklink"))
        .arg("devnet")
        .arg("--data-dir")
        .arg(dir.join("devnet"))
        .args(["--l1-port", &ports.l1.to_string(), "--block-sizes", "4", "--block-time-ms", "500"])
        .args(["--priority-expiration-blocks", &EXPIRY.to_string()])
        // Only this test's traffic on L2: its block counts and the restored state are exact.
        .args(["--no-exchange", "--no-pools"])
        .arg("--rpc")
        .arg(format!("127.0.0.1:{}", ports.rpc))
        .env("RUST_LOG", "info,gr1cs=off")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start zklink devnet")
}

/// The chains' JSON-RPC URLs, from the network file the devnet wrote.
fn chain_urls(network_file: &Path) -> Vec<Url> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(network_file).unwrap()).unwrap();
    json["chains"].as_array().unwrap().iter().map(|c| c["url"].as_str().unwrap().parse().unwrap()).collect()
}

async fn connect(url: &str, devnet: &mut Child, log: &Path) -> Wallet {
    let key = USER_KEY.parse::<alloy::primitives::B256>().unwrap().0;
    let start = Instant::now();
    loop {
        if let Ok(w) = Wallet::connect(url, &key).await {
            if w.account().await.is_ok() {
                return w;
            }
        }
        if let Some(status) = devnet.try_wait().unwrap() {
            panic!("zklink devnet exited with {status}:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        assert!(start.elapsed() < DEADLINE, "the devnet's API did not come up");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn mine(url: &Url, blocks: u64) {
    let provider = ProviderBuilder::new().connect_http(url.clone());
    let _: serde_json::Value = provider.raw_request("anvil_mine".into(), (U256::from(blocks),)).await.unwrap();
}

/// Stops the anvils the killed devnet left running: a new devnet on the directory stops them
/// cleanly first, then refuses to resume (the node's store is gone) and exits.
fn stop_leftovers(dir: &Path, ports: Ports) {
    let mut devnet = start_devnet(dir, ports);
    let start = Instant::now();
    while devnet.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = devnet.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn restore_exit_proof_and_exodus_from_the_command_line() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    block_key(&Network::dev(3));
    exit_key(&Network::dev(3));
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::pick();
    let url = ports.api();
    let log = dir.path().join("devnet.log");
    let network_file: PathBuf = dir.path().join("devnet/network.json");
    let network = network_file.to_str().unwrap().to_string();
    let state = dir.path().join("restored").to_str().unwrap().to_string();

    // Traffic, then the operator disappears with its data.
    let mut devnet = start_devnet(dir.path(), ports);
    let w = connect(&url, &mut devnet, &log).await;
    let urls = chain_urls(&network_file);
    w.deposit(ChainId(1), urls[0].clone(), ETH, 3 * E18, false).await.unwrap();
    w.deposit(ChainId(2), urls[1].clone(), ETH, 2 * E18, false).await.unwrap();
    wait_for("the deposits", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) == 5 * E18)
    })
    .await;
    w.change_pubkey(ChainId(1), ETH, 0).await.unwrap();
    w.transfer(Address::repeat_byte(0xf1), ETH, E18, 0).await.unwrap();
    let mut sealed = 0;
    wait_for("everything executed on every chain", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        sealed = n.sealed;
        let account = w.account_executed().await.unwrap();
        n.pending_chunks == 0 && account.is_some_and(|a| a.balance(0, ETH.0) == 4 * E18 && a.nonce == 2)
    })
    .await;
    let account = w.account().await.unwrap().unwrap();
    let root = w.block(sealed).await.unwrap().map(|b| b.new_root).unwrap();
    let _ = devnet.kill();
    let _ = devnet.wait();
    std::fs::remove_dir_all(dir.path().join("devnet/node")).unwrap();

    // Restore from the chains alone.
    let out = ok(&["restore", "--network", &network, "--state", &state]);
    assert!(out.contains(&format!("restored to block {sealed} (root {root})")), "{out}");
    assert_eq!(out.matches(&format!("executed {sealed}; stored hash of block {sealed} matches")).count(), 3, "{out}");

    // Into a node directory; a later run over a node store that is ahead of its state (as after a
    // stop between two checkpoints) checks the blocks already there and goes on.
    let node_dir = dir.path().join("new-node");
    let node = node_dir.to_str().unwrap();
    let restored_again = dir.path().join("restored-again");
    let out = ok(&["restore", "--network", &network, "--state", &format!("{state}-for-node"), "--into-node", node]);
    assert!(out.contains(&format!("holds blocks 1..={sealed}")), "{out}");
    let out = ok(&["restore", "--network", &network, "--state", restored_again.to_str().unwrap(), "--into-node", node]);
    assert!(out.contains(&format!("restored to block {sealed} (root {root})")), "{out}");

    // Exodus: nothing is waiting anywhere, so the wallet starts every chain's clock.
    let exodus = ["wallet", "--key", USER_KEY, "exodus", "--network", &network, "--state", &state];
    let out = ok(&exodus);
    assert_eq!(out.matches("start its clock").count(), 3, "{out}");
    for u in &urls {
        mine(u, EXPIRY).await;
    }
    let out = ok(&exodus);
    assert_eq!(out.matches("switched to exodus now").count(), 3, "{out}");
    let shares = [("1", 4 * E18 * 3 / 5), ("2", 4 * E18 * 2 / 5)];
    for (chain, share) in shares {
        let line = format!("exited account {} sub 0 token {} from reserve {}: {share}", account.id, ETH.0, ETH.0);
        let section = out.split(&format!("chain {chain}:")).nth(1).unwrap_or_default();
        assert!(section.split("chain ").next().unwrap_or_default().contains(&line), "chain {chain}: {out}");
    }
    assert_eq!(out.matches(&format!("of token {}", ETH.0)).count(), 2, "claimed on chains 1 and 2: {out}");
    let again = ok(&exodus);
    assert_eq!(again.matches("exits were already paid").count(), 2, "{again}");
    assert!(!again.contains("exited account"), "{again}");

    // One claim's proof as JSON.
    let proof_file = dir.path().join("exit.json");
    let id = account.id.to_string();
    let token = ETH.0.to_string();
    let proof = proof_file.to_str().unwrap();
    let claim = ["exit-proof", "--network", &network, "--state", &state, "--chain", "1", "--account", &id];
    ok(&[&claim[..], &["--token", &token, "--out", proof]].concat());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&proof_file).unwrap()).unwrap();
    assert_eq!(json["amount"], (4 * E18 * 3 / 5).to_string());
    assert_eq!(json["proof"].as_array().unwrap().len(), 8);
    assert_eq!(json["lastExecuted"]["blockNumber"], sealed);

    // USD needs a reserve to be paid from; the refusal lists what the chain holds.
    let usd = zklink(&[&claim[..], &["--token", "1"]].concat());
    let stderr = String::from_utf8_lossy(&usd.stderr);
    assert!(!usd.status.success() && stderr.contains("chain 1 holds: none"), "{stderr}");

    stop_leftovers(dir.path(), ports);
}
