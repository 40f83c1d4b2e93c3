//! Export of verifying keys, proofs and public inputs in snarkjs's JSON format, so that an
//! independent implementation (snarkjs `groth16.verify`) can check our proofs. Coordinates are
//! decimal strings, points affine with a trailing "1" (G2: `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`).

use ark_bn254::{G1Affine, G2Affine};
use ark_ff::PrimeField;
use serde_json::{json, Value};
use zklink_crypto::Fr;

use crate::{Proof, VerifyingKey};

fn dec<F: PrimeField>(f: &F) -> String {
    f.into_bigint().to_string()
}

fn g1(p: &G1Affine) -> Value {
    json!([dec(&p.x), dec(&p.y), "1"])
}

fn g2(p: &G2Affine) -> Value {
    json!([[dec(&p.x.c0), dec(&p.x.c1)], [dec(&p.y.c0), dec(&p.y.c1)], ["1", "0"]])
}

pub fn verifying_key(vk: &VerifyingKey) -> Value {
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len().saturating_sub(1),
        "vk_alpha_1": g1(&vk.alpha_g1),
        "vk_beta_2": g2(&vk.beta_g2),
        "vk_gamma_2": g2(&vk.gamma_g2),
        "vk_delta_2": g2(&vk.delta_g2),
        "IC": vk.gamma_abc_g1.iter().map(g1).collect::<Vec<_>>(),
    })
}

pub fn proof(p: &Proof) -> Value {
    json!({ "protocol": "groth16", "curve": "bn128", "pi_a": g1(&p.a), "pi_b": g2(&p.b), "pi_c": g1(&p.c) })
}

pub fn public_inputs(inputs: &[Fr]) -> Value {
    Value::Array(inputs.iter().map(|x| Value::String(dec(x))).collect())
}
