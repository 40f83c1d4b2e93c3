//! Gadgets against their native counterparts: same outputs, documented constraint counts, and
//! unsatisfiable on a wrong witness.

use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef};
use proptest::prelude::*;
use zklink_circuit::gadgets::{merkle, poseidon};
use zklink_crypto::Fr;
use zklink_state::{DefaultHashes, SparseMerkleTree};

fn witnesses(cs: &ConstraintSystemRef<Fr>, xs: &[Fr]) -> Vec<FpVar<Fr>> {
    xs.iter().map(|x| FpVar::new_witness(cs.clone(), || Ok(*x)).unwrap()).collect()
}

#[test]
fn poseidon_matches_native_for_every_arity() {
    for n in 1..=12u64 {
        let xs: Vec<Fr> = (0..n).map(|i| Fr::from(i * 7 + 3)).collect();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let out = poseidon::poseidon(&witnesses(&cs, &xs)).unwrap();
        assert_eq!(out.value().unwrap(), zklink_crypto::poseidon::hash(&xs).unwrap(), "arity {n}");
        assert!(cs.is_satisfied().unwrap());
    }
}

#[test]
fn poseidon_constraint_counts() {
    // 3 per S-box, less the first round's S-box on the constant capacity element.
    for (n, expected) in [(2usize, 240usize), (4, 297), (5, 321)] {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let xs: Vec<Fr> = (0..n as u64).map(Fr::from).collect();
        let _ = poseidon::poseidon(&witnesses(&cs, &xs)).unwrap();
        assert_eq!(cs.num_constraints(), expected, "{n} inputs");
    }
    // The known circomlib value, with the inputs as constants: no constraints at all.
    let out = poseidon::poseidon(&[FpVar::Constant(Fr::from(1u64)), FpVar::Constant(Fr::from(2u64))]).unwrap();
    assert_eq!(
        out.value().unwrap().to_string(),
        "7853200120776062878684798364095072458815029376092732009249414926327459813530"
    );
    assert!(poseidon::poseidon(&[]).is_err());
}

/// Builds the in-circuit root for `index` and enforces it equals `root`.
fn check_path(tree: &mut SparseMerkleTree, index: u64, leaf: Fr, root: Fr) -> bool {
    let path = tree.path(index).unwrap();
    let cs = ConstraintSystem::<Fr>::new_ref();
    let leaf_var = FpVar::new_witness(cs.clone(), || Ok(leaf)).unwrap();
    let bits: Vec<Boolean<Fr>> = (0..2 * path.siblings.len())
        .map(|i| Boolean::new_witness(cs.clone(), || Ok((index >> i) & 1 == 1)).unwrap())
        .collect();
    let siblings: Vec<[FpVar<Fr>; 3]> = path.siblings.iter().map(|s| witnesses(&cs, s).try_into().unwrap()).collect();
    let root_var = FpVar::new_input(cs.clone(), || Ok(root)).unwrap();
    let computed = merkle::root_from_path(&leaf_var, &bits, &siblings).unwrap();
    computed.enforce_equal(&root_var).unwrap();
    cs.is_satisfied().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn merkle_paths_match_the_native_tree(leaves in proptest::collection::vec((0u64..256, 1u64..1000), 1..12), pick in 0usize..12) {
        let mut tree = SparseMerkleTree::new(DefaultHashes::new(4, Fr::from(0u64)));
        for (i, v) in &leaves {
            tree.set(*i, Fr::from(*v)).unwrap();
        }
        let root = tree.root();
        let (index, _) = leaves[pick % leaves.len()];
        let leaf = tree.get(index).unwrap();
        prop_assert!(check_path(&mut tree, index, leaf, root));
        // A wrong leaf, or the right leaf at another index, does not reach the root.
        prop_assert!(!check_path(&mut tree, index, leaf + Fr::from(1u64), root));
        let other = (index + 1) % 256;
        if tree.get(other).unwrap() != leaf {
            prop_assert!(!check_path(&mut tree, other, leaf, root));
        }
    }
}

#[test]
fn empty_leaf_paths_verify_too() {
    let mut tree = SparseMerkleTree::new(DefaultHashes::new(3, Fr::from(0u64)));
    tree.set(5, Fr::from(9u64)).unwrap();
    let root = tree.root();
    assert!(check_path(&mut tree, 40, Fr::from(0u64), root));
    assert!(!check_path(&mut tree, 40, Fr::from(1u64), root));
}

mod eddsa_gadget {
    use super::*;
    use ark_ff::{BigInteger, PrimeField};
    use zklink_circuit::gadgets::eddsa;
    use zklink_crypto::eddsa::{PrivateKey, Signature};

    /// Allocates (A, R8, S) for `sig` and returns (is_valid value, constraints, satisfied).
    fn run(key: &PrivateKey, sig: &Signature, msg: Fr) -> (bool, usize, bool) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let pk = key.public_key();
        let a = eddsa::alloc_point(cs.clone(), pk.x(), pk.y()).unwrap();
        let (rx, ry) = sig.r8();
        let r8 = eddsa::alloc_point(cs.clone(), rx, ry).unwrap();
        let s = Fr::from_le_bytes_mod_order(&sig.s());
        let s_bits: Vec<Boolean<Fr>> = s.into_bigint().to_bits_le()[..eddsa::S_BITS]
            .iter()
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(*b)).unwrap())
            .collect();
        let msg = FpVar::new_witness(cs.clone(), || Ok(msg)).unwrap();
        let ok = eddsa::verify(&msg, &a, &r8, &s_bits).unwrap();
        (ok.value().unwrap(), cs.num_constraints(), cs.is_satisfied().unwrap())
    }

    #[test]
    fn accepts_native_signatures_and_rejects_forgeries() {
        let key = PrivateKey::from_bytes([7; 32]);
        let msg = Fr::from(123_456u64);
        let sig = key.sign(msg);
        let (ok, constraints, satisfied) = run(&key, &sig, msg);
        assert!(ok && satisfied);
        println!("EdDSA-Poseidon verification: {constraints} constraints");
        assert!(constraints < 8_000, "{constraints} constraints");
        // Wrong message, wrong key.
        let (ok, _, satisfied) = run(&key, &sig, msg + Fr::from(1u64));
        assert!(!ok && satisfied, "a wrong message yields is_valid = false");
        let other = PrivateKey::from_bytes([8; 32]);
        let (ok, _, _) = run(&other, &sig, msg);
        assert!(!ok);
    }
}
