//! Shared by the TAXII tests: an in-memory store that keeps cursors and committed imports, a
//! tiny STIX-ish format that understands just enough patterns to produce observations, and a
//! helper that runs one pull the way the scheduler does (pull, then commit with the cursors).

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rampart_intel::formats::{Format, FormatError, Rejection, Sink};
use rampart_intel::import::{ImportReport, ImportSession};
use rampart_intel::sources::{PullContext, PullError, PullStatus, Transport};
use rampart_model::{ContextObject, Indicator, IndicatorKind, Observation, SourceInfo};
use rampart_store::{
    AllowEntry, Asset, Counts, ImportBatch, ImportSummary, PullOutcome, SearchQuery, SourceRecord,
    Store, StoreError, StoredIndicator,
};
use tokio::sync::mpsc;

pub const SOURCE: &str = "taxii-test";

/// What one committed import contained.
#[derive(Debug, Default, Clone)]
pub struct Committed {
    pub observations: Vec<Observation>,
    pub objects: Vec<ContextObject>,
    pub cursors: Vec<(String, String)>,
}

impl Committed {
    /// STIX ids of everything imported: indicator ids (the observations' references) and
    /// context object ids.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .observations
            .iter()
            .map(|o| o.reference.clone())
            .chain(self.objects.iter().map(|o| o.id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// Cursors and committed imports, in memory. Everything else is unused by these tests.
#[derive(Default)]
pub struct MemoryStore {
    cursors: Mutex<HashMap<(String, String), String>>,
    pub committed: Mutex<Vec<Committed>>,
}

impl MemoryStore {
    pub fn last_import(&self) -> Committed {
        self.committed
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::Config("unused".into()))
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn upsert_source(&self, _: &SourceInfo, _: &serde_json::Value) -> Result<(), StoreError> {
        unused()
    }
    async fn source(&self, _: &str) -> Result<Option<SourceRecord>, StoreError> {
        unused()
    }
    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        unused()
    }
    async fn remove_source(&self, _: &str) -> Result<bool, StoreError> {
        unused()
    }
    async fn set_reliability(
        &self,
        _: &str,
        _: rampart_model::Reliability,
    ) -> Result<(), StoreError> {
        unused()
    }
    async fn record_pull(&self, _: &str, _: &PullOutcome) -> Result<(), StoreError> {
        unused()
    }
    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .cursors
            .lock()
            .unwrap()
            .get(&(source.to_owned(), key.to_owned()))
            .cloned())
    }
    async fn set_cursor(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError> {
        self.cursors
            .lock()
            .unwrap()
            .insert((source.to_owned(), key.to_owned()), value.to_owned());
        Ok(())
    }
    async fn import(
        &self,
        source: &SourceInfo,
        mut batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError> {
        let mut pending = Committed::default();
        let mut summary = ImportSummary::default();
        while let Some(batch) = batches.recv().await {
            match batch {
                ImportBatch::Observations(staged) => {
                    pending
                        .observations
                        .extend(staged.into_iter().map(|s| s.observation));
                }
                ImportBatch::Objects(objects) => pending.objects.extend(objects),
                ImportBatch::Rejected(count) => summary.rejected += count,
                ImportBatch::Commit(commit) => {
                    for (key, value) in &commit.cursors {
                        self.set_cursor(&source.name, key, value).await?;
                    }
                    summary.new = pending.observations.len() as u64;
                    summary.objects = pending.objects.len() as u64;
                    pending.cursors = commit.cursors;
                    self.committed.lock().unwrap().push(pending);
                    return Ok(summary);
                }
                ImportBatch::Abort(reason) => return Err(StoreError::Aborted(reason)),
            }
        }
        Err(StoreError::Aborted("channel closed without commit".into()))
    }
    async fn indicator(&self, _: &Indicator) -> Result<Option<StoredIndicator>, StoreError> {
        unused()
    }
    async fn search(&self, _: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError> {
        unused()
    }
    async fn set_suppression(&self, _: &Indicator, _: Option<&str>) -> Result<bool, StoreError> {
        unused()
    }
    async fn set_suppressions(&self, _: &[(Indicator, Option<String>)]) -> Result<(), StoreError> {
        unused()
    }
    async fn counts(&self) -> Result<Counts, StoreError> {
        unused()
    }
    async fn context_object(&self, _: &str) -> Result<Option<ContextObject>, StoreError> {
        unused()
    }
    async fn context_objects(
        &self,
        _: &str,
        _: Option<&str>,
        _: u32,
    ) -> Result<Vec<ContextObject>, StoreError> {
        unused()
    }
    async fn relationships_of(&self, _: &str) -> Result<Vec<ContextObject>, StoreError> {
        unused()
    }
    async fn allow(&self, _: &AllowEntry) -> Result<(), StoreError> {
        unused()
    }
    async fn disallow(&self, _: &str) -> Result<bool, StoreError> {
        unused()
    }
    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        unused()
    }
    async fn upsert_assets(&self, _: &[Asset]) -> Result<usize, StoreError> {
        unused()
    }
    async fn assets(&self) -> Result<Vec<Asset>, StoreError> {
        unused()
    }
}

/// Reads a TAXII envelope: indicators with a single `ipv4-addr`/`domain-name` comparison become
/// observations, every other object a context object. Counts the envelopes and objects it saw.
#[derive(Default)]
pub struct EnvelopeFormat {
    pub documents: AtomicU64,
    pub objects: AtomicU64,
}

impl EnvelopeFormat {
    pub fn objects_seen(&self) -> u64 {
        self.objects.load(Ordering::SeqCst)
    }
    pub fn documents_seen(&self) -> u64 {
        self.documents.load(Ordering::SeqCst)
    }
}

/// `[ipv4-addr:value = '198.51.100.1']` → the kind and value; anything else → `None`.
pub fn simple_pattern(pattern: &str) -> Option<(IndicatorKind, &str)> {
    let inner = pattern.strip_prefix('[')?.strip_suffix(']')?;
    let (path, quoted) = inner.split_once(" = ")?;
    let value = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    match path {
        "ipv4-addr:value" => Some((IndicatorKind::Ipv4, value)),
        "domain-name:value" => Some((IndicatorKind::Domain, value)),
        _ => None,
    }
}

impl Format for EnvelopeFormat {
    fn name(&self) -> &'static str {
        "stix"
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        let envelope: serde_json::Value =
            serde_json::from_reader(input).map_err(|err| FormatError::from_json(&err))?;
        let objects = envelope
            .get("objects")
            .and_then(|o| o.as_array())
            .ok_or_else(|| FormatError::Invalid("not a TAXII envelope: no objects array".into()))?;
        self.documents.fetch_add(1, Ordering::SeqCst);
        for object in objects {
            self.objects.fetch_add(1, Ordering::SeqCst);
            let id = object
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_owned();
            let object_type = object
                .get("type")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_owned();
            let pattern = object.get("pattern").and_then(|v| v.as_str());
            match (object_type.as_str(), pattern.and_then(simple_pattern)) {
                ("indicator", Some((kind, value))) => match Indicator::parse(kind, value) {
                    Ok(indicator) => sink.observation(Observation::new(indicator, id)),
                    Err(err) => sink.reject(Rejection::new(id, err.to_string())),
                },
                _ => sink.object(ContextObject {
                    id,
                    object_type,
                    name: object
                        .get("name")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                    attack_id: None,
                    modified: None,
                    revoked: false,
                    tlp: None,
                    body: object.clone(),
                }),
            }
        }
        Ok(())
    }
}

/// An HTTP client for loopback tests.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default provider; the first test to get here installs ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Runs one pull into a new import and commits it with the cursors the transport set, or
/// aborts it on failure: what the feed scheduler does.
pub async fn pull(
    store: &Arc<MemoryStore>,
    transport: &dyn Transport,
    format: Arc<EnvelopeFormat>,
) -> Result<(PullStatus, ImportReport), PullError> {
    let http = http_client();
    let source = SourceInfo::adhoc(SOURCE, "stix");
    let mut session = ImportSession::begin(store.clone(), source, None);
    let mut ctx = PullContext {
        store: store.as_ref(),
        source: SOURCE,
        session: &mut session,
        http: &http,
        cursors: Vec::new(),
    };
    let result = transport.pull(format, &mut ctx).await;
    let cursors = std::mem::take(&mut ctx.cursors);
    match result {
        Ok(status) => {
            let report = session
                .commit(rampart_store::Commit {
                    full_list: false,
                    cursors,
                })
                .await?;
            Ok((status, report))
        }
        Err(err) => {
            session.abort(&err.to_string()).await;
            Err(err)
        }
    }
}
