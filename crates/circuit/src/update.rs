//! Replaying one executor state update in R1CS: the old leaf is proven under `root_before`
//! and the new leaf, with the same siblings, yields `root_after`. This is the unit the block
//! circuit's op chunks are built from; here every value comes from the executor's
//! [`UpdateWitness`] record.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSystemRef, SynthesisError};
use zklink_crypto::Fr;
use zklink_executor::{StateUpdate, UpdateWitness};
use zklink_state::account::{address_to_field, OrderSlot};
use zklink_state::MerklePath;
use zklink_types::{OrderNonce, Preset};

use crate::gadgets::{merkle, poseidon};

struct Leaf {
    address: FpVar<Fr>,
    pkh: FpVar<Fr>,
    nonce: FpVar<Fr>,
    balance_root: FpVar<Fr>,
    order_root: FpVar<Fr>,
}

impl Leaf {
    fn hash(&self) -> Result<FpVar<Fr>, SynthesisError> {
        poseidon::poseidon(&[
            self.address.clone(),
            self.pkh.clone(),
            self.nonce.clone(),
            self.balance_root.clone(),
            self.order_root.clone(),
        ])
    }
}

fn witness(cs: &ConstraintSystemRef<Fr>, v: Fr) -> Result<FpVar<Fr>, SynthesisError> {
    FpVar::new_witness(cs.clone(), || Ok(v))
}

fn siblings(cs: &ConstraintSystemRef<Fr>, path: &MerklePath) -> Result<Vec<[FpVar<Fr>; 3]>, SynthesisError> {
    path.siblings.iter().map(|s| Ok([witness(cs, s[0])?, witness(cs, s[1])?, witness(cs, s[2])?])).collect()
}

/// A leaf inside an account subtree changes from `old` to `new`: checks `old` against the
/// subtree root and returns the new subtree root.
fn update_subtree(
    cs: &ConstraintSystemRef<Fr>,
    path: &MerklePath,
    old: Fr,
    new: Fr,
    old_root: &FpVar<Fr>,
) -> Result<FpVar<Fr>, SynthesisError> {
    let bits = merkle::index_bits(cs, path.index, path.siblings.len())?;
    let sibs = siblings(cs, path)?;
    merkle::root_from_path(&witness(cs, old)?, &bits, &sibs)?.enforce_equal(old_root)?;
    merkle::root_from_path(&witness(cs, new)?, &bits, &sibs)
}

/// Enforces that `w` is a correct transition from `w.root_before` to `w.root_after`.
pub fn replay_update(cs: &ConstraintSystemRef<Fr>, w: &UpdateWitness, preset: &Preset) -> Result<(), SynthesisError> {
    let before = &w.account_before;
    let old = Leaf {
        address: witness(cs, address_to_field(&before.address))?,
        pkh: witness(cs, before.pubkey_hash.to_field())?,
        nonce: witness(cs, Fr::from(before.nonce.0 as u64))?,
        balance_root: witness(cs, before.balance_root)?,
        order_root: witness(cs, before.order_root)?,
    };
    let acct_bits = merkle::index_bits(cs, w.account_path.index, preset.account_levels() as usize)?;
    let acct_sibs = siblings(cs, &w.account_path)?;
    let root_before = FpVar::new_input(cs.clone(), || Ok(w.root_before))?;
    merkle::root_from_path(&old.hash()?, &acct_bits, &acct_sibs)?.enforce_equal(&root_before)?;

    let missing_path = || SynthesisError::AssignmentMissing;
    let new = match &w.update {
        StateUpdate::Balance { old: ob, new: nb, .. } => {
            let path = w.leaf_path.as_ref().ok_or_else(missing_path)?;
            let root = update_subtree(cs, path, Fr::from(*ob), Fr::from(*nb), &old.balance_root)?;
            Leaf { balance_root: root, ..old }
        }
        StateUpdate::OrderSlot { old_nonce, old_residue, new_nonce, new_residue, .. } => {
            let path = w.leaf_path.as_ref().ok_or_else(missing_path)?;
            let slot = |n: u32, r: u128| OrderSlot { nonce: OrderNonce(n), residue: r }.to_field();
            let root = update_subtree(
                cs,
                path,
                slot(*old_nonce, *old_residue),
                slot(*new_nonce, *new_residue),
                &old.order_root,
            )?;
            Leaf { order_root: root, ..old }
        }
        StateUpdate::Nonce { new, .. } => Leaf { nonce: witness(cs, Fr::from(new.0 as u64))?, ..old },
        StateUpdate::PubKeyHash { new, .. } => Leaf { pkh: witness(cs, new.to_field())?, ..old },
        StateUpdate::CreateAccount { address, .. } => Leaf { address: witness(cs, address_to_field(address))?, ..old },
    };
    let root_after = FpVar::new_input(cs.clone(), || Ok(w.root_after))?;
    merkle::root_from_path(&new.hash()?, &acct_bits, &acct_sibs)?.enforce_equal(&root_after)
}
