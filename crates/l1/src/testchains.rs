//! Local multi-chain test networks: one anvil per connected chain (127.0.0.1, distinct EVM chain
//! ids), each with the whole contract set deployed and the network's tokens as test ERC-20s, plus
//! the native coin. Dropping [`TestChains`] stops every anvil.

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use ark_bn254::Bn254;
use ark_groth16::VerifyingKey;
use serde_json::{json, Value};
use zklink_contracts::devnet::Anvil;
use zklink_contracts::zklink::{Config, TestToken};
use zklink_types::{ChainId, Network, TokenId, TokenInfo, TokenOnChain};

use crate::client::{send, L1Client};
use crate::deploy::{deploy, DeployConfig, Deployment, TokenListing};
use crate::L1Error;

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
        let provider = self.anvil.provider(index).ok_or_else(|| L1Error::Config(format!("no dev account {index}")))?;
        let owner = self.anvil.address(index).unwrap_or_default();
        let address = self.token(id).ok_or_else(|| L1Error::Config(format!("token {id} is not an ERC-20 here")))?;
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
        let mut network = cfg.network.clone();
        network.tokens.retain(|t| t.id.0 != NATIVE_TOKEN_ID);
        network.tokens.push(TokenInfo { id: TokenId(NATIVE_TOKEN_ID), symbol: "ETH".into(), chains: Vec::new() });
        let mut chains = Vec::new();
        for i in 0..network.chains.len() {
            let info = network.chains[i].clone();
            let anvil = Anvil::spawn(info.l1_chain_id)?;
            let provider = anvil.provider(0).ok_or_else(|| L1Error::Config("anvil has no dev accounts".into()))?;
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
        network.validate().map_err(L1Error::Config)?;
        Ok(Self { chains, network })
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
