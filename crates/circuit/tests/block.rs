//! The block circuit against the executor: blocks of real transactions (dev preset) satisfy the
//! circuit, the circuit's public input equals the executor's commitment, and every kind of lie
//! a cheating prover could tell makes the circuit unsatisfiable.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use zklink_block::Block;
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_crypto::Fr;
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_state::State;
use zklink_types::{
    AccountId, Address, ChainId, ForcedExit, L2Tx, Nonce, PriorityTx, SubAccountId, TokenId, TxError, TxSignature,
};

const E18: u128 = 1_000_000_000_000_000_000;

/// Runs txs through the executor, keeping what the prover needs: the state at the block's
/// start and each op's signed tx.
struct Recorder {
    net: TestNet,
    start: State,
    txs: Vec<Option<L2Tx>>,
}

enum Tx {
    P(PriorityTx),
    L(L2Tx),
}

impl Recorder {
    fn new() -> Self {
        let net = TestNet::dev();
        let start = net.state().clone();
        Self { net, start, txs: Vec::new() }
    }

    fn apply(&mut self, tx: Tx) -> Result<(), TxError> {
        match tx {
            Tx::P(p) => self.net.exec.apply_priority(&p).map(|_| self.txs.push(None)),
            Tx::L(l) => self.net.exec.apply_l2(l.clone()).map(|_| self.txs.push(Some(l))),
        }
    }

    /// Seals the pending ops; returns the block, its witness, and the state it started from.
    fn seal(&mut self) -> (Block, BlockWitness) {
        let block = self.net.seal().block.clone();
        let mut state = std::mem::replace(&mut self.start, self.net.state().clone());
        let txs = std::mem::take(&mut self.txs);
        let w = BlockWitness::build(&mut state, &block, &txs).expect("witness");
        (block, w)
    }

    fn user(&self, n: u64) -> TestUser {
        self.net.user(n)
    }
}

fn satisfied(w: &BlockWitness) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    BlockCircuit::new(w.clone()).generate_constraints(cs.clone()).expect("synthesis");
    let ok = cs.is_satisfied().expect("satisfiability");
    if !ok {
        eprintln!("unsatisfied: {:?}", cs.which_is_unsatisfied());
    }
    println!("{} chunks: {} constraints", w.chunks(), cs.num_constraints());
    ok
}

fn check_honest(block: &Block, w: &BlockWitness) {
    assert_eq!(w.new_root, block.new_root, "witness replay reaches the executor's root");
    assert_eq!(w.public_input, block.public_input().unwrap(), "public input = executor commitment");
    assert!(satisfied(w), "honest block must satisfy the circuit");
}

/// A history exercising every op kind across four blocks (dev preset, 16-chunk blocks):
/// deposits (new and existing accounts, a stablecoin credited as USD), key changes, transfers
/// (to an existing and to a new account), a withdrawal, order matchings (a fresh fill and a
/// continued maker order), a forced exit of a keyless account, and full exits (one paying out,
/// one invalid with amount 0).
fn history() -> Vec<(Block, BlockWitness)> {
    let mut r = Recorder::new();
    let mut blocks = Vec::new();
    let (a, b, dex, keyless) = (r.user(0), r.user(1), r.user(2), r.user(3));
    for u in [&a, &b, &dex] {
        let d = r.net.deposit_tx(1, u.address, 0, 32, 32, 10 * E18);
        r.apply(Tx::P(d)).unwrap();
        let d = r.net.deposit_tx(2, u.address, 0, 18, 18, 100 * E18);
        r.apply(Tx::P(d)).unwrap();
    }
    let d = r.net.deposit_tx(3, b.address, 1, 18, 1, 7 * E18);
    r.apply(Tx::P(d)).unwrap();
    blocks.push(r.seal());

    for u in [&a, &b, &dex] {
        let tx = r.net.change_pubkey_tx(u);
        r.apply(Tx::L(tx)).unwrap();
    }
    let d = r.net.deposit_tx(1, keyless.address, 0, 32, 32, 3 * E18);
    r.apply(Tx::P(d)).unwrap();
    blocks.push(r.seal());

    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    r.apply(Tx::L(tx)).unwrap();
    let tx = r.net.transfer_tx(&a, r.user(9).address, 32, E18, 0);
    r.apply(Tx::L(tx)).unwrap();
    let tx = r.net.withdraw_tx(&b, 2, 18, 18, E18, 30, 50);
    r.apply(Tx::L(tx)).unwrap();
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let taker = r.net.order(&b, 1, 0, 32, 18, E18, 3 * E18, false);
    let tx = r.net.matching_tx(&dex, maker, taker, 18, 1000);
    r.apply(Tx::L(tx)).unwrap();
    blocks.push(r.seal());

    // The maker's order continues (nonce 0, residue left); the taker's filled slot moved to nonce 1.
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let taker = r.net.order(&b, 1, 1, 32, 18, 4 * E18, 4 * E18, false);
    let tx = r.net.matching_tx(&dex, maker, taker, 18, 0);
    r.apply(Tx::L(tx)).unwrap();
    let tx = forced_exit(&r, &a, keyless.address);
    r.apply(Tx::L(tx)).unwrap();
    let b_id = r.net.id_of(&b);
    let fe = r.net.full_exit_tx(3, b_id, b.address, 1, 18, 1);
    r.apply(Tx::P(fe)).unwrap();
    let fe = r.net.full_exit_tx(1, b_id, a.address, 0, 32, 32);
    r.apply(Tx::P(fe)).unwrap();
    blocks.push(r.seal());
    blocks
}

fn forced_exit(r: &Recorder, initiator: &TestUser, target: Address) -> L2Tx {
    L2Tx::ForcedExit(ForcedExit {
        to_chain_id: ChainId(1),
        initiator_account_id: r.net.id_of(initiator),
        initiator_sub_account_id: SubAccountId(0),
        target,
        target_sub_account_id: SubAccountId(0),
        l2_source_token: TokenId(32),
        l1_target_token: TokenId(32),
        fee_token: TokenId(18),
        fee: 500,
        nonce: r.net.nonce_of(initiator),
        signature: TxSignature::default(),
    })
    .sign(&initiator.l2)
    .unwrap()
}

#[test]
fn every_op_kind_satisfies_the_circuit() {
    let blocks = history();
    let kinds: std::collections::BTreeSet<u8> =
        blocks.iter().flat_map(|(b, _)| b.ops.iter().map(|o| o.code())).collect();
    assert_eq!(kinds.len(), 8, "every op kind but Noop appears: {kinds:?}");
    for (block, w) in &blocks {
        check_honest(block, w);
    }
}
