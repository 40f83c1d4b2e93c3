//! The account leaf and its two subtrees.
//!
//! Leaf hash = Poseidon5(address, pubkey_hash, nonce, balance_root, order_root) with the
//! 20-byte values read as big-endian integers. Balance leaves are the u128 balance; order
//! leaves pack `order_nonce · 2^128 + residue`.

use std::sync::Arc;

use ark_ff::{BigInteger, PrimeField};
use zklink_crypto::{poseidon, Fr};
use zklink_types::{Address, Nonce, OrderNonce, PubKeyHash};

use crate::smt::{DefaultHashes, SparseMerkleTree, TreeError};

/// An L1 address as a field element: its 20 bytes as a big-endian integer (docs/protocol.md §1).
pub fn address_to_field(a: &Address) -> Fr {
    Fr::from_be_bytes_mod_order(a.as_slice())
}

/// A balance (or any u128) as a field element.
pub fn u128_to_field(v: u128) -> Fr {
    Fr::from(v)
}

/// Low 128 bits of a field element (balances are range-checked to 128 bits on entry).
pub fn field_to_u128(f: &Fr) -> u128 {
    let bytes = f.into_bigint().to_bytes_le();
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    u128::from_le_bytes(b)
}

/// An order slot: the nonce of the order it serves and the unfilled base amount.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderSlot {
    /// The order nonce (24-bit) the slot is at: the resting order's, or the next order's if `residue` is 0.
    pub nonce: OrderNonce,
    /// Base amount of the resting order still open, in L2 units; a filled order leaves `{nonce + 1, 0}`.
    pub residue: u128,
}

impl OrderSlot {
    /// The order-tree leaf: `nonce · 2^128 + residue`.
    pub fn to_field(self) -> Fr {
        let nonce = Fr::from(self.nonce.0 as u64);
        let shift = Fr::from(u128::MAX) + Fr::from(1u64);
        nonce * shift + Fr::from(self.residue)
    }

    /// Inverse of [`to_field`](Self::to_field): residue from the low 128 bits, nonce from the next 32.
    pub fn from_field(f: &Fr) -> Self {
        let bytes = f.into_bigint().to_bytes_le();
        let mut lo = [0u8; 16];
        lo.copy_from_slice(&bytes[..16]);
        let mut hi = [0u8; 4];
        hi.copy_from_slice(&bytes[16..20]);
        Self { nonce: OrderNonce(u32::from_le_bytes(hi)), residue: u128::from_le_bytes(lo) }
    }
}

/// A subtree kept compact (leaves + cached root) until first written, when the full sparse
/// tree is built. Reopening a large state then hashes nothing below the account leaves.
#[derive(Clone, Debug)]
pub enum SubTree {
    /// Not materialised: the stored leaves and root, unchecked until first written.
    Compact {
        /// The non-default leaves as `(index, value)`.
        leaves: Vec<(u64, Fr)>,
        /// The stored root of those leaves.
        root: Fr,
    },
    /// Materialised: the full sparse tree, which records updates.
    Full(SparseMerkleTree),
}

impl SubTree {
    /// An empty subtree of the shape `defaults` describes.
    pub fn empty(defaults: &Arc<DefaultHashes>) -> Self {
        SubTree::Compact { leaves: Vec::new(), root: defaults.at(defaults.levels()) }
    }

    /// The leaf at `index` (the default 0 if unset or out of range).
    pub fn get(&self, index: u64) -> Fr {
        match self {
            SubTree::Compact { leaves, .. } => {
                leaves.iter().find(|(i, _)| *i == index).map(|(_, v)| *v).unwrap_or_default()
            }
            SubTree::Full(t) => t.get(index).unwrap_or_default(),
        }
    }

    fn materialize(&mut self, defaults: &Arc<DefaultHashes>) -> Result<&mut SparseMerkleTree, TreeError> {
        if let SubTree::Compact { leaves, root } = self {
            // Stored leaves are checked against their stored root when first needed.
            let mut tree = SparseMerkleTree::from_leaves(defaults.clone(), leaves.iter().copied())?;
            let computed = tree.root();
            if computed != *root {
                return Err(TreeError::StoredRootMismatch { stored: root.to_string(), computed: computed.to_string() });
            }
            *self = SubTree::Full(tree);
        }
        match self {
            SubTree::Full(t) => Ok(t),
            SubTree::Compact { .. } => unreachable!("materialised above"),
        }
    }

    /// Writes the leaf at `index`, materialising a compact subtree first (which checks its stored root).
    pub fn set(&mut self, defaults: &Arc<DefaultHashes>, index: u64, value: Fr) -> Result<(), TreeError> {
        self.materialize(defaults)?.set(index, value)
    }

    /// The root as of the last flush (the stored root for a compact subtree).
    pub fn cached_root(&self) -> Fr {
        match self {
            SubTree::Compact { root, .. } => *root,
            SubTree::Full(t) => t.committed_root().unwrap_or_default(),
        }
    }

    /// Flushes pending hashing and returns the root.
    pub fn root(&mut self) -> Fr {
        match self {
            SubTree::Compact { root, .. } => *root,
            SubTree::Full(t) => t.root(),
        }
    }

    /// Authentication path of the leaf at `index` (materialises a compact subtree).
    pub fn path(&mut self, defaults: &Arc<DefaultHashes>, index: u64) -> Result<crate::smt::MerklePath, TreeError> {
        self.materialize(defaults)?.path(index)
    }

    /// The non-default leaves as `(index, value)`.
    pub fn leaves(&self) -> Vec<(u64, Fr)> {
        match self {
            SubTree::Compact { leaves, .. } => leaves.clone(),
            SubTree::Full(t) => t.non_default_leaves().collect(),
        }
    }

    /// Approximate heap bytes held (memory benchmarks).
    pub fn heap_bytes(&self) -> usize {
        match self {
            SubTree::Compact { leaves, .. } => leaves.capacity() * size_of::<(u64, Fr)>(),
            SubTree::Full(t) => t.heap_bytes(),
        }
    }
}

/// One account: the fields its leaf hashes, its two subtrees, and the cached leaf hash.
#[derive(Clone, Debug)]
pub struct Account {
    /// The L1 address that owns the account (`0xff…ff` for account 1).
    pub address: Address,
    /// Hash of the account's L2 public key; all zero until a ChangePubKey sets one.
    pub pubkey_hash: PubKeyHash,
    /// Nonce the account's next signed tx must carry.
    pub nonce: Nonce,
    /// Balance tree: leaf `sub · 2^token_bits + token` is that balance in L2 units.
    pub balances: SubTree,
    /// Order tree: leaf `sub · 2^slot_bits + slot` is an [`OrderSlot`].
    pub orders: SubTree,
    /// Set when anything changed since the leaf hash was last computed.
    pub dirty: bool,
    /// Leaf hash as of the last flush.
    pub leaf_hash: Fr,
}

impl Account {
    /// A fresh account owned by `address`: no key, nonce 0, empty subtrees.
    pub fn new(address: Address, balance_defaults: &Arc<DefaultHashes>, order_defaults: &Arc<DefaultHashes>) -> Self {
        let mut a = Self {
            address,
            pubkey_hash: PubKeyHash::default(),
            nonce: Nonce(0),
            balances: SubTree::empty(balance_defaults),
            orders: SubTree::empty(order_defaults),
            dirty: false,
            leaf_hash: Fr::default(),
        };
        a.leaf_hash = a.compute_leaf_hash();
        a
    }

    /// Recomputes the leaf hash from the (flushed) subtree roots.
    pub fn compute_leaf_hash(&mut self) -> Fr {
        let balance_root = self.balances.root();
        let order_root = self.orders.root();
        leaf_hash(&self.address, &self.pubkey_hash, self.nonce, balance_root, order_root)
    }

    /// Approximate heap bytes held by the two subtrees (memory benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.balances.heap_bytes() + self.orders.heap_bytes()
    }
}

/// The account leaf (docs/protocol.md §6): `Poseidon(address, pubkey_hash, nonce, balance_root, order_root)`.
pub fn leaf_hash(address: &Address, pkh: &PubKeyHash, nonce: Nonce, balance_root: Fr, order_root: Fr) -> Fr {
    poseidon::hash5(&[address_to_field(address), pkh.to_field(), Fr::from(nonce.0 as u64), balance_root, order_root])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_slot_packing_roundtrips() {
        for slot in [
            OrderSlot::default(),
            OrderSlot { nonce: OrderNonce(1), residue: 5 },
            OrderSlot { nonce: OrderNonce((1 << 24) - 1), residue: u128::MAX },
        ] {
            assert_eq!(OrderSlot::from_field(&slot.to_field()), slot);
        }
        assert_eq!(OrderSlot::default().to_field(), Fr::from(0u64));
    }

    #[test]
    fn u128_field_roundtrip() {
        for v in [0, 1, u128::MAX, 1 << 100] {
            assert_eq!(field_to_u128(&u128_to_field(v)), v);
        }
    }
}
