//! What a devnet needs before its chains start: the pinned anvil (installed with npm when
//! missing), the dev proving keys (made once, then cached), and the operator's dev key.

use alloy::primitives::B256;
use anyhow::{bail, Context};
use zklink_circuit::block::BlockCircuit;
use zklink_contracts::anvil::{anvil_binary, workspace_root, AnvilError};
use zklink_prover::{KeyStore, Prover, ProvingKey, INSECURE_DEV_SEED};
use zklink_types::Network;

use std::sync::Arc;

/// Anvil's first dev key (public: anvil prints it on every start).
const ANVIL_KEY_0: [u8; 32] = [
    0xac, 0x09, 0x74, 0xbe, 0xc3, 0x9a, 0x17, 0xe3, 0x6b, 0xa4, 0xa6, 0xb4, 0xd2, 0x38, 0xff, 0x94, 0x4b, 0xac, 0xb4,
    0x78, 0xcb, 0xed, 0x5e, 0xfc, 0xae, 0x78, 0x4d, 0x7b, 0xf4, 0xf2, 0xff, 0x80,
];

/// Anvil's account 0: it deploys, validates and owns the fee account.
pub(super) fn operator() -> anyhow::Result<alloy::signers::local::PrivateKeySigner> {
    alloy::signers::local::PrivateKeySigner::from_bytes(&B256::from(ANVIL_KEY_0)).context("anvil's dev key 0")
}

/// Installs the pinned anvil with npm when it is missing.
fn ensure_anvil() -> anyhow::Result<()> {
    match anvil_binary() {
        Ok(_) => Ok(()),
        Err(AnvilError::BinaryMissing { .. }) => {
            eprintln!("installing the pinned anvil: npm ci --prefix tools/l1");
            let status = std::process::Command::new("npm")
                .args(["ci", "--prefix", "tools/l1", "--no-audit", "--no-fund"])
                .current_dir(workspace_root())
                .status()
                .context("running npm (is node installed?)")?;
            if !status.success() {
                bail!("npm ci --prefix tools/l1 failed ({status})");
            }
            anvil_binary().map(drop).context("after npm ci --prefix tools/l1")
        }
        Err(e) => Err(e.into()),
    }
}

/// The anvil binary is there and the dev proving keys are loaded (made once, then cached).
pub(super) struct Prepared {
    /// The block shapes (chunks) and their proving keys, smallest first: each has a verifier on
    /// every chain, and the node seals blocks up to the largest.
    pub(super) block_keys: Vec<(usize, Arc<Prover>)>,
    /// The exit circuit's key (its verifier is deployed; `zklink exit-proof` proves with it).
    pub(super) exit_pk: ProvingKey,
}

/// Installs anvil if needed and loads (or makes) the proving keys of `network`'s block shapes
/// `sizes` (chunks; each must be one the preset lists) and of exits.
pub(super) fn prepare(network: &Network, sizes: &[usize]) -> anyhow::Result<Prepared> {
    ensure_anvil()?;
    let preset = network.preset.clone();
    let chains = network.chains.len() as u8;
    let store = KeyStore::new(crate::paths::dev_key_dir());
    let mut sizes = sizes.to_vec();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        bail!("no block size given (the preset lists {:?})", preset.block_chunk_sizes);
    }
    let mut block_keys = Vec::new();
    for chunks in sizes {
        if !preset.block_chunk_sizes.contains(&chunks) {
            bail!("the {} preset has no {chunks}-chunk blocks (it lists {:?})", preset.name, preset.block_chunk_sizes);
        }
        eprintln!("proving key for {chunks}-chunk blocks (created once, then cached under target/zklink-keys)…");
        let name = BlockCircuit::shape_name(&preset, chains, chunks);
        let blank = BlockCircuit::blank(&preset, chains, chunks)
            .with_context(|| format!("the {chunks}-chunk block circuit of the {} preset", preset.name))?;
        let prover = store
            .load_or_setup_prover(&name, INSECURE_DEV_SEED, || blank.clone())
            .with_context(|| format!("loading or making the dev block key {name}"))?;
        block_keys.push((chunks, Arc::new(prover)));
    }
    eprintln!("proving key of exits (created once, then cached)…");
    let exit_pk = crate::restore::insecure_dev_exit_key(&store, network)?;
    Ok(Prepared { block_keys, exit_pk })
}
