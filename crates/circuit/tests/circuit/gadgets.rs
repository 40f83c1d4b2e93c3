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

mod commitment_gadget {
    use super::*;
    use ark_r1cs_std::uint8::UInt8;
    use zklink_block::Block;
    use zklink_circuit::gadgets::commitment;
    use zklink_types::op::{DepositOp, TransferOp};
    use zklink_types::*;

    fn bytes(cs: &ConstraintSystemRef<Fr>, b: &[u8]) -> Vec<UInt8<Fr>> {
        UInt8::new_witness_vec(cs.clone(), b).unwrap()
    }

    fn block() -> Block {
        Block {
            number: BlockNumber(3),
            timestamp: 99,
            old_root: Fr::from(5u64),
            new_root: Fr::from(6u64),
            ops: vec![
                Op::Deposit(DepositOp {
                    chain_id: ChainId(2),
                    account_id: AccountId(2),
                    sub_account_id: SubAccountId(0),
                    l1_token: TokenId(32),
                    l2_token: TokenId(32),
                    amount: 77,
                    owner: Address::with_last_byte(1),
                }),
                Op::Transfer(TransferOp {
                    from: AccountId(2),
                    from_sub: SubAccountId(0),
                    token: TokenId(32),
                    to: AccountId(3),
                    to_sub: SubAccountId(0),
                    amount: 7,
                    fee: 0,
                }),
            ],
            chunks: 4,
            chain_count: 2,
        }
    }

    #[test]
    fn commitment_and_public_input_match_native() {
        let b = block();
        let cs = ConstraintSystem::<Fr>::new_ref();
        let chain_hashes: Vec<Vec<UInt8<Fr>>> = b.chain_hashes().unwrap().iter().map(|h| bytes(&cs, h)).collect();
        // H_2 recomputed in-circuit from the op's pubdata must equal the native one.
        let op = bytes(&cs, &b.ops[0].pubdata().unwrap());
        let h2 = commitment::roll_chain_hash(&bytes(&cs, &[0u8; 32]), &op).unwrap();
        assert_eq!(h2.value().unwrap(), b.chain_hashes().unwrap()[1].to_vec());
        let before = cs.num_constraints();
        let c = commitment::commitment(
            &bytes(&cs, &b.number.0.to_be_bytes()),
            &bytes(&cs, &b.timestamp.to_be_bytes()),
            &FpVar::new_witness(cs.clone(), || Ok(b.old_root)).unwrap(),
            &FpVar::new_witness(cs.clone(), || Ok(b.new_root)).unwrap(),
            &bytes(&cs, &b.pubdata().unwrap()),
            &chain_hashes,
        )
        .unwrap();
        let spent = cs.num_constraints() - before;
        assert_eq!(c.value().unwrap(), b.commitment().unwrap().to_vec());
        let pi = commitment::public_input(&c).unwrap();
        assert_eq!(pi.value().unwrap(), b.public_input().unwrap());
        assert!(cs.is_satisfied().unwrap());
        println!("commitment over 96 bytes of pubdata and 2 chains: {spent} constraints");
    }
}
