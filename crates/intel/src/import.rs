//! The import pipeline: one transaction per import, fed by any number of documents.
//!
//! Parsing is synchronous and CPU-bound, so it runs on a blocking thread; observations are
//! checked against the suppression lists there and sent to the store in batches while the
//! store writes the previous batch, so parsing and writing overlap on two cores.

use std::io::BufRead;
use std::sync::Arc;

use rampart_model::{ContextObject, Indicator, Observation, SourceInfo};
use rampart_store::{Commit, ImportBatch, ImportSummary, StagedObservation, Store, StoreError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::formats::{Format, FormatError, Rejection, Sink};

/// Observations per batch sent to the store.
pub const BATCH_SIZE: usize = 4096;
/// Rejections kept with their reasons for the report; the rest are only counted.
pub const KEPT_REJECTIONS: usize = 100;

/// Decides whether an indicator is suppressed (never enforced) and why.
pub trait Suppress: Send + Sync {
    fn reason(&self, indicator: &Indicator) -> Option<String>;
}

/// A document that failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{origin}: {error}")]
    Format { origin: String, error: FormatError },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// What an import did, for the CLI and the feed status.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ImportReport {
    pub summary: ImportSummary,
    /// Observations read from the documents (before dedupe).
    pub observations: u64,
    pub rejected: u64,
    /// The first [`KEPT_REJECTIONS`] rejections, with where they were.
    pub rejections: Vec<Rejection>,
    pub suppressed: u64,
}

/// Counts of one parsed document.
#[derive(Debug, Default, Clone, Copy)]
pub struct DocumentCounts {
    pub observations: u64,
    pub objects: u64,
    pub rejected: u64,
    pub suppressed: u64,
}

/// One import in progress: parse documents into it, then [`commit`](Self::commit) or
/// [`abort`](Self::abort). Dropping it without committing discards everything.
pub struct ImportSession {
    source: SourceInfo,
    sender: Option<mpsc::Sender<ImportBatch>>,
    writer: JoinHandle<Result<ImportSummary, StoreError>>,
    suppress: Option<Arc<dyn Suppress>>,
    report: ImportReport,
}

impl ImportSession {
    /// Starts an import of `source` into `store`. The source must exist in the store.
    pub fn begin(
        store: Arc<dyn Store>,
        source: SourceInfo,
        suppress: Option<Arc<dyn Suppress>>,
    ) -> ImportSession {
        let (sender, receiver) = mpsc::channel(4);
        let writer_source = source.clone();
        let writer = tokio::spawn(async move { store.import(&writer_source, receiver).await });
        ImportSession {
            source,
            sender: Some(sender),
            writer,
            suppress,
            report: ImportReport::default(),
        }
    }

    pub fn source(&self) -> &SourceInfo {
        &self.source
    }

    /// What has been parsed so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Parses one document into this import. `origin` names it in errors (a path or URL).
    /// On `Err` the caller should [`abort`](Self::abort): the document failed as a whole.
    pub async fn parse_document(
        &mut self,
        format: Arc<dyn Format>,
        input: Box<dyn BufRead + Send>,
        origin: &str,
    ) -> Result<DocumentCounts, ImportError> {
        let sender = self
            .sender
            .clone()
            .ok_or_else(|| ImportError::Other("import already finished".into()))?;
        let suppress = self.suppress.clone();
        let origin_owned = origin.to_owned();
        let room = KEPT_REJECTIONS.saturating_sub(self.report.rejections.len());
        let (result, sink) = tokio::task::spawn_blocking(move || {
            let mut input = input;
            let mut sink = BatchingSink::new(sender, suppress, room);
            let result = format.parse(&mut input, &mut sink);
            sink.flush();
            (result, sink)
        })
        .await
        .map_err(|err| {
            ImportError::Other(format!("{origin_owned}: parser thread failed: {err}"))
        })?;
        if sink.closed {
            // The writer stopped early: its own error says why.
            return Err(self.writer_error().await);
        }
        result.map_err(|error| ImportError::Format {
            origin: origin.to_owned(),
            error,
        })?;
        self.report.observations += sink.counts.observations;
        self.report.rejected += sink.counts.rejected;
        self.report.suppressed += sink.counts.suppressed;
        self.report.rejections.extend(sink.rejections);
        Ok(sink.counts)
    }

    async fn writer_error(&mut self) -> ImportError {
        self.sender = None;
        let placeholder = tokio::spawn(async { Err(StoreError::Aborted("writer gone".into())) });
        let writer = std::mem::replace(&mut self.writer, placeholder);
        match writer.await {
            Ok(Err(err)) => ImportError::Store(err),
            Ok(Ok(_)) => ImportError::Other("store finished the import early".into()),
            Err(err) => ImportError::Other(format!("store writer failed: {err}")),
        }
    }

    /// Commits everything parsed so far as one transaction.
    pub async fn commit(mut self, commit: Commit) -> Result<ImportReport, ImportError> {
        let sender = self
            .sender
            .take()
            .ok_or_else(|| ImportError::Other("import already finished".into()))?;
        if self.report.rejected > 0 {
            sender
                .send(ImportBatch::Rejected(self.report.rejected))
                .await
                .ok();
        }
        sender.send(ImportBatch::Commit(commit)).await.ok();
        drop(sender);
        let summary = self
            .writer
            .await
            .map_err(|err| ImportError::Other(format!("store writer failed: {err}")))??;
        self.report.summary = summary;
        Ok(self.report)
    }

    /// Discards the import; the store is left exactly as before it began.
    pub async fn abort(mut self, reason: &str) {
        if let Some(sender) = self.sender.take() {
            sender
                .send(ImportBatch::Abort(reason.to_owned()))
                .await
                .ok();
        }
        let _ = self.writer.await;
    }
}

/// Collects observations into batches and hands them to the store writer.
struct BatchingSink {
    sender: mpsc::Sender<ImportBatch>,
    suppress: Option<Arc<dyn Suppress>>,
    observations: Vec<StagedObservation>,
    objects: Vec<ContextObject>,
    rejections: Vec<Rejection>,
    room_for_rejections: usize,
    counts: DocumentCounts,
    closed: bool,
}

impl BatchingSink {
    fn new(
        sender: mpsc::Sender<ImportBatch>,
        suppress: Option<Arc<dyn Suppress>>,
        room: usize,
    ) -> BatchingSink {
        BatchingSink {
            sender,
            suppress,
            observations: Vec::with_capacity(BATCH_SIZE),
            objects: Vec::new(),
            rejections: Vec::new(),
            room_for_rejections: room,
            counts: DocumentCounts::default(),
            closed: false,
        }
    }

    fn send(&mut self, batch: ImportBatch) {
        if !self.closed && self.sender.blocking_send(batch).is_err() {
            self.closed = true;
        }
    }

    fn flush(&mut self) {
        if !self.observations.is_empty() {
            let batch = std::mem::replace(&mut self.observations, Vec::with_capacity(BATCH_SIZE));
            self.send(ImportBatch::Observations(batch));
        }
        if !self.objects.is_empty() {
            let batch = std::mem::take(&mut self.objects);
            self.send(ImportBatch::Objects(batch));
        }
    }
}

impl Sink for BatchingSink {
    fn observation(&mut self, observation: Observation) {
        self.counts.observations += 1;
        let suppressed = self
            .suppress
            .as_ref()
            .and_then(|s| s.reason(&observation.indicator));
        if suppressed.is_some() {
            self.counts.suppressed += 1;
        }
        self.observations.push(StagedObservation {
            observation,
            suppressed,
        });
        if self.observations.len() >= BATCH_SIZE {
            self.flush();
        }
    }

    fn object(&mut self, object: ContextObject) {
        self.counts.objects += 1;
        self.objects.push(object);
        if self.objects.len() >= BATCH_SIZE / 4 {
            self.flush();
        }
    }

    fn reject(&mut self, rejection: Rejection) {
        self.counts.rejected += 1;
        if self.rejections.len() < self.room_for_rejections {
            self.rejections.push(rejection);
        }
    }
}

/// Imports one document as one transaction: the common case of `rampart intel import FILE`.
pub async fn import_document(
    store: Arc<dyn Store>,
    source: SourceInfo,
    format: Arc<dyn Format>,
    input: Box<dyn BufRead + Send>,
    origin: &str,
    suppress: Option<Arc<dyn Suppress>>,
) -> Result<ImportReport, ImportError> {
    let full_list = source.full_list || format.full_list();
    let mut session = ImportSession::begin(store, source, suppress);
    match session.parse_document(format, input, origin).await {
        Ok(_) => {
            session
                .commit(Commit {
                    full_list,
                    cursors: Vec::new(),
                })
                .await
        }
        Err(err) => {
            session.abort(&err.to_string()).await;
            Err(err)
        }
    }
}

/// Guesses the format of a document from its name and first bytes, for imports without
/// `--format`: STIX bundles and MISP events are told apart by their top-level keys.
pub fn sniff_format(name: &str, head: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.contains("\"type\":\"bundle\"")
            || compact.contains("\"spec_version\":\"2.1\"")
            || compact.contains("\"type\":\"indicator\"")
        {
            return "stix";
        }
        if compact.contains("\"Event\"")
            || compact.contains("\"Attribute\"")
            || compact.contains("\"response\"")
        {
            return "misp";
        }
        return "stix";
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".csv.gz") {
        return "csv";
    }
    "text"
}

/// The suppression that applies now: the store's local allowlist first (an analyst's decision
/// names its reason), then the given warninglists. Read per import, so allowlist changes made
/// while `rampart serve` runs apply to the next pull.
pub async fn current_suppression(
    store: &dyn Store,
    warninglists: Option<Arc<dyn Suppress>>,
) -> Result<Option<Arc<dyn Suppress>>, StoreError> {
    let allowlist = crate::warninglist::Allowlist::new(store.allowlist().await?);
    let mut links: Vec<Arc<dyn Suppress>> = Vec::new();
    if !allowlist.is_empty() {
        links.push(Arc::new(allowlist));
    }
    links.extend(warninglists);
    Ok(match links.len() {
        0 => None,
        1 => links.pop(),
        _ => Some(Arc::new(crate::warninglist::SuppressChain::new(links))),
    })
}

/// Applies `suppress` (usually [`current_suppression`]) to every stored indicator again, after
/// the allowlist or the warninglists changed; returns how many indicators changed.
pub async fn reapply_suppression(
    store: &dyn Store,
    suppress: Option<Arc<dyn Suppress>>,
) -> Result<u64, StoreError> {
    let mut query = rampart_store::SearchQuery {
        limit: 5000,
        ..rampart_store::SearchQuery::default()
    };
    let mut changed = 0u64;
    loop {
        let page = store.search(&query).await?;
        let Some(last) = page.last() else { break };
        query.after_id = Some(last.id);
        let mut changes = Vec::new();
        for stored in page {
            let reason = suppress.as_ref().and_then(|s| s.reason(&stored.indicator));
            if reason != stored.suppressed {
                changes.push((stored.indicator, reason));
            }
        }
        changed += changes.len() as u64;
        store.set_suppressions(&changes).await?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::sniff_format;

    #[test]
    fn sniffs_json_kinds_and_falls_back_on_names() {
        assert_eq!(
            sniff_format("x.json", br#"{"type": "bundle", "id": "bundle--1"}"#),
            "stix"
        );
        assert_eq!(
            sniff_format("x.json", br#"{"Event": {"info": "x"}}"#),
            "misp"
        );
        assert_eq!(sniff_format("feed.csv", b"a,b\n"), "csv");
        assert_eq!(sniff_format("list", b"# c\n1.2.3.4\n"), "text");
    }
}
