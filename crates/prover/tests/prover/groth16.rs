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
    let info = circuit_info(circuit()).unwrap();
    let again = store.load_for("preimage", &info).unwrap();
    assert_eq!(again.vk, pk.vk);
    assert_eq!(store.load_or_setup("preimage", SEED, circuit).unwrap().vk, pk.vk);
    let meta = store.meta("preimage").unwrap();
    assert!(matches!(meta.origin, KeyOrigin::InsecureDevSeed { .. }));
    assert_eq!((meta.circuit.public_inputs, meta.circuit.constraints), (1, info.constraints));
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
    // A corrupted cache is reported, never silently replaced.
    assert!(matches!(store.load_or_setup("preimage", SEED, circuit), Err(ProverError::Integrity { .. })));
    assert!(matches!(store.load("missing"), Err(ProverError::Io { .. })));
}

/// The same statement with one more constraint: a different circuit.
#[derive(Clone)]
struct Preimage2(Preimage);

impl ConstraintSynthesizer<Fr> for Preimage2 {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let extra = FpVar::new_witness(cs.clone(), || Ok(self.0.a))?;
        extra.enforce_equal(&FpVar::new_witness(cs.clone(), || Ok(self.0.a))?)?;
        self.0.generate_constraints(cs)
    }
}

#[test]
fn keys_are_bound_to_their_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let old = store.load_or_setup("k", SEED, circuit).unwrap();
    let changed = || Preimage2(circuit());
    let info = circuit_info(changed()).unwrap();
    assert_ne!(info.digest, circuit_info(circuit()).unwrap().digest);
    assert!(matches!(store.load_for("k", &info), Err(ProverError::WrongCircuit { .. })));
    // A dev key for an older circuit is regenerated ...
    let new = store.load_or_setup("k", SEED, changed).unwrap();
    assert_ne!(new.vk, old.vk);
    assert!(verify(&new.vk, &[circuit().hash], &prove(&new, changed()).unwrap()).unwrap());
    // ... but a ceremony key is never replaced behind the operator's back.
    store.import("k", &old, circuit_info(circuit()).unwrap(), "https://example.invalid/ceremony").unwrap();
    assert!(matches!(store.load_or_setup("k", SEED, changed), Err(ProverError::WrongCircuit { .. })));
    assert!(matches!(store.meta("k").unwrap().origin, KeyOrigin::Ceremony { .. }));
    // A key with the wrong number of public inputs cannot be imported or used.
    let mut bad = old.clone();
    bad.vk.gamma_abc_g1.push(bad.vk.gamma_abc_g1[0]);
    assert!(matches!(store.import("x", &bad, info, "t"), Err(ProverError::InputCount { .. })));
    assert!(matches!(prove(&bad, circuit()), Err(ProverError::InputCount { .. })));
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

/// snarkjs's verdict on our exported key and proof; `None` when node or the npm tools are
/// missing outside CI (in CI that is a failure).
fn snarkjs_verifies(vk: &VerifyingKey, proof: &Proof, public: &[Fr]) -> Option<bool> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if !snarkjs::available(&root) {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must have node and tools/vectors/node_modules");
        eprintln!("skipping the snarkjs cross-check: run `npm ci --prefix tools/vectors` and install node");
        return None;
    }
    Some(snarkjs::verify_with_snarkjs(&root, vk, proof, public).expect("snarkjs runs"))
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

/// A preimage circuit of another shape: the hash of three values.
#[derive(Clone)]
struct Preimage3(Fr);

impl ConstraintSynthesizer<Fr> for Preimage3 {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let hash = FpVar::new_input(cs.clone(), || Ok(self.0))?;
        let xs =
            (1..=3u64).map(|x| FpVar::new_witness(cs.clone(), || Ok(Fr::from(x)))).collect::<Result<Vec<_>, _>>()?;
        poseidon(&xs)?.enforce_equal(&hash)
    }
}

#[test]
fn a_prover_with_stored_matrices_synthesises_only_the_witness() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let c = circuit();
    // Setup stores the matrices beside the key; every proof of the loaded prover uses them.
    let made = store.load_or_setup_prover("preimage", SEED, circuit).unwrap();
    assert!(store.matrices_path("preimage").exists());
    assert!(verify(&made.vk, &[c.hash], &made.prove(circuit()).unwrap()).unwrap());
    let loaded = store.load_prover("preimage").unwrap();
    for _ in 0..2 {
        let (proof, report) = loaded.prove_with_report(circuit()).unwrap();
        assert!(verify(&loaded.vk, &[c.hash], &proof).unwrap());
        assert_eq!(report.constraints, circuit_info(circuit()).unwrap().constraints);
    }
    // A false statement is still a typed error naming the failing constraint.
    let lie = Preimage { hash: c.hash + Fr::from(1u64), ..circuit() };
    assert!(matches!(loaded.prove(lie), Err(ProverError::Unsatisfied(_))));
    // A circuit of another shape is refused, never proven against these matrices.
    let other = Preimage3(Fr::from(0u64));
    assert!(matches!(loaded.prove(other), Err(ProverError::NotR1cs(_))));

    // Damaged matrices are ignored: the prover synthesises the circuit at its first proof.
    let path = store.matrices_path("preimage");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let fallback = store.load_prover("preimage").unwrap();
    assert!(verify(&fallback.vk, &[c.hash], &fallback.prove(circuit()).unwrap()).unwrap());
    std::fs::write(&path, b"not matrices").unwrap();
    assert!(verify(&fallback.vk, &[c.hash], &store.load_prover("preimage").unwrap().prove(circuit()).unwrap()).unwrap());
}
