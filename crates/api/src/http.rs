//! Plain HTTP beside JSON-RPC on the API's port: `GET /health` (the health view as JSON, status
//! 200 when ok and 503 when degraded, for load balancers and orchestrators) and `GET /metrics`
//! (Prometheus text). Every other request goes to the JSON-RPC server.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};
use zklink_node::NodeHandle;

use crate::views;

/// The layer that answers `/health` and `/metrics`.
#[derive(Clone)]
pub struct Probes {
    node: NodeHandle,
}

impl Probes {
    /// Probes of `node`.
    pub fn new(node: NodeHandle) -> Self {
        Self { node }
    }
}

impl<S> Layer<S> for Probes {
    type Service = ProbesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProbesService { inner, node: self.node.clone() }
    }
}

/// [`Probes`] around the JSON-RPC service.
#[derive(Clone)]
pub struct ProbesService<S> {
    inner: S,
    node: NodeHandle,
}

fn respond(status: u16, content_type: &'static str, body: String) -> HttpResponse {
    HttpResponse::builder()
        .status(status)
        .header("content-type", content_type)
        .body(HttpBody::from(body))
        .expect("a static status and header are valid")
}

impl<S, B> Service<HttpRequest<B>> for ProbesService<S>
where
    S: Service<HttpRequest<B>, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: HttpRequest<B>) -> Self::Future {
        if req.method() == "GET" {
            match req.uri().path() {
                "/health" => {
                    let health = views::health(&self.node);
                    let status = if health.status == "ok" { 200 } else { 503 };
                    let body = serde_json::to_string_pretty(&health).unwrap_or_default();
                    return Box::pin(std::future::ready(Ok(respond(status, "application/json", body))));
                }
                "/metrics" => {
                    let body = self.node.metrics().render();
                    let response = respond(200, "text/plain; version=0.0.4", body);
                    return Box::pin(std::future::ready(Ok(response)));
                }
                _ => {}
            }
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}
