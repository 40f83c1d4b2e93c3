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

/// A decimal string with at most `decimals` decimals ("1.5", "100", ".25") in units of
/// `10^-decimals`; `None` if it is not one or does not fit a u128.
pub fn parse_units(s: &str, decimals: u8) -> Option<u128> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() || frac.len() > decimals as usize {
        return None;
    }
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) {
        return None;
    }
    let scale = 10u128.checked_pow(u32::from(decimals))?;
    let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let frac_value: u128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let frac_scaled = frac_value * 10u128.pow(u32::from(decimals) - frac.len() as u32);
    int.checked_mul(scale)?.checked_add(frac_scaled)
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
