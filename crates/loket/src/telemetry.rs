//! Seeing what happens: every request gets an id (kept from a sane `X-Request-Id`, else made
//! here) that is returned in the `X-Request-Id` header, carried by a tracing span around the
//! request (so every log line of the request names it), shown on error pages and written into
//! audit entries; and one log line per request at info level.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span};

use crate::identity::RequestId;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being handled, where there is one (not in the CLI).
pub fn current_request_id() -> Option<String> {
    CURRENT.try_with(|id| id.0.clone()).ok()
}

/// Middleware: give the request its id before anything else sees it.
pub async fn assign_request_id(mut request: Request, next: Next) -> Response {
    let id = RequestId::from_headers(request.headers());
    request.extensions_mut().insert(id.clone());
    let mut response = CURRENT.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The span of one request: method, path (never the query, which may hold a NIK) and id.
#[derive(Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &axum::http::Request<B>) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.as_str())
            .unwrap_or("-");
        tracing::info_span!(
            "request",
            id = %id,
            method = %request.method(),
            path = %request.uri().path(),
        )
    }
}

/// Traces each request in its span and logs one line at info when the response is ready.
pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}
