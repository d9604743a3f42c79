//! The import engine, shared by both backends: it turns the batches of an import into rows and
//! counts, and leaves only the SQL to an [`ImportWriter`].
//!
//! All merge decisions are made here, in Rust, on values the writer reads back in bulk, so
//! the two backends cannot disagree on what "updated" or "duplicate" means: per batch, the
//! observations are deduplicated in a hash map, the existing indicators and this source's
//! statements on them are looked up in one multi-row query, new indicators are inserted, and
//! every statement is written with its final values by one multi-row upsert.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use rampart_model::{AttackId, ContextObject, Direction, IndicatorKind, PatternNote, SourceInfo, Tlp};
use tokio::sync::mpsc;

use crate::rows::{ObjectValues, direction_text, from_json, json_list, micros};
use crate::{ImportBatch, ImportSummary, StagedObservation, StoreError};

/// An indicator as the writer binds it.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub kind: IndicatorKind,
    pub value: Arc<str>,
}

/// What the writer found for one looked-up key: the indicator, and this source's statement
/// on it if there is one. The statement's lists are only read when the statement was already
/// written by this import (a duplicate), the one case where they are merged.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct Found {
    /// Index of the key in the slice given to [`ImportWriter::lookup`].
    pub position: i64,
    pub id: i64,
    pub suppressed: Option<String>,
    pub statement_first_seen: Option<i64>,
    pub statement_last_seen: Option<i64>,
    pub statement_import_id: Option<i64>,
    pub statement_labels: Option<String>,
    pub statement_techniques: Option<String>,
    pub statement_threats: Option<String>,
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
    pub labels: String,
    pub techniques: String,
    pub threats: String,
    pub reference: String,
    pub valid_until: Option<i64>,
    pub revoked: bool,
    pub direction: Option<&'static str>,
    pub port: Option<i64>,
    pub pattern: Option<String>,
}

/// One backend's writes for one import, all inside one transaction that it holds.
pub(crate) trait ImportWriter: Send {
    /// The id of this import, stamped on every statement it writes.
    fn import_id(&self) -> i64;
    /// The existing indicators among `keys`, with this source's statement on each.
    async fn lookup(&mut self, keys: &[Key]) -> Result<Vec<Found>, StoreError>;
    /// Inserts indicators, setting their ids. Returns the indices of rows that a concurrent
    /// writer inserted first (they keep no id and must be looked up).
    async fn insert_indicators(&mut self, rows: &mut [NewIndicator]) -> Result<Vec<usize>, StoreError>;
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

async fn receive<W: ImportWriter>(
    writer: &mut W,
    source: &SourceInfo,
    now: i64,
    batches: &mut mpsc::Receiver<ImportBatch>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    while let Some(batch) = batches.recv().await {
        match batch {
            ImportBatch::Observations(observations) => {
                write_observations(writer, source, now, observations, summary).await?;
            }
            ImportBatch::Objects(objects) => {
                summary.objects += writer.write_objects(newest_objects(objects)).await?;
            }
            ImportBatch::Rejected(count) => summary.rejected += count,
            ImportBatch::Commit(commit) => {
                if commit.full_list {
                    summary.withdrawn = writer.withdraw_unrenewed().await?;
                }
                writer.set_cursors(&commit.cursors).await?;
                return Ok(());
            }
            ImportBatch::Abort(reason) => return Err(StoreError::Aborted(reason)),
        }
    }
    Err(StoreError::Aborted("the batch channel closed without a commit".into()))
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
    fn new(staged: StagedObservation, source: &SourceInfo, now: i64) -> (IndicatorKind, String, Option<String>, Resolved) {
        let StagedObservation { observation, suppressed } = staged;
        let first_seen = observation.first_seen.or(observation.last_seen).map_or(now, micros);
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
        (kind, observation.indicator.into_value(), suppressed, resolved)
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
            labels: json_list(&self.labels),
            techniques: json_list(&self.techniques),
            threats: json_list(&self.threats),
            reference: self.reference,
            valid_until: self.valid_until,
            revoked: self.revoked,
            direction: self.direction.map(direction_text),
            port: self.port.map(i64::from),
            pattern: self.pattern.as_ref().map(crate::rows::to_json),
        }
    }
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

async fn write_observations<W: ImportWriter>(
    writer: &mut W,
    source: &SourceInfo,
    now: i64,
    observations: Vec<StagedObservation>,
    summary: &mut ImportSummary,
) -> Result<(), StoreError> {
    // Deduplicate first: the store sees each indicator once per batch.
    let mut positions: HashMap<(IndicatorKind, String), usize> = HashMap::with_capacity(observations.len());
    let mut pending: Vec<Pending> = Vec::with_capacity(observations.len());
    for staged in observations {
        let (kind, value, suppressed, statement) = Resolved::new(staged, source, now);
        match positions.entry((kind, value)) {
            Entry::Occupied(entry) => {
                let earlier = &mut pending[*entry.get()];
                earlier.statement.merge(statement);
                if suppressed.is_some() {
                    earlier.suppressed = suppressed;
                }
                summary.duplicate += 1;
            }
            Entry::Vacant(entry) => {
                entry.insert(pending.len());
                pending.push(Pending { suppressed, statement });
            }
        }
    }
    let mut keys: Vec<Option<Key>> = vec![None; pending.len()];
    for ((kind, value), position) in positions {
        keys[position] = Some(Key { kind, value: Arc::from(value) });
    }
    let keys: Vec<Key> = keys.into_iter().flatten().collect();

    let mut found: Vec<Option<Found>> = Vec::with_capacity(keys.len());
    found.resize_with(keys.len(), || None);
    for row in writer.lookup(&keys).await? {
        place(&mut found, row)?;
    }

    // Insert what is missing; a concurrent writer may have inserted some of it meanwhile.
    let mut new_rows: Vec<NewIndicator> = Vec::new();
    let mut new_positions: Vec<usize> = Vec::new();
    for (position, slot) in found.iter().enumerate() {
        if slot.is_none() {
            new_positions.push(position);
            new_rows.push(NewIndicator {
                key: keys[position].clone(),
                first_seen: pending[position].statement.first_seen,
                suppressed: pending[position].suppressed.clone(),
                id: 0,
            });
        }
    }
    let mut ids: Vec<Option<i64>> = vec![None; keys.len()];
    if !new_rows.is_empty() {
        let raced = writer.insert_indicators(&mut new_rows).await?;
        for (row, &position) in new_rows.iter().zip(&new_positions) {
            ids[position] = Some(row.id);
        }
        if !raced.is_empty() {
            let raced_positions: Vec<usize> = raced.iter().map(|&index| new_positions[index]).collect();
            let raced_keys: Vec<Key> = raced_positions.iter().map(|&position| keys[position].clone()).collect();
            for mut row in writer.lookup(&raced_keys).await? {
                let index = usize::try_from(row.position).ok().and_then(|index| raced_positions.get(index).copied());
                let position = index.ok_or_else(|| lookup_position_error(row.position))?;
                row.position = i64::try_from(position).unwrap_or(i64::MAX);
                ids[position] = None;
                place(&mut found, row)?;
            }
        }
    }

    let import_id = writer.import_id();
    let mut statements = Vec::with_capacity(pending.len());
    let mut suppressions = Vec::new();
    for (position, entry) in pending.into_iter().enumerate() {
        let Pending { suppressed, mut statement } = entry;
        let indicator_id = match (&found[position], ids[position]) {
            (None, Some(id)) => {
                summary.new += 1;
                id
            }
            (Some(existing), _) => {
                if let Some(reason) = suppressed
                    && existing.suppressed.as_deref() != Some(reason.as_str())
                {
                    suppressions.push((existing.id, reason));
                }
                match (existing.statement_first_seen, existing.statement_last_seen) {
                    (Some(first_seen), Some(last_seen)) => {
                        statement.first_seen = statement.first_seen.min(first_seen);
                        statement.last_seen = statement.last_seen.max(last_seen);
                        if existing.statement_import_id == Some(import_id) {
                            summary.duplicate += 1;
                            merge_stored_lists(&mut statement, existing)?;
                        } else {
                            summary.updated += 1;
                        }
                    }
                    _ => summary.added_source += 1,
                }
                existing.id
            }
            (None, None) => {
                return Err(StoreError::Corrupt {
                    table: "indicators",
                    reason: format!("indicator {:?} was neither found nor inserted", keys[position].value),
                });
            }
        };
        statements.push(statement.into_values(indicator_id));
    }
    if !suppressions.is_empty() {
        writer.set_suppressed(suppressions).await?;
    }
    writer.write_statements(statements).await
}

fn lookup_position_error(position: i64) -> StoreError {
    StoreError::Corrupt { table: "indicators", reason: format!("lookup returned unknown position {position}") }
}

fn place(found: &mut [Option<Found>], row: Found) -> Result<(), StoreError> {
    let slot = usize::try_from(row.position)
        .ok()
        .and_then(|position| found.get_mut(position))
        .ok_or_else(|| lookup_position_error(row.position))?;
    *slot = Some(row);
    Ok(())
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
        let merged = union(vec!["a".to_owned(), "b".to_owned()], vec!["b".to_owned(), "c".to_owned()]);
        assert_eq!(merged, ["a", "b", "c"]);
    }

    #[test]
    fn merge_widens_dates_and_takes_later_fields() {
        let source = SourceInfo::adhoc("s", "text");
        let indicator = rampart_model::Indicator::parse(IndicatorKind::Domain, "a.example").unwrap();
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
        let (_, _, _, mut merged) = Resolved::new(StagedObservation { observation: first, suppressed: None }, &source, now);
        let (_, _, _, later) = Resolved::new(StagedObservation { observation: second, suppressed: None }, &source, now);
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
        let indicator = rampart_model::Indicator::parse(IndicatorKind::Domain, "a.example").unwrap();
        let mut observation = rampart_model::Observation::new(indicator, "line 1");
        let (_, _, _, resolved) = Resolved::new(StagedObservation { observation: observation.clone(), suppressed: None }, &source, 42);
        assert_eq!((resolved.first_seen, resolved.last_seen), (42, 42));
        observation.first_seen = Some(rampart_model::Timestamp::from_second(0).unwrap());
        let (_, _, _, resolved) = Resolved::new(StagedObservation { observation, suppressed: None }, &source, 42);
        assert_eq!((resolved.first_seen, resolved.last_seen), (0, 42));
    }
}
