//! Field mappings kept as data (`crates/detect/mappings/`): where each event layout keeps the
//! values detection looks for. [`fields`] maps observables (IPs, domains, URLs, hashes, email
//! addresses) for indicator matching.

pub mod fields;

pub use fields::{Direction, FieldKind, FieldMap, Observable, ObservableKind};
