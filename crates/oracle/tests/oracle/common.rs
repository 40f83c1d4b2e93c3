//! Oracle test helpers: running oracles in-process with their APIs, funding their keys.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;
use zklink_l1::{SendPolicy, TestChains};
use zklink_oracle::api::{serve, OracleApi};
use zklink_oracle::{Oracle, OracleConfig};

use crate::support::oracles;

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A running oracle: its loop and its API.
pub struct Running {
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub task: tokio::task::JoinHandle<()>,
    pub api: OracleApi,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
        self.api.stop().await;
    }
}

pub async fn start_oracle(
    chains: &TestChains,
    key: &PrivateKeySigner,
    dir: &Path,
    addr: SocketAddr,
    peers: &[SocketAddr],
) -> Running {
    let cfg = OracleConfig {
        network: chains.network.clone(),
        chains: chains.endpoints(),
        key: key.clone(),
        peers: peers.iter().filter(|p| **p != addr).map(|p| format!("http://{p}")).collect(),
        data_dir: dir.to_path_buf(),
        confirmations: 0,
        poll_interval: Duration::from_millis(200),
        send_policy: SendPolicy::default(),
    };
    let oracle = Oracle::open(cfg).unwrap();
    let api = serve(addr, oracle.handle()).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(oracle.run(async {
        let _ = stopped.await;
    }));
    Running { stop, task, api }
}

/// Gives every oracle ETH for `syncBlocks` on every chain.
pub async fn fund_oracles(chains: &TestChains) {
    for c in &chains.chains {
        for o in oracles() {
            let _: Value = c
                .client
                .provider()
                .raw_request("anvil_setBalance".into(), (o.address(), U256::from(10u128.pow(20))))
                .await
                .unwrap();
        }
    }
}

/// Gives `address` ETH for gas on every chain.
pub async fn fund(chains: &TestChains, address: alloy::primitives::Address) {
    for c in &chains.chains {
        let _: Value = c
            .client
            .provider()
            .raw_request("anvil_setBalance".into(), (address, U256::from(10u128.pow(20))))
            .await
            .unwrap();
    }
}

pub async fn proven_everywhere(chains: &TestChains, block: u32) -> bool {
    for ch in &chains.chains {
        if ch.client.block_counters().await.unwrap().proven < block {
            return false;
        }
    }
    true
}

/// A plain HTTP/1.0 GET's body.
pub async fn reqwest_get(addr: SocketAddr, path: &str) -> String {
    let path = path.to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap()
}
