//! The TAXII 2.1 HTTP client: one method per endpoint a consumer needs, each checking the
//! status, the media type and the body size before parsing.

use std::fmt;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use url::Url;

use super::TaxiiError;
use super::resources::{
    ApiRoot, Collection, Collections, Discovery, EnvelopeHead, ErrorMessage, LenientHead,
    ManifestBody, ManifestPage, ObjectsPage, next_token,
};
use crate::sources::{PullError, read_body};

/// The media type of TAXII 2.1 resources, sent as `Accept` on every request.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX media type some servers answer object requests with.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// Largest response body accepted by default (one page of objects).
pub const DEFAULT_MAX_BODY: u64 = 64 * 1024 * 1024;
/// Largest error body read to find the server's error message.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Credentials for a TAXII server.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum TaxiiAuth {
    #[default]
    None,
    /// HTTP basic authentication.
    Basic { username: String, password: String },
    /// `Authorization: Bearer TOKEN`.
    Bearer { token: String },
}

impl fmt::Debug for TaxiiAuth {
    /// Never prints a secret: debug output ends up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaxiiAuth::None => f.write_str("None"),
            TaxiiAuth::Basic { username, .. } => {
                write!(f, "Basic {{ username: {username:?}, password: *** }}")
            }
            TaxiiAuth::Bearer { .. } => f.write_str("Bearer { token: *** }"),
        }
    }
}

/// Filters and paging of a get-objects or get-manifest request. Empty lists send nothing;
/// several values in one list are sent comma-separated, as the specification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectsQuery {
    /// Only objects added strictly after this timestamp (as the server wrote it).
    pub added_after: Option<String>,
    /// Page size asked for; the server may send fewer.
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub next: Option<String>,
    pub match_id: Vec<String>,
    pub match_type: Vec<String>,
    /// Object versions: `last` (the server default), `first`, `all` or timestamps.
    pub match_version: Vec<String>,
    pub match_spec_version: Vec<String>,
}

impl ObjectsQuery {
    /// The query string, with literal `match[...]` names as the specification writes them and
    /// percent-encoded values.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(added_after) = &self.added_after {
            pairs.push(("added_after", added_after.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(next) = &self.next {
            pairs.push(("next", next.clone()));
        }
        for (name, values) in [
            ("match[id]", &self.match_id),
            ("match[type]", &self.match_type),
            ("match[version]", &self.match_version),
            ("match[spec_version]", &self.match_spec_version),
        ] {
            if !values.is_empty() {
                pairs.push((name, values.join(",")));
            }
        }
        pairs
            .into_iter()
            .map(|(name, value)| {
                format!(
                    "{name}={}",
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A TAXII 2.1 client over an already configured `reqwest::Client` (timeouts, proxy, TLS).
#[derive(Debug, Clone)]
pub struct TaxiiClient {
    http: reqwest::Client,
    auth: TaxiiAuth,
    max_body: u64,
}

/// Which media types a response may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Taxii,
    /// Objects: TAXII envelope, or STIX as some servers label it.
    TaxiiOrStix,
}

impl TaxiiClient {
    pub fn new(http: reqwest::Client, auth: TaxiiAuth) -> TaxiiClient {
        TaxiiClient {
            http,
            auth,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Sets the largest response body accepted, in bytes.
    pub fn with_max_body(mut self, max_body: u64) -> TaxiiClient {
        self.max_body = max_body;
        self
    }

    /// Server discovery. `discovery_url` is the full URL, usually `https://HOST/taxii2/`.
    pub async fn discovery(&self, discovery_url: &str) -> Result<Discovery, TaxiiError> {
        let url = parse_url(discovery_url)?;
        let (_, body) = self.get(url.clone(), Expect::Taxii).await?;
        parse_json(&url, "discovery resource", &body)
    }

    /// An API root's information.
    pub async fn api_root(&self, api_root_url: &str) -> Result<ApiRoot, TaxiiError> {
        let url = directory(api_root_url)?;
        let (_, body) = self.get(url.clone(), Expect::Taxii).await?;
        parse_json(&url, "API root resource", &body)
    }

    /// The collections of an API root.
    pub async fn collections(&self, api_root_url: &str) -> Result<Vec<Collection>, TaxiiError> {
        let url = child(&directory(api_root_url)?, &["collections"])?;
        let (_, body) = self.get(url.clone(), Expect::Taxii).await?;
        let collections: Collections = parse_json(&url, "collections resource", &body)?;
        Ok(collections.collections)
    }

    /// One collection's information, by id.
    pub async fn collection(
        &self,
        api_root_url: &str,
        collection_id: &str,
    ) -> Result<Collection, TaxiiError> {
        let url = collection_url(api_root_url, collection_id)?;
        self.collection_at(url.as_str()).await
    }

    /// One collection's information, by its URL (`{api-root}collections/{id}/`).
    pub async fn collection_at(&self, collection_url: &str) -> Result<Collection, TaxiiError> {
        let url = directory(collection_url)?;
        let (_, body) = self.get(url.clone(), Expect::Taxii).await?;
        parse_json(&url, "collection resource", &body)
    }

    /// One page of a collection's objects. `collection_url` is `{api-root}collections/{id}/`.
    pub async fn objects(
        &self,
        collection_url: &str,
        query: &ObjectsQuery,
    ) -> Result<ObjectsPage, TaxiiError> {
        let mut url = child(&directory(collection_url)?, &["objects"])?;
        set_query(&mut url, query);
        let (headers, body) = self.get(url.clone(), Expect::TaxiiOrStix).await?;
        let head: EnvelopeHead = parse_json(&url, "envelope", &body)?;
        Ok(ObjectsPage {
            more: head.more.unwrap_or(false),
            next: next_token(head.next),
            objects: head
                .objects
                .unwrap_or_default()
                .into_iter()
                .map(LenientHead::into_summary)
                .collect(),
            date_added_first: date_header(&headers, "x-taxii-date-added-first"),
            date_added_last: date_header(&headers, "x-taxii-date-added-last"),
            url: url.into(),
            body,
        })
    }

    /// One page of a collection's manifest.
    pub async fn manifest(
        &self,
        collection_url: &str,
        query: &ObjectsQuery,
    ) -> Result<ManifestPage, TaxiiError> {
        let mut url = child(&directory(collection_url)?, &["manifest"])?;
        set_query(&mut url, query);
        let (headers, body) = self.get(url.clone(), Expect::Taxii).await?;
        let manifest: ManifestBody = parse_json(&url, "manifest resource", &body)?;
        Ok(ManifestPage {
            more: manifest.more.unwrap_or(false),
            next: next_token(manifest.next),
            entries: manifest.objects,
            date_added_first: date_header(&headers, "x-taxii-date-added-first"),
            date_added_last: date_header(&headers, "x-taxii-date-added-last"),
        })
    }

    /// Sends one GET and returns the headers and the body of a successful, well-labelled answer.
    async fn get(&self, url: Url, expect: Expect) -> Result<(HeaderMap, Vec<u8>), TaxiiError> {
        let mut request = self.http.get(url.clone()).header(ACCEPT, TAXII_MEDIA_TYPE);
        request = match &self.auth {
            TaxiiAuth::None => request,
            TaxiiAuth::Basic { username, password } => request.basic_auth(username, Some(password)),
            TaxiiAuth::Bearer { token } => request.bearer_auth(token),
        };
        let response = request.send().await.map_err(|err| TaxiiError::Request {
            url: url.to_string(),
            reason: error_chain(&err),
        })?;
        let status = response.status();
        if !status.is_success() {
            let detail = error_detail(response, url.as_str()).await;
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(TaxiiError::Auth {
                    url: url.to_string(),
                    status: status.as_u16(),
                    detail,
                });
            }
            return Err(TaxiiError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                detail,
            });
        }
        check_media_type(&url, response.headers(), expect)?;
        let headers = response.headers().clone();
        let body = read_body(response, url.as_str(), self.max_body)
            .await
            .map_err(|err| match err {
                PullError::Http { url, reason } => TaxiiError::Body { url, reason },
                other => TaxiiError::Body {
                    url: url.to_string(),
                    reason: other.to_string(),
                },
            })?;
        Ok((headers, body.0))
    }
}

/// The error message in a failure body, if it is one.
async fn error_detail(response: reqwest::Response, url: &str) -> Option<String> {
    let body = read_body(response, url, MAX_ERROR_BODY).await.ok()?;
    let message: ErrorMessage = serde_json::from_slice(&body.0).ok()?;
    message.summary()
}

/// A reqwest error with its causes, which hold the useful part (connection refused, DNS…).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn check_media_type(url: &Url, headers: &HeaderMap, expect: Expect) -> Result<(), TaxiiError> {
    let expected = match expect {
        Expect::Taxii => TAXII_MEDIA_TYPE,
        Expect::TaxiiOrStix => {
            "application/taxii+json;version=2.1 or application/stix+json;version=2.1"
        }
    };
    let found = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let accepted = found
        .as_deref()
        .is_some_and(|value| media_type_accepted(value, expect));
    if accepted {
        return Ok(());
    }
    Err(TaxiiError::ContentType {
        url: url.to_string(),
        found: found.map_or_else(
            || "none".to_owned(),
            |value| super::resources::clean_text(&value, 100),
        ),
        expected,
    })
}

/// Whether a `Content-Type` names TAXII (or, for objects, STIX) JSON of version 2.1. A missing
/// version parameter is accepted: 2.1 is the only version with these media types in use.
fn media_type_accepted(value: &str, expect: Expect) -> bool {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let essence_ok = essence == "application/taxii+json"
        || (expect == Expect::TaxiiOrStix && essence == "application/stix+json");
    if !essence_ok {
        return false;
    }
    parts.all(|parameter| match parameter.split_once('=') {
        Some((name, version)) if name.trim().eq_ignore_ascii_case("version") => {
            version.trim().trim_matches('"') == "2.1"
        }
        _ => true,
    })
}

/// A response header holding a TAXII timestamp, kept as the server wrote it (servers compare
/// `added_after` at their own precision) but only if it is a timestamp at all.
fn date_header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    match value.parse::<jiff::Timestamp>() {
        Ok(_) => Some(value.to_owned()),
        Err(err) => {
            tracing::warn!(header = name, value = %super::resources::clean_text(value, 60), "ignoring a header that is not a timestamp: {err}");
            None
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    url: &Url,
    what: &'static str,
    body: &[u8],
) -> Result<T, TaxiiError> {
    serde_json::from_slice(body).map_err(|err| TaxiiError::Json {
        url: url.to_string(),
        what,
        line: err.line(),
        column: err.column(),
        reason: strip_position(&err),
    })
}

fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn set_query(url: &mut Url, query: &ObjectsQuery) {
    let text = query.to_query_string();
    url.set_query(if text.is_empty() { None } else { Some(&text) });
}

/// Parses an http(s) URL.
pub(crate) fn parse_url(text: &str) -> Result<Url, TaxiiError> {
    let url = Url::parse(text.trim()).map_err(|err| TaxiiError::Url {
        url: text.to_owned(),
        reason: err.to_string(),
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(TaxiiError::Url {
            url: text.to_owned(),
            reason: "expected an http or https URL".into(),
        });
    }
    Ok(url)
}

/// A URL that names a TAXII resource "directory": TAXII URLs end with a slash, and joining
/// relative paths onto one without it would drop its last segment.
pub(crate) fn directory(text: &str) -> Result<Url, TaxiiError> {
    let mut url = parse_url(text)?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// `base` with `segments` appended (each percent-encoded) and a trailing slash.
pub(crate) fn child(base: &Url, segments: &[&str]) -> Result<Url, TaxiiError> {
    let mut url = base.clone();
    {
        let mut path = url.path_segments_mut().map_err(|()| TaxiiError::Url {
            url: base.to_string(),
            reason: "cannot hold a path".into(),
        })?;
        path.pop_if_empty();
        for segment in segments {
            path.push(segment);
        }
        path.push("");
    }
    Ok(url)
}

/// `{api-root}collections/{id}/`.
pub fn collection_url(api_root_url: &str, collection_id: &str) -> Result<Url, TaxiiError> {
    child(&directory(api_root_url)?, &["collections", collection_id])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_keep_bracketed_names_and_encode_values() {
        let query = ObjectsQuery {
            added_after: Some("2024-01-01T00:00:00.000Z".into()),
            limit: Some(50),
            next: Some("a b&c".into()),
            match_type: vec!["indicator".into(), "malware".into()],
            match_version: vec!["all".into()],
            ..Default::default()
        };
        assert_eq!(
            query.to_query_string(),
            "added_after=2024-01-01T00%3A00%3A00.000Z&limit=50&next=a+b%26c&match[type]=indicator%2Cmalware&match[version]=all"
        );
        assert_eq!(ObjectsQuery::default().to_query_string(), "");
    }

    #[test]
    fn media_types_are_checked_by_essence_and_version() {
        assert!(media_type_accepted(
            "application/taxii+json;version=2.1",
            Expect::Taxii
        ));
        assert!(media_type_accepted(
            "Application/TAXII+json; charset=utf-8; version=\"2.1\"",
            Expect::Taxii
        ));
        assert!(media_type_accepted("application/taxii+json", Expect::Taxii));
        assert!(!media_type_accepted(
            "application/taxii+json;version=2.0",
            Expect::Taxii
        ));
        assert!(!media_type_accepted(
            "application/stix+json;version=2.1",
            Expect::Taxii
        ));
        assert!(media_type_accepted(
            "application/stix+json;version=2.1",
            Expect::TaxiiOrStix
        ));
        assert!(!media_type_accepted(
            "text/html; charset=utf-8",
            Expect::TaxiiOrStix
        ));
        assert!(!media_type_accepted(
            "application/json",
            Expect::TaxiiOrStix
        ));
    }

    #[test]
    fn urls_are_built_as_directories() {
        let url = collection_url("https://taxii.example/api1", "91a7b528-80eb").unwrap();
        assert_eq!(
            url.as_str(),
            "https://taxii.example/api1/collections/91a7b528-80eb/"
        );
        let objects = child(
            &directory("https://taxii.example/api1/collections/x/?q=1").unwrap(),
            &["objects"],
        )
        .unwrap();
        assert_eq!(
            objects.as_str(),
            "https://taxii.example/api1/collections/x/objects/"
        );
        let odd = collection_url("https://taxii.example/r/", "a/b c").unwrap();
        assert_eq!(
            odd.as_str(),
            "https://taxii.example/r/collections/a%2Fb%20c/"
        );
        assert!(parse_url("ftp://taxii.example/").is_err());
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let basic = TaxiiAuth::Basic {
            username: "analyst".into(),
            password: "hunter2".into(),
        };
        let bearer = TaxiiAuth::Bearer {
            token: "s3cret".into(),
        };
        assert!(!format!("{basic:?}").contains("hunter2"));
        assert!(format!("{basic:?}").contains("analyst"));
        assert!(!format!("{bearer:?}").contains("s3cret"));
    }

    #[test]
    fn date_headers_must_be_timestamps() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-taxii-date-added-last",
            "2024-01-01T00:00:07.000000Z".parse().unwrap(),
        );
        headers.insert("x-taxii-date-added-first", "yesterday".parse().unwrap());
        assert_eq!(
            date_header(&headers, "x-taxii-date-added-last").as_deref(),
            Some("2024-01-01T00:00:07.000000Z")
        );
        assert_eq!(date_header(&headers, "x-taxii-date-added-first"), None);
    }
}
