use zklink_state::OrderSlot;
use zklink_types::op::{OrderFill, OrderMatchingOp};
use zklink_types::{
    FillSettlement, Network, Op, Order, OrderMatching, OrderNonce, PubKeyHash, TxError, FEE_ACCOUNT_ID, MAX_ORDER_NONCE,
};

use super::{check_nonce, signing_account};
use crate::plan::Plan;

/// What an order can still trade and how its slot changes.
struct SlotUse {
    old: OrderSlot,
    available: u128,
}

/// Slot rule: a slot with residue continues the resting order (same nonce) or is replaced by
/// the next one (nonce + 1, full amount); an empty slot takes an order with its nonce.
fn use_slot(plan: &Plan<'_>, order: &Order) -> Result<SlotUse, TxError> {
    let old = plan.state().order_slot(order.account_id, order.sub_account_id, order.slot_id);
    let available = if old.residue != 0 && order.nonce == old.nonce {
        old.residue
    } else if (old.residue != 0 && order.nonce.0 == old.nonce.0 + 1) || (old.residue == 0 && order.nonce == old.nonce) {
        order.amount
    } else {
        return Err(TxError::OrderNonceMismatch {
            account: order.account_id,
            slot: order.slot_id,
            slot_nonce: old.nonce,
            residue: old.residue,
            got: order.nonce,
        });
    };
    Ok(SlotUse { old, available })
}

/// The slot after filling `filled`: a fully filled slot moves to the next nonce.
fn filled_slot(order: &Order, available: u128, filled: u128) -> Result<OrderSlot, TxError> {
    let residue = available - filled;
    if residue > 0 {
        return Ok(OrderSlot { nonce: order.nonce, residue });
    }
    if order.nonce.0 >= MAX_ORDER_NONCE {
        return Err(TxError::FieldOutOfRange {
            field: "order nonce after fill",
            value: order.nonce.0 as u128 + 1,
            max: MAX_ORDER_NONCE as u128,
        });
    }
    Ok(OrderSlot { nonce: OrderNonce(order.nonce.0 + 1), residue: 0 })
}

/// Matches the taker against the maker at the maker's price, in a block with timestamp
/// `timestamp` (Unix seconds), which both orders' validity windows must hold. `signers` are the
/// key hashes that signed (submitter, maker order, taker order).
pub fn order_matching(
    plan: &mut Plan<'_>,
    network: &Network,
    t: &OrderMatching,
    signers: (&PubKeyHash, &PubKeyHash, &PubKeyHash),
    timestamp: u64,
) -> Result<Op, TxError> {
    t.validate(&network.preset)?;
    let submitter = signing_account(plan.state(), t.account_id, signers.0)?;
    check_nonce(t.account_id, submitter.nonce, t.nonce)?;
    signing_account(plan.state(), t.maker.account_id, signers.1)?;
    signing_account(plan.state(), t.taker.account_id, signers.2)?;
    let (maker, taker) = (&t.maker, &t.taker);
    for order in [maker, taker] {
        if !order.is_valid_at(timestamp) {
            return Err(TxError::OrderNotValidAt {
                account: order.account_id,
                slot: order.slot_id,
                valid_from: order.valid_from,
                valid_until: order.valid_until,
                timestamp,
            });
        }
    }

    let crosses = if taker.is_sell { taker.price <= maker.price } else { taker.price >= maker.price };
    if !crosses {
        return Err(TxError::PricesDoNotCross(if taker.is_sell {
            "a selling taker's price must not exceed the maker's"
        } else {
            "a buying taker's price must not be below the maker's"
        }));
    }

    let maker_slot = use_slot(plan, maker)?;
    let taker_slot = use_slot(plan, taker)?;
    let mut base = maker_slot.available.min(taker_slot.available);
    if t.expect_base_amount != 0 {
        base = base.min(t.expect_base_amount);
    }
    if base == 0 {
        return Err(TxError::ZeroFill("no base amount left to trade"));
    }
    let quote = maker.price.quote_for(base).ok_or(TxError::ArithmeticOverflow("base · price"))?;
    if quote == 0 {
        return Err(TxError::ZeroFill("the quote amount rounds down to zero at the maker's price"));
    }
    if t.expect_quote_amount != 0 && quote > t.expect_quote_amount {
        return Err(TxError::ExpectedQuoteExceeded { quote, cap: t.expect_quote_amount });
    }

    let FillSettlement { maker_sell_token, maker_buy_token, maker_gives, maker_gets, maker_fee, taker_fee } =
        FillSettlement::new(
            maker.is_sell,
            (maker.base_token, maker.quote_token),
            (base, quote),
            maker.maker_fee_ratio,
            taker.taker_fee_ratio,
        );
    let sub = t.sub_account_id;

    plan.debit(maker.account_id, sub, maker_sell_token, maker_gives)?;
    plan.credit(maker.account_id, sub, maker_buy_token, maker_gets - maker_fee)?;
    plan.set_order_slot(
        maker.account_id,
        sub,
        maker.slot_id,
        maker_slot.old,
        filled_slot(maker, maker_slot.available, base)?,
    );
    plan.debit(taker.account_id, sub, maker_buy_token, maker_gets)?;
    plan.credit(taker.account_id, sub, maker_sell_token, maker_gives - taker_fee)?;
    plan.set_order_slot(
        taker.account_id,
        sub,
        taker.slot_id,
        taker_slot.old,
        filled_slot(taker, taker_slot.available, base)?,
    );
    plan.credit(t.account_id, sub, maker_buy_token, maker_fee)?;
    plan.credit(t.account_id, sub, maker_sell_token, taker_fee)?;
    plan.debit(t.account_id, sub, t.fee_token, t.fee)?;
    plan.bump_nonce(t.account_id, submitter.nonce)?;
    plan.credit(FEE_ACCOUNT_ID, Default::default(), t.fee_token, t.fee)?;

    let fill = |o: &Order, ratio: u8| OrderFill {
        account_id: o.account_id,
        slot_id: o.slot_id,
        nonce: o.nonce,
        amount: o.amount,
        fee_ratio: ratio,
    };
    Ok(Op::OrderMatching(OrderMatchingOp {
        sub_account_id: sub,
        submitter: t.account_id,
        fee_token: t.fee_token,
        fee: t.fee,
        maker: fill(maker, maker.maker_fee_ratio),
        taker: fill(taker, taker.taker_fee_ratio),
        base_token: maker.base_token,
        quote_token: maker.quote_token,
        maker_is_sell: maker.is_sell,
        base_amount: base,
        quote_amount: quote,
    }))
}
