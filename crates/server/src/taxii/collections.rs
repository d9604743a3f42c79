//! What a collection publishes, and in which order.
//!
//! Objects are Rampart's indicators as the STIX export renders them, walked in the store's
//! change feed order. An indicator's `date_added` is the commit time of the change that last
//! touched it (a new statement, a changed one, a withdrawal, a suppression, a regraded
//! source) and its STIX `modified` — the version — is that same time: a version is added when
//! it comes to be, and renewals that change nothing add none. The store keeps only the current
//! version, so `match[version]=first|last|all` all give it.
//!
//! Pages continue from the feed position of their last object (`next`), so a page boundary
//! inside one import (many objects with the same `date_added`) loses nothing.

use std::collections::HashMap;

use jiff::Timestamp;
use rampart_intel::export::ExportItem;
use rampart_intel::export::stix;
use rampart_intel::score::score;
use rampart_store::{ChangeCursor, ChangeMark, Store, StoreError, StoredIndicator};
use serde_json::Value;
use uuid::Uuid;

use super::config::CollectionConfig;

/// Rows read from the change feed per store call.
const FEED_PAGE: u32 = 1000;

/// One published object with its TAXII bookkeeping.
#[derive(Debug, Clone)]
pub struct Published {
    pub object: Value,
    pub id: String,
    /// The object's `modified`.
    pub version: String,
    pub date_added: Timestamp,
    /// The feed position right after this object.
    pub position: ChangeCursor,
}

/// The `match[…]` and `added_after` filters of a request.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub added_after: Option<Timestamp>,
    /// `match[id]`: empty matches every id.
    pub ids: Vec<String>,
    /// `match[type]`: empty matches every type.
    pub types: Vec<String>,
    /// `match[version]`: `first`, `last`, `all` or timestamps; empty means `last`.
    pub versions: Vec<String>,
    /// `match[spec_version]`: empty matches every version.
    pub spec_versions: Vec<String>,
}

impl Filters {
    /// Whether objects of the only type and spec version collections hold can match at all.
    fn can_match(&self) -> bool {
        (self.types.is_empty() || self.types.iter().any(|t| t == "indicator"))
            && (self.spec_versions.is_empty() || self.spec_versions.iter().any(|v| v == "2.1"))
    }

    fn matches(&self, published: &Published) -> bool {
        if self
            .added_after
            .is_some_and(|after| published.date_added <= after)
        {
            return false;
        }
        if !self.ids.is_empty() && !self.ids.contains(&published.id) {
            return false;
        }
        // Only the current version is kept: it is the first, the last and all of them.
        self.versions.is_empty()
            || self.versions.iter().any(|version| match version.as_str() {
                "first" | "last" | "all" => true,
                timestamp => same_time(timestamp, &published.version),
            })
    }
}

fn same_time(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// One page of a collection.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<Published>,
    /// Where the next page starts, when there is one.
    pub next: Option<ChangeCursor>,
}

/// Whether `collection` publishes this indicator now: not suppressed, vouched for (not
/// withdrawn) by one of its sources, of one of its kinds, no stricter than its TLP, scoring
/// at least its minimum.
pub fn admits(collection: &CollectionConfig, stored: &StoredIndicator, now: Timestamp) -> bool {
    if stored.suppressed.is_some() {
        return false;
    }
    if !collection.kinds.is_empty() && !collection.kinds.contains(&stored.indicator.kind()) {
        return false;
    }
    let vouched = stored.sources.iter().any(|statement| {
        statement.withdrawn_at.is_none()
            && (collection.sources.is_empty() || collection.sources.contains(&statement.source))
    });
    if !vouched || stored.tlp() > collection.max_tlp {
        return false;
    }
    collection.min_score == 0 || score(stored, now).score >= collection.min_score
}

/// The STIX object of an indicator at the version its change mark gives.
pub fn render(stored: StoredIndicator, mark: &ChangeMark) -> Published {
    let item = ExportItem {
        score: score(&stored, mark.committed).score,
        indicator: stored,
    };
    let object = stix::indicator_object(&item, Some(mark.committed));
    Published {
        id: object["id"].as_str().unwrap_or_default().to_owned(),
        version: object["modified"].as_str().unwrap_or_default().to_owned(),
        object,
        date_added: mark.committed,
        position: mark.cursor,
    }
}

/// One page of up to `limit` objects of `collection` matching `filters`, continuing after
/// `next` (else from `added_after`, else from the beginning). Reads ahead one object to know
/// whether there are more.
pub async fn list(
    store: &dyn Store,
    index: &tokio::sync::Mutex<IdIndex>,
    collection: &CollectionConfig,
    filters: &Filters,
    limit: usize,
    next: Option<ChangeCursor>,
) -> Result<Listing, StoreError> {
    if !filters.can_match() {
        return Ok(Listing::default());
    }
    let now = Timestamp::now();
    let mut found: Vec<Published> = if filters.ids.is_empty() {
        scan(store, collection, filters, limit, next, now).await?
    } else {
        by_ids(store, index, collection, filters, next, now).await?
    };
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(Listing {
        next: more
            .then(|| found.last().map(|last| last.position))
            .flatten(),
        objects: found,
    })
}

/// Walks the change feed until `limit + 1` objects match or it ends.
async fn scan(
    store: &dyn Store,
    collection: &CollectionConfig,
    filters: &Filters,
    limit: usize,
    next: Option<ChangeCursor>,
    now: Timestamp,
) -> Result<Vec<Published>, StoreError> {
    let mut cursor = match (next, filters.added_after) {
        (Some(next), _) => next,
        (None, Some(after)) => store.change_cursor_after(after).await?,
        (None, None) => ChangeCursor::default(),
    };
    let mut found = Vec::new();
    loop {
        let page = store.indicators_changed_since(cursor, FEED_PAGE).await?;
        if page.indicators.is_empty() {
            return Ok(found);
        }
        cursor = page.next;
        for (stored, mark) in page.indicators.into_iter().zip(&page.marks) {
            if !admits(collection, &stored, now) {
                continue;
            }
            let published = render(stored, mark);
            if filters.matches(&published) {
                found.push(published);
                if found.len() > limit {
                    return Ok(found);
                }
            }
        }
    }
}

/// The objects named by `match[id]`, through the id index, in feed order after `next`.
async fn by_ids(
    store: &dyn Store,
    index: &tokio::sync::Mutex<IdIndex>,
    collection: &CollectionConfig,
    filters: &Filters,
    next: Option<ChangeCursor>,
    now: Timestamp,
) -> Result<Vec<Published>, StoreError> {
    let mut found = Vec::new();
    for id in &filters.ids {
        let Some((stored, mark)) = lookup(store, index, id).await? else {
            continue;
        };
        if next.is_some_and(|next| mark.cursor <= next) || !admits(collection, &stored, now) {
            continue;
        }
        let published = render(stored, &mark);
        if filters.matches(&published) {
            found.push(published);
        }
    }
    found.sort_by_key(|published| published.position);
    found.dedup_by_key(|published| published.position);
    Ok(found)
}

/// Where each published STIX id sits in the change feed, kept up to date by reading the feed
/// from where it last stopped: indicator ids are UUIDv5 hashes that cannot be reversed into
/// a kind and value.
#[derive(Debug, Default)]
pub struct IdIndex {
    read_to: ChangeCursor,
    positions: HashMap<u128, ChangeCursor>,
}

impl IdIndex {
    async fn catch_up(&mut self, store: &dyn Store) -> Result<(), StoreError> {
        loop {
            let page = store
                .indicators_changed_since(self.read_to, FEED_PAGE)
                .await?;
            if page.indicators.is_empty() {
                return Ok(());
            }
            for (stored, mark) in page.indicators.iter().zip(&page.marks) {
                let id = stix::indicator_id(stored.indicator.kind(), stored.indicator.value());
                if let Some(uuid) = uuid_of(&id) {
                    self.positions.insert(uuid, mark.cursor);
                }
            }
            self.read_to = page.next;
        }
    }
}

fn uuid_of(stix_id: &str) -> Option<u128> {
    let uuid = stix_id.strip_prefix("indicator--")?;
    Uuid::parse_str(uuid).ok().map(|uuid| uuid.as_u128())
}

/// The indicator with this STIX id, as it is now, with its change mark.
pub async fn lookup(
    store: &dyn Store,
    index: &tokio::sync::Mutex<IdIndex>,
    stix_id: &str,
) -> Result<Option<(StoredIndicator, ChangeMark)>, StoreError> {
    let Some(uuid) = uuid_of(stix_id) else {
        return Ok(None);
    };
    let mut index = index.lock().await;
    // Twice at most: a change between catching up and reading moves the indicator on.
    for _ in 0..2 {
        index.catch_up(store).await?;
        let Some(position) = index.positions.get(&uuid).copied() else {
            return Ok(None);
        };
        let just_before = ChangeCursor {
            seq: position.seq,
            after_id: position.after_id - 1,
        };
        let page = store.indicators_changed_since(just_before, 1).await?;
        if let (Some(stored), Some(mark)) = (page.indicators.into_iter().next(), page.marks.first())
            && mark.cursor == position
        {
            return Ok(Some((stored, *mark)));
        }
    }
    Ok(None)
}
