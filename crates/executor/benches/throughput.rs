//! Executor throughput on the `main` preset's trees, with the cost breakdown.
//!
//! Each block is 1,000 pre-signed txs: their signatures are verified in parallel
//! (`verify_batch`), they are applied in order (`apply_verified`), and the state root is
//! computed at the end (`root()`, dirty subtrees hashed in parallel). Then, for the storage
//! goals: memory per account and time to reopen a state of N accounts with 2 balances each.
//!
//! `cargo bench -p zklink-executor --bench throughput` (env `ZKLINK_BENCH_ACCOUNTS` sets N,
//! default 100000; `ZKLINK_BENCH_QUICK=1` runs a small smoke version).

// A benchmark: it reports to the person running it (criterion's macros declare undocumented items).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

use std::time::{Duration, Instant};

use rayon::prelude::*;
use zklink_executor::testkit::{TestUser, TEST_FEE_OWNER};
use zklink_executor::{verify_batch, Executor};
use zklink_state::{RedbStore, State, StateStore};
use zklink_types::test_utils::E18;
use zklink_types::*;

const BLOCK_TXS: usize = 1000;

fn quick() -> bool {
    std::env::var("ZKLINK_BENCH_QUICK").is_ok()
}

/// The main preset with a block shape large enough for 1,000 txs (tree depths unchanged).
fn network() -> Network {
    let mut n = Network::dev(3);
    n.preset = Preset::main();
    n.preset.block_chunk_sizes = vec![4096];
    n.name = "zklink-bench".into();
    n
}

/// `users` activated accounts with 1,000 WETH and 1,000,000 USDT each, built directly in the state.
fn funded_executor(users: &[TestUser]) -> Executor {
    let net = network();
    let mut state = State::genesis(net.preset.clone(), TEST_FEE_OWNER);
    for u in users {
        let id = state.create_account(u.address).unwrap();
        state.set_pubkey_hash(id, u.pkh).unwrap();
        state.set_balance(id, SubAccountId(0), TokenId(32), 1000 * E18).unwrap();
        state.set_balance(id, SubAccountId(0), TokenId(18), 1_000_000 * E18).unwrap();
    }
    let n = users.len() as u128;
    state.set_balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(1), TokenId(32), n * 1000 * E18).unwrap();
    state.set_balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(1), TokenId(18), n * 1_000_000 * E18).unwrap();
    Executor::new(net, state).unwrap()
}

fn make_users(n: usize) -> Vec<TestUser> {
    let net = network();
    (0..n as u64).into_par_iter().map(|i| TestUser::new(i, &net)).collect()
}

struct Breakdown {
    txs: usize,
    verify: Duration,
    apply: Duration,
    root: Duration,
}

impl Breakdown {
    fn total(&self) -> Duration {
        self.verify + self.apply + self.root
    }
    fn report(&self, what: &str) {
        let t = self.total().as_secs_f64();
        let pct = |d: Duration| 100.0 * d.as_secs_f64() / t;
        println!(
            "| {what} | {} | {:.0} tx/s | {:.1} s | verify {:.2} s ({:.0}%) | apply {:.2} s ({:.0}%) | root {:.2} s ({:.0}%) |",
            self.txs,
            self.txs as f64 / t,
            t,
            self.verify.as_secs_f64(),
            pct(self.verify),
            self.apply.as_secs_f64(),
            pct(self.apply),
            self.root.as_secs_f64(),
            pct(self.root),
        );
    }
}

/// Runs pre-built blocks of txs through verify → apply → root and times each phase.
fn run_blocks(exec: &mut Executor, blocks: Vec<Vec<L2Tx>>) -> Breakdown {
    let mut b = Breakdown { txs: 0, verify: Duration::ZERO, apply: Duration::ZERO, root: Duration::ZERO };
    for (i, txs) in blocks.into_iter().enumerate() {
        let t = Instant::now();
        let verified = verify_batch(txs);
        b.verify += t.elapsed();
        let t = Instant::now();
        for v in &verified {
            exec.apply_verified(v.as_ref().expect("bench txs are valid")).expect("bench txs apply");
        }
        b.apply += t.elapsed();
        let t = Instant::now();
        exec.root();
        b.root += t.elapsed();
        exec.seal_block(BlockNumber(i as u32 + 1)).unwrap();
        b.txs += verified.len();
    }
    b
}

fn transfer(users: &[TestUser], from: usize, to: usize, nonce: u32) -> L2Tx {
    L2Tx::Transfer(Transfer {
        account_id: AccountId(from as u32 + 2),
        from_sub_account_id: SubAccountId(0),
        to: users[to].address,
        to_sub_account_id: SubAccountId(0),
        token: TokenId(32),
        amount: E18,
        fee: 1000,
        nonce: Nonce(nonce),
        signature: TxSignature::default(),
    })
    .sign(&users[from].l2)
    .unwrap()
}

fn bench_transfers(users: &[TestUser], blocks: usize) {
    let n = users.len();
    assert!(n > BLOCK_TXS + blocks, "each sender sends once per block");
    // Block k: user i sends to user (i + k + 1) mod n, with nonce k.
    let all: Vec<Vec<L2Tx>> = (0..blocks)
        .map(|k| (0..BLOCK_TXS).into_par_iter().map(|i| transfer(users, i, (i + k + 1) % n, k as u32)).collect())
        .collect();
    let mut exec = funded_executor(users);
    exec.root();
    run_blocks(&mut exec, all).report("transfers");
}

fn bench_matchings(users: &[TestUser], blocks: usize) {
    // Pairs (maker 2j, taker 2j+1) trade 1 WETH at 2 USDT through submitter users[0] (its own
    // matching nonce sequence), each order in a fresh slot so every fill is a fresh order.
    let submitter = &users[0];
    let pairs = (users.len() - 1) / 2;
    let order = |u: usize, slot: u16, sell: bool| {
        Order {
            account_id: AccountId(u as u32 + 2),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(slot),
            nonce: OrderNonce(0),
            base_token: TokenId(32),
            quote_token: TokenId(18),
            amount: E18,
            price: Price(2 * E18),
            is_sell: sell,
            maker_fee_ratio: 10,
            taker_fee_ratio: 20,
            valid_from: 0,
            valid_until: Order::NO_EXPIRY,
            signature: TxSignature::default(),
        }
        .sign(&users[u].l2)
        .unwrap()
    };
    let all: Vec<Vec<L2Tx>> = (0..blocks)
        .map(|k| {
            (0..BLOCK_TXS)
                .into_par_iter()
                .map(|i| {
                    let seq = k * BLOCK_TXS + i;
                    let (maker, taker) = (1 + 2 * (seq % pairs), 2 + 2 * (seq % pairs));
                    let slot = (seq / pairs) as u16;
                    L2Tx::OrderMatching(Box::new(OrderMatching {
                        account_id: AccountId(2),
                        sub_account_id: SubAccountId(0),
                        nonce: Nonce(seq as u32),
                        maker: order(maker, slot, true),
                        taker: order(taker, slot, false),
                        fee_token: TokenId(18),
                        fee: 0,
                        expect_base_amount: 0,
                        expect_quote_amount: 0,
                        signature: TxSignature::default(),
                    }))
                    .sign(&submitter.l2)
                    .unwrap()
                })
                .collect()
        })
        .collect();
    let mut exec = funded_executor(users);
    exec.root();
    run_blocks(&mut exec, all).report("order matchings");
}

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<usize>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn bench_storage(accounts: usize) {
    let preset = Preset::main();
    let rss0 = rss_bytes();
    let t = Instant::now();
    let mut state = State::genesis(preset.clone(), TEST_FEE_OWNER);
    for i in 0..accounts {
        let id = state.create_account(addr_n(i as u64 + 1)).unwrap();
        state.set_balance(id, SubAccountId(0), TokenId(32), (i as u128 + 1) * E18).unwrap();
        state.set_balance(id, SubAccountId(0), TokenId(18), 7 * E18).unwrap();
    }
    let root = state.root();
    let build = t.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let t = Instant::now();
    {
        let mut store = RedbStore::open(&path).unwrap();
        let records = state.take_unsaved();
        store.commit(BlockNumber(1), root, &records).unwrap();
    }
    let write = t.elapsed();
    let file_size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    drop(state);
    let rss1 = rss_bytes();

    let t = Instant::now();
    let store = RedbStore::open(&path).unwrap();
    let stored = store.load().unwrap().unwrap();
    let load = t.elapsed();
    let t = Instant::now();
    let mut reopened = State::from_stored(preset, stored).unwrap();
    let rebuild = t.elapsed();
    assert_eq!(reopened.root(), root);
    let t = Instant::now();
    reopened.verify_leaves().unwrap();
    let verify = t.elapsed();
    let rss2 = rss_bytes();
    let heap = reopened.heap_bytes();
    let per_account = heap as f64 / accounts as f64;
    let reopen = load + rebuild;
    println!("| accounts | {accounts} (2 balances each) |");
    println!("| build from scratch (hash everything) | {:.1} s |", build.as_secs_f64());
    println!("| commit to redb | {:.1} s, file {:.0} MiB |", write.as_secs_f64(), file_size as f64 / 1048576.0);
    println!("| reopen: read records | {:.2} s |", load.as_secs_f64());
    println!("| reopen: rebuild account tree + root check | {:.2} s |", rebuild.as_secs_f64());
    println!("| full leaf verification (background on a node) | {:.2} s |", verify.as_secs_f64());
    println!("| state heap after reopen | {:.0} MiB ({per_account:.0} B/account) |", heap as f64 / 1048576.0);
    println!("| process RSS before/after build, after reopen | {} / {} / {} MiB |", rss0 >> 20, rss1 >> 20, rss2 >> 20);
    let scale = 1_000_000.0 / accounts as f64;
    println!(
        "| extrapolated to 1M accounts | reopen {:.0} s (+ {:.0} s verification), state heap {:.2} GiB |",
        reopen.as_secs_f64() * scale,
        verify.as_secs_f64() * scale,
        heap as f64 * scale / (1u64 << 30) as f64
    );
}

fn addr_n(n: u64) -> Address {
    let mut a = [0u8; 20];
    a[0] = 1;
    a[12..].copy_from_slice(&n.to_be_bytes());
    Address::from(a)
}

fn main() {
    // `cargo bench` passes `--bench`; any other filter argument is ignored.
    let (users, blocks, accounts) = if quick() {
        (1_010, 1, 2_000)
    } else {
        (2_001, 5, std::env::var("ZKLINK_BENCH_ACCOUNTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000))
    };
    println!(
        "## executor throughput (main preset trees, {BLOCK_TXS}-tx blocks, {} threads)",
        rayon::current_num_threads()
    );
    let t = Instant::now();
    let users = make_users(users);
    println!("(set-up: {} users with keys in {:.1} s)", users.len(), t.elapsed().as_secs_f64());
    println!("| workload | txs | throughput | total | signatures | apply | root hashing |");
    println!("|---|---|---|---|---|---|---|");
    bench_transfers(&users, blocks);
    bench_matchings(&users, blocks);
    println!();
    println!("## state storage (main preset)");
    println!("| what | figure |");
    println!("|---|---|");
    bench_storage(accounts);
}
