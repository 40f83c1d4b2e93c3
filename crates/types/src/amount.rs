//! Amounts, decimal floats and prices.
//!
//! Every L2 balance is a `u128` with 18 decimals whatever the token's L1 decimals. Where an
//! amount goes into pubdata it is a decimal float `mantissa · 10^exponent` so that it costs
//! 5 bytes (amounts: 35-bit mantissa, 5-bit exponent) or 2 bytes (fees: 11 + 5).

use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, TxError};

/// A token amount in L2 units (18 decimals).
pub type Amount = u128;

pub use crate::units::{format_units, L2_DECIMALS};

/// Shape of a decimal float: `value = mantissa · 10^exponent`, packed big-endian as
/// `mantissa << exponent_bits | exponent` in `(mantissa_bits + exponent_bits) / 8` bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FloatFormat {
    /// Width of the mantissa in bits (35 for amounts, 11 for fees).
    pub mantissa_bits: u32,
    /// Width of the decimal exponent in bits (5 in both formats).
    pub exponent_bits: u32,
}

/// Packed transfer / order amounts: 5 bytes.
pub const AMOUNT_FLOAT: FloatFormat = FloatFormat { mantissa_bits: 35, exponent_bits: 5 };
/// Packed fees: 2 bytes.
pub const FEE_FLOAT: FloatFormat = FloatFormat { mantissa_bits: 11, exponent_bits: 5 };

const fn pow10(e: u32) -> u128 {
    10u128.pow(e)
}

impl FloatFormat {
    /// Size of a packed value in bytes: 5 for [`AMOUNT_FLOAT`], 2 for [`FEE_FLOAT`].
    pub const fn byte_len(self) -> usize {
        ((self.mantissa_bits + self.exponent_bits) / 8) as usize
    }

    fn max_mantissa(self) -> u128 {
        (1u128 << self.mantissa_bits) - 1
    }

    fn max_exponent(self) -> u32 {
        // 10^38 < 2^128 < 10^39: exponents above 38 can never encode a u128.
        ((1u32 << self.exponent_bits) - 1).min(38)
    }

    /// Smallest exponent whose mantissa range reaches `value` (rounding down).
    fn exponent_for(self, value: u128) -> Option<u32> {
        (0..=self.max_exponent()).find(|&e| value / pow10(e) <= self.max_mantissa())
    }

    /// Canonical `(mantissa, exponent)` of an exactly representable value: the smallest exponent.
    fn decompose(self, value: u128) -> Option<(u128, u32)> {
        let e = self.exponent_for(value)?;
        value.is_multiple_of(pow10(e)).then(|| (value / pow10(e), e))
    }

    /// Whether `value` is exactly `m · 10^e` in this format, i.e. [`pack`](Self::pack) would succeed.
    pub fn is_packable(self, value: u128) -> bool {
        self.decompose(value).is_some()
    }

    /// Largest representable value `<= value`.
    pub fn round_down(self, value: u128) -> u128 {
        match self.exponent_for(value) {
            Some(e) => value / pow10(e) * pow10(e),
            // Unreachable for u128 inputs with >= 5 exponent bits; degrade to the largest value.
            None => self.max_mantissa() * pow10(self.max_exponent()),
        }
    }

    /// Smallest representable value `>= value`, or `None` if it would not fit a u128.
    pub fn round_up(self, value: u128) -> Option<u128> {
        let mut e = self.exponent_for(value)?;
        loop {
            let p = pow10(e);
            let m = value.div_ceil(p);
            if m <= self.max_mantissa() {
                return m.checked_mul(p);
            }
            e += 1;
            if e > self.max_exponent() {
                return None;
            }
        }
    }

    /// Packs an exactly representable value into its canonical encoding.
    pub fn pack(self, value: u128) -> Result<Vec<u8>, TxError> {
        let (m, e) = self.decompose(value).ok_or_else(|| TxError::NotPackable {
            value,
            below: self.round_down(value),
            above: self.round_up(value),
            format: if self == FEE_FLOAT {
                "fee (11-bit mantissa, 5-bit exponent)"
            } else {
                "amount (35-bit mantissa, 5-bit exponent)"
            },
        })?;
        let packed = (m << self.exponent_bits) | e as u128;
        let bytes = packed.to_be_bytes();
        Ok(bytes[16 - self.byte_len()..].to_vec())
    }

    /// Decodes a packed float, rejecting non-canonical encodings and values beyond u128.
    pub fn unpack(self, bytes: &[u8]) -> Result<u128, DecodeError> {
        if bytes.len() != self.byte_len() {
            return Err(DecodeError::Length { what: "packed float", expected: self.byte_len(), got: bytes.len() });
        }
        let mut buf = [0u8; 16];
        buf[16 - bytes.len()..].copy_from_slice(bytes);
        let packed = u128::from_be_bytes(buf);
        let e = (packed & ((1 << self.exponent_bits) - 1)) as u32;
        let m = packed >> self.exponent_bits;
        let value = pow10(e.min(38))
            .checked_mul(m)
            .filter(|_| e <= 38)
            .ok_or(DecodeError::Invalid { what: "packed float", reason: "value exceeds u128" })?;
        if self.decompose(value) != Some((m, e)) && !(m == 0 && e == 0) {
            return Err(DecodeError::Invalid {
                what: "packed float",
                reason: "non-canonical encoding (exponent not minimal)",
            });
        }
        Ok(value)
    }
}

/// Price of one base unit in quote units, as an 18-decimal fixed-point number:
/// `quote = base · price / 10^18`. Encoded in 15 bytes, so `0 < price < 2^120`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(#[serde(with = "crate::serde_str")] pub u128);

/// The price 1.0: prices are 18-decimal fixed point, so this is 10^18.
pub const PRICE_ONE: u128 = 1_000_000_000_000_000_000;
/// Size of an encoded price in signed bytes (15 bytes, big-endian).
pub const PRICE_BYTES: usize = 15;
/// Largest valid price, `2^120 − 1` (the most 15 bytes hold).
pub const MAX_PRICE: u128 = (1u128 << 120) - 1;

impl Price {
    /// Rejects a price of 0 or above [`MAX_PRICE`] with [`TxError::FieldOutOfRange`].
    pub fn check(self) -> Result<(), TxError> {
        if self.0 == 0 || self.0 > MAX_PRICE {
            return Err(TxError::FieldOutOfRange { field: "price", value: self.0, max: MAX_PRICE });
        }
        Ok(())
    }

    /// Quote amount for `base` units at this price, rounded down; `None` if it exceeds u128.
    pub fn quote_for(self, base: u128) -> Option<u128> {
        mul_div_floor(base, self.0, PRICE_ONE)
    }
}

/// `a · b / d` rounded down, computed without intermediate overflow; `None` if the result exceeds u128.
pub fn mul_div_floor(a: u128, b: u128, d: u128) -> Option<u128> {
    if d == 0 {
        return None;
    }
    let (hi, lo) = mul_wide(a, b);
    div_wide(hi, lo, d)
}

/// Full 256-bit product of two u128 as (high, low) halves.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let mask = u64::MAX as u128;
    let (a0, a1) = (a & mask, a >> 64);
    let (b0, b1) = (b & mask, b >> 64);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & mask) + (p10 & mask);
    let lo = (p00 & mask) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// (hi·2^128 + lo) / d when the quotient fits u128 (i.e. hi < d); bitwise long division.
fn div_wide(hi: u128, lo: u128, d: u128) -> Option<u128> {
    if hi >= d {
        return None;
    }
    let mut rem = hi;
    let mut q: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            q |= 1;
        }
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn not_packable_names_the_nearest_values_in_units() {
        let value = 12_345_678_901_234 * 10u128.pow(6); // 12.345678901234 tokens
        let e = AMOUNT_FLOAT.pack(value).unwrap_err();
        let text = e.to_string();
        assert_eq!(
            text,
            "12.345678901234 is not a packable amount (35-bit mantissa, 5-bit exponent): \
             the nearest packable values are 12.345678901 and 12.345678902"
        );
        assert!(!text.contains("round_") && !text.contains("a amount"), "{text}");
        assert_eq!(format_units(1_500_000, 6), "1.5");
        assert_eq!(format_units(5, 18), "0.000000000000000005");
        let fee = FEE_FLOAT.pack(2049).unwrap_err().to_string();
        assert!(fee.contains("the nearest packable values are 0.00000000000000204 and"), "{fee}");
    }

    #[test]
    fn pack_examples() {
        assert_eq!(AMOUNT_FLOAT.pack(0).unwrap(), vec![0; 5]);
        assert_eq!(AMOUNT_FLOAT.unpack(&AMOUNT_FLOAT.pack(1).unwrap()).unwrap(), 1);
        let v = 12_345 * PRICE_ONE;
        assert!(AMOUNT_FLOAT.is_packable(v));
        assert_eq!(AMOUNT_FLOAT.unpack(&AMOUNT_FLOAT.pack(v).unwrap()).unwrap(), v);
        assert_eq!(FEE_FLOAT.pack(2047).unwrap(), vec![0xff, 0xe0]);
        assert!(!FEE_FLOAT.is_packable(2049));
        assert_eq!(FEE_FLOAT.round_down(2049), 2040);
        assert_eq!(FEE_FLOAT.round_up(2049), Some(2050));
        assert!(matches!(FEE_FLOAT.pack(2049), Err(TxError::NotPackable { .. })));
    }

    #[test]
    fn unpack_rejects_bad_input() {
        assert!(AMOUNT_FLOAT.unpack(&[0; 4]).is_err());
        // mantissa 1, exponent 31 = 10^31: fine; mantissa max with exponent 31 overflows.
        assert!(AMOUNT_FLOAT.unpack(&[0xff; 5]).is_err());
        // 10 · 10^0 encoded with exponent 0 and mantissa 10 is canonical; mantissa 1 exponent 1 is not.
        let non_canonical = ((1u64 << 5) | 1).to_be_bytes();
        assert!(AMOUNT_FLOAT.unpack(&non_canonical[3..]).is_err());
    }

    #[test]
    fn round_up_at_the_top() {
        assert_eq!(AMOUNT_FLOAT.round_up(u128::MAX), None);
        assert!(AMOUNT_FLOAT.round_up(u128::MAX / 10).is_some());
    }

    #[test]
    fn mul_div() {
        assert_eq!(mul_div_floor(u128::MAX, u128::MAX, u128::MAX), Some(u128::MAX));
        assert_eq!(mul_div_floor(u128::MAX, 2, 1), None);
        assert_eq!(mul_div_floor(7, 3, 2), Some(10));
        assert_eq!(Price(2 * PRICE_ONE).quote_for(5), Some(10));
        assert_eq!(Price(PRICE_ONE / 2).quote_for(3), Some(1));
    }

    proptest! {
        #[test]
        fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            let _ = AMOUNT_FLOAT.unpack(&bytes);
            let _ = FEE_FLOAT.unpack(&bytes);
        }

        #[test]
        fn rounding_brackets_value(v in any::<u128>()) {
            for f in [AMOUNT_FLOAT, FEE_FLOAT] {
                let down = f.round_down(v);
                prop_assert!(down <= v);
                prop_assert!(f.is_packable(down));
                prop_assert_eq!(f.unpack(&f.pack(down).unwrap()).unwrap(), down);
                if let Some(up) = f.round_up(v) {
                    prop_assert!(up >= v);
                    prop_assert!(f.is_packable(up));
                }
                if f.is_packable(v) {
                    prop_assert_eq!(down, v);
                    prop_assert_eq!(f.round_up(v), Some(v));
                }
            }
        }

        #[test]
        fn mul_div_matches_u256(a in any::<u64>(), b in any::<u64>(), d in 1u64..) {
            let expect = (a as u128) * (b as u128) / d as u128;
            prop_assert_eq!(mul_div_floor(a as u128, b as u128, d as u128), Some(expect));
        }
    }
}
