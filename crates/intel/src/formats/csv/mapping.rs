//! Which field of a row holds what: the column options shared by the CSV and JSON-lines
//! formats, and the step that turns one row into observations.
//!
//! A row is anything that hands out a field's text by column (a CSV record by position, a JSON
//! object by key), so both formats give the same options the same meaning.

use std::borrow::Cow;

use rampart_model::{Indicator, IndicatorKind, Observation, Timestamp};

use super::time::parse_timestamp;
use crate::formats::{FormatOptions, FormatSpecError, Rejection, Sink};

/// Where a field is, as the user wrote it: a 0-based column number (negative counts from the
/// end, for feeds whose middle columns may contain the delimiter), or a name from the header.
/// A name ending in `?` may be absent from the header (presets that cover several layouts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    Index(isize),
    Name {
        written: String,
        key: String,
        optional: bool,
    },
}

impl Column {
    pub(crate) fn parse(text: &str) -> Column {
        let trimmed = text.trim();
        if let Ok(index) = trimmed.parse::<isize>() {
            return Column::Index(index);
        }
        let (name, optional) = match trimmed.strip_suffix('?') {
            Some(name) => (name.trim_end(), true),
            None => (trimmed, false),
        };
        Column::Name {
            written: name.to_owned(),
            key: column_key(name),
            optional,
        }
    }
}

/// How header names compare: case-insensitive, ignoring spaces, punctuation and parenthesised
/// remarks, so `Dateadded (UTC)` is `dateadded` and `source ip` is `source_ip`.
pub(crate) fn column_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => key.extend(c.to_lowercase()),
            _ => {}
        }
    }
    key
}

/// Where a field is once the header is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// A position in the record; negative counts from the end.
    Index(isize),
    /// A key of a JSON object.
    Key(String),
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Index(index) => write!(f, "column {index}"),
            Field::Key(key) => write!(f, "field {key:?}"),
        }
    }
}

/// One row of input.
pub(crate) trait Row {
    /// The trimmed text of a field, `None` when the row has no such field.
    fn get(&self, field: &Field) -> Option<Cow<'_, str>>;
}

/// How the kind of a value is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KindSource<C> {
    Guess,
    Fixed(KindHint),
    Column(C),
}

/// The column options, generic over how a column is named (`Column` as written, `Field` once
/// resolved against a header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapping<C> {
    pub value: Vec<C>,
    pub kind: KindSource<C>,
    pub prefix_length: Option<C>,
    pub first_seen: Option<C>,
    pub last_seen: Option<C>,
    pub valid_until: Option<C>,
    pub confidence: Option<C>,
    pub threat: Option<C>,
    pub port: Option<C>,
    pub labels: Vec<C>,
}

/// The option keys [`Mapping::take_options`] understands.
pub(crate) const MAPPING_KEYS: &[&str] = &[
    "value",
    "kind",
    "kind_column",
    "prefix_length",
    "first_seen",
    "last_seen",
    "valid_until",
    "confidence",
    "threat",
    "port",
    "labels",
];

impl Mapping<Column> {
    /// Reads the column options; `value` is required.
    pub(crate) fn from_options(
        format: &'static str,
        options: &FormatOptions,
    ) -> Result<Mapping<Column>, FormatSpecError> {
        let bad = |reason: String| FormatSpecError::BadOption { format, reason };
        let single = |key: &str| {
            options
                .get(key)
                .filter(|v| !v.trim().is_empty())
                .map(|v| Column::parse(v))
        };
        let list = |key: &str| -> Vec<Column> {
            options
                .get(key)
                .map(|v| {
                    v.split(',')
                        .filter(|part| !part.trim().is_empty())
                        .map(Column::parse)
                        .collect()
                })
                .unwrap_or_default()
        };
        let value = match options.get("value") {
            Some(text) => text
                .split(',')
                .filter(|part| !part.trim().is_empty())
                .map(Column::parse)
                .collect(),
            None => Vec::new(),
        };
        if value.is_empty() {
            return Err(bad(
                "option value (the column holding the indicator) is required".into(),
            ));
        }
        let kind = match (options.get("kind"), single("kind_column")) {
            (Some(_), Some(_)) => {
                return Err(bad("give either kind or kind_column, not both".into()));
            }
            (Some(name), None) => KindSource::Fixed(kind_hint(name).ok_or_else(|| {
                bad(format!(
                    "unknown indicator kind {name:?} (expected ip, ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256 or sha512)"
                ))
            })?),
            (None, Some(column)) => KindSource::Column(column),
            (None, None) => KindSource::Guess,
        };
        Ok(Mapping {
            value,
            kind,
            prefix_length: single("prefix_length"),
            first_seen: single("first_seen"),
            last_seen: single("last_seen"),
            valid_until: single("valid_until"),
            confidence: single("confidence"),
            threat: single("threat"),
            port: single("port"),
            labels: list("labels"),
        })
    }

    /// Whether any column is given by name, so a header is needed.
    pub(crate) fn uses_names(&self) -> bool {
        self.columns()
            .any(|column| matches!(column, Column::Name { .. }))
    }

    /// The required named columns, to tell a header comment from prose.
    pub(crate) fn required_keys(&self) -> impl Iterator<Item = &str> {
        self.columns().filter_map(|column| match column {
            Column::Name {
                key,
                optional: false,
                ..
            } => Some(key.as_str()),
            _ => None,
        })
    }

    fn columns(&self) -> impl Iterator<Item = &Column> {
        let kind = match &self.kind {
            KindSource::Column(column) => Some(column),
            _ => None,
        };
        self.value
            .iter()
            .chain(kind)
            .chain(&self.prefix_length)
            .chain(&self.first_seen)
            .chain(&self.last_seen)
            .chain(&self.valid_until)
            .chain(&self.confidence)
            .chain(&self.threat)
            .chain(&self.port)
            .chain(&self.labels)
    }

    /// Resolves names against a header (normalised keys); `None` header means no names allowed.
    /// An optional name missing from the header is dropped; a required one is an error.
    pub(crate) fn resolve(&self, header: Option<&[String]>) -> Result<Mapping<Field>, String> {
        let resolve_one = |column: &Column| -> Result<Option<Field>, String> {
            match column {
                Column::Index(index) => Ok(Some(Field::Index(*index))),
                Column::Name {
                    written,
                    key,
                    optional,
                } => {
                    let Some(header) = header else {
                        return Err(format!(
                            "column {written:?} is given by name but the input has no header"
                        ));
                    };
                    match header.iter().position(|name| column_key(name) == *key) {
                        Some(position) => Ok(Some(Field::Index(position as isize))),
                        None if *optional => Ok(None),
                        None => Err(format!(
                            "no column named {written:?} in header ({})",
                            header.join(", ")
                        )),
                    }
                }
            }
        };
        let resolve_opt = |column: &Option<Column>| -> Result<Option<Field>, String> {
            match column {
                Some(column) => resolve_one(column),
                None => Ok(None),
            }
        };
        let resolve_list = |columns: &[Column]| -> Result<Vec<Field>, String> {
            let mut fields = Vec::new();
            for column in columns {
                fields.extend(resolve_one(column)?);
            }
            Ok(fields)
        };
        let value = resolve_list(&self.value)?;
        if value.is_empty() {
            return Err("none of the value columns is in the header".into());
        }
        let kind = match &self.kind {
            KindSource::Guess => KindSource::Guess,
            KindSource::Fixed(kind) => KindSource::Fixed(*kind),
            KindSource::Column(column) => match resolve_one(column)? {
                Some(field) => KindSource::Column(field),
                None => KindSource::Guess,
            },
        };
        Ok(Mapping {
            value,
            kind,
            prefix_length: resolve_opt(&self.prefix_length)?,
            first_seen: resolve_opt(&self.first_seen)?,
            last_seen: resolve_opt(&self.last_seen)?,
            valid_until: resolve_opt(&self.valid_until)?,
            confidence: resolve_opt(&self.confidence)?,
            threat: resolve_opt(&self.threat)?,
            port: resolve_opt(&self.port)?,
            labels: resolve_list(&self.labels)?,
        })
    }

    /// The same mapping for inputs whose fields are keyed by name (JSON objects).
    pub(crate) fn by_key(&self) -> Result<Mapping<Field>, String> {
        let key = |column: &Column| match column {
            Column::Name { written, .. } => Ok(Field::Key(written.clone())),
            Column::Index(index) => Err(format!("field {index} must be a name for keyed input")),
        };
        let key_opt = |column: &Option<Column>| column.as_ref().map(key).transpose();
        Ok(Mapping {
            value: self.value.iter().map(key).collect::<Result<_, _>>()?,
            kind: match &self.kind {
                KindSource::Guess => KindSource::Guess,
                KindSource::Fixed(kind) => KindSource::Fixed(*kind),
                KindSource::Column(column) => KindSource::Column(key(column)?),
            },
            prefix_length: key_opt(&self.prefix_length)?,
            first_seen: key_opt(&self.first_seen)?,
            last_seen: key_opt(&self.last_seen)?,
            valid_until: key_opt(&self.valid_until)?,
            confidence: key_opt(&self.confidence)?,
            threat: key_opt(&self.threat)?,
            port: key_opt(&self.port)?,
            labels: self.labels.iter().map(key).collect::<Result<_, _>>()?,
        })
    }
}

/// What a kind column may say: one of our kinds, or "an IP address" without the family
/// (MISP `ip-src`, many CSV feeds' `ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KindHint {
    Exact(IndicatorKind),
    AnyIp,
}

/// Kind names seen in feeds (MISP attribute types, STIX object types, plain words), by the
/// [`column_key`] form of the name.
const KIND_NAMES: &[(&str, KindHint)] = &[
    ("ip", KindHint::AnyIp),
    ("ipsrc", KindHint::AnyIp),
    ("ipdst", KindHint::AnyIp),
    ("ipaddress", KindHint::AnyIp),
    ("ipv4", KindHint::Exact(IndicatorKind::Ipv4)),
    ("ip4", KindHint::Exact(IndicatorKind::Ipv4)),
    ("ipv4addr", KindHint::Exact(IndicatorKind::Ipv4)),
    ("ipv6", KindHint::Exact(IndicatorKind::Ipv6)),
    ("ip6", KindHint::Exact(IndicatorKind::Ipv6)),
    ("ipv6addr", KindHint::Exact(IndicatorKind::Ipv6)),
    ("cidr", KindHint::Exact(IndicatorKind::Cidr)),
    ("iprange", KindHint::Exact(IndicatorKind::Cidr)),
    ("netblock", KindHint::Exact(IndicatorKind::Cidr)),
    ("network", KindHint::Exact(IndicatorKind::Cidr)),
    ("subnet", KindHint::Exact(IndicatorKind::Cidr)),
    ("domain", KindHint::Exact(IndicatorKind::Domain)),
    ("domainname", KindHint::Exact(IndicatorKind::Domain)),
    ("hostname", KindHint::Exact(IndicatorKind::Domain)),
    ("host", KindHint::Exact(IndicatorKind::Domain)),
    ("fqdn", KindHint::Exact(IndicatorKind::Domain)),
    ("url", KindHint::Exact(IndicatorKind::Url)),
    ("uri", KindHint::Exact(IndicatorKind::Url)),
    ("link", KindHint::Exact(IndicatorKind::Url)),
    ("email", KindHint::Exact(IndicatorKind::Email)),
    ("emailsrc", KindHint::Exact(IndicatorKind::Email)),
    ("emaildst", KindHint::Exact(IndicatorKind::Email)),
    ("emailaddr", KindHint::Exact(IndicatorKind::Email)),
    ("emailaddress", KindHint::Exact(IndicatorKind::Email)),
    ("md5", KindHint::Exact(IndicatorKind::Md5)),
    ("sha1", KindHint::Exact(IndicatorKind::Sha1)),
    ("sha256", KindHint::Exact(IndicatorKind::Sha256)),
    ("sha512", KindHint::Exact(IndicatorKind::Sha512)),
];

fn kind_hint(name: &str) -> Option<KindHint> {
    let key = column_key(name);
    KIND_NAMES
        .iter()
        .find(|(known, _)| *known == key)
        .map(|(_, hint)| *hint)
}

impl Mapping<Field> {
    /// Turns one row into observations (one per non-empty value column) or rejections.
    pub(crate) fn emit(&self, row: &dyn Row, reference: &str, sink: &mut dyn Sink) {
        let template = match self.context(row) {
            Ok(template) => template,
            Err(reason) => return sink.reject(Rejection::new(reference, reason)),
        };
        let kind = match &self.kind {
            KindSource::Guess => None,
            KindSource::Fixed(hint) => Some(*hint),
            KindSource::Column(field) => {
                let name = row.get(field).unwrap_or_default();
                match kind_hint(&name) {
                    Some(hint) => Some(hint),
                    None => {
                        return sink.reject(Rejection::new(
                            reference,
                            format!("{field}: unknown indicator kind {name:?}"),
                        ));
                    }
                }
            }
        };
        let prefix_length = match &self.prefix_length {
            Some(field) => match row.get(field).filter(|text| !text.is_empty()) {
                Some(bits) => Some(bits),
                None => {
                    return sink.reject(Rejection::new(
                        reference,
                        format!("{field}: missing prefix length"),
                    ));
                }
            },
            None => None,
        };
        let mut values = Vec::with_capacity(self.value.len());
        let mut missing = None;
        for field in &self.value {
            match row.get(field) {
                Some(text) if !text.is_empty() => values.push((field, text)),
                Some(_) => {}
                None => missing = Some(field),
            }
        }
        if values.is_empty() {
            let reason = match (missing, self.value.as_slice()) {
                (Some(field), [_]) => format!("no {field} in this row"),
                (_, [field]) => format!("{field} is empty"),
                _ => "all value columns are empty".to_owned(),
            };
            return sink.reject(Rejection::new(reference, reason));
        }
        for (field, text) in values {
            let raw = match &prefix_length {
                Some(bits) => Cow::Owned(format!("{text}/{bits}")),
                None => text,
            };
            let parsed = match kind {
                None => Indicator::guess(&raw),
                Some(KindHint::Exact(kind)) => Indicator::parse(kind, &raw),
                Some(KindHint::AnyIp) => Indicator::guess(&raw).and_then(|indicator| {
                    if indicator.kind().is_network() {
                        Ok(indicator)
                    } else {
                        Indicator::parse(IndicatorKind::Ipv4, &raw)
                    }
                }),
            };
            match parsed {
                Ok(indicator) => {
                    let mut observation = template.clone();
                    observation.indicator = indicator;
                    observation.reference = reference.to_owned();
                    sink.observation(observation);
                }
                Err(err) => sink.reject(Rejection::new(
                    reference,
                    format!("{field}: {raw:?}: {err}"),
                )),
            }
        }
    }

    /// An observation carrying everything but the indicator.
    fn context<'m>(&'m self, row: &dyn Row) -> Result<Observation, String> {
        let placeholder = Indicator::from_canonical(IndicatorKind::Domain, String::new());
        let mut observation = Observation::new(placeholder, "");
        let text = |field: &'m Option<Field>| {
            field
                .as_ref()
                .and_then(|f| row.get(f).filter(|t| !t.is_empty()).map(|t| (f, t)))
        };
        let time = |field: &'m Option<Field>| -> Result<Option<Timestamp>, String> {
            match text(field) {
                Some((field, value)) => parse_timestamp(&value)
                    .map(Some)
                    .map_err(|err| format!("{field}: {err}")),
                None => Ok(None),
            }
        };
        observation.first_seen = time(&self.first_seen)?;
        observation.last_seen = time(&self.last_seen)?;
        observation.valid_until = time(&self.valid_until)?;
        if let Some((field, value)) = text(&self.confidence) {
            observation.confidence =
                Some(parse_confidence(&value).map_err(|err| format!("{field}: {err}"))?);
        }
        if let Some((field, value)) = text(&self.port) {
            let port = value
                .parse::<u16>()
                .map_err(|_| format!("{field}: {value:?} is not a port number"))?;
            observation.port = Some(port);
        }
        if let Some((_, threat)) = text(&self.threat) {
            observation.threats.push(threat.into_owned());
        }
        for field in &self.labels {
            let Some(cell) = row.get(field) else { continue };
            for label in cell
                .split(',')
                .map(str::trim)
                .filter(|label| !label.is_empty())
            {
                if !observation.labels.iter().any(|known| known == label) {
                    observation.labels.push(label.to_owned());
                }
            }
        }
        Ok(observation)
    }
}

/// A confidence 0–100; decimals are rounded.
fn parse_confidence(text: &str) -> Result<u8, String> {
    let number: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if !(0.0..=100.0).contains(&number) {
        return Err(format!("confidence {text} is outside 0-100"));
    }
    Ok(number.round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_ignore_case_punctuation_and_remarks() {
        assert_eq!(column_key("Dateadded (UTC)"), "dateadded");
        assert_eq!(column_key("source ip"), column_key("Source_IP"));
        assert_eq!(Column::parse("-3"), Column::Index(-3));
        assert!(matches!(
            Column::parse("tags?"),
            Column::Name { optional: true, .. }
        ));
    }

    #[test]
    fn kind_names_cover_misp_types() {
        assert_eq!(kind_hint("ip-dst"), Some(KindHint::AnyIp));
        assert_eq!(
            kind_hint("Domain"),
            Some(KindHint::Exact(IndicatorKind::Domain))
        );
        assert_eq!(
            kind_hint("SHA-256"),
            Some(KindHint::Exact(IndicatorKind::Sha256))
        );
        assert_eq!(kind_hint("mutex"), None);
    }

    #[test]
    fn confidence_is_bounded() {
        assert_eq!(parse_confidence("85"), Ok(85));
        assert_eq!(parse_confidence("49.6"), Ok(50));
        assert!(parse_confidence("101").is_err());
        assert!(parse_confidence("high").is_err());
    }
}
