//! The state's errors.

use zklink_types::TxError;

use crate::smt::TreeError;

/// Why a state operation or loading a stored state failed.
#[derive(thiserror::Error, Debug)]
pub enum StateError {
    /// A Merkle tree refused the access (index out of range, …).
    #[error("merkle tree: {0}")]
    Tree(#[from] TreeError),
    /// The database failed.
    #[error("storage: {0}")]
    Store(#[source] Box<redb::Error>),
    /// The stored state is not one the state could have written.
    #[error("stored state is inconsistent: {0}")]
    Corrupt(String),
    /// The stored leaves do not hash to the stored root.
    #[error("rebuilt root {computed} does not match the stored root {stored}")]
    RootMismatch {
        /// The root the store recorded.
        stored: String,
        /// The root rebuilt from the stored leaves.
        computed: String,
    },
    /// A protocol rule refused the change.
    #[error(transparent)]
    Tx(#[from] TxError),
}
