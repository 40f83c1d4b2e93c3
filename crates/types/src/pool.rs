//! AMM pools (docs/protocol.md §4, §7, §12): the one native definition of what a pool is and of
//! its arithmetic. The executor, the pubdata replay and the witness builder call these
//! functions; the block circuit checks the same equations with constraints.
//!
//! A pool is an L2 account that no key controls. Its address encodes its parameters, fixed at
//! creation ([`PoolParams::address`]): `ff ×8 ‖ kind u8 ‖ fee_bps u16 ‖ protocol_share u8 ‖
//! amp u16 ‖ token_a u16 ‖ token_b u16 ‖ lp_token u16`. In its sub-account 0 it holds its two
//! reserves (balances of `token_a` and `token_b`) and, as the balance of its own LP token, the
//! total supply of LP shares (the [`MIN_LIQUIDITY`] locked by the first deposit included: those
//! shares belong to nobody). Users hold LP shares as ordinary balances of the LP token, which is
//! an L2-only token id from the preset's LP range ([`crate::Preset::lp_tokens`]).
//!
//! All amounts are integers in L2 units; every rounding favours the pool: what a user receives
//! rounds down, what a user pays rounds up. Reserves and the share supply stay below
//! 2^[`RESERVE_BITS`], which keeps every product of the circuit's checks below the field size.

use alloy_primitives::{Address, U256};
use serde::{Deserialize, Serialize};

use crate::error::TxError;
use crate::ids::TokenId;

/// Fee rates are in basis points: units of 1/10^4.
pub const FEE_DENOMINATOR: u128 = 10_000;
/// The largest swap fee a pool may charge: 10 %.
pub const MAX_FEE_BPS: u16 = 1_000;
/// The protocol's share of the swap fee is in percent (0..=100).
pub const MAX_PROTOCOL_SHARE: u8 = 100;
/// Shares the first deposit locks for good (Uniswap v2's minimum liquidity): the share price
/// can never be pushed to where one share is worth a whole deposit.
pub const MIN_LIQUIDITY: u128 = 1_000;
/// Reserves and the share supply are below 2^112.
pub const RESERVE_BITS: u32 = 112;
/// The largest reserve or share supply a pool may hold, 2^112 − 1 (about 5.2·10^15 whole tokens
/// of 18 decimals).
pub const MAX_RESERVE: u128 = (1 << RESERVE_BITS) - 1;
/// The first 8 bytes of every pool address (and of the global asset account's): no deposit,
/// transfer or forced exit may name an address that starts with them.
pub const POOL_ADDRESS_PREFIX: [u8; 8] = [0xff; 8];
/// The sub-account of a pool's account that holds its reserves and its share supply.
pub const POOL_SUB_ACCOUNT: crate::SubAccountId = crate::SubAccountId(0);
/// The sub-account of account 1 that holds the pool registry: its balance leaf of LP token `lp`
/// is the id + 1 of the pool that took `lp`, 0 while `lp` is free (no chain uses sub-account 0).
pub const REGISTRY_SUB_ACCOUNT: crate::SubAccountId = crate::SubAccountId(0);
/// Largest amplification coefficient of a stable pool.
pub const MAX_AMPLIFICATION: u16 = 10_000;

/// Whether `address` is reserved for pools and the global asset account (its first 8 bytes are
/// all `ff`).
pub fn is_reserved_address(address: &Address) -> bool {
    address.as_slice()[..8] == POOL_ADDRESS_PREFIX
}

/// The curve a pool trades on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PoolKind {
    /// `x · y = k` (Uniswap v2).
    ConstantProduct,
    /// StableSwap with amplification A (Curve), for pairs that trade near 1:1.
    Stable,
}

impl PoolKind {
    /// The kind's byte in signed bytes, pubdata and the pool address.
    pub fn code(self) -> u8 {
        match self {
            PoolKind::ConstantProduct => 0,
            PoolKind::Stable => 1,
        }
    }

    /// The kind's name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::ConstantProduct => "constantProduct",
            PoolKind::Stable => "stable",
        }
    }

    /// The kind with byte `b`.
    pub fn from_code(b: u8) -> Result<Self, TxError> {
        match b {
            0 => Ok(PoolKind::ConstantProduct),
            1 => Ok(PoolKind::Stable),
            _ => Err(TxError::PoolParams(format!("pool kind {b} is unknown: 0 = constant product, 1 = stable"))),
        }
    }
}

/// A pool's parameters, fixed at creation and encoded in its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolParams {
    /// The curve.
    pub kind: PoolKind,
    /// Swap fee in basis points (at most [`MAX_FEE_BPS`]); it stays in the pool, for its LPs,
    /// except the protocol's share.
    pub fee_bps: u16,
    /// The protocol's share of the swap fee in percent (at most 100), paid to account 0.
    pub protocol_share: u8,
    /// Amplification A of a stable pool (1..=[`MAX_AMPLIFICATION`]); 0 for constant product.
    pub amp: u16,
    /// The pool's first token (the smaller id).
    pub token_a: TokenId,
    /// The pool's second token (the larger id).
    pub token_b: TokenId,
    /// The pool's LP share token.
    pub lp_token: TokenId,
}

impl PoolParams {
    /// Checks the parameters alone (tokens against the preset are checked by the caller):
    /// `token_a < token_b`, fee and share in range, amplification 0 for constant product and
    /// 1..=[`MAX_AMPLIFICATION`] for stable.
    pub fn check(&self) -> Result<(), TxError> {
        let bad = |m: String| Err(TxError::PoolParams(m));
        if self.token_a >= self.token_b {
            return bad(format!(
                "a pool's tokens must be given in increasing order and differ: got {} and {}",
                self.token_a, self.token_b
            ));
        }
        if self.fee_bps > MAX_FEE_BPS {
            return bad(format!("fee {} bps exceeds the maximum {MAX_FEE_BPS} bps", self.fee_bps));
        }
        if self.protocol_share > MAX_PROTOCOL_SHARE {
            return bad(format!("protocol share {} % exceeds 100 %", self.protocol_share));
        }
        match self.kind {
            PoolKind::ConstantProduct if self.amp != 0 => {
                bad(format!("a constant-product pool has amplification 0, got {}", self.amp))
            }
            PoolKind::Stable if self.amp == 0 || self.amp > MAX_AMPLIFICATION => {
                bad(format!("a stable pool's amplification must be 1..={MAX_AMPLIFICATION}, got {}", self.amp))
            }
            _ => Ok(()),
        }
    }

    /// The pool account's address: `ff ×8 ‖ kind ‖ fee_bps u16 ‖ protocol_share ‖ amp u16 ‖
    /// token_a u16 ‖ token_b u16 ‖ lp_token u16`.
    pub fn address(&self) -> Address {
        let mut a = [0u8; 20];
        a[..8].copy_from_slice(&POOL_ADDRESS_PREFIX);
        a[8] = self.kind.code();
        a[9..11].copy_from_slice(&self.fee_bps.to_be_bytes());
        a[11] = self.protocol_share;
        a[12..14].copy_from_slice(&self.amp.to_be_bytes());
        a[14..16].copy_from_slice(&self.token_a.0.to_be_bytes());
        a[16..18].copy_from_slice(&self.token_b.0.to_be_bytes());
        a[18..20].copy_from_slice(&self.lp_token.0.to_be_bytes());
        Address::new(a)
    }

    /// The parameters a pool address encodes; `None` for an address that is not a pool's
    /// (another prefix, the global asset account, or parameters that do not check).
    pub fn from_address(address: &Address) -> Option<Self> {
        let a = address.as_slice();
        if !is_reserved_address(address) {
            return None;
        }
        let u16_at = |i: usize| u16::from_be_bytes([a[i], a[i + 1]]);
        let p = PoolParams {
            kind: PoolKind::from_code(a[8]).ok()?,
            fee_bps: u16_at(9),
            protocol_share: a[11],
            amp: u16_at(12),
            token_a: TokenId(u16_at(14)),
            token_b: TokenId(u16_at(16)),
            lp_token: TokenId(u16_at(18)),
        };
        p.check().ok().map(|_| p)
    }

    /// The pool's other token, or `None` if `token` is not one of its two.
    pub fn other(&self, token: TokenId) -> Option<TokenId> {
        if token == self.token_a {
            Some(self.token_b)
        } else if token == self.token_b {
            Some(self.token_a)
        } else {
            None
        }
    }
}

/// A pool's state: its reserves and its share supply, in L2 units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reserves {
    /// Reserve of `token_a`.
    #[serde(with = "crate::serde_str")]
    pub a: u128,
    /// Reserve of `token_b`.
    #[serde(with = "crate::serde_str")]
    pub b: u128,
    /// LP shares in existence, the locked minimum included.
    #[serde(with = "crate::serde_str")]
    pub supply: u128,
}

/// What a swap moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwapAmounts {
    /// What the user pays into the pool, in the input token.
    pub amount_in: u128,
    /// What the pool pays the user, in the output token.
    pub amount_out: u128,
    /// The protocol's share of the fee, in the input token: paid to account 0, not the pool.
    pub protocol_fee: u128,
}

impl SwapAmounts {
    /// What the pool's input reserve gains: `amount_in − protocol_fee`.
    pub fn pool_gets(&self) -> u128 {
        self.amount_in - self.protocol_fee
    }
}

fn u(v: u128) -> U256 {
    U256::from(v)
}

fn back(v: U256, what: &'static str) -> Result<u128, TxError> {
    u128::try_from(v).map_err(|_| TxError::ArithmeticOverflow(what))
}

/// `⌊a · b / d⌋` without intermediate overflow (`d > 0`).
pub fn mul_div(a: u128, b: u128, d: u128, what: &'static str) -> Result<u128, TxError> {
    back(u(a) * u(b) / u(d), what)
}

/// `⌈a · b / d⌉` without intermediate overflow (`d > 0`).
pub fn mul_div_ceil(a: u128, b: u128, d: u128, what: &'static str) -> Result<u128, TxError> {
    back((u(a) * u(b)).div_ceil(u(d)), what)
}

/// `⌊√v⌋` of a 256-bit integer (Newton's iteration from above).
pub fn isqrt(v: U256) -> U256 {
    if v < U256::from(2u8) {
        return v;
    }
    let mut x = U256::from(1u8) << (v.bit_len().div_ceil(2));
    loop {
        let y = (x + v / x) >> 1;
        if y >= x {
            return x;
        }
        x = y;
    }
}

/// The protocol's part of a swap fee: `⌊amount_in · fee_bps · protocol_share / 10^6⌋`.
pub fn protocol_fee(amount_in: u128, p: &PoolParams) -> Result<u128, TxError> {
    protocol_fee_at(amount_in, p.fee_bps, p.protocol_share)
}

/// [`protocol_fee`] at a fee rate (basis points) and protocol share (percent).
pub fn protocol_fee_at(amount_in: u128, fee_bps: u16, protocol_share: u8) -> Result<u128, TxError> {
    mul_div(amount_in, fee_bps as u128 * protocol_share as u128, FEE_DENOMINATOR * 100, "protocol fee")
}

fn constant_product_only(p: &PoolParams) -> Result<(), TxError> {
    match p.kind {
        PoolKind::ConstantProduct => Ok(()),
        PoolKind::Stable => Err(TxError::PoolKindUnsupported(p.kind.name())),
    }
}

/// Exact-in swap on a constant-product pool with reserves `r_in`, `r_out`:
/// `out = ⌊in·(10^4 − fee)·r_out / (r_in·10^4 + in·(10^4 − fee))⌋`.
pub fn swap_exact_in(p: &PoolParams, r_in: u128, r_out: u128, amount_in: u128) -> Result<SwapAmounts, TxError> {
    constant_product_only(p)?;
    if amount_in == 0 {
        return Err(TxError::PoolSwap("the input amount is zero".into()));
    }
    let in_eff = u(amount_in) * u(FEE_DENOMINATOR - p.fee_bps as u128);
    let den = u(r_in) * u(FEE_DENOMINATOR) + in_eff;
    let out = back(in_eff * u(r_out) / den, "swap output")?;
    if out == 0 {
        return Err(TxError::PoolSwap(format!("{amount_in} in buys nothing at these reserves")));
    }
    Ok(SwapAmounts { amount_in, amount_out: out, protocol_fee: protocol_fee(amount_in, p)? })
}

/// Exact-out swap on a constant-product pool: the input is
/// `⌊r_in·out·10^4 / ((r_out − out)·(10^4 − fee))⌋ + 1`; `out` must be below `r_out`.
pub fn swap_exact_out(p: &PoolParams, r_in: u128, r_out: u128, amount_out: u128) -> Result<SwapAmounts, TxError> {
    constant_product_only(p)?;
    if amount_out == 0 {
        return Err(TxError::PoolSwap("the output amount is zero".into()));
    }
    if amount_out >= r_out {
        return Err(TxError::PoolSwap(format!("the pool holds {r_out} of the output token, {amount_out} asked")));
    }
    let num = u(r_in) * u(amount_out) * u(FEE_DENOMINATOR);
    let den = u(r_out - amount_out) * u(FEE_DENOMINATOR - p.fee_bps as u128);
    let amount_in = back(num / den + U256::from(1u8), "swap input")?;
    Ok(SwapAmounts { amount_in, amount_out, protocol_fee: protocol_fee(amount_in, p)? })
}

/// What adding liquidity moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddAmounts {
    /// Taken from the user in `token_a`.
    pub a: u128,
    /// Taken from the user in `token_b`.
    pub b: u128,
    /// Shares credited to the user.
    pub shares: u128,
    /// Shares added to the supply: `shares`, plus [`MIN_LIQUIDITY`] on the first deposit.
    pub minted: u128,
}

/// Adding at most `max_a` and `max_b`: the first deposit takes both and mints
/// `⌊√(max_a·max_b)⌋` shares, [`MIN_LIQUIDITY`] of them locked; later ones mint
/// `shares = min(⌊max_a·S/Ra⌋, ⌊max_b·S/Rb⌋)` and take `⌈shares·Ra/S⌉` and `⌈shares·Rb/S⌉`.
pub fn add_liquidity(r: &Reserves, max_a: u128, max_b: u128) -> Result<AddAmounts, TxError> {
    let out = if r.supply == 0 {
        let root = back(isqrt(u(max_a) * u(max_b)), "initial shares")?;
        if root <= MIN_LIQUIDITY {
            return Err(TxError::PoolLiquidity(format!(
                "a first deposit must mint more than the {MIN_LIQUIDITY} locked shares: √(a·b) is {root}"
            )));
        }
        AddAmounts { a: max_a, b: max_b, shares: root - MIN_LIQUIDITY, minted: root }
    } else {
        let shares = mul_div(max_a, r.supply, r.a, "shares")?.min(mul_div(max_b, r.supply, r.b, "shares")?);
        if shares == 0 {
            return Err(TxError::PoolLiquidity(format!(
                "{max_a} and {max_b} buy no share of a pool with reserves {} and {} and {} shares",
                r.a, r.b, r.supply
            )));
        }
        let a = mul_div_ceil(shares, r.a, r.supply, "amount a")?;
        let b = mul_div_ceil(shares, r.b, r.supply, "amount b")?;
        AddAmounts { a, b, shares, minted: shares }
    };
    check_cap(r.a.checked_add(out.a), "reserve of token a")?;
    check_cap(r.b.checked_add(out.b), "reserve of token b")?;
    check_cap(r.supply.checked_add(out.minted), "share supply")?;
    Ok(out)
}

/// Removing `shares` pays `⌊shares·Ra/S⌋` and `⌊shares·Rb/S⌋`.
pub fn remove_liquidity(r: &Reserves, shares: u128) -> Result<(u128, u128), TxError> {
    if shares == 0 {
        return Err(TxError::PoolLiquidity("no shares to remove".into()));
    }
    if r.supply < shares.saturating_add(MIN_LIQUIDITY) {
        return Err(TxError::PoolLiquidity(format!(
            "{shares} shares exceed what the pool's {} shares minus the {MIN_LIQUIDITY} locked allow",
            r.supply
        )));
    }
    Ok((mul_div(shares, r.a, r.supply, "amount a")?, mul_div(shares, r.b, r.supply, "amount b")?))
}

/// [`TxError::PoolReserveCap`] if a new reserve or supply would reach 2^112 (or overflow).
pub fn check_cap(v: Option<u128>, what: &'static str) -> Result<u128, TxError> {
    match v {
        Some(v) if v <= MAX_RESERVE => Ok(v),
        _ => Err(TxError::PoolReserveCap { what, max: MAX_RESERVE }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp() -> PoolParams {
        PoolParams {
            kind: PoolKind::ConstantProduct,
            fee_bps: 30,
            protocol_share: 20,
            amp: 0,
            token_a: TokenId(1),
            token_b: TokenId(32),
            lp_token: TokenId(63),
        }
    }

    #[test]
    fn address_roundtrips_and_is_reserved() {
        let p = cp();
        let a = p.address();
        assert!(is_reserved_address(&a));
        assert_eq!(PoolParams::from_address(&a), Some(p));
        assert_eq!(PoolParams::from_address(&Address::repeat_byte(0xff)), None);
        assert!(!is_reserved_address(&Address::repeat_byte(0x11)));
    }

    #[test]
    fn isqrt_is_the_floor() {
        for v in [0u128, 1, 2, 3, 4, 15, 16, 17, 1 << 100, u128::MAX] {
            let r = isqrt(U256::from(v));
            assert!(r * r <= U256::from(v) && (r + U256::from(1u8)) * (r + U256::from(1u8)) > U256::from(v));
        }
    }

    #[test]
    fn uniswap_figures() {
        // 1 token in against 10/10 at 0.30 %: 0.906610893880149131 out (Uniswap v2's getAmountOut).
        let e18 = 10u128.pow(18);
        let s = swap_exact_in(&cp(), 10 * e18, 10 * e18, e18).unwrap();
        assert_eq!(s.amount_out, 906_610_893_880_149_131);
        assert_eq!(s.protocol_fee, e18 * 30 * 20 / 1_000_000);
        let back = swap_exact_out(&cp(), 10 * e18, 10 * e18, s.amount_out).unwrap();
        assert!(back.amount_in <= e18 && back.amount_in > e18 - 10);
    }

    #[test]
    fn liquidity_rounds_for_the_pool() {
        let first = add_liquidity(&Reserves::default(), 4_000_000, 1_000_000).unwrap();
        assert_eq!((first.shares, first.minted), (2_000_000 - MIN_LIQUIDITY, 2_000_000));
        let r = Reserves { a: 4_000_000, b: 1_000_000, supply: 2_000_000 };
        let next = add_liquidity(&r, 1_000_001, 1_000_000).unwrap();
        assert_eq!(next.shares, 500_000);
        assert_eq!((next.a, next.b), (1_000_000, 250_000));
        let (a, b) = remove_liquidity(&r, 3).unwrap();
        assert_eq!((a, b), (6, 1));
        assert!(remove_liquidity(&r, 2_000_000 - MIN_LIQUIDITY + 1).is_err());
    }
}
