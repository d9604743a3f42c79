//! Rampart's persistence: one [`Store`] trait with two backends, SQLite (the embedded default)
//! and PostgreSQL (to scale out), sharing one test suite so they cannot drift.
//!
//! Callers never see SQL. An import is one transaction fed by batches over a channel: a feed
//! that fails half-way leaves the store exactly as it was.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rampart_store::{open, ImportBatch};
//! use rampart_model::{Indicator, IndicatorKind, Observation, SourceInfo};
//! let store = open("sqlite:///tmp/rampart-demo.db").await?;
//! let source = SourceInfo::adhoc("demo", "text");
//! store.upsert_source(&source, &serde_json::json!({})).await?;
//! let (sender, receiver) = tokio::sync::mpsc::channel(4);
//! let import = store.import(&source, receiver);
//! let indicator = Indicator::parse(IndicatorKind::Domain, "evil.example")?;
//! sender.send(ImportBatch::observations(vec![Observation::new(indicator, "line 1")])).await.ok();
//! sender.send(ImportBatch::Commit(Default::default())).await.ok();
//! drop(sender);
//! let summary = import.await?;
//! assert_eq!(summary.new, 1);
//! # Ok(()) }
//! ```

mod common;
mod error;
mod import;
mod multirow;
mod postgres;
mod rows;
mod sqlite;
mod types;

use async_trait::async_trait;
use rampart_model::{ContextObject, Indicator, SourceInfo};
use tokio::sync::mpsc;

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::*;

/// Everything Rampart persists, behind one interface.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend this is (`sqlite`, `postgres`), for status output.
    fn backend(&self) -> &'static str;

    // ---- sources -------------------------------------------------------------------------

    /// Adds a source or updates its settings. `settings` is the source's own configuration
    /// (URL, schedule, auth reference…) kept as JSON for the scheduler.
    async fn upsert_source(
        &self,
        source: &SourceInfo,
        settings: &serde_json::Value,
    ) -> Result<(), StoreError>;
    async fn source(&self, name: &str) -> Result<Option<SourceRecord>, StoreError>;
    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError>;
    /// Removes a source and its statements; indicators no source vouches for any more stay,
    /// without sources, so that history and suppressions are kept.
    async fn remove_source(&self, name: &str) -> Result<bool, StoreError>;
    /// Lowers or raises a source's reliability (e.g. after false positives).
    async fn set_reliability(
        &self,
        name: &str,
        reliability: rampart_model::Reliability,
    ) -> Result<(), StoreError>;
    /// Records the outcome of one pull attempt for the feed status.
    async fn record_pull(&self, name: &str, outcome: &PullOutcome) -> Result<(), StoreError>;
    /// A per-source cursor (TAXII `added_after` per collection, MISP timestamp, HTTP ETag…).
    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets a cursor outside an import (use [`Commit::cursors`] to move it with an import).
    async fn set_cursor(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError>;

    // ---- imports -------------------------------------------------------------------------

    /// Runs one import as one transaction: every batch received is written, and the
    /// transaction commits on [`ImportBatch::Commit`]. If the channel closes without a commit,
    /// or [`ImportBatch::Abort`] arrives, or any write fails, nothing of it is kept.
    async fn import(
        &self,
        source: &SourceInfo,
        batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError>;

    // ---- indicators ----------------------------------------------------------------------

    async fn indicator(&self, indicator: &Indicator)
    -> Result<Option<StoredIndicator>, StoreError>;
    /// One page of indicators matching the query, in id order, with their source statements.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError>;
    /// Marks an indicator suppressed with a reason, or clears it (`None`).
    async fn set_suppression(
        &self,
        indicator: &Indicator,
        reason: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Replaces the suppression reasons of many indicators in one transaction (after warninglists
    /// or the allowlist changed). Indicators not listed keep theirs.
    async fn set_suppressions(
        &self,
        changes: &[(Indicator, Option<String>)],
    ) -> Result<(), StoreError>;
    async fn counts(&self) -> Result<Counts, StoreError>;

    // ---- context -------------------------------------------------------------------------

    async fn context_object(&self, id: &str) -> Result<Option<ContextObject>, StoreError>;
    /// Context objects of one type (e.g. all `attack-pattern`s), in id order, one page.
    async fn context_objects(
        &self,
        object_type: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ContextObject>, StoreError>;
    /// Relationship and sighting objects whose source is `id` (`source_ref`, `sighting_of_ref`).
    async fn relationships_of(&self, id: &str) -> Result<Vec<ContextObject>, StoreError>;

    // ---- allowlist -----------------------------------------------------------------------

    async fn allow(&self, entry: &AllowEntry) -> Result<(), StoreError>;
    async fn disallow(&self, value: &str) -> Result<bool, StoreError>;
    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError>;

    // ---- assets --------------------------------------------------------------------------

    /// Inserts or replaces assets by name, all in one transaction.
    async fn upsert_assets(&self, assets: &[Asset]) -> Result<usize, StoreError>;
    async fn assets(&self) -> Result<Vec<Asset>, StoreError>;
}

/// Opens a store from a URL: `sqlite://PATH` (created if missing) or `postgres://…`.
/// Migrations run on open.
pub async fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Box::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Box::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported store URL {url:?}: expected sqlite://PATH or postgres://…"
        )))
    }
}
