//! The promise of issue 7 on three anvil chains with real proofs: users keep their funds when the
//! operator's data is gone and the operator stops.
//!
//! 1. The operator node runs traffic of every kind (deposits on three chains merging into USD, keys,
//!    transfers to old and new accounts, a partial order fill, a withdrawal, a full exit) until
//!    every block is executed everywhere; then it stops and its data directory is deleted.
//! 2. `restore` rebuilds the state from L1 alone — in two runs, the second continuing from the
//!    first's checkpoint — to the operator's exact root, accounts, balances and order slots.
//! 3. The operator ignores a full exit until it expires: chain 1 switches to exodus, the others
//!    cannot until a request of theirs expires too; then every user exits on every chain, each
//!    user's shares add up to the L2 balance, an unexecuted deposit is refunded, and a second exit
//!    of the same balance is refused.
//!
//! Skips (with a message) without the pinned anvil, unless `CI=true`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use zklink_prover::Prover;

use crate::common::*;
use crate::support::*;
use alloy::primitives::{B256, U256};
use zklink_contracts::zklink::ZkLink::ZkLinkErrors as E;
use zklink_executor::testkit::{TestNet, TestUser, TEST_FEE_OWNER};
use zklink_executor::Executor;
use zklink_l1::{ExitCall, TestChains};
use zklink_node::{Node, NodeConfig, NodeHandle};
use zklink_restore::{exodus, ChainExodus, ExitPlan, ExodusStatus, Restorer};
use zklink_state::State;
use zklink_types::test_utils::{E18, E6, USD, USDC, USDT, WETH};
use zklink_types::{AccountId, ChainId, Network, SlotId, SubAccountId, TokenId};

const EXPIRY: u64 = 400;
const DEADLINE: Duration = Duration::from_secs(300);

fn balance(state: &State, who: &TestUser, token: u16) -> u128 {
    let Some(id) = state.account_id_by_address(&who.address) else { return 0 };
    state.balance(id, SubAccountId(0), TokenId(token))
}

/// Runs the operator through the traffic; returns its final state.
async fn operate(chains: &TestChains, pk: &Arc<Prover>, users: &[TestUser]) -> State {
    let [alice, bob, carol, dave] = users else { panic!("four users") };
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig::for_test_chains(
        chains,
        dir.path().to_path_buf(),
        TEST_FEE_OWNER,
        oracles(),
        vec![(4, pk.clone())],
        Duration::from_millis(500),
    )
    .unwrap();
    for (chain, token, amount, to, usd) in [
        (1u8, USDC, 1_000 * E6, alice, true),
        (2, USDT, 600 * E18, alice, true),
        (2, WETH, 10 * E18, bob, false),
        (3, WETH, 6 * E18, bob, false),
        (3, USDT, 400 * E18, carol, true),
    ] {
        let c = chains.chain(chain);
        c.fund(1, token, amount).await.unwrap();
        c.client_for(1).unwrap().deposit_erc20(c.token(token).unwrap(), amount, to.address, 0, usd).await.unwrap();
    }
    let node = Node::open(config).unwrap();
    let handle = node.handle();
    let scenario = async {
        let credited = async || balance(handle.keeper().state(), carol, USD) == 400 * E18;
        wait_for("the deposits", DEADLINE, credited).await;
        submit_traffic(chains, &handle, alice, bob, carol, dave).await;
        // Bob's full exit on chain 3 (an L1 request the operator serves).
        let bob3 = user_client(chains, 3, bob).await;
        let bob_id = handle.keeper().state().account_id_by_address(&bob.address).unwrap();
        bob3.request_full_exit(bob_id.0, 0, WETH, WETH).await.unwrap();
        wait_for("everything executed on every chain", DEADLINE, async || {
            let sealed = handle.store().last_block().unwrap();
            let exited = balance(handle.keeper().state(), bob, WETH) == 9 * E18;
            exited && handle.keeper().pending_chunks() == 0 && executed_everywhere(chains, sealed).await
        })
        .await;
    };
    run_until_done(node, scenario).await;
    let state = handle.keeper().state().clone();
    drop(handle);
    // The operator's data directory is deleted.
    dir.close().unwrap();
    state
}

/// Runs `node` until `scenario` is done.
async fn run_until_done(node: Node, scenario: impl std::future::Future<Output = ()>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scenario = async {
        scenario.await;
        let _ = stop.send(());
    };
    tokio::join!(
        node.run(async {
            let _ = stopped.await;
        }),
        scenario
    );
}

/// Keys, transfers to an old and a new account, a partial fill, a withdrawal, and a USD/WETH
/// pool: alice creates it and provides liquidity, carol swaps against it.
async fn submit_traffic(
    chains: &TestChains,
    handle: &NodeHandle,
    alice: &TestUser,
    bob: &TestUser,
    carol: &TestUser,
    dave: &TestUser,
) {
    let mut client = TestNet::new(chains.network.clone());
    client.exec = Executor::new(chains.network.clone(), handle.keeper().state().clone()).unwrap();
    let mut txs = Vec::new();
    for u in [alice, bob, carol] {
        let tx = client.change_pubkey_tx(u);
        client.apply_l2(tx.clone()).unwrap();
        txs.push(tx);
    }
    let maker = client.order(bob, 0, 0, WETH, USD, 4 * E18, 100 * E18, true);
    let taker = client.order(alice, 0, 0, WETH, USD, E18, 100 * E18, false);
    // Each tx is signed against the state after the previous one (nonces).
    let pool = |c: &TestNet| AccountId(c.state().account_count() as u32 - 1);
    for step in 0..7 {
        let tx = match step {
            0 => client.transfer_tx(alice, bob.address, USD, 100 * E18, 0),
            1 => client.transfer_tx(alice, dave.address, USD, 10 * E18, 0),
            2 => client.matching_tx(carol, maker.clone(), taker.clone(), USD, 0),
            3 => client.withdraw_tx(alice, 1, USD, USDC, 50 * E18, 0, 0),
            4 => client.create_pool_tx(alice, USD, WETH, 30, 0, USD, 0),
            5 => client.add_liquidity_tx(alice, pool(&client), 50 * E18, E18 / 2, 0, 0),
            _ => client.swap_tx(carol, pool(&client), USD, false, 10 * E18, 0, 0),
        };
        client.apply_l2(tx.clone()).unwrap();
        txs.push(tx);
    }
    for tx in txs {
        handle.keeper().submit(tx, zklink_node::node::unix_now()).unwrap();
    }
}

/// Commits on every chain, as the old operator, a block after the executed ones (alice pays bob
/// 1 USD) that is never proven.
async fn commit_ghost_block(chains: &TestChains, restorer: &Restorer, state: &State, alice: &TestUser, bob: &TestUser) {
    let mut ghost = TestNet::new(chains.network.clone());
    ghost.exec = Executor::new(chains.network.clone(), state.clone()).unwrap();
    ghost.exec.set_block_timestamp(zklink_node::node::unix_now()).unwrap();
    let tx = ghost.transfer_tx(alice, bob.address, USD, E18, 0);
    ghost.apply_l2(tx.clone()).unwrap();
    let n = restorer.block() + 1;
    let sealed = ghost.exec.seal_block(zklink_types::BlockNumber(n)).unwrap();
    for (i, info) in chains.network.chains.iter().enumerate() {
        let prev = restorer.histories()[i].stored(n - 1).cloned().unwrap();
        let (commit, _) = zklink_contracts::zklink::commit_info(
            &sealed.block,
            &[Some(tx.clone())],
            info.id,
            info.data_availability,
            &prev,
        )
        .unwrap();
        chains.chains[i].client.commit_blocks(&prev, vec![commit]).await.unwrap();
    }
}

/// A node opened on a store of imported blocks has the restored state, reverts the block it does
/// not hold, takes a new transfer (to dave, whose account the restore created) and brings it to
/// execution on every chain; returns its final state.
async fn carry_on(
    chains: &TestChains,
    pk: &Arc<Prover>,
    dir: &std::path::Path,
    restored: &State,
    alice: &TestUser,
    dave: &TestUser,
) -> State {
    let mut config = NodeConfig::for_test_chains(
        chains,
        dir.to_path_buf(),
        TEST_FEE_OWNER,
        oracles(),
        vec![(4, pk.clone())],
        Duration::from_millis(500),
    )
    .unwrap();
    config.revert_unknown_blocks = true;
    let node = Node::open(config).unwrap();
    let handle = node.handle();
    assert_same_state(handle.keeper().state(), restored);
    let scenario = async {
        let mut client = TestNet::new(chains.network.clone());
        client.exec = Executor::new(chains.network.clone(), handle.keeper().state().clone()).unwrap();
        let tx = client.transfer_tx(alice, dave.address, USD, 5 * E18, 0);
        handle.keeper().submit(tx, zklink_node::node::unix_now()).unwrap();
        let before = handle.store().last_block().unwrap();
        wait_for("the new block executed on every chain", DEADLINE, async || {
            let sealed = handle.store().last_block().unwrap();
            sealed > before && handle.keeper().pending_chunks() == 0 && executed_everywhere(chains, sealed).await
        })
        .await;
    };
    run_until_done(node, scenario).await;
    let state = handle.keeper().state().clone();
    assert_eq!(balance(&state, dave, USD), 15 * E18, "10 before the restore, 5 after");
    state
}

/// Every account of `a` is in `b` with the same fields and leaves.
fn assert_same_state(a: &State, b: &State) {
    assert_eq!(a.account_count(), b.account_count(), "account count");
    for id in 0..a.account_count() as u32 {
        let (x, y) = (a.account(AccountId(id)).unwrap(), b.account(AccountId(id)).unwrap());
        assert_eq!((x.address, x.pubkey_hash, x.nonce), (y.address, y.pubkey_hash, y.nonce), "account {id}");
        assert_eq!(x.balances.leaves(), y.balances.leaves(), "account {id} balances");
        assert_eq!(x.orders.leaves(), y.orders.leaves(), "account {id} order slots");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_from_l1_alone_then_every_user_exits_on_every_chain() {
    if !have_anvil() {
        return;
    }
    let network = Network::dev(3);
    let pk = Arc::new(Prover::new(block_key(&network)));
    let exit_pk = exit_key(&network);
    let keys = TestKeys { block: Some((*pk).clone()), exit: Some(exit_pk.clone()) };
    let chains = start(network, keys, EXPIRY, None).await;
    let mirror = TestNet::new(chains.network.clone());
    let users: Vec<TestUser> = (0..4).map(|n| mirror.user(n)).collect();
    let [alice, bob, carol, dave] = &users[..] else { unreachable!() };

    let mut operator_state = operate(&chains, &pk, &users).await;
    let executed = chains.chain(1).client.block_counters().await.unwrap().executed;
    assert!(executed >= 3, "several blocks executed, got {executed}");

    // ---- restore, in two runs: to block 2, then (reopened) to the end.
    let restore_dir = tempfile::tempdir().unwrap();
    let mut wrong = restore_config(&chains, restore_dir.path(), 2);
    wrong.fee_owner = alice.address;
    let err = Restorer::open(wrong).unwrap().run(None, |_| Ok(())).await.unwrap_err();
    assert!(err.to_string().contains("another genesis state root"), "{err}");
    std::fs::remove_file(restore_dir.path().join("state.redb")).unwrap();
    let mut restorer = Restorer::open(restore_config(&chains, restore_dir.path(), 2)).unwrap();
    let first = restorer.run(Some(2), |_| Ok(())).await.unwrap();
    assert_eq!((first.from, first.block), (0, 2));
    drop(restorer);
    let mut restorer = Restorer::open(restore_config(&chains, restore_dir.path(), 2)).unwrap();
    assert_eq!(restorer.block(), 2, "continues from its checkpoint");
    let mut seen = Vec::new();
    let report = restorer
        .run(None, |b| {
            seen.push(b.number);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(seen, (3..=executed).collect::<Vec<_>>(), "progress for every block");
    assert_eq!((report.from, report.block), (2, executed));
    assert_eq!(report.root, B256::from(zklink_block::fr_to_bytes(&operator_state.root())), "the operator's root");
    for check in &report.chains {
        assert_eq!((check.executed, check.checked), (executed, executed), "chain {}", check.chain);
    }
    assert_same_state(restorer.state(), &operator_state);
    let bob_id = restorer.state().account_id_by_address(&bob.address).unwrap();
    let slot = restorer.state().order_slot(bob_id, SubAccountId(0), SlotId(0));
    assert_eq!(slot.residue, 3 * E18, "bob's order rests with 3 WETH after the partial fill");
    assert_eq!(balance(restorer.state(), bob, WETH), 9 * E18, "16 − 1 sold − 6 exited on chain 3");
    let bob_usd = balance(restorer.state(), bob, USD);
    let again = restorer.run(None, |_| Ok(())).await.unwrap();
    assert_eq!((again.from, again.ops), (executed, 0), "nothing new to restore");

    // ---- a new node starts from the restored blocks and carries on.
    let node_dir = tempfile::tempdir().unwrap();
    let store = zklink_node::BlockStore::open(&node_dir.path().join("node.redb")).unwrap();
    let import_dir = tempfile::tempdir().unwrap();
    let mut importer = Restorer::open(restore_config(&chains, import_dir.path(), 2)).unwrap();
    let import = |b: &zklink_restore::BlockRestored| {
        store
            .put_block(&zklink_node::StoredBlock::imported(b.block.clone()))
            .map_err(zklink_restore::HandlerError::from)
    };
    importer.run(None, import).await.unwrap();
    drop((importer, store));
    // The old operator had also committed a block nobody executed: the new node reverts it.
    commit_ghost_block(&chains, &restorer, &operator_state, alice, bob).await;
    operator_state = carry_on(&chains, &pk, node_dir.path(), &operator_state, alice, dave).await;
    assert_eq!(balance(&operator_state, bob, USD), bob_usd, "the ghost block's transfer never happened");
    let after = restorer.run(None, |_| Ok(())).await.unwrap();
    assert_eq!(after.root, B256::from(zklink_block::fr_to_bytes(&operator_state.root())), "the new node's root");
    let executed = after.block;

    // ---- the operator is gone. Alice claims her executed withdrawal the normal way first.
    let alice_clients = user_clients(&chains, alice).await;
    alice_clients[0].withdraw_pending_balance(alice.address, USDC, 50 * E6).await.unwrap();
    // Alice's full exit on chain 1 is ignored; carol deposits on chain 3 and nothing takes it.
    let alice_id = restorer.state().account_id_by_address(&alice.address).unwrap();
    alice_clients[0].request_full_exit(alice_id.0, 0, USDC, USD).await.unwrap();
    let c3 = chains.chain(3);
    c3.fund(1, USDT, 100 * E18).await.unwrap();
    c3.client_for(1).unwrap().deposit_erc20(c3.token(USDT).unwrap(), 100 * E18, carol.address, 0, true).await.unwrap();
    chains.chain(1).mine(EXPIRY).await.unwrap();

    // Only chain 1 can switch: chain 3's deposit is not old enough, and chain 2 has no request
    // waiting, so alice's exodus requests a full exit there to start its clock.
    let first_run = exodus(&mut restorer, &alice_clients, alice.address, &exit_pk).await.unwrap();
    let statuses: Vec<_> = first_run.iter().map(|c| c.status.clone()).collect();
    assert_eq!(statuses[0], ExodusStatus::Activated);
    assert!(matches!(&statuses[1], ExodusStatus::NotYet(why) if why.contains("start its clock")), "{statuses:?}");
    assert!(matches!(&statuses[2], ExodusStatus::NotYet(why) if why.contains("expires")), "{statuses:?}");
    assert_eq!(first_run[0].refunded, 1, "alice's ignored request is dropped");

    // Once those requests expire, every chain is in exodus.
    chains.chain(2).mine(EXPIRY).await.unwrap();
    c3.mine(EXPIRY).await.unwrap();

    let mut runs: BTreeMap<usize, Vec<ChainExodus>> = BTreeMap::new();
    runs.insert(0, first_run);
    for (i, user) in users.iter().enumerate() {
        let clients = if i == 0 { alice_clients.clone() } else { user_clients(&chains, user).await };
        let run = exodus(&mut restorer, &clients, user.address, &exit_pk).await.unwrap();
        for c in &run {
            assert!(!matches!(c.status, ExodusStatus::NotYet(_)), "chain {} in exodus: {:?}", c.chain, c.status);
        }
        runs.entry(i).or_default().extend(run);
    }

    // Each user's shares over every chain add up to the L2 balance (each share rounds down).
    let exits = |i: usize| -> Vec<ExitCall> { runs[&i].iter().flat_map(|c| c.exits.clone()).collect() };
    for (i, user) in users.iter().enumerate() {
        for token in [USD, WETH] {
            let claims: Vec<ExitCall> = exits(i).into_iter().filter(|e| e.l2_token == token).collect();
            let total: u128 = claims.iter().map(|e| e.amount).sum();
            let held = balance(&operator_state, user, token);
            assert!(
                total <= held && held - total < claims.len().max(1) as u128,
                "user {i} token {token}: {total} of {held}"
            );
            if held > 0 {
                assert!(!claims.is_empty(), "user {i} exits token {token}");
            }
        }
    }
    // Alice's LP shares exit through the pool: its WETH and its USD, pro rata on every chain.
    let alice_id = operator_state.account_id_by_address(&alice.address).unwrap();
    let lp = TokenId(*operator_state.preset().lp_tokens().start());
    let (_, pool) = operator_state.pool(operator_state.pool_of_lp_token(lp).unwrap()).unwrap();
    let shares = operator_state.balance(alice_id, SubAccountId(0), lp);
    assert!(shares > 0, "alice holds LP shares");
    let part = |reserve: u128| zklink_types::pool::mul_div(shares, reserve, pool.supply, "part").unwrap();
    let lp_claims: Vec<ExitCall> = exits(0).into_iter().filter(|e| e.l2_token == lp.0).collect();
    let paid =
        |weth: bool| -> u128 { lp_claims.iter().filter(|e| (e.reserve_token == WETH) == weth).map(|e| e.amount).sum() };
    for (weth, backed) in [(true, part(pool.b)), (false, part(pool.a))] {
        let got = paid(weth);
        assert!(got <= backed && backed - got < lp_claims.len() as u128 + 1, "LP exit of {weth}: {got} of {backed}");
    }
    // USD comes from every chain's stablecoin reserve, in proportion.
    let alice_usd: Vec<(u8, u128)> = runs[&0]
        .iter()
        .flat_map(|c| c.exits.iter().filter(|e| e.l2_token == USD).map(move |e| (c.chain, e.amount)))
        .collect();
    assert_eq!(alice_usd.len(), 3, "alice's USD is paid on all three chains: {alice_usd:?}");
    let held = balance(&operator_state, alice, USD);
    for (chain, reserve) in [(1u8, 950u128), (2, 600), (3, 400)] {
        let share = alice_usd.iter().find(|(c, _)| *c == chain).unwrap().1;
        assert_eq!(share, held * reserve / 1950, "chain {chain}'s share of alice's USD");
    }
    // What was paid on L1: the shares in whole L1 units, and carol's refund on chain 3.
    let carol_chain3 = &runs[&2].iter().find(|c| c.chain == 3 && !c.claimed.is_empty()).unwrap().claimed;
    let carol_share: u128 =
        runs[&2].iter().filter(|c| c.chain == 3).flat_map(|c| c.exits.iter()).map(|e| e.amount).sum();
    assert_eq!(carol_chain3, &vec![(USDT, 100 * E18 + carol_share)], "refund plus her share, in USDT");
    assert!(token_balance(chains.chain(1), USDC, alice.address).await > U256::from(50 * E6), "alice got USDC back");

    // A second exit of the same balance is refused.
    let last = restorer.histories()[0].stored(executed).cloned().unwrap();
    let block = restorer.block();
    let network = restorer.network().clone();
    let mut plan = ExitPlan::for_chain(restorer.state_mut(), block, &network, ChainId(1), last.clone()).unwrap();
    let req = plan.requests(alice_id)[0];
    let proven = plan.prove(&exit_pk, &req).unwrap();
    assert!(matches!(
        revert(alice_clients[0].perform_exodus(&last, &proven.call, proven.proof).await),
        E::ExodusAlreadyPerformed(_)
    ));
    let rerun = exodus(&mut restorer, &alice_clients, alice.address, &exit_pk).await.unwrap();
    assert!(rerun.iter().all(|c| c.exits.is_empty() && c.already_paid > 0), "nothing is paid twice");
}
