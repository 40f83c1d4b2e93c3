//! The zklink operator node.
//!
//! * [`keeper`]: the state keeper: applies txs, seals blocks, write-ahead log, replay on open.
//! * [`store`]: the durable block store (redb): sealed blocks with their txs, and proofs.
//! * [`prover`]: proving a stored block from its start state.
//! * [`pipeline`]: the per-chain L1 pipeline (commit → prove → sync → execute), resuming from
//!   each chain's counters.
//! * [`node`]: the main loop tying them together, with the prover on its own thread.
//! * [`oracle`]: in-process oracle keys for the devnet.
//! * [`watcher`]: each chain's priority requests, confirmed, in serial order, never twice.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod keeper;
pub mod node;
pub mod oracle;
pub mod pipeline;
pub mod prover;
pub mod store;
pub mod watcher;

pub use keeper::{KeeperError, ProofJob, StateKeeper, SubmitError};
pub use node::{ChainEndpoint, Node, NodeConfig, NodeError, NodeHandle};
pub use oracle::LocalOracles;
pub use pipeline::{Action, ChainSender, Pipeline, PipelineError, StepReport};
pub use store::{BlockStore, StoreError, StoredBlock};
pub use watcher::{PriorityWatcher, WatchError};
