//! What a devnet keeps in its data directory: `devnet.json` (what was deployed where),
//! `network.json` (the public facts `zklink restore` needs), the chains' state dumps and the
//! node's and oracles' stores; resuming checks that they still tell one history.

use std::path::Path;

use anyhow::{bail, Context};
use zklink_contracts::{constructor_args, verifying_key_hash, Groth16Verifier};
use zklink_l1::{ChainsManifest, ChainsSetup, TestChains};
use zklink_node::NodeHandle;
use zklink_types::Network;

use super::setup::{operator, Prepared};
use crate::node::ChainFile;
use crate::restore::NetworkFile;

/// The devnet's manifest in its data directory.
pub(super) const MANIFEST: &str = "devnet.json";
/// The network file (`zklink restore --network`) in the devnet's data directory.
pub(super) const NETWORK_FILE: &str = "network.json";
/// The node's database directory in the devnet's data directory.
pub(super) const NODE_DIR: &str = "node";
/// The oracles' stores, one directory each, under the data directory.
pub(super) const ORACLES_DIR: &str = "oracles";

/// The chains' ports recorded in the manifest `manifest`, in chain order (none if there is no
/// readable manifest).
pub(super) fn recorded_ports(manifest: &Path) -> Vec<u16> {
    let json: Option<serde_json::Value> =
        std::fs::read(manifest).ok().and_then(|text| serde_json::from_slice(&text).ok());
    json.and_then(|j| ChainsManifest::from_json(&j).ok())
        .map(|m| m.chains.iter().map(|c| c.port).collect())
        .unwrap_or_default()
}

/// Deletes what a devnet keeps in `dir` (and nothing else there).
pub(super) fn wipe(dir: &Path, chains: u8) -> anyhow::Result<()> {
    let gone = |r: std::io::Result<()>, path: &Path| match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(anyhow::Error::new(e).context(format!("deleting {}", path.display())))
        }
        _ => Ok(()),
    };
    for chain in 1..=chains {
        for file in [zklink_l1::state_file(dir, chain), zklink_l1::pid_file(dir, chain)] {
            gone(std::fs::remove_file(&file), &file)?;
        }
    }
    for file in [MANIFEST, "node.redb"] {
        gone(std::fs::remove_file(dir.join(file)), &dir.join(file))?;
    }
    gone(std::fs::remove_dir_all(dir.join(ORACLES_DIR)), &dir.join(ORACLES_DIR))?;
    let exchange = dir.join(super::venue::EXCHANGE_DIR);
    gone(std::fs::remove_dir_all(&exchange), &exchange)?;
    gone(std::fs::remove_dir_all(dir.join(NODE_DIR)), &dir.join(NODE_DIR))
}

/// Writes `devnet.json` (atomically: a crash leaves the old one or the new one), and
/// `network.json`, the public facts `zklink restore` and `zklink wallet exodus` read.
pub(super) fn write_manifest(dir: &Path, chains: &TestChains) -> anyhow::Result<()> {
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
    let text = serde_json::to_vec_pretty(&json).context("encoding the devnet manifest")?;
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    let path = dir.join(MANIFEST);
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))
}

/// Starts the chains recorded in `manifest` from their state files and checks that their block
/// verifiers still match the proving key (a changed circuit would make every proof fail).
pub(super) async fn resume_chains(manifest: &Path, keys: &Prepared, setup: &ChainsSetup) -> anyhow::Result<TestChains> {
    let json: serde_json::Value = crate::node::read_json(manifest, "devnet manifest")?;
    let manifest = ChainsManifest::from_json(&json)?;
    if manifest.network.preset != Network::dev(3).preset {
        bail!("it was deployed for another dev preset than this build's");
    }
    let chains = TestChains::resume(&manifest, setup).await.context("starting the recorded chains")?;
    for (chunks, pk) in &keys.block_keys {
        let expected = verifying_key_hash(&constructor_args(&pk.vk).context("the block verifier's key")?);
        for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
            let Some((_, verifier)) = c.deployment.block_verifiers.iter().find(|(n, _)| *n as usize == *chunks) else {
                bail!(
                    "chain {} has no verifier for {chunks}-chunk blocks (it was deployed with other block sizes)",
                    info.id.0
                );
            };
            let hash = Groth16Verifier::new(*verifier, c.client.provider().clone())
                .verifyingKeyHash()
                .call()
                .await
                .with_context(|| format!("chain {}: reading the {chunks}-chunk block verifier", info.id.0))?;
            if hash != expected {
                bail!(
                    "chain {}'s {chunks}-chunk block verifier has another verifying key than this build's \
                     proving key (the block circuit changed since the devnet was deployed)",
                    info.id.0
                );
            }
        }
    }
    Ok(chains)
}

/// The chains and the node's store must tell the same history. A chain whose state file is older
/// than the store (anvil killed between two dumps) may have lost priority requests the node took;
/// a store older than the chains lacks blocks they committed. Either way the node cannot go on.
pub(super) async fn check_chains_match_store(chains: &TestChains, node: &NodeHandle) -> anyhow::Result<()> {
    let stored = node.store().last_block().context("reading the node's store")?;
    for (c, info) in chains.chains.iter().zip(&chains.network.chains) {
        let chain = info.id.0;
        let counters = c.client.block_counters().await.with_context(|| format!("chain {chain}"))?;
        if counters.committed > stored {
            bail!(
                "chain {chain} has {} blocks committed but the node's store only {stored}: the node's \
                 database is older than the chain",
                counters.committed
            );
        }
        let zklink = c.client.zklink();
        let queue = || format!("chain {chain}: reading the priority queue");
        let first = zklink.firstPriorityRequestId().call().await.with_context(queue)?;
        let open = zklink.totalOpenPriorityRequests().call().await.with_context(queue)?;
        let taken = node.keeper().next_serial(chain);
        if first + open < taken {
            bail!(
                "chain {chain} holds {} priority requests but the node has taken {taken}: the chain's \
                 state file is older than the node's store (was anvil killed between two state dumps?)",
                first + open
            );
        }
    }
    Ok(())
}
