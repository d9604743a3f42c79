//! The intel stage: gather threat intelligence from many sources into one scored set of
//! canonical indicators.
//!
//! Data flows `source → format → import pipeline → store`:
//! - a [`formats::Format`] turns one document (a STIX bundle, a MISP event, a CSV feed…) into
//!   [`rampart_model::Observation`]s and context objects, reporting what it rejects;
//! - [`import::ImportSession`] applies warninglists and the allowlist, batches the
//!   observations and writes them to the store in one transaction;
//! - [`score`] turns an indicator's source statements into a 0–100 score with an explanation.
//!
//! ```
//! use rampart_intel::formats::{self, Format, CollectSink};
//! let format = formats::by_name("text", &Default::default()).unwrap();
//! let mut sink = CollectSink::default();
//! format.parse(&mut "# list\nevil[.]example\n203.0.113.7\n".as_bytes(), &mut sink).unwrap();
//! assert_eq!(sink.observations.len(), 2);
//! ```

pub mod assets;
pub mod config;
pub mod export;
pub mod formats;
pub mod import;
pub mod query;
pub mod scheduler;
pub mod score;
pub mod sources;
pub mod warninglist;
