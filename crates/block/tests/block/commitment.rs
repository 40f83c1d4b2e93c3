//! Block commitment, per-chain hashes, public input and sync hash, re-derived here directly
//! from the layout in docs/protocol.md §9 (with sha2 directly, not through the crate).

use sha2::{Digest, Sha256};
use zklink_block::*;
use zklink_crypto::Fr;
use zklink_types::op::{DepositOp, TransferOp, WithdrawOp};
use zklink_types::*;

fn sha(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

fn ops() -> Vec<Op> {
    vec![
        Op::Deposit(DepositOp {
            chain_id: ChainId(1),
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(17),
            l2_token: TokenId(1),
            amount: 1_000_000,
            owner: Address::with_last_byte(7),
        }),
        Op::Transfer(TransferOp {
            from: AccountId(2),
            from_sub: SubAccountId(0),
            token: TokenId(1),
            to: AccountId(3),
            to_sub: SubAccountId(0),
            amount: 10,
            fee: 1,
        }),
        // On-chain ops start at even chunks (the dev preset's period is 2): Noop chunks align them.
        Op::Noop,
        Op::Withdraw(WithdrawOp {
            chain_id: ChainId(3),
            account_id: AccountId(3),
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(18),
            l2_token: TokenId(1),
            amount: 5,
            fee: 0,
            to: Address::with_last_byte(9),
            nonce: Nonce(0),
            fast_withdraw_fee_ratio: 0,
        }),
        Op::Noop,
        Op::Deposit(DepositOp {
            chain_id: ChainId(1),
            account_id: AccountId(4),
            sub_account_id: SubAccountId(1),
            l1_token: TokenId(32),
            l2_token: TokenId(32),
            amount: 42,
            owner: Address::with_last_byte(8),
        }),
    ]
}

fn block() -> Block {
    Block {
        number: BlockNumber(7),
        timestamp: 1_700_000_000,
        old_root: Fr::from(11u64),
        new_root: Fr::from(22u64),
        ops: ops(),
        chunks: 16,
        chain_count: 3,
    }
}

#[test]
fn pubdata_is_padded_with_noop_chunks() {
    let b = block();
    let pubdata = b.pubdata().unwrap();
    assert_eq!(b.used_chunks(), 2 + 1 + 1 + 3 + 1 + 2);
    assert_eq!(pubdata.len(), 16 * CHUNK_BYTES);
    assert!(pubdata[10 * CHUNK_BYTES..].iter().all(|&x| x == 0));
    assert_eq!(Block::ops_from_pubdata(&pubdata).unwrap(), ops());
}

#[test]
fn chain_hashes_roll_over_each_chains_onchain_ops_only() {
    let b = block();
    let o = ops();
    let h1 = sha(&[[0u8; 32].as_slice(), &o[0].pubdata().unwrap()].concat());
    let h1 = sha(&[h1.as_slice(), &o[5].pubdata().unwrap()].concat());
    let h3 = sha(&[[0u8; 32].as_slice(), &o[3].pubdata().unwrap()].concat());
    assert_eq!(b.chain_hashes().unwrap(), vec![h1, [0u8; 32], h3]);
    assert_eq!(b.onchain_ops(ChainId(1)).unwrap().len(), 2);
    assert_eq!(b.onchain_ops(ChainId(2)).unwrap().len(), 0);
}

#[test]
fn commitment_follows_the_documented_layout() {
    let b = block();
    let mut pre = Vec::new();
    pre.extend_from_slice(&7u32.to_be_bytes());
    pre.extend_from_slice(&1_700_000_000u64.to_be_bytes());
    let mut root = [0u8; 32];
    root[31] = 11;
    pre.extend_from_slice(&root);
    root[31] = 22;
    pre.extend_from_slice(&root);
    pre.extend_from_slice(&sha(&b.pubdata().unwrap()));
    for h in b.chain_hashes().unwrap() {
        pre.extend_from_slice(&h);
    }
    assert_eq!(pre.len(), 4 + 8 + 32 * 6);
    assert_eq!(b.commitment().unwrap(), sha(&pre));
}

#[test]
fn golden_commitment_vector() {
    // Pinned so that any change to the encoding is deliberate: the L1 contracts and the circuit
    // must produce the same bytes.
    let c = block().commitment().unwrap();
    assert_eq!(hex::encode(c), GOLDEN);
}

const GOLDEN: &str = "1933c80e3c0f5c91863e394b5103872f725e9cca28d1acd117062f4b00878b5c";

#[test]
fn public_input_is_the_commitment_reduced_to_253_bits() {
    let mut c = [0xffu8; 32];
    let pi = public_input(&c);
    c[0] = 0x1f;
    assert_eq!(fr_to_bytes(&pi), c);
    let b = block();
    let pi = b.public_input().unwrap();
    let mut expect = b.commitment().unwrap();
    expect[0] &= 0x1f;
    assert_eq!(fr_to_bytes(&pi), expect);
}

#[test]
fn sync_hash_chains_commitments() {
    let c1 = [1u8; 32];
    let c2 = [2u8; 32];
    let s1 = sync_hash(&[0u8; 32], &c1);
    let s2 = sync_hash(&s1, &c2);
    assert_eq!(s1, zklink_crypto::keccak256(&[[0u8; 32], c1].concat()));
    assert_ne!(s2, sync_hash(&[0u8; 32], &c2), "history is part of the sync hash");
}

#[test]
fn block_shape_errors() {
    let preset = Preset::dev();
    assert_eq!(block_size_for(&preset, 0, 0).unwrap(), 4);
    assert_eq!(block_size_for(&preset, 5, 4).unwrap(), 16);
    assert_eq!(block_size_for(&preset, 17, 0), Err(BlockError::TooManyChunks { used: 17, max: 16 }));
    // Dev shapes have 4 credit slots each (max(4, chunks / 8)): a fifth credited leaf fits none.
    assert_eq!(block_size_for(&preset, 3, 5), Err(BlockError::TooManyCredits { keys: 5, max: 4 }));
    let main = Preset::main();
    assert_eq!(main.credit_slots(16), 4);
    assert_eq!(block_size_for(&main, 3, 5).unwrap(), 64, "main-64 has 8 credit slots");
    let mut b = block();
    b.chunks = 4;
    assert!(matches!(b.pubdata(), Err(BlockError::TooManyChunks { used: 10, max: 4 })));
    let mut b = block();
    b.chain_count = 2;
    assert_eq!(b.chain_hashes(), Err(BlockError::UnknownChain { chain: ChainId(3), chains: 2 }));
}
