//! One market's limit order book and its matching.
//!
//! Layout (see the crate docs for why):
//! * resting orders live in a slab (`Vec<Node>` with a free list), each node in two intrusive
//!   doubly linked lists: its price level's queue and its account's list, both in priority
//!   order (oldest first; an order joins at the back, a restored one at its priority's place);
//! * price levels live in a second slab; each side keeps a `BTreeMap<Price, level index>`
//!   (bids read from the back, asks from the front);
//! * an `OrderId → node` hash map (fixed hasher, point lookups only) finds an order to cancel
//!   or reduce, and an `AccountId → list ends` map finds an account's orders.
//!
//! Priorities (sequence numbers) strictly increase along every queue and every account's list,
//! which is all the order of the book depends on. They are not checked unique across queues
//! and accounts: a restore brings its own priority, which the engine cannot tell from a wrong
//! one, and checking it against every resting order would cost a walk of the whole book (see
//! [`RejectReason::PriorityInUse`]); a wrong one can only collide with an order at another
//! price and of another account, which changes no order the book keeps.

use std::collections::{btree_map, BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::iter::Rev;
use std::mem::size_of;

use serde::{Deserialize, Serialize};

use crate::command::NewOrder;
use crate::event::{CancelReason, Event, EventKind, Fill, RejectReason};
use crate::snapshot::{put_u128, put_u32, put_u64, put_u8, stp_code, stp_from_code, Reader, SnapshotError};
use crate::types::{AccountId, MarketId, MarketSpec, OrderId, OrderType, Price, Side, Size, StpPolicy};

/// "No node / no level" in the intrusive lists.
const NIL: u32 = u32::MAX;

/// A fixed, fast hasher for the small integer keys of the lookup maps.
///
/// The maps are only used for point lookups (never iterated), so the hasher cannot leak into
/// the output; it is fixed so that nothing depends on a random seed. The keys are order ids and
/// account ids chosen by the exchange, not by an attacker, so a keyed hash is not needed.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl IdHasher {
    fn mix(&mut self, v: u64) {
        // A folded 64×64→128 multiply by an odd constant: every input bit reaches both the low
        // bits (the bucket) and the high bits (the control byte) of the hash.
        let m = u128::from(self.0 ^ v) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }

    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
}

type FixedState = BuildHasherDefault<IdHasher>;

/// A resting order.
#[derive(Clone, Copy, Debug)]
struct Node {
    id: OrderId,
    remaining: u64,
    /// Its time priority: the sequence number of its `Accepted` event (a restored order's is
    /// the one it was restored with, its original).
    seq: u64,
    account: AccountId,
    level: u32,
    prev: u32,
    next: u32,
    acct_prev: u32,
    acct_next: u32,
}

/// A price level: a FIFO queue of nodes. In the free list, `head` links free levels.
#[derive(Clone, Copy, Debug)]
struct Level {
    price: Price,
    total: u128,
    head: u32,
    tail: u32,
    count: u32,
    side: Side,
}

/// The two ends of an account's list of resting orders (in priority order, oldest first).
#[derive(Clone, Copy, Debug)]
struct AccountOrders {
    head: u32,
    tail: u32,
}

/// A resting order, as the queries return it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RestingOrder {
    /// Its id.
    pub id: OrderId,
    /// Its owner.
    pub account: AccountId,
    /// Its side.
    pub side: Side,
    /// Its price.
    pub price: Price,
    /// What is left of it.
    pub remaining: Size,
    /// Its time priority: the sequence number of its `Accepted` event (for an order given back
    /// by [`Command::Restore`](crate::Command::Restore), the priority it was restored with).
    pub seq: u64,
}

/// One price level of a depth snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DepthLevel {
    /// The price.
    pub price: Price,
    /// The total remaining size resting at it, in lots (a sum of u64 sizes, hence 128 bits).
    pub size: u128,
    /// How many orders rest at it.
    pub orders: u32,
}

/// Appends events with consecutive global sequence numbers.
pub(crate) struct Emitter<'a> {
    pub(crate) out: &'a mut Vec<Event>,
    pub(crate) next_seq: &'a mut u64,
    pub(crate) market: MarketId,
}

impl Emitter<'_> {
    /// Appends one event and returns its sequence number.
    pub(crate) fn emit(&mut self, kind: EventKind) -> u64 {
        let seq = *self.next_seq;
        *self.next_seq += 1;
        self.out.push(Event { seq, market: self.market, kind });
        seq
    }
}

/// A side's levels, best price first.
enum LevelIter<'a> {
    Bids(Rev<btree_map::Iter<'a, Price, u32>>),
    Asks(btree_map::Iter<'a, Price, u32>),
}

impl Iterator for LevelIter<'_> {
    type Item = (Price, u32);

    fn next(&mut self) -> Option<(Price, u32)> {
        match self {
            LevelIter::Bids(it) => it.next(),
            LevelIter::Asks(it) => it.next(),
        }
        .map(|(p, l)| (*p, *l))
    }
}

/// One market's limit order book: price-time priority, integer ticks and lots.
///
/// Built and driven by the [`Engine`](crate::Engine); the queries are public.
#[derive(Clone, Debug)]
pub struct OrderBook {
    market: MarketId,
    spec: MarketSpec,
    nodes: Vec<Node>,
    free_node: u32,
    levels: Vec<Level>,
    free_level: u32,
    bids: BTreeMap<Price, u32>,
    asks: BTreeMap<Price, u32>,
    index: HashMap<OrderId, u32, FixedState>,
    accounts: HashMap<AccountId, AccountOrders, FixedState>,
}

impl OrderBook {
    pub(crate) fn new(market: MarketId, spec: MarketSpec) -> OrderBook {
        OrderBook {
            market,
            spec,
            nodes: Vec::new(),
            free_node: NIL,
            levels: Vec::new(),
            free_level: NIL,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            index: HashMap::default(),
            accounts: HashMap::default(),
        }
    }

    /// Makes room for `orders` more resting orders without reallocating the slab or the id
    /// index (whose growth copies every entry once, a pause of milliseconds at 100k orders).
    pub(crate) fn reserve(&mut self, orders: usize) {
        self.nodes.reserve(orders);
        self.index.reserve(orders);
    }

    // ----- queries -----

    /// The market's id.
    pub fn market(&self) -> MarketId {
        self.market
    }

    /// The market's grid and rules.
    pub fn spec(&self) -> &MarketSpec {
        &self.spec
    }

    /// How many orders rest in the book.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no order rests in the book.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The highest bid price.
    pub fn best_bid(&self) -> Option<Price> {
        self.best_level(Side::Buy).map(|(p, _)| p)
    }

    /// The lowest ask price.
    pub fn best_ask(&self) -> Option<Price> {
        self.best_level(Side::Sell).map(|(p, _)| p)
    }

    /// How many price levels a side has.
    pub fn level_count(&self, side: Side) -> usize {
        self.side_map(side).len()
    }

    /// One price level of a side (its total and order count), if an order rests there.
    pub fn level(&self, side: Side, price: Price) -> Option<DepthLevel> {
        self.side_map(side).get(&price).map(|&l| {
            let level = &self.levels[l as usize];
            DepthLevel { price, size: level.total, orders: level.count }
        })
    }

    /// Why placing `o` now would be refused (the checks [`Command::Place`](crate::Command::Place)
    /// makes first: size, minimum, price, a live id, a post-only order that would cross), without
    /// placing it.
    pub fn would_refuse(&self, o: &NewOrder) -> Option<RejectReason> {
        self.refusal(o)
    }

    /// Whether `o` would fill completely at once now (what a fill-or-kill order needs), with the
    /// market's self-trade policy.
    pub fn fills_completely(&self, o: &NewOrder) -> bool {
        self.fok_fillable(o)
    }

    /// The best `levels` price levels of a side, best first.
    pub fn depth(&self, side: Side, levels: usize) -> Vec<DepthLevel> {
        self.levels_best_first(side)
            .take(levels)
            .map(|(price, l)| {
                let level = &self.levels[l as usize];
                DepthLevel { price, size: level.total, orders: level.count }
            })
            .collect()
    }

    /// A resting order.
    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.index.get(&id).map(|&n| self.resting(n))
    }

    /// What is left of a resting order.
    pub fn remaining(&self, id: OrderId) -> Option<Size> {
        self.index.get(&id).map(|&n| Size(self.nodes[n as usize].remaining))
    }

    /// A side's resting orders in priority order: best price first, oldest first within a price.
    pub fn orders(&self, side: Side) -> impl Iterator<Item = RestingOrder> + '_ {
        self.levels_best_first(side).flat_map(move |(_, l)| {
            let mut cur = self.levels[l as usize].head;
            std::iter::from_fn(move || {
                (cur != NIL).then(|| {
                    let n = cur;
                    cur = self.nodes[n as usize].next;
                    self.resting(n)
                })
            })
        })
    }

    /// An account's resting orders in this book, in priority order (oldest first).
    pub fn account_orders(&self, account: AccountId) -> impl Iterator<Item = RestingOrder> + '_ {
        let mut cur = self.accounts.get(&account).map_or(NIL, |a| a.head);
        std::iter::from_fn(move || {
            (cur != NIL).then(|| {
                let n = cur;
                cur = self.nodes[n as usize].acct_next;
                self.resting(n)
            })
        })
    }

    /// Bytes the book holds for its current capacity: the node and level slabs, the two hash
    /// maps (a map of capacity c has 8c/7 buckets, each an entry and a control byte) and the
    /// level maps (estimated at 24 bytes per entry, a B-tree leaf's share). An estimate of the
    /// heap, not an allocator measurement.
    pub fn memory_bytes(&self) -> usize {
        let nodes = self.nodes.capacity() * size_of::<Node>();
        let levels = self.levels.capacity() * size_of::<Level>();
        let index = self.index.capacity() * 8 / 7 * (size_of::<(OrderId, u32)>() + 1);
        let accounts = self.accounts.capacity() * 8 / 7 * (size_of::<(AccountId, AccountOrders)>() + 1);
        let trees = (self.bids.len() + self.asks.len()) * 24;
        size_of::<OrderBook>() + nodes + levels + index + accounts + trees
    }

    /// Bytes of one resting order's node in the slab.
    pub fn node_bytes() -> usize {
        size_of::<Node>()
    }

    fn resting(&self, n: u32) -> RestingOrder {
        let node = &self.nodes[n as usize];
        let level = &self.levels[node.level as usize];
        RestingOrder {
            id: node.id,
            account: node.account,
            side: level.side,
            price: level.price,
            remaining: Size(node.remaining),
            seq: node.seq,
        }
    }

    fn side_map(&self, side: Side) -> &BTreeMap<Price, u32> {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn best_level(&self, side: Side) -> Option<(Price, u32)> {
        match side {
            Side::Buy => self.bids.last_key_value(),
            Side::Sell => self.asks.first_key_value(),
        }
        .map(|(p, l)| (*p, *l))
    }

    fn levels_best_first(&self, side: Side) -> LevelIter<'_> {
        match side {
            Side::Buy => LevelIter::Bids(self.bids.iter().rev()),
            Side::Sell => LevelIter::Asks(self.asks.iter()),
        }
    }

    // ----- commands -----

    /// Validates, matches and rests (or cancels the rest of) a new order.
    pub(crate) fn place(&mut self, o: &NewOrder, em: &mut Emitter<'_>) {
        if let Some(reason) = self.refusal(o) {
            em.emit(EventKind::Rejected { order: Some(o.id), account: o.account, reason });
            return;
        }
        let seq = em.emit(EventKind::Accepted {
            order: o.id,
            account: o.account,
            side: o.side,
            price: o.price,
            size: o.size,
            order_type: o.order_type,
        });
        let cancel = |em: &mut Emitter<'_>, remaining: u64, reason: CancelReason| {
            em.emit(EventKind::Cancelled {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                remaining: Size(remaining),
                reason,
            });
        };
        if o.order_type == OrderType::Fok && !self.fok_fillable(o) {
            cancel(em, o.size.0, CancelReason::FillOrKill);
            return;
        }
        // A post-only order that got here does not cross: nothing to take.
        let (remaining, self_trade) =
            if o.order_type == OrderType::PostOnly { (o.size.0, false) } else { self.take(o, em) };
        if remaining == 0 {
            return;
        }
        if self_trade {
            cancel(em, remaining, CancelReason::SelfTradeIncoming);
            return;
        }
        match o.order_type {
            OrderType::Limit | OrderType::PostOnly => {
                self.rest(o.id, o.account, o.side, o.price, remaining, seq);
                em.emit(EventKind::Rested {
                    order: o.id,
                    account: o.account,
                    side: o.side,
                    price: o.price,
                    size: Size(remaining),
                });
            }
            OrderType::Ioc | OrderType::Market => cancel(em, remaining, CancelReason::ImmediateOrCancel),
            // `fok_fillable` walked exactly what `take` walks: a FOK that starts fills completely.
            OrderType::Fok => {
                debug_assert!(false, "a fill-or-kill order was left with {remaining} lots");
                cancel(em, remaining, CancelReason::FillOrKill);
            }
        }
    }

    /// Why a new order is refused, checked in this order: size, minimum size, price, a live
    /// order with the same id, a post-only order that would cross.
    fn refusal(&self, o: &NewOrder) -> Option<RejectReason> {
        if o.size.0 == 0 {
            return Some(RejectReason::ZeroSize);
        }
        if o.size < self.spec.min_size {
            return Some(RejectReason::BelowMinSize { min: self.spec.min_size });
        }
        if o.price.0 == 0 {
            return Some(RejectReason::ZeroPrice);
        }
        if self.index.contains_key(&o.id) {
            return Some(RejectReason::DuplicateOrderId);
        }
        if o.order_type == OrderType::PostOnly {
            if let Some((best, _)) = self.best_level(o.side.opposite()) {
                if o.side.accepts(o.price, best) {
                    return Some(RejectReason::PostOnlyWouldCross { best });
                }
            }
        }
        None
    }

    /// Whether a fill-or-kill order would fill completely: the opposite side's size within its
    /// limit, in priority order, counting the account's own orders as the self-trade policy
    /// will treat them (skipped when they are cancelled, the end of the walk when they stop
    /// the incoming order).
    fn fok_fillable(&self, o: &NewOrder) -> bool {
        let need = u128::from(o.size.0);
        let mut have = 0u128;
        let has_own = self.accounts.contains_key(&o.account);
        for (price, l) in self.levels_best_first(o.side.opposite()) {
            if !o.side.accepts(o.price, price) {
                break;
            }
            let level = &self.levels[l as usize];
            if !has_own {
                have += level.total;
            } else {
                let mut cur = level.head;
                while cur != NIL {
                    let node = &self.nodes[cur as usize];
                    if node.account == o.account {
                        if self.spec.stp != StpPolicy::CancelResting {
                            return false;
                        }
                    } else {
                        have += u128::from(node.remaining);
                        if have >= need {
                            return true;
                        }
                    }
                    cur = node.next;
                }
            }
            if have >= need {
                return true;
            }
        }
        false
    }

    /// Matches an incoming order against the opposite side. Returns its unfilled size and
    /// whether self-trade prevention stopped it.
    fn take(&mut self, o: &NewOrder, em: &mut Emitter<'_>) -> (u64, bool) {
        let mut remaining = o.size.0;
        let opposite = o.side.opposite();
        while remaining > 0 {
            let Some((price, l)) = self.best_level(opposite) else { break };
            if !o.side.accepts(o.price, price) {
                break;
            }
            let mut cur = self.levels[l as usize].head;
            while cur != NIL && remaining > 0 {
                let maker = self.nodes[cur as usize];
                if maker.account == o.account {
                    match self.spec.stp {
                        StpPolicy::CancelResting => self.cancel_node(cur, CancelReason::SelfTradeResting, em),
                        StpPolicy::CancelIncoming => return (remaining, true),
                        StpPolicy::CancelBoth => {
                            self.cancel_node(cur, CancelReason::SelfTradeResting, em);
                            return (remaining, true);
                        }
                    }
                } else {
                    let size = remaining.min(maker.remaining);
                    remaining -= size;
                    let maker_remaining = maker.remaining - size;
                    self.nodes[cur as usize].remaining = maker_remaining;
                    self.levels[l as usize].total -= u128::from(size);
                    em.emit(EventKind::Fill(Fill {
                        maker: maker.id,
                        taker: o.id,
                        maker_account: maker.account,
                        taker_account: o.account,
                        taker_side: o.side,
                        price,
                        size: Size(size),
                        maker_remaining: Size(maker_remaining),
                        taker_remaining: Size(remaining),
                    }));
                    if maker_remaining == 0 {
                        self.remove(cur);
                    }
                }
                cur = maker.next;
            }
        }
        (remaining, false)
    }

    /// The owner cancels a resting order.
    pub(crate) fn cancel(&mut self, id: OrderId, account: AccountId, em: &mut Emitter<'_>) {
        match self.owned(id, account) {
            Ok(n) => self.cancel_node(n, CancelReason::User, em),
            Err(reason) => {
                em.emit(EventKind::Rejected { order: Some(id), account, reason });
            }
        }
    }

    /// The owner reduces a resting order by `by` lots in place (or cancels it if that is all of it).
    pub(crate) fn reduce(&mut self, id: OrderId, account: AccountId, by: Size, em: &mut Emitter<'_>) {
        let n = match self.owned(id, account) {
            Ok(_) if by.0 == 0 => Err(RejectReason::ZeroSize),
            other => other,
        };
        let n = match n {
            Ok(n) => n,
            Err(reason) => {
                em.emit(EventKind::Rejected { order: Some(id), account, reason });
                return;
            }
        };
        let node = self.nodes[n as usize];
        if by.0 >= node.remaining {
            self.cancel_node(n, CancelReason::User, em);
            return;
        }
        let remaining = node.remaining - by.0;
        self.nodes[n as usize].remaining = remaining;
        let level = &mut self.levels[node.level as usize];
        level.total -= u128::from(by.0);
        em.emit(EventKind::Reduced {
            order: id,
            account,
            side: level.side,
            price: level.price,
            by,
            remaining: Size(remaining),
        });
    }

    /// Gives an order `o.size` lots back at time priority `priority`
    /// ([`Command::Restore`](crate::Command::Restore); `o` is the order as a limit order). A
    /// resting order grows in place; an order not in the book first takes what its price
    /// crosses (the path of a new order: [`OrderBook::take`]), then its rest enters its
    /// level's queue and its account's list at its priority's place.
    pub(crate) fn restore(&mut self, o: &NewOrder, priority: u64, em: &mut Emitter<'_>) {
        let resting = match self.restore_refusal(o, priority, *em.next_seq) {
            Ok(resting) => resting,
            Err(reason) => {
                em.emit(EventKind::Rejected { order: Some(o.id), account: o.account, reason });
                return;
            }
        };
        let restored = |em: &mut Emitter<'_>, size: u64, remaining: u64| {
            em.emit(EventKind::Restored {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                size: Size(size),
                remaining: Size(remaining),
                priority,
            });
        };
        if let Some(n) = resting {
            // Checked in `restore_refusal`: this does not overflow.
            let remaining = self.nodes[n as usize].remaining + o.size.0;
            self.nodes[n as usize].remaining = remaining;
            self.levels[self.nodes[n as usize].level as usize].total += u128::from(o.size.0);
            restored(em, o.size.0, remaining);
            return;
        }
        let (remaining, self_trade) = self.take(o, em);
        if remaining == 0 {
            return;
        }
        if self_trade {
            em.emit(EventKind::Cancelled {
                order: o.id,
                account: o.account,
                side: o.side,
                price: o.price,
                remaining: Size(remaining),
                reason: CancelReason::SelfTradeIncoming,
            });
            return;
        }
        self.insert(o.id, o.account, o.side, o.price, remaining, priority);
        restored(em, remaining, remaining);
    }

    /// Why a restore is refused, checked in this order: size, price, priority (≥ 1, below
    /// `next_seq`); then, for an order that rests, its owner, its side, price and priority,
    /// and the size it would reach; for one that does not, that no resting order at its side and
    /// price or of its account holds the priority. Otherwise the node of the resting order, if
    /// it rests.
    fn restore_refusal(&self, o: &NewOrder, priority: u64, next_seq: u64) -> Result<Option<u32>, RejectReason> {
        if o.size.0 == 0 {
            return Err(RejectReason::ZeroSize);
        }
        if o.price.0 == 0 {
            return Err(RejectReason::ZeroPrice);
        }
        if priority == 0 || priority >= next_seq {
            return Err(RejectReason::InvalidPriority);
        }
        if let Some(&n) = self.index.get(&o.id) {
            let node = &self.nodes[n as usize];
            if node.account != o.account {
                return Err(RejectReason::NotOwner);
            }
            let level = &self.levels[node.level as usize];
            if level.side != o.side || level.price != o.price || node.seq != priority {
                return Err(RejectReason::RestoreMismatch);
            }
            if node.remaining.checked_add(o.size.0).is_none() {
                return Err(RejectReason::SizeOverflow);
            }
            return Ok(Some(n));
        }
        let level_tail = self.side_map(o.side).get(&o.price).map_or(NIL, |&l| self.levels[l as usize].tail);
        let account_tail = self.accounts.get(&o.account).map_or(NIL, |a| a.tail);
        if self.insertion_point(level_tail, priority, |n| n.prev).1
            || self.insertion_point(account_tail, priority, |n| n.acct_prev).1
        {
            return Err(RejectReason::PriorityInUse);
        }
        Ok(None)
    }

    /// Walks a list (a level's queue or an account's list, by `prev`) back from `tail` to the
    /// last node with a priority not above `priority`: the node an order with `priority`
    /// goes after (`NIL`: the front), and whether that node holds `priority` itself.
    fn insertion_point(&self, tail: u32, priority: u64, prev: impl Fn(&Node) -> u32) -> (u32, bool) {
        let mut cur = tail;
        while cur != NIL {
            let node = &self.nodes[cur as usize];
            if node.seq <= priority {
                return (cur, node.seq == priority);
            }
            cur = prev(node);
        }
        (NIL, false)
    }

    /// Cancels every resting order of an account, in priority order (oldest first).
    pub(crate) fn cancel_all(&mut self, account: AccountId, em: &mut Emitter<'_>) {
        let mut cur = self.accounts.get(&account).map_or(NIL, |a| a.head);
        while cur != NIL {
            let next = self.nodes[cur as usize].acct_next;
            self.cancel_node(cur, CancelReason::User, em);
            cur = next;
        }
    }

    /// The node of a resting order that `account` owns.
    fn owned(&self, id: OrderId, account: AccountId) -> Result<u32, RejectReason> {
        let &n = self.index.get(&id).ok_or(RejectReason::UnknownOrder)?;
        if self.nodes[n as usize].account != account {
            return Err(RejectReason::NotOwner);
        }
        Ok(n)
    }

    fn cancel_node(&mut self, n: u32, reason: CancelReason, em: &mut Emitter<'_>) {
        let order = self.resting(n);
        em.emit(EventKind::Cancelled {
            order: order.id,
            account: order.account,
            side: order.side,
            price: order.price,
            remaining: order.remaining,
            reason,
        });
        self.remove(n);
    }

    // ----- the lists -----

    /// The level of a side at a price, made (empty) if there is none.
    #[inline]
    fn level_at(&mut self, side: Side, price: Price) -> u32 {
        match self.side_map(side).get(&price) {
            Some(&l) => l,
            None => {
                let level = Level { price, total: 0, head: NIL, tail: NIL, count: 0, side };
                let l = if self.free_level == NIL {
                    self.levels.push(level);
                    slab_index(self.levels.len() - 1)
                } else {
                    let l = self.free_level;
                    self.free_level = self.levels[l as usize].head;
                    self.levels[l as usize] = level;
                    l
                };
                match side {
                    Side::Buy => self.bids.insert(price, l),
                    Side::Sell => self.asks.insert(price, l),
                };
                l
            }
        }
    }

    /// Puts a node in the slab (reusing a freed one) and returns its position.
    #[inline]
    fn alloc(&mut self, node: Node) -> u32 {
        if self.free_node == NIL {
            self.nodes.push(node);
            slab_index(self.nodes.len() - 1)
        } else {
            let n = self.free_node;
            self.free_node = self.nodes[n as usize].next;
            self.nodes[n as usize] = node;
            n
        }
    }

    /// Puts an order at the back of its price level's queue and of its account's list (its
    /// priority `seq` is above every priority in both).
    fn rest(&mut self, id: OrderId, account: AccountId, side: Side, price: Price, size: u64, seq: u64) {
        let l = self.level_at(side, price);
        let level_tail = self.levels[l as usize].tail;
        let account_tail = self.accounts.get(&account).map_or(NIL, |a| a.tail);
        let node = Node {
            id,
            remaining: size,
            seq,
            account,
            level: l,
            prev: level_tail,
            next: NIL,
            acct_prev: account_tail,
            acct_next: NIL,
        };
        let n = self.alloc(node);
        let level = &mut self.levels[l as usize];
        if level_tail == NIL {
            level.head = n;
        } else {
            self.nodes[level_tail as usize].next = n;
        }
        level.tail = n;
        level.count += 1;
        level.total += u128::from(size);
        match self.accounts.get_mut(&account) {
            Some(a) => {
                self.nodes[a.tail as usize].acct_next = n;
                a.tail = n;
            }
            None => {
                self.accounts.insert(account, AccountOrders { head: n, tail: n });
            }
        }
        self.index.insert(id, n);
    }

    /// Puts an order into its price level's queue and its account's list at the places its
    /// priority `seq` gives (after every order with a smaller priority, before every one with
    /// a larger), walking both back from their tails. No order in either holds `seq`.
    fn insert(&mut self, id: OrderId, account: AccountId, side: Side, price: Price, size: u64, seq: u64) {
        let l = self.level_at(side, price);
        let (prev, taken) = self.insertion_point(self.levels[l as usize].tail, seq, |n| n.prev);
        debug_assert!(!taken, "priority {seq} is in the queue");
        let next = if prev == NIL { self.levels[l as usize].head } else { self.nodes[prev as usize].next };
        let ends = self.accounts.get(&account).copied();
        let (acct_prev, taken) = self.insertion_point(ends.map_or(NIL, |a| a.tail), seq, |n| n.acct_prev);
        debug_assert!(!taken, "priority {seq} is in the account's list");
        let acct_next = match ends {
            _ if acct_prev != NIL => self.nodes[acct_prev as usize].acct_next,
            Some(a) => a.head,
            None => NIL,
        };
        let n = self.alloc(Node { id, remaining: size, seq, account, level: l, prev, next, acct_prev, acct_next });
        let level = &mut self.levels[l as usize];
        if prev == NIL {
            level.head = n;
        } else {
            self.nodes[prev as usize].next = n;
        }
        if next == NIL {
            level.tail = n;
        } else {
            self.nodes[next as usize].prev = n;
        }
        level.count += 1;
        level.total += u128::from(size);
        let a = self.accounts.entry(account).or_insert(AccountOrders { head: n, tail: n });
        if acct_prev == NIL {
            a.head = n;
        } else {
            self.nodes[acct_prev as usize].acct_next = n;
        }
        if acct_next == NIL {
            a.tail = n;
        } else {
            self.nodes[acct_next as usize].acct_prev = n;
        }
        self.index.insert(id, n);
    }

    /// Takes a node out of its level (dropping the level when it empties), its account's list
    /// and the index, and frees it.
    fn remove(&mut self, n: u32) {
        let node = self.nodes[n as usize];
        let level = &mut self.levels[node.level as usize];
        level.total -= u128::from(node.remaining);
        level.count -= 1;
        if node.prev == NIL {
            level.head = node.next;
        } else {
            self.nodes[node.prev as usize].next = node.next;
        }
        if node.next == NIL {
            level.tail = node.prev;
        } else {
            self.nodes[node.next as usize].prev = node.prev;
        }
        if level.count == 0 {
            let (price, side) = (level.price, level.side);
            level.head = self.free_level;
            self.free_level = node.level;
            match side {
                Side::Buy => self.bids.remove(&price),
                Side::Sell => self.asks.remove(&price),
            };
        }
        if node.acct_prev != NIL {
            self.nodes[node.acct_prev as usize].acct_next = node.acct_next;
        }
        if node.acct_next != NIL {
            self.nodes[node.acct_next as usize].acct_prev = node.acct_prev;
        }
        if node.acct_prev == NIL && node.acct_next == NIL {
            self.accounts.remove(&node.account);
        } else if node.acct_prev == NIL || node.acct_next == NIL {
            if let Some(a) = self.accounts.get_mut(&node.account) {
                if node.acct_prev == NIL {
                    a.head = node.acct_next;
                }
                if node.acct_next == NIL {
                    a.tail = node.acct_prev;
                }
            }
        }
        self.index.remove(&node.id);
        self.nodes[n as usize].next = self.free_node;
        self.free_node = n;
    }

    // ----- snapshot -----

    /// Appends the book in the canonical layout (see [`crate::snapshot`]).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u128(out, self.spec.tick);
        put_u128(out, self.spec.lot);
        put_u64(out, self.spec.min_size.0);
        put_u8(out, stp_code(self.spec.stp));
        for side in [Side::Buy, Side::Sell] {
            let count: u64 = self.side_map(side).values().map(|&l| u64::from(self.levels[l as usize].count)).sum();
            put_u64(out, count);
            for o in self.orders(side) {
                put_u64(out, o.price.0);
                put_u64(out, o.id.0);
                put_u32(out, o.account.0);
                put_u64(out, o.remaining.0);
                put_u64(out, o.seq);
            }
        }
    }

    /// Reads a book written by [`OrderBook::encode`], checking everything the engine keeps
    /// true: a valid spec, positive prices and sizes, priority order (so priorities unique in
    /// a queue), unique ids, priorities unique among an account's orders, priorities below
    /// `next_seq`, and an uncrossed book. (Two orders at different prices and of different
    /// accounts may share a priority, after a restore given a wrong one: see the module docs.)
    pub(crate) fn decode(market: MarketId, r: &mut Reader<'_>, next_seq: u64) -> Result<OrderBook, SnapshotError> {
        let spec =
            MarketSpec { tick: r.u128()?, lot: r.u128()?, min_size: Size(r.u64()?), stp: stp_from_code(r.u8()?)? };
        spec.check().map_err(|_| SnapshotError::Invalid("market spec"))?;
        let mut orders = Vec::new();
        for side in [Side::Buy, Side::Sell] {
            let count = r.u64()?;
            // Each order is 36 bytes: a count beyond what is left is a truncated snapshot.
            if count > (r.remaining() / 36) as u64 {
                return Err(SnapshotError::Truncated);
            }
            let mut prev: Option<(Price, u64)> = None;
            for _ in 0..count {
                let price = Price(r.u64()?);
                let (id, account, remaining, seq) = (OrderId(r.u64()?), AccountId(r.u32()?), r.u64()?, r.u64()?);
                if price.0 == 0 || remaining == 0 || seq == 0 || seq >= next_seq {
                    return Err(SnapshotError::Invalid("order price, size or sequence"));
                }
                if let Some((p, s)) = prev {
                    let worse_price = match side {
                        Side::Buy => price < p,
                        Side::Sell => price > p,
                    };
                    if !(worse_price || (price == p && seq > s)) {
                        return Err(SnapshotError::Invalid("orders out of priority order"));
                    }
                }
                prev = Some((price, seq));
                orders.push((seq, id, account, side, price, remaining));
            }
        }
        let mut book = OrderBook::new(market, spec);
        // In priority order every level's queue and every account's list come out as they were
        // (orders with one priority are in different queues and lists: their order is moot).
        orders.sort_unstable_by_key(|o| (o.0, o.2));
        for pair in orders.windows(2) {
            if (pair[0].0, pair[0].2) == (pair[1].0, pair[1].2) {
                return Err(SnapshotError::Invalid("two orders of one account with one priority"));
            }
        }
        for (seq, id, account, side, price, remaining) in orders {
            if book.index.contains_key(&id) {
                return Err(SnapshotError::Invalid("two orders with one id"));
            }
            book.rest(id, account, side, price, remaining, seq);
        }
        if let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) {
            if bid >= ask {
                return Err(SnapshotError::Invalid("crossed book"));
            }
        }
        Ok(book)
    }
}

/// A slab position as a list link. A slab of 2^32 − 1 entries (hundreds of GB) cannot be built.
fn slab_index(i: usize) -> u32 {
    match u32::try_from(i) {
        Ok(n) if n != NIL => n,
        _ => panic!("order book slab is full ({i} entries)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn new_order(id: u64, account: u32, side: Side, price: u64, size: u64) -> NewOrder {
        NewOrder {
            market: MarketId(1),
            id: OrderId(id),
            account: AccountId(account),
            side,
            price: Price(price),
            size: Size(size),
            order_type: OrderType::Limit,
        }
    }

    #[test]
    fn freed_nodes_and_levels_are_reused() {
        let mut book = OrderBook::new(MarketId(1), MarketSpec::new(1, 1, Size(1)));
        let (mut out, mut seq) = (Vec::<Event>::new(), 1u64);
        let mut em = Emitter { out: &mut out, next_seq: &mut seq, market: MarketId(1) };
        // 10,000 rounds of: rest 3 orders on 3 levels, fill the best ask, cancel the other ask,
        // reduce then cancel the bid.
        for round in 0..10_000u64 {
            let id = round * 10;
            book.place(&new_order(id + 1, 1, Side::Sell, 100 + round % 7, 5), &mut em);
            book.place(&new_order(id + 2, 2, Side::Sell, 110 + round % 5, 5), &mut em);
            book.place(&new_order(id + 3, 3, Side::Buy, 90 - round % 3, 5), &mut em);
            book.place(&new_order(id + 4, 4, Side::Buy, 200, 5), &mut em);
            book.cancel(OrderId(id + 2), AccountId(2), &mut em);
            book.reduce(OrderId(id + 3), AccountId(3), Size(2), &mut em);
            book.cancel(OrderId(id + 3), AccountId(3), &mut em);
            em.out.clear();
        }
        assert!(book.is_empty());
        assert!(book.accounts.is_empty());
        assert!(book.bids.is_empty() && book.asks.is_empty());
        // At most 3 orders and 3 levels were live at once.
        assert!(book.nodes.len() <= 3, "{} nodes", book.nodes.len());
        assert!(book.levels.len() <= 3, "{} levels", book.levels.len());
        assert_eq!(seq, 1 + 10_000 * (2 + 2 + 2 + 2 + 1 + 1 + 1));
    }

    #[test]
    fn the_id_hasher_spreads_consecutive_ids() {
        let hash = |v: u64| {
            let mut h = IdHasher::default();
            h.write_u64(v);
            h.finish()
        };
        // Consecutive ids differ in the bucket bits and in the top 7 bits (the control byte).
        let low: std::collections::BTreeSet<u64> = (0..1024).map(|v| hash(v) & 1023).collect();
        let top: std::collections::BTreeSet<u64> = (0..1024).map(|v| hash(v) >> 57).collect();
        assert!(low.len() > 600, "{} distinct buckets of 1024", low.len());
        assert_eq!(top.len(), 128);
        // Bytes hash like the integer they spell.
        let mut h = IdHasher::default();
        h.write(&42u64.to_le_bytes());
        assert_eq!(h.finish(), hash(42));
    }
}
