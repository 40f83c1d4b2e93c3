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

/// `vk` as a snarkjs `verification_key.json` (`protocol` groth16, `curve` bn128, `nPublic`, the
/// `vk_*` points and `IC`).
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

/// `p` as a snarkjs `proof.json` (`pi_a`, `pi_b`, `pi_c`).
pub fn proof(p: &Proof) -> Value {
    json!({ "protocol": "groth16", "curve": "bn128", "pi_a": g1(&p.a), "pi_b": g2(&p.b), "pi_c": g1(&p.c) })
}

/// The public inputs as a snarkjs `public.json`: an array of decimal strings.
pub fn public_inputs(inputs: &[Fr]) -> Value {
    Value::Array(inputs.iter().map(|x| Value::String(dec(x))).collect())
}

/// Errors running the independent snarkjs verifier.
#[derive(thiserror::Error, Debug)]
pub enum SnarkjsError {
    /// Writing the temporary files or starting `node` failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The verifier script exited with neither 0 (valid) nor 1 (invalid).
    #[error("snarkjs failed to run (exit {code:?}): {stderr}")]
    Failed {
        /// The script's exit code (`None` if killed by a signal).
        code: Option<i32>,
        /// What it wrote to stderr.
        stderr: String,
    },
}

/// Whether node and `tools/vectors/node_modules/snarkjs` (from `npm ci --prefix tools/vectors`)
/// are present under `workspace`.
pub fn available(workspace: &std::path::Path) -> bool {
    workspace.join("tools/vectors/node_modules/snarkjs").exists()
        && std::process::Command::new("node").arg("--version").output().is_ok()
}

/// Verifies with snarkjs `groth16.verify` (`tools/vectors/groth16_verify.js`): exports the key,
/// proof and inputs as snarkjs JSON to a temporary directory and reports snarkjs's verdict.
pub fn verify_with_snarkjs(
    workspace: &std::path::Path,
    vk: &VerifyingKey,
    proof: &Proof,
    inputs: &[Fr],
) -> Result<bool, SnarkjsError> {
    let dir = std::env::temp_dir().join(format!("zklink-snarkjs-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir)?;
    let write = |name: &str, v: Value| -> std::io::Result<std::path::PathBuf> {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string())?;
        Ok(p)
    };
    let files = [
        write("vk.json", verifying_key(vk))?,
        write("proof.json", self::proof(proof))?,
        write("public.json", public_inputs(inputs))?,
    ];
    let out =
        std::process::Command::new("node").arg(workspace.join("tools/vectors/groth16_verify.js")).args(&files).output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    // The script exits 0 for a valid proof, 1 for an invalid one, anything else on failure.
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        code => Err(SnarkjsError::Failed { code, stderr: String::from_utf8_lossy(&out.stderr).into() }),
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
