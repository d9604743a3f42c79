//! Feed presets: named public feeds, each a base format with its options and the source
//! defaults (reliability, confidence, TLP, labels, whether each pull is the whole list).
//!
//! The table is data (`presets.toml`, compiled in), so adding a feed is one entry there.
//!
//! ```
//! use rampart_intel::formats::{self, CollectSink, Format};
//! let drop = formats::by_name("spamhaus-drop", &Default::default()).unwrap();
//! assert!(drop.full_list());
//! let mut sink = CollectSink::default();
//! drop.parse(&mut "; header\n192.0.2.0/24 ; SBL1\n".as_bytes(), &mut sink).unwrap();
//! assert_eq!(sink.observations[0].indicator.value(), "192.0.2.0/24");
//! assert!(sink.observations[0].labels.contains(&"drop".to_owned()));
//! ```

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::LazyLock;

use rampart_model::{ContextObject, Observation, Reliability, Tlp};
use serde::Deserialize;

use super::{Format, FormatError, FormatOptions, FormatSpecError, Rejection, Sink};

const TABLE: &str = include_str!("presets.toml");

/// One entry of `presets.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Preset {
    name: String,
    title: String,
    format: String,
    full_list: bool,
    #[serde(default)]
    url: Option<String>,
    reliability: Reliability,
    confidence: u8,
    #[serde(default = "clear")]
    tlp: Tlp,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
}

fn clear() -> Tlp {
    Tlp::Clear
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    preset: Vec<Preset>,
}

/// The parsed table; an error only if `presets.toml` itself is broken (a unit test guards it).
static PRESETS: LazyLock<Result<Vec<Preset>, String>> = LazyLock::new(|| {
    let table: Table = toml::from_str(TABLE).map_err(|err| format!("presets.toml: {err}"))?;
    Ok(table.preset)
});

fn presets() -> &'static [Preset] {
    PRESETS.as_deref().unwrap_or(&[])
}

fn find(name: &str) -> Option<&'static Preset> {
    presets().iter().find(|preset| preset.name == name)
}

/// What a preset suggests for a new source (`rampart feeds add --preset NAME`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PresetDefaults {
    pub name: String,
    pub title: String,
    /// The base format (`csv`, `text`, `jsonl`).
    pub format: String,
    pub reliability: Reliability,
    pub confidence: u8,
    pub tlp: Tlp,
    /// Labels added to every observation of the feed.
    pub labels: Vec<String>,
    /// Each pull is the feed's whole current list.
    pub full_list: bool,
    /// The public download address, if the feed has one without an account.
    pub url: Option<String>,
    pub notes: Option<String>,
}

/// The defaults of a preset, or `None` if there is no preset of that name.
pub fn preset_defaults(name: &str) -> Option<PresetDefaults> {
    find(name).map(|preset| PresetDefaults {
        name: preset.name.clone(),
        title: preset.title.clone(),
        format: preset.format.clone(),
        reliability: preset.reliability,
        confidence: preset.confidence,
        tlp: preset.tlp,
        labels: preset.labels.clone(),
        full_list: preset.full_list,
        url: preset.url.clone(),
        notes: preset.notes.clone(),
    })
}

/// Names of all presets, in table order.
pub fn names() -> Vec<&'static str> {
    presets()
        .iter()
        .map(|preset| preset.name.as_str())
        .collect()
}

/// The preset's format, with `options` laid over the preset's own. `None` if no such preset.
pub(crate) fn by_name(
    name: &str,
    options: &FormatOptions,
) -> Option<Result<Box<dyn Format>, FormatSpecError>> {
    if let Err(reason) = PRESETS.as_ref() {
        return Some(Err(FormatSpecError::BadOption {
            format: "preset",
            reason: reason.clone(),
        }));
    }
    let preset = find(name)?;
    if find(&preset.format).is_some() {
        let reason = format!(
            "preset {name} is based on another preset ({})",
            preset.format
        );
        return Some(Err(FormatSpecError::BadOption {
            format: "preset",
            reason,
        }));
    }
    let mut merged = preset.options.clone();
    merged.extend(
        options
            .iter()
            .map(|(key, value)| (key.clone(), value.clone())),
    );
    Some(
        super::by_name(&preset.format, &merged)
            .map(|inner| Box::new(PresetFormat { preset, inner }) as Box<dyn Format>),
    )
}

/// A base format that adds the preset's labels and answers for the preset.
struct PresetFormat {
    preset: &'static Preset,
    inner: Box<dyn Format>,
}

impl Format for PresetFormat {
    fn name(&self) -> &'static str {
        &self.preset.name
    }

    fn full_list(&self) -> bool {
        self.preset.full_list
    }

    fn parse(&self, input: &mut dyn BufRead, sink: &mut dyn Sink) -> Result<(), FormatError> {
        if self.preset.labels.is_empty() {
            return self.inner.parse(input, sink);
        }
        let mut labelled = LabellingSink {
            inner: sink,
            labels: &self.preset.labels,
        };
        self.inner.parse(input, &mut labelled)
    }
}

struct LabellingSink<'a> {
    inner: &'a mut dyn Sink,
    labels: &'a [String],
}

impl Sink for LabellingSink<'_> {
    fn observation(&mut self, mut observation: Observation) {
        for label in self.labels {
            if !observation.labels.contains(label) {
                observation.labels.push(label.clone());
            }
        }
        self.inner.observation(observation);
    }
    fn object(&mut self, object: ContextObject) {
        self.inner.object(object);
    }
    fn reject(&mut self, rejection: Rejection) {
        self.inner.reject(rejection);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::CollectSink;

    #[test]
    fn table_parses_and_every_preset_builds() {
        let all = PRESETS.as_ref().unwrap();
        assert!(all.len() >= 15);
        for preset in all {
            let format = super::super::by_name(&preset.name, &FormatOptions::new())
                .unwrap_or_else(|err| panic!("{}: {err}", preset.name));
            assert_eq!(format.name(), preset.name);
            assert_eq!(format.full_list(), preset.full_list);
            assert!(preset.confidence <= 100, "{}", preset.name);
            assert!(
                preset
                    .url
                    .as_deref()
                    .is_none_or(|url| url.starts_with("https://")),
                "{}",
                preset.name
            );
        }
        let mut unique = names();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "duplicate preset names");
    }

    #[test]
    fn source_options_override_the_preset() {
        let mut options = FormatOptions::new();
        options.insert("kind".into(), "domain".into());
        let format = super::super::by_name("openphish", &options).unwrap();
        let mut sink = CollectSink::default();
        format
            .parse(&mut "evil.example\n".as_bytes(), &mut sink)
            .unwrap();
        assert_eq!(
            sink.observations[0].indicator.kind(),
            rampart_model::IndicatorKind::Domain
        );
        assert_eq!(sink.observations[0].labels, ["phishing"]);
    }

    #[test]
    fn defaults_for_the_cli() {
        let feodo = preset_defaults("feodotracker").unwrap();
        assert!(feodo.full_list);
        assert_eq!(feodo.tlp, Tlp::Clear);
        assert_eq!(feodo.labels, ["c2", "botnet"]);
        assert!(preset_defaults("nonexistent").is_none());
    }
}
