//! Witness records: for every leaf update, the Merkle paths and roots around it, in the
//! order the block circuit replays them.

use serde::{Deserialize, Serialize};
use zklink_crypto::Fr;
use zklink_state::{AccountLeaf, MerklePath, State};
use zklink_types::TxError;

use crate::plan::StateUpdate;

/// One leaf update with the state around it: the roots before and after, and the paths that
/// prove the touched leaves under the root before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateWitness {
    /// The update.
    pub update: StateUpdate,
    /// The state root before the update (not serialised).
    #[serde(skip)]
    pub root_before: Fr,
    /// The state root after the update (not serialised).
    #[serde(skip)]
    pub root_after: Fr,
    /// The account leaf before the update (the default leaf for a new account).
    #[serde(skip)]
    pub account_before: AccountLeaf,
    /// Path of the account leaf in the account tree, before the update (siblings do not change).
    pub account_path: MerklePath,
    /// Path of the balance / order-slot leaf inside the account, for those updates.
    pub leaf_path: Option<MerklePath>,
}

/// Applies `updates` one by one, recording the witness of each.
pub fn apply_with_witness(state: &mut State, updates: &[StateUpdate]) -> Result<Vec<UpdateWitness>, TxError> {
    let mut out = Vec::with_capacity(updates.len());
    for u in updates {
        let account = u.account();
        let root_before = state.root();
        let to_tx = |e: zklink_state::StateError| TxError::Internal(format!("witness: {e}"));
        let account_path = state.account_path(account).map_err(to_tx)?;
        let account_before = state.account_leaf(account);
        let leaf_path = match u {
            StateUpdate::Balance { sub, token, .. } => Some(state.balance_path(account, *sub, *token).map_err(to_tx)?),
            StateUpdate::OrderSlot { sub, slot, .. } => Some(state.order_path(account, *sub, *slot).map_err(to_tx)?),
            _ => None,
        };
        u.apply(state)?;
        let root_after = state.root();
        out.push(UpdateWitness { update: u.clone(), root_before, root_after, account_before, account_path, leaf_path });
    }
    Ok(out)
}
