//! Durable storage: reopening yields the exact root, corruption is detected, and a committed
//! block survives `kill -9` of the writer in the middle of the next commit.

use std::process::Command;

use zklink_crypto::eddsa::PubKeyHash;
use zklink_state::{MemoryStore, OrderSlot, RedbStore, State, StateError, StateStore};
use zklink_types::{AccountId, Address, BlockNumber, Nonce, OrderNonce, Preset, SlotId, SubAccountId, TokenId};

fn addr(n: u8) -> Address {
    Address::with_last_byte(n)
}

/// A state with a few accounts, balances, an order slot and a key.
fn populated(preset: Preset, accounts: u8) -> State {
    let mut s = State::genesis(preset, addr(0xfe));
    for n in 1..=accounts {
        let id = s.create_account(addr(n)).unwrap();
        s.set_balance(id, SubAccountId(0), TokenId(32), n as u128 * 1000).unwrap();
        s.set_balance(id, SubAccountId(1), TokenId(17), 7).unwrap();
    }
    s.set_order_slot(AccountId(2), SubAccountId(0), SlotId(1), OrderSlot { nonce: OrderNonce(3), residue: 99 })
        .unwrap();
    s.set_pubkey_hash(AccountId(2), PubKeyHash([9; 20])).unwrap();
    s.set_nonce(AccountId(2), Nonce(4)).unwrap();
    s
}

fn commit(store: &mut dyn StateStore, s: &mut State, block: u32) {
    let changed = s.take_unsaved();
    let root = s.root();
    store.commit(BlockNumber(block), root, &changed).unwrap();
}

#[test]
fn redb_reopen_yields_the_exact_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let mut s = populated(Preset::dev(), 10);
    {
        let mut store = RedbStore::open(&path).unwrap();
        assert_eq!(store.load().unwrap(), None);
        commit(&mut store, &mut s, 1);
        // A second block touching one account: only it is rewritten.
        s.set_balance(AccountId(3), SubAccountId(0), TokenId(32), 1).unwrap();
        assert_eq!(s.take_unsaved().len(), 1);
        s.set_balance(AccountId(3), SubAccountId(0), TokenId(32), 2).unwrap();
        commit(&mut store, &mut s, 2);
    }
    let store = RedbStore::open(&path).unwrap();
    let stored = store.load().unwrap().unwrap();
    assert_eq!(stored.block, BlockNumber(2));
    let mut reopened = State::from_stored_verified(Preset::dev(), stored).unwrap();
    assert_eq!(reopened.root(), s.root());
    assert_eq!(reopened.balance(AccountId(3), SubAccountId(0), TokenId(32)), 2);
    assert_eq!(reopened.order_slot(AccountId(2), SubAccountId(0), SlotId(1)).residue, 99);
    assert_eq!(reopened.account_id_by_address(&addr(5)), Some(AccountId(6)));
    // The reopened state keeps working: a write after reopen gives the same root as on the original.
    reopened.set_balance(AccountId(4), SubAccountId(1), TokenId(17), 8).unwrap();
    s.set_balance(AccountId(4), SubAccountId(1), TokenId(17), 8).unwrap();
    assert_eq!(reopened.root(), s.root());
}

#[test]
fn memory_store_behaves_like_redb() {
    let mut s = populated(Preset::dev(), 5);
    let mut store = MemoryStore::default();
    commit(&mut store, &mut s, 1);
    let mut reopened = State::from_stored(Preset::dev(), store.load().unwrap().unwrap()).unwrap();
    assert_eq!(reopened.root(), s.root());
}

#[test]
fn tampered_records_are_detected() {
    let mut s = populated(Preset::dev(), 5);
    let mut store = MemoryStore::default();
    commit(&mut store, &mut s, 1);
    let stored = store.load().unwrap().unwrap();

    // A changed leaf hash is caught at once by the account-tree root.
    let mut bad = stored.clone();
    bad.accounts[3].leaf_hash = zklink_crypto::Fr::from(1u64);
    assert!(matches!(State::from_stored(Preset::dev(), bad), Err(StateError::RootMismatch { .. })));

    // A changed account field or subtree root is caught by verify_leaves (run at open by
    // from_stored_verified, or in the background by a node).
    for tamper in [
        |r: &mut zklink_state::AccountRecord| r.nonce = Nonce(r.nonce.0 + 1),
        |r: &mut zklink_state::AccountRecord| r.balance_root = zklink_crypto::Fr::from(1u64),
        |r: &mut zklink_state::AccountRecord| r.address = addr(0xaa),
    ] {
        let mut bad = stored.clone();
        tamper(&mut bad.accounts[3]);
        let mut opened = State::from_stored(Preset::dev(), bad.clone()).unwrap();
        assert!(matches!(opened.verify_leaves(), Err(StateError::Corrupt(_))));
        assert!(matches!(State::from_stored_verified(Preset::dev(), bad), Err(StateError::Corrupt(_))));
    }

    // A changed balance leaf is caught when its subtree is first written.
    let mut bad = stored.clone();
    bad.accounts[3].balances[0].1 += 1;
    let mut opened = State::from_stored_verified(Preset::dev(), bad).unwrap();
    let err = opened.set_balance(AccountId(3), SubAccountId(0), TokenId(40), 1).unwrap_err();
    assert!(matches!(err, zklink_types::TxError::Internal(_)), "{err:?}");

    // Missing accounts break the dense id sequence.
    let mut bad = stored;
    bad.accounts.remove(4);
    assert!(matches!(State::from_stored(Preset::dev(), bad), Err(StateError::Corrupt(_))));
}

#[test]
fn record_decoder_rejects_malformed_bytes() {
    let mut s = populated(Preset::dev(), 3);
    let record = s.take_unsaved().into_iter().find(|r| r.id == AccountId(2)).unwrap();
    let bytes = zklink_state::store::encode_record(&record);
    assert_eq!(zklink_state::store::decode_record(AccountId(2), &bytes).unwrap(), record);
    for cut in 0..bytes.len() {
        assert!(zklink_state::store::decode_record(AccountId(2), &bytes[..cut]).is_err());
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(zklink_state::store::decode_record(AccountId(2), &long).is_err());
    // A count claiming more entries than bytes must not allocate or panic.
    let mut huge = bytes;
    huge[140..144].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(zklink_state::store::decode_record(AccountId(2), &huge).is_err());
}

const CHILD_ENV: &str = "ZKLINK_STORE_KILL_CHILD";

/// Child side of the kill test: commits block 1, prints its root, then keeps committing large
/// blocks forever until the parent kills it.
#[test]
fn kill_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else { return };
    let mut store = RedbStore::open(std::path::Path::new(&path)).unwrap();
    let mut s = populated(Preset::main(), 50);
    commit(&mut store, &mut s, 1);
    println!("ROOT1 {}", s.root());
    use std::io::Write;
    std::io::stdout().flush().unwrap();
    let mut block = 2;
    loop {
        for n in 0..2000u32 {
            let id = AccountId(n % 50 + 2);
            s.set_balance(id, SubAccountId(2), TokenId((n % 500) as u16 + 40), (block * 10_000 + n) as u128).unwrap();
        }
        commit(&mut store, &mut s, block);
        block += 1;
    }
}

#[test]
fn committed_block_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["store::kill_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until block 1 is committed, let later commits run, then SIGKILL mid-write.
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    // libtest prints "test store::kill_child ... " before the child's own output on the same line.
    let root1 = loop {
        let Some(line) = lines.next() else {
            let _ = child.kill();
            panic!("child exited without committing block 1");
        };
        if let Some((_, r)) = line.unwrap().split_once("ROOT1 ") {
            break r.trim().to_string();
        }
    };
    std::thread::sleep(std::time::Duration::from_millis(700));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let store = RedbStore::open(&path).unwrap();
    let stored = store.load().unwrap().expect("block 1 was committed");
    let block = stored.block;
    let root = stored.root;
    // Whatever block was last committed, the stored root must be reproducible exactly.
    let mut reopened = State::from_stored_verified(Preset::main(), stored).unwrap();
    assert_eq!(reopened.root(), root);
    assert!(block.0 >= 1);
    if block.0 == 1 {
        assert_eq!(root.to_string(), root1);
    }
}
