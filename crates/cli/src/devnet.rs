//! `zklink devnet`: everything on one machine, on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use zklink_circuit::block::BlockCircuit;
use zklink_contracts::devnet::{anvil_binary, workspace_root, DevnetError};
use zklink_crypto::fr_to_bytes;
use zklink_l1::{TestChains, TestChainsConfig};
use zklink_node::{Node, NodeConfig};
use zklink_prover::{dev_key_dir, KeyStore, INSECURE_DEV_SEED};
use zklink_state::State;
use zklink_types::Network;

/// Options of `zklink devnet`.
#[derive(clap::Args)]
pub struct Args {
    /// Where the node keeps its database (wiped at start: the anvil chains are new every run).
    #[arg(long, env = "ZKLINK_DEVNET_DIR", default_value = "target/devnet")]
    data_dir: PathBuf,
    /// Address of the JSON-RPC API.
    #[arg(long, env = "ZKLINK_RPC", default_value = "127.0.0.1:3030")]
    rpc: SocketAddr,
    /// Seal the open block once it is this many milliseconds old.
    #[arg(long, default_value_t = 2_000)]
    block_time_ms: u64,
    /// L1 blocks a priority request may wait before exodus can start.
    #[arg(long, default_value_t = 10_000)]
    priority_expiration_blocks: u64,
}

/// Oracle keys of the devnet (public, like anvil's accounts: never use them elsewhere).
fn oracle_keys() -> Vec<alloy::signers::local::PrivateKeySigner> {
    (1..=3u8)
        .filter_map(|i| alloy::signers::local::PrivateKeySigner::from_bytes(&B256::repeat_byte(0x40 + i)).ok())
        .collect()
}

/// Installs the pinned anvil with npm when it is missing.
fn ensure_anvil() -> Result<(), String> {
    match anvil_binary() {
        Ok(_) => Ok(()),
        Err(DevnetError::BinaryMissing { .. }) => {
            eprintln!("installing the pinned anvil: npm ci --prefix tools/l1");
            let status = std::process::Command::new("npm")
                .args(["ci", "--prefix", "tools/l1", "--no-audit", "--no-fund"])
                .current_dir(workspace_root())
                .status()
                .map_err(|e| format!("running npm (is node installed?): {e}"))?;
            if !status.success() {
                return Err(format!("npm ci --prefix tools/l1 failed ({status})"));
            }
            anvil_binary().map(drop).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A running devnet: the chains, the node (not yet running) and its API.
pub struct Devnet {
    /// The anvil chains with everything deployed (dropping them stops the anvils).
    pub chains: TestChains,
    /// The node; call `run`.
    pub node: Node,
    /// The API server.
    pub api: zklink_api::Api,
}

/// What `launch` needs.
pub struct LaunchOptions {
    /// The node's database directory (wiped first).
    pub data_dir: PathBuf,
    /// The API's address.
    pub rpc: SocketAddr,
    /// Block time.
    pub block_time: Duration,
    /// Request expiry in L1 blocks.
    pub priority_expiration_blocks: u64,
}

/// Starts 3 anvil chains with everything deployed, opens the node and serves its API.
pub async fn launch(opts: LaunchOptions) -> Result<Devnet, String> {
    ensure_anvil()?;
    let network = Network::dev(3);
    let preset = network.preset.clone();
    let chunks = *preset.block_chunk_sizes.first().ok_or("the dev preset has no block size")?;
    eprintln!("proving key for {chunks}-chunk blocks (created once, then cached under target/zklink-keys)…");
    let store = KeyStore::new(dev_key_dir(&workspace_root()));
    let pk = store
        .load_or_setup(&BlockCircuit::shape_name(&preset, 3, chunks), INSECURE_DEV_SEED, || {
            BlockCircuit::blank(&preset, 3, chunks).expect("the dev shape is valid")
        })
        .map_err(|e| e.to_string())?;

    let oracles = oracle_keys();
    // Anvil's account 0 deploys, validates and owns the fee account.
    let operator =
        alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(ANVIL_KEY_0)).map_err(|e| e.to_string())?;
    let fee_owner = operator.address();
    let genesis = B256::from(fr_to_bytes(&State::genesis(preset.clone(), fee_owner).root()));
    eprintln!("starting 3 anvil chains and deploying the contracts…");
    let chains = TestChains::start(TestChainsConfig {
        network,
        genesis_root: genesis,
        block_keys: vec![(chunks as u32, pk.vk.clone())],
        exit_key: None,
        oracles: oracles.iter().map(|o| o.address()).collect(),
        oracle_threshold: 2,
        priority_expiration_blocks: opts.priority_expiration_blocks,
        timelock_delay: None,
    })
    .await
    .map_err(|e| e.to_string())?;
    if chains.chain(1).anvil.address(0) != Some(fee_owner) {
        return Err("anvil's account 0 is not the expected dev key".into());
    }
    let _ = std::fs::remove_dir_all(&opts.data_dir);
    let config = NodeConfig::for_test_chains(
        &chains,
        opts.data_dir.clone(),
        fee_owner,
        oracles,
        vec![(chunks, Arc::new(pk))],
        opts.block_time,
    )
    .map_err(|e| e.to_string())?;
    let node = Node::open(config).map_err(|e| e.to_string())?;
    let api = zklink_api::serve(opts.rpc, node.handle(), chains.network.clone()).await.map_err(|e| e.to_string())?;
    Ok(Devnet { chains, node, api })
}

/// Runs the devnet until Ctrl-C.
pub async fn run(args: Args) -> Result<(), String> {
    let Devnet { chains, node, api } = launch(LaunchOptions {
        data_dir: args.data_dir,
        rpc: args.rpc,
        block_time: Duration::from_millis(args.block_time_ms),
        priority_expiration_blocks: args.priority_expiration_blocks,
    })
    .await?;
    print_summary(&chains, &api);
    node.run(async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("\nstopping…");
    })
    .await;
    api.stop().await;
    drop(chains);
    eprintln!("devnet stopped");
    Ok(())
}

/// Anvil's first dev key (public: anvil prints it on every start).
const ANVIL_KEY_0: [u8; 32] = [
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4,
    0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
];

fn print_summary(chains: &TestChains, api: &zklink_api::Api) {
    println!("\nzklink devnet is running (Ctrl-C stops it)\n");
    println!("  JSON-RPC API   http://{}", api.addr);
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let da = if info.data_availability { ", data availability" } else { "" };
        println!("  chain {}        {} (EVM chain id {}{da})", info.id.0, c.anvil.endpoint(), info.l1_chain_id);
        println!("                 zklink {}", c.deployment.zklink);
        for (id, address, decimals) in &c.tokens {
            println!("                 token {id}: {address} ({decimals} decimals, anyone can mint)");
        }
        println!("                 token {}: the native coin (depositETH)", zklink_l1::NATIVE_TOKEN_ID);
    }
    println!("\n  funded accounts (the same on every chain; account 0 is the operator):");
    if let Some(c) = chains.chains.first() {
        for (i, key) in c.anvil.keys().iter().enumerate().skip(1) {
            println!("    {} key {key}", c.anvil.address(i).unwrap_or_default());
        }
    }
    println!();
}
