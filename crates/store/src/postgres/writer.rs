//! The PostgreSQL side of an import: one transaction, each batch written as column arrays
//! through `unnest`, indicator ids drawn from the sequence before inserting so that rows a
//! concurrent import inserted first are recognised by their missing id.

use rampart_model::Timestamp;
use sqlx::{Postgres, Transaction};

use super::ARRAY_ROWS;
use super::queries as sql;
use crate::import::{Found, ImportWriter, Key, NewIndicator, StatementValues};
use crate::rows::{ObjectValues, micros, to_json};
use crate::{ImportSummary, StoreError};

/// One import in progress on PostgreSQL.
pub(super) struct PostgresImport {
    tx: Transaction<'static, Postgres>,
    source: String,
    import_id: i64,
    /// The change feed entry of this import; new and changed indicators point at it.
    change_id: i64,
    now: i64,
}

impl PostgresImport {
    /// Starts the import in `tx` after any other import of the same source has finished.
    /// Fails with [`StoreError::UnknownSource`] (rolling back) if the source does not exist.
    pub(super) async fn begin(
        mut tx: Transaction<'static, Postgres>,
        source: &str,
        now: i64,
    ) -> Result<PostgresImport, StoreError> {
        sqlx::query(sql::SOURCE_LOCK)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        let exists: i64 = sqlx::query_scalar(sql::SOURCE_EXISTS)
            .bind(source)
            .fetch_one(&mut *tx)
            .await?;
        if exists == 0 {
            tx.rollback().await?;
            return Err(StoreError::UnknownSource(source.to_owned()));
        }
        let import_id: i64 = sqlx::query_scalar(sql::IMPORT_BEGIN)
            .bind(source)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let change_id: i64 = sqlx::query_scalar(sql::CHANGE_BEGIN)
            .bind("import")
            .fetch_one(&mut *tx)
            .await?;
        Ok(PostgresImport {
            tx,
            source: source.to_owned(),
            import_id,
            change_id,
            now,
        })
    }
}

impl ImportWriter for PostgresImport {
    fn import_id(&self) -> i64 {
        self.import_id
    }

    fn insert_first(&self) -> bool {
        // Lookups are cheap here, and inserting first would burn sequence numbers on every
        // indicator a feed lists again.
        false
    }

    async fn lookup(&mut self, keys: &[Key]) -> Result<Vec<Found>, StoreError> {
        let mut found = Vec::new();
        for (chunk_index, chunk) in keys.chunks(ARRAY_ROWS).enumerate() {
            let kinds: Vec<&str> = chunk.iter().map(|key| key.kind.as_str()).collect();
            let values: Vec<&str> = chunk.iter().map(|key| &*key.value).collect();
            let rows: Vec<Found> = sqlx::query_as(sql::IMPORT_LOOKUP)
                .bind(kinds)
                .bind(values)
                .bind(&self.source)
                .fetch_all(&mut *self.tx)
                .await?;
            let offset = i64::try_from(chunk_index * ARRAY_ROWS).unwrap_or(i64::MAX);
            found.extend(rows.into_iter().map(|mut row| {
                row.position += offset;
                row
            }));
        }
        Ok(found)
    }

    async fn insert_indicators(&mut self, rows: &mut [NewIndicator]) -> Result<bool, StoreError> {
        let mut all_inserted = true;
        for chunk in rows.chunks_mut(ARRAY_ROWS) {
            let count = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            let ids: Vec<i64> = sqlx::query_scalar(sql::INDICATOR_IDS)
                .bind(count)
                .fetch_all(&mut *self.tx)
                .await?;
            if ids.len() != chunk.len() {
                return Err(StoreError::Corrupt {
                    table: "indicators",
                    reason: format!(
                        "asked the sequence for {} ids, got {}",
                        chunk.len(),
                        ids.len()
                    ),
                });
            }
            for (row, id) in chunk.iter_mut().zip(&ids) {
                row.id = *id;
            }
            let kinds: Vec<&str> = chunk.iter().map(|row| row.key.kind.as_str()).collect();
            let values: Vec<&str> = chunk.iter().map(|row| &*row.key.value).collect();
            let first_seen: Vec<i64> = chunk.iter().map(|row| row.first_seen).collect();
            let suppressed: Vec<Option<&str>> =
                chunk.iter().map(|row| row.suppressed.as_deref()).collect();
            let inserted = sqlx::query(sql::INDICATOR_INSERT)
                .bind(&ids)
                .bind(kinds)
                .bind(values)
                .bind(first_seen)
                .bind(suppressed)
                .bind(self.change_id)
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
            all_inserted &= inserted == chunk.len() as u64;
        }
        Ok(all_inserted)
    }

    async fn mark_changed(&mut self, ids: Vec<i64>) -> Result<(), StoreError> {
        for chunk in ids.chunks(ARRAY_ROWS) {
            sqlx::query(sql::INDICATORS_MARK)
                .bind(self.change_id)
                .bind(chunk)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn set_suppressed(&mut self, rows: Vec<(i64, String)>) -> Result<(), StoreError> {
        for chunk in rows.chunks(ARRAY_ROWS) {
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            let reasons: Vec<&str> = chunk.iter().map(|(_, reason)| reason.as_str()).collect();
            sqlx::query(sql::INDICATOR_SUPPRESS_MANY)
                .bind(ids)
                .bind(reasons)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn write_statements(&mut self, rows: Vec<StatementValues>) -> Result<(), StoreError> {
        for chunk in rows.chunks(ARRAY_ROWS) {
            let column =
                |pick: fn(&StatementValues) -> i64| chunk.iter().map(pick).collect::<Vec<i64>>();
            let text =
                |pick: fn(&StatementValues) -> &str| chunk.iter().map(pick).collect::<Vec<&str>>();
            sqlx::query(sql::STATEMENT_UPSERT)
                .bind(column(|row| row.indicator_id))
                .bind(column(|row| row.first_seen))
                .bind(column(|row| row.last_seen))
                .bind(column(|row| row.confidence))
                .bind(text(|row| row.tlp))
                .bind(text(|row| row.labels.as_deref().unwrap_or("[]")))
                .bind(text(|row| row.techniques.as_deref().unwrap_or("[]")))
                .bind(text(|row| row.threats.as_deref().unwrap_or("[]")))
                .bind(text(|row| &row.reference))
                .bind(chunk.iter().map(|row| row.valid_until).collect::<Vec<_>>())
                .bind(chunk.iter().map(|row| row.revoked).collect::<Vec<_>>())
                .bind(chunk.iter().map(|row| row.direction).collect::<Vec<_>>())
                .bind(chunk.iter().map(|row| row.port).collect::<Vec<_>>())
                .bind(
                    chunk
                        .iter()
                        .map(|row| row.pattern.as_deref())
                        .collect::<Vec<_>>(),
                )
                .bind(&self.source)
                .bind(self.import_id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn write_objects(&mut self, rows: Vec<ObjectValues>) -> Result<u64, StoreError> {
        let mut written = 0;
        for chunk in rows.chunks(ARRAY_ROWS) {
            let text =
                |pick: fn(&ObjectValues) -> &str| chunk.iter().map(pick).collect::<Vec<&str>>();
            let optional = |pick: fn(&ObjectValues) -> Option<&str>| {
                chunk.iter().map(pick).collect::<Vec<Option<&str>>>()
            };
            written += sqlx::query(sql::OBJECT_UPSERT)
                .bind(text(|row| &row.id))
                .bind(text(|row| &row.object_type))
                .bind(optional(|row| row.name.as_deref()))
                .bind(optional(|row| row.attack_id.as_deref()))
                .bind(chunk.iter().map(|row| row.modified).collect::<Vec<_>>())
                .bind(chunk.iter().map(|row| row.revoked).collect::<Vec<_>>())
                .bind(optional(|row| row.tlp))
                .bind(text(|row| &row.body))
                .bind(optional(|row| row.source_ref.as_deref()))
                .bind(optional(|row| row.target_ref.as_deref()))
                .bind(optional(|row| row.relationship_type.as_deref()))
                .bind(&self.source)
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
        }
        Ok(written)
    }

    async fn withdraw_unrenewed(&mut self) -> Result<u64, StoreError> {
        sqlx::query(sql::INDICATORS_MARK_UNRENEWED)
            .bind(self.change_id)
            .bind(&self.source)
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await?;
        let result = sqlx::query(sql::STATEMENTS_WITHDRAW)
            .bind(self.now)
            .bind(&self.source)
            .bind(self.import_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(result.rows_affected())
    }

    async fn set_cursors(&mut self, cursors: &[(String, String)]) -> Result<(), StoreError> {
        for (key, value) in cursors {
            sqlx::query(sql::CURSOR_SET)
                .bind(&self.source)
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
            .bind(&summary)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(sql::SOURCE_SET_SUMMARY)
            .bind(&self.source)
            .bind(&summary)
            .execute(&mut *self.tx)
            .await?;
        super::PostgresStore::commit_change(self.tx, self.change_id).await
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}
