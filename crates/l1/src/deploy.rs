//! Deploys one chain's contract set: the block verifiers and the exit verifier, ZkLinkPeriphery,
//! the ZkLink implementation, the ZkLinkProxy (initialised in its constructor), the initial
//! configuration, and finally the Timelock that takes over as governor.

use alloy::primitives::{Address, B256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;
use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use zklink_contracts::verifier;
use zklink_contracts::zklink::{periphery, Config, Timelock, ZkLink, ZkLinkPeriphery, ZkLinkProxy};

use crate::client::{send, L1Client};
use crate::L1Error;

/// A token to list at deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenListing {
    /// Token id (≥ 17).
    pub id: u16,
    /// The ERC-20, or zero for the native coin.
    pub address: Address,
    /// Its L1 decimals (≤ 18).
    pub decimals: u8,
    /// Cap per deposit, L2 units.
    pub max_deposit: u128,
}

/// Everything a chain's deployment is configured with.
#[derive(Clone, Debug)]
pub struct DeployConfig {
    /// Network id, this chain's zklink id, chain count, DA flag, preset bits, request expiry.
    pub config: Config,
    /// The network's genesis state root (32-byte big-endian field element).
    pub genesis_root: B256,
    /// Verifying keys of the block circuits, by chunk count.
    pub block_keys: Vec<(u32, VerifyingKey<Bn254>)>,
    /// The exit circuit's verifying key (exodus is impossible without it).
    pub exit_key: Option<VerifyingKey<Bn254>>,
    /// Operator keys allowed to commit, execute and revert.
    pub validators: Vec<Address>,
    /// The oracle set and its threshold (none: nothing can sync until the governor sets one).
    pub oracles: Vec<Address>,
    /// Signatures needed to sync.
    pub oracle_threshold: u16,
    /// Tokens listed on this chain.
    pub tokens: Vec<TokenListing>,
    /// The Timelock's admin and delay (seconds); `None` leaves the deployer as governor (devnets).
    pub timelock: Option<(Address, u64)>,
}

/// Where one chain's contracts live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The proxy: the deployment's address for everything.
    pub zklink: Address,
    /// The ZkLink implementation behind it.
    pub implementation: Address,
    /// The ZkLinkPeriphery it delegates to.
    pub periphery: Address,
    /// The governor (a Timelock), if one was deployed.
    pub timelock: Option<Address>,
    /// Block verifiers by chunk count.
    pub block_verifiers: Vec<(u32, Address)>,
    /// The exit verifier.
    pub exit_verifier: Option<Address>,
    /// The L1 block the proxy was created in: event readers start there.
    pub deployed_at: u64,
}

/// Deploys and configures the set on the chain behind `provider`, whose signer is `deployer`.
pub async fn deploy(provider: &DynProvider, deployer: Address, cfg: &DeployConfig) -> Result<Deployment, L1Error> {
    let c = &cfg.config;
    let periphery_config = periphery::ZkLinkBase::Config {
        networkId: c.networkId,
        chainId: c.chainId,
        chainCount: c.chainCount,
        dataAvailability: c.dataAvailability,
        accountBits: c.accountBits,
        subAccountBits: c.subAccountBits,
        priorityExpirationBlocks: c.priorityExpirationBlocks,
    };
    let deployed = |what| move |e| L1Error::from_contract(what, e);
    let periphery = *ZkLinkPeriphery::deploy(provider.clone(), periphery_config)
        .await
        .map_err(deployed("deploy ZkLinkPeriphery"))?
        .address();
    let implementation =
        *ZkLink::deploy(provider.clone(), c.clone(), periphery).await.map_err(deployed("deploy ZkLink"))?.address();
    let init = ZkLink::initializeCall { governor_: deployer, genesisRoot: cfg.genesis_root }.abi_encode();
    let proxy = ZkLinkProxy::deploy_builder(provider.clone(), implementation, init.into());
    let receipt = send("deploy ZkLinkProxy", proxy).await?;
    let zklink = receipt.contract_address.ok_or_else(|| L1Error::config("the proxy deployment created no contract"))?;
    let deployed_at = receipt.block_number.unwrap_or_default();
    let client = L1Client::new(provider.clone(), zklink);
    let p = client.periphery();

    for v in &cfg.validators {
        send("setValidator", p.setValidator(*v, true)).await?;
    }
    let mut block_verifiers = Vec::new();
    for (chunks, vk) in &cfg.block_keys {
        let v = *verifier::deploy(provider, vk).await.map_err(|e| L1Error::rpc("deploy block verifier", e))?.address();
        send("setBlockVerifier", p.setBlockVerifier(*chunks, v)).await?;
        block_verifiers.push((*chunks, v));
    }
    let mut exit_verifier = None;
    if let Some(vk) = &cfg.exit_key {
        let v = *verifier::deploy(provider, vk).await.map_err(|e| L1Error::rpc("deploy exit verifier", e))?.address();
        send("setExitVerifier", p.setExitVerifier(v)).await?;
        exit_verifier = Some(v);
    }
    for t in &cfg.tokens {
        send("addToken", p.addToken(t.id, t.address, t.decimals, t.max_deposit)).await?;
    }
    if !cfg.oracles.is_empty() {
        send("setOracleSet", p.setOracleSet(cfg.oracles.clone(), cfg.oracle_threshold)).await?;
    }
    let mut timelock = None;
    if let Some((admin, delay)) = cfg.timelock {
        let t = *Timelock::deploy(provider.clone(), admin, alloy::primitives::U256::from(delay))
            .await
            .map_err(deployed("deploy Timelock"))?
            .address();
        send("setGovernor", p.setGovernor(t)).await?;
        timelock = Some(t);
    }
    tracing::info!(chain = c.chainId, %zklink, %implementation, %periphery, ?timelock, "zklink deployed");
    Ok(Deployment { zklink, implementation, periphery, timelock, block_verifiers, exit_verifier, deployed_at })
}
