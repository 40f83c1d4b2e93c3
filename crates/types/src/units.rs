//! Amounts as people read them: whole tokens with a decimal point ("1.5"), and the nearest
//! packable values of an amount that is not. A leaf module: the error texts and the float formats
//! both use it.

/// Decimals of every L2 amount.
pub const L2_DECIMALS: u8 = 18;

/// `amount` with `decimals` decimals as a decimal string without trailing zeros ("1.5", "100").
pub fn format_units(amount: u128, decimals: u8) -> String {
    let Some(scale) = 10u128.checked_pow(u32::from(decimals)) else { return amount.to_string() };
    let (int, frac) = (amount / scale, amount % scale);
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:0width$}", width = decimals as usize);
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// "the nearest packable values are X and Y" for a value between the packable `below` and
/// `above` (L2 units, shown in whole tokens), or only `below` when nothing larger fits a u128.
pub fn nearest_packable(below: u128, above: Option<u128>) -> String {
    let below = format_units(below, L2_DECIMALS);
    match above {
        Some(above) => format!("the nearest packable values are {below} and {}", format_units(above, L2_DECIMALS)),
        None => format!("the largest packable value is {below}"),
    }
}
