//! `zklink node` killed with SIGKILL and restarted, on three anvil chains with real proofs.
//!
//! * Killed right after acknowledging txs, before sealing: every acknowledged tx is back after
//!   the restart.
//! * Killed again while blocks are moving through the L1 pipeline, and a third time once a block
//!   is committed on L1 but not yet proven: after the restarts every chain commits, proves, syncs
//!   and executes every sealed block, and the chains agree with the store.
//!
//! The node has no in-process prover: a separate `zklink prover --node` process proves every
//! block through the API and keeps serving across the node's restarts.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use alloy::primitives::U256;
use serde_json::json;
use zklink_contracts::anvil::workspace_root;
use zklink_contracts::zklink::TestToken;
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_l1::TestChains;
use zklink_prover::test_utils::dev_key_dir;
use zklink_sdk::Wallet;
use zklink_types::test_utils::typed::{USD, USDC};
use zklink_types::test_utils::E18;
use zklink_types::{Address, ChainId, Network};

const DEADLINE: Duration = Duration::from_secs(240);

const PROVER_TOKEN: &str = "crash-test-prover";

/// A `zklink` process (the node, or the remote prover); killed (SIGKILL) when dropped.
struct NodeProcess(Child);

impl NodeProcess {
    fn start(config: &Path, log: &Path) -> Self {
        let config = config.to_str().unwrap();
        Self::spawn(&["node", "--config", config], log)
    }

    fn prover(url: &str, log: &Path) -> Self {
        let args = ["prover", "--node", url, "--token", PROVER_TOKEN, "--block-sizes", "4", "--idle-poll-ms", "200"];
        Self::spawn(&args, log)
    }

    fn spawn(args: &[&str], log: &Path) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_zklink"))
            .args(args)
            .env("RUST_LOG", "info,gr1cs=off")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start zklink");
        Self(child)
    }

    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_config(chains: &TestChains, dir: &Path, port: u16) -> std::path::PathBuf {
    let config = json!({
        "network": chains.network,
        "chains": chains.chains.iter().map(|c| json!({
            "url": c.anvil.endpoint(),
            "zklink": c.deployment.zklink,
            "deployedAt": c.deployment.deployed_at,
        })).collect::<Vec<_>>(),
        "operatorKey": chains.chain(1).anvil.keys()[0],
        "oracleKeys": oracles().iter().map(|o| o.credential().to_bytes().to_vec()).map(|b| alloy::primitives::B256::from_slice(&b)).collect::<Vec<_>>(),
        "dataDir": dir.join("data"),
        "feeOwner": TEST_FEE_OWNER,
        "keyDir": dev_key_dir(&workspace_root()),
        "blockSizes": [4],
        "rpc": format!("127.0.0.1:{port}"),
        "blockTimeMs": 400,
        "pollMs": 100,
        "confirmations": 0,
        "maxBatch": 4,
        "localProver": false,
        "proverToken": PROVER_TOKEN,
    });
    let path = dir.join("node.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    path
}

async fn connect(url: &str, key: &[u8; 32]) -> Wallet {
    let start = Instant::now();
    loop {
        match Wallet::connect(url, key).await {
            Ok(w) if w.account().await.is_ok() => return w,
            _ if start.elapsed() < Duration::from_secs(60) => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("the node's API did not come up: {e}"),
            Ok(_) => panic!("the node's API did not answer"),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_acknowledged_tx_is_lost_when_the_node_is_killed() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    let network = Network::dev(3);
    let pk = block_key(&network); // made and cached before the node loads it
    let chains = start(network, TestKeys { block: Some(pk), exit: None }, 1_000, None).await;
    let dir = tempfile::tempdir().unwrap();
    // Below the ephemeral range: the node restarts on it while other test binaries bind port 0.
    let port = crate::devnet_process::Ports::pick().rpc;
    let config = write_config(&chains, dir.path(), port);
    let log = dir.path().join("node.log");
    let url = format!("http://127.0.0.1:{port}");
    let c1 = chains.chain(1);
    let key = c1.anvil.keys()[1];

    let node = NodeProcess::start(&config, &log);
    let _prover = NodeProcess::prover(&url, &dir.path().join("prover.log"));
    let w = connect(&url, &key.0).await;
    let usdc = TestToken::new(c1.token(USDC.0).unwrap(), c1.client.provider().clone());
    usdc.mint(w.address(), U256::from(100_000_000u64)).send().await.unwrap().get_receipt().await.unwrap();
    w.deposit(ChainId(1), c1.anvil.endpoint_url(), USDC, 100_000_000, true).await.unwrap();
    wait_for("the deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, USD.0) == 100 * E18)
    })
    .await;

    // Kill -9 right after the acknowledgements.
    w.change_pubkey(ChainId(1), USD, 0).await.unwrap();
    let friend = Address::repeat_byte(0xf1);
    for _ in 0..3 {
        w.transfer(friend, USD, E18, 0).await.unwrap();
    }
    node.kill();
    let node = NodeProcess::start(&config, &log);
    let w = connect(&url, &key.0).await;
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.nonce, account.balance(0, USD.0)), (4, 97 * E18), "all four acknowledged txs survived");

    // Kill -9 while blocks move through the pipeline, then let the restarted node finish.
    w.withdraw(ChainId(1), USD, USDC, 5 * E18, 0, 0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    node.kill();
    let node = NodeProcess::start(&config, &log);
    let w = connect(&url, &key.0).await;

    // Kill -9 once a block is committed on chain 1 and waits for its proof.
    w.transfer(friend, USD, E18, 0).await.unwrap();
    wait_for("a block committed but not yet proven on chain 1", DEADLINE, async || {
        let k = c1.client.block_counters().await.unwrap();
        k.committed > k.proven
    })
    .await;
    node.kill();
    let _node = NodeProcess::start(&config, &log);
    let w = connect(&url, &key.0).await;
    wait_for("every sealed block executed on every chain", DEADLINE, async || {
        let n = w.block_number().await.unwrap();
        n.pending_chunks == 0 && executed_everywhere(&chains, n.sealed).await
    })
    .await;
    assert_eq!(c1.client.pending_balance(w.address(), USDC.0).await.unwrap(), 5_000_000, "the withdrawal is claimable");
    assert_eq!(w.account().await.unwrap().unwrap().balance(0, USD.0), 91 * E18);
}
