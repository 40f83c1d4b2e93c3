//! The exit circuit's constraints over an [`ExitWitness`](super::ExitWitness).

use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::fields::FieldVar;
use ark_r1cs_std::select::CondSelectGadget;
use ark_r1cs_std::uint8::UInt8;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use num_bigint::BigUint;
use zklink_crypto::Fr;
use zklink_state::account::address_to_field;
use zklink_state::MerklePath;
use zklink_types::{ChainId, Preset, GLOBAL_ASSET_ACCOUNT_ID, GLOBAL_ASSET_ADDRESS, USD_RESERVE_RANGE, USD_TOKEN_ID};

use super::witness::{backed_balance, total, usd_like};
use super::*;
use crate::gadgets::{commitment, merkle, poseidon};

/// The exit circuit: one public input, the claim's reduced commitment.
#[derive(Clone, Debug)]
pub struct ExitCircuit {
    shape: ExitShape,
    witness: ExitWitness,
}

impl ExitCircuit {
    /// A circuit proving `witness`; fails if the witness does not have `shape`.
    pub fn new(shape: ExitShape, witness: ExitWitness) -> Result<Self, ExitError> {
        witness.check_shape(&shape)?;
        Ok(Self { shape, witness })
    }

    /// The name of the circuit for `preset` and `chains` chains (its key's name), e.g. `exit-dev-3n`.
    pub fn shape_name(preset: &Preset, chains: u8) -> String {
        format!("exit-{}-{chains}n", preset.name)
    }

    /// The circuit with a blank witness, for key setup.
    pub fn blank(shape: ExitShape) -> Self {
        let witness = ExitWitness::blank(&shape);
        Self { shape, witness }
    }

    /// The sizes this circuit is built for.
    pub fn shape(&self) -> &ExitShape {
        &self.shape
    }

    /// The witness it proves.
    pub fn witness(&self) -> &ExitWitness {
        &self.witness
    }
}

// ---------------------------------------------------------------------------------------------
// In-circuit helpers
// ---------------------------------------------------------------------------------------------

type Cs = ConstraintSystemRef<Fr>;

/// An unsigned integer variable: its little-endian bits and their value.
struct Uint {
    bits: Vec<Boolean<Fr>>,
    value: FpVar<Fr>,
}

/// Witnesses the low `width` bits of `v`; the decomposition is the range check `value < 2^width`.
/// 2^64 − 1: the reserved address prefix (8 `ff` bytes) as an integer.
fn pow2_64_minus_1() -> Fr {
    Fr::from(u64::MAX)
}

fn alloc_uint(cs: &Cs, v: Fr, width: usize) -> Result<Uint, SynthesisError> {
    let big = v.into_bigint();
    let bits: Vec<Boolean<Fr>> =
        (0..width).map(|i| Boolean::new_witness(cs.clone(), || Ok(big.get_bit(i)))).collect::<Result<_, _>>()?;
    let value = Boolean::le_bits_to_fp(&bits)?;
    Ok(Uint { bits, value })
}

/// Enforces `0 ≤ x < 2^width` for a computed variable.
fn enforce_range(cs: &Cs, x: &FpVar<Fr>, width: usize) -> Result<(), SynthesisError> {
    let bits = (0..width)
        .map(|i| Boolean::new_witness(cs.clone(), || Ok(x.value()?.into_bigint().get_bit(i))))
        .collect::<Result<Vec<_>, _>>()?;
    Boolean::le_bits_to_fp(&bits)?.enforce_equal(x)
}

fn alloc_fr(cs: &Cs, v: Fr) -> Result<FpVar<Fr>, SynthesisError> {
    FpVar::new_witness(cs.clone(), || Ok(v))
}

fn alloc_biguint(cs: &Cs, v: &BigUint, width: usize) -> Result<Uint, SynthesisError> {
    alloc_uint(cs, Fr::from(v.clone()), width)
}

fn const_bits(value: u64, width: usize) -> Vec<Boolean<Fr>> {
    (0..width).map(|i| Boolean::constant(i < 64 && (value >> i) & 1 == 1)).collect()
}

/// `bits` followed by constant zeros up to `width`.
fn padded(bits: &[Boolean<Fr>], width: usize) -> Vec<Boolean<Fr>> {
    let mut out = bits.to_vec();
    out.resize(width.max(bits.len()), Boolean::FALSE);
    out
}

/// The `len`-byte big-endian encoding of a little-endian bit vector of at most `8·len` bits.
fn be_bytes(bits: &[Boolean<Fr>], len: usize) -> Vec<UInt8<Fr>> {
    padded(bits, 8 * len).chunks(8).rev().map(UInt8::from_bits_le).collect()
}

fn alloc_siblings(cs: &Cs, path: &MerklePath) -> Result<Vec<[FpVar<Fr>; 3]>, SynthesisError> {
    path.siblings.iter().map(|s| Ok([alloc_fr(cs, s[0])?, alloc_fr(cs, s[1])?, alloc_fr(cs, s[2])?])).collect()
}

/// Hashes the account leaf `Poseidon(address, pubkey_hash, nonce, balance_root, order_root)`
/// and returns it with the witnessed balance root.
fn account_leaf(cs: &Cs, address: FpVar<Fr>, f: &LeafFields) -> Result<(FpVar<Fr>, FpVar<Fr>), SynthesisError> {
    let balance_root = alloc_fr(cs, f.balance_root)?;
    let leaf = poseidon::poseidon(&[
        address,
        alloc_fr(cs, f.pubkey_hash.to_field())?,
        alloc_fr(cs, Fr::from(f.nonce.0 as u64))?,
        balance_root.clone(),
        alloc_fr(cs, f.order_root)?,
    ])?;
    Ok((leaf, balance_root))
}

/// Root of the 4-ary subtree over `leaves` (a power of 4 of them, in index order).
fn subtree_root(leaves: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = level.chunks(4).map(poseidon::poseidon).collect::<Result<_, _>>()?;
    }
    level.pop().ok_or(SynthesisError::Unsatisfiable)
}

/// The claimed chain as a one-hot selector over 1..=n plus its 8 bits (for the encoding).
struct ChainVar {
    one_hot: Vec<Boolean<Fr>>,
    bits: Vec<Boolean<Fr>>,
}

fn alloc_chain(cs: &Cs, chain: ChainId, chains: u8) -> Result<ChainVar, SynthesisError> {
    let one_hot =
        (1..=chains).map(|c| Boolean::new_witness(cs.clone(), || Ok(c == chain.0))).collect::<Result<Vec<_>, _>>()?;
    let count = one_hot.iter().fold(FpVar::zero(), |acc, e| acc + FpVar::from(e.clone()));
    count.enforce_equal(&FpVar::one())?;
    let weighted = (1u64..).zip(&one_hot).fold(FpVar::zero(), |acc, (c, e)| acc + FpVar::from(e.clone()) * Fr::from(c));
    let byte = alloc_uint(cs, Fr::from(chain.0 as u64), 8)?;
    byte.value.enforce_equal(&weighted)?;
    Ok(ChainVar { one_hot, bits: byte.bits })
}

/// What the token rule decides about a claim.
struct TokenRule {
    /// The claim is paid from the USD reserves (a USD balance, or LP shares of a pool's USD).
    usd_like: Boolean<Fr>,
    /// The claimed token is an LP token.
    is_lp: Boolean<Fr>,
    /// The token an LP claim takes out of its pool: 1 (USD) for a reserve id 2..=16, else `r`.
    underlying: FpVar<Fr>,
}

/// Enforces the token rule (docs/protocol.md §11): `t = 1` and `r ∈ 2..=16`; or `t ≥ 17` not an LP
/// token and `r = t`; or `t` an LP token and `r ∈ 2..=16` or `r ≥ 17`.
fn enforce_token_rule(cs: &Cs, t: &Uint, r: &Uint, shape: &ExitShape) -> Result<TokenRule, SynthesisError> {
    let tb = shape.token_bits;
    let is_usd = t.value.is_eq(&FpVar::constant(Fr::from(USD_TOKEN_ID.0 as u64)))?;
    let is_lp = ge(&t.value, &FpVar::constant(Fr::from(shape.lp_first as u64)), tb)?;
    let zero = FpVar::zero();
    // t − 17 ∈ [0, 2^tb) unless USD; t < 2^tb, so a negative difference wraps out of range.
    let above_16 = FpVar::conditionally_select(&is_usd, &zero, &(&t.value - Fr::from(17u64)))?;
    enforce_range(cs, &above_16, tb)?;
    let r_small =
        &ge(&r.value, &FpVar::constant(Fr::from(2u64)), tb)? & &ge(&FpVar::constant(Fr::from(16u64)), &r.value, tb)?;
    // USD: a reserve id. A plain token: its own reserve. LP shares: a reserve id or a token ≥ 17.
    r_small.conditional_enforce_equal(&Boolean::TRUE, &is_usd)?;
    r.value.conditional_enforce_equal(&t.value, &(&!&is_usd & &!&is_lp))?;
    let lp_token = &is_lp & &!&r_small;
    enforce_range(cs, &FpVar::conditionally_select(&lp_token, &(&r.value - Fr::from(17u64)), &zero)?, tb)?;
    let usd_like = &is_usd | &(&is_lp & &r_small);
    let underlying =
        FpVar::conditionally_select(&r_small, &FpVar::constant(Fr::from(USD_TOKEN_ID.0 as u64)), &r.value)?;
    Ok(TokenRule { usd_like, is_lp, underlying })
}

/// `a ≥ b` for values below 2^n.
fn ge(a: &FpVar<Fr>, b: &FpVar<Fr>, n: usize) -> Result<Boolean<Fr>, SynthesisError> {
    crate::block::num::ge(a, b, n)
}

/// For LP shares, proves the pool behind them and returns the balance they stand for,
/// `⌊shares · R_u / S⌋` (the registry names the pool; its address names its tokens and LP token;
/// `R_u` and `S` are its leaves); for any other claim returns `balance` itself. Every equation
/// with the state is gated by `rule.is_lp`.
fn prove_backed_balance(
    cs: &Cs,
    w: &ExitWitness,
    shape: &ExitShape,
    (t, balance): (&Uint, &Uint),
    rule: &TokenRule,
    (root, global_root): (&FpVar<Fr>, &FpVar<Fr>),
) -> Result<Uint, SynthesisError> {
    let ps = &w.pool;
    let is_lp = &rule.is_lp;
    let sub0 = const_bits(0, shape.sub_account_bits);
    let pool = alloc_uint(cs, Fr::from(ps.pool.0 as u64), shape.account_bits)?;
    let registry = &pool.value + Fr::from(1u64);
    merkle::root_from_path(
        &registry,
        &balance_index_bits(&t.bits, &sub0, shape),
        &alloc_siblings(cs, &ps.registry_path)?,
    )?
    .conditional_enforce_equal(global_root, is_lp)?;
    let address = alloc_uint(cs, address_to_field(&ps.address), 160)?;
    let (leaf, pool_root) = account_leaf(cs, address.value.clone(), &ps.leaf)?;
    let pool_bits = padded(&pool.bits, 2 * shape.account_levels);
    merkle::root_from_path(&leaf, &pool_bits, &alloc_siblings(cs, &ps.path)?)?
        .conditional_enforce_equal(root, is_lp)?;
    // The address (bits little-endian): prefix ff ×8, …, token_a, token_b, lp_token.
    let field = |from: usize, to: usize| Boolean::le_bits_to_fp(&address.bits[from..to]);
    field(96, 160)?.conditional_enforce_equal(&FpVar::constant(pow2_64_minus_1()), is_lp)?;
    field(0, 16)?.conditional_enforce_equal(&t.value, is_lp)?;
    let (token_a, token_b) = (field(32, 48)?, field(16, 32)?);
    let u = alloc_uint(cs, Fr::from(underlying(w.claim.reserve_token).0 as u64), shape.token_bits)?;
    u.value.enforce_equal(&rule.underlying)?;
    ((&u.value - token_a) * (&u.value - token_b)).conditional_enforce_equal(&FpVar::zero(), is_lp)?;
    let reserve = alloc_uint(cs, Fr::from(ps.reserve), zklink_types::pool::RESERVE_BITS as usize)?;
    merkle::root_from_path(
        &reserve.value,
        &balance_index_bits(&u.bits, &sub0, shape),
        &alloc_siblings(cs, &ps.reserve_path)?,
    )?
    .conditional_enforce_equal(&pool_root, is_lp)?;
    let supply = alloc_uint(cs, Fr::from(ps.supply), zklink_types::pool::RESERVE_BITS as usize)?;
    merkle::root_from_path(
        &supply.value,
        &balance_index_bits(&t.bits, &sub0, shape),
        &alloc_siblings(cs, &ps.supply_path)?,
    )?
    .conditional_enforce_equal(&pool_root, is_lp)?;

    // v·S' + rem = balance·R', 0 ≤ rem < S' (S' = S, or 1 for other claims and an empty pool).
    let one = FpVar::one();
    let numerator = FpVar::conditionally_select(is_lp, &reserve.value, &one)?;
    let den = FpVar::conditionally_select(is_lp, &supply.value, &one)?;
    let den = &den + FpVar::from(den.is_eq(&FpVar::zero())?);
    let is_lp_native = w.claim.l2_token.0 >= shape.lp_first;
    let native = backed_balance(is_lp_native, w.balance, ps);
    let backed = alloc_uint(cs, Fr::from(native), 128)?;
    let rem = FpVar::new_witness(cs.clone(), || {
        let product = balance.value.value()? * numerator.value()? - backed.value.value()? * den.value()?;
        Ok(product)
    })?;
    (&backed.value * &den + &rem).enforce_equal(&(&balance.value * &numerator))?;
    let bits = zklink_types::pool::RESERVE_BITS as usize;
    enforce_range(cs, &rem, bits)?;
    enforce_range(cs, &(&den - &rem - Fr::from(1u64)), bits)?;
    Ok(backed)
}

/// One chain's reserve values, proven under account 1's balance root.
struct ChainReserveVars {
    /// `R(c', r)`.
    reserve: FpVar<Fr>,
    /// `Σ_{x=2..=16} R(c', x)`.
    usd_total: FpVar<Fr>,
}

/// The balance-tree index bits of `(sub, token)`: token bits, then sub bits, then zeros.
fn balance_index_bits(token: &[Boolean<Fr>], sub: &[Boolean<Fr>], shape: &ExitShape) -> Vec<Boolean<Fr>> {
    let mut bits = padded(token, shape.token_bits);
    bits.extend_from_slice(sub);
    padded(&bits, 2 * shape.balance_levels)
}

fn prove_chain_reserves(
    cs: &Cs,
    chain: u8,
    w: &ChainReserves,
    r_bits: &[Boolean<Fr>],
    shape: &ExitShape,
    global_balance_root: &FpVar<Fr>,
) -> Result<ChainReserveVars, SynthesisError> {
    let chain_bits = const_bits(chain as u64, shape.sub_account_bits);
    let reserve = alloc_uint(cs, Fr::from(w.reserve), 128)?.value;
    let bits = balance_index_bits(r_bits, &chain_bits, shape);
    merkle::root_from_path(&reserve, &bits, &alloc_siblings(cs, &w.reserve_path)?)?
        .enforce_equal(global_balance_root)?;

    // Tokens 0 and 1 are only hashed; the reserve ids 2..=16 are range-checked and summed.
    let mut low = Vec::with_capacity(LOW_TOKENS);
    let mut usd_total = FpVar::zero();
    for (x, v) in w.low_tokens.iter().enumerate() {
        let leaf = if USD_RESERVE_RANGE.contains(&(x as u16)) {
            let leaf = alloc_uint(cs, Fr::from(*v), 128)?.value;
            usd_total += &leaf;
            leaf
        } else {
            alloc_fr(cs, Fr::from(*v))?
        };
        low.push(leaf);
    }
    let low_node = subtree_root(&low)?;
    let token16 = alloc_uint(cs, Fr::from(w.token16), 128)?.value;
    usd_total += &token16;
    let mut sibs = alloc_siblings(cs, &w.token16_path)?;
    let slot = sibs.get_mut(LOW_BLOCK_LEVEL).ok_or(SynthesisError::Unsatisfiable)?;
    slot[0] = low_node;
    let bits = balance_index_bits(&const_bits(TOKEN_16 as u64, shape.token_bits), &chain_bits, shape);
    merkle::root_from_path(&token16, &bits, &sibs)?.enforce_equal(global_balance_root)?;
    Ok(ChainReserveVars { reserve, usd_total })
}

/// Native quotients and remainders of the two long-division steps (see the module docs).
struct DivisionHint {
    q1: BigUint,
    r1: BigUint,
    q2: BigUint,
    r2: BigUint,
}

impl DivisionHint {
    fn new(balance: u128, reserve: u128, divisor: &BigUint) -> Self {
        let (hi, lo) = (BigUint::from(balance >> 64), BigUint::from(balance as u64));
        let first = hi * reserve;
        let (q1, r1) = (&first / divisor, &first % divisor);
        let second = (&r1 << 64u32) + lo * reserve;
        let (q2, r2) = (&second / divisor, &second % divisor);
        Self { q1, r1, q2, r2 }
    }
}

/// Enforces `0 ≤ rem < divisor` (divisor < 2^TOTAL_BITS follows).
fn enforce_remainder(cs: &Cs, rem: &FpVar<Fr>, divisor: &FpVar<Fr>) -> Result<(), SynthesisError> {
    enforce_range(cs, &(divisor - rem - Fr::from(1u64)), TOTAL_BITS)
}

/// Enforces `amount = ⌊balance · reserve / divisor⌋` exactly (module docs).
fn enforce_pro_rata(
    cs: &Cs,
    balance: &Uint,
    reserve: &FpVar<Fr>,
    divisor: &FpVar<Fr>,
    amount: &FpVar<Fr>,
    hint: &DivisionHint,
) -> Result<(), SynthesisError> {
    let lo = Boolean::le_bits_to_fp(&balance.bits[..64])?;
    let hi = Boolean::le_bits_to_fp(&balance.bits[64..128])?;
    let q1 = alloc_biguint(cs, &hint.q1, 64)?.value;
    let r1 = alloc_biguint(cs, &hint.r1, TOTAL_BITS)?.value;
    let q2 = alloc_biguint(cs, &hint.q2, 65)?.value;
    let r2 = alloc_biguint(cs, &hint.r2, TOTAL_BITS)?.value;
    let two64 = Fr::from(u64::MAX) + Fr::from(1u64);
    q1.mul_equals(divisor, &(hi * reserve - &r1))?;
    q2.mul_equals(divisor, &(&r1 * two64 + lo * reserve - &r2))?;
    enforce_remainder(cs, &r1, divisor)?;
    enforce_remainder(cs, &r2, divisor)?;
    (q1 * two64 + q2).enforce_equal(amount)
}

impl ConstraintSynthesizer<Fr> for ExitCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let (shape, w) = (&self.shape, &self.witness);
        let claim = &w.claim;
        let public = FpVar::new_input(cs.clone(), || Ok(claim.public_input()))?;

        // The claim's fields, each range-checked by its bit decomposition.
        let root = alloc_fr(&cs, claim.root)?;
        let chain = alloc_chain(&cs, claim.chain, shape.chains)?;
        let account = alloc_uint(&cs, Fr::from(claim.account.0 as u64), shape.account_bits)?;
        let sub = alloc_uint(&cs, Fr::from(claim.sub.0 as u64), shape.sub_account_bits)?;
        let owner = alloc_uint(&cs, address_to_field(&claim.owner), 160)?;
        let t = alloc_uint(&cs, Fr::from(claim.l2_token.0 as u64), shape.token_bits)?;
        let r = alloc_uint(&cs, Fr::from(claim.reserve_token.0 as u64), shape.token_bits)?;
        let amount = alloc_uint(&cs, Fr::from(claim.amount), 128)?;

        account.value.enforce_not_equal(&FpVar::constant(Fr::from(GLOBAL_ASSET_ACCOUNT_ID.0 as u64)))?;
        owner.value.enforce_not_equal(&FpVar::zero())?;
        // Not a pool (nor account 1): an address starting with 8 ff bytes is reserved; a pool's
        // balances belong to its LPs, not to its address.
        Boolean::le_bits_to_fp(&owner.bits[96..])?.enforce_not_equal(&FpVar::constant(pow2_64_minus_1()))?;
        let rule = enforce_token_rule(&cs, &t, &r, shape)?;

        // The owner's leaf and balance.
        let (leaf, balance_root) = account_leaf(&cs, owner.value.clone(), &w.account)?;
        let account_bits = padded(&account.bits, 2 * shape.account_levels);
        merkle::root_from_path(&leaf, &account_bits, &alloc_siblings(&cs, &w.account_path)?)?.enforce_equal(&root)?;
        let balance = alloc_uint(&cs, Fr::from(w.balance), 128)?;
        let bits = balance_index_bits(&t.bits, &sub.bits, shape);
        merkle::root_from_path(&balance.value, &bits, &alloc_siblings(&cs, &w.balance_path)?)?
            .enforce_equal(&balance_root)?;

        // Account 1 and every chain's reserves.
        let global_address = FpVar::constant(address_to_field(&GLOBAL_ASSET_ADDRESS));
        let (global_leaf, global_root) = account_leaf(&cs, global_address, &w.global)?;
        let global_bits = const_bits(GLOBAL_ASSET_ACCOUNT_ID.0 as u64, 2 * shape.account_levels);
        merkle::root_from_path(&global_leaf, &global_bits, &alloc_siblings(&cs, &w.global_path)?)?
            .enforce_equal(&root)?;
        let (mut numerator, mut token_total, mut usd_total) = (FpVar::zero(), FpVar::zero(), FpVar::zero());
        for ((c, cw), selected) in (1..=shape.chains).zip(&w.chains).zip(&chain.one_hot) {
            let v = prove_chain_reserves(&cs, c, cw, &r.bits, shape, &global_root)?;
            numerator += FpVar::from(selected.clone()) * &v.reserve;
            token_total += &v.reserve;
            usd_total += &v.usd_total;
        }

        // LP shares stand for their part of the pool's reserve of the underlying token.
        let backed = prove_backed_balance(&cs, w, shape, (&t, &balance), &rule, (&root, &global_root))?;

        // The pro-rata share, dividing by 1 when the total is 0 (then the numerator is 0 too).
        let total_var = FpVar::conditionally_select(&rule.usd_like, &usd_total, &token_total)?;
        let divisor = &total_var + FpVar::from(total_var.is_eq(&FpVar::zero())?);
        let is_lp = claim.l2_token.0 >= shape.lp_first;
        let usd_like = usd_like(is_lp, claim.l2_token, claim.reserve_token);
        let native_total = total(usd_like, &w.chains);
        let native_divisor = if native_total == BigUint::ZERO { BigUint::from(1u8) } else { native_total };
        let native_reserve = w.chains.get((claim.chain.0 as usize).wrapping_sub(1)).map_or(0, |c| c.reserve);
        let native_backed = backed_balance(is_lp, w.balance, &w.pool);
        let hint = DivisionHint::new(native_backed, native_reserve, &native_divisor);
        enforce_pro_rata(&cs, &backed, &numerator, &divisor, &amount.value, &hint)?;

        // The public input: the claim's encoding hashed and reduced.
        let mut encoded = commitment::fr_to_bytes_be(&root)?;
        encoded.extend(be_bytes(&chain.bits, 1));
        encoded.extend(be_bytes(&account.bits, 4));
        encoded.extend(be_bytes(&sub.bits, 1));
        encoded.extend(be_bytes(&owner.bits, 20));
        encoded.extend(be_bytes(&t.bits, 2));
        encoded.extend(be_bytes(&r.bits, 2));
        encoded.extend(be_bytes(&amount.bits, 16));
        let digest = commitment::sha256(&encoded)?;
        commitment::public_input(&digest)?.enforce_equal(&public)
    }
}
