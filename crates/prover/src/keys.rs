//! Proving keys on disk, bound to the circuit they were made for.
//!
//! A key is stored as `<dir>/<name>.pk` (arkworks uncompressed serialization of the proving key,
//! which contains the verifying key: twice the size of compressed points, but it loads at disk
//! speed instead of one square root per point) and `<dir>/<name>.json` ([`KeyMeta`]): the file's SHA-256,
//! the [`CircuitInfo`] digest of the constraint matrices it was made for, and its origin.
//!
//! **Production keys** come from an MPC ceremony: a universal powers-of-tau phase and a
//! per-circuit phase 2 run for the circuit whose [`circuit_info`] digest is published with the
//! ceremony transcript. The ceremony's final key is converted to an arkworks `ProvingKey` and
//! imported once with [`KeyStore::import`] (origin [`KeyOrigin::Ceremony`]); provers then load
//! it with [`KeyStore::load_for`], which refuses a corrupted file or a key made for a different
//! circuit. The verifying key deployed on L1 is `pk.vk` of that same file. Ceremony keys are
//! never regenerated or replaced by this crate.
//!
//! **Dev keys** ([`KeyStore::load_or_setup`]) come from [`crate::insecure_dev_setup`] with a
//! public seed; they are cached, and regenerated when the circuit's digest changes.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ark_ff::{BigInteger, PrimeField};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zklink_crypto::Fr;

use crate::{insecure_dev_setup, Matrices, Prover, ProverError, ProvingKey, Task};

/// What identifies a circuit: the SHA-256 of its constraint matrices and their dimensions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitInfo {
    /// Hex SHA-256 over the dimensions and every (row, column, coefficient) of every matrix.
    pub digest: String,
    /// Number of constraints.
    pub constraints: usize,
    /// Public inputs, not counting the constant 1.
    pub public_inputs: usize,
    /// Number of witness (private) variables.
    pub witnesses: usize,
}

/// Synthesises `circuit` in setup mode (no witness needed) and fingerprints its matrices.
pub fn circuit_info<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<CircuitInfo, ProverError> {
    circuit_matrices(circuit).map(|(info, _)| info)
}

/// [`circuit_info`] and the matrices it fingerprinted.
pub(crate) fn circuit_matrices<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
) -> Result<(CircuitInfo, Matrices), ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).map_err(ProverError::Synthesis)?;
    cs.finalize();
    let (constraints, inputs, witnesses) =
        (cs.num_constraints(), cs.num_instance_variables(), cs.num_witness_variables());
    let all = cs.to_matrices().map_err(ProverError::Synthesis)?;
    drop(cs);
    let labels: Vec<&str> = all.keys().map(String::as_str).collect();
    if labels != [R1CS_PREDICATE_LABEL] {
        return Err(ProverError::NotR1cs(format!("expected only R1CS constraints, got {labels:?}")));
    }
    let abc = all.into_values().next().unwrap_or_default();
    if abc.len() != 3 {
        return Err(ProverError::NotR1cs(format!("expected 3 R1CS matrices, got {}", abc.len())));
    }
    let m = Matrices { abc, inputs, witnesses, constraints };
    Ok((info_of(&m), m))
}

/// The fingerprint of `m`: SHA-256 over its dimensions, the R1CS label and every (row, column,
/// coefficient) of A, B and C.
fn info_of(m: &Matrices) -> CircuitInfo {
    let mut h = Sha256::new();
    for n in [m.constraints, m.inputs, m.witnesses] {
        h.update((n as u64).to_le_bytes());
    }
    h.update(R1CS_PREDICATE_LABEL.as_bytes());
    for matrix in &m.abc {
        h.update((matrix.len() as u64).to_le_bytes());
        for (row, entries) in matrix.iter().enumerate() {
            h.update((row as u64).to_le_bytes());
            h.update((entries.len() as u64).to_le_bytes());
            for (coeff, col) in entries {
                h.update((*col as u64).to_le_bytes());
                h.update(coeff.into_bigint().to_bytes_le());
            }
        }
    }
    CircuitInfo {
        digest: hex::encode(h.finalize()),
        constraints: m.constraints,
        public_inputs: m.inputs - 1,
        witnesses: m.witnesses,
    }
}

/// `<name>.r1cs`: magic, the three counts, then A, B and C row by row (entry count u32, then
/// column u32 and coefficient as 32 bytes little-endian per entry). Its fingerprint must equal
/// the key's circuit digest, which is its integrity check.
const MATRICES_MAGIC: &[u8; 8] = b"ZKR1CS01";

fn write_matrices(path: &Path, m: &Matrices) -> Result<(), ProverError> {
    let io = |source| ProverError::Io { path: path.to_path_buf(), source };
    let tmp = path.with_extension("r1cs.tmp");
    let mut w = BufWriter::new(fs::File::create(&tmp).map_err(io)?);
    let mut put = |bytes: &[u8]| w.write_all(bytes).map_err(io);
    put(MATRICES_MAGIC)?;
    for n in [m.inputs, m.witnesses, m.constraints] {
        put(&(n as u64).to_le_bytes())?;
    }
    for matrix in &m.abc {
        put(&(matrix.len() as u64).to_le_bytes())?;
        for entries in matrix {
            put(&(entries.len() as u32).to_le_bytes())?;
            for (coeff, col) in entries {
                put(&(*col as u32).to_le_bytes())?;
                put(&coeff.into_bigint().to_bytes_le())?;
            }
        }
    }
    w.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

fn read_matrices(path: &Path) -> Result<Matrices, ProverError> {
    let io = |source| ProverError::Io { path: path.to_path_buf(), source };
    let bad = |what: &str| io(std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string()));
    let mut r = BufReader::new(fs::File::open(path).map_err(io)?);
    let mut take = |buf: &mut [u8]| r.read_exact(buf).map_err(io);
    let mut magic = [0u8; 8];
    take(&mut magic)?;
    if &magic != MATRICES_MAGIC {
        return Err(bad("not a zklink matrices file"));
    }
    let mut word = [0u8; 8];
    let mut counts = [0usize; 3];
    for n in &mut counts {
        take(&mut word)?;
        *n = u64::from_le_bytes(word) as usize;
    }
    let [inputs, witnesses, constraints] = counts;
    let mut abc = Vec::with_capacity(3);
    let mut entry = [0u8; 36];
    for _ in 0..3 {
        take(&mut word)?;
        if u64::from_le_bytes(word) as usize != constraints {
            return Err(bad("a matrix's row count differs from the constraint count"));
        }
        let mut matrix = Vec::with_capacity(constraints);
        for _ in 0..constraints {
            take(&mut entry[..4])?;
            let n = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
            let mut row = Vec::with_capacity(n);
            for _ in 0..n {
                take(&mut entry)?;
                let col = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as usize;
                row.push((Fr::from_le_bytes_mod_order(&entry[4..]), col));
            }
            matrix.push(row);
        }
        abc.push(matrix);
    }
    Ok(Matrices { abc, inputs, witnesses, constraints })
}

/// Where a key came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KeyOrigin {
    /// [`crate::insecure_dev_setup`]: whoever knows the seed can forge proofs.
    InsecureDevSeed {
        /// The 32-byte seed, hex.
        seed: String,
    },
    /// An MPC ceremony; `transcript` says where its attestations are published.
    Ceremony {
        /// Where the ceremony's attestations are published.
        transcript: String,
    },
}

/// The `.json` file beside a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
    /// Hex SHA-256 of the `.pk` file.
    pub sha256: String,
    /// The circuit the key was made for; loading it for a different circuit is refused.
    pub circuit: CircuitInfo,
    /// Where the key came from.
    pub origin: KeyOrigin,
}

/// A directory of keys.
pub struct KeyStore {
    dir: PathBuf,
}

impl KeyStore {
    /// A store over `dir` (created when the first key is written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Path of key `name`'s proving key file, `<dir>/<name>.pk` (its metadata is `<name>.json`).
    pub fn pk_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pk"))
    }

    fn meta_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Path of key `name`'s circuit matrices, `<dir>/<name>.r1cs` (optional: a [`Prover`] without
    /// them synthesises the whole circuit once, at its first proof).
    pub fn matrices_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.r1cs"))
    }

    /// Loads key `name` as a [`Prover`], with the circuit's matrices if they are stored beside it
    /// and fingerprint to the key's circuit digest (a stale or damaged matrices file is skipped
    /// with a warning: the prover then synthesises the circuit at its first proof).
    pub fn load_prover(&self, name: &str) -> Result<Prover, ProverError> {
        let (pk, meta) = self.load(name)?;
        let path = self.matrices_path(name);
        if !path.exists() {
            return Ok(Prover::new(pk));
        }
        let mut task = Task::start(format!("load matrices {name}"));
        task.stage("reading");
        let loaded = read_matrices(&path).and_then(|m| {
            task.stage("checking the fingerprint");
            let info = info_of(&m);
            if info.digest == meta.circuit.digest {
                Ok(m)
            } else {
                Err(ProverError::WrongCircuit {
                    path: path.clone(),
                    key_circuit: meta.circuit.digest,
                    circuit: info.digest,
                })
            }
        });
        match loaded {
            Ok(m) => {
                task.finish(&format!("loaded the matrices of {} constraints", m.constraints));
                Ok(Prover::with_matrices(pk, m))
            }
            Err(e) => {
                tracing::warn!(key = name, error = %e, "ignoring the stored matrices");
                Ok(Prover::new(pk))
            }
        }
    }

    /// The metadata of key `name`.
    pub fn meta(&self, name: &str) -> Result<KeyMeta, ProverError> {
        let path = self.meta_path(name);
        let bytes = read(&path)?;
        serde_json::from_slice(&bytes).map_err(|source| ProverError::Metadata { path, source })
    }

    /// Loads key `name` after checking the file against its recorded hash. Prefer
    /// [`Self::load_for`], which also checks that the key belongs to the circuit.
    pub fn load(&self, name: &str) -> Result<(ProvingKey, KeyMeta), ProverError> {
        let meta = self.meta(name)?;
        let path = self.pk_path(name);
        let mut task = Task::start(format!("load key {name}"));
        task.stage("reading and hashing");
        let bytes = read(&path)?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != meta.sha256 {
            return Err(ProverError::Integrity { path, expected: meta.sha256, got });
        }
        task.stage("decoding");
        // The hash already vouches for the bytes: skip the subgroup checks. Uncompressed points
        // load at disk speed (compressed ones need a square root each: 16 s for a dev-4 key).
        let pk = ProvingKey::deserialize_uncompressed_unchecked(bytes.as_slice())
            .map_err(|source| ProverError::Decode { path, source })?;
        task.finish(&format!("loaded key {name} ({} MB)", bytes.len() >> 20));
        Ok((pk, meta))
    }

    /// Loads key `name` and checks that it was made for the circuit described by `info`.
    pub fn load_for(&self, name: &str, info: &CircuitInfo) -> Result<ProvingKey, ProverError> {
        let (pk, meta) = self.load(name)?;
        if meta.circuit.digest != info.digest {
            return Err(ProverError::WrongCircuit {
                path: self.pk_path(name),
                key_circuit: meta.circuit.digest,
                circuit: info.digest.clone(),
            });
        }
        Ok(pk)
    }

    /// Writes a key and its metadata (the metadata last, so a torn write fails the hash check).
    pub fn store(
        &self,
        name: &str,
        pk: &ProvingKey,
        circuit: CircuitInfo,
        origin: KeyOrigin,
    ) -> Result<(), ProverError> {
        let path = self.pk_path(name);
        let mut bytes = Vec::new();
        pk.serialize_uncompressed(&mut bytes).map_err(|source| ProverError::Encode { path: path.clone(), source })?;
        fs::create_dir_all(&self.dir).map_err(|source| ProverError::Io { path: self.dir.clone(), source })?;
        write(&path, &bytes)?;
        let meta = KeyMeta { sha256: hex::encode(Sha256::digest(&bytes)), circuit, origin };
        let meta_path = self.meta_path(name);
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|source| ProverError::Metadata { path: meta_path.clone(), source })?;
        write(&meta_path, &json)
    }

    /// Imports a ceremony key for the circuit `info` describes; refuses a key whose public input
    /// count differs from the circuit's.
    pub fn import(&self, name: &str, pk: &ProvingKey, info: CircuitInfo, transcript: &str) -> Result<(), ProverError> {
        let key_inputs = pk.vk.gamma_abc_g1.len().saturating_sub(1);
        if key_inputs != info.public_inputs {
            return Err(ProverError::InputCount { key: key_inputs, circuit: info.public_inputs });
        }
        self.store(name, pk, info, KeyOrigin::Ceremony { transcript: transcript.into() })
    }

    /// The cached dev key `name` for `circuit`, or a fresh [`insecure_dev_setup`] stored for
    /// next time. A dev key made for an older version of the circuit is replaced; a file that
    /// fails its integrity check, or a ceremony key for another circuit, is an error.
    pub fn load_or_setup<C: ConstraintSynthesizer<Fr>>(
        &self,
        name: &str,
        seed: [u8; 32],
        circuit: impl Fn() -> C,
    ) -> Result<ProvingKey, ProverError> {
        let info = circuit_info(circuit())?;
        self.load_or_setup_checked(name, seed, &circuit, info).map(|(pk, _)| pk)
    }

    /// [`Self::load_or_setup`] for a circuit already fingerprinted as `info`; also says whether
    /// the key was made now.
    fn load_or_setup_checked<C: ConstraintSynthesizer<Fr>>(
        &self,
        name: &str,
        seed: [u8; 32],
        circuit: &impl Fn() -> C,
        info: CircuitInfo,
    ) -> Result<(ProvingKey, bool), ProverError> {
        if self.meta_path(name).exists() {
            match self.load_for(name, &info) {
                Err(ProverError::WrongCircuit { .. })
                    if matches!(self.meta(name)?.origin, KeyOrigin::InsecureDevSeed { .. }) =>
                {
                    tracing::warn!(key = name, "the circuit changed since this dev key was made; regenerating it");
                }
                other => return other.map(|pk| (pk, false)),
            }
        }
        let mut task = Task::start(format!("INSECURE dev setup of {name}"));
        task.stage(&format!("generating keys for {} constraints", info.constraints));
        let (pk, _) = insecure_dev_setup(circuit(), seed)?;
        task.stage("writing");
        self.store(name, &pk, info, KeyOrigin::InsecureDevSeed { seed: hex::encode(seed) })?;
        task.finish(&format!("dev key {name} ready"));
        Ok((pk, true))
    }

    /// [`Self::load_or_setup`] as a [`Prover`] with the circuit's matrices (the fingerprint's
    /// synthesis yields them), which are also stored beside the key for [`Self::load_prover`].
    pub fn load_or_setup_prover<C: ConstraintSynthesizer<Fr>>(
        &self,
        name: &str,
        seed: [u8; 32],
        circuit: impl Fn() -> C,
    ) -> Result<Prover, ProverError> {
        let (info, matrices) = circuit_matrices(circuit())?;
        let (pk, made) = self.load_or_setup_checked(name, seed, &circuit, info)?;
        let path = self.matrices_path(name);
        if made || !path.exists() {
            write_matrices(&path, &matrices)?;
        }
        Ok(Prover::with_matrices(pk, matrices))
    }
}

/// Where dev keys are cached for a checkout at `workspace`: `key_dir` if given, else `zklink-keys`
/// in cargo's target directory (`target_dir`, or `<workspace>/target`), so `cargo clean` drops
/// them with the other build products. The library reads no environment: the binary passes
/// `$ZKLINK_KEY_DIR` and `$CARGO_TARGET_DIR`, and so does `test_utils::dev_key_dir` (feature
/// `test-utils`) for tests and benchmarks.
pub fn dev_key_dir_from(workspace: &Path, key_dir: Option<PathBuf>, target_dir: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = key_dir {
        return dir;
    }
    target_dir.unwrap_or_else(|| workspace.join("target")).join("zklink-keys")
}

fn read(path: &Path) -> Result<Vec<u8>, ProverError> {
    fs::read(path).map_err(|source| ProverError::Io { path: path.to_path_buf(), source })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    fs::write(path, bytes).map_err(|source| ProverError::Io { path: path.to_path_buf(), source })
}
