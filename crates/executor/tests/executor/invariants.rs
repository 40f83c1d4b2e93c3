//! Property tests: random sequences of valid and invalid transactions keep the invariants.
//!
//! * per token, user balances + pool reserves + fees = the reserves recorded in account 1 (USD
//!   against the sum of its reserve ids), and nothing underflows;
//! * pools: the registry names exactly the pool accounts; each LP token's balances outside its
//!   pool plus the locked minimum are the pool's share supply S; k = Ra·Rb never decreases but on
//!   a removal, and k/S² never decreases; a round trip (add then remove every share got, or a
//!   swap and its output swapped back) never leaves a user with more than it put in;
//! * a rejected tx leaves the root unchanged;
//! * replaying the accepted txs from scratch (in witness mode) gives the same root, and every
//!   recorded Merkle path authenticates the leaf it claims against the root it claims;
//! * every sealed block's pubdata decodes back to its ops.

use std::collections::BTreeMap;

use alloy_primitives::U512;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use zklink_executor::testkit::{with_window, TestNet, TestUser};
use zklink_types::pool::MIN_LIQUIDITY;
use zklink_types::test_utils::{E18, USD, USDC, USDT, WETH};
use zklink_types::*;

const TOKENS: [u16; 3] = [USDC, USDT, WETH]; // USDC has 6 decimals
const USERS: u64 = 4;
/// The token pairs pools are created for.
const PAIRS: [(u16, u16); 3] = [(USDT, WETH), (USD, WETH), (USDC, USDT)];
/// The (fee bps, protocol share %) pools are created with.
const POOL_FEES: [(u16, u8); 4] = [(30, 20), (0, 0), (1000, 100), (5, 50)];

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
    /// A pool of [`PAIRS`]`[pair]` with [`POOL_FEES`]`[fees]`, created by `user`.
    CreatePool {
        user: u64,
        pair: usize,
        fees: usize,
        fee: u128,
    },
    /// `user` adds at most `max_a` and `max_b` to the `pool`-th pool.
    AddLiquidity {
        user: u64,
        pool: usize,
        max_a: u128,
        max_b: u128,
        fee: u128,
    },
    /// `user` removes `quarters`/4 of its shares of the `pool`-th pool (5: one more than it holds).
    RemoveLiquidity {
        user: u64,
        pool: usize,
        quarters: u128,
        fee: u128,
    },
    /// `user` swaps against the `pool`-th pool, paying its first token if `a_in`; `expired`: the
    /// tx's window ended before the block.
    Swap {
        user: u64,
        pool: usize,
        a_in: bool,
        exact_out: bool,
        amount: u128,
        fee: u128,
        expired: bool,
    },
    /// `from` transfers `quarters`/4 of its shares of the `pool`-th pool (rounded down to a
    /// packable amount) to `to`.
    TransferShares {
        from: u64,
        to: u64,
        pool: usize,
        quarters: u128,
    },
    /// `user` adds liquidity, then removes every share it got at once.
    RoundTripLiquidity {
        user: u64,
        pool: usize,
        max_a: u128,
        max_b: u128,
    },
    /// `user` swaps `amount` in, then swaps all it got back.
    RoundTripSwap {
        user: u64,
        pool: usize,
        a_in: bool,
        amount: u128,
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
        1 => (0..USERS, prop_oneof![3 => Just(0usize), 1 => 1..PAIRS.len()], 0..POOL_FEES.len(), pool_fee())
            .prop_map(|(user, pair, fees, fee)| Action::CreatePool { user, pair, fees, fee }),
        3 => (0..USERS, 0usize..3, amount(), amount(), pool_fee())
            .prop_map(|(user, pool, max_a, max_b, fee)| Action::AddLiquidity { user, pool, max_a, max_b, fee }),
        2 => (0..USERS, 0usize..3, 1u128..=5, pool_fee())
            .prop_map(|(user, pool, quarters, fee)| Action::RemoveLiquidity { user, pool, quarters, fee }),
        4 => (0..USERS, 0usize..3, any::<bool>(), any::<bool>(), swap_amount(), pool_fee(), prop::bool::weighted(0.1))
            .prop_map(|(user, pool, a_in, exact_out, amount, fee, expired)| Action::Swap {
                user, pool, a_in, exact_out, amount, fee, expired,
            }),
        1 => (0..USERS, 0..USERS, 0usize..3, 1u128..=4)
            .prop_map(|(from, to, pool, quarters)| Action::TransferShares { from, to, pool, quarters }),
        1 => (0..USERS, 0usize..3, amount(), amount())
            .prop_map(|(user, pool, max_a, max_b)| Action::RoundTripLiquidity { user, pool, max_a, max_b }),
        1 => (0..USERS, 0usize..3, any::<bool>(), swap_amount())
            .prop_map(|(user, pool, a_in, amount)| Action::RoundTripSwap { user, pool, a_in, amount }),
        1 => Just(Action::Seal),
    ]
}

/// Swap amounts: mostly well below the reserves [`amount`] builds, some of the largest.
fn swap_amount() -> impl Strategy<Value = u128> {
    prop_oneof![
        4 => (1u128..1000).prop_map(|u| u * 1_000_000_000_000_000),
        1 => amount(),
    ]
}

fn pool_fee() -> impl Strategy<Value = u128> {
    prop_oneof![3 => Just(0u128), 1 => Just(1000u128)]
}

/// The pools, in the order of their LP tokens (from the registry).
fn pools(net: &TestNet) -> Vec<AccountId> {
    net.network().preset.lp_tokens().filter_map(|lp| net.state().pool_of_lp_token(TokenId(lp))).collect()
}

/// The `n`-th pool (modulo their count); a user's account, which is no pool, while none exists.
fn pick_pool(net: &TestNet, n: usize) -> AccountId {
    let all = pools(net);
    if all.is_empty() {
        AccountId(2 + n as u32)
    } else {
        all[n % all.len()]
    }
}

/// The pool's first or second token; USDT for an account that is no pool.
fn pool_token(net: &TestNet, pool: AccountId, first: bool) -> TokenId {
    net.pool(pool).map_or(TokenId(USDT), |(p, _)| if first { p.token_a } else { p.token_b })
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
        Action::CreatePool { user, pair, fees, fee } => {
            let (token_a, token_b) = PAIRS[pair];
            let (fee_bps, share) = POOL_FEES[fees];
            Accepted::L2(net.create_pool_tx(&u(user), token_a, token_b, fee_bps, share, USDT, fee))
        }
        Action::AddLiquidity { user, pool, max_a, max_b, fee } => {
            Accepted::L2(net.add_liquidity_tx(&u(user), pick_pool(net, pool), max_a, max_b, 0, fee))
        }
        Action::RemoveLiquidity { user, pool, quarters, fee } => {
            let pool = pick_pool(net, pool);
            let lp = net.pool(pool).map_or(TokenId(USDT), |(p, _)| p.lp_token);
            let held_by = |who: &TestUser| net.state().balance(net.id_of(who), SubAccountId(0), lp);
            // `user`, or the next user that holds shares of the pool.
            let who = (user..user + USERS).map(u).find(|w| held_by(w) > 0).unwrap_or_else(|| u(user));
            let held = held_by(&who);
            let shares = if quarters > 4 { held + 1 } else { held * quarters / 4 };
            Accepted::L2(net.remove_liquidity_tx(&who, pool, shares, 0, 0, fee))
        }
        Action::Swap { user, pool, a_in, exact_out, amount, fee, expired } => {
            let (who, pool) = (u(user), pick_pool(net, pool));
            let token_in = pool_token(net, pool, a_in).0;
            let limit = if exact_out { u128::MAX } else { 0 };
            let tx = net.swap_tx(&who, pool, token_in, exact_out, amount, limit, fee);
            Accepted::L2(if expired { with_window(tx, &who.l2, 0, 0) } else { tx })
        }
        Action::TransferShares { from, to, pool, quarters } => {
            let (who, pool) = (u(from), pick_pool(net, pool));
            let lp = net.pool(pool)?.0.lp_token;
            let held = net.state().balance(net.id_of(&who), SubAccountId(0), lp);
            let amount = AMOUNT_FLOAT.round_down(held * quarters / 4);
            Accepted::L2(net.transfer_tx(&who, u(to).address, lp.0, amount, 0))
        }
        Action::RoundTripLiquidity { .. } | Action::RoundTripSwap { .. } => return None,
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
            // LP shares are L2-only (their supply is checked by `check_pools`); account 1's
            // sub-account 0 is the pool registry, not a chain's reserves.
            if preset.is_lp_token(TokenId(token)) {
                continue;
            }
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

/// Checks the pools against the registry and their share supply, and their reserves against
/// `seen` (each pool's reserves when last checked): k never decreases but on a removal, k/S²
/// never decreases.
fn check_pools(net: &mut TestNet, seen: &mut BTreeMap<AccountId, Reserves>, removal: bool) {
    let preset = net.network().preset.clone();
    let registered: BTreeMap<AccountId, TokenId> =
        preset.lp_tokens().map(TokenId).filter_map(|lp| Some((net.state().pool_of_lp_token(lp)?, lp))).collect();
    let records = net.exec.state_mut().all_records();
    let mut found = BTreeMap::new();
    for r in &records {
        if let Some(p) = PoolParams::from_address(&r.address) {
            assert!(r.pubkey_hash.is_zero(), "pool {} has a key", r.id);
            assert_eq!(r.nonce, Nonce(0), "pool {} signed something", r.id);
            found.insert(r.id, p.lp_token);
        }
    }
    assert_eq!(found, registered, "the registry names exactly the pool accounts");
    for (&id, &lp) in &registered {
        let (_, now) = net.pool(id).expect("a registered pool");
        let mut outside = 0u128;
        for r in records.iter().filter(|r| r.id != id && r.id != GLOBAL_ASSET_ACCOUNT_ID) {
            let of_lp = r.balances.iter().filter(|(i, _)| preset.split_balance_index(*i).1 == lp);
            outside += of_lp.map(|(_, v)| v).sum::<u128>();
        }
        let locked = if now.supply == 0 { 0 } else { MIN_LIQUIDITY };
        assert_eq!(outside + locked, now.supply, "pool {id}: the shares held plus the locked minimum are S");
        if let Some(before) = seen.get(&id).filter(|b| b.supply > 0) {
            let k = |r: &Reserves| U512::from(r.a) * U512::from(r.b);
            let s2 = |r: &Reserves| U512::from(r.supply) * U512::from(r.supply);
            assert!(k(&now) * s2(before) >= k(before) * s2(&now), "pool {id}: k/S² decreased: {before:?} → {now:?}");
            if !removal {
                assert!(k(&now) >= k(before), "pool {id}: k decreased without a removal: {before:?} → {now:?}");
            }
        }
        seen.insert(id, now);
    }
}

fn setup() -> (TestNet, Vec<TestUser>, TestUser) {
    let mut net = TestNet::dev();
    let users: Vec<TestUser> = (0..USERS).map(|i| net.user(i)).collect();
    let dex = net.user(50);
    for u in users.iter().chain([&dex]) {
        net.deposit(1, u, 0, 18, 18, 1000 * E18);
        net.deposit(2, u, 0, 32, 32, 100 * E18);
        // USD and USDC for the pools of those (USDC's L1 unit is 10^12).
        net.deposit(3, u, 0, USDC, USD, 500 * E18);
        net.deposit(3, u, 0, USDC, USDC, 500 * E18);
        net.activate(u);
    }
    // A pool with liquidity from the start (random actions create more).
    let create = net.create_pool_tx(&dex, USDT, WETH, 30, 20, USDT, 0);
    let Op::CreatePool(op) = net.apply_l2(create).expect("setup pool").op else { unreachable!() };
    let add = net.add_liquidity_tx(&dex, op.pool, 200 * E18, 20 * E18, 0, 0);
    net.apply_l2(add).expect("setup liquidity");
    (net, users, dex)
}

/// Returns how many txs of each kind were accepted.
/// A run's net and what it accepted so far.
struct Run {
    net: TestNet,
    accepted: Vec<Accepted>,
    kinds: BTreeMap<&'static str, usize>,
    /// Each pool's reserves after the last tx.
    pools: BTreeMap<AccountId, Reserves>,
}

impl Run {
    /// Applies `tx`; checks that a rejection changed nothing and that the invariants hold.
    /// Returns whether it was accepted.
    fn step(&mut self, tx: Accepted, action: &Action) -> bool {
        let net = &mut self.net;
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
        let ok = result.is_ok();
        if ok {
            let kind = match &tx {
                Accepted::L2(t) => t.kind(),
                Accepted::Priority(PriorityTx::Deposit(_)) => "Deposit",
                Accepted::Priority(PriorityTx::FullExit(_)) => "FullExit",
                Accepted::Seal => "Seal",
            };
            *self.kinds.entry(kind).or_default() += 1;
        } else {
            assert_eq!(net.exec.root(), before, "rejected {action:?} changed the state");
        }
        let removal = matches!(&tx, Accepted::L2(L2Tx::RemoveLiquidity(_)));
        if ok {
            self.accepted.push(tx);
        }
        check_reserves(&mut self.net);
        check_pools(&mut self.net, &mut self.pools, removal);
        ok
    }

    fn balance(&self, u: &TestUser, token: TokenId) -> u128 {
        self.net.state().balance(self.net.id_of(u), SubAccountId(0), token)
    }

    /// Adds, then removes every share got at once: the user ends with no more of either token.
    fn round_trip_liquidity(&mut self, u: &TestUser, pool: AccountId, max: (u128, u128), action: &Action) {
        let Some((p, _)) = self.net.pool(pool) else { return };
        let before = [p.token_a, p.token_b, p.lp_token].map(|t| self.balance(u, t));
        if !self.step(Accepted::L2(self.net.add_liquidity_tx(u, pool, max.0, max.1, 0, 0)), action) {
            return;
        }
        let shares = self.balance(u, p.lp_token) - before[2];
        let remove = self.net.remove_liquidity_tx(u, pool, shares, 0, 0, 0);
        assert!(self.step(Accepted::L2(remove), action), "the shares just added can be removed");
        let after = [p.token_a, p.token_b, p.lp_token].map(|t| self.balance(u, t));
        assert!(after[0] <= before[0] && after[1] <= before[1], "{action:?}: {before:?} → {after:?}");
        assert_eq!(after[2], before[2]);
        *self.kinds.entry("round trip (liquidity)").or_default() += 1;
    }

    /// Swaps `amount` in, then all it got back: the user ends with no more of the first token and
    /// as much of the other.
    fn round_trip_swap(&mut self, u: &TestUser, pool: AccountId, a_in: bool, amount: u128, action: &Action) {
        let Some((p, _)) = self.net.pool(pool) else { return };
        let (token_in, token_out) = if a_in { (p.token_a, p.token_b) } else { (p.token_b, p.token_a) };
        let before = [token_in, token_out].map(|t| self.balance(u, t));
        if !self.step(Accepted::L2(self.net.swap_tx(u, pool, token_in.0, false, amount, 0, 0)), action) {
            return;
        }
        let got = self.balance(u, token_out) - before[1];
        if !self.step(Accepted::L2(self.net.swap_tx(u, pool, token_out.0, false, got, 0, 0)), action) {
            return;
        }
        let after = [token_in, token_out].map(|t| self.balance(u, t));
        assert!(after[0] <= before[0] && after[1] == before[1], "{action:?}: {before:?} → {after:?}");
        *self.kinds.entry("round trip (swap)").or_default() += 1;
    }
}

/// Returns how many txs of each kind were accepted.
fn run(actions: &[Action]) -> BTreeMap<&'static str, usize> {
    let (net, users, dex) = setup();
    let mut run = Run { net, accepted: Vec::new(), kinds: BTreeMap::new(), pools: BTreeMap::new() };
    for a in actions {
        let u = |i: u64| users[i as usize % users.len()].clone();
        match *a {
            Action::RoundTripLiquidity { user, pool, max_a, max_b } => {
                let pool = pick_pool(&run.net, pool);
                run.round_trip_liquidity(&u(user), pool, (max_a, max_b), a);
            }
            Action::RoundTripSwap { user, pool, a_in, amount } => {
                let pool = pick_pool(&run.net, pool);
                run.round_trip_swap(&u(user), pool, a_in, amount, a);
            }
            _ => {
                let Some(tx) = build(&mut run.net, &users, &dex, a) else { continue };
                if run.step(tx, a) && matches!(a, Action::TransferShares { .. }) {
                    *run.kinds.entry("LP shares transferred").or_default() += 1;
                }
            }
        }
    }
    let Run { mut net, accepted, kinds, .. } = run;
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
pub(crate) fn replay_pubdata(net: &TestNet) {
    let mut restored = TestNet::new(net.network().clone());
    for sealed in &net.blocks {
        let ops = zklink_block::Block::ops_from_pubdata(&sealed.block.pubdata().unwrap()).unwrap();
        // The Noop chunks that align ops to their start periods are ops of the block too (never at its end).
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
    for _ in 0..20 {
        let actions = proptest::collection::vec(action(), 30..40).new_tree(&mut runner).unwrap().current();
        for (k, n) in run(&actions) {
            *total.entry(k).or_default() += n;
        }
    }
    for kind in [
        "Deposit",
        "Transfer",
        "Withdraw",
        "FullExit",
        "OrderMatching",
        "CancelOrder",
        "CreatePool",
        "AddLiquidity",
        "RemoveLiquidity",
        "Swap",
        "round trip (liquidity)",
        "round trip (swap)",
        "LP shares transferred",
    ] {
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
