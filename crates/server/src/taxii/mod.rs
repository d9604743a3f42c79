//! The TAXII 2.1 server (OASIS TAXII Version 2.1): other platforms pull Rampart's indicators
//! from configured collections, and may add STIX objects to writable ones.
//!
//! - [`config`]: the `[taxii]` table — the API root and the collections with their filters.
//! - [`collections`]: what a collection publishes — Rampart's indicators rendered by the STIX
//!   export, each with its `date_added`, the commit time of the change that last touched it
//!   (the store's change feed), so that paging with `added_after` and `next` is stable.
//! - [`handlers`]: the endpoints that read, and [`inbox`]: adding objects and their status;
//!   all declared in [`crate::routes`] under `/taxii2/`.
//!
//! TAXII has its own media type and error shape: requests must accept
//! `application/taxii+json;version=2.1` (406 otherwise), POSTs must send it (415 otherwise),
//! and every error on a `/taxii2/` path, whichever layer raised it, is answered as a TAXII
//! error message (`title`, `description`, `http_status`) by [`taxii_errors`].

pub mod collections;
pub mod config;
pub mod handlers;
pub mod inbox;

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use collections::IdIndex;
pub use config::{CollectionConfig, TaxiiConfig};

/// The TAXII 2.1 media type, of every request and response body.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type of the objects collections hold.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Where the TAXII endpoints live.
pub const PREFIX: &str = "/taxii2/";
/// Status resources kept for `GET status/{id}/`; older ones are forgotten.
const KEPT_STATUSES: usize = 1000;

/// The TAXII server's shared parts, in [`crate::AppState`].
pub struct Taxii {
    pub config: TaxiiConfig,
    /// STIX id → place in the change feed, for `objects/{id}/` and `match[id]`.
    pub index: tokio::sync::Mutex<IdIndex>,
    /// The status resources of recent POSTs, newest last.
    statuses: Mutex<VecDeque<inbox::StatusResource>>,
}

impl Taxii {
    pub fn new(config: TaxiiConfig) -> Taxii {
        Taxii {
            config,
            index: tokio::sync::Mutex::new(IdIndex::default()),
            statuses: Mutex::new(VecDeque::new()),
        }
    }

    fn remember(&self, status: inbox::StatusResource) {
        let mut statuses = self
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if statuses.len() >= KEPT_STATUSES {
            statuses.pop_front();
        }
        statuses.push_back(status);
    }

    fn status(&self, id: &str) -> Option<inbox::StatusResource> {
        let statuses = self
            .statuses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        statuses.iter().find(|status| status.id == id).cloned()
    }
}

/// A TAXII error message, answered with its status.
#[derive(Debug, Clone)]
pub struct TaxiiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub description: String,
}

/// The body of a TAXII error (section 3.6.1 of the specification).
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct ErrorMessage {
    pub title: String,
    pub description: String,
    /// The HTTP status, as a string as the specification has it.
    pub http_status: String,
}

impl TaxiiError {
    pub fn new(status: StatusCode, title: &'static str, description: impl Into<String>) -> Self {
        TaxiiError {
            status,
            title,
            description: crate::error::truncate(&description.into()),
        }
    }

    pub fn bad_request(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::BAD_REQUEST, "Bad request", description)
    }

    pub fn not_found(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::NOT_FOUND, "Not found", description)
    }

    pub fn forbidden(description: impl Into<String>) -> TaxiiError {
        TaxiiError::new(StatusCode::FORBIDDEN, "Forbidden", description)
    }

    fn body(&self) -> ErrorMessage {
        ErrorMessage {
            title: self.title.to_owned(),
            description: self.description.clone(),
            http_status: self.status.as_u16().to_string(),
        }
    }
}

impl From<rampart_store::StoreError> for TaxiiError {
    fn from(error: rampart_store::StoreError) -> TaxiiError {
        let internal = crate::error::ApiError::internal(error);
        TaxiiError::new(internal.status, "Internal error", internal.message)
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let mut response = taxii_json(self.status, &self.body());
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"rampart\", Bearer realm=\"rampart\""),
            );
        }
        response
    }
}

/// A JSON body with the TAXII media type.
pub fn taxii_json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, Body::from(bytes)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    response
}

/// Whether a media type (from `Accept` or `Content-Type`) is TAXII 2.1: the type, and a
/// `version` parameter of 2.1 if there is one. Parameters may have spaces around them.
fn is_taxii_21(media_type: &str) -> bool {
    let mut parts = media_type.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    if !essence.eq_ignore_ascii_case("application/taxii+json") {
        return false;
    }
    parts
        .filter_map(|parameter| parameter.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("version"))
        .all(|(_, value)| value.trim().trim_matches('"') == "2.1")
}

/// Refuses with 406 a request that does not accept TAXII 2.1 answers. No `Accept` header,
/// or one with a wildcard, accepts anything.
pub fn check_accept(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let accepted = values
        .iter()
        .flat_map(|value| value.split(','))
        .any(|range| {
            let essence = range.split(';').next().unwrap_or("").trim();
            essence == "*/*" || essence == "application/*" || is_taxii_21(range)
        });
    if accepted {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::NOT_ACCEPTABLE,
            "Not acceptable",
            format!("this server answers {TAXII_MEDIA_TYPE}; send it in the Accept header"),
        ))
    }
}

/// Refuses with 415 a body that is not labelled TAXII 2.1.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), TaxiiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if is_taxii_21(content_type) {
        Ok(())
    } else {
        Err(TaxiiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("send envelopes as {TAXII_MEDIA_TYPE}"),
        ))
    }
}

/// Middleware: on `/taxii2/` paths, an error answered by any layer (authentication, the body
/// limit, the timeout, an unknown path) in Rampart's own error shape becomes a TAXII error
/// message with the same status and text.
pub async fn taxii_errors(request: Request, next: Next) -> Response {
    let is_taxii = request.uri().path().starts_with(PREFIX) || request.uri().path() == "/taxii2";
    let response = next.run(request).await;
    let status = response.status();
    if !is_taxii || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let already = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_taxii_21);
    if already {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<crate::error::ErrorBody>(&bytes)
        .map(|body| body.error.message)
        .unwrap_or_else(|_| crate::error::ApiError::from_status(status).message);
    let title = match status {
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "Request too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported media type",
        status if status.is_server_error() => "Server error",
        _ => "Bad request",
    };
    let mut replacement = TaxiiError::new(status, title, detail).into_response();
    // Keep the headers the layer set (Allow, WWW-Authenticate…), with the TAXII body's type.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    if status == StatusCode::UNAUTHORIZED {
        replacement.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"rampart\", Bearer realm=\"rampart\""),
        );
    }
    replacement
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        headers
    }

    #[test]
    fn media_types_are_matched_with_their_version() {
        assert!(is_taxii_21("application/taxii+json;version=2.1"));
        assert!(is_taxii_21("application/taxii+json; version=2.1"));
        assert!(is_taxii_21("application/taxii+json"));
        assert!(!is_taxii_21("application/taxii+json;version=2.0"));
        assert!(!is_taxii_21("application/json"));
        assert!(!is_taxii_21("application/stix+json;version=2.1"));
    }

    #[test]
    fn accept_and_content_type_are_checked() {
        assert!(check_accept(&HeaderMap::new()).is_ok());
        assert!(check_accept(&headers(header::ACCEPT, "*/*")).is_ok());
        assert!(
            check_accept(&headers(
                header::ACCEPT,
                "text/html, application/taxii+json;version=2.1"
            ))
            .is_ok()
        );
        let refused = check_accept(&headers(header::ACCEPT, "application/json")).unwrap_err();
        assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
        let refused = check_accept(&headers(
            header::ACCEPT,
            "application/taxii+json;version=2.0",
        ))
        .unwrap_err();
        assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
        assert!(check_content_type(&headers(header::CONTENT_TYPE, TAXII_MEDIA_TYPE)).is_ok());
        let refused =
            check_content_type(&headers(header::CONTENT_TYPE, "application/json")).unwrap_err();
        assert_eq!(refused.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            check_content_type(&HeaderMap::new()).unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[test]
    fn error_bodies_have_title_description_and_status() {
        let body = serde_json::to_value(TaxiiError::not_found("no collection x").body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"title": "Not found", "description": "no collection x", "http_status": "404"})
        );
    }
}
