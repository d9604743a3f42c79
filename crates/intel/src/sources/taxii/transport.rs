//! Pulling a TAXII collection incrementally: every page of objects added since the cursor,
//! each page's envelope parsed as one document, and the cursor moved with the import.
//!
//! The cursor is the `X-TAXII-Date-Added-Last` header of the newest page, kept exactly as the
//! server wrote it, since the server compares `added_after` at its own precision. When the
//! server sends no such header, the cursor becomes the latest `date_added` the manifest gives
//! for an object version this pull actually received; objects' own `created`/`modified` are
//! never used, because they are the producer's clock, not the server's, and could run ahead of
//! `date_added` and skip objects. If neither is available the cursor stays where it was: the
//! next pull fetches the same objects again, which the import absorbs as updates.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use url::Url;

use super::TaxiiError;
use super::client::{
    DEFAULT_MAX_BODY, ObjectsQuery, TaxiiAuth, TaxiiClient, collection_url, directory,
};
use super::resources::{Collection, ObjectSummary};
use crate::formats::Format;
use crate::import::ImportError;
use crate::sources::{PullContext, PullError, PullStatus, Transport};

/// Pages followed in one pull before the server is presumed to be looping.
pub const MAX_PAGES: usize = 10_000;
/// Page size asked for when the configuration gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// The cursor under which a collection's `added_after` is kept.
pub fn cursor_key(collection_id: &str) -> String {
    format!("added_after:{collection_id}")
}

/// Where the collection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionLocation {
    /// The collection's own URL, `https://HOST/API-ROOT/collections/ID/`.
    Url(String),
    /// An API root URL and a collection id, title or alias, looked up once with a
    /// get-collections request.
    InApiRoot {
        api_root: String,
        collection: String,
    },
}

/// A TAXII source as written in the configuration (`[sources.NAME]` with `transport = "taxii"`).
///
/// ```toml
/// api_root = "https://taxii.example/api1/"
/// collection = "Indicators"          # id, title or alias
/// username = "analyst"
/// password = "…"
/// page_size = 200
/// types = ["indicator", "malware"]   # match[type]
/// ```
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TaxiiSettings {
    /// The collection's URL (`https://HOST/API-ROOT/collections/ID/`); or give `api_root` and
    /// `collection` instead.
    #[serde(default)]
    pub collection_url: Option<String>,
    /// The API root URL (`https://HOST/API-ROOT/`).
    #[serde(default)]
    pub api_root: Option<String>,
    /// The collection's id, title or alias within `api_root`.
    #[serde(default)]
    pub collection: Option<String>,
    /// HTTP basic authentication user; needs `password`.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Bearer token (`Authorization: Bearer …`), instead of a user and password.
    #[serde(default)]
    pub token: Option<String>,
    /// Objects asked for per page (default 500); servers may send fewer.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Only these STIX object types (`match[type]`); empty means all.
    #[serde(default)]
    pub types: Vec<String>,
    /// Largest page body accepted, in bytes (default 64 MiB).
    #[serde(default)]
    pub max_page_bytes: Option<u64>,
}

impl fmt::Debug for TaxiiSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaxiiSettings")
            .field("collection_url", &self.collection_url)
            .field("api_root", &self.api_root)
            .field("collection", &self.collection)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("page_size", &self.page_size)
            .field("types", &self.types)
            .field("max_page_bytes", &self.max_page_bytes)
            .finish()
    }
}

/// A TAXII 2.1 collection as a source of documents.
pub struct TaxiiTransport {
    location: CollectionLocation,
    auth: TaxiiAuth,
    page_size: u32,
    types: Vec<String>,
    max_page_bytes: u64,
    resolved: tokio::sync::OnceCell<Resolved>,
}

/// The collection's URL and id, once known.
#[derive(Debug, Clone)]
struct Resolved {
    url: Url,
    id: String,
}

impl TaxiiTransport {
    pub fn new(location: CollectionLocation, auth: TaxiiAuth) -> TaxiiTransport {
        TaxiiTransport {
            location,
            auth,
            page_size: DEFAULT_PAGE_SIZE,
            types: Vec::new(),
            max_page_bytes: DEFAULT_MAX_BODY,
            resolved: tokio::sync::OnceCell::new(),
        }
    }

    /// Builds a transport from its configuration, checking it.
    pub fn from_settings(settings: &TaxiiSettings) -> Result<TaxiiTransport, TaxiiError> {
        let location = match (
            &settings.collection_url,
            &settings.api_root,
            &settings.collection,
        ) {
            (Some(url), None, None) => CollectionLocation::Url(url.clone()),
            (None, Some(api_root), Some(collection)) => CollectionLocation::InApiRoot {
                api_root: api_root.clone(),
                collection: collection.clone(),
            },
            _ => {
                return Err(TaxiiError::Config(
                    "give either collection_url, or api_root and collection".into(),
                ));
            }
        };
        let auth = match (&settings.username, &settings.password, &settings.token) {
            (None, None, None) => TaxiiAuth::None,
            (Some(username), Some(password), None) => TaxiiAuth::Basic {
                username: username.clone(),
                password: password.clone(),
            },
            (None, None, Some(token)) => TaxiiAuth::Bearer {
                token: token.clone(),
            },
            (Some(_), None, None) => {
                return Err(TaxiiError::Config("username given without password".into()));
            }
            (None, Some(_), None) => {
                return Err(TaxiiError::Config("password given without username".into()));
            }
            _ => {
                return Err(TaxiiError::Config(
                    "give either username and password, or token, not both".into(),
                ));
            }
        };
        let mut transport = TaxiiTransport::new(location, auth).with_types(settings.types.clone());
        if let Some(page_size) = settings.page_size {
            if page_size == 0 {
                return Err(TaxiiError::Config("page_size must be at least 1".into()));
            }
            transport = transport.with_page_size(page_size);
        }
        if let Some(max_page_bytes) = settings.max_page_bytes {
            transport = transport.with_max_page_bytes(max_page_bytes);
        }
        transport.check_location()?;
        Ok(transport)
    }

    pub fn with_page_size(mut self, page_size: u32) -> TaxiiTransport {
        self.page_size = page_size.max(1);
        self
    }

    /// Only objects of these STIX types (`match[type]`).
    pub fn with_types(mut self, types: Vec<String>) -> TaxiiTransport {
        self.types = types;
        self
    }

    pub fn with_max_page_bytes(mut self, max_page_bytes: u64) -> TaxiiTransport {
        self.max_page_bytes = max_page_bytes;
        self
    }

    pub fn location(&self) -> &CollectionLocation {
        &self.location
    }

    /// Rejects URLs that cannot work before any request is made.
    fn check_location(&self) -> Result<(), TaxiiError> {
        match &self.location {
            CollectionLocation::Url(url) => collection_id_of(&directory(url)?).map(|_| ()),
            CollectionLocation::InApiRoot { api_root, .. } => directory(api_root).map(|_| ()),
        }
    }

    async fn resolve(&self, client: &TaxiiClient) -> Result<&Resolved, TaxiiError> {
        self.resolved
            .get_or_try_init(|| async {
                match &self.location {
                    CollectionLocation::Url(url) => {
                        let url = directory(url)?;
                        let id = collection_id_of(&url)?;
                        Ok(Resolved { url, id })
                    }
                    CollectionLocation::InApiRoot { api_root, collection } => {
                        let collections = client.collections(api_root).await?;
                        let chosen = choose_collection(&collections, collection, api_root)?;
                        if !chosen.can_read {
                            return Err(TaxiiError::Config(format!(
                                "collection {} ({:?}) at {api_root} cannot be read (can_read is false)",
                                chosen.id, chosen.title
                            )));
                        }
                        Ok(Resolved { url: collection_url(api_root, &chosen.id)?, id: chosen.id.clone() })
                    }
                }
            })
            .await
    }

    /// The latest `date_added` the manifest gives for an object version this pull received.
    /// Failures only cost a cursor, so they are logged, not raised.
    async fn cursor_from_manifest(
        &self,
        client: &TaxiiClient,
        collection: &Resolved,
        base: &ObjectsQuery,
        received: &HashSet<VersionKey>,
    ) -> Option<String> {
        let mut query = base.clone();
        let mut latest: Option<(jiff::Timestamp, String)> = None;
        let mut tokens_seen = HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = match client.manifest(collection.url.as_str(), &query).await {
                Ok(page) => page,
                Err(err) => {
                    tracing::warn!(
                        "no X-TAXII-Date-Added-Last and the manifest failed, cursor not moved: {err}"
                    );
                    return None;
                }
            };
            for entry in &page.entries {
                let versioned = (entry.id.clone(), Some(version_key(&entry.version)));
                let unversioned = (entry.id.clone(), None);
                if (received.contains(&versioned) || received.contains(&unversioned))
                    && let Ok(added) = entry.date_added.parse::<jiff::Timestamp>()
                    && latest.as_ref().is_none_or(|(best, _)| added > *best)
                {
                    latest = Some((added, entry.date_added.clone()));
                }
            }
            let Some(next) = page.next.filter(|_| page.more) else {
                break;
            };
            if !tokens_seen.insert(next.clone()) && page.entries.is_empty() {
                break;
            }
            query = ObjectsQuery {
                next: Some(next),
                ..base.clone()
            };
        }
        if latest.is_none() {
            tracing::warn!(collection = %collection.url, "no X-TAXII-Date-Added-Last and no manifest date for the objects received, cursor not moved");
        }
        latest.map(|(_, text)| text)
    }
}

/// An object's id and normalised version, to recognise it again.
type VersionKey = (String, Option<String>);

/// Versions compared as instants where they parse, so `…00.000Z` and `…00Z` are one version.
fn version_key(version: &str) -> String {
    version
        .parse::<jiff::Timestamp>()
        .map_or_else(|_| version.to_owned(), |instant| instant.to_string())
}

fn summary_key(summary: &ObjectSummary) -> Option<VersionKey> {
    let id = summary.id.clone()?;
    Some((id, summary.version.as_deref().map(version_key)))
}

/// The collection id in `…/collections/ID/`.
fn collection_id_of(url: &Url) -> Result<String, TaxiiError> {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    match segments.as_slice() {
        [.., "collections", id] => Ok((*id).to_owned()),
        _ => Err(TaxiiError::Url {
            url: url.to_string(),
            reason: "a collection URL ends with /collections/ID/".into(),
        }),
    }
}

/// Finds a collection by id, else by title, else by alias; a name that fits several is an
/// error rather than a guess.
fn choose_collection<'a>(
    collections: &'a [Collection],
    wanted: &str,
    api_root: &str,
) -> Result<&'a Collection, TaxiiError> {
    if let Some(by_id) = collections.iter().find(|c| c.id == wanted) {
        return Ok(by_id);
    }
    for matches in [
        collections
            .iter()
            .filter(|c| c.title == wanted)
            .collect::<Vec<_>>(),
        collections
            .iter()
            .filter(|c| c.alias.as_deref() == Some(wanted))
            .collect(),
    ] {
        match matches.as_slice() {
            [] => {}
            [one] => return Ok(one),
            several => {
                let ids: Vec<&str> = several.iter().map(|c| c.id.as_str()).collect();
                return Err(TaxiiError::Config(format!(
                    "{wanted:?} names several collections at {api_root} ({}); give the id",
                    ids.join(", ")
                )));
            }
        }
    }
    let available: Vec<String> = collections
        .iter()
        .map(|c| format!("{} ({:?})", c.id, c.title))
        .collect();
    Err(TaxiiError::Config(format!(
        "no collection {wanted:?} at {api_root}; available: {}",
        if available.is_empty() {
            "none".to_owned()
        } else {
            available.join(", ")
        }
    )))
}

#[async_trait::async_trait]
impl Transport for TaxiiTransport {
    async fn pull(
        &self,
        format: Arc<dyn Format>,
        ctx: &mut PullContext<'_>,
    ) -> Result<PullStatus, PullError> {
        let client = TaxiiClient::new(ctx.http.clone(), self.auth.clone())
            .with_max_body(self.max_page_bytes);
        let collection = self.resolve(&client).await?;
        let key = cursor_key(&collection.id);
        let cursor = ctx
            .store
            .cursor(ctx.source, &key)
            .await
            .map_err(ImportError::from)?;
        let base = ObjectsQuery {
            added_after: cursor,
            // Always sent, also with `next`: medallion fails on a `next` request without it.
            limit: Some(self.page_size),
            match_type: self.types.clone(),
            ..Default::default()
        };
        let mut query = base.clone();
        let mut received: HashSet<VersionKey> = HashSet::new();
        let mut requests_made: HashSet<(Option<String>, Option<String>)> = HashSet::new();
        let mut latest_added: Option<(jiff::Timestamp, String)> = None;
        let mut documents = 0u64;
        let mut objects = 0usize;
        let mut number = 0usize;
        loop {
            number += 1;
            if number > MAX_PAGES {
                return Err(TaxiiError::Protocol {
                    url: collection.url.to_string(),
                    reason: format!(
                        "more than {MAX_PAGES} pages in one pull; the server seems to loop"
                    ),
                }
                .into());
            }
            requests_made.insert((query.next.clone(), query.added_after.clone()));
            let page = client.objects(collection.url.as_str(), &query).await?;
            let mut new_objects = 0usize;
            for summary in &page.objects {
                let unseen = summary_key(summary).is_none_or(|key| received.insert(key));
                if unseen {
                    new_objects += 1;
                }
            }
            if let Some(last) = &page.date_added_last
                && let Ok(instant) = last.parse::<jiff::Timestamp>()
                && latest_added
                    .as_ref()
                    .is_none_or(|(best, _)| instant > *best)
            {
                latest_added = Some((instant, last.clone()));
            }
            tracing::debug!(url = %page.url, objects = page.objects.len(), more = page.more, "taxii page");
            let (more, next, date_added_last, url) =
                (page.more, page.next, page.date_added_last, page.url);
            if !page.objects.is_empty() {
                objects += page.objects.len();
                documents += 1;
                let origin = format!("{url} (page {number})");
                let reader = Box::new(std::io::Cursor::new(page.body));
                ctx.session
                    .parse_document(format.clone(), reader, &origin)
                    .await?;
            }
            if !more {
                break;
            }
            // Without `next`, the specification lets a client continue from the page's last
            // `date_added` with the same filters.
            let following = match (next, date_added_last) {
                (Some(next), _) => ObjectsQuery {
                    next: Some(next),
                    ..base.clone()
                },
                (None, Some(last)) => ObjectsQuery {
                    added_after: Some(last),
                    ..base.clone()
                },
                (None, None) => {
                    return Err(TaxiiError::Protocol {
                        url,
                        reason:
                            "more is true but the page has neither next nor X-TAXII-Date-Added-Last"
                                .into(),
                    }
                    .into());
                }
            };
            // medallion repeats one `next` token for every page of a result, so a repeated
            // token alone is no loop; a repeated request that also brought nothing new is.
            if new_objects == 0
                && requests_made.contains(&(following.next.clone(), following.added_after.clone()))
            {
                return Err(TaxiiError::Protocol {
                    url,
                    reason: format!("page {number} brought no new objects and asks for a page already fetched; the server is looping"),
                }
                .into());
            }
            query = following;
        }
        if objects == 0 {
            return Ok(PullStatus::NotModified);
        }
        let new_cursor = match latest_added {
            Some((_, text)) => Some(text),
            None => {
                self.cursor_from_manifest(&client, collection, &base, &received)
                    .await
            }
        };
        if let Some(value) = new_cursor {
            ctx.cursors.push((key, value));
        }
        Ok(PullStatus::Fetched {
            documents,
            full_list: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(id: &str, title: &str, alias: Option<&str>) -> Collection {
        Collection {
            id: id.into(),
            title: title.into(),
            description: None,
            alias: alias.map(Into::into),
            can_read: true,
            can_write: false,
            media_types: Vec::new(),
        }
    }

    #[test]
    fn collections_are_chosen_by_id_then_title_then_alias() {
        let all = [
            collection("c1", "Indicators", Some("ioc")),
            collection("c2", "Malware", None),
            collection("c3", "Dup", None),
            collection("c4", "Dup", None),
        ];
        let root = "https://taxii.example/api1/";
        assert_eq!(choose_collection(&all, "c2", root).unwrap().id, "c2");
        assert_eq!(
            choose_collection(&all, "Indicators", root).unwrap().id,
            "c1"
        );
        assert_eq!(choose_collection(&all, "ioc", root).unwrap().id, "c1");
        let ambiguous = choose_collection(&all, "Dup", root)
            .unwrap_err()
            .to_string();
        assert!(ambiguous.contains("c3, c4"), "{ambiguous}");
        let missing = choose_collection(&all, "nope", root)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("c2 (\"Malware\")"), "{missing}");
    }

    #[test]
    fn collection_ids_come_from_the_url() {
        let url = directory("https://taxii.example/api1/collections/91a7b528/").unwrap();
        assert_eq!(collection_id_of(&url).unwrap(), "91a7b528");
        let url = directory("https://taxii.example/api1/collections/91a7b528").unwrap();
        assert_eq!(collection_id_of(&url).unwrap(), "91a7b528");
        assert!(collection_id_of(&directory("https://taxii.example/api1/").unwrap()).is_err());
    }

    #[test]
    fn settings_need_one_location_and_one_kind_of_credentials() {
        let good: TaxiiSettings = toml::from_str(
            r#"
            api_root = "https://taxii.example/api1/"
            collection = "Indicators"
            username = "analyst"
            password = "hunter2"
            page_size = 100
            types = ["indicator"]
            "#,
        )
        .unwrap();
        let transport = TaxiiTransport::from_settings(&good).unwrap();
        assert_eq!(transport.page_size, 100);
        assert_eq!(transport.types, ["indicator"]);
        assert!(matches!(transport.auth, TaxiiAuth::Basic { .. }));
        assert!(!format!("{good:?}").contains("hunter2"));

        let by_url = TaxiiSettings {
            collection_url: Some("https://taxii.example/api1/collections/c1/".into()),
            token: Some("t".into()),
            ..Default::default()
        };
        let transport = TaxiiTransport::from_settings(&by_url).unwrap();
        assert!(matches!(transport.auth, TaxiiAuth::Bearer { .. }));
        assert_eq!(transport.page_size, DEFAULT_PAGE_SIZE);

        let both = TaxiiSettings {
            api_root: Some("https://taxii.example/api1/".into()),
            ..by_url.clone()
        };
        assert!(TaxiiTransport::from_settings(&both).is_err());
        let mixed = TaxiiSettings {
            username: Some("u".into()),
            password: Some("p".into()),
            ..by_url.clone()
        };
        assert!(TaxiiTransport::from_settings(&mixed).is_err());
        let lonely = TaxiiSettings {
            token: None,
            username: Some("u".into()),
            ..by_url.clone()
        };
        assert!(TaxiiTransport::from_settings(&lonely).is_err());
        let zero = TaxiiSettings {
            page_size: Some(0),
            ..by_url.clone()
        };
        assert!(TaxiiTransport::from_settings(&zero).is_err());
        let not_collection = TaxiiSettings {
            collection_url: Some("https://taxii.example/api1/".into()),
            ..by_url
        };
        assert!(TaxiiTransport::from_settings(&not_collection).is_err());
    }

    #[test]
    fn versions_compare_as_instants() {
        assert_eq!(
            version_key("2024-01-01T00:00:00.000Z"),
            version_key("2024-01-01T00:00:00Z")
        );
        assert_eq!(version_key("garbage"), "garbage");
        assert_eq!(cursor_key("c1"), "added_after:c1");
    }
}
