//! What can go wrong talking to L1, with reverts decoded into the contracts' own errors.

use alloy::primitives::{Bytes, B256};
use zklink_contracts::anvil::AnvilError;
use zklink_contracts::zklink::{Timelock, ZkLink};
use zklink_types::NetworkError;

use crate::send::PolicyError;
use crate::testchains::ManifestError;

/// Why a contract refused a call, decoded from its revert data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// A ZkLink error (ZkLink and ZkLinkPeriphery share them, declared in ZkLinkBase).
    ZkLink(ZkLink::ZkLinkErrors),
    /// A Timelock error.
    Timelock(Timelock::TimelockErrors),
    /// Revert data neither contract declares (e.g. a token's own revert), or none.
    Other(Bytes),
}

/// Errors of the L1 client.
#[derive(thiserror::Error, Debug)]
pub enum L1Error {
    /// The contract rejected the call (found by simulating it before sending).
    #[error("{call} was rejected by the contract: {revert:?}")]
    Reverted {
        /// The entry point.
        call: &'static str,
        /// The decoded reason.
        revert: Revert,
    },
    /// The transaction was mined but failed (the state changed between simulation and mining).
    #[error("{call}: transaction {tx} was mined but reverted")]
    Failed {
        /// The entry point.
        call: &'static str,
        /// The transaction hash.
        tx: B256,
    },
    /// No transaction for `nonce` was mined after every replacement the [`crate::SendPolicy`]
    /// allows. They stay in the nodes' pools and may still be mined: read the state before
    /// retrying.
    #[error("{call}: nonce {nonce} still not mined after {} transactions {txs:?}; they may still be mined", txs.len())]
    Stuck {
        /// The entry point.
        call: &'static str,
        /// The nonce every attempt used.
        nonce: u64,
        /// Every transaction broadcast for it, oldest first.
        txs: Vec<B256>,
    },
    /// A stuck transaction could not be replaced: a valid bump needs a max fee above the
    /// [`crate::SendPolicy`]'s cap. The transactions sent may still be mined.
    #[error(
        "{call}: nonce {nonce} is stuck and a replacement needs a max fee of {needed} wei, above the cap of {cap} wei"
    )]
    FeeCapReached {
        /// The entry point.
        call: &'static str,
        /// The nonce every attempt used.
        nonce: u64,
        /// The cap, wei per gas.
        cap: u128,
        /// The lowest max fee a replacement would need, wei per gas.
        needed: u128,
        /// Every transaction broadcast for it, oldest first.
        txs: Vec<B256>,
    },
    /// The node says `nonce` is used, yet none of the transactions sent for it has a receipt:
    /// another process sending from the same key took it (or a reorganisation dropped ours).
    #[error("{call}: nonce {nonce} was used by none of {txs:?}")]
    NonceTaken {
        /// The entry point.
        call: &'static str,
        /// The nonce.
        nonce: u64,
        /// Every transaction broadcast for it, oldest first.
        txs: Vec<B256>,
    },
    /// The node could not be reached or answered with an error.
    #[error("{what}: {source}")]
    Rpc {
        /// What was attempted.
        what: &'static str,
        /// The transport's, node's or contract binding's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Blocks the event reader had already treated as final were replaced: the chain reorganised
    /// deeper than the configured confirmation depth. Whatever was derived from those events must
    /// be rebuilt from `block` on.
    #[error(
        "L1 reorganised below the confirmation depth: block {block} was {expected} and is now {found}; \
         raise the confirmation depth and resync from block {block}"
    )]
    DeepReorg {
        /// The height whose hash changed.
        block: u64,
        /// Its hash when it was read.
        expected: B256,
        /// Its hash now (zero if the block is gone).
        found: B256,
    },
    /// A deployment, its configuration or the send policy is inconsistent.
    #[error("bad deployment configuration: {0}")]
    Config(ConfigError),
    /// A local anvil could not be started.
    #[error(transparent)]
    Anvil(#[from] AnvilError),
}

/// What is inconsistent in a deployment, a configuration or a send policy.
#[derive(thiserror::Error, Debug)]
pub enum ConfigError {
    /// Explained in words (no underlying error).
    #[error("{0}")]
    Invalid(String),
    /// The send policy is refused.
    #[error("send policy: {0}")]
    Policy(#[from] PolicyError),
    /// The network configuration is invalid.
    #[error("network: {0}")]
    Network(#[from] NetworkError),
    /// A test chains manifest is unreadable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

impl From<String> for ConfigError {
    fn from(reason: String) -> Self {
        Self::Invalid(reason)
    }
}

impl From<&str> for ConfigError {
    fn from(reason: &str) -> Self {
        Self::Invalid(reason.into())
    }
}

impl L1Error {
    /// Classifies an alloy contract error: a revert with data becomes [`L1Error::Reverted`].
    pub fn from_contract(call: &'static str, err: alloy::contract::Error) -> Self {
        if let Some(e) = err.as_decoded_interface_error::<ZkLink::ZkLinkErrors>() {
            return Self::Reverted { call, revert: Revert::ZkLink(e) };
        }
        if let Some(e) = err.as_decoded_interface_error::<Timelock::TimelockErrors>() {
            return Self::Reverted { call, revert: Revert::Timelock(e) };
        }
        match err.as_revert_data() {
            Some(data) => Self::Reverted { call, revert: Revert::Other(data) },
            None => Self::Rpc { what: call, source: Box::new(err) },
        }
    }

    /// An RPC failure while doing `what`.
    pub fn rpc(what: &'static str, err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Rpc { what, source: Box::new(err) }
    }

    /// A configuration error: a [`ConfigError`], or its explanation in words.
    pub fn config(err: impl Into<ConfigError>) -> Self {
        Self::Config(err.into())
    }

    /// The ZkLink error, if the contract rejected the call with one.
    pub fn zklink_revert(&self) -> Option<&ZkLink::ZkLinkErrors> {
        match self {
            Self::Reverted { revert: Revert::ZkLink(e), .. } => Some(e),
            _ => None,
        }
    }

    /// The Timelock error, if the timelock rejected the call with one.
    pub fn timelock_revert(&self) -> Option<&Timelock::TimelockErrors> {
        match self {
            Self::Reverted { revert: Revert::Timelock(e), .. } => Some(e),
            _ => None,
        }
    }
}
