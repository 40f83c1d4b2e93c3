//! Groth16 over BN254 for zklink's circuits.
//!
//! * [`insecure_dev_setup`] derives keys deterministically from a public seed. Anyone who knows
//!   the seed can forge proofs: it exists for tests and the local devnet only.
//! * Production keys come from an MPC ceremony (powers of tau + a per-circuit phase 2); they
//!   are loaded with [`KeyStore::load`] from files written in this crate's format
//!   (arkworks compressed serialization, with a `.sha256` sidecar).
//! * [`KeyStore::load_or_setup`] caches dev keys on disk and checks their integrity on load.
//! * [`prove`] uses every core (`ark-groth16/parallel`); [`verify`] checks a proof against its
//!   public inputs.

pub mod snarkjs;

use std::fs;
use std::path::{Path, PathBuf};

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use zklink_crypto::Fr;

pub type Proof = ark_groth16::Proof<Bn254>;
pub type ProvingKey = ark_groth16::ProvingKey<Bn254>;
pub type VerifyingKey = ark_groth16::VerifyingKey<Bn254>;

#[derive(thiserror::Error, Debug)]
pub enum ProverError {
    #[error("constraint synthesis failed: {0}")]
    Synthesis(String),
    #[error("the witness does not satisfy the circuit (first failing constraint: {0})")]
    Unsatisfied(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: integrity check failed: sha256 is {got}, the sidecar says {expected}")]
    Integrity { path: PathBuf, expected: String, got: String },
    #[error("{path}: not a valid key file: {reason}")]
    Decode { path: PathBuf, reason: String },
}

fn synthesis(e: impl std::fmt::Display) -> ProverError {
    ProverError::Synthesis(e.to_string())
}

/// INSECURE deterministic setup: the toxic waste is derived from `seed`. Tests and devnet only.
pub fn insecure_dev_setup<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    seed: [u8; 32],
) -> Result<(ProvingKey, VerifyingKey), ProverError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    Groth16::<Bn254>::circuit_specific_setup(circuit, &mut rng).map_err(synthesis)
}

/// Proves `circuit` (its public inputs are whatever it allocated as inputs). The witness is
/// checked first, so a false statement is a typed error rather than a bad proof or a panic.
pub fn prove<C: ConstraintSynthesizer<Fr> + Clone>(pk: &ProvingKey, circuit: C) -> Result<Proof, ProverError> {
    check_satisfied(circuit.clone())?;
    let mut rng = ChaCha20Rng::from_entropy();
    Groth16::<Bn254>::prove(pk, circuit, &mut rng).map_err(synthesis)
}

/// Synthesises `circuit` with its witness and reports the first unsatisfied constraint.
pub fn check_satisfied<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<(), ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    circuit.generate_constraints(cs.clone()).map_err(synthesis)?;
    match cs.which_is_unsatisfied().map_err(synthesis)? {
        None => Ok(()),
        Some(which) => Err(ProverError::Unsatisfied(which)),
    }
}

/// Whether `proof` is valid for `public_inputs` under `vk`.
pub fn verify(vk: &VerifyingKey, public_inputs: &[Fr], proof: &Proof) -> Result<bool, ProverError> {
    Groth16::<Bn254>::verify(vk, public_inputs, proof).map_err(synthesis)
}

/// Keys on disk: `<dir>/<name>.pk` (compressed) and `<name>.pk.sha256`.
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn pk_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pk"))
    }

    /// Loads a proving key (the verifying key is part of it), checking the sidecar hash.
    pub fn load(&self, name: &str) -> Result<ProvingKey, ProverError> {
        let path = self.pk_path(name);
        let bytes = read(&path)?;
        let sidecar = sidecar_path(&path);
        let expected = String::from_utf8_lossy(&read(&sidecar)?).trim().to_string();
        let got = hex::encode(zklink_crypto::sha256(&bytes));
        if got != expected {
            return Err(ProverError::Integrity { path, expected, got });
        }
        // The hash already vouches for the bytes; skip the slow subgroup checks on load.
        ProvingKey::deserialize_compressed_unchecked(bytes.as_slice())
            .map_err(|e| ProverError::Decode { path, reason: e.to_string() })
    }

    /// Writes a proving key and its sidecar (the sidecar last, so a torn write fails the check).
    pub fn store(&self, name: &str, pk: &ProvingKey) -> Result<(), ProverError> {
        let path = self.pk_path(name);
        let mut bytes = Vec::new();
        pk.serialize_compressed(&mut bytes)
            .map_err(|e| ProverError::Decode { path: path.clone(), reason: e.to_string() })?;
        fs::create_dir_all(&self.dir).map_err(|source| ProverError::Io { path: self.dir.clone(), source })?;
        write(&path, &bytes)?;
        write(&sidecar_path(&path), hex::encode(zklink_crypto::sha256(&bytes)).as_bytes())
    }

    /// The cached dev key for `name`, or a fresh [`insecure_dev_setup`] stored for next time.
    /// A cached file that fails its integrity check is an error, never silently replaced.
    pub fn load_or_setup<C: ConstraintSynthesizer<Fr>>(
        &self,
        name: &str,
        seed: [u8; 32],
        circuit: impl FnOnce() -> C,
    ) -> Result<ProvingKey, ProverError> {
        if self.pk_path(name).exists() {
            return self.load(name);
        }
        let (pk, _) = insecure_dev_setup(circuit(), seed)?;
        self.store(name, &pk)?;
        Ok(pk)
    }
}

fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

fn read(path: &Path) -> Result<Vec<u8>, ProverError> {
    fs::read(path).map_err(|source| ProverError::Io { path: path.to_path_buf(), source })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    fs::write(path, bytes).map_err(|source| ProverError::Io { path: path.to_path_buf(), source })
}
