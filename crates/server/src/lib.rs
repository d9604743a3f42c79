//! Rampart over HTTP: the REST API (with its OpenAPI 3.1 document), the TAXII 2.1 server
//! ([`taxii`]), authentication by API token or browser session, the role check of every route, and the audit of what people do
//! through it. The work itself is the stage crates'; handlers only translate.
//!
//! Every route is declared once in [`routes::routes`] with the [`auth::Access`] it needs;
//! every error is an [`ApiError`] with the body `{"error": {"status", "code", "message"}}`.
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn rampart_store::Store>) -> std::io::Result<()> {
//! use rampart_server::{AppState, ServerConfig};
//! let state = AppState::builder(store, ServerConfig::default()).build();
//! let listener = tokio::net::TcpListener::bind(state.config.listen).await?;
//! rampart_server::serve(listener, state, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod first_run;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;
pub mod taxii;
pub mod web;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use auth::{Access, Principal, PrincipalKind, require};
pub use config::ServerConfig;
pub use error::{ApiError, ErrorBody};
pub use state::AppState;

/// The whole application: the route table, with JSON answers for unknown paths (404) and
/// wrong methods (405), behind [`with_limits`], every request counted and timed.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let app = routes::table_router(&state)
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state);
    // Metrics outermost, so that timeouts and refusals are counted with the status the
    // caller saw; TAXII paths get their error bodies inside it.
    with_limits(app, &config)
        .layer(axum::middleware::from_fn(taxii::taxii_errors))
        .layer(axum::middleware::from_fn(metrics::track_requests))
}

/// The layers every request passes, innermost first: the body limit (for extractors, whether
/// or not the body announces its length), the timeout over the whole request (`503`), and the
/// rewriting of every error without a JSON body into one.
pub fn with_limits(app: Router, config: &ServerConfig) -> Router {
    app.layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(axum::middleware::from_fn(error::json_errors))
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// Serves the application on `listener` until `shutdown` resolves, then lets requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // With each connection's address, for the per-address login limit.
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Reads the certificate chain and key for [`serve_tls`]; fails on unreadable or mismatched
/// files, so that `serve` stops before it listens.
pub async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await
}

/// Serves the application over HTTPS only (rustls) on `listener` until `shutdown` resolves,
/// then lets requests in flight finish. A plain-HTTP client gets a failed handshake.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: axum_server::tls_rustls::RustlsConfig,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        // No deadline here: `serve` bounds the drain itself.
        stopper.graceful_shutdown(None);
    });
    axum_server::from_tcp_rustls(listener.into_std()?, tls)?
        .handle(handle)
        .serve(router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_slow_request_is_answered_503_in_json() {
        let config = ServerConfig {
            request_timeout: Duration::from_millis(50),
            ..ServerConfig::default()
        };
        let slow = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        );
        let started = std::time::Instant::now();
        let response = with_limits(slow, &config)
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["status"], 503);
        assert_eq!(body["error"]["code"], "timeout");
    }
}
