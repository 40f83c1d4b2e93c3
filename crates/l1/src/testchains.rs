//! Local multi-chain test networks: one anvil per connected chain (127.0.0.1, distinct EVM chain
//! ids), each with the whole contract set deployed and the network's tokens as test ERC-20s, plus
//! the native coin. Dropping [`TestChains`] kills every anvil.
//!
//! Chains can outlive the process: [`TestChains::start_with`] keeps each chain in a state file
//! (see [`ChainsSetup`]), [`TestChains::manifest`] records what was deployed where,
//! [`TestChains::stop`] stops the anvils cleanly (their state dumped), and [`TestChains::resume`]
//! starts them again from their files with the recorded deployment, without deploying.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use serde_json::{json, Value};
use zklink_contracts::anvil::{Anvil, AnvilError, AnvilOptions};
use zklink_contracts::zklink::{Config, TestToken};
use zklink_types::{ChainId, Network, TokenId, TokenInfo, TokenOnChain};

use crate::client::{send, L1Client};
use crate::deploy::{deploy, DeployConfig, Deployment, TokenListing};
use crate::{ConfigError, L1Error};

/// The token id the native coin is listed under on every test chain.
pub const NATIVE_TOKEN_ID: u16 = 33;

/// Per-deposit cap on test chains (L2 units): 10^12 whole tokens.
pub const TEST_MAX_DEPOSIT: u128 = 1_000_000_000_000 * 1_000_000_000_000_000_000;

/// What to start.
#[derive(Clone, Debug)]
pub struct TestChainsConfig {
    /// The network: its chains (EVM chain ids, DA flags) and tokens. Contract and token addresses
    /// are replaced by the deployed ones.
    pub network: Network,
    /// Genesis state root of the network.
    pub genesis_root: B256,
    /// Block verifying keys by chunk count.
    pub block_keys: Vec<(u32, VerifyingKey<Bn254>)>,
    /// The exit circuit's verifying key.
    pub exit_key: Option<VerifyingKey<Bn254>>,
    /// The oracle set and its threshold.
    pub oracles: Vec<Address>,
    /// Signatures needed to sync.
    pub oracle_threshold: u16,
    /// L1 blocks before an unprocessed request allows exodus.
    pub priority_expiration_blocks: u64,
    /// A Timelock governor with this delay (seconds), admin = dev account 0; `None`: account 0
    /// stays governor.
    pub timelock_delay: Option<u64>,
}

/// How the anvils of a [`TestChains`] run. The default (what [`TestChains::start`] uses): ports
/// the OS picks, nothing on disk, killed with the process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainsSetup {
    /// Chain n (1-based) listens on `base_port + n − 1`. `None`: the OS picks the ports at a
    /// start, and [`TestChains::resume`] reuses the recorded ones.
    pub base_port: Option<u16>,
    /// Keep chain n in `<state_dir>/chain-<n>.json` ([`state_file`]): loaded at a resume, written
    /// by [`TestChains::save`]; each anvil's process id goes to `chain-<n>.pid` ([`pid_file`]).
    pub state_dir: Option<PathBuf>,
    /// Run the anvils in process groups of their own, so that a terminal's Ctrl-C reaches only
    /// the owner, which then stops them with [`TestChains::stop`] after its own shutdown.
    pub own_process_group: bool,
}

impl ChainsSetup {
    /// The options of the anvil of chain `index + 1` (`recorded` port: the port a resumed chain
    /// had, 0 at a start).
    fn anvil_options(&self, index: usize, chain: ChainId, recorded: u16) -> Result<AnvilOptions, ConfigError> {
        let port = match self.base_port {
            Some(base) if base != 0 => u16::try_from(index)
                .ok()
                .and_then(|i| base.checked_add(i))
                .ok_or_else(|| ConfigError::Invalid(format!("port {base} + {index} is out of range")))?,
            _ => recorded,
        };
        Ok(AnvilOptions {
            port,
            state: self.state_dir.as_deref().map(|d| state_file(d, chain.0)),
            own_process_group: self.own_process_group,
        })
    }
}

/// The state file of chain `chain` (1-based) in `dir`: `chain-<chain>.json`.
pub fn state_file(dir: &Path, chain: u8) -> PathBuf {
    dir.join(format!("chain-{chain}.json"))
}

/// The process id file of chain `chain`'s anvil in `dir`: `chain-<chain>.pid`, so that an owner
/// killed with SIGKILL can find the anvils it left running.
pub fn pid_file(dir: &Path, chain: u8) -> PathBuf {
    dir.join(format!("chain-{chain}.pid"))
}

/// Records `anvil`'s process id next to its state file, if it has one.
fn write_pid(anvil: &Anvil, setup: &ChainsSetup, chain: ChainId) -> Result<(), ConfigError> {
    let Some(dir) = setup.state_dir.as_deref() else { return Ok(()) };
    let path = pid_file(dir, chain.0);
    std::fs::write(&path, format!("{}\n", anvil.pid()))
        .map_err(|e| ConfigError::Invalid(format!("writing {}: {e}", path.display())))
}

/// What [`TestChains::start_with`] produced, enough to [`TestChains::resume`] the chains later:
/// the network (with the deployed addresses) and per chain its EVM chain id, port, deployment
/// and test tokens. [`Self::to_json`] and [`Self::from_json`] convert it to and from JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainsManifest {
    /// The network, as [`TestChains::network`].
    pub network: Network,
    /// Chains 1..=n in order.
    pub chains: Vec<ChainRecord>,
}

/// One chain of a [`ChainsManifest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRecord {
    /// The EVM chain id.
    pub evm_chain_id: u64,
    /// The port its anvil listened on (127.0.0.1).
    pub port: u16,
    /// The contracts.
    pub deployment: Deployment,
    /// The listed ERC-20s: (token id, address, decimals).
    pub tokens: Vec<(u16, Address, u8)>,
}

impl ChainsManifest {
    /// The manifest as JSON (`network`, and per chain `evmChainId`, `port`, `deployment`,
    /// `tokens`).
    pub fn to_json(&self) -> Value {
        let chains: Vec<Value> = self
            .chains
            .iter()
            .map(|c| {
                let d = &c.deployment;
                json!({
                    "evmChainId": c.evm_chain_id,
                    "port": c.port,
                    "deployment": {
                        "zklink": d.zklink,
                        "implementation": d.implementation,
                        "periphery": d.periphery,
                        "timelock": d.timelock,
                        "blockVerifiers": d.block_verifiers.iter()
                            .map(|(chunks, address)| json!({ "chunks": chunks, "address": address }))
                            .collect::<Vec<_>>(),
                        "exitVerifier": d.exit_verifier,
                        "deployedAt": d.deployed_at,
                    },
                    "tokens": c.tokens.iter()
                        .map(|(id, address, decimals)| json!({ "id": id, "address": address, "decimals": decimals }))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({ "network": self.network, "chains": chains })
    }

    /// Reads a manifest written by [`Self::to_json`]; the error says what is wrong with it.
    pub fn from_json(v: &Value) -> Result<Self, ManifestError> {
        let network: Network = serde_json::from_value(field(v, "network")?.clone()).map_err(ManifestError::Network)?;
        let chains = array(v, "chains")?
            .iter()
            .map(|c| {
                let d = field(c, "deployment")?;
                let block_verifiers = array(d, "blockVerifiers")?
                    .iter()
                    .map(|b| Ok((number(b, "chunks")?, address(b, "address")?)))
                    .collect::<Result<_, ManifestError>>()?;
                let deployment = Deployment {
                    zklink: address(d, "zklink")?,
                    implementation: address(d, "implementation")?,
                    periphery: address(d, "periphery")?,
                    timelock: optional_address(d, "timelock")?,
                    block_verifiers,
                    exit_verifier: optional_address(d, "exitVerifier")?,
                    deployed_at: number(d, "deployedAt")?,
                };
                let tokens = array(c, "tokens")?
                    .iter()
                    .map(|t| Ok((number(t, "id")?, address(t, "address")?, number(t, "decimals")?)))
                    .collect::<Result<_, ManifestError>>()?;
                Ok(ChainRecord { evm_chain_id: number(c, "evmChainId")?, port: number(c, "port")?, deployment, tokens })
            })
            .collect::<Result<Vec<_>, ManifestError>>()?;
        if chains.len() != network.chains.len() {
            return Err(ManifestError::ChainCount { chains: chains.len(), network: network.chains.len() });
        }
        Ok(Self { network, chains })
    }
}

/// What is wrong with a test chains manifest ([`ChainsManifest::from_json`]).
#[derive(thiserror::Error, Debug)]
pub enum ManifestError {
    /// A field is absent.
    #[error("test chains manifest: `{0}` is missing")]
    Missing(String),
    /// A field is not an array.
    #[error("test chains manifest: `{0}` is not an array")]
    NotArray(String),
    /// A field is not a number, or out of its type's range.
    #[error("test chains manifest: `{0}` is not a number in range")]
    NotNumber(String),
    /// A field is not a string.
    #[error("test chains manifest: `{0}` is not an address")]
    NotAddress(String),
    /// A field is a string but not an address.
    #[error("test chains manifest: `{name}` is not an address ({source})")]
    BadAddress {
        /// The field.
        name: String,
        /// Why it did not parse.
        #[source]
        source: alloy::hex::FromHexError,
    },
    /// The network does not decode.
    #[error("test chains manifest: network: {0}")]
    Network(#[source] serde_json::Error),
    /// The chains listed do not match the network's.
    #[error("test chains manifest: {chains} chains for a network of {network}")]
    ChainCount {
        /// Chains in the manifest.
        chains: usize,
        /// Chains of the network.
        network: usize,
    },
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ManifestError> {
    v.get(name).ok_or_else(|| ManifestError::Missing(name.into()))
}

fn array<'a>(v: &'a Value, name: &str) -> Result<&'a Vec<Value>, ManifestError> {
    field(v, name)?.as_array().ok_or_else(|| ManifestError::NotArray(name.into()))
}

fn number<T: TryFrom<u64>>(v: &Value, name: &str) -> Result<T, ManifestError> {
    field(v, name)?.as_u64().and_then(|n| T::try_from(n).ok()).ok_or_else(|| ManifestError::NotNumber(name.into()))
}

fn address(v: &Value, name: &str) -> Result<Address, ManifestError> {
    let s = field(v, name)?.as_str().ok_or_else(|| ManifestError::NotAddress(name.into()))?;
    s.parse().map_err(|source| ManifestError::BadAddress { name: name.into(), source })
}

fn optional_address(v: &Value, name: &str) -> Result<Option<Address>, ManifestError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => address(v, name).map(Some),
    }
}

/// One chain of a [`TestChains`].
#[derive(Debug)]
pub struct TestChain {
    /// Its node (dev account 0 deployed everything and is validator and timelock admin).
    pub anvil: Anvil,
    /// The deployment, called from dev account 0.
    pub client: L1Client,
    /// Addresses of the contracts.
    pub deployment: Deployment,
    /// The listed ERC-20s: (token id, address, decimals).
    pub tokens: Vec<(u16, Address, u8)>,
}

impl TestChain {
    /// Where a node or an oracle reaches this chain's deployment.
    pub fn endpoint(&self) -> crate::ChainEndpoint {
        crate::ChainEndpoint {
            url: self.anvil.endpoint_url(),
            zklink: self.deployment.zklink,
            deployed_at: self.deployment.deployed_at,
        }
    }

    /// The ERC-20 listed as `id` here.
    pub fn token(&self, id: u16) -> Option<Address> {
        self.tokens.iter().find(|t| t.0 == id).map(|t| t.1)
    }

    /// A client for the deployment that sends from dev account `index`.
    pub fn client_for(&self, index: usize) -> Option<L1Client> {
        Some(self.client.with_provider(self.anvil.provider(index)?))
    }

    /// Mines `blocks` empty blocks (`anvil_mine`).
    pub async fn mine(&self, blocks: u64) -> Result<(), L1Error> {
        self.anvil_rpc("anvil_mine", json!([U256::from(blocks)])).await.map(drop)
    }

    /// Moves the clock `seconds` ahead and mines a block with the new time.
    pub async fn advance_time(&self, seconds: u64) -> Result<(), L1Error> {
        self.anvil_rpc("evm_increaseTime", json!([U256::from(seconds)])).await?;
        self.mine(1).await
    }

    /// Snapshots the chain (`evm_snapshot`); [`Self::revert_to`] returns to it.
    pub async fn snapshot(&self) -> Result<Value, L1Error> {
        self.anvil_rpc("evm_snapshot", json!([])).await
    }

    /// Returns to a snapshot, dropping every later block (a reorganisation, for tests).
    pub async fn revert_to(&self, snapshot: Value) -> Result<bool, L1Error> {
        let reverted = self.anvil_rpc("evm_revert", json!([snapshot])).await?;
        Ok(reverted.as_bool().unwrap_or(false))
    }

    async fn anvil_rpc(&self, method: &'static str, params: Value) -> Result<Value, L1Error> {
        self.client.provider().raw_request(method.into(), params).await.map_err(|e| L1Error::rpc(method, e))
    }

    /// Mints `amount` (L1 units) of token `id` to dev account `index` and approves the deployment.
    pub async fn fund(&self, index: usize, id: u16, amount: u128) -> Result<(), L1Error> {
        let provider = self.anvil.provider(index).ok_or_else(|| L1Error::config(format!("no dev account {index}")))?;
        let owner = self.anvil.address(index).unwrap_or_default();
        let address = self.token(id).ok_or_else(|| L1Error::config(format!("token {id} is not an ERC-20 here")))?;
        let token = TestToken::new(address, provider);
        send("TestToken.mint", token.mint(owner, U256::from(amount))).await?;
        send("TestToken.approve", token.approve(self.client.address(), U256::MAX)).await?;
        Ok(())
    }
}

/// N local chains with zklink deployed, and the network that describes them.
#[derive(Debug)]
pub struct TestChains {
    /// Chains 1..=n in order.
    pub chains: Vec<TestChain>,
    /// The configured network with the deployed addresses, and the native coin as token 33.
    pub network: Network,
}

impl TestChains {
    /// Starts one anvil per chain of `cfg.network` and deploys everything on each.
    pub async fn start(cfg: TestChainsConfig) -> Result<Self, L1Error> {
        Self::start_with(cfg, &ChainsSetup::default()).await
    }

    /// [`Self::start`] with the anvils set up as `setup` says (fixed ports, state files). A state
    /// file that already exists is an error: anvil would load that old chain.
    pub async fn start_with(cfg: TestChainsConfig, setup: &ChainsSetup) -> Result<Self, L1Error> {
        let mut network = cfg.network.clone();
        network.tokens.retain(|t| t.id.0 != NATIVE_TOKEN_ID);
        network.tokens.push(TokenInfo { id: TokenId(NATIVE_TOKEN_ID), symbol: "ETH".into(), chains: Vec::new() });
        let mut chains = Vec::new();
        for i in 0..network.chains.len() {
            let info = network.chains[i].clone();
            let options = setup.anvil_options(i, info.id, 0).map_err(L1Error::Config)?;
            if let Some(state) = options.state.as_deref().filter(|s| s.exists()) {
                return Err(L1Error::config(format!("{} exists: a new chain would load it", state.display())));
            }
            let anvil = Anvil::spawn_with_options(info.l1_chain_id, &options)?;
            write_pid(&anvil, setup, info.id).map_err(L1Error::Config)?;
            let provider = anvil.provider(0).ok_or_else(|| L1Error::config("anvil has no dev accounts"))?;
            let deployer = anvil.address(0).unwrap_or_default();
            let mut tokens = Vec::new();
            let mut listings = vec![TokenListing {
                id: NATIVE_TOKEN_ID,
                address: Address::ZERO,
                decimals: 18,
                max_deposit: TEST_MAX_DEPOSIT,
            }];
            for t in network.tokens.iter_mut().filter(|t| t.id.0 != NATIVE_TOKEN_ID) {
                let decimals = t.chains.iter().find(|c| c.chain == info.id).map_or(18, |c| c.decimals);
                let token = TestToken::deploy(provider.clone(), t.symbol.clone(), t.symbol.clone(), decimals, 0)
                    .await
                    .map_err(|e| L1Error::from_contract("deploy TestToken", e))?;
                let address = *token.address();
                set_token_on_chain(t, info.id, address, decimals);
                tokens.push((t.id.0, address, decimals));
                listings.push(TokenListing { id: t.id.0, address, decimals, max_deposit: TEST_MAX_DEPOSIT });
            }
            let native = network.tokens.iter_mut().find(|t| t.id.0 == NATIVE_TOKEN_ID);
            if let Some(t) = native {
                set_token_on_chain(t, info.id, Address::ZERO, 18);
            }
            let preset = &network.preset;
            let deploy_cfg = DeployConfig {
                config: Config {
                    networkId: network.network_id,
                    chainId: info.id.0,
                    chainCount: network.chains.len() as u8,
                    dataAvailability: info.data_availability,
                    accountBits: preset.account_bits as u8,
                    subAccountBits: preset.sub_account_bits as u8,
                    priorityExpirationBlocks: cfg.priority_expiration_blocks,
                },
                genesis_root: cfg.genesis_root,
                block_keys: cfg.block_keys.clone(),
                exit_key: cfg.exit_key.clone(),
                validators: vec![deployer],
                oracles: cfg.oracles.clone(),
                oracle_threshold: cfg.oracle_threshold,
                tokens: listings,
                timelock: cfg.timelock_delay.map(|d| (deployer, d)),
            };
            let deployment = deploy(&provider, deployer, &deploy_cfg).await?;
            network.chains[i].contract = deployment.zklink;
            let client = L1Client::new(provider, deployment.zklink);
            chains.push(TestChain { anvil, client, deployment, tokens });
        }
        network.validate().map_err(L1Error::config)?;
        Ok(Self { chains, network })
    }

    /// Starts the chains of `manifest` again from their state files in `setup.state_dir`
    /// (required), on the ports `setup` says or else the recorded ones, with the recorded
    /// deployment: nothing is deployed. Fails if a state file is missing, or if the chain it
    /// holds has a different chain id or no zklink contract at the recorded address.
    pub async fn resume(manifest: &ChainsManifest, setup: &ChainsSetup) -> Result<Self, L1Error> {
        let dir = setup.state_dir.as_deref().ok_or_else(|| L1Error::config("resuming needs a state directory"))?;
        if manifest.chains.len() != manifest.network.chains.len() {
            return Err(L1Error::config("test chains manifest: the chains do not match the network"));
        }
        manifest.network.validate().map_err(L1Error::config)?;
        let mut chains = Vec::new();
        for (i, (record, info)) in manifest.chains.iter().zip(&manifest.network.chains).enumerate() {
            if record.evm_chain_id != info.l1_chain_id || record.deployment.zklink != info.contract {
                return Err(L1Error::config(format!(
                    "test chains manifest: chain {} does not match the network",
                    info.id.0
                )));
            }
            let options = setup.anvil_options(i, info.id, record.port).map_err(L1Error::Config)?;
            if !options.state.as_deref().is_some_and(Path::is_file) {
                return Err(L1Error::config(format!("{} is missing", state_file(dir, info.id.0).display())));
            }
            let anvil = Anvil::spawn_with_options(record.evm_chain_id, &options)?;
            write_pid(&anvil, setup, info.id).map_err(L1Error::Config)?;
            let provider = anvil.provider(0).ok_or_else(|| L1Error::config("anvil has no dev accounts"))?;
            let chain_id = provider.get_chain_id().await.map_err(|e| L1Error::rpc("eth_chainId", e))?;
            let code =
                provider.get_code_at(record.deployment.zklink).await.map_err(|e| L1Error::rpc("eth_getCode", e))?;
            if chain_id != record.evm_chain_id || code.is_empty() {
                return Err(L1Error::config(format!(
                    "{} does not hold chain {} (EVM chain id {chain_id}, {} bytes of code at {})",
                    state_file(dir, info.id.0).display(),
                    info.id.0,
                    code.len(),
                    record.deployment.zklink
                )));
            }
            let client = L1Client::new(provider, record.deployment.zklink);
            chains.push(TestChain {
                anvil,
                client,
                deployment: record.deployment.clone(),
                tokens: record.tokens.clone(),
            });
        }
        Ok(Self { chains, network: manifest.network.clone() })
    }

    /// What was deployed where, to [`Self::resume`] from.
    pub fn manifest(&self) -> ChainsManifest {
        ChainsManifest {
            network: self.network.clone(),
            chains: self
                .chains
                .iter()
                .map(|c| ChainRecord {
                    evm_chain_id: c.anvil.chain_id(),
                    port: c.anvil.port(),
                    deployment: c.deployment.clone(),
                    tokens: c.tokens.clone(),
                })
                .collect(),
        }
    }

    /// Writes every chain with a state file to it ([`Anvil::dump_state`]), in chain order, and
    /// returns per chain the newest block its file now holds.
    pub async fn save(&self) -> Result<Vec<u64>, AnvilError> {
        let mut heights = Vec::with_capacity(self.chains.len());
        for c in &self.chains {
            heights.push(c.anvil.dump_state().await?);
        }
        Ok(heights)
    }

    /// Stops every anvil (SIGINT), waiting at most `timeout` in all; an anvil still running then
    /// is killed. The first failure is returned after every chain was stopped. Nothing is saved:
    /// [`Self::save`] first to keep the chains.
    pub fn stop(mut self, timeout: Duration) -> Result<(), AnvilError> {
        for c in &mut self.chains {
            c.anvil.request_stop();
        }
        let deadline = Instant::now() + timeout;
        let mut result = Ok(());
        for c in &mut self.chains {
            let stopped = c.anvil.wait_stopped(deadline.saturating_duration_since(Instant::now()));
            if let (Err(e), Ok(())) = (stopped, &result) {
                result = Err(e);
            }
        }
        result
    }

    /// Every chain's endpoint, in chain order (what a node is configured with).
    pub fn endpoints(&self) -> Vec<crate::ChainEndpoint> {
        self.chains.iter().map(TestChain::endpoint).collect()
    }

    /// Chain `id` (1-based).
    pub fn chain(&self, id: u8) -> &TestChain {
        &self.chains[id as usize - 1]
    }
}

fn set_token_on_chain(t: &mut TokenInfo, chain: ChainId, address: Address, decimals: u8) {
    t.chains.retain(|c| c.chain != chain);
    t.chains.push(TokenOnChain { chain, address, decimals });
    t.chains.sort_by_key(|c| c.chain.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_survives_json() {
        let network = Network::dev(3);
        let chains = network
            .chains
            .iter()
            .enumerate()
            .map(|(i, c)| ChainRecord {
                evm_chain_id: c.l1_chain_id,
                port: 8545 + i as u16,
                deployment: Deployment {
                    zklink: Address::repeat_byte(1),
                    implementation: Address::repeat_byte(2),
                    periphery: Address::repeat_byte(3),
                    timelock: (i == 0).then(|| Address::repeat_byte(4)),
                    block_verifiers: vec![(4, Address::repeat_byte(5)), (16, Address::repeat_byte(6))],
                    exit_verifier: None,
                    deployed_at: 7 + i as u64,
                },
                tokens: vec![(17, Address::repeat_byte(8), 6), (32, Address::repeat_byte(9), 18)],
            })
            .collect();
        let manifest = ChainsManifest { network, chains };
        let text = serde_json::to_string(&manifest.to_json()).unwrap();
        assert_eq!(ChainsManifest::from_json(&serde_json::from_str(&text).unwrap()).unwrap(), manifest);

        let mut broken = manifest.to_json();
        broken["chains"][1]["deployment"]["zklink"] = json!("nope");
        let err = ChainsManifest::from_json(&broken).unwrap_err().to_string();
        assert!(err.contains("`zklink` is not an address"), "{err}");
    }
}
