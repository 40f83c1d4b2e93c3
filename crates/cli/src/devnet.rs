//! `zklink devnet`: everything on one machine, on loopback, kept on disk across restarts.
//!
//! Everything lives under `--data-dir`: `devnet.json` (what was deployed where, written once the
//! deployment succeeded), `network.json` (the public facts `zklink restore` needs), `chain-<n>.json` (each anvil's state, dumped every few seconds and on a
//! clean stop) and `node/` (the node's database). A start with all of them there resumes: the
//! anvils come back on their ports with their blocks, the node replays its store and its pipeline
//! continues from each chain's counters. Otherwise (or with `--fresh`) the devnet starts over.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use alloy::providers::Provider;
use zklink_circuit::block::BlockCircuit;
use zklink_contracts::anvil::{anvil_binary, workspace_root, AnvilError, STOP_TIMEOUT};
use zklink_contracts::{constructor_args, verifying_key_hash, Groth16Verifier};
use zklink_crypto::fr_to_bytes;
use zklink_l1::{ChainsManifest, ChainsSetup, TestChains, TestChainsConfig};
use zklink_node::{Node, NodeConfig, NodeHandle};
use zklink_oracle::api::OracleApi;
use zklink_oracle::{Oracle, OracleConfig};
use zklink_prover::{dev_key_dir, KeyStore, ProvingKey, INSECURE_DEV_SEED};
use zklink_state::State;
use zklink_types::Network;

use crate::node::ChainFile;
use crate::restore::NetworkFile;

/// The devnet's manifest in its data directory.
pub const MANIFEST: &str = "devnet.json";
/// The network file (`zklink restore --network`) in the devnet's data directory.
pub const NETWORK_FILE: &str = "network.json";
/// The node's database directory in the devnet's data directory.
pub const NODE_DIR: &str = "node";
/// The oracles' stores, one directory each, under the data directory.
pub const ORACLES_DIR: &str = "oracles";

/// Options of `zklink devnet`.
#[derive(clap::Args)]
pub struct Args {
    /// Where the devnet keeps its chains (`chain-<n>.json`), what was deployed where
    /// (`devnet.json`) and the node's database (`node/`). A restart resumes from it.
    #[arg(long, env = "ZKLINK_DEVNET_DIR", default_value = "target/devnet")]
    data_dir: PathBuf,
    /// Start over: delete the devnet in --data-dir and deploy new chains.
    #[arg(long)]
    fresh: bool,
    /// Port of chain 1's anvil; chains 2 and 3 listen on the next two ports. 0: ports the OS
    /// picks (a restart then reuses the recorded ones).
    #[arg(long, env = "ZKLINK_DEVNET_L1_PORT", default_value_t = 8545)]
    l1_port: u16,
    /// Seconds between dumps of the anvils' state (a crash loses at most that much L1 history;
    /// Ctrl-C loses nothing).
    #[arg(long, default_value_t = 5)]
    state_interval: u64,
    /// Address of the JSON-RPC API.
    #[arg(long, env = "ZKLINK_RPC", default_value = "127.0.0.1:3030")]
    rpc: SocketAddr,
    /// Seal the open block once it is this many milliseconds old.
    #[arg(long, default_value_t = 2_000)]
    block_time_ms: u64,
    /// L1 blocks a priority request may wait before exodus can start (set at deployment: a
    /// resumed devnet keeps its value).
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
        Err(AnvilError::BinaryMissing { .. }) => {
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

/// A running devnet: the chains, the node and the oracles (not yet running) and their APIs.
pub struct Devnet {
    /// The anvil chains with everything deployed (dropping them kills the anvils;
    /// [`TestChains::stop`] stops them cleanly).
    pub chains: TestChains,
    /// The node; [`run_network`] runs it with the oracles.
    pub node: Node,
    /// The API server.
    pub api: zklink_api::Api,
    /// Three independent oracles (threshold 2), each with its API; they sync every chain.
    pub oracles: Vec<(Oracle, OracleApi)>,
}

/// Runs the node and the oracles until `shutdown` resolves; the node stops first (after the
/// proof in progress), then the oracles.
pub async fn run_network(node: Node, oracles: Vec<Oracle>, shutdown: impl std::future::Future<Output = ()>) {
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
async fn start_oracles(chains: &TestChains, dir: &Path, rpc: SocketAddr) -> Result<Vec<(Oracle, OracleApi)>, String> {
    let keys = oracle_keys();
    // The ports after the API's when free (stable across restarts), else ones the OS picks.
    let pick = |i: u16| {
        let preferred = (rpc.port() != 0).then(|| rpc.port().checked_add(i)).flatten().unwrap_or(0);
        std::net::TcpListener::bind((rpc.ip(), preferred))
            .or_else(|_| std::net::TcpListener::bind((rpc.ip(), 0)))
            .and_then(|l| l.local_addr())
    };
    let addrs: Vec<SocketAddr> = (1..=keys.len() as u16)
        .map(pick)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("choosing the oracles' ports: {e}"))?;
    let mut oracles = Vec::new();
    for (i, key) in keys.into_iter().enumerate() {
        for c in &chains.chains {
            let gas = (key.address(), alloy::primitives::U256::from(10u128.pow(21)));
            let funded: Result<serde_json::Value, _> =
                c.client.provider().raw_request("anvil_setBalance".into(), gas).await;
            funded.map_err(|e| format!("funding oracle {}: {e}", key.address()))?;
        }
        let oracle = Oracle::open(OracleConfig {
            network: chains.network.clone(),
            chains: chains.chains.iter().map(zklink_l1::TestChain::endpoint).collect(),
            key,
            peers: addrs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| format!("http://{a}")).collect(),
            data_dir: dir.join(format!("oracle-{}", i + 1)),
            confirmations: 0,
            poll_interval: Duration::from_millis(200),
            send_policy: zklink_l1::SendPolicy::default(),
        })
        .map_err(|e| e.to_string())?;
        let api = zklink_oracle::api::serve(addrs[i], oracle.handle()).await?;
        oracles.push((oracle, api));
    }
    Ok(oracles)
}

/// What `launch` needs.
pub struct LaunchOptions {
    /// The devnet's directory, wiped first: the node's database goes in `node/`, the oracles'
    /// stores in `oracles/` (so that no two devnets share them).
    pub data_dir: PathBuf,
    /// The API's address.
    pub rpc: SocketAddr,
    /// Block time.
    pub block_time: Duration,
    /// Request expiry in L1 blocks.
    pub priority_expiration_blocks: u64,
}

/// The anvil binary is there and the dev proving key is loaded (made once, then cached).
struct Prepared {
    /// Chunks of the dev block shape.
    chunks: usize,
    pk: Arc<ProvingKey>,
    /// The exit circuit's key (its verifier is deployed; `zklink exit-proof` proves with it).
    exit_pk: ProvingKey,
}

/// Installs anvil if needed and loads (or makes) the proving key of `network`'s smallest block.
fn prepare(network: &Network) -> Result<Prepared, String> {
    ensure_anvil()?;
    let preset = network.preset.clone();
    let chains = network.chains.len() as u8;
    let chunks = *preset.block_chunk_sizes.first().ok_or("the dev preset has no block size")?;
    eprintln!("proving key for {chunks}-chunk blocks (created once, then cached under target/zklink-keys)…");
    let store = KeyStore::new(dev_key_dir(&workspace_root()));
    let pk = store
        .load_or_setup(&BlockCircuit::shape_name(&preset, chains, chunks), INSECURE_DEV_SEED, || {
            BlockCircuit::blank(&preset, chains, chunks).expect("the dev shape is valid")
        })
        .map_err(|e| e.to_string())?;
    eprintln!("proving key of exits (created once, then cached)…");
    let exit_pk = crate::restore::insecure_dev_exit_key(&store, network)?;
    Ok(Prepared { chunks, pk: Arc::new(pk), exit_pk })
}

/// Anvil's account 0: it deploys, validates and owns the fee account.
fn operator() -> Result<alloy::signers::local::PrivateKeySigner, String> {
    alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(ANVIL_KEY_0)).map_err(|e| e.to_string())
}

/// Starts 3 anvil chains (as `setup` says) and deploys the contracts on each.
async fn deploy_chains(keys: &Prepared, expiration: u64, setup: &ChainsSetup) -> Result<TestChains, String> {
    let network = Network::dev(3);
    let fee_owner = operator()?.address();
    let genesis = B256::from(fr_to_bytes(&State::genesis(network.preset.clone(), fee_owner).root()));
    eprintln!("starting 3 anvil chains and deploying the contracts…");
    TestChains::start_with(
        TestChainsConfig {
            network,
            genesis_root: genesis,
            block_keys: vec![(keys.chunks as u32, keys.pk.vk.clone())],
            exit_key: Some(keys.exit_pk.vk.clone()),
            oracles: oracle_keys().iter().map(|o| o.address()).collect(),
            oracle_threshold: 2,
            priority_expiration_blocks: expiration,
            timelock_delay: None,
        },
        setup,
    )
    .await
    .map_err(|e| e.to_string())
}

/// The devnet's prover token (public, like anvil's keys): `zklink prover --token devnet-prover`
/// adds remote workers beside the in-process prover.
pub const DEVNET_PROVER_TOKEN: &str = "devnet-prover";

/// Opens the node on `chains` with its database in `node_dir` and serves its API.
async fn start_node(
    chains: TestChains,
    keys: &Prepared,
    node_dir: PathBuf,
    rpc: SocketAddr,
    block_time: Duration,
) -> Result<Devnet, String> {
    let fee_owner = operator()?.address();
    if chains.chain(1).anvil.address(0) != Some(fee_owner) {
        return Err("anvil's account 0 is not the expected dev key".into());
    }
    let oracles_dir = node_dir.parent().map_or_else(|| node_dir.join(ORACLES_DIR), |d| d.join(ORACLES_DIR));
    // No oracle keys in the node: the oracle network syncs.
    let config = NodeConfig::for_test_chains(
        &chains,
        node_dir,
        fee_owner,
        Vec::new(),
        vec![(keys.chunks, keys.pk.clone())],
        block_time,
    )
    .map_err(|e| e.to_string())?;
    let node = Node::open(config).map_err(|e| e.to_string())?;
    check_chains_match_store(&chains, &node.handle()).await?;
    let api_cfg = zklink_api::ApiConfig { prover_token: Some(DEVNET_PROVER_TOKEN.into()) };
    let api =
        zklink_api::serve_with(rpc, node.handle(), chains.network.clone(), api_cfg).await.map_err(|e| e.to_string())?;
    let oracles = start_oracles(&chains, &oracles_dir, api.addr).await?;
    Ok(Devnet { chains, node, api, oracles })
}

/// Starts 3 new anvil chains (ports the OS picks, nothing kept) with everything deployed, opens
/// the node on a wiped `data_dir` and serves its API.
pub async fn launch(opts: LaunchOptions) -> Result<Devnet, String> {
    let keys = prepare(&Network::dev(3))?;
    let chains = deploy_chains(&keys, opts.priority_expiration_blocks, &ChainsSetup::default()).await?;
    let _ = std::fs::remove_dir_all(&opts.data_dir);
    start_node(chains, &keys, opts.data_dir.join(NODE_DIR), opts.rpc, opts.block_time).await
}

/// How a persistent devnet started.
enum Started {
    /// New chains.
    Fresh,
    /// From disk: the node's last block.
    Resumed(u32),
}

/// Resumes the devnet in `args.data_dir` if it holds one (and `--fresh` is not given), else
/// starts a new one there.
async fn open(args: &Args, keys: &Prepared) -> Result<(Devnet, Started), String> {
    let dir = &args.data_dir;
    let setup = ChainsSetup {
        base_port: Some(args.l1_port),
        state_dir: Some(dir.clone()),
        state_interval: Some(args.state_interval.max(1)),
        own_process_group: true,
    };
    let block_time = Duration::from_millis(args.block_time_ms);
    stop_leftover_anvils(dir, 3)?;
    let manifest = dir.join(MANIFEST);
    if !args.fresh && manifest.is_file() {
        let resumed = async {
            let chains = resume_chains(&manifest, keys, &setup).await?;
            write_manifest(dir, &chains)?;
            let devnet = start_node(chains, keys, dir.join(NODE_DIR), args.rpc, block_time).await?;
            let block = devnet.node.handle().store().last_block().map_err(|e| e.to_string())?;
            Ok::<_, String>((devnet, Started::Resumed(block)))
        };
        return resumed.await.map_err(|e| {
            format!(
                "cannot resume the devnet in {}: {e}\n  \
                 (`zklink devnet --fresh` deletes it and starts over; --l1-port moves the chains)",
                dir.display()
            )
        });
    }
    wipe(dir, 3)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let chains = deploy_chains(keys, args.priority_expiration_blocks, &setup).await.map_err(|e| {
        if e.contains("Address already in use") {
            format!("{e}\n  (a port of --l1-port {} and the next two is taken: choose others)", args.l1_port)
        } else {
            e
        }
    })?;
    write_manifest(dir, &chains)?;
    let devnet = start_node(chains, keys, dir.join(NODE_DIR), args.rpc, block_time).await?;
    Ok((devnet, Started::Fresh))
}

/// Anvils of a devnet killed with SIGKILL outlive it (they run in process groups of their own)
/// and keep dumping their state into `dir`: stops them cleanly, so that their chains are complete
/// on disk and their ports free. Refuses if the devnet that started them still runs. Linux only
/// (it reads /proc); elsewhere a leftover anvil makes the start fail on its port.
fn stop_leftover_anvils(dir: &Path, chains: u8) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        let ours: Vec<PathBuf> =
            (1..=chains).filter_map(|n| zklink_l1::state_file(dir, n).canonicalize().ok()).collect();
        if ours.is_empty() {
            return Ok(());
        }
        let entries = std::fs::read_dir("/proc").map_err(|e| format!("/proc: {e}"))?;
        for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
            if pid == std::process::id() || !proc::state_file(pid).is_some_and(|f| ours.contains(&f)) {
                continue;
            }
            if let Some(parent) = proc::parent(pid).filter(|p| proc::is_devnet(*p)) {
                return Err(format!("another zklink devnet (pid {parent}) is running on {}", dir.display()));
            }
            eprintln!("stopping anvil {pid}, left running on {} by an earlier devnet…", dir.display());
            proc::stop(pid, STOP_TIMEOUT);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (dir, chains);
    Ok(())
}

/// Other processes, through /proc.
#[cfg(target_os = "linux")]
mod proc {
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    fn args(pid: u32) -> Vec<String> {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    /// The state file of an anvil started with `--state <file>`, resolved against its working
    /// directory.
    pub fn state_file(pid: u32) -> Option<PathBuf> {
        let args = args(pid);
        if args.first().is_none_or(|a| Path::new(a).file_name().is_none_or(|n| n != "anvil")) {
            return None;
        }
        let file = args.iter().skip_while(|a| *a != "--state").nth(1)?;
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
        cwd.join(file).canonicalize().ok()
    }

    /// The parent process id.
    pub fn parent(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    }

    /// Whether `pid` is a `zklink devnet`.
    pub fn is_devnet(pid: u32) -> bool {
        let args = args(pid);
        args.first().is_some_and(|a| Path::new(a).file_name().is_some_and(|n| n == "zklink"))
            && args.iter().any(|a| a == "devnet")
    }

    fn running(pid: u32) -> bool {
        // A zombie has exited (its state is dumped); its parent reaps it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
            .is_some_and(|zombie| !zombie)
    }

    fn signal(pid: u32, signal: &str) {
        let _ = std::process::Command::new("kill").args([signal, &pid.to_string()]).status();
    }

    /// SIGINT (anvil dumps its state and exits), then SIGKILL if it still runs after `timeout`.
    pub fn stop(pid: u32, timeout: Duration) {
        signal(pid, "-INT");
        let deadline = Instant::now() + timeout;
        while running(pid) {
            if Instant::now() >= deadline {
                signal(pid, "-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Deletes what a devnet keeps in `dir` (and nothing else there).
fn wipe(dir: &Path, chains: u8) -> Result<(), String> {
    let gone = |r: std::io::Result<()>, path: &Path| match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("deleting {}: {e}", path.display())),
        _ => Ok(()),
    };
    for chain in 1..=chains {
        let state = zklink_l1::state_file(dir, chain);
        gone(std::fs::remove_file(&state), &state)?;
    }
    for file in [MANIFEST, "node.redb"] {
        gone(std::fs::remove_file(dir.join(file)), &dir.join(file))?;
    }
    gone(std::fs::remove_dir_all(dir.join(ORACLES_DIR)), &dir.join(ORACLES_DIR))?;
    gone(std::fs::remove_dir_all(dir.join(NODE_DIR)), &dir.join(NODE_DIR))
}

/// Writes `devnet.json` (atomically: a crash leaves the old one or the new one), and
/// `network.json`, the public facts `zklink restore` and `zklink wallet exodus` read.
fn write_manifest(dir: &Path, chains: &TestChains) -> Result<(), String> {
    let network = NetworkFile {
        network: chains.network.clone(),
        fee_owner: operator()?.address(),
        chains: chains
            .chains
            .iter()
            .map(|c| {
                let end = c.endpoint();
                ChainFile { url: end.url, zklink: end.zklink, deployed_at: end.deployed_at }
            })
            .collect(),
    };
    network.write(&dir.join(NETWORK_FILE))?;
    let mut json = chains.manifest().to_json();
    if let Some(object) = json.as_object_mut() {
        object.insert("version".into(), 1.into());
    }
    let text = serde_json::to_vec_pretty(&json).map_err(|e| e.to_string())?;
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dir.join(MANIFEST)).map_err(|e| format!("{}: {e}", dir.join(MANIFEST).display()))
}

/// Starts the chains recorded in `manifest` from their state files and checks that their block
/// verifiers still match the proving key (a changed circuit would make every proof fail).
async fn resume_chains(manifest: &Path, keys: &Prepared, setup: &ChainsSetup) -> Result<TestChains, String> {
    let text = std::fs::read(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let manifest = ChainsManifest::from_json(&json)?;
    if manifest.network.preset != Network::dev(3).preset {
        return Err("it was deployed for another dev preset than this build's".into());
    }
    let chains = TestChains::resume(&manifest, setup).await.map_err(|e| e.to_string())?;
    let expected = verifying_key_hash(&constructor_args(&keys.pk.vk).map_err(|e| e.to_string())?);
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let Some((_, verifier)) = c.deployment.block_verifiers.iter().find(|(n, _)| *n as usize == keys.chunks) else {
            return Err(format!("chain {} has no verifier for {}-chunk blocks", info.id.0, keys.chunks));
        };
        let hash = Groth16Verifier::new(*verifier, c.client.provider().clone())
            .verifyingKeyHash()
            .call()
            .await
            .map_err(|e| format!("chain {}: reading the block verifier: {e}", info.id.0))?;
        if hash != expected {
            return Err(format!(
                "chain {}'s block verifier has another verifying key than this build's proving key \
                 (the block circuit changed since the devnet was deployed)",
                info.id.0
            ));
        }
    }
    Ok(chains)
}

/// The chains and the node's store must tell the same history. A chain whose state file is older
/// than the store (anvil killed between two dumps) may have lost priority requests the node took;
/// a store older than the chains lacks blocks they committed. Either way the node cannot go on.
async fn check_chains_match_store(chains: &TestChains, node: &NodeHandle) -> Result<(), String> {
    let stored = node.store().last_block().map_err(|e| e.to_string())?;
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let chain = info.id.0;
        let counters = c.client.block_counters().await.map_err(|e| format!("chain {chain}: {e}"))?;
        if counters.committed > stored {
            return Err(format!(
                "chain {chain} has {} blocks committed but the node's store only {stored}: the node's \
                 database is older than the chain",
                counters.committed
            ));
        }
        let zklink = c.client.zklink();
        let view = |e: alloy::contract::Error| format!("chain {chain}: reading the priority queue: {e}");
        let first = zklink.firstPriorityRequestId().call().await.map_err(view)?;
        let open = zklink.totalOpenPriorityRequests().call().await.map_err(view)?;
        let taken = node.keeper().next_serial(chain);
        if first + open < taken {
            return Err(format!(
                "chain {chain} holds {} priority requests but the node has taken {taken}: the chain's \
                 state file is older than the node's store (was anvil killed between two state dumps?)",
                first + open
            ));
        }
    }
    Ok(())
}

/// The signals that stop the devnet: Ctrl-C (SIGINT), SIGTERM and SIGHUP on Unix. Listening to
/// them replaces their default action (exit at once), so the devnet always shuts down in order.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Result<Self, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind| signal(kind).map_err(|e| format!("listening for signals: {e}"));
            Ok(Self {
                interrupt: listen(SignalKind::interrupt())?,
                terminate: listen(SignalKind::terminate())?,
                hangup: listen(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves at the next signal.
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the devnet until Ctrl-C (or SIGTERM), then stops the node, the API and the anvils, in
/// that order, with the anvils' state dumped.
pub async fn run(args: Args) -> Result<(), String> {
    // Before listening for Ctrl-C: making the key the first time takes a while, and nothing needs
    // cleaning up if it is interrupted.
    let keys = prepare(&Network::dev(3))?;
    let mut signals = Signals::listen()?;
    let opened = tokio::select! {
        opened = open(&args, &keys) => opened?,
        () = signals.recv() => {
            // Dropping the half-started devnet kills its anvils; a fresh devnet has no manifest yet.
            eprintln!("interrupted while starting");
            return Ok(());
        }
    };
    let (Devnet { chains, node, api, oracles }, started) = opened;
    match started {
        Started::Fresh => eprintln!("fresh devnet in {}", args.data_dir.display()),
        Started::Resumed(block) => {
            let mut heights = Vec::new();
            for c in &chains.chains {
                heights.push(c.client.provider().get_block_number().await.map_or("?".into(), |h| h.to_string()));
            }
            eprintln!("resumed from {} at block {block} (L1 blocks {})", args.data_dir.display(), heights.join(", "));
        }
    }
    print_summary(&chains, &api, &oracles, &args.data_dir);
    let (oracles, oracle_apis): (Vec<_>, Vec<_>) = oracles.into_iter().unzip();
    run_network(node, oracles, async {
        signals.recv().await;
        eprintln!("\nstopping (the node first: it finishes the proof in progress)…");
    })
    .await;
    for oracle_api in oracle_apis {
        oracle_api.stop().await;
    }
    api.stop().await;
    let stopped = chains.stop(STOP_TIMEOUT);
    match stopped {
        Ok(()) => {
            eprintln!("devnet stopped; `zklink devnet --data-dir {}` resumes it", args.data_dir.display());
            Ok(())
        }
        Err(e) => Err(format!("stopping the chains: {e}")),
    }
}

/// Anvil's first dev key (public: anvil prints it on every start).
const ANVIL_KEY_0: [u8; 32] = [
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4,
    0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
];

fn print_summary(chains: &TestChains, api: &zklink_api::Api, oracles: &[(Oracle, OracleApi)], dir: &Path) {
    println!("\nzklink devnet is running (Ctrl-C stops it; a restart resumes from {})\n", dir.display());
    println!("  JSON-RPC API   http://{0} and ws://{0} (OpenRPC: rpc.discover)", api.addr);
    println!("  health         http://{}/health   metrics http://{}/metrics", api.addr, api.addr);
    println!("  more provers   zklink prover --node http://{} --token {DEVNET_PROVER_TOKEN}", api.addr);
    println!("  restore        zklink restore --network {} (from L1 alone)", dir.join(NETWORK_FILE).display());
    for (oracle, oracle_api) in oracles {
        println!(
            "  oracle         http://{} ({}, threshold 2 of {})",
            oracle_api.addr,
            oracle.address(),
            oracles.len()
        );
    }
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
