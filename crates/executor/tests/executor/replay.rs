//! Replaying ops from pubdata (what a restore from L1 does) refuses ops that do not fit the
//! rebuilt state, and a refused op changes nothing.

use zklink_executor::testkit::TestNet;
use zklink_executor::ReplayError;
use zklink_types::op::{CancelOrderOp, DepositOp, TransferOp, WithdrawOp};
use zklink_types::test_utils::{E18, WETH};
use zklink_types::*;

/// A net whose users 0 and 1 hold 10 WETH each (accounts 2 and 3).
fn funded() -> TestNet {
    let mut net = TestNet::dev();
    for n in 0..2 {
        let u = net.user(n);
        net.deposit(1, &u, 0, WETH, WETH, 10 * E18);
    }
    net
}

fn deposit(account: u32, owner: Address, amount: u128) -> Op {
    Op::Deposit(DepositOp {
        chain_id: ChainId(1),
        account_id: AccountId(account),
        sub_account_id: SubAccountId(0),
        l1_token: TokenId(WETH),
        l2_token: TokenId(WETH),
        amount,
        owner,
    })
}

fn assert_refused(net: &mut TestNet, op: Op, check: impl Fn(&ReplayError) -> bool) {
    let before = net.exec.root();
    let err = net.exec.apply_op(&op).expect_err("op must be refused");
    assert!(check(&err), "unexpected error: {err}");
    assert_eq!(net.exec.root(), before, "a refused op must not change the state");
}

#[test]
fn ops_that_contradict_the_state_are_refused() {
    let mut net = funded();
    let (a, b) = (net.user(0).address, net.user(1).address);
    let new = net.user(7).address;
    let mismatch = |e: &ReplayError| matches!(e, ReplayError::Mismatch { .. });

    // A deposit naming someone else's account, or skipping an id.
    assert_refused(&mut net, deposit(2, b, E18), mismatch);
    assert_refused(&mut net, deposit(9, new, E18), mismatch);
    // An existing owner under a new id.
    assert_refused(&mut net, deposit(4, a, E18), mismatch);
    // A withdrawal stating a nonce the account is not at.
    let withdraw = Op::Withdraw(WithdrawOp {
        chain_id: ChainId(1),
        account_id: AccountId(2),
        sub_account_id: SubAccountId(0),
        l1_token: TokenId(WETH),
        l2_token: TokenId(WETH),
        amount: E18,
        fee: 0,
        to: a,
        nonce: Nonce(5),
        fast_withdraw_fee_ratio: 0,
    });
    assert_refused(&mut net, withdraw, mismatch);
    // A transfer of more than the balance.
    let transfer = Op::Transfer(TransferOp {
        from: AccountId(2),
        from_sub: SubAccountId(0),
        token: TokenId(WETH),
        to: AccountId(3),
        to_sub: SubAccountId(0),
        amount: 11 * E18,
        fee: 0,
    });
    assert_refused(&mut net, transfer, |e| matches!(e, ReplayError::Tx(TxError::InsufficientBalance { .. })));

    // A hard cancel that would move a slot back, or past the last order nonce.
    let cancel = |order_nonce: u32| {
        Op::CancelOrder(CancelOrderOp {
            account_id: AccountId(2),
            sub_account_id: SubAccountId(0),
            slot_id: SlotId(1),
            order_nonce: OrderNonce(order_nonce),
            fee_token: TokenId(WETH),
            fee: 0,
        })
    };
    net.exec.apply_op(&cancel(4)).expect("the slot moves to nonce 5");
    let slot = net.exec.state().order_slot(AccountId(2), SubAccountId(0), SlotId(1));
    assert_eq!((slot.nonce, slot.residue), (OrderNonce(5), 0));
    assert_refused(&mut net, cancel(3), mismatch);
    assert_refused(&mut net, cancel(MAX_ORDER_NONCE), mismatch);

    // The honest next deposit applies.
    net.exec.apply_op(&deposit(4, new, E18)).expect("the next id for a new owner");
    assert_eq!(net.exec.state().balance(AccountId(4), SubAccountId(0), TokenId(WETH)), E18);
}
