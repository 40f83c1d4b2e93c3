//! What the venue knows of the L2 and checks before it journals a placement: the account's key,
//! its balances and its order slots, each as the node last reported them **plus the venue's
//! fills the node has not applied yet**. Not part of the replayed state: after a restart it is
//! read again from the node.
//!
//! An account is read from the node when the venue first sees it, when a check would fail on
//! what the venue knew (the owner may have deposited or changed its key since), and after the
//! node refused one of its fills. The settler takes the reading between two batches and says
//! up to which fill the node had applied everything (its watermark), so the venue adds exactly the
//! fills after it ([`Ledger::install`]).
//!
//! # The checks
//! * **Key**: the order's signer is the account's current L2 key.
//! * **Slot**: the L2 slot (with the venue's unsettled fills) holds nonce `n` and residue `r`;
//!   an order must use `n` if `r = 0` (a fresh slot), else `n + 1` (it replaces the slot's
//!   order, on the venue and on L2). Continuing a partly filled order (nonce `n`, `r > 0`) is
//!   not offered: its size would be the residue, not what it signs.
//! * **Funding**: a sell commits its base amount, a buy its quote at its limit price rounded up;
//!   the account's balance must cover what its open orders commit plus the new order (an order
//!   it replaces no longer counts).

use std::collections::HashMap;

use zklink_matching::Side;
use zklink_types::api::AccountView;
use zklink_types::units::format_units;
use zklink_types::{
    AccountId, FillSettlement, Network, Order, OrderNonce, PubKeyHash, SlotId, SubAccountId, TokenId, MAX_ORDER_NONCE,
};

use crate::error::PlaceError;
use crate::venue::{FillRecord, Venue};

/// An order slot's L2 state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlotState {
    /// The nonce it holds.
    pub nonce: OrderNonce,
    /// The unfilled base amount of the order with that nonce.
    pub residue: u128,
}

impl SlotState {
    /// The slot after `order` trades `base` (the executor's rule; docs/protocol.md §7). A fill the
    /// node would refuse leaves it as it is.
    pub fn after_fill(self, order: &Order, base: u128) -> SlotState {
        let available = if self.residue != 0 && order.nonce == self.nonce {
            self.residue
        } else if (self.residue != 0 && order.nonce.0 == self.nonce.0 + 1)
            || (self.residue == 0 && order.nonce == self.nonce)
        {
            order.amount
        } else {
            return self;
        };
        let residue = available.saturating_sub(base);
        if residue > 0 {
            SlotState { nonce: order.nonce, residue }
        } else {
            SlotState { nonce: OrderNonce((order.nonce.0 + 1).min(MAX_ORDER_NONCE)), residue: 0 }
        }
    }

    /// The nonce a new order in this slot must carry.
    pub fn next_order_nonce(self) -> OrderNonce {
        if self.residue == 0 {
            self.nonce
        } else {
            OrderNonce(self.nonce.0 + 1)
        }
    }
}

/// One account as the venue sees it.
#[derive(Clone, Debug, Default)]
pub struct AccountState {
    /// Its L2 key hash.
    pub pubkey_hash: PubKeyHash,
    /// Balances of the venue's sub-account, with unsettled fills.
    pub balances: HashMap<TokenId, u128>,
    /// Its slots in the venue's sub-account, with unsettled fills (absent: nonce 0, empty).
    pub slots: HashMap<SlotId, SlotState>,
    /// Read again from the node before its next order is checked.
    pub stale: bool,
}

/// What a check needs that the venue does not know well enough: read the account again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsRefresh;

/// The venue's view of the accounts it trades for.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    sub: SubAccountId,
    accounts: HashMap<AccountId, AccountState>,
}

/// A check's outcome.
pub type Checked = Result<Result<(), PlaceError>, NeedsRefresh>;

impl Ledger {
    /// A ledger for sub-account `sub`.
    pub fn new(sub: SubAccountId) -> Ledger {
        Ledger { sub, accounts: HashMap::new() }
    }

    /// The account, if known.
    pub fn account(&self, id: AccountId) -> Option<&AccountState> {
        self.accounts.get(&id)
    }

    /// Whether `id` must be read from the node before its next order.
    pub fn needs_refresh(&self, id: AccountId) -> bool {
        self.accounts.get(&id).is_none_or(|a| a.stale)
    }

    /// Marks `id` to be read again.
    pub fn mark_stale(&mut self, id: AccountId) {
        if let Some(a) = self.accounts.get_mut(&id) {
            a.stale = true;
        }
    }

    /// Installs the node's view of account `id` (`None`: it does not exist) taken when the node had
    /// applied every fill up to `watermark`, plus the venue's fills after it.
    pub fn install(&mut self, venue: &Venue, id: AccountId, view: Option<&AccountView>, watermark: u64) {
        let Some(view) = view else {
            self.accounts.remove(&id);
            return;
        };
        let mut a = AccountState {
            pubkey_hash: parse_key_hash(&view.pubkey_hash),
            balances: HashMap::new(),
            slots: HashMap::new(),
            stale: false,
        };
        for b in view.balances.iter().filter(|b| b.sub_account == self.sub.0) {
            a.balances.insert(TokenId(b.token), b.amount.parse().unwrap_or(0));
        }
        for s in view.orders.iter().filter(|s| s.sub_account == self.sub.0) {
            a.slots.insert(
                SlotId(s.slot),
                SlotState { nonce: OrderNonce(s.nonce), residue: s.residue.parse().unwrap_or(0) },
            );
        }
        self.accounts.insert(id, a);
        let pending: Vec<FillRecord> = venue.fills_after(watermark).filter(|f| f.refused.is_none()).cloned().collect();
        for f in &pending {
            self.apply_fill_for(venue, f, Some(id));
        }
    }

    /// Applies a new fill's movements to both accounts (if known).
    pub fn on_fill(&mut self, venue: &Venue, fill: &FillRecord) {
        self.apply_fill_for(venue, fill, None);
    }

    /// The node refused `fill`: both accounts are read again before their next order.
    pub fn on_refused(&mut self, venue: &Venue, fill: &FillRecord) {
        for id in [fill.maker, fill.taker] {
            if let Some(o) = venue.order(id) {
                self.mark_stale(o.order.account_id);
            }
        }
    }

    fn apply_fill_for(&mut self, venue: &Venue, f: &FillRecord, only: Option<AccountId>) {
        let (Some(maker), Some(taker)) = (venue.order(f.maker), venue.order(f.taker)) else { return };
        let (m, t) = (&maker.order, &taker.order);
        let s = FillSettlement::new(
            m.is_sell,
            (m.base_token, m.quote_token),
            (f.base, f.quote),
            m.maker_fee_ratio,
            t.taker_fee_ratio,
        );
        let moves = [
            (m, s.maker_sell_token, s.maker_gives, s.maker_buy_token, s.maker_gets - s.maker_fee),
            (t, s.maker_buy_token, s.maker_gets, s.maker_sell_token, s.maker_gives - s.taker_fee),
        ];
        for (order, give_token, gives, get_token, gets) in moves {
            if only.is_some_and(|id| id != order.account_id) {
                continue;
            }
            let Some(a) = self.accounts.get_mut(&order.account_id) else { continue };
            let give = a.balances.entry(give_token).or_default();
            *give = give.saturating_sub(gives);
            let get = a.balances.entry(get_token).or_default();
            *get = get.saturating_add(gets);
            let slot = a.slots.entry(order.slot_id).or_default();
            *slot = slot.after_fill(order, f.base);
        }
    }

    /// The checks of a placement against the account's key, slot and balance (see the module
    /// docs). `signer` is the key hash that signed the order; `fresh`: the account was just read
    /// from the node, so a failure is final rather than a reason to read it again.
    pub fn check_place(
        &self,
        venue: &Venue,
        network: &Network,
        order: &Order,
        signer: PubKeyHash,
        fresh: bool,
    ) -> Checked {
        let refresh_or = |e: PlaceError| if fresh { Ok(Err(e)) } else { Err(NeedsRefresh) };
        let Some(a) = self.accounts.get(&order.account_id).filter(|a| !a.stale) else {
            return if fresh { Ok(Err(PlaceError::NoAccount(order.account_id))) } else { Err(NeedsRefresh) };
        };
        if a.pubkey_hash != signer {
            return refresh_or(PlaceError::BadSignature(format!(
                "the order is signed by key hash {}, account {} has key hash {}",
                key_hex(&signer),
                order.account_id,
                key_hex(&a.pubkey_hash)
            )));
        }
        let slot = a.slots.get(&order.slot_id).copied().unwrap_or_default();
        let expected = slot.next_order_nonce();
        if order.nonce != expected {
            return refresh_or(PlaceError::SlotNonce {
                slot: order.slot_id,
                slot_nonce: slot.nonce,
                residue: format_units(slot.residue, 18),
                expected: if slot.residue == 0 {
                    format!("{expected} (the slot is empty)")
                } else {
                    format!("{expected} (replacing the partly filled order)")
                },
                got: order.nonce,
            });
        }
        let (token, required) = commitment(order.is_sell, order, order.amount);
        let replaced = venue.live_in_slot(order.account_id, order.slot_id).map(|o| o.id);
        let committed: u128 = venue
            .open_orders(order.account_id)
            .filter(|o| Some(o.id) != replaced)
            .filter_map(|o| {
                let lot = venue.market(o.market)?.market.spec.lot;
                let (t, c) = commitment(o.side == Side::Sell, &o.order, lot.saturating_mul(u128::from(o.remaining.0)));
                (t == token).then_some(c)
            })
            .sum();
        let balance = a.balances.get(&token).copied().unwrap_or(0);
        let available = balance.saturating_sub(committed);
        if required > available {
            let whole = |v: u128| format_units(v, 18);
            return refresh_or(PlaceError::Unfundable {
                token,
                symbol: network.symbol(token),
                required: whole(required),
                available: whole(available),
                balance: whole(balance),
                committed: whole(committed),
            });
        }
        Ok(Ok(()))
    }
}

/// What an order of `amount` base commits: (token, amount). A sell gives base; a buy gives
/// quote at its limit price. The node computes each fill's quote as `⌊base · price / 10^18⌋` at
/// the maker's price (at most the limit), and a sum of floors is at most the floor of the sum,
/// so the floor at the limit price covers every way the order can fill.
fn commitment(is_sell: bool, order: &Order, amount: u128) -> (TokenId, u128) {
    if is_sell {
        (order.base_token, amount)
    } else {
        (order.quote_token, order.price.quote_for(amount).unwrap_or(u128::MAX))
    }
}

fn parse_key_hash(s: &str) -> PubKeyHash {
    let mut out = [0u8; 20];
    if let Ok(bytes) = hex::decode(s.trim_start_matches("0x")) {
        if bytes.len() == out.len() {
            out.copy_from_slice(&bytes);
        }
    }
    PubKeyHash(out)
}

fn key_hex(k: &PubKeyHash) -> String {
    format!("0x{}", hex::encode(k.0))
}
