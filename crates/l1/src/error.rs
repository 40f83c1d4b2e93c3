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

impl std::fmt::Display for Revert {
    /// The reason in words, with the error's name and values for reference.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ZkLink(e) => f.write_str(&zklink_reason(e)),
            Self::Timelock(e) => f.write_str(&timelock_reason(e)),
            Self::Other(data) if data.is_empty() => f.write_str("it reverted without a reason"),
            Self::Other(data) => match <alloy::sol_types::Revert as alloy::sol_types::SolError>::abi_decode(data) {
                Ok(r) => write!(f, "it reverted with \"{}\"", r.reason),
                Err(_) => write!(f, "it reverted with data {data} that no zklink contract declares"),
            },
        }
    }
}

/// A ZkLink (or ZkLinkPeriphery) error in words.
fn zklink_reason(e: &ZkLink::ZkLinkErrors) -> String {
    use ZkLink::ZkLinkErrors as E;
    match e {
        E::NotGovernor(_) => "only the governor (the timelock) may do this".into(),
        E::NotValidator(_) => "only a validator (the operator's key) may do this".into(),
        E::Reentrancy(_) => "reentrant call refused".into(),
        E::AlreadyInitialized(_) => "the contract is already initialised".into(),
        E::BadConfig(x) => format!("bad configuration: {}", x.what),
        E::TokenNotListed(x) => format!("token {} is not listed on this chain", x.tokenId),
        E::TokenAlreadyListed(x) => format!("token {} is already listed", x.tokenId),
        E::DepositsPaused(x) => format!("deposits of token {} are paused by the governor", x.tokenId),
        E::BadDeposit(x) => format!("the deposit is refused: {}", x.reason),
        E::BadFullExit(x) => format!("the full exit is refused: {}", x.reason),
        E::TransferFailed(_) => "a token transfer failed: the sender's L1 balance or allowance is too low, or \
                                 the token refused the transfer"
            .into(),
        E::WrongBlockNumber(x) => format!("expected block {}, got block {}", x.expected, x.got),
        E::StoredBlockMismatch(x) => {
            format!("block {} does not match the block the contract stored", x.blockNumber)
        }
        E::BadTimestamp(x) => format!("block timestamp {} is before the previous block's {}", x.got, x.previous),
        E::BadPubdata(x) => format!("bad pubdata: {}", x.reason),
        E::BadOnchainOp(x) => format!("bad on-chain op at offset {}: {}", x.offset, x.reason),
        E::PriorityQueueMismatch(x) => {
            format!("the op at offset {} does not match priority request {}", x.offset, x.serialId)
        }
        E::PriorityQueueExhausted(x) => {
            format!("the op at offset {} has no priority request left to match", x.offset)
        }
        E::ChainHashMismatch(x) => format!("this chain's op hash is {}, the block says {}", x.expected, x.got),
        E::BadChangePubKeyAuth(x) => format!("bad change-pubkey authorisation at offset {}: {}", x.offset, x.reason),
        E::NoVerifier(x) => format!("no verifier for {}-chunk blocks", x.chunks),
        E::InvalidProof(x) => format!("the proof of block {} does not verify", x.blockNumber),
        E::NothingToDo(_) => "nothing to do".into(),
        E::AlreadySynced(x) => {
            format!("block {} is already synced ({} blocks synced)", x.blockNumber, x.totalBlocksSynced)
        }
        E::UnknownOracle(x) => format!("{} is not an oracle", x.signer),
        E::SignaturesNotSorted(x) => {
            format!("oracle signatures are not in ascending signer order ({} after {})", x.signer, x.previous)
        }
        E::BadSignature(x) => format!("oracle signature {} does not verify", x.index),
        E::TooFewSignatures(x) => format!("{} oracle signatures, the threshold is {}", x.got, x.threshold),
        E::NotProven(x) => format!("block {} is not proven", x.blockNumber),
        E::NotSynced(x) => format!("block {} is not synced by the oracles", x.blockNumber),
        E::PendingOpsMismatch(x) => format!("the pending ops of block {} do not match", x.blockNumber),
        E::AlreadyExecuted(x) => format!("block {} is already executed", x.blockNumber),
        E::InsufficientPendingBalance(x) => format!(
            "only {} (L1 units) is pending for this owner and token, {} was asked for",
            x.available, x.requested
        ),
        E::AlreadyAccepted(x) => format!("the withdrawal was already accepted by {}", x.payee),
        E::BadAccept(x) => format!("the fast withdrawal cannot be accepted: {}", x.reason),
        E::ExodusActive(_) => "the chain is in exodus mode: only exits and refunds are possible".into(),
        E::NotExodus(_) => "the chain is not in exodus mode".into(),
        E::NotExpired(x) => {
            format!("the oldest priority request ({}) expires only at L1 block {}", x.serialId, x.expirationBlock)
        }
        E::ExodusAlreadyPerformed(_) => "this exit was already paid".into(),
        E::BadExitClaim(x) => format!("bad exit claim: {}", x.reason),
        E::InvalidExitProof(_) => "the exit proof does not verify".into(),
    }
}

/// A Timelock error in words.
fn timelock_reason(e: &Timelock::TimelockErrors) -> String {
    use Timelock::TimelockErrors as T;
    match e {
        T::NotAdmin(_) => "only the timelock's admin may do this".into(),
        T::NotTimelock(_) => "only the timelock itself may do this".into(),
        T::BadDelay(x) => format!("delay {} s is outside {}..={} s", x.delay, x.min, x.max),
        T::EtaTooSoon(x) => format!("eta {} is before the earliest allowed, {}", x.eta, x.earliest),
        T::NotQueued(x) => format!("call {} is not queued", x.id),
        T::TooEarly(x) => format!("the call may run from {}, it is {}", x.eta, x.now_),
        T::Stale(x) => format!("the call expired at {}, it is {}", x.deadline, x.now_),
        T::CallFailed(x) => format!("the queued call reverted ({})", x.reason),
    }
}

/// Errors of the L1 client.
#[derive(thiserror::Error, Debug)]
pub enum L1Error {
    /// The contract rejected the call (found by simulating it before sending).
    #[error("{call} was rejected by the contract: {revert}")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverts_are_explained_in_words() {
        let e = L1Error::Reverted {
            call: "depositERC20",
            revert: Revert::ZkLink(ZkLink::ZkLinkErrors::TransferFailed(ZkLink::TransferFailed {})),
        };
        let text = e.to_string();
        assert!(text.starts_with("depositERC20 was rejected by the contract: a token transfer failed"), "{text}");
        assert!(!text.contains("TransferFailed("), "{text}");
        let reason = alloy::sol_types::Revert::from("balance");
        let other = Revert::Other(alloy::sol_types::SolError::abi_encode(&reason).into());
        assert_eq!(other.to_string(), "it reverted with \"balance\"");
        assert_eq!(Revert::Other(Bytes::new()).to_string(), "it reverted without a reason");
    }
}
