//! Gas of the L1 contracts on anvil, for docs/benchmarks.md: `cargo bench -p zklink-l1 --bench gas`.
//!
//! * Deposits (ERC-20 and native coin).
//! * Commit gas per transfer on the data-availability chain and on another chain: blocks of 16,
//!   64 and 256 transfers on the `main` preset (2 chains), and three 64- or 256-transfer blocks in one
//!   transaction; the marginal cost per transfer is the difference divided by 240.
//! * On the `dev` preset (3 chains) with real proofs of 4-chunk blocks: proof verification per
//!   block, sync with 1, 2 and 3 oracle signatures (base and per signature), and execution of a
//!   block with one withdrawal against one without (per withdrawal).

// A benchmark: it reports to the person running it (criterion's macros declare undocumented items).
#![allow(clippy::print_stdout, clippy::print_stderr, missing_docs, unreachable_pub)]

#[path = "../tests/l1/support.rs"]
mod support;

use alloy::primitives::U256;
use support::*;
use zklink_contracts::zklink::StoredBlockInfo;
use zklink_l1::client::send;
use zklink_types::test_utils::{E18, USD, USDC};
use zklink_types::{Network, Preset};

struct Table(Vec<(String, u64, String)>);

impl Table {
    fn row(&mut self, what: impl Into<String>, gas: u64, note: impl Into<String>) {
        let (what, note) = (what.into(), note.into());
        eprintln!("{what}: {gas} gas {note}");
        self.0.push((what, gas, note));
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !have_anvil() {
        return;
    }
    let mut table = Table(Vec::new());
    commit_costs(&mut table).await;
    lifecycle_costs(&mut table).await;
    println!("\n| what | gas | note |\n|---|---:|---|");
    for (what, gas, note) in &table.0 {
        println!("| {what} | {gas} | {note} |");
    }
}

/// Deposits, then full blocks of 16 and of 256 transfers committed on chain 1 (DA) and 2.
async fn commit_costs(t: &mut Table) {
    let network = Network { preset: Preset::main(), ..Network::dev(2) };
    let chains = start(network, TestKeys::default(), 1_000, None).await;
    let mut rollup = Rollup::new(&chains);
    let (alice, bob) = (rollup.net.user(0), rollup.net.user(1));
    let c1 = chains.chain(1);
    c1.fund(1, USDC, 10u128.pow(15)).await.unwrap();
    let user = c1.client_for(1).unwrap();
    let usdc = c1.token(USDC).unwrap();
    let first = user.deposit_erc20(usdc, 10u128.pow(12), alice.address, 0, true).await.unwrap().gas_used;
    let next = user.deposit_erc20(usdc, 10u128.pow(12), bob.address, 0, true).await.unwrap().gas_used;
    let eth = user.deposit_eth(alice.address, 0, U256::from(E18)).await.unwrap().gas_used;
    t.row(
        "depositERC20, first",
        first,
        "6-decimal token as USD; queue counters and the contract's balance start at zero",
    );
    t.row("depositERC20", next, "later deposits");
    t.row("depositETH", eth, "native coin");
    rollup.apply_requests(1).await;
    rollup.apply(rollup.net.change_pubkey_tx(&alice));
    rollup.seal();

    // Blocks 2..=6: 16, then 4 × 256 transfers; blocks 7..=10: 4 × 64 (the largest shape proven
    // on a 24 GiB prover).
    for transfers in [16usize, 256, 256, 256, 256, 64, 64, 64, 64] {
        for _ in 0..transfers {
            rollup.apply(rollup.net.transfer_tx(&alice, bob.address, USD, E18, 0));
        }
        let chunks = rollup.seal().block.chunks;
        assert_eq!(chunks, transfers, "a full block");
    }
    for c in 1..=2u8 {
        let client = &chains.chain(c).client;
        client.commit_blocks(&rollup.stored(c, 0), vec![rollup.commit_arg(c, 1)]).await.unwrap();
        let g16 = client.commit_blocks(&rollup.stored(c, 1), vec![rollup.commit_arg(c, 2)]).await.unwrap().gas_used;
        let g256 = client.commit_blocks(&rollup.stored(c, 2), vec![rollup.commit_arg(c, 3)]).await.unwrap().gas_used;
        let kind = if c == 1 { "DA chain" } else { "non-DA chain" };
        t.row(format!("commitBlocks, 16 transfers, {kind}"), g16, format!("{} per transfer", g16 / 16));
        t.row(format!("commitBlocks, 256 transfers, {kind}"), g256, format!("{} per transfer", g256 / 256));
        t.row(format!("commit marginal per transfer, {kind}"), (g256 - g16) / 240, "(256-block − 16-block) / 240");
        let batch = (4..=6).map(|n| rollup.commit_arg(c, n)).collect();
        let g3 = client.commit_blocks(&rollup.stored(c, 3), batch).await.unwrap().gas_used;
        t.row(format!("commitBlocks, 3 blocks of 256 transfers, {kind}"), g3, format!("{} per transfer", g3 / 768));
        let g64 = client.commit_blocks(&rollup.stored(c, 6), vec![rollup.commit_arg(c, 7)]).await.unwrap().gas_used;
        t.row(format!("commitBlocks, 64 transfers, {kind}"), g64, format!("{} per transfer", g64 / 64));
        let batch = (8..=10).map(|n| rollup.commit_arg(c, n)).collect();
        let g3 = client.commit_blocks(&rollup.stored(c, 7), batch).await.unwrap().gas_used;
        t.row(format!("commitBlocks, 3 blocks of 64 transfers, {kind}"), g3, format!("{} per transfer", g3 / 192));
    }
}

/// Proofs, syncs and executions of 4-chunk dev blocks with real proofs on chain 2.
async fn lifecycle_costs(t: &mut Table) {
    let network = Network::dev(3);
    let pk = block_key(&network);
    let chains = start(network, TestKeys { block: Some(pk.clone()), exit: None }, 1_000, None).await;
    let mut rollup = Rollup::new(&chains);
    let (alice, bob) = (rollup.net.user(0), rollup.net.user(1));
    let c2 = chains.chain(2);
    c2.fund(1, USDC, 10u128.pow(12)).await.unwrap();
    let user = c2.client_for(1).unwrap();
    let usdc = c2.token(USDC).unwrap();
    user.deposit_erc20(usdc, 10u128.pow(9), alice.address, 0, true).await.unwrap();
    user.deposit_erc20(usdc, 10u128.pow(9), bob.address, 0, true).await.unwrap();
    rollup.apply_requests(2).await;
    rollup.seal(); // 1: two deposits
    rollup.apply(rollup.net.change_pubkey_tx(&alice));
    rollup.apply(rollup.net.transfer_tx(&alice, bob.address, USD, E18, 0));
    rollup.seal(); // 2: key + transfer

    // The withdrawal first: an on-chain op starts at a multiple of the dev period (2), so after
    // a transfer it would need a Noop chunk and the block would outgrow 4 chunks.
    rollup.apply(rollup.net.withdraw_tx(&alice, 2, USD, USDC, 10 * E18, 0, 0));
    rollup.apply(rollup.net.transfer_tx(&alice, bob.address, USD, E18, 0));
    rollup.seal(); // 3: withdrawal + transfer
    for _ in 0..4 {
        rollup.apply(rollup.net.transfer_tx(&alice, bob.address, USD, E18, 0));
    }
    rollup.seal(); // 4: transfers only

    let c = &c2.client;
    let blocks: Vec<StoredBlockInfo> = (1..=4).map(|n| rollup.stored(2, n)).collect();
    c.commit_blocks(&rollup.stored(2, 0), (1..=4).map(|n| rollup.commit_arg(2, n)).collect()).await.unwrap();
    for n in 1..=4 {
        assert_eq!(rollup.blocks[n - 1].block.chunks, 4, "block {n} is a 4-chunk block, the key's shape");
    }
    let proofs: Vec<_> = (1..=4).map(|n| rollup.prove(&pk, n)).collect();
    let one = c.prove_blocks(vec![blocks[0].clone()], vec![4], vec![proofs[0]]).await.unwrap().gas_used;
    let three = c.prove_blocks(blocks[1..].to_vec(), vec![4; 3], proofs[1..].to_vec()).await.unwrap().gas_used;
    t.row("proveBlocks, 1 block", one, "one Groth16 verification");
    t.row("proveBlocks, 3 blocks", three, format!("{} per block", three / 3));

    // Sync block k with k signatures (the governor, here the deployer, sets the threshold to k).
    let oracles = oracles();
    let addresses: Vec<_> = oracles.iter().map(|o| o.address()).collect();
    let mut sync = Vec::new();
    for k in 1..=3usize {
        let set = c.periphery().setOracleSet(addresses.clone(), k as u16);
        send("setOracleSet", set).await.unwrap();
        let signers: Vec<_> = oracles.iter().take(k).collect();
        let sigs = sync_signatures(chains.network.network_id, &blocks[k - 1], &signers);
        let gas = c.sync_blocks(&blocks[k - 1], sigs).await.unwrap().gas_used;
        t.row(format!("syncBlocks, {k} signature(s)"), gas, "");
        sync.push(gas);
    }
    t.row("sync per signature", (sync[2] - sync[0]) / 2, "(3 signatures − 1) / 2");
    send("setOracleSet", c.periphery().setOracleSet(addresses, 1)).await.unwrap();
    let sigs = sync_signatures(chains.network.network_id, &blocks[3], &[&oracles[0]]);
    c.sync_blocks(&blocks[3], sigs).await.unwrap();

    let mut exec = Vec::new();
    for n in 1..=4 {
        exec.push(c.execute_blocks(vec![rollup.execute_arg(2, n)]).await.unwrap().gas_used);
    }
    t.row("executeBlocks, block with 2 deposits", exec[0], "requests leave the queue");
    t.row("executeBlocks, block without payouts", exec[3], "");
    t.row("executeBlocks, block with 1 withdrawal", exec[2], "");
    t.row("execute per withdrawal", exec[2] - exec[3], "pending balance + fast-withdrawal marker");
}
