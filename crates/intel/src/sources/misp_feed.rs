//! MISP feeds: the static layout MISP publishes and consumes (`manifest.json`, an object keyed
//! by event uuid with each event's `timestamp`, beside one `<uuid>.json` per event), read from
//! an HTTP(S) base URL or a local directory.
//!
//! Cursors: one per event, `event/<uuid>` = the manifest timestamp last imported. A feed may
//! publish an old event late, or re-publish one with a newer timestamp; a single "newest
//! timestamp" cursor would miss the first case, per-event cursors miss neither. Only events
//! whose manifest timestamp is newer than their cursor are fetched. Over HTTP the manifest's
//! ETag is kept too (`manifest-etag`), so an unchanged feed costs one request.
//!
//! Manifest keys are used in paths and URLs, so only real uuids are accepted: a key such as
//! `../../etc/passwd` is skipped with a warning.

use std::sync::Arc;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::http::MAX_BODY;
use super::{PullContext, PullError, PullStatus, Transport, read_body};
use crate::formats::Format;
use crate::import::ImportError;

/// Largest manifest accepted (CIRCL's OSINT feed manifest is about 2 MB).
pub const MAX_MANIFEST: u64 = 64 * 1024 * 1024;
/// Cursor key of the manifest's ETag.
pub const MANIFEST_ETAG: &str = "manifest-etag";

/// A MISP feed at `base`: `https://host/feed` (no trailing `manifest.json`), `file:///dir`
/// or a plain directory path.
pub struct MispFeedTransport {
    pub base: String,
    /// Extra request headers (e.g. an `Authorization` some feed hosts want).
    pub headers: Vec<(String, String)>,
}

/// One event the manifest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    uuid: Uuid,
    /// Epoch seconds; `None` when the manifest gives none (then it is fetched once).
    timestamp: Option<i64>,
}

impl MispFeedTransport {
    pub fn new(base: impl Into<String>) -> MispFeedTransport {
        MispFeedTransport {
            base: base.into(),
            headers: Vec::new(),
        }
    }

    fn is_http(&self) -> bool {
        self.base.starts_with("http://") || self.base.starts_with("https://")
    }

    fn url(&self, file: &str) -> String {
        format!("{}/{file}", self.base.trim_end_matches('/'))
    }

    fn path(&self, file: &str) -> std::path::PathBuf {
        let dir = self.base.strip_prefix("file://").unwrap_or(&self.base);
        std::path::Path::new(dir).join(file)
    }

    fn request(&self, ctx: &PullContext<'_>, url: &str) -> reqwest::RequestBuilder {
        let mut request = ctx.http.get(url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// The manifest, or `None` when the server says it has not changed.
    async fn manifest(&self, ctx: &mut PullContext<'_>) -> Result<Option<Vec<u8>>, PullError> {
        if !self.is_http() {
            let path = self.path("manifest.json");
            let bytes = tokio::fs::read(&path).await.map_err(|err| {
                PullError::Other(format!("{}: cannot read: {err}", path.display()))
            })?;
            return Ok(Some(bytes));
        }
        let url = self.url("manifest.json");
        let mut request = self.request(ctx, &url);
        if let Some(etag) = ctx
            .store
            .cursor(ctx.source, MANIFEST_ETAG)
            .await
            .map_err(ImportError::from)?
        {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|err| PullError::Http {
            url: url.clone(),
            reason: err.to_string(),
        })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(PullError::Http {
                url,
                reason: format!("server answered {status}"),
            });
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = read_body(response, &url, MAX_MANIFEST).await?;
        if let Some(etag) = etag {
            ctx.cursors.push((MANIFEST_ETAG.into(), etag));
        }
        Ok(Some(body.0))
    }

    /// Fetches one event document and parses it into the session. `false` when the feed lists
    /// an event it does not have (a stale manifest entry): that one is skipped, with a warning,
    /// so it cannot block the rest of the feed, and its cursor does not move.
    async fn import_event(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
        uuid: Uuid,
    ) -> Result<bool, PullError> {
        let file = format!("{uuid}.json");
        if !self.is_http() {
            let path = self.path(&file);
            let origin = path.display().to_string();
            let opened = match tokio::fs::File::open(&path).await {
                Ok(opened) => opened,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(
                        event = origin.as_str(),
                        "manifest lists an event file that does not exist"
                    );
                    return Ok(false);
                }
                Err(err) => return Err(PullError::Other(format!("{origin}: cannot open: {err}"))),
            };
            let reader = Box::new(std::io::BufReader::with_capacity(
                1 << 20,
                opened.into_std().await,
            ));
            ctx.session.parse_document(format, reader, &origin).await?;
            return Ok(true);
        }
        let url = self.url(&file);
        let response = self
            .request(ctx, &url)
            .send()
            .await
            .map_err(|err| PullError::Http {
                url: url.clone(),
                reason: err.to_string(),
            })?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            tracing::warn!(
                event = url.as_str(),
                "manifest lists an event the server does not have"
            );
            return Ok(false);
        }
        if !status.is_success() {
            return Err(PullError::Http {
                url,
                reason: format!("server answered {status}"),
            });
        }
        let body = read_body(response, &url, MAX_BODY).await?;
        ctx.session
            .parse_document(format, body.into_reader(), &url)
            .await?;
        Ok(true)
    }
}

#[async_trait::async_trait]
impl Transport for MispFeedTransport {
    async fn pull(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
    ) -> Result<PullStatus, PullError> {
        let Some(manifest) = self.manifest(ctx).await? else {
            return Ok(PullStatus::NotModified);
        };
        let origin = if self.is_http() {
            self.url("manifest.json")
        } else {
            self.path("manifest.json").display().to_string()
        };
        let listed = read_manifest(&manifest, &origin)?;
        drop(manifest);
        let mut documents = 0;
        for event in listed {
            let key = format!("event/{}", event.uuid);
            let imported = ctx
                .store
                .cursor(ctx.source, &key)
                .await
                .map_err(ImportError::from)?;
            let imported = imported.and_then(|value| value.parse::<i64>().ok());
            let wanted = match (event.timestamp, imported) {
                (_, None) => true,
                (Some(listed), Some(imported)) => listed > imported,
                (None, Some(_)) => false,
            };
            if !wanted {
                continue;
            }
            if !self.import_event(format.clone(), ctx, event.uuid).await? {
                continue;
            }
            documents += 1;
            ctx.cursors
                .push((key, event.timestamp.unwrap_or(0).to_string()));
        }
        if documents == 0 {
            return Ok(PullStatus::NotModified);
        }
        Ok(PullStatus::Fetched {
            documents,
            full_list: false,
        })
    }
}

/// The events a manifest lists, oldest first (so an interrupted pull resumes in order).
fn read_manifest(bytes: &[u8], origin: &str) -> Result<Vec<Listed>, PullError> {
    let manifest: Map<String, Value> = serde_json::from_slice(bytes).map_err(|err| {
        PullError::Other(format!(
            "{origin}: not a MISP feed manifest (a JSON object keyed by event uuid): {err}"
        ))
    })?;
    let mut listed = Vec::with_capacity(manifest.len());
    for (key, entry) in &manifest {
        let Ok(uuid) = Uuid::parse_str(key) else {
            tracing::warn!(
                manifest = origin,
                key = key.as_str(),
                "skipping manifest entry whose key is not a uuid"
            );
            continue;
        };
        let timestamp = match entry.get("timestamp") {
            Some(Value::Number(number)) => number.as_i64(),
            Some(Value::String(text)) => text.trim().parse().ok(),
            _ => None,
        };
        listed.push(Listed { uuid, timestamp });
    }
    listed.sort_by_key(|event| (event.timestamp, event.uuid));
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_must_be_uuids_and_timestamps_may_be_strings() {
        let manifest = br#"{
            "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81": {"timestamp": 1455373240},
            "../../etc/passwd": {"timestamp": 1},
            "5a3c2fcd-8328-42bb-a95e-4f4402de0b81": {"timestamp": "1455000000"},
            "57c4445b-c548-4654-af0b-4be3950d210f": {"info": "no timestamp"}
        }"#;
        let listed = read_manifest(manifest, "test").unwrap();
        let found: Vec<(String, Option<i64>)> = listed
            .iter()
            .map(|event| (event.uuid.to_string(), event.timestamp))
            .collect();
        assert_eq!(
            found,
            [
                ("57c4445b-c548-4654-af0b-4be3950d210f".to_owned(), None),
                (
                    "5a3c2fcd-8328-42bb-a95e-4f4402de0b81".to_owned(),
                    Some(1455000000)
                ),
                (
                    "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81".to_owned(),
                    Some(1455373240)
                ),
            ]
        );
        assert!(read_manifest(b"[1, 2]", "test").is_err());
    }
}
