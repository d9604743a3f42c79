//! Test support: an in-memory store that does only what transports call (cursors and
//! imports), and a helper that runs one pull the way the scheduler does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rampart_intel::formats::{self, Format};
use rampart_intel::import::ImportSession;
use rampart_intel::sources::{PullContext, PullError, PullStatus, Transport};
use rampart_model::{ContextObject, Indicator, Observation, Reliability, SourceInfo};
use rampart_store::*;
use tokio::sync::mpsc;

pub const SOURCE: &str = "misp-test";

/// What one committed import wrote.
#[derive(Debug, Default, Clone)]
pub struct Imported {
    pub observations: Vec<Observation>,
    pub objects: Vec<ContextObject>,
    pub cursors: Vec<(String, String)>,
}

/// Keeps cursors and committed imports in memory.
#[derive(Default)]
pub struct MemoryStore {
    cursors: Mutex<BTreeMap<String, String>>,
    imports: Mutex<Vec<Imported>>,
}

impl MemoryStore {
    pub fn cursor_value(&self, key: &str) -> Option<String> {
        self.cursors.lock().unwrap().get(key).cloned()
    }

    pub fn imports(&self) -> Vec<Imported> {
        self.imports.lock().unwrap().clone()
    }
}

fn unused<T>() -> Result<T, StoreError> {
    Err(StoreError::Config("unused".into()))
}

#[async_trait]
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
    async fn set_reliability(&self, _: &str, _: Reliability) -> Result<(), StoreError> {
        unused()
    }
    async fn record_pull(&self, _: &str, _: &PullOutcome) -> Result<(), StoreError> {
        unused()
    }
    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError> {
        assert_eq!(source, SOURCE);
        Ok(self.cursor_value(key))
    }
    async fn set_cursor(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        unused()
    }
    async fn import(
        &self,
        _: &SourceInfo,
        mut batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError> {
        let mut imported = Imported::default();
        while let Some(batch) = batches.recv().await {
            match batch {
                ImportBatch::Observations(staged) => {
                    imported
                        .observations
                        .extend(staged.into_iter().map(|s| s.observation));
                }
                ImportBatch::Objects(objects) => imported.objects.extend(objects),
                ImportBatch::Rejected(_) => {}
                ImportBatch::Commit(commit) => {
                    let mut cursors = self.cursors.lock().unwrap();
                    for (key, value) in &commit.cursors {
                        cursors.insert(key.clone(), value.clone());
                    }
                    imported.cursors = commit.cursors;
                    let summary = ImportSummary {
                        new: imported.observations.len() as u64,
                        objects: imported.objects.len() as u64,
                        ..ImportSummary::default()
                    };
                    self.imports.lock().unwrap().push(imported);
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

/// An HTTP client for loopback tests (reqwest needs a crypto provider even for plain HTTP).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// One pull as the scheduler runs it: a session, the transport, then commit (with the
/// transport's cursors) when something was fetched, abort otherwise. Returns the status and,
/// when committed, what the import wrote.
pub async fn pull(
    store: &Arc<MemoryStore>,
    transport: &dyn Transport,
    http: &reqwest::Client,
) -> Result<(PullStatus, Option<Imported>), PullError> {
    let source = SourceInfo::adhoc(SOURCE, "misp");
    let mut session = ImportSession::begin(store.clone(), source, None);
    let format: Arc<dyn Format> = Arc::from(formats::by_name("misp", &Default::default()).unwrap());
    let mut ctx = PullContext {
        store: store.as_ref(),
        source: SOURCE,
        session: &mut session,
        http,
        cursors: Vec::new(),
    };
    let result = transport.pull(format, &mut ctx).await;
    let cursors = std::mem::take(&mut ctx.cursors);
    match result {
        Ok(status @ PullStatus::Fetched { .. }) => {
            session
                .commit(Commit {
                    full_list: false,
                    cursors,
                })
                .await?;
            Ok((status, store.imports().pop()))
        }
        Ok(status) => {
            session.abort("nothing new").await;
            Ok((status, None))
        }
        Err(err) => {
            session.abort(&err.to_string()).await;
            Err(err)
        }
    }
}

/// Serves `router` on a loopback port and returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    format!("http://{address}")
}
