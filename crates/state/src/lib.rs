//! zklink L2 state: 4-ary sparse Poseidon Merkle trees, the account model (account leaf,
//! balance tree, order-slot tree, the global asset account), and durable storage.

pub mod account;
pub mod error;
pub mod smt;
pub mod state;
pub mod store;

pub use account::{Account, OrderSlot};
pub use error::StateError;
pub use smt::{DefaultHashes, MerklePath, SparseMerkleTree, TreeError};
pub use state::{AccountLeaf, State, TreeShapes};
pub use store::{AccountRecord, MemoryStore, RedbStore, StateStore, StoredState};
