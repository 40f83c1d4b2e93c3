//! A real block, end to end through the proof system: the executor seals a 4-chunk dev block (a
//! transfer and a withdrawal to chain 2), the witness builder replays it, the prover proves it
//! with the cached dev key of the `dev` 4-chunk shape, and the proof is accepted natively, by
//! snarkjs (an independent verifier) and by `Groth16Verifier` on anvil for the executor's
//! commitment, while a tampered commitment and a tampered proof are rejected.
//!
//! The first run makes the dev key (about a minute on 2 cores) and caches it under
//! `target/zklink-keys`; later runs load it.

use alloy::primitives::U256;
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_contracts::anvil::workspace_root;
use zklink_contracts::proof_to_evm;
use zklink_contracts::test_utils::anvil_for_tests;
use zklink_contracts::verifier::{self, field_to_u256};
use zklink_crypto::Fr;
use zklink_executor::testkit::TestNet;
use zklink_prover::test_utils::dev_key_dir;
use zklink_prover::{snarkjs, KeyStore};
use zklink_types::test_utils::E18;

/// Public, so anyone can forge proofs under this key: dev and tests only.
const DEV_SEED: [u8; 32] = *b"zklink-insecure-dev-block-seed-1";

/// A network with two funded, activated users, then one 4-chunk block to prove: the witness
/// (from the state at the block's start) and the executor's public input.
fn block_to_prove() -> (BlockWitness, Fr) {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    for u in [&a, &b] {
        net.deposit(2, u, 0, 18, 18, 100 * E18);
        net.activate(u);
    }
    net.seal();
    let mut start = net.state().clone();
    // The withdrawal first: an on-chain op starts at an even chunk (the dev period).
    let withdraw = net.withdraw_tx(&b, 2, 18, 18, 2 * E18, 30, 0);
    net.apply_l2(withdraw.clone()).expect("withdraw");
    let transfer = net.transfer_tx(&a, b.address, 18, 5 * E18, 1000);
    net.apply_l2(transfer.clone()).expect("transfer");
    let block = net.seal().block.clone();
    assert_eq!(block.chunks, 4, "withdraw (3 chunks) + transfer (1 chunk) fill the 4-chunk shape");
    let witness = BlockWitness::build(&mut start, &block, &[Some(withdraw), Some(transfer)]).expect("witness");
    (witness, block.public_input().expect("public input"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_real_block_proof_verifies_on_the_evm() {
    // Stage timings of key loading and proving (RUST_LOG=zklink_prover=info to see them). arkworks
    // opens a tracing span per gadget under the `gr1cs` target: never enable those here.
    let filter = tracing_subscriber::EnvFilter::from_default_env().add_directive("gr1cs=off".parse().unwrap());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
    let (witness, input) = block_to_prove();
    assert_eq!(witness.public_input, input, "the witness commits to the executor's block");
    let store = KeyStore::new(dev_key_dir(&workspace_root()));
    let preset = witness.preset.clone();
    let pk = store
        .load_or_setup("block-dev-4c-3n", DEV_SEED, || {
            BlockCircuit::new(BlockWitness::empty(&preset, 3, 4).expect("empty witness"))
        })
        .expect("dev key");
    let proof = zklink_prover::prove(&pk, BlockCircuit::new(witness)).expect("prove");
    assert!(zklink_prover::verify(&pk.vk, &[input], &proof).unwrap());
    assert!(!zklink_prover::verify(&pk.vk, &[input + Fr::from(1u64)], &proof).unwrap());

    let root = workspace_root();
    if snarkjs::available(&root) {
        assert!(snarkjs::verify_with_snarkjs(&root, &pk.vk, &proof, &[input]).unwrap(), "snarkjs accepts");
        assert!(!snarkjs::verify_with_snarkjs(&root, &pk.vk, &proof, &[-input]).unwrap(), "snarkjs rejects");
    } else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must have node and tools/vectors/node_modules");
        eprintln!("SKIPPING the snarkjs cross-check: run `npm ci --prefix tools/vectors`");
    }

    let Some(anvil) = anvil_for_tests(7_012).expect("start anvil") else { return };
    let provider = anvil.provider(0).expect("a funded dev account");
    let contract = verifier::deploy(&provider, &pk.vk).await.expect("deploy the block verifier");
    let evm_proof = proof_to_evm(&proof);
    let evm_input = field_to_u256(&input);
    assert!(contract.verifyProof(evm_proof, evm_input).call().await.unwrap(), "the block proof verifies on L1");
    assert!(!contract.verifyProof(evm_proof, evm_input ^ U256::from(1)).call().await.unwrap(), "other commitment");
    let mut tampered = evm_proof;
    tampered.swap(0, 6); // A and C exchanged: both valid points, the wrong equation
    tampered.swap(1, 7);
    assert!(!contract.verifyProof(tampered, evm_input).call().await.unwrap(), "tampered proof");
    let call = contract.verifyProof(evm_proof, evm_input);
    let used = call.send().await.unwrap().get_receipt().await.unwrap().gas_used;
    println!("block proof (dev, 4 chunks): verifyProof transaction used {used} gas");
}
