//! Every state update the executor records replays in-circuit: a block of real transactions
//! (dev preset, witness mode) satisfies the update constraints, and a tampered record does not.

use ark_relations::gr1cs::ConstraintSystem;
use zklink_circuit::update::replay_update;
use zklink_crypto::Fr;
use zklink_executor::testkit::TestNet;
use zklink_executor::{StateUpdate, UpdateWitness};
use zklink_types::test_utils::E18;
use zklink_types::Preset;

/// Deposits, key changes, a transfer to a new account, a withdrawal and an order match.
fn witnesses() -> Vec<UpdateWitness> {
    let mut net = TestNet::dev();
    net.exec.set_witness_mode(true);
    let (a, b, dex) = (net.user(0), net.user(1), net.user(2));
    let mut out = Vec::new();
    let mut record = |op: zklink_executor::ExecutedOp| out.extend(op.witness.expect("witness mode"));
    for u in [&a, &b, &dex] {
        let tx = net.deposit_tx(1, u.address, 0, 32, 32, 10 * E18);
        record(net.apply_priority(&tx).unwrap());
        let tx = net.deposit_tx(2, u.address, 0, 18, 18, 100 * E18);
        record(net.apply_priority(&tx).unwrap());
        let tx = net.change_pubkey_tx(u);
        record(net.apply_l2(tx).unwrap());
    }
    let tx = net.transfer_tx(&a, net.user(9).address, 32, E18, 1000);
    record(net.apply_l2(tx).unwrap());
    let tx = net.withdraw_tx(&b, 2, 18, 18, E18, 0, 30);
    record(net.apply_l2(tx).unwrap());
    let maker = net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let taker = net.order(&b, 1, 0, 32, 18, E18, 3 * E18, false);
    let tx = net.matching_tx(&dex, maker, taker, 18, 0);
    record(net.apply_l2(tx).unwrap());
    out
}

#[test]
fn executor_updates_replay_in_circuit() {
    let ws = witnesses();
    let kinds = |f: fn(&StateUpdate) -> bool| ws.iter().filter(|w| f(&w.update)).count();
    assert!(kinds(|u| matches!(u, StateUpdate::Balance { .. })) > 10);
    assert!(kinds(|u| matches!(u, StateUpdate::OrderSlot { .. })) == 2);
    assert!(kinds(|u| matches!(u, StateUpdate::CreateAccount { .. })) == 4);
    assert!(kinds(|u| matches!(u, StateUpdate::PubKeyHash { .. })) == 3);
    let preset = Preset::dev();
    let cs = ConstraintSystem::<Fr>::new_ref();
    for w in &ws {
        replay_update(&cs, w, &preset).unwrap();
    }
    assert!(cs.is_satisfied().unwrap());
    println!("{} updates: {} constraints (dev preset)", ws.len(), cs.num_constraints());
    // Consecutive records chain: each update starts from the previous one's root.
    for pair in ws.windows(2) {
        assert_eq!(pair[0].root_after, pair[1].root_before);
    }
}

#[test]
fn tampered_updates_do_not_satisfy() {
    let preset = Preset::dev();
    let ws = witnesses();
    let w = ws.iter().find(|w| matches!(w.update, StateUpdate::Balance { .. })).unwrap().clone();
    let tampers: [fn(&mut UpdateWitness); 5] = [
        |w| {
            if let StateUpdate::Balance { new, .. } = &mut w.update {
                *new += 1; // credit more than the executor did
            }
        },
        |w| {
            if let StateUpdate::Balance { old, .. } = &mut w.update {
                *old += 1; // claim a balance the account does not have
            }
        },
        |w| w.root_after += Fr::from(1u64),
        |w| w.account_before.nonce.0 += 1,
        |w| w.account_path.siblings[0][0] += Fr::from(1u64),
    ];
    for tamper in tampers {
        let mut bad = w.clone();
        tamper(&mut bad);
        let cs = ConstraintSystem::<Fr>::new_ref();
        replay_update(&cs, &bad, &preset).unwrap();
        assert!(!cs.is_satisfied().unwrap());
    }
}
