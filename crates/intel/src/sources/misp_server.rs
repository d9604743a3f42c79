//! A MISP server's REST API: incremental pulls of attributes, and sightings pushed back.
//!
//! Pulls use `POST /attributes/restSearch`, which MISP documents for "modified attributes since":
//! its `timestamp` filter compares against each attribute's own last-edit time (`>=`), so a pull
//! gets exactly the attributes added, edited or deleted since the last one, where
//! `/events/restSearch` would resend every attribute of any touched event. `includeEventTags`
//! folds the event's tags (TLP, galaxies) into each attribute's `Tag` list and `includeContext`
//! adds the event's uuid and date. Deleted attributes are asked for too, so deletions arrive
//! as revocations. Pages (`limit`/`page`, first page 1) are requested until a short one.
//!
//! The cursor `timestamp` is the newest attribute timestamp imported, and the next pull asks
//! for `timestamp + 1`. If that newest second is not over yet on the server (its `Date`
//! header is not past it), more attributes may still get that timestamp, so the cursor is set
//! one second earlier and that second is asked for again next time.
//!
//! Not seen by this design: an event re-tagged without touching its attributes (attribute
//! timestamps do not change), until its attributes next change.

use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Value, json};

use super::bytes_like::Bytes;
use super::http::MAX_BODY;
use super::{PullContext, PullError, PullStatus, Transport, read_body};
use crate::formats::Format;
use crate::import::ImportError;

/// Cursor key of the newest attribute timestamp imported.
pub const TIMESTAMP_CURSOR: &str = "timestamp";
/// Pages requested in one pull at most, so a server that never sends a short page cannot
/// keep a pull running forever.
pub const MAX_PAGES: u32 = 100_000;

/// A MISP server to pull attributes from.
#[derive(Debug, Clone)]
pub struct MispServerTransport {
    /// The server's base URL, e.g. `https://misp.example.org`.
    pub base: String,
    /// An automation (API) key, sent as `Authorization: <key>`.
    pub authkey: String,
    /// Only attributes of published (`true`) or unpublished (`false`) events; `None` for both.
    pub published: Option<bool>,
    /// Only attributes with this `to_ids` flag; `None` for both (those with `to_ids: false`
    /// are imported with a lower confidence, see the `misp` format).
    pub to_ids: Option<bool>,
    /// Attributes per page.
    pub page_size: u32,
}

impl MispServerTransport {
    pub fn new(base: impl Into<String>, authkey: impl Into<String>) -> MispServerTransport {
        MispServerTransport {
            base: base.into(),
            authkey: authkey.into(),
            published: None,
            to_ids: None,
            page_size: 1000,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base.trim_end_matches('/'))
    }

    fn search_body(&self, since: Option<i64>, page: u32) -> Value {
        let mut body = json!({
            "returnFormat": "json",
            "limit": self.page_size,
            "page": page,
            "includeEventTags": true,
            "includeContext": true,
            "deleted": [0, 1],
        });
        if let Some(since) = since {
            body["timestamp"] = json!(since);
        }
        if let Some(published) = self.published {
            body["published"] = json!(published);
        }
        if let Some(to_ids) = self.to_ids {
            body["to_ids"] = json!(to_ids);
        }
        body
    }
}

#[async_trait::async_trait]
impl Transport for MispServerTransport {
    async fn pull(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
    ) -> Result<PullStatus, PullError> {
        if self.page_size == 0 {
            return Err(PullError::Other(
                "misp server: page_size must be at least 1".into(),
            ));
        }
        let url = self.url("attributes/restSearch");
        let cursor = ctx
            .store
            .cursor(ctx.source, TIMESTAMP_CURSOR)
            .await
            .map_err(ImportError::from)?;
        let cursor = match cursor {
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                PullError::Other(format!(
                    "cursor {TIMESTAMP_CURSOR} of {} is not a number: {text:?}",
                    ctx.source
                ))
            })?),
            None => None,
        };
        let since = cursor.map(|seconds| seconds + 1);
        let mut newest = cursor;
        let mut server_now = None;
        let mut documents = 0;
        for page in 1..=MAX_PAGES {
            let response = ctx
                .http
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, &self.authkey)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&self.search_body(since, page))
                .send()
                .await
                .map_err(|err| PullError::Http {
                    url: url.clone(),
                    reason: err.to_string(),
                })?;
            check_status(&response, &url)?;
            server_now = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|value| value.to_str().ok())
                .and_then(|text| {
                    jiff::fmt::rfc2822::DateTimeParser::new()
                        .parse_timestamp(text)
                        .ok()
                })
                .or(server_now);
            let body = read_body(response, &url, MAX_BODY).await?;
            let origin = format!("{url} page {page}");
            let (body, scan) = scan_page(body, &origin).await?;
            if scan.attributes > 0 {
                ctx.session
                    .parse_document(format.clone(), body.into_reader(), &origin)
                    .await?;
                documents += 1;
            }
            newest = newest.max(scan.newest);
            if scan.attributes < u64::from(self.page_size) {
                break;
            }
            if page == MAX_PAGES {
                return Err(PullError::Http {
                    url,
                    reason: format!("still full pages after {MAX_PAGES} pages"),
                });
            }
        }
        if let Some(newest) = newest
            && Some(newest) != cursor
        {
            let unfinished = server_now.is_none_or(|now| now.as_second() <= newest);
            let settled = if unfinished { newest - 1 } else { newest };
            if cursor.is_none_or(|cursor| settled > cursor) {
                ctx.cursors
                    .push((TIMESTAMP_CURSOR.into(), settled.to_string()));
            }
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

/// Sends sightings of `values` to `POST {base}/sightings/add` (MISP matches them to its
/// attributes by value), with source `rampart` and type 0 (a sighting, not a false positive).
pub async fn push_sightings(
    client: &reqwest::Client,
    base: &str,
    authkey: &str,
    values: &[String],
) -> Result<(), PullError> {
    if values.is_empty() {
        return Ok(());
    }
    let url = format!("{}/sightings/add", base.trim_end_matches('/'));
    let response = client
        .post(&url)
        .header(reqwest::header::AUTHORIZATION, authkey)
        .header(reqwest::header::ACCEPT, "application/json")
        .json(&json!({"values": values, "source": "rampart", "type": "0"}))
        .send()
        .await
        .map_err(|err| PullError::Http {
            url: url.clone(),
            reason: err.to_string(),
        })?;
    check_status(&response, &url)?;
    let body = read_body(response, &url, 1024 * 1024).await?;
    // MISP answers some refusals with 200 and `{"saved": false, "errors": …}`.
    if let Ok(answer) = serde_json::from_slice::<Value>(&body.0)
        && (answer.get("saved") == Some(&Value::Bool(false))
            || answer.get("errors").is_some_and(|e| !e.is_null()))
    {
        let said = answer
            .get("errors")
            .or_else(|| answer.get("message"))
            .cloned()
            .unwrap_or(Value::Null);
        return Err(PullError::Http {
            url,
            reason: format!("sightings not saved: {}", excerpt(&said.to_string())),
        });
    }
    Ok(())
}

fn check_status(response: &reqwest::Response, url: &str) -> Result<(), PullError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let reason = match status {
        reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
            format!("server answered {status}: authentication failed (check the auth key)")
        }
        _ => format!("server answered {status}"),
    };
    Err(PullError::Http {
        url: url.to_owned(),
        reason,
    })
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

/// How many attributes a restSearch page holds and the newest timestamp among them, read
/// without building the attributes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PageScan {
    attributes: u64,
    newest: Option<i64>,
}

/// Scans a page on a blocking thread, handing the body back for parsing.
async fn scan_page(body: Bytes, origin: &str) -> Result<(Bytes, PageScan), PullError> {
    let (body, scanned) = tokio::task::spawn_blocking(move || {
        let scanned = serde_json::from_slice::<Page>(&body.0);
        (body, scanned)
    })
    .await
    .map_err(|err| PullError::Other(format!("{origin}: scan failed: {err}")))?;
    let page = scanned
        .map_err(|err| PullError::Other(format!("{origin}: not a restSearch response: {err}")))?;
    Ok((body, page.response.unwrap_or_default()))
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    response: Option<PageScan>,
}

#[derive(Deserialize)]
struct Stamp {
    #[serde(default)]
    timestamp: Option<Value>,
}

impl<'de> Deserialize<'de> for PageScan {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<PageScan, D::Error> {
        deserializer.deserialize_any(ScanVisitor)
    }
}

struct ScanVisitor;

impl<'de> Visitor<'de> for ScanVisitor {
    type Value = PageScan;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with an Attribute list, or an empty list")
    }

    /// `{"Attribute": [...]}`.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PageScan, A::Error> {
        let mut scan = PageScan::default();
        while let Some(key) = map.next_key::<String>()? {
            if key != "Attribute" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            for stamp in map.next_value::<Vec<Stamp>>()? {
                scan.attributes += 1;
                let seconds = match stamp.timestamp {
                    Some(Value::Number(number)) => number.as_i64(),
                    Some(Value::String(text)) => text.trim().parse().ok(),
                    _ => None,
                };
                scan.newest = scan.newest.max(seconds);
            }
        }
        Ok(scan)
    }

    /// Some MISP versions answer an empty search with `"response": []`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PageScan, A::Error> {
        let mut scan = PageScan::default();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            scan.attributes += 1;
        }
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pages_are_scanned_for_count_and_newest_timestamp() {
        let body = br#"{"response": {"Attribute": [
            {"type": "domain", "value": "a.example", "timestamp": "1700000005", "Tag": [{"name": "x"}]},
            {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "timestamp": 1700000009},
            {"type": "text", "value": "no time"}
        ]}}"#;
        let scan = |bytes: &[u8]| scan_page(Bytes(bytes.to_vec()), "test");
        let (returned, counted) = scan(body).await.unwrap();
        assert_eq!(returned.0, body.to_vec());
        assert_eq!(
            counted,
            PageScan {
                attributes: 3,
                newest: Some(1700000009)
            }
        );
        assert_eq!(
            scan(br#"{"response": []}"#).await.unwrap().1,
            PageScan::default()
        );
        assert!(scan(b"<html>").await.is_err());
    }

    #[test]
    fn search_body_carries_cursor_and_filters() {
        let mut transport = MispServerTransport::new("https://misp.example/", "key");
        transport.published = Some(true);
        transport.to_ids = Some(true);
        transport.page_size = 50;
        let body = transport.search_body(Some(1700000001), 3);
        assert_eq!(
            body,
            json!({"returnFormat": "json", "limit": 50, "page": 3, "includeEventTags": true,
                   "includeContext": true, "deleted": [0, 1], "timestamp": 1700000001,
                   "published": true, "to_ids": true})
        );
        assert_eq!(
            transport.url("attributes/restSearch"),
            "https://misp.example/attributes/restSearch"
        );
    }
}
