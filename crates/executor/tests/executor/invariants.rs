//! Property tests: random sequences of valid and invalid transactions keep the invariants.
//!
//! * per token, user balances + fees = the reserves recorded in account 1 (USD against the sum
//!   of its reserve ids), and nothing underflows;
//! * a rejected tx leaves the root unchanged;
//! * replaying the accepted txs from scratch (in witness mode) gives the same root, and every
//!   recorded Merkle path authenticates the leaf it claims against the root it claims;
//! * every sealed block's pubdata decodes back to its ops.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_types::test_utils::{E18, USDC, USDT, WETH};
use zklink_types::*;

const TOKENS: [u16; 3] = [USDC, USDT, WETH]; // USDC has 6 decimals
const USERS: u64 = 4;

#[derive(Clone, Debug)]
enum Action {
    Deposit {
        chain: u8,
        user: u64,
        token: usize,
        to_usd: bool,
        amount: u128,
    },
    Transfer {
        from: u64,
        to: u64,
        token: usize,
        usd: bool,
        amount: u128,
        fee: u128,
    },
    Withdraw {
        user: u64,
        chain: u8,
        token: usize,
        from_usd: bool,
        amount: u128,
        fast: u16,
    },
    FullExit {
        user: u64,
        chain: u8,
        token: usize,
        usd: bool,
    },
    Match {
        maker: u64,
        taker: u64,
        maker_sells: bool,
        amount: u128,
        price: u128,
        taker_price_up: bool,
        slot: u16,
    },
    /// A hard cancel of `slot` up to the slot's nonce + `ahead` − 1 (−1: below the slot, refused).
    Cancel {
        user: u64,
        slot: u16,
        ahead: u32,
        fee: u128,
    },
    Seal,
}

/// Amounts on a coarse grid (so they are packable and above USDC's precision) with some huge ones.
fn amount() -> impl Strategy<Value = u128> {
    prop_oneof![
        (1u128..50).prop_map(|u| u * E18),
        (1u128..1000).prop_map(|u| u * 1_000_000_000_000_000),
        Just(10_000 * E18),
        Just(1), // below USDC precision: withdrawals of it must be rejected
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (1u8..=3, 0..USERS, 0..3usize, any::<bool>(), amount())
            .prop_map(|(chain, user, token, to_usd, amount)| Action::Deposit { chain, user, token, to_usd, amount }),
        4 => (0..USERS, 0..USERS + 2, 0..3usize, any::<bool>(), amount(), prop_oneof![Just(0u128), Just(1000u128), Just(2049u128)])
            .prop_map(|(from, to, token, usd, amount, fee)| Action::Transfer { from, to, token, usd, amount, fee }),
        2 => (0..USERS, 1u8..=4, 0..3usize, any::<bool>(), amount(), prop_oneof![Just(0u16), Just(50u16), Just(10_001u16)])
            .prop_map(|(user, chain, token, from_usd, amount, fast)| Action::Withdraw { user, chain, token, from_usd, amount, fast }),
        1 => (0..USERS + 1, 1u8..=3, 0..3usize, any::<bool>())
            .prop_map(|(user, chain, token, usd)| Action::FullExit { user, chain, token, usd }),
        3 => (0..USERS, 0..USERS, any::<bool>(), amount(), 1u128..5, any::<bool>(), 0u16..2)
            .prop_map(|(maker, taker, maker_sells, amount, price, taker_price_up, slot)| Action::Match {
                maker, taker, maker_sells, amount, price: price * E18 / 2, taker_price_up, slot,
            }),
        1 => (0..USERS, 0u16..2, 0u32..3, prop_oneof![Just(0u128), Just(1000u128)])
            .prop_map(|(user, slot, ahead, fee)| Action::Cancel { user, slot, ahead, fee }),
        1 => Just(Action::Seal),
    ]
}

#[derive(Clone)]
enum Accepted {
    L2(L2Tx),
    Priority(PriorityTx),
    Seal,
}

fn token_of(token: usize, usd: bool) -> u16 {
    if usd && TOKENS[token] != 32 {
        1
    } else {
        TOKENS[token]
    }
}

/// Builds the tx for an action against the current state (orders use the slot's current nonce).
fn build(net: &mut TestNet, users: &[TestUser], dex: &TestUser, a: &Action) -> Option<Accepted> {
    let u = |i: u64| users[i as usize % users.len()].clone();
    Some(match *a {
        Action::Deposit { chain, user, token, to_usd, amount } => {
            let l1 = TOKENS[token];
            let l2 = if to_usd && l1 != 32 { 1 } else { l1 };
            Accepted::Priority(net.deposit_tx(chain, u(user).address, 0, l1, l2, amount))
        }
        Action::Transfer { from, to, token, usd, amount, fee } => {
            let to_addr = if to < USERS { u(to).address } else { TestUser::new(100 + to, net.network()).address };
            Accepted::L2(net.transfer_tx(&u(from), to_addr, token_of(token, usd), amount, fee))
        }
        Action::Withdraw { user, chain, token, from_usd, amount, fast } => {
            let l1 = TOKENS[token];
            let l2 = token_of(token, from_usd);
            Accepted::L2(net.withdraw_tx(&u(user), chain, l2, l1, amount, 0, fast))
        }
        Action::FullExit { user, chain, token, usd } => {
            let owner = if user < USERS { u(user) } else { u(0) };
            let id = net.state().account_id_by_address(&owner.address)?;
            let l1 = TOKENS[token];
            // A wrong owner for `user == USERS` exercises the zero-amount path.
            let claimed = if user < USERS { owner.address } else { u(1).address };
            Accepted::Priority(net.full_exit_tx(chain, id, claimed, 0, l1, token_of(token, usd)))
        }
        Action::Match { maker, taker, maker_sells, amount, price, taker_price_up, slot } => {
            let (m, t) = (u(maker), u(taker));
            let slot_nonce = |net: &TestNet, who: &TestUser| {
                net.state().order_slot(net.id_of(who), SubAccountId(0), SlotId(slot)).nonce.0
            };
            let taker_price =
                if taker_price_up == maker_sells { price + E18 / 4 } else { price.saturating_sub(E18 / 4).max(1) };
            let maker_order = net.order(&m, slot, slot_nonce(net, &m), 32, 18, amount, price.max(1), maker_sells);
            let taker_order = net.order(&t, slot, slot_nonce(net, &t), 32, 18, amount, taker_price, !maker_sells);
            Accepted::L2(net.matching_tx(dex, maker_order, taker_order, 18, 0))
        }
        Action::Cancel { user, slot, ahead, fee } => {
            let who = u(user);
            let id = net.state().account_id_by_address(&who.address)?;
            let nonce = net.state().order_slot(id, SubAccountId(0), SlotId(slot)).nonce.0;
            let upto = (nonce + ahead).checked_sub(1)?;
            Accepted::L2(net.cancel_tx(&who, slot, upto, 18, fee))
        }
        Action::Seal => Accepted::Seal,
    })
}

/// Checks balances + fees = reserves for every token.
fn check_reserves(net: &mut TestNet) {
    let preset = net.network().preset.clone();
    let mask = (1u64 << preset.token_bits) - 1;
    let mut held: BTreeMap<u16, u128> = BTreeMap::new();
    let mut reserved: BTreeMap<u16, u128> = BTreeMap::new();
    for r in net.exec.state_mut().all_records() {
        for (index, v) in &r.balances {
            let token = (index & mask) as u16;
            if r.id == GLOBAL_ASSET_ACCOUNT_ID {
                let bucket = if (2..=16).contains(&token) { 1 } else { token };
                *reserved.entry(bucket).or_default() += v;
            } else {
                *held.entry(token).or_default() += v;
            }
        }
    }
    held.retain(|_, v| *v != 0);
    reserved.retain(|_, v| *v != 0);
    assert_eq!(held, reserved, "per token, balances + fees must equal the reserves");
}

fn setup() -> (TestNet, Vec<TestUser>, TestUser) {
    let mut net = TestNet::dev();
    let users: Vec<TestUser> = (0..USERS).map(|i| net.user(i)).collect();
    let dex = net.user(50);
    for u in users.iter().chain([&dex]) {
        net.deposit(1, u, 0, 18, 18, 1000 * E18);
        net.deposit(2, u, 0, 32, 32, 100 * E18);
        net.activate(u);
    }
    (net, users, dex)
}

/// Returns how many txs of each kind were accepted.
fn run(actions: &[Action]) -> BTreeMap<&'static str, usize> {
    let (mut net, users, dex) = setup();
    let mut accepted = Vec::new();
    let mut kinds = BTreeMap::new();
    for a in actions {
        let Some(tx) = build(&mut net, &users, &dex, a) else { continue };
        let before = net.exec.root();
        let result = match &tx {
            Accepted::L2(t) => net.apply_l2(t.clone()).map(|executed| {
                // The node seals by the bound before applying: it must cover what the op credits.
                let bound = zklink_executor::credit_bound(t);
                let credited: Vec<_> = executed.op.credits().iter().map(|c| c.key()).collect();
                assert!(credited.iter().all(|k| bound.contains(k)), "{credited:?} not within {bound:?}");
            }),
            Accepted::Priority(p) => net.apply_priority(p).map(|_| ()),
            Accepted::Seal => {
                net.seal();
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                let kind = match &tx {
                    Accepted::L2(t) => t.kind(),
                    Accepted::Priority(PriorityTx::Deposit(_)) => "Deposit",
                    Accepted::Priority(PriorityTx::FullExit(_)) => "FullExit",
                    Accepted::Seal => "Seal",
                };
                *kinds.entry(kind).or_default() += 1;
                accepted.push(tx);
            }
            Err(_) => assert_eq!(net.exec.root(), before, "rejected {a:?} changed the state"),
        }
        check_reserves(&mut net);
    }
    net.seal();
    let final_root = net.exec.root();

    for sealed in &net.blocks {
        let pubdata = sealed.block.pubdata().unwrap();
        let decoded = zklink_block::Block::ops_from_pubdata(&pubdata).unwrap();
        let mut ops = sealed.block.ops.clone();
        while ops.last() == Some(&Op::Noop) {
            ops.pop();
        }
        assert_eq!(decoded, ops, "pubdata must decode to the block's ops");
        sealed.block.commitment().unwrap();
    }

    replay_pubdata(&net);

    // Replay from scratch, recording witnesses.
    let (mut replay, _, _) = setup();
    replay.exec.set_witness_mode(true);
    for tx in accepted {
        let executed = match tx {
            Accepted::L2(t) => replay.apply_l2(t).expect("accepted tx replays"),
            Accepted::Priority(p) => replay.apply_priority(&p).expect("accepted request replays"),
            Accepted::Seal => {
                replay.seal();
                continue;
            }
        };
        for w in executed.witness.expect("witness mode records witnesses") {
            assert!(
                w.account_path.verify(w.account_before.hash(), w.root_before),
                "account path must authenticate the old leaf"
            );
        }
    }
    replay.seal();
    assert_eq!(replay.exec.root(), final_root, "replay from scratch must reach the same root");
    let roots: Vec<_> = net.blocks.iter().map(|b| (b.block.old_root, b.block.new_root)).collect();
    let replay_roots: Vec<_> = replay.blocks.iter().map(|b| (b.block.old_root, b.block.new_root)).collect();
    assert_eq!(roots, replay_roots, "block boundaries and roots must replay identically");
    kinds
}

/// Rebuilds every block from its pubdata alone, as a restore from L1 does: each op yields the same
/// updates as the tx that produced it, and each block the same root.
fn replay_pubdata(net: &TestNet) {
    let mut restored = TestNet::new(net.network().clone());
    for sealed in &net.blocks {
        let ops = zklink_block::Block::ops_from_pubdata(&sealed.block.pubdata().unwrap()).unwrap();
        // The Noop chunks that align on-chain ops are ops of the block too (never at its end).
        assert_eq!(ops.len(), sealed.ops.len(), "one op per applied tx or alignment chunk in the pubdata");
        for (op, original) in ops.iter().zip(&sealed.ops) {
            let replayed = restored.exec.apply_op(op).expect("a sealed op replays from its pubdata");
            assert_eq!(replayed.updates, original.updates, "replaying {op:?} must redo the same updates");
        }
        assert_eq!(restored.seal().block.new_root, sealed.block.new_root, "pubdata must rebuild the block's root");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_invariants(actions in proptest::collection::vec(action(), 1..40)) {
        run(&actions);
    }
}

/// The random sequences must exercise every kind of tx, not only rejections.
#[test]
fn random_sequences_accept_every_kind() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut total: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..12 {
        let actions = proptest::collection::vec(action(), 30..40).new_tree(&mut runner).unwrap().current();
        for (k, n) in run(&actions) {
            *total.entry(k).or_default() += n;
        }
    }
    for kind in ["Deposit", "Transfer", "Withdraw", "FullExit", "OrderMatching", "CancelOrder"] {
        assert!(total.get(kind).copied().unwrap_or(0) >= 3, "too few accepted {kind}: {total:?}");
    }
}

#[test]
fn a_fixed_busy_sequence_keeps_invariants() {
    use Action::*;
    let kinds = run(&[
        Deposit { chain: 3, user: 0, token: 0, to_usd: true, amount: 100 * E18 },
        Transfer { from: 0, to: 5, token: 0, usd: true, amount: 5 * E18, fee: 1000 },
        Withdraw { user: 0, chain: 3, token: 0, from_usd: true, amount: 20 * E18, fast: 50 },
        Match { maker: 0, taker: 1, maker_sells: true, amount: 3 * E18, price: E18, taker_price_up: true, slot: 0 },
        Match { maker: 0, taker: 2, maker_sells: true, amount: 3 * E18, price: E18, taker_price_up: true, slot: 0 },
        Cancel { user: 0, slot: 0, ahead: 2, fee: 1000 },
        Cancel { user: 2, slot: 0, ahead: 0, fee: 0 },
        Seal,
        FullExit { user: 1, chain: 2, token: 2, usd: false },
        FullExit { user: 4, chain: 1, token: 1, usd: false },
    ]);
    let expected: BTreeMap<&str, usize> = [
        ("Deposit", 1),
        ("Transfer", 1),
        ("Withdraw", 1),
        ("OrderMatching", 2),
        ("CancelOrder", 1),
        ("Seal", 1),
        ("FullExit", 2),
    ]
    .into();
    assert_eq!(kinds, expected);
}
