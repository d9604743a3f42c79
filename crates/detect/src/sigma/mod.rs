//! Sigma: rules as SigmaHQ writes them, compiled into a form that is fast to evaluate.
//!
//! [`RuleSet::load_dir`] parses rule files with `rsigma-parser` and compiles every detection
//! rule, or lists it in the returned [`RuleFailure`]s with the reason — nothing is skipped
//! silently. Filters (Sigma filter documents) are folded into the rules they name at compile
//! time. Evaluation routes each event by logsource first (the mapping files under
//! `mappings/sigma/` say which channel, event id or decoder format each logsource covers), then
//! runs one *program* per kind of event: each field is resolved once, all literals of all rules
//! on that field are found in one Aho-Corasick pass, regexes in one regex-set pass, and each
//! rule's condition is read off those marks. [`CorrelationEngine`] runs correlation rules over
//! the matches, in bounded state.
//!
//! ```
//! use rampart_detect::sigma::{Config, RuleSet};
//! use rampart_detect::{Event, EventRef};
//!
//! let rule = r#"
//! title: Whoami
//! id: 3a1c5a2e-0000-4000-8000-000000000001
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection: {CommandLine|contains: whoami}
//!     condition: selection
//! level: medium
//! tags: [attack.discovery, attack.t1033]
//! "#;
//! let (rules, failures) = RuleSet::from_yaml("whoami.yml", rule, &Config::default());
//! assert!(failures.is_empty());
//! let event = Event {
//!     reference: EventRef::line("sec.jsonl", 1),
//!     format: "jsonl".into(),
//!     time: None,
//!     fields: serde_json::json!({"Channel": "Security", "EventID": 4688,
//!                                "CommandLine": "cmd /c WHOAMI /all"})
//!         .as_object().cloned().unwrap_or_default(),
//! };
//! let matches = rules.matches(&event);
//! assert_eq!(matches.len(), 1);
//! assert_eq!(matches[0].techniques, vec!["T1033"]);
//! ```

mod compile;
mod correlation;
pub mod mapping;
mod program;
mod ruleset;
mod values;

pub use correlation::{CorrelationEngine, CorrelationMatch, CorrelationStats, Limits};
pub use mapping::{Layout, LogsourceMapping, Mapping, MappingError, Source};
pub use ruleset::{Config, RuleFailure, RuleInfo, RuleMatch, RuleSet};
