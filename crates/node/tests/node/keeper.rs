//! The state keeper over a redb store: acknowledged txs survive a crash (the keeper is dropped
//! without sealing and reopened), rejected ones leave no trace, blocks are sealed before they
//! outgrow the provable shape, and stored blocks replay to the same state and proof jobs.

use std::sync::Arc;

use zklink_executor::testkit::TestUser;
use zklink_executor::testkit::{TestNet, TEST_FEE_OWNER};
use zklink_node::node::unix_now;
use zklink_node::{BlockStore, MempoolLimits, QueueError, StateKeeper, SubmitError, Submitted};
use zklink_types::test_utils::{E18, USD};
use zklink_types::{L2Tx, Network, PriorityTx};

fn with_serial(mut tx: PriorityTx, serial: u64) -> PriorityTx {
    match &mut tx {
        PriorityTx::Deposit(d) => d.serial_id.0 = serial,
        PriorityTx::FullExit(f) => f.serial_id.0 = serial,
    }
    tx
}

fn open(store: &Arc<BlockStore>) -> StateKeeper {
    StateKeeper::open(Network::dev(3), store.clone(), TEST_FEE_OWNER, 4, unix_now()).expect("open the keeper")
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

    // Rejections: a tampered signature, a duplicate; none is logged. A future nonce waits.
    let transfer = mirror.transfer_tx(&alice, bob.address, USD, E18, 0);
    let mut tampered = transfer.clone();
    if let L2Tx::Transfer(t) = &mut tampered {
        t.amount += 1;
    }
    assert!(matches!(keeper.submit(tampered, 2), Err(SubmitError::Rejected(_))));
    mirror.apply_l2(transfer.clone()).unwrap();
    let hash = keeper.submit(transfer.clone(), 2).unwrap().hash();
    assert!(matches!(keeper.submit(transfer.clone(), 2), Err(SubmitError::Duplicate(h)) if h == hash));
    let mut future = mirror.transfer_tx(&alice, bob.address, USD, E18, 0);
    if let L2Tx::Transfer(t) = &mut future {
        t.nonce.0 += 1;
    }
    let future = future.sign(&alice.l2).unwrap();
    let queued = keeper.submit(future, 2).unwrap();
    assert!(matches!(queued, Submitted::Queued(_)), "a future nonce waits: {queued:?}");
    let root = keeper.state().clone().root();

    // Crash: the keeper vanishes with an open block; everything acknowledged is back.
    drop(keeper);
    let mut keeper = open(&store);
    assert_eq!(keeper.state().clone().root(), root, "the open block was replayed from the log");
    assert_eq!(store.last_block().unwrap(), 2, "the change-pubkey (3 chunks) left no room for a transfer");
    assert_eq!(keeper.pending_chunks(), 1, "the transfer, from the log");
    assert!(
        matches!(keeper.submit(transfer.clone(), 3), Err(SubmitError::Duplicate(_))),
        "still known after the crash"
    );
    assert!(keeper.is_queued(&queued.hash()), "the queued tx survived the crash too");
    assert_eq!(keeper.take_jobs().len(), 2, "blocks 1 and 2 are sealed and unproven");

    // Sealing writes the block and empties the log; a reopened keeper replays it exactly.
    assert_eq!(keeper.seal().unwrap(), Some(3));
    assert!(store.wal().unwrap().is_empty());
    // A client retrying after its tx's block was sealed hears the same as before sealing; another
    // tx for that used nonce is refused for its nonce.
    let retry = keeper.submit(transfer.clone(), 3);
    assert!(matches!(retry, Err(SubmitError::Duplicate(h)) if h == hash), "{retry:?}");
    let reused = transfer_at(&mirror, &alice, &bob, 2 * E18, mirror.nonce_of(&alice).0 - 1);
    assert!(matches!(keeper.submit(reused, 3), Err(SubmitError::Rejected(_))));
    assert_eq!(keeper.seal().unwrap(), None, "nothing to seal");
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

/// `mirror`'s transfer from `u` with another nonce, signed again.
fn transfer_at(mirror: &TestNet, u: &TestUser, to: &TestUser, amount: u128, nonce: u32) -> L2Tx {
    let mut tx = mirror.transfer_tx(u, to.address, USD, amount, 0);
    if let L2Tx::Transfer(t) = &mut tx {
        t.nonce.0 = nonce;
    }
    tx.sign(&u.l2).unwrap()
}

#[test]
fn future_nonces_wait_durably_within_limits_and_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let limits = MempoolLimits { per_account: 3, total: 4 };
    let open =
        || StateKeeper::open_with(Network::dev(3), store.clone(), TEST_FEE_OWNER, 16, limits, unix_now()).unwrap();
    let mut keeper = open();
    let mut mirror = TestNet::dev();
    let (alice, bob) = (mirror.user(0), mirror.user(1));
    for (serial, u) in [&alice, &bob].into_iter().enumerate() {
        let d = with_serial(mirror.deposit_tx(1, u.address, 0, 17, USD, 10 * E18), serial as u64);
        mirror.apply_priority(&d).unwrap();
        keeper.submit_priority(d, 1).unwrap();
        let cpk = mirror.change_pubkey_tx(u);
        mirror.apply_l2(cpk.clone()).unwrap();
        keeper.submit(cpk, 1).unwrap();
    }
    let n = mirror.nonce_of(&alice).0;

    // Nonces n+1 and n+2 wait; the same tx again, another tx for a taken nonce and a nonce past
    // the limit are refused with their reasons.
    let t1 = transfer_at(&mirror, &alice, &bob, E18, n + 1);
    let t2 = transfer_at(&mirror, &alice, &bob, E18, n + 2);
    assert!(matches!(keeper.submit(t1.clone(), 1).unwrap(), Submitted::Queued(_)));
    assert!(matches!(keeper.submit(t2, 1).unwrap(), Submitted::Queued(_)));
    assert!(matches!(keeper.submit(t1, 1), Err(SubmitError::Duplicate(_))));
    let other = transfer_at(&mirror, &alice, &bob, 2 * E18, n + 1);
    assert!(matches!(keeper.submit(other, 1), Err(SubmitError::Queue(QueueError::NonceTaken { .. }))));
    let far = transfer_at(&mirror, &alice, &bob, E18, n + 4);
    assert!(matches!(keeper.submit(far, 1), Err(SubmitError::Queue(QueueError::NonceTooFar { .. }))));
    // Bob's n+1 fits the total of 4; his n+2 and n+3 do not (4 would wait after n+2).
    let nb = mirror.nonce_of(&bob).0;
    keeper.submit(transfer_at(&mirror, &bob, &alice, E18, nb + 1), 1).unwrap();
    // Bob's next one overdraws: it will fail when its turn comes.
    let overdraw = transfer_at(&mirror, &bob, &alice, 100 * E18, nb + 2);
    let overdraw_hash = overdraw.hash().unwrap();
    keeper.submit(overdraw, 1).unwrap();
    let full = transfer_at(&mirror, &bob, &alice, E18, nb + 3);
    assert!(matches!(keeper.submit(full, 1), Err(SubmitError::Queue(QueueError::Full { limit: 4 }))));
    assert_eq!(keeper.queued(), 4);

    // A crash keeps the queue.
    drop(keeper);
    let mut keeper = open();
    assert_eq!(keeper.queued(), 4, "the queue survived");

    // Filling the gaps applies the waiting txs in nonce order; bob's overdraft fails and is
    // recorded, and nothing after it is applied.
    let t0 = mirror.transfer_tx(&alice, bob.address, USD, E18, 0);
    assert!(matches!(keeper.submit(t0, 1).unwrap(), Submitted::Applied(_)));
    let alice_id = keeper.state().account_id_by_address(&alice.address).unwrap();
    assert_eq!(keeper.state().account(alice_id).unwrap().nonce.0, n + 3, "n, n+1 and n+2 applied");
    keeper.submit(mirror.transfer_tx(&bob, alice.address, USD, E18, 0), 1).unwrap();
    assert_eq!(keeper.queued(), 0);
    assert!(store.failure(&overdraw_hash).unwrap().is_some_and(|r| r.contains("balance")), "recorded with its reason");
    let bob_id = keeper.state().account_id_by_address(&bob.address).unwrap();
    assert_eq!(keeper.state().account(bob_id).unwrap().nonce.0, nb + 2, "n and n+1 applied, the overdraft not");

    // After another crash nothing is applied twice: the applied txs left the stored queue.
    let root = keeper.state().clone().root();
    drop(keeper);
    let keeper = open();
    assert_eq!((keeper.queued(), keeper.state().clone().root()), (0, root));
}

/// A mirror with three funded, activated users (a maker, a taker and a venue) and the keeper's
/// copy of the same history, submitted at `now`.
fn traders(keeper: &mut StateKeeper, now: u64) -> (TestNet, [TestUser; 3]) {
    let mut mirror = TestNet::dev();
    let users = [mirror.user(0), mirror.user(1), mirror.user(2)];
    for (serial, u) in users.iter().enumerate() {
        for (chain, token) in [(1u8, 32u16), (2, 18)] {
            let d = with_serial(mirror.deposit_tx(chain, u.address, 0, token, token, 100 * E18), serial as u64);
            mirror.apply_priority(&d).unwrap();
            keeper.submit_priority(d, now).unwrap();
        }
    }
    for u in &users {
        let cpk = mirror.change_pubkey_tx(u);
        mirror.apply_l2(cpk.clone()).unwrap();
        keeper.submit(cpk, now).unwrap();
    }
    (mirror, users)
}

#[test]
fn a_block_keeps_the_timestamp_its_orders_were_checked_against() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let open_at = |now| StateKeeper::open(Network::dev(3), store.clone(), TEST_FEE_OWNER, 16, now).unwrap();
    let mut keeper = open_at(1_000);
    let (mut mirror, [maker, taker, venue]) = traders(&mut keeper, 1_000);
    keeper.seal().unwrap();
    assert_eq!(store.block(store.last_block().unwrap()).unwrap().unwrap().block.timestamp, 1_000);

    // A maker order that expires at 2 000 fills in a block opened at 2 000.
    let order = |m: &TestNet, u: &TestUser, nonce, sell, until| {
        let o = m.order(u, 0, nonce, 32, 18, E18, 2 * E18, sell);
        zklink_types::Order { valid_until: until, ..o }.sign(&u.l2).unwrap()
    };
    let fill = mirror.matching_tx(
        &venue,
        order(&mirror, &maker, 0, true, 2_000),
        order(&mirror, &taker, 0, false, u32::MAX),
        18,
        0,
    );
    mirror.apply_l2(fill.clone()).unwrap();
    keeper.submit(fill, 2_000).unwrap();
    let root = keeper.state().clone().root();

    // The node crashes and restarts later: the open block replays against the timestamp it was
    // opened at, not the restart's clock, and is sealed with it.
    drop(keeper);
    let mut keeper = open_at(9_000);
    assert_eq!(keeper.state().clone().root(), root, "the fill replayed from the log");
    let sealed = keeper.seal().unwrap().unwrap();
    assert_eq!(store.block(sealed).unwrap().unwrap().block.timestamp, 2_000);

    // A block opened after the expiry refuses the next fill of that order, naming the times.
    let late = mirror.matching_tx(
        &venue,
        order(&mirror, &maker, 0, true, 2_000),
        order(&mirror, &taker, 1, false, u32::MAX),
        18,
        0,
    );
    match keeper.submit(late, 2_001) {
        Err(SubmitError::Rejected(zklink_types::TxError::OrderNotValidAt {
            valid_until: 2_000,
            timestamp: 2_001,
            ..
        })) => {}
        other => panic!("an expired order must be refused: {other:?}"),
    }
    // A clock that went back does not move block timestamps back (the contracts require it).
    let transfer = mirror.transfer_tx(&maker, taker.address, 32, E18, 0);
    mirror.apply_l2(transfer.clone()).unwrap();
    keeper.submit(transfer, 1_500).unwrap();
    let sealed = keeper.seal().unwrap().unwrap();
    assert_eq!(store.block(sealed).unwrap().unwrap().block.timestamp, 2_001);
}

#[test]
fn pool_txs_aligned_by_noops_survive_a_crash_and_replay_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(BlockStore::open(&dir.path().join("node.redb")).unwrap());
    let open_at = |now| StateKeeper::open(Network::dev(3), store.clone(), TEST_FEE_OWNER, 16, now).unwrap();
    let mut keeper = open_at(1_000);
    let (mut mirror, [lp, trader, _]) = traders(&mut keeper, 1_000);
    keeper.seal().unwrap();

    // A 1-chunk transfer, then a pool creation (starts at chunk 4), its first deposit (chunk 8),
    // a transfer at chunk 11 and a swap (starts at chunk 12): Noop chunks align the pool ops.
    let submit = |mirror: &mut TestNet, keeper: &mut StateKeeper, build: &dyn Fn(&TestNet) -> L2Tx| {
        let tx = build(mirror);
        mirror.apply_l2(tx.clone()).unwrap();
        keeper.submit(tx, 1_000).unwrap();
    };
    submit(&mut mirror, &mut keeper, &|m| m.transfer_tx(&trader, lp.address, 18, E18, 0));
    submit(&mut mirror, &mut keeper, &|m| m.create_pool_tx(&lp, 18, 32, 30, 20, 18, 0));
    let pool = zklink_types::AccountId(mirror.state().account_count() as u32 - 1);
    submit(&mut mirror, &mut keeper, &|m| m.add_liquidity_tx(&lp, pool, 40 * E18, 10 * E18, 0, 0));
    submit(&mut mirror, &mut keeper, &|m| m.transfer_tx(&trader, lp.address, 18, E18, 0));
    submit(&mut mirror, &mut keeper, &|m| m.swap_tx(&trader, pool, 18, false, E18, 0, 0));
    assert_eq!(keeper.pending_chunks(), 14);
    let root = keeper.state().clone().root();
    assert_eq!(root, mirror.exec.root());

    // A crash: the open block replays from the log with the same Noops.
    drop(keeper);
    let mut keeper = open_at(1_001);
    assert_eq!(keeper.state().clone().root(), root, "the pool txs replayed from the log");
    let sealed = keeper.seal().unwrap().unwrap();
    let stored = store.block(sealed).unwrap().unwrap();
    let codes: Vec<u8> = stored.block.ops.iter().map(zklink_types::Op::code).collect();
    assert_eq!(codes, [0x04, 0, 0, 0, 0x0a, 0, 0, 0x0b, 0x04, 0x0d]);
    assert_eq!(stored.replayed_txs().filter(|t| t.is_some()).count(), 5);

    // The stored block replays to the same state.
    drop(keeper);
    let keeper = open_at(1_002);
    assert_eq!(keeper.state().clone().root(), root);
}
