//! A node and its API on loopback (no L1), and a mirror of its state that builds the deposits:
//! what the SDK's test modules run against.

use std::sync::Arc;

use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, NodeHandle, StateKeeper};
use zklink_types::{Network, PriorityTx};

pub(crate) struct Node {
    _dir: tempfile::TempDir,
    pub node: NodeHandle,
    pub mirror: TestNet,
    pub url: String,
    serials: u64,
}

impl Node {
    pub async fn start() -> (Node, zklink_api::Api) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
        let network = Network::dev(3);
        let keeper = StateKeeper::open(network.clone(), store.clone(), TEST_FEE_OWNER, 16, unix_now()).unwrap();
        let node = NodeHandle::new(keeper, store);
        let api = zklink_api::serve("127.0.0.1:0".parse().unwrap(), node.clone(), network.clone()).await.unwrap();
        let url = format!("http://{}", api.addr);
        (Node { _dir: dir, node, mirror: TestNet::new(network), url, serials: 0 }, api)
    }

    /// Deposits `amount` of `l1` credited as `l2` to user `n` (chain 1, the next serial id).
    pub fn deposit(&mut self, n: u64, l1: u16, l2: u16, amount: u128) -> TestUser {
        let u = self.mirror.user(n);
        let mut d = self.mirror.deposit_tx(1, u.address, 0, l1, l2, amount);
        if let PriorityTx::Deposit(d) = &mut d {
            d.serial_id.0 = self.serials;
        }
        self.serials += 1;
        self.mirror.apply_priority(&d).unwrap();
        self.node.keeper().submit_priority(d, unix_now()).unwrap();
        u
    }
}
