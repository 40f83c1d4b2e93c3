//! The node's probes: `/health` (the health view as JSON, status 200 when ok and 503 when
//! degraded) and `/metrics` (Prometheus text), served beside JSON-RPC by [`zklink_probes`].

use std::sync::Arc;

use zklink_node::NodeHandle;
use zklink_probes::{Probe, Probes, PROMETHEUS_TEXT};

use crate::views;

/// The node's `/health` (200 when ok, 503 when degraded) and `/metrics`.
pub fn node_probes(node: NodeHandle) -> Probes {
    let health_node = node.clone();
    let health: Probe = Arc::new(move || {
        let health = views::health(&health_node);
        let status = if health.status == "ok" { 200 } else { 503 };
        (status, "application/json", serde_json::to_string_pretty(&health).unwrap_or_default())
    });
    let metrics: Probe = Arc::new(move || (200, PROMETHEUS_TEXT, node.metrics().render()));
    Probes::new(vec![("/health", health), ("/metrics", metrics)])
}
