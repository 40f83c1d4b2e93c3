//! The block circuit against the executor: blocks of real transactions (dev preset) satisfy the
//! circuit, the circuit's public input equals the executor's commitment, and every kind of lie
//! a cheating prover could tell makes the circuit unsatisfiable.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use zklink_block::Block;
use zklink_circuit::block::{BlockCircuit, BlockWitness};
use zklink_crypto::Fr;
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_state::State;
use zklink_types::test_utils::E18;
use zklink_types::{
    AccountId, Address, ChainId, ForcedExit, L2Tx, Nonce, Op, PriorityTx, SubAccountId, TokenId, TxError, TxSignature,
};

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
        let signed = match tx {
            Tx::P(p) => self.net.exec.apply_priority(&p).map(|_| None)?,
            Tx::L(l) => self.net.exec.apply_l2(l.clone()).map(|_| Some(l))?,
        };
        // One entry per op: the Noop chunks that aligned an on-chain op have no tx.
        self.txs.resize(self.net.exec.pending_ops().len() - 1, None);
        self.txs.push(signed);
        Ok(())
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
    // Block 3 has timestamp 3: the maker's window ends exactly there.
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let maker = zklink_types::Order { valid_from: 2, valid_until: 3, ..maker }.sign(&a.l2).unwrap();
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
    // The maker's order was filled (slot 0 at nonce 1); a cancels up to nonce 2 for good.
    let tx = r.net.cancel_tx(&a, 0, 2, 18, 200);
    r.apply(Tx::L(tx)).unwrap();
    blocks.push(r.seal());

    // Block 5: a USDT/WETH pool (0.30 %, a fifth of it to the protocol), its first deposit (which
    // locks 1000 shares), a later deposit and an exact-in swap.
    let pool = pool_block(&mut r, &dex, &b);
    blocks.push(r.seal());
    // Block 6 (timestamp 6): an exact-out swap valid only in second 6, a removal, LP shares moved.
    let tx = r.net.swap_tx(&dex, pool, 18, true, E18 / 10, 2 * E18, 100);
    r.apply(Tx::L(zklink_executor::testkit::with_window(tx, &dex.l2, 6, 6))).unwrap();
    let tx = r.net.remove_liquidity_tx(&dex, pool, E18, 0, 0, 300);
    r.apply(Tx::L(tx)).unwrap();
    let lp = r.net.pool(pool).unwrap().0.lp_token;
    let tx = r.net.transfer_tx(&dex, a.address, lp.0, E18 / 2, 0);
    r.apply(Tx::L(tx)).unwrap();
    blocks.push(r.seal());
    blocks
}

/// `creator` creates a USDT (18) / WETH (32) pool and deposits 30 USDT and 3 WETH, `other` adds
/// 10 USDT (and up to 2 WETH) and swaps 5 USDT in; returns the pool's account.
fn pool_block(r: &mut Recorder, creator: &TestUser, other: &TestUser) -> AccountId {
    let tx = r.net.create_pool_tx(creator, 18, 32, 30, 20, 18, 1000);
    r.apply(Tx::L(tx)).unwrap();
    let pool = AccountId(r.net.state().account_count() as u32 - 1);
    let tx = r.net.add_liquidity_tx(creator, pool, 30 * E18, 3 * E18, 0, 100);
    r.apply(Tx::L(tx)).unwrap();
    let tx = r.net.add_liquidity_tx(other, pool, 10 * E18, 2 * E18, E18, 100);
    r.apply(Tx::L(tx)).unwrap();
    let tx = r.net.swap_tx(other, pool, 18, false, 5 * E18, E18 / 10, 100);
    r.apply(Tx::L(tx)).unwrap();
    pool
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
    // Noop 0 appears too: the chunks that align ops to their start periods.
    assert_eq!(kinds.len(), zklink_circuit::block::ops::OpKind::ALL.len(), "every op kind appears: {kinds:?}");
    for (block, w) in &blocks {
        check_honest(block, w);
    }
}

// ---- cheating provers: each lie must leave the circuit unsatisfiable ----

/// Three funded users with keys, in blocks not proven here; returns the recorder ready for the
/// block under test.
fn funded() -> (Recorder, [TestUser; 3]) {
    let mut r = Recorder::new();
    let users = [r.user(0), r.user(1), r.user(2)];
    for u in &users {
        r.net.deposit(1, u, 0, 32, 32, 10 * E18);
        r.net.deposit(2, u, 0, 18, 18, 100 * E18);
        r.net.activate(u);
    }
    r.net.seal();
    r.start = r.net.state().clone();
    (r, users)
}

/// An honest one-op block: its block, the state it starts from and its txs.
struct Case {
    block: Block,
    start: State,
    txs: Vec<Option<L2Tx>>,
}

impl Case {
    fn new(r: &mut Recorder, tx: L2Tx) -> Self {
        r.apply(Tx::L(tx)).unwrap();
        let block = r.net.seal().block.clone();
        let start = std::mem::replace(&mut r.start, r.net.state().clone());
        Self { block, start, txs: std::mem::take(&mut r.txs) }
    }

    fn honest(&self) -> BlockWitness {
        BlockWitness::build(&mut self.start.clone(), &self.block, &self.txs).unwrap()
    }

    /// The witness a cheating prover would build for `block` with `txs`.
    fn forged(&self, block: &Block, txs: &[Option<L2Tx>]) -> BlockWitness {
        BlockWitness::build_unchecked(&mut self.start.clone(), block, txs).unwrap()
    }
}

fn assert_rejected(w: &BlockWitness, lie: &str) {
    assert!(!satisfied(w), "the circuit accepted a lie: {lie}");
}

/// Public input for `block` with its pubdata and chain hashes replaced.
fn public_input_with(block: &Block, w: &BlockWitness, pubdata: &[u8], hashes: &[[u8; 32]]) -> Fr {
    let pubdata_hash: [u8; 32] = sha2::Sha256::digest(pubdata).into();
    let c =
        zklink_block::commitment(block.number, block.timestamp, &block.old_root, &w.new_root, &pubdata_hash, hashes);
    zklink_block::public_input(&c)
}

use sha2::Digest;

#[test]
fn honest_one_chunk_block_is_accepted() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    let w = case.honest();
    assert_eq!(w.chunks(), 4);
    check_honest(&case.block, &w);
}

#[test]
fn bad_signature_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    let mut w = case.honest();
    w.sigs[0].s[0] ^= 1;
    assert_rejected(&w, "a transfer with a corrupted signature");
}

#[test]
fn wrong_nonce_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    // The owner really signed this transfer, but for a nonce the account has not reached.
    let Some(L2Tx::Transfer(mut t)) = case.txs[0].clone() else { panic!("a transfer") };
    t.nonce = Nonce(t.nonce.0 + 1);
    let tx = L2Tx::Transfer(t).sign(&a.l2).unwrap();
    assert_rejected(&case.forged(&case.block, &[Some(tx)]), "a transfer signed for the next nonce");
}

#[test]
fn insufficient_balance_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    let too_much = 1000 * E18; // a holds 10
    let Some(L2Tx::Transfer(mut t)) = case.txs[0].clone() else { panic!("a transfer") };
    t.amount = too_much;
    let tx = L2Tx::Transfer(t).sign(&a.l2).unwrap();
    let mut block = case.block.clone();
    let Op::Transfer(op) = &mut block.ops[0] else { panic!("a transfer op") };
    op.amount = too_much;
    assert_rejected(&case.forged(&block, &[Some(tx)]), "a transfer of more than the balance");
}

#[test]
fn reserve_exceeded_is_rejected() {
    let (mut r, [_, b, _]) = funded();
    let tx = r.net.withdraw_tx(&b, 2, 18, 18, E18, 0, 0);
    let case = Case::new(&mut r, tx);
    // Chain 3 holds none of token 18: a withdrawal there exceeds its reserve.
    let Some(L2Tx::Withdraw(mut t)) = case.txs[0].clone() else { panic!("a withdraw") };
    t.to_chain_id = ChainId(3);
    let tx = L2Tx::Withdraw(t).sign(&b.l2).unwrap();
    let mut block = case.block.clone();
    let Op::Withdraw(op) = &mut block.ops[0] else { panic!("a withdraw op") };
    op.chain_id = ChainId(3);
    assert_rejected(&case.forged(&block, &[Some(tx)]), "a withdrawal beyond the chain's reserve");
}

#[test]
fn an_lp_token_never_crosses_to_l1() {
    let (mut r, [a, _, _]) = funded();
    let d = r.net.deposit_tx(1, a.address, 0, 32, 32, E18);
    r.apply(Tx::P(d)).unwrap();
    let block = r.net.seal().block.clone();
    let start = std::mem::replace(&mut r.start, r.net.state().clone());
    let txs = std::mem::take(&mut r.txs);
    check_honest(&block, &BlockWitness::build(&mut start.clone(), &block, &txs).unwrap());
    // The same deposit credited as LP shares (as if a chain had listed an LP token id).
    let lp = TokenId(*r.net.network().preset.lp_tokens().start());
    let mut forged = block.clone();
    let Op::Deposit(op) = forged.ops.iter_mut().find(|o| !matches!(o, Op::Noop)).unwrap() else { panic!("a deposit") };
    (op.l1_token, op.l2_token) = (lp, lp);
    let w = BlockWitness::build_unchecked(&mut start.clone(), &forged, &txs).unwrap();
    assert_rejected(&w, "a deposit minting LP shares");
}

#[test]
fn overfilled_order_is_rejected() {
    let (mut r, [a, b, dex]) = funded();
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let taker = r.net.order(&b, 0, 0, 32, 18, 3 * E18, 3 * E18, false);
    let tx = r.net.matching_tx(&dex, maker, taker, 18, 0);
    let case = Case::new(&mut r, tx);
    let mut block = case.block.clone();
    let Op::OrderMatching(op) = &mut block.ops[0] else { panic!("a matching op") };
    assert_eq!(op.base_amount, 2 * E18, "honest fill = the maker's whole order");
    // Fill 3 against a maker order of 2.
    op.base_amount = 3 * E18;
    op.quote_amount = 9 * E18;
    assert_rejected(&case.forged(&block, &case.txs), "a fill larger than the maker's order");
}

#[test]
fn wrong_new_root_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    let mut w = case.honest();
    let lie = Block { new_root: Fr::from(42u64), ..case.block.clone() };
    w.public_input = lie.public_input().unwrap();
    assert_rejected(&w, "a commitment to a new root the ops do not produce");
}

#[test]
fn altered_pubdata_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 1000);
    let case = Case::new(&mut r, tx);
    let mut w = case.honest();
    // Publish a different receiver sub-account (byte 12) under a commitment that matches it.
    w.pubdata[12] ^= 1;
    w.public_input = public_input_with(&case.block, &w, &w.pubdata, &case.block.chain_hashes().unwrap());
    assert_rejected(&w, "pubdata that differs from the state change");
}

#[test]
fn altered_chain_hash_and_wrong_chain_are_rejected() {
    let (mut r, [_, b, _]) = funded();
    let tx = r.net.withdraw_tx(&b, 2, 18, 18, E18, 0, 0);
    let case = Case::new(&mut r, tx);
    let mut w = case.honest();
    let honest = case.block.chain_hashes().unwrap();
    assert_ne!(honest[1], [0; 32], "the withdrawal rolls into chain 2's hash");
    let mut altered = honest.clone();
    altered[1][0] ^= 1;
    w.public_input = public_input_with(&case.block, &w, &w.pubdata, &altered);
    assert_rejected(&w, "an altered chain hash");
    // The same op rolled into chain 1's hash instead of chain 2's.
    let op = case.block.ops[0].pubdata().unwrap();
    let moved = [zklink_block::roll_chain_hash(&[0; 32], &op), [0; 32], [0; 32]];
    w.public_input = public_input_with(&case.block, &w, &w.pubdata, &moved);
    assert_rejected(&w, "an op credited to another chain's hash");
}

#[test]
fn fees_credited_other_than_paid_are_rejected() {
    let (mut r, [a, b, c]) = funded();
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let taker = r.net.order(&b, 0, 0, 32, 18, E18, 3 * E18, false);
    let tx = r.net.matching_tx(&c, maker, taker, 18, 1000);
    let case = Case::new(&mut r, tx);
    let honest = zklink_block::block_credits(&case.block.ops);
    // Both order fees to the submitter (tokens 18 and 32) and the network fee to account 0.
    assert_eq!(honest.len(), 3, "{honest:?}");
    let w = case.honest();
    assert_eq!((w.chunks(), w.credits.len()), (4, 4), "a 4-chunk dev block has 4 credit slots");
    check_honest(&case.block, &w);
    let forge = |fees: Vec<zklink_types::op::Credit>| {
        BlockWitness::build_with_fees(&mut case.start.clone(), &case.block, &case.txs, fees).unwrap()
    };
    let mut more = honest.clone();
    more[0].amount += 1;
    assert_rejected(&forge(more), "a credit slot paying more than the fee");
    let mut less = honest.clone();
    less[1].amount -= 1;
    assert_rejected(&forge(less), "a credit slot paying less than the fee");
    // The maker's fee, owed to the submitter, credited to the maker instead.
    let mut elsewhere = honest.clone();
    elsewhere[0].account = r.net.id_of(&a);
    assert_rejected(&forge(elsewhere), "a fee credited to another account");
    let dropped = honest[1..].to_vec();
    assert_rejected(&forge(dropped), "a fee credited to nobody");
    let mut split = honest.clone();
    split[0].amount -= 1;
    split.push(zklink_types::op::Credit { amount: 1, ..honest[0] });
    assert_rejected(&forge(split), "a fee split over two slots");
}

#[test]
fn misaligned_onchain_op_is_rejected() {
    let (mut r, [a, b, _]) = funded();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 0);
    r.apply(Tx::L(tx)).unwrap();
    let d = r.net.deposit_tx(2, b.address, 0, 18, 18, E18);
    r.apply(Tx::P(d)).unwrap();
    let block = r.net.seal().block.clone();
    let start = std::mem::replace(&mut r.start, r.net.state().clone());
    let case = Case { block, start, txs: std::mem::take(&mut r.txs) };
    // The executor put the deposit at chunk 2 (the dev period), after a Noop chunk.
    let codes: Vec<u8> = case.block.ops.iter().map(|o| o.code()).collect();
    assert_eq!((codes, case.block.chunks), (vec![4, 0, 1], 4), "transfer, alignment, deposit");
    check_honest(&case.block, &case.honest());
    // A prover that packs the withdrawal right after the transfer (chunk 1): the same state
    // change, but no chain-hash compression where it starts.
    let mut packed = case.block.clone();
    packed.ops.remove(1);
    let mut txs = case.txs.clone();
    txs.remove(1);
    let w = case.forged(&packed, &txs);
    assert_eq!(w.new_root, case.block.new_root, "the lie reaches the honest root");
    assert_rejected(&w, "an on-chain op off its period");
}

#[test]
fn fill_outside_an_order_window_is_rejected() {
    let (mut r, [a, b, dex]) = funded();
    r.net.exec.set_block_timestamp(1_000).unwrap();
    let maker = r.net.order(&a, 0, 0, 32, 18, 2 * E18, 3 * E18, true);
    let maker = zklink_types::Order { valid_from: 900, valid_until: 1_000, ..maker }.sign(&a.l2).unwrap();
    let taker = r.net.order(&b, 0, 0, 32, 18, E18, 3 * E18, false);
    let tx = r.net.matching_tx(&dex, maker, taker, 18, 0);
    let case = Case::new(&mut r, tx);
    assert_eq!(case.block.timestamp, 1_000);
    check_honest(&case.block, &case.honest());
    // The same fill in a block one second later (after the maker's window), and one before it.
    for (timestamp, lie) in [(1_001, "a fill after the maker order expired"), (899, "a fill before its window opened")]
    {
        let block = Block { timestamp, ..case.block.clone() };
        let w = case.forged(&block, &case.txs);
        assert_eq!(w.public_input, block.public_input().unwrap(), "the commitment names the lying timestamp");
        assert_rejected(&w, lie);
    }
    // A window widened in the witness is not what the owner signed.
    let mut w = case.honest();
    w.aux[0].maker_window.1 = u32::MAX;
    let block = Block { timestamp: 1_001, ..case.block.clone() };
    w.public_input = block.public_input().unwrap();
    assert_rejected(&w, "a maker window other than the signed one");
}

#[test]
fn hard_cancel_is_binding() {
    let (mut r, [a, b, dex]) = funded();
    let a_id = r.net.id_of(&a);
    // a cancels slot 0 up to nonce 4 (slot → {5, 0}) in a block of its own.
    let tx = r.net.cancel_tx(&a, 0, 4, 18, 100);
    let case = Case::new(&mut r, tx);
    check_honest(&case.block, &case.honest());
    assert_eq!(r.net.state().order_slot(a_id, SubAccountId(0), zklink_types::SlotId(0)).nonce.0, 5);

    // A cancel that would move the slot back to 4 (owner-signed, so only the rule stops it).
    let back = r.net.cancel_tx(&a, 0, 3, 18, 0);
    let honest = r.net.cancel_tx(&a, 0, 5, 18, 0);
    let case = Case::new(&mut r, honest);
    check_honest(&case.block, &case.honest());
    let mut block = case.block.clone();
    let Op::CancelOrder(op) = &mut block.ops[0] else { panic!("a cancel op") };
    op.order_nonce = zklink_types::OrderNonce(3);
    op.fee = 0;
    assert_rejected(&case.forged(&block, &[Some(back)]), "a cancel below the slot's nonce");

    // The slot is at 6: a fill of a's old order (nonce 4, really signed by a) is refused.
    let old = r.net.order(&a, 0, 4, 32, 18, 2 * E18, 3 * E18, true);
    let fresh = r.net.order(&a, 0, 6, 32, 18, 2 * E18, 3 * E18, true);
    let taker = r.net.order(&b, 0, 0, 32, 18, E18, 3 * E18, false);
    let tx = r.net.matching_tx(&dex, fresh, taker.clone(), 18, 0);
    let case = Case::new(&mut r, tx);
    check_honest(&case.block, &case.honest());
    let replay = r.net.matching_tx(&dex, old, taker, 18, 0);
    let mut block = case.block.clone();
    let Op::OrderMatching(op) = &mut block.ops[0] else { panic!("a matching op") };
    op.maker.nonce = zklink_types::OrderNonce(4);
    // The submitter signs its matching over the old order at the nonce it had.
    let L2Tx::OrderMatching(mut m) = replay else { panic!() };
    m.nonce = Nonce(m.nonce.0 - 1);
    let replay = L2Tx::OrderMatching(m).sign(&dex.l2).unwrap();
    assert_rejected(&case.forged(&block, &[Some(replay)]), "a fill of an order retired by a hard cancel");

    // A cancel signed by another key.
    let L2Tx::CancelOrder(t) = r.net.cancel_tx(&a, 1, 0, 18, 0) else { panic!() };
    let case = Case::new(&mut r, L2Tx::CancelOrder(t.clone()).sign(&a.l2).unwrap());
    let forged = L2Tx::CancelOrder(t).sign(&b.l2).unwrap();
    assert_rejected(&case.forged(&case.block, &[Some(forged)]), "a cancel signed by another key");
}

/// Constraint counts per block shape (run with `--ignored --nocapture`; the main preset takes
/// a while to synthesise). Figures go to docs/benchmarks.md.
/// One block of `tx` against a fresh pool (created, funded and swapped against in an earlier
/// block); returns the case and the pool.
fn pool_case(tx: impl FnOnce(&Recorder, AccountId) -> L2Tx) -> (Case, AccountId) {
    let (mut r, [a, b, _]) = funded();
    let pool = pool_block(&mut r, &a, &b);
    r.net.seal();
    r.start = r.net.state().clone();
    r.txs.clear();
    let tx = tx(&r, pool);
    (Case::new(&mut r, tx), pool)
}

/// The case's block with its one pool op changed by `lie`.
fn lying(case: &Case, lie: impl FnOnce(&mut Op)) -> Block {
    let mut block = case.block.clone();
    let op = block.ops.iter_mut().find(|o| !matches!(o, Op::Noop)).expect("a pool op");
    lie(op);
    block
}

#[test]
fn pool_lies_are_rejected() {
    let user = |r: &Recorder| r.user(1);
    // Exact-in and exact-out swaps: paying out more than the curve allows, or less, or charging
    // another input, or claiming another fee rate.
    for exact_out in [false, true] {
        let limit = if exact_out { 100 * E18 } else { 0 };
        let (case, _) = pool_case(|r, pool| r.net.swap_tx(&user(r), pool, 32, exact_out, E18 / 4, limit, 0));
        check_honest(&case.block, &case.honest());
        let swap = |f: fn(&mut zklink_types::op::SwapOp)| {
            lying(&case, |op| {
                let Op::Swap(s) = op else { panic!("a swap") };
                f(s);
            })
        };
        let lies: [(Block, &str); 4] = [
            (swap(|s| s.amount_out += 1), "a swap paying out one unit more than the curve allows"),
            (swap(|s| s.amount_out -= 1), "a swap paying out less than the curve gives"),
            (swap(|s| s.amount_in -= 1), "a swap charging one unit less"),
            (swap(|s| s.fee_bps = 0), "a swap at a fee rate other than the pool's"),
        ];
        for (block, lie) in lies {
            assert_rejected(&case.forged(&block, &case.txs), lie);
        }
    }
    // Liquidity: more shares than paid for, a removal taking more than its shares' worth.
    let (case, pool) = pool_case(|r, pool| r.net.add_liquidity_tx(&user(r), pool, 5 * E18, E18, 0, 0));
    check_honest(&case.block, &case.honest());
    let more = lying(&case, |op| {
        let Op::AddLiquidity(o) = op else { panic!("an add") };
        o.shares += o.shares / 100;
    });
    assert_rejected(&case.forged(&more, &case.txs), "a deposit minting more shares than it pays for");
    let (case, _) = pool_case(|r, _| r.net.remove_liquidity_tx(&user(r), pool, E18, 0, 0, 0));
    check_honest(&case.block, &case.honest());
    let more = lying(&case, |op| {
        let Op::RemoveLiquidity(o) = op else { panic!("a removal") };
        o.amount_a += 1;
    });
    assert_rejected(&case.forged(&more, &case.txs), "a removal taking more than the shares are worth");
    // A swap outside its signed window.
    let (case, _) = pool_case(|r, pool| {
        let tx = r.net.swap_tx(&user(r), pool, 32, false, E18 / 4, 0, 0);
        let now = r.net.exec.block_timestamp() as u32;
        zklink_executor::testkit::with_window(tx, &user(r).l2, 0, now)
    });
    check_honest(&case.block, &case.honest());
    let late = Block { timestamp: case.block.timestamp + 1, ..case.block.clone() };
    assert_rejected(&case.forged(&late, &case.txs), "a swap after its window");
    // A transfer into a pool's reserves (its reserves move only by the pool's rules).
    let (mut r, [a, b, _]) = funded();
    let pool = pool_block(&mut r, &a, &b);
    r.net.seal();
    r.start = r.net.state().clone();
    r.txs.clear();
    let tx = r.net.transfer_tx(&a, b.address, 32, E18, 0);
    let case = Case::new(&mut r, tx);
    let into_pool = lying(&case, |op| {
        let Op::Transfer(t) = op else { panic!("a transfer") };
        t.to = pool;
    });
    assert_rejected(&case.forged(&into_pool, &case.txs), "a transfer into a pool");
}

#[test]
#[ignore]
fn constraint_counts() {
    // `RUST_LOG=zklink_circuit::block=debug` shows the circuit's checkpoints (the breakdown).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (dev, main) = (zklink_types::Preset::dev(), zklink_types::Preset::main());
    for (preset, chunks) in [(&dev, 4), (&dev, 16), (&main, 16), (&main, 64)] {
        let w = BlockWitness::empty(preset, 3, chunks).unwrap();
        let cs = ConstraintSystem::<Fr>::new_ref();
        BlockCircuit::new(w).generate_constraints(cs.clone()).unwrap();
        println!("{} preset, {chunks} chunks, 3 chains: {} constraints", preset.name, cs.num_constraints());
    }
}
