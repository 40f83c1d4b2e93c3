//! The block circuit's unit of state change: one **slot** rewrites one account leaf — its
//! address, pubkey hash and nonce, and at most one leaf of its balance tree or order tree —
//! and moves the state root from `root_in` to `root_out`. Every chunk carries
//! [`SLOTS_PER_CHUNK`] slots; op rules bind the slots they use, and a slot no op claims must
//! leave its leaf unchanged.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::ConstraintSystemRef;
use serde::{Deserialize, Serialize};
use zklink_crypto::fr_serde;
use zklink_crypto::Fr;
use zklink_state::account::address_to_field;
use zklink_state::{AccountLeaf, MerklePath};
use zklink_types::Preset;

use super::num::{self, pow2, select, R};
use crate::gadgets::{merkle, poseidon};

/// Slots per chunk: a one-chunk transfer touches two accounts (sender, receiver); its fee goes
/// through the block's credit slots ([`super::credits`]).
pub const SLOTS_PER_CHUNK: usize = 2;

/// Tree depths the slot gadget is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeDepths {
    /// Levels of the account tree.
    pub account: usize,
    /// Levels of a balance tree.
    pub balance: usize,
    /// Levels of an order tree.
    pub order: usize,
}

impl TreeDepths {
    /// The depths of `preset`'s trees.
    pub fn of(preset: &Preset) -> Self {
        Self {
            account: preset.account_levels() as usize,
            balance: preset.balance_levels() as usize,
            order: preset.order_levels() as usize,
        }
    }
    /// Levels of the shared subtree path (the deeper of the balance and order trees).
    pub fn subtree(&self) -> usize {
        self.balance.max(self.order)
    }
}

/// A sub-leaf value: `hi·2^128 + lo` (order slots: nonce and residue; balances: 0 and balance).
/// Field elements, as the circuit sees them, so that tests can also express lies (a
/// "balance" below zero) and show the circuit rejects them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubLeaf {
    /// High part: an order slot's nonce, 0 for a balance (range-checked below 2^32 in the circuit).
    #[serde(with = "fr_serde")]
    pub hi: Fr,
    /// Low part: the balance or an order slot's residue (range-checked below 2^128 in the circuit).
    #[serde(with = "fr_serde")]
    pub lo: Fr,
}

impl SubLeaf {
    /// The sub-leaf of an order slot `{nonce, residue}`.
    pub fn order(nonce: u32, residue: u128) -> Self {
        Self { hi: Fr::from(nonce as u64), lo: Fr::from(residue) }
    }
}

/// Native witness of one slot.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotWitness {
    /// Id of the account the slot rewrites.
    pub account: u32,
    /// Path of the account leaf under the slot's input root.
    pub account_path: MerklePath,
    /// The account leaf before.
    pub old: AccountLeaf,
    /// The account leaf after (its subtree root is recomputed in the circuit, not taken from here).
    pub new: AccountLeaf,
    /// Whether the sub-leaf rewritten is an order slot (else a balance).
    pub is_order: bool,
    /// Path inside the balance or order tree, padded with zero siblings to the subtree depth.
    pub sub_path: MerklePath,
    /// The sub-leaf before.
    pub old_value: SubLeaf,
    /// The sub-leaf after.
    pub new_value: SubLeaf,
}

/// The slot's variables, for op rules to bind.
pub struct SlotVar {
    /// Account id (from the index bits of the account path).
    pub account: FpVar<Fr>,
    /// Account address before.
    pub old_address: FpVar<Fr>,
    /// Pubkey hash before.
    pub old_pkh: FpVar<Fr>,
    /// Account nonce before.
    pub old_nonce: FpVar<Fr>,
    /// Account address after.
    pub new_address: FpVar<Fr>,
    /// Pubkey hash after.
    pub new_pkh: FpVar<Fr>,
    /// Account nonce after (range-checked below 2^32).
    pub new_nonce: FpVar<Fr>,
    /// Whether the rewritten sub-leaf is in the order tree.
    pub is_order: Boolean<Fr>,
    /// Index of the rewritten sub-leaf in its tree.
    pub sub_index: FpVar<Fr>,
    /// Sub-leaf high part before (order nonce; 0 for balances).
    pub old_hi: FpVar<Fr>,
    /// Sub-leaf low part before (balance or residue, below 2^128).
    pub old_lo: FpVar<Fr>,
    /// Sub-leaf high part after.
    pub new_hi: FpVar<Fr>,
    /// Sub-leaf low part after (below 2^128: balances cannot go negative or overflow).
    pub new_lo: FpVar<Fr>,
    /// The state root after this slot (the next slot's input root).
    pub root_out: FpVar<Fr>,
}

fn wit(cs: &ConstraintSystemRef<Fr>, v: Fr) -> R<FpVar<Fr>> {
    FpVar::new_witness(cs.clone(), || Ok(v))
}

fn siblings(cs: &ConstraintSystemRef<Fr>, path: &MerklePath, levels: usize) -> R<Vec<[FpVar<Fr>; 3]>> {
    (0..levels)
        .map(|k| {
            let s = path.siblings.get(k).copied().unwrap_or_default();
            Ok([wit(cs, s[0])?, wit(cs, s[1])?, wit(cs, s[2])?])
        })
        .collect()
}

/// A sub-leaf allocated as range-checked halves; returns (hi, lo, hi·2^128 + lo).
fn sub_leaf(cs: &ConstraintSystemRef<Fr>, v: SubLeaf) -> R<(FpVar<Fr>, FpVar<Fr>, FpVar<Fr>)> {
    let hi = wit(cs, v.hi)?;
    let lo = wit(cs, v.lo)?;
    num::range(&hi, 32)?;
    num::range(&lo, 128)?;
    let packed = &hi * pow2(128) + &lo;
    Ok((hi, lo, packed))
}

fn leaf_hash(fields: [&FpVar<Fr>; 5]) -> R<FpVar<Fr>> {
    poseidon::poseidon(&fields.map(|f| f.clone()))
}

/// Root of the balance or order subtree (they share one path of the deeper depth).
fn subtree_root(
    leaf: &FpVar<Fr>,
    bits: &[Boolean<Fr>],
    sibs: &[[FpVar<Fr>; 3]],
    is_order: &Boolean<Fr>,
    d: &TreeDepths,
) -> R<FpVar<Fr>> {
    let nodes = merkle::path_nodes(leaf, bits, sibs)?;
    select(is_order, &nodes[d.order - 1], &nodes[d.balance - 1])
}

/// Allocates one slot and enforces that it is a correct leaf rewrite under `root_in`.
pub fn slot(cs: &ConstraintSystemRef<Fr>, w: &SlotWitness, d: &TreeDepths, root_in: &FpVar<Fr>) -> R<SlotVar> {
    let acct_bits = merkle::index_bits(cs, w.account as u64, d.account)?;
    let account = Boolean::le_bits_to_fp(&acct_bits)?;
    let acct_sibs = siblings(cs, &w.account_path, d.account)?;
    let old_address = wit(cs, address_to_field(&w.old.address))?;
    let old_pkh = wit(cs, w.old.pubkey_hash.to_field())?;
    let old_nonce = wit(cs, Fr::from(w.old.nonce.0 as u64))?;
    let old_balance_root = wit(cs, w.old.balance_root)?;
    let old_order_root = wit(cs, w.old.order_root)?;
    let old_leaf = leaf_hash([&old_address, &old_pkh, &old_nonce, &old_balance_root, &old_order_root])?;
    merkle::root_from_path(&old_leaf, &acct_bits, &acct_sibs)?.enforce_equal(root_in)?;

    let is_order = Boolean::new_witness(cs.clone(), || Ok(w.is_order))?;
    let sub_bits = merkle::index_bits(cs, w.sub_path.index, d.subtree())?;
    let sub_index = Boolean::le_bits_to_fp(&sub_bits)?;
    let sub_sibs = siblings(cs, &w.sub_path, d.subtree())?;
    let (old_hi, old_lo, old_sub) = sub_leaf(cs, w.old_value)?;
    let (new_hi, new_lo, new_sub) = sub_leaf(cs, w.new_value)?;
    let old_sub_root = select(&is_order, &old_order_root, &old_balance_root)?;
    subtree_root(&old_sub, &sub_bits, &sub_sibs, &is_order, d)?.enforce_equal(&old_sub_root)?;
    let new_sub_root = subtree_root(&new_sub, &sub_bits, &sub_sibs, &is_order, d)?;
    let new_balance_root = select(&is_order, &old_balance_root, &new_sub_root)?;
    let new_order_root = select(&is_order, &new_sub_root, &old_order_root)?;

    let new_address = wit(cs, address_to_field(&w.new.address))?;
    let new_pkh = wit(cs, w.new.pubkey_hash.to_field())?;
    let new_nonce = wit(cs, Fr::from(w.new.nonce.0 as u64))?;
    num::range(&new_nonce, 32)?;
    let new_leaf = leaf_hash([&new_address, &new_pkh, &new_nonce, &new_balance_root, &new_order_root])?;
    let root_out = merkle::root_from_path(&new_leaf, &acct_bits, &acct_sibs)?;
    Ok(SlotVar {
        account,
        old_address,
        old_pkh,
        old_nonce,
        new_address,
        new_pkh,
        new_nonce,
        is_order,
        sub_index,
        old_hi,
        old_lo,
        new_hi,
        new_lo,
        root_out,
    })
}

impl SlotVar {
    /// A slot no op claims leaves its leaf as it was.
    pub fn enforce_unchanged_unless(&self, claimed: &Boolean<Fr>) -> R<()> {
        let free = !claimed;
        for (old, new) in [
            (&self.old_address, &self.new_address),
            (&self.old_pkh, &self.new_pkh),
            (&self.old_nonce, &self.new_nonce),
            (&self.old_hi, &self.new_hi),
            (&self.old_lo, &self.new_lo),
        ] {
            num::eq_if(&free, old, new)?;
        }
        Ok(())
    }
}
