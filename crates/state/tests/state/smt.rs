//! Tests of the 4-ary sparse Merkle tree against a naive full-tree reference.

use std::collections::BTreeMap;
use std::sync::Arc;

use ark_bn254::Fr;
use ark_ff::{Field, One, PrimeField, Zero};
use proptest::prelude::*;
use zklink_crypto::fr_serde;
use zklink_crypto::poseidon::hash4;
use zklink_state::smt::{DefaultHashes, MerklePath, SparseMerkleTree, TreeError};

fn fr(x: u64) -> Fr {
    Fr::from(x)
}

/// A default leaf that is not zero, to catch code that assumes zero defaults.
fn odd_default() -> Fr {
    fr(0xdead_beef)
}

/// All layers of the full tree, leaves first, root last.
fn naive_layers(levels: u32, default_leaf: Fr, leaves: &BTreeMap<u64, Fr>) -> Vec<Vec<Fr>> {
    let n = 1usize << (2 * levels);
    let mut layer: Vec<Fr> = (0..n as u64).map(|i| leaves.get(&i).copied().unwrap_or(default_leaf)).collect();
    let mut all = vec![layer.clone()];
    while layer.len() > 1 {
        layer = layer.chunks(4).map(|c| hash4(&[c[0], c[1], c[2], c[3]])).collect();
        all.push(layer.clone());
    }
    all
}

fn naive_siblings(layers: &[Vec<Fr>], index: u64) -> Vec<[Fr; 3]> {
    let levels = layers.len() - 1;
    (0..levels)
        .map(|k| {
            let i = (index >> (2 * k)) as usize;
            let first = i & !3;
            let mut s = Vec::with_capacity(3);
            for j in 0..4 {
                if first + j != i {
                    s.push(layers[k][first + j]);
                }
            }
            [s[0], s[1], s[2]]
        })
        .collect()
}

/// Applies `ops` to a model map the way the tree should (default removes).
fn model_apply(model: &mut BTreeMap<u64, Fr>, default_leaf: Fr, index: u64, value: Fr) {
    if value == default_leaf {
        model.remove(&index);
    } else {
        model.insert(index, value);
    }
}

/// Maps a generated value selector to a leaf value: 0 = the default, others are distinct.
fn leaf_value(default_leaf: Fr, sel: u64) -> Fr {
    if sel == 0 {
        default_leaf
    } else {
        fr(sel)
    }
}

#[test]
fn default_table() {
    for default_leaf in [Fr::zero(), odd_default()] {
        let d = DefaultHashes::new(4, default_leaf);
        assert_eq!(d.levels(), 4);
        assert_eq!(d.capacity(), 256);
        assert_eq!(d.at(0), default_leaf);
        assert_eq!(d.default_leaf(), default_leaf);
        for k in 0..4 {
            assert_eq!(d.at(k + 1), hash4(&[d.at(k); 4]));
        }
        assert_eq!(d.empty_root(), d.at(4));
        assert_eq!(d.get(5), None);
        // The table is memoised and shared.
        assert!(Arc::ptr_eq(&d, &DefaultHashes::new(4, default_leaf)));
    }
    assert!(matches!(DefaultHashes::try_new(32, Fr::zero()), Err(TreeError::TooManyLevels { levels: 32, .. })));
}

#[test]
fn empty_tree_root_and_paths() {
    for levels in [0, 1, 2, 3, 11, 12] {
        let d = DefaultHashes::new(levels, odd_default());
        let mut t = SparseMerkleTree::new(d.clone());
        assert_eq!(t.levels(), levels);
        assert_eq!(t.capacity(), 1u64 << (2 * levels));
        assert_eq!(t.committed_root(), Ok(d.empty_root()));
        assert_eq!(t.root(), d.empty_root());
        assert!(t.is_empty());
        assert_eq!(t.len(), 0);
        assert_eq!(t.heap_bytes(), 0);
        for index in [0, t.capacity() / 3, t.capacity() - 1] {
            let p = t.path(index).unwrap();
            assert_eq!(p.siblings.len(), levels as usize);
            assert!(p.verify(odd_default(), d.empty_root()));
            assert!(!p.verify(fr(1), d.empty_root()));
            assert_eq!(t.get(index), Ok(odd_default()));
        }
    }
}

#[test]
fn zero_level_tree_is_a_single_leaf() {
    let d = DefaultHashes::new(0, Fr::zero());
    let mut t = SparseMerkleTree::new(d);
    assert_eq!(t.capacity(), 1);
    t.set(0, fr(9)).unwrap();
    assert_eq!(t.root(), fr(9));
    let p = t.path(0).unwrap();
    assert!(p.siblings.is_empty());
    assert!(p.verify(fr(9), fr(9)));
    assert_eq!(t.set(1, fr(1)), Err(TreeError::IndexOutOfRange { index: 1, capacity: 1 }));
}

#[test]
fn out_of_range_is_an_error() {
    let d = DefaultHashes::new(3, Fr::zero());
    let mut t = SparseMerkleTree::new(d.clone());
    for index in [64, 65, u64::MAX] {
        let e = TreeError::IndexOutOfRange { index, capacity: 64 };
        assert_eq!(t.get(index), Err(e.clone()));
        assert_eq!(t.set(index, fr(1)), Err(e.clone()));
        assert_eq!(t.path(index), Err(e.clone()));
        assert_eq!(t.committed_path(index), Err(e.clone()));
        assert_eq!(SparseMerkleTree::from_leaves(d.clone(), [(0, fr(1)), (index, fr(2))]).unwrap_err(), e);
    }
    // The failed calls changed nothing.
    assert_eq!(t.committed_root(), Ok(d.empty_root()));
    // 31 levels: the largest index is valid, nothing larger exists.
    let big = DefaultHashes::new(31, Fr::zero());
    let mut t = SparseMerkleTree::new(big);
    let last = (1u64 << 62) - 1;
    t.set(last, fr(5)).unwrap();
    let root = t.root();
    assert!(t.path(last).unwrap().verify(fr(5), root));
    assert!(t.set(1u64 << 62, fr(5)).is_err());
}

#[test]
fn dirty_tracking() {
    let d = DefaultHashes::new(4, Fr::zero());
    let mut t = SparseMerkleTree::new(d.clone());
    t.set(7, fr(1)).unwrap();
    assert!(t.is_dirty());
    assert_eq!(t.committed_root(), Err(TreeError::Dirty));
    assert_eq!(t.committed_path(7), Err(TreeError::Dirty));
    // get() sees the new value before hashing.
    assert_eq!(t.get(7), Ok(fr(1)));
    let r = t.root();
    assert_eq!(t.committed_root(), Ok(r));
    assert!(t.committed_path(7).unwrap().verify(fr(1), r));
    // Writing the current value is a no-op.
    t.set(7, fr(1)).unwrap();
    t.set(8, Fr::zero()).unwrap();
    assert!(!t.is_dirty());
    // A change and its reversal in one batch leave the root unchanged.
    t.set(7, fr(2)).unwrap();
    t.set(7, fr(1)).unwrap();
    assert_eq!(t.root(), r);
    // Rewriting the same leaves many times between flushes keeps the dirty list bounded.
    for n in 0..10_000u64 {
        t.set(n % 3, fr(n + 1)).unwrap();
    }
    assert!(t.heap_bytes() < 2048, "{}", t.heap_bytes());
    let batched = t.root();
    let mut fresh = SparseMerkleTree::new(d.clone());
    for (i, v) in [(0, 10_000u64), (1, 9998), (2, 9999), (7, 1)] {
        fresh.set(i, fr(v)).unwrap();
    }
    assert_eq!(fresh.root(), batched);
}

#[test]
fn hash_count_per_update() {
    let d = DefaultHashes::new(12, Fr::zero());
    let mut t = SparseMerkleTree::new(d);
    t.set(123_456, fr(1)).unwrap();
    assert_eq!(t.flush(), 12);
    // Two leaves under the same parent share all 12 hashes.
    t.set(4, fr(1)).unwrap();
    t.set(5, fr(2)).unwrap();
    assert_eq!(t.flush(), 12);
    // Removing the only leaf of a subtree needs no hashing below the shared ancestor.
    // 123_456 < 4^9, so its path joins the path of leaves 4/5 at level 9: levels 1..=8 become
    // default without hashing, levels 9..=12 are rehashed.
    t.set(123_456, Fr::zero()).unwrap();
    assert_eq!(t.flush(), 4);
    assert_eq!(t.flush(), 0);
}

#[test]
fn reset_to_default_restores_empty_root_and_frees_memory() {
    for default_leaf in [Fr::zero(), odd_default()] {
        let d = DefaultHashes::new(11, default_leaf);
        let mut t = SparseMerkleTree::new(d.clone());
        let indices = [0u64, 1, 5, 77, 4_000_000, (1 << 22) - 1];
        for (n, &i) in indices.iter().enumerate() {
            t.set(i, fr(n as u64 + 100)).unwrap();
        }
        assert_ne!(t.root(), d.empty_root());
        assert_eq!(t.len(), indices.len());
        assert!(t.heap_bytes() > 0);
        for &i in &indices {
            t.set(i, default_leaf).unwrap();
        }
        assert_eq!(t.root(), d.empty_root());
        assert_eq!(t.len(), 0);
        assert!(t.is_empty());
        assert_eq!(t.stored_nodes(), 0);
        assert_eq!(t.heap_bytes(), 0);
        assert_eq!(t.non_default_leaves().count(), 0);
    }
}

#[test]
fn small_tree_memory() {
    let d = DefaultHashes::new(11, Fr::zero());
    let empty = SparseMerkleTree::new(d.clone());
    assert_eq!(empty.heap_bytes(), 0);

    // Two balances with small token ids (shared upper path).
    let mut t = SparseMerkleTree::new(d.clone());
    t.set(1, fr(1000)).unwrap();
    t.set(17, fr(2000)).unwrap();
    t.root();
    let near = (t.stored_nodes(), t.heap_bytes());

    // Two leaves with disjoint paths (worst case for two leaves).
    let mut t = SparseMerkleTree::new(d.clone());
    t.set(0, fr(1000)).unwrap();
    t.set((1 << 22) - 1, fr(2000)).unwrap();
    t.root();
    let far = (t.stored_nodes(), t.heap_bytes());
    eprintln!(
        "11 levels: empty = {} B, 2 leaves (ids 1, 17) = {} nodes / {} B, \
         2 leaves (disjoint paths) = {} nodes / {} B, size_of = {} B, shared defaults = {} B",
        empty.heap_bytes(),
        near.0,
        near.1,
        far.0,
        far.1,
        size_of::<SparseMerkleTree>(),
        d.heap_bytes()
    );
    // Disjoint paths: 2 leaves + 2 * 10 internal nodes (the root is not stored).
    assert_eq!(far.0, 22);
    // ~40 bytes per stored node, plus a little slack.
    assert!(far.1 <= 22 * 40 + 4 * 40, "heap {} too large", far.1);
    assert!(near.1 <= near.0 * 40 + 4 * 40, "heap {} too large", near.1);
}

#[test]
fn wrong_leaf_index_or_sibling_fails_verification() {
    let d = DefaultHashes::new(5, Fr::zero());
    let mut t = SparseMerkleTree::new(d);
    for i in 0..40u64 {
        t.set(i * 25, fr(i + 1)).unwrap();
    }
    let root = t.root();
    let p = t.path(250).unwrap();
    assert!(p.verify(fr(11), root));
    assert!(!p.verify(fr(12), root));
    assert!(!p.verify(Fr::zero(), root));
    let mut moved = p.clone();
    moved.index = 251;
    assert!(!moved.verify(fr(11), root));
    // An index that does not fit the path is rejected even if it would hash the same.
    let mut overflow = p.clone();
    overflow.index = 250 + (1 << 10);
    assert_eq!(overflow.compute_root(fr(11)), root);
    assert!(!overflow.verify(fr(11), root));
    for level in 0..p.siblings.len() {
        for s in 0..3 {
            let mut bad = p.clone();
            bad.siblings[level][s] += Fr::one();
            assert!(!bad.verify(fr(11), root));
        }
    }
    // Positions are the base-4 digits of the index from the leaf up: 250 = 3322_4.
    assert_eq!(p.positions().collect::<Vec<_>>(), vec![2, 2, 3, 3, 0]);
}

#[test]
fn larger_tree_matches_reference_and_switches_storage() {
    // 6 levels = 4096 leaves: enough to exceed the small-vector storage and to hash levels in
    // parallel, still cheap to recompute naively.
    let levels = 6;
    let d = DefaultHashes::new(levels, odd_default());
    let mut t = SparseMerkleTree::new(d.clone());
    let mut model = BTreeMap::new();
    let mut x = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..1500 {
        let i = next() % 4096;
        let v = fr(next() % 1000 + 1);
        t.set(i, v).unwrap();
        model_apply(&mut model, odd_default(), i, v);
    }
    let layers = naive_layers(levels, odd_default(), &model);
    let root = t.root();
    assert_eq!(root, layers[levels as usize][0]);
    assert_eq!(t.len(), model.len());
    assert!(t.non_default_leaves().eq(model.iter().map(|(&i, &v)| (i, v))));
    for i in (0..4096).step_by(97) {
        let p = t.path(i).unwrap();
        assert_eq!(p.siblings, naive_siblings(&layers, i));
        assert!(p.verify(t.get(i).unwrap(), root));
    }
    // Clearing most leaves shrinks back and still matches.
    let keys: Vec<u64> = model.keys().copied().collect();
    for &i in keys.iter().skip(20) {
        t.set(i, odd_default()).unwrap();
        model.remove(&i);
    }
    let layers = naive_layers(levels, odd_default(), &model);
    assert_eq!(t.root(), layers[levels as usize][0]);
    assert!(t.heap_bytes() <= t.stored_nodes() * 40 * 2);
}

#[test]
fn clone_is_independent() {
    let d = DefaultHashes::new(3, Fr::zero());
    let mut a = SparseMerkleTree::new(d);
    a.set(3, fr(3)).unwrap();
    let ra = a.root();
    let mut b = a.clone();
    b.set(4, fr(4)).unwrap();
    assert_ne!(b.root(), ra);
    assert_eq!(a.committed_root(), Ok(ra));
    assert_eq!(a.get(4), Ok(Fr::zero()));
}

#[test]
fn fr_strings() {
    let p_minus_1 = -Fr::one();
    let modulus_dec = Fr::MODULUS.to_string();
    for x in [Fr::zero(), Fr::one(), fr(u64::MAX), p_minus_1, fr(10).pow([19u64])] {
        let dec = fr_serde::to_decimal(&x);
        let hex = fr_serde::to_hex(&x);
        assert_eq!(fr_serde::parse(&dec), Ok(x), "{dec}");
        assert_eq!(fr_serde::parse(&hex), Ok(x), "{hex}");
        assert_eq!(hex.len(), 66);
    }
    assert_eq!(fr_serde::to_decimal(&fr(10).pow([19u64])), "10000000000000000000");
    assert_eq!(fr_serde::to_decimal(&Fr::zero()), "0");
    assert_eq!(fr_serde::parse("0x0a"), Ok(fr(10)));
    assert_eq!(
        fr_serde::to_decimal(&p_minus_1),
        "21888242871839275222246405745257275088548364400416034343698204186575808495616"
    );
    for bad in [
        "",
        "0x",
        "-1",
        "+1",
        "1.0",
        " 1",
        "0xg",
        modulus_dec.as_str(),
        "115792089237316195423570985008687907853269984665640564039457584007913129639936",
        "0x10000000000000000000000000000000000000000000000000000000000000000",
    ] {
        assert!(fr_serde::parse(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn merkle_path_deserializes_from_strings() {
    use serde::de::value::{Error as DeError, SeqDeserializer};
    use serde::de::IntoDeserializer;
    let raw: Vec<Vec<&str>> = vec![vec!["1", "0x2", "3"], vec!["4", "5", "0x06"]];
    let d: SeqDeserializer<_, DeError> = raw.into_deserializer();
    let siblings = fr_serde::siblings::deserialize(d).unwrap();
    assert_eq!(siblings, vec![[fr(1), fr(2), fr(3)], [fr(4), fr(5), fr(6)]]);
    let p = MerklePath { index: 0, siblings };
    assert_eq!(p.levels(), 2);

    let bad: Vec<Vec<&str>> = vec![vec!["1", "x", "3"]];
    let d: SeqDeserializer<_, DeError> = bad.into_deserializer();
    assert!(fr_serde::siblings::deserialize(d).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Root, every leaf, and every path agree with a full recomputation.
    #[test]
    fn matches_naive_reference(
        levels in 1u32..=3,
        zero_default in any::<bool>(),
        ops in prop::collection::vec((any::<u64>(), 0u64..5), 0..40),
    ) {
        let default_leaf = if zero_default { Fr::zero() } else { odd_default() };
        let d = DefaultHashes::new(levels, default_leaf);
        let mut t = SparseMerkleTree::new(d.clone());
        let mut model = BTreeMap::new();
        for &(raw, sel) in &ops {
            let i = raw % t.capacity();
            let v = leaf_value(default_leaf, sel);
            t.set(i, v).unwrap();
            model_apply(&mut model, default_leaf, i, v);
        }
        let layers = naive_layers(levels, default_leaf, &model);
        let root = t.root();
        prop_assert_eq!(root, layers[levels as usize][0]);
        prop_assert_eq!(t.len(), model.len());
        prop_assert!(t.non_default_leaves().eq(model.iter().map(|(&i, &v)| (i, v))));
        for i in 0..t.capacity() {
            let leaf = t.get(i).unwrap();
            prop_assert_eq!(leaf, layers[0][i as usize]);
            let p = t.path(i).unwrap();
            prop_assert_eq!(&p.siblings, &naive_siblings(&layers, i));
            prop_assert!(p.verify(leaf, root));
            prop_assert!(!p.verify(leaf + Fr::one(), root));
        }
    }

    /// Hashing a whole batch at once equals hashing after every single update.
    #[test]
    fn batch_equals_one_by_one(
        levels in 1u32..=6,
        zero_default in any::<bool>(),
        ops in prop::collection::vec((any::<u64>(), 0u64..4), 0..60),
    ) {
        let default_leaf = if zero_default { Fr::zero() } else { odd_default() };
        let d = DefaultHashes::new(levels, default_leaf);
        let mut batch = SparseMerkleTree::new(d.clone());
        let mut single = SparseMerkleTree::new(d.clone());
        // Small index range so that updates collide and revert each other.
        let span = batch.capacity().min(24);
        for &(raw, sel) in &ops {
            let i = raw % span * (batch.capacity() / span);
            let v = leaf_value(default_leaf, sel);
            batch.set(i, v).unwrap();
            single.set(i, v).unwrap();
            let r = single.root();
            prop_assert!(single.path(i).unwrap().verify(v, r));
        }
        prop_assert_eq!(batch.root(), single.root());
        prop_assert_eq!(batch.len(), single.len());
        prop_assert_eq!(batch.stored_nodes(), single.stored_nodes());
        prop_assert!(batch.non_default_leaves().eq(single.non_default_leaves()));
        if batch.is_empty() {
            prop_assert_eq!(batch.root(), d.empty_root());
            prop_assert_eq!(batch.heap_bytes(), 0);
        }
    }

    /// Rebuilding from the leaf list gives the same tree.
    #[test]
    fn from_leaves_equals_incremental(
        levels in 1u32..=12,
        ops in prop::collection::vec((any::<u64>(), 0u64..6), 0..50),
    ) {
        let d = DefaultHashes::new(levels, Fr::zero());
        let mut inc = SparseMerkleTree::new(d.clone());
        let mut pairs = Vec::new();
        for &(raw, sel) in &ops {
            let i = raw % inc.capacity();
            let v = leaf_value(Fr::zero(), sel);
            inc.set(i, v).unwrap();
            pairs.push((i, v));
        }
        // Input with duplicates and defaults: last write wins.
        let mut rebuilt = SparseMerkleTree::from_leaves(d.clone(), pairs).unwrap();
        prop_assert_eq!(rebuilt.committed_root(), Ok(inc.root()));
        // And from the snapshot of non-default leaves.
        let snap = SparseMerkleTree::from_leaves(d.clone(), inc.non_default_leaves()).unwrap();
        prop_assert_eq!(snap.committed_root(), Ok(inc.root()));
        prop_assert_eq!(snap.stored_nodes(), inc.stored_nodes());
        for &(raw, _) in ops.iter().take(5) {
            let i = raw % inc.capacity();
            let p = rebuilt.path(i).unwrap();
            prop_assert!(p.verify(inc.get(i).unwrap(), inc.root()));
        }
    }
}
