//! AMM pools: creation, liquidity, swaps and LP shares with exact balances, every rejection with
//! its exact error (and the state root unchanged), the reserved addresses, the start periods, and
//! the replay of pool ops from pubdata (tampered ops refused).

use zklink_executor::testkit::{with_window, TestNet, TestUser};
use zklink_executor::ReplayError;
use zklink_types::op::{AddLiquidityOp, CreatePoolOp, RemoveLiquidityOp, SwapOp};
use zklink_types::pool::{MAX_RESERVE, MIN_LIQUIDITY};
use zklink_types::test_utils::{USDC, USDT, WETH};
use zklink_types::*;

/// What each user holds of USDT and WETH at the start.
const FUND: u128 = 10_000_000_000_000;
/// The first pool's reserve A after its first deposit.
const A0: u128 = 4_000_000_000;
/// Its reserve B.
const B0: u128 = 1_000_000_000;
/// Its share supply: √(A0·B0), the locked minimum included.
const S0: u128 = 2_000_000_000;
/// The first LP token of the dev preset.
const LP: TokenId = TokenId(56);

fn assert_rejected(net: &mut TestNet, tx: L2Tx, expected: TxError) {
    let before = net.exec.root();
    let err = net.apply_l2(tx).expect_err("tx must be rejected");
    assert_eq!(err, expected);
    assert_eq!(net.exec.root(), before, "a rejected tx must not change the state");
}

/// Two activated users, accounts 2 and 3, holding [`FUND`] of USDT and of WETH each.
fn funded() -> (TestNet, TestUser, TestUser) {
    let mut net = TestNet::dev();
    let (a, b) = (net.user(0), net.user(1));
    for u in [&a, &b] {
        net.deposit(1, u, 0, USDT, USDT, FUND);
        net.deposit(1, u, 0, WETH, WETH, FUND);
        net.activate(u);
    }
    (net, a, b)
}

/// [`funded`] with a's USDT/WETH pool at 30 bps and a 20 % protocol share (account 4, LP token
/// 56), created without fee and holding [`A0`] USDT and [`B0`] WETH from a's first deposit.
fn with_pool() -> (TestNet, TestUser, TestUser, AccountId) {
    let (mut net, a, b) = funded();
    let pool = create(&mut net, &a, 30, 20);
    net.apply_l2(net.add_liquidity_tx(&a, pool, A0, B0, 0, 0)).expect("first deposit");
    (net, a, b, pool)
}

fn create(net: &mut TestNet, u: &TestUser, fee_bps: u16, protocol_share: u8) -> AccountId {
    let tx = net.create_pool_tx(u, USDT, WETH, fee_bps, protocol_share, USDT, 0);
    let Op::CreatePool(op) = net.apply_l2(tx).expect("pool creation").op else { panic!("expected CreatePool") };
    op.pool
}

fn balance(net: &TestNet, u: &TestUser, token: TokenId) -> u128 {
    net.state().balance(net.id_of(u), SubAccountId(0), token)
}

fn fees(net: &TestNet, token: u16) -> u128 {
    net.state().balance(FEE_ACCOUNT_ID, SubAccountId(0), TokenId(token))
}

fn reserves(net: &TestNet, pool: AccountId) -> Reserves {
    net.pool(pool).expect("a pool").1
}

// The arithmetic of docs/protocol.md §7, written out again in u128 (the test amounts keep every
// product below 2^128) to check the executor against a second statement of it.

fn exact_in_out(r_in: u128, r_out: u128, amount_in: u128, fee_bps: u128) -> u128 {
    let k = 10_000 - fee_bps;
    amount_in * k * r_out / (r_in * 10_000 + amount_in * k)
}

fn exact_out_in(r_in: u128, r_out: u128, amount_out: u128, fee_bps: u128) -> u128 {
    r_in * amount_out * 10_000 / ((r_out - amount_out) * (10_000 - fee_bps)) + 1
}

fn protocol_fee(amount_in: u128, fee_bps: u128, share: u128) -> u128 {
    amount_in * fee_bps * share / 1_000_000
}

// ---------------------------------------------------------------- happy paths

#[test]
fn creating_a_pool_registers_it_under_the_next_lp_token() {
    let (mut net, a, b) = funded();
    let aid = net.id_of(&a);
    let tx = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 1_000);
    let Op::CreatePool(op) = net.apply_l2(tx).unwrap().op else { panic!("expected CreatePool") };
    let params = PoolParams {
        kind: PoolKind::ConstantProduct,
        fee_bps: 30,
        protocol_share: 20,
        amp: 0,
        token_a: TokenId(USDT),
        token_b: TokenId(WETH),
        lp_token: LP,
    };
    let pool = AccountId(4);
    assert_eq!(
        op,
        CreatePoolOp {
            account_id: aid,
            sub_account_id: SubAccountId(0),
            fee_token: TokenId(USDT),
            fee: 1_000,
            pool,
            params
        }
    );
    let account = net.state().account(pool).unwrap();
    assert_eq!(
        (account.address, account.pubkey_hash, account.nonce),
        (params.address(), PubKeyHash::default(), Nonce(0))
    );
    assert_eq!(net.state().balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(0), LP), 5, "the registry holds id + 1");
    assert_eq!(net.pool(pool), Some((params, Reserves::default())));
    assert_eq!(balance(&net, &a, TokenId(USDT)), FUND - 1_000);
    assert_eq!(fees(&net, USDT), 1_000);
    assert_eq!(net.nonce_of(&a), Nonce(2));

    // The same pair at another fee: another pool, with the next LP token.
    let tx = net.create_pool_tx(&b, USDT, WETH, 5, 20, WETH, 0);
    let Op::CreatePool(op) = net.apply_l2(tx).unwrap().op else { panic!("expected CreatePool") };
    assert_eq!((op.pool, op.params.lp_token), (AccountId(5), TokenId(57)));
    assert_eq!(net.state().balance(GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(0), TokenId(57)), 6);
}

#[test]
fn the_first_deposit_locks_the_minimum_and_later_ones_round_for_the_pool() {
    let (mut net, a, b) = funded();
    let pool = create(&mut net, &a, 30, 20);
    let tx = net.add_liquidity_tx(&a, pool, A0, B0, S0 - MIN_LIQUIDITY, 1_000);
    let Op::AddLiquidity(op) = net.apply_l2(tx).unwrap().op else { panic!("expected AddLiquidity") };
    let aid = net.id_of(&a);
    assert_eq!(
        op,
        AddLiquidityOp {
            account_id: aid,
            sub_account_id: SubAccountId(0),
            pool,
            token_a: TokenId(USDT),
            amount_a: A0,
            amount_b: B0,
            shares: S0 - MIN_LIQUIDITY,
            fee: 1_000,
        }
    );
    assert_eq!(reserves(&net, pool), Reserves { a: A0, b: B0, supply: S0 }, "the locked shares count in S");
    assert_eq!(balance(&net, &a, LP), S0 - MIN_LIQUIDITY);
    assert_eq!(balance(&net, &a, TokenId(USDT)), FUND - A0 - 1_000);
    assert_eq!(balance(&net, &a, TokenId(WETH)), FUND - B0);
    assert_eq!(fees(&net, USDT), 1_000);

    // Move the price so that the shares' amounts do not divide: a swap of 12,345,679 WETH in.
    net.apply_l2(net.swap_tx(&b, pool, WETH, false, 12_345_679, 0, 0)).unwrap();
    let r = reserves(&net, pool);
    // b offers 1,000,000,007 USDT and plenty of WETH: the USDT side limits the shares.
    let (max_a, max_b) = (1_000_000_007, FUND / 2);
    let shares = (max_a * r.supply / r.a).min(max_b * r.supply / r.b);
    let (need_a, need_b) = ((shares * r.a).div_ceil(r.supply), (shares * r.b).div_ceil(r.supply));
    let (usdt, weth) = (balance(&net, &b, TokenId(USDT)), balance(&net, &b, TokenId(WETH)));
    let tx = net.add_liquidity_tx(&b, pool, max_a, max_b, shares, 0);
    let Op::AddLiquidity(op) = net.apply_l2(tx).unwrap().op else { panic!("expected AddLiquidity") };
    assert_eq!((op.amount_a, op.amount_b, op.shares), (need_a, need_b, shares));
    assert!(need_a * r.supply >= shares * r.a && need_b * r.supply >= shares * r.b, "rounded up for the pool");
    assert!(need_a * r.supply > shares * r.a || need_b * r.supply > shares * r.b, "the amounts do not divide");
    assert_eq!(reserves(&net, pool), Reserves { a: r.a + need_a, b: r.b + need_b, supply: r.supply + shares });
    assert_eq!(balance(&net, &b, TokenId(USDT)), usdt - need_a);
    assert_eq!(balance(&net, &b, TokenId(WETH)), weth - need_b);
    assert_eq!(balance(&net, &b, LP), shares);
}

#[test]
fn swaps_pay_the_pool_and_the_protocol_fee_to_account_0() {
    let (mut net, _, b, pool) = with_pool();
    let bid = net.id_of(&b);
    let fees_before = fees(&net, USDT);

    // Exact in: 10,000,000 USDT for at least what the curve gives.
    let amount_in = 10_000_000;
    let out = exact_in_out(A0, B0, amount_in, 30);
    let pf = protocol_fee(amount_in, 30, 20);
    assert_eq!(pf, 6_000);
    let tx = net.swap_tx(&b, pool, USDT, false, amount_in, out, 1_000);
    let Op::Swap(op) = net.apply_l2(tx).unwrap().op else { panic!("expected Swap") };
    assert_eq!(
        op,
        SwapOp {
            account_id: bid,
            sub_account_id: SubAccountId(0),
            pool,
            token_in: TokenId(USDT),
            amount_in,
            amount_out: out,
            fee: 1_000,
            fee_bps: 30,
            protocol_share: 20,
        }
    );
    assert_eq!(balance(&net, &b, TokenId(USDT)), FUND - amount_in - 1_000);
    assert_eq!(balance(&net, &b, TokenId(WETH)), FUND + out);
    let r = reserves(&net, pool);
    assert_eq!(r, Reserves { a: A0 + amount_in - pf, b: B0 - out, supply: S0 });
    assert_eq!(fees(&net, USDT), fees_before + pf + 1_000, "the protocol fee and the network fee");
    assert!(r.a * r.b >= A0 * B0, "k never decreases on a swap");

    // Exact out: exactly 1,000,000 USDT for WETH, at most the curve's price.
    let amount_out = 1_000_000;
    let amount_in = exact_out_in(r.b, r.a, amount_out, 30);
    let pf = protocol_fee(amount_in, 30, 20);
    let (usdt, weth, weth_fees) =
        (balance(&net, &b, TokenId(USDT)), balance(&net, &b, TokenId(WETH)), fees(&net, WETH));
    let tx = net.swap_tx(&b, pool, WETH, true, amount_out, amount_in, 0);
    let Op::Swap(op) = net.apply_l2(tx).unwrap().op else { panic!("expected Swap") };
    assert_eq!((op.token_in, op.amount_in, op.amount_out, op.fee), (TokenId(WETH), amount_in, amount_out, 0));
    assert_eq!(balance(&net, &b, TokenId(USDT)), usdt + amount_out);
    assert_eq!(balance(&net, &b, TokenId(WETH)), weth - amount_in);
    assert_eq!(fees(&net, WETH), weth_fees + pf);
    let after = reserves(&net, pool);
    assert_eq!(after, Reserves { a: r.a - amount_out, b: r.b + amount_in - pf, supply: S0 });
    assert!(after.a * after.b >= r.a * r.b);
    // One unit less would not have bought the output.
    assert!(exact_in_out(r.b, r.a, amount_in - 1, 30) < amount_out);
}

#[test]
fn removing_liquidity_pays_pro_rata_and_the_fee_comes_from_the_first_token() {
    let (mut net, a, b, pool) = with_pool();
    net.apply_l2(net.swap_tx(&b, pool, USDT, false, 33_333_333, 0, 0)).unwrap();
    let r = reserves(&net, pool);
    let held = balance(&net, &a, LP);
    let shares = held / 3;
    let (out_a, out_b) = (shares * r.a / r.supply, shares * r.b / r.supply);
    let (usdt, weth, usdt_fees) =
        (balance(&net, &a, TokenId(USDT)), balance(&net, &a, TokenId(WETH)), fees(&net, USDT));
    let tx = net.remove_liquidity_tx(&a, pool, shares, out_a, out_b, 2_000);
    let Op::RemoveLiquidity(op) = net.apply_l2(tx).unwrap().op else { panic!("expected RemoveLiquidity") };
    let aid = net.id_of(&a);
    assert_eq!(
        op,
        RemoveLiquidityOp {
            account_id: aid,
            sub_account_id: SubAccountId(0),
            pool,
            token_a: TokenId(USDT),
            shares,
            amount_a: out_a,
            amount_b: out_b,
            fee: 2_000,
        }
    );
    assert_eq!(balance(&net, &a, TokenId(USDT)), usdt + out_a - 2_000);
    assert_eq!(balance(&net, &a, TokenId(WETH)), weth + out_b);
    assert_eq!(balance(&net, &a, LP), held - shares);
    assert_eq!(fees(&net, USDT), usdt_fees + 2_000);
    assert_eq!(reserves(&net, pool), Reserves { a: r.a - out_a, b: r.b - out_b, supply: r.supply - shares });

    // Everything a holds: the locked minimum stays, backed by non-zero reserves.
    let rest = balance(&net, &a, LP);
    net.apply_l2(net.remove_liquidity_tx(&a, pool, rest, 0, 0, 0)).unwrap();
    let left = reserves(&net, pool);
    assert_eq!(left.supply, MIN_LIQUIDITY);
    assert!(left.a > 0 && left.b > 0);
    assert_eq!(balance(&net, &a, LP), 0);
}

#[test]
fn lp_shares_move_by_transfer_and_redeem_anywhere() {
    let (mut net, a, b, pool) = with_pool();
    let held = balance(&net, &a, LP);
    let moved = 1_000_000_000;
    net.apply_l2(net.transfer_tx(&a, b.address, LP.0, moved, 0)).unwrap();
    assert_eq!((balance(&net, &a, LP), balance(&net, &b, LP)), (held - moved, moved));
    let (out_a, out_b) = (moved * A0 / S0, moved * B0 / S0);
    let usdt = balance(&net, &b, TokenId(USDT));
    net.apply_l2(net.remove_liquidity_tx(&b, pool, moved, out_a, out_b, 0)).unwrap();
    assert_eq!(balance(&net, &b, TokenId(USDT)), usdt + out_a);
    assert_eq!(reserves(&net, pool), Reserves { a: A0 - out_a, b: B0 - out_b, supply: S0 - moved });
}

#[test]
fn pool_ops_start_at_their_period() {
    let (mut net, a, b, pool) = with_pool();
    net.seal();
    // A 1-chunk transfer at chunk 0; a swap starts at an even chunk: one Noop first.
    net.apply_l2(net.transfer_tx(&a, b.address, USDT, 1, 0)).unwrap();
    net.apply_l2(net.swap_tx(&b, pool, USDT, false, 1_000_000, 0, 0)).unwrap();
    let codes = |net: &TestNet| net.exec.pending_ops().iter().map(|e| e.op.code()).collect::<Vec<_>>();
    assert_eq!(codes(&net), [0x04, 0x00, 0x0d]);
    assert_eq!(net.exec.pending_chunks(), 4);
    // Another transfer at chunk 4, then a liquidity change at the next multiple of 4 (chunk 8).
    net.apply_l2(net.transfer_tx(&a, b.address, USDT, 1, 0)).unwrap();
    net.apply_l2(net.add_liquidity_tx(&b, pool, 1_000_000, 1_000_000, 0, 0)).unwrap();
    assert_eq!(codes(&net), [0x04, 0x00, 0x0d, 0x04, 0x00, 0x00, 0x00, 0x0b]);
    assert_eq!(net.exec.pending_chunks(), 11);
    assert_eq!(net.exec.chunks_needed(3, 4), 1 + 3, "one Noop to reach chunk 12");
    // The block holds them and the sealed pubdata decodes to the same ops.
    let sealed = net.seal().clone();
    assert_eq!(sealed.block.chunks, 16);
    let decoded = zklink_block::Block::ops_from_pubdata(&sealed.block.pubdata().unwrap()).unwrap();
    assert_eq!(decoded, sealed.block.ops);
}

// ---------------------------------------------------------------- rejections

#[test]
fn create_pool_rejections() {
    let (mut net, a, b) = funded();
    let aid = net.id_of(&a);
    let create = |net: &TestNet, f: &dyn Fn(&mut CreatePool)| {
        let L2Tx::CreatePool(mut t) = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 0) else { unreachable!() };
        f(&mut t);
        L2Tx::CreatePool(t).sign(&a.l2).unwrap()
    };
    let params = |m: &str| TxError::PoolParams(m.into());

    // Stable pools are defined but not provable yet.
    let tx = create(&net, &|t| (t.kind, t.amp) = (PoolKind::Stable, 100));
    assert_rejected(&mut net, tx, TxError::PoolKindUnsupported(PoolKind::Stable.name()));
    // Parameters.
    let tx = create(&net, &|t| t.kind = PoolKind::Stable);
    assert_rejected(&mut net, tx, params("a stable pool's amplification must be 1..=10000, got 0"));
    let tx = create(&net, &|t| t.amp = 5);
    assert_rejected(&mut net, tx, params("a constant-product pool has amplification 0, got 5"));
    let tx = create(&net, &|t| (t.token_a, t.token_b) = (TokenId(WETH), TokenId(USDT)));
    assert_rejected(
        &mut net,
        tx,
        params("a pool's tokens must be given in increasing order and differ: got 32 and 18"),
    );
    let tx = create(&net, &|t| t.token_b = TokenId(USDT));
    assert_rejected(
        &mut net,
        tx,
        params("a pool's tokens must be given in increasing order and differ: got 18 and 18"),
    );
    let tx = create(&net, &|t| t.fee_bps = 1_001);
    assert_rejected(&mut net, tx, params("fee 1001 bps exceeds the maximum 1000 bps"));
    let tx = create(&net, &|t| t.protocol_share = 101);
    assert_rejected(&mut net, tx, params("protocol share 101 % exceeds 100 %"));
    let tx = create(&net, &|t| t.token_b = LP);
    assert_rejected(&mut net, tx, params("token 56 is an LP token: pools of LP tokens are not allowed"));
    let tx = create(&net, &|t| t.token_a = TokenId(2));
    assert!(matches!(net.apply_l2(tx), Err(TxError::InvalidToken { token: TokenId(2), .. })));
    let tx = create(&net, &|t| t.token_b = TokenId(64));
    assert_rejected(&mut net, tx, TxError::TokenOutOfRange { token: TokenId(64), max: 63 });
    // The fee must be affordable.
    let tx = create(&net, &|t| (t.fee_token, t.fee) = (TokenId(USDC), 1_000));
    let insufficient = TxError::InsufficientBalance {
        account: aid,
        sub: SubAccountId(0),
        token: TokenId(USDC),
        available: 0,
        required: 1_000,
    };
    assert_rejected(&mut net, tx, insufficient);
    // Someone else's key; a replay.
    let tx = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 0).sign(&b.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: aid, expected: a.pkh.to_string(), got: b.pkh.to_string() },
    );
    let tx = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 0);
    net.apply_l2(tx.clone()).unwrap();
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: aid, expected: Nonce(2), got: Nonce(1) });
}

#[test]
fn a_pool_address_taken_already_is_refused() {
    let (mut net, a, _) = funded();
    // Only an account made before reserved addresses were refused could own a pool's address:
    // put one there directly.
    let L2Tx::CreatePool(t) = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 0) else { unreachable!() };
    let squatter = net.exec.state_mut().create_account(t.params(LP).address()).unwrap();
    let tx = net.create_pool_tx(&a, USDT, WETH, 30, 20, USDT, 0);
    assert_rejected(&mut net, tx, TxError::PoolExists(squatter));
}

#[test]
fn one_pool_per_parameter_set() {
    let (mut net, a, b) = funded();
    let pool = create(&mut net, &a, 30, 20);
    // The same tokens, fee and share again, by anyone: the LP token would differ, the pool not.
    let tx = net.create_pool_tx(&b, USDT, WETH, 30, 20, USDT, 0);
    assert_rejected(&mut net, tx, TxError::PoolExists(pool));
    // Another fee or protocol share is another pool.
    let other = create(&mut net, &b, 5, 20);
    assert_ne!(other, pool);
    create(&mut net, &a, 30, 0);
}

#[test]
fn every_lp_token_taken_refuses_more_pools() {
    let (mut net, a, _) = funded();
    let max = net.network().preset.max_pools();
    for n in 0..max {
        let pool = create(&mut net, &a, 30 + n, 20);
        assert_eq!(net.pool(pool).unwrap().0.lp_token, TokenId(LP.0 + n));
    }
    let tx = net.create_pool_tx(&a, USDT, WETH, 5, 0, USDT, 0);
    assert_rejected(&mut net, tx, TxError::TooManyPools { max: 8 });
}

#[test]
fn add_liquidity_rejections() {
    let (mut net, a, b) = funded();
    let (aid, bid) = (net.id_of(&a), net.id_of(&b));
    let pool = create(&mut net, &a, 30, 20);

    // Not a pool: a user's account, an id without an account.
    let tx = net.add_liquidity_tx(&a, bid, A0, B0, 0, 0);
    assert_rejected(&mut net, tx, TxError::NotAPool(bid));
    let tx = net.add_liquidity_tx(&a, AccountId(40), A0, B0, 0, 0);
    assert_rejected(&mut net, tx, TxError::NotAPool(AccountId(40)));
    // The fee is paid in the pool's first token.
    let L2Tx::AddLiquidity(mut t) = net.add_liquidity_tx(&a, pool, A0, B0, 0, 0) else { unreachable!() };
    t.fee_token = TokenId(WETH);
    let tx = L2Tx::AddLiquidity(t).sign(&a.l2).unwrap();
    let err = "the fee of a liquidity change is paid in the pool's first token 18, not in token 32";
    assert_rejected(&mut net, tx, TxError::PoolParams(err.into()));
    // Zero amounts; a first deposit of √(a·b) ≤ 1000 shares.
    let tx = net.add_liquidity_tx(&a, pool, 0, B0, 0, 0);
    assert_rejected(&mut net, tx, TxError::ZeroAmount);
    let tx = net.add_liquidity_tx(&a, pool, 1_000, 1_000, 0, 0);
    let err = "a first deposit must mint more than the 1000 locked shares: √(a·b) is 1000";
    assert_rejected(&mut net, tx, TxError::PoolLiquidity(err.into()));
    // The signed minimum of shares.
    let tx = net.add_liquidity_tx(&a, pool, A0, B0, S0 - MIN_LIQUIDITY + 1, 0);
    let limit = TxError::PoolLimit {
        what: "shares below the signed minimum",
        got: S0 - MIN_LIQUIDITY,
        limit: S0 - MIN_LIQUIDITY + 1,
    };
    assert_rejected(&mut net, tx, limit);
    // More than the provider holds (the fee on top of the first token).
    let tx = net.add_liquidity_tx(&a, pool, FUND, B0, 0, 1_000);
    let insufficient = TxError::InsufficientBalance {
        account: aid,
        sub: SubAccountId(0),
        token: TokenId(USDT),
        available: FUND,
        required: FUND + 1_000,
    };
    assert_rejected(&mut net, tx, insufficient);
    // The first deposit; a later one too small to buy a share.
    net.apply_l2(net.add_liquidity_tx(&a, pool, A0, B0, 0, 0)).unwrap();
    let tx = net.add_liquidity_tx(&b, pool, 1, 1, 0, 0);
    let err = format!("1 and 1 buy no share of a pool with reserves {A0} and {B0} and {S0} shares");
    assert_rejected(&mut net, tx, TxError::PoolLiquidity(err));
    // Someone else's key; a replay.
    let tx = net.add_liquidity_tx(&b, pool, A0, B0, 0, 0).sign(&a.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: bid, expected: b.pkh.to_string(), got: a.pkh.to_string() },
    );
    let tx = net.add_liquidity_tx(&b, pool, A0, B0, 0, 0);
    net.apply_l2(tx.clone()).unwrap();
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: bid, expected: Nonce(2), got: Nonce(1) });
}

#[test]
fn the_reserve_cap_refuses_deposits_and_swaps_that_reach_2_pow_112() {
    let mut net = TestNet::dev();
    let a = net.user(0);
    net.deposit(1, &a, 0, USDT, USDT, 1 << 113);
    net.deposit(1, &a, 0, WETH, WETH, 1 << 113);
    net.activate(&a);
    let pool = create(&mut net, &a, 30, 20);
    let tx = net.add_liquidity_tx(&a, pool, MAX_RESERVE + 1, 1 << 100, 0, 0);
    assert_rejected(&mut net, tx, TxError::PoolReserveCap { what: "reserve of token a", max: MAX_RESERVE });
    // At the cap minus 10 units, a swap that would add more than 10 to the input reserve.
    net.apply_l2(net.add_liquidity_tx(&a, pool, MAX_RESERVE - 10, 1 << 111, 0, 0)).unwrap();
    let tx = net.swap_tx(&a, pool, USDT, false, 1_000_000, 0, 0);
    assert_rejected(&mut net, tx, TxError::PoolReserveCap { what: "reserve of the input token", max: MAX_RESERVE });
    // 10 units in all go to the pool (their protocol fee rounds to 0): the reserve reaches the cap.
    net.apply_l2(net.swap_tx(&a, pool, USDT, false, 10, 0, 0)).unwrap();
    assert_eq!(reserves(&net, pool).a, MAX_RESERVE);
}

#[test]
fn remove_liquidity_rejections() {
    let (mut net, a, b, pool) = with_pool();
    let (aid, bid) = (net.id_of(&a), net.id_of(&b));
    let held = balance(&net, &a, LP);
    assert_eq!(held, S0 - MIN_LIQUIDITY);

    let tx = net.remove_liquidity_tx(&a, bid, 1_000, 0, 0, 0);
    assert_rejected(&mut net, tx, TxError::NotAPool(bid));
    let tx = net.remove_liquidity_tx(&a, pool, 0, 0, 0, 0);
    assert_rejected(&mut net, tx, TxError::ZeroAmount);
    // The locked minimum cannot be removed.
    let tx = net.remove_liquidity_tx(&a, pool, held + 1, 0, 0, 0);
    let err = format!("{} shares exceed what the pool's {S0} shares minus the 1000 locked allow", held + 1);
    assert_rejected(&mut net, tx, TxError::PoolLiquidity(err));
    // b holds no shares.
    let tx = net.remove_liquidity_tx(&b, pool, 1_000, 0, 0, 0);
    let insufficient =
        TxError::InsufficientBalance { account: bid, sub: SubAccountId(0), token: LP, available: 0, required: 1_000 };
    assert_rejected(&mut net, tx, insufficient);
    // The signed minimums, on either side.
    let shares = 1_000_000;
    let (out_a, out_b) = (shares * A0 / S0, shares * B0 / S0);
    let tx = net.remove_liquidity_tx(&a, pool, shares, out_a + 1, 0, 0);
    let what = "first token received below the signed minimum";
    assert_rejected(&mut net, tx, TxError::PoolLimit { what, got: out_a, limit: out_a + 1 });
    let tx = net.remove_liquidity_tx(&a, pool, shares, 0, out_b + 1, 0);
    let what = "second token received below the signed minimum";
    assert_rejected(&mut net, tx, TxError::PoolLimit { what, got: out_b, limit: out_b + 1 });
    // A fee above the first token received.
    let tx = net.remove_liquidity_tx(&a, pool, 1, 0, 0, 1_000);
    let err = "the fee 1000 exceeds the first token received 2, out of which it is paid";
    assert_rejected(&mut net, tx, TxError::PoolLiquidity(err.into()));
    // The fee token.
    let L2Tx::RemoveLiquidity(mut t) = net.remove_liquidity_tx(&a, pool, shares, 0, 0, 0) else { unreachable!() };
    t.fee_token = TokenId(WETH);
    let tx = L2Tx::RemoveLiquidity(t).sign(&a.l2).unwrap();
    let err = "the fee of a liquidity change is paid in the pool's first token 18, not in token 32";
    assert_rejected(&mut net, tx, TxError::PoolParams(err.into()));
    // Someone else's key; a replay.
    let tx = net.remove_liquidity_tx(&a, pool, shares, 0, 0, 0).sign(&b.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: aid, expected: a.pkh.to_string(), got: b.pkh.to_string() },
    );
    let tx = net.remove_liquidity_tx(&a, pool, shares, 0, 0, 0);
    net.apply_l2(tx.clone()).unwrap();
    let nonce = net.nonce_of(&a);
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: aid, expected: nonce, got: Nonce(nonce.0 - 1) });
}

#[test]
fn swap_rejections() {
    let (mut net, a, b, pool) = with_pool();
    let bid = net.id_of(&b);

    let tx = net.swap_tx(&b, net.id_of(&a), USDT, false, 1_000_000, 0, 0);
    let aid = net.id_of(&a);
    assert_rejected(&mut net, tx, TxError::NotAPool(aid));
    let tx = net.swap_tx(&b, pool, USDC, false, 1_000_000, 0, 0);
    assert_rejected(&mut net, tx, TxError::PoolSwap("token 17 is not one of the pool's tokens 18 and 32".into()));
    let tx = net.swap_tx(&b, pool, USDT, false, 0, 0, 0);
    assert_rejected(&mut net, tx, TxError::ZeroAmount);
    // Exact in: an input that buys nothing; an output below the signed minimum.
    let tx = net.swap_tx(&b, pool, USDT, false, 1, 0, 0);
    assert_rejected(&mut net, tx, TxError::PoolSwap("1 in buys nothing at these reserves".into()));
    let out = exact_in_out(A0, B0, 1_000_000, 30);
    let tx = net.swap_tx(&b, pool, USDT, false, 1_000_000, out + 1, 0);
    let what = "swap output below the signed minimum";
    assert_rejected(&mut net, tx, TxError::PoolLimit { what, got: out, limit: out + 1 });
    // Exact out: all of the output reserve; an input above the signed maximum.
    let tx = net.swap_tx(&b, pool, USDT, true, B0, u128::MAX, 0);
    let err = format!("the pool holds {B0} of the output token, {B0} asked");
    assert_rejected(&mut net, tx, TxError::PoolSwap(err));
    let need = exact_out_in(A0, B0, 1_000_000, 30);
    let tx = net.swap_tx(&b, pool, USDT, true, 1_000_000, need - 1, 0);
    let what = "swap input above the signed maximum";
    assert_rejected(&mut net, tx, TxError::PoolLimit { what, got: need, limit: need - 1 });
    // More than the trader holds: the input and the network fee.
    let tx = net.swap_tx(&b, pool, USDT, false, FUND, 0, 1_000);
    let insufficient = TxError::InsufficientBalance {
        account: bid,
        sub: SubAccountId(0),
        token: TokenId(USDT),
        available: FUND,
        required: FUND + 1_000,
    };
    assert_rejected(&mut net, tx, insufficient);
    // Someone else's key; tampered after signing; a replay.
    let tx = net.swap_tx(&b, pool, USDT, false, 1_000_000, 0, 0).sign(&a.l2).unwrap();
    assert_rejected(
        &mut net,
        tx,
        TxError::WrongSigner { account: bid, expected: b.pkh.to_string(), got: a.pkh.to_string() },
    );
    let L2Tx::Swap(mut t) = net.swap_tx(&b, pool, USDT, false, 1_000_000, out, 0) else { unreachable!() };
    t.limit = 0;
    assert!(matches!(net.apply_l2(L2Tx::Swap(t)), Err(TxError::BadSignature(_))));
    let tx = net.swap_tx(&b, pool, USDT, false, 1_000_000, out, 0);
    net.apply_l2(tx.clone()).unwrap();
    assert_rejected(&mut net, tx, TxError::NonceMismatch { account: bid, expected: Nonce(2), got: Nonce(1) });
}

#[test]
fn pool_txs_execute_only_within_their_window() {
    let (mut net, a, b, pool) = with_pool();
    let now = 1_000u32;
    net.seal();
    net.exec.set_block_timestamp(now.into()).unwrap();
    type Build<'a> = &'a dyn Fn(&TestNet) -> L2Tx;
    let kinds: [(&TestUser, Build<'_>); 3] = [
        (&b, &|net| net.swap_tx(&b, pool, USDT, false, 1_000_000, 0, 0)),
        (&b, &|net| net.add_liquidity_tx(&b, pool, 1_000_000, 1_000_000, 0, 0)),
        (&a, &|net| net.remove_liquidity_tx(&a, pool, 1_000_000, 0, 0, 0)),
    ];
    for (u, build) in kinds {
        let (tx, key) = (build(&net), &u.l2);
        let not_at = |valid_from, valid_until| TxError::TxNotValidAt { valid_from, valid_until, timestamp: now.into() };
        // Not valid yet; expired a second before; empty.
        assert_rejected(&mut net, with_window(tx.clone(), key, now + 1, u32::MAX), not_at(now + 1, u32::MAX));
        assert_rejected(&mut net, with_window(tx.clone(), key, 0, now - 1), not_at(0, now - 1));
        let empty = TxError::OrderWindowEmpty { valid_from: 5, valid_until: 4 };
        assert_rejected(&mut net, with_window(tx.clone(), key, 5, 4), empty);
        // A window widened after signing is a forgery.
        let stretched = match with_window(tx.clone(), key, 0, now - 1) {
            L2Tx::Swap(t) => L2Tx::Swap(Swap { valid_until: u32::MAX, ..t }),
            L2Tx::AddLiquidity(t) => L2Tx::AddLiquidity(AddLiquidity { valid_until: u32::MAX, ..t }),
            L2Tx::RemoveLiquidity(t) => L2Tx::RemoveLiquidity(RemoveLiquidity { valid_until: u32::MAX, ..t }),
            _ => unreachable!(),
        };
        assert!(matches!(net.apply_l2(stretched), Err(TxError::BadSignature(_))));
        // Both ends are inclusive.
        net.apply_l2(with_window(tx, key, now, now)).unwrap();
    }
    assert_eq!(net.seal().block.timestamp, u64::from(now));
}

#[test]
fn stable_pools_are_refused_until_the_circuit_has_a_rule() {
    let (mut net, a, _) = funded();
    let stable = PoolParams {
        kind: PoolKind::Stable,
        fee_bps: 4,
        protocol_share: 0,
        amp: 100,
        token_a: TokenId(USDT),
        token_b: TokenId(WETH),
        lp_token: LP,
    };
    // CreatePool refuses the kind; put such an account in place directly to check the others.
    let pool = net.exec.state_mut().create_account(stable.address()).unwrap();
    // Unregistered, an account at a pool's address is no pool.
    let tx = net.swap_tx(&a, pool, USDT, false, 1_000_000, 0, 0);
    assert_rejected(&mut net, tx, TxError::NotAPool(pool));
    let registry = (GLOBAL_ASSET_ACCOUNT_ID, SubAccountId(0), LP);
    net.exec.state_mut().set_balance(registry.0, registry.1, registry.2, pool.0 as u128 + 1).unwrap();
    let unsupported = TxError::PoolKindUnsupported(PoolKind::Stable.name());
    let tx = net.add_liquidity_tx(&a, pool, A0, B0, 0, 0);
    assert_rejected(&mut net, tx, unsupported.clone());
    let tx = net.remove_liquidity_tx(&a, pool, 1, 0, 0, 0);
    assert_rejected(&mut net, tx, unsupported.clone());
    let tx = net.swap_tx(&a, pool, USDT, false, 1_000_000, 0, 0);
    assert_rejected(&mut net, tx, unsupported.clone());
    let tx = net.swap_tx(&a, pool, USDT, true, 1_000_000, u128::MAX, 0);
    assert_rejected(&mut net, tx, unsupported);
}

#[test]
fn reserved_addresses_receive_nothing_and_are_never_forced_out() {
    let (mut net, a, _, pool) = with_pool();
    let pool_address = net.state().account(pool).unwrap().address;
    let mut fresh = [0x01; 20];
    fresh[..8].copy_from_slice(&[0xff; 8]);
    let fresh = Address::new(fresh);
    // Transfers: to the pool, to a new reserved address (no account would be created).
    for to in [pool_address, fresh] {
        let tx = net.transfer_tx(&a, to, USDT, 1_000, 0);
        assert_rejected(&mut net, tx, TxError::ReservedAddress(to));
        let tx = net.transfer_tx(&a, to, LP.0, 1_000, 0);
        assert_rejected(&mut net, tx, TxError::ReservedAddress(to));
    }
    // Deposits (each chain's contract refuses them before they are queued).
    for to in [pool_address, fresh] {
        let tx = net.deposit_tx(1, to, 0, USDT, USDT, 1_000);
        let before = net.exec.root();
        assert_eq!(net.apply_priority(&tx).unwrap_err(), TxError::ReservedAddress(to));
        assert_eq!(net.exec.root(), before);
    }
    // A forced exit of the keyless pool.
    let tx = L2Tx::ForcedExit(ForcedExit {
        to_chain_id: ChainId(1),
        initiator_account_id: net.id_of(&a),
        initiator_sub_account_id: SubAccountId(0),
        target: pool_address,
        target_sub_account_id: SubAccountId(0),
        l2_source_token: TokenId(USDT),
        l1_target_token: TokenId(USDT),
        fee_token: TokenId(USDT),
        fee: 0,
        nonce: net.nonce_of(&a),
        signature: TxSignature::default(),
    })
    .sign(&a.l2)
    .unwrap();
    assert_rejected(&mut net, tx, TxError::ReservedAddress(pool_address));
}

// ---------------------------------------------------------------- replay from pubdata

/// A history with every pool op: two pools, deposits, swaps both ways and both modes, an LP
/// transfer, removals with fees. Returns the net (sealed) and the pool ids.
fn history() -> (TestNet, AccountId, AccountId) {
    let (mut net, a, b, pool) = with_pool();
    let other = create(&mut net, &b, 100, 50);
    net.apply_l2(net.swap_tx(&b, pool, USDT, false, 12_345_678, 0, 1_000)).unwrap();
    net.apply_l2(net.add_liquidity_tx(&b, other, 7_000_000, 3_000_000, 0, 0)).unwrap();
    net.apply_l2(net.swap_tx(&b, pool, WETH, true, 2_000_000, u128::MAX, 0)).unwrap();
    net.apply_l2(net.add_liquidity_tx(&b, pool, 99_999_999, FUND, 0, 1_000)).unwrap();
    net.apply_l2(net.transfer_tx(&a, b.address, LP.0, 1_000_000, 0)).unwrap();
    net.apply_l2(net.remove_liquidity_tx(&b, pool, 3_000_000, 0, 0, 5)).unwrap();
    net.apply_l2(net.swap_tx(&a, other, WETH, false, 500_000, 0, 0)).unwrap();
    net.apply_l2(net.remove_liquidity_tx(&a, pool, 1_000_000_000, 0, 0, 0)).unwrap();
    net.seal();
    (net, pool, other)
}

#[test]
fn pool_ops_replay_from_pubdata_to_the_same_roots() {
    let (net, _, _) = history();
    let kinds: Vec<u8> = net.blocks.iter().flat_map(|b| b.block.ops.iter().map(Op::code)).collect();
    for code in [0x0a, 0x0b, 0x0c, 0x0d] {
        assert!(kinds.contains(&code), "the history has op 0x{code:02x}");
    }
    crate::invariants::replay_pubdata(&net);
}

fn assert_refused(net: &mut TestNet, op: Op, what: &str) {
    let before = net.exec.root();
    let err = net.exec.apply_op(&op).expect_err(what);
    assert!(matches!(err, ReplayError::Mismatch { .. }), "{what}: unexpected error {err}");
    assert_eq!(net.exec.root(), before, "{what}: a refused op must not change the state");
}

fn isqrt(v: u128) -> u128 {
    let mut x = (v as f64).sqrt() as u128;
    while x * x > v {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= v {
        x += 1;
    }
    x
}

/// Whether a pool op's amounts fit the pool's reserves `r` (docs/protocol.md §7, restated in
/// u128): a tampered op that still fits describes a valid op and is not expected to be refused.
fn amounts_fit(op: &Op, p: &PoolParams, r: &Reserves) -> bool {
    match op {
        Op::AddLiquidity(o) if r.supply == 0 => {
            isqrt(o.amount_a * o.amount_b).checked_sub(MIN_LIQUIDITY) == Some(o.shares)
        }
        Op::AddLiquidity(o) => {
            (o.shares * r.a).div_ceil(r.supply) == o.amount_a && (o.shares * r.b).div_ceil(r.supply) == o.amount_b
        }
        Op::RemoveLiquidity(o) => {
            o.shares + MIN_LIQUIDITY <= r.supply
                && o.shares * r.a / r.supply == o.amount_a
                && o.shares * r.b / r.supply == o.amount_b
                && o.fee <= o.amount_a
        }
        Op::Swap(o) => {
            let (r_in, r_out) = if o.token_in == p.token_a { (r.a, r.b) } else { (r.b, r.a) };
            let fee = u128::from(p.fee_bps);
            exact_in_out(r_in, r_out, o.amount_in, fee) == o.amount_out
                || (o.amount_out < r_out && exact_out_in(r_in, r_out, o.amount_out, fee) == o.amount_in)
        }
        _ => false,
    }
}

/// Ops that misstate a pool op are refused where the honest op is replayed, and change nothing.
#[test]
fn tampered_pool_ops_are_refused() {
    let (net, pool, other) = history();
    let mut restored = TestNet::new(net.network().clone());
    let mut refused = 0;
    for sealed in &net.blocks {
        let ops = zklink_block::Block::ops_from_pubdata(&sealed.block.pubdata().unwrap()).unwrap();
        for op in ops {
            let swap_pool = |id: AccountId| if id == pool { other } else { pool };
            // (what, the tampered op, whether only its amounts are wrong)
            let tampered: Vec<(&str, Op, bool)> = match &op {
                Op::CreatePool(o) => vec![
                    (
                        "a pool id that is not the next free one",
                        Op::CreatePool(CreatePoolOp { pool: AccountId(o.pool.0 + 1), ..o.clone() }),
                        false,
                    ),
                    (
                        "an LP token outside the LP range",
                        Op::CreatePool(CreatePoolOp {
                            params: PoolParams { lp_token: TokenId(55), ..o.params },
                            ..o.clone()
                        }),
                        false,
                    ),
                    (
                        "a fee above the maximum",
                        Op::CreatePool(CreatePoolOp { params: PoolParams { fee_bps: 1_001, ..o.params }, ..o.clone() }),
                        false,
                    ),
                ],
                Op::AddLiquidity(o) => vec![
                    ("shares + 1", Op::AddLiquidity(AddLiquidityOp { shares: o.shares + 1, ..o.clone() }), true),
                    ("amount a + 1", Op::AddLiquidity(AddLiquidityOp { amount_a: o.amount_a + 1, ..o.clone() }), true),
                    ("amount b − 1", Op::AddLiquidity(AddLiquidityOp { amount_b: o.amount_b - 1, ..o.clone() }), true),
                    (
                        "another first token",
                        Op::AddLiquidity(AddLiquidityOp { token_a: TokenId(WETH), ..o.clone() }),
                        false,
                    ),
                    ("another pool", Op::AddLiquidity(AddLiquidityOp { pool: swap_pool(o.pool), ..o.clone() }), true),
                ],
                Op::RemoveLiquidity(o) => vec![
                    (
                        "amount a + 1",
                        Op::RemoveLiquidity(RemoveLiquidityOp { amount_a: o.amount_a + 1, ..o.clone() }),
                        true,
                    ),
                    ("shares + 1", Op::RemoveLiquidity(RemoveLiquidityOp { shares: o.shares + 1, ..o.clone() }), true),
                    (
                        "a fee above the first token",
                        Op::RemoveLiquidity(RemoveLiquidityOp { fee: o.amount_a + 1, ..o.clone() }),
                        false,
                    ),
                    (
                        "another pool",
                        Op::RemoveLiquidity(RemoveLiquidityOp { pool: swap_pool(o.pool), ..o.clone() }),
                        true,
                    ),
                ],
                Op::Swap(o) => vec![
                    ("amount out + 1", Op::Swap(SwapOp { amount_out: o.amount_out + 1, ..o.clone() }), true),
                    ("amount in − 1", Op::Swap(SwapOp { amount_in: o.amount_in - 1, ..o.clone() }), true),
                    ("another fee", Op::Swap(SwapOp { fee_bps: o.fee_bps + 1, ..o.clone() }), false),
                    (
                        "another protocol share",
                        Op::Swap(SwapOp { protocol_share: (o.protocol_share + 1) % 101, ..o.clone() }),
                        false,
                    ),
                    (
                        "a token that is not the pool's",
                        Op::Swap(SwapOp { token_in: TokenId(USDC), ..o.clone() }),
                        false,
                    ),
                    (
                        "the pool's other token",
                        Op::Swap(SwapOp { token_in: TokenId(USDT + WETH - o.token_in.0), ..o.clone() }),
                        true,
                    ),
                    ("another pool", Op::Swap(SwapOp { pool: swap_pool(o.pool), ..o.clone() }), false),
                    ("a user's account as the pool", Op::Swap(SwapOp { pool: AccountId(2), ..o.clone() }), false),
                ],
                _ => Vec::new(),
            };
            for (what, bad, amounts_only) in tampered {
                // A misstatement of amounts alone can describe another valid op (an exact-in swap of
                // one unit less may buy as much): only those that fit no pool arithmetic must fail.
                let target = pool_of_op(&bad).and_then(|id| restored.pool(id));
                if amounts_only && target.is_some_and(|(p, r)| amounts_fit(&bad, &p, &r)) {
                    continue;
                }
                assert_refused(&mut restored, bad, what);
                refused += 1;
            }
            if let Some((p, r)) = pool_of_op(&op).and_then(|id| restored.pool(id)) {
                assert!(amounts_fit(&op, &p, &r), "the oracle accepts the honest {op:?}");
            }
            restored.exec.apply_op(&op).expect("the honest op replays");
        }
        assert_eq!(restored.seal().block.new_root, sealed.block.new_root);
    }
    assert!(refused >= 40, "only {refused} tampered ops were refused");
}

fn pool_of_op(op: &Op) -> Option<AccountId> {
    match op {
        Op::AddLiquidity(o) => Some(o.pool),
        Op::RemoveLiquidity(o) => Some(o.pool),
        Op::Swap(o) => Some(o.pool),
        _ => None,
    }
}
