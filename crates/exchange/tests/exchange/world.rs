//! A node and its API in-process on 127.0.0.1 with funded users, for the venue's tests (also
//! included by zklink-cli's tests with `#[path]`).

use std::sync::Arc;

use zklink_exchange::service::ExchangeSettings;
use zklink_exchange::MarketConfig;
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::{AccountId, Network, PriorityTx, SubAccountId, TokenId};

/// A node and its API on 127.0.0.1 over a fresh store, and a mirror of its state for signing.
pub struct World {
    _dir: tempfile::TempDir,
    /// The node.
    pub node: NodeHandle,
    /// The executor's test kit, for users and their signed txs.
    pub mirror: TestNet,
    /// The node's API.
    pub node_url: String,
    serials: u64,
}

impl World {
    /// The node on `Network::dev(3)` and its API.
    pub async fn new() -> (World, zklink_api::Api) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
        // The main preset's 2^16 order slots (the dev preset has 4): the tests use many.
        let network = Network { preset: zklink_types::Preset::main(), ..Network::dev(3) };
        let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16, unix_now()).unwrap();
        let node = NodeHandle::new(keeper, store);
        let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
        let node_url = format!("http://{}", api.addr);
        (World { _dir: dir, node, mirror: TestNet::new(network), node_url, serials: 0 }, api)
    }

    /// Deposits `amount` (L2 units) of `l1` credited as `l2` to user `n` and sets its key.
    pub fn fund(&mut self, n: u64, l1: u16, l2: u16, amount: u128, activate: bool) -> TestUser {
        let u = self.mirror.user(n);
        let mut d = self.mirror.deposit_tx(1, u.address, 0, l1, l2, amount);
        if let PriorityTx::Deposit(d) = &mut d {
            d.serial_id.0 = self.serials;
        }
        self.serials += 1;
        self.mirror.apply_priority(&d).unwrap();
        self.node.keeper().submit_priority(d, unix_now()).unwrap();
        if activate && self.node.keeper().state().account(self.mirror.id_of(&u)).unwrap().pubkey_hash != u.pkh {
            let tx = self.mirror.change_pubkey_tx(&u);
            self.mirror.apply_l2(tx.clone()).unwrap();
            self.node.keeper().submit(tx, unix_now()).unwrap();
        }
        u
    }

    /// The account id of `u`.
    pub fn id(&self, u: &TestUser) -> AccountId {
        self.mirror.id_of(u)
    }

    /// `u`'s balance of `token` in sub-account 0, in the node's latest state.
    pub fn balance(&self, u: &TestUser, token: u16) -> u128 {
        self.node.keeper().state().balance(self.id(u), SubAccountId(0), TokenId(token))
    }

    /// The settings of a venue on this node with its journal in `dir`.
    pub fn settings(
        &self,
        dir: &std::path::Path,
        submitter: &TestUser,
        markets: Vec<MarketConfig>,
    ) -> ExchangeSettings {
        ExchangeSettings {
            node_url: self.node_url.clone(),
            data_dir: dir.to_path_buf(),
            submitter_secret: submitter.l1.to_bytes().into(),
            sub_account: SubAccountId(0),
            fee_token: "USD".into(),
            markets,
            batch: 100,
        }
    }
}
