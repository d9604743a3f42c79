//! What the user writes: the `[respond]` section of `rampart.toml`.
//!
//! ```toml
//! [respond]
//! playbooks = "playbooks"           # a directory of playbook YAML files; none: no playbooks
//! dry_run = false                   # every run only records what it would do
//!
//! [respond.guardrails]
//! never_block_networks = ["192.0.2.53/32"]   # resolvers, gateways; assets are added by themselves
//! never_block_domains = ["corp.example"]
//! min_ipv4_prefix = 24
//! max_blocks_per_hour = 1000
//!
//! [[respond.blocklists]]
//! name = "phishing"
//! formats = ["rpz", "postfix-access", "edl-domain", "edl-url"]
//! default_expiry = "30d"            # blocks by playbooks without an expiry of their own
//! min_score = 80                    # also every enforceable indicator scoring 80 or more
//! kinds = ["domain", "url"]         # … of these kinds
//! write_dir = "/var/lib/rampart/lists"   # files written atomically for daemons that reload
//!
//! [respond.publish]
//! allow_networks = ["10.0.0.0/8"]   # fetch block lists without credentials from here
//!
//! [respond.render.rpz]              # per-format options (see `blocklist::RenderOptions`)
//! origin = "rpz.rampart."
//! ```

use std::path::PathBuf;

use ipnet::IpNet;
use rampart_model::IndicatorKind;
use serde::Deserialize;

use crate::blocklist::{Format, RenderOptions, validate_list_name};
use crate::playbook::GuardrailSettings;
use crate::playbook::definition::Span;

/// The `[respond]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondConfig {
    /// A directory of playbook files (`*.yaml`, `*.yml`); relative paths are from the working
    /// directory. None: no playbooks run.
    #[serde(default)]
    pub playbooks: Option<PathBuf>,
    /// Every run is a dry run: it records what each action would do and changes nothing.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub guardrails: GuardrailSettings,
    #[serde(default)]
    pub blocklists: Vec<ListConfig>,
    #[serde(default)]
    pub publish: PublishConfig,
    /// Per-format rendering options (`[respond.render.rpz]`, `[respond.render.suricata]`…).
    #[serde(default)]
    pub render: RenderOptions,
    /// Notification channels (`[[respond.channels]]`), for `notify: {channel: NAME}`.
    #[serde(default)]
    pub channels: Vec<crate::playbook::outbound::ChannelConfig>,
    /// Forwarding destinations (`[[respond.destinations]]`), for `forward: {to: NAME}`.
    #[serde(default)]
    pub destinations: Vec<crate::playbook::outbound::DestinationConfig>,
    /// HTTP lookups (`[[respond.lookups]]`), for `enrich: {lookups: [NAME]}`.
    #[serde(default)]
    pub lookups: Vec<crate::playbook::outbound::LookupConfig>,
}

/// One block list (`[[respond.blocklists]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListConfig {
    /// `[a-z][a-z0-9_-]*`: it names files, nftables sets, RPZ records and URLs.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The formats served at `/blocklists/NAME/FORMAT` and written to `write_dir`.
    pub formats: Vec<Format>,
    /// How long a playbook's block stands when the playbook gives no expiry; none: until
    /// removed.
    #[serde(default)]
    pub default_expiry: Option<Span>,
    /// Also list every enforceable indicator (not suppressed, vouched for by an active source)
    /// whose score is at least this. None: only what playbooks and people put on the list.
    #[serde(default)]
    pub min_score: Option<u8>,
    /// The kinds those indicators may be (default: every kind).
    #[serde(default)]
    pub kinds: Vec<IndicatorKind>,
    /// Where to write each format's file (atomically, by write and rename). None: served over
    /// HTTP only.
    #[serde(default)]
    pub write_dir: Option<PathBuf>,
    /// The first Suricata/Snort SID of this list (default: the renderer's); lists loaded by one
    /// sensor need bases far enough apart.
    #[serde(default)]
    pub sid_base: Option<u32>,
}

impl ListConfig {
    /// Whether the automatic part of this list takes an indicator of `kind` scoring `score`.
    pub fn takes(&self, kind: IndicatorKind, score: u8) -> bool {
        self.min_score.is_some_and(|minimum| score >= minimum)
            && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

/// Who may fetch the rendered lists (`[respond.publish]`), besides API tokens allowed
/// `fetch_blocklists` (by `Authorization: Bearer`, or as the password of HTTP Basic auth,
/// which is what firewalls fetching an external dynamic list send).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// Clients in these networks fetch block lists without credentials.
    #[serde(default)]
    pub allow_networks: Vec<IpNet>,
}

/// A `[respond]` section that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[respond] {0}")]
pub struct RespondConfigError(pub String);

impl RespondConfig {
    /// Reads the section from its TOML table (none: the defaults, no lists, no playbooks).
    pub fn from_table(table: Option<&toml::Table>) -> Result<RespondConfig, RespondConfigError> {
        let config: RespondConfig = match table {
            Some(table) => table
                .clone()
                .try_into()
                .map_err(|err: toml::de::Error| RespondConfigError(err.message().to_owned()))?,
            None => RespondConfig::default(),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), RespondConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for list in &self.blocklists {
            validate_list_name(&list.name).map_err(|err| RespondConfigError(err.to_string()))?;
            if !names.insert(list.name.as_str()) {
                return Err(RespondConfigError(format!(
                    "block list {:?} is defined twice",
                    list.name
                )));
            }
            if list.formats.is_empty() {
                return Err(RespondConfigError(format!(
                    "block list {:?} has no formats",
                    list.name
                )));
            }
            // Options that cannot work for this list (a relative RPZ origin, names that grow
            // too long) are found now rather than at the first rendering.
            let meta =
                crate::blocklist::ListMeta::new(list.name.clone(), 1, jiff::Timestamp::UNIX_EPOCH);
            for format in &list.formats {
                crate::blocklist::renderer(*format, &self.render)
                    .check(&meta)
                    .map_err(|err| {
                        RespondConfigError(format!("block list {:?}: {err}", list.name))
                    })?;
            }
            if list.min_score.is_some_and(|score| score > 100) {
                return Err(RespondConfigError(format!(
                    "block list {:?}: min_score is 0 to 100",
                    list.name
                )));
            }
        }
        Ok(())
    }

    /// The outbound services' part of the section.
    pub fn outbound(&self) -> crate::playbook::outbound::OutboundConfig {
        crate::playbook::outbound::OutboundConfig {
            channels: self.channels.clone(),
            destinations: self.destinations.clone(),
            lookups: self.lookups.clone(),
        }
    }

    /// The names playbooks may refer to: block lists, channels, destinations and lookups from
    /// this section, and the given case templates.
    pub fn references(
        &self,
        case_templates: impl IntoIterator<Item = String>,
    ) -> crate::playbook::References {
        let mut references = self.outbound().references();
        references.lists = self
            .blocklists
            .iter()
            .map(|list| list.name.clone())
            .collect();
        references.case_templates = case_templates.into_iter().collect();
        references
    }

    pub fn list(&self, name: &str) -> Option<&ListConfig> {
        self.blocklists.iter().find(|list| list.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RespondConfig, RespondConfigError> {
        let table: toml::Table = toml::from_str(text).expect("toml");
        RespondConfig::from_table(Some(&table))
    }

    #[test]
    fn the_documented_example_parses() {
        let example = include_str!("config.rs")
            .lines()
            .skip_while(|line| !line.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|line| !line.starts_with("//! ```"))
            .map(|line| line.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        let table: toml::Table = toml::from_str(&example).expect("example is TOML");
        let config = RespondConfig::from_table(table.get("respond").and_then(|v| v.as_table()))
            .expect("example is valid");
        let list = config.list("phishing").expect("list");
        assert_eq!(list.formats.len(), 4);
        assert!(list.takes(IndicatorKind::Url, 80));
        assert!(!list.takes(IndicatorKind::Url, 79));
        assert!(!list.takes(IndicatorKind::Ipv4, 99));
        assert_eq!(config.guardrails.never_block_domains, ["corp.example"]);
    }

    #[test]
    fn bad_sections_are_refused() {
        for (text, reason) in [
            (
                "[[blocklists]]\nname = \"Bad\"\nformats = [\"rpz\"]",
                "list name",
            ),
            ("[[blocklists]]\nname = \"a\"\nformats = []", "no formats"),
            ("[[blocklists]]\nname = \"a\"\nformats = [\"pdf\"]", "pdf"),
            (
                "[[blocklists]]\nname = \"a\"\nformats = [\"rpz\"]\n[[blocklists]]\nname = \"a\"\nformats = [\"rpz\"]",
                "twice",
            ),
            ("unknown = 1", "unknown field"),
            (
                "[[blocklists]]\nname = \"a\"\nformats = [\"rpz\"]\n[render.rpz]\norigin = \"rpz\"",
                "absolute",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.to_string().contains(reason), "{text}: {err}");
        }
    }
}
