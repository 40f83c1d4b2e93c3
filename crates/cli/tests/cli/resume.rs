//! `zklink devnet` stopped with Ctrl-C (SIGINT) and started again on the same data directory,
//! with real proofs on the dev preset:
//!
//! * the restart resumes: the same chains (ports, contract addresses, blocks and counters), the
//!   same L2 account state, and the pipeline goes on (a new transfer is executed on all 3 chains);
//! * after a SIGKILL of the devnet, its anvils (left running) are stopped cleanly by the next
//!   start, which resumes;
//! * a chain whose state file is older than the node's store (as after an anvil killed between two
//!   state dumps) is refused at start with an error that suggests `--fresh`.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::time::Duration;

use crate::devnet_process::*;
use crate::support::*;
use alloy::primitives::Address;
use zklink_types::test_utils::E18;
use zklink_types::{ChainId, Network, TokenId};

/// The native coin of the test chains.
const ETH: TokenId = TokenId(zklink_l1::NATIVE_TOKEN_ID);

#[tokio::test(flavor = "current_thread")]
async fn the_devnet_resumes_from_disk_after_ctrl_c() {
    if !have_anvil() {
        return;
    }
    let _alone = crate::ONE_DEVNET_AT_A_TIME.lock().await;
    // Made and cached before the devnet loads it (the devnet's blocks are 4-chunk dev blocks).
    block_key(&Network::dev(3));
    let dir = tempfile::tempdir().unwrap();
    let ports = Ports::pick();
    let url = ports.api();
    let friend = Address::repeat_byte(0xf1);

    // 1. A fresh devnet: deposit, activate, transfer, everything executed on every chain.
    let mut devnet = DevnetProcess::start(dir.path(), ports, &["--block-sizes", "4", "--no-exchange", "--no-pools"]);
    let w = connect(&mut devnet, &url).await;
    assert!(devnet.log_text().contains("fresh devnet"), "{}", devnet.log_text());
    let chains = manifest(dir.path());
    let l1 = clients(&chains);
    w.deposit(ChainId(1), l1_url(chains[0].0), ETH, 3 * E18, false).await.unwrap();
    wait_for("the deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) == 3 * E18)
    })
    .await;
    w.change_pubkey(ChainId(1), ETH, 0).await.unwrap();
    w.transfer(friend, ETH, E18, 0).await.unwrap();
    let sealed = wait_executed(&w, &l1, 1).await;
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.nonce, account.balance(0, ETH.0)), (2, 2 * E18));
    let before = counters(&l1).await;
    let heights = l1_heights(&l1).await;
    devnet.interrupt();
    let state = |n: u8| dir.path().join(format!("devnet/chain-{n}.json"));
    assert!((1..=3).all(|n| state(n).is_file()), "every anvil dumped its state");
    let first_chain_1 = std::fs::read(state(1)).unwrap();

    // 2. The restart resumes: same chains, same account, and the pipeline goes on.
    let mut devnet = DevnetProcess::start(dir.path(), ports, &["--block-sizes", "4", "--no-exchange", "--no-pools"]);
    let w = connect(&mut devnet, &url).await;
    // The API answers before the start-up summary is printed (the oracles start in between).
    wait_for("the resumed devnet's log", DEADLINE, async || devnet.log_text().contains("resumed from")).await;
    assert_eq!(manifest(dir.path()), chains, "same ports and contract addresses");
    assert_eq!(counters(&l1).await, before, "the chains kept their blocks");
    assert!(l1_heights(&l1).await.iter().zip(&heights).all(|(now, then)| now >= then));
    assert_eq!(w.account().await.unwrap().unwrap(), account, "the same account state");
    assert_eq!(w.block_number().await.unwrap().sealed, sealed);
    w.deposit(ChainId(1), l1_url(chains[0].0), ETH, E18, false).await.unwrap();
    wait_for("the second deposit", DEADLINE, async || {
        w.account().await.unwrap().is_some_and(|a| a.balance(0, ETH.0) == 3 * E18)
    })
    .await;
    w.transfer(friend, ETH, E18, 0).await.unwrap();
    let now_sealed = wait_executed(&w, &l1, sealed + 1).await;
    assert!(now_sealed > sealed);
    let account = w.account().await.unwrap().unwrap();
    assert_eq!((account.nonce, account.balance(0, ETH.0)), (3, 2 * E18));
    let before = counters(&l1).await;

    // 3. Killed with SIGKILL, the devnet leaves its anvils running: the next start stops them
    //    cleanly and resumes.
    devnet.kill_alone();
    let mut devnet = DevnetProcess::start(dir.path(), ports, &["--block-sizes", "4", "--no-exchange", "--no-pools"]);
    let w = connect(&mut devnet, &url).await;
    wait_for("the resumed devnet's log", DEADLINE, async || devnet.log_text().contains("resumed from")).await;
    assert!(devnet.log_text().contains("left running"), "{}", devnet.log_text());
    assert_eq!(w.account().await.unwrap().unwrap(), account);
    assert_eq!(counters(&l1).await, before);
    devnet.interrupt();

    // 4. Chain 1 rolled back to its first state file: it lost the second deposit the node took.
    std::fs::write(state(1), first_chain_1).unwrap();
    let mut devnet = DevnetProcess::start(dir.path(), ports, &["--block-sizes", "4", "--no-exchange", "--no-pools"]);
    let status = devnet.wait(Duration::from_secs(120));
    let log = devnet.log_text();
    assert!(!status.success(), "{log}");
    assert!(log.contains("priority requests") && log.contains("--fresh"), "{log}");
}
