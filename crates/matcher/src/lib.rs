//! The compiled indicator snapshot: an immutable value built from the store's scored
//! indicators, swapped in atomically whenever intel changes, so that every reader (detection,
//! the mail filter, block lists) looks values up without ever taking a lock.
//!
//! A snapshot is a large *base* table plus a small *delta* of recent changes on top of it.
//! Changes become visible as soon as the delta is rebuilt (milliseconds); when the delta grows
//! past a threshold, a background thread folds it into a new base, built from the old base and
//! the delta rather than from the store. The matcher knows indicators only as [`Entry`]s: where
//! they come from is the [`Refresher`]'s business.
//!
//! ```
//! use rampart_matcher::{Consumer, Entry, Matcher, MatcherConfig, ValueHint};
//! use rampart_model::IndicatorKind;
//! let entry = Entry {
//!     id: 1,
//!     kind: IndicatorKind::Domain,
//!     value: "evil.example".into(),
//!     score: 80,
//!     sources: vec!["feed".into()],
//!     expires: None,
//! };
//! let matcher = Matcher::new(&[entry], MatcherConfig::default());
//! let view = matcher.view();
//! let hit = view.lookup(ValueHint::Domain, "WWW.Evil.Example.").unwrap();
//! assert_eq!(hit.value, "evil.example");
//! assert!(hit.passes(Consumer::Blocklist));
//! ```

mod canon;
mod entry;
mod matcher;
mod ranges;
mod refresher;
mod snapshot;
mod sources;
mod table;
pub mod telemetry;
mod thresholds;

#[cfg(test)]
mod tests;

pub use canon::canonical_url;
pub use entry::{Change, Entry};
pub use matcher::{Matcher, MatcherConfig, MatcherStats};
pub use refresher::{RefreshError, Refresher, RefresherConfig};
pub use snapshot::{Hit, ValueHint, View};
pub use sources::Sources;
pub use thresholds::{Consumer, Thresholds};
