//! Proving benchmark per block shape: constraints, key setup (or load), and proofs of a block
//! full of real signed transfers, with the cost breakdown (witness build, synthesis, check,
//! QAP + MSMs), constraints proven per second, verification time and peak memory. The key step
//! stores the circuit's matrices beside the key; the prove step loads both as a running prover
//! does ([`KeyStore::load_prover`]) and proves twice, synthesising only the witness each time
//! (the second row's peak RSS is what the second proof added).
//!
//! ```sh
//! cargo bench -p zklink-prover --bench prove                   # dev-4 dev-16 main-16
//! cargo bench -p zklink-prover --bench prove -- main-64        # any <preset>-<chunks>
//! ```
//!
//! Each shape runs in its own child process so that its peak RSS is its own. Keys are the
//! insecure dev keys cached under `target/zklink-keys` (made on first use).

// A benchmark: it reports to the person running it (criterion's macros declare undocumented items).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

use std::process::Command;
use std::time::{Duration, Instant};

use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_executor::testkit::TestNet;
use zklink_prover::test_utils::dev_key_dir;
use zklink_prover::{circuit_info, verify, KeyStore, INSECURE_DEV_SEED};
use zklink_types::test_utils::E18;
use zklink_types::{Network, Preset};

const CHAINS: u8 = 3;
const SHAPE_VAR: &str = "ZKLINK_BENCH_SHAPE";
const STEP_VAR: &str = "ZKLINK_BENCH_STEP";

fn main() {
    if let Ok(shape) = std::env::var(SHAPE_VAR) {
        match std::env::var(STEP_VAR).as_deref() {
            Ok("key") => key_shape(&shape),
            _ => prove_shape(&shape),
        }
        return;
    }
    // cargo passes `--bench`; anything else not starting with `-` names a shape.
    let mut shapes: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if shapes.is_empty() {
        shapes = ["dev-4", "dev-16", "main-16"].map(String::from).to_vec();
    }
    println!("Block proving, {CHAINS} chains (figures for 2 cores in docs/benchmarks.md)\n");
    println!("Keys (insecure dev setup, cached under target/zklink-keys):\n");
    println!("| shape | constraints | setup | key file | peak RSS |");
    println!("|---|---|---|---|---|");
    run_children(&shapes, "key");
    println!("\nProofs of blocks full of signed transfers:\n");
    println!("| shape | constraints | witness | synthesis | check | QAP+MSM | prove total | constraints/s | verify | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    run_children(&shapes, "prove");
}

fn run_children(shapes: &[String], step: &str) {
    let me = std::env::current_exe().expect("own path");
    for shape in shapes {
        let status = Command::new(&me).env(SHAPE_VAR, shape).env(STEP_VAR, step).status().expect("run the shape");
        assert!(status.success(), "{step} of shape {shape} failed");
    }
}

fn parse(shape: &str) -> (Preset, usize) {
    let (preset, chunks) = shape.split_once('-').expect("shape is <preset>-<chunks>, e.g. main-16");
    let preset = Preset::by_name(preset).expect("preset is dev or main");
    let chunks = chunks.parse().expect("chunk count");
    assert!(preset.block_chunk_sizes.contains(&chunks), "{chunks} is not a block size of {}", preset.name);
    (preset, chunks)
}

/// A block of `chunks` one-chunk transfers around a ring of activated users, and its witness.
fn transfer_block(preset: &Preset, chunks: usize) -> BlockWitness {
    let mut network = Network::dev(CHAINS);
    network.preset = preset.clone();
    let mut net = TestNet::new(network);
    let users: Vec<_> = (0..4).map(|i| net.user(i)).collect();
    for u in &users {
        net.deposit(1, u, 0, 18, 18, 1000 * E18);
        net.activate(u);
    }
    net.seal();
    let mut start = net.state().clone();
    let mut txs = Vec::new();
    for i in 0..chunks {
        let (from, to) = (&users[i % users.len()], &users[(i + 1) % users.len()]);
        let tx = net.transfer_tx(from, to.address, 18, (i as u128 + 1) * E18, 1000);
        net.apply_l2(tx.clone()).expect("transfer");
        txs.push(Some(tx));
    }
    let block = net.seal().block.clone();
    assert_eq!(block.chunks, chunks, "the transfers fill the shape exactly");
    BlockWitness::build(&mut start, &block, &txs).expect("witness")
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Peak resident memory of this process so far (Linux `VmHWM`).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l[6..].trim().to_string()))
        .map(|kb| {
            let kb: f64 = kb.trim_end_matches(" kB").parse().unwrap_or(0.0);
            format!("{:.2} GiB", kb / (1 << 20) as f64)
        })
        .unwrap_or_else(|| "n/a".into())
}

fn store() -> KeyStore {
    KeyStore::new(dev_key_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")))
}

/// Makes the shape's dev key unless a key for the current circuit is cached.
fn key_shape(shape: &str) {
    let (preset, chunks) = parse(shape);
    let name = BlockCircuit::shape_name(&preset, CHAINS, chunks);
    let blank = || BlockCircuit::blank(&preset, CHAINS, chunks).expect("blank circuit");
    let store = store();
    let info = circuit_info(blank()).expect("circuit info");
    if store.meta(&name).is_ok_and(|m| m.circuit.digest == info.digest) && store.matrices_path(&name).exists() {
        println!("| {shape} | {} | cached | | |", info.constraints);
        return;
    }
    let t = Instant::now();
    store.load_or_setup_prover(&name, INSECURE_DEV_SEED, blank).expect("key");
    let size = std::fs::metadata(store.pk_path(&name)).map(|m| m.len() >> 20).unwrap_or(0);
    println!("| {shape} | {} | {} | {size} MiB | {} |", info.constraints, secs(t.elapsed()), peak_rss());
}

fn prove_shape(shape: &str) {
    let (preset, chunks) = parse(shape);
    let t = Instant::now();
    let witness = transfer_block(&preset, chunks);
    let witness_time = t.elapsed();
    let input = witness.public_input;
    let name = BlockCircuit::shape_name(&preset, CHAINS, chunks);
    let prover = store().load_prover(&name).expect("the key step made the key");
    // Both proofs synthesise only the witness: the key step stored the circuit's matrices
    // beside the key, and a running prover loads them with it.
    for run in ["1st", "2nd"] {
        if run == "2nd" {
            reset_peak_rss();
        }
        let t = Instant::now();
        let (proof, report) = prover.prove_with_report(BlockCircuit::new(witness.clone())).expect("prove");
        let total = t.elapsed();
        let t = Instant::now();
        assert!(verify(&prover.vk, &[input], &proof).expect("verify"), "the proof verifies");
        let verify_time = t.elapsed();
        println!(
            "| {shape} ({run}) | {} | {} | {} | {} | {} | {} | {:.0} | {:.0} ms | {} |",
            report.constraints,
            secs(witness_time),
            secs(report.synthesis),
            secs(report.check),
            secs(report.proving),
            secs(total),
            report.constraints as f64 / total.as_secs_f64(),
            verify_time.as_secs_f64() * 1e3,
            peak_rss(),
        );
    }
}

/// Resets this process's peak RSS to its current RSS (Linux: `5` into `clear_refs`), so the next
/// reading is the peak of what follows. Memory the allocator kept from before still counts.
fn reset_peak_rss() {
    if let Err(e) = std::fs::write("/proc/self/clear_refs", "5") {
        eprintln!("cannot reset the peak RSS ({e}): the 2nd row's peak includes the first proof");
    }
}
