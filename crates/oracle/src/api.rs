//! The oracle's HTTP endpoint (JSON-RPC 2.0): its attestations, for its peers and anyone who wants
//! to submit a sync, and its status; `GET /metrics` and `GET /health` beside them.
//!
//! | method | params | result |
//! |---|---|---|
//! | `oracle_attestations` | `[fromBlock]` | its attestations of blocks `fromBlock..` (at most 256) |
//! | `oracle_status` | — | its address, newest attestation, chains' counters, inconsistency, last error |

use std::net::SocketAddr;
use std::sync::Arc;

use jsonrpsee::server::{Server, ServerHandle};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use zklink_probes::{Probe, Probes, PROMETHEUS_TEXT};

use crate::oracle::{OracleHandle, MAX_ATTESTATIONS};

/// A running oracle API.
pub struct OracleApi {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
}

impl OracleApi {
    /// Stops the server and waits until it has.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

fn error(code: i32, msg: impl ToString) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.to_string(), None::<()>)
}

/// The oracle's methods.
pub fn module(oracle: OracleHandle) -> RpcModule<OracleHandle> {
    let mut m = RpcModule::new(oracle);
    m.register_method("oracle_attestations", |params: Params, o, _| {
        let (from,): (u32,) = params.parse().map_err(|e| error(-32602, format!("expected [fromBlock]: {e}")))?;
        o.store.from(from, MAX_ATTESTATIONS).map_err(|e| error(-32603, e))
    })
    .expect("unique method names");
    m.register_method("oracle_status", |_, o, _| {
        Ok::<_, ErrorObjectOwned>(o.status.read().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone()))
    })
    .expect("unique method names");
    m
}

/// The oracle's API could not start.
#[derive(thiserror::Error, Debug)]
#[error("oracle API on {addr}: {source}")]
pub struct ServeError {
    /// Where it was to listen.
    pub addr: SocketAddr,
    /// Why it could not.
    #[source]
    pub source: std::io::Error,
}

/// Serves the oracle's API on `addr`.
pub async fn serve(addr: SocketAddr, oracle: OracleHandle) -> Result<OracleApi, ServeError> {
    let metrics = oracle.metrics.clone();
    let metrics: Probe = Arc::new(move || (200, PROMETHEUS_TEXT, metrics.render()));
    let status = oracle.status.clone();
    let health: Probe = Arc::new(move || {
        let s = status.read().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone());
        let ok = s.error.is_none() && s.inconsistency.is_none();
        (if ok { 200 } else { 503 }, "application/json", serde_json::to_string_pretty(&s).unwrap_or_default())
    });
    let probes = Probes::new(vec![("/metrics", metrics), ("/health", health)]);
    let server = Server::builder()
        .set_http_middleware(tower::ServiceBuilder::new().layer(probes))
        .build(addr)
        .await
        .map_err(|source| ServeError { addr, source })?;
    let addr = server.local_addr().map_err(|source| ServeError { addr, source })?;
    let handle = server.start(module(oracle));
    tracing::info!(%addr, "oracle API listening");
    Ok(OracleApi { addr, handle })
}
