//! Restore test helpers: users' own L1 clients, and restore configurations for test chains.

#![allow(dead_code)]

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use zklink_executor::testkit::{TestUser, TEST_FEE_OWNER};
use zklink_l1::{L1Client, TestChains};
use zklink_restore::RestoreConfig;

/// An L1 client of `chain` that signs with `user`'s L1 key, funded with gas money.
pub async fn user_client(chains: &TestChains, chain: u8, user: &TestUser) -> L1Client {
    let c = chains.chain(chain);
    let signer = PrivateKeySigner::from_bytes(&B256::from_slice(&user.l1.to_bytes())).unwrap();
    let _: serde_json::Value = c
        .client
        .provider()
        .raw_request("anvil_setBalance".into(), (user.address, U256::from(10u128.pow(20))))
        .await
        .unwrap();
    L1Client::new(zklink_l1::client::connect(c.endpoint().url, signer), c.deployment.zklink)
}

/// `user`'s clients of every chain, in chain order.
pub async fn user_clients(chains: &TestChains, user: &TestUser) -> Vec<L1Client> {
    let mut out = Vec::new();
    for c in 1..=chains.chains.len() as u8 {
        out.push(user_client(chains, c, user).await);
    }
    out
}

/// Restoring `chains` into `dir/state.redb`.
pub fn restore_config(chains: &TestChains, dir: &std::path::Path, checkpoint_every: u32) -> RestoreConfig {
    RestoreConfig {
        network: chains.network.clone(),
        fee_owner: TEST_FEE_OWNER,
        chains: chains.endpoints(),
        state_path: dir.join("state.redb"),
        checkpoint_every,
    }
}
