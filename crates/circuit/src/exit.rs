//! The exit circuit (docs/protocol.md §11): in exodus mode a user proves their balance at the
//! last executed state root, and chain `c` pays `⌊balance · R(c) / Σ_c' R(c')⌋`, its pro-rata
//! share of the reserves that back the token.
//!
//! # One circuit shape per network
//!
//! Groth16 keys depend on the constraint system's shape only, so a claim for a normal token
//! (`t ≥ 17`, reserves `R(c', t)`) and one for USD (`t = 1`, reserves `R(c', x)` for the 15
//! reserve ids `x = 2..=16`) must synthesise the same constraints. For every chain `c' = 1..=n`
//! the circuit proves, inside account 1's balance tree:
//!
//! * the leaf `R(c', r)` at the claim's reserve token `r` (a path with variable token bits and
//!   constant chain bits): the numerator for `c' = c`, and the summand of a normal token's total;
//! * the USD block: the 16 leaves of tokens 0..=15 hashed into their level-2 node `N0`
//!   (5 Poseidon nodes), and the leaf of token 16 up to the balance root with `N0` as its
//!   level-2 sibling — all 15 reserve ids with one path instead of 15, since `tb ≥ 6` puts
//!   tokens 0..=63 in one aligned subtree.
//!
//! The token kind then selects which sum is the total. Per chain this costs `2·B + 5` Poseidon
//! nodes (`B` = balance levels) and 16 128-bit range checks, against `16·B` nodes for 16
//! separate reserve paths; at `main` (`B = 11`) that is 27 nodes instead of 176.
//!
//! Measured with 3 chains: 74,716 constraints at `dev` and 95,125 at `main`. At `dev`: claim
//! fields and token rule 345, the owner's leaf and paths 2,600, account 1's leaf and path 1,210,
//! reserves 5,942 per chain, division 687, the root's bytes 640, SHA-256 of the 78-byte claim
//! (2 compressions) 51,407.
//!
//! # Exact floor division
//!
//! `b · R` reaches 2^256 and would wrap modulo p. With `b = b_hi·2^64 + b_lo` (the bits of `b`
//! give both halves) the division is done as two steps of long division by `T'`
//! (`T' = T`, or 1 when `T = 0` so that the share is 0):
//!
//! ```text
//! b_hi·R           = q1·T' + r1      q1 < 2^64,  0 ≤ r1 < T'
//! r1·2^64 + b_lo·R = q2·T' + r2      q2 < 2^65,  0 ≤ r2 < T'
//! amount           = q1·2^64 + q2
//! ```
//!
//! Substituting gives `b·R = amount·T' + r2` with `0 ≤ r2 < T'`, i.e. `amount = ⌊b·R/T'⌋`. Every
//! term is below 2^203 ≪ p, so each field equation is the integer equation. Bounds:
//! `R, b < 2^128` and every reserve summand `< 2^128` (bit decompositions), so
//! `T < 465·2^128 < 2^137`; `r < T'` is `T' − 1 − r ∈ [0, 2^137)` with `r ∈ [0, 2^137)`. An honest
//! prover meets `q1 < 2^64` and `q2 < 2^65` because `R ≤ T'` (R is one of T's summands).

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
use zklink_state::{MerklePath, State, StateError};
use zklink_types::{
    AccountId, Address, ChainId, Nonce, Preset, PubKeyHash, SubAccountId, TokenId, GLOBAL_ASSET_ACCOUNT_ID,
    GLOBAL_ASSET_ADDRESS, STABLECOIN_RANGE, USD_RESERVE_RANGE, USD_TOKEN_ID,
};

use crate::gadgets::{commitment, merkle, poseidon};

/// Bytes of the claim encoding the public input hashes.
pub const CLAIM_BYTES: usize = 32 + 1 + 4 + 1 + 20 + 2 + 2 + 16;
/// Bound on a reserve total: at most 15 reserve ids × 31 chains of u128 values < 2^137.
pub const TOTAL_BITS: usize = 137;
/// Token ids 0..=15 of a chain's reserves form one level-2 subtree of account 1's balance tree.
const LOW_TOKENS: usize = 16;
/// The last USD reserve id, just outside that subtree.
const TOKEN_16: u16 = 16;
/// Level of the node covering tokens 0..=15 (4-ary: 16 = 4^2 leaves).
const LOW_BLOCK_LEVEL: usize = 2;

/// What an exit asks for; the owner and amount follow from the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitRequest {
    /// The chain that pays (1..=n).
    pub chain: ChainId,
    /// The exiting account (any but 1; the fee account 0 is a real owner).
    pub account: AccountId,
    /// The sub-account holding the balance.
    pub sub: SubAccountId,
    /// The balance's token: 1 (USD) or ≥ 17.
    pub l2_token: TokenId,
    /// The reserve id paid from: `l2_token` itself, or for USD one of 2..=16 (stablecoin `r + 15`).
    pub reserve_token: TokenId,
}

/// The statement an exit proof proves; its encoding is the proof's public input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitClaim {
    /// The last executed state root.
    pub root: Fr,
    /// The paying chain.
    pub chain: ChainId,
    /// The exiting account.
    pub account: AccountId,
    /// Its sub-account.
    pub sub: SubAccountId,
    /// The account leaf's L1 address, who is paid.
    pub owner: Address,
    /// The balance's token (1 or ≥ 17).
    pub l2_token: TokenId,
    /// The reserve id paid from (`l2_token`, or 2..=16 for USD: L1 token `reserve_token + 15`).
    pub reserve_token: TokenId,
    /// What `chain` pays.
    pub amount: u128,
}

impl ExitClaim {
    /// `root 32 ‖ chain u8 ‖ account u32 ‖ sub u8 ‖ owner 20 ‖ l2_token u16 ‖ reserve_token u16 ‖ amount u128`.
    pub fn encode(&self) -> [u8; CLAIM_BYTES] {
        let mut out = [0u8; CLAIM_BYTES];
        let parts: [&[u8]; 8] = [
            &zklink_crypto::fr_to_bytes(&self.root),
            &[self.chain.0],
            &self.account.0.to_be_bytes(),
            &[self.sub.0],
            self.owner.as_slice(),
            &self.l2_token.0.to_be_bytes(),
            &self.reserve_token.0.to_be_bytes(),
            &self.amount.to_be_bytes(),
        ];
        let mut at = 0;
        for p in parts {
            out[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
        out
    }

    /// `sha256(encode())`.
    pub fn commitment(&self) -> [u8; 32] {
        zklink_crypto::sha256(&self.encode())
    }

    /// The commitment with its top 3 bits cleared, read big-endian: the proof's single public input.
    pub fn public_input(&self) -> Fr {
        let mut c = self.commitment();
        c[0] &= 0x1f;
        Fr::from_be_bytes_mod_order(&c)
    }
}

/// Why an exit witness cannot be built.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ExitError {
    #[error("a network has 1..={max} chains at preset {preset}, got {chains}")]
    ChainCount { chains: u8, max: u8, preset: String },
    #[error("invalid preset: {0}")]
    Preset(String),
    #[error("chain {chain} is not connected: chains are 1..={chains}")]
    ChainOutOfRange { chain: ChainId, chains: u8 },
    #[error("account 1 is the global asset account: its reserves cannot be exited")]
    GlobalAssetAccount,
    #[error("account {account} does not exist: the state has accounts 0..{count}")]
    UnknownAccount { account: AccountId, count: usize },
    #[error("account {account} has no owner address to pay")]
    NoOwner { account: AccountId },
    #[error("sub-account {sub} is out of range: at most {max}")]
    SubAccountOutOfRange { sub: SubAccountId, max: u8 },
    #[error("l2 token {l2_token} with reserve token {reserve_token}: {reason}")]
    InvalidTokens { l2_token: TokenId, reserve_token: TokenId, reason: &'static str },
    #[error("witness does not fit the circuit shape: {0}")]
    Shape(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The sizes a circuit is built for: a preset's tree depths and the network's chain count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitShape {
    /// Bits of an account id (the account tree's index).
    pub account_bits: usize,
    /// Bits of a sub-account id; also bound the chain ids.
    pub sub_account_bits: usize,
    /// Bits of a token id.
    pub token_bits: usize,
    /// Levels of the 4-ary account tree.
    pub account_levels: usize,
    /// Levels of a 4-ary balance tree.
    pub balance_levels: usize,
    /// Connected chains 1..=chains.
    pub chains: u8,
}

impl ExitShape {
    /// The shape for `preset` with `chains` connected chains.
    pub fn new(preset: &Preset, chains: u8) -> Result<Self, ExitError> {
        // The layout of the USD block needs the validated ranges (token_bits ≥ 6).
        preset.validate().map_err(ExitError::Preset)?;
        let max = preset.max_chain_id();
        if chains == 0 || chains > max {
            return Err(ExitError::ChainCount { chains, max, preset: preset.name.clone() });
        }
        Ok(Self {
            account_bits: preset.account_bits as usize,
            sub_account_bits: preset.sub_account_bits as usize,
            token_bits: preset.token_bits as usize,
            account_levels: preset.account_levels() as usize,
            balance_levels: preset.balance_levels() as usize,
            chains,
        })
    }
}

/// An account leaf's fields other than its address (the circuit supplies that).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeafFields {
    /// The account's L2 key hash.
    pub pubkey_hash: PubKeyHash,
    /// The account nonce.
    pub nonce: Nonce,
    /// Root of its balance tree.
    pub balance_root: Fr,
    /// Root of its order-slot tree.
    pub order_root: Fr,
}

/// What one chain's reserves contribute, all under account 1's balance root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReserves {
    /// `R(c', r)` for the claim's reserve token `r`.
    pub reserve: u128,
    /// Its path in account 1's balance tree.
    pub reserve_path: MerklePath,
    /// Balances of tokens 0..=15 in sub-account `c'` (ids 2..=15 are USD reserves).
    pub low_tokens: [u128; LOW_TOKENS],
    /// Balance of token 16, the last USD reserve id.
    pub token16: u128,
    /// Its path; the level-2 sibling at slot 0 (the node of tokens 0..=15) is recomputed in-circuit.
    pub token16_path: MerklePath,
}

impl ChainReserves {
    /// `Σ_{x=2..=16} R(c', x)`.
    pub fn usd_total(&self) -> BigUint {
        let low: BigUint = self.low_tokens[2..].iter().map(|v| BigUint::from(*v)).sum();
        low + self.token16
    }
}

/// Everything the exit circuit needs: the claim and the Merkle data proving it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitWitness {
    /// The statement.
    pub claim: ExitClaim,
    /// Balance of (account, sub, l2_token).
    pub balance: u128,
    /// The account leaf (its address is `claim.owner`).
    pub account: LeafFields,
    /// The account leaf's path in the account tree.
    pub account_path: MerklePath,
    /// The balance's path in the account's balance tree.
    pub balance_path: MerklePath,
    /// Account 1's leaf (its address is the constant `0xff…ff`).
    pub global: LeafFields,
    /// Account 1's path in the account tree.
    pub global_path: MerklePath,
    /// Chains 1..=n in order.
    pub chains: Vec<ChainReserves>,
}

/// `⌊balance · reserve / total⌋`, 0 when `total = 0`.
pub fn pro_rata(balance: u128, reserve: u128, total: &BigUint) -> u128 {
    if *total == BigUint::ZERO {
        return 0;
    }
    let share = BigUint::from(balance) * reserve / total;
    // share ≤ balance whenever reserve ≤ total; saturate otherwise rather than panic.
    u128::try_from(share).unwrap_or(u128::MAX)
}

fn check_tokens(preset: &Preset, l2_token: TokenId, reserve_token: TokenId) -> Result<(), ExitError> {
    let invalid = |reason| ExitError::InvalidTokens { l2_token, reserve_token, reason };
    if l2_token == USD_TOKEN_ID {
        if !USD_RESERVE_RANGE.contains(&reserve_token.0) {
            return Err(invalid("USD is paid from a reserve id in 2..=16 (stablecoin id − 15)"));
        }
    } else if l2_token.0 < *STABLECOIN_RANGE.start() {
        return Err(invalid("the token must be USD (1) or a real token (≥ 17)"));
    } else if reserve_token != l2_token {
        return Err(invalid("a token other than USD is paid from its own reserve"));
    }
    preset.check_token(l2_token).map_err(|_| invalid("token id beyond the preset's token tree"))
}

fn leaf_fields(state: &mut State, account: AccountId) -> LeafFields {
    let leaf = state.account_leaf(account);
    LeafFields {
        pubkey_hash: leaf.pubkey_hash,
        nonce: leaf.nonce,
        balance_root: leaf.balance_root,
        order_root: leaf.order_root,
    }
}

fn chain_reserves(state: &mut State, chain: u8, reserve_token: TokenId) -> Result<ChainReserves, ExitError> {
    let (id, sub) = (GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(chain));
    let mut low_tokens = [0u128; LOW_TOKENS];
    for (x, v) in low_tokens.iter_mut().enumerate() {
        *v = state.balance(id, sub, TokenId(x as u16));
    }
    Ok(ChainReserves {
        reserve: state.balance(id, sub, reserve_token),
        reserve_path: state.balance_path(id, sub, reserve_token)?,
        low_tokens,
        token16: state.balance(id, sub, TokenId(TOKEN_16)),
        token16_path: state.balance_path(id, sub, TokenId(TOKEN_16))?,
    })
}

impl ExitWitness {
    /// Builds the witness for `req` against the state's current root, which must be the last
    /// executed one. Takes `&mut` because paths flush the state's pending hashing.
    pub fn build(state: &mut State, chains: u8, req: &ExitRequest) -> Result<Self, ExitError> {
        let preset = state.preset().clone();
        ExitShape::new(&preset, chains)?;
        if req.chain.0 == 0 || req.chain.0 > chains {
            return Err(ExitError::ChainOutOfRange { chain: req.chain, chains });
        }
        if req.account == GLOBAL_ASSET_ACCOUNT_ID {
            return Err(ExitError::GlobalAssetAccount);
        }
        if req.sub.0 > preset.max_sub_account() {
            return Err(ExitError::SubAccountOutOfRange { sub: req.sub, max: preset.max_sub_account() });
        }
        check_tokens(&preset, req.l2_token, req.reserve_token)?;
        let owner = state
            .account(req.account)
            .map(|a| a.address)
            .ok_or(ExitError::UnknownAccount { account: req.account, count: state.account_count() })?;
        if owner.is_zero() {
            return Err(ExitError::NoOwner { account: req.account });
        }

        let root = state.root();
        let balance = state.balance(req.account, req.sub, req.l2_token);
        let chain_data =
            (1..=chains).map(|c| chain_reserves(state, c, req.reserve_token)).collect::<Result<Vec<_>, _>>()?;
        let amount = pro_rata(balance, chain_data[req.chain.0 as usize - 1].reserve, &total(req.l2_token, &chain_data));
        Ok(Self {
            claim: ExitClaim {
                root,
                chain: req.chain,
                account: req.account,
                sub: req.sub,
                owner,
                l2_token: req.l2_token,
                reserve_token: req.reserve_token,
                amount,
            },
            balance,
            account: leaf_fields(state, req.account),
            account_path: state.account_path(req.account)?,
            balance_path: state.balance_path(req.account, req.sub, req.l2_token)?,
            global: leaf_fields(state, GLOBAL_ASSET_ACCOUNT_ID),
            global_path: state.account_path(GLOBAL_ASSET_ACCOUNT_ID)?,
            chains: chain_data,
        })
    }

    /// An all-zero witness of `shape`, for key generation (keys depend on the shape only).
    pub fn blank(shape: &ExitShape) -> Self {
        let path = |levels: usize| MerklePath { index: 0, siblings: vec![[Fr::from(0u64); 3]; levels] };
        let chain = ChainReserves {
            reserve: 0,
            reserve_path: path(shape.balance_levels),
            low_tokens: [0; LOW_TOKENS],
            token16: 0,
            token16_path: path(shape.balance_levels),
        };
        Self {
            claim: ExitClaim {
                root: Fr::from(0u64),
                chain: ChainId(1),
                account: AccountId(0),
                sub: SubAccountId(0),
                owner: Address::ZERO,
                l2_token: USD_TOKEN_ID,
                reserve_token: TokenId(2),
                amount: 0,
            },
            balance: 0,
            account: LeafFields::default(),
            account_path: path(shape.account_levels),
            balance_path: path(shape.balance_levels),
            global: LeafFields::default(),
            global_path: path(shape.account_levels),
            chains: vec![chain; shape.chains as usize],
        }
    }

    fn check_shape(&self, shape: &ExitShape) -> Result<(), ExitError> {
        let levels = |name: &str, path: &MerklePath, want: usize| {
            if path.levels() == want {
                Ok(())
            } else {
                Err(ExitError::Shape(format!("{name} has {} levels, the circuit expects {want}", path.levels())))
            }
        };
        levels("account path", &self.account_path, shape.account_levels)?;
        levels("global account path", &self.global_path, shape.account_levels)?;
        levels("balance path", &self.balance_path, shape.balance_levels)?;
        if self.chains.len() != shape.chains as usize {
            return Err(ExitError::Shape(format!(
                "{} chains of reserves, expected {}",
                self.chains.len(),
                shape.chains
            )));
        }
        for c in &self.chains {
            levels("reserve path", &c.reserve_path, shape.balance_levels)?;
            levels("token 16 path", &c.token16_path, shape.balance_levels)?;
        }
        Ok(())
    }
}

/// The reserve total the claim's token divides by: `Σ R(c', t)`, or for USD `Σ Σ_{x=2..=16} R(c', x)`.
fn total(l2_token: TokenId, chains: &[ChainReserves]) -> BigUint {
    if l2_token == USD_TOKEN_ID {
        chains.iter().map(ChainReserves::usd_total).sum()
    } else {
        chains.iter().map(|c| BigUint::from(c.reserve)).sum()
    }
}

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

/// Enforces the token rule: `t ≥ 17` and `r = t`, or `t = 1` and `r ∈ 2..=16`. Returns `t = 1`.
fn enforce_token_rule(cs: &Cs, t: &Uint, r: &Uint, token_bits: usize) -> Result<Boolean<Fr>, SynthesisError> {
    let is_usd = t.value.is_eq(&FpVar::constant(Fr::from(USD_TOKEN_ID.0 as u64)))?;
    let zero = FpVar::zero();
    // t − 17 ∈ [0, 2^tb) unless USD; t < 2^tb, so a negative difference wraps out of range.
    let above_16 = FpVar::conditionally_select(&is_usd, &zero, &(&t.value - Fr::from(17u64)))?;
    enforce_range(cs, &above_16, token_bits)?;
    r.value.conditional_enforce_equal(&t.value, &!&is_usd)?;
    // r − 2 ∈ [0, 16) and 14 − (r − 2) ∈ [0, 16): r ∈ 2..=16 for USD.
    let offset = FpVar::conditionally_select(&is_usd, &(&r.value - Fr::from(2u64)), &zero)?;
    enforce_range(cs, &offset, 4)?;
    enforce_range(cs, &(FpVar::constant(Fr::from(14u64)) - &offset), 4)?;
    Ok(is_usd)
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
        let is_usd = enforce_token_rule(&cs, &t, &r, shape.token_bits)?;

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

        // The pro-rata share, dividing by 1 when the total is 0 (then the numerator is 0 too).
        let total_var = FpVar::conditionally_select(&is_usd, &usd_total, &token_total)?;
        let divisor = &total_var + FpVar::from(total_var.is_eq(&FpVar::zero())?);
        let native_total = total(claim.l2_token, &w.chains);
        let native_divisor = if native_total == BigUint::ZERO { BigUint::from(1u8) } else { native_total };
        let native_reserve = w.chains.get((claim.chain.0 as usize).wrapping_sub(1)).map_or(0, |c| c.reserve);
        let hint = DivisionHint::new(w.balance, native_reserve, &native_divisor);
        enforce_pro_rata(&cs, &balance, &numerator, &divisor, &amount.value, &hint)?;

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
