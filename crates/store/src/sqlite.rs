//! The sqlite backend (stub until implemented).

use async_trait::async_trait;
use rampart_model::{ContextObject, Indicator, SourceInfo};
use tokio::sync::mpsc;

use crate::*;

/// The sqlite store.
pub struct SqliteStore;

impl SqliteStore {
    pub async fn open(_url: &str) -> Result<SqliteStore, StoreError> {
        Err(StoreError::Config(
            "sqlite backend not implemented yet".into(),
        ))
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn upsert_source(
        &self,
        _source: &SourceInfo,
        _settings: &serde_json::Value,
    ) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn source(&self, _name: &str) -> Result<Option<SourceRecord>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn remove_source(&self, _name: &str) -> Result<bool, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn set_reliability(
        &self,
        _name: &str,
        _reliability: rampart_model::Reliability,
    ) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn record_pull(&self, _name: &str, _outcome: &PullOutcome) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn cursor(&self, _source: &str, _key: &str) -> Result<Option<String>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn set_cursor(&self, _source: &str, _key: &str, _value: &str) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn import(
        &self,
        _source: &SourceInfo,
        _batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn indicator(
        &self,
        _indicator: &Indicator,
    ) -> Result<Option<StoredIndicator>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn search(&self, _query: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn set_suppression(
        &self,
        _indicator: &Indicator,
        _reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn set_suppressions(
        &self,
        _changes: &[(Indicator, Option<String>)],
    ) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn context_object(&self, _id: &str) -> Result<Option<ContextObject>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn context_objects(
        &self,
        _object_type: &str,
        _after_id: Option<&str>,
        _limit: u32,
    ) -> Result<Vec<ContextObject>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn relationships_of(&self, _id: &str) -> Result<Vec<ContextObject>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn allow(&self, _entry: &AllowEntry) -> Result<(), StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn disallow(&self, _value: &str) -> Result<bool, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn upsert_assets(&self, _assets: &[Asset]) -> Result<usize, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }

    async fn assets(&self) -> Result<Vec<Asset>, StoreError> {
        Err(StoreError::Config("not implemented".into()))
    }
}
