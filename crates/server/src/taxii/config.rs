//! What the user writes: the `[taxii]` table of `rampart.toml`, with one
//! `[[taxii.collections]]` entry per collection.
//!
//! ```toml
//! [taxii]
//! title = "Rampart"              # the discovery document's title
//! api_root = "rampart"           # served at /taxii2/rampart/
//! max_page = 1000                # most objects per page (a client's larger `limit` is cut)
//!
//! [[taxii.collections]]
//! id = "1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11"
//! title = "Phishing domains"
//! description = "High-scoring phishing domains, shareable with partners"
//! can_read = true
//! can_write = false
//! sources = ["openphish", "urlhaus"]   # only indicators these sources vouch for (empty: any)
//! kinds = ["domain", "url"]            # only these kinds (empty: any)
//! min_score = 60                       # only indicators scoring at least this now
//! max_tlp = "green"                    # never publish anything marked stricter
//! ```
//!
//! Without a `[[taxii.collections]]` entry there is one read-only collection,
//! `rampart-indicators`, publishing every indicator up to TLP:GREEN.

use rampart_model::{IndicatorKind, Tlp};
use serde::Deserialize;
use uuid::Uuid;

/// The id of the collection served when none is configured (fixed, so that clients keep it).
pub const DEFAULT_COLLECTION_ID: Uuid = Uuid::from_u128(0x6f0f_3a52_9d4e_4c1b_8e7a_2b5c_1d9e_0a41);

/// The TAXII server's settings. Every field has a default, so an absent table is valid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaxiiConfig {
    /// The discovery document's title.
    pub title: String,
    /// The one API root's name: it is served at `/taxii2/<api_root>/`. Letters, digits, `-`
    /// and `_`.
    pub api_root: String,
    /// The most objects one page holds; clients asking for more get this many.
    pub max_page: u32,
    /// The collections. Empty: the default read-only `rampart-indicators` collection.
    pub collections: Vec<CollectionConfig>,
}

impl Default for TaxiiConfig {
    fn default() -> TaxiiConfig {
        TaxiiConfig {
            title: "Rampart".into(),
            api_root: "rampart".into(),
            max_page: 1000,
            collections: Vec::new(),
        }
    }
}

/// One collection: what it publishes and whether it takes objects.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// The collection's id, a UUID (TAXII clients address collections by it).
    pub id: Uuid,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Whether clients may read its objects (role `read_intel` needed as well).
    #[serde(default = "yes")]
    pub can_read: bool,
    /// Whether clients may add objects (role `ingest_intel` needed as well). What they add is
    /// imported as the source `taxii:<id>`.
    #[serde(default)]
    pub can_write: bool,
    /// Only indicators one of these sources has an active statement on. Empty: any source.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Only indicators of these kinds (`ipv4`, `domain`, `url`, `sha256`…). Empty: any kind.
    #[serde(default)]
    pub kinds: Vec<IndicatorKind>,
    /// Only indicators whose score now is at least this (0–100).
    #[serde(default)]
    pub min_score: u8,
    /// The strictest TLP published: an indicator whose strictest source marks it above this
    /// is never published. Default `green`.
    #[serde(default = "green")]
    pub max_tlp: Tlp,
}

fn yes() -> bool {
    true
}

fn green() -> Tlp {
    Tlp::Green
}

impl CollectionConfig {
    /// The collection served when none is configured.
    pub fn default_collection() -> CollectionConfig {
        CollectionConfig {
            id: DEFAULT_COLLECTION_ID,
            title: "rampart-indicators".into(),
            description: Some(
                "Every indicator Rampart holds that is not suppressed, up to TLP:GREEN".into(),
            ),
            can_read: true,
            can_write: false,
            sources: Vec::new(),
            kinds: Vec::new(),
            min_score: 0,
            max_tlp: Tlp::Green,
        }
    }

    /// The Rampart source that objects added to this collection are imported as.
    pub fn source_name(&self) -> String {
        format!("taxii:{}", self.id)
    }
}

/// A `[taxii]` table that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid [taxii] section: {0}")]
pub struct TaxiiConfigError(String);

impl TaxiiConfig {
    /// Reads the `[taxii]` table as the intel configuration keeps it; `None` gives the
    /// defaults. The collection list is never empty afterwards.
    pub fn from_table(table: Option<&toml::Table>) -> Result<TaxiiConfig, TaxiiConfigError> {
        let mut config: TaxiiConfig = match table {
            None => TaxiiConfig::default(),
            Some(table) => toml::Value::Table(table.clone())
                .try_into()
                .map_err(|err: toml::de::Error| TaxiiConfigError(err.to_string()))?,
        };
        config.validate()?;
        if config.collections.is_empty() {
            config
                .collections
                .push(CollectionConfig::default_collection());
        }
        Ok(config)
    }

    /// The defaults with the default collection in place, as [`TaxiiConfig::from_table`]
    /// gives them for an absent table.
    pub fn default_with_collection() -> TaxiiConfig {
        TaxiiConfig {
            collections: vec![CollectionConfig::default_collection()],
            ..TaxiiConfig::default()
        }
    }

    fn validate(&self) -> Result<(), TaxiiConfigError> {
        let root_ok = !self.api_root.is_empty()
            && self.api_root.len() <= 64
            && self
                .api_root
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !root_ok {
            return Err(TaxiiConfigError(format!(
                "api_root {:?}: use 1 to 64 letters, digits, '-' or '_'",
                self.api_root
            )));
        }
        if !(1..=10_000).contains(&self.max_page) {
            return Err(TaxiiConfigError(format!(
                "max_page {} is out of range: 1 to 10000",
                self.max_page
            )));
        }
        let mut ids = std::collections::HashSet::new();
        for collection in &self.collections {
            if !ids.insert(collection.id) {
                return Err(TaxiiConfigError(format!(
                    "collection {} is defined twice",
                    collection.id
                )));
            }
            if collection.min_score > 100 {
                return Err(TaxiiConfigError(format!(
                    "collection {}: min_score {} is above 100",
                    collection.id, collection.min_score
                )));
            }
            if collection.title.trim().is_empty() {
                return Err(TaxiiConfigError(format!(
                    "collection {}: the title is empty",
                    collection.id
                )));
            }
        }
        Ok(())
    }

    /// The collection with this id (as a client wrote it).
    pub fn collection(&self, id: &str) -> Option<&CollectionConfig> {
        let id: Uuid = id.parse().ok()?;
        self.collections.iter().find(|c| c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_table_gives_one_read_only_collection_up_to_green() {
        let config = TaxiiConfig::from_table(None).unwrap();
        assert_eq!(config.api_root, "rampart");
        assert_eq!(config.collections.len(), 1);
        let only = &config.collections[0];
        assert_eq!(only.title, "rampart-indicators");
        assert!(only.can_read && !only.can_write);
        assert_eq!(only.max_tlp, Tlp::Green);
        assert_eq!(
            config
                .collection(&DEFAULT_COLLECTION_ID.to_string())
                .map(|c| c.id),
            Some(DEFAULT_COLLECTION_ID)
        );
        let embedded = rampart_intel::config::Config::embedded();
        assert_eq!(
            TaxiiConfig::from_table(embedded.taxii.as_ref()).unwrap(),
            config
        );
    }

    #[test]
    fn collections_parse_and_bad_ones_say_why() {
        let table: toml::Table = toml::from_str(
            r#"
            api_root = "shared"
            [[collections]]
            id = "1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11"
            title = "Phishing"
            sources = ["openphish"]
            kinds = ["domain", "url"]
            min_score = 60
            max_tlp = "amber"
            [[collections]]
            id = "2b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11"
            title = "Drop box"
            can_read = false
            can_write = true
            "#,
        )
        .unwrap();
        let config = TaxiiConfig::from_table(Some(&table)).unwrap();
        assert_eq!(config.collections.len(), 2);
        let phishing = &config.collections[0];
        assert_eq!(phishing.kinds, [IndicatorKind::Domain, IndicatorKind::Url]);
        assert_eq!((phishing.min_score, phishing.max_tlp), (60, Tlp::Amber));
        assert!(phishing.can_read && !phishing.can_write);
        let drop_box = &config.collections[1];
        assert!(!drop_box.can_read && drop_box.can_write);
        assert_eq!(
            drop_box.source_name(),
            "taxii:2b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11"
        );

        for (text, expected) in [
            ("api_root = \"a/b\"", "api_root"),
            ("max_page = 0", "max_page"),
            ("port = 1", "unknown field"),
            (
                "[[collections]]\nid = \"not-a-uuid\"\ntitle = \"x\"",
                "UUID",
            ),
            (
                "[[collections]]\nid = \"1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11\"\ntitle = \"x\"\nmax_tlp = \"purple\"",
                "TLP",
            ),
            (
                "[[collections]]\nid = \"1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11\"\ntitle = \"x\"\nmin_score = 101",
                "above 100",
            ),
            (
                "[[collections]]\nid = \"1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11\"\ntitle = \"x\"\nfilter = 1",
                "unknown field",
            ),
            (
                "[[collections]]\nid = \"1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11\"\ntitle = \"x\"\n[[collections]]\nid = \"1b8b7e8e-4c5d-4f0e-9a57-8f0c5d2e3a11\"\ntitle = \"y\"",
                "twice",
            ),
        ] {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = TaxiiConfig::from_table(Some(&table))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
