//! `ZkLink.sol` on anvil with the executor and the real prover: deposits enter the priority
//! queue exactly as the executor encodes them; a block of those deposits commits (the stored
//! block info equals the one computed off-chain) and its real Groth16 proof is accepted, while
//! forged, missing, reordered, unqueued and foreign-chain ops, forged proofs and outsiders are
//! rejected with their typed errors.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use alloy::providers::DynProvider;
use zklink_block::{fr_to_bytes, roll_chain_hash, Block};
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_contracts::devnet::{anvil_for_tests, workspace_root};
use zklink_contracts::zklink::{
    commit_info, genesis_block, stored_block_hash, CommitBlockInfo, StoredBlockInfo, TestToken, ZkLink,
};
use zklink_contracts::{proof_to_evm, verifier};
use zklink_executor::testkit::TestNet;
use zklink_prover::{dev_key_dir, KeyStore, INSECURE_DEV_SEED};
use zklink_types::op::decode_pubdata;
use zklink_types::{ChainId, Deposit, Op, PriorityTx, SerialId};

const CHAIN: u8 = 2;
const USDC: u16 = 17;
const USD: u16 = 1;

/// The revert's custom error, decoded.
fn revert_of(err: alloy::contract::Error) -> ZkLink::ZkLinkErrors {
    err.as_decoded_interface_error::<ZkLink::ZkLinkErrors>().unwrap_or_else(|| panic!("not a ZkLink error: {err}"))
}

struct Setup {
    provider: DynProvider,
    zklink: ZkLink::ZkLinkInstance<DynProvider>,
    usdc: TestToken::TestTokenInstance<DynProvider>,
    net: TestNet,
}

/// ZkLink for chain 2 of 3 (not a data-availability chain) with a 6-decimal USDC listed as
/// token 17; the deployer is governor and validator.
async fn setup(provider: DynProvider, me: Address) -> Setup {
    let net = TestNet::dev();
    let preset = &net.network().preset;
    let genesis = B256::from(fr_to_bytes(&net.state().clone().root()));
    let zklink = ZkLink::deploy(
        provider.clone(),
        CHAIN,
        3,
        false,
        preset.account_bits as u8,
        preset.sub_account_bits as u8,
        1_000,
        me,
        genesis,
    )
    .await
    .expect("deploy ZkLink");
    let usdc = TestToken::deploy(provider.clone(), "USD Coin".into(), "USDC".into(), 6, 0).await.expect("token");
    zklink.setValidator(me, true).send().await.unwrap().get_receipt().await.unwrap();
    zklink.addToken(USDC, *usdc.address(), 6, 10u128.pow(30)).send().await.unwrap().get_receipt().await.unwrap();
    usdc.mint(me, U256::from(10u64.pow(12))).send().await.unwrap().get_receipt().await.unwrap();
    usdc.approve(*zklink.address(), U256::MAX).send().await.unwrap().get_receipt().await.unwrap();
    Setup { provider, zklink, usdc, net }
}

/// Deposits `l1_amount` USDC (6 decimals) for `to` as USD and returns the queued request as the
/// executor's priority tx, parsed from the contract's event.
async fn deposit(s: &Setup, to: Address, l1_amount: u128) -> PriorityTx {
    let receipt = s
        .zklink
        .depositERC20(*s.usdc.address(), l1_amount, to, 0, true)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let log = receipt.decoded_log::<ZkLink::NewPriorityRequest>().expect("NewPriorityRequest event");
    let ops = decode_pubdata(&log.pubData).expect("the queued pubdata decodes as an op");
    let [Op::Deposit(d)] = &ops[..] else { panic!("one deposit op, got {ops:?}") };
    assert_eq!((d.chain_id, d.account_id.0, d.owner), (ChainId(CHAIN), 0, to));
    assert_eq!(
        (d.l1_token.0, d.l2_token.0, d.amount),
        (USDC, USD, l1_amount * 10u128.pow(12)),
        "scaled to 18 decimals"
    );
    PriorityTx::Deposit(Deposit {
        chain_id: d.chain_id,
        serial_id: SerialId(log.serialId),
        from: to,
        to,
        sub_account_id: d.sub_account_id,
        l1_token: d.l1_token,
        l2_token: d.l2_token,
        amount: d.amount,
    })
}

/// `info` with its on-chain ops replaced by `ops` and this chain's hash recomputed, so that only
/// the queue check can object.
fn with_ops(info: &CommitBlockInfo, ops: &[Vec<u8>]) -> CommitBlockInfo {
    let mut forged = info.clone();
    forged.onchainOps = Bytes::from(ops.concat());
    let h = ops.iter().fold([0u8; 32], |h, op| roll_chain_hash(&h, op));
    forged.chainHashes[CHAIN as usize - 1] = FixedBytes::from(h);
    forged
}

fn ops_of(info: &CommitBlockInfo) -> Vec<Vec<u8>> {
    info.onchainOps.chunks(48).map(|c| c.to_vec()).collect()
}

/// Commits one block: the revert's error if `eth_call` rejects it, else the mined transaction.
async fn commit(s: &Setup, prev: &StoredBlockInfo, info: CommitBlockInfo) -> Result<(), ZkLink::ZkLinkErrors> {
    let call = s.zklink.commitBlocks(prev.clone(), vec![info]);
    call.call().await.map_err(revert_of)?;
    let receipt = call.send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    println!("commitBlocks (one block, 2 deposits, non-DA chain): {} gas", receipt.gas_used);
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn deposits_commit_and_prove_on_anvil() {
    let Some(anvil) = anvil_for_tests(7_013).expect("start anvil") else { return };
    let mut s = setup(anvil.provider(0).expect("dev account"), anvil.address(0).unwrap()).await;
    let (alice, bob) = (s.net.user(0).address, s.net.user(1).address);

    // Rejected deposits: zero, above the cap, an unlisted token, a non-stablecoin mapped to USD.
    let err = s.zklink.depositERC20(*s.usdc.address(), 0, alice, 0, true).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::BadDeposit(_)));
    let err = s.zklink.depositERC20(Address::repeat_byte(9), 1, alice, 0, true).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::TokenNotListed(_)));
    let err = s.zklink.depositERC20(*s.usdc.address(), 1, alice, 4, true).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::BadDeposit(_)), "sub-account 4 is out of the dev range");

    let d1 = deposit(&s, alice, 1_000_000).await;
    let d2 = deposit(&s, bob, 2_500_000).await;
    assert_eq!(s.zklink.totalOpenPriorityRequests().call().await.unwrap(), 2);

    // L2 executes both deposits: a 4-chunk block.
    let mut start = s.net.state().clone();
    for d in [&d1, &d2] {
        s.net.apply_priority(d).expect("the executor accepts the queued deposit");
    }
    let block: Block = s.net.seal().block.clone();
    assert_eq!(block.chunks, 4);
    let genesis = genesis_block(B256::from(fr_to_bytes(&start.root())));
    let (info, stored) = commit_info(&block, &[None, None], ChainId(CHAIN), false, &genesis).unwrap();

    // Attacks on the queue: a forged amount, a missing deposit, reordered deposits, an unqueued one.
    let ops = ops_of(&info);
    let mut forged_amount = ops.clone();
    forged_amount[1][26] ^= 1;
    for (what, forged) in [
        ("forged amount", with_ops(&info, &forged_amount)),
        ("missing deposit", with_ops(&info, &ops[1..])),
        ("reordered", with_ops(&info, &[ops[1].clone(), ops[0].clone()])),
    ] {
        let err = commit(&s, &genesis, forged).await.expect_err(what);
        assert!(matches!(err, ZkLink::ZkLinkErrors::PriorityQueueMismatch(_)), "{what}: {err:?}");
    }
    let err = commit(&s, &genesis, with_ops(&info, &[ops[0].clone(), ops[1].clone(), ops[1].clone()])).await;
    assert!(matches!(err, Err(ZkLink::ZkLinkErrors::PriorityQueueExhausted(_))), "unqueued deposit: {err:?}");
    let mut foreign = ops.clone();
    foreign[0][1] = 1;
    let err = commit(&s, &genesis, with_ops(&info, &foreign)).await;
    assert!(matches!(err, Err(ZkLink::ZkLinkErrors::BadOnchainOp(_))), "op of chain 1: {err:?}");
    let mut own_hash = info.clone();
    own_hash.chainHashes[CHAIN as usize - 1] = FixedBytes::from([1u8; 32]);
    assert!(matches!(commit(&s, &genesis, own_hash).await, Err(ZkLink::ZkLinkErrors::ChainHashMismatch(_))));
    let outsider = anvil.provider(1).unwrap();
    let err = ZkLink::new(*s.zklink.address(), outsider).commitBlocks(genesis.clone(), vec![info.clone()]).call().await;
    assert!(matches!(revert_of(err.unwrap_err()), ZkLink::ZkLinkErrors::NotValidator(_)));

    // The honest commit, stored exactly as computed off-chain.
    commit(&s, &genesis, info.clone()).await.expect("honest commit");
    assert_eq!(s.zklink.storedBlockHashes(1).call().await.unwrap(), stored_block_hash(&stored));
    assert_eq!(stored.commitment, B256::from(block.commitment().unwrap()));
    assert_eq!(s.zklink.totalBlocksCommitted().call().await.unwrap(), 1);

    // Prove with the real prover under the dev key of the 4-chunk shape.
    let preset = s.net.network().preset.clone();
    let store = KeyStore::new(dev_key_dir(&workspace_root()));
    let pk = store
        .load_or_setup(&BlockCircuit::shape_name(&preset, 3, 4), INSECURE_DEV_SEED, || {
            BlockCircuit::blank(&preset, 3, 4).unwrap()
        })
        .unwrap();
    let mut state = start;
    let witness = BlockWitness::build(&mut state, &block, &[None, None]).unwrap();
    let proof = proof_to_evm(&zklink_prover::prove(&pk, BlockCircuit::new(witness)).unwrap());
    let verifier = verifier::deploy(&s.provider, &pk.vk).await.unwrap();
    s.zklink.setBlockVerifier(4, *verifier.address()).send().await.unwrap().get_receipt().await.unwrap();

    let mut forged = proof;
    forged.swap(0, 6);
    forged.swap(1, 7);
    let err = s.zklink.proveBlocks(vec![stored.clone()], vec![4], vec![forged]).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::InvalidProof(_)), "forged proof");
    let err = s.zklink.proveBlocks(vec![stored.clone()], vec![16], vec![proof]).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::NoVerifier(_)), "no 16-chunk verifier yet");
    let mut other = stored.clone();
    other.commitment = B256::repeat_byte(7);
    let err = s.zklink.proveBlocks(vec![other], vec![4], vec![proof]).call().await.unwrap_err();
    assert!(matches!(revert_of(err), ZkLink::ZkLinkErrors::StoredBlockMismatch(_)), "forged commitment");
    let receipt =
        s.zklink.proveBlocks(vec![stored.clone()], vec![4], vec![proof]).send().await.unwrap().get_receipt().await;
    let receipt = receipt.unwrap();
    assert!(receipt.status());
    assert_eq!(s.zklink.totalBlocksProven().call().await.unwrap(), 1);
    println!("proveBlocks (one dev block): {} gas", receipt.gas_used);
}
