//! The restore path refuses what an honest history could not contain, with the error that names
//! it: pubdata that is not whole chunks, not canonical, or not the data a chain committed to; a
//! stored root the ops do not reach; a chain that stores another block.

use alloy::primitives::B256;
use zklink_block::{fr_to_bytes, Block};
use zklink_contracts::zklink::{commit_info, genesis_block, StoredBlockInfo};
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_restore::{check_stored, BlockReplayer, RestoreError};
use zklink_state::State;
use zklink_types::test_utils::E18;
use zklink_types::Network;

/// Two blocks of a dev network (deposits, then a key and a transfer) with what chain 1 (the
/// data-availability chain) stores for each.
fn history() -> (Network, Vec<(Block, StoredBlockInfo, StoredBlockInfo)>) {
    let mut net = TestNet::dev();
    let (alice, bob) = (net.user(0), net.user(1));
    net.deposit(1, &alice, 0, 32, 32, 10 * E18);
    net.deposit(2, &bob, 0, 32, 32, E18);
    net.seal();
    net.activate(&alice);
    let tx = net.transfer_tx(&alice, bob.address, 32, E18, 0);
    net.apply_l2(tx).unwrap();
    net.seal();
    let network = net.network().clone();
    let genesis = State::genesis(network.preset.clone(), TEST_FEE_OWNER).root();
    let mut prev = genesis_block(B256::from(fr_to_bytes(&genesis)));
    let mut out = Vec::new();
    for sealed in &net.blocks {
        let (_, stored) = commit_info(&sealed.block, &[], network.chains[0].id, true, &prev).unwrap();
        out.push((sealed.block.clone(), prev.clone(), stored.clone()));
        prev = stored;
    }
    (network, out)
}

fn replayer(network: &Network) -> BlockReplayer {
    BlockReplayer::new(network.clone(), State::genesis(network.preset.clone(), TEST_FEE_OWNER)).unwrap()
}

#[test]
fn an_honest_history_replays() {
    let (network, blocks) = history();
    let mut r = replayer(&network);
    for (block, prev, stored) in &blocks {
        let rebuilt = r.rebuild(block.number.0, &block.pubdata().unwrap(), stored).unwrap();
        check_stored(&rebuilt, &network.chains[0], prev, stored).unwrap();
        r.apply(&rebuilt).unwrap();
    }
    assert_eq!(B256::from(fr_to_bytes(&r.root())), blocks[1].2.stateRoot);
}

#[test]
fn malformed_pubdata_is_refused() {
    let (network, blocks) = history();
    let (block, _, stored) = &blocks[0];
    let pubdata = block.pubdata().unwrap();
    let bad = |e: RestoreError| matches!(e, RestoreError::BadPubdata { block: 1, .. });
    // Not whole chunks, empty, an unknown op code, non-zero padding.
    assert!(bad(replayer(&network).rebuild(1, &pubdata[..pubdata.len() - 1], stored).unwrap_err()));
    assert!(bad(replayer(&network).rebuild(1, &[], stored).unwrap_err()));
    let mut unknown = pubdata.clone();
    unknown[0] = 0x7f;
    assert!(bad(replayer(&network).rebuild(1, &unknown, stored).unwrap_err()));
    let mut padded = pubdata.clone();
    *padded.last_mut().unwrap() = 1;
    assert!(bad(replayer(&network).rebuild(1, &padded, stored).unwrap_err()));
}

#[test]
fn pubdata_other_than_the_committed_is_caught_by_every_chains_stored_info() {
    let (network, blocks) = history();
    let (block, prev, stored) = &blocks[0];
    // The first deposit's amount changed (a lying endpoint's calldata): it still decodes, but
    // the commitment the chain stores is not this block's.
    let mut pubdata = block.pubdata().unwrap();
    pubdata[26] ^= 1;
    let mut r = replayer(&network);
    let rebuilt = r.rebuild(1, &pubdata, stored).unwrap();
    match check_stored(&rebuilt, &network.chains[0], prev, stored).unwrap_err() {
        RestoreError::BlockMismatch { block: 1, chain: 1, what } => assert!(what.contains("commitment"), "{what}"),
        other => panic!("{other}"),
    }
    // Applied anyway, it cannot reach the stored root.
    match r.apply(&rebuilt).unwrap_err() {
        RestoreError::RootMismatch { block: 1, stored: root, .. } => assert_eq!(root, stored.stateRoot),
        other => panic!("{other}"),
    }
}

#[test]
fn a_chain_storing_another_block_is_named() {
    let (network, blocks) = history();
    let (block, prev, stored) = &blocks[1];
    let mut other = stored.clone();
    other.timestamp += 1;
    other.priorityOperations += 1;
    match check_stored(block, &network.chains[0], prev, &other).unwrap_err() {
        RestoreError::BlockMismatch { block: 2, chain: 1, what } => {
            assert!(what.contains("timestamp") && what.contains("priority operations"), "{what}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn ops_that_do_not_fit_the_restored_state_are_refused() {
    let (network, blocks) = history();
    // Block 2 replayed on genesis (block 1 skipped): alice has no account yet.
    let (block, _, stored) = &blocks[1];
    let mut r = replayer(&network);
    let rebuilt = r.rebuild(2, &block.pubdata().unwrap(), stored).unwrap();
    assert!(matches!(r.apply(&rebuilt).unwrap_err(), RestoreError::Replay { block: 2, index: 0, .. }));
}
