//! The multi-market engine: routes commands to books, numbers events, snapshots the whole state.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::book::{Emitter, OrderBook};
use crate::command::{Command, NewOrder};
use crate::event::{Event, EventKind, RejectReason};
use crate::snapshot::{put_u32, put_u64, put_u8, Reader, SnapshotError, MAGIC, VERSION};
use crate::types::{GridError, MarketId, MarketSpec, OrderType};

/// Why a market could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum EngineError {
    /// A market with this id exists.
    #[error("market {} exists", .0 .0)]
    DuplicateMarket(MarketId),
    /// The spec is invalid.
    #[error("market spec: {0}")]
    InvalidSpec(#[from] GridError),
}

/// The matching engine: one order book per market and one global event sequence.
///
/// A pure state machine: [`Engine::execute`] applies one command and appends the events it
/// caused; nothing else changes the state.
#[derive(Clone, Debug)]
pub struct Engine {
    markets: BTreeMap<MarketId, OrderBook>,
    next_seq: u64,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl Engine {
    /// An engine with no markets; the first event will have sequence number 1.
    pub fn new() -> Engine {
        Engine { markets: BTreeMap::new(), next_seq: 1 }
    }

    /// Lists a market with an empty book. (Configuration, not a command: the exchange lists its
    /// markets before it replays or takes commands.)
    pub fn add_market(&mut self, id: MarketId, spec: MarketSpec) -> Result<(), EngineError> {
        spec.check()?;
        if self.markets.contains_key(&id) {
            return Err(EngineError::DuplicateMarket(id));
        }
        self.markets.insert(id, OrderBook::new(id, spec));
        Ok(())
    }

    /// Preallocates room for `orders` more resting orders in a market's book, so that growing
    /// to that size never pauses to reallocate (no effect on behaviour). False for an unknown
    /// market.
    pub fn reserve(&mut self, market: MarketId, orders: usize) -> bool {
        self.markets.get_mut(&market).map(|book| book.reserve(orders)).is_some()
    }

    /// Applies one command and appends the events it caused, in order, to `out`.
    ///
    /// Every command causes at least one event except a cancel-all that finds no orders.
    pub fn execute(&mut self, cmd: &Command, out: &mut Vec<Event>) {
        let next_seq = &mut self.next_seq;
        let (market, order) = match *cmd {
            Command::CancelAll { account, market: None } => {
                for book in self.markets.values_mut() {
                    book.cancel_all(
                        account,
                        &mut Emitter { out: &mut *out, next_seq: &mut *next_seq, market: book.market() },
                    );
                }
                return;
            }
            Command::Place(o) => (o.market, Some(o.id)),
            Command::Cancel { market, order, .. }
            | Command::Reduce { market, order, .. }
            | Command::Restore { market, order, .. } => (market, Some(order)),
            Command::CancelAll { market: Some(market), .. } => (market, None),
        };
        let mut em = Emitter { out, next_seq, market };
        let Some(book) = self.markets.get_mut(&market) else {
            em.emit(EventKind::Rejected { order, account: cmd.account(), reason: RejectReason::UnknownMarket });
            return;
        };
        match *cmd {
            Command::Place(ref o) => book.place(o, &mut em),
            Command::Cancel { order, account, .. } => book.cancel(order, account, &mut em),
            Command::Reduce { order, account, by, .. } => book.reduce(order, account, by, &mut em),
            Command::Restore { market, order, account, side, price, size, priority } => book.restore(
                &NewOrder { market, id: order, account, side, price, size, order_type: OrderType::Limit },
                priority,
                &mut em,
            ),
            Command::CancelAll { account, .. } => book.cancel_all(account, &mut em),
        }
    }

    /// Applies one command and returns its events (a convenience over [`Engine::execute`]).
    pub fn execute_one(&mut self, cmd: &Command) -> Vec<Event> {
        let mut out = Vec::new();
        self.execute(cmd, &mut out);
        out
    }

    /// A market's book.
    pub fn book(&self, market: MarketId) -> Option<&OrderBook> {
        self.markets.get(&market)
    }

    /// All books, in ascending market id.
    pub fn books(&self) -> impl Iterator<Item = &OrderBook> {
        self.markets.values()
    }

    /// The sequence number the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The whole state in its canonical byte layout (see [`crate::snapshot`]): two engines
    /// that went through the same commands have equal snapshots, byte for byte.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 36 * self.markets.values().map(OrderBook::len).sum::<usize>());
        out.extend_from_slice(MAGIC);
        put_u8(&mut out, VERSION);
        put_u64(&mut out, self.next_seq);
        put_u32(&mut out, u32::try_from(self.markets.len()).unwrap_or(u32::MAX));
        for (id, book) in &self.markets {
            put_u32(&mut out, id.0);
            book.encode(&mut out);
        }
        out
    }

    /// SHA-256 of [`Engine::snapshot`].
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.snapshot()).into()
    }

    /// Rebuilds an engine from [`Engine::snapshot`]; it then behaves exactly as the engine that
    /// wrote it (same events for the same further commands).
    pub fn from_snapshot(bytes: &[u8]) -> Result<Engine, SnapshotError> {
        let mut r = Reader::new(bytes);
        if &r.magic()? != MAGIC || r.u8()? != VERSION {
            return Err(SnapshotError::BadHeader);
        }
        let next_seq = r.u64()?;
        if next_seq == 0 {
            return Err(SnapshotError::Invalid("next sequence number"));
        }
        let count = r.u32()?;
        let mut markets = BTreeMap::new();
        let mut last: Option<MarketId> = None;
        for _ in 0..count {
            let id = MarketId(r.u32()?);
            if last.is_some_and(|l| l >= id) {
                return Err(SnapshotError::Invalid("markets out of order"));
            }
            last = Some(id);
            markets.insert(id, OrderBook::decode(id, &mut r, next_seq)?);
        }
        if r.remaining() != 0 {
            return Err(SnapshotError::Trailing(r.remaining()));
        }
        Ok(Engine { markets, next_seq })
    }
}
