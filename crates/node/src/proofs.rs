//! The prover job queue. Every sealed block without a proof waits here; workers lease a job (the
//! block's circuit witness, built from the state at its start), prove it and hand the proof back.
//! Workers are the node's in-process prover thread and any number of remote `zklink prover`
//! processes through the API; the queue does not trust them: a proof is verified against the
//! block's public input before it is stored, and a lease not returned in time is offered again.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ark_bn254::Bn254;
use ark_groth16::{Proof, VerifyingKey};
use tokio::sync::broadcast;
use zklink_circuit::block::{BlockWitness, WitnessError};
use zklink_crypto::Fr;
use zklink_prover_worker::job::ProofLease;
use zklink_state::State;

use crate::events::NodeEvent;
use crate::store::{BlockStore, StoreError, StoredBlock};

/// A sealed block not proven yet, with the state at its start (the prover replays from it).
pub struct ProofJob {
    /// The block.
    pub block: StoredBlock,
    /// The state before it.
    pub start: State,
}

/// Why a job could not be leased or a proof was refused.
#[derive(thiserror::Error, Debug)]
pub enum ProofError {
    /// The witness could not be built (the stored block does not replay on its start state).
    #[error("block {block}: witness: {source}")]
    Witness {
        /// The block.
        block: u32,
        /// Why.
        #[source]
        source: WitnessError,
    },
    /// No proof job for this block (never sealed, or already proven).
    #[error("block {0} has no proof job waiting for a proof")]
    NotLeased(u32),
    /// The node has no verifying key for the block's size.
    #[error("block {block}: no key for {chunks}-chunk blocks")]
    NoKey {
        /// The block.
        block: u32,
        /// Its size.
        chunks: usize,
    },
    /// The proof is not a valid proof of the block.
    #[error("block {0}: the proof does not verify")]
    Invalid(u32),
    /// Storing the proof failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Leased {
    job: ProofJob,
    public_input: Fr,
    until: Instant,
    worker: String,
}

#[derive(Default)]
struct Jobs {
    waiting: BTreeMap<u32, ProofJob>,
    leased: BTreeMap<u32, Leased>,
    stopped: bool,
}

/// The queue (shared by the node, its prover thread and the API).
pub struct ProofQueue {
    jobs: Mutex<Jobs>,
    ready: Condvar,
    store: Arc<BlockStore>,
    keys: Vec<(usize, VerifyingKey<Bn254>)>,
    lease_time: Duration,
    events: broadcast::Sender<NodeEvent>,
}

impl ProofQueue {
    /// A queue storing proofs in `store`, verifying them with `keys` (by block size); a lease
    /// lasts `lease_time`; stored proofs are announced on `events`.
    pub fn new(
        store: Arc<BlockStore>,
        keys: Vec<(usize, VerifyingKey<Bn254>)>,
        lease_time: Duration,
        events: broadcast::Sender<NodeEvent>,
    ) -> Self {
        Self { jobs: Mutex::new(Jobs::default()), ready: Condvar::new(), store, keys, lease_time, events }
    }

    fn jobs(&self) -> MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds sealed blocks to prove.
    pub fn push(&self, jobs: impl IntoIterator<Item = ProofJob>) {
        let mut j = self.jobs();
        for job in jobs {
            j.waiting.insert(job.block.block.number.0, job);
        }
        self.ready.notify_all();
    }

    /// Jobs waiting and jobs leased.
    pub fn backlog(&self) -> (usize, usize) {
        let j = self.jobs();
        (j.waiting.len(), j.leased.len())
    }

    /// Leases the oldest job (expired leases first come back) to `worker`. The witness is built
    /// outside the lock: it takes a while, and the node's loop and other workers use the queue.
    pub fn lease(&self, worker: &str) -> Result<Option<ProofLease>, ProofError> {
        let now = Instant::now();
        let Some((block, job)) = self.jobs().take_oldest(now) else { return Ok(None) };
        let witness = witness_of(block, &mut job.start.clone(), &job.block);
        let mut j = self.jobs();
        let witness = match witness {
            Ok(w) => w,
            Err(e) => {
                // Kept for a later look; without a witness it can never be proven.
                j.waiting.insert(block, job);
                return Err(e);
            }
        };
        let chunks = job.block.block.chunks;
        let leased =
            Leased { job, public_input: witness.public_input, until: now + self.lease_time, worker: worker.into() };
        j.leased.insert(block, leased);
        tracing::debug!(block, worker, "proof job leased");
        Ok(Some(ProofLease { block, chunks, witness }))
    }

    /// [`ProofQueue::lease`], waiting up to `wait` for a job (the in-process worker's loop).
    pub fn lease_blocking(&self, worker: &str, wait: Duration) -> Result<Option<ProofLease>, ProofError> {
        {
            let j = self.jobs();
            if j.waiting.is_empty() && !j.stopped {
                drop(self.ready.wait_timeout(j, wait).unwrap_or_else(|p| p.into_inner()));
            }
        }
        self.lease(worker)
    }

    /// Wakes waiting workers and tells them to stop.
    pub fn stop(&self) {
        self.jobs().stopped = true;
        self.ready.notify_all();
    }

    /// Whether [`ProofQueue::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.jobs().stopped
    }

    /// Takes a worker's proof of a block waiting for one: verified, then stored. The block need not
    /// be leased to that worker (its lease may have expired, or the node restarted since): a proof
    /// that verifies is as good from anyone. Verification runs outside the lock.
    pub fn complete(&self, block: u32, proof: &Proof<Bn254>) -> Result<(), ProofError> {
        let (public_input, chunks, worker) = match self.jobs().claim(block) {
            Claim::Leased { public_input, chunks, worker } => (public_input, chunks, worker),
            Claim::Waiting(mut job) => {
                let witness = witness_of(block, &mut job.start, &job.block)?;
                (witness.public_input, job.block.block.chunks, "unleased".into())
            }
            Claim::Unknown => return Err(ProofError::NotLeased(block)),
        };
        let (_, vk) = self.keys.iter().find(|(c, _)| *c == chunks).ok_or(ProofError::NoKey { block, chunks })?;
        if !zklink_prover::verify(vk, &[public_input], proof).unwrap_or(false) {
            tracing::warn!(block, %worker, "a worker returned a proof that does not verify");
            return Err(ProofError::Invalid(block));
        }
        let words = zklink_contracts::proof_to_evm(proof).map(|w| w.to_be_bytes::<32>());
        self.store.put_proof(block, &words)?;
        let mut j = self.jobs();
        j.leased.remove(&block);
        j.waiting.remove(&block);
        tracing::info!(block, %worker, "block proven");
        let _ = self.events.send(NodeEvent::BlockProven { number: block });
        Ok(())
    }
}

/// What the queue knows of a block a worker returns a proof for.
enum Claim {
    /// Leased: its public input is known.
    Leased { public_input: Fr, chunks: usize, worker: String },
    /// Waiting (a copy): its public input comes from its witness.
    Waiting(Box<ProofJob>),
    /// Neither sealed-and-unproven nor leased.
    Unknown,
}

impl Jobs {
    /// Offers expired leases again, then takes the oldest waiting job.
    fn take_oldest(&mut self, now: Instant) -> Option<(u32, ProofJob)> {
        let expired: Vec<u32> = self.leased.iter().filter(|(_, l)| l.until <= now).map(|(n, _)| *n).collect();
        for n in expired {
            if let Some(l) = self.leased.remove(&n) {
                tracing::warn!(block = n, worker = %l.worker, "proof lease expired; offering the job again");
                self.waiting.insert(n, l.job);
            }
        }
        self.waiting.pop_first()
    }

    fn claim(&self, block: u32) -> Claim {
        match (self.leased.get(&block), self.waiting.get(&block)) {
            (Some(l), _) => Claim::Leased {
                public_input: l.public_input,
                chunks: l.job.block.block.chunks,
                worker: l.worker.clone(),
            },
            (None, Some(job)) => {
                Claim::Waiting(Box::new(ProofJob { block: job.block.clone(), start: job.start.clone() }))
            }
            (None, None) => Claim::Unknown,
        }
    }
}

/// The circuit witness of stored block `b`, replayed on `start` (its start state, consumed).
fn witness_of(block: u32, start: &mut State, b: &StoredBlock) -> Result<BlockWitness, ProofError> {
    BlockWitness::build(start, &b.block, &b.txs).map_err(|source| ProofError::Witness { block, source })
}
