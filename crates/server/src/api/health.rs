//! Liveness and readiness, for load balancers and service managers (no authentication).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// The process is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
}

/// The server answers; says nothing about the store.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "the process is up", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
    })
}

/// The store answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
}

/// Ready to serve: the store answers a query (503 otherwise).
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses((status = 200, description = "the store answers", body = Ready),
              (status = 503, description = "the store does not answer", body = crate::error::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    match state.store.change_cursor().await {
        Ok(_) => Ok(Json(Ready {
            status: "ready",
            store: state.store.backend(),
        })),
        Err(err) => {
            tracing::warn!(%err, "readiness check: the store does not answer");
            Err(ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "the store does not answer",
            ))
        }
    }
}
