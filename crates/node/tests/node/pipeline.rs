//! The node's L1 pipeline on three anvil chains with real proofs: blocks sealed by the executor
//! are stored (redb) and proven, and one pipeline pass commits everything sealed, proves what
//! has a proof, syncs what is proven on every chain and executes what is synced. A new pipeline
//! over the reopened store (a restart) continues from each chain's counters. A store that is
//! behind the chains, or disagrees with them, is refused instead of overwriting L1 history.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::support::*;
use alloy::primitives::B256;
use zklink_l1::BlockCounters;
use zklink_node::prover::prove_and_store;
use zklink_node::{Action, BlockStore, ChainSender, LocalOracles, Pipeline, PipelineError, StoredBlock};
use zklink_types::test_utils::{E18, USD, USDC};
use zklink_types::{ChainId, Network};

fn pipeline(chains: &zklink_l1::TestChains, genesis: B256) -> Pipeline {
    let senders = chains
        .chains
        .iter()
        .zip(&chains.network.chains)
        .map(|(c, info)| ChainSender::new(ChainId(info.id.0), info.data_availability, c.client.clone(), genesis))
        .collect();
    Pipeline::new(senders, LocalOracles::new(chains.network.network_id, oracles()), 8)
}

fn all(k: BlockCounters) -> Vec<BlockCounters> {
    vec![k; 3]
}

#[tokio::test(flavor = "current_thread")]
async fn the_pipeline_drives_every_chain_and_resumes_after_a_restart() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let pk = block_key(&network);
    let chains = start(network, TestKeys { block: Some(pk.clone()), exit: None }, 1_000, None).await;
    let prover = zklink_prover::Prover::new(pk);
    let genesis = genesis_root(&chains.network);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blocks.redb");
    let store = BlockStore::open(&path).unwrap();

    // Three blocks: deposits on chain 2, alice's key and a transfer, a withdrawal to chain 2.
    let mut rollup = Rollup::new(&chains);
    let (alice, bob) = (rollup.net.user(0), rollup.net.user(1));
    let c2 = chains.chain(2);
    c2.fund(1, USDC, 10u128.pow(12)).await.unwrap();
    let user = c2.client_for(1).unwrap();
    let usdc = c2.token(USDC).unwrap();
    user.deposit_erc20(usdc, 10u128.pow(9), alice.address, 0, true).await.unwrap();
    user.deposit_erc20(usdc, 10u128.pow(9), bob.address, 0, true).await.unwrap();
    rollup.apply_requests(2).await;
    rollup.seal();
    rollup.apply(rollup.net.change_pubkey_tx(&alice));
    rollup.apply(rollup.net.transfer_tx(&alice, bob.address, USD, E18, 0));
    rollup.seal();
    rollup.apply(rollup.net.withdraw_tx(&alice, 2, USD, USDC, 5 * E18, 0, 0));
    rollup.seal();
    for b in &rollup.blocks {
        store.put_block(&StoredBlock::sealed(b.block.clone(), b.txs.clone(), Vec::new())).unwrap();
    }
    let out_of_order = StoredBlock::sealed(rollup.blocks[0].block.clone(), rollup.blocks[0].txs.clone(), Vec::new());
    assert!(store.put_block(&out_of_order).is_err(), "blocks are appended in order");
    for n in 1..=2 {
        let b = store.block(n).unwrap().unwrap();
        prove_and_store(&store, &prover, &mut rollup.blocks[n as usize - 1].start.clone(), &b).unwrap();
    }

    // One pass: everything sealed is committed, proofs 1..=2 land, block 2 syncs and executes.
    let mut p = pipeline(&chains, genesis);
    let report = p.step(&store).await.unwrap();
    assert!(report.actions().contains(&(1, Action::Commit, 1, 3)), "{report:?}");
    assert!(report.actions().contains(&(3, Action::Execute, 1, 2)), "{report:?}");
    let k = BlockCounters { committed: 3, proven: 2, synced: 2, executed: 2 };
    assert_eq!(p.counters().await.unwrap(), all(k));

    // Restart: the store is reopened, the prover delivers block 3, a new pipeline continues.
    drop(p);
    drop(store);
    let store = BlockStore::open(&path).unwrap();
    assert_eq!(store.last_block().unwrap(), 3);
    assert_eq!(store.block(3).unwrap().unwrap().block, rollup.blocks[2].block, "the block survives reopening");
    let b3 = store.block(3).unwrap().unwrap();
    prove_and_store(&store, &prover, &mut rollup.blocks[2].start.clone(), &b3).unwrap();
    let mut p = pipeline(&chains, genesis);
    p.step(&store).await.unwrap();
    let k = BlockCounters { committed: 3, proven: 3, synced: 3, executed: 3 };
    assert_eq!(p.counters().await.unwrap(), all(k));
    assert!(p.step(&store).await.unwrap().sent.is_empty(), "nothing left to do");
    assert_eq!(c2.client.pending_balance(alice.address, USDC).await.unwrap(), 5_000_000, "the withdrawal is claimable");

    // A store behind the chains, or with another history, is refused.
    let empty = BlockStore::open(&dir.path().join("empty.redb")).unwrap();
    let err = pipeline(&chains, genesis).step(&empty).await.unwrap_err();
    assert!(matches!(err, PipelineError::AheadOfStore { committed: 3, stored: 0, .. }), "{err}");
    let other = BlockStore::open(&dir.path().join("other.redb")).unwrap();
    for b in &rollup.blocks {
        let mut block = b.block.clone();
        block.timestamp += 1;
        other.put_block(&StoredBlock::sealed(block, b.txs.clone(), Vec::new())).unwrap();
    }
    let err = pipeline(&chains, genesis).step(&other).await.unwrap_err();
    assert!(matches!(err, PipelineError::Diverged { block: 3, .. }), "{err}");
}
