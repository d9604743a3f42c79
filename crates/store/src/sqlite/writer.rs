//! The SQLite side of an import: one `BEGIN IMMEDIATE` transaction, multi-row statements of
//! up to a few hundred rows, and indicator ids assigned here (the transaction holds SQLite's
//! only write lock, so `max(id) + 1` onwards is free) instead of read back per row.
//!
//! Arguments are the cost that remains once rows travel in multi-row statements, so they are
//! reserved up front and the texts repeated on every row (kinds, TLP names, `[]`, the source)
//! are shared rather than copied; lookups come back as one JSON value rather than a row each.

use std::sync::Arc;

use rampart_model::Timestamp;
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Arguments, Encode, Row, Sqlite, Transaction, Type};

use super::queries as sql;
use crate::import::{Found, ImportWriter, Key, NewIndicator, StatementValues};
use crate::multirow::MultiRow;
use crate::rows::{ObjectValues, corrupt, micros, to_json};
use crate::{ImportSummary, StoreError};

// Rows per statement: sized so that rows × parameters stays far below SQLite's 32766 and the
// statement is still cheap to prepare once and keep cached.
static LOOKUP: MultiRow = MultiRow::new(sql::IMPORT_LOOKUP, 512);
static INSERT_INDICATORS: MultiRow = MultiRow::new(sql::INDICATOR_INSERT, 512);
static INSERT_PLAIN_INDICATORS: MultiRow =
    MultiRow::variant(sql::INDICATOR_INSERT, "row plain", 512);
static SUPPRESS: MultiRow = MultiRow::new(sql::INDICATOR_SUPPRESS_MANY, 512);
static UPSERT_STATEMENTS: MultiRow = MultiRow::new(sql::STATEMENT_UPSERT, 512);
static UPSERT_PLAIN_STATEMENTS: MultiRow =
    MultiRow::variant(sql::STATEMENT_UPSERT, "row plain", 512);
static UPSERT_OBJECTS: MultiRow = MultiRow::new(sql::OBJECT_UPSERT, 256);

/// Texts that repeat on many rows, each allocated once per import.
#[derive(Default)]
struct SharedTexts(Vec<(&'static str, Arc<str>)>);

impl SharedTexts {
    fn get(&mut self, text: &'static str) -> Arc<str> {
        // The same literal comes back at the same address: compare addresses before bytes.
        let same = |known: &&'static str| {
            std::ptr::eq(known.as_ptr(), text.as_ptr()) && known.len() == text.len()
        };
        if let Some((_, shared)) = self
            .0
            .iter()
            .find(|(known, _)| same(known) || *known == text)
        {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.0.push((text, Arc::clone(&shared)));
        shared
    }
}

/// The arguments of one statement, reserved for all its rows.
struct Args(SqliteArguments);

impl Args {
    fn with_capacity(count: usize) -> Args {
        let mut arguments = SqliteArguments::default();
        arguments.reserve(count, 0);
        Args(arguments)
    }

    fn add<T: for<'t> Encode<'t, Sqlite> + Type<Sqlite>>(
        &mut self,
        value: T,
    ) -> Result<(), StoreError> {
        self.0
            .add(value)
            .map_err(|err| StoreError::Database(sqlx::Error::Encode(err)))
    }
}

/// Values bound on every row of an import, and the texts it shares.
struct Binder {
    source: Arc<str>,
    import_id: i64,
    /// The change feed entry of this import; new and changed indicators point at it.
    change_id: i64,
    texts: SharedTexts,
}

impl Binder {
    fn list(&mut self, list: Option<String>) -> Arc<str> {
        match list {
            Some(list) => Arc::from(list),
            None => self.texts.get("[]"),
        }
    }

    fn indicator_args(
        &mut self,
        rows: &[&NewIndicator],
        full: bool,
    ) -> Result<SqliteArguments, StoreError> {
        let mut args = Args::with_capacity(rows.len() * 6);
        for row in rows {
            args.add(row.id)?;
            args.add(self.texts.get(row.key.kind.as_str()))?;
            args.add(Arc::clone(&row.key.value))?;
            args.add(row.first_seen)?;
            if full {
                args.add(row.suppressed.clone())?;
            }
            args.add(self.change_id)?;
        }
        Ok(args.0)
    }

    fn statement_args(
        &mut self,
        rows: impl Iterator<Item = StatementValues>,
        size: usize,
        full: bool,
    ) -> Result<SqliteArguments, StoreError> {
        let mut args = Args::with_capacity(size * 16);
        for row in rows {
            args.add(row.indicator_id)?;
            args.add(Arc::clone(&self.source))?;
            args.add(row.first_seen)?;
            args.add(row.last_seen)?;
            args.add(row.confidence)?;
            args.add(self.texts.get(row.tlp))?;
            args.add(self.list(row.labels))?;
            args.add(self.list(row.techniques))?;
            args.add(self.list(row.threats))?;
            args.add(row.reference)?;
            if full {
                args.add(row.valid_until)?;
                args.add(row.revoked)?;
                args.add(row.direction.map(|direction| self.texts.get(direction)))?;
                args.add(row.port)?;
                args.add(row.pattern)?;
            }
            args.add(self.import_id)?;
        }
        Ok(args.0)
    }

    fn lookup_args(&mut self, keys: &[Key]) -> Result<SqliteArguments, StoreError> {
        let mut args = Args::with_capacity(keys.len() * 2 + 1);
        for key in keys {
            args.add(self.texts.get(key.kind.as_str()))?;
            args.add(Arc::clone(&key.value))?;
        }
        args.add(Arc::clone(&self.source))?;
        Ok(args.0)
    }
}

/// Runs `template` over `count` rows, a chunk per statement, building each chunk's arguments
/// (with `build`, given the chunk size) while SQLite's thread executes the previous chunk.
/// Returns the rows affected, or with `fetch` the first column of each chunk's one row.
async fn run_chunks(
    connection: &mut SqliteConnection,
    template: &'static MultiRow,
    count: usize,
    fetch: Option<&mut Vec<String>>,
    mut build: impl FnMut(usize) -> Result<SqliteArguments, StoreError>,
) -> Result<u64, StoreError> {
    let mut sizes = template.chunks(count);
    let Some(mut size) = sizes.next() else {
        return Ok(0);
    };
    let mut args = build(size)?;
    let mut affected = 0;
    let mut fetched = fetch;
    loop {
        let next = sizes.next();
        let query = sqlx::query_with(template.sql(size), args);
        let following = async { next.map(&mut build).transpose() };
        let following = match fetched.as_deref_mut() {
            Some(results) => {
                let (row, following) = futures::join!(query.fetch_one(&mut *connection), following);
                results.push(row?.try_get(0)?);
                following
            }
            None => {
                let (result, following) =
                    futures::join!(query.execute(&mut *connection), following);
                affected += result?.rows_affected();
                following
            }
        };
        match (next, following?) {
            (Some(next_size), Some(next_args)) => {
                size = next_size;
                args = next_args;
            }
            _ => return Ok(affected),
        }
    }
}

/// One import in progress on SQLite.
pub(super) struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    binder: Binder,
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
        let max_id: i64 = sqlx::query_scalar(sql::INDICATOR_MAX_ID)
            .fetch_one(&mut *tx)
            .await?;
        Ok(SqliteImport {
            tx,
            binder: Binder {
                source: Arc::from(source),
                import_id,
                change_id,
                texts: SharedTexts::default(),
            },
            now,
            next_id: max_id + 1,
        })
    }

    async fn insert_indicator_rows(
        &mut self,
        rows: &[&NewIndicator],
        full: bool,
    ) -> Result<u64, StoreError> {
        let template = if full {
            &INSERT_INDICATORS
        } else {
            &INSERT_PLAIN_INDICATORS
        };
        let binder = &mut self.binder;
        let mut start = 0;
        run_chunks(&mut self.tx, template, rows.len(), None, |size| {
            let args = binder.indicator_args(&rows[start..start + size], full);
            start += size;
            args
        })
        .await
    }

    async fn write_statement_rows(
        &mut self,
        rows: Vec<StatementValues>,
        full: bool,
    ) -> Result<(), StoreError> {
        let template = if full {
            &UPSERT_STATEMENTS
        } else {
            &UPSERT_PLAIN_STATEMENTS
        };
        let binder = &mut self.binder;
        let count = rows.len();
        let mut rows = rows.into_iter();
        run_chunks(&mut self.tx, template, count, None, |size| {
            binder.statement_args(rows.by_ref().take(size), size, full)
        })
        .await?;
        Ok(())
    }
}

impl ImportWriter for SqliteImport {
    fn import_id(&self) -> i64 {
        self.binder.import_id
    }

    fn insert_first(&self) -> bool {
        true
    }

    async fn lookup(&mut self, keys: &[Key]) -> Result<Vec<Found>, StoreError> {
        let binder = &mut self.binder;
        let mut results = Vec::new();
        let mut start = 0;
        run_chunks(
            &mut self.tx,
            &LOOKUP,
            keys.len(),
            Some(&mut results),
            |size| {
                let args = binder.lookup_args(&keys[start..start + size]);
                start += size;
                args
            },
        )
        .await?;
        let mut found = Vec::new();
        let mut offset = 0;
        for (json, size) in results.iter().zip(LOOKUP.chunks(keys.len())) {
            let rows: Vec<Found> = serde_json::from_str(json)
                .map_err(|err| corrupt("indicators", format!("lookup result: {err}")))?;
            found.extend(rows.into_iter().map(|mut row| {
                row.position += offset;
                row
            }));
            offset += i64::try_from(size).unwrap_or(i64::MAX);
        }
        Ok(found)
    }

    async fn insert_indicators(&mut self, rows: &mut [NewIndicator]) -> Result<bool, StoreError> {
        for row in rows.iter_mut() {
            row.id = self.next_id;
            self.next_id += 1;
        }
        let (plain, suppressed): (Vec<&NewIndicator>, Vec<&NewIndicator>) =
            rows.iter().partition(|row| row.suppressed.is_none());
        let inserted = self.insert_indicator_rows(&plain, false).await?
            + self.insert_indicator_rows(&suppressed, true).await?;
        Ok(inserted == rows.len() as u64)
    }

    async fn mark_changed(&mut self, ids: Vec<i64>) -> Result<(), StoreError> {
        sqlx::query(sql::INDICATORS_MARK)
            .bind(self.binder.change_id)
            .bind(to_json(&ids))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
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
        let (plain, full): (Vec<StatementValues>, Vec<StatementValues>) =
            rows.into_iter().partition(StatementValues::is_plain);
        self.write_statement_rows(plain, false).await?;
        self.write_statement_rows(full, true).await
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
                    .bind(Arc::clone(&self.binder.source))
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
        sqlx::query(sql::INDICATORS_MARK_UNRENEWED)
            .bind(self.binder.change_id)
            .bind(Arc::clone(&self.binder.source))
            .bind(self.binder.import_id)
            .execute(&mut *self.tx)
            .await?;
        let result = sqlx::query(sql::STATEMENTS_WITHDRAW)
            .bind(self.now)
            .bind(Arc::clone(&self.binder.source))
            .bind(self.binder.import_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(result.rows_affected())
    }

    async fn set_cursors(&mut self, cursors: &[(String, String)]) -> Result<(), StoreError> {
        for (key, value) in cursors {
            sqlx::query(sql::CURSOR_SET)
                .bind(Arc::clone(&self.binder.source))
                .bind(key)
                .bind(value)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn finish(mut self, summary: &ImportSummary) -> Result<(), StoreError> {
        let summary = to_json(summary);
        let finished = micros(Timestamp::now());
        sqlx::query(sql::IMPORT_FINISH)
            .bind(self.binder.import_id)
            .bind(finished)
            .bind(summary.clone())
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(sql::CHANGE_COMMIT)
            .bind(self.binder.change_id)
            .bind(finished)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(sql::SOURCE_SET_SUMMARY)
            .bind(Arc::clone(&self.binder.source))
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
