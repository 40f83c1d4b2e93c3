//! 4-ary sparse Merkle tree over the BN254 scalar field.
//!
//! * `levels` 4-ary levels give a capacity of `4^levels` leaves, addressed by a `u64` index.
//!   Digit `k` of the index (counting from the leaf up), `(index >> 2k) & 3`, is the child
//!   position of the path at level `k`.
//! * An internal node is `hash4([c0, c1, c2, c3])` (circomlib Poseidon, t = 5). Leaf values are
//!   field elements supplied by the caller; the tree never hashes a leaf on its own.
//! * Every tree has a default leaf. `default_hashes[0] = default_leaf` and
//!   `default_hashes[k + 1] = hash4([d_k; 4])`. The table lives in an [`Arc<DefaultHashes>`] shared
//!   by all trees of the same shape, so an empty tree allocates nothing.
//! * Only non-default nodes are stored. A node whose value equals the default of its level is
//!   removed, so setting every leaf back to the default returns the tree to zero heap usage.
//! * [`SparseMerkleTree::set`] only writes the leaf and records it as dirty. Hashing is deferred
//!   to [`SparseMerkleTree::root`] / [`SparseMerkleTree::path`] / [`SparseMerkleTree::flush`],
//!   which recompute every dirty parent exactly once per batch, level by level, in parallel
//!   (rayon) when a level has many dirty parents.
//!
//! # Storage layout
//!
//! All stored nodes of a tree (leaves and internal nodes, never the root, which is a plain
//! field) live in one map keyed by the node's heap number (root = 0, its children 1..=4, ...;
//! the node at `level` with position `i` has id `(4^(levels - level) - 1) / 3 + i`). Small trees
//! (the common case for per-account balance and order trees) keep that map as a sorted
//! `Vec<(u64, Fr)>`, i.e. 40 bytes per stored node with no hashing overhead; once a tree holds
//! more than [`SMALL_NODES_MAX`] nodes it switches to a `HashMap` with a cheap multiplicative
//! hasher, and switches back when it shrinks below [`SMALL_NODES_MIN`].

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use ark_bn254::Fr;
use ark_ff::Zero;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Deepest supported tree: `4^31 = 2^62` leaves still fit a `u64` index (and node ids).
pub const MAX_LEVELS: u32 = 31;

/// A level with at least this many dirty parents is hashed in parallel.
pub const PARALLEL_THRESHOLD: usize = 64;

/// Above this many stored nodes a tree moves from the sorted vector to a hash map.
pub const SMALL_NODES_MAX: usize = 512;

/// Below this many stored nodes (checked after a flush) a hash-map tree moves back to the
/// sorted vector. Lower than [`SMALL_NODES_MAX`] so that a tree oscillating around the
/// threshold does not convert back and forth.
pub const SMALL_NODES_MIN: usize = 128;

#[inline]
fn hash4(children: &[Fr; 4]) -> Fr {
    zklink_crypto::poseidon::hash4(children)
}

/// Errors of the sparse Merkle tree.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// The leaf index is not below the tree capacity `4^levels`.
    #[error("leaf index {index} out of range (tree capacity {capacity})")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// Number of leaves of the tree, `4^levels`.
        capacity: u64,
    },
    /// The tree has updates whose hashes are not computed yet; call `root()` / `flush()` first.
    #[error("tree has pending (unhashed) updates")]
    Dirty,
    /// The requested depth is larger than [`MAX_LEVELS`].
    #[error("tree depth {levels} exceeds the maximum of {max} levels")]
    TooManyLevels {
        /// The depth asked for.
        levels: u32,
        /// [`MAX_LEVELS`].
        max: u32,
    },
    /// Leaves rebuilt from storage do not hash to the root stored with them.
    #[error("stored subtree is corrupt: its leaves hash to {computed}, but {stored} was stored")]
    StoredRootMismatch {
        /// The root stored with the leaves (decimal).
        stored: String,
        /// The root the stored leaves hash to (decimal).
        computed: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Default hashes
// ---------------------------------------------------------------------------------------------

/// Default node value of every level for one `(levels, default_leaf)` pair.
///
/// Construct through [`DefaultHashes::new`] / [`DefaultHashes::try_new`], which memoise the
/// tables process-wide (weakly), so repeated calls with the same parameters return the same
/// `Arc` while any tree still uses it.
#[derive(Debug, PartialEq, Eq)]
pub struct DefaultHashes {
    /// `hashes[k]` = default value of a node at level `k`; `levels + 1` entries.
    hashes: Box<[Fr]>,
}

type DefaultsCache = Mutex<Vec<(u32, Fr, Weak<DefaultHashes>)>>;

fn defaults_cache() -> &'static DefaultsCache {
    static CACHE: OnceLock<DefaultsCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Vec::new()))
}

impl DefaultHashes {
    /// The table for `levels` levels over `default_leaf`.
    ///
    /// # Panics
    /// If `levels > MAX_LEVELS` (a configuration error, not an input error); use
    /// [`DefaultHashes::try_new`] to get a [`TreeError`] instead.
    pub fn new(levels: u32, default_leaf: Fr) -> Arc<Self> {
        match Self::try_new(levels, default_leaf) {
            Ok(table) => table,
            Err(e) => panic!("DefaultHashes::new: {e}"),
        }
    }

    /// Fallible variant of [`DefaultHashes::new`].
    pub fn try_new(levels: u32, default_leaf: Fr) -> Result<Arc<Self>, TreeError> {
        if levels > MAX_LEVELS {
            return Err(TreeError::TooManyLevels { levels, max: MAX_LEVELS });
        }
        // A poisoned lock only means another thread panicked while holding it; the vector
        // itself is always in a consistent state, so keep using it.
        let mut cache = defaults_cache().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (l, leaf, weak) in cache.iter() {
            if *l == levels && *leaf == default_leaf {
                if let Some(table) = weak.upgrade() {
                    return Ok(table);
                }
            }
        }
        let table = Arc::new(Self::compute(levels, default_leaf));
        cache.retain(|(_, _, weak)| weak.strong_count() > 0);
        cache.push((levels, default_leaf, Arc::downgrade(&table)));
        Ok(table)
    }

    fn compute(levels: u32, default_leaf: Fr) -> Self {
        let mut hashes = Vec::with_capacity(levels as usize + 1);
        let mut cur = default_leaf;
        hashes.push(cur);
        for _ in 0..levels {
            cur = hash4(&[cur; 4]);
            hashes.push(cur);
        }
        Self { hashes: hashes.into_boxed_slice() }
    }

    /// Number of 4-ary levels.
    pub fn levels(&self) -> u32 {
        // `hashes` has `levels + 1 <= MAX_LEVELS + 1` entries, so this never truncates.
        (self.hashes.len() - 1) as u32
    }

    /// Default value of a node at `level` (0 = leaf, `levels()` = root).
    ///
    /// # Panics
    /// If `level > self.levels()`; see [`DefaultHashes::get`] for the checked variant.
    pub fn at(&self, level: u32) -> Fr {
        self.hashes[level as usize]
    }

    /// Checked variant of [`DefaultHashes::at`].
    pub fn get(&self, level: u32) -> Option<Fr> {
        self.hashes.get(level as usize).copied()
    }

    /// The default leaf value.
    pub fn default_leaf(&self) -> Fr {
        self.hashes[0]
    }

    /// Root of a tree with every leaf at its default.
    pub fn empty_root(&self) -> Fr {
        self.hashes[self.hashes.len() - 1]
    }

    /// `4^levels`.
    pub fn capacity(&self) -> u64 {
        1u64 << (2 * self.levels())
    }

    /// Heap bytes of this (shared) table.
    pub fn heap_bytes(&self) -> usize {
        size_of_val::<[Fr]>(&self.hashes)
    }
}

// ---------------------------------------------------------------------------------------------
// Node storage
// ---------------------------------------------------------------------------------------------

/// Fast non-cryptographic hasher for `u64` node ids (folded 64x64->128 multiply). Node ids are
/// derived from leaf indices chosen by the system (account ids, token ids), so HashDoS
/// resistance is not needed here.
#[derive(Default, Clone, Copy)]
struct NodeIdHasher(u64);

const MUL_CONST: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn fold_mul(x: u64) -> u64 {
    let m = u128::from(x) * u128::from(MUL_CONST);
    (m as u64) ^ ((m >> 64) as u64)
}

impl Hasher for NodeIdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u64(&mut self, x: u64) {
        self.0 = fold_mul(self.0 ^ x);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type NodeMap = HashMap<u64, Fr, BuildHasherDefault<NodeIdHasher>>;

const ENTRY_BYTES: usize = size_of::<(u64, Fr)>();

#[derive(Clone)]
enum Nodes {
    /// Sorted by node id, no duplicate ids.
    Small(Vec<(u64, Fr)>),
    Large(NodeMap),
}

impl Nodes {
    #[inline]
    fn get(&self, id: u64) -> Option<Fr> {
        match self {
            Nodes::Small(v) => v.binary_search_by_key(&id, |e| e.0).ok().map(|pos| v[pos].1),
            Nodes::Large(m) => m.get(&id).copied(),
        }
    }

    /// Stores `value` under `id`, or removes `id` when `value` is `None`.
    fn put(&mut self, id: u64, value: Option<Fr>) {
        match self {
            Nodes::Small(v) => match (v.binary_search_by_key(&id, |e| e.0), value) {
                (Ok(pos), Some(val)) => v[pos].1 = val,
                (Ok(pos), None) => {
                    v.remove(pos);
                }
                (Err(pos), Some(val)) => {
                    if v.len() >= SMALL_NODES_MAX {
                        let mut map = NodeMap::with_capacity_and_hasher(2 * SMALL_NODES_MAX, Default::default());
                        map.extend(v.iter().copied());
                        map.insert(id, val);
                        *self = Nodes::Large(map);
                        return;
                    }
                    if v.len() == v.capacity() {
                        // Grow by ~25% rather than doubling: small trees are numerous.
                        v.reserve_exact((v.len() / 4).max(4));
                    }
                    v.insert(pos, (id, val));
                }
                (Err(_), None) => {}
            },
            Nodes::Large(m) => match value {
                Some(val) => {
                    m.insert(id, val);
                }
                None => {
                    m.remove(&id);
                }
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Nodes::Small(v) => v.len(),
            Nodes::Large(m) => m.len(),
        }
    }

    /// Makes room for `additional` more nodes (switching to the map if needed).
    fn reserve(&mut self, additional: usize) {
        match self {
            Nodes::Small(v) => {
                let want = v.len().saturating_add(additional);
                if want > SMALL_NODES_MAX {
                    let mut map = NodeMap::with_capacity_and_hasher(want, Default::default());
                    map.extend(v.iter().copied());
                    *self = Nodes::Large(map);
                } else {
                    v.reserve_exact(additional);
                }
            }
            Nodes::Large(m) => m.reserve(additional),
        }
    }

    /// Returns excess memory after a batch of updates.
    fn compact(&mut self) {
        match self {
            Nodes::Small(v) => {
                if v.is_empty() {
                    *v = Vec::new();
                } else if v.capacity() > v.len() + v.len() / 8 {
                    v.shrink_to_fit();
                }
            }
            Nodes::Large(m) => {
                if m.len() < SMALL_NODES_MIN {
                    let mut v: Vec<(u64, Fr)> = m.iter().map(|(&k, &f)| (k, f)).collect();
                    v.sort_unstable_by_key(|e| e.0);
                    *self = Nodes::Small(v);
                } else if m.capacity() / 4 > m.len() {
                    m.shrink_to_fit();
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Nodes::Small(v) => v.capacity() * ENTRY_BYTES,
            Nodes::Large(m) => {
                // Mirrors hashbrown's layout: `buckets` slots of (key, value) plus one control
                // byte per bucket and one trailing group (16 bytes) of control bytes.
                let cap = m.capacity();
                if cap == 0 {
                    return 0;
                }
                let buckets = if cap < 8 { (cap + 1).next_power_of_two() } else { (cap * 8 / 7).next_power_of_two() };
                buckets * (ENTRY_BYTES + 1) + 16
            }
        }
    }
}

/// Heap number of the first node at depth `depth` below the root: `(4^depth - 1) / 3`.
#[inline]
fn depth_offset(depth: u32) -> u64 {
    ((1u64 << (2 * depth)) - 1) / 3
}

// ---------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------

/// A 4-ary sparse Merkle tree; see the [module documentation](self).
#[derive(Clone)]
pub struct SparseMerkleTree {
    defaults: Arc<DefaultHashes>,
    nodes: Nodes,
    /// Leaf indices written since the last flush (may hold duplicates until the flush).
    dirty: Vec<u64>,
    /// Number of stored (non-default) leaves.
    leaves: u64,
    /// Root as of the last flush.
    root: Fr,
}

impl fmt::Debug for SparseMerkleTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparseMerkleTree")
            .field("levels", &self.levels())
            .field("non_default_leaves", &self.leaves)
            .field("stored_nodes", &self.nodes.len())
            .field("pending_updates", &self.dirty.len())
            .field("committed_root", &self.committed_root().ok())
            .finish()
    }
}

impl SparseMerkleTree {
    /// An empty tree (every leaf at the default). Allocates nothing.
    pub fn new(defaults: Arc<DefaultHashes>) -> Self {
        let root = defaults.empty_root();
        Self { defaults, nodes: Nodes::Small(Vec::new()), dirty: Vec::new(), leaves: 0, root }
    }

    /// Rebuilds a tree from its leaves (e.g. when reopening storage): writes all leaves, then
    /// hashes every internal node once, level by level, in parallel. Later duplicates of an
    /// index overwrite earlier ones.
    pub fn from_leaves(
        defaults: Arc<DefaultHashes>,
        leaves: impl IntoIterator<Item = (u64, Fr)>,
    ) -> Result<Self, TreeError> {
        let mut tree = Self::new(defaults);
        let iter = leaves.into_iter();
        let (lower, _) = iter.size_hint();
        tree.nodes.reserve(lower);
        tree.dirty.reserve_exact(lower);
        for (index, value) in iter {
            tree.set(index, value)?;
        }
        tree.flush();
        Ok(tree)
    }

    /// The shared default-hash table.
    pub fn defaults(&self) -> &Arc<DefaultHashes> {
        &self.defaults
    }

    /// Number of 4-ary levels.
    pub fn levels(&self) -> u32 {
        self.defaults.levels()
    }

    /// Number of leaves, `4^levels`.
    pub fn capacity(&self) -> u64 {
        self.defaults.capacity()
    }

    #[inline]
    fn check_index(&self, index: u64) -> Result<(), TreeError> {
        let capacity = self.capacity();
        if index < capacity {
            Ok(())
        } else {
            Err(TreeError::IndexOutOfRange { index, capacity })
        }
    }

    /// Id of the first node of `level` in the storage map.
    #[inline]
    fn level_base(&self, level: u32) -> u64 {
        depth_offset(self.levels() - level)
    }

    /// Leaf value (the default leaf if unset).
    pub fn get(&self, index: u64) -> Result<Fr, TreeError> {
        self.check_index(index)?;
        Ok(self.nodes.get(self.level_base(0) + index).unwrap_or_else(|| self.defaults.default_leaf()))
    }

    /// Sets a leaf and marks its path dirty; hashing is deferred until
    /// [`root`](Self::root) / [`path`](Self::path) / [`flush`](Self::flush), so a batch of
    /// updates hashes every affected node once. Writing the value a leaf already has is a
    /// no-op (the tree stays clean).
    pub fn set(&mut self, index: u64, value: Fr) -> Result<(), TreeError> {
        self.check_index(index)?;
        let id = self.level_base(0) + index;
        let old = self.nodes.get(id);
        let new = (value != self.defaults.default_leaf()).then_some(value);
        if old == new {
            return Ok(());
        }
        match (old.is_some(), new.is_some()) {
            (false, true) => self.leaves += 1,
            (true, false) => self.leaves -= 1,
            _ => {}
        }
        self.nodes.put(id, new);
        if self.dirty.len() == self.dirty.capacity() && self.dirty.len() >= 64 {
            // Bound the dirty list when the same leaves are written over and over.
            self.dirty.sort_unstable();
            self.dirty.dedup();
        }
        self.dirty.push(index);
        Ok(())
    }

    /// Whether there are updates not yet hashed.
    pub fn is_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Recomputes all dirty nodes bottom-up, each parent once, level by level (in parallel
    /// for levels with at least [`PARALLEL_THRESHOLD`] dirty parents). Returns the number of
    /// `hash4` evaluations performed.
    pub fn flush(&mut self) -> usize {
        if self.dirty.is_empty() {
            return 0;
        }
        let levels = self.levels();
        let mut cur = std::mem::take(&mut self.dirty);
        cur.sort_unstable();
        cur.dedup();
        let mut hashes = 0usize;
        let mut computed: Vec<(u64, Option<Fr>)> = Vec::new();
        for level in 0..levels {
            // Parents of the dirty nodes at `level`: `cur` is sorted, so `>> 2` keeps it sorted
            // and duplicates are adjacent.
            let mut w = 0;
            for r in 0..cur.len() {
                let parent = cur[r] >> 2;
                if w == 0 || cur[w - 1] != parent {
                    cur[w] = parent;
                    w += 1;
                }
            }
            cur.truncate(w);

            let this = &*self;
            if cur.len() >= PARALLEL_THRESHOLD {
                cur.par_iter()
                    .with_min_len(8)
                    .map(|&p| (p, this.hash_children(level, p)))
                    .collect_into_vec(&mut computed);
            } else {
                computed.clear();
                computed.extend(cur.iter().map(|&p| (p, this.hash_children(level, p))));
            }
            hashes += computed.iter().filter(|e| e.1.is_some()).count();

            let parent_level = level + 1;
            let default = self.defaults.at(parent_level);
            if parent_level == levels {
                // The root is kept out of the node map.
                self.root = computed.first().and_then(|e| e.1).unwrap_or(default);
            } else {
                let base = self.level_base(parent_level);
                for &(p, value) in &computed {
                    self.nodes.put(base + p, value.filter(|v| *v != default));
                }
            }
        }
        if levels == 0 {
            // A single-leaf tree: the leaf is the root.
            self.root = self.nodes.get(0).unwrap_or_else(|| self.defaults.default_leaf());
        }
        self.nodes.compact();
        hashes
    }

    /// Hash of the children of node `parent` at `level + 1`, or `None` when all four children
    /// are default (the parent is then the default of its level and no hash is needed).
    #[inline]
    fn hash_children(&self, level: u32, parent: u64) -> Option<Fr> {
        let first = self.level_base(level) + (parent << 2);
        let d = self.defaults.at(level);
        let stored = [0, 1, 2, 3].map(|j| self.nodes.get(first + j));
        if stored.iter().all(Option::is_none) {
            return None;
        }
        Some(hash4(&stored.map(|c| c.unwrap_or(d))))
    }

    /// Flushes pending updates and returns the root.
    pub fn root(&mut self) -> Fr {
        self.flush();
        self.root
    }

    /// Root without mutation; `Err(TreeError::Dirty)` if there are pending updates.
    pub fn committed_root(&self) -> Result<Fr, TreeError> {
        if self.dirty.is_empty() {
            Ok(self.root)
        } else {
            Err(TreeError::Dirty)
        }
    }

    /// Authentication path of a leaf (flushes pending updates first).
    pub fn path(&mut self, index: u64) -> Result<MerklePath, TreeError> {
        self.check_index(index)?;
        self.flush();
        Ok(self.build_path(index))
    }

    /// Authentication path without mutation; `Err(TreeError::Dirty)` if there are pending
    /// updates.
    pub fn committed_path(&self, index: u64) -> Result<MerklePath, TreeError> {
        self.check_index(index)?;
        if self.is_dirty() {
            return Err(TreeError::Dirty);
        }
        Ok(self.build_path(index))
    }

    fn build_path(&self, index: u64) -> MerklePath {
        let levels = self.levels();
        let mut siblings = Vec::with_capacity(levels as usize);
        let mut i = index;
        for level in 0..levels {
            let first = self.level_base(level) + (i & !3);
            let pos = i & 3;
            let d = self.defaults.at(level);
            let mut s = [d; 3];
            let mut k = 0;
            for j in 0..4 {
                if j != pos {
                    s[k] = self.nodes.get(first + j).unwrap_or(d);
                    k += 1;
                }
            }
            siblings.push(s);
            i >>= 2;
        }
        MerklePath { index, siblings }
    }

    /// The non-default leaves in increasing index order.
    pub fn non_default_leaves(&self) -> impl Iterator<Item = (u64, Fr)> + '_ {
        let base = self.level_base(0);
        match &self.nodes {
            Nodes::Small(v) => {
                // Leaves have the largest node ids, so they form the tail of the sorted vector.
                let start = v.partition_point(|e| e.0 < base);
                LeafIter::Sorted { iter: v[start..].iter(), base }
            }
            Nodes::Large(m) => {
                let mut leaves: Vec<(u64, Fr)> =
                    m.iter().filter(|(&id, _)| id >= base).map(|(&id, &value)| (id - base, value)).collect();
                leaves.sort_unstable_by_key(|e| e.0);
                LeafIter::Owned(leaves.into_iter())
            }
        }
    }

    /// Number of non-default leaves.
    pub fn len(&self) -> usize {
        usize::try_from(self.leaves).unwrap_or(usize::MAX)
    }

    /// Whether every leaf is at its default.
    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// Number of stored nodes (non-default leaves and internal nodes, excluding the root).
    pub fn stored_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Approximate heap bytes owned by this tree (excluding `size_of::<Self>()` and the shared
    /// [`DefaultHashes`] table).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.heap_bytes() + self.dirty.capacity() * size_of::<u64>()
    }
}

enum LeafIter<'a> {
    Sorted { iter: std::slice::Iter<'a, (u64, Fr)>, base: u64 },
    Owned(std::vec::IntoIter<(u64, Fr)>),
}

impl Iterator for LeafIter<'_> {
    type Item = (u64, Fr);

    fn next(&mut self) -> Option<(u64, Fr)> {
        match self {
            LeafIter::Sorted { iter, base } => iter.next().map(|&(id, v)| (id - *base, v)),
            LeafIter::Owned(iter) => iter.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            LeafIter::Sorted { iter, .. } => iter.size_hint(),
            LeafIter::Owned(iter) => iter.size_hint(),
        }
    }
}

impl ExactSizeIterator for LeafIter<'_> {}

// ---------------------------------------------------------------------------------------------
// Merkle paths
// ---------------------------------------------------------------------------------------------

/// Authentication path of one leaf: for each level from the leaf up, the three siblings in
/// child order (the node itself skipped); the node's own position at level `k` is digit `k` of
/// `index`, see [`MerklePath::position`]. Field elements serialise as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerklePath {
    /// Index of the leaf the path authenticates.
    pub index: u64,
    /// The three siblings of the path node at each level, from the leaf level up (one entry per level).
    #[serde(with = "zklink_crypto::fr_serde::siblings")]
    pub siblings: Vec<[Fr; 3]>,
}

impl MerklePath {
    /// Number of levels covered by the path.
    pub fn levels(&self) -> usize {
        self.siblings.len()
    }

    /// Child position (0..=3) of the path node at `level`, i.e. digit `level` of the index.
    pub fn position(&self, level: usize) -> u8 {
        let shift = u32::try_from(level.saturating_mul(2)).unwrap_or(u32::MAX);
        self.index.checked_shr(shift).map_or(0, |v| (v & 3) as u8)
    }

    /// Child positions from the leaf up.
    pub fn positions(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.siblings.len()).map(|level| self.position(level))
    }

    /// Root obtained by hashing `leaf` up the path.
    pub fn compute_root(&self, leaf: Fr) -> Fr {
        let mut cur = leaf;
        for (level, sib) in self.siblings.iter().enumerate() {
            let pos = usize::from(self.position(level));
            let mut children = [Fr::zero(); 4];
            let mut k = 0;
            for (j, child) in children.iter_mut().enumerate() {
                if j == pos {
                    *child = cur;
                } else {
                    *child = sib[k];
                    k += 1;
                }
            }
            cur = hash4(&children);
        }
        cur
    }

    /// Whether `leaf` at `self.index` is included under `root`. Rejects an index that does not
    /// fit in `levels()` digits.
    pub fn verify(&self, leaf: Fr, root: Fr) -> bool {
        let bits = self.siblings.len().saturating_mul(2);
        if bits < 64 && self.index >> bits != 0 {
            return false;
        }
        self.compute_root(leaf) == root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(x: u64) -> Fr {
        Fr::from(x)
    }

    #[test]
    fn node_ids_partition_levels() {
        // Levels occupy disjoint, contiguous id ranges; leaves are the last range.
        for levels in 0..=MAX_LEVELS {
            let mut end = 0u64;
            for depth in 0..=levels {
                assert_eq!(depth_offset(depth), end);
                end = depth_offset(depth) + (1u64 << (2 * depth));
            }
        }
    }

    #[test]
    fn empty_tree_allocates_nothing() {
        let t = SparseMerkleTree::new(DefaultHashes::new(11, Fr::zero()));
        assert_eq!(t.heap_bytes(), 0);
        assert!(t.is_empty());
    }

    #[test]
    fn defaults_are_shared() {
        let a = DefaultHashes::new(5, fr(77));
        let b = DefaultHashes::new(5, fr(77));
        assert!(Arc::ptr_eq(&a, &b));
        let c = DefaultHashes::new(5, fr(78));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(
            DefaultHashes::try_new(MAX_LEVELS + 1, fr(0)),
            Err(TreeError::TooManyLevels { levels: MAX_LEVELS + 1, max: MAX_LEVELS })
        );
    }

    #[test]
    fn switches_storage_and_back() {
        let defaults = DefaultHashes::new(6, Fr::zero());
        let mut t = SparseMerkleTree::new(defaults.clone());
        for i in 0..1000u64 {
            t.set(i * 4 + 1, fr(i + 1)).unwrap();
        }
        let root = t.root();
        assert!(matches!(t.nodes, Nodes::Large(_)));
        assert_eq!(t.len(), 1000);
        let rebuilt = SparseMerkleTree::from_leaves(defaults.clone(), t.non_default_leaves()).unwrap().root();
        assert_eq!(root, rebuilt);
        for i in 0..1000u64 {
            t.set(i * 4 + 1, Fr::zero()).unwrap();
        }
        assert_eq!(t.root(), defaults.empty_root());
        assert!(matches!(t.nodes, Nodes::Small(_)));
        assert_eq!(t.heap_bytes(), 0);
    }

    #[test]
    fn hashmap_heap_estimate_is_sane() {
        let mut m = NodeMap::default();
        for i in 0..1000u64 {
            m.insert(i, fr(i));
        }
        let n = Nodes::Large(m);
        let bytes = n.heap_bytes();
        assert!((1000 * ENTRY_BYTES..=2048 * (ENTRY_BYTES + 1) + 16).contains(&bytes));
    }
}
