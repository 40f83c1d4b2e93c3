//! Witness generation: the native twin of the block circuit. It replays a block's ops on a
//! state at the block's old root in exactly the slot layout the op rules bind, and collects
//! the signatures and the order-matching values that are signed but not in the pubdata.
//!
//! It reads only the ops (the pubdata) and the signed L2 txs, never the executor's records, so
//! the equivalence tests compare two independent implementations of the rules.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::ConstraintSystemRef;
use serde::{Deserialize, Serialize};
use zklink_block::{Block, BlockError};
use zklink_crypto::eddsa::{PublicKey, Signature};
use zklink_crypto::fr_serde;
use zklink_crypto::{CryptoError, Fr};
use zklink_state::{OrderSlot, State, StateError};
use zklink_types::op::{AddLiquidityOp, CreatePoolOp, OrderMatchingOp, RemoveLiquidityOp, SwapOp, CHUNK_BYTES};
use zklink_types::pool::MIN_LIQUIDITY;
use zklink_types::{
    AccountId, FillSettlement, L2Tx, Nonce, Op, OrderNonce, PoolParams, Preset, SlotId, SubAccountId, TokenId,
    TokenMapping, TxError, TxSignature, FEE_ACCOUNT_ID, GLOBAL_ASSET_ACCOUNT_ID,
};

use super::bytes::Field;
use super::num::{self, pow2, R};
use super::ops::OpKind;
use super::slot::{SlotWitness, SubLeaf, SLOTS_PER_CHUNK};

/// Why a witness could not be built: the inputs do not describe a valid block.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The state's root (the second field, decimal) is not the old root of block number (the first).
    #[error("block {0}: the state root {1} is not the block's old root")]
    WrongOldRoot(u32, String),
    /// An op that needs its signed L2 tx got none, or a tx of another kind.
    #[error("op {index} ({kind}) needs its signed L2 tx, got {got}")]
    MissingTx {
        /// Index of the op in the block.
        index: usize,
        /// The op's kind.
        kind: &'static str,
        /// What was given instead.
        got: &'static str,
    },
    /// An op cannot be replayed on the state.
    #[error("op {index}: {reason}")]
    BadOp {
        /// Index of the op in the block.
        index: usize,
        /// What is wrong with it.
        #[source]
        reason: OpFault,
    },
    /// The block's fees go to more distinct balance leaves than its shape has credit slots.
    #[error("the block credits fees to {keys} distinct balances but its shape has {slots} credit slots")]
    TooManyCredits {
        /// Distinct balance leaves credited.
        keys: usize,
        /// Credit slots of the block's shape.
        slots: usize,
    },
    /// The replayed block's pubdata or commitment could not be computed.
    #[error("block: {0}")]
    Block(#[source] BlockError),
}

/// What is wrong with one op of a block whose witness is being built.
#[derive(Debug, thiserror::Error)]
pub enum OpFault {
    /// The op does not fit the witness layout.
    #[error("{0}")]
    Layout(&'static str),
    /// The state refused an access (a path out of range, …).
    #[error(transparent)]
    State(#[from] StateError),
    /// A protocol rule refused the op's change.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The signed tx's public key or signature does not decode.
    #[error("bad signature: {0}")]
    Signature(#[from] CryptoError),
}

impl From<&'static str> for OpFault {
    fn from(reason: &'static str) -> Self {
        Self::Layout(reason)
    }
}

/// A signature check's inputs: public key A, R8 and S (little-endian bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigWitness {
    /// The signer's public key `A` as affine `(x, y)`.
    #[serde(with = "fr_serde::pair")]
    pub a: (Fr, Fr),
    /// The signature's point `R8` as affine `(x, y)`.
    #[serde(with = "fr_serde::pair")]
    pub r8: (Fr, Fr),
    /// The signature's scalar `S`, 32 bytes little-endian.
    pub s: [u8; 32],
}

impl Default for SigWitness {
    /// The identity point and S = 0: a trivially valid, never-required check for padding.
    fn default() -> Self {
        let identity = (Fr::from(0u64), Fr::from(1u64));
        Self { a: identity, r8: identity, s: [0; 32] }
    }
}

impl SigWitness {
    fn from_tx(sig: &TxSignature) -> Result<Self, CryptoError> {
        let a = PublicKey::from_packed(&sig.pub_key)?;
        let s = Signature::from_packed(&sig.signature)?;
        Ok(Self { a: (a.x(), a.y()), r8: s.r8(), s: s.s() })
    }
}

/// Order-matching values that are signed but not published: caps, prices and the fee ratio
/// each order accepts for the role it did not play.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderAux {
    /// The matching's `expect_base_amount` (0 = no cap), in L2 units.
    pub expect_base: u128,
    /// The matching's `expect_quote_amount` (0 = no cap), in L2 units.
    pub expect_quote: u128,
    /// The maker order's price (18-decimal fixed point).
    pub maker_price: u128,
    /// The taker order's price (18-decimal fixed point).
    pub taker_price: u128,
    /// The maker order's taker fee ratio (1/10^4 units): not charged, but part of its signed bytes.
    pub maker_taker_ratio: u8,
    /// The taker order's maker fee ratio (1/10^4 units): not charged, but part of its signed bytes.
    pub taker_maker_ratio: u8,
    /// The maker order's validity window (Unix seconds): from, until.
    pub maker_window: (u32, u32),
    /// The taker order's validity window (Unix seconds): from, until.
    pub taker_window: (u32, u32),
}

/// [`OrderAux`] in the circuit, each value with its big-endian bits (a range check).
#[derive(Clone)]
pub struct AuxVar {
    /// [`OrderAux::expect_base`], 128 bits.
    pub expect_base: Field,
    /// [`OrderAux::expect_quote`], 128 bits.
    pub expect_quote: Field,
    /// [`OrderAux::maker_price`], 120 bits.
    pub maker_price: Field,
    /// [`OrderAux::taker_price`], 120 bits.
    pub taker_price: Field,
    /// [`OrderAux::maker_taker_ratio`], 8 bits.
    pub maker_taker_ratio: Field,
    /// [`OrderAux::taker_maker_ratio`], 8 bits.
    pub taker_maker_ratio: Field,
    /// [`OrderAux::maker_window`], 32 bits each.
    pub maker_window: (Field, Field),
    /// [`OrderAux::taker_window`], 32 bits each.
    pub taker_window: (Field, Field),
}

impl OrderAux {
    /// Allocates the values as witnesses with their big-endian bits (which range-checks them).
    pub fn alloc(&self, cs: &ConstraintSystemRef<Fr>) -> R<AuxVar> {
        let field = |v: u128, bits: usize| -> R<Field> {
            let value = FpVar::new_witness(cs.clone(), || Ok(Fr::from(v)))?;
            Ok(Field { bits: num::to_bits_be(&value, bits)?, value })
        };
        Ok(AuxVar {
            expect_base: field(self.expect_base, 128)?,
            expect_quote: field(self.expect_quote, 128)?,
            maker_price: field(self.maker_price, 120)?,
            taker_price: field(self.taker_price, 120)?,
            maker_taker_ratio: field(self.maker_taker_ratio as u128, 8)?,
            taker_maker_ratio: field(self.taker_maker_ratio as u128, 8)?,
            maker_window: (field(self.maker_window.0.into(), 32)?, field(self.maker_window.1.into(), 32)?),
            taker_window: (field(self.taker_window.0.into(), 32)?, field(self.taker_window.1.into(), 32)?),
        })
    }
}

/// Pool-tx values that are signed but not published: the user's limits and validity window
/// (docs/protocol.md §12). One per chunk; used where a swap or a liquidity change starts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolAux {
    /// A swap's mode: `true` for exact out.
    pub exact_out: bool,
    /// A swap's limit (least out, or most in); an add's `max_a`; a remove's `min_a`.
    pub limit_a: u128,
    /// An add's `max_b`; a remove's `min_b`.
    pub limit_b: u128,
    /// An add's `min_shares`.
    pub min_shares: u128,
    /// The tx's validity window (Unix seconds): from, until.
    pub window: (u32, u32),
}

/// [`PoolAux`] in the circuit, each value with its big-endian bits (a range check).
#[derive(Clone)]
pub struct PoolAuxVar {
    /// [`PoolAux::exact_out`].
    pub exact_out: Boolean<Fr>,
    /// [`PoolAux::limit_a`], 128 bits.
    pub limit_a: Field,
    /// [`PoolAux::limit_b`], 128 bits.
    pub limit_b: Field,
    /// [`PoolAux::min_shares`], 128 bits.
    pub min_shares: Field,
    /// [`PoolAux::window`], 32 bits each.
    pub window: (Field, Field),
}

impl PoolAux {
    /// Allocates the values as witnesses with their big-endian bits (which range-checks them).
    pub fn alloc(&self, cs: &ConstraintSystemRef<Fr>) -> R<PoolAuxVar> {
        let field = |v: u128, bits: usize| -> R<Field> {
            let value = FpVar::new_witness(cs.clone(), || Ok(Fr::from(v)))?;
            Ok(Field { bits: num::to_bits_be(&value, bits)?, value })
        };
        Ok(PoolAuxVar {
            exact_out: Boolean::new_witness(cs.clone(), || Ok(self.exact_out))?,
            limit_a: field(self.limit_a, 128)?,
            limit_b: field(self.limit_b, 128)?,
            min_shares: field(self.min_shares, 128)?,
            window: (field(self.window.0.into(), 32)?, field(self.window.1.into(), 32)?),
        })
    }
}

/// Everything the block circuit needs for one block. It serialises (JSON) so a node can hand it to
/// a remote prover worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockWitness {
    /// The preset the circuit is built for.
    pub preset: Preset,
    /// Number of connected chains n (one chain hash each in the commitment).
    pub chain_count: u8,
    /// The block number.
    pub number: u32,
    /// The block's timestamp, Unix seconds.
    pub timestamp: u64,
    /// State root before the block.
    #[serde(with = "fr_serde")]
    pub old_root: Fr,
    /// State root the replay reached (the block's new root for an honest block).
    #[serde(with = "fr_serde")]
    pub new_root: Fr,
    /// The proof's public input: the block commitment with its top 3 bits cleared.
    #[serde(with = "fr_serde")]
    pub public_input: Fr,
    /// `chunks · 24` bytes, Noop padding included.
    pub pubdata: Vec<u8>,
    /// The credit slots, before every op slot: one per distinct balance leaf the block's fees go
    /// to ([`zklink_block::block_credits`]), then unused ones up to the shape's count.
    pub credits: Vec<SlotWitness>,
    /// [`SLOTS_PER_CHUNK`] per chunk.
    pub slots: Vec<SlotWitness>,
    /// One per chunk.
    pub sigs: Vec<SigWitness>,
    /// One per chunk (used where an order matching starts).
    pub aux: Vec<OrderAux>,
    /// One per chunk (used where a swap or a liquidity change starts).
    #[serde(default)]
    pub pool_aux: Vec<PoolAux>,
}

/// Where a slot writes inside the account.
#[derive(Clone, Copy)]
enum Target {
    Balance(SubAccountId, TokenId),
    Order(SubAccountId, SlotId),
}

struct Builder<'a> {
    state: &'a mut State,
    slots: Vec<SlotWitness>,
    sigs: Vec<SigWitness>,
    aux: Vec<OrderAux>,
    pool_aux: Vec<PoolAux>,
    /// Index of the op being replayed, for errors.
    op: usize,
    /// Cheating-prover tests: arithmetic wraps in the field instead of failing.
    unchecked: bool,
}

/// A slot's change to the state; returns the new sub-leaf when it cannot be read back from the
/// state as a u128 (only in unchecked mode).
type Edit<'f> = Box<dyn FnOnce(&mut State) -> Result<Option<SubLeaf>, TxError> + 'f>;
type TxResult = Result<Option<SubLeaf>, TxError>;

impl Builder<'_> {
    fn bad(&self, reason: impl Into<OpFault>) -> WitnessError {
        WitnessError::BadOp { index: self.op, reason: reason.into() }
    }

    fn sub_value(&self, account: AccountId, target: Target) -> SubLeaf {
        match target {
            Target::Balance(sub, token) => {
                SubLeaf { hi: Fr::from(0u64), lo: self.state.balance_leaf(account, sub, token) }
            }
            Target::Order(sub, slot) => {
                let o = self.state.order_slot(account, sub, slot);
                SubLeaf::order(o.nonce.0, o.residue)
            }
        }
    }

    /// Records one slot: paths and values before, `edit`, values after.
    fn slot(&mut self, account: AccountId, target: Target, edit: Edit<'_>) -> Result<(), WitnessError> {
        let account_path = self.state.account_path(account).map_err(|e| self.bad(e))?;
        let old = self.state.account_leaf(account);
        let (is_order, sub_path) = match target {
            Target::Balance(sub, token) => (false, self.state.balance_path(account, sub, token)),
            Target::Order(sub, slot) => (true, self.state.order_path(account, sub, slot)),
        };
        let sub_path = sub_path.map_err(|e| self.bad(e))?;
        let old_value = self.sub_value(account, target);
        let written = edit(self.state).map_err(|e| self.bad(e))?;
        let new = self.state.account_leaf(account);
        let new_value = written.unwrap_or_else(|| self.sub_value(account, target));
        self.slots.push(SlotWitness {
            account: account.0,
            account_path,
            old,
            new,
            is_order,
            sub_path,
            old_value,
            new_value,
        });
        Ok(())
    }

    /// A slot that adds `amount` to a balance, or takes it with `debit`.
    fn balance_slot(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        amount: u128,
        debit: bool,
    ) -> Result<(), WitnessError> {
        let unchecked = self.unchecked;
        let edit: Edit<'_> = Box::new(move |s: &mut State| {
            change_balance(s, account, sub, token, amount, debit, unchecked).map(|_| None)
        });
        self.slot(account, Target::Balance(sub, token), edit)
    }

    fn credit(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        amount: u128,
    ) -> Result<(), WitnessError> {
        self.balance_slot(account, sub, token, amount, false)
    }

    fn debit(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        amount: u128,
    ) -> Result<(), WitnessError> {
        self.balance_slot(account, sub, token, amount, true)
    }

    /// The signer pays `total` and its nonce moves on.
    fn signer_pays(
        &mut self,
        account: AccountId,
        sub: SubAccountId,
        token: TokenId,
        total: u128,
    ) -> Result<(), WitnessError> {
        let unchecked = self.unchecked;
        let edit: Edit<'_> = Box::new(move |s: &mut State| {
            change_balance(s, account, sub, token, total, true, unchecked)?;
            bump_nonce(s, account).map(|_| None)
        });
        self.slot(account, Target::Balance(sub, token), edit)
    }

    /// A slot that changes nothing (account 0's first balance leaf).
    fn idle_slot(&mut self) -> Result<(), WitnessError> {
        self.slot(FEE_ACCOUNT_ID, Target::Balance(SubAccountId(0), TokenId(0)), Box::new(|_| Ok(None)))
    }

    /// Pads the slots, signatures and aux of an op that started at `start_chunk`.
    fn finish_op(&mut self, start_chunk: usize, chunks: usize) -> Result<(), WitnessError> {
        let end = start_chunk + chunks;
        if self.slots.len() > end * SLOTS_PER_CHUNK {
            return Err(self.bad("op uses more slots than it has chunks for"));
        }
        while self.slots.len() < end * SLOTS_PER_CHUNK {
            self.idle_slot()?;
        }
        self.sigs.resize(end, SigWitness::default());
        self.aux.resize(end, OrderAux::default());
        self.pool_aux.resize(end, PoolAux::default());
        Ok(())
    }

    fn sign(&mut self, chunk: usize, sig: &TxSignature) -> Result<(), WitnessError> {
        let w = SigWitness::from_tx(sig).map_err(|e| self.bad(e))?;
        self.sigs.resize(chunk + 1, SigWitness::default());
        self.sigs[chunk] = w;
        Ok(())
    }
}

/// Adds `amount` to a balance leaf, or takes it with `debit`. Checked mode keeps balances in
/// u128; unchecked mode wraps in the field, as a cheating prover would.
fn change_balance(
    s: &mut State,
    account: AccountId,
    sub: SubAccountId,
    token: TokenId,
    amount: u128,
    debit: bool,
    unchecked: bool,
) -> Result<(), TxError> {
    if unchecked {
        let old = s.balance_leaf(account, sub, token);
        let new = if debit { old - Fr::from(amount) } else { old + Fr::from(amount) };
        return s.set_balance_leaf_unchecked(account, sub, token, new);
    }
    let old = s.balance(account, sub, token);
    let new = if debit { old.checked_sub(amount) } else { old.checked_add(amount) };
    s.set_balance(account, sub, token, new.ok_or(TxError::ArithmeticOverflow("witness balance"))?)
}

fn bump_nonce(s: &mut State, account: AccountId) -> Result<(), TxError> {
    let nonce = s.account(account).map(|a| a.nonce.0).unwrap_or(0);
    s.set_nonce(account, Nonce(nonce.wrapping_add(1)))
}

fn mapping(b: &Builder<'_>, l1: TokenId, l2: TokenId) -> Result<TokenId, WitnessError> {
    TokenMapping::new(l1, l2).map(|m| m.reserve).map_err(|e| b.bad(e))
}

/// The order fee, as the executor computes it.
impl BlockWitness {
    /// Replays `block` on `state` (which must be at the block's old root) and builds the
    /// witness; `txs[i]` is the signed L2 tx of op i (`None` for priority ops). On success the
    /// state is at the block's new root.
    pub fn build(state: &mut State, block: &Block, txs: &[Option<L2Tx>]) -> Result<Self, WitnessError> {
        Self::replay(state, block, txs, false, zklink_block::block_credits(&block.ops))
    }

    /// Like [`BlockWitness::build`], but arithmetic wraps in the field instead of failing: what
    /// a cheating prover would feed the circuit. Only for tests that show the circuit rejects it.
    #[doc(hidden)]
    pub fn build_unchecked(state: &mut State, block: &Block, txs: &[Option<L2Tx>]) -> Result<Self, WitnessError> {
        Self::replay(state, block, txs, true, zklink_block::block_credits(&block.ops))
    }

    /// Like [`BlockWitness::build_unchecked`], with the credit slots carrying `fees` instead of
    /// the block's own: a cheating prover that credits more, less or elsewhere. Only for tests.
    #[doc(hidden)]
    pub fn build_with_fees(
        state: &mut State,
        block: &Block,
        txs: &[Option<L2Tx>],
        fees: Vec<zklink_types::op::Credit>,
    ) -> Result<Self, WitnessError> {
        Self::replay(state, block, txs, true, fees)
    }

    fn replay(
        state: &mut State,
        block: &Block,
        txs: &[Option<L2Tx>],
        unchecked: bool,
        fees: Vec<zklink_types::op::Credit>,
    ) -> Result<Self, WitnessError> {
        if state.root() != block.old_root {
            return Err(WitnessError::WrongOldRoot(block.number.0, format!("{}", state.root())));
        }
        let preset = state.preset().clone();
        let mut b = Builder {
            state,
            slots: Vec::new(),
            sigs: Vec::new(),
            aux: Vec::new(),
            pool_aux: Vec::new(),
            op: 0,
            unchecked,
        };
        // The fees first: the credit slots precede every op slot.
        let room = preset.credit_slots(block.chunks);
        if fees.len() > room {
            return Err(WitnessError::TooManyCredits { keys: fees.len(), slots: room });
        }
        for f in &fees {
            b.credit(f.account, f.sub, f.token, f.amount)?;
        }
        while b.slots.len() < room {
            b.idle_slot()?;
        }
        let credits = std::mem::take(&mut b.slots);
        let mut chunk = 0;
        for (i, op) in block.ops.iter().enumerate() {
            b.op = i;
            let tx = txs.get(i).and_then(|t| t.as_ref());
            replay(&mut b, op, tx, chunk)?;
            b.finish_op(chunk, op.chunks())?;
            chunk += op.chunks();
        }
        while chunk < block.chunks {
            b.finish_op(chunk, 1)?;
            chunk += 1;
        }
        let (slots, sigs, aux, pool_aux) = (b.slots, b.sigs, b.aux, b.pool_aux);
        let new_root = state.root();
        // The commitment to the state the replay reached (the executor's, for an honest block).
        let block = Block { new_root, ..block.clone() };
        let err = WitnessError::Block;
        Ok(Self {
            preset,
            chain_count: block.chain_count,
            number: block.number.0,
            timestamp: block.timestamp,
            old_root: block.old_root,
            new_root,
            public_input: block.public_input().map_err(err)?,
            pubdata: block.pubdata().map_err(err)?,
            credits,
            slots,
            sigs,
            aux,
            pool_aux,
        })
    }

    /// An all-Noop block at genesis: the witness used to generate keys for a shape.
    pub fn empty(preset: &Preset, chain_count: u8, chunks: usize) -> Result<Self, WitnessError> {
        let mut state = State::genesis(preset.clone(), zklink_types::Address::repeat_byte(0x11));
        let old_root = state.root();
        let block = Block {
            number: zklink_types::BlockNumber(1),
            timestamp: 0,
            old_root,
            new_root: old_root,
            ops: Vec::new(),
            chunks,
            chain_count,
        };
        Self::build(&mut state, &block, &[])
    }

    /// The block size in chunks.
    pub fn chunks(&self) -> usize {
        self.pubdata.len() / CHUNK_BYTES
    }

    /// Chunk index → kind of the op starting there, walking the pubdata.
    pub fn op_starts(&self) -> std::collections::HashMap<usize, OpKind> {
        let mut out = std::collections::HashMap::new();
        let mut j = 0;
        while j < self.chunks() {
            let kind = OpKind::from_code(self.pubdata[j * CHUNK_BYTES]).unwrap_or(OpKind::Noop);
            out.insert(j, kind);
            j += kind.chunks();
        }
        out
    }
}

fn need<'t>(b: &Builder<'_>, tx: Option<&'t L2Tx>, kind: &'static str) -> Result<&'t L2Tx, WitnessError> {
    tx.ok_or(WitnessError::MissingTx { index: b.op, kind, got: "none" })
}

fn wrong(b: &Builder<'_>, kind: &'static str) -> WitnessError {
    WitnessError::MissingTx { index: b.op, kind, got: "a tx of another kind" }
}

/// Replays one op in its slot layout (see `ops.rs`: the same order, slot by slot).
fn replay(b: &mut Builder<'_>, op: &Op, tx: Option<&L2Tx>, j: usize) -> Result<(), WitnessError> {
    match op {
        Op::Noop => Ok(()),
        Op::Deposit(d) => {
            let reserve = mapping(b, d.l1_token, d.l2_token)?;
            let (id, owner, amount, unchecked) = (d.account_id, d.owner, d.amount, b.unchecked);
            let edit: Edit<'_> = Box::new(move |s: &mut State| {
                if s.account(id).is_none() {
                    s.create_account(owner)?;
                }
                change_balance(s, id, d.sub_account_id, d.l2_token, amount, false, unchecked).map(|_| None)
            });
            b.slot(id, Target::Balance(d.sub_account_id, d.l2_token), edit)?;
            b.credit(GLOBAL_ASSET_ACCOUNT_ID, d.chain_id.as_sub_account(), reserve, d.amount)
        }
        Op::FullExit(f) => {
            if f.amount == 0 {
                return Ok(());
            }
            let reserve = mapping(b, f.l1_token, f.l2_token)?;
            b.debit(f.account_id, f.sub_account_id, f.l2_token, f.amount)?;
            b.debit(GLOBAL_ASSET_ACCOUNT_ID, f.chain_id.as_sub_account(), reserve, f.amount)
        }
        Op::ChangePubKey(o) => {
            let L2Tx::ChangePubKey(t) = need(b, tx, "ChangePubKey")? else { return Err(wrong(b, "ChangePubKey")) };
            let (id, pkh, fee, token, sub) = (o.account_id, o.new_pk_hash, o.fee, o.fee_token, o.sub_account_id);
            let unchecked = b.unchecked;
            let edit: Edit<'_> = Box::new(move |s: &mut State| {
                change_balance(s, id, sub, token, fee, true, unchecked)?;
                s.set_pubkey_hash(id, pkh)?;
                bump_nonce(s, id).map(|_| None)
            });
            b.slot(id, Target::Balance(sub, token), edit)?;
            b.sign(j, &t.signature)
        }
        Op::Transfer(o) => {
            let L2Tx::Transfer(t) = need(b, tx, "Transfer")? else { return Err(wrong(b, "Transfer")) };
            b.signer_pays(o.from, o.from_sub, o.token, o.amount + o.fee)?;
            b.credit(o.to, o.to_sub, o.token, o.amount)?;
            b.sign(j, &t.signature)
        }
        Op::TransferToNew(o) => {
            let L2Tx::Transfer(t) = need(b, tx, "Transfer")? else { return Err(wrong(b, "Transfer")) };
            b.signer_pays(o.from, o.from_sub, o.token, o.amount + o.fee)?;
            let (to, address, sub, token, amount) = (o.to, o.to_address, o.to_sub, o.token, o.amount);
            let edit: Edit<'_> = Box::new(move |s: &mut State| {
                let id = s.create_account(address)?;
                if id != to {
                    return Err(TxError::Internal(format!("new account got id {id}, op says {to}")));
                }
                s.set_balance(to, sub, token, amount).map(|_| None)
            });
            b.slot(to, Target::Balance(sub, token), edit)?;
            b.sign(j, &t.signature)
        }
        Op::Withdraw(o) => {
            let L2Tx::Withdraw(t) = need(b, tx, "Withdraw")? else { return Err(wrong(b, "Withdraw")) };
            let reserve = mapping(b, o.l1_token, o.l2_token)?;
            b.signer_pays(o.account_id, o.sub_account_id, o.l2_token, o.amount + o.fee)?;
            b.debit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            b.sign(j, &t.signature)
        }
        Op::ForcedExit(o) => {
            let L2Tx::ForcedExit(t) = need(b, tx, "ForcedExit")? else { return Err(wrong(b, "ForcedExit")) };
            let reserve = mapping(b, o.l1_token, o.l2_token)?;
            b.signer_pays(o.initiator, o.initiator_sub, o.fee_token, o.fee)?;
            b.debit(o.target, o.target_sub, o.l2_token, o.amount)?;
            b.debit(GLOBAL_ASSET_ACCOUNT_ID, o.chain_id.as_sub_account(), reserve, o.amount)?;
            b.sign(j, &t.signature)
        }
        Op::OrderMatching(o) => {
            let L2Tx::OrderMatching(t) = need(b, tx, "OrderMatching")? else { return Err(wrong(b, "OrderMatching")) };
            order_matching(b, o, t, j)
        }
        Op::CancelOrder(o) => {
            let L2Tx::CancelOrder(t) = need(b, tx, "CancelOrder")? else { return Err(wrong(b, "CancelOrder")) };
            b.signer_pays(o.account_id, o.sub_account_id, o.fee_token, o.fee)?;
            let (account, sub, slot) = (o.account_id, o.sub_account_id, o.slot_id);
            let next = OrderSlot { nonce: OrderNonce(o.order_nonce.0.wrapping_add(1)), residue: 0 };
            let edit: Edit<'_> =
                Box::new(move |s: &mut State| s.set_order_slot(account, sub, slot, next).map(|_| None));
            b.slot(account, Target::Order(sub, slot), edit)?;
            b.sign(j, &t.signature)
        }
        Op::CreatePool(o) => {
            let L2Tx::CreatePool(t) = need(b, tx, "CreatePool")? else { return Err(wrong(b, "CreatePool")) };
            create_pool(b, o, t, j)
        }
        Op::AddLiquidity(o) => {
            let L2Tx::AddLiquidity(t) = need(b, tx, "AddLiquidity")? else { return Err(wrong(b, "AddLiquidity")) };
            add_liquidity(b, o, t, j)
        }
        Op::RemoveLiquidity(o) => {
            let L2Tx::RemoveLiquidity(t) = need(b, tx, "RemoveLiquidity")? else {
                return Err(wrong(b, "RemoveLiquidity"));
            };
            remove_liquidity(b, o, t, j)
        }
        Op::Swap(o) => {
            let L2Tx::Swap(t) = need(b, tx, "Swap")? else { return Err(wrong(b, "Swap")) };
            swap(b, o, t, j)
        }
    }
}

fn sum(b: &Builder<'_>, x: u128, y: u128) -> Result<u128, WitnessError> {
    x.checked_add(y).ok_or_else(|| b.bad(TxError::ArithmeticOverflow("pool op amounts")))
}

/// The parameters of the pool at `id`, from its address.
fn pool_params(b: &Builder<'_>, id: AccountId) -> Result<PoolParams, WitnessError> {
    b.state.account(id).and_then(|a| PoolParams::from_address(&a.address)).ok_or_else(|| b.bad(TxError::NotAPool(id)))
}

fn set_pool_aux(b: &mut Builder<'_>, j: usize, aux: PoolAux) {
    b.pool_aux.resize(j + 1, PoolAux::default());
    b.pool_aux[j] = aux;
}

/// Pool creation: 0 the creator pays the fee; 1 the pool's empty leaf gets its address; 2 the
/// registry leaf of its LP token (account 1, sub-account 0) records the pool's id + 1.
fn create_pool(
    b: &mut Builder<'_>,
    o: &CreatePoolOp,
    t: &zklink_types::CreatePool,
    j: usize,
) -> Result<(), WitnessError> {
    b.signer_pays(o.account_id, o.sub_account_id, o.fee_token, o.fee)?;
    let (pool, address, lp) = (o.pool, o.params.address(), o.params.lp_token);
    let edit: Edit<'_> = Box::new(move |s: &mut State| {
        let id = s.create_account(address)?;
        if id != pool {
            return Err(TxError::Internal(format!("new pool account got id {id}, op says {pool}")));
        }
        Ok(None)
    });
    b.slot(pool, Target::Balance(SubAccountId(0), lp), edit)?;
    b.credit(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(0), lp, pool.0 as u128 + 1)?;
    b.sign(j, &t.signature)
}

/// Adding liquidity: 0 provider −(a + fee) in token a; 1 pool +a; 2 provider −b; 3 pool +b;
/// 4 provider +shares; 5 supply +shares (+ the locked minimum on the first deposit).
fn add_liquidity(
    b: &mut Builder<'_>,
    o: &AddLiquidityOp,
    t: &zklink_types::AddLiquidity,
    j: usize,
) -> Result<(), WitnessError> {
    let p = pool_params(b, o.pool)?;
    let zero = SubAccountId(0);
    let first = b.state.balance(o.pool, zero, p.lp_token) == 0;
    let minted = if first { sum(b, o.shares, MIN_LIQUIDITY)? } else { o.shares };
    let total = sum(b, o.amount_a, o.fee)?;
    b.signer_pays(o.account_id, o.sub_account_id, o.token_a, total)?;
    b.credit(o.pool, zero, p.token_a, o.amount_a)?;
    b.debit(o.account_id, o.sub_account_id, p.token_b, o.amount_b)?;
    b.credit(o.pool, zero, p.token_b, o.amount_b)?;
    b.credit(o.account_id, o.sub_account_id, p.lp_token, o.shares)?;
    b.credit(o.pool, zero, p.lp_token, minted)?;
    b.sign(j, &t.signature)?;
    let window = (t.valid_from, t.valid_until);
    set_pool_aux(
        b,
        j,
        PoolAux { limit_a: t.max_a, limit_b: t.max_b, min_shares: t.min_shares, window, ..Default::default() },
    );
    Ok(())
}

/// Removing liquidity: 0 provider −shares; 1 pool −a; 2 provider +(a − fee); 3 pool −b;
/// 4 provider +b; 5 supply −shares.
fn remove_liquidity(
    b: &mut Builder<'_>,
    o: &RemoveLiquidityOp,
    t: &zklink_types::RemoveLiquidity,
    j: usize,
) -> Result<(), WitnessError> {
    let p = pool_params(b, o.pool)?;
    let zero = SubAccountId(0);
    b.signer_pays(o.account_id, o.sub_account_id, p.lp_token, o.shares)?;
    b.debit(o.pool, zero, p.token_a, o.amount_a)?;
    let net = o.amount_a.checked_sub(o.fee).ok_or_else(|| b.bad(TxError::ArithmeticOverflow("fee above amount a")))?;
    b.credit(o.account_id, o.sub_account_id, p.token_a, net)?;
    b.debit(o.pool, zero, p.token_b, o.amount_b)?;
    b.credit(o.account_id, o.sub_account_id, p.token_b, o.amount_b)?;
    b.debit(o.pool, zero, p.lp_token, o.shares)?;
    b.sign(j, &t.signature)?;
    let window = (t.valid_from, t.valid_until);
    set_pool_aux(b, j, PoolAux { limit_a: t.min_a, limit_b: t.min_b, window, ..Default::default() });
    Ok(())
}

/// A swap: 0 trader −(in + fee) in the input token; 1 pool +(in − protocol fee); 2 trader +out
/// in the other token; 3 pool −out. The protocol fee and the network fee go to the credit slots.
fn swap(b: &mut Builder<'_>, o: &SwapOp, t: &zklink_types::Swap, j: usize) -> Result<(), WitnessError> {
    let p = pool_params(b, o.pool)?;
    let zero = SubAccountId(0);
    let token_out =
        p.other(o.token_in).ok_or_else(|| b.bad(TxError::PoolSwap("the input token is not the pool's".into())))?;
    let protocol_fee = o.protocol_fee().map_err(|e| b.bad(e))?;
    let total = sum(b, o.amount_in, o.fee)?;
    b.signer_pays(o.account_id, o.sub_account_id, o.token_in, total)?;
    b.credit(o.pool, zero, o.token_in, o.amount_in - protocol_fee)?;
    b.credit(o.account_id, o.sub_account_id, token_out, o.amount_out)?;
    b.debit(o.pool, zero, token_out, o.amount_out)?;
    b.sign(j, &t.signature)?;
    let aux = PoolAux {
        exact_out: t.exact_out,
        limit_a: t.limit,
        window: (t.valid_from, t.valid_until),
        ..Default::default()
    };
    set_pool_aux(b, j, aux);
    Ok(())
}

fn order_matching(
    b: &mut Builder<'_>,
    o: &OrderMatchingOp,
    t: &zklink_types::OrderMatching,
    j: usize,
) -> Result<(), WitnessError> {
    let (base, sub) = (o.base_amount, o.sub_account_id);
    let FillSettlement {
        maker_sell_token: sell,
        maker_buy_token: buy,
        maker_gives: gives,
        maker_gets: gets,
        maker_fee,
        taker_fee,
    } = o.settlement();
    let (maker, taker) = (o.maker.account_id, o.taker.account_id);
    b.debit(maker, sub, sell, gives)?;
    b.credit(maker, sub, buy, gets - maker_fee)?;
    fill_slot(b, &o.maker, sub, base)?;
    b.debit(taker, sub, buy, gets)?;
    b.credit(taker, sub, sell, gives - taker_fee)?;
    fill_slot(b, &o.taker, sub, base)?;
    // The order fees and the network fee went to the credit slots.
    b.signer_pays(o.submitter, sub, o.fee_token, o.fee)?;
    b.sign(j, &t.signature)?;
    b.sign(j + 1, &t.maker.signature)?;
    b.sign(j + 2, &t.taker.signature)?;
    b.aux.resize(j + 1, OrderAux::default());
    b.aux[j] = OrderAux {
        expect_base: t.expect_base_amount,
        expect_quote: t.expect_quote_amount,
        maker_price: t.maker.price.0,
        taker_price: t.taker.price.0,
        maker_taker_ratio: t.maker.taker_fee_ratio,
        taker_maker_ratio: t.taker.maker_fee_ratio,
        maker_window: (t.maker.valid_from, t.maker.valid_until),
        taker_window: (t.taker.valid_from, t.taker.valid_until),
    };
    Ok(())
}

/// The order slot after filling `base` (the slot rule of docs/protocol.md §7).
fn fill_slot(
    b: &mut Builder<'_>,
    f: &zklink_types::op::OrderFill,
    sub: SubAccountId,
    base: u128,
) -> Result<(), WitnessError> {
    let (account, slot, nonce, amount) = (f.account_id, f.slot_id, f.nonce, f.amount);
    let unchecked = b.unchecked;
    let edit: Edit<'_> = Box::new(move |s: &mut State| -> TxResult {
        let old = s.order_slot(account, sub, slot);
        let available = if old.residue != 0 && old.nonce == nonce { old.residue } else { amount };
        let Some(residue) = available.checked_sub(base) else {
            if !unchecked {
                return Err(TxError::ArithmeticOverflow("overfill"));
            }
            // An overfill: the residue wraps below zero, as a cheating prover would claim.
            let new = SubLeaf { hi: Fr::from(nonce.0 as u64), lo: Fr::from(available) - Fr::from(base) };
            s.set_order_leaf_unchecked(account, sub, slot, new.hi * pow2(128) + new.lo)?;
            return Ok(Some(new));
        };
        let new = if residue == 0 {
            OrderSlot { nonce: OrderNonce(nonce.0 + 1), residue: 0 }
        } else {
            OrderSlot { nonce, residue }
        };
        s.set_order_slot(account, sub, slot, new).map(|_| None)
    });
    b.slot(account, Target::Order(sub, slot), edit)
}
