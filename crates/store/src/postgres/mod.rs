//! The PostgreSQL backend, to scale past one machine.
//!
//! Batches travel as arrays (`unnest($1::text[], …)`): one statement and one round trip per
//! batch whatever its size, with no bind-parameter limit to respect. Imports of one source are
//! serialised by an advisory lock; imports of different sources run side by side.

mod accounts;
mod cases;
mod queries;
mod respond;
mod writer;

use std::time::Duration;

use async_trait::async_trait;
use rampart_model::{Alert, ContextObject, Indicator, Reliability, SourceInfo, Timestamp};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use tokio::sync::mpsc;

use crate::common::{
    change_page, last_change_per_indicator, page_limit, require_source, status_list,
};
use crate::rows::{
    AlertRow, AllowRow, AssetRow, AssetValues, ChangedRow, CountsRow, IndicatorRow, ObjectRow,
    SourceRow, SourceValues, StatementRow, alert_columns, assemble, micros, reliability_text,
    to_json,
};
use crate::{
    AlertBreakdown, AlertQuery, AlertTriage, AllowEntry, Asset, ChangeCursor, ChangePage, Counts,
    DailyCount, DailyGroup, ImportBatch, ImportSummary, PullOutcome, SearchQuery, SourceRecord,
    Store, StoreError, StoredAlert, StoredIndicator,
};
use queries as sql;

crate::alert_store::alert_store!(PostgresStore, reader: pool, writer: pool);

/// Rows per array statement: bounds the size of one message, not a parameter limit.
pub(crate) const ARRAY_ROWS: usize = 8192;

/// The PostgreSQL store.
pub struct PostgresStore {
    pool: PgPool,
    /// For `pg_dump`, which connects on its own.
    url: String,
}

impl PostgresStore {
    /// A write transaction (the name the SQLite backend's single writer gives it too).
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Connects to `url` (`postgres://…`) and migrates the database.
    pub async fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|err| StoreError::Config(format!("invalid PostgreSQL URL: {err}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        migrator().run(&pool).await?;
        Ok(PostgresStore {
            pool,
            url: url.to_owned(),
        })
    }

    async fn statements_of(
        connection: &mut sqlx::PgConnection,
        ids: &[i64],
    ) -> Result<Vec<StatementRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(sql::STATEMENTS_OF)
            .bind(ids)
            .fetch_all(connection)
            .await?)
    }

    /// Opens a change-feed entry in a write transaction.
    async fn begin_change(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        what: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::CHANGE_BEGIN)
            .bind(what)
            .fetch_one(&mut **tx)
            .await?)
    }

    /// Numbers the change and commits. The advisory lock is held until the commit, so a later
    /// number is never committed before an earlier one and feed readers skip nothing; it is
    /// taken last, so writers wait for each other only for the length of a commit.
    pub(crate) async fn commit_change(
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        change_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::CHANGE_LOCK).execute(&mut *tx).await?;
        sqlx::query(sql::CHANGE_COMMIT)
            .bind(change_id)
            .bind(micros(Timestamp::now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Points every indicator `source` speaks about at a change.
    async fn mark_source(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        change_id: i64,
        source: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::INDICATORS_MARK_SOURCE)
            .bind(change_id)
            .bind(source)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn with_statements(
        &self,
        indicators: Vec<IndicatorRow>,
    ) -> Result<Vec<StoredIndicator>, StoreError> {
        let ids: Vec<i64> = indicators.iter().map(IndicatorRow::id).collect();
        let mut connection = self.pool.acquire().await?;
        let statements = PostgresStore::statements_of(&mut connection, &ids).await?;
        assemble(indicators, statements)
    }
}

/// The PostgreSQL migrations, embedded.
fn migrator() -> Migrator {
    let migrations = queries::MIGRATIONS
        .iter()
        .map(|(version, description, text)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                AssertSqlSafe(*text).into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn upsert_source(
        &self,
        source: &SourceInfo,
        settings: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let values = SourceValues::new(source, settings);
        sqlx::query(sql::SOURCE_UPSERT)
            .bind(values.name)
            .bind(values.format)
            .bind(values.reliability)
            .bind(values.default_confidence)
            .bind(values.default_tlp)
            .bind(values.full_list)
            .bind(values.settings)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn source(&self, name: &str) -> Result<Option<SourceRecord>, StoreError> {
        let row: Option<SourceRow> = sqlx::query_as(sql::SOURCE_GET)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(SourceRow::into_record).transpose()
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        let rows: Vec<SourceRow> = sqlx::query_as(sql::SOURCE_LIST)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(SourceRow::into_record).collect()
    }

    async fn remove_source(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let change_id = PostgresStore::begin_change(&mut tx, "source").await?;
        PostgresStore::mark_source(&mut tx, change_id, name).await?;
        sqlx::query(sql::SOURCE_STATEMENTS_DELETE)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(sql::SOURCE_CURSORS_DELETE)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query(sql::SOURCE_DELETE)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        PostgresStore::commit_change(tx, change_id).await?;
        Ok(removed > 0)
    }

    async fn set_reliability(
        &self,
        name: &str,
        reliability: Reliability,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let affected = sqlx::query(sql::SOURCE_SET_RELIABILITY)
            .bind(name)
            .bind(reliability_text(reliability))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        require_source(name, affected)?;
        let change_id = PostgresStore::begin_change(&mut tx, "source").await?;
        PostgresStore::mark_source(&mut tx, change_id, name).await?;
        PostgresStore::commit_change(tx, change_id).await
    }

    async fn record_pull(&self, name: &str, outcome: &PullOutcome) -> Result<(), StoreError> {
        let query = match outcome {
            PullOutcome::Success { at, summary } => sqlx::query(sql::PULL_SUCCESS)
                .bind(name)
                .bind(micros(*at))
                .bind(to_json(summary)),
            PullOutcome::NotModified { at } => sqlx::query(sql::PULL_NOT_MODIFIED)
                .bind(name)
                .bind(micros(*at)),
            PullOutcome::Failure { at, error } => sqlx::query(sql::PULL_FAILURE)
                .bind(name)
                .bind(micros(*at))
                .bind(error.clone()),
        };
        let affected = query.execute(&self.pool).await?.rows_affected();
        require_source(name, affected)
    }

    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::CURSOR_GET)
            .bind(source)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn set_cursor(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError> {
        let affected = sqlx::query(sql::CURSOR_SET)
            .bind(source)
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?
            .rows_affected();
        require_source(source, affected)
    }

    async fn import(
        &self,
        source: &SourceInfo,
        batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError> {
        let now = micros(Timestamp::now());
        let tx = self.pool.begin().await?;
        let writer = writer::PostgresImport::begin(tx, &source.name, now).await?;
        crate::import::run(writer, source, now, batches).await
    }

    async fn indicator(
        &self,
        indicator: &Indicator,
    ) -> Result<Option<StoredIndicator>, StoreError> {
        let row: Option<IndicatorRow> = sqlx::query_as(sql::INDICATOR_GET)
            .bind(indicator.kind().as_str())
            .bind(indicator.value())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_statements(vec![row]).await?.pop())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError> {
        let limit = page_limit(query.limit);
        let after = query.after_id.unwrap_or(i64::MIN);
        let contains = query.contains.as_deref().map(str::to_lowercase);
        let kind = query.kind.map(|kind| kind.as_str());
        // One snapshot for the page and its statements.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let indicators: Vec<IndicatorRow> = match &query.source {
            Some(source) => {
                sqlx::query_as(sql::SEARCH_BY_SOURCE)
                    .bind(source)
                    .bind(after)
                    .bind(contains)
                    .bind(kind)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query_as(sql::SEARCH)
                    .bind(after)
                    .bind(contains)
                    .bind(kind)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let ids: Vec<i64> = indicators.iter().map(IndicatorRow::id).collect();
        let statements = PostgresStore::statements_of(&mut tx, &ids).await?;
        tx.commit().await?;
        assemble(indicators, statements)
    }

    async fn set_suppression(
        &self,
        indicator: &Indicator,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let change_id = PostgresStore::begin_change(&mut tx, "suppression").await?;
        let affected = sqlx::query(sql::SUPPRESSION_SET)
            .bind(indicator.kind().as_str())
            .bind(indicator.value())
            .bind(reason)
            .bind(change_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        PostgresStore::commit_change(tx, change_id).await?;
        Ok(affected > 0)
    }

    async fn set_suppressions(
        &self,
        changes: &[(Indicator, Option<String>)],
    ) -> Result<(), StoreError> {
        let changes = last_change_per_indicator(changes);
        let mut tx = self.pool.begin().await?;
        let change_id = PostgresStore::begin_change(&mut tx, "suppression").await?;
        for chunk in changes.chunks(ARRAY_ROWS) {
            let kinds: Vec<&str> = chunk
                .iter()
                .map(|(indicator, _)| indicator.kind().as_str())
                .collect();
            let values: Vec<&str> = chunk
                .iter()
                .map(|(indicator, _)| indicator.value())
                .collect();
            let reasons: Vec<Option<&str>> = chunk.iter().map(|(_, reason)| *reason).collect();
            sqlx::query(sql::SUPPRESSION_SET_MANY)
                .bind(kinds)
                .bind(values)
                .bind(reasons)
                .bind(change_id)
                .execute(&mut *tx)
                .await?;
        }
        PostgresStore::commit_change(tx, change_id).await
    }

    async fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let seq: i64 = sqlx::query_scalar(sql::CHANGE_LATEST)
            .fetch_one(&self.pool)
            .await?;
        Ok(ChangeCursor {
            seq,
            after_id: i64::MAX,
        })
    }

    async fn indicators_changed_since(
        &self,
        cursor: ChangeCursor,
        limit: u32,
    ) -> Result<ChangePage, StoreError> {
        // One snapshot for the page and its statements, as in `search`.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let rows: Vec<ChangedRow> = sqlx::query_as(sql::CHANGES_SINCE)
            .bind(cursor.seq)
            .bind(cursor.after_id)
            .bind(page_limit(limit))
            .fetch_all(&mut *tx)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|row| row.indicator.id()).collect();
        let statements = PostgresStore::statements_of(&mut tx, &ids).await?;
        tx.commit().await?;
        change_page(cursor, rows, statements)
    }

    async fn change_cursor_after(&self, after: Timestamp) -> Result<ChangeCursor, StoreError> {
        let seq: i64 = sqlx::query_scalar(sql::CHANGE_BEFORE)
            .bind(micros(after))
            .fetch_one(&self.pool)
            .await?;
        Ok(ChangeCursor {
            seq,
            after_id: i64::MAX,
        })
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let row: CountsRow = sqlx::query_as(sql::COUNTS).fetch_one(&self.pool).await?;
        Ok(row.into_counts())
    }

    async fn context_object(&self, id: &str) -> Result<Option<ContextObject>, StoreError> {
        let row: Option<ObjectRow> = sqlx::query_as(sql::OBJECT_GET)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ObjectRow::into_object).transpose()
    }

    async fn context_objects(
        &self,
        object_type: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ContextObject>, StoreError> {
        let limit = page_limit(limit);
        let rows: Vec<ObjectRow> = sqlx::query_as(sql::OBJECTS_BY_TYPE)
            .bind(object_type)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    async fn relationships_of(&self, id: &str) -> Result<Vec<ContextObject>, StoreError> {
        let rows: Vec<ObjectRow> = sqlx::query_as(sql::RELATIONSHIPS_OF)
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    async fn record_alerts(&self, alerts: &[Alert]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for alert in alerts {
            let (first_seen, last_seen, count, severity, body) = alert_columns(alert);
            sqlx::query(sql::ALERT_UPSERT)
                .bind(&alert.key)
                .bind(first_seen)
                .bind(last_seen)
                .bind(count)
                .bind(severity)
                .bind(alert.retro)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn alerts(&self, query: &AlertQuery) -> Result<Vec<StoredAlert>, StoreError> {
        let rows: Vec<AlertRow> = sqlx::query_as(sql::ALERT_LIST)
            .bind(query.since.map(micros))
            .bind(query.min_severity.map_or(0, |s| s as i64))
            .bind(query.retro)
            .bind(query.after_id.unwrap_or(0))
            .bind(page_limit(query.limit))
            .bind(status_list(
                query.statuses.iter().map(|status| status.as_str()),
            ))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(AlertRow::into_alert).collect()
    }

    async fn triage_alert(
        &self,
        id: i64,
        triage: &AlertTriage,
    ) -> Result<Option<StoredAlert>, StoreError> {
        self.triage_alert_in_db(id, triage).await
    }

    async fn alert_breakdown(
        &self,
        since: Option<Timestamp>,
    ) -> Result<AlertBreakdown, StoreError> {
        self.alert_breakdown_in_db(since).await
    }

    async fn indicators_per_day(
        &self,
        since: Timestamp,
        by: DailyGroup,
    ) -> Result<Vec<DailyCount>, StoreError> {
        self.indicators_per_day_in_db(since, by).await
    }

    async fn alert_keys_present(&self, keys: &[String]) -> Result<Vec<String>, StoreError> {
        let mut present = Vec::new();
        for key in keys {
            let found: Option<(i32,)> = sqlx::query_as(sql::ALERT_KEY_PRESENT)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
            if found.is_some() {
                present.push(key.clone());
            }
        }
        Ok(present)
    }

    async fn allow(&self, entry: &AllowEntry) -> Result<(), StoreError> {
        sqlx::query(sql::ALLOW_UPSERT)
            .bind(&entry.value)
            .bind(&entry.reason)
            .bind(micros(entry.added))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn disallow(&self, value: &str) -> Result<bool, StoreError> {
        let affected = sqlx::query(sql::ALLOW_DELETE)
            .bind(value)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(affected > 0)
    }

    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        let rows: Vec<AllowRow> = sqlx::query_as(sql::ALLOW_LIST)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(AllowRow::into_entry).collect()
    }

    async fn upsert_assets(&self, assets: &[Asset]) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        for asset in assets {
            let values = AssetValues::new(asset);
            sqlx::query(sql::ASSET_UPSERT)
                .bind(values.name)
                .bind(values.kind)
                .bind(values.owner)
                .bind(values.criticality)
                .bind(values.tags)
                .bind(values.networks)
                .bind(values.hostnames)
                .bind(values.domains)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(assets.len())
    }

    async fn assets(&self) -> Result<Vec<Asset>, StoreError> {
        let rows: Vec<AssetRow> = sqlx::query_as(sql::ASSET_LIST)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(AssetRow::into_asset).collect()
    }

    async fn prune_alerts(
        &self,
        last_seen_before: Timestamp,
        dry_run: bool,
    ) -> Result<u64, StoreError> {
        let cutoff = micros(last_seen_before);
        if dry_run {
            let count: i64 = sqlx::query_scalar(sql::ALERTS_PRUNE_COUNT)
                .bind(cutoff)
                .fetch_one(&self.pool)
                .await?;
            return Ok(count.max(0) as u64);
        }
        Ok(sqlx::query(sql::ALERTS_PRUNE)
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn content_rows(&self) -> Result<u64, StoreError> {
        let rows: i64 = sqlx::query_scalar(sql::STORE_ROWS)
            .fetch_one(&self.pool)
            .await?;
        Ok(rows.max(0) as u64)
    }

    async fn backup(&self, destination: &std::path::Path) -> Result<(), StoreError> {
        crate::maintenance::pg_dump(&self.url, destination).await
    }
}
