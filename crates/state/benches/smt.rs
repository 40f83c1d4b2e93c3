//! Sparse Merkle tree benchmarks: batched root recomputation, path extraction, hash counts.
//!
//! Run with `cargo bench -p zklink-state --bench smt`.

// A benchmark: it reports to the person running it (criterion's macros declare undocumented items).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use ark_bn254::Fr;
use ark_ff::Zero;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use zklink_state::smt::{DefaultHashes, SparseMerkleTree};

const LEVELS: u32 = 12;
const EXISTING: usize = 100_000;
const UPDATES: usize = 1_000;

/// splitmix64: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn leaf(&mut self) -> Fr {
        Fr::from(self.next() | 1)
    }
}

fn populated_tree() -> SparseMerkleTree {
    let defaults = DefaultHashes::new(LEVELS, Fr::zero());
    let capacity = defaults.capacity();
    let mut rng = Rng(1);
    let leaves: Vec<(u64, Fr)> = (0..EXISTING).map(|_| (rng.next() % capacity, rng.leaf())).collect();
    let start = Instant::now();
    let tree = SparseMerkleTree::from_leaves(defaults, leaves).expect("indices are in range");
    eprintln!(
        "from_leaves: {} leaves in a {LEVELS}-level tree built in {:.2?}; {} stored nodes, \
         heap {:.1} MiB",
        tree.len(),
        start.elapsed(),
        tree.stored_nodes(),
        tree.heap_bytes() as f64 / (1024.0 * 1024.0)
    );
    tree
}

fn apply_updates(tree: &mut SparseMerkleTree, rng: &mut Rng, n: usize) {
    let capacity = tree.capacity();
    for _ in 0..n {
        tree.set(rng.next() % capacity, rng.leaf()).expect("index in range");
    }
}

fn bench_smt(c: &mut Criterion) {
    let base = populated_tree();

    // hash4 evaluations per update.
    {
        let mut t = base.clone();
        let mut rng = Rng(2);
        apply_updates(&mut t, &mut rng, UPDATES);
        let batch = t.flush();
        apply_updates(&mut t, &mut rng, 1);
        let single = t.flush();
        eprintln!(
            "hash4 per update: batch of {UPDATES} random updates = {batch} hashes \
             ({:.2}/update, unbatched would be {}); single update = {single}",
            batch as f64 / UPDATES as f64,
            UPDATES * LEVELS as usize
        );
    }

    let mut group = c.benchmark_group("smt");

    group.bench_function("hash4", |b| {
        let x = [Fr::from(1u64), Fr::from(2u64), Fr::from(3u64), Fr::from(4u64)];
        b.iter(|| zklink_crypto::poseidon::hash4(black_box(&x)));
    });

    group.bench_function("path_12_levels_100k_leaves", |b| {
        let mut t = base.clone();
        let mut rng = Rng(3);
        let capacity = t.capacity();
        b.iter(|| t.path(black_box(rng.next() % capacity)).expect("in range"));
    });

    group.bench_function("set_and_root_single_update_12_levels", |b| {
        let mut t = base.clone();
        let mut rng = Rng(4);
        b.iter(|| {
            apply_updates(&mut t, &mut rng, 1);
            t.root()
        });
    });

    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("root_after_1000_updates_12_levels_100k_leaves", |b| {
        let mut rng = Rng(5);
        b.iter_batched(
            || {
                let mut t = base.clone();
                apply_updates(&mut t, &mut rng, UPDATES);
                t
            },
            |mut t| {
                let root = t.root();
                (root, t)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_smt);
criterion_main!(benches);
