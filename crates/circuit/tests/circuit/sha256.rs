//! The SHA-256 gadget against the `sha2` crate: digests for witness, constant and mixed inputs
//! across the padding boundaries, a single compression against `compress256`, its constraint
//! count, and unsatisfiability once any witness is tampered with.

use ark_ff::{AdditiveGroup, Field};
use ark_r1cs_std::boolean::Boolean;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::uint8::UInt8;
use ark_r1cs_std::GR1CSVar;
use ark_relations::gr1cs::{ConstraintSystem, ConstraintSystemRef, SynthesisMode, Variable};
use sha2::{Digest, Sha256};
use zklink_circuit::gadgets::sha256::{
    bits_be_to_bytes, bytes_to_bits_be, compress, iv, sha256, sha256_bits, BLOCK_BITS, STATE_BITS,
};
use zklink_crypto::Fr;

const LENGTHS: [usize; 10] = [0, 1, 55, 56, 63, 64, 65, 119, 120, 200];

/// Documented in `gadgets/sha256.rs`: one compression with every input a witness.
const CONSTRAINTS_PER_COMPRESSION: usize = 26_416;

/// Deterministic bytes that differ per length (xorshift).
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ len as u64 ^ 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn witness_bytes(cs: &ConstraintSystemRef<Fr>, data: &[u8]) -> Vec<UInt8<Fr>> {
    UInt8::new_witness_vec(cs.clone(), data).unwrap()
}

fn witness_bits(cs: &ConstraintSystemRef<Fr>, data: &[u8]) -> Vec<Boolean<Fr>> {
    bytes_to_bits_be(&witness_bytes(cs, data))
}

fn native_compress(state: [u32; 8], block: &[u8]) -> [u32; 8] {
    let mut state = state;
    let block: [u8; 64] = block.try_into().unwrap();
    sha2::compress256(&mut state, &[block.into()]);
    state
}

fn state_bytes(state: [u32; 8]) -> Vec<u8> {
    state.iter().flat_map(|w| w.to_be_bytes()).collect()
}

fn digest_value(out: &[Boolean<Fr>]) -> Vec<u8> {
    bits_be_to_bytes(out).value().unwrap()
}

#[test]
fn bit_order_is_big_endian_per_byte() {
    let bits = bytes_to_bits_be(&UInt8::constant_vec(&[0x80, 0x01]));
    let values: Vec<bool> = bits.iter().map(|b| b.value().unwrap()).collect();
    let mut expected = vec![false; 16];
    expected[0] = true;
    expected[15] = true;
    assert_eq!(values, expected);
    assert_eq!(bits_be_to_bytes(&bits).value().unwrap(), vec![0x80, 0x01]);
    assert_eq!(digest_value(&iv()), iv_bytes());
}

fn iv_bytes() -> Vec<u8> {
    state_bytes([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19])
}

#[test]
fn digest_matches_sha2_for_witness_inputs() {
    for len in LENGTHS {
        let data = bytes(len, 1);
        let cs = ConstraintSystem::<Fr>::new_ref();
        let out = sha256(&witness_bytes(&cs, &data)).unwrap();
        assert_eq!(out.value().unwrap(), Sha256::digest(&data).to_vec(), "{len} bytes");
        assert!(cs.is_satisfied().unwrap(), "{len} bytes");
        let blocks = (len + 9).div_ceil(64);
        println!("sha256 of {len} bytes (witness): {blocks} blocks, {} constraints", cs.num_constraints());
    }
}

#[test]
fn digest_matches_sha2_for_constant_inputs_without_constraints() {
    for len in LENGTHS {
        let data = bytes(len, 2);
        let out = sha256(&UInt8::constant_vec(&data)).unwrap();
        assert!(out.iter().all(|b| b.is_constant()), "{len} bytes");
        assert_eq!(out.value().unwrap(), Sha256::digest(&data).to_vec(), "{len} bytes");
    }
}

#[test]
fn digest_matches_sha2_for_mixed_inputs() {
    for len in LENGTHS {
        let data = bytes(len, 3);
        let cs = ConstraintSystem::<Fr>::new_ref();
        // A constant prefix (like a known header) followed by witness bytes.
        let mut msg = UInt8::constant_vec(&data[..len / 3]);
        msg.extend(witness_bytes(&cs, &data[len / 3..]));
        let out = sha256(&msg).unwrap();
        assert_eq!(out.value().unwrap(), Sha256::digest(&data).to_vec(), "{len} bytes");
        assert!(cs.is_satisfied().unwrap(), "{len} bytes");
    }
}

#[test]
fn sha256_bits_matches_byte_api_and_rejects_partial_bytes() {
    let data = bytes(70, 4);
    let cs = ConstraintSystem::<Fr>::new_ref();
    let out = sha256_bits(&witness_bits(&cs, &data)).unwrap();
    assert_eq!(out.len(), STATE_BITS);
    assert_eq!(digest_value(&out), Sha256::digest(&data).to_vec());
    assert!(sha256_bits(&[Boolean::TRUE; 7]).is_err());
}

#[test]
fn compress_matches_compress256() {
    let state: [u32; 8] = std::array::from_fn(|i| u32::from_be_bytes(bytes(4, 10 + i as u64).try_into().unwrap()));
    let block = bytes(64, 5);
    let expected = state_bytes(native_compress(state, &block));

    // Witness state and block.
    let cs = ConstraintSystem::<Fr>::new_ref();
    let out = compress(&witness_bits(&cs, &state_bytes(state)), &witness_bits(&cs, &block)).unwrap();
    assert_eq!(digest_value(&out), expected);
    assert!(cs.is_satisfied().unwrap());
    let inputs = cs.num_constraints() - (STATE_BITS + BLOCK_BITS); // booleanity of the input bits
    println!("one compression, witness state and block: {inputs} constraints");
    assert_eq!(inputs, CONSTRAINTS_PER_COMPRESSION);
    assert!(inputs <= 30_000);

    // Constant IV, witness block: the constant state folds into cheaper first rounds.
    let cs = ConstraintSystem::<Fr>::new_ref();
    let out = compress(&iv(), &witness_bits(&cs, &block)).unwrap();
    let from_iv = native_compress(bytes_to_words(&iv_bytes()), &block);
    assert_eq!(digest_value(&out), state_bytes(from_iv));
    assert!(cs.is_satisfied().unwrap());
    let spent = cs.num_constraints() - BLOCK_BITS;
    println!("one compression, constant IV and witness block: {spent} constraints");
    assert!(spent < CONSTRAINTS_PER_COMPRESSION);

    // All constants: no constraint system at all.
    let out = compress(&iv(), &bytes_to_bits_be(&UInt8::constant_vec(&block))).unwrap();
    assert!(out.iter().all(|b| b.is_constant()));
    assert_eq!(digest_value(&out), state_bytes(from_iv));

    assert!(compress(&iv()[..255], &[Boolean::FALSE; BLOCK_BITS]).is_err());
    assert!(compress(&iv(), &[Boolean::FALSE; BLOCK_BITS - 8]).is_err());
}

fn bytes_to_words(b: &[u8]) -> [u32; 8] {
    std::array::from_fn(|i| u32::from_be_bytes(b[4 * i..4 * i + 4].try_into().unwrap()))
}

#[test]
fn setup_mode_builds_the_same_constraints_without_values() {
    let data = bytes(100, 9);
    let prove = ConstraintSystem::<Fr>::new_ref();
    let _ = sha256(&witness_bytes(&prove, &data)).unwrap();
    let setup = ConstraintSystem::<Fr>::new_ref();
    setup.set_mode(SynthesisMode::Setup);
    let out = sha256(&witness_bytes(&setup, &data)).unwrap();
    assert!(out.value().is_err());
    assert_eq!(setup.num_constraints(), prove.num_constraints());
    assert_eq!(setup.num_witness_variables(), prove.num_witness_variables());
}

#[test]
fn wrong_expected_digest_is_unsatisfied() {
    let data = bytes(65, 6);
    let digest = Sha256::digest(&data).to_vec();
    for flip in [None, Some(0usize), Some(131), Some(255)] {
        let mut expected = digest.clone();
        if let Some(bit) = flip {
            expected[bit / 8] ^= 0x80 >> (bit % 8);
        }
        let cs = ConstraintSystem::<Fr>::new_ref();
        let out = sha256(&witness_bytes(&cs, &data)).unwrap();
        let public = UInt8::new_input_vec(cs.clone(), &expected).unwrap();
        out.enforce_equal(&public).unwrap();
        assert_eq!(cs.is_satisfied().unwrap(), flip.is_none(), "flipped bit {flip:?}");
    }
}

/// Flips a 0/1 witness and re-evaluates the symbolic linear combinations, whose values the
/// constraint system caches when they are created.
fn flip_witness(cs: &ConstraintSystemRef<Fr>, index: usize) {
    {
        let mut inner = cs.borrow_mut().unwrap();
        let w = &mut inner.assignments.witness_assignment[index];
        *w = Fr::ONE - *w;
    }
    let lcs = cs.borrow().unwrap().assignments.lc_assignment.len();
    for i in 0..lcs {
        let lc = cs.get_lc(Variable::symbolic_lc(i)).unwrap();
        let value = lc.iter().fold(Fr::ZERO, |acc, (c, v)| acc + *c * cs.assigned_value(*v).unwrap());
        cs.borrow_mut().unwrap().assignments.lc_assignment[i] = value;
    }
}

fn witness_index(b: &Boolean<Fr>) -> usize {
    let v = b.variable();
    assert!(v.is_witness());
    v.index().unwrap()
}

#[test]
fn tampered_witness_is_unsatisfied() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    let state = witness_bits(&cs, &bytes(32, 7));
    let out = compress(&state, &witness_bits(&cs, &bytes(64, 8))).unwrap();
    assert!(cs.is_satisfied().unwrap());
    // Output bits, then a spread of inputs and internal witnesses (sum bits, products).
    let mut targets: Vec<usize> = [0, 37, 128, 255].iter().map(|&i| witness_index(&out[i])).collect();
    let n = cs.num_witness_variables();
    targets.extend((0..n).step_by(n / 8));
    for index in targets {
        flip_witness(&cs, index);
        assert!(!cs.is_satisfied().unwrap(), "witness {index} flipped");
        flip_witness(&cs, index);
        assert!(cs.is_satisfied().unwrap(), "witness {index} restored");
    }
}
