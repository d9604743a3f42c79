//! Rampart's respond stage: what happens once an alert, an indicator or a phishing report is
//! judged worth acting on — without anyone clicking.
//!
//! [`playbook`] runs playbooks: YAML files with a trigger, conditions over the triggering
//! object, and ordered actions (block, notify, case, enrich, approve, retro_hunt, forward).
//! Files are checked when they load: an unknown action or a name nothing configures is
//! refused with file and line, and the previous version keeps running. Runs are persisted,
//! retried with back-off, paused at approvals and resumed after a restart.
//!
//! [`blocklist`] turns a named block list (values with a reason, kept by the store) into the
//! files enforcement points read — a DNS RPZ zone for the resolver, an nftables script or an
//! ipset restore file for the firewall, Postfix access and regexp tables for the mail server,
//! Suricata and Snort rules for the IDS, a Zeek intel file, plain lists for firewalls that fetch
//! external dynamic lists, and a hosts file — then writes each file atomically so a reader
//! never sees half a list.
//!
//! Block-list values are threat intelligence, so attacker-controlled text: every renderer
//! refuses a value it cannot write safely (and says why in [`blocklist::Rendered::rejected`])
//! and neutralises comments, so nothing in a list can add a line, a rule or a record.
//!
//! ```
//! use rampart_model::{Indicator, IndicatorKind, Timestamp};
//! use rampart_respond::blocklist::{self, Format, ListItem, ListMeta, RenderOptions};
//! use rampart_respond::playbook::{Facts, References, parse};
//!
//! let references = References {
//!     lists: ["phishing".to_owned()].into(),
//!     ..References::default()
//! };
//! let text = "name: phishing\ntrigger: {indicator: {kinds: [domain], min_score: 60}}\n\
//!             actions:\n  - block: {list: phishing, expires: 30d}\n";
//! let playbook = parse("phishing.yaml".as_ref(), text, &references).unwrap();
//! let facts = Facts::new(serde_json::json!({"indicator": {"kind": "domain", "score": 72.0}}));
//! assert!(playbook.spec.trigger.fires_on(&facts));
//!
//! let meta = ListMeta::new("phishing", 7, Timestamp::UNIX_EPOCH);
//! let items = [ListItem {
//!     key: 1,
//!     indicator: Indicator::parse(IndicatorKind::Domain, "evil.example").unwrap(),
//!     comment: "credential phishing".into(),
//! }];
//! let rendered = blocklist::render(Format::Hosts, &meta, &RenderOptions::default(), &items).unwrap();
//! assert!(rendered.body.contains("\n0.0.0.0 evil.example # credential phishing\n"));
//! assert_eq!(rendered.written, 1);
//! ```

pub mod blocklist;
pub mod config;
pub mod feedback;
pub mod playbook;
pub mod runtime;
pub mod telemetry;
