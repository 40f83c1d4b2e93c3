//! The block circuit (docs/protocol.md §12): proves that applying a block's ops to the old state
//! root yields the new root under every execution rule, and that the single public input is the
//! block's commitment.
//!
//! Structure. A block of C chunks has first K [`credits`] slots (the fees its ops credit, one
//! balance leaf each), then, per chunk: its 24 pubdata bytes as bits, two generic
//! state-update [`slot`]s, one EdDSA signature check, and op-start flags; the first two chunks
//! of every `onchain_period` (the preset's) have one SHA-256 compression each for the per-chain
//! hashes, and only there may an on-chain op start. Any other op may start at any chunk: a chunk-level state machine
//! (`remaining` chunks of the current op) fixes where ops start, the op code selects which
//! op's rules apply, and the rules of that op ([`ops`]) bind the slots, signature checks and
//! chain-hash input of the chunks it covers. Slots no op claims must leave their leaf unchanged;
//! signatures no op requires are not enforced.

pub mod bytes;
pub mod chain_hash;
pub mod credits;
pub mod num;
pub mod ops;
pub mod pool;
pub mod slot;
pub mod witness;

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::convert::ToBitsGadget;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use zklink_crypto::Fr;
use zklink_types::op::CHUNK_BYTES;
use zklink_types::Preset;

use self::num::{eq_if, exclusive_or, gated_sum, R};
use self::ops::OpKind;
use self::slot::{SlotVar, TreeDepths, SLOTS_PER_CHUNK};
pub use self::witness::{BlockWitness, SigWitness, WitnessError};
use crate::gadgets::{eddsa, poseidon, sha256};

/// One signature check a rule asks for at a chunk.
struct SigRequest {
    gate: Boolean<Fr>,
    msg: FpVar<Fr>,
    pkh: FpVar<Fr>,
}

/// Gates of on-chain ops starting at a chunk, and the subset that is 3 chunks long.
type OnchainStarts = (Vec<Boolean<Fr>>, Vec<Boolean<Fr>>);

/// Everything the op rules read and bind while the circuit is synthesised.
pub struct Ctx {
    /// The constraint system being synthesised.
    pub cs: ConstraintSystemRef<Fr>,
    /// The preset, which fixes id widths and tree depths.
    pub preset: Preset,
    /// Number of connected chains n (chains are 1..=n).
    pub chain_count: u8,
    /// Per chunk, its 24 pubdata bytes as 192 witness bits, most significant bit of byte 0 first.
    pub chunks: Vec<Vec<Boolean<Fr>>>,
    /// Every leaf-update slot of the ops, [`SLOTS_PER_CHUNK`] per chunk, in order.
    pub slots: Vec<SlotVar>,
    /// The fees the ops credit, for the credit slots.
    credit_requests: Vec<credits::Request>,
    /// Per chunk where a matching may start, its signed values.
    pub aux: Vec<Option<witness::AuxVar>>,
    /// Per chunk where a pool op may start, its signed limits and window.
    pub pool_aux: Vec<Option<witness::PoolAuxVar>>,
    /// Per chunk where a swap or liquidity change may start, the pool context its rules share.
    pub pool: Vec<Option<pool::PoolChunk>>,
    /// The block's timestamp (Unix seconds, below 2^64), which orders' validity windows must hold.
    pub timestamp: FpVar<Fr>,
    claims: Vec<Vec<Boolean<Fr>>>,
    sigs: Vec<Vec<SigRequest>>,
    /// Per chunk: gates of on-chain ops starting there, and of those that are 3 chunks long.
    onchain: Vec<OnchainStarts>,
}

impl Ctx {
    /// Number of chunks.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// The bits of chunks `j .. j + n`.
    pub fn op_bits(&self, j: usize, n: usize) -> Vec<Boolean<Fr>> {
        self.chunks[j..j + n].concat()
    }

    /// Slot `m` of an op starting at chunk `j`.
    pub fn slot(&self, j: usize, m: usize) -> &SlotVar {
        &self.slots[j * SLOTS_PER_CHUNK + m]
    }

    /// Claims slot `m` of the op at `j` when `g` holds and binds it to `change`.
    pub fn bind(&mut self, j: usize, m: usize, g: &Boolean<Fr>, change: ops::Change) -> R<()> {
        let idx = j * SLOTS_PER_CHUNK + m;
        self.claims[idx].push(g.clone());
        change.enforce(g, &self.slots[idx])
    }

    /// Asks for a valid signature of `msg` by the key whose hash is `pkh`, at chunk `i`.
    pub fn require_signature(&mut self, i: usize, g: &Boolean<Fr>, msg: FpVar<Fr>, pkh: FpVar<Fr>) {
        self.sigs[i].push(SigRequest { gate: g.clone(), msg, pkh });
    }

    /// Credits `amount` to the balance leaf `index` of `account` when `g` holds, through the
    /// block's credit slots (fees).
    pub fn credit_fee(&mut self, g: &Boolean<Fr>, account: &FpVar<Fr>, index: &FpVar<Fr>, amount: FpVar<Fr>) {
        self.credit_requests.push(credits::Request { gate: g.clone(), key: credits::key(account, index), amount });
    }

    /// Registers an on-chain op of `len` chunks starting at `j` for its chain's rolling hash.
    pub fn onchain_op(&mut self, j: usize, g: &Boolean<Fr>, len: usize) {
        self.onchain[j].0.push(g.clone());
        if len == 3 {
            self.onchain[j].1.push(g.clone());
        }
    }
}

/// The block circuit for one block shape (chunk count) of a preset and chain count.
#[derive(Clone)]
pub struct BlockCircuit {
    /// The block's witness (or a blank one for key generation).
    pub witness: BlockWitness,
}

impl BlockCircuit {
    /// The circuit proving `witness`'s block.
    pub fn new(witness: BlockWitness) -> Self {
        Self { witness }
    }

    /// The circuit of a shape without a real witness (all-Noop block): what key generation needs.
    pub fn blank(preset: &Preset, chains: u8, chunks: usize) -> Result<Self, WitnessError> {
        BlockWitness::empty(preset, chains, chunks).map(Self::new)
    }

    /// The name of this circuit's shape, e.g. `block-dev-4c-3n` (keys are stored under it).
    pub fn shape_name(preset: &Preset, chains: u8, chunks: usize) -> String {
        format!("block-{}-{chunks}c-{chains}n", preset.name)
    }
}

fn alloc_chunk(cs: &ConstraintSystemRef<Fr>, bytes: &[u8]) -> R<Vec<Boolean<Fr>>> {
    bytes
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1 == 1))
        .map(|bit| Boolean::new_witness(cs.clone(), || Ok(bit)))
        .collect()
}

/// Allocates the op-start flags and enforces the chunk state machine; returns `flags[j][k]` =
/// "an op of kind `OpKind::ALL[k]` starts at chunk j".
fn op_starts(ctx: &Ctx, w: &BlockWitness) -> R<Vec<Vec<Boolean<Fr>>>> {
    let starts = w.op_starts();
    let c = ctx.chunk_count();
    let mut flags = Vec::with_capacity(c);
    let mut remaining = FpVar::<Fr>::zero();
    for (j, chunk) in ctx.chunks.iter().enumerate() {
        let mut row = Vec::with_capacity(OpKind::ALL.len());
        for kind in OpKind::ALL {
            // On-chain ops start only where the chain-hash compressions are, pool ops only at
            // multiples of their period (§8, §12): their rules cost nothing elsewhere.
            let fits = j + kind.chunks() <= c && j.is_multiple_of(ctx.preset.start_period(kind.code()));
            let on = fits && starts.get(&j) == Some(&kind);
            row.push(if fits { Boolean::new_witness(ctx.cs.clone(), || Ok(on))? } else { Boolean::FALSE });
        }
        let start = exclusive_or(&row)?;
        // An op starts exactly where the previous one ended.
        start.enforce_equal(&remaining.is_zero()?)?;
        // The op code byte names the kind that starts.
        let code = num::be_to_fp(&chunk[..8])?;
        let named = gated_sum(
            &OpKind::ALL.iter().zip(&row).map(|(k, g)| (g.clone(), num::c(k.code() as u128))).collect::<Vec<_>>(),
        )?;
        eq_if(&start, &code, &named)?;
        let len = gated_sum(
            &OpKind::ALL.iter().zip(&row).map(|(k, g)| (g.clone(), num::c(k.chunks() as u128))).collect::<Vec<_>>(),
        )?;
        remaining = remaining + len - FpVar::one();
        flags.push(row);
    }
    remaining.enforce_equal(&FpVar::zero())?;
    Ok(flags)
}

/// Applies the rules of `kind` for an op starting at chunk `j` under gate `g`.
pub fn rules(ctx: &mut Ctx, kind: OpKind, j: usize, g: &Boolean<Fr>) -> R<()> {
    match kind {
        OpKind::Noop => ops::noop(ctx, j, g),
        OpKind::Deposit => ops::deposit(ctx, j, g),
        OpKind::FullExit => ops::full_exit(ctx, j, g),
        OpKind::ChangePubKey => ops::change_pubkey(ctx, j, g),
        OpKind::Transfer => ops::transfer(ctx, j, g, false),
        OpKind::TransferToNew => ops::transfer(ctx, j, g, true),
        OpKind::Withdraw => ops::withdraw(ctx, j, g),
        OpKind::ForcedExit => ops::forced_exit(ctx, j, g),
        OpKind::OrderMatching => ops::order_matching(ctx, j, g),
        OpKind::CancelOrder => ops::cancel_order(ctx, j, g),
        OpKind::CreatePool => pool::create_pool(ctx, j, g),
        OpKind::AddLiquidity => pool::add_liquidity(ctx, j, g),
        OpKind::RemoveLiquidity => pool::remove_liquidity(ctx, j, g),
        OpKind::Swap => pool::swap(ctx, j, g),
    }
}

/// `pubkey_hash(A) = Poseidon(A.x, A.y) mod 2^160`.
fn pubkey_hash(a: &taceo_ark_babyjubjub::constraints::EdwardsVar) -> R<FpVar<Fr>> {
    let h = poseidon::poseidon(&[a.x.clone(), a.y.clone()])?;
    let bits = h.to_bits_le()?;
    Boolean::le_bits_to_fp(&bits[..160])
}

/// The signature check of chunk `i`: enforced only if some rule asked for it.
fn check_signature(ctx: &Ctx, i: usize, w: &SigWitness) -> R<()> {
    let reqs = &ctx.sigs[i];
    let cs = &ctx.cs;
    let a = eddsa::alloc_point(cs.clone(), w.a.0, w.a.1)?;
    let r8 = eddsa::alloc_point(cs.clone(), w.r8.0, w.r8.1)?;
    let s_bits = (0..eddsa::S_BITS)
        .map(|k| Boolean::new_witness(cs.clone(), || Ok((w.s[k / 8] >> (k % 8)) & 1 == 1)))
        .collect::<R<Vec<_>>>()?;
    let required = exclusive_or(&reqs.iter().map(|r| r.gate.clone()).collect::<Vec<_>>())?;
    let msg = gated_sum(&reqs.iter().map(|r| (r.gate.clone(), r.msg.clone())).collect::<Vec<_>>())?;
    let pkh = gated_sum(&reqs.iter().map(|r| (r.gate.clone(), r.pkh.clone())).collect::<Vec<_>>())?;
    num::require_if(&required, &eddsa::verify(&msg, &a, &r8, &s_bits)?)?;
    eq_if(&required, &pubkey_hash(&a)?, &pkh)?;
    // A key hash of zero means "no key": nobody can sign for it.
    num::require_if(&required, &num::nonzero(&pkh)?)
}

/// At `debug` level for this module (e.g. `RUST_LOG=zklink_circuit::block=debug`), logs how many
/// constraints the circuit has so far: the cost of each part and each op kind's rules. At `trace`
/// level it also logs whether they are satisfied so far, which finds the part of the circuit a
/// bad witness breaks (slow: it checks the whole system at every step). Costs one check of the
/// log level when off (`label` is built only when on).
fn checkpoint(cs: &ConstraintSystemRef<Fr>, label: impl FnOnce() -> String) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let satisfied = cs.is_satisfied().ok();
        tracing::trace!(constraints = cs.num_constraints(), ?satisfied, "block circuit: {}", label());
    } else if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(constraints = cs.num_constraints(), "block circuit: {}", label());
    }
}

impl ConstraintSynthesizer<Fr> for BlockCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let w = &self.witness;
        let c = w.chunks();
        let depths = TreeDepths::of(&w.preset);
        let old_root = FpVar::new_witness(cs.clone(), || Ok(w.old_root))?;
        let chunks = w.pubdata.chunks(CHUNK_BYTES).map(|b| alloc_chunk(&cs, b)).collect::<R<Vec<_>>>()?;
        let mut root = old_root.clone();
        // The shape fixes the number of credit slots; a witness with another count is another circuit.
        if w.credits.len() != w.preset.credit_slots(c) || w.slots.len() != c * SLOTS_PER_CHUNK {
            return Err(SynthesisError::Unsatisfiable);
        }
        let mut credit_slots = Vec::with_capacity(w.credits.len());
        for sw in &w.credits {
            let s = slot::slot(&cs, sw, &depths, &root)?;
            root = s.root_out.clone();
            credit_slots.push(s);
        }
        let mut slots = Vec::with_capacity(c * SLOTS_PER_CHUNK);
        for sw in &w.slots {
            let s = slot::slot(&cs, sw, &depths, &root)?;
            root = s.root_out.clone();
            slots.push(s);
        }
        checkpoint(&cs, || "slots".into());
        // Signed values only where an op that uses them may start.
        let may_start =
            |kind: OpKind, j: usize| j.is_multiple_of(w.preset.start_period(kind.code())) && j + kind.chunks() <= c;
        let aux = (0..c)
            .map(|j| {
                let a = w.aux.get(j).cloned().unwrap_or_default();
                may_start(OpKind::OrderMatching, j).then(|| a.alloc(&cs)).transpose()
            })
            .collect::<R<Vec<_>>>()?;
        let pool_aux = (0..c)
            .map(|j| {
                let a = w.pool_aux.get(j).cloned().unwrap_or_default();
                may_start(OpKind::Swap, j).then(|| a.alloc(&cs)).transpose()
            })
            .collect::<R<Vec<_>>>()?;
        let timestamp = FpVar::new_witness(cs.clone(), || Ok(Fr::from(w.timestamp)))?;
        // Its 64 bits go into the commitment; taking them here also range-checks the value the
        // order rules compare with.
        let timestamp_bits = num::to_bits_be(&timestamp, 64)?;
        let mut ctx = Ctx {
            cs: cs.clone(),
            preset: w.preset.clone(),
            chain_count: w.chain_count,
            chunks,
            slots,
            credit_requests: Vec::new(),
            aux,
            pool_aux,
            pool: (0..c).map(|_| None).collect(),
            timestamp,
            claims: vec![Vec::new(); c * SLOTS_PER_CHUNK],
            sigs: (0..c).map(|_| Vec::new()).collect(),
            onchain: vec![(Vec::new(), Vec::new()); c],
        };
        checkpoint(&cs, || "aux".into());
        let flags = op_starts(&ctx, w)?;
        checkpoint(&cs, || "op starts".into());
        for (j, row) in flags.iter().enumerate() {
            pool::open(&mut ctx, j, row)?;
            for (kind, g) in OpKind::ALL.iter().zip(row) {
                if !g.is_constant() {
                    rules(&mut ctx, *kind, j, g)?;
                    checkpoint(&cs, || format!("{kind:?} rules at chunk {j}"));
                }
            }
            pool::close(&mut ctx, j)?;
        }
        for (s, claims) in ctx.slots.iter().zip(&ctx.claims) {
            s.enforce_unchanged_unless(&exclusive_or(claims)?)?;
        }
        checkpoint(&cs, || "unclaimed slots".into());
        credits::enforce(&cs, &credit_slots, &ctx.credit_requests)?;
        checkpoint(&cs, || "credit slots".into());
        for (i, sw) in w.sigs.iter().enumerate() {
            check_signature(&ctx, i, sw)?;
        }
        checkpoint(&cs, || "signatures".into());
        let chain_hashes = chain_hash::chain_hashes(&ctx)?;
        checkpoint(&cs, || "chain hashes".into());
        let pubdata_hash = sha256::sha256_bits(&ctx.chunks.concat())?;
        let number = num::to_bits_be(&FpVar::new_witness(cs.clone(), || Ok(Fr::from(w.number as u64)))?, 32)?;
        let mut pre = Vec::new();
        pre.extend(number);
        pre.extend(timestamp_bits);
        pre.extend(fr_bits_be(&old_root)?);
        pre.extend(fr_bits_be(&root)?);
        pre.extend(pubdata_hash);
        for h in chain_hashes {
            pre.extend(h);
        }
        checkpoint(&cs, || "pubdata hash".into());
        let commitment = sha256::sha256_bits(&pre)?;
        let computed = num::be_to_fp(&commitment[3..])?;
        let input = FpVar::new_input(cs.clone(), || Ok(w.public_input))?;
        computed.enforce_equal(&input)
    }
}

/// A field element's canonical 256-bit big-endian encoding.
fn fr_bits_be(f: &FpVar<Fr>) -> R<Vec<Boolean<Fr>>> {
    let mut bits = f.to_bits_le()?;
    bits.resize(256, Boolean::FALSE);
    bits.reverse();
    Ok(bits)
}
