//! The exchange's matching engine: one limit order book per market, price-time priority,
//! integer prices and sizes, deterministic. A pure library: no I/O, no clock, no randomness,
//! no floating point, no printing.
//!
//! # Model
//!
//! * A **market** ([`MarketId`]) has a [`MarketSpec`]: a price grid (`tick` raw price units per
//!   tick), a size grid (`lot` raw base units per lot), a minimum order size in lots and a
//!   self-trade policy. Inside the engine a price is a [`Price`] in ticks and a size a [`Size`]
//!   in lots, both `u64`. The raw units are the protocol's (`zklink_types::Order`: a price is
//!   quote per base in 18-decimal fixed point, an amount is base units, both `u128`); the
//!   spec converts with checked arithmetic and typed [`GridError`]s (off the tick, off the
//!   lot, zero, out of range). A market order's signed worst price is rounded onto the grid
//!   in the signer's favour ([`MarketSpec::protective_price_to_ticks`]).
//! * Ids are the caller's: [`AccountId`] (the owner; self-trade prevention compares it),
//!   [`OrderId`] (refused while an order with the same id rests in that market's book).
//! * The [`Engine`] is a state machine. [`Engine::execute`] applies one [`Command`] and
//!   appends the [`Event`]s it caused, in the order they happened, each with the next number
//!   of one global sequence (1, 2, 3, … across all markets). **Time priority is the input
//!   order**: an order's priority is the sequence number of its [`EventKind::Accepted`]. It
//!   keeps it for life, also when [`Command::Restore`] gives it size back after it left the
//!   book: every queue and every account's list is in priority order, which is then not
//!   always the order in which the orders entered the book.
//!
//! # The flow of a command
//!
//! **Place** ([`Command::Place`] with a [`NewOrder`]):
//! 1. Checks, in this order: the market exists, the size is not zero, not below the minimum,
//!    the price is not zero, no live order has the id, a post-only order does not reach the
//!    opposite best price. A failure emits one [`EventKind::Rejected`] with a typed
//!    [`RejectReason`] and changes nothing.
//! 2. [`EventKind::Accepted`].
//! 3. A fill-or-kill order that cannot fill completely is cancelled
//!    ([`CancelReason::FillOrKill`]) before anything is touched.
//! 4. Matching: the opposite side is walked best price first and, within a price, oldest
//!    first, while its price is within the order's limit. Each resting order of another
//!    account trades with it at the **resting order's price** ([`EventKind::Fill`], with both
//!    remainders). A resting order of the same account is handled by the self-trade policy.
//! 5. The unfilled rest: a limit or post-only order rests at its price ([`EventKind::Rested`]);
//!    an IOC or market order's rest is cancelled ([`CancelReason::ImmediateOrCancel`]); an
//!    order stopped by self-trade prevention has its rest cancelled
//!    ([`CancelReason::SelfTradeIncoming`]). Nothing is emitted for a fully filled order: its
//!    last fill has `taker_remaining` 0.
//!
//! **Cancel** ([`Command::Cancel`]): only the owner may ([`RejectReason::NotOwner`] otherwise,
//! [`RejectReason::UnknownOrder`] for an id that is not resting); emits
//! [`EventKind::Cancelled`] with [`CancelReason::User`].
//!
//! **Reduce** ([`Command::Reduce`]): the owner takes `by` lots off a resting order in place,
//! so it **keeps its place in the queue** ([`EventKind::Reduced`]); reducing by its whole
//! remaining size or more cancels it. A larger size or another price is a cancel and a new
//! order (which queues at the back): the engine has no "modify" that could jump the queue.
//!
//! **Cancel-all** ([`Command::CancelAll`]): every resting order of the account, oldest first
//! (in priority order), in one market or in every market (ascending market id).
//!
//! **Restore** ([`Command::Restore`]: order, account, side, price, size, priority) gives an
//! order `size` lots back at its original time priority. The exchange settles each fill on
//! the L2 after the fact; when the L2 refuses one (one side no longer has the funds), the
//! exchange cancels the offending order and restores its counterparty, which is either still
//! resting with less or gone (filled, or the unfilled rest of an incoming order was cancelled).
//! The engine takes the order as a limit order (it does not know the original type; the
//! exchange restores only orders that would rest: limit and post-only).
//! 1. Checks, in this order: the market exists, the size is not zero, the price is not zero,
//!    the priority is a past sequence number (≥ 1, below [`Engine::next_seq`],
//!    [`RejectReason::InvalidPriority`]). If an order with the id rests: it is the same
//!    account's ([`RejectReason::NotOwner`]) and has the same side, price and priority
//!    ([`RejectReason::RestoreMismatch`]: another order that reuses the id, or wrong data), and
//!    its size does not overflow ([`RejectReason::SizeOverflow`]). If none rests: no resting
//!    order at the same side and price, or of the same account, holds the priority
//!    ([`RejectReason::PriorityInUse`]: it cannot be this order's, and the queue or the
//!    account's list would have two orders with one priority). Beyond that the engine cannot
//!    tell a wrong priority from the order's own: one held only by orders at other prices and
//!    of other accounts is taken (it changes no order the book keeps; snapshots read it
//!    back). The market's minimum size does not apply (a fill can be smaller). A failure
//!    emits one [`EventKind::Rejected`] and changes nothing.
//! 2. An order that rests grows by `size` in place and keeps its place in the queue: one
//!    [`EventKind::Restored`] (`size` added, `remaining` after). Its price cannot cross: it
//!    rests in an uncrossed book.
//! 3. An order that does not rest may now cross: orders placed since may rest at prices it
//!    trades with. It first matches exactly as a new limit order would (step 4 of Place, the
//!    same code: the resting orders' prices, best first, self-trade prevention by the
//!    market's policy), as the taker of its [`EventKind::Fill`]s although it is older than
//!    its makers (it is the order that arrives). There is no [`EventKind::Accepted`]: the
//!    order was accepted long ago. (So a restored post-only order that now crosses takes
//!    liquidity; an exchange that wants otherwise cancels instead of restoring.)
//! 4. Its rest, if any: if self-trade prevention stopped it, it is cancelled
//!    ([`CancelReason::SelfTradeIncoming`]); else it enters its price level's queue at the
//!    place its priority gives (after every order there with a smaller priority, before every
//!    one with a larger), in its account's list likewise, with that priority, and
//!    [`EventKind::Restored`] follows (`size` = `remaining` = the lots that entered). A restore
//!    that trades all its size ends with its last fill (`taker_remaining` 0), like an order.
//!
//! So a restore's events are: one rejection; or one `Restored` (in place); or the fills and
//! self-trade cancellations of step 3, then one `Restored` or one `Cancelled` of its rest
//! (or nothing after a fill that leaves it 0). The size given back is the sum of its fills
//! plus the lots that entered the book (or were cancelled). Afterwards the order is an order
//! like any other: the snapshot, the queries and later matching treat it exactly as an order
//! accepted at its priority that never left the book. Cost: a walk back from the tail of its
//! price level's queue and of its account's list to its place (O(orders behind it)), plus
//! matching; nothing is added to the other commands.
//!
//! # Order types ([`OrderType`])
//!
//! | type | takes liquidity | unfilled rest | notes |
//! |---|---|---|---|
//! | `Limit` (GTC) | up to its limit | rests at its limit | |
//! | `Ioc` | up to its limit | cancelled | |
//! | `Fok` | up to its limit | — | fills completely or not at all, checked before any fill (and before any self-trade cancellation) |
//! | `PostOnly` | never | rests | refused with [`RejectReason::PostOnlyWouldCross`] (naming the opposite best price) if its price reaches the opposite best price, whoever owns that order |
//! | `Market` | up to its protective price | cancelled | an IOC whose limit is the user's signed worst price, so it never fills beyond the signed terms |
//!
//! # Self-trade prevention
//!
//! An account's order never fills against its own. When an incoming order meets a resting
//! order of the same account, the market's [`StpPolicy`] decides:
//! * cancel resting ([`StpPolicy::CancelResting`], **the default**): the resting order is cancelled
//!   ([`CancelReason::SelfTradeResting`]) and the incoming order goes on matching the orders
//!   behind it, up to its limit;
//! * cancel incoming ([`StpPolicy::CancelIncoming`]): the rest of the incoming order is cancelled, the resting
//!   order stays;
//! * cancel both ([`StpPolicy::CancelBoth`]): both.
//!
//! Why cancel-resting by default: the incoming order is the account's latest intent and the
//! resting order it meets is the stale one (a market maker re-quoting through its own quote,
//! a trader taking liquidity past a forgotten order); the incoming order still gets the other
//! accounts' liquidity it asked for. It is what Hyperliquid does (its only mode, documented as
//! the behaviour market-making algorithms prefer, "expire maker") and OKX's default since its
//! STP became mandatory (2024). Binance lets the taker choose expire-taker, expire-maker,
//! expire-both or decrement; Coinbase Exchange defaults to decrement-and-cancel and offers
//! cancel-oldest / cancel-newest / cancel-both; Paradex defaults to expire-taker. Decrement (shrink
//! both orders by the prevented size without a trade) is not offered: on zklink a signed
//! order's slot residue only moves through a settled `OrderMatching`, so a decrement would be
//! an off-chain partial cancel the exchange layer must track for little gain. Every policy
//! keeps the book uncrossed. The policy is per market; a per-order choice (Binance's and
//! Coinbase's taker flag) can be added to [`NewOrder`] later without changing the book.
//!
//! # Determinism
//!
//! The events and the book are a function of the markets and the command sequence alone,
//! byte for byte: no clock, no randomness, no floating point; prices and sizes are integers
//! (sizes `u64`, level totals `u128`, which cannot overflow); the two hash maps (order id →
//! node, account → list) use a fixed hasher and serve point lookups only, never iteration;
//! everything the output walks (price levels, queues, an account's orders) is ordered by
//! price and priority (input order, or the priority a restore gave back). Slab positions
//! (reused after frees) never reach the output.
//! [`Engine::snapshot`] writes the whole state in a canonical layout ([`snapshot`]), so two
//! engines that saw the same commands have equal snapshots and [`Engine::digest`]s (SHA-256);
//! [`Engine::from_snapshot`] reads one back into an engine that continues identically.
//!
//! # Data structures
//!
//! Per book: resting orders in a slab (a `Vec` of 48-byte nodes with a free list), each node in
//! two intrusive doubly linked lists — its price level's queue and its account's list, both in
//! priority order — so a cancel, a fill that empties an order and a reduction are O(1) after
//! the id lookup (a restore walks back from the tails to its priority's place); price levels
//! in a second slab with per-side `BTreeMap<Price, level>` (O(log levels) to find the best
//! price, to add or drop a level); `OrderId → node` and `AccountId → list` hash maps.
//! [`Engine::reserve`] preallocates a book's slab and index so that it never pauses to grow.
//! Queries: best bid/ask, depth at N levels (price, total size, order count), an order and its
//! remaining size, a side's orders in priority order, an account's orders, memory use.
//! `cargo bench -p zklink-matching` measures throughput, latency and memory (docs/benchmarks.md).
//!
//! # What is left to the exchange layer
//!
//! Mapping signed `Order`s (account, sub-account, slot, order nonce, price, amount, fee ratios)
//! onto [`NewOrder`]s and the slot rules (one live order per slot, a new nonce replaces);
//! funding checks (committed amounts of open orders against the L2 balance); turning fills into
//! `OrderMatching` transactions; when the L2 refuses one, cancelling the offending order and
//! restoring its counterparty with the priority of its `Accepted` event (which the exchange
//! keeps: the engine forgets an order once it leaves the book); journaling every command before acknowledging it (the journal
//! replayed through this engine rebuilds the book; [`Engine::digest`] checks it); market data.

mod book;
mod command;
mod engine;
mod event;
pub mod snapshot;
mod types;

pub use book::{DepthLevel, OrderBook, RestingOrder};
pub use command::{Command, NewOrder};
pub use engine::{Engine, EngineError};
pub use event::{CancelReason, Event, EventKind, Fill, RejectReason};
pub use snapshot::SnapshotError;
pub use types::{AccountId, GridError, MarketId, MarketSpec, OrderId, OrderType, Price, Side, Size, StpPolicy};
