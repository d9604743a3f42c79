//! The import engine, shared by both backends: it turns the batches of an import into rows and
//! counts, and leaves only the SQL to an [`ImportWriter`].
//!
//! All merge decisions are made here, in Rust, on values the writer reads back in bulk, so
//! the two backends cannot disagree on what "updated" or "duplicate" means: per batch, the
//! observations are deduplicated in a hash map, the existing indicators and this source's
//! statements on them are looked up with multi-row queries, new indicators are inserted, and
//! every statement is written with its final values by multi-row upserts.
//!
//! Two things keep the writer busy: the next batch is received and deduplicated while the
//! current one is written, and when the last batch was mostly new (a first import), a writer
//! that can skip existing rows inserts before looking up, so that an all-new batch needs no
//! lookup at all.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use rampart_model::{
    AttackId, ContextObject, Direction, IndicatorKind, PatternNote, SourceInfo, Tlp,
};
use tokio::sync::mpsc;

use crate::rows::{ObjectValues, direction_text, from_json, micros, to_json};
use crate::{ImportBatch, ImportSummary, StagedObservation, StoreError};

/// An indicator as the writer binds it.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub kind: IndicatorKind,
    pub value: Arc<str>,
}

/// What the writer found for one looked-up key: the indicator, and this source's statement
/// on it if there is one (the `statement_*` fields are all `None` when there is not). The
/// statement's content is read so that a renewal can tell [`ImportSummary::updated`] from
/// [`ImportSummary::unchanged`], and its lists are also merged when this import wrote it
/// already. SQLite hands the row over as a JSON array in field order, PostgreSQL by name.
#[derive(Debug, sqlx::FromRow, serde::Deserialize)]
pub(crate) struct Found {
    /// Index of the key in the slice given to [`ImportWriter::lookup`].
    pub position: i64,
    pub id: i64,
    pub suppressed: Option<String>,
    pub statement_first_seen: Option<i64>,
    pub statement_last_seen: Option<i64>,
    pub statement_import_id: Option<i64>,
    /// JSON lists, as stored; `None` for an empty list.
    pub statement_labels: Option<String>,
    pub statement_techniques: Option<String>,
    pub statement_threats: Option<String>,
    pub statement_confidence: Option<i64>,
    /// Short form, as [`Tlp::short`] writes it.
    pub statement_tlp: Option<String>,
    pub statement_valid_until: Option<i64>,
    /// SQLite stores booleans as integers.
    #[serde(deserialize_with = "flag")]
    pub statement_revoked: Option<bool>,
    pub statement_withdrawn_at: Option<i64>,
    pub statement_direction: Option<String>,
    pub statement_port: Option<i64>,
    /// JSON of a [`PatternNote`], as stored.
    pub statement_pattern: Option<String>,
}

/// A boolean that may come as `true`/`false` or as an integer (SQLite's JSON), or null.
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    struct Flag;
    impl serde::de::Visitor<'_> for Flag {
        type Value = Option<bool>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a boolean, an integer or null")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Ok(Some(value))
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(Some(value != 0))
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value != 0))
        }
    }
    deserializer.deserialize_any(Flag)
}

/// An indicator to insert; the writer assigns `id`.
#[derive(Debug)]
pub(crate) struct NewIndicator {
    pub key: Key,
    pub first_seen: i64,
    pub suppressed: Option<String>,
    pub id: i64,
}

/// A statement with its final values, as the writer binds it. The source and the import id are
/// the writer's own.
#[derive(Debug)]
pub(crate) struct StatementValues {
    pub indicator_id: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub confidence: i64,
    pub tlp: &'static str,
    /// JSON lists; `None` for the empty list (most rows), which writers bind as a shared `[]`.
    pub labels: Option<String>,
    pub techniques: Option<String>,
    pub threats: Option<String>,
    pub reference: String,
    pub valid_until: Option<i64>,
    pub revoked: bool,
    pub direction: Option<&'static str>,
    pub port: Option<i64>,
    pub pattern: Option<String>,
}

impl StatementValues {
    /// Whether the rarely set fields all have their usual value (writers may bind less).
    pub(crate) fn is_plain(&self) -> bool {
        self.valid_until.is_none()
            && !self.revoked
            && self.direction.is_none()
            && self.port.is_none()
            && self.pattern.is_none()
    }
}

/// One backend's writes for one import, all inside one transaction that it holds.
pub(crate) trait ImportWriter: Send {
    /// The id of this import, stamped on every statement it writes.
    fn import_id(&self) -> i64;
    /// The existing indicators among `keys`, with this source's statement on each.
    async fn lookup(&mut self, keys: &[Key]) -> Result<Vec<Found>, StoreError>;
    /// Whether inserting a batch before looking it up pays off when most of the previous batch
    /// was new (the insert then skips what exists, and only a partial insert needs a lookup).
    fn insert_first(&self) -> bool;
    /// Inserts the indicators that do not exist yet, setting every row's `id` (an existing
    /// indicator is left alone, and its row's id is not used). Returns whether every row was
    /// inserted; if not, the caller finds out which were by looking them up.
    async fn insert_indicators(&mut self, rows: &mut [NewIndicator]) -> Result<bool, StoreError>;
    /// Points existing indicators at this import's change, for the change feed (new ones are
    /// inserted pointing at it).
    async fn mark_changed(&mut self, ids: Vec<i64>) -> Result<(), StoreError>;
    /// Sets the suppression reason of existing indicators.
    async fn set_suppressed(&mut self, rows: Vec<(i64, String)>) -> Result<(), StoreError>;
    /// Inserts or replaces statements of this source.
    async fn write_statements(&mut self, rows: Vec<StatementValues>) -> Result<(), StoreError>;
    /// Upserts context objects, keeping a stored one whose `modified` is newer. Returns how
    /// many were written.
    async fn write_objects(&mut self, rows: Vec<ObjectValues>) -> Result<u64, StoreError>;
    /// Withdraws this source's statements that this import did not renew; returns how many.
    async fn withdraw_unrenewed(&mut self) -> Result<u64, StoreError>;
    async fn set_cursors(&mut self, cursors: &[(String, String)]) -> Result<(), StoreError>;
    /// Records the summary on the import and the source, and commits.
    async fn finish(self, summary: &ImportSummary) -> Result<(), StoreError>;
    async fn rollback(self) -> Result<(), StoreError>;
}

/// Runs one import to its end: commits on [`ImportBatch::Commit`], rolls back on anything else.
pub(crate) async fn run<W: ImportWriter>(
    mut writer: W,
    source: &SourceInfo,
    now: i64,
    mut batches: mpsc::Receiver<ImportBatch>,
) -> Result<ImportSummary, StoreError> {
    let mut summary = ImportSummary::default();
    let received = receive(&mut writer, source, now, &mut batches, &mut summary).await;
    // Stop the sender before rolling back, so a pipeline still parsing learns at once.
    batches.close();
    match received {
        Ok(()) => {
            writer.finish(&summary).await?;
            Ok(summary)
        }
        Err(err) => {
            if let Err(rollback) = writer.rollback().await {
                tracing::warn!(source = %source.name, error = %rollback, "rolling back a failed import failed");
            }
            Err(err)
        }
    }
}

/// The next message of an import, with observations already deduplicated.
enum Incoming {
    Observations(Result<Prepared, StoreError>),
    Other(ImportBatch),
    Closed,
}

/// Receives the next message and prepares it if it holds observations: run beside the writes
/// of the previous batch, so that deduplication overlaps with SQL.
async fn next_incoming(
    batches: &mut mpsc::Receiver<ImportBatch>,
    source: &SourceInfo,
    now: i64,
) -> Incoming {
    match batches.recv().await {
        Some(ImportBatch::Observations(observations)) => {
            Incoming::Observations(prepare(observations, source, now))
        }
        Some(other) => Incoming::Other(other),
        None => Incoming::Closed,
    }
}

async fn receive<W: ImportWriter>(
    writer: &mut W,
    source: &SourceInfo,
    now: i64,
    batches: &mut mpsc::Receiver<ImportBatch>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    // A new source's first import is all new; a feed pulled again is mostly known.
    let mut expect_new = true;
    let mut incoming = next_incoming(batches, source, now).await;
    loop {
        incoming = match incoming {
            Incoming::Observations(prepared) => {
                let prepared = prepared?;
                let new = summary.new;
                let distinct = prepared.keys.len() as u64;
                // A failed write ends the import at once, without waiting for the next message.
                let ((), following) = futures::try_join!(
                    write_observations(writer, prepared, summary, expect_new),
                    async { Ok(next_incoming(batches, source, now).await) }
                )?;
                expect_new = (summary.new - new) * 2 > distinct;
                following
            }
            Incoming::Other(ImportBatch::Observations(observations)) => {
                Incoming::Observations(prepare(observations, source, now))
            }
            Incoming::Other(ImportBatch::Objects(objects)) => {
                summary.objects += writer.write_objects(newest_objects(objects)).await?;
                next_incoming(batches, source, now).await
            }
            Incoming::Other(ImportBatch::Rejected(count)) => {
                summary.rejected += count;
                next_incoming(batches, source, now).await
            }
            Incoming::Other(ImportBatch::Commit(commit)) => {
                if commit.full_list {
                    summary.withdrawn = writer.withdraw_unrenewed().await?;
                }
                writer.set_cursors(&commit.cursors).await?;
                return Ok(());
            }
            Incoming::Other(ImportBatch::Abort(reason)) => return Err(StoreError::Aborted(reason)),
            Incoming::Closed => {
                return Err(StoreError::Aborted(
                    "the batch channel closed without a commit".into(),
                ));
            }
        };
    }
}

/// One source's statement about one indicator with the source's defaults applied.
struct Resolved {
    first_seen: i64,
    last_seen: i64,
    confidence: u8,
    tlp: Tlp,
    labels: Vec<String>,
    techniques: Vec<AttackId>,
    threats: Vec<String>,
    reference: String,
    valid_until: Option<i64>,
    revoked: bool,
    direction: Option<Direction>,
    port: Option<u16>,
    pattern: Option<PatternNote>,
}

impl Resolved {
    /// Splits an observation into its indicator and its statement. A statement without dates
    /// was seen now; one with only a first-seen date is still listed, so it was last seen now.
    fn new(
        staged: StagedObservation,
        source: &SourceInfo,
        now: i64,
    ) -> (IndicatorKind, String, Option<String>, Resolved) {
        let StagedObservation {
            observation,
            suppressed,
        } = staged;
        let first_seen = observation
            .first_seen
            .or(observation.last_seen)
            .map_or(now, micros);
        let last_seen = observation.last_seen.map_or(now, micros).max(first_seen);
        let resolved = Resolved {
            first_seen,
            last_seen,
            confidence: observation.confidence.unwrap_or(source.default_confidence),
            tlp: observation.tlp.unwrap_or(source.default_tlp),
            labels: observation.labels,
            techniques: observation.techniques,
            threats: observation.threats,
            reference: observation.reference,
            valid_until: observation.valid_until.map(micros),
            revoked: observation.revoked,
            direction: observation.direction,
            port: observation.port,
            pattern: observation.pattern,
        };
        let kind = observation.indicator.kind();
        (
            kind,
            observation.indicator.into_value(),
            suppressed,
            resolved,
        )
    }

    /// Merges a later statement of the same source into this one: the dates widen, the lists
    /// are united, every other field is the later statement's.
    fn merge(&mut self, later: Resolved) {
        let labels = union(std::mem::take(&mut self.labels), later.labels);
        let techniques = union(std::mem::take(&mut self.techniques), later.techniques);
        let threats = union(std::mem::take(&mut self.threats), later.threats);
        *self = Resolved {
            first_seen: self.first_seen.min(later.first_seen),
            last_seen: self.last_seen.max(later.last_seen),
            labels,
            techniques,
            threats,
            ..later
        };
    }

    fn into_values(self, indicator_id: i64) -> StatementValues {
        StatementValues {
            indicator_id,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            confidence: i64::from(self.confidence),
            tlp: self.tlp.short(),
            labels: nonempty_json_list(&self.labels),
            techniques: nonempty_json_list(&self.techniques),
            threats: nonempty_json_list(&self.threats),
            reference: self.reference,
            valid_until: self.valid_until,
            revoked: self.revoked,
            direction: self.direction.map(direction_text),
            port: self.port.map(i64::from),
            pattern: self.pattern.as_ref().map(to_json),
        }
    }
}

fn nonempty_json_list<T: serde::Serialize>(items: &[T]) -> Option<String> {
    (!items.is_empty()).then(|| to_json(items))
}

/// `earlier` followed by the items of `later` it lacks, in order.
fn union<T: PartialEq>(mut earlier: Vec<T>, later: Vec<T>) -> Vec<T> {
    for item in later {
        if !earlier.contains(&item) {
            earlier.push(item);
        }
    }
    earlier
}

/// One distinct indicator of a batch.
struct Pending {
    suppressed: Option<String>,
    statement: Resolved,
}

/// Where a batch's indicator stands: inserted by this batch, or found with this source's
/// statement on it (if any).
enum Resolution {
    New(i64),
    Existing(Box<Found>),
}

/// A batch of observations deduplicated: each distinct indicator once, with its merged
/// statement, in the order first seen.
struct Prepared {
    keys: Vec<Key>,
    pending: Vec<Pending>,
    /// Observations merged into an earlier one of the same batch.
    duplicates: u64,
}

/// The longest indicator value the store takes, in bytes. Canonical values are far shorter
/// (the model refuses raw values over 8 KiB); a longer one is a bug or an attack, and fails the
/// import. Checked here rather than by a CHECK constraint, which slowed SQLite's inserts by a
/// quarter.
pub(crate) const MAX_VALUE_BYTES: usize = 65_536;

fn prepare(
    observations: Vec<StagedObservation>,
    source: &SourceInfo,
    now: i64,
) -> Result<Prepared, StoreError> {
    let mut positions: HashMap<(IndicatorKind, String), usize> =
        HashMap::with_capacity(observations.len());
    let mut pending: Vec<Pending> = Vec::with_capacity(observations.len());
    let mut duplicates = 0;
    for staged in observations {
        let (kind, value, suppressed, statement) = Resolved::new(staged, source, now);
        if value.len() > MAX_VALUE_BYTES {
            return Err(StoreError::Aborted(format!(
                "{kind} value of {} bytes at {:?} is longer than the store's limit of {MAX_VALUE_BYTES}",
                value.len(),
                statement.reference
            )));
        }
        match positions.entry((kind, value)) {
            Entry::Occupied(entry) => {
                let earlier = &mut pending[*entry.get()];
                earlier.statement.merge(statement);
                if suppressed.is_some() {
                    earlier.suppressed = suppressed;
                }
                duplicates += 1;
            }
            Entry::Vacant(entry) => {
                entry.insert(pending.len());
                pending.push(Pending {
                    suppressed,
                    statement,
                });
            }
        }
    }
    let mut keys: Vec<Option<Key>> = vec![None; pending.len()];
    for ((kind, value), position) in positions {
        keys[position] = Some(Key {
            kind,
            value: Arc::from(value),
        });
    }
    Ok(Prepared {
        keys: keys.into_iter().flatten().collect(),
        pending,
        duplicates,
    })
}

/// Writes one prepared batch of observations.
async fn write_observations<W: ImportWriter>(
    writer: &mut W,
    prepared: Prepared,
    summary: &mut ImportSummary,
    expect_new: bool,
) -> Result<(), StoreError> {
    let Prepared {
        keys,
        pending,
        duplicates,
    } = prepared;
    summary.duplicate += duplicates;
    let insert_first = expect_new && writer.insert_first();
    let resolutions = resolve(writer, &keys, &pending, insert_first).await?;

    let import_id = writer.import_id();
    let mut statements = Vec::with_capacity(pending.len());
    let mut suppressions = Vec::new();
    // Existing indicators whose enforcement may change: a new or changed statement, or a new
    // suppression. Renewals that only move the seen dates are left out of the change feed.
    let mut changed = Vec::new();
    for (entry, resolution) in pending.into_iter().zip(resolutions) {
        let Pending {
            suppressed,
            mut statement,
        } = entry;
        let indicator_id = match resolution {
            Resolution::New(id) => {
                summary.new += 1;
                id
            }
            Resolution::Existing(existing) => {
                if let Some(reason) = suppressed
                    && existing.suppressed.as_deref() != Some(reason.as_str())
                {
                    suppressions.push((existing.id, reason));
                    changed.push(existing.id);
                }
                match (existing.statement_first_seen, existing.statement_last_seen) {
                    (Some(first_seen), Some(last_seen)) => {
                        statement.first_seen = statement.first_seen.min(first_seen);
                        statement.last_seen = statement.last_seen.max(last_seen);
                        if existing.statement_import_id == Some(import_id) {
                            summary.duplicate += 1;
                            merge_stored_lists(&mut statement, &existing)?;
                        } else if changes(&statement, &existing)? {
                            summary.updated += 1;
                            changed.push(existing.id);
                        } else {
                            summary.unchanged += 1;
                        }
                    }
                    _ => {
                        summary.added_source += 1;
                        changed.push(existing.id);
                    }
                }
                existing.id
            }
        };
        statements.push(statement.into_values(indicator_id));
    }
    if !suppressions.is_empty() {
        writer.set_suppressed(suppressions).await?;
    }
    if !changed.is_empty() {
        changed.sort_unstable();
        changed.dedup();
        writer.mark_changed(changed).await?;
    }
    writer.write_statements(statements).await
}

/// Finds or inserts every key, in one of two orders: look up, then insert what is missing; or
/// (when the batch is probably new) insert, and look up only if some rows already existed.
/// Either way an inserted row is recognised by carrying the id given to it here.
async fn resolve<W: ImportWriter>(
    writer: &mut W,
    keys: &[Key],
    pending: &[Pending],
    insert_first: bool,
) -> Result<Vec<Resolution>, StoreError> {
    let mut found: Vec<Option<Found>> = Vec::with_capacity(keys.len());
    found.resize_with(keys.len(), || None);
    let candidates: Vec<usize> = if insert_first {
        (0..keys.len()).collect()
    } else {
        for row in writer.lookup(keys).await? {
            let position = position_of(row.position, keys.len())?;
            found[position] = Some(row);
        }
        (0..keys.len())
            .filter(|&position| found[position].is_none())
            .collect()
    };

    let mut new_ids: Vec<Option<i64>> = vec![None; keys.len()];
    if !candidates.is_empty() {
        let mut rows: Vec<NewIndicator> = candidates
            .iter()
            .map(|&position| NewIndicator {
                key: keys[position].clone(),
                first_seen: pending[position].statement.first_seen,
                suppressed: pending[position].suppressed.clone(),
                id: 0,
            })
            .collect();
        if writer.insert_indicators(&mut rows).await? {
            for (row, &position) in rows.iter().zip(&candidates) {
                new_ids[position] = Some(row.id);
            }
        } else {
            let candidate_keys: Vec<Key> = rows.iter().map(|row| row.key.clone()).collect();
            for mut row in writer.lookup(&candidate_keys).await? {
                let index = position_of(row.position, candidates.len())?;
                let position = candidates[index];
                if row.id == rows[index].id {
                    new_ids[position] = Some(row.id);
                } else {
                    row.position = i64::try_from(position).unwrap_or(i64::MAX);
                    found[position] = Some(row);
                }
            }
        }
    }

    found
        .into_iter()
        .zip(new_ids)
        .enumerate()
        .map(|(position, pair)| match pair {
            (_, Some(id)) => Ok(Resolution::New(id)),
            (Some(existing), None) => Ok(Resolution::Existing(Box::new(existing))),
            (None, None) => Err(StoreError::Corrupt {
                table: "indicators",
                reason: format!(
                    "indicator {:?} was neither found nor inserted",
                    keys[position].value
                ),
            }),
        })
        .collect()
}

fn lookup_position_error(position: i64) -> StoreError {
    StoreError::Corrupt {
        table: "indicators",
        reason: format!("lookup returned unknown position {position}"),
    }
}

fn position_of(position: i64, count: usize) -> Result<usize, StoreError> {
    usize::try_from(position)
        .ok()
        .filter(|&index| index < count)
        .ok_or_else(|| lookup_position_error(position))
}

/// A statement this import already wrote is written again: keep the lists it had.
fn merge_stored_lists(statement: &mut Resolved, stored: &Found) -> Result<(), StoreError> {
    const TABLE: &str = "statements";
    if let Some(labels) = &stored.statement_labels {
        let earlier: Vec<String> = from_json(TABLE, "labels", labels)?;
        statement.labels = union(earlier, std::mem::take(&mut statement.labels));
    }
    if let Some(techniques) = &stored.statement_techniques {
        let earlier: Vec<AttackId> = from_json(TABLE, "techniques", techniques)?;
        statement.techniques = union(earlier, std::mem::take(&mut statement.techniques));
    }
    if let Some(threats) = &stored.statement_threats {
        let earlier: Vec<String> = from_json(TABLE, "threats", threats)?;
        statement.threats = union(earlier, std::mem::take(&mut statement.threats));
    }
    Ok(())
}

/// Whether a statement renewed from an earlier import says something the stored one did not,
/// or revives it after a withdrawal (see [`ImportSummary::updated`]). The dates, the reference
/// and the import id are not content: they move on every renewal.
fn changes(statement: &Resolved, stored: &Found) -> Result<bool, StoreError> {
    const TABLE: &str = "statements";
    let same = stored.statement_withdrawn_at.is_none()
        && stored.statement_confidence == Some(i64::from(statement.confidence))
        && stored.statement_tlp.as_deref() == Some(statement.tlp.short())
        && stored.statement_valid_until == statement.valid_until
        && stored.statement_revoked == Some(statement.revoked)
        && stored.statement_direction.as_deref() == statement.direction.map(direction_text)
        && stored.statement_port == statement.port.map(i64::from)
        && match (&stored.statement_pattern, &statement.pattern) {
            (None, None) => true,
            (Some(json), Some(pattern)) => {
                from_json::<PatternNote>(TABLE, "pattern", json)? == *pattern
            }
            _ => false,
        }
        && same_set("labels", &stored.statement_labels, &statement.labels)?
        && same_set(
            "techniques",
            &stored.statement_techniques,
            &statement.techniques,
        )?
        && same_set("threats", &stored.statement_threats, &statement.threats)?;
    Ok(!same)
}

/// Whether a stored JSON list holds the same items as `items`, in any order.
fn same_set<T: serde::de::DeserializeOwned + PartialEq>(
    column: &'static str,
    stored: &Option<String>,
    items: &[T],
) -> Result<bool, StoreError> {
    // Most statements carry no lists: spare them the parse.
    let stored = match stored.as_deref() {
        None | Some("[]") => return Ok(items.is_empty()),
        Some(json) => json,
    };
    let stored: Vec<T> = from_json("statements", column, stored)?;
    Ok(stored.iter().all(|item| items.contains(item))
        && items.iter().all(|item| stored.contains(item)))
}

/// One object per id: the newest `modified` wins, the later one on a tie (a multi-row upsert
/// may not touch a row twice).
fn newest_objects(objects: Vec<ContextObject>) -> Vec<ObjectValues> {
    let mut positions: HashMap<String, usize> = HashMap::with_capacity(objects.len());
    let mut kept: Vec<ContextObject> = Vec::with_capacity(objects.len());
    for object in objects {
        match positions.get(&object.id) {
            Some(&position) => {
                let replaces = match (kept[position].modified, object.modified) {
                    (Some(stored), Some(new)) => new >= stored,
                    (Some(_), None) => false,
                    (None, _) => true,
                };
                if replaces {
                    kept[position] = object;
                }
            }
            None => {
                positions.insert(object.id.clone(), kept.len());
                kept.push(object);
            }
        }
    }
    kept.into_iter().map(ObjectValues::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_keeps_order_and_drops_repeats() {
        let merged = union(
            vec!["a".to_owned(), "b".to_owned()],
            vec!["b".to_owned(), "c".to_owned()],
        );
        assert_eq!(merged, ["a", "b", "c"]);
    }

    #[test]
    fn merge_widens_dates_and_takes_later_fields() {
        let source = SourceInfo::adhoc("s", "text");
        let indicator =
            rampart_model::Indicator::parse(IndicatorKind::Domain, "a.example").unwrap();
        let mut first = rampart_model::Observation::new(indicator.clone(), "line 1");
        first.first_seen = Some(rampart_model::Timestamp::from_second(100).unwrap());
        first.last_seen = Some(rampart_model::Timestamp::from_second(200).unwrap());
        first.labels = vec!["x".into()];
        first.confidence = Some(10);
        let mut second = rampart_model::Observation::new(indicator, "line 2");
        second.first_seen = Some(rampart_model::Timestamp::from_second(150).unwrap());
        second.last_seen = Some(rampart_model::Timestamp::from_second(300).unwrap());
        second.labels = vec!["y".into(), "x".into()];
        let now = 1_000_000_000;
        let (_, _, _, mut merged) = Resolved::new(
            StagedObservation {
                observation: first,
                suppressed: None,
            },
            &source,
            now,
        );
        let (_, _, _, later) = Resolved::new(
            StagedObservation {
                observation: second,
                suppressed: None,
            },
            &source,
            now,
        );
        merged.merge(later);
        assert_eq!(merged.first_seen, 100_000_000);
        assert_eq!(merged.last_seen, 300_000_000);
        assert_eq!(merged.labels, ["x", "y"]);
        assert_eq!(merged.reference, "line 2");
        // The later statement carried no confidence: the source default replaces 10.
        assert_eq!(merged.confidence, 50);
    }

    #[test]
    fn undated_statements_were_seen_now() {
        let source = SourceInfo::adhoc("s", "text");
        let indicator =
            rampart_model::Indicator::parse(IndicatorKind::Domain, "a.example").unwrap();
        let mut observation = rampart_model::Observation::new(indicator, "line 1");
        let (_, _, _, resolved) = Resolved::new(
            StagedObservation {
                observation: observation.clone(),
                suppressed: None,
            },
            &source,
            42,
        );
        assert_eq!((resolved.first_seen, resolved.last_seen), (42, 42));
        observation.first_seen = Some(rampart_model::Timestamp::from_second(0).unwrap());
        let (_, _, _, resolved) = Resolved::new(
            StagedObservation {
                observation,
                suppressed: None,
            },
            &source,
            42,
        );
        assert_eq!((resolved.first_seen, resolved.last_seen), (0, 42));
    }
}
