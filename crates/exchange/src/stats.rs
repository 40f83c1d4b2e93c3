//! Counters of where the venue's time goes (read by `zklink bench exchange`, served with
//! `exchange_status`): the sequencer's groups and journal syncs, the settler's signing and
//! node calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Running totals, updated without locks.
#[derive(Debug, Default)]
pub struct Stats {
    groups: AtomicU64,
    entries: AtomicU64,
    journal_ns: AtomicU64,
    apply_ns: AtomicU64,
    batches: AtomicU64,
    settled: AtomicU64,
    sign_ns: AtomicU64,
    submit_ns: AtomicU64,
    placed: AtomicU64,
    refused: AtomicU64,
    cancelled: AtomicU64,
}

/// A reading of [`Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsView {
    /// Sequencer groups (one journal write each).
    pub groups: u64,
    /// Entries journaled.
    pub entries: u64,
    /// Time in journal writes and syncs, ns.
    pub journal_ns: u64,
    /// Time gating and applying inputs (engine and records), ns.
    pub apply_ns: u64,
    /// Settlement batches sent.
    pub batches: u64,
    /// Fills the node accepted.
    pub settled: u64,
    /// Time signing matchings, ns.
    pub sign_ns: u64,
    /// Time in `zklink_submitTxs` calls (the node verifying, applying and logging), ns.
    pub submit_ns: u64,
    /// Orders placed.
    pub placed: u64,
    /// Placements refused.
    pub refused: u64,
    /// Orders cancelled by their owners' requests.
    pub cancelled: u64,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Stats {
    /// A sequencer group of `entries` entries: time applying, time journaling.
    pub fn group(&self, entries: usize, apply: Duration, journal: Duration) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.entries.fetch_add(entries as u64, Ordering::Relaxed);
        self.apply_ns.fetch_add(ns(apply), Ordering::Relaxed);
        self.journal_ns.fetch_add(ns(journal), Ordering::Relaxed);
    }

    /// A settlement batch: `accepted` fills, time signing, time in the node call.
    pub fn batch(&self, accepted: usize, sign: Duration, submit: Duration) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.settled.fetch_add(accepted as u64, Ordering::Relaxed);
        self.sign_ns.fetch_add(ns(sign), Ordering::Relaxed);
        self.submit_ns.fetch_add(ns(submit), Ordering::Relaxed);
    }

    /// A placement: accepted or refused.
    pub fn placement(&self, accepted: bool) {
        let counter = if accepted { &self.placed } else { &self.refused };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Orders cancelled on request.
    pub fn cancels(&self, n: usize) {
        self.cancelled.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// The totals now.
    pub fn read(&self) -> StatsView {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsView {
            groups: r(&self.groups),
            entries: r(&self.entries),
            journal_ns: r(&self.journal_ns),
            apply_ns: r(&self.apply_ns),
            batches: r(&self.batches),
            settled: r(&self.settled),
            sign_ns: r(&self.sign_ns),
            submit_ns: r(&self.submit_ns),
            placed: r(&self.placed),
            refused: r(&self.refused),
            cancelled: r(&self.cancelled),
        }
    }
}

/// The venue's gauges at one moment, for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Journal entries.
    pub journal: u64,
    /// Orders resting in every book.
    pub open_orders: usize,
    /// Fills matched.
    pub fills: usize,
    /// Fills refused by the node.
    pub fills_refused: usize,
    /// Fills matched and not yet applied by the node.
    pub pending_fills: usize,
    /// Whether the venue stopped after a journal failure.
    pub failed: bool,
}

/// The Prometheus text of `s` and `g`.
pub fn render(s: &StatsView, g: &Gauges) -> String {
    let mut out = String::new();
    let mut put = |name: &str, kind: &str, help: &str, value: f64| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    };
    let secs = |ns: u64| ns as f64 / 1e9;
    put("exchange_orders_placed_total", "counter", "Orders placed (journaled and matched).", s.placed as f64);
    put(
        "exchange_orders_refused_total",
        "counter",
        "Placements refused (rules, signature, slot, funding).",
        s.refused as f64,
    );
    put(
        "exchange_orders_cancelled_total",
        "counter",
        "Orders cancelled on their owners' requests.",
        s.cancelled as f64,
    );
    put("exchange_journal_entries_total", "counter", "Entries journaled.", s.entries as f64);
    put("exchange_journal_groups_total", "counter", "Journal writes (one sync each).", s.groups as f64);
    put("exchange_journal_seconds_total", "counter", "Time writing and syncing the journal.", secs(s.journal_ns));
    put("exchange_apply_seconds_total", "counter", "Time gating and applying inputs.", secs(s.apply_ns));
    put("exchange_settle_batches_total", "counter", "Settlement batches sent to the node.", s.batches as f64);
    put("exchange_fills_settled_total", "counter", "Fills the node accepted.", s.settled as f64);
    put("exchange_settle_sign_seconds_total", "counter", "Time signing matchings.", secs(s.sign_ns));
    put("exchange_settle_node_seconds_total", "counter", "Time in zklink_submitTxs calls.", secs(s.submit_ns));
    put("exchange_journal_index", "gauge", "Entries in the journal.", g.journal as f64);
    put("exchange_open_orders", "gauge", "Orders resting in the books.", g.open_orders as f64);
    put("exchange_fills_total", "counter", "Fills matched.", g.fills as f64);
    put("exchange_fills_refused_total", "counter", "Fills the node refused.", g.fills_refused as f64);
    put("exchange_fills_pending", "gauge", "Fills matched and not yet applied by the node.", g.pending_fills as f64);
    put("exchange_failed", "gauge", "1 after a journal failure (restart the venue).", f64::from(u8::from(g.failed)));
    out
}
