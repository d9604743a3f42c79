//! Rampart's domain types, shared by every stage and free of I/O.
//!
//! The central type is [`Indicator`]: a kind plus a *canonical* value, so that the same
//! threat reported by two feeds in two spellings (`hxxp://Evil[.]com:80/#x` and
//! `http://evil.com/`) becomes one indicator.
//!
//! ```
//! use rampart_model::{Indicator, IndicatorKind};
//! let url = Indicator::parse(IndicatorKind::Url, "hxxp://Evil[.]com:80/a%7eb#frag").unwrap();
//! assert_eq!(url.value(), "http://evil.com/a~b");
//! let guessed = Indicator::guess("2001:DB8:0:0::1").unwrap();
//! assert_eq!(guessed.kind(), IndicatorKind::Ipv6);
//! assert_eq!(guessed.value(), "2001:db8::1");
//! ```

mod alert;
mod attack;
mod canon;
mod case;
mod duration;
mod indicator;
mod observation;
mod pap;
mod reliability;
mod tlp;

pub use alert::{Alert, Detection, EventRef, Locator, MatchedField, Severity, UnknownSeverity};
pub use attack::{AttackId, AttackIdError};
pub use canon::refang;
pub use case::{
    Case, CaseAlert, CaseStatus, Observable, StatusChange, StatusChangeError, Task, TaskStatus,
    TimelineEntry, TimelineKind, UnknownCaseStatus, UnknownTaskStatus, UnknownTimelineKind,
};
pub use duration::{DurationError, parse_duration};
pub use indicator::{CanonError, Indicator, IndicatorKind, UnknownKind};
pub use observation::{ContextObject, Direction, Observation, PatternNote, SourceInfo};
pub use pap::{Pap, UnknownPap};
pub use reliability::{Reliability, UnknownReliability};
pub use tlp::{Tlp, UnknownTlp};

/// Points in time, everywhere in Rampart.
pub use jiff::Timestamp;
