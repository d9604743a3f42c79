//! Observable field mappings: for each event layout, which fields hold IPs, domains, URLs,
//! hashes and email addresses, and in which direction. The mappings are data —
//! `mappings/fields/*.toml`, embedded in the binary — so adding a layout touches no code.
//!
//! A mapping file names the event formats it covers (globs such as `zeek.*`), optional path
//! `prefixes` tried in turn (`Event.EventData.` then the top level, for EVTX and flat Windows
//! exports), a list of `[[field]]`s and a list of `[[url]]`s built from a host and a path
//! field. Field kinds are `ip`, `domain`, `url`, `hash`, `email`, and `host` (an IP or a
//! domain, decided per value). `split = "sysmon-hashes"` splits Sysmon's
//! `SHA1=…,MD5=…,SHA256=…` into one hash per algorithm (import hashes are left out).
//!
//! ```
//! use rampart_detect::{Event, EventRef};
//! use rampart_detect::mappings::{FieldMap, ObservableKind};
//! let event = Event {
//!     reference: EventRef::line("dns.log", 9),
//!     format: "zeek.dns".into(),
//!     time: None,
//!     fields: serde_json::json!({"id.orig_h": "192.0.2.5", "query": "evil.example"})
//!         .as_object().cloned().unwrap_or_default(),
//! };
//! let map = FieldMap::for_format(&event.format).expect("zeek has a mapping");
//! let found: Vec<_> = map.observables(&event).map(|o| (o.kind, o.value.into_owned())).collect();
//! assert_eq!(found, [(ObservableKind::Ip, "192.0.2.5".to_owned()), (ObservableKind::Domain, "evil.example".to_owned())]);
//! ```

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use crate::event::Event;

/// The mapping files shipped with Rampart, most specific first (ECS, the JSON default, last).
const BUILTIN: [(&str, &str); 9] = [
    (
        "windows",
        include_str!("../../mappings/fields/windows.toml"),
    ),
    ("zeek", include_str!("../../mappings/fields/zeek.toml")),
    (
        "suricata",
        include_str!("../../mappings/fields/suricata.toml"),
    ),
    ("sshd", include_str!("../../mappings/fields/sshd.toml")),
    (
        "postfix",
        include_str!("../../mappings/fields/postfix.toml"),
    ),
    ("rpz", include_str!("../../mappings/fields/rpz.toml")),
    ("cef", include_str!("../../mappings/fields/cef.toml")),
    ("web", include_str!("../../mappings/fields/web.toml")),
    ("ecs", include_str!("../../mappings/fields/ecs.toml")),
];

static MAPS: LazyLock<Vec<FieldMap>> = LazyLock::new(|| {
    BUILTIN
        .iter()
        .map(|(name, text)| {
            FieldMap::parse(text)
                // Embedded files, checked by `every_builtin_mapping_parses`.
                .unwrap_or_else(|error| panic!("built-in mapping {name}.toml: {error}"))
        })
        .collect()
});

/// What an observable value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObservableKind {
    Ip,
    Domain,
    Url,
    Hash,
    Email,
}

/// Which side of a connection or message a value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Source,
    Destination,
}

/// One value worth looking up, as the event wrote it (the matcher canonicalises).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observable<'a> {
    /// The mapping's name for the field (`Hashes`, `id.orig_h`, or `host+uri` for URLs).
    pub field: &'a str,
    pub kind: ObservableKind,
    pub value: Cow<'a, str>,
    pub direction: Option<Direction>,
}

/// The kind a mapping file gives a field: an observable kind, or `host` (IP or domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Ip,
    Domain,
    Url,
    Hash,
    Email,
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Split {
    /// `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`
    #[serde(rename = "sysmon-hashes")]
    SysmonHashes,
}

/// One `[[field]]` of a mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Dotted path (see [`Event::get`]), relative to each of the mapping's prefixes.
    pub path: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub direction: Option<Direction>,
    #[serde(default)]
    pub split: Option<Split>,
}

/// One `[[url]]`: a URL built from a host field and a path field (`http://` unless `scheme`
/// names a field holding it). A path that is already absolute is taken as is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrlSpec {
    pub host: String,
    pub path: String,
    #[serde(default)]
    pub scheme: Option<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
    /// `host+path`, set after parsing, for [`Observable::field`].
    #[serde(skip)]
    label: String,
}

/// A parsed mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMap {
    pub name: String,
    /// Event formats this mapping covers; `*` matches any run of characters.
    pub formats: Vec<String>,
    #[serde(default = "top_level")]
    pub prefixes: Vec<String>,
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldSpec>,
    #[serde(default, rename = "url")]
    pub urls: Vec<UrlSpec>,
}

fn top_level() -> Vec<String> {
    vec![String::new()]
}

/// A mapping file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("field mapping: {0}")]
pub struct MappingError(#[from] toml::de::Error);

impl FieldMap {
    /// Parses a mapping file (the same format as the built-in ones).
    pub fn parse(text: &str) -> Result<FieldMap, MappingError> {
        let mut map: FieldMap = toml::from_str(text)?;
        for url in &mut map.urls {
            url.label = format!("{}+{}", url.host, url.path);
        }
        Ok(map)
    }

    /// The built-in mappings.
    pub fn builtin() -> &'static [FieldMap] {
        &MAPS
    }

    /// The built-in mapping for events of `format`, if one covers it.
    pub fn for_format(format: &str) -> Option<&'static FieldMap> {
        MAPS.iter().find(|map| map.covers(format))
    }

    /// Whether one of this mapping's format globs matches `format`.
    pub fn covers(&self, format: &str) -> bool {
        self.formats.iter().any(|glob| glob_match(glob, format))
    }

    /// The observables in `event`, in mapping order; array fields give one per element.
    pub fn observables<'a>(&'a self, event: &'a Event) -> impl Iterator<Item = Observable<'a>> {
        let mut found = Vec::new();
        for spec in &self.fields {
            let Some(value) = self.find(event, &spec.path) else {
                continue;
            };
            for text in strings(value) {
                push_field(spec, text, &mut found);
            }
        }
        for url in &self.urls {
            if let Some(built) = self.build_url(event, url) {
                found.push(Observable {
                    field: &url.label,
                    kind: ObservableKind::Url,
                    value: Cow::Owned(built),
                    direction: url.direction,
                });
            }
        }
        found.into_iter()
    }

    /// The value at `path` under the first prefix that has it.
    pub fn find<'e>(&self, event: &'e Event, path: &str) -> Option<&'e Value> {
        self.prefixes.iter().find_map(|prefix| {
            if prefix.is_empty() {
                event.get(path)
            } else {
                event.get(&format!("{prefix}{path}"))
            }
        })
    }

    fn build_url(&self, event: &Event, url: &UrlSpec) -> Option<String> {
        let path = self.find(event, &url.path)?.as_str()?;
        if path.contains("://") {
            return Some(path.to_owned());
        }
        let host = self.find(event, &url.host)?.as_str()?;
        if host.is_empty() {
            return None;
        }
        let scheme = url
            .scheme
            .as_deref()
            .and_then(|field| self.find(event, field))
            .and_then(Value::as_str)
            .unwrap_or("http");
        let slash = if path.starts_with('/') { "" } else { "/" };
        Some(format!("{scheme}://{host}{slash}{path}"))
    }
}

fn push_field<'a>(spec: &'a FieldSpec, text: &'a str, found: &mut Vec<Observable<'a>>) {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return;
    }
    let observable = |kind, value: &'a str| Observable {
        field: &spec.path,
        kind,
        value: Cow::Borrowed(value),
        direction: spec.direction,
    };
    match (spec.kind, spec.split) {
        (_, Some(Split::SysmonHashes)) => {
            for part in text.split(',') {
                if let Some((algorithm, hash)) = part.split_once('=')
                    && !algorithm.trim().eq_ignore_ascii_case("IMPHASH")
                    && !hash.trim().is_empty()
                {
                    found.push(observable(ObservableKind::Hash, hash.trim()));
                }
            }
        }
        (FieldKind::Host, None) => {
            let kind = if text.parse::<IpAddr>().is_ok() {
                ObservableKind::Ip
            } else {
                ObservableKind::Domain
            };
            found.push(observable(kind, text));
        }
        (FieldKind::Email, None) if !text.contains('@') => {}
        (kind, None) => {
            let kind = match kind {
                FieldKind::Ip => ObservableKind::Ip,
                FieldKind::Domain => ObservableKind::Domain,
                FieldKind::Url => ObservableKind::Url,
                FieldKind::Hash => ObservableKind::Hash,
                FieldKind::Email => ObservableKind::Email,
                FieldKind::Host => ObservableKind::Domain,
            };
            found.push(observable(kind, text));
        }
    }
}

/// The string values of a field: itself, or the strings of an array.
fn strings(value: &Value) -> Box<dyn Iterator<Item = &str> + '_> {
    match value {
        Value::String(text) => Box::new(std::iter::once(text.as_str())),
        Value::Array(items) => Box::new(items.iter().filter_map(Value::as_str)),
        _ => Box::new(std::iter::empty()),
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob_match(glob: &str, text: &str) -> bool {
    match glob.split_once('*') {
        None => glob == text,
        Some((head, rest)) => {
            let Some(remaining) = text.strip_prefix(head) else {
                return false;
            };
            if rest.is_empty() {
                return true;
            }
            (0..=remaining.len())
                .filter(|at| remaining.is_char_boundary(*at))
                .any(|at| glob_match(rest, &remaining[at..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_mapping_parses_and_covers_its_formats() {
        assert_eq!(FieldMap::builtin().len(), BUILTIN.len());
        for (name, _) in BUILTIN {
            assert!(
                FieldMap::builtin().iter().any(|map| map.name == name),
                "{name}"
            );
        }
        assert_eq!(
            FieldMap::for_format("zeek.conn").map(|map| map.name.as_str()),
            Some("zeek")
        );
        assert_eq!(
            FieldMap::for_format("evtx").map(|map| map.name.as_str()),
            Some("windows")
        );
        assert_eq!(
            FieldMap::for_format("jsonl.windows").map(|map| map.name.as_str()),
            Some("windows")
        );
        assert_eq!(
            FieldMap::for_format("jsonl").map(|map| map.name.as_str()),
            Some("ecs")
        );
        assert_eq!(
            FieldMap::for_format("rpz.unbound").map(|map| map.name.as_str()),
            Some("rpz")
        );
        assert!(FieldMap::for_format("syslog").is_none());
    }

    #[test]
    fn unknown_keys_and_kinds_are_errors() {
        assert!(
            FieldMap::parse("name='x'\nformats=['a']\n[[field]]\npath='p'\nkind='ipv9'").is_err()
        );
        assert!(FieldMap::parse("name='x'\nformats=['a']\nextra=1").is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("zeek.*", "zeek.dns"));
        assert!(!glob_match("zeek.*", "zeekdns"));
        assert!(glob_match("a*c*e", "abcde"));
        assert!(!glob_match("jsonl", "jsonl.windows"));
    }
}
