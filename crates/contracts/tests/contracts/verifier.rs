//! The Solidity Groth16 verifier on a real EVM (the pinned anvil): a proof from zklink-prover is
//! accepted, and a wrong input, tampered proofs and a non-canonical input are rejected.
//!
//! Skips (with a message) when the anvil from `npm ci --prefix tools/l1` is missing, unless
//! `CI=true`, where that is a failure.

use alloy::primitives::U256;
use alloy::providers::Provider;
use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::alloc::AllocVar;
use ark_r1cs_std::eq::EqGadget;
use ark_r1cs_std::fields::fp::FpVar;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};
use zklink_contracts::test_utils::anvil_for_tests;
use zklink_contracts::verifier::{self, field_to_u256, g1_to_evm, g2_to_evm, Groth16Verifier};
use zklink_contracts::{constructor_args, proof_to_evm, verifying_key_hash};

/// Knowledge of a factorisation: private x, y with x·y = z, z public (the single public input).
#[derive(Clone)]
struct Product {
    x: Fr,
    y: Fr,
    z: Fr,
}

impl ConstraintSynthesizer<Fr> for Product {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let z = FpVar::new_input(cs.clone(), || Ok(self.z))?;
        let x = FpVar::new_witness(cs.clone(), || Ok(self.x))?;
        let y = FpVar::new_witness(cs, || Ok(self.y))?;
        (x * y).enforce_equal(&z)
    }
}

/// z = x·y is a full-width field element (254 bits), like a block commitment, so the calldata and
/// the gas figure are representative.
fn circuit() -> Product {
    let (x, y) = (-Fr::from(1_000_003u64), Fr::from(999_983u64));
    Product { x, y, z: x * y }
}

const SEED: [u8; 32] = [42; 32];
const CHAIN_ID: u64 = 7_011;

fn scalar_modulus() -> U256 {
    U256::from_be_slice(&Fr::MODULUS.to_bytes_be())
}

fn base_modulus() -> U256 {
    U256::from_be_slice(&Fq::MODULUS.to_bytes_be())
}

/// A point on the G2 twist that is not in the order-r subgroup (the twist's cofactor is large, so
/// the first x with a point on the curve almost surely gives one).
fn twist_point_outside_subgroup() -> G2Affine {
    (1u64..100)
        .filter_map(|i| G2Affine::get_point_from_x_unchecked(Fq2::new(Fq::from(i), Fq::from(1u64)), false))
        .find(|p| p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve())
        .expect("a twist point outside the subgroup among the first x")
}

#[tokio::test(flavor = "current_thread")]
async fn groth16_verifier_on_anvil() {
    // Prove first (no anvil needed), and check the proof natively.
    let (pk, vk) = zklink_prover::insecure_dev_setup(circuit(), SEED).unwrap();
    let proof = zklink_prover::prove(&pk, circuit()).unwrap();
    let z = circuit().z;
    assert!(zklink_prover::verify(&vk, &[z], &proof).unwrap());

    let Some(anvil) = anvil_for_tests(CHAIN_ID).expect("start anvil") else { return };
    let provider = anvil.provider(0).expect("anvil prints its dev keys");
    assert_eq!(provider.get_chain_id().await.unwrap(), CHAIN_ID);

    // Deploy with the key as constructor arguments.
    let args = constructor_args(&vk).unwrap();
    let deploy =
        Groth16Verifier::deploy_builder(&provider, args.alpha, args.beta, args.gamma, args.delta, args.ic0, args.ic1);
    let deploy_gas = deploy.estimate_gas().await.unwrap();
    let receipt = deploy.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "deployment reverted");
    let address = receipt.contract_address.expect("a contract address");
    let contract = Groth16Verifier::new(address, &provider);
    assert_eq!(contract.verifyingKeyHash().call().await.unwrap(), verifying_key_hash(&args));

    let evm_proof = proof_to_evm(&proof);
    let input = field_to_u256(&z);
    let verify = |p: [U256; 8], i: U256| {
        let contract = &contract;
        async move { contract.verifyProof(p, i).call().await.unwrap() }
    };

    assert!(verify(evm_proof, input).await, "the real proof must verify");

    // (a) another public input.
    assert!(!verify(evm_proof, input + U256::from(1)).await, "input + 1");
    assert!(!verify(evm_proof, U256::ZERO).await, "input 0");

    // (b) tampered proofs.
    let mut p = evm_proof;
    p[1] += U256::from(1); // A.y: A is no longer on the curve
    assert!(!verify(p, input).await, "A.y + 1");
    let mut p = evm_proof;
    let other = (proof.c.into_group() + G1Affine::generator()).into_affine(); // a valid point, the wrong one
    p[6..8].copy_from_slice(&g1_to_evm(&other));
    assert!(!verify(p, input).await, "C replaced by C + G");
    let mut p = evm_proof;
    p[0..2].copy_from_slice(&g1_to_evm(&proof.c)); // A := C
    assert!(!verify(p, input).await, "A replaced by C");
    let mut p = evm_proof;
    p.swap(2, 3); // B in arkworks order (c0 first): not on the twist
    p.swap(4, 5);
    assert!(!verify(p, input).await, "B with c0/c1 swapped");
    let mut p = evm_proof;
    p[7] = scalar_modulus() * U256::from(2); // C.y ≥ p
    assert!(!verify(p, input).await, "non-canonical C.y");
    let mut p = evm_proof;
    p[2] = base_modulus() + evm_proof[2]; // B.x.c1 + p: the same point, non-canonical
    assert!(!verify(p, input).await, "non-canonical B.x.c1");

    // B on the twist but outside the order-r subgroup: only the pairing precompile can tell, and its
    // failure is a revert (as is running out of gas), never a false that could be mistaken for either.
    let mut p = evm_proof;
    p[2..6].copy_from_slice(&g2_to_evm(&twist_point_outside_subgroup()));
    let err = contract.verifyProof(p, input).call().await.expect_err("B outside the subgroup must revert");
    assert!(err.as_decoded_error::<Groth16Verifier::PrecompileFailed>().is_some(), "{err}");
    let err = contract.verifyProof(evm_proof, input).gas(120_000).call().await.expect_err("out of gas must revert");
    assert!(err.as_decoded_error::<Groth16Verifier::PrecompileFailed>().is_some(), "{err}");

    // (c) inputs ≥ r: the same statement shifted by r must not verify (malleability).
    let r = scalar_modulus();
    assert!(!verify(evm_proof, input + r).await, "input + r");
    assert!(!verify(evm_proof, r).await, "input = r");
    assert!(!verify(evm_proof, U256::MAX).await, "input = 2^256 - 1");

    // A proof under another key (same circuit, other setup) is rejected by this verifier.
    let (pk2, _) = zklink_prover::insecure_dev_setup(circuit(), [43; 32]).unwrap();
    let proof2 = zklink_prover::prove(&pk2, circuit()).unwrap();
    assert!(!verify(proof_to_evm(&proof2), input).await, "proof under another key");

    // Gas: estimateGas of a transaction calling verifyProof (21,000 intrinsic + calldata included),
    // and the gas actually used by sending it.
    let call = contract.verifyProof(evm_proof, input);
    let verify_gas = call.estimate_gas().await.unwrap();
    let used = call.send().await.unwrap().get_receipt().await.unwrap().gas_used;
    println!("Groth16Verifier: deploy gas {deploy_gas} (estimateGas), {} used", receipt.gas_used);
    let data = call.calldata();
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let intrinsic = 21_000 + 4 * zeros + 16 * (data.len() as u64 - zeros);
    println!(
        "Groth16Verifier: verifyProof transaction gas {verify_gas} (estimateGas), {used} used = {intrinsic} \
         intrinsic ({} calldata bytes) + {} execution, of which precompiles 187,150",
        data.len(),
        used - intrinsic
    );
    assert!(verify_gas < 300_000, "verifyProof costs {verify_gas} gas");

    // The helper deploys the same thing.
    let again = verifier::deploy(&provider, &vk).await.unwrap();
    assert!(again.verifyProof(evm_proof, input).call().await.unwrap());
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_keys_are_refused_at_deployment() {
    let (_, vk) = zklink_prover::insecure_dev_setup(circuit(), SEED).unwrap();
    let Some(anvil) = anvil_for_tests(CHAIN_ID).expect("start anvil") else { return };
    let provider = anvil.provider(0).unwrap();
    let good = constructor_args(&vk).unwrap();

    let deploy = |a: Groth16Verifier::constructorCall| {
        let provider = &provider;
        async move {
            Groth16Verifier::deploy_builder(provider, a.alpha, a.beta, a.gamma, a.delta, a.ic0, a.ic1)
                .estimate_gas()
                .await
        }
    };
    assert!(deploy(good.clone()).await.is_ok());

    let mut bad = good.clone();
    bad.alpha[1] += U256::from(1); // off the curve
    assert!(deploy(bad).await.is_err(), "alpha off the curve");
    let mut bad = good.clone();
    bad.beta.swap(0, 1); // arkworks order: off the twist
    assert!(deploy(bad).await.is_err(), "beta with c0/c1 swapped");
    let mut bad = good.clone();
    bad.delta = [U256::ZERO; 4];
    assert!(deploy(bad).await.is_err(), "delta at infinity");
    let mut bad = good.clone();
    bad.ic1[0] = scalar_modulus() * U256::from(2);
    assert!(deploy(bad).await.is_err(), "ic1 not canonical");
}
