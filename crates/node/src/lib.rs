//! The zklink operator node.
//!
//! * [`keeper`]: the state keeper: applies txs, seals blocks, write-ahead log, replay on open.
//! * [`mempool`]: txs waiting for an earlier nonce, with per-account and total limits.
//! * [`events`]: the node's event stream (txs applied, blocks sealed, L1 progress).
//! * [`executed`]: the state as of the newest block executed on every chain.
//! * [`fees`]: the fee policy (USD per chunk) and the chunks each tx type takes.
//! * [`store`]: the durable block store (redb): sealed blocks with their txs, and proofs.
//! * [`proofs`]: the prover job queue served to in-process and remote workers; proofs verified.
//! * [`prover`]: proving a stored block directly (tests and tools).
//! * [`metrics`]: the node's Prometheus metrics.
//! * [`pipeline`]: the per-chain L1 pipeline (commit → prove → sync → execute), resuming from
//!   each chain's counters.
//! * [`node`]: the main loop tying them together, with the prover on its own thread.
//! * [`local_oracles`]: oracle keys held in-process (tests, a single-machine devnet).
//! * [`watcher`]: each chain's priority requests, confirmed, in serial order, never twice.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod events;
pub mod executed;
pub mod fees;
pub mod keeper;
pub mod local_oracles;
pub mod mempool;
pub mod metrics;
pub mod node;
pub mod pipeline;
pub mod proofs;
pub mod prover;
pub mod store;
pub mod watcher;

pub use events::NodeEvent;
pub use fees::{FeeError, FeePolicy};
pub use keeper::{BatchOutcome, KeeperError, StateKeeper, SubmitError, Submitted};
pub use local_oracles::LocalOracles;
pub use mempool::{MempoolLimits, QueueError};
pub use node::{ChainEndpoint, ChainStatus, Node, NodeConfig, NodeError, NodeHandle};
pub use pipeline::{Action, ChainSender, Pipeline, PipelineError, Sent, StepReport};
pub use proofs::{ProofError, ProofJob, ProofQueue};
pub use store::{BlockStore, StoreError, StoredBlock};
pub use watcher::{PriorityWatcher, WatchError};
