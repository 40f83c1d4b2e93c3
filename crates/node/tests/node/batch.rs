//! Batches (`StateKeeper::submit_batch`): the txs are taken in order as one by one, the batch
//! stops at the first refusal, and the accepted txs are durable with one commit of the log,
//! also when the batch seals blocks on the way; a reopened keeper replays them.

use std::sync::Arc;

use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_executor::verify::VerifiedTx;
use zklink_node::{BatchOutcome, BlockStore, NodeEvent, StateKeeper, SubmitError, Submitted};
use zklink_types::test_utils::{E18, USD};
use zklink_types::{L2Tx, Network, PriorityTx, TxHash};

/// A keeper sealing at `max_chunks` over `store` (the same arguments every time, to reopen it).
fn open(store: &Arc<BlockStore>, max_chunks: usize) -> StateKeeper {
    StateKeeper::open(Network::dev(3), store.clone(), TEST_FEE_OWNER, max_chunks, 1).expect("open the keeper")
}

/// A keeper whose users 0 and 1 hold 100 USD each and have their L2 keys, with the block that
/// did it sealed (the open block is empty); the client-side mirror of its state.
fn funded(store: &Arc<BlockStore>, max_chunks: usize) -> (StateKeeper, TestNet, TestUser, TestUser) {
    let mut keeper = open(store, max_chunks);
    let mut mirror = TestNet::dev();
    let (alice, bob) = (mirror.user(0), mirror.user(1));
    for (serial, u) in [&alice, &bob].into_iter().enumerate() {
        let mut d = mirror.deposit_tx(1, u.address, 0, 17, USD, 100 * E18);
        if let PriorityTx::Deposit(d) = &mut d {
            d.serial_id.0 = serial as u64;
        }
        mirror.apply_priority(&d).unwrap();
        keeper.submit_priority(d, 1).unwrap();
        let cpk = mirror.change_pubkey_tx(u);
        mirror.apply_l2(cpk.clone()).unwrap();
        keeper.submit(cpk, 1).unwrap();
    }
    keeper.seal().unwrap();
    assert_eq!(keeper.pending_chunks(), 0);
    (keeper, mirror, alice, bob)
}

/// `n` transfers of 1 USD from `from` to `to` with consecutive nonces from `from`'s next one in
/// `mirror` (not applied to it).
fn transfers(mirror: &TestNet, from: &TestUser, to: &TestUser, n: u32) -> Vec<L2Tx> {
    let first = mirror.nonce_of(from).0;
    (first..first + n).map(|nonce| transfer_at(mirror, from, to, E18, nonce)).collect()
}

/// A transfer of `amount` from `from` to `to` at `nonce`, signed.
fn transfer_at(mirror: &TestNet, from: &TestUser, to: &TestUser, amount: u128, nonce: u32) -> L2Tx {
    let mut tx = mirror.transfer_tx(from, to.address, USD, amount, 0);
    if let L2Tx::Transfer(t) = &mut tx {
        t.nonce.0 = nonce;
    }
    tx.sign(&from.l2).unwrap()
}

fn verified(txs: &[L2Tx]) -> Vec<VerifiedTx> {
    txs.iter().map(|tx| VerifiedTx::verify(tx.clone()).unwrap()).collect()
}

fn hashes(txs: &[L2Tx]) -> Vec<TxHash> {
    txs.iter().map(|tx| tx.hash().unwrap()).collect()
}

fn applied(txs: &[L2Tx]) -> Vec<Submitted> {
    hashes(txs).into_iter().map(Submitted::Applied).collect()
}

/// The events sent so far.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<NodeEvent>) -> Vec<NodeEvent> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

/// The txs and priority requests in the write-ahead log (not the open block's timestamp entry).
fn logged_txs(store: &BlockStore) -> usize {
    store.wal().unwrap().iter().filter(|e| !matches!(e, zklink_node::store::WalEntry::Timestamp(_))).count()
}

fn root(keeper: &StateKeeper) -> zklink_crypto::Fr {
    keeper.state().clone().root()
}

#[test]
fn a_batch_is_applied_in_order_with_one_commit_and_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let (mut keeper, mut mirror, alice, bob) = funded(&store, 16);
    // 8 transfers (1 chunk each, 2 reserved each) fit a 16-chunk block: no seal.
    let txs = transfers(&mirror, &alice, &bob, 8);
    for tx in &txs {
        mirror.apply_l2(tx.clone()).unwrap();
    }
    let mut events = keeper.events().subscribe();
    let commits = store.commits();

    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(&txs), 2);
    assert!(refused.is_none(), "{refused:?}");
    assert_eq!(accepted, applied(&txs));
    assert_eq!(store.commits() - commits, 1, "one commit for the whole batch");
    assert_eq!(logged_txs(&store), 8, "one log entry per tx");
    assert_eq!(store.last_block().unwrap(), 1, "nothing sealed");
    let expected: Vec<NodeEvent> = hashes(&txs).into_iter().map(|hash| NodeEvent::TxApplied { hash }).collect();
    assert_eq!(drain(&mut events), expected, "one event per tx, in order, once durable");
    assert_eq!(root(&keeper), mirror.state().clone().root(), "the same state as the txs one by one");

    // An empty batch: nothing written, nothing sent.
    let commits = store.commits();
    let BatchOutcome { accepted, refused } = keeper.submit_batch(Vec::new(), 2);
    assert!(accepted.is_empty() && refused.is_none());
    assert_eq!(store.commits(), commits);
    assert!(drain(&mut events).is_empty());

    // Crash: the keeper vanishes with the open block; the batch is back from the log.
    let root_before = root(&keeper);
    drop(keeper);
    let mut keeper = open(&store, 16);
    assert_eq!(root(&keeper), root_before);
    assert!(hashes(&txs).iter().all(|h| keeper.is_pending(h)));
    assert_eq!(keeper.pending_chunks(), 8);
    let again = keeper.submit(txs[3].clone(), 3);
    assert!(matches!(again, Err(SubmitError::Duplicate(h)) if h == hashes(&txs)[3]), "{again:?}");
}

#[test]
fn a_batch_stops_at_the_first_refusal_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let (mut keeper, mut mirror, alice, bob) = funded(&store, 16);
    let n = mirror.nonce_of(&alice).0;
    let (t0, t1) = (transfer_at(&mirror, &alice, &bob, E18, n), transfer_at(&mirror, &alice, &bob, E18, n + 1));
    let overdraw = transfer_at(&mirror, &alice, &bob, 1000 * E18, n + 2);
    let after = transfer_at(&mirror, &alice, &bob, E18, n + 3);
    // The state as if only the txs before the refusal were submitted.
    mirror.apply_l2(t0.clone()).unwrap();
    mirror.apply_l2(t1.clone()).unwrap();

    let batch = [t0.clone(), t1.clone(), overdraw.clone(), after.clone()];
    let commits = store.commits();
    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(&batch), 2);
    assert_eq!(accepted, applied(&batch[..2]));
    let (index, error) = refused.expect("the overdraft is refused");
    assert_eq!(index, 2);
    // The same refusal the tx gets on its own (it left no trace, so it can be submitted again).
    let alone = keeper.submit(overdraw.clone(), 2).unwrap_err();
    assert!(matches!(error, SubmitError::Rejected(_)), "{error:?}");
    assert_eq!(error.to_string(), alone.to_string());
    assert!(!keeper.is_pending(&overdraw.hash().unwrap()));
    let after_hash = after.hash().unwrap();
    assert!(!keeper.is_pending(&after_hash) && !keeper.is_queued(&after_hash), "the tx after it was not looked at");
    assert_eq!(keeper.queued(), 0);
    assert_eq!(store.commits() - commits, 1, "the accepted prefix is one commit");
    assert_eq!(root(&keeper), mirror.state().clone().root(), "only the prefix was applied");
    assert_eq!(logged_txs(&store), 2);

    // A duplicate inside the batch, and one of an earlier batch: refused as duplicates.
    let t2 = transfer_at(&mirror, &alice, &bob, E18, n + 2);
    let t3 = transfer_at(&mirror, &alice, &bob, E18, n + 3);
    mirror.apply_l2(t2.clone()).unwrap();
    let batch = [t2.clone(), t2.clone(), t3.clone()];
    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(&batch), 2);
    assert_eq!(accepted, applied(&batch[..1]));
    assert!(matches!(refused, Some((1, SubmitError::Duplicate(h))) if h == t2.hash().unwrap()), "{refused:?}");
    assert!(!keeper.is_pending(&t3.hash().unwrap()));
    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(std::slice::from_ref(&t0)), 2);
    assert!(accepted.is_empty());
    assert!(matches!(refused, Some((0, SubmitError::Duplicate(_)))), "{refused:?}");
    assert_eq!(root(&keeper), mirror.state().clone().root());

    let root_before = root(&keeper);
    drop(keeper);
    assert_eq!(root(&open(&store, 16)), root_before, "exactly the accepted txs are in the log");
}

#[test]
fn a_batch_across_block_seals_is_durable_once_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    // 4-chunk blocks: a transfer takes 1 chunk and may take 2, so a block holds 3 transfers and
    // 7 transfers seal two blocks on the way.
    let (mut keeper, mut mirror, alice, bob) = funded(&store, 4);
    let sealed = store.last_block().unwrap();
    let txs = transfers(&mirror, &alice, &bob, 7);
    for tx in &txs {
        mirror.apply_l2(tx.clone()).unwrap();
    }
    let mut events = keeper.events().subscribe();
    let commits = store.commits();

    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(&txs), 2);
    assert!(refused.is_none(), "{refused:?}");
    assert_eq!(accepted, applied(&txs));
    assert_eq!(store.last_block().unwrap(), sealed + 2);
    // The sealed blocks hold their txs (the log entries held back for them are not written):
    // two block writes and one commit of the log for the last tx.
    assert_eq!(store.commits() - commits, 3);
    let wal = store.wal().unwrap();
    assert_eq!(wal.len(), 1, "{wal:?}");
    for (i, tx) in txs[..6].iter().enumerate() {
        let block = sealed + 1 + i as u32 / 3;
        assert_eq!(store.tx_location(&tx.hash().unwrap()).unwrap().map(|(b, _)| b), Some(block));
    }
    let h = hashes(&txs);
    let applied = |i: usize| NodeEvent::TxApplied { hash: h[i] };
    let expected = vec![
        applied(0),
        applied(1),
        applied(2),
        NodeEvent::BlockSealed { number: sealed + 1 },
        applied(3),
        applied(4),
        applied(5),
        NodeEvent::BlockSealed { number: sealed + 2 },
        applied(6),
    ];
    assert_eq!(drain(&mut events), expected);
    assert_eq!(root(&keeper), mirror.state().clone().root());

    // Reopened: the blocks replay to what is stored (the keeper checks it) and the log to the
    // open block; every tx is known once.
    let root_before = root(&keeper);
    drop(keeper);
    let mut keeper = open(&store, 4);
    assert_eq!(root(&keeper), root_before);
    assert_eq!(keeper.next_block_number(), sealed + 3);
    assert_eq!(keeper.pending_chunks(), 1, "the last transfer, from the log");
    assert_eq!(keeper.take_jobs().len() as u32, sealed + 2, "every stored block is a proof job again");
    for tx in &txs {
        assert!(matches!(keeper.submit(tx.clone(), 3), Err(SubmitError::Duplicate(_))));
    }
}

#[test]
fn a_future_nonce_in_a_batch_is_queued_as_alone_and_applied_when_its_turn_comes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let (mut keeper, mut mirror, alice, bob) = funded(&store, 16);
    let n = mirror.nonce_of(&alice).0;
    let (t0, t1, t2) = (
        transfer_at(&mirror, &alice, &bob, E18, n),
        transfer_at(&mirror, &alice, &bob, E18, n + 1),
        transfer_at(&mirror, &alice, &bob, E18, n + 2),
    );
    for tx in [&t0, &t1, &t2] {
        mirror.apply_l2(tx.clone()).unwrap();
    }
    let far = transfer_at(&mirror, &alice, &bob, E18, n + 100);

    // n+2 waits; n applies; n+1 applies and promotes n+2; then a nonce too far ahead is refused.
    let batch = [t2.clone(), t0.clone(), t1.clone(), far];
    let commits = store.commits();
    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(&batch), 2);
    let h = hashes(&batch);
    assert_eq!(accepted, vec![Submitted::Queued(h[0]), Submitted::Applied(h[1]), Submitted::Applied(h[2])]);
    assert!(matches!(refused, Some((3, SubmitError::Queue(_)))), "{refused:?}");
    assert!(keeper.is_pending(&h[0]), "promoted within the batch");
    assert_eq!(keeper.queued(), 0);
    assert_eq!(store.commits() - commits, 1, "queue entry, log entries and unqueue in one commit");
    assert!(store.queued().unwrap().is_empty(), "queued and applied in the same batch: not in the stored queue");
    assert_eq!(logged_txs(&store), 3);
    assert_eq!(root(&keeper), mirror.state().clone().root());

    // A tx that waits at the end of a batch is in the stored queue and survives a crash.
    let t4 = transfer_at(&mirror, &alice, &bob, E18, n + 4);
    let BatchOutcome { accepted, refused } = keeper.submit_batch(verified(std::slice::from_ref(&t4)), 2);
    assert!(refused.is_none());
    assert_eq!(accepted, vec![Submitted::Queued(t4.hash().unwrap())]);
    let root_before = root(&keeper);
    drop(keeper);
    let keeper = open(&store, 16);
    assert_eq!(root(&keeper), root_before);
    assert!(keeper.is_queued(&t4.hash().unwrap()));
    assert!(keeper.is_pending(&h[0]));
}
