//! Rampart's respond stage: playbooks that act on alerts, indicators and phishing reports
//! without anyone clicking, and the block lists they feed.
//!
//! A playbook is a YAML file: a trigger, conditions over the triggering object, and ordered
//! actions (block, notify, case, enrich, approve, retro_hunt, forward). Files are checked when
//! they load: an unknown action or a name that nothing configures is refused with file and
//! line, and the previous version keeps running.
//!
//! ```
//! use rampart_respond::playbook::{Facts, References, parse};
//! let references = References {
//!     lists: ["phishing".to_owned()].into(),
//!     ..References::default()
//! };
//! let text = "name: phishing\ntrigger: {indicator: {kinds: [domain], min_score: 60}}\n\
//!             actions:\n  - block: {list: phishing, expires: 30d}\n";
//! let playbook = parse("phishing.yaml".as_ref(), text, &references).unwrap();
//! let facts = Facts::new(serde_json::json!({"indicator": {"kind": "domain", "score": 72.0}}));
//! assert!(playbook.spec.trigger.fires_on(&facts));
//! ```

pub mod playbook;
