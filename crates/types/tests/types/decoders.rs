//! Encoders and decoders: every op and tx round-trips, and no decoder panics on any input.

use proptest::prelude::*;
use zklink_types::op::*;
use zklink_types::test_utils::E18;
use zklink_types::*;

fn addr(n: u8) -> Address {
    Address::with_last_byte(n)
}

fn sample_ops() -> Vec<Op> {
    vec![
        Op::Noop,
        Op::Deposit(DepositOp {
            chain_id: ChainId(2),
            account_id: AccountId(7),
            sub_account_id: SubAccountId(1),
            l1_token: TokenId(17),
            l2_token: TokenId(1),
            amount: u128::MAX,
            owner: addr(1),
        }),
        Op::TransferToNew(TransferToNewOp {
            from: AccountId(2),
            from_sub: SubAccountId(0),
            token: TokenId(32),
            amount: 5 * E18,
            to: AccountId(9),
            to_sub: SubAccountId(3),
            fee: 2040,
            to_address: addr(2),
        }),
        Op::Withdraw(WithdrawOp {
            chain_id: ChainId(3),
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(18),
            l2_token: TokenId(1),
            amount: 123_456_789,
            fee: 0,
            to: addr(3),
            nonce: Nonce(u32::MAX),
            fast_withdraw_fee_ratio: 10_000,
        }),
        Op::Transfer(TransferOp {
            from: AccountId(2),
            from_sub: SubAccountId(1),
            token: TokenId(32),
            to: AccountId(3),
            to_sub: SubAccountId(0),
            amount: 1,
            fee: 1,
        }),
        Op::FullExit(FullExitOp {
            chain_id: ChainId(1),
            account_id: AccountId(4),
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(32),
            l2_token: TokenId(32),
            amount: 0,
            owner: addr(4),
        }),
        Op::ChangePubKey(ChangePubKeyOp {
            chain_id: ChainId(1),
            account_id: AccountId(4),
            sub_account_id: SubAccountId(2),
            new_pk_hash: PubKeyHash([7; 20]),
            owner: addr(4),
            nonce: Nonce(3),
            fee_token: TokenId(18),
            fee: 100,
        }),
        Op::ForcedExit(ForcedExitOp {
            chain_id: ChainId(31),
            initiator: AccountId(2),
            initiator_sub: SubAccountId(0),
            target: AccountId(5),
            target_sub: SubAccountId(31),
            l1_token: TokenId(65535),
            l2_token: TokenId(65535),
            fee_token: TokenId(32),
            fee: 2047,
            amount: E18,
            target_address: addr(5),
        }),
        Op::OrderMatching(OrderMatchingOp {
            sub_account_id: SubAccountId(1),
            submitter: AccountId(10),
            fee_token: TokenId(18),
            fee: 10,
            maker: OrderFill {
                account_id: AccountId(2),
                slot_id: SlotId(5),
                nonce: OrderNonce((1 << 24) - 1),
                amount: 10 * E18,
                fee_ratio: 255,
            },
            taker: OrderFill {
                account_id: AccountId(3),
                slot_id: SlotId(65535),
                nonce: OrderNonce(0),
                amount: 3,
                fee_ratio: 0,
            },
            base_token: TokenId(32),
            quote_token: TokenId(18),
            maker_is_sell: true,
            base_amount: 3,
            quote_amount: u128::MAX,
        }),
        Op::CancelOrder(CancelOrderOp {
            account_id: AccountId(9),
            sub_account_id: SubAccountId(1),
            slot_id: SlotId(513),
            order_nonce: OrderNonce(MAX_ORDER_NONCE - 1),
            fee_token: TokenId(1),
            fee: 20,
        }),
        Op::CreatePool(CreatePoolOp {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(1),
            fee_token: TokenId(18),
            fee: 1000,
            pool: AccountId(11),
            params: PoolParams {
                kind: PoolKind::ConstantProduct,
                fee_bps: 30,
                protocol_share: 20,
                amp: 0,
                token_a: TokenId(18),
                token_b: TokenId(32),
                lp_token: TokenId(65535),
            },
        }),
        Op::AddLiquidity(AddLiquidityOp {
            account_id: AccountId(3),
            sub_account_id: SubAccountId(0),
            pool: AccountId(11),
            token_a: TokenId(18),
            amount_a: u128::MAX,
            amount_b: 1,
            shares: 7,
            fee: 2047,
        }),
        Op::RemoveLiquidity(RemoveLiquidityOp {
            account_id: AccountId(3),
            sub_account_id: SubAccountId(2),
            pool: AccountId(11),
            token_a: TokenId(18),
            shares: 5,
            amount_a: 6,
            amount_b: u128::MAX,
            fee: 0,
        }),
        Op::Swap(SwapOp {
            account_id: AccountId(4),
            sub_account_id: SubAccountId(0),
            pool: AccountId(11),
            token_in: TokenId(32),
            amount_in: (1 << 120) - 1,
            amount_out: 1,
            fee: 10,
            fee_bps: 1000,
            protocol_share: 100,
        }),
    ]
}

#[test]
fn every_op_roundtrips_through_pubdata() {
    let mut all = Vec::new();
    for op in sample_ops() {
        let bytes = op.pubdata().unwrap();
        assert_eq!(bytes.len(), op.chunks() * CHUNK_BYTES, "{op:?}");
        assert_eq!(bytes[0], op.code());
        if let Some(chain) = op.chain_id() {
            assert_eq!(bytes[1], chain.0, "on-chain ops carry their chain in byte 1");
        }
        let (decoded, len) = Op::from_pubdata(&bytes).unwrap();
        assert_eq!((decoded, len), (op.clone(), bytes.len()));
        all.extend(bytes);
    }
    assert_eq!(decode_pubdata(&all).unwrap(), sample_ops());
}

#[test]
fn layouts_fit_their_chunks_exactly_as_documented() {
    // Used bytes per op (docs/protocol.md §8): the rest of the chunks is zero padding.
    let used = [1usize, 47, 40, 55, 20, 47, 55, 56, 77, 15, 26, 62, 62, 47];
    for (op, used) in sample_ops().iter().zip(used) {
        let bytes = op.pubdata().unwrap();
        assert!(used <= bytes.len());
        assert!(bytes.len() - used < CHUNK_BYTES, "{op:?} wastes a whole chunk");
    }
}

#[test]
fn pubdata_decoder_rejects_bad_input() {
    assert!(matches!(Op::from_pubdata(&[0x0e; 24]), Err(DecodeError::UnknownOpType(0x0e))));
    let mut transfer = sample_ops()[4].pubdata().unwrap();
    transfer[23] = 1; // padding must be zero
    assert!(Op::from_pubdata(&transfer).is_err());
    let deposit = sample_ops()[1].pubdata().unwrap();
    assert!(matches!(Op::from_pubdata(&deposit[..30]), Err(DecodeError::UnexpectedEnd { .. })));
    assert!(decode_pubdata(&[0u8; 25]).is_err());
    let mut noop = vec![0u8; 24];
    noop[5] = 1;
    assert!(Op::from_pubdata(&noop).is_err());
}

fn sample_order(slot: u16) -> Order {
    Order {
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        slot_id: SlotId(slot),
        nonce: OrderNonce(77),
        base_token: TokenId(32),
        quote_token: TokenId(18),
        amount: 5 * E18,
        price: Price(1_234 * PRICE_ONE),
        is_sell: true,
        maker_fee_ratio: 3,
        taker_fee_ratio: 9,
        valid_from: 1_700_000_000,
        valid_until: 1_800_000_000,
        signature: TxSignature::default(),
    }
}

pub(crate) fn sample_txs() -> Vec<L2Tx> {
    vec![
        L2Tx::Transfer(Transfer {
            account_id: AccountId(2),
            from_sub_account_id: SubAccountId(0),
            to: addr(9),
            to_sub_account_id: SubAccountId(1),
            token: TokenId(32),
            amount: 5 * E18,
            fee: 1000,
            nonce: Nonce(3),
            signature: TxSignature::default(),
        }),
        L2Tx::Withdraw(Withdraw {
            to_chain_id: ChainId(2),
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            to: addr(9),
            l2_source_token: TokenId(1),
            l1_target_token: TokenId(18),
            amount: 123,
            fee: 5,
            nonce: Nonce(4),
            fast_withdraw_fee_ratio: 30,
            signature: TxSignature::default(),
        }),
        L2Tx::ChangePubKey(ChangePubKey {
            chain_id: ChainId(1),
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            new_pk_hash: PubKeyHash([3; 20]),
            fee_token: TokenId(18),
            fee: 0,
            nonce: Nonce(0),
            auth: ChangePubKeyAuth::Onchain,
            signature: TxSignature::default(),
        }),
        L2Tx::ForcedExit(ForcedExit {
            to_chain_id: ChainId(1),
            initiator_account_id: AccountId(2),
            initiator_sub_account_id: SubAccountId(0),
            target: addr(8),
            target_sub_account_id: SubAccountId(1),
            l2_source_token: TokenId(32),
            l1_target_token: TokenId(32),
            fee_token: TokenId(18),
            fee: 7,
            nonce: Nonce(9),
            signature: TxSignature::default(),
        }),
        L2Tx::OrderMatching(Box::new(OrderMatching {
            account_id: AccountId(5),
            sub_account_id: SubAccountId(0),
            nonce: Nonce(1),
            maker: sample_order(1),
            taker: Order { is_sell: false, account_id: AccountId(3), ..sample_order(2) },
            fee_token: TokenId(18),
            fee: 10,
            expect_base_amount: 0,
            expect_quote_amount: 9,
            signature: TxSignature::default(),
        })),
        L2Tx::CancelOrder(CancelOrder {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(1),
            slot_id: SlotId(3),
            order_nonce: OrderNonce(41),
            fee_token: TokenId(1),
            fee: 20,
            nonce: Nonce(12),
            signature: TxSignature::default(),
        }),
        L2Tx::CreatePool(CreatePool {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            kind: PoolKind::Stable,
            token_a: TokenId(17),
            token_b: TokenId(18),
            fee_bps: 4,
            protocol_share: 50,
            amp: 200,
            fee_token: TokenId(1),
            fee: 1000,
            nonce: Nonce(13),
            signature: TxSignature::default(),
        }),
        L2Tx::AddLiquidity(AddLiquidity {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(1),
            pool: AccountId(11),
            max_a: 4 * E18,
            max_b: u128::MAX,
            min_shares: 1,
            fee_token: TokenId(18),
            fee: 5,
            nonce: Nonce(14),
            valid_from: 0,
            valid_until: u32::MAX,
            signature: TxSignature::default(),
        }),
        L2Tx::RemoveLiquidity(RemoveLiquidity {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(1),
            pool: AccountId(11),
            shares: E18,
            min_a: 3,
            min_b: 0,
            fee_token: TokenId(18),
            fee: 0,
            nonce: Nonce(15),
            valid_from: 1_700_000_000,
            valid_until: 1_700_000_060,
            signature: TxSignature::default(),
        }),
        L2Tx::Swap(Swap {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            pool: AccountId(11),
            token_in: TokenId(32),
            exact_out: true,
            amount: E18,
            limit: 2 * E18,
            fee: 100,
            nonce: Nonce(16),
            valid_from: 5,
            valid_until: 6,
            signature: TxSignature::default(),
        }),
    ]
}

#[test]
fn signed_bytes_roundtrip_and_have_documented_lengths() {
    let lengths = [40usize, 55, 35, 40, 138, 19, 24, 74, 74, 59];
    for (tx, len) in sample_txs().into_iter().zip(lengths) {
        let bytes = tx.signed_bytes().unwrap();
        assert_eq!(bytes.len(), len, "{}", tx.kind());
        assert_eq!(decode_signed_tx(&bytes).unwrap(), tx);
        for cut in 0..bytes.len() {
            assert!(decode_signed_tx(&bytes[..cut]).is_err());
        }
    }
    assert_eq!(sample_order(1).signed_bytes().unwrap().len(), Order::SIGNED_BYTES);
}

#[test]
fn json_roundtrips() {
    for tx in sample_txs() {
        let json = serde_json::to_string(&tx).unwrap();
        assert_eq!(serde_json::from_str::<L2Tx>(&json).unwrap(), tx);
    }
    for op in sample_ops() {
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
    }
    let json = serde_json::to_value(&sample_txs()[0]).unwrap();
    assert_eq!(json["type"], "Transfer");
    assert_eq!(json["amount"], "5000000000000000000", "u128 travels as a decimal string");
    assert!(serde_json::from_str::<L2Tx>(r#"{"type":"Transfer","amount":"-1"}"#).is_err());
}

#[test]
fn tx_hash_depends_on_every_signed_field() {
    let tx = &sample_txs()[0];
    let L2Tx::Transfer(mut t) = tx.clone() else { unreachable!() };
    t.nonce = Nonce(4);
    assert_ne!(tx.hash().unwrap(), L2Tx::Transfer(t).hash().unwrap());
}

proptest! {
    #[test]
    fn pubdata_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_pubdata(&bytes);
        let _ = Op::from_pubdata(&bytes);
    }

    #[test]
    fn signed_tx_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        let _ = decode_signed_tx(&bytes);
        let _ = decode_order(&bytes);
        let _ = TxSignature::from_bytes(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_valid_prefixes(code in 0u8..14, tail in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut bytes = vec![code];
        bytes.extend(tail);
        let _ = decode_pubdata(&bytes);
        let mut signed = vec![[0x03u8, 0x04, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0xff][code as usize % 11]];
        signed.extend(&bytes[1..]);
        let _ = decode_signed_tx(&signed);
    }

    #[test]
    fn tx_signature_verify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 96..=96)) {
        let sig = TxSignature::from_bytes(&bytes).unwrap();
        prop_assert!(sig.verify(zklink_crypto::Fr::from(1u64)).is_err());
    }
}
