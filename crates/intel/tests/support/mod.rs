//! Shared by the transport tests (TAXII and MISP): a real SQLite store in a temporary
//! directory with the test source registered, a helper that runs one pull the way the feed
//! scheduler does, and the STIX format with counts of what it read.
//!
//! The tests assert through the store's own reads (cursors, indicators and their statements,
//! context objects, counts, the source's last summary), so a transport is checked end to end
//! against what Rampart would really persist.

#![allow(dead_code)]

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rampart_intel::formats::stix::StixFormat;
use rampart_intel::formats::{self, Format, FormatError, Sink};
use rampart_intel::import::{ImportReport, ImportSession};
use rampart_intel::sources::{PullContext, PullError, PullStatus, Transport};
use rampart_model::{Indicator, IndicatorKind, SourceInfo};
use rampart_store::{
    Commit, Counts, ImportSummary, SearchQuery, SourceStatement, Store, StoredIndicator,
};
use tempfile::TempDir;

/// A real SQLite store holding one source, deleted with the temporary directory.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub source: SourceInfo,
    // Kept so the database outlives every test step; dropped last.
    _dir: TempDir,
}

impl TestStore {
    /// Opens a fresh store and registers `source` with `format` (no settings: the tests build
    /// their transports themselves).
    pub async fn new(source: &str, format: &str) -> TestStore {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
        let store: Arc<dyn Store> = rampart_store::open(&url)
            .await
            .expect("open the sqlite store")
            .into();
        let info = SourceInfo::adhoc(source, format);
        store
            .upsert_source(&info, &serde_json::json!({}))
            .await
            .expect("register the source");
        TestStore {
            store,
            source: info,
            _dir: dir,
        }
    }

    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// Runs one pull as the scheduler does: an import session, the transport, then a commit
    /// with the transport's cursors when documents were fetched, an abort when nothing changed
    /// or the pull failed. The report is there only when the import committed.
    pub async fn pull(
        &self,
        transport: &dyn Transport,
        format: Arc<dyn Format>,
    ) -> Result<(PullStatus, Option<ImportReport>), PullError> {
        let http = http_client();
        let mut session = ImportSession::begin(self.store.clone(), self.source.clone(), None);
        let mut ctx = PullContext {
            store: self.store.as_ref(),
            source: &self.source.name,
            session: &mut session,
            http: &http,
            cursors: Vec::new(),
        };
        let result = transport.pull(format, &mut ctx).await;
        let cursors = std::mem::take(&mut ctx.cursors);
        match result {
            Ok(status @ PullStatus::Fetched { full_list, .. }) => {
                let report = session.commit(Commit { full_list, cursors }).await?;
                Ok((status, Some(report)))
            }
            Ok(PullStatus::NotModified) => {
                session.abort("not modified").await;
                Ok((PullStatus::NotModified, None))
            }
            Err(err) => {
                session.abort(&err.to_string()).await;
                Err(err)
            }
        }
    }

    pub async fn cursor(&self, key: &str) -> Option<String> {
        self.store
            .cursor(&self.source.name, key)
            .await
            .expect("read a cursor")
    }

    pub async fn set_cursor(&self, key: &str, value: &str) {
        self.store
            .set_cursor(&self.source.name, key, value)
            .await
            .expect("set a cursor");
    }

    pub async fn counts(&self) -> Counts {
        self.store.counts().await.expect("store counts")
    }

    /// The summary of the last committed import of the source; `None` if none committed.
    pub async fn last_summary(&self) -> Option<ImportSummary> {
        self.store
            .source(&self.source.name)
            .await
            .expect("read the source")
            .expect("the source exists")
            .last_summary
    }

    /// Every indicator the source makes a statement about, page by page.
    pub async fn indicators(&self) -> Vec<StoredIndicator> {
        let mut all = Vec::new();
        let mut query = SearchQuery {
            source: Some(self.source.name.clone()),
            limit: 100,
            ..SearchQuery::default()
        };
        loop {
            let page = self.store.search(&query).await.expect("search the store");
            let Some(last) = page.last() else { break };
            query.after_id = Some(last.id);
            all.extend(page);
        }
        all
    }

    /// The canonical values of [`indicators`](Self::indicators), sorted.
    pub async fn values(&self) -> Vec<String> {
        let mut values: Vec<String> = self
            .indicators()
            .await
            .into_iter()
            .map(|stored| stored.indicator.into_value())
            .collect();
        values.sort();
        values
    }

    /// The source's statement about `value` (its kind guessed), which must exist.
    pub async fn statement(&self, value: &str) -> SourceStatement {
        let indicator = Indicator::guess(value).expect("a valid indicator value");
        let stored = self
            .store
            .indicator(&indicator)
            .await
            .expect("read an indicator")
            .unwrap_or_else(|| panic!("{value} is not in the store"));
        stored
            .sources
            .into_iter()
            .find(|statement| statement.source == self.source.name)
            .unwrap_or_else(|| panic!("no statement of {} on {value}", self.source.name))
    }

    /// Which of `candidates` (STIX or MISP object ids) the store holds, sorted: as the
    /// reference of one of the source's statements, or as a context object.
    pub async fn stored_ids(&self, candidates: &[String]) -> Vec<String> {
        let references: Vec<String> = self
            .indicators()
            .await
            .into_iter()
            .flat_map(|stored| stored.sources)
            .filter(|statement| statement.source == self.source.name)
            .map(|statement| statement.reference)
            .collect();
        let mut found = Vec::new();
        for id in candidates {
            let is_context = self
                .store
                .context_object(id)
                .await
                .expect("read a context object")
                .is_some();
            if is_context || references.contains(id) {
                found.push(id.clone());
            }
        }
        found.sort();
        found.dedup();
        found
    }
}

/// The MISP format, as a source configured with `format = "misp"` gets it.
pub fn misp_format() -> Arc<dyn Format> {
    Arc::from(formats::by_name("misp", &Default::default()).expect("the misp format"))
}

/// The real STIX format (bundles and TAXII envelopes), counting the documents and the objects
/// it read so tests can tell what the transport delivered.
#[derive(Default)]
pub struct CountingStix {
    documents: AtomicU64,
    objects: AtomicU64,
}

impl CountingStix {
    pub fn new() -> Arc<CountingStix> {
        Arc::new(CountingStix::default())
    }
    pub fn documents_seen(&self) -> u64 {
        self.documents.load(Ordering::SeqCst)
    }
    pub fn objects_seen(&self) -> u64 {
        self.objects.load(Ordering::SeqCst)
    }
}

impl Format for CountingStix {
    fn name(&self) -> &'static str {
        "stix"
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        let stats = StixFormat.parse_counted(input, sink)?;
        self.documents.fetch_add(1, Ordering::SeqCst);
        self.objects.fetch_add(stats.objects, Ordering::SeqCst);
        Ok(())
    }
}

/// `[ipv4-addr:value = '198.51.100.1']` → the kind and value; anything else → `None`. Test
/// fixtures use it to count, independently of the STIX parser, which indicators name one
/// enforceable value.
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

/// An HTTP client for loopback tests.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a default provider, even for plain HTTP; the first test to get
    // here installs ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Serves `router` on a loopback port and returns its base URL. The server lives as long as
/// the test's runtime.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, router).await.ok();
    });
    format!("http://{address}")
}
