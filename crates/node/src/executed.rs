//! The state as of the newest block executed on every chain: the state L1 has paid out against,
//! as opposed to the keeper's latest state (which includes sealed blocks still on their way and the
//! open block). It is advanced by replaying stored blocks as chains execute them; the API serves
//! it as the `executed` view of an account.

use zklink_executor::verify::VerifiedTx;
use zklink_executor::Executor;
use zklink_state::State;
use zklink_types::{Address, BlockNumber, Network};

use crate::store::{BlockStore, StoreError};

/// Why the executed state could not advance.
#[derive(thiserror::Error, Debug)]
pub enum ExecutedError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored block did not replay (the store is damaged).
    #[error("replaying block {block} into the executed state: {what}")]
    Replay {
        /// The block.
        block: u32,
        /// What was being replayed, or what differed.
        what: &'static str,
        /// The error that stopped it, if one did.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// The executed state and the block it stands at.
pub struct ExecutedState {
    exec: Executor,
    block: u32,
}

impl ExecutedState {
    /// The genesis state of `network` with the fee account owned by `fee_owner`.
    pub fn genesis(network: Network, fee_owner: Address) -> Result<Self, zklink_executor::ExecutorConfigError> {
        let state = State::genesis(network.preset.clone(), fee_owner);
        Ok(Self { exec: Executor::new(network, state)?, block: 0 })
    }

    /// The block it stands at (0: genesis).
    pub fn block(&self) -> u32 {
        self.block
    }

    /// The state after that block.
    pub fn state(&self) -> &State {
        self.exec.state()
    }

    /// Replays stored blocks up to `target`.
    pub fn advance_to(&mut self, store: &BlockStore, target: u32) -> Result<(), ExecutedError> {
        while self.block < target {
            let n = self.block + 1;
            let differs = |what| ExecutedError::Replay { block: n, what, source: None };
            let failed = |what, e: Box<dyn std::error::Error + Send + Sync>| ExecutedError::Replay {
                block: n,
                what,
                source: Some(e),
            };
            let stored = store.block(n)?.ok_or_else(|| differs("missing from the store"))?;
            self.exec
                .set_block_timestamp(stored.block.timestamp)
                .map_err(|e| failed("the block's timestamp", e.into()))?;
            let mut priority = stored.priority.iter();
            // An imported block has no txs: it replays from its ops.
            if stored.imported {
                for op in &stored.block.ops {
                    self.exec.apply_op(op).map_err(|e| failed("an imported op", e.into()))?;
                }
            }
            for tx in stored.replayed_txs() {
                match tx {
                    Some(tx) => {
                        let verified =
                            VerifiedTx::verify(tx.clone()).map_err(|e| failed("a stored tx's signature", e.into()))?;
                        self.exec.apply_verified(&verified).map_err(|e| failed("a stored tx", e.into()))?;
                    }
                    None => {
                        let p = priority.next().ok_or_else(|| differs("fewer priority requests than ops"))?;
                        self.exec.apply_priority(p).map_err(|e| failed("a stored priority request", e.into()))?;
                    }
                }
            }
            let sealed = self.exec.seal_block(BlockNumber(n)).map_err(|e| failed("sealing the block", e.into()))?;
            if sealed.block.new_root != stored.block.new_root {
                return Err(differs("the replayed root differs from the stored one"));
            }
            self.block = n;
        }
        Ok(())
    }
}
