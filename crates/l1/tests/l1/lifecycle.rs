//! A whole block lifecycle on three anvil chains (chain 1 takes the pubdata) with the executor,
//! the real prover and the oracle signatures: deposits enter the queues and reach the executor
//! through the event reader; four blocks are committed in one transaction per chain, proven with
//! real proofs, synced with one attestation valid on every chain, and executed; a fast withdrawal
//! is accepted once, withdrawals are claimed, and a full exit requested on L1 is paid. Every step is also attacked: forged, missing,
//! reordered, unqueued and foreign deposits, a forged change-pubkey signature, forged proofs and
//! commitments, too few, duplicate, unknown and wrong oracle signatures, execution before sync,
//! double acceptance, over-claiming, and reverting executed blocks. Then chain 2 goes into exodus:
//! a real exit proof pays the user's share once, and an unprocessed native-coin deposit is refunded.
//!
//! Each step is a named scenario below. They run in this order in one test, on one set of chains
//! ([`Lifecycle::start`]): each starts from the chain state the one before left (the blocks it
//! sealed, committed, proved…), so they are not separate tests.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use crate::support::*;
use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use ark_bn254::Bn254;
use ark_groth16::ProvingKey;
use zklink_block::roll_chain_hash;
use zklink_circuit::exit::{ExitCircuit, ExitRequest, ExitShape, ExitWitness};
use zklink_contracts::proof_to_evm;
use zklink_contracts::zklink::{CommitBlockInfo, ZkLink::ZkLinkErrors as E};
use zklink_executor::testkit::TestUser;
use zklink_l1::{ExitCall, L1Client, TestChains, WithdrawalKey, NATIVE_TOKEN_ID};
use zklink_state::State;
use zklink_types::test_utils::{E18, USD, USDC, USDC_UNIT};
use zklink_types::{AccountId, ChainId, Network, SubAccountId, TokenId};

const EXPIRY: u64 = 50;

/// `info` with its on-chain ops replaced by `ops` and chain 2's hash recomputed, so that only the
/// queue check can object.
fn with_ops(info: &CommitBlockInfo, ops: &[Vec<u8>]) -> CommitBlockInfo {
    let mut forged = info.clone();
    forged.onchainOps = Bytes::from(ops.concat());
    let h = ops.iter().fold([0u8; 32], |h, op| roll_chain_hash(&h, op));
    forged.chainHashes[1] = FixedBytes::from(h);
    forged
}

#[tokio::test(flavor = "current_thread")]
async fn blocks_go_through_commit_prove_sync_execute_and_exodus() {
    if !have_anvil() {
        return;
    }
    let mut t = Lifecycle::start().await;
    deposits_reach_the_executor_through_the_events(&mut t).await;
    let nonces = a_key_a_transfer_and_two_withdrawals_are_sealed(&mut t);
    commits_check_the_queue_and_the_change_pubkey_signature(&mut t).await;
    real_proofs_verify_and_forged_ones_do_not(&t).await;
    sync_needs_enough_known_oracle_signatures(&t).await;
    let fast = a_fast_withdrawal_is_accepted_once(&t, &nonces).await;
    execution_repays_the_acceptor_and_withdrawals_are_claimed(&t, &fast, &nonces).await;
    let executed_state = a_full_exit_requested_on_l1_is_paid(&mut t).await;
    only_unexecuted_blocks_are_reverted(&mut t).await;
    exodus_pays_an_exit_proof_once_and_refunds_deposits(&t, executed_state).await;
}

/// What every scenario works on.
struct Lifecycle {
    /// Three chains with the block (4 chunks) and exit verifiers deployed.
    chains: TestChains,
    /// The executor and, per chain, the blocks as stored there.
    rollup: Rollup,
    block_pk: ProvingKey<Bn254>,
    exit_pk: ProvingKey<Bn254>,
    alice: TestUser,
    bob: TestUser,
    /// Dev account 1 of chain 2: makes the deposits.
    depositor: L1Client,
    /// Dev account 3 of chain 2: neither the validator nor a party to anything.
    outsider: L1Client,
    /// Chain 2's USDC.
    usdc: Address,
}

impl Lifecycle {
    /// The dev keys, the chains and the rollup driver.
    async fn start() -> Self {
        let network = Network::dev(3);
        let (block_pk, exit_pk) = (block_key(&network), exit_key(&network));
        let keys = TestKeys { block: Some(block_pk.clone()), exit: Some(exit_pk.clone()) };
        let chains = start(network, keys, EXPIRY, None).await;
        let rollup = Rollup::new(&chains);
        let (alice, bob) = (rollup.net.user(0), rollup.net.user(1));
        let c2 = chains.chain(2);
        let depositor = c2.client_for(1).unwrap();
        let outsider = c2.client_for(3).unwrap();
        let usdc = c2.token(USDC).unwrap();
        Self { chains, rollup, block_pk, exit_pk, alice, bob, depositor, outsider, usdc }
    }
}

/// Alice's nonces of her two withdrawals (blocks 3 and 4).
struct WithdrawalNonces {
    fast: u32,
    slow: u32,
}

/// The fast withdrawal of block 3 and who accepted it.
struct FastWithdrawal {
    key: WithdrawalKey,
    /// Dev account 2 of chain 2, the acceptor.
    lp: L1Client,
    lp_address: Address,
}

/// Deposits on chain 2 (dev account 1 pays), rejected ones first; the two accepted ones reach
/// the executor through the events and make block 1.
async fn deposits_reach_the_executor_through_the_events(t: &mut Lifecycle) {
    let (c2, rollup, depositor, usdc) = (t.chains.chain(2), &mut t.rollup, &t.depositor, t.usdc);
    let (alice, bob) = (&t.alice, &t.bob);
    c2.fund(1, USDC, 10_000_000_000).await.unwrap();
    assert!(matches!(revert(depositor.deposit_erc20(usdc, 0, alice.address, 0, true).await), E::BadDeposit(_)));
    assert!(matches!(
        revert(depositor.deposit_erc20(Address::repeat_byte(9), 1, alice.address, 0, true).await),
        E::TokenNotListed(_)
    ));
    assert!(
        matches!(revert(depositor.deposit_erc20(usdc, 1, alice.address, 4, true).await), E::BadDeposit(_)),
        "sub-account 4 is outside dev"
    );
    // Addresses starting with 8 ff bytes are reserved for account 1 and the AMM pools.
    let mut reserved = [0x11u8; 20];
    reserved[..8].fill(0xff);
    for to in [Address::repeat_byte(0xff), Address::from(reserved)] {
        let refused = revert(depositor.deposit_erc20(usdc, 1, to, 0, true).await);
        assert!(matches!(&refused, E::BadDeposit(e) if e.reason == "receiver"), "deposit to {to}: {refused:?}");
    }
    let gas = depositor.deposit_erc20(usdc, 1_000_000_000, alice.address, 0, true).await.unwrap().gas_used;
    println!("depositERC20: {gas} gas");
    depositor.deposit_erc20(usdc, 500_000_000, bob.address, 0, true).await.unwrap();
    assert_eq!(rollup.apply_requests(2).await, 2, "both deposits reach the executor through the events");
    rollup.seal(); // block 1: two deposits of chain 2
}

/// Block 2: alice's key (EIP-712 on chain 1) and a transfer; blocks 3, 4: withdrawals to chain 2
/// (a fast one, then a normal one).
fn a_key_a_transfer_and_two_withdrawals_are_sealed(t: &mut Lifecycle) -> WithdrawalNonces {
    let (rollup, alice, bob) = (&mut t.rollup, &t.alice, &t.bob);
    rollup.apply(rollup.net.change_pubkey_tx(alice));
    rollup.apply(rollup.net.transfer_tx(alice, bob.address, USD, 10 * E18, 0));
    rollup.seal();
    let fast = rollup.net.withdraw_tx(alice, 2, USD, USDC, 300 * E18, 0, 100);
    let fast_nonce = rollup.net.nonce_of(alice).0;
    rollup.apply(fast);
    rollup.seal();
    let slow_nonce = rollup.net.nonce_of(alice).0;
    rollup.apply(rollup.net.withdraw_tx(alice, 2, USD, USDC, 200 * E18, 0, 0));
    rollup.seal();
    assert!(rollup.blocks.iter().all(|b| b.block.chunks == 4));
    WithdrawalNonces { fast: fast_nonce, slow: slow_nonce }
}

/// Commit: attacks on chain 2's queue and on alice's change-pubkey signature, then all four
/// blocks in one transaction per chain.
async fn commits_check_the_queue_and_the_change_pubkey_signature(t: &mut Lifecycle) {
    let (chains, rollup, outsider) = (&t.chains, &t.rollup, &t.outsider);
    let c2 = chains.chain(2);
    let genesis = rollup.stored(2, 0);
    let info = rollup.commit_arg(2, 1);
    let ops: Vec<Vec<u8>> = info.onchainOps.chunks(48).map(<[u8]>::to_vec).collect();
    let mut forged_amount = ops.clone();
    forged_amount[1][26] ^= 1;
    let mut foreign = ops.clone();
    foreign[0][1] = 3;
    for (what, forged) in [
        ("forged amount", with_ops(&info, &forged_amount)),
        ("missing deposit", with_ops(&info, &ops[1..])),
        ("reordered", with_ops(&info, &[ops[1].clone(), ops[0].clone()])),
    ] {
        assert!(
            matches!(revert(c2.client.commit_blocks(&genesis, vec![forged]).await), E::PriorityQueueMismatch(_)),
            "{what}"
        );
    }
    let unqueued = with_ops(&info, &[ops[0].clone(), ops[1].clone(), ops[1].clone()]);
    assert!(matches!(revert(c2.client.commit_blocks(&genesis, vec![unqueued]).await), E::PriorityQueueExhausted(_)));
    assert!(matches!(
        revert(c2.client.commit_blocks(&genesis, vec![with_ops(&info, &foreign)]).await),
        E::BadOnchainOp(_)
    ));
    assert!(matches!(revert(outsider.commit_blocks(&genesis, vec![info.clone()]).await), E::NotValidator(_)));

    // Chain 1 checks alice's EIP-712 change-pubkey signature: a forged one is rejected.
    let c1 = chains.chain(1);
    let mut cpk = rollup.commit_arg(1, 2);
    assert_eq!(cpk.changePubKeyAuth.len(), 1);
    let mut sig = cpk.changePubKeyAuth[0].to_vec();
    sig[5] ^= 1;
    cpk.changePubKeyAuth[0] = sig.into();
    c1.client.commit_blocks(&rollup.stored(1, 0), vec![rollup.commit_arg(1, 1)]).await.unwrap();
    assert!(matches!(
        revert(c1.client.commit_blocks(&rollup.stored(1, 1), vec![cpk]).await),
        E::BadChangePubKeyAuth(_)
    ));

    for c in 1..=3u8 {
        let from = if c == 1 { 2 } else { 1 };
        let blocks = (from..=4).map(|n| rollup.commit_arg(c, n)).collect();
        let r = chains.chain(c).client.commit_blocks(&rollup.stored(c, from - 1), blocks).await.unwrap();
        println!("commitBlocks on chain {c} (blocks {from}..=4, DA: {}): {} gas", c == 1, r.gas_used);
        for n in 1..=4 {
            assert_eq!(
                chains.chain(c).client.stored_block_hash(n as u32).await.unwrap(),
                zklink_contracts::zklink::stored_block_hash(&rollup.stored(c, n)),
                "chain {c} block {n}"
            );
        }
    }
}

/// Prove: forged proofs and commitments are rejected; real proofs verify on every chain.
async fn real_proofs_verify_and_forged_ones_do_not(t: &Lifecycle) {
    let (chains, rollup) = (&t.chains, &t.rollup);
    let c2 = chains.chain(2);
    let proofs: Vec<[U256; 8]> = (1..=4).map(|n| rollup.prove(&t.block_pk, n)).collect();
    let mut forged = proofs[0];
    forged.swap(0, 6);
    forged.swap(1, 7);
    assert!(matches!(
        revert(c2.client.prove_blocks(vec![rollup.stored(2, 1)], vec![4], vec![forged]).await),
        E::InvalidProof(_)
    ));
    assert!(matches!(
        revert(c2.client.prove_blocks(vec![rollup.stored(2, 1)], vec![16], vec![proofs[0]]).await),
        E::NoVerifier(_)
    ));
    assert!(
        matches!(
            revert(c2.client.prove_blocks(vec![rollup.stored(2, 1)], vec![4], vec![proofs[1]]).await),
            E::InvalidProof(_)
        ),
        "another block's proof"
    );
    let mut other = rollup.stored(2, 1);
    other.commitment = FixedBytes::repeat_byte(7);
    assert!(matches!(
        revert(c2.client.prove_blocks(vec![other], vec![4], vec![proofs[0]]).await),
        E::StoredBlockMismatch(_)
    ));
    for c in 1..=3u8 {
        let stored = (1..=4).map(|n| rollup.stored(c, n)).collect();
        let r = chains.chain(c).client.prove_blocks(stored, vec![4; 4], proofs.clone()).await.unwrap();
        println!("proveBlocks on chain {c} (4 blocks): {} gas", r.gas_used);
    }
}

/// Sync: attestations of block 4 by 2 of the 3 oracles; too few, duplicate, unknown and
/// other-network signatures are refused, and execution waits for the sync.
async fn sync_needs_enough_known_oracle_signatures(t: &Lifecycle) {
    let (chains, rollup) = (&t.chains, &t.rollup);
    let c2 = chains.chain(2);
    let network_id = chains.network.network_id;
    let oracles = oracles();
    let last = rollup.stored(2, 4);
    assert!(
        matches!(revert(c2.client.execute_blocks(vec![rollup.execute_arg(2, 1)]).await), E::NotSynced(_)),
        "execute before sync"
    );
    let one = sync_signatures(network_id, &last, &[&oracles[0]]);
    assert!(matches!(revert(c2.client.sync_blocks(&last, one.clone()).await), E::TooFewSignatures(_)));
    let twice = vec![one[0].clone(), one[0].clone()];
    assert!(matches!(revert(c2.client.sync_blocks(&last, twice).await), E::SignaturesNotSorted(_)), "duplicate");
    let stranger = alloy::signers::local::PrivateKeySigner::from_bytes(&FixedBytes::repeat_byte(0x77)).unwrap();
    let unknown = sync_signatures(network_id, &last, &[&oracles[0], &stranger]);
    assert!(matches!(revert(c2.client.sync_blocks(&last, unknown).await), E::UnknownOracle(_)));
    let other_network = sync_signatures(network_id + 1, &last, &[&oracles[0], &oracles[1]]);
    assert!(
        matches!(revert(c2.client.sync_blocks(&last, other_network).await), E::UnknownOracle(_)),
        "signed for another network"
    );
    let good = sync_signatures(network_id, &last, &[&oracles[0], &oracles[2]]);
    for c in 1..=3u8 {
        let r = chains.chain(c).client.sync_blocks(&rollup.stored(c, 4), good.clone()).await.unwrap();
        println!("syncBlocks on chain {c} (2 signatures): {} gas", r.gas_used);
    }
    assert!(matches!(revert(c2.client.sync_blocks(&last, good.clone()).await), E::AlreadySynced(_)));
}

/// The fast withdrawal of block 3: dev account 2 pays alice 99 % now, once.
async fn a_fast_withdrawal_is_accepted_once(t: &Lifecycle, nonces: &WithdrawalNonces) -> FastWithdrawal {
    let (c2, rollup, alice, outsider) = (t.chains.chain(2), &t.rollup, &t.alice, &t.outsider);
    c2.fund(2, USDC, 1_000_000_000).await.unwrap();
    let lp = c2.client_for(2).unwrap();
    let lp_address = c2.anvil.address(2).unwrap();
    let account = rollup.net.id_of(alice).0;
    let key = WithdrawalKey {
        receiver: alice.address,
        l1_token: USDC,
        amount: 300 * E18,
        fee_ratio: 100,
        account,
        sub: 0,
        nonce: nonces.fast,
    };
    lp.accept_withdraw(&key, U256::ZERO).await.unwrap();
    assert_eq!(token_balance(c2, USDC, alice.address).await, U256::from(297_000_000u64), "300 USDC less 1 %");
    assert!(matches!(revert(lp.accept_withdraw(&key, U256::ZERO).await), E::AlreadyAccepted(_)), "double accept");
    assert!(matches!(revert(outsider.accept_withdraw(&key, U256::ZERO).await), E::AlreadyAccepted(_)));
    FastWithdrawal { key, lp, lp_address }
}

/// Execute: the acceptor is repaid, alice's other withdrawal is pending until claimed (by anyone,
/// for her, and not more than it).
async fn execution_repays_the_acceptor_and_withdrawals_are_claimed(
    t: &Lifecycle,
    fast: &FastWithdrawal,
    nonces: &WithdrawalNonces,
) {
    let (chains, rollup, alice, outsider) = (&t.chains, &t.rollup, &t.alice, &t.outsider);
    let c2 = chains.chain(2);
    let FastWithdrawal { key, lp, lp_address } = fast;
    for c in 1..=3u8 {
        let blocks = (1..=4).map(|n| rollup.execute_arg(c, n)).collect();
        let r = chains.chain(c).client.execute_blocks(blocks).await.unwrap();
        println!("executeBlocks on chain {c} (4 blocks): {} gas", r.gas_used);
        assert_eq!(
            chains.chain(c).client.block_counters().await.unwrap(),
            zklink_l1::BlockCounters { committed: 4, proven: 4, synced: 4, executed: 4 }
        );
    }
    assert_eq!(
        c2.client.pending_balance(*lp_address, USDC).await.unwrap(),
        300_000_000,
        "the acceptor gets the whole amount"
    );
    assert_eq!(c2.client.pending_balance(alice.address, USDC).await.unwrap(), 200_000_000);
    let late = WithdrawalKey { amount: 200 * E18, fee_ratio: 0, nonce: nonces.slow, ..*key };
    assert!(
        matches!(revert(lp.accept_withdraw(&late, U256::ZERO).await), E::AlreadyAccepted(_)),
        "accept after execution"
    );
    assert!(matches!(
        revert(outsider.withdraw_pending_balance(alice.address, USDC, 200_000_001).await),
        E::InsufficientPendingBalance(_)
    ));
    outsider.withdraw_pending_balance(alice.address, USDC, 200_000_000).await.unwrap();
    assert_eq!(token_balance(c2, USDC, alice.address).await, U256::from(497_000_000u64), "anyone claims for the owner");
    assert_eq!(
        c2.client.zklink().totalOpenPriorityRequests().call().await.unwrap(),
        0,
        "executed requests leave the queue"
    );
}

/// Block 5: bob asks for a full exit of his USD as chain 2's USDC from his own L1 key; once the
/// block is executed everywhere, chain 2 pays it. Returns the state at block 5, the last one
/// executed.
async fn a_full_exit_requested_on_l1_is_paid(t: &mut Lifecycle) -> State {
    let (chains, rollup, bob) = (&t.chains, &mut t.rollup, &t.bob);
    let c2 = chains.chain(2);
    let network_id = chains.network.network_id;
    let oracles = oracles();
    let bob_key = alloy::signers::local::PrivateKeySigner::from_bytes(&FixedBytes::from_slice(&bob.l1.to_bytes()))
        .expect("bob's L1 key");
    let gas_money = TransactionRequest::default().to(bob.address).value(U256::from(E18));
    c2.client.provider().send_transaction(gas_money).await.unwrap().get_receipt().await.unwrap();
    let bob_client = c2.client.with_provider(zklink_l1::client::connect(c2.anvil.endpoint_url(), bob_key));
    let bob_id = rollup.net.id_of(bob).0;
    assert!(matches!(revert(bob_client.request_full_exit(1, 0, USDC, USD).await), E::BadFullExit(_)), "account 1");
    bob_client.request_full_exit(bob_id, 0, USDC, USD).await.unwrap();
    assert_eq!(rollup.apply_requests(2).await, 1);
    let exited = match &rollup.seal().block.ops[0] {
        zklink_types::Op::FullExit(f) => f.amount,
        other => panic!("expected the full exit, got {other:?}"),
    };
    assert!(exited > 0);
    let p5 = rollup.prove(&t.block_pk, 5);
    let sigs5 = sync_signatures(network_id, &rollup.stored(2, 5), &[&oracles[1], &oracles[2]]);
    for c in 1..=3u8 {
        let client = &chains.chain(c).client;
        client.commit_blocks(&rollup.stored(c, 4), vec![rollup.commit_arg(c, 5)]).await.unwrap();
        client.prove_blocks(vec![rollup.stored(c, 5)], vec![4], vec![p5]).await.unwrap();
        client.sync_blocks(&rollup.stored(c, 5), sigs5.clone()).await.unwrap();
        client.execute_blocks(vec![rollup.execute_arg(c, 5)]).await.unwrap();
    }
    assert_eq!(c2.client.pending_balance(bob.address, USDC).await.unwrap(), exited / USDC_UNIT, "the full exit pays");
    rollup.net.state().clone()
}

/// Revert: block 6 is committed then reverted; executed blocks cannot be.
async fn only_unexecuted_blocks_are_reverted(t: &mut Lifecycle) {
    let (c2, rollup, outsider) = (t.chains.chain(2), &mut t.rollup, &t.outsider);
    let (alice, bob) = (&t.alice, &t.bob);
    rollup.apply(rollup.net.transfer_tx(alice, bob.address, USD, E18, 0));
    rollup.seal();
    c2.client.commit_blocks(&rollup.stored(2, 5), vec![rollup.commit_arg(2, 6)]).await.unwrap();
    assert!(matches!(revert(c2.client.revert_blocks(vec![rollup.stored(2, 5)]).await), E::WrongBlockNumber(_)));
    assert!(matches!(revert(outsider.revert_blocks(vec![rollup.stored(2, 6)]).await), E::NotValidator(_)));
    c2.client.revert_blocks(vec![rollup.stored(2, 6)]).await.unwrap();
    assert_eq!(c2.client.block_counters().await.unwrap().committed, 5);
    assert!(matches!(revert(c2.client.revert_blocks(vec![rollup.stored(2, 5)]).await), E::AlreadyExecuted(_)));
}

/// Exodus on chain 2: a native-coin deposit is never processed and expires; anyone activates
/// exodus; a real exit proof of alice's USD against the last executed root (`executed_state`)
/// pays her share once; the unprocessed deposit is refunded and claimed.
async fn exodus_pays_an_exit_proof_once_and_refunds_deposits(t: &Lifecycle, executed_state: State) {
    let (chains, rollup, alice) = (&t.chains, &t.rollup, &t.alice);
    let (c2, depositor, outsider, usdc) = (chains.chain(2), &t.depositor, &t.outsider, t.usdc);
    let account = rollup.net.id_of(alice).0;
    let carol = Address::repeat_byte(0xca);
    let eth = U256::from(E18);
    let r = depositor.deposit_eth(carol, 0, eth).await.unwrap();
    println!("depositETH: {} gas", r.gas_used);
    let request = r.decoded_log::<zklink_contracts::zklink::ZkLink::NewPriorityRequest>().unwrap().data.clone();
    assert!(matches!(revert(outsider.activate_exodus().await), E::NotExpired(_)));
    assert!(matches!(
        revert(outsider.cancel_outstanding_deposits(vec![request.pubData.clone()]).await),
        E::NotExodus(_)
    ));
    c2.mine(EXPIRY).await.unwrap();
    outsider.activate_exodus().await.unwrap();
    assert!(c2.client.zklink().exodusMode().call().await.unwrap());
    assert!(matches!(
        revert(c2.client.commit_blocks(&rollup.stored(2, 5), vec![rollup.commit_arg(2, 6)]).await),
        E::ExodusActive(_)
    ));
    assert!(matches!(revert(depositor.deposit_erc20(usdc, 1, alice.address, 0, true).await), E::ExodusActive(_)));

    // Alice's USD balance at the last executed root, paid from chain 2's USDC reserve (id 2).
    let req = ExitRequest {
        chain: ChainId(2),
        account: AccountId(account),
        sub: SubAccountId(0),
        l2_token: TokenId(USD),
        reserve_token: TokenId(USDC - 15),
    };
    let mut state = executed_state;
    let witness = ExitWitness::build(&mut state, 3, &req).expect("exit witness");
    let claim = witness.claim.clone();
    assert!(claim.amount > 0);
    let shape = ExitShape::new(&chains.network.preset, 3).unwrap();
    let proof =
        proof_to_evm(&zklink_prover::prove(&t.exit_pk, ExitCircuit::new(shape, witness).unwrap()).expect("exit proof"));
    let exit =
        ExitCall { owner: claim.owner, account, sub: 0, l2_token: USD, reserve_token: USDC - 15, amount: claim.amount };
    let last_executed = rollup.stored(2, 5);
    let inflated = ExitCall { amount: claim.amount + USDC_UNIT, ..exit };
    assert!(matches!(revert(outsider.perform_exodus(&last_executed, &inflated, proof).await), E::InvalidExitProof(_)));
    assert!(
        matches!(revert(outsider.perform_exodus(&rollup.stored(2, 4), &exit, proof).await), E::WrongBlockNumber(_)),
        "an older root"
    );
    let before = c2.client.pending_balance(alice.address, USDC).await.unwrap();
    let r = outsider.perform_exodus(&last_executed, &exit, proof).await.unwrap();
    println!("performExodus: {} gas", r.gas_used);
    let paid = c2.client.pending_balance(alice.address, USDC).await.unwrap() - before;
    assert_eq!(paid, claim.amount / USDC_UNIT);
    assert!(
        matches!(revert(outsider.perform_exodus(&last_executed, &exit, proof).await), E::ExodusAlreadyPerformed(_)),
        "once only"
    );

    // The unprocessed native-coin deposit is refunded and claimed.
    let mut wrong = request.pubData.to_vec();
    wrong[26] ^= 1;
    assert!(matches!(
        revert(outsider.cancel_outstanding_deposits(vec![wrong.into()]).await),
        E::PriorityQueueMismatch(_)
    ));
    outsider.cancel_outstanding_deposits(vec![request.pubData.clone()]).await.unwrap();
    assert_eq!(c2.client.pending_balance(carol, NATIVE_TOKEN_ID).await.unwrap(), E18);
    outsider.withdraw_pending_balance(carol, NATIVE_TOKEN_ID, E18).await.unwrap();
    assert_eq!(c2.client.provider().get_balance(carol).await.unwrap(), eth);
}
