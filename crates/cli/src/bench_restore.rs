//! `zklink bench restore` and `zklink bench exit-proof`: what recovery from L1 costs.
//!
//! * restore: a synthetic history at a preset's largest block (deposits creating accounts, then
//!   full blocks of transfers) is produced once, then rebuilt from its pubdata alone through the
//!   restore path ([`zklink_restore::BlockReplayer`]: decode and re-encode, check every chain's
//!   stored info, replay the ops and the Merkle root) with redb checkpoints. Reading L1 is not in
//!   it: `zklink restore` prints its own end-to-end rate, which on a real chain is bounded by the
//!   RPC endpoint (one `eth_getTransactionByHash` per commit transaction, plus the event scan).
//! * exit-proof: one exit proof at a preset (witness from a state, Groth16 proving), a few runs.

use std::time::{Duration, Instant};

use alloy::primitives::Address;
use anyhow::{anyhow, bail, Context};
use zklink_block::Block;
use zklink_circuit::exit::{ExitCircuit, ExitRequest, ExitShape, ExitWitness};
use zklink_contracts::zklink::{commit_info, genesis_block, StoredBlockInfo};
use zklink_executor::testkit::TEST_FEE_OWNER;
use zklink_executor::Executor;
use zklink_prover::KeyStore;
use zklink_restore::{check_stored, BlockReplayer};
use zklink_state::{RedbStore, State, StateStore};
use zklink_types::op::{DepositOp, TransferOp};
use zklink_types::test_utils::{E18, WETH};
use zklink_types::{
    AccountId, BlockNumber, ChainId, Network, Op, Preset, SubAccountId, TokenId, FIRST_USER_ACCOUNT_ID, USD_TOKEN_ID,
};

/// Options of `zklink bench restore`.
#[derive(clap::Args)]
pub(crate) struct RestoreArgs {
    /// Tree sizes and block shapes: `main` or `dev`.
    #[arg(long, default_value = "main")]
    preset: String,
    /// Accounts the history creates (by deposits).
    #[arg(long, default_value_t = 10_000)]
    accounts: u32,
    /// Full blocks of transfers after the deposits.
    #[arg(long, default_value_t = 40)]
    transfer_blocks: u32,
    /// Checkpoint the restored state every this many blocks (as `zklink restore` does).
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u32,
}

/// The 3-chain dev network on `preset`.
fn network(preset: &str) -> anyhow::Result<Network> {
    let preset = Preset::by_name(preset).ok_or_else(|| anyhow!("unknown preset {preset}: main or dev"))?;
    let network = Network { preset, ..Network::dev(3) };
    network.validate()?;
    Ok(network)
}

/// A produced block with what each chain stores for it.
struct Produced {
    block: Block,
    pubdata: Vec<u8>,
    /// Per chain, (previous info, this block's info).
    infos: Vec<(StoredBlockInfo, StoredBlockInfo)>,
}

/// Produces the history: deposits creating `accounts` accounts, then full blocks of transfers.
fn produce(network: &Network, accounts: u32, transfer_blocks: u32) -> anyhow::Result<Vec<Produced>> {
    let genesis = State::genesis(network.preset.clone(), TEST_FEE_OWNER);
    let genesis_root = alloy::primitives::B256::from(zklink_block::fr_to_bytes(&genesis.clone().root()));
    let mut exec = Executor::new(network.clone(), genesis)?;
    let timestamp = |number: u32| 1_700_000_000 + u64::from(number);
    exec.set_block_timestamp(timestamp(1))?;
    let mut prev: Vec<StoredBlockInfo> = vec![genesis_block(genesis_root); network.chains.len()];
    let mut out = Vec::new();
    let mut seal = |exec: &mut Executor, out: &mut Vec<Produced>| -> anyhow::Result<()> {
        let number = BlockNumber(out.len() as u32 + 1);
        let sealed = exec.seal_block(number).with_context(|| format!("sealing block {}", number.0))?;
        exec.set_block_timestamp(timestamp(number.0 + 1))?;
        let mut infos = Vec::new();
        for (c, info) in network.chains.iter().enumerate() {
            let (_, stored) = commit_info(&sealed.block, &[], info.id, info.data_availability, &prev[c])
                .with_context(|| format!("block {}: chain {}'s stored info", number.0, info.id.0))?;
            infos.push((prev[c].clone(), stored.clone()));
            prev[c] = stored;
        }
        let pubdata = sealed.block.pubdata().with_context(|| format!("block {}: pubdata", number.0))?;
        out.push(Produced { block: sealed.block, pubdata, infos });
        Ok(())
    };
    let mut apply = |exec: &mut Executor, out: &mut Vec<Produced>, op: Op| -> anyhow::Result<()> {
        if op.chunks() > exec.free_chunks() {
            seal(exec, out)?;
        }
        exec.apply_op(&op).map(drop).context("applying an op of the history")
    };
    let first = FIRST_USER_ACCOUNT_ID.0;
    for i in 0..accounts {
        let op = Op::Deposit(DepositOp {
            chain_id: ChainId((i % 3) as u8 + 1),
            account_id: AccountId(first + i),
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(WETH),
            l2_token: TokenId(WETH),
            amount: 1_000 * E18,
            owner: Address::from_word(alloy::primitives::keccak256(i.to_be_bytes())),
        });
        apply(&mut exec, &mut out, op)?;
    }
    let deposit_blocks = out.len();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < deposit_blocks + transfer_blocks as usize {
        // xorshift: reproducible pseudo-random pairs of accounts.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let from = first + (x % u64::from(accounts)) as u32;
        let to = first + ((x >> 32) % u64::from(accounts)) as u32;
        if from == to {
            continue;
        }
        let op = Op::Transfer(TransferOp {
            from: AccountId(from),
            from_sub: SubAccountId(0),
            token: TokenId(WETH),
            to: AccountId(to),
            to_sub: SubAccountId(0),
            amount: E18 / 1000,
            fee: 0,
        });
        apply(&mut exec, &mut out, op)?;
    }
    Ok(out)
}

#[derive(Default)]
struct Costs {
    rebuild: Duration,
    check: Duration,
    replay: Duration,
    checkpoint: Duration,
}

/// Runs the restore benchmark.
pub(crate) fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let network = network(&args.preset)?;
    let chunks = network.preset.max_block_chunks();
    eprintln!(
        "producing the history: {} accounts by deposit, then {} blocks of transfers ({} preset, {chunks}-chunk blocks)…",
        args.accounts, args.transfer_blocks, network.preset.name
    );
    let t = Instant::now();
    let history = produce(&network, args.accounts, args.transfer_blocks)?;
    let produced = t.elapsed();
    let ops: usize = history.iter().map(|p| p.block.ops.len()).sum();

    let dir = std::env::temp_dir().join(format!("zklink-bench-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut store = RedbStore::open(&dir.join("state.redb")).context("opening the state store")?;
    let genesis = State::genesis(network.preset.clone(), TEST_FEE_OWNER);
    let mut replayer = BlockReplayer::new(network.clone(), genesis)?;
    let mut costs = Costs::default();
    let started = Instant::now();
    for p in &history {
        let n = p.block.number.0;
        let t = Instant::now();
        let block = replayer.rebuild(n, &p.pubdata, &p.infos[0].1)?;
        costs.rebuild += t.elapsed();
        let t = Instant::now();
        for (info, (prev, stored)) in network.chains.iter().zip(&p.infos) {
            check_stored(&block, info, prev, stored)?;
        }
        costs.check += t.elapsed();
        let t = Instant::now();
        replayer.apply(&block)?;
        costs.replay += t.elapsed();
        if n.is_multiple_of(args.checkpoint_every.max(1)) || n as usize == history.len() {
            let t = Instant::now();
            let root = replayer.root();
            let changed = replayer.state_mut().take_unsaved();
            store.commit(BlockNumber(n), root, &changed).with_context(|| format!("checkpoint at block {n}"))?;
            costs.checkpoint += t.elapsed();
        }
    }
    let total = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);

    let blocks = history.len() as f64;
    let per_block = |d: Duration| d.as_secs_f64() * 1000.0 / blocks;
    println!(
        "restore replay, {} preset, {chunks}-chunk blocks, 3 chains: {} blocks, {ops} ops ({} accounts)",
        network.preset.name,
        history.len(),
        replayer.state().account_count()
    );
    println!(
        "  {:.1} blocks/s, {:.0} ops/s ({:.2} s; producing the same history took {:.2} s)",
        blocks / total.as_secs_f64(),
        ops as f64 / total.as_secs_f64(),
        total.as_secs_f64(),
        produced.as_secs_f64()
    );
    println!(
        "  per block: decode + re-encode {:.2} ms, check 3 chains' stored info {:.2} ms,",
        per_block(costs.rebuild),
        per_block(costs.check)
    );
    println!(
        "             replay ops + Merkle root {:.2} ms, redb checkpoints {:.2} ms (every {} blocks)",
        per_block(costs.replay),
        per_block(costs.checkpoint),
        args.checkpoint_every
    );
    Ok(())
}

/// Options of `zklink bench exit-proof`.
#[derive(clap::Args)]
pub(crate) struct ExitArgs {
    /// Tree sizes: `main` or `dev`.
    #[arg(long, default_value = "main")]
    preset: String,
    /// Proofs to make.
    #[arg(long, default_value_t = 3)]
    runs: u32,
}

/// Runs the exit-proof benchmark: a USD balance backed by stablecoins on all 3 chains.
pub(crate) fn exit_proof(args: ExitArgs) -> anyhow::Result<()> {
    let network = network(&args.preset)?;
    let chains = network.chains.len() as u8;
    let mut exec = Executor::new(network.clone(), State::genesis(network.preset.clone(), TEST_FEE_OWNER))?;
    let owner = Address::repeat_byte(0x42);
    for (chain, token) in [(1u8, 17u16), (2, 18), (3, 18)] {
        let op = Op::Deposit(DepositOp {
            chain_id: ChainId(chain),
            account_id: FIRST_USER_ACCOUNT_ID,
            sub_account_id: SubAccountId(0),
            l1_token: TokenId(token),
            l2_token: USD_TOKEN_ID,
            amount: 1_000 * E18 * u128::from(chain),
            owner,
        });
        exec.apply_op(&op).context("depositing the exiting balance")?;
    }
    let mut state = exec.into_state();
    let shape = ExitShape::new(&network.preset, chains).context("the exit circuit's shape")?;
    let name = ExitCircuit::shape_name(&network.preset, chains);
    eprintln!("exit key {name} (INSECURE dev setup the first time, then cached)…");
    let t = Instant::now();
    let pk = crate::restore::insecure_dev_exit_key(&KeyStore::new(crate::paths::dev_key_dir()), &network)?;
    let key_secs = t.elapsed().as_secs_f64();
    let req = ExitRequest {
        chain: ChainId(2),
        account: FIRST_USER_ACCOUNT_ID,
        sub: SubAccountId(0),
        l2_token: USD_TOKEN_ID,
        reserve_token: TokenId(3),
    };
    println!("exit proof, {} preset, {chains} chains (key loaded or made in {key_secs:.1} s):", network.preset.name);
    for run in 1..=args.runs {
        let t = Instant::now();
        let witness = ExitWitness::build(&mut state, chains, &req).context("building the exit witness")?;
        let input = witness.claim.public_input();
        let circuit = ExitCircuit::new(shape.clone(), witness).context("building the exit circuit")?;
        let witness_secs = t.elapsed().as_secs_f64();
        let (proof, r) = zklink_prover::prove_with_report(&pk, circuit).context("proving the exit")?;
        let total = t.elapsed().as_secs_f64();
        if !zklink_prover::verify(&pk.vk, &[input], &proof).context("verifying the exit proof")? {
            bail!("the exit proof does not verify");
        }
        println!(
            "  run {run}: {total:.2} s = witness {witness_secs:.3} s + synthesis {:.2} s + check {:.2} s + proving {:.2} s ({} constraints); verifies",
            r.synthesis.as_secs_f64(),
            r.check.as_secs_f64(),
            r.proving.as_secs_f64(),
            r.constraints
        );
    }
    Ok(())
}
