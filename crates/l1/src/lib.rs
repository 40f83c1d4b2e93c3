//! zklink's L1 client: everything the node, oracles, watchers and tools do with the contracts on
//! one EVM chain, over any JSON-RPC endpoint.
//!
//! * [`deploy`]: the whole contract set of one chain (verifiers, periphery, implementation,
//!   proxy, configuration, Timelock governor).
//! * [`client`]: typed calls for every entry point; reverts come back as the contracts' decoded
//!   errors.
//! * [`send`]: how calls are sent: gas is estimated with a margin, the nonce is pinned per call and
//!   a stuck transaction is replaced with higher fees under a [`SendPolicy`].
//! * [`events`]: the deployment's events behind a confirmation depth, with deep reorgs detected.
//! * [`history`]: one chain's committed blocks, priority requests and counters, and a block's
//!   pubdata from its commit calldata (restore and exodus tools).
//! * [`testchains`]: N local anvils with everything deployed, for tests and the devnet.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod deploy;
mod error;
pub mod events;
pub mod history;
pub mod send;
pub mod testchains;

pub use client::{BlockCounters, ChainEndpoint, ExitCall, L1Client, TimelockClient, WithdrawalKey};
pub use deploy::{deploy, DeployConfig, Deployment, TokenListing};
pub use error::{ConfigError, L1Error, Revert};
pub use events::{EventReader, L1Event, ReadCeiling};
pub use history::{committed_pubdata, ChainHistory, CommittedBlock, HistoryError, QueuedRequest};
pub use send::{PolicyError, SendPolicy};
pub use testchains::{
    pid_file, state_file, ChainRecord, ChainsManifest, ChainsSetup, ManifestError, TestChain, TestChains,
    TestChainsConfig, NATIVE_TOKEN_ID,
};
