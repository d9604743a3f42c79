//! Row mapping shared by both backends: the `FromRow` shapes of every table and their
//! conversion to and from the store's types. Both schemas use the same column names and the
//! same encodings (epoch microseconds, JSON text, short TLP names), so only SQL differs.

pub(crate) mod accounts;
pub(crate) mod cases;
pub(crate) mod respond;

use std::collections::HashMap;

use rampart_model::{
    AttackId, ContextObject, Direction, Indicator, IndicatorKind, PatternNote, Reliability,
    SourceInfo, Timestamp, Tlp,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    AllowEntry, Asset, ImportSummary, SourceRecord, SourceStatement, StoreError, StoredIndicator,
};

/// Microseconds since the epoch, the stored form of every timestamp.
pub(crate) fn micros(timestamp: Timestamp) -> i64 {
    timestamp.as_microsecond()
}

pub(crate) fn timestamp(table: &'static str, micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros)
        .map_err(|err| corrupt(table, format!("timestamp {micros}: {err}")))
}

pub(crate) fn optional_timestamp(
    table: &'static str,
    micros: Option<i64>,
) -> Result<Option<Timestamp>, StoreError> {
    micros.map(|value| timestamp(table, value)).transpose()
}

pub(crate) fn corrupt(table: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        reason: reason.into(),
    }
}

/// JSON text of a value that cannot fail to serialise (strings, numbers, derived structs).
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// JSON text of a list; the empty list, by far the most common, costs nothing.
pub(crate) fn json_list<T: Serialize>(items: &[T]) -> String {
    if items.is_empty() {
        "[]".to_owned()
    } else {
        to_json(items)
    }
}

pub(crate) fn from_json<T: DeserializeOwned>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|err| corrupt(table, format!("{column}: {err}")))
}

pub(crate) fn parse_column<T: std::str::FromStr>(
    table: &'static str,
    column: &str,
    text: &str,
) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|err| corrupt(table, format!("{column}: {err}")))
}

pub(crate) fn small<T: TryFrom<i64>>(
    table: &'static str,
    column: &str,
    value: i64,
) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| corrupt(table, format!("{column} {value} out of range")))
}

pub(crate) fn direction_text(direction: Direction) -> &'static str {
    match direction {
        Direction::Source => "source",
        Direction::Destination => "destination",
    }
}

fn direction_from(table: &'static str, text: &str) -> Result<Direction, StoreError> {
    match text {
        "source" => Ok(Direction::Source),
        "destination" => Ok(Direction::Destination),
        other => Err(corrupt(table, format!("direction {other:?}"))),
    }
}

pub(crate) fn kind_from(table: &'static str, text: &str) -> Result<IndicatorKind, StoreError> {
    parse_column(table, "kind", text)
}

// ---- sources ---------------------------------------------------------------------------------

/// A `sources` row with its count of active statements (computed by the query).
#[derive(sqlx::FromRow)]
pub(crate) struct SourceRow {
    name: String,
    format: String,
    reliability: String,
    default_confidence: i64,
    default_tlp: String,
    full_list: bool,
    settings: String,
    last_attempt: Option<i64>,
    last_success: Option<i64>,
    last_error: Option<String>,
    consecutive_failures: i64,
    last_summary: Option<String>,
    active_statements: i64,
}

impl SourceRow {
    pub(crate) fn into_record(self) -> Result<SourceRecord, StoreError> {
        const TABLE: &str = "sources";
        Ok(SourceRecord {
            info: SourceInfo {
                reliability: parse_column(TABLE, "reliability", &self.reliability)?,
                default_confidence: small(TABLE, "default_confidence", self.default_confidence)?,
                default_tlp: parse_column(TABLE, "default_tlp", &self.default_tlp)?,
                full_list: self.full_list,
                name: self.name,
                format: self.format,
            },
            settings: from_json(TABLE, "settings", &self.settings)?,
            last_attempt: optional_timestamp(TABLE, self.last_attempt)?,
            last_success: optional_timestamp(TABLE, self.last_success)?,
            last_error: self.last_error,
            consecutive_failures: small(TABLE, "consecutive_failures", self.consecutive_failures)?,
            last_summary: self
                .last_summary
                .map(|text| from_json::<ImportSummary>(TABLE, "last_summary", &text))
                .transpose()?,
            active_statements: small(TABLE, "active_statements", self.active_statements)?,
        })
    }
}

/// The columns of a source as bound by `upsert_source`.
pub(crate) struct SourceValues {
    pub name: String,
    pub format: String,
    pub reliability: &'static str,
    pub default_confidence: i64,
    pub default_tlp: &'static str,
    pub full_list: bool,
    pub settings: String,
}

impl SourceValues {
    pub(crate) fn new(source: &SourceInfo, settings: &serde_json::Value) -> SourceValues {
        SourceValues {
            name: source.name.clone(),
            format: source.format.clone(),
            reliability: reliability_text(source.reliability),
            default_confidence: i64::from(source.default_confidence),
            default_tlp: source.default_tlp.short(),
            full_list: source.full_list,
            settings: to_json(settings),
        }
    }
}

pub(crate) fn reliability_text(reliability: Reliability) -> &'static str {
    match reliability {
        Reliability::A => "A",
        Reliability::B => "B",
        Reliability::C => "C",
        Reliability::D => "D",
        Reliability::E => "E",
        Reliability::F => "F",
    }
}

// ---- indicators and statements ---------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub(crate) struct IndicatorRow {
    id: i64,
    kind: String,
    value: String,
    first_seen: i64,
    suppressed: Option<String>,
}

/// An indicator row of the change feed, with the change it belongs to.
#[derive(sqlx::FromRow)]
pub(crate) struct ChangedRow {
    pub change_seq: i64,
    pub change_committed: Option<i64>,
    #[sqlx(flatten)]
    pub indicator: IndicatorRow,
}

/// A statement joined with its source's reliability.
#[derive(sqlx::FromRow)]
pub(crate) struct StatementRow {
    indicator_id: i64,
    source: String,
    reliability: String,
    first_seen: i64,
    last_seen: i64,
    confidence: i64,
    tlp: String,
    labels: String,
    techniques: String,
    threats: String,
    reference: String,
    valid_until: Option<i64>,
    revoked: bool,
    withdrawn_at: Option<i64>,
    direction: Option<String>,
    port: Option<i64>,
    pattern: Option<String>,
}

impl StatementRow {
    fn into_statement(self) -> Result<(i64, SourceStatement), StoreError> {
        const TABLE: &str = "statements";
        let statement = SourceStatement {
            reliability: parse_column(TABLE, "reliability", &self.reliability)?,
            first_seen: timestamp(TABLE, self.first_seen)?,
            last_seen: timestamp(TABLE, self.last_seen)?,
            confidence: small(TABLE, "confidence", self.confidence)?,
            tlp: parse_column(TABLE, "tlp", &self.tlp)?,
            labels: from_json(TABLE, "labels", &self.labels)?,
            techniques: from_json(TABLE, "techniques", &self.techniques)?,
            threats: from_json(TABLE, "threats", &self.threats)?,
            reference: self.reference,
            valid_until: optional_timestamp(TABLE, self.valid_until)?,
            revoked: self.revoked,
            withdrawn_at: optional_timestamp(TABLE, self.withdrawn_at)?,
            direction: self
                .direction
                .as_deref()
                .map(|text| direction_from(TABLE, text))
                .transpose()?,
            port: self
                .port
                .map(|port| small(TABLE, "port", port))
                .transpose()?,
            pattern: self
                .pattern
                .map(|text| from_json::<PatternNote>(TABLE, "pattern", &text))
                .transpose()?,
            source: self.source,
        };
        Ok((self.indicator_id, statement))
    }
}

/// Joins a page of indicator rows with their statement rows (any order) into stored indicators,
/// keeping the indicators' order.
pub(crate) fn assemble(
    indicators: Vec<IndicatorRow>,
    statements: Vec<StatementRow>,
) -> Result<Vec<StoredIndicator>, StoreError> {
    let mut by_id: HashMap<i64, Vec<SourceStatement>> = HashMap::with_capacity(indicators.len());
    for row in statements {
        let (id, statement) = row.into_statement()?;
        by_id.entry(id).or_default().push(statement);
    }
    indicators
        .into_iter()
        .map(|row| {
            const TABLE: &str = "indicators";
            let kind = kind_from(TABLE, &row.kind)?;
            let mut sources = by_id.remove(&row.id).unwrap_or_default();
            sources.sort_by(|a, b| a.source.cmp(&b.source));
            Ok(StoredIndicator {
                id: row.id,
                indicator: Indicator::from_canonical(kind, row.value),
                first_seen: timestamp(TABLE, row.first_seen)?,
                suppressed: row.suppressed,
                sources,
            })
        })
        .collect()
}

impl IndicatorRow {
    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

// ---- context objects -------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub(crate) struct ObjectRow {
    id: String,
    object_type: String,
    name: Option<String>,
    attack_id: Option<String>,
    modified: Option<i64>,
    revoked: bool,
    tlp: Option<String>,
    body: String,
}

impl ObjectRow {
    pub(crate) fn into_object(self) -> Result<ContextObject, StoreError> {
        const TABLE: &str = "objects";
        Ok(ContextObject {
            attack_id: self
                .attack_id
                .map(|text| parse_column::<AttackId>(TABLE, "attack_id", &text))
                .transpose()?,
            modified: optional_timestamp(TABLE, self.modified)?,
            revoked: self.revoked,
            tlp: self
                .tlp
                .map(|text| parse_column::<Tlp>(TABLE, "tlp", &text))
                .transpose()?,
            body: from_json(TABLE, &format!("body of {}", self.id), &self.body)?,
            id: self.id,
            object_type: self.object_type,
            name: self.name,
        })
    }
}

/// The columns of a context object as written, with the references of relationships and
/// sightings copied out of the body so that `relationships_of` is an index lookup.
pub(crate) struct ObjectValues {
    pub id: String,
    pub object_type: String,
    pub name: Option<String>,
    pub attack_id: Option<String>,
    pub modified: Option<i64>,
    pub revoked: bool,
    pub tlp: Option<&'static str>,
    pub body: String,
    pub source_ref: Option<String>,
    pub target_ref: Option<String>,
    pub relationship_type: Option<String>,
}

impl ObjectValues {
    pub(crate) fn new(object: ContextObject) -> ObjectValues {
        let text = |field: &str| {
            object
                .body
                .get(field)
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        let (source_ref, target_ref, relationship_type) = match object.object_type.as_str() {
            "relationship" => (
                text("source_ref"),
                text("target_ref"),
                text("relationship_type"),
            ),
            "sighting" => (text("sighting_of_ref"), None, None),
            _ => (None, None, None),
        };
        ObjectValues {
            body: to_json(&object.body),
            name: object.name,
            attack_id: object.attack_id.map(String::from),
            modified: object.modified.map(micros),
            revoked: object.revoked,
            tlp: object.tlp.map(Tlp::short),
            id: object.id,
            object_type: object.object_type,
            source_ref,
            target_ref,
            relationship_type,
        }
    }
}

// ---- allowlist and assets --------------------------------------------------------------------

#[derive(sqlx::FromRow)]
pub(crate) struct AllowRow {
    value: String,
    reason: String,
    added: i64,
}

impl AllowRow {
    pub(crate) fn into_entry(self) -> Result<AllowEntry, StoreError> {
        Ok(AllowEntry {
            added: timestamp("allowlist", self.added)?,
            value: self.value,
            reason: self.reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: i64,
    last_seen: i64,
    count: i64,
    body: String,
    status: String,
    triaged_by: Option<String>,
    triaged_at: Option<i64>,
    triage_note: Option<String>,
}

impl AlertRow {
    pub(crate) fn into_alert(self) -> Result<crate::StoredAlert, StoreError> {
        let mut alert: rampart_model::Alert = from_json("alerts", "body", &self.body)?;
        // The columns are authoritative: they are what concurrent upserts agreed on.
        alert.last_seen = timestamp("alerts", self.last_seen)?;
        alert.count = u64::try_from(self.count).unwrap_or(0);
        let status: crate::AlertStatus = parse_column("alerts", "status", &self.status)?;
        let triage = match (self.triaged_by, self.triaged_at) {
            (Some(by), Some(at)) => Some(crate::AlertTriage {
                status,
                by,
                at: timestamp("alerts", at)?,
                note: self.triage_note,
            }),
            _ => None,
        };
        Ok(crate::StoredAlert {
            id: self.id,
            alert,
            status,
            triage,
        })
    }
}

/// The severity stored as its rank (0 informational … 4 critical).
pub(crate) fn severity_from_column(rank: i64) -> Result<rampart_model::Severity, StoreError> {
    use rampart_model::Severity;
    [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|severity| *severity as i64 == rank)
    .ok_or_else(|| corrupt("alerts", format!("severity {rank}")))
}

/// One bucket of an aggregate: a label (status, tactic, technique) and its count.
#[derive(sqlx::FromRow)]
pub(crate) struct LabelCount {
    pub(crate) label: String,
    pub(crate) count: i64,
}

/// One bucket of an aggregate over a ranked column (severity) and its count.
#[derive(sqlx::FromRow)]
pub(crate) struct RankCount {
    pub(crate) label: i64,
    pub(crate) count: i64,
}

/// One day and group of [`crate::Store::indicators_per_day`].
#[derive(sqlx::FromRow)]
pub(crate) struct DayRow {
    day: i64,
    label: String,
    count: i64,
}

impl DayRow {
    pub(crate) fn into_count(self) -> Result<crate::DailyCount, StoreError> {
        let day = Timestamp::from_second(self.day.saturating_mul(86_400))
            .map_err(|err| corrupt("indicators", format!("day {}: {err}", self.day)))?
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date();
        Ok(crate::DailyCount {
            day,
            group: self.label,
            count: u64::try_from(self.count).unwrap_or(0),
        })
    }
}

/// The columns of an alert row besides its body.
pub(crate) fn alert_columns(alert: &rampart_model::Alert) -> (i64, i64, i64, i64, String) {
    (
        micros(alert.first_seen),
        micros(alert.last_seen),
        i64::try_from(alert.count).unwrap_or(i64::MAX),
        alert.severity as i64,
        to_json(alert),
    )
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssetRow {
    name: String,
    kind: String,
    owner: Option<String>,
    criticality: i64,
    tags: String,
    networks: String,
    hostnames: String,
    domains: String,
}

impl AssetRow {
    pub(crate) fn into_asset(self) -> Result<Asset, StoreError> {
        const TABLE: &str = "assets";
        Ok(Asset {
            criticality: small(TABLE, "criticality", self.criticality)?,
            tags: from_json(TABLE, "tags", &self.tags)?,
            networks: from_json(TABLE, "networks", &self.networks)?,
            hostnames: from_json(TABLE, "hostnames", &self.hostnames)?,
            domains: from_json(TABLE, "domains", &self.domains)?,
            name: self.name,
            kind: self.kind,
            owner: self.owner,
        })
    }
}

/// The columns of an asset as written.
pub(crate) struct AssetValues {
    pub name: String,
    pub kind: String,
    pub owner: Option<String>,
    pub criticality: i64,
    pub tags: String,
    pub networks: String,
    pub hostnames: String,
    pub domains: String,
}

impl AssetValues {
    pub(crate) fn new(asset: &Asset) -> AssetValues {
        AssetValues {
            name: asset.name.clone(),
            kind: asset.kind.clone(),
            owner: asset.owner.clone(),
            criticality: i64::from(asset.criticality),
            tags: json_list(&asset.tags),
            networks: json_list(&asset.networks),
            hostnames: json_list(&asset.hostnames),
            domains: json_list(&asset.domains),
        }
    }
}

/// Totals, one column each.
#[derive(sqlx::FromRow)]
pub(crate) struct CountsRow {
    indicators: i64,
    statements: i64,
    suppressed: i64,
    objects: i64,
    sources: i64,
    assets: i64,
}

impl CountsRow {
    pub(crate) fn into_counts(self) -> crate::Counts {
        let unsigned = |value: i64| u64::try_from(value).unwrap_or(0);
        crate::Counts {
            indicators: unsigned(self.indicators),
            statements: unsigned(self.statements),
            suppressed: unsigned(self.suppressed),
            objects: unsigned(self.objects),
            sources: unsigned(self.sources),
            assets: unsigned(self.assets),
        }
    }
}
