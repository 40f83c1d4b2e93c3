//! The state keeper over a redb store: acknowledged txs survive a crash (the keeper is dropped
//! without sealing and reopened), rejected ones leave no trace, blocks are sealed before they
//! outgrow the provable shape, and stored blocks replay to the same state and proof jobs.

use std::sync::Arc;

use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_node::{BlockStore, StateKeeper, SubmitError};
use zklink_types::{L2Tx, Network, PriorityTx, TxError};

const E18: u128 = 1_000_000_000_000_000_000;
const USD: u16 = 1;

fn with_serial(mut tx: PriorityTx, serial: u64) -> PriorityTx {
    match &mut tx {
        PriorityTx::Deposit(d) => d.serial_id.0 = serial,
        PriorityTx::FullExit(f) => f.serial_id.0 = serial,
    }
    tx
}

fn open(store: &Arc<BlockStore>) -> StateKeeper {
    StateKeeper::open(Network::dev(3), store.clone(), TEST_FEE_OWNER, 4).expect("open the keeper")
}

#[test]
fn acknowledged_txs_survive_a_crash_and_blocks_replay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.redb");
    let store = Arc::new(BlockStore::open(&path).unwrap());
    let mut keeper = open(&store);
    // A client-side mirror that builds correctly signed txs (same network, same fee owner).
    let mut mirror = TestNet::dev();
    let (alice, bob) = (mirror.user(0), mirror.user(1));

    // Each chain's queue counts from serial id 0.
    let d1 = with_serial(mirror.deposit_tx(1, alice.address, 0, 17, USD, 100 * E18), 0);
    let d2 = with_serial(mirror.deposit_tx(2, bob.address, 0, 18, USD, 50 * E18), 0);
    for d in [&d1, &d2] {
        mirror.apply_priority(d).unwrap();
    }
    let early = keeper.submit_priority(with_serial(d1.clone(), 1), 1);
    assert!(matches!(early, Err(SubmitError::OutOfOrder { chain: 1, expected: 0, got: 1 })), "{early:?}");
    keeper.submit_priority(d1.clone(), 1).unwrap();
    let again = keeper.submit_priority(d1.clone(), 1);
    assert!(matches!(again, Err(SubmitError::OutOfOrder { chain: 1, expected: 1, got: 0 })), "{again:?}");
    keeper.submit_priority(d2, 1).unwrap();
    assert_eq!((keeper.next_serial(1), keeper.next_serial(2), keeper.next_serial(3)), (1, 1, 0));

    // Alice's key: a 3-chunk op does not fit after 4 chunks of deposits, so block 1 is sealed.
    let cpk = mirror.change_pubkey_tx(&alice);
    mirror.apply_l2(cpk.clone()).unwrap();
    keeper.submit(cpk, 2).unwrap();
    assert_eq!(store.last_block().unwrap(), 1, "sealed before the block outgrew 4 chunks");

    // Rejections: a tampered signature, a duplicate, a future nonce; none is logged.
    let transfer = mirror.transfer_tx(&alice, bob.address, USD, E18, 0);
    let mut tampered = transfer.clone();
    if let L2Tx::Transfer(t) = &mut tampered {
        t.amount += 1;
    }
    assert!(matches!(keeper.submit(tampered, 2), Err(SubmitError::Rejected(_))));
    mirror.apply_l2(transfer.clone()).unwrap();
    let hash = keeper.submit(transfer.clone(), 2).unwrap();
    assert!(matches!(keeper.submit(transfer.clone(), 2), Err(SubmitError::Duplicate(h)) if h == hash));
    let mut future = mirror.transfer_tx(&alice, bob.address, USD, E18, 0);
    if let L2Tx::Transfer(t) = &mut future {
        t.nonce.0 += 1;
    }
    let future = future.sign(&alice.l2).unwrap();
    let err = keeper.submit(future, 2);
    assert!(matches!(err, Err(SubmitError::Rejected(TxError::NonceMismatch { .. }))), "a future nonce: {err:?}");
    let root = keeper.state().clone().root();

    // Crash: the keeper vanishes with an open block; everything acknowledged is back.
    drop(keeper);
    let mut keeper = open(&store);
    assert_eq!(keeper.state().clone().root(), root, "the open block was replayed from the log");
    assert_eq!(store.last_block().unwrap(), 2, "the change-pubkey (3 chunks) left no room for a transfer");
    assert_eq!(keeper.pending_chunks(), 1, "the transfer, from the log");
    assert!(matches!(keeper.submit(transfer, 3), Err(SubmitError::Duplicate(_))), "still known after the crash");
    assert_eq!(keeper.take_jobs().len(), 2, "blocks 1 and 2 are sealed and unproven");

    // Sealing writes the block and empties the log; a reopened keeper replays it exactly.
    assert_eq!(keeper.seal(3).unwrap(), Some(3));
    assert!(store.wal().unwrap().is_empty());
    assert_eq!(keeper.seal(4).unwrap(), None, "nothing to seal");
    let root = keeper.state().clone().root();
    drop(keeper);
    let mut keeper = open(&store);
    assert_eq!(keeper.state().clone().root(), root);
    assert_eq!(keeper.next_block_number(), 4);
    let jobs = keeper.take_jobs();
    assert_eq!(jobs.iter().map(|j| j.block.block.number.0).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(jobs[1].block.priority, Vec::<PriorityTx>::new());
    assert_eq!(jobs[0].block.priority.len(), 2);
}
