//! The light oracle network (docs/security.md): independent processes, each with its own key and
//! its own endpoint for every chain, that attest a block only once every chain proved it with the
//! same sync hash. `syncBlocks` needs M of the N oracles' attestations, and execution needs sync:
//! the operator alone cannot make a chain pay out a history the others do not share.
//!
//! * [`attestation`]: the EIP-712 attestation, signed and verified.
//! * [`oracle`]: the oracle's loop: read every chain, attest, gather peers' attestations, submit.
//! * [`store`]: its attestations on disk (never two hashes for one block).
//! * [`api`]: its HTTP endpoint (attestations, status, `/metrics`, `/health`).
//! * [`metrics`]: its Prometheus metrics.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod attestation;
pub mod metrics;
pub mod oracle;
pub mod store;

pub use attestation::{Attestation, AttestationError};
pub use oracle::{ChainEndpoint, Inconsistency, Oracle, OracleConfig, OracleError, OracleHandle, OracleStatus};
