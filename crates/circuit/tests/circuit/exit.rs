//! The exit circuit against real executor states: valid claims satisfy it with the natively
//! computed public input and pro-rata amounts; every way of cheating leaves it unsatisfied.

use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use num_bigint::BigUint;
use zklink_circuit::exit::*;
use zklink_crypto::Fr;
use zklink_executor::testkit::{TestNet, TestUser};
use zklink_state::State;
use zklink_types::test_utils::{E18, WETH};
use zklink_types::*;

const CHAINS: u8 = 3;

/// Users: `a` holds WETH from chain 1 and USD from chain 1; `b` WETH from chain 2 and USD from
/// chain 2 (USDT); `c` USD from chain 3 and plain USDC (17 as 17) on chain 1. `a` pays a WETH fee.
fn net_with(network: Network) -> (TestNet, [TestUser; 3]) {
    let mut net = TestNet::new(network);
    let users = [net.user(0), net.user(1), net.user(2)];
    let [a, b, c] = &users;
    net.deposit(1, a, 0, WETH, WETH, 10 * E18 + 7);
    net.deposit(2, b, 0, WETH, WETH, 30 * E18 + 3);
    net.deposit(1, a, 0, 17, 1, 100 * E18);
    net.deposit(2, b, 0, 18, 1, 50 * E18 + 1);
    net.deposit(3, c, 0, 17, 1, 25 * E18);
    net.deposit(1, c, 0, 17, 17, 5 * E18);
    net.activate(a);
    let tx = net.transfer_tx(a, b.address, WETH, E18, 1000);
    net.apply_l2(tx).unwrap();
    (net, users)
}

fn dev_net() -> (TestNet, [TestUser; 3]) {
    net_with(Network::dev(CHAINS))
}

fn request(chain: u8, account: AccountId, l2_token: u16, reserve_token: u16) -> ExitRequest {
    ExitRequest {
        chain: ChainId(chain),
        account,
        sub: SubAccountId(0),
        l2_token: TokenId(l2_token),
        reserve_token: TokenId(reserve_token),
    }
}

fn build(net: &mut TestNet, req: &ExitRequest) -> ExitWitness {
    ExitWitness::build(net.exec.state_mut(), CHAINS, req).unwrap()
}

fn dev_shape() -> ExitShape {
    ExitShape::new(&Preset::dev(), CHAINS).unwrap()
}

fn circuit(w: ExitWitness) -> ExitCircuit {
    ExitCircuit::new(dev_shape(), w).unwrap()
}

/// Synthesises the circuit; returns whether it is satisfied, its constraint count and public inputs.
fn synthesize(c: ExitCircuit) -> (bool, usize, Vec<Fr>) {
    let cs = ConstraintSystem::<Fr>::new_ref();
    c.generate_constraints(cs.clone()).unwrap();
    (cs.is_satisfied().unwrap(), cs.num_constraints(), cs.instance_assignment().unwrap())
}

fn satisfied(w: ExitWitness) -> bool {
    synthesize(circuit(w)).0
}

/// `⌊b · R(c, r) / total⌋` straight from the state's balances, independently of the witness.
fn expected_amount(state: &State, req: &ExitRequest) -> u128 {
    let reserve = |c: u8, x: u16| BigUint::from(state.balance(AccountId(1), SubAccountId(c), TokenId(x)));
    let b = BigUint::from(state.balance(req.account, req.sub, req.l2_token));
    let total: BigUint = if req.l2_token == USD_TOKEN_ID {
        (1..=CHAINS).flat_map(|c| (2..=16).map(move |x| (c, x))).map(|(c, x)| reserve(c, x)).sum()
    } else {
        (1..=CHAINS).map(|c| reserve(c, req.l2_token.0)).sum()
    };
    if total == BigUint::ZERO {
        return 0;
    }
    u128::try_from(b * reserve(req.chain.0, req.reserve_token.0) / total).unwrap()
}

#[test]
fn valid_claims_satisfy_with_native_public_input_and_amount() {
    let (mut net, [a, b, _]) = dev_net();
    let (ida, idb) = (net.id_of(&a), net.id_of(&b));
    let mut claims = Vec::new();
    for chain in 1..=CHAINS {
        claims.push(request(chain, ida, WETH, WETH));
        claims.push(request(chain, idb, 1, 3));
        claims.push(request(chain, FEE_ACCOUNT_ID, WETH, WETH)); // the fee account is a real owner
        for r in [2, 3, 16] {
            claims.push(request(chain, ida, 1, r));
        }
    }
    for req in &claims {
        let w = build(&mut net, req);
        let claim = w.claim.clone();
        assert_eq!(claim.amount, expected_amount(net.state(), req), "{req:?}");
        let (ok, _, inputs) = synthesize(circuit(w));
        assert!(ok, "{req:?}");
        assert_eq!(inputs, vec![Fr::from(1u64), claim.public_input()], "exactly one public input: {req:?}");
    }
    // Spot-check the arithmetic: a's WETH is 10e18 + 7 − 1e18 − 1000; reserves 10e18 + 7 and 30e18 + 3.
    let w = build(&mut net, &request(2, ida, WETH, WETH));
    let b_a = 9 * E18 + 7 - 1000;
    assert_eq!(w.balance, b_a);
    let expected = BigUint::from(b_a) * (30 * E18 + 3) / (40 * E18 + 10);
    assert_eq!(BigUint::from(w.claim.amount), expected);
}

#[test]
fn the_chains_together_pay_at_most_the_balance() {
    let (mut net, [a, b, _]) = dev_net();
    let (ida, idb) = (net.id_of(&a), net.id_of(&b));
    // A normal token: one claim per chain.
    let weth: u128 = (1..=CHAINS).map(|c| build(&mut net, &request(c, ida, WETH, WETH)).claim.amount).sum();
    let b_weth = net.state().balance(ida, SubAccountId(0), TokenId(WETH));
    assert!(weth <= b_weth && b_weth - weth < CHAINS as u128, "{weth} of {b_weth}");
    // USD: one claim per chain and reserve id.
    for id in [ida, idb] {
        let usd: u128 = (1..=CHAINS)
            .flat_map(|c| (2..=16).map(move |r| (c, r)))
            .map(|(c, r)| build(&mut net, &request(c, id, 1, r)).claim.amount)
            .sum();
        let b_usd = net.state().balance(id, SubAccountId(0), USD_TOKEN_ID);
        assert!(usd <= b_usd && b_usd - usd < 45, "{usd} of {b_usd}");
    }
}

#[test]
fn products_beyond_the_field_divide_exactly() {
    // b · R ≈ 2^253 · 2^125 ≫ p: the limbed division must still give the exact floor.
    let mut net = TestNet::new(Network::dev(CHAINS));
    let (a, b) = (net.user(0), net.user(1));
    let big = (1u128 << 127) + 123_456_789;
    net.deposit(1, &a, 0, WETH, WETH, big);
    net.deposit(3, &b, 0, WETH, WETH, (1u128 << 126) - 17);
    let ida = net.id_of(&a);
    for chain in 1..=CHAINS {
        let req = request(chain, ida, WETH, WETH);
        let w = build(&mut net, &req);
        assert_eq!(w.claim.amount, expected_amount(net.state(), &req));
        assert!(satisfied(w.clone()));
        let mut bad = w;
        bad.claim.amount ^= 1; // off by one either way, also for a zero share
        assert!(!satisfied(bad));
    }
}

#[test]
fn the_shape_does_not_depend_on_the_claim() {
    let (mut net, [a, _, _]) = dev_net();
    let ida = net.id_of(&a);
    let (_, blank, _) = synthesize(ExitCircuit::blank(dev_shape()));
    for req in [request(1, ida, WETH, WETH), request(3, ida, 1, 16)] {
        let (_, n, _) = synthesize(circuit(build(&mut net, &req)));
        assert_eq!(n, blank, "{req:?}");
    }
    println!("exit circuit, dev preset, {CHAINS} chains: {blank} constraints");
}

#[test]
fn main_preset_claim_satisfies() {
    let network = Network { preset: Preset::main(), ..Network::dev(CHAINS) };
    let (mut net, [a, _, _]) = net_with(network);
    let req = request(1, net.id_of(&a), 1, 2);
    let w = build(&mut net, &req);
    assert_eq!(w.claim.amount, expected_amount(net.state(), &req));
    let shape = ExitShape::new(&Preset::main(), CHAINS).unwrap();
    let (ok, n, _) = synthesize(ExitCircuit::new(shape, w).unwrap());
    assert!(ok);
    println!("exit circuit, main preset, {CHAINS} chains: {n} constraints");
}

/// A named change to a witness.
type Tamper<'a> = (&'static str, &'a ExitWitness, fn(&mut ExitWitness));

/// Ways of cheating, each applied to a valid witness; none may satisfy the circuit.
#[test]
fn cheating_claims_do_not_satisfy() {
    let (mut net, [a, b, _]) = dev_net();
    let (ida, idb) = (net.id_of(&a), net.id_of(&b));
    let weth = build(&mut net, &request(1, ida, WETH, WETH));
    let usd = build(&mut net, &request(1, ida, 1, 2));
    assert!(satisfied(weth.clone()) && satisfied(usd.clone()));

    let tampers: [Tamper; 8] = [
        ("amount + 1", &weth, |w| w.claim.amount += 1),
        ("USD amount + 1", &usd, |w| w.claim.amount += 1),
        ("USD amount − 1", &usd, |w| w.claim.amount -= 1),
        ("wrong owner", &weth, |w| w.claim.owner = Address::with_last_byte(9)),
        ("wrong balance", &weth, |w| w.balance += 1),
        ("wrong reserve value", &weth, |w| w.chains[1].reserve += 1),
        ("wrong USD reserve value", &usd, |w| w.chains[2].low_tokens[2] += 1),
        ("wrong token-16 reserve value", &usd, |w| w.chains[0].token16 += 1),
    ];
    for (name, w, tamper) in tampers {
        let mut bad = w.clone();
        tamper(&mut bad);
        assert!(!satisfied(bad), "{name}");
    }

    // A claim against a different root: the paths are from the current state, the root is not.
    let mut other_root = weth.clone();
    net.deposit(2, &a, 0, WETH, WETH, E18);
    other_root.claim.root = net.exec.root();
    assert_ne!(other_root.claim.root, weth.claim.root);
    assert!(!satisfied(other_root));
    let (weth, usd) = (build(&mut net, &request(1, ida, WETH, WETH)), build(&mut net, &request(1, ida, 1, 2)));

    // USD paid from reserve ids outside 2..=16, with honest paths and pro-rata amounts for them.
    // Reserve 17 on chain 1 is funded (plain USDC), so that cheat would pay out.
    for r in [17u16, 1, 0] {
        let bad = with_reserve_token(&mut net, &usd, r);
        assert!(r != 17 || bad.claim.amount > 0);
        assert!(!satisfied(bad), "USD from reserve {r}");
    }
    // The helper is honest: re-targeting at a valid reserve id still satisfies.
    assert!(satisfied(with_reserve_token(&mut net, &usd, 3)));

    // Account 1's own reserves, with its honest leaf, path and balance.
    let global = as_account(&mut net, &weth, AccountId(1), SubAccountId(1));
    assert_eq!(global.claim.owner, GLOBAL_ASSET_ADDRESS);
    assert!(global.balance > 0 && global.claim.amount > 0);
    assert!(!satisfied(global));
    // The same substitution for a user account satisfies, so `a ≠ 1` is what rejects account 1.
    assert!(satisfied(as_account(&mut net, &weth, idb, SubAccountId(0))));
}

/// A WETH/USD pool funded from chain 1's USD and chains 1–2's WETH: `a` provides liquidity, `b`
/// holds some of `a`'s shares. Returns the net, the pool and the LP token.
fn pool_net() -> (TestNet, [TestUser; 3], AccountId, TokenId) {
    let (mut net, users) = dev_net();
    let [a, b, _] = &users;
    let tx = net.create_pool_tx(a, 1, WETH, 30, 0, 1, 0);
    net.apply_l2(tx).unwrap();
    let pool = AccountId(net.state().account_count() as u32 - 1);
    let tx = net.add_liquidity_tx(a, pool, 40 * E18, 4 * E18, 0, 0);
    net.apply_l2(tx).unwrap();
    let lp = net.pool(pool).unwrap().0.lp_token;
    let tx = net.transfer_tx(a, b.address, lp.0, E18, 0);
    net.apply_l2(tx).unwrap();
    (net, users, pool, lp)
}

#[test]
fn lp_shares_exit_pro_rata_through_the_pool() {
    let (mut net, [a, b, _], pool, lp) = pool_net();
    let (ida, idb) = (net.id_of(&a), net.id_of(&b));
    let (_, reserves) = net.pool(pool).unwrap();
    for id in [ida, idb] {
        let shares = net.state().balance(id, SubAccountId(0), lp);
        // WETH: the shares' part of the pool's WETH, paid by each chain pro rata.
        let part = |x: u128| pool::mul_div(x, shares, reserves.supply, "share").unwrap();
        let backed = part(reserves.b);
        let mut paid = 0;
        for chain in 1..=CHAINS {
            let w = build(&mut net, &request(chain, id, lp.0, WETH));
            let weth: u128 =
                (1..=CHAINS).map(|c| net.state().balance(AccountId(1), SubAccountId(c), TokenId(WETH))).sum();
            let reserve = net.state().balance(AccountId(1), SubAccountId(chain), TokenId(WETH));
            let expected = BigUint::from(backed) * reserve / weth;
            assert_eq!(BigUint::from(w.claim.amount), expected, "chain {chain}, account {id}");
            paid += w.claim.amount;
            assert!(satisfied(w), "LP claim on chain {chain}");
        }
        assert!(
            paid <= backed && paid + CHAINS as u128 >= backed,
            "the chains pay the shares' WETH: {paid} of {backed}"
        );
        // USD: the pool's USD came from chain 1's USDC reserve (id 2).
        let w = build(&mut net, &request(1, id, lp.0, 2));
        let usd = |c: u8, x: u16| net.state().balance(AccountId(1), SubAccountId(c), TokenId(x));
        let usd_total: u128 = (1..=CHAINS).flat_map(|c| (2..=16).map(move |x| (c, x))).map(|(c, x)| usd(c, x)).sum();
        let expected = BigUint::from(part(reserves.a)) * usd(1, 2) / usd_total;
        assert_eq!(BigUint::from(w.claim.amount), expected, "the shares' USD, chain 1's part of the USD reserves");
        assert!(satisfied(w.clone()), "LP claim on USD");
        // Lies: more than the shares' worth, another pool's numbers, the pool's own exit.
        let mut more = w.clone();
        more.claim.amount += 1;
        assert!(!satisfied(more), "an LP claim of one unit more");
        let mut richer = w.clone();
        richer.pool.reserve += E18;
        richer.claim.amount = u128::try_from(BigUint::from(part(reserves.a + E18)) * usd(1, 2) / usd_total).unwrap();
        assert!(!satisfied(richer), "an LP claim against a pool reserve the state does not hold");
    }
    // The pool itself cannot exit its reserves: they are its LPs'.
    let err = ExitWitness::build(net.exec.state_mut(), CHAINS, &request(1, pool, WETH, WETH)).unwrap_err();
    assert!(matches!(err, ExitError::PoolAccount { .. }), "{err}");
    // An LP claim in a token the pool does not hold.
    let err = ExitWitness::build(net.exec.state_mut(), CHAINS, &request(1, ida, lp.0, 17)).unwrap_err();
    assert!(matches!(err, ExitError::InvalidTokens { .. }), "{err}");
}

#[test]
fn invalid_requests_are_typed_errors() {
    let (mut net, [a, _, _]) = dev_net();
    let ida = net.id_of(&a);
    let mut err = |chains: u8, req: ExitRequest| ExitWitness::build(net.exec.state_mut(), chains, &req).unwrap_err();
    assert!(matches!(err(CHAINS, request(1, AccountId(1), WETH, WETH)), ExitError::GlobalAssetAccount));
    assert!(matches!(err(CHAINS, request(1, AccountId(40), WETH, WETH)), ExitError::UnknownAccount { .. }));
    assert!(matches!(err(CHAINS, request(0, ida, WETH, WETH)), ExitError::ChainOutOfRange { .. }));
    assert!(matches!(err(CHAINS, request(4, ida, WETH, WETH)), ExitError::ChainOutOfRange { .. }));
    assert!(matches!(err(4, request(1, ida, WETH, WETH)), ExitError::ChainCount { .. }));
    assert!(matches!(err(0, request(1, ida, WETH, WETH)), ExitError::ChainCount { .. }));
    for (t, r) in [(0, 0), (2, 2), (16, 16), (1, 1), (1, 17), (1, 0), (WETH, WETH + 1), (17, 2), (WETH, 64), (64, 64)] {
        assert!(matches!(err(CHAINS, request(1, ida, t, r)), ExitError::InvalidTokens { .. }), "{t}/{r}");
    }
    let mut req = request(1, ida, WETH, WETH);
    req.sub = SubAccountId(4);
    assert!(matches!(err(CHAINS, req), ExitError::SubAccountOutOfRange { .. }));
    // A witness for another shape is refused by the circuit constructor.
    let w = ExitWitness::build(net.exec.state_mut(), CHAINS, &request(1, ida, WETH, WETH)).unwrap();
    let shape = ExitShape::new(&Preset::dev(), 2).unwrap();
    assert!(matches!(ExitCircuit::new(shape, w), Err(ExitError::Shape(_))));
}

/// The encoding and public input of a fixed claim (docs/protocol.md §11 test vector).
#[test]
fn claim_encoding_vector() {
    let claim = ExitClaim {
        root: Fr::from(11u64),
        chain: ChainId(2),
        account: AccountId(3),
        sub: SubAccountId(1),
        owner: Address::with_last_byte(7),
        l2_token: USD_TOKEN_ID,
        reserve_token: TokenId(2),
        amount: 1_000_000,
    };
    let enc = claim.encode();
    assert_eq!(enc.len(), 78);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(
        hex(&enc[32..]),
        concat!(
            "02",
            "00000003",
            "01",
            "0000000000000000000000000000000000000007",
            "0001",
            "0002",
            "000000000000000000000000000f4240"
        )
    );
    let commitment = claim.commitment();
    assert_eq!(hex(&commitment), "3d600d7c69fa1b0fae4979db084529555874b9c0b495abae6c011a42785673d9");
    let mut reduced = commitment;
    reduced[0] &= 0x1f;
    assert_eq!(zklink_crypto::fr_to_bytes(&claim.public_input()), reduced);
}

/// `w` re-targeted at reserve id `r`: reserve leaves, paths and amount recomputed from the state.
fn with_reserve_token(net: &mut TestNet, w: &ExitWitness, r: u16) -> ExitWitness {
    let mut out = w.clone();
    let state = net.exec.state_mut();
    for (i, ch) in out.chains.iter_mut().enumerate() {
        let sub = SubAccountId(i as u8 + 1);
        ch.reserve = state.balance(AccountId(1), sub, TokenId(r));
        ch.reserve_path = state.balance_path(AccountId(1), sub, TokenId(r)).unwrap();
    }
    out.claim.reserve_token = TokenId(r);
    out.claim.amount = recomputed_amount(&out);
    out
}

/// `w` re-targeted at another account's `(sub, token)` balance with its honest leaf and paths.
fn as_account(net: &mut TestNet, w: &ExitWitness, id: AccountId, sub: SubAccountId) -> ExitWitness {
    let mut out = w.clone();
    let state = net.exec.state_mut();
    let leaf = state.account_leaf(id);
    out.claim.account = id;
    out.claim.sub = sub;
    out.claim.owner = leaf.address;
    out.account = LeafFields {
        pubkey_hash: leaf.pubkey_hash,
        nonce: leaf.nonce,
        balance_root: leaf.balance_root,
        order_root: leaf.order_root,
    };
    out.account_path = state.account_path(id).unwrap();
    out.balance = state.balance(id, sub, w.claim.l2_token);
    out.balance_path = state.balance_path(id, sub, w.claim.l2_token).unwrap();
    out.claim.amount = recomputed_amount(&out);
    out
}

/// The pro-rata amount for the witness's own (possibly re-targeted) values.
fn recomputed_amount(w: &ExitWitness) -> u128 {
    let total: BigUint = if w.claim.l2_token == USD_TOKEN_ID {
        w.chains.iter().map(ChainReserves::usd_total).sum()
    } else {
        w.chains.iter().map(|c| BigUint::from(c.reserve)).sum()
    };
    pro_rata(w.balance, w.chains[w.claim.chain.0 as usize - 1].reserve, &total)
}

#[test]
fn groth16_prove_and_verify_at_dev_preset() {
    let (mut net, [a, _, _]) = dev_net();
    let req = request(2, net.id_of(&a), 1, 3);
    let w = build(&mut net, &req);
    let shape = dev_shape();
    let started = std::time::Instant::now();
    let (pk, vk) = zklink_prover::insecure_dev_setup(ExitCircuit::blank(shape.clone()), [5; 32]).unwrap();
    let setup = started.elapsed();
    let claim = w.claim.clone();
    let started = std::time::Instant::now();
    let proof = zklink_prover::prove(&pk, ExitCircuit::new(shape.clone(), w.clone()).unwrap()).unwrap();
    println!("exit circuit Groth16 (dev): setup {setup:.1?}, prove {:.1?}", started.elapsed());
    assert!(zklink_prover::verify(&vk, &[claim.public_input()], &proof).unwrap());
    let inflated = ExitClaim { amount: claim.amount + 1, ..claim };
    assert!(!zklink_prover::verify(&vk, &[inflated.public_input()], &proof).unwrap());
    // A false claim cannot even be proven.
    let mut bad = w;
    bad.claim.amount += 1;
    assert!(zklink_prover::prove(&pk, ExitCircuit::new(shape, bad).unwrap()).is_err());
}
