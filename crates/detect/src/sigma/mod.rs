//! Sigma: rules as SigmaHQ writes them, compiled into a form that is fast to evaluate.
//!
//! [`RuleSet::load_dir`] parses rule files with `rsigma-parser` and compiles every detection
//! rule, or lists it in the returned [`RuleFailure`]s with the reason — nothing is skipped
//! silently. Filters (Sigma filter documents) are folded into the rules they name at compile
//! time. Evaluation routes each event by logsource first (the mapping files under
//! `mappings/sigma/` say which channel, event id or decoder format each logsource covers), then
//! runs one *program* per kind of event: the event's fields are found in one walk, all literals
//! of all rules on a field are found in one pass per anchor kind (hash probe, prefix and suffix
//! tries, one Aho-Corasick scan for substrings), a wildcard regex runs only when its literal
//! gate was seen, and only rules one of whose trigger atoms held have their condition read, so
//! the cost per event follows the event rather than the number of rules. [`CorrelationEngine`] runs correlation rules over
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
mod gate;
mod literals;
pub mod mapping;
mod prefilter;
mod program;
mod resolve;
mod ruleset;
mod values;

pub use correlation::{CorrelationEngine, CorrelationMatch, CorrelationStats, Limits};
pub use mapping::{Layout, LogsourceMapping, Mapping, MappingError, Source};
pub use ruleset::{Config, RuleFailure, RuleInfo, RuleMatch, RuleSet};
