//! Rampart's incident response: cases opened from templates with SLA due dates, alerts grouped
//! into campaign cases automatically, exports for people (Markdown) and tools (JSON), and
//! alerts imported from tools that speak TheHive's API.
//!
//! The store keeps cases ([`rampart_store::CaseStore`]); this crate holds the logic, with no
//! SQL, and [`CaseService`] is what the server and playbooks call.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rampart_cases::{CaseService, CaseSettings, TemplateContext};
//! let store = rampart_store::open("sqlite::memory:").await?;
//! let settings = CaseSettings::default();
//! let service = CaseService::new(&*store, &settings);
//! let context = TemplateContext::new()
//!     .with("subject", "Invoice 2291")
//!     .with("sender", "billing@evil.example");
//! let case = service
//!     .open_from_template("phishing", &context, "user:alice", None)
//!     .await?;
//! assert_eq!(case.title, "Phishing: Invoice 2291 from billing@evil.example");
//! assert_eq!(store.tasks(case.id).await?.len(), 5);
//! assert!(case.due.is_some()); // medium: 72 hours
//! # Ok(()) }
//! ```

mod duration;
mod error;
pub mod export;
pub mod grouping;
mod service;
pub mod sla;
pub mod templates;
pub mod thehive;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use duration::{Span, SpanError};
pub use error::CaseError;
pub use export::{CaseBundle, CaseDocument, CaseRenderer, ExportFormat};
pub use grouping::{GroupReason, GroupingConfig, Placement};
pub use service::{CaseService, Placed, PlacedBy, TheHiveImport};
pub use sla::{SlaPolicy, SlaState, SlaTarget, breached, sla_state, time_to_due};
pub use templates::{CaseTemplate, TemplateContext, TemplateError, TemplateSet};
pub use thehive::{ImportedAlert, TheHiveError};

/// The `[cases]` section of `rampart.toml`:
///
/// ```toml
/// [cases]
/// templates_dir = "/etc/rampart/case-templates"   # optional: .toml/.yaml templates
///
/// [cases.sla]
/// critical = "4h"
///
/// [cases.grouping]
/// window = "24h"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CasesConfig {
    /// Due dates by severity.
    pub sla: SlaPolicy,
    /// How alerts are grouped into cases.
    pub grouping: GroupingConfig,
    /// A directory of case templates added to (or replacing) the shipped ones.
    pub templates_dir: Option<PathBuf>,
}

/// What [`CaseService`] works with, built once from [`CasesConfig`].
#[derive(Debug, Clone)]
pub struct CaseSettings {
    pub sla: SlaPolicy,
    pub grouping: GroupingConfig,
    pub templates: TemplateSet,
}

impl Default for CaseSettings {
    /// The default SLA and grouping, and the shipped templates.
    fn default() -> CaseSettings {
        CaseSettings {
            sla: SlaPolicy::default(),
            grouping: GroupingConfig::default(),
            templates: TemplateSet::builtin(),
        }
    }
}

impl CaseSettings {
    /// Loads the templates the configuration names (failing on any bad template file).
    pub fn from_config(config: &CasesConfig) -> Result<CaseSettings, TemplateError> {
        let templates = match &config.templates_dir {
            Some(dir) => TemplateSet::with_dir(dir)?,
            None => TemplateSet::builtin(),
        };
        Ok(CaseSettings {
            sla: config.sla.clone(),
            grouping: config.grouping.clone(),
            templates,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_section_reads_with_defaults() {
        let config: CasesConfig =
            toml::from_str("[sla]\nhigh = \"8h\"\n[grouping]\nwindow = \"12h\"\n").unwrap();
        assert_eq!(config.sla.high, SlaTarget::Within(Span::hours(8)));
        assert_eq!(config.sla.critical, SlaPolicy::default().critical);
        assert_eq!(config.grouping.window, Span::hours(12));
        let settings = CaseSettings::from_config(&config).unwrap();
        assert!(settings.templates.get("c2").is_some());
        let missing = CaseSettings::from_config(&CasesConfig {
            templates_dir: Some("/nonexistent/rampart-templates".into()),
            ..CasesConfig::default()
        });
        assert!(missing.is_err());
        assert!(toml::from_str::<CasesConfig>("slas = 1\n").is_err());
    }
}
