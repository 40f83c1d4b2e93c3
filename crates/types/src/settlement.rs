//! What one order-matching fill moves (docs/protocol.md §7): who gives which token, who gets it,
//! and the fee each side pays to the submitter. The one native definition: the executor's
//! handler, the pubdata replay and the circuit's witness builder all call it (the R1CS rules and
//! nothing else implement it again).

use crate::amount::{mul_div_floor, Amount};
use crate::ids::TokenId;
use crate::op::OrderMatchingOp;
use crate::tx::ORDER_FEE_DENOMINATOR;

/// `⌊amount · ratio / 10^4⌋`: the fee an order with fee ratio `ratio` pays on `amount` received.
pub fn order_fee(amount: Amount, ratio: u8) -> Amount {
    // ratio ≤ 255 < 10^4, so the fee never exceeds the amount and the product cannot overflow
    // the wide intermediate.
    mul_div_floor(amount, u128::from(ratio), ORDER_FEE_DENOMINATOR).unwrap_or(0)
}

/// One fill's movements at the maker's price. The seller gives base and the buyer gives quote;
/// each side's fee is taken from what it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillSettlement {
    /// The token the maker gives (base if the maker sells, quote otherwise).
    pub maker_sell_token: TokenId,
    /// The token the maker gets.
    pub maker_buy_token: TokenId,
    /// What the maker gives, which the taker gets before its fee.
    pub maker_gives: Amount,
    /// What the maker gets before its fee, which the taker gives.
    pub maker_gets: Amount,
    /// The maker's fee, in the maker's buy token.
    pub maker_fee: Amount,
    /// The taker's fee, in the maker's sell token.
    pub taker_fee: Amount,
}

impl FillSettlement {
    /// The movements of a fill of `base` for `quote`, with the maker's and the taker's fee ratios.
    pub fn new(
        maker_is_sell: bool,
        (base_token, quote_token): (TokenId, TokenId),
        (base, quote): (Amount, Amount),
        maker_fee_ratio: u8,
        taker_fee_ratio: u8,
    ) -> Self {
        let (maker_gives, maker_gets) = if maker_is_sell { (base, quote) } else { (quote, base) };
        let (maker_sell_token, maker_buy_token) =
            if maker_is_sell { (base_token, quote_token) } else { (quote_token, base_token) };
        Self {
            maker_sell_token,
            maker_buy_token,
            maker_gives,
            maker_gets,
            maker_fee: order_fee(maker_gets, maker_fee_ratio),
            taker_fee: order_fee(maker_gives, taker_fee_ratio),
        }
    }
}

impl OrderMatchingOp {
    /// The movements this op states.
    pub fn settlement(&self) -> FillSettlement {
        FillSettlement::new(
            self.maker_is_sell,
            (self.base_token, self.quote_token),
            (self.base_amount, self.quote_amount),
            self.maker.fee_ratio,
            self.taker.fee_ratio,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_round_down_and_follow_the_sides() {
        let s = FillSettlement::new(true, (TokenId(33), TokenId(1)), (10, 20_001), 10, 255);
        assert_eq!((s.maker_sell_token, s.maker_buy_token), (TokenId(33), TokenId(1)));
        assert_eq!((s.maker_gives, s.maker_gets), (10, 20_001));
        assert_eq!(s.maker_fee, 20); // ⌊20001 · 10 / 10^4⌋
        assert_eq!(s.taker_fee, 0); // ⌊10 · 255 / 10^4⌋
        let b = FillSettlement::new(false, (TokenId(33), TokenId(1)), (10, 20_001), 10, 255);
        assert_eq!((b.maker_sell_token, b.maker_gives, b.maker_gets), (TokenId(1), 20_001, 10));
        assert_eq!(order_fee(u128::MAX, 255), u128::MAX / 10_000 * 255 + (u128::MAX % 10_000) * 255 / 10_000);
    }
}
