//! `zklink devnet` stopped with Ctrl-C (SIGINT) and started again on the same data directory,
//! with real proofs on the dev preset:
//!
//! * the restart resumes: the same chains (ports, contract addresses, blocks and counters), the
//!   same L2 account state, and the pipeline goes on (a new transfer is executed on all 3 chains);
//! * after a SIGKILL of the devnet, its anvils (left running) are stopped cleanly by the next
//!   start, which resumes;
//! * a chain whose state file is older than the node's store (as after an anvil killed between two
//!   state dumps) is refused at start with an error that suggests `--fresh`.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;
use zklink_l1::{BlockCounters, L1Client};
use zklink_sdk::Wallet;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

/// The native coin of the test chains.
const ETH: TokenId = TokenId(zklink_l1::NATIVE_TOKEN_ID);

const DEADLINE: Duration = Duration::from_secs(240);

/// Anvil's dev account 1 (public: anvil prints it on every start).
const USER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// A `zklink devnet` process; killed (SIGKILL) if still running when dropped.
struct DevnetProcess {
    child: Child,
    /// The log every session appends to, and where this session's part starts.
    log: PathBuf,
    since: usize,
}

impl DevnetProcess {
    fn start(dir: &Path, rpc_port: u16) -> Self {
        let log = dir.join("devnet.log");
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let since = file.metadata().unwrap().len() as usize;
        let child = Command::new(env!("CARGO_BIN_EXE_zklink"))
            .arg("devnet")
            .arg("--data-dir")
            .arg(dir.join("devnet"))
            .args(["--l1-port", "0", "--state-interval", "2", "--block-time-ms", "500"])
            .arg("--rpc")
            .arg(format!("127.0.0.1:{rpc_port}"))
            .env("RUST_LOG", "info,gr1cs=off")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start zklink devnet");
        Self { child, log, since }
    }

    /// Waits for the process to exit by itself.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < limit, "zklink devnet did not exit within {limit:?}:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Ctrl-C: SIGINT to the devnet process only (its anvils run in their own process groups and
    /// are stopped by it).
    fn interrupt(mut self) {
        let sent = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let status = self.wait(Duration::from_secs(120));
        assert!(status.success(), "zklink devnet exited with {status}:\n{}", self.log_text());
    }

    /// What this session logged.
    fn log_text(&self) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(all.get(self.since..).unwrap_or_default()).into_owned()
    }
}

impl Drop for DevnetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The devnet's manifest: per chain its port and zklink address.
fn manifest(dir: &Path) -> Vec<(u16, Address)> {
    let text = std::fs::read(dir.join("devnet/devnet.json")).expect("devnet.json");
    let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    json["chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let port = c["port"].as_u64().unwrap() as u16;
            (port, c["deployment"]["zklink"].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

fn l1_url(port: u16) -> Url {
    Url::parse(&format!("http://127.0.0.1:{port}")).unwrap()
}

/// Clients of every chain of the manifest (read-only use).
fn clients(chains: &[(u16, Address)]) -> Vec<L1Client> {
    chains
        .iter()
        .map(|(port, zklink)| L1Client::new(ProviderBuilder::new().connect_http(l1_url(*port)).erased(), *zklink))
        .collect()
}

async fn counters(clients: &[L1Client]) -> Vec<BlockCounters> {
    let mut out = Vec::new();
    for c in clients {
        out.push(c.block_counters().await.unwrap());
    }
    out
}

async fn l1_heights(clients: &[L1Client]) -> Vec<u64> {
    let mut out = Vec::new();
    for c in clients {
        out.push(c.provider().get_block_number().await.unwrap());
    }
    out
}

/// Connects once the devnet's API answers.
async fn connect(devnet: &mut DevnetProcess, url: &str) -> Wallet {
    let key = USER_KEY.parse::<alloy::primitives::B256>().expect("a 32-byte hex key").0;
    let start = Instant::now();
    loop {
        if let Ok(w) = Wallet::connect(url, &key).await {
            if w.account().await.is_ok() {
                return w;
            }
        }
        if let Some(status) = devnet.child.try_wait().unwrap() {
            panic!("zklink devnet exited with {status}:\n{}", devnet.log_text());
        }
        assert!(start.elapsed() < DEADLINE, "the devnet's API did not come up:\n{}", devnet.log_text());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until every sealed block is executed on every chain (and at least `at_least` are).
async fn wait_executed(w: &Wallet, clients: &[L1Client], at_least: u32) -> u32 {
    let mut sealed = 0;
    wait_for("every sealed block executed on every chain", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        sealed = n.sealed;
        if n.pending_chunks != 0 || n.sealed < at_least {
            return false;
        }
        counters(clients).await.iter().all(|k| k.executed == n.sealed)
    })
    .await;
    sealed
}

#[tokio::test(flavor = "current_thread")]
async fn the_devnet_resumes_from_disk_after_ctrl_c() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    // Made and cached before the devnet loads it (the devnet's blocks are 4-chunk dev blocks).
    block_key(&Network::dev(3));
    let dir = tempfile::tempdir().unwrap();
    let rpc = free_port();
    let url = format!("http://127.0.0.1:{rpc}");
    let friend = Address::repeat_byte(0xf1);

    // 1. A fresh devnet: deposit, activate, transfer, everything executed on every chain.
    let mut devnet = DevnetProcess::start(dir.path(), rpc);
    let w = connect(&mut devnet, &url).await;
    assert!(devnet.log_text().contains("fresh devnet"), "{}", devnet.log_text());
    let chains = manifest(dir.path());
    let l1 = clients(&chains);
    w.deposit(ChainId(1), l1_url(chains[0].0), ETH, 3 * E18, false).await.unwrap();
    wait_for("the deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) == 3 * E18)
    })
    .await;
    w.change_pubkey(ChainId(1), ETH, 0).await.unwrap();
    w.transfer(friend, ETH, E18, 0).await.unwrap();
    let sealed = wait_executed(&w, &l1, 1).await;
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.nonce, account.balance(0, ETH.0)), (2, 2 * E18));
    let before = counters(&l1).await;
    let heights = l1_heights(&l1).await;
    devnet.interrupt();
    let state = |n: u8| dir.path().join(format!("devnet/chain-{n}.json"));
    assert!((1..=3).all(|n| state(n).is_file()), "every anvil dumped its state");
    let first_chain_1 = std::fs::read(state(1)).unwrap();

    // 2. The restart resumes: same chains, same account, and the pipeline goes on.
    let mut devnet = DevnetProcess::start(dir.path(), rpc);
    let w = connect(&mut devnet, &url).await;
    // The API answers before the start-up summary is printed (the oracles start in between).
    wait_for("the resumed devnet's log", DEADLINE, async || devnet.log_text().contains("resumed from")).await;
    assert_eq!(manifest(dir.path()), chains, "same ports and contract addresses");
    assert_eq!(counters(&l1).await, before, "the chains kept their blocks");
    assert!(l1_heights(&l1).await.iter().zip(&heights).all(|(now, then)| now >= then));
    assert_eq!(w.account().await.unwrap().unwrap(), account, "the same account state");
    assert_eq!(w.block_number().await.unwrap().sealed, sealed);
    w.deposit(ChainId(1), l1_url(chains[0].0), ETH, E18, false).await.unwrap();
    wait_for("the second deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) == 3 * E18)
    })
    .await;
    w.transfer(friend, ETH, E18, 0).await.unwrap();
    let now_sealed = wait_executed(&w, &l1, sealed + 1).await;
    assert!(now_sealed > sealed);
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.nonce, account.balance(0, ETH.0)), (3, 2 * E18));
    let before = counters(&l1).await;

    // 3. Killed with SIGKILL, the devnet leaves its anvils running: the next start stops them
    //    cleanly and resumes.
    drop(devnet);
    let mut devnet = DevnetProcess::start(dir.path(), rpc);
    let w = connect(&mut devnet, &url).await;
    wait_for("the resumed devnet's log", DEADLINE, async || devnet.log_text().contains("resumed from")).await;
    assert!(devnet.log_text().contains("left running"), "{}", devnet.log_text());
    assert_eq!(w.account().await.unwrap().unwrap(), account);
    assert_eq!(counters(&l1).await, before);
    devnet.interrupt();

    // 4. Chain 1 rolled back to its first state file: it lost the second deposit the node took.
    std::fs::write(state(1), first_chain_1).unwrap();
    let mut devnet = DevnetProcess::start(dir.path(), rpc);
    let status = devnet.wait(Duration::from_secs(120));
    let log = devnet.log_text();
    assert!(!status.success(), "{log}");
    assert!(log.contains("priority requests") && log.contains("--fresh"), "{log}");
}
