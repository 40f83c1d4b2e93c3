//! A naive reference engine: each book is an unsorted `Vec` of resting orders, and every step
//! of matching searches it for the best order. Slow and obviously correct; the property tests
//! require the real engine to produce exactly its events and books.

use std::collections::BTreeMap;

use zklink_matching::{
    AccountId, CancelReason, Command, DepthLevel, Event, EventKind, Fill, MarketId, MarketSpec, NewOrder, OrderId,
    OrderType, Price, RejectReason, RestingOrder, Side, Size, StpPolicy,
};

#[derive(Clone, Debug)]
struct RefBook {
    spec: MarketSpec,
    orders: Vec<RestingOrder>,
}

/// Events with their sequence numbers, as the engine numbers them.
struct Out<'a> {
    events: &'a mut Vec<Event>,
    next_seq: &'a mut u64,
    market: MarketId,
}

impl Out<'_> {
    fn emit(&mut self, kind: EventKind) -> u64 {
        let seq = *self.next_seq;
        *self.next_seq += 1;
        self.events.push(Event { seq, market: self.market, kind });
        seq
    }
}

/// Sort key of a resting order: better price first, then older first.
fn priority(o: &RestingOrder) -> (i128, u64) {
    let price = i128::from(o.price.0);
    (if o.side == Side::Buy { -price } else { price }, o.seq)
}

fn cancelled(o: &RestingOrder, reason: CancelReason) -> EventKind {
    EventKind::Cancelled {
        order: o.id,
        account: o.account,
        side: o.side,
        price: o.price,
        remaining: o.remaining,
        reason,
    }
}

impl RefBook {
    fn sorted(&self, side: Side) -> Vec<RestingOrder> {
        let mut v: Vec<RestingOrder> = self.orders.iter().filter(|o| o.side == side).copied().collect();
        v.sort_by_key(priority);
        v
    }

    fn best(&self, side: Side) -> Option<Price> {
        self.sorted(side).first().map(|o| o.price)
    }

    fn position(&self, id: OrderId) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    /// The best resting order an incoming order may trade with, if any.
    fn best_maker(&self, o: &NewOrder) -> Option<usize> {
        (0..self.orders.len())
            .filter(|&i| self.orders[i].side != o.side && o.side.accepts(o.price, self.orders[i].price))
            .min_by_key(|&i| priority(&self.orders[i]))
    }

    /// Matches one maker at a time until the order is filled, the book runs out within its
    /// limit, or self-trade prevention stops it. Returns the unfilled size and whether it
    /// was stopped.
    fn take(&mut self, o: &NewOrder, out: &mut Out<'_>) -> (u64, bool) {
        let mut remaining = o.size.0;
        while remaining > 0 {
            let Some(i) = self.best_maker(o) else { break };
            let maker = self.orders[i];
            if maker.account == o.account {
                match self.spec.stp {
                    StpPolicy::CancelResting => {
                        out.emit(cancelled(&maker, CancelReason::SelfTradeResting));
                        self.orders.remove(i);
                        continue;
                    }
                    StpPolicy::CancelIncoming => return (remaining, true),
                    StpPolicy::CancelBoth => {
                        out.emit(cancelled(&maker, CancelReason::SelfTradeResting));
                        self.orders.remove(i);
                        return (remaining, true);
                    }
                }
            }
            let size = remaining.min(maker.remaining.0);
            remaining -= size;
            self.orders[i].remaining.0 -= size;
            out.emit(EventKind::Fill(Fill {
                maker: maker.id,
                taker: o.id,
                maker_account: maker.account,
                taker_account: o.account,
                taker_side: o.side,
                price: maker.price,
                size: Size(size),
                maker_remaining: self.orders[i].remaining,
                taker_remaining: Size(remaining),
            }));
            if self.orders[i].remaining.0 == 0 {
                self.orders.remove(i);
            }
        }
        (remaining, false)
    }

    fn place(&mut self, o: &NewOrder, out: &mut Out<'_>) {
        let reject = if o.size.0 == 0 {
            Some(RejectReason::ZeroSize)
        } else if o.size < self.spec.min_size {
            Some(RejectReason::BelowMinSize { min: self.spec.min_size })
        } else if o.price.0 == 0 {
            Some(RejectReason::ZeroPrice)
        } else if self.position(o.id).is_some() {
            Some(RejectReason::DuplicateOrderId)
        } else if o.order_type == OrderType::PostOnly {
            self.best(o.side.opposite())
                .filter(|&best| o.side.accepts(o.price, best))
                .map(|best| RejectReason::PostOnlyWouldCross { best })
        } else {
            None
        };
        if let Some(reason) = reject {
            out.emit(EventKind::Rejected { order: Some(o.id), account: o.account, reason });
            return;
        }
        let seq = out.emit(EventKind::Accepted {
            order: o.id,
            account: o.account,
            side: o.side,
            price: o.price,
            size: o.size,
            order_type: o.order_type,
        });
        let cancel = |out: &mut Out<'_>, remaining: u64, reason: CancelReason| {
            out.emit(EventKind::Cancelled {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                remaining: Size(remaining),
                reason,
            });
        };
        if o.order_type == OrderType::Fok {
            // Fill or kill: try on a copy; go ahead only if the copy filled completely.
            let mut trial = self.clone();
            let (mut scratch, mut scratch_seq) = (Vec::new(), 0);
            let (left, _) =
                trial.take(o, &mut Out { events: &mut scratch, next_seq: &mut scratch_seq, market: out.market });
            if left > 0 {
                cancel(out, o.size.0, CancelReason::FillOrKill);
                return;
            }
        }
        let (remaining, stopped) =
            if o.order_type == OrderType::PostOnly { (o.size.0, false) } else { self.take(o, out) };
        if remaining == 0 {
            return;
        }
        if stopped {
            cancel(out, remaining, CancelReason::SelfTradeIncoming);
        } else if matches!(o.order_type, OrderType::Limit | OrderType::PostOnly) {
            self.orders.push(RestingOrder {
                id: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                remaining: Size(remaining),
                seq,
            });
            out.emit(EventKind::Rested {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                size: Size(remaining),
            });
        } else {
            assert_ne!(o.order_type, OrderType::Fok, "a FOK order that passed its check filled completely");
            cancel(out, remaining, CancelReason::ImmediateOrCancel);
        }
    }

    fn owned(&self, id: OrderId, account: AccountId) -> Result<usize, RejectReason> {
        let i = self.position(id).ok_or(RejectReason::UnknownOrder)?;
        if self.orders[i].account != account {
            return Err(RejectReason::NotOwner);
        }
        Ok(i)
    }

    fn cancel(&mut self, id: OrderId, account: AccountId, out: &mut Out<'_>) {
        match self.owned(id, account) {
            Ok(i) => {
                out.emit(cancelled(&self.orders[i], CancelReason::User));
                self.orders.remove(i);
            }
            Err(reason) => {
                out.emit(EventKind::Rejected { order: Some(id), account, reason });
            }
        }
    }

    fn reduce(&mut self, id: OrderId, account: AccountId, by: Size, out: &mut Out<'_>) {
        let i = match self.owned(id, account) {
            Ok(_) if by.0 == 0 => Err(RejectReason::ZeroSize),
            other => other,
        };
        let i = match i {
            Ok(i) => i,
            Err(reason) => {
                out.emit(EventKind::Rejected { order: Some(id), account, reason });
                return;
            }
        };
        let o = self.orders[i];
        if by >= o.remaining {
            out.emit(cancelled(&o, CancelReason::User));
            self.orders.remove(i);
            return;
        }
        self.orders[i].remaining.0 -= by.0;
        out.emit(EventKind::Reduced {
            order: id,
            account,
            side: o.side,
            price: o.price,
            by,
            remaining: self.orders[i].remaining,
        });
    }

    /// A restore: the checks in the documented order, then growth in place, or matching as a
    /// limit order and the rest pushed with its old priority (the sort by priority puts it in
    /// its place).
    fn restore(&mut self, o: &NewOrder, priority: u64, out: &mut Out<'_>) {
        let resting = self.position(o.id);
        let reject = if o.size.0 == 0 {
            Some(RejectReason::ZeroSize)
        } else if o.price.0 == 0 {
            Some(RejectReason::ZeroPrice)
        } else if priority == 0 || priority >= *out.next_seq {
            Some(RejectReason::InvalidPriority)
        } else if let Some(i) = resting {
            let r = self.orders[i];
            if r.account != o.account {
                Some(RejectReason::NotOwner)
            } else if (r.side, r.price, r.seq) != (o.side, o.price, priority) {
                Some(RejectReason::RestoreMismatch)
            } else if r.remaining.0.checked_add(o.size.0).is_none() {
                Some(RejectReason::SizeOverflow)
            } else {
                None
            }
        } else if self
            .orders
            .iter()
            .any(|r| r.seq == priority && (r.account == o.account || (r.side, r.price) == (o.side, o.price)))
        {
            Some(RejectReason::PriorityInUse)
        } else {
            None
        };
        if let Some(reason) = reject {
            out.emit(EventKind::Rejected { order: Some(o.id), account: o.account, reason });
            return;
        }
        let restored = |out: &mut Out<'_>, size: u64, remaining: u64| {
            out.emit(EventKind::Restored {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                size: Size(size),
                remaining: Size(remaining),
                priority,
            });
        };
        if let Some(i) = resting {
            self.orders[i].remaining.0 += o.size.0;
            restored(out, o.size.0, self.orders[i].remaining.0);
            return;
        }
        let (remaining, stopped) = self.take(o, out);
        if remaining == 0 {
            return;
        }
        if stopped {
            out.emit(EventKind::Cancelled {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                remaining: Size(remaining),
                reason: CancelReason::SelfTradeIncoming,
            });
            return;
        }
        self.orders.push(RestingOrder {
            id: o.id,
            account: o.account,
            side: o.side,
            price: o.price,
            remaining: Size(remaining),
            seq: priority,
        });
        restored(out, remaining, remaining);
    }

    fn cancel_all(&mut self, account: AccountId, out: &mut Out<'_>) {
        let mut mine: Vec<RestingOrder> = self.orders.iter().filter(|o| o.account == account).copied().collect();
        mine.sort_by_key(|o| o.seq);
        for o in mine {
            out.emit(cancelled(&o, CancelReason::User));
            self.orders.retain(|x| x.id != o.id);
        }
    }
}

/// The reference engine.
#[derive(Clone, Debug)]
pub struct RefEngine {
    markets: BTreeMap<MarketId, RefBook>,
    next_seq: u64,
}

impl RefEngine {
    pub fn new(markets: &[(MarketId, MarketSpec)]) -> RefEngine {
        let markets = markets.iter().map(|&(id, spec)| (id, RefBook { spec, orders: Vec::new() })).collect();
        RefEngine { markets, next_seq: 1 }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn execute(&mut self, cmd: &Command) -> Vec<Event> {
        let mut events = Vec::new();
        let next_seq = &mut self.next_seq;
        let (market, order) = match *cmd {
            Command::CancelAll { account, market: None } => {
                for (&market, book) in &mut self.markets {
                    book.cancel_all(account, &mut Out { events: &mut events, next_seq: &mut *next_seq, market });
                }
                return events;
            }
            Command::Place(o) => (o.market, Some(o.id)),
            Command::Cancel { market, order, .. }
            | Command::Reduce { market, order, .. }
            | Command::Restore { market, order, .. } => (market, Some(order)),
            Command::CancelAll { market: Some(market), .. } => (market, None),
        };
        let mut out = Out { events: &mut events, next_seq, market };
        let Some(book) = self.markets.get_mut(&market) else {
            out.emit(EventKind::Rejected { order, account: cmd.account(), reason: RejectReason::UnknownMarket });
            return events;
        };
        match *cmd {
            Command::Place(ref o) => book.place(o, &mut out),
            Command::Cancel { order, account, .. } => book.cancel(order, account, &mut out),
            Command::Reduce { order, account, by, .. } => book.reduce(order, account, by, &mut out),
            Command::Restore { market, order, account, side, price, size, priority } => book.restore(
                &NewOrder { market, id: order, account, side, price, size, order_type: OrderType::Limit },
                priority,
                &mut out,
            ),
            Command::CancelAll { account, .. } => book.cancel_all(account, &mut out),
        }
        events
    }

    /// A side's resting orders in priority order.
    pub fn orders(&self, market: MarketId, side: Side) -> Vec<RestingOrder> {
        self.markets[&market].sorted(side)
    }

    /// An account's resting orders in a market, in priority order.
    pub fn account_orders(&self, market: MarketId, account: AccountId) -> Vec<RestingOrder> {
        let mut v: Vec<RestingOrder> =
            self.markets[&market].orders.iter().filter(|o| o.account == account).copied().collect();
        v.sort_by_key(|o| o.seq);
        v
    }

    /// The best `n` levels of a side.
    pub fn depth(&self, market: MarketId, side: Side, n: usize) -> Vec<DepthLevel> {
        let mut levels: Vec<DepthLevel> = Vec::new();
        for o in self.orders(market, side) {
            match levels.last_mut() {
                Some(l) if l.price == o.price => {
                    l.size += u128::from(o.remaining.0);
                    l.orders += 1;
                }
                _ => levels.push(DepthLevel { price: o.price, size: u128::from(o.remaining.0), orders: 1 }),
            }
        }
        levels.truncate(n);
        levels
    }
}
