//! Launching a devnet: the pinned anvil and the dev proving keys, three chains with everything
//! deployed, the node with its API, and the oracles with theirs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use anyhow::{bail, Context};
use zklink_contracts::zklink::TestToken;
use zklink_crypto::fr_to_bytes;
use zklink_l1::{ChainsSetup, ReadCeiling, TestChains, TestChainsConfig};
use zklink_node::{Node, NodeConfig};
use zklink_oracle::api::OracleApi;
use zklink_oracle::{Oracle, OracleConfig};
use zklink_state::State;
use zklink_types::Network;

use super::persist::{check_chains_match_store, NODE_DIR, ORACLES_DIR};
use super::setup::{operator, prepare, Prepared};

/// The devnet's prover token (public, like anvil's keys): `zklink prover --token devnet-prover`
/// adds remote workers beside the in-process prover.
pub(crate) const DEVNET_PROVER_TOKEN: &str = "devnet-prover";

/// Oracle keys of the devnet (public, like anvil's accounts: never use them elsewhere).
fn oracle_keys() -> Vec<alloy::signers::local::PrivateKeySigner> {
    (1..=3u8)
        .filter_map(|i| alloy::signers::local::PrivateKeySigner::from_bytes(&B256::repeat_byte(0x40 + i)).ok())
        .collect()
}

/// A running devnet: the chains, the node and the oracles (not yet running) and their APIs.
pub(crate) struct Devnet {
    /// The anvil chains with everything deployed (dropping them kills the anvils;
    /// [`TestChains::stop`] stops them cleanly).
    pub chains: TestChains,
    /// The node; [`run_network`] runs it with the oracles.
    pub node: Node,
    /// The API server.
    pub api: zklink_api::Api,
    /// Three independent oracles (threshold 2), each with its API; they sync every chain.
    pub oracles: Vec<(Oracle, OracleApi)>,
    /// Per chain, the newest L1 block the node may take requests from (empty: no limit).
    pub ceilings: Vec<ReadCeiling>,
}

/// Runs the node and the oracles until `shutdown` resolves; the node stops first (after the
/// proof in progress), then the oracles.
pub(crate) async fn run_network(node: Node, oracles: Vec<Oracle>, shutdown: impl std::future::Future<Output = ()>) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for oracle in oracles {
        let mut stopped = stopped.clone();
        tasks.spawn(oracle.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
    }
    node.run(shutdown).await;
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Opens the devnet's oracles on `chains` with their stores under `dir` and serves their APIs
/// (on the ports after `rpc`'s, or ones the OS picks); their keys get gas on every chain.
async fn start_oracles(chains: &TestChains, dir: &Path, rpc: SocketAddr) -> anyhow::Result<Vec<(Oracle, OracleApi)>> {
    let keys = oracle_keys();
    // The ports after the API's when free (stable across restarts), else ones the OS picks.
    let pick = |i: u16| {
        let preferred = (rpc.port() != 0).then(|| rpc.port().checked_add(i)).flatten().unwrap_or(0);
        std::net::TcpListener::bind((rpc.ip(), preferred))
            .or_else(|_| std::net::TcpListener::bind((rpc.ip(), 0)))
            .and_then(|l| l.local_addr())
    };
    let addrs: Vec<SocketAddr> =
        (1..=keys.len() as u16).map(pick).collect::<Result<_, _>>().context("choosing the oracles' ports")?;
    let mut oracles = Vec::new();
    for (i, key) in keys.into_iter().enumerate() {
        for c in &chains.chains {
            let gas = (key.address(), U256::from(10u128.pow(21)));
            let funded: Result<serde_json::Value, _> =
                c.client.provider().raw_request("anvil_setBalance".into(), gas).await;
            funded.with_context(|| format!("funding oracle {}", key.address()))?;
        }
        let oracle = Oracle::open(OracleConfig {
            network: chains.network.clone(),
            chains: chains.endpoints(),
            key,
            peers: addrs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| format!("http://{a}")).collect(),
            data_dir: dir.join(format!("oracle-{}", i + 1)),
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            send_policy: zklink_l1::SendPolicy::default(),
        })
        .with_context(|| format!("opening oracle {}", i + 1))?;
        let api = zklink_oracle::api::serve(addrs[i], oracle.handle())
            .await
            .with_context(|| format!("serving oracle {}'s API on {}", i + 1, addrs[i]))?;
        oracles.push((oracle, api));
    }
    Ok(oracles)
}

/// What `launch` needs.
pub(crate) struct LaunchOptions {
    /// The devnet's directory, wiped first: the node's database goes in `node/`, the oracles'
    /// stores in `oracles/` (so that no two devnets share them).
    pub data_dir: PathBuf,
    /// The API's address.
    pub rpc: SocketAddr,
    /// Block time.
    pub block_time: Duration,
    /// Request expiry in L1 blocks.
    pub priority_expiration_blocks: u64,
    /// Block shapes (chunks) to deploy and prove; `None`: every one the preset lists.
    pub block_sizes: Option<Vec<usize>>,
}

/// Starts 3 anvil chains (as `setup` says) and deploys the contracts on each.
pub(super) async fn deploy_chains(keys: &Prepared, expiration: u64, setup: &ChainsSetup) -> anyhow::Result<TestChains> {
    let network = Network::dev(3);
    let fee_owner = operator()?.address();
    let genesis = B256::from(fr_to_bytes(&State::genesis(network.preset.clone(), fee_owner).root()));
    eprintln!("starting 3 anvil chains and deploying the contracts…");
    TestChains::start_with(
        TestChainsConfig {
            network,
            genesis_root: genesis,
            block_keys: keys.block_keys.iter().map(|(chunks, pk)| (*chunks as u32, pk.vk.clone())).collect(),
            exit_key: Some(keys.exit_pk.vk.clone()),
            oracles: oracle_keys().iter().map(|o| o.address()).collect(),
            oracle_threshold: 2,
            priority_expiration_blocks: expiration,
            timelock_delay: None,
        },
        setup,
    )
    .await
    .context("starting the chains and deploying the contracts")
}

/// Whole tokens of every test token each printed dev account gets on every chain when a devnet
/// starts fresh.
pub(crate) const DEV_TOKEN_GRANT: u128 = 1_000_000;

/// Mints [`DEV_TOKEN_GRANT`] of every test token (in its units on each chain) to every dev account
/// but the operator's, on every chain: a fresh devnet's printed accounts can deposit any token at
/// once. The chains are funded in parallel, from the operator's key.
pub(super) async fn fund_dev_accounts(chains: &TestChains) -> anyhow::Result<()> {
    eprintln!("minting {DEV_TOKEN_GRANT} of every test token to the dev accounts on every chain…");
    let mut tasks = tokio::task::JoinSet::new();
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let provider = c.client.provider().clone();
        let receivers: Vec<Address> = (1..c.anvil.keys().len()).filter_map(|i| c.anvil.address(i)).collect();
        let (tokens, chain) = (c.tokens.clone(), info.id);
        tasks.spawn(async move {
            for (id, address, decimals) in tokens {
                let token = TestToken::new(address, provider.clone());
                let amount = U256::from(DEV_TOKEN_GRANT) * U256::from(10u8).pow(U256::from(decimals));
                for to in &receivers {
                    zklink_l1::client::send("TestToken.mint", token.mint(*to, amount))
                        .await
                        .with_context(|| format!("chain {chain}: minting test token {id} to {to}"))?;
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("funding the dev accounts")??;
    }
    Ok(())
}

/// Opens the node on `chains` with its database in `node_dir` and serves its API.
pub(super) async fn start_node(
    chains: TestChains,
    keys: &Prepared,
    node_dir: PathBuf,
    rpc: SocketAddr,
    block_time: Duration,
    ceilings: Vec<ReadCeiling>,
) -> anyhow::Result<Devnet> {
    let operator = operator()?;
    let fee_owner = operator.address();
    if chains.chain(1).anvil.address(0) != Some(fee_owner) {
        bail!("anvil's account 0 is not the expected dev key");
    }
    let oracles_dir = node_dir.parent().map_or_else(|| node_dir.join(ORACLES_DIR), |d| d.join(ORACLES_DIR));
    // No oracle keys in the node: the oracle network syncs.
    let config = NodeConfig::local(
        chains.network.clone(),
        chains.endpoints(),
        operator,
        node_dir,
        fee_owner,
        keys.block_keys.clone(),
        block_time,
    );
    let config = NodeConfig { read_ceilings: ceilings.clone(), ..config };
    let node = Node::open(config).context("opening the node")?;
    check_chains_match_store(&chains, &node.handle()).await?;
    let api_cfg = zklink_api::ApiConfig {
        prover_token: Some(DEVNET_PROVER_TOKEN.into()),
        // The anvils are the devnet's public endpoints: wallets need no --l1.
        l1_endpoints: chains
            .network
            .chains
            .iter()
            .zip(&chains.chains)
            .map(|(i, c)| (i.id, c.anvil.endpoint()))
            .collect(),
    };
    let api = zklink_api::serve_with(rpc, node.handle(), chains.network.clone(), api_cfg)
        .await
        .with_context(|| format!("serving the JSON-RPC API on {rpc}"))?;
    let oracles = start_oracles(&chains, &oracles_dir, api.addr).await?;
    Ok(Devnet { chains, node, api, oracles, ceilings })
}

/// Starts 3 new anvil chains (ports the OS picks, nothing kept) with everything deployed, opens
/// the node on a wiped `data_dir` and serves its API.
pub(crate) async fn launch(opts: LaunchOptions) -> anyhow::Result<Devnet> {
    let network = Network::dev(3);
    let keys =
        prepare(&network, &opts.block_sizes.clone().unwrap_or_else(|| network.preset.block_chunk_sizes.clone()))?;
    let chains = deploy_chains(&keys, opts.priority_expiration_blocks, &ChainsSetup::default()).await?;
    let _ = std::fs::remove_dir_all(&opts.data_dir);
    start_node(chains, &keys, opts.data_dir.join(NODE_DIR), opts.rpc, opts.block_time, Vec::new()).await
}
