//! The SQLite backend, Rampart's embedded default.
//!
//! SQLite allows one writer at a time, so every write goes through a pool of exactly one
//! connection (imports hold it for their whole transaction) while reads use a small pool of
//! read-only connections that, in WAL mode, keep reading the last committed state meanwhile.
//! An in-memory database (`sqlite::memory:`) lives in one connection, so it gets a single pool.

mod accounts;
mod cases;
mod queries;
mod respond;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rampart_model::{Alert, ContextObject, Indicator, Reliability, SourceInfo, Timestamp};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use tokio::sync::mpsc;

use crate::common::{
    change_page, last_change_per_indicator, page_limit, require_source, status_list,
};
use crate::multirow::MultiRow;
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
pub(crate) use queries::BACKUP_CHECK;

crate::alert_store::alert_store!(SqliteStore, reader: reader, writer: writer);

/// Rows per `UPDATE … FROM (VALUES …)` of `set_suppressions` (3 parameters each).
static SUPPRESS_MANY: MultiRow = MultiRow::new(sql::SUPPRESSION_SET_MANY, 1024);

/// The SQLite store.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    checkpointer: Option<Checkpointer>,
}

/// Copies committed WAL frames into the database file on its own connection, after imports,
/// so that an import's commit does not wait for it (SQLite would otherwise checkpoint inside
/// the commit once the WAL passes its threshold). The writer keeps a large automatic threshold
/// as a backstop.
struct Checkpointer {
    pool: SqlitePool,
    running: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Starts a checkpoint in the background unless one is running.
    fn request(&self) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let pool = self.pool.clone();
        let running = Arc::clone(&self.running);
        tokio::spawn(async move {
            let result = sqlx::query(sql::WAL_CHECKPOINT).execute(&pool).await;
            running.store(false, Ordering::Release);
            if let Err(err) = result {
                tracing::warn!(error = %err, "background WAL checkpoint failed");
            }
        });
    }
}

impl SqliteStore {
    /// Opens (creating it and its directory if missing) and migrates the database at `url`:
    /// `sqlite://PATH`, `sqlite:PATH` or `sqlite::memory:`.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::Config(format!("invalid SQLite URL {url:?}: {err}")))?
            .create_if_missing(true)
            .foreign_keys(false)
            .busy_timeout(Duration::from_secs(30))
            .statement_cache_capacity(256)
            // Rows cross from SQLite's worker thread in one channel: let a lookup's rows flow
            // without a thread hand-off per row.
            .row_buffer_size(1024)
            // Fewer, larger pages: a commit writes a quarter of the WAL frames of the 4 KiB
            // default, and B-trees are shallower. Only takes effect when the file is created.
            .pragma("page_size", "16384")
            .pragma("temp_store", "memory")
            // 64 MiB of page cache per reading connection.
            .pragma("cache_size", "-65536");
        if !in_memory
            && let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            tokio::fs::create_dir_all(parent).await.map_err(|err| {
                StoreError::Config(format!(
                    "cannot create directory {}: {err}",
                    parent.display()
                ))
            })?;
        }
        let write_options = if in_memory {
            options.clone()
        } else {
            options
                .clone()
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("wal_autocheckpoint", "16384")
                // The writer keeps a million indicators' pages (~200 MiB) in memory for the
                // length of an import instead of spilling them to the WAL half-way.
                .pragma("cache_size", "-262144")
        };
        // One connection that is never closed: an in-memory database dies with it, and an
        // import may hold it for minutes, hence the long acquire timeout.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(3600))
            .connect_with(write_options)
            .await?;
        migrator().run(&writer).await?;
        if in_memory {
            return Ok(SqliteStore {
                reader: writer.clone(),
                writer,
                checkpointer: None,
            });
        }
        let checkpointer = Checkpointer {
            pool: SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(options.clone().pragma("cache_size", "-2048")),
            running: Arc::new(AtomicBool::new(false)),
        };
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_lazy_with(options.read_only(true));
        Ok(SqliteStore {
            writer,
            reader,
            checkpointer: Some(checkpointer),
        })
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        // IMMEDIATE takes the write lock now rather than failing to upgrade a read lock later.
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Opens a change-feed entry in a write transaction.
    async fn begin_change(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        what: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::CHANGE_BEGIN)
            .bind(what)
            .fetch_one(&mut **tx)
            .await?)
    }

    /// Numbers the change and commits: the write lock is held, so numbers follow commit order.
    async fn commit_change(
        mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        change_id: i64,
    ) -> Result<(), StoreError> {
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
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
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

    async fn statements_of(
        connection: &mut sqlx::SqliteConnection,
        ids: &[i64],
    ) -> Result<Vec<StatementRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = to_json(ids);
        Ok(sqlx::query_as(sql::STATEMENTS_OF)
            .bind(ids)
            .fetch_all(connection)
            .await?)
    }

    async fn with_statements(
        &self,
        indicators: Vec<IndicatorRow>,
    ) -> Result<Vec<StoredIndicator>, StoreError> {
        let ids: Vec<i64> = indicators.iter().map(IndicatorRow::id).collect();
        let mut connection = self.reader.acquire().await?;
        let statements = SqliteStore::statements_of(&mut connection, &ids).await?;
        assemble(indicators, statements)
    }
}

/// The SQLite migrations, embedded.
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
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn source(&self, name: &str) -> Result<Option<SourceRecord>, StoreError> {
        let row: Option<SourceRow> = sqlx::query_as(sql::SOURCE_GET)
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        row.map(SourceRow::into_record).transpose()
    }

    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        let rows: Vec<SourceRow> = sqlx::query_as(sql::SOURCE_LIST)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(SourceRow::into_record).collect()
    }

    async fn remove_source(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let change_id = SqliteStore::begin_change(&mut tx, "source").await?;
        SqliteStore::mark_source(&mut tx, change_id, name).await?;
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
        SqliteStore::commit_change(tx, change_id).await?;
        Ok(removed > 0)
    }

    async fn set_reliability(
        &self,
        name: &str,
        reliability: Reliability,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let affected = sqlx::query(sql::SOURCE_SET_RELIABILITY)
            .bind(name)
            .bind(reliability_text(reliability))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        require_source(name, affected)?;
        let change_id = SqliteStore::begin_change(&mut tx, "source").await?;
        SqliteStore::mark_source(&mut tx, change_id, name).await?;
        SqliteStore::commit_change(tx, change_id).await
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
        let affected = query.execute(&self.writer).await?.rows_affected();
        require_source(name, affected)
    }

    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql::CURSOR_GET)
            .bind(source)
            .bind(key)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn set_cursor(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError> {
        let affected = sqlx::query(sql::CURSOR_SET)
            .bind(source)
            .bind(key)
            .bind(value)
            .execute(&self.writer)
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
        let tx = self.begin_write().await?;
        let writer = writer::SqliteImport::begin(tx, &source.name, now).await?;
        let summary = crate::import::run(writer, source, now, batches).await?;
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.request();
        }
        Ok(summary)
    }

    async fn indicator(
        &self,
        indicator: &Indicator,
    ) -> Result<Option<StoredIndicator>, StoreError> {
        let row: Option<IndicatorRow> = sqlx::query_as(sql::INDICATOR_GET)
            .bind(indicator.kind().as_str())
            .bind(indicator.value())
            .fetch_optional(&self.reader)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_statements(vec![row]).await?.pop())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError> {
        let limit = page_limit(query.limit);
        let after = query.after_id.unwrap_or(i64::MIN);
        let contains = query.contains.as_deref().map(str::to_lowercase);
        let kind = query.kind.map(|kind| kind.as_str());
        // One connection and one read transaction: the page and its statements are one snapshot.
        let mut tx = self.reader.begin().await?;
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
        let statements = SqliteStore::statements_of(&mut tx, &ids).await?;
        tx.commit().await?;
        assemble(indicators, statements)
    }

    async fn set_suppression(
        &self,
        indicator: &Indicator,
        reason: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let change_id = SqliteStore::begin_change(&mut tx, "suppression").await?;
        let affected = sqlx::query(sql::SUPPRESSION_SET)
            .bind(indicator.kind().as_str())
            .bind(indicator.value())
            .bind(reason)
            .bind(change_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        SqliteStore::commit_change(tx, change_id).await?;
        Ok(affected > 0)
    }

    async fn set_suppressions(
        &self,
        changes: &[(Indicator, Option<String>)],
    ) -> Result<(), StoreError> {
        let changes = last_change_per_indicator(changes);
        let mut tx = self.begin_write().await?;
        let change_id = SqliteStore::begin_change(&mut tx, "suppression").await?;
        let mut rows = changes.iter();
        for size in SUPPRESS_MANY.chunks(changes.len()) {
            let mut query = sqlx::query(SUPPRESS_MANY.sql(size));
            for (indicator, reason) in rows.by_ref().take(size) {
                query = query
                    .bind(indicator.kind().as_str())
                    .bind(indicator.value())
                    .bind(reason.as_deref())
                    .bind(change_id);
            }
            query.execute(&mut *tx).await?;
        }
        SqliteStore::commit_change(tx, change_id).await
    }

    async fn change_cursor(&self) -> Result<ChangeCursor, StoreError> {
        let seq: i64 = sqlx::query_scalar(sql::CHANGE_LATEST)
            .fetch_one(&self.reader)
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
        let mut tx = self.reader.begin().await?;
        let rows: Vec<ChangedRow> = sqlx::query_as(sql::CHANGES_SINCE)
            .bind(cursor.seq)
            .bind(cursor.after_id)
            .bind(page_limit(limit))
            .fetch_all(&mut *tx)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|row| row.indicator.id()).collect();
        let statements = SqliteStore::statements_of(&mut tx, &ids).await?;
        tx.commit().await?;
        change_page(cursor, rows, statements)
    }

    async fn change_cursor_after(&self, after: Timestamp) -> Result<ChangeCursor, StoreError> {
        let seq: i64 = sqlx::query_scalar(sql::CHANGE_BEFORE)
            .bind(micros(after))
            .fetch_one(&self.reader)
            .await?;
        Ok(ChangeCursor {
            seq,
            after_id: i64::MAX,
        })
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let row: CountsRow = sqlx::query_as(sql::COUNTS).fetch_one(&self.reader).await?;
        Ok(row.into_counts())
    }

    async fn context_object(&self, id: &str) -> Result<Option<ContextObject>, StoreError> {
        let row: Option<ObjectRow> = sqlx::query_as(sql::OBJECT_GET)
            .bind(id)
            .fetch_optional(&self.reader)
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
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    async fn relationships_of(&self, id: &str) -> Result<Vec<ContextObject>, StoreError> {
        let rows: Vec<ObjectRow> = sqlx::query_as(sql::RELATIONSHIPS_OF)
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(ObjectRow::into_object).collect()
    }

    async fn record_alerts(&self, alerts: &[Alert]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
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
            .fetch_all(&self.reader)
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
                .fetch_optional(&self.reader)
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
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn disallow(&self, value: &str) -> Result<bool, StoreError> {
        let affected = sqlx::query(sql::ALLOW_DELETE)
            .bind(value)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(affected > 0)
    }

    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError> {
        let rows: Vec<AllowRow> = sqlx::query_as(sql::ALLOW_LIST)
            .fetch_all(&self.reader)
            .await?;
        rows.into_iter().map(AllowRow::into_entry).collect()
    }

    async fn upsert_assets(&self, assets: &[Asset]) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
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
            .fetch_all(&self.reader)
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
                .fetch_one(&self.reader)
                .await?;
            return Ok(count.max(0) as u64);
        }
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query(sql::ALERTS_PRUNE)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    async fn content_rows(&self) -> Result<u64, StoreError> {
        let rows: i64 = sqlx::query_scalar(sql::STORE_ROWS)
            .fetch_one(&self.reader)
            .await?;
        Ok(rows.max(0) as u64)
    }

    async fn backup(&self, destination: &std::path::Path) -> Result<(), StoreError> {
        let path = crate::maintenance::new_file(destination)?;
        // The checkpointer's connection is a read-write one of its own: VACUUM INTO reads one
        // WAL snapshot there while the writer goes on (a read-only connection cannot attach
        // the file it writes).
        let Some(checkpointer) = &self.checkpointer else {
            return Err(StoreError::Backup(
                "an in-memory store has nothing to back up".into(),
            ));
        };
        sqlx::query(sql::BACKUP_INTO)
            .bind(path)
            .execute(&checkpointer.pool)
            .await?;
        Ok(())
    }
}
