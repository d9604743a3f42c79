//! The SQLite side of an import: one `BEGIN IMMEDIATE` transaction, multi-row statements of
//! up to a few hundred rows, and indicator ids assigned here (the transaction holds SQLite's
//! only write lock, so `max(id) + 1` onwards is free) instead of read back per row.

use std::sync::Arc;

use rampart_model::Timestamp;
use sqlx::{Sqlite, Transaction};

use super::queries as sql;
use crate::import::{Found, ImportWriter, Key, NewIndicator, StatementValues};
use crate::multirow::MultiRow;
use crate::rows::{ObjectValues, micros, to_json};
use crate::{ImportSummary, StoreError};

// Rows per statement: sized so that rows × parameters stays far below SQLite's 32766 and the
// statement is still cheap to prepare once and keep cached.
static LOOKUP: MultiRow = MultiRow::new(sql::IMPORT_LOOKUP, 512);
static INSERT_INDICATORS: MultiRow = MultiRow::new(sql::INDICATOR_INSERT, 512);
static SUPPRESS: MultiRow = MultiRow::new(sql::INDICATOR_SUPPRESS_MANY, 512);
static UPSERT_STATEMENTS: MultiRow = MultiRow::new(sql::STATEMENT_UPSERT, 512);
static UPSERT_OBJECTS: MultiRow = MultiRow::new(sql::OBJECT_UPSERT, 256);

/// One import in progress on SQLite.
pub(super) struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    source: Arc<str>,
    import_id: i64,
    now: i64,
    next_id: i64,
}

impl SqliteImport {
    /// Starts the import in `tx`, which must hold the write lock. Fails with
    /// [`StoreError::UnknownSource`] (rolling back) if the source does not exist.
    pub(super) async fn begin(
        mut tx: Transaction<'static, Sqlite>,
        source: &str,
        now: i64,
    ) -> Result<SqliteImport, StoreError> {
        let exists: i64 = sqlx::query_scalar(sql::SOURCE_EXISTS).bind(source).fetch_one(&mut *tx).await?;
        if exists == 0 {
            tx.rollback().await?;
            return Err(StoreError::UnknownSource(source.to_owned()));
        }
        let import_id: i64 =
            sqlx::query_scalar(sql::IMPORT_BEGIN).bind(source).bind(now).fetch_one(&mut *tx).await?;
        let max_id: i64 = sqlx::query_scalar(sql::INDICATOR_MAX_ID).fetch_one(&mut *tx).await?;
        Ok(SqliteImport { tx, source: Arc::from(source), import_id, now, next_id: max_id + 1 })
    }
}

impl ImportWriter for SqliteImport {
    fn import_id(&self) -> i64 {
        self.import_id
    }

    async fn lookup(&mut self, keys: &[Key]) -> Result<Vec<Found>, StoreError> {
        let mut found = Vec::new();
        let mut start = 0;
        for size in LOOKUP.chunks(keys.len()) {
            let mut query = sqlx::query_as::<_, Found>(LOOKUP.sql(size))
                .bind(self.import_id)
                .bind(self.import_id)
                .bind(self.import_id);
            for key in &keys[start..start + size] {
                query = query.bind(key.kind.as_str()).bind(Arc::clone(&key.value));
            }
            let rows = query.bind(Arc::clone(&self.source)).fetch_all(&mut *self.tx).await?;
            let offset = i64::try_from(start).unwrap_or(i64::MAX);
            found.extend(rows.into_iter().map(|mut row| {
                row.position += offset;
                row
            }));
            start += size;
        }
        Ok(found)
    }

    async fn insert_indicators(&mut self, rows: &mut [NewIndicator]) -> Result<Vec<usize>, StoreError> {
        for row in rows.iter_mut() {
            row.id = self.next_id;
            self.next_id += 1;
        }
        let mut start = 0;
        for size in INSERT_INDICATORS.chunks(rows.len()) {
            let mut query = sqlx::query(INSERT_INDICATORS.sql(size));
            for row in &mut rows[start..start + size] {
                query = query
                    .bind(row.id)
                    .bind(row.key.kind.as_str())
                    .bind(Arc::clone(&row.key.value))
                    .bind(row.first_seen)
                    .bind(row.suppressed.take());
            }
            query.execute(&mut *self.tx).await?;
            start += size;
        }
        // Nobody else can write while this transaction holds the lock: nothing raced.
        Ok(Vec::new())
    }

    async fn set_suppressed(&mut self, rows: Vec<(i64, String)>) -> Result<(), StoreError> {
        let mut rows = rows.into_iter();
        for size in SUPPRESS.chunks(rows.len()) {
            let mut query = sqlx::query(SUPPRESS.sql(size));
            for (id, reason) in rows.by_ref().take(size) {
                query = query.bind(id).bind(reason);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn write_statements(&mut self, rows: Vec<StatementValues>) -> Result<(), StoreError> {
        let mut rows = rows.into_iter();
        for size in UPSERT_STATEMENTS.chunks(rows.len()) {
            let mut query = sqlx::query(UPSERT_STATEMENTS.sql(size));
            for row in rows.by_ref().take(size) {
                query = query
                    .bind(row.indicator_id)
                    .bind(Arc::clone(&self.source))
                    .bind(row.first_seen)
                    .bind(row.last_seen)
                    .bind(row.confidence)
                    .bind(row.tlp)
                    .bind(row.labels)
                    .bind(row.techniques)
                    .bind(row.threats)
                    .bind(row.reference)
                    .bind(row.valid_until)
                    .bind(row.revoked)
                    .bind(row.direction)
                    .bind(row.port)
                    .bind(row.pattern)
                    .bind(self.import_id);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn write_objects(&mut self, rows: Vec<ObjectValues>) -> Result<u64, StoreError> {
        let mut written = 0;
        let mut rows = rows.into_iter();
        for size in UPSERT_OBJECTS.chunks(rows.len()) {
            let mut query = sqlx::query(UPSERT_OBJECTS.sql(size));
            for row in rows.by_ref().take(size) {
                query = query
                    .bind(row.id)
                    .bind(row.object_type)
                    .bind(row.name)
                    .bind(row.attack_id)
                    .bind(row.modified)
                    .bind(row.revoked)
                    .bind(row.tlp)
                    .bind(Arc::clone(&self.source))
                    .bind(row.body)
                    .bind(row.source_ref)
                    .bind(row.target_ref)
                    .bind(row.relationship_type);
            }
            written += query.execute(&mut *self.tx).await?.rows_affected();
        }
        Ok(written)
    }

    async fn withdraw_unrenewed(&mut self) -> Result<u64, StoreError> {
        let result = sqlx::query(sql::STATEMENTS_WITHDRAW)
            .bind(self.now)
            .bind(Arc::clone(&self.source))
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(result.rows_affected())
    }

    async fn set_cursors(&mut self, cursors: &[(String, String)]) -> Result<(), StoreError> {
        for (key, value) in cursors {
            sqlx::query(sql::CURSOR_SET)
                .bind(Arc::clone(&self.source))
                .bind(key)
                .bind(value)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn finish(mut self, summary: &ImportSummary) -> Result<(), StoreError> {
        let summary = to_json(summary);
        sqlx::query(sql::IMPORT_FINISH)
            .bind(self.import_id)
            .bind(micros(Timestamp::now()))
            .bind(summary.clone())
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(sql::SOURCE_SET_SUMMARY)
            .bind(Arc::clone(&self.source))
            .bind(summary)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}
