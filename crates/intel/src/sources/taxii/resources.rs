//! TAXII 2.1 resources as a server sends them: discovery, API root, collections, manifest,
//! envelope and error message. Optional members default, and unknown members are ignored, so a
//! server that adds its own fields still works.

use serde::{Deserialize, Serialize};

/// The server's discovery resource (`GET /taxii2/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
    /// The API root the server suggests by default.
    #[serde(default)]
    pub default: Option<String>,
    /// API root URLs, possibly relative to the discovery URL.
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// An API root's information (`GET {api-root}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// TAXII versions the root speaks, as media types.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Largest request body the root accepts, in bytes.
    #[serde(default)]
    pub max_content_length: Option<u64>,
}

/// One collection (`GET {api-root}collections/{id}/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub can_read: bool,
    #[serde(default)]
    pub can_write: bool,
    #[serde(default)]
    pub media_types: Vec<String>,
}

/// The collections resource; a root without collections may send `{}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Collections {
    #[serde(default)]
    pub collections: Vec<Collection>,
}

/// One manifest entry: which version of an object was added when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub id: String,
    pub date_added: String,
    /// The object's `modified` (or `created`) timestamp.
    pub version: String,
    #[serde(default)]
    pub media_type: Option<String>,
}

/// One page of a collection's manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestPage {
    pub more: bool,
    pub next: Option<String>,
    pub entries: Vec<ManifestEntry>,
    pub date_added_first: Option<String>,
    pub date_added_last: Option<String>,
}

/// The manifest resource as sent; an empty result may be `{}`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManifestBody {
    #[serde(default)]
    pub more: Option<bool>,
    #[serde(default)]
    pub next: Option<serde_json::Value>,
    #[serde(default)]
    pub objects: Vec<ManifestEntry>,
}

/// What the client needs to know about one object of an envelope: enough to tell objects
/// apart (loop detection) and to match them with manifest entries. Everything else is the
/// format's business.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectSummary {
    pub id: Option<String>,
    pub object_type: Option<String>,
    /// `modified`, else `created`: the version the manifest names.
    pub version: Option<String>,
}

/// One page of a collection's objects: the envelope exactly as received, plus what the client
/// read from it and from the response headers.
#[derive(Debug, Clone, Default)]
pub struct ObjectsPage {
    /// The request URL, query included.
    pub url: String,
    pub more: bool,
    pub next: Option<String>,
    pub objects: Vec<ObjectSummary>,
    /// `X-TAXII-Date-Added-First`, when the server sent a valid timestamp.
    pub date_added_first: Option<String>,
    /// `X-TAXII-Date-Added-Last`, when the server sent a valid timestamp.
    pub date_added_last: Option<String>,
    /// The envelope (`{"more":…,"next":…,"objects":[…]}`) as received, for the format.
    pub body: Vec<u8>,
}

/// The envelope as far as the client reads it. Objects that are not JSON objects, or whose
/// members have unexpected types, still count (as empty summaries): the format reports them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct EnvelopeHead {
    #[serde(default)]
    pub more: Option<bool>,
    #[serde(default)]
    pub next: Option<serde_json::Value>,
    #[serde(default)]
    pub objects: Option<Vec<LenientHead>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum LenientHead {
    Head(HeadFields),
    Other(serde::de::IgnoredAny),
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct HeadFields {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, rename = "type")]
    object_type: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    modified: Option<String>,
}

impl LenientHead {
    pub(crate) fn into_summary(self) -> ObjectSummary {
        match self {
            LenientHead::Head(fields) => ObjectSummary {
                id: fields.id,
                object_type: fields.object_type,
                version: fields.modified.or(fields.created),
            },
            LenientHead::Other(_) => ObjectSummary::default(),
        }
    }
}

/// `next` is a string in the specification; some servers send a number.
pub(crate) fn next_token(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(text) if !text.is_empty() => Some(text),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The TAXII error message a server sends with a failure status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ErrorMessage {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub error_id: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
}

impl ErrorMessage {
    /// `title: description`, cleaned of control characters and shortened, since the text
    /// comes from the server and ends up in logs.
    pub fn summary(&self) -> Option<String> {
        let parts: Vec<String> = [&self.title, &self.description]
            .into_iter()
            .flatten()
            .map(|text| clean_text(text, 300))
            .filter(|text| !text.is_empty())
            .collect();
        if parts.is_empty() {
            None
        } else {
            Some(parts.join(": "))
        }
    }
}

/// Server-supplied text made safe for a one-line message: control characters become spaces,
/// and anything past `max` characters is cut off.
pub(crate) fn clean_text(text: &str, max: usize) -> String {
    let mut cleaned: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if text.trim().chars().count() > max {
        cleaned.push('…');
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_heads_tolerate_odd_objects() {
        let body = r#"{"more":true,"next":17,"objects":[
            {"type":"indicator","id":"indicator--1","created":"2024-01-01T00:00:00Z"},
            {"type":"malware","id":"malware--2","modified":42},
            "not an object"]}"#;
        let head: EnvelopeHead = serde_json::from_str(body).unwrap();
        assert_eq!(head.more, Some(true));
        assert_eq!(next_token(head.next), Some("17".into()));
        let summaries: Vec<_> = head
            .objects
            .unwrap()
            .into_iter()
            .map(LenientHead::into_summary)
            .collect();
        assert_eq!(summaries.len(), 3);
        assert_eq!(summaries[0].id.as_deref(), Some("indicator--1"));
        assert_eq!(
            summaries[0].version.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert_eq!(summaries[1], ObjectSummary::default());
        assert_eq!(summaries[2], ObjectSummary::default());
    }

    #[test]
    fn error_messages_are_cleaned_and_shortened() {
        let message = ErrorMessage {
            title: Some("Bad\nthing".into()),
            description: Some("x".repeat(400)),
            ..Default::default()
        };
        let summary = message.summary().unwrap();
        assert!(summary.starts_with("Bad thing: xxx"));
        assert!(summary.ends_with('…'));
        assert_eq!(ErrorMessage::default().summary(), None);
    }
}
