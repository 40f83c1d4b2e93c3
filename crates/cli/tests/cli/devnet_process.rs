//! A `zklink devnet` run as a child process on ports the OS picks, and what the tests read from
//! it: its manifest, its chains' counters, a wallet on its API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::transports::http::reqwest::Url;
use zklink_l1::{BlockCounters, L1Client};
use zklink_sdk::Wallet;

pub const DEADLINE: Duration = Duration::from_secs(240);

/// Anvil's dev account 1 (public: anvil prints it on every start).
pub const USER_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

/// A `zklink devnet` process; killed (SIGKILL) if still running when dropped.
pub struct DevnetProcess {
    pub child: Child,
    /// The log every session appends to, and where this session's part starts.
    log: PathBuf,
    since: usize,
}

impl DevnetProcess {
    /// Starts `zklink devnet` on `dir/devnet` on `ports`, saving at most every second, with
    /// 500 ms blocks; `extra` adds options.
    pub fn start(dir: &Path, ports: Ports, extra: &[&str]) -> Self {
        let log = dir.join("devnet.log");
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let since = file.metadata().unwrap().len() as usize;
        let child = Command::new(env!("CARGO_BIN_EXE_zklink"))
            .arg("devnet")
            .arg("--data-dir")
            .arg(dir.join("devnet"))
            .args(["--l1-port", &ports.l1.to_string(), "--state-interval", "1", "--block-time-ms", "500"])
            .args(extra)
            .arg("--rpc")
            .arg(format!("127.0.0.1:{}", ports.rpc))
            .arg("--exchange")
            .arg(format!("127.0.0.1:{}", ports.exchange))
            .env("RUST_LOG", "info,gr1cs=off")
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start zklink devnet");
        Self { child, log, since }
    }

    /// Waits for the process to exit by itself.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
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
    pub fn interrupt(mut self) {
        let sent = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let status = self.wait(Duration::from_secs(120));
        assert!(status.success(), "zklink devnet exited with {status}:\n{}", self.log_text());
    }

    /// A power cut: SIGKILL to the devnet and to its anvils in one `kill`.
    pub fn kill_with_anvils(mut self) {
        let killed = self.kill_all();
        assert!(killed, "kill -KILL of the devnet and its anvils failed");
    }

    /// SIGKILL to the devnet process alone: its anvils keep running.
    pub fn kill_alone(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }

    /// SIGKILL to the devnet and to the anvils its pid files name; whether `kill` succeeded.
    fn kill_all(&mut self) -> bool {
        let dir = self.log.parent().expect("the log is in the test's directory").join("devnet");
        let anvils = (1..=3u8).filter_map(|n| std::fs::read_to_string(zklink_l1::pid_file(&dir, n)).ok());
        let pids: Vec<String> =
            std::iter::once(self.child.id().to_string()).chain(anvils.map(|p| p.trim().to_string())).collect();
        let killed = Command::new("kill").arg("-KILL").args(&pids).status().is_ok_and(|s| s.success());
        let _ = self.child.wait();
        killed
    }

    /// What this session logged.
    pub fn log_text(&self) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(all.get(self.since..).unwrap_or_default()).into_owned()
    }
}

impl Drop for DevnetProcess {
    /// A failed test leaves nothing running: the devnet and its anvils (in process groups of their
    /// own, they would outlive it) are killed. After a clean stop there is nothing left to kill.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill_all();
        }
    }
}

/// The ports of one devnet, below the OS's ephemeral range (32768 and up on Linux): the CI runs
/// this binary beside the other test binaries, whose servers bind port 0, and a port in the
/// ephemeral range could be taken by one of them while a devnet here restarts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// Chain 1's anvil; chains 2 and 3 on the next two.
    pub l1: u16,
    /// The API; the devnet's oracles take the next three.
    pub rpc: u16,
    /// The devnet's exchange.
    pub exchange: u16,
}

impl Ports {
    /// Eight consecutive free ports in 20000..32000, from a start that differs per call.
    pub fn pick() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static CALLS: AtomicU32 = AtomicU32::new(0);
        let seed = std::process::id().wrapping_mul(7_919) ^ CALLS.fetch_add(1, Ordering::Relaxed).wrapping_mul(104_729);
        for attempt in 0..2_000u32 {
            let base = 20_000 + ((seed.wrapping_add(attempt.wrapping_mul(8 * 13))) % 1_490) as u16 * 8;
            let free = (base..base + 8).all(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
            if free {
                return Self { l1: base, rpc: base + 3, exchange: base + 7 };
            }
        }
        panic!("no 8 consecutive free ports in 20000..32000");
    }

    /// The API's URL.
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}", self.rpc)
    }

    /// The exchange API's URL.
    pub fn exchange(&self) -> String {
        format!("http://127.0.0.1:{}", self.exchange)
    }
}

/// The devnet's manifest: per chain its port and zklink address.
pub fn manifest(dir: &Path) -> Vec<(u16, Address)> {
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

pub fn l1_url(port: u16) -> Url {
    Url::parse(&format!("http://127.0.0.1:{port}")).unwrap()
}

/// Clients of every chain of the manifest (read-only use).
pub fn clients(chains: &[(u16, Address)]) -> Vec<L1Client> {
    chains
        .iter()
        .map(|(port, zklink)| L1Client::new(ProviderBuilder::new().connect_http(l1_url(*port)).erased(), *zklink))
        .collect()
}

pub async fn counters(clients: &[L1Client]) -> Vec<BlockCounters> {
    let mut out = Vec::new();
    for c in clients {
        out.push(c.block_counters().await.unwrap());
    }
    out
}

pub async fn l1_heights(clients: &[L1Client]) -> Vec<u64> {
    let mut out = Vec::new();
    for c in clients {
        out.push(c.provider().get_block_number().await.unwrap());
    }
    out
}

/// Connects once the devnet's API answers.
pub async fn connect(devnet: &mut DevnetProcess, url: &str) -> Wallet {
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
pub async fn wait_executed(w: &Wallet, clients: &[L1Client], at_least: u32) -> u32 {
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
