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
        }
    }
}
