//! zklink-restore: users keep their funds when every byte of the operator's data is lost.
//!
//! * [`restore`]: rebuilds the whole L2 state (accounts, keys, nonces, balances, order slots,
//!   per-chain reserves) from L1 alone — pubdata from a data-availability chain's commit
//!   calldata, blocks and priority requests from every chain's events — checking each block
//!   against what every chain stores and the result against every chain's executed block. It
//!   checkpoints to redb and continues from there.
//! * [`exit`]: what an account can claim on a chain in exodus mode, and its exit proof.
//! * [`exodus`]: a user's whole way out on every chain: activate, refund, exit, claim.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod exit;
pub mod exodus;
pub mod restore;

pub use exit::{ExitPlan, ExitProofError, ProvenExit};
pub use exodus::{exodus, ChainExodus, ExodusError, ExodusStatus};
pub use restore::{
    check_stored, BlockReplayer, BlockRestored, ChainCheck, HandlerError, PubdataFault, PubdataMiss, RestoreConfig,
    RestoreError, RestoreReport, Restorer,
};
