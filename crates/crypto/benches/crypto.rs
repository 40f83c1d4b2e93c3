//! `cargo bench -p zklink-crypto` (add `-- --quick` for a fast run).

// A benchmark: it reports to the person running it (criterion's macros declare undocumented items).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

use std::hint::black_box;

use ark_ff::PrimeField;
use criterion::{criterion_group, criterion_main, Criterion};
use light_poseidon::{Poseidon, PoseidonHasher};
use zklink_crypto::eddsa::{PrivateKey, PublicKey, Signature};
use zklink_crypto::{poseidon, sha256, Fr};

fn fe(i: u8) -> Fr {
    Fr::from_le_bytes_mod_order(&sha256(&[i]))
}

fn bench_poseidon(c: &mut Criterion) {
    let x: [Fr; 5] = std::array::from_fn(|i| fe(i as u8));
    c.bench_function("poseidon/hash2", |b| b.iter(|| poseidon::hash2(black_box(x[0]), black_box(x[1]))));
    c.bench_function("poseidon/hash4", |b| {
        let four = [x[0], x[1], x[2], x[3]];
        b.iter(|| poseidon::hash4(black_box(&four)));
    });
    c.bench_function("poseidon/hash5", |b| b.iter(|| poseidon::hash5(black_box(&x))));
    // Baseline: light-poseidon (textbook rounds, Vec state) for the same width.
    c.bench_function("poseidon/hash4_light_poseidon_baseline", |b| {
        let mut h = Poseidon::<Fr>::new_circom(4).expect("t = 5 parameters");
        b.iter(|| h.hash(black_box(&x[..4])).expect("4 inputs"));
    });
}

fn bench_eddsa(c: &mut Criterion) {
    let sk = PrivateKey::from_bytes(sha256(b"bench key"));
    let pk = sk.public_key();
    let msg = fe(99);
    let sig = sk.sign(msg);
    let pk_packed = pk.to_packed();
    let sig_packed = sig.to_packed();
    c.bench_function("eddsa/public_key", |b| b.iter(|| black_box(&sk).public_key()));
    c.bench_function("eddsa/sign", |b| b.iter(|| black_box(&sk).sign(black_box(msg))));
    c.bench_function("eddsa/verify", |b| b.iter(|| black_box(&pk).verify(black_box(msg), black_box(&sig))));
    c.bench_function("eddsa/public_key_from_packed", |b| b.iter(|| PublicKey::from_packed(black_box(&pk_packed))));
    c.bench_function("eddsa/signature_from_packed", |b| b.iter(|| Signature::from_packed(black_box(&sig_packed))));
}

criterion_group!(benches, bench_poseidon, bench_eddsa);
criterion_main!(benches);
