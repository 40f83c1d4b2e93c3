//! Groth16 end to end on a small zklink gadget: a Poseidon preimage with the hash public.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use zklink_circuit::gadgets::poseidon::poseidon;
use zklink_crypto::Fr;
use zklink_prover::*;

#[derive(Clone)]
struct Preimage {
    a: Fr,
    b: Fr,
    hash: Fr,
}

impl ConstraintSynthesizer<Fr> for Preimage {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let hash = FpVar::new_input(cs.clone(), || Ok(self.hash))?;
        let a = FpVar::new_witness(cs.clone(), || Ok(self.a))?;
        let b = FpVar::new_witness(cs, || Ok(self.b))?;
        poseidon(&[a, b])?.enforce_equal(&hash)
    }
}

fn circuit() -> Preimage {
    let (a, b) = (Fr::from(1u64), Fr::from(2u64));
    Preimage { a, b, hash: zklink_crypto::poseidon::hash2(a, b) }
}

const SEED: [u8; 32] = [7; 32];

#[test]
fn prove_and_verify_with_cached_dev_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let pk = store.load_or_setup("preimage", SEED, circuit).unwrap();
    let proof = prove(&pk, circuit()).unwrap();
    let c = circuit();
    assert!(verify(&pk.vk, &[c.hash], &proof).unwrap());
    assert!(!verify(&pk.vk, &[c.hash + Fr::from(1u64)], &proof).unwrap(), "tampered public input");

    // The cached key is loaded, not regenerated, and proves just as well.
    let again = store.load("preimage").unwrap();
    assert_eq!(again.vk, pk.vk);
    assert!(verify(&again.vk, &[c.hash], &prove(&again, circuit()).unwrap()).unwrap());

    // Same seed, same keys: the dev setup is reproducible.
    let (_, vk) = insecure_dev_setup(circuit(), SEED).unwrap();
    assert_eq!(vk, pk.vk);
}

#[test]
fn tampered_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    store.load_or_setup("preimage", SEED, circuit).unwrap();
    let path = dir.path().join("preimage.pk");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(store.load("preimage"), Err(ProverError::Integrity { .. })));
    assert!(matches!(store.load_or_setup("preimage", SEED, circuit), Err(ProverError::Integrity { .. })));
    assert!(matches!(store.load("missing"), Err(ProverError::Io { .. })));
}

#[test]
fn a_false_statement_cannot_be_proven() {
    let (pk, vk) = insecure_dev_setup(circuit(), SEED).unwrap();
    let mut lie = circuit();
    lie.hash += Fr::from(1u64);
    assert!(matches!(prove(&pk, lie.clone()), Err(ProverError::Unsatisfied(_))));
    // A valid proof of the true statement does not verify against the false public input.
    let proof = prove(&pk, circuit()).unwrap();
    assert!(!verify(&vk, &[lie.hash], &proof).unwrap());
}

/// Runs snarkjs on our exported key and proof; `None` when node or the npm tools are missing
/// outside CI (in CI that is a failure).
fn snarkjs_verifies(vk: &VerifyingKey, proof: &Proof, public: &[Fr]) -> Option<bool> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/vectors");
    let available = root.join("node_modules/snarkjs").exists()
        && std::process::Command::new("node").arg("--version").output().is_ok();
    if !available {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must have node and tools/vectors/node_modules");
        eprintln!("skipping the snarkjs cross-check: run `npm ci --prefix tools/vectors` and install node");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: serde_json::Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let vk_path = write("vk.json", snarkjs::verifying_key(vk));
    let proof_path = write("proof.json", snarkjs::proof(proof));
    let public_path = write("public.json", snarkjs::public_inputs(public));
    let out = std::process::Command::new("node")
        .arg(root.join("groth16_verify.js"))
        .args([&vk_path, &proof_path, &public_path])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(2);
    assert!(code == 0 || code == 1, "snarkjs failed to run: {}", String::from_utf8_lossy(&out.stderr));
    Some(code == 0)
}

#[test]
fn snarkjs_verifies_our_proofs() {
    let (pk, vk) = insecure_dev_setup(circuit(), SEED).unwrap();
    let proof = prove(&pk, circuit()).unwrap();
    let hash = circuit().hash;
    if let Some(ok) = snarkjs_verifies(&vk, &proof, &[hash]) {
        assert!(ok, "snarkjs must accept a valid arkworks proof");
        assert_eq!(
            snarkjs_verifies(&vk, &proof, &[hash + Fr::from(1u64)]),
            Some(false),
            "and reject a wrong public input"
        );
    }
}
