//! TAXII 2.1 (OASIS): a client for the consumer side of the API, and a [`Transport`] that pulls
//! what a collection gained since the last pull.
//!
//! - [`TaxiiClient`] speaks the endpoints: discovery, API root, collections, collection,
//!   objects (paged with `limit`/`next`/`more`, filtered with `added_after` and `match[…]`) and
//!   manifest. It sends `Accept: application/taxii+json;version=2.1`, rejects answers labelled
//!   otherwise, limits body sizes and reports the server's error message.
//! - [`TaxiiTransport`] feeds every page's envelope to a format (normally `stix`) and moves the
//!   cursor `added_after:<collection id>` when the import commits.
//!
//! ```no_run
//! # async fn demo(http: reqwest::Client) -> Result<(), rampart_intel::sources::taxii::TaxiiError> {
//! use rampart_intel::sources::taxii::{ObjectsQuery, TaxiiAuth, TaxiiClient};
//! let auth = TaxiiAuth::Basic { username: "analyst".into(), password: "secret".into() };
//! let client = TaxiiClient::new(http, auth);
//! let discovery = client.discovery("https://taxii.example/taxii2/").await?;
//! for root in discovery.resolved_api_roots("https://taxii.example/taxii2/")? {
//!     for collection in client.collections(&root).await? {
//!         let url = rampart_intel::sources::taxii::collection_url(&root, &collection.id)?;
//!         let page = client.objects(url.as_str(), &ObjectsQuery { limit: Some(100), ..Default::default() }).await?;
//!         println!("{}: {} objects, more: {}", collection.title, page.objects.len(), page.more);
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod resources;
mod transport;

pub use client::{
    DEFAULT_MAX_BODY, ObjectsQuery, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE, TaxiiAuth, TaxiiClient,
    collection_url,
};
pub use resources::{
    ApiRoot, Collection, Discovery, ErrorMessage, ManifestEntry, ManifestPage, ObjectSummary,
    ObjectsPage,
};
pub use transport::{CollectionLocation, MAX_PAGES, TaxiiSettings, TaxiiTransport, cursor_key};

use super::PullError;
#[cfg(doc)]
use super::Transport;

/// What went wrong talking to a TAXII server. Every variant names the URL it concerns.
#[derive(Debug, thiserror::Error)]
pub enum TaxiiError {
    #[error("{url}: invalid URL: {reason}")]
    Url { url: String, reason: String },
    #[error("{url}: request failed: {reason}")]
    Request { url: String, reason: String },
    /// 401 or 403: wrong or missing credentials, or no access to the resource.
    #[error("{url}: authentication failed (HTTP {status}){}", suffix(.detail))]
    Auth {
        url: String,
        status: u16,
        detail: Option<String>,
    },
    /// Any other failure status, with the server's error message if it sent one.
    #[error("{url}: server answered HTTP {status}{}", suffix(.detail))]
    Status {
        url: String,
        status: u16,
        detail: Option<String>,
    },
    #[error("{url}: unexpected content type {found:?} (expected {expected})")]
    ContentType {
        url: String,
        found: String,
        expected: &'static str,
    },
    /// The body was too large or could not be read.
    #[error("{url}: {reason}")]
    Body { url: String, reason: String },
    #[error("{url}: malformed {what} at line {line}, column {column}: {reason}")]
    Json {
        url: String,
        what: &'static str,
        line: usize,
        column: usize,
        reason: String,
    },
    /// The server broke the protocol (a paging loop, `more` without a way to continue…).
    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },
    /// The source configuration is unusable.
    #[error("taxii configuration: {0}")]
    Config(String),
}

fn suffix(detail: &Option<String>) -> String {
    detail
        .as_ref()
        .map_or_else(String::new, |text| format!(": {text}"))
}

impl TaxiiError {
    /// Whether the server refused the credentials.
    pub fn is_auth(&self) -> bool {
        matches!(self, TaxiiError::Auth { .. })
    }
}

impl From<TaxiiError> for PullError {
    fn from(err: TaxiiError) -> PullError {
        match err {
            TaxiiError::Request { url, reason } => PullError::Http {
                url,
                reason: format!("request failed: {reason}"),
            },
            other => PullError::Other(other.to_string()),
        }
    }
}

impl Discovery {
    /// The API root URLs, resolved against the discovery URL (servers may list relative ones).
    pub fn resolved_api_roots(&self, discovery_url: &str) -> Result<Vec<String>, TaxiiError> {
        let base = client::parse_url(discovery_url)?;
        self.api_roots
            .iter()
            .map(|root| {
                base.join(root)
                    .map(|url| url.to_string())
                    .map_err(|err| TaxiiError::Url {
                        url: root.clone(),
                        reason: err.to_string(),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_url_and_the_servers_reason() {
        let auth = TaxiiError::Auth {
            url: "https://taxii.example/taxii2/".into(),
            status: 401,
            detail: Some("Unauthorized: bad token".into()),
        };
        assert_eq!(
            auth.to_string(),
            "https://taxii.example/taxii2/: authentication failed (HTTP 401): Unauthorized: bad token"
        );
        assert!(auth.is_auth());
        let status = TaxiiError::Status {
            url: "u".into(),
            status: 404,
            detail: None,
        };
        assert_eq!(status.to_string(), "u: server answered HTTP 404");
        assert_eq!(
            PullError::from(status).to_string(),
            "u: server answered HTTP 404"
        );
    }

    #[test]
    fn relative_api_roots_are_resolved() {
        let discovery = Discovery {
            title: "t".into(),
            description: None,
            contact: None,
            default: None,
            api_roots: vec!["/api1/".into(), "https://other.example/api2/".into()],
        };
        assert_eq!(
            discovery
                .resolved_api_roots("https://taxii.example/taxii2/")
                .unwrap(),
            ["https://taxii.example/api1/", "https://other.example/api2/"]
        );
    }
}
