//! The whole L2 state: accounts by id, the address index, and the account tree.
//!
//! Writes only mark accounts dirty; `root()` rehashes every dirty account's subtrees and leaf
//! in parallel, then the dirty part of the account tree level by level (each node once).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use zklink_crypto::Fr;
use zklink_types::{
    AccountId, Address, Nonce, Preset, PubKeyHash, SlotId, SubAccountId, TokenId, TxError, GLOBAL_ASSET_ADDRESS,
};

use crate::account::{field_to_u128, leaf_hash, u128_to_field, Account, OrderSlot, SubTree};
use crate::error::StateError;
use crate::smt::{DefaultHashes, MerklePath, SparseMerkleTree, TreeError};
use crate::store::{AccountRecord, StoredState};

/// Default hashes of the three tree kinds for one preset, shared by every account.
#[derive(Clone, Debug)]
pub struct TreeShapes {
    /// Default hashes of a balance tree (`balance_levels` levels, default leaf 0).
    pub balance: Arc<DefaultHashes>,
    /// Default hashes of an order tree (`order_levels` levels, default leaf 0).
    pub order: Arc<DefaultHashes>,
    /// Default hashes of the account tree (default leaf: the empty account's leaf hash).
    pub account: Arc<DefaultHashes>,
}

impl TreeShapes {
    /// The shapes of `preset`'s trees.
    pub fn new(preset: &Preset) -> Self {
        let balance = DefaultHashes::new(preset.balance_levels(), Fr::from(0u64));
        let order = DefaultHashes::new(preset.order_levels(), Fr::from(0u64));
        let empty_account = leaf_hash(
            &Address::ZERO,
            &PubKeyHash::default(),
            Nonce(0),
            balance.at(balance.levels()),
            order.at(order.levels()),
        );
        let account = DefaultHashes::new(preset.account_levels(), empty_account);
        Self { balance, order, account }
    }
}

/// The fields an account leaf hashes.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLeaf {
    /// The owner's L1 address (zero for an empty leaf).
    pub address: Address,
    /// Hash of the L2 public key; all zero if none is set.
    pub pubkey_hash: PubKeyHash,
    /// The account nonce.
    pub nonce: Nonce,
    /// Root of the account's balance tree.
    #[serde(with = "zklink_crypto::fr_serde")]
    pub balance_root: Fr,
    /// Root of the account's order tree.
    #[serde(with = "zklink_crypto::fr_serde")]
    pub order_root: Fr,
}

impl AccountLeaf {
    /// The leaf hash, `Poseidon(address, pubkey_hash, nonce, balance_root, order_root)`.
    pub fn hash(&self) -> Fr {
        leaf_hash(&self.address, &self.pubkey_hash, self.nonce, self.balance_root, self.order_root)
    }
}

/// The L2 state of one network: every account, an address → id index, and the account tree
/// whose root is the state root (docs/protocol.md §6).
#[derive(Clone, Debug)]
pub struct State {
    preset: Preset,
    shapes: TreeShapes,
    /// Dense: account ids are handed out in order.
    accounts: Vec<Account>,
    by_address: HashMap<Address, AccountId>,
    tree: SparseMerkleTree,
    /// Accounts touched since the last `root()`.
    dirty: Vec<AccountId>,
    /// Accounts touched since the last `take_unsaved()` (what the store must write).
    unsaved: BTreeSet<AccountId>,
}

impl State {
    /// Genesis: account 0 collects fees (owned by `fee_owner`), account 1 holds the reserves.
    pub fn genesis(preset: Preset, fee_owner: Address) -> Self {
        let shapes = TreeShapes::new(&preset);
        let tree = SparseMerkleTree::new(shapes.account.clone());
        let mut s = Self {
            preset,
            shapes,
            accounts: Vec::new(),
            by_address: HashMap::new(),
            tree,
            dirty: Vec::new(),
            unsaved: BTreeSet::new(),
        };
        // Two fresh ids in an empty tree of at least 4 leaves cannot fail.
        let _ = s.push_account(fee_owner);
        let _ = s.push_account(GLOBAL_ASSET_ADDRESS);
        s
    }

    /// The preset that fixes the tree depths and id ranges.
    pub fn preset(&self) -> &Preset {
        &self.preset
    }

    /// Default hashes of the preset's trees.
    pub fn shapes(&self) -> &TreeShapes {
        &self.shapes
    }

    /// Number of accounts created (ids `0..count`).
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// The account with id `id`, if created.
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id.0 as usize)
    }

    /// The account owned by `address` (the first one created for it), if any.
    pub fn account_id_by_address(&self, address: &Address) -> Option<AccountId> {
        self.by_address.get(address).copied()
    }

    /// The pool at account `id`: its parameters (from its address) and its reserves and share
    /// supply; `None` if the account does not exist or is not a pool (docs/protocol.md §6): its
    /// address must encode pool parameters and the registry must name it under their LP token
    /// (an account at a reserved address that CreatePool did not make is no pool).
    pub fn pool(&self, id: AccountId) -> Option<(zklink_types::PoolParams, zklink_types::Reserves)> {
        let p = zklink_types::PoolParams::from_address(&self.account(id)?.address)?;
        if self.pool_of_lp_token(p.lp_token) != Some(id) {
            return None;
        }
        let sub = zklink_types::pool::POOL_SUB_ACCOUNT;
        let r = zklink_types::Reserves {
            a: self.balance(id, sub, p.token_a),
            b: self.balance(id, sub, p.token_b),
            supply: self.balance(id, sub, p.lp_token),
        };
        Some((p, r))
    }

    /// Every pool's account id, in the order they took their LP tokens (the registry's order:
    /// LP tokens are taken from the bottom of the range and never freed).
    pub fn pools(&self) -> impl Iterator<Item = AccountId> + '_ {
        self.preset.lp_tokens().map(TokenId).map_while(|lp| self.pool_of_lp_token(lp))
    }

    /// The pool that took LP token `lp`, from the registry (account 1's sub-account 0); `None`
    /// if no pool did.
    pub fn pool_of_lp_token(&self, lp: TokenId) -> Option<AccountId> {
        let leaf = self.balance(zklink_types::GLOBAL_ASSET_ACCOUNT_ID, zklink_types::pool::REGISTRY_SUB_ACCOUNT, lp);
        (leaf != 0).then(|| AccountId((leaf - 1) as u32))
    }

    /// The id the next new account will get.
    pub fn next_account_id(&self) -> AccountId {
        AccountId(self.accounts.len() as u32)
    }

    fn push_account(&mut self, address: Address) -> Result<AccountId, TxError> {
        let id = self.next_account_id();
        if id.0 as u64 > self.preset.max_account_id() as u64 {
            return Err(TxError::AccountTreeFull { capacity: self.preset.max_account_id() as u64 + 1 });
        }
        let account = Account::new(address, &self.shapes.balance, &self.shapes.order);
        self.accounts.push(account);
        // The fee account's owner may be the zero address in tests; only real owners are indexed.
        if !address.is_zero() && !self.by_address.contains_key(&address) {
            self.by_address.insert(address, id);
        }
        self.touch(id);
        Ok(id)
    }

    /// Creates an account owned by `address`. The caller has checked the address is new and valid.
    pub fn create_account(&mut self, address: Address) -> Result<AccountId, TxError> {
        self.push_account(address)
    }

    fn touch(&mut self, id: AccountId) {
        if let Some(a) = self.accounts.get_mut(id.0 as usize) {
            if !a.dirty {
                a.dirty = true;
                self.dirty.push(id);
            }
        }
        self.unsaved.insert(id);
    }

    fn account_mut(&mut self, id: AccountId) -> Result<&mut Account, TxError> {
        self.touch(id);
        self.accounts.get_mut(id.0 as usize).ok_or(TxError::AccountNotFound(id))
    }

    /// Balance of `token` in sub-account `sub`, in L2 units; 0 for an unknown account or unset leaf.
    pub fn balance(&self, id: AccountId, sub: SubAccountId, token: TokenId) -> u128 {
        self.account(id).map(|a| field_to_u128(&a.balances.get(self.preset.balance_index(sub, token)))).unwrap_or(0)
    }

    /// Sets a balance, in L2 units. [`TxError::AccountNotFound`] for an unknown account,
    /// [`TxError::TokenOutOfRange`] if the leaf index of `(sub, token)` is outside the balance tree
    /// (the ids themselves are not range-checked here).
    pub fn set_balance(
        &mut self,
        id: AccountId,
        sub: SubAccountId,
        token: TokenId,
        value: u128,
    ) -> Result<(), TxError> {
        self.set_balance_leaf_unchecked(id, sub, token, u128_to_field(value))
    }

    /// The balance leaf as stored (a field element; valid states hold only u128 values).
    pub fn balance_leaf(&self, id: AccountId, sub: SubAccountId, token: TokenId) -> Fr {
        self.account(id).map(|a| a.balances.get(self.preset.balance_index(sub, token))).unwrap_or_default()
    }

    /// Writes any field element as a balance leaf; [`State::set_balance`] is the u128 entry
    /// point built on it. Called directly only by cheating-prover tests, to build the states a
    /// dishonest prover would claim (a balance below zero wraps around the field) and show that
    /// the circuit rejects them.
    #[doc(hidden)]
    pub fn set_balance_leaf_unchecked(
        &mut self,
        id: AccountId,
        sub: SubAccountId,
        token: TokenId,
        leaf: Fr,
    ) -> Result<(), TxError> {
        let index = self.preset.balance_index(sub, token);
        let defaults = self.shapes.balance.clone();
        self.account_mut(id)?
            .balances
            .set(&defaults, index, leaf)
            .map_err(|e| tree_error(e, || TxError::TokenOutOfRange { token, max: 0 }))
    }

    /// Order-slot counterpart of [`State::set_balance_leaf_unchecked`], for the same tests.
    #[doc(hidden)]
    pub fn set_order_leaf_unchecked(
        &mut self,
        id: AccountId,
        sub: SubAccountId,
        slot: SlotId,
        leaf: Fr,
    ) -> Result<(), TxError> {
        let index = self.preset.order_index(sub, slot);
        let defaults = self.shapes.order.clone();
        let max = self.preset.max_slot();
        self.account_mut(id)?
            .orders
            .set(&defaults, index, leaf)
            .map_err(|e| tree_error(e, || TxError::SlotOutOfRange { slot, max }))
    }

    /// The order slot `slot` of sub-account `sub`; the empty slot for an unknown account or unset leaf.
    pub fn order_slot(&self, id: AccountId, sub: SubAccountId, slot: SlotId) -> OrderSlot {
        self.account(id)
            .map(|a| OrderSlot::from_field(&a.orders.get(self.preset.order_index(sub, slot))))
            .unwrap_or_default()
    }

    /// Sets an order slot. [`TxError::AccountNotFound`] for an unknown account,
    /// [`TxError::SlotOutOfRange`] if the leaf index of `(sub, slot)` is outside the order tree.
    pub fn set_order_slot(
        &mut self,
        id: AccountId,
        sub: SubAccountId,
        slot: SlotId,
        value: OrderSlot,
    ) -> Result<(), TxError> {
        self.set_order_leaf_unchecked(id, sub, slot, value.to_field())
    }

    /// Sets the account's nonce; [`TxError::AccountNotFound`] for an unknown account.
    pub fn set_nonce(&mut self, id: AccountId, nonce: Nonce) -> Result<(), TxError> {
        self.account_mut(id)?.nonce = nonce;
        Ok(())
    }

    /// Sets the account's L2 key hash; [`TxError::AccountNotFound`] for an unknown account.
    pub fn set_pubkey_hash(&mut self, id: AccountId, pkh: PubKeyHash) -> Result<(), TxError> {
        self.account_mut(id)?.pubkey_hash = pkh;
        Ok(())
    }

    /// Rehashes everything dirty and returns the state root.
    pub fn root(&mut self) -> Fr {
        if !self.dirty.is_empty() {
            let mut ids: Vec<usize> = self.dirty.drain(..).map(|id| id.0 as usize).collect();
            ids.sort_unstable();
            ids.dedup();
            let leaves: Vec<(u64, Fr)> = disjoint_mut(&mut self.accounts, &ids)
                .into_par_iter()
                .map(|(i, a)| {
                    a.leaf_hash = a.compute_leaf_hash();
                    a.dirty = false;
                    (i as u64, a.leaf_hash)
                })
                .collect();
            for (i, h) in leaves {
                // Ids are below the preset's capacity by construction.
                let _ = self.tree.set(i, h);
            }
        }
        self.tree.root()
    }

    /// The account leaf's fields (the empty leaf for an id not yet created). Flushes subtree hashing.
    pub fn account_leaf(&mut self, id: AccountId) -> AccountLeaf {
        match self.accounts.get_mut(id.0 as usize) {
            Some(a) => AccountLeaf {
                address: a.address,
                pubkey_hash: a.pubkey_hash,
                nonce: a.nonce,
                balance_root: a.balances.root(),
                order_root: a.orders.root(),
            },
            None => AccountLeaf {
                address: Address::ZERO,
                pubkey_hash: PubKeyHash::default(),
                nonce: Nonce(0),
                balance_root: self.shapes.balance.at(self.shapes.balance.levels()),
                order_root: self.shapes.order.at(self.shapes.order.levels()),
            },
        }
    }

    /// Path of an account leaf under the current root (flushes pending hashing first).
    pub fn account_path(&mut self, id: AccountId) -> Result<MerklePath, StateError> {
        self.root();
        Ok(self.tree.path(id.0 as u64)?)
    }

    /// Path of a balance leaf inside its account's balance tree.
    pub fn balance_path(&mut self, id: AccountId, sub: SubAccountId, token: TokenId) -> Result<MerklePath, StateError> {
        let index = self.preset.balance_index(sub, token);
        let defaults = self.shapes.balance.clone();
        match self.accounts.get_mut(id.0 as usize) {
            Some(a) => Ok(a.balances.path(&defaults, index)?),
            None => Ok(SparseMerkleTree::new(defaults).path(index)?),
        }
    }

    /// Path of an order-slot leaf inside its account's order tree.
    pub fn order_path(&mut self, id: AccountId, sub: SubAccountId, slot: SlotId) -> Result<MerklePath, StateError> {
        let index = self.preset.order_index(sub, slot);
        let defaults = self.shapes.order.clone();
        match self.accounts.get_mut(id.0 as usize) {
            Some(a) => Ok(a.orders.path(&defaults, index)?),
            None => Ok(SparseMerkleTree::new(defaults).path(index)?),
        }
    }

    /// Records of the accounts changed since the last call, for the store. Flushes hashing.
    pub fn take_unsaved(&mut self) -> Vec<AccountRecord> {
        self.root();
        let ids = std::mem::take(&mut self.unsaved);
        ids.into_iter().filter_map(|id| self.record(id)).collect()
    }

    /// Whether anything changed since the last `take_unsaved()`.
    pub fn has_unsaved(&self) -> bool {
        !self.unsaved.is_empty()
    }

    fn record(&mut self, id: AccountId) -> Option<AccountRecord> {
        let a = self.accounts.get_mut(id.0 as usize)?;
        Some(AccountRecord {
            id,
            address: a.address,
            pubkey_hash: a.pubkey_hash,
            nonce: a.nonce,
            balances: a.balances.leaves().iter().map(|(i, v)| (*i, field_to_u128(v))).collect(),
            orders: a.orders.leaves().iter().map(|(i, v)| (*i, OrderSlot::from_field(v))).collect(),
            balance_root: a.balances.root(),
            order_root: a.orders.root(),
            leaf_hash: a.leaf_hash,
        })
    }

    /// Every account as a record (snapshots, tests).
    pub fn all_records(&mut self) -> Vec<AccountRecord> {
        self.root();
        (0..self.accounts.len() as u32).filter_map(|i| self.record(AccountId(i))).collect()
    }

    /// Rebuilds a state from stored records without hashing any leaf (subtree roots and leaf
    /// hashes are stored), then checks the rebuilt account-tree root against the stored one.
    /// That proves the stored leaf hashes; [`State::verify_leaves`] checks the account fields
    /// against them (a node runs it in the background; [`State::from_stored_verified`] runs it
    /// before returning).
    pub fn from_stored(preset: Preset, stored: StoredState) -> Result<Self, StateError> {
        let shapes = TreeShapes::new(&preset);
        let mut records = stored.accounts;
        records.sort_by_key(|r| r.id);
        for (i, r) in records.iter().enumerate() {
            if r.id.0 as usize != i {
                return Err(StateError::Corrupt(format!("account ids must be dense; expected {i}, found {}", r.id)));
            }
        }
        let accounts: Vec<Account> = records
            .into_par_iter()
            .map(|r| {
                let balances = SubTree::Compact {
                    leaves: r.balances.iter().map(|(i, v)| (*i, u128_to_field(*v))).collect(),
                    root: r.balance_root,
                };
                let orders = SubTree::Compact {
                    leaves: r.orders.iter().map(|(i, s)| (*i, s.to_field())).collect(),
                    root: r.order_root,
                };
                let leaf = r.leaf_hash;
                Account {
                    address: r.address,
                    pubkey_hash: r.pubkey_hash,
                    nonce: r.nonce,
                    balances,
                    orders,
                    dirty: false,
                    leaf_hash: leaf,
                }
            })
            .collect();
        let tree = SparseMerkleTree::from_leaves(
            shapes.account.clone(),
            accounts.iter().enumerate().map(|(i, a)| (i as u64, a.leaf_hash)),
        )?;
        let mut by_address = HashMap::with_capacity(accounts.len());
        for (i, a) in accounts.iter().enumerate() {
            if !a.address.is_zero() {
                by_address.entry(a.address).or_insert(AccountId(i as u32));
            }
        }
        let mut state =
            Self { preset, shapes, accounts, by_address, tree, dirty: Vec::new(), unsaved: BTreeSet::new() };
        let computed = state.root();
        if computed != stored.root {
            return Err(StateError::RootMismatch { stored: stored.root.to_string(), computed: computed.to_string() });
        }
        Ok(state)
    }

    /// [`State::from_stored`] followed by [`State::verify_leaves`].
    pub fn from_stored_verified(preset: Preset, stored: StoredState) -> Result<Self, StateError> {
        let mut state = Self::from_stored(preset, stored)?;
        state.verify_leaves()?;
        Ok(state)
    }

    /// Recomputes every account leaf from its fields and stored subtree roots, in parallel,
    /// and checks it against the leaf hash in the tree. Subtree contents are checked against
    /// their stored roots when first written (materialised).
    pub fn verify_leaves(&mut self) -> Result<(), StateError> {
        self.root();
        let bad = self.accounts.par_iter().enumerate().find_any(|(_, a)| {
            let (b, o) = (a.balances.cached_root(), a.orders.cached_root());
            leaf_hash(&a.address, &a.pubkey_hash, a.nonce, b, o) != a.leaf_hash
        });
        match bad {
            Some((i, _)) => Err(StateError::Corrupt(format!("account {i}: stored fields do not match its leaf hash"))),
            None => Ok(()),
        }
    }

    /// Approximate heap bytes held by accounts and trees (memory benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.accounts.capacity() * size_of::<Account>()
            + self.accounts.iter().map(Account::heap_bytes).sum::<usize>()
            + self.tree.heap_bytes()
            + self.by_address.capacity() * (size_of::<(Address, AccountId)>() + 1)
    }
}

/// An index error is the caller's range error; anything else means the stored state is bad.
fn tree_error(e: TreeError, out_of_range: impl FnOnce() -> TxError) -> TxError {
    match e {
        TreeError::IndexOutOfRange { .. } => out_of_range(),
        other => TxError::Internal(format!("state tree: {other}")),
    }
}

/// Mutable references to the elements at `sorted_ids` (ascending, unique), with their indices.
fn disjoint_mut<'a, T>(mut slice: &'a mut [T], sorted_ids: &[usize]) -> Vec<(usize, &'a mut T)> {
    let mut out = Vec::with_capacity(sorted_ids.len());
    let mut offset = 0;
    for &id in sorted_ids {
        let rest = std::mem::take(&mut slice);
        let Some((first, tail)) = rest.get_mut(id - offset..).and_then(|s| s.split_first_mut()) else {
            break;
        };
        out.push((id, first));
        slice = tail;
        offset = id + 1;
    }
    out
}
