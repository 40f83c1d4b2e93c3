//! Shared set-up of the L1 tests: dev keys, oracle keys, test chains and a rollup driver that
//! seals blocks with the executor, proves them with the real prover and walks them through
//! commit → prove → sync → execute on every chain.

#![allow(dead_code)]

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use zklink_block::{fr_to_bytes, Block};
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_circuit::exit::{ExitCircuit, ExitShape};
use zklink_contracts::anvil::{anvil_binary, workspace_root, AnvilError};
use zklink_contracts::proof_to_evm;
use zklink_contracts::zklink::{commit_info, execute_info, genesis_block, sync_signing_hash, StoredBlockInfo};
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_l1::{EventReader, L1Error, TestChains, TestChainsConfig};
use zklink_prover::test_utils::dev_key_dir;
use zklink_prover::{KeyStore, INSECURE_DEV_SEED};
use zklink_state::State;
use zklink_types::{ChainId, L2Tx, Network};

/// `true` if the pinned anvil is installed; outside CI a missing anvil skips (with a message).
pub fn have_anvil() -> bool {
    match anvil_binary() {
        Ok(_) => true,
        Err(e @ AnvilError::BinaryMissing { .. }) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIPPING an anvil test: {e}");
            false
        }
        Err(e) => panic!("{e}"),
    }
}

/// One dev key setup at a time in this process. The tests of a binary run in parallel threads and
/// the key store writes its files in place: a second test wanting the same key waits, then loads
/// the first one's key instead of rewriting the files under it.
static KEY_SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The dev proving key of the 4-chunk block shape for `chains` chains (cached under target/).
pub fn block_key(network: &Network) -> ProvingKey<Bn254> {
    let _one_setup_at_a_time = KEY_SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let preset = network.preset.clone();
    let chains = network.chains.len() as u8;
    KeyStore::new(dev_key_dir(&workspace_root()))
        .load_or_setup(&BlockCircuit::shape_name(&preset, chains, 4), INSECURE_DEV_SEED, || {
            BlockCircuit::blank(&preset, chains, 4).expect("blank block circuit")
        })
        .expect("dev block key")
}

/// The dev proving key of the exit circuit.
pub fn exit_key(network: &Network) -> ProvingKey<Bn254> {
    let _one_setup_at_a_time = KEY_SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let chains = network.chains.len() as u8;
    let shape = ExitShape::new(&network.preset, chains).expect("exit shape");
    KeyStore::new(dev_key_dir(&workspace_root()))
        .load_or_setup(&ExitCircuit::shape_name(&network.preset, chains), INSECURE_DEV_SEED, || {
            ExitCircuit::blank(shape.clone())
        })
        .expect("dev exit key")
}

/// Three oracle keys, fixed so that runs are reproducible.
pub fn oracles() -> Vec<PrivateKeySigner> {
    (1..=3u8).map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(0x40 + i)).expect("valid key")).collect()
}

/// 65-byte signatures of `signers` over the sync attestation, in ascending signer order.
pub fn sync_signatures(network_id: u32, block: &StoredBlockInfo, signers: &[&PrivateKeySigner]) -> Vec<Bytes> {
    let hash = sync_signing_hash(network_id, block.blockNumber, block.syncHash);
    let mut signers = signers.to_vec();
    signers.sort_by_key(|s| s.address());
    signers.iter().map(|s| Bytes::copy_from_slice(&s.sign_hash_sync(&hash).expect("sign").as_bytes())).collect()
}

/// The genesis root of a network whose fee account is the test fee owner.
pub fn genesis_root(network: &Network) -> B256 {
    B256::from(fr_to_bytes(&State::genesis(network.preset.clone(), TEST_FEE_OWNER).root()))
}

/// Starts one anvil per chain of `network` with everything deployed.
pub async fn start(network: Network, keys: TestKeys, expiry: u64, timelock_delay: Option<u64>) -> TestChains {
    let oracle_addresses = oracles().iter().map(|o| o.address()).collect();
    TestChains::start(TestChainsConfig {
        genesis_root: genesis_root(&network),
        network,
        block_keys: keys.block.map(|pk| vec![(4, pk.vk)]).unwrap_or_default(),
        exit_key: keys.exit.map(|pk| pk.vk),
        oracles: oracle_addresses,
        oracle_threshold: 2,
        priority_expiration_blocks: expiry,
        timelock_delay,
    })
    .await
    .expect("start the test chains")
}

/// Keys to deploy verifiers for.
#[derive(Default)]
pub struct TestKeys {
    pub block: Option<ProvingKey<Bn254>>,
    pub exit: Option<ProvingKey<Bn254>>,
}

/// A sealed block with what proving it needs.
pub struct SealedForL1 {
    pub block: Block,
    pub txs: Vec<Option<L2Tx>>,
    /// The state at the block's start.
    pub start: State,
}

/// The executor plus, per chain, the blocks as stored there.
pub struct Rollup {
    pub net: TestNet,
    pub blocks: Vec<SealedForL1>,
    /// Per chain (index chain − 1): stored infos, block 0 first.
    pub stored: Vec<Vec<StoredBlockInfo>>,
    /// Per chain: the event reader feeding priority requests to the executor.
    pub readers: Vec<EventReader>,
    start: Option<State>,
    txs: Vec<Option<L2Tx>>,
}

impl Rollup {
    pub fn new(chains: &TestChains) -> Self {
        let net = TestNet::new(chains.network.clone());
        let genesis = genesis_block(genesis_root(&chains.network));
        let readers = chains
            .chains
            .iter()
            .map(|c| EventReader::new(c.client.provider().clone(), c.deployment.zklink, c.deployment.deployed_at, 0))
            .collect();
        Self {
            net,
            blocks: Vec::new(),
            stored: vec![vec![genesis]; chains.chains.len()],
            readers,
            start: None,
            txs: Vec::new(),
        }
    }

    fn begin(&mut self) {
        if self.start.is_none() {
            self.start = Some(self.net.state().clone());
        }
    }

    /// Applies every new priority request of chain `chain` (read from its events) to the executor.
    pub async fn apply_requests(&mut self, chain: u8) -> usize {
        self.begin();
        let events = self.readers[chain as usize - 1].poll().await.expect("read events");
        let mut n = 0;
        for e in events {
            if let zklink_contracts::zklink::ZkLink::ZkLinkEvents::NewPriorityRequest(r) = e.event {
                let tx = zklink_l1::events::priority_tx(ChainId(chain), &r).expect("a valid request");
                self.net.apply_priority(&tx).expect("the executor accepts the request");
                self.record(None);
                n += 1;
            }
        }
        n
    }

    /// Applies a signed L2 tx.
    pub fn apply(&mut self, tx: L2Tx) {
        self.begin();
        self.net.apply_l2(tx.clone()).expect("the executor accepts the tx");
        self.record(Some(tx));
    }

    /// Records the signed tx of the op just applied: one entry per op of the open block (the
    /// Noop chunks that aligned an on-chain op have none).
    fn record(&mut self, tx: Option<L2Tx>) {
        self.txs.resize(self.net.exec.pending_ops().len() - 1, None);
        self.txs.push(tx);
    }

    /// Seals the pending ops and computes the block's stored info on every chain.
    pub fn seal(&mut self) -> &SealedForL1 {
        let block = self.net.seal().block.clone();
        let start = self.start.take().expect("ops applied before sealing");
        let txs = std::mem::take(&mut self.txs);
        for (i, stored) in self.stored.iter_mut().enumerate() {
            let chain = ChainId(i as u8 + 1);
            let da = self.net.network().chains[i].data_availability;
            let prev = stored.last().expect("genesis").clone();
            let (_, info) = commit_info(&block, &txs, chain, da, &prev).expect("commit info");
            stored.push(info);
        }
        self.blocks.push(SealedForL1 { block, txs, start });
        self.blocks.last().expect("just pushed")
    }

    /// The commitBlocks argument of block `n` (1-based) on `chain`.
    pub fn commit_arg(&self, chain: u8, n: usize) -> zklink_contracts::zklink::CommitBlockInfo {
        let b = &self.blocks[n - 1];
        let da = self.net.network().chains[chain as usize - 1].data_availability;
        let prev = &self.stored[chain as usize - 1][n - 1];
        commit_info(&b.block, &b.txs, ChainId(chain), da, prev).expect("commit info").0
    }

    /// Block `n`'s stored info on `chain` (0 = genesis).
    pub fn stored(&self, chain: u8, n: usize) -> StoredBlockInfo {
        self.stored[chain as usize - 1][n].clone()
    }

    /// The executeBlocks argument of block `n` on `chain`.
    pub fn execute_arg(&self, chain: u8, n: usize) -> zklink_contracts::zklink::ExecuteBlockInfo {
        execute_info(&self.blocks[n - 1].block, ChainId(chain), &self.stored(chain, n)).expect("execute info")
    }

    /// A real proof of block `n` under `pk`.
    pub fn prove(&self, pk: &ProvingKey<Bn254>, n: usize) -> [U256; 8] {
        let b = &self.blocks[n - 1];
        let mut state = b.start.clone();
        let witness = BlockWitness::build(&mut state, &b.block, &b.txs).expect("witness");
        proof_to_evm(&zklink_prover::prove(pk, BlockCircuit::new(witness)).expect("prove"))
    }
}

/// The contract's error in a rejected call.
pub fn revert<T: std::fmt::Debug>(r: Result<T, L1Error>) -> zklink_contracts::zklink::ZkLink::ZkLinkErrors {
    match r {
        Err(e) => e.zklink_revert().cloned().unwrap_or_else(|| panic!("not a ZkLink revert: {e}")),
        Ok(v) => panic!("expected a revert, got {v:?}"),
    }
}

/// An address's balance of an ERC-20 on a chain.
pub async fn token_balance(chain: &zklink_l1::TestChain, token: u16, owner: Address) -> U256 {
    let address = chain.token(token).expect("listed token");
    zklink_contracts::zklink::TestToken::new(address, chain.client.provider().clone())
        .balanceOf(owner)
        .call()
        .await
        .expect("balanceOf")
}

/// Polls `done` every 200 ms until it holds; panics after `limit`.
pub async fn wait_for(what: &str, limit: std::time::Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Whether every chain has executed `blocks` blocks (and `blocks` > 0).
pub async fn executed_everywhere(chains: &TestChains, blocks: u32) -> bool {
    if blocks == 0 {
        return false;
    }
    for c in &chains.chains {
        if c.client.block_counters().await.expect("block counters").executed != blocks {
            return false;
        }
    }
    true
}
