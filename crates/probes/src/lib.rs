//! Plain HTTP beside JSON-RPC on one port: `GET` probes such as `/health` (a health view as JSON,
//! for load balancers and orchestrators) and `/metrics` (Prometheus text). Every other request
//! goes on to the JSON-RPC server. The node's API and the independent oracle both serve their
//! probes through this layer; it knows neither of them.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use tower::{Layer, Service};

/// What a probe answers: HTTP status, content type, body.
pub type ProbeResponse = (u16, &'static str, String);

/// A handler for one `GET` path.
pub type Probe = Arc<dyn Fn() -> ProbeResponse + Send + Sync>;

/// The layer that answers `GET` on its paths and passes everything else to JSON-RPC.
#[derive(Clone)]
pub struct Probes {
    routes: Arc<Vec<(&'static str, Probe)>>,
}

impl Probes {
    /// Probes answering `routes` (path, handler).
    pub fn new(routes: Vec<(&'static str, Probe)>) -> Self {
        Self { routes: Arc::new(routes) }
    }
}

/// The content type of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4";

impl<S> Layer<S> for Probes {
    type Service = ProbesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ProbesService { inner, routes: self.routes.clone() }
    }
}

/// [`Probes`] around the JSON-RPC service.
#[derive(Clone)]
pub struct ProbesService<S> {
    inner: S,
    routes: Arc<Vec<(&'static str, Probe)>>,
}

fn respond(status: u16, content_type: &'static str, body: String) -> HttpResponse {
    HttpResponse::builder()
        .status(status)
        .header("content-type", content_type)
        .body(HttpBody::from(body))
        .unwrap_or_else(|_| HttpResponse::new(HttpBody::from("invalid probe response")))
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
            if let Some((_, probe)) = self.routes.iter().find(|(path, _)| *path == req.uri().path()) {
                let (status, content_type, body) = probe();
                return Box::pin(std::future::ready(Ok(respond(status, content_type, body))));
            }
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}
