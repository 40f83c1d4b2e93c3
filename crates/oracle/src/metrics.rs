//! The oracle's Prometheus metrics (its own registry), served at `GET /metrics`.

use prometheus::{IntCounter, IntGauge, Registry};

/// Every metric an oracle exports.
pub struct OracleMetrics {
    registry: Registry,
    /// Attestations signed.
    pub attestations: IntCounter,
    /// The newest block attested.
    pub last_attested: IntGauge,
    /// Times the chains were found to store different histories.
    pub inconsistencies: IntCounter,
    /// Peer attestations refused (bad signature, or another sync hash).
    pub refused_attestations: IntCounter,
    /// Failed passes.
    pub errors: IntCounter,
}

impl OracleMetrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("zklink_oracle".into()), None).expect("a valid prefix");
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique names");
            c
        };
        let last_attested = IntGauge::new("last_attested", "The newest block attested").expect("valid metric");
        registry.register(Box::new(last_attested.clone())).expect("unique names");
        Self {
            attestations: counter("attestations_total", "Attestations signed"),
            inconsistencies: counter("inconsistencies_total", "Times the chains stored different histories"),
            refused_attestations: counter("refused_attestations_total", "Peer attestations refused"),
            errors: counter("pass_errors_total", "Failed passes"),
            last_attested,
            registry,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        out
    }
}

impl Default for OracleMetrics {
    fn default() -> Self {
        Self::new()
    }
}
