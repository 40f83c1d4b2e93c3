//! Every execution rule: the happy path and each rejection with its exact error. Every
//! rejection must also leave the state root unchanged.

use zklink_executor::testkit::{TestNet, TestUser};
use zklink_executor::AuthFacts;
use zklink_types::test_utils::{E18, USD, USDC, USDT, WETH};
use zklink_types::*;

fn assert_rejected(net: &mut TestNet, tx: L2Tx, expected: TxError) {
    let before = net.exec.root();
    let err = net.apply_l2(tx).expect_err("tx must be rejected");
    assert_eq!(err, expected);
    assert_eq!(net.exec.root(), before, "a rejected tx must not change the state");
}

fn assert_priority_rejected(net: &mut TestNet, tx: PriorityTx, expected: TxError) {
    let before = net.exec.root();
    let err = net.apply_priority(&tx).expect_err("request must be rejected");
    assert_eq!(err, expected);
    assert_eq!(net.exec.root(), before);
}

/// A net with two activated users holding 100 WETH and 1000 USDT each on chain 1.
fn funded() -> (TestNet, TestUser, TestUser) {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    for u in [&a, &b] {
        net.deposit(1, u, 0, WETH, WETH, 100 * E18);
        net.deposit(1, u, 0, USDT, USDT, 1000 * E18);
        net.activate(u);
    }
    (net, a, b)
}

fn balance(net: &TestNet, u: &TestUser, token: u16) -> u128 {
    net.state().balance(net.id_of(u), SubAccountId(0), TokenId(token))
}

fn reserve(net: &TestNet, chain: u8, token: u16) -> u128 {
    net.state().balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(chain), TokenId(token))
}

// ---------------------------------------------------------------- deposits and full exits

#[test]
fn deposit_creates_account_and_credits_reserve() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(2, &a, 1, WETH, WETH, 5 * E18);
    let id = net.id_of(&a);
    assert_eq!(id, FIRST_USER_ACCOUNT_ID);
    assert_eq!(net.state().balance(id, SubAccountId(1), TokenId(WETH)), 5 * E18);
    assert_eq!(reserve(&net, 2, WETH), 5 * E18);
    // A second deposit reuses the account.
    net.deposit(1, &a, 1, WETH, WETH, E18);
    assert_eq!(net.state().account_count(), 3);
    assert_eq!(reserve(&net, 1, WETH), E18);
}

#[test]
fn stablecoins_from_different_chains_merge_into_usd() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, USDC, USD, 100 * E18);
    net.deposit(2, &a, 0, USDT, USD, 50 * E18);
    assert_eq!(balance(&net, &a, USD), 150 * E18);
    assert_eq!(reserve(&net, 1, USDC - 15), 100 * E18);
    assert_eq!(reserve(&net, 2, USDT - 15), 50 * E18);
    assert_eq!(reserve(&net, 1, USDC), 0, "mapped deposits are reserved under the USD reserve id");
}

#[test]
fn deposit_rejections() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    let tx = net.deposit_tx(4, a.address, 0, WETH, WETH, E18);
    assert_priority_rejected(
        &mut net,
        tx,
        TxError::InvalidChain { chain: ChainId(4), reason: "not connected to this network" },
    );
    let tx = net.deposit_tx(1, a.address, 0, WETH, USD, E18);
    assert!(matches!(net.apply_priority(&tx), Err(TxError::InvalidTokenMapping { .. })));
    let tx = net.deposit_tx(1, a.address, 0, 33, 33, E18);
    assert_priority_rejected(&mut net, tx, TxError::TokenNotOnChain { token: TokenId(33), chain: ChainId(1) });
    let tx = net.deposit_tx(1, a.address, 0, WETH, WETH, 0);
    assert_priority_rejected(&mut net, tx, TxError::ZeroAmount);
    let tx = net.deposit_tx(1, a.address, 4, WETH, WETH, E18);
    assert_priority_rejected(&mut net, tx, TxError::SubAccountOutOfRange { sub: SubAccountId(4), max: 3 });
    let tx = net.deposit_tx(1, Address::ZERO, 0, WETH, WETH, E18);
    assert!(matches!(net.apply_priority(&tx), Err(TxError::InvalidAddress(_))));
    let tx = net.deposit_tx(1, GLOBAL_ASSET_ADDRESS, 0, WETH, WETH, E18);
    assert!(matches!(net.apply_priority(&tx), Err(TxError::InvalidAddress(_))));
    let tx = net.deposit_tx(1, a.address, 0, 2, 2, E18);
    assert!(matches!(net.apply_priority(&tx), Err(TxError::InvalidToken { token: TokenId(2), .. })));
}

#[test]
fn deposit_overflow_is_rejected_without_change() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, WETH, WETH, u128::MAX);
    let tx = net.deposit_tx(2, a.address, 0, WETH, WETH, 1);
    let id = net.id_of(&a);
    assert_priority_rejected(
        &mut net,
        tx,
        TxError::BalanceOverflow { account: id, sub: SubAccountId(0), token: TokenId(WETH) },
    );
}

#[test]
fn full_exit_is_capped_by_the_chain_reserve() {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    net.deposit(1, &a, 0, WETH, WETH, 10 * E18);
    net.deposit(2, &a, 0, WETH, WETH, 3 * E18);
    net.deposit(2, &b, 0, WETH, WETH, E18);
    let id = net.id_of(&a);
    let tx = net.full_exit_tx(2, id, a.address, 0, WETH, WETH);
    let op = net.apply_priority(&tx).unwrap().op;
    // Chain 2 holds 4 WETH: all of it goes to a, 9 stay on L2.
    let Op::FullExit(exit) = op else { panic!("expected a full exit op") };
    assert_eq!(exit.amount, 4 * E18);
    assert_eq!(balance(&net, &a, WETH), 9 * E18);
    assert_eq!(reserve(&net, 2, WETH), 0);
}

#[test]
fn invalid_full_exit_is_included_with_zero_amount() {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    net.deposit(1, &a, 0, WETH, WETH, 10 * E18);
    let id = net.id_of(&a);
    let before = net.exec.root();
    for tx in [
        net.full_exit_tx(1, id, b.address, 0, WETH, WETH), // not the owner
        net.full_exit_tx(1, AccountId(40), a.address, 0, WETH, WETH), // no such account
        net.full_exit_tx(1, GLOBAL_ASSET_ACCOUNT_ID, a.address, 1, WETH, WETH), // reserves cannot exit
        net.full_exit_tx(1, id, a.address, 0, WETH, USD),  // invalid mapping
    ] {
        let op = net.apply_priority(&tx).unwrap().op;
        let Op::FullExit(exit) = op else { panic!("expected a full exit op") };
        assert_eq!(exit.amount, 0);
    }
    assert_eq!(net.exec.root(), before);
}

#[test]
fn full_exit_rounds_down_to_l1_precision() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, USDC, USDC, 5_000_000_000_000); // 5·10^12 = 5 micro-USDC
    net.activate(&a);
    let b = net.user(1);
    net.deposit(1, &b, 0, USDC, USDC, 10_000_000_000_000);
    // Leave a dust balance below one micro-USDC on a.
    let tx = net.transfer_tx(&a, b.address, USDC, 1, 0);
    net.apply_l2(tx).unwrap();
    let id = net.id_of(&a);
    let tx = net.full_exit_tx(1, id, a.address, 0, USDC, USDC);
    let Op::FullExit(exit) = net.apply_priority(&tx).unwrap().op else { panic!() };
    assert_eq!(exit.amount, 4_000_000_000_000);
    assert_eq!(balance(&net, &a, USDC), 999_999_999_999);
}

// ---------------------------------------------------------------- change pubkey

#[test]
fn change_pubkey_sets_the_key() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, USDT, USDT, E18);
    net.activate(&a);
    let acc = net.state().account(net.id_of(&a)).unwrap();
    assert_eq!(acc.pubkey_hash, a.pkh);
    assert_eq!(acc.nonce, Nonce(1));
}

#[test]
fn change_pubkey_rejections() {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    net.deposit(1, &a, 0, USDT, USDT, E18);
    net.deposit(1, &b, 0, USDT, USDT, E18);
    let id = net.id_of(&a);

    // Wrong nonce.
    let L2Tx::ChangePubKey(mut t) = net.change_pubkey_tx(&a) else { unreachable!() };
    t.nonce = Nonce(5);
    let tx = L2Tx::ChangePubKey(t).sign(&a.l2).unwrap();
    assert!(matches!(net.apply_l2(tx), Err(TxError::NonceMismatch { got: Nonce(5), expected: Nonce(0), .. })));

    // L2-signed by a key other than the new one.
    let tx = net.change_pubkey_tx(&a).sign(&b.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: id, expected: a.pkh.to_string(), got: b.pkh.to_string() },
    );

    // L1 authorisation by someone else.
    let L2Tx::ChangePubKey(t) = net.change_pubkey_tx(&b) else { unreachable!() };
    let L2Tx::ChangePubKey(mut t_a) = net.change_pubkey_tx(&a) else { unreachable!() };
    t_a.auth = t.auth; // b's EIP-712 signature is over b's key, nonce and account
    let tx = L2Tx::ChangePubKey(t_a).sign(&a.l2).unwrap();
    assert!(matches!(net.apply_l2(tx.clone()), Err(TxError::BadL1Auth(_))));

    // On-chain authorisation without the fact, then with it.
    let L2Tx::ChangePubKey(mut t) = net.change_pubkey_tx(&a) else { unreachable!() };
    t.auth = ChangePubKeyAuth::Onchain;
    let tx = L2Tx::ChangePubKey(t).sign(&a.l2).unwrap();
    assert_rejected(&mut net, tx.clone(), TxError::MissingAuthFact { account: id, nonce: Nonce(0), chain: ChainId(1) });
    let facts: &mut AuthFacts = net.exec.auth_facts_mut();
    facts.insert(ChainId(1), a.address, a.pkh, Nonce(0));
    net.apply_l2(tx.clone()).unwrap();
    // Replaying it fails on the nonce.
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: id, expected: Nonce(1), got: Nonce(0) });

    // Fee larger than the balance.
    let L2Tx::ChangePubKey(mut t) = net.change_pubkey_tx(&b) else { unreachable!() };
    t.fee = 2 * E18;
    let tx = L2Tx::ChangePubKey(t).sign(&b.l2).unwrap();
    let bid = net.id_of(&b);
    assert_rejected(
        &mut net,
        tx,
        TxError::InsufficientBalance {
            account: bid,
            sub: SubAccountId(0),
            token: TokenId(USDT),
            available: E18,
            required: 2 * E18,
        },
    );
}

#[test]
fn the_global_asset_account_can_never_get_a_key() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, USDT, USDT, E18);
    let L2Tx::ChangePubKey(mut t) = net.change_pubkey_tx(&a) else { unreachable!() };
    t.account_id = GLOBAL_ASSET_ACCOUNT_ID;
    t.nonce = Nonce(0);
    let tx = L2Tx::ChangePubKey(t).sign(&a.l2).unwrap();
    assert!(matches!(net.apply_l2(tx), Err(TxError::ReservedAccount { account: GLOBAL_ASSET_ACCOUNT_ID, .. })));
}

// ---------------------------------------------------------------- transfers

#[test]
fn transfer_to_existing_and_new_accounts() {
    let (mut net, a, b) = funded();
    let tx = net.transfer_tx(&a, b.address, WETH, 3 * E18, 1_000);
    let op = net.apply_l2(tx).unwrap().op;
    assert!(matches!(op, Op::Transfer(_)));
    assert_eq!(balance(&net, &a, WETH), 97 * E18 - 1_000);
    assert_eq!(balance(&net, &b, WETH), 103 * E18);
    assert_eq!(net.state().balance(FEE_ACCOUNT_ID, SubAccountId(0), TokenId(WETH)), 1_000);

    let c = net.user(2);
    let tx = net.transfer_tx(&a, c.address, WETH, E18, 0);
    let op = net.apply_l2(tx).unwrap().op;
    let Op::TransferToNew(t) = op else { panic!("expected TransferToNew") };
    assert_eq!(t.to_address, c.address);
    assert_eq!(balance(&net, &c, WETH), E18);
    assert!(net.state().account(net.id_of(&c)).unwrap().pubkey_hash.is_zero());
}

#[test]
fn transfer_rejections() {
    let (mut net, a, b) = funded();
    let id = net.id_of(&a);

    // Tampered after signing.
    let L2Tx::Transfer(mut t) = net.transfer_tx(&a, b.address, WETH, E18, 0) else { unreachable!() };
    t.amount = 2 * E18;
    assert!(matches!(net.apply_l2(L2Tx::Transfer(t)), Err(TxError::BadSignature(_))));

    // Signed by b's key for a's account.
    let tx = net.transfer_tx(&a, b.address, WETH, E18, 0).sign(&b.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: id, expected: a.pkh.to_string(), got: b.pkh.to_string() },
    );

    // Insufficient balance (amount + fee).
    let tx = net.transfer_tx(&a, b.address, WETH, 100 * E18, 1);
    assert_rejected(
        &mut net,
        tx,
        TxError::InsufficientBalance {
            account: id,
            sub: SubAccountId(0),
            token: TokenId(WETH),
            available: 100 * E18,
            required: 100 * E18 + 1,
        },
    );

    // Same account and sub-account.
    let tx = net.transfer_tx(&a, a.address, WETH, E18, 0);
    assert_rejected(&mut net, tx, TxError::SelfTransfer);

    // Not packable, zero, to the global account.
    let tx = net.transfer_tx(&a, b.address, WETH, 123_456_789_012_345, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::NotPackable { .. })));
    let tx = net.transfer_tx(&a, b.address, WETH, 0, 0);
    assert_rejected(&mut net, tx, TxError::ZeroAmount);
    let tx = net.transfer_tx(&a, GLOBAL_ASSET_ADDRESS, WETH, E18, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InvalidAddress(_))));

    // Reserve ids and out-of-range tokens cannot be moved by users.
    let tx = net.transfer_tx(&a, b.address, 2, E18, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InvalidToken { token: TokenId(2), .. })));
    let tx = net.transfer_tx(&a, b.address, 64, E18, 0);
    assert_rejected(&mut net, tx, TxError::TokenOutOfRange { token: TokenId(64), max: 63 });

    // Replay.
    let tx = net.transfer_tx(&a, b.address, WETH, E18, 0);
    net.apply_l2(tx.clone()).unwrap();
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: id, expected: Nonce(2), got: Nonce(1) });
}

#[test]
fn keyless_accounts_cannot_sign() {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    net.deposit(1, &a, 0, WETH, WETH, E18);
    net.deposit(1, &b, 0, WETH, WETH, E18);
    let tx = net.transfer_tx(&a, b.address, WETH, E18, 0);
    let id = net.id_of(&a);
    assert_rejected(&mut net, tx, TxError::NoPubKey(id));
}

#[test]
fn account_tree_full_is_a_clean_error() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, WETH, WETH, 100 * E18);
    net.activate(&a);
    // dev: 64 account ids, 0..=2 used; fill the rest by deposits.
    for n in 1..62 {
        let u = TestUser::new(n, net.network());
        net.deposit(1, &u, 0, WETH, WETH, 1);
    }
    assert_eq!(net.state().account_count(), 64);
    let newcomer = net.user(1000);
    let tx = net.transfer_tx(&a, newcomer.address, WETH, E18, 0);
    assert_rejected(&mut net, tx, TxError::AccountTreeFull { capacity: 64 });
}

// ---------------------------------------------------------------- withdrawals

#[test]
fn usd_withdrawal_is_limited_by_the_target_chain_reserve() {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    net.deposit(1, &a, 0, USDC, USD, 100 * E18);
    net.activate(&a);
    let id = net.id_of(&a);
    // Chain 3 holds no USDT-backed USD yet.
    let tx = net.withdraw_tx(&a, 3, USD, USDT, 30 * E18, 0, 0);
    assert_rejected(
        &mut net,
        tx,
        TxError::InsufficientReserve {
            chain: ChainId(3),
            reserve: TokenId(USDT - 15),
            available: 0,
            required: 30 * E18,
        },
    );
    // b brings 50 USDT (as USD) on chain 3; now a can take 30 USD out as USDT there.
    net.deposit(3, &b, 0, USDT, USD, 50 * E18);
    let tx = net.withdraw_tx(&a, 3, USD, USDT, 30 * E18, 1_000, 0);
    let Op::Withdraw(w) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!((w.chain_id, w.l1_token, w.l2_token, w.amount), (ChainId(3), TokenId(USDT), TokenId(USD), 30 * E18));
    assert_eq!(balance(&net, &a, USD), 70 * E18 - 1_000);
    assert_eq!(reserve(&net, 3, USDT - 15), 20 * E18);
    assert_eq!(net.state().account(id).unwrap().nonce, Nonce(2));
}

#[test]
fn withdraw_rejections() {
    let (mut net, a, _) = funded();
    let tx = net.withdraw_tx(&a, 1, USDT, USDT, E18, 0, 10_001);
    assert_rejected(&mut net, tx, TxError::FeeRatioTooHigh(10_001));
    let tx = net.withdraw_tx(&a, 1, WETH, USDT, E18, 0, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InvalidTokenMapping { .. })));
    let tx = net.withdraw_tx(&a, 4, USDT, USDT, E18, 0, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InvalidChain { .. })));
    let tx = net.withdraw_tx(&a, 1, WETH, WETH, 1000 * E18, 0, 0);
    assert_rejected(
        &mut net,
        tx,
        TxError::InsufficientReserve {
            chain: ChainId(1),
            reserve: TokenId(WETH),
            available: 200 * E18,
            required: 1000 * E18,
        },
    );

    // USDC has 6 decimals: the amount must be a multiple of 10^12.
    let mut net = TestNet::dev();
    let c = net.user(5);
    net.deposit(1, &c, 0, USDC, USDC, 10 * E18);
    net.activate(&c);
    let tx = net.withdraw_tx(&c, 1, USDC, USDC, E18 + 1, 0, 0);
    assert_rejected(
        &mut net,
        tx,
        TxError::AmountBelowL1Precision { amount: E18 + 1, decimals: 6, chain: ChainId(1), unit: 1_000_000_000_000 },
    );
}

// ---------------------------------------------------------------- forced exit

#[test]
fn forced_exit_of_a_keyless_account() {
    let (mut net, a, b) = funded();
    let c = net.user(2);
    net.deposit(2, &c, 1, WETH, WETH, 7 * E18);
    let tx = L2Tx::ForcedExit(ForcedExit {
        to_chain_id: ChainId(2),
        initiator_account_id: net.id_of(&a),
        initiator_sub_account_id: SubAccountId(0),
        target: c.address,
        target_sub_account_id: SubAccountId(1),
        l2_source_token: TokenId(WETH),
        l1_target_token: TokenId(WETH),
        fee_token: TokenId(USDT),
        fee: 5,
        nonce: net.nonce_of(&a),
        signature: TxSignature::default(),
    })
    .sign(&a.l2)
    .unwrap();
    let Op::ForcedExit(f) = net.apply_l2(tx.clone()).unwrap().op else { panic!() };
    assert_eq!(f.amount, 7 * E18);
    assert_eq!(net.state().balance(net.id_of(&c), SubAccountId(1), TokenId(WETH)), 0);
    assert_eq!(reserve(&net, 2, WETH), 0);
    assert_eq!(balance(&net, &a, USDT), 1000 * E18 - 5);

    // Again: nothing left. Against an account with a key: rejected.
    let L2Tx::ForcedExit(mut t) = tx else { unreachable!() };
    t.nonce = net.nonce_of(&a);
    let again = L2Tx::ForcedExit(t.clone()).sign(&a.l2).unwrap();
    assert_rejected(&mut net, again, TxError::NothingToExit);
    t.target = b.address;
    t.target_sub_account_id = SubAccountId(0);
    let keyed = L2Tx::ForcedExit(t.clone()).sign(&a.l2).unwrap();
    let bid = net.id_of(&b);
    assert_rejected(&mut net, keyed, TxError::TargetHasKey(bid));
    t.target = net.user(9).address;
    let unknown = L2Tx::ForcedExit(t).sign(&a.l2).unwrap();
    assert!(matches!(net.apply_l2(unknown), Err(TxError::InvalidAddress(_))));
}

// ---------------------------------------------------------------- order matching

/// a sells WETH for USDT, b buys.
fn trade_setup() -> (TestNet, TestUser, TestUser, TestUser) {
    let (mut net, a, b) = funded();
    let dex = net.user(3);
    net.deposit(1, &dex, 0, USDT, USDT, 10 * E18);
    net.activate(&dex);
    (net, a, b, dex)
}

#[test]
fn partial_fill_then_continue_then_replace() {
    let (mut net, a, b, dex) = trade_setup();
    let price = 2 * E18; // 2 USDT per WETH
                         // Maker a sells 10 WETH; taker b buys 4 at a higher limit.
    let maker = net.order(&a, 0, 0, WETH, USDT, 10 * E18, price, true);
    let taker = net.order(&b, 1, 0, WETH, USDT, 4 * E18, 3 * E18, false);
    let tx = net.matching_tx(&dex, maker.clone(), taker, USDT, 7);
    let Op::OrderMatching(m) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!((m.base_amount, m.quote_amount), (4 * E18, 8 * E18), "trade at the maker's price");
    // Fees: maker receives 8 USDT and pays 10/10^4 of it; taker receives 4 WETH and pays 20/10^4.
    let maker_fee = 8 * E18 * 10 / 10_000;
    let taker_fee = 4 * E18 * 20 / 10_000;
    assert_eq!(balance(&net, &a, WETH), 96 * E18);
    assert_eq!(balance(&net, &a, USDT), 1008 * E18 - maker_fee);
    assert_eq!(balance(&net, &b, WETH), 104 * E18 - taker_fee);
    assert_eq!(balance(&net, &b, USDT), 992 * E18);
    assert_eq!(balance(&net, &dex, USDT), 10 * E18 + maker_fee - 7);
    assert_eq!(balance(&net, &dex, WETH), taker_fee);
    let (aid, bid) = (net.id_of(&a), net.id_of(&b));
    assert_eq!(
        net.state().order_slot(aid, SubAccountId(0), SlotId(0)),
        zklink_state::OrderSlot { nonce: OrderNonce(0), residue: 6 * E18 }
    );
    assert_eq!(
        net.state().order_slot(bid, SubAccountId(0), SlotId(1)),
        zklink_state::OrderSlot { nonce: OrderNonce(1), residue: 0 },
        "a filled slot bumps its nonce"
    );

    // The same maker order continues with its residue against a new taker order.
    let taker2 = net.order(&b, 1, 1, WETH, USDT, 10 * E18, 2 * E18, false);
    let tx = net.matching_tx(&dex, maker, taker2, USDT, 0);
    let Op::OrderMatching(m) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!(m.base_amount, 6 * E18, "only the residue of the resting order is left");
    assert_eq!(
        net.state().order_slot(aid, SubAccountId(0), SlotId(0)),
        zklink_state::OrderSlot { nonce: OrderNonce(1), residue: 0 }
    );
    assert_eq!(
        net.state().order_slot(bid, SubAccountId(0), SlotId(1)),
        zklink_state::OrderSlot { nonce: OrderNonce(1), residue: 4 * E18 }
    );

    // b replaces its resting order (nonce + 1) with a smaller one.
    let maker3 = net.order(&a, 0, 1, WETH, USDT, 50 * E18, 2 * E18, true);
    let taker3 = net.order(&b, 1, 2, WETH, USDT, E18, 2 * E18, false);
    let tx = net.matching_tx(&dex, maker3, taker3, USDT, 0);
    let Op::OrderMatching(m) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!(m.base_amount, E18);
}

#[test]
fn order_matching_rejections() {
    let (mut net, a, b, dex) = trade_setup();
    let maker = net.order(&a, 0, 0, WETH, USDT, 10 * E18, 2 * E18, true);
    // A buying taker below the maker's price.
    let low = net.order(&b, 0, 0, WETH, USDT, E18, E18, false);
    let tx = net.matching_tx(&dex, maker.clone(), low, USDT, 0);
    assert_rejected(&mut net, tx, TxError::PricesDoNotCross("a buying taker's price must not be below the maker's"));
    // Both selling.
    let seller = net.order(&b, 0, 0, WETH, USDT, E18, 2 * E18, true);
    let tx = net.matching_tx(&dex, maker.clone(), seller, USDT, 0);
    assert_rejected(&mut net, tx, TxError::OrderMismatch("one order must buy and the other sell"));
    // Wrong slot nonce (slot is at 0, empty: only nonce 0 is usable).
    let skip = net.order(&b, 0, 1, WETH, USDT, E18, 2 * E18, false);
    let tx = net.matching_tx(&dex, maker.clone(), skip, USDT, 0);
    let bid = net.id_of(&b);
    assert_rejected(
        &mut net,
        tx,
        TxError::OrderNonceMismatch {
            account: bid,
            slot: SlotId(0),
            slot_nonce: OrderNonce(0),
            residue: 0,
            got: OrderNonce(1),
        },
    );
    // Order tampered after signing.
    let mut forged = net.order(&b, 0, 0, WETH, USDT, E18, 2 * E18, false);
    forged.amount = 100 * E18;
    let tx = net.matching_tx(&dex, maker.clone(), forged, USDT, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::BadSignature(_))));
    // The buyer cannot pay: 1000 USDT buys at most 500 WETH at 2.
    let big_maker = net.order(&a, 2, 0, WETH, USDT, 90 * E18, 20 * E18, true);
    let big_taker = net.order(&b, 0, 0, WETH, USDT, 90 * E18, 20 * E18, false);
    let tx = net.matching_tx(&dex, big_maker, big_taker, USDT, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InsufficientBalance { required, .. }) if required == 1800 * E18));
    // Quote cap.
    let taker = net.order(&b, 0, 0, WETH, USDT, E18, 2 * E18, false);
    let L2Tx::OrderMatching(mut m) = net.matching_tx(&dex, maker, taker, USDT, 0) else { unreachable!() };
    m.expect_quote_amount = E18;
    let tx = L2Tx::OrderMatching(m).sign(&dex.l2).unwrap();
    assert_rejected(&mut net, tx, TxError::ExpectedQuoteExceeded { quote: 2 * E18, cap: E18 });
}

#[test]
fn expect_base_caps_the_fill() {
    let (mut net, a, b, dex) = trade_setup();
    let maker = net.order(&a, 0, 0, WETH, USDT, 10 * E18, 2 * E18, true);
    let taker = net.order(&b, 0, 0, WETH, USDT, 10 * E18, 2 * E18, false);
    let L2Tx::OrderMatching(mut m) = net.matching_tx(&dex, maker, taker, USDT, 0) else { unreachable!() };
    m.expect_base_amount = 3 * E18;
    let tx = L2Tx::OrderMatching(m).sign(&dex.l2).unwrap();
    let Op::OrderMatching(op) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!(op.base_amount, 3 * E18);
}

/// `order` with its validity window set and signed again by `u`.
fn windowed(order: Order, u: &TestUser, valid_from: u32, valid_until: u32) -> Order {
    Order { valid_from, valid_until, ..order }.sign(&u.l2).unwrap()
}

#[test]
fn orders_fill_only_within_their_validity_window() {
    let (mut net, a, b, dex) = trade_setup();
    // The test net's open block has timestamp = its number; pin it.
    let now = 1_000;
    net.seal();
    net.exec.set_block_timestamp(now).unwrap();
    let (aid, bid) = (net.id_of(&a), net.id_of(&b));
    let maker = net.order(&a, 0, 0, WETH, USDT, 10 * E18, 2 * E18, true);
    let taker = net.order(&b, 0, 0, WETH, USDT, E18, 2 * E18, false);

    // Expired a second before the block's timestamp.
    let expired = windowed(maker.clone(), &a, 0, now as u32 - 1);
    let tx = net.matching_tx(&dex, expired, taker.clone(), USDT, 0);
    let err = TxError::OrderNotValidAt {
        account: aid,
        slot: SlotId(0),
        valid_from: 0,
        valid_until: now as u32 - 1,
        timestamp: now,
    };
    assert_rejected(&mut net, tx, err);
    // Not valid yet: the taker's window starts a second after.
    let early = windowed(taker.clone(), &b, now as u32 + 1, Order::NO_EXPIRY);
    let tx = net.matching_tx(&dex, maker.clone(), early, USDT, 0);
    let err = TxError::OrderNotValidAt {
        account: bid,
        slot: SlotId(0),
        valid_from: now as u32 + 1,
        valid_until: Order::NO_EXPIRY,
        timestamp: now,
    };
    assert_rejected(&mut net, tx, err);
    // A window widened after signing is a forgery.
    let mut stretched = windowed(maker.clone(), &a, 0, now as u32 - 1);
    stretched.valid_until = Order::NO_EXPIRY;
    let tx = net.matching_tx(&dex, stretched, taker.clone(), USDT, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::BadSignature(_))));
    // An empty window is refused before any state is read.
    let empty = windowed(maker.clone(), &a, 5, 4);
    let tx = net.matching_tx(&dex, empty, taker.clone(), USDT, 0);
    assert_rejected(&mut net, tx, TxError::OrderWindowEmpty { valid_from: 5, valid_until: 4 });
    // Both ends are inclusive.
    let exact_maker = windowed(maker, &a, now as u32, now as u32);
    let exact_taker = windowed(taker, &b, now as u32, now as u32);
    let tx = net.matching_tx(&dex, exact_maker, exact_taker, USDT, 0);
    let Op::OrderMatching(m) = net.apply_l2(tx).unwrap().op else { panic!() };
    assert_eq!(m.base_amount, E18);
    // The block carries the timestamp its orders were checked against.
    assert_eq!(net.seal().block.timestamp, now);
}

#[test]
fn the_open_block_timestamp_is_fixed_by_its_first_op() {
    let (mut net, a, b) = funded();
    net.seal();
    net.exec.set_block_timestamp(50).unwrap();
    net.exec.set_block_timestamp(60).unwrap();
    let tx = net.transfer_tx(&a, b.address, WETH, 1, 0);
    net.apply_l2(tx).unwrap();
    assert_eq!(net.exec.set_block_timestamp(70), Err(zklink_executor::TimestampFixed { current: 60, requested: 70 }));
    net.exec.set_block_timestamp(60).unwrap();
    assert_eq!(net.seal().block.timestamp, 60);
}

#[test]
fn hard_cancel_retires_every_order_of_the_slot_up_to_its_nonce() {
    let (mut net, a, b, dex) = trade_setup();
    let aid = net.id_of(&a);
    let slot = |net: &TestNet| net.state().order_slot(aid, SubAccountId(0), SlotId(0));
    // a's order 0 rests half filled: slot {0, 5}.
    let maker = net.order(&a, 0, 0, WETH, USDT, 10 * E18, 2 * E18, true);
    let taker = net.order(&b, 0, 0, WETH, USDT, 5 * E18, 2 * E18, false);
    net.apply_l2(net.matching_tx(&dex, maker.clone(), taker, USDT, 0)).unwrap();
    assert_eq!(slot(&net), zklink_state::OrderSlot { nonce: OrderNonce(0), residue: 5 * E18 });
    // a also signed a replacement (nonce 1) that the operator holds.
    let replacement = net.order(&a, 0, 1, WETH, USDT, 3 * E18, 2 * E18, true);

    let (usdt_before, fees_before) =
        (balance(&net, &a, USDT), net.state().balance(AccountId(0), SubAccountId(0), TokenId(USDT)));
    let nonce_before = net.nonce_of(&a);
    let cancel = net.cancel_tx(&a, 0, 1, USDT, 3);
    let Op::CancelOrder(op) = net.apply_l2(cancel).unwrap().op else { panic!() };
    assert_eq!((op.account_id, op.slot_id, op.order_nonce, op.fee), (aid, SlotId(0), OrderNonce(1), 3));
    assert_eq!(slot(&net), zklink_state::OrderSlot { nonce: OrderNonce(2), residue: 0 });
    assert_eq!(balance(&net, &a, USDT), usdt_before - 3, "the owner pays the fee");
    assert_eq!(net.state().balance(AccountId(0), SubAccountId(0), TokenId(USDT)), fees_before + 3);
    assert_eq!(net.nonce_of(&a), Nonce(nonce_before.0 + 1));

    // Neither the resting order nor the replacement can be filled any more, by anyone.
    for dead in [maker, replacement] {
        let nonce = dead.nonce;
        let taker = net.order(&b, 0, 1, WETH, USDT, E18, 2 * E18, false);
        let tx = net.matching_tx(&dex, dead, taker, USDT, 0);
        let err = TxError::OrderNonceMismatch {
            account: aid,
            slot: SlotId(0),
            slot_nonce: OrderNonce(2),
            residue: 0,
            got: nonce,
        };
        assert_rejected(&mut net, tx, err);
    }
    // The slot serves the owner's next order.
    let fresh = net.order(&a, 0, 2, WETH, USDT, E18, 2 * E18, true);
    let taker = net.order(&b, 0, 1, WETH, USDT, E18, 2 * E18, false);
    net.apply_l2(net.matching_tx(&dex, fresh, taker, USDT, 0)).unwrap();
}

#[test]
fn hard_cancel_rejections() {
    let (mut net, a, b, _) = trade_setup();
    let aid = net.id_of(&a);
    // The slot moves forward only: cancel up to 4, then up to 3 is refused.
    net.apply_l2(net.cancel_tx(&a, 2, 4, USDT, 0)).unwrap();
    let tx = net.cancel_tx(&a, 2, 3, USDT, 0);
    assert_rejected(
        &mut net,
        tx,
        TxError::CancelBelowSlot { account: aid, slot: SlotId(2), slot_nonce: OrderNonce(5), got: OrderNonce(3) },
    );
    // A replay: the same signed cancel again (its account nonce is used).
    let once = net.cancel_tx(&a, 2, 9, USDT, 0);
    net.apply_l2(once.clone()).unwrap();
    assert!(matches!(net.apply_l2(once), Err(TxError::NonceMismatch { .. })));
    // Signed by someone else's key.
    let L2Tx::CancelOrder(t) = net.cancel_tx(&a, 2, 20, USDT, 0) else { unreachable!() };
    let tx = L2Tx::CancelOrder(t).sign(&b.l2).unwrap();
    assert!(matches!(net.apply_l2(tx), Err(TxError::WrongSigner { .. })));
    // Tampered after signing.
    let L2Tx::CancelOrder(mut t) = net.cancel_tx(&a, 2, 20, USDT, 0) else { unreachable!() };
    t.slot_id = SlotId(3);
    assert!(matches!(net.apply_l2(L2Tx::CancelOrder(t)), Err(TxError::BadSignature(_))));
    // The last nonce has no successor.
    let tx = net.cancel_tx(&a, 2, MAX_ORDER_NONCE, USDT, 0);
    let err = TxError::FieldOutOfRange {
        field: "order nonce of a cancel",
        value: MAX_ORDER_NONCE.into(),
        max: (MAX_ORDER_NONCE - 1).into(),
    };
    assert_rejected(&mut net, tx, err);
    // A slot outside the preset.
    let slots = 1u32 << net.network().preset.slot_bits;
    let tx = net.cancel_tx(&a, slots as u16, 0, USDT, 0);
    assert!(matches!(net.apply_l2(tx), Err(TxError::SlotOutOfRange { .. })));
    // The fee must be affordable.
    let tx = net.cancel_tx(&a, 2, 30, WETH, 1000 * E18);
    assert!(matches!(net.apply_l2(tx), Err(TxError::InsufficientBalance { .. })));
}

#[test]
fn block_full_is_rejected_without_change() {
    let (mut net, a, b) = funded();
    // dev: the largest block has 16 chunks; activations and deposits already used some.
    while net.exec.free_chunks() > 0 {
        let tx = net.transfer_tx(&a, b.address, WETH, 1, 0);
        net.exec.apply_l2(tx).unwrap();
    }
    let tx = net.transfer_tx(&a, b.address, WETH, 1, 0);
    let before = net.exec.root();
    assert_eq!(net.exec.apply_l2(tx).unwrap_err(), TxError::BlockFull { needed: 1, available: 0 });
    assert_eq!(net.exec.root(), before);
}
