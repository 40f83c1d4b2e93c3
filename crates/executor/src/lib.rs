//! The executor: applies transactions to the L2 state with every protocol rule and seals
//! blocks.
//!
//! Each applied tx yields an [`ExecutedOp`]: the op (its pubdata), the ordered leaf-level
//! [`StateUpdate`]s, and — in witness mode — the Merkle paths and roots around every update,
//! which is what the block circuit replays. A rejected tx changes nothing: handlers only
//! plan, and the plan is applied after every check has passed.

pub mod handlers;
pub mod plan;
pub mod replay;
pub mod testkit;
pub mod verify;
pub mod witness;

use serde::{Deserialize, Serialize};
use zklink_block::{block_size_for, Block, BlockError};
use zklink_crypto::Fr;
use zklink_state::State;
use zklink_types::{
    AccountId, BlockNumber, L2Tx, Network, NetworkError, Op, PriorityTx, SignatureFault, SubAccountId, TokenId,
    TxError, TxHash, FEE_ACCOUNT_ID,
};

/// A balance leaf a fee is credited to: (account, sub-account, token).
pub type CreditKey = (AccountId, SubAccountId, TokenId);

pub use handlers::AuthFacts;
pub use plan::{Plan, StateUpdate};
pub use replay::ReplayError;
pub use verify::{verify_batch, VerifiedTx};
pub use witness::UpdateWitness;

/// One applied tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutedOp {
    /// The op the tx became, as it goes into the block's pubdata.
    pub op: Op,
    /// L2 tx hash, or `None` for priority requests and the Noop chunks that align an op to its
    /// start period.
    pub tx_hash: Option<TxHash>,
    /// The leaf-level state changes, in the order they were applied.
    pub updates: Vec<StateUpdate>,
    /// Present in witness mode: one entry per update.
    #[serde(skip)]
    pub witness: Option<Vec<UpdateWitness>>,
}

/// A sealed block with what produced it.
#[derive(Clone, Debug)]
pub struct SealedBlock {
    /// The block: its ops, size, roots and number, from which the commitment follows.
    pub block: Block,
    /// The applied ops of the block, in order (one per op of `block`).
    pub ops: Vec<ExecutedOp>,
}

/// Why [`Executor::new`] refused a network and state.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ExecutorConfigError {
    /// The network configuration is not valid.
    #[error("invalid network: {0}")]
    Network(#[from] NetworkError),
    /// The state was built for another preset than the network's.
    #[error("state preset {state} does not match network preset {network}")]
    PresetMismatch {
        /// The state's preset name.
        state: String,
        /// The network's preset name.
        network: String,
    },
}

/// Applies txs and priority requests to the state under every protocol rule and collects them
/// into blocks: the reference implementation of the rules (docs/protocol.md §7).
pub struct Executor {
    network: Network,
    state: State,
    facts: AuthFacts,
    witness_mode: bool,
    /// Ops of the block being built.
    pending: Vec<ExecutedOp>,
    pending_chunks: usize,
    /// The distinct balance leaves the open block's ops credit fees to (its credit slots).
    pending_credits: Vec<CreditKey>,
    /// Root at the start of the block being built.
    block_start_root: Fr,
    /// The open block's timestamp (Unix seconds): orders and pool txs are checked against it and
    /// the block is sealed with it.
    block_timestamp: u64,
}

/// Why [`Executor::set_block_timestamp`] refused a timestamp.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
#[error("the open block already has ops checked against timestamp {current}; it cannot move to {requested}")]
pub struct TimestampFixed {
    /// The open block's timestamp.
    pub current: u64,
    /// The timestamp asked for.
    pub requested: u64,
}

impl Executor {
    /// An executor over `state` (which must use the network's preset), with an empty open block
    /// starting at the state's current root, witness mode off and no on-chain auth facts.
    pub fn new(network: Network, mut state: State) -> Result<Self, ExecutorConfigError> {
        network.validate()?;
        if state.preset() != &network.preset {
            return Err(ExecutorConfigError::PresetMismatch {
                state: state.preset().name.clone(),
                network: network.preset.name.clone(),
            });
        }
        let block_start_root = state.root();
        Ok(Self {
            network,
            state,
            facts: AuthFacts::default(),
            witness_mode: false,
            pending: Vec::new(),
            pending_chunks: 0,
            pending_credits: Vec::new(),
            block_start_root,
            block_timestamp: 0,
        })
    }

    /// The network the executor runs.
    pub fn network(&self) -> &Network {
        &self.network
    }
    /// The current state, with every applied op of the open block in it.
    pub fn state(&self) -> &State {
        &self.state
    }
    /// Mutable access for storage and benchmarks; changing balances directly breaks invariants.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }
    /// The state, dropping the executor (and any open block's bookkeeping).
    pub fn into_state(self) -> State {
        self.state
    }
    /// The on-chain ChangePubKey authorisations the executor accepts; the L1 watcher adds to them.
    pub fn auth_facts_mut(&mut self) -> &mut AuthFacts {
        &mut self.facts
    }

    /// Record Merkle paths and roots for every update (for the prover). Slower: the state is
    /// rehashed after each update instead of once per block.
    pub fn set_witness_mode(&mut self, on: bool) {
        self.witness_mode = on;
    }

    /// The open block's timestamp (Unix seconds); after a seal, the sealed block's until it is set.
    pub fn block_timestamp(&self) -> u64 {
        self.block_timestamp
    }

    /// Fixes the open block's timestamp (Unix seconds): the order validity windows of its
    /// matchings and the windows of its pool txs are checked against it, and [`Executor::seal_block`] seals with it. Set it
    /// before the block's first op: once the block has ops, only the same value is accepted.
    pub fn set_block_timestamp(&mut self, timestamp: u64) -> Result<(), TimestampFixed> {
        if !self.pending.is_empty() && timestamp != self.block_timestamp {
            return Err(TimestampFixed { current: self.block_timestamp, requested: timestamp });
        }
        self.block_timestamp = timestamp;
        Ok(())
    }

    /// The ops applied since the last sealed block, in order.
    pub fn pending_ops(&self) -> &[ExecutedOp] {
        &self.pending
    }
    /// Chunks the open block's ops occupy so far.
    pub fn pending_chunks(&self) -> usize {
        self.pending_chunks
    }
    /// Chunks an op of `chunks` chunks that may start only at multiples of `period` would add to
    /// the open block: with the Noop chunks that align it first ([`zklink_types::Preset::padding`];
    /// the period of an op code is [`zklink_types::Preset::start_period`]).
    pub fn chunks_needed(&self, chunks: usize, period: usize) -> usize {
        self.network.preset.padding(self.pending_chunks, period) + chunks
    }
    /// The block shape the open block needs with one more op of `chunks` chunks that starts only at
    /// multiples of `period` and credits fees to at most the balance leaves `credits`: its chunks
    /// with their alignment, and its credit keys in the shape's credit slots (docs/protocol.md §9,
    /// §12). `None` if no shape of the preset holds it.
    pub fn shape_with(&self, chunks: usize, period: usize, credits: &[CreditKey]) -> Option<usize> {
        let new = |(i, k): &(usize, &CreditKey)| !self.pending_credits.contains(k) && !credits[..*i].contains(k);
        let keys = self.pending_credits.len() + credits.iter().enumerate().filter(new).count();
        block_size_for(&self.network.preset, self.pending_chunks + self.chunks_needed(chunks, period), keys).ok()
    }

    /// [`Executor::shape_with`] for the op of `tx`, whatever it turns out to credit: its largest
    /// size, its kind's start period, and every balance leaf it could credit a fee to
    /// ([`credit_bound`]).
    pub fn shape_with_tx(&self, tx: &L2Tx) -> Option<usize> {
        let kind = tx.tx_kind();
        let period = self.network.preset.start_period(kind.op_code());
        self.shape_with(kind.max_chunks(), period, &credit_bound(tx))
    }

    /// Chunks still free in the largest block shape.
    pub fn free_chunks(&self) -> usize {
        self.network.preset.max_block_chunks().saturating_sub(self.pending_chunks)
    }

    /// Applies a priority request to the open block. A deposit is checked by the rules of
    /// docs/protocol.md §7; a full exit is refused only for an unconnected chain (an invalid
    /// request otherwise exits 0). Either is refused with [`TxError::BlockFull`] if its op does
    /// not fit the open block.
    pub fn apply_priority(&mut self, tx: &PriorityTx) -> Result<&ExecutedOp, TxError> {
        let network = &self.network;
        let mut plan = Plan::new(&self.state);
        let op = match tx {
            PriorityTx::Deposit(d) => handlers::deposit(&mut plan, network, d)?,
            PriorityTx::FullExit(f) => handlers::full_exit(&mut plan, network, f)?,
        };
        let updates = plan.updates;
        self.commit_op(op, None, updates)
    }

    /// Verifies the signatures, then applies.
    pub fn apply_l2(&mut self, tx: L2Tx) -> Result<&ExecutedOp, TxError> {
        let verified = VerifiedTx::verify(tx)?;
        self.apply_verified(&verified)
    }

    /// Applies a tx whose signatures were already checked.
    pub fn apply_verified(&mut self, v: &VerifiedTx) -> Result<&ExecutedOp, TxError> {
        let network = &self.network;
        let signer = v.signer();
        let mut plan = Plan::new(&self.state);
        let op = match v.tx() {
            L2Tx::ChangePubKey(t) => handlers::change_pubkey(&mut plan, network, &self.facts, t, &signer)?,
            L2Tx::Transfer(t) => handlers::transfer(&mut plan, network, t, &signer)?,
            L2Tx::Withdraw(t) => handlers::withdraw(&mut plan, network, t, &signer)?,
            L2Tx::ForcedExit(t) => handlers::forced_exit(&mut plan, network, t, &signer)?,
            L2Tx::OrderMatching(t) => {
                let (maker, taker) = v
                    .order_signers()
                    .ok_or(TxError::BadSignature(SignatureFault::Rule("order signatures were not verified")))?;
                handlers::order_matching(&mut plan, network, t, (&signer, &maker, &taker), self.block_timestamp)?
            }
            L2Tx::CancelOrder(t) => handlers::cancel_order(&mut plan, network, t, &signer)?,
            L2Tx::CreatePool(t) => handlers::create_pool(&mut plan, network, t, &signer)?,
            L2Tx::AddLiquidity(t) => handlers::add_liquidity(&mut plan, network, t, &signer, self.block_timestamp)?,
            L2Tx::RemoveLiquidity(t) => {
                handlers::remove_liquidity(&mut plan, network, t, &signer, self.block_timestamp)?
            }
            L2Tx::Swap(t) => handlers::swap(&mut plan, network, t, &signer, self.block_timestamp)?,
        };
        let updates = plan.updates;
        self.commit_op(op, Some(v.hash()), updates)
    }

    /// Replays an op read from pubdata (see [`replay`]): no signatures or rules, but every
    /// fact the op states about the state is checked.
    pub fn apply_op(&mut self, op: &Op) -> Result<&ExecutedOp, ReplayError> {
        let mut plan = Plan::new(&self.state);
        replay::plan_op(&mut plan, &self.network, op)?;
        let updates = plan.updates;
        Ok(self.commit_op(op.clone(), None, updates)?)
    }

    fn commit_op(
        &mut self,
        op: Op,
        tx_hash: Option<TxHash>,
        updates: Vec<StateUpdate>,
    ) -> Result<&ExecutedOp, TxError> {
        // On-chain ops, swaps and the other pool ops start only at multiples of their kind's
        // period: Noop chunks fill the gap.
        let period = self.network.preset.start_period(op.code());
        let padding = self.network.preset.padding(self.pending_chunks, period);
        let chunks = op.chunks();
        let credits: Vec<CreditKey> = op.credits().iter().map(|c| c.key()).collect();
        if self.shape_with(chunks, period, &credits).is_none() {
            return Err(TxError::BlockFull { needed: padding + chunks, available: self.free_chunks() });
        }
        // Pubdata encoding can only fail for unpackable amounts, which validation rejected;
        // check anyway before touching the state.
        op.pubdata()?;
        let witness = if self.witness_mode {
            Some(witness::apply_with_witness(&mut self.state, &updates)?)
        } else {
            for u in &updates {
                u.apply(&mut self.state)?;
            }
            None
        };
        for _ in 0..padding {
            let witness = self.witness_mode.then(Default::default);
            self.pending.push(ExecutedOp { op: Op::Noop, tx_hash: None, updates: Vec::new(), witness });
        }
        self.pending_chunks += padding + chunks;
        for key in credits {
            if !self.pending_credits.contains(&key) {
                self.pending_credits.push(key);
            }
        }
        self.pending.push(ExecutedOp { op, tx_hash, updates, witness });
        Ok(self.pending.last().expect("just pushed"))
    }

    /// Closes the block with the open block's timestamp ([`Executor::set_block_timestamp`]):
    /// pads to the smallest shape that fits, computes the new root.
    pub fn seal_block(&mut self, number: BlockNumber) -> Result<SealedBlock, BlockError> {
        let timestamp = self.block_timestamp;
        let chunks = block_size_for(&self.network.preset, self.pending_chunks, self.pending_credits.len())?;
        let new_root = self.state.root();
        let ops = std::mem::take(&mut self.pending);
        self.pending_chunks = 0;
        self.pending_credits.clear();
        let block = Block {
            number,
            timestamp,
            old_root: self.block_start_root,
            new_root,
            ops: ops.iter().map(|e| e.op.clone()).collect(),
            chunks,
            chain_count: self.network.chains.len() as u8,
        };
        self.block_start_root = new_root;
        Ok(SealedBlock { block, ops })
    }

    /// The state root (flushes pending hashing).
    pub fn root(&mut self) -> Fr {
        self.state.root()
    }
}

/// Every balance leaf the op of `tx` could credit a fee to, whatever the state: a superset of
/// its op's [`Op::credits`] keys, known before the tx is applied (the node seals the open block
/// first when they would not fit it).
pub fn credit_bound(tx: &L2Tx) -> Vec<CreditKey> {
    let network = |token: TokenId, fee: u128| (fee != 0).then_some((FEE_ACCOUNT_ID, SubAccountId(0), token));
    match tx {
        L2Tx::Transfer(t) => network(t.token, t.fee).into_iter().collect(),
        L2Tx::Withdraw(t) => network(t.l2_source_token, t.fee).into_iter().collect(),
        L2Tx::ChangePubKey(t) => network(t.fee_token, t.fee).into_iter().collect(),
        L2Tx::ForcedExit(t) => network(t.fee_token, t.fee).into_iter().collect(),
        L2Tx::CancelOrder(t) => network(t.fee_token, t.fee).into_iter().collect(),
        L2Tx::CreatePool(t) => network(t.fee_token, t.fee).into_iter().collect(),
        L2Tx::AddLiquidity(t) => network(t.fee_token, t.fee).into_iter().collect(),
        L2Tx::RemoveLiquidity(t) => network(t.fee_token, t.fee).into_iter().collect(),
        // The protocol fee, in the input token like the network fee, is known only once the
        // swap is priced: the leaf is always in the bound.
        L2Tx::Swap(t) => vec![(FEE_ACCOUNT_ID, SubAccountId(0), t.token_in)],
        L2Tx::OrderMatching(t) => {
            // The maker pays its maker fee in the token it buys, the taker its taker fee in
            // the token the maker sells (`FillSettlement`); a zero ratio credits nothing.
            let (base, quote) = (t.maker.base_token, t.maker.quote_token);
            let (maker_buys, maker_sells) = if t.maker.is_sell { (quote, base) } else { (base, quote) };
            let venue = |ratio: u8, token| (ratio != 0).then_some((t.account_id, t.sub_account_id, token));
            let mut keys: Vec<CreditKey> = venue(t.maker.maker_fee_ratio, maker_buys).into_iter().collect();
            keys.extend(venue(t.taker.taker_fee_ratio, maker_sells));
            keys.extend(network(t.fee_token, t.fee));
            keys
        }
    }
}
