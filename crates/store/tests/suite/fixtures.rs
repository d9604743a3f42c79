//! Small fixtures shared by the suite's cases.

use rampart_model::{
    Indicator, IndicatorKind, Observation, Reliability, SourceInfo, Timestamp, Tlp,
};
use rampart_store::{
    AllowEntry, Asset, Commit, Counts, ImportBatch, ImportSummary, SearchQuery, SourceRecord,
    StagedObservation, Store, StoreError, StoredIndicator,
};
use tokio::sync::mpsc;

pub fn at(second: i64) -> Timestamp {
    Timestamp::from_second(second).expect("valid timestamp")
}

pub fn domain(name: &str) -> Indicator {
    Indicator::parse(IndicatorKind::Domain, name).expect("valid domain")
}

pub fn ipv4(address: &str) -> Indicator {
    Indicator::parse(IndicatorKind::Ipv4, address).expect("valid address")
}

pub fn observation(indicator: Indicator, reference: &str) -> Observation {
    Observation::new(indicator, reference)
}

/// An observation seen between two instants.
pub fn dated(indicator: Indicator, reference: &str, first: i64, last: i64) -> Observation {
    let mut observation = Observation::new(indicator, reference);
    observation.first_seen = Some(at(first));
    observation.last_seen = Some(at(last));
    observation
}

pub fn staged(observation: Observation, suppressed: Option<&str>) -> StagedObservation {
    StagedObservation {
        observation,
        suppressed: suppressed.map(str::to_owned),
    }
}

/// A source with distinctive defaults, added to the store.
pub async fn add_source(store: &dyn Store, name: &str) -> SourceInfo {
    let source = SourceInfo {
        name: name.to_owned(),
        format: "text".to_owned(),
        reliability: Reliability::B,
        default_confidence: 70,
        default_tlp: Tlp::Green,
        full_list: false,
    };
    store
        .upsert_source(
            &source,
            &serde_json::json!({ "url": format!("https://{name}.example/feed") }),
        )
        .await
        .expect("add source");
    source
}

/// Sends all `batches` (the channel holds them all) and runs the import to its end. The
/// sender is dropped afterwards, as a pipeline does.
pub async fn import(
    store: &dyn Store,
    source: &SourceInfo,
    batches: Vec<ImportBatch>,
) -> Result<ImportSummary, StoreError> {
    let (sender, receiver) = mpsc::channel(batches.len() + 1);
    for batch in batches {
        sender.send(batch).await.expect("channel has room");
    }
    drop(sender);
    store.import(source, receiver).await
}

/// Imports observations in one batch and commits.
pub async fn import_observations(
    store: &dyn Store,
    source: &SourceInfo,
    observations: Vec<Observation>,
) -> ImportSummary {
    import(
        store,
        source,
        vec![ImportBatch::observations(observations), commit()],
    )
    .await
    .expect("import commits")
}

pub fn commit() -> ImportBatch {
    ImportBatch::Commit(Commit::default())
}

pub fn summary(
    new: u64,
    updated: u64,
    unchanged: u64,
    added_source: u64,
    duplicate: u64,
) -> ImportSummary {
    ImportSummary {
        new,
        updated,
        unchanged,
        added_source,
        duplicate,
        ..ImportSummary::default()
    }
}

/// Every indicator, page by page.
pub async fn all_indicators(store: &dyn Store) -> Vec<StoredIndicator> {
    let mut all = Vec::new();
    let mut after_id = None;
    loop {
        let page = store
            .search(&SearchQuery {
                after_id,
                limit: 7,
                ..SearchQuery::default()
            })
            .await
            .expect("search");
        let Some(last) = page.last() else { break };
        after_id = Some(last.id);
        all.extend(page);
    }
    all
}

pub async fn stored(store: &dyn Store, indicator: &Indicator) -> StoredIndicator {
    store
        .indicator(indicator)
        .await
        .expect("lookup")
        .expect("indicator is stored")
}

/// Everything the store holds that the cases touch, to compare before and after a failed import.
#[derive(Debug, PartialEq)]
pub struct Dump {
    counts: Counts,
    sources: Vec<SourceRecord>,
    indicators: Vec<StoredIndicator>,
    cursors: Vec<Option<String>>,
    objects: Vec<rampart_model::ContextObject>,
    allowlist: Vec<AllowEntry>,
    assets: Vec<Asset>,
}

pub async fn dump(store: &dyn Store, cursor_keys: &[(&str, &str)]) -> Dump {
    let mut cursors = Vec::new();
    for (source, key) in cursor_keys {
        cursors.push(store.cursor(source, key).await.expect("cursor"));
    }
    let mut objects = Vec::new();
    for object_type in ["malware", "relationship", "sighting", "attack-pattern"] {
        objects.extend(
            store
                .context_objects(object_type, None, 0)
                .await
                .expect("objects"),
        );
    }
    Dump {
        counts: store.counts().await.expect("counts"),
        sources: store.sources().await.expect("sources"),
        indicators: all_indicators(store).await,
        cursors,
        objects,
        allowlist: store.allowlist().await.expect("allowlist"),
        assets: store.assets().await.expect("assets"),
    }
}

/// A STIX-like context object.
pub fn object(
    id: &str,
    object_type: &str,
    modified: Option<i64>,
    body: serde_json::Value,
) -> rampart_model::ContextObject {
    rampart_model::ContextObject {
        id: id.to_owned(),
        object_type: object_type.to_owned(),
        name: body
            .get("name")
            .and_then(|name| name.as_str())
            .map(str::to_owned),
        attack_id: None,
        modified: modified.map(at),
        revoked: false,
        tlp: None,
        body,
    }
}
