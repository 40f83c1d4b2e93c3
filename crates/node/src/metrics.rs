//! The node's Prometheus metrics, in a registry of its own (several nodes in one process, as in
//! tests, do not mix). The API serves them as text at `GET /metrics`.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    /// Txs accepted, by `status` (`applied`, `queued`).
    pub txs_accepted: IntCounterVec,
    /// Txs refused, by `reason` (`rejected`, `duplicate`, `queue`, `stopped`, `invalid`).
    pub txs_refused: IntCounterVec,
    /// Txs waiting for an earlier nonce.
    pub queued: IntGauge,
    /// Chunks used in the open block.
    pub open_block_chunks: IntGauge,
    /// The newest sealed block.
    pub sealed: IntGauge,
    /// Proof jobs waiting and leased.
    pub proof_jobs: IntGaugeVec,
    /// Proofs stored.
    pub proofs: IntCounter,
    /// Proofs refused (they did not verify).
    pub proofs_refused: IntCounter,
    /// Seconds the in-process prover took per block.
    pub proving_seconds: Histogram,
    /// Each chain's block counters, by `chain` and `stage`.
    pub l1_blocks: IntGaugeVec,
    /// L1 transactions sent, by `chain` and `stage`.
    pub l1_txs: IntCounterVec,
    /// Failed pipeline passes, by `chain`.
    pub pipeline_errors: IntCounterVec,
    /// Priority requests taken, by `chain`.
    pub priority_requests: IntCounterVec,
}

fn register<M: prometheus::core::Collector + Clone + 'static>(r: &Registry, m: M) -> M {
    r.register(Box::new(m.clone())).expect("metric names are unique literals");
    m
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let r = Registry::new_custom(Some("zklink".into()), None).expect("a valid prefix");
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            register(&r, IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"))
        };
        let gauge = |name: &str, help: &str| register(&r, IntGauge::new(name, help).expect("valid metric"));
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            register(&r, IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"))
        };
        let counter = |name: &str, help: &str| register(&r, IntCounter::new(name, help).expect("valid metric"));
        let proving = HistogramOpts::new("proving_seconds", "Seconds to prove one block (in-process prover)")
            .buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0]);
        Self {
            txs_accepted: counter_vec("txs_accepted_total", "Txs accepted, by status", &["status"]),
            txs_refused: counter_vec("txs_refused_total", "Txs refused, by reason", &["reason"]),
            queued: gauge("mempool_queued", "Txs waiting for an earlier nonce"),
            open_block_chunks: gauge("open_block_chunks", "Chunks used in the open block"),
            sealed: gauge("blocks_sealed", "The newest sealed block"),
            proof_jobs: gauge_vec("proof_jobs", "Proof jobs, by state (waiting, leased)", &["state"]),
            proofs: counter("proofs_total", "Block proofs stored"),
            proofs_refused: counter("proofs_refused_total", "Proofs from workers that did not verify"),
            proving_seconds: register(&r, Histogram::with_opts(proving).expect("valid metric")),
            l1_blocks: gauge_vec("l1_blocks", "Blocks through each stage on each chain", &["chain", "stage"]),
            l1_txs: counter_vec("l1_txs_total", "L1 transactions sent, by chain and stage", &["chain", "stage"]),
            pipeline_errors: counter_vec("pipeline_errors_total", "Failed L1 pipeline passes, by chain", &["chain"]),
            priority_requests: counter_vec("priority_requests_total", "Priority requests taken, by chain", &["chain"]),
            registry: r,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
