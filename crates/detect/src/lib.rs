//! Detection: decode event streams, find what in them is known to be bad — indicators from the
//! intel stage and Sigma rules — and raise alerts.
//!
//! Every decoder ([`decode`]: JSON lines, syslog with sshd/Postfix/RPZ messages, EVTX, Zeek,
//! CEF, Apache, Proxifier, Suricata, plus syslog UDP/TCP listeners) turns its input into one
//! [`Event`] type carrying a stable [`EventRef`] back to the source; field mappings
//! ([`mappings`], data files under `mappings/`) say which fields hold IPs, domains, URLs,
//! hashes and addresses, and where each Sigma logsource's fields live.
//!
//! ```
//! use rampart_detect::{Event, EventRef};
//! let event = Event {
//!     reference: EventRef::line("proxy.jsonl", 1),
//!     format: "jsonl".into(),
//!     time: None,
//!     fields: serde_json::json!({"url": {"domain": "a.evil.example"}})
//!         .as_object()
//!         .cloned()
//!         .unwrap_or_default(),
//! };
//! assert_eq!(event.get_str("url.domain"), Some("a.evil.example"));
//! ```

pub mod alert;
pub mod archive;
pub mod bus;
pub mod config;
pub mod decode;
pub mod detector;
pub mod event;
pub mod follow;
pub mod hunt;
pub mod ingest;
pub mod mappings;
pub mod packs;
pub mod scan;
pub mod sigma;
pub mod stream;
pub mod telemetry;

pub use alert::{AlertBook, AlertWriter, OutputFormat, Recorded};
pub use event::{Event, EventRef, Locator};
pub use rampart_model::{Alert, Detection, MatchedField, Severity};
