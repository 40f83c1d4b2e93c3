//! Groth16 over BN254 for zklink's circuits.
//!
//! * [`insecure_dev_setup`] derives keys deterministically from a public seed. Anyone who knows
//!   the seed can forge proofs: it exists for tests and the local devnet only, and keys made
//!   this way are labelled [`KeyOrigin::InsecureDevSeed`] on disk.
//! * Production keys come from an MPC ceremony (powers of tau + a per-circuit phase 2); they
//!   are imported once with [`KeyStore::import`] and loaded with [`KeyStore::load_for`], which
//!   refuses a key made for a different circuit (see [`keys`]).
//! * [`KeyStore::load_or_setup`] caches dev keys on disk, checks their integrity on load, and
//!   regenerates them when the circuit changed.
//! * [`prove`] synthesises once, checks the witness (a false statement is a typed error, not a
//!   bad proof), then runs the QAP reduction and the MSMs on every core (`ark-groth16/parallel`);
//!   [`verify`] checks a proof against its public inputs. Both report progress ([`progress`]).
//! * [`Prover`] is a proving key that remembers its circuit's R1CS matrices after the first
//!   proof: every later proof synthesises only the witness (no linear combinations, no
//!   matrices), which is most of the synthesis time and memory of a block proof. Long-running
//!   provers (the node's prover thread, `zklink prover`) hold one per block shape.

pub mod keys;
pub mod progress;
pub mod snarkjs;
#[cfg(feature = "test-utils")]
pub mod test_utils;

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Matrix, OptimizationGoal, SynthesisError,
    SynthesisMode, R1CS_PREDICATE_LABEL,
};
use ark_serialize::SerializationError;
use ark_snark::SNARK;
use ark_std::UniformRand;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use zklink_crypto::Fr;

pub use keys::{circuit_info, dev_key_dir_from, CircuitInfo, KeyMeta, KeyOrigin, KeyStore};
pub use progress::Task;

/// A Groth16 proof over BN254.
pub type Proof = ark_groth16::Proof<Bn254>;
/// A Groth16 proving key over BN254 (one per circuit shape).
pub type ProvingKey = ark_groth16::ProvingKey<Bn254>;
/// A Groth16 verifying key over BN254 (the part of the proving key a verifier needs).
pub type VerifyingKey = ark_groth16::VerifyingKey<Bn254>;

/// Why a setup, a proof, a verification or a key file operation failed.
#[derive(thiserror::Error, Debug)]
pub enum ProverError {
    /// arkworks refused the circuit or the proving/verifying computation.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The synthesised constraint system does not have the R1CS shape Groth16 needs.
    #[error("constraint synthesis failed: {0}")]
    NotR1cs(String),
    /// The witness breaks a constraint (named by the circuit, or by its R1CS row).
    #[error("the witness does not satisfy the circuit (first failing constraint: {0})")]
    Unsatisfied(String),
    /// Reading or writing a key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A key file does not hash to what its metadata records.
    #[error("{path}: integrity check failed: sha256 is {got}, the metadata says {expected}")]
    Integrity {
        /// The key file.
        path: PathBuf,
        /// The hash its metadata records.
        expected: String,
        /// The file's hash.
        got: String,
    },
    /// A key file's bytes are not a proving key.
    #[error("{path}: not a valid key file: {source}")]
    Decode {
        /// The key file.
        path: PathBuf,
        /// arkworks' deserialisation error.
        #[source]
        source: SerializationError,
    },
    /// A proving key could not be serialised.
    #[error("{path}: cannot serialise the key: {source}")]
    Encode {
        /// The key file it was meant for.
        path: PathBuf,
        /// arkworks' serialisation error.
        #[source]
        source: SerializationError,
    },
    /// A key's metadata file is not valid JSON of a [`KeyMeta`] (or could not be written as one).
    #[error("{path}: not a valid key metadata file: {source}")]
    Metadata {
        /// The metadata file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The key was made for another version of the circuit.
    #[error("{path}: the key was made for circuit {key_circuit}, but this circuit is {circuit} (the circuit changed; a new setup is needed)")]
    WrongCircuit {
        /// The key file.
        path: PathBuf,
        /// The digest of the circuit the key was made for.
        key_circuit: String,
        /// The digest of the circuit given.
        circuit: String,
    },
    /// The key and the circuit disagree on the number of public inputs.
    #[error("the proving key has {key} public inputs but the circuit allocates {circuit}")]
    InputCount {
        /// Public inputs of the key.
        key: usize,
        /// Public inputs of the circuit.
        circuit: usize,
    },
}

/// INSECURE deterministic setup: the toxic waste is derived from `seed`. Tests and devnet only.
pub fn insecure_dev_setup<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    seed: [u8; 32],
) -> Result<(ProvingKey, VerifyingKey), ProverError> {
    let mut rng = ChaCha20Rng::from_seed(seed);
    Groth16::<Bn254>::circuit_specific_setup(circuit, &mut rng).map_err(ProverError::Synthesis)
}

/// A circuit synthesised with its witness, inlined and checked: ready for the prover.
struct Synthesized {
    cs: ConstraintSystemRef<Fr>,
}

fn synthesize<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<Synthesized, ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    circuit.generate_constraints(cs.clone()).map_err(ProverError::Synthesis)?;
    cs.finalize();
    Ok(Synthesized { cs })
}

/// The R1CS matrices (A, B, C) and the full assignment z = (1, inputs, witnesses).
struct Relation {
    matrices: Arc<Matrices>,
    z: Vec<Fr>,
}

/// A circuit's R1CS matrices (A, B, C) and its variable counts: the same for every proof of
/// one circuit shape. Made by key setup ([`KeyStore::load_or_setup_prover`]), stored beside the
/// key (`<name>.r1cs`) and read back by [`KeyStore::load_prover`].
pub struct Matrices {
    pub(crate) abc: Vec<Matrix<Fr>>,
    /// Instance variables, the constant 1 included.
    pub(crate) inputs: usize,
    pub(crate) witnesses: usize,
    pub(crate) constraints: usize,
}

impl Synthesized {
    fn relation(&self) -> Result<Relation, ProverError> {
        let mut all = self.cs.to_matrices().map_err(ProverError::Synthesis)?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| ProverError::NotR1cs("the circuit has no R1CS constraints".into()))?;
        if matrices.len() != 3 {
            return Err(ProverError::NotR1cs(format!("expected 3 R1CS matrices, got {}", matrices.len())));
        }
        let matrices = Matrices {
            abc: matrices,
            inputs: self.cs.num_instance_variables(),
            witnesses: self.cs.num_witness_variables(),
            constraints: self.cs.num_constraints(),
        };
        Ok(Relation { matrices: Arc::new(matrices), z: assignment(&self.cs)? })
    }

    /// [`first_unsatisfied`]; on failure arkworks names the failing constraint (that walk is
    /// ~10× slower than the check).
    fn check(&self, r: &Relation) -> Result<(), ProverError> {
        match first_unsatisfied(r) {
            None => Ok(()),
            Some(row) => {
                let which = self.cs.which_is_unsatisfied().map_err(ProverError::Synthesis)?;
                Err(ProverError::Unsatisfied(which.unwrap_or_else(|| format!("R1CS row {row}"))))
            }
        }
    }
}

/// z = (1, inputs, witnesses) of a synthesised constraint system.
fn assignment(cs: &ConstraintSystemRef<Fr>) -> Result<Vec<Fr>, ProverError> {
    let mut z = cs.instance_assignment().map_err(ProverError::Synthesis)?;
    z.extend(cs.witness_assignment().map_err(ProverError::Synthesis)?);
    Ok(z)
}

/// The first R1CS row where (A·z) ∘ (B·z) ≠ C·z, checked on all cores.
fn first_unsatisfied(r: &Relation) -> Option<usize> {
    let dot = |row: &[(Fr, usize)]| row.iter().map(|(c, i)| *c * r.z[*i]).sum::<Fr>();
    let [a, b, c] = &r.matrices.abc[..] else { unreachable!("Matrices always holds A, B and C") };
    (0..a.len()).into_par_iter().find_first(|&i| dot(&a[i]) * dot(&b[i]) != dot(&c[i]))
}

/// Synthesises only the witness of `circuit`: no linear combinations are stored and no matrices
/// built (arkworks' prove mode without matrices). Its assignment is z for `matrices`.
fn synthesize_witness<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<ConstraintSystemRef<Fr>, ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove { construct_matrices: false, generate_lc_assignments: false });
    circuit.generate_constraints(cs.clone()).map_err(ProverError::Synthesis)?;
    cs.finalize();
    Ok(cs)
}

/// The public seed of the devnet's and tests' keys. Whoever knows it can forge proofs: keys made
/// from it must never secure real funds.
pub const INSECURE_DEV_SEED: [u8; 32] = *b"zklink-insecure-dev-block-seed-1";

/// Where one proof's time went.
#[derive(Clone, Debug)]
pub struct ProveReport {
    /// Number of constraints of the circuit proven.
    pub constraints: usize,
    /// Constraint synthesis with the witness, and inlining.
    pub synthesis: Duration,
    /// Building the matrices and evaluating every constraint on the witness.
    pub check: Duration,
    /// R1CS → QAP witness map (FFTs) and the multi-scalar multiplications.
    pub proving: Duration,
}

/// Proves `circuit` (its public inputs are whatever it allocated as inputs), reporting progress
/// per stage. The witness is synthesised once and checked before any proving work.
pub fn prove<C: ConstraintSynthesizer<Fr>>(pk: &ProvingKey, circuit: C) -> Result<Proof, ProverError> {
    prove_with_report(pk, circuit).map(|(proof, _)| proof)
}

/// [`prove`], also returning where the time went.
pub fn prove_with_report<C: ConstraintSynthesizer<Fr>>(
    pk: &ProvingKey,
    circuit: C,
) -> Result<(Proof, ProveReport), ProverError> {
    let mut task = Task::start("prove");
    let (rel, synthesis, check) = full_relation(circuit, &mut task, "synthesising the witness")?;
    prove_relation(pk, &rel, task, synthesis, check)
}

/// Synthesises `circuit` in full (constraints and witness) at stage `stage`, builds its matrices
/// and checks the witness against them; returns the relation with the time of each part. The
/// constraint system is dropped before the proving work allocates its own.
fn full_relation<C: ConstraintSynthesizer<Fr>>(
    circuit: C,
    task: &mut Task,
    stage: &str,
) -> Result<(Relation, Duration, Duration), ProverError> {
    task.stage(stage);
    let t = Instant::now();
    let s = synthesize(circuit)?;
    let synthesis = t.elapsed();
    task.stage("checking the witness");
    let t = Instant::now();
    let rel = s.relation()?;
    s.check(&rel)?;
    Ok((rel, synthesis, t.elapsed()))
}

/// The QAP reduction and the MSMs of a checked relation.
fn prove_relation(
    pk: &ProvingKey,
    rel: &Relation,
    mut task: Task,
    synthesis: Duration,
    check: Duration,
) -> Result<(Proof, ProveReport), ProverError> {
    let m = &rel.matrices;
    if m.inputs != pk.vk.gamma_abc_g1.len() {
        return Err(ProverError::InputCount { key: pk.vk.gamma_abc_g1.len() - 1, circuit: m.inputs - 1 });
    }
    let constraints = m.constraints;
    task.stage(&format!("proving {constraints} constraints (QAP + MSMs)"));
    let t = Instant::now();
    let mut rng = ChaCha20Rng::from_entropy();
    let (r, k) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let proof =
        Groth16::<Bn254>::create_proof_with_reduction_and_matrices(pk, r, k, &m.abc, m.inputs, constraints, &rel.z)
            .map_err(ProverError::Synthesis)?;
    let proving = t.elapsed();
    task.finish(&format!("proved {constraints} constraints"));
    Ok((proof, ProveReport { constraints, synthesis, check, proving }))
}

/// A proving key that keeps its circuit's R1CS matrices after the first proof (see the crate
/// docs). Derefs to the key. One per circuit shape: the matrices of the first circuit proven
/// with it are reused for every later proof, so give it only circuits of the key's shape (the
/// witness of another shape is refused as [`ProverError::NotR1cs`], never proven against the
/// wrong matrices).
pub struct Prover {
    pk: ProvingKey,
    matrices: OnceLock<Arc<Matrices>>,
}

impl Prover {
    /// A prover for `pk`; the first proof synthesises the circuit in full.
    pub fn new(pk: ProvingKey) -> Self {
        Self { pk, matrices: OnceLock::new() }
    }

    /// A prover for `pk` with its circuit's `matrices` (from [`KeyStore`]): every proof, the
    /// first included, synthesises only the witness.
    pub fn with_matrices(pk: ProvingKey, matrices: Matrices) -> Self {
        Self { pk, matrices: OnceLock::from(Arc::new(matrices)) }
    }

    /// [`prove`] with this key.
    pub fn prove<C: ConstraintSynthesizer<Fr> + Clone>(&self, circuit: C) -> Result<Proof, ProverError> {
        self.prove_with_report(circuit).map(|(proof, _)| proof)
    }

    /// [`prove_with_report`] with this key: after the first proof, the witness alone is
    /// synthesised and checked against the remembered matrices. If the check fails, the circuit
    /// is synthesised again in full to name the failing constraint.
    pub fn prove_with_report<C: ConstraintSynthesizer<Fr> + Clone>(
        &self,
        circuit: C,
    ) -> Result<(Proof, ProveReport), ProverError> {
        let Some(matrices) = self.matrices.get() else {
            let mut task = Task::start("prove");
            let first = "synthesising the circuit and its witness (first proof of this shape)";
            let (rel, synthesis, check) = full_relation(circuit, &mut task, first)?;
            let out = prove_relation(&self.pk, &rel, task, synthesis, check)?;
            let _ = self.matrices.set(rel.matrices);
            return Ok(out);
        };
        let mut task = Task::start("prove");
        task.stage("synthesising the witness");
        let t = Instant::now();
        let cs = synthesize_witness(circuit.clone())?;
        let (inputs, witnesses) = (cs.num_instance_variables(), cs.num_witness_variables());
        if (inputs, witnesses) != (matrices.inputs, matrices.witnesses) {
            return Err(ProverError::NotR1cs(format!(
                "the circuit has {inputs} inputs and {witnesses} witnesses, but this prover's shape has {} and {}",
                matrices.inputs, matrices.witnesses
            )));
        }
        let rel = Relation { matrices: matrices.clone(), z: assignment(&cs)? };
        drop(cs);
        let synthesis = t.elapsed();
        task.stage("checking the witness");
        let t = Instant::now();
        if let Some(row) = first_unsatisfied(&rel) {
            let s = synthesize(circuit)?;
            let which = s.cs.which_is_unsatisfied().map_err(ProverError::Synthesis)?;
            return Err(ProverError::Unsatisfied(which.unwrap_or_else(|| format!("R1CS row {row}"))));
        }
        let check = t.elapsed();
        prove_relation(&self.pk, &rel, task, synthesis, check)
    }
}

impl Deref for Prover {
    type Target = ProvingKey;
    fn deref(&self) -> &ProvingKey {
        &self.pk
    }
}

/// Synthesises `circuit` with its witness and reports the first unsatisfied constraint.
pub fn check_satisfied<C: ConstraintSynthesizer<Fr>>(circuit: C) -> Result<(), ProverError> {
    let s = synthesize(circuit)?;
    s.check(&s.relation()?)
}

/// Whether `proof` is valid for `public_inputs` under `vk`.
pub fn verify(vk: &VerifyingKey, public_inputs: &[Fr], proof: &Proof) -> Result<bool, ProverError> {
    Groth16::<Bn254>::verify(vk, public_inputs, proof).map_err(ProverError::Synthesis)
}
