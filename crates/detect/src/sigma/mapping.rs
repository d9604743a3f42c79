//! Sigma mappings as data: which events each Sigma logsource applies to, and where a Sigma field
//! lives in each event layout. The files under `mappings/sigma/` are embedded at build time and
//! read into the typed structs below; the engine only asks this module questions.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::event::{Event, lookup};

const LAYOUTS: &str = include_str!("../../mappings/sigma/layouts.toml");
const WINDOWS: &str = include_str!("../../mappings/sigma/windows.toml");
const OTHER: &str = include_str!("../../mappings/sigma/other.toml");

/// A mapping file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("mapping {file}: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("mapping {file}: {what}")]
    Invalid { file: String, what: String },
}

/// One event layout: how to recognise it and where Sigma fields live in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub name: String,
    /// Decoder formats (`Event.format`) this layout can be; `zeek.*` and `*` are globs.
    pub formats: Vec<String>,
    /// A field that must be present for the layout to apply (when formats are shared).
    pub detect: Option<String>,
    /// Path of the Windows channel name, for layouts that carry one.
    pub channel: Option<String>,
    /// Path of the Windows event id.
    pub event_id: Option<String>,
    /// Path templates tried in order for a Sigma field; `{field}` is replaced by its name.
    pub lookup: Vec<String>,
    /// Exact paths for particular Sigma fields, tried before `lookup`.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Which events one Sigma logsource (product/category/service) applies to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsourceMapping {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    /// The logsource applies to an event when any one source fits it.
    pub sources: Vec<Source>,
}

/// One kind of event a logsource covers. Every list that is set must contain the event's
/// value; `channels = ["*"]` means any event that has a channel.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    #[serde(default)]
    pub layouts: Vec<String>,
    #[serde(default)]
    pub formats: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub event_ids: Vec<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayoutFile {
    layout: Vec<Layout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsourceFile {
    logsource: Vec<LogsourceMapping>,
}

/// The whole mapping: layouts in recognition order and logsource entries.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub layouts: Vec<Layout>,
    pub logsources: Vec<LogsourceMapping>,
}

/// Where an event sits for routing: its layout and, when known, its channel and event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RouteKey {
    pub layout: u16,
    /// Index into [`Mapping::known_formats`], when the format is one a source names.
    pub format: Option<u16>,
    /// Index into the known channels, or `UNKNOWN_CHANNEL` when the event has one we don't list.
    pub channel: Option<u16>,
    pub event_id: Option<u32>,
}

pub(crate) const UNKNOWN_CHANNEL: u16 = u16::MAX;

impl Mapping {
    /// The mapping shipped with Rampart (`crates/detect/mappings/sigma/*.toml`).
    pub fn builtin() -> Result<Mapping, MappingError> {
        Mapping::from_toml(
            ("layouts.toml", LAYOUTS),
            &[("windows.toml", WINDOWS), ("other.toml", OTHER)],
        )
    }

    /// Reads a layout file and logsource files, each given as `(name, text)`.
    pub fn from_toml(
        layouts: (&str, &str),
        logsources: &[(&str, &str)],
    ) -> Result<Mapping, MappingError> {
        let layout_file: LayoutFile =
            toml::from_str(layouts.1).map_err(|source| MappingError::Toml {
                file: layouts.0.to_string(),
                source,
            })?;
        if !layout_file.layout.iter().any(|l| l.name == "generic") {
            return Err(MappingError::Invalid {
                file: layouts.0.to_string(),
                what: "no layout named \"generic\" (unmapped logsources need it)".into(),
            });
        }
        let mut all = Vec::new();
        for (file, text) in logsources {
            let parsed: LogsourceFile =
                toml::from_str(text).map_err(|source| MappingError::Toml {
                    file: file.to_string(),
                    source,
                })?;
            for (index, entry) in parsed.logsource.iter().enumerate() {
                if entry.sources.is_empty()
                    || entry.sources.iter().any(|s| {
                        s.layouts.is_empty() && s.formats.is_empty() && s.channels.is_empty()
                    })
                {
                    return Err(MappingError::Invalid {
                        file: file.to_string(),
                        what: format!(
                            "logsource #{} ({}) has a source that would match every event",
                            index + 1,
                            describe(entry)
                        ),
                    });
                }
                for source in &entry.sources {
                    if let Some(unknown) = source
                        .layouts
                        .iter()
                        .find(|name| !layout_file.layout.iter().any(|l| &&l.name == name))
                    {
                        return Err(MappingError::Invalid {
                            file: file.to_string(),
                            what: format!(
                                "logsource {} names unknown layout {unknown}",
                                describe(entry)
                            ),
                        });
                    }
                }
            }
            all.extend(parsed.logsource);
        }
        Ok(Mapping {
            layouts: layout_file.layout,
            logsources: all,
        })
    }

    /// The logsource entry for a rule's logsource: all of the entry's keys equal the rule's,
    /// and the rule's category and service are named by the entry (a product-wide entry does
    /// not swallow a specific category it does not know). The most specific entry wins.
    pub fn logsource(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> Option<&LogsourceMapping> {
        let fits = |key: &Option<String>, rule: Option<&str>| match (key, rule) {
            (Some(key), Some(rule)) => key == rule,
            (Some(_), None) => false,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        let product_fits = |key: &Option<String>| key.is_none() || key.as_deref() == product;
        self.logsources.iter().find(|entry| {
            product_fits(&entry.product)
                && fits(&entry.category, category)
                && fits(&entry.service, service)
        })
    }

    /// The layout an event has: the first whose format and `detect` field fit.
    pub fn layout_of(&self, event: &Event) -> usize {
        self.layouts
            .iter()
            .position(|layout| {
                layout.formats.iter().any(|f| format_fits(f, &event.format))
                    && layout
                        .detect
                        .as_deref()
                        .is_none_or(|path| event.get(path).is_some())
            })
            .unwrap_or(self.layouts.len().saturating_sub(1))
    }

    pub fn layout_index(&self, name: &str) -> Option<usize> {
        self.layouts.iter().position(|l| l.name == name)
    }

    /// The concrete paths, in order, where a Sigma field is looked for in a layout.
    pub fn field_paths(&self, layout: usize, field: &str) -> Vec<String> {
        let Some(layout) = self.layouts.get(layout) else {
            return vec![field.to_string()];
        };
        let mut paths: Vec<String> = layout.fields.get(field).cloned().unwrap_or_default();
        for template in &layout.lookup {
            let path = template.replace("{field}", field);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }
}

fn describe(entry: &LogsourceMapping) -> String {
    format!(
        "{}/{}/{}",
        entry.product.as_deref().unwrap_or("-"),
        entry.category.as_deref().unwrap_or("-"),
        entry.service.as_deref().unwrap_or("-")
    )
}

pub(crate) fn format_fits(pattern: &str, format: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => format.starts_with(prefix),
        None => pattern == format,
    }
}

/// The value at a path; a `*` segment stands for any one key of an object (first hit wins).
pub(crate) fn resolve_path<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if !path.contains('*') {
        return lookup(fields, path);
    }
    match path.split_once(".*.") {
        None => lookup(fields, path),
        Some((head, rest)) => {
            let Some(Value::Object(parent)) = lookup(fields, head) else {
                return None;
            };
            parent.values().find_map(|child| match child {
                Value::Object(child) => resolve_path(child, rest),
                _ => None,
            })
        }
    }
}

/// evtx_dump writes an element with attributes as `{"#attributes": …, "#text": v}`.
pub(crate) fn unwrap_text(value: &Value) -> &Value {
    match value {
        Value::Object(object) => crate::event::get_key(object, "#text").unwrap_or(value),
        _ => value,
    }
}

/// A scalar as the string Sigma compares against; objects have none.
pub(crate) fn scalar_text(value: &Value) -> Option<Cow<'_, str>> {
    match unwrap_text(value) {
        Value::String(text) => Some(Cow::Borrowed(text.as_str())),
        Value::Number(number) => Some(Cow::Owned(number_text(number))),
        Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
        _ => None,
    }
}

/// A JSON number as a rule spells it: an integral float (`10.0`) reads as the integer, so
/// `Count: 10` matches it as it matches `10` and `"10"`.
fn number_text(number: &serde_json::Number) -> String {
    match number.as_f64() {
        Some(float) if number.is_f64() && float.fract() == 0.0 && float.abs() < 1e15 => {
            format!("{}", float as i64)
        }
        _ => number.to_string(),
    }
}

pub(crate) fn event_id_of(value: &Value) -> Option<u32> {
    match unwrap_text(value) {
        Value::Number(number) => number.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventRef;
    use serde_json::json;

    fn event(format: &str, fields: Value) -> Event {
        Event {
            reference: EventRef::line("t", 1),
            format: format.into(),
            time: None,
            fields: fields.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn builtin_mapping_reads_and_knows_the_main_logsources() {
        let mapping = Mapping::builtin().expect("builtin mapping");
        let process = mapping
            .logsource(Some("windows"), Some("process_creation"), None)
            .expect("process_creation mapped");
        let pairs: Vec<(&str, &[u32])> = process
            .sources
            .iter()
            .map(|s| (s.channels[0].as_str(), s.event_ids.as_slice()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("Microsoft-Windows-Sysmon/Operational", &[1][..]),
                ("Security", &[4688][..])
            ]
        );
        let security = mapping
            .logsource(Some("windows"), None, Some("security"))
            .expect("security");
        assert_eq!(security.sources[0].channels, vec!["Security"]);
        assert!(
            mapping
                .logsource(Some("linux"), None, Some("auditd"))
                .is_some()
        );
        assert!(
            mapping
                .logsource(Some("aws"), None, Some("cloudtrail"))
                .is_some()
        );
        assert!(mapping.logsource(None, Some("webserver"), None).is_some());
        // A category nobody mapped is not swallowed by the product-wide entry.
        assert!(
            mapping
                .logsource(Some("windows"), Some("no_such_category"), None)
                .is_none()
        );
        assert!(
            mapping
                .logsource(Some("azure"), None, Some("auditlogs"))
                .is_none()
        );
    }

    #[test]
    fn layouts_are_recognised_from_format_and_fields() {
        let mapping = Mapping::builtin().expect("builtin mapping");
        let name = |e: &Event| mapping.layouts[mapping.layout_of(e)].name.clone();
        assert_eq!(name(&event("evtx", json!({"Event": {}}))), "evtx");
        assert_eq!(
            name(&event(
                "jsonl",
                json!({"Channel": "Security", "EventID": 4688})
            )),
            "windows-json"
        );
        assert_eq!(
            name(&event("jsonl", json!({"winlog": {"channel": "Security"}}))),
            "winlogbeat"
        );
        assert_eq!(
            name(&event("jsonl", json!({"eventSource": "s3.amazonaws.com"}))),
            "cloudtrail"
        );
        assert_eq!(
            name(&event("zeek.conn", json!({"id.orig_h": "10.0.0.1"}))),
            "zeek"
        );
        assert_eq!(name(&event("jsonl", json!({"message": "x"}))), "generic");
    }

    #[test]
    fn evtx_fields_are_found_in_event_data_then_user_data_then_system() {
        let mapping = Mapping::builtin().expect("builtin mapping");
        let evtx = mapping.layout_index("evtx").expect("evtx layout");
        let paths = mapping.field_paths(evtx, "CommandLine");
        assert_eq!(
            paths,
            vec![
                "Event.EventData.CommandLine",
                "Event.UserData.*.CommandLine",
                "Event.System.CommandLine"
            ]
        );
        let fields = json!({"Event": {
            "System": {"EventID": {"#attributes": {"Qualifiers": 0}, "#text": 4104}, "Channel": "X"},
            "UserData": {"RmSessionEvent": {"RmSessionId": 7}}
        }});
        let fields = fields.as_object().cloned().unwrap_or_default();
        let user = mapping.field_paths(evtx, "RmSessionId");
        let found = user
            .iter()
            .find_map(|p| resolve_path(&fields, p))
            .expect("user data field");
        assert_eq!(scalar_text(found).as_deref(), Some("7"));
        let id = mapping.field_paths(evtx, "EventID");
        let found = id
            .iter()
            .find_map(|p| resolve_path(&fields, p))
            .expect("system field");
        assert_eq!(event_id_of(found), Some(4104));
        assert_eq!(
            mapping.field_paths(evtx, "Provider_Name")[0],
            "Event.System.Provider.#attributes.Name"
        );
    }

    #[test]
    fn a_source_matching_everything_is_refused() {
        let layouts = (
            "l.toml",
            "[[layout]]\nname = \"generic\"\nformats = [\"*\"]\nlookup = [\"{field}\"]\n",
        );
        let bad = (
            "b.toml",
            "[[logsource]]\nproduct = \"x\"\nsources = [{ event_ids = [1] }]\n",
        );
        let error = Mapping::from_toml(layouts, &[bad]).expect_err("refused");
        assert!(error.to_string().contains("b.toml"), "{error}");
        let typo = ("c.toml", "[[logsource]]\nproduct = \"x\"\nsorces = []\n");
        assert!(Mapping::from_toml(layouts, &[typo]).is_err());
    }
}
