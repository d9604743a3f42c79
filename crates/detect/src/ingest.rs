//! Events pushed to a running [`Stream`](crate::stream::Stream) by a caller rather than read
//! from an input: the HTTP API's `POST /api/v1/events`.
//!
//! An [`Ingest`] decodes one body with a named decoder and publishes its events to the
//! pipeline, *waiting* for room when the queue is full (the caller bounds the wait, e.g. with a
//! request timeout), so that a pushing client is slowed down rather than losing events. Bad
//! records do not fail the body: they are counted and the first few are reported by line.
//!
//! ```no_run
//! # async fn demo(stream: &rampart_detect::stream::Stream) {
//! let ingest = stream.ingest();
//! let report = ingest
//!     .ingest("jsonl", b"{\"source\":{\"ip\":\"203.0.113.66\"}}\n".to_vec())
//!     .await
//!     .expect("jsonl is a decoder");
//! assert_eq!(report.accepted, 1);
//! # }
//! ```

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::bus::{InProcessPublisher, Publisher};
use crate::decode::{self, DecodeError, Options, Sink};
use crate::event::{Event, Locator};
use crate::stream::StreamCounters;

/// How many bad records a report names; the rest are only counted.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Bodies at least this large are decoded on a blocking thread, so that one large push does
/// not hold up the other requests served by the same runtime thread.
const BLOCKING_DECODE_BYTES: usize = 64 * 1024;

/// The pipeline's event queue as callers can push to it. Cheap to clone; once the stream
/// shuts down, pushes are refused with [`IngestError::Stopped`].
#[derive(Clone)]
pub struct Ingest {
    /// Emptied by `Stream::shutdown`, so that a handle kept elsewhere (the HTTP server's
    /// state) does not keep the workers waiting for more events.
    pub(crate) publisher: Arc<Mutex<Option<InProcessPublisher<Event>>>>,
    pub(crate) counters: Arc<StreamCounters>,
    /// What events' references name as their source (`http`).
    pub(crate) input_name: Arc<str>,
}

/// What one push did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct IngestReport {
    /// Events decoded and queued for detection.
    pub accepted: u64,
    /// Records that could not be decoded.
    pub rejected: u64,
    /// The first [`MAX_REPORTED_ERRORS`] rejected records.
    pub errors: Vec<RecordError>,
}

/// A record that could not be decoded.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordError {
    /// 1-based line of the body (0 when the decoder has no lines).
    pub line: u64,
    pub message: String,
}

/// Why a push failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The decoder asked for does not exist (the message lists the known ones).
    #[error("{0}")]
    UnknownDecoder(String),
    /// The body could not be read as that format at all.
    #[error("{0}")]
    Unreadable(String),
    /// Detection has stopped: nothing more is accepted.
    #[error("detection is stopping; no events are accepted")]
    Stopped,
}

/// Keeps decoded events and the first errors.
struct Gather {
    events: Vec<Event>,
    rejected: u64,
    errors: Vec<RecordError>,
}

impl Sink for Gather {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    fn error(&mut self, error: DecodeError) {
        self.rejected += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            let line = match error.reference().map(|reference| &reference.locator) {
                Some(Locator::Line(line) | Locator::Record(line) | Locator::Message(line)) => *line,
                None => 0,
            };
            let message = match error {
                DecodeError::Record { message, .. } => message,
                other => other.to_string(),
            };
            self.errors.push(RecordError { line, message });
        }
    }
}

/// The names of the decoders a push may ask for.
pub fn decoder_names() -> impl Iterator<Item = &'static str> {
    decode::DECODERS.iter().map(|decoder| decoder.name())
}

impl Ingest {
    /// Decodes `body` with the decoder named `decoder` and queues its events, waiting for
    /// room in the queue.
    pub async fn ingest<B>(&self, decoder: &str, body: B) -> Result<IngestReport, IngestError>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        let chosen = decode::by_name(decoder).ok_or_else(|| {
            IngestError::UnknownDecoder(format!(
                "no decoder named {decoder:?} (known: {})",
                decoder_names().collect::<Vec<_>>().join(", ")
            ))
        })?;
        let publisher = self
            .publisher
            .lock()
            .ok()
            .and_then(|slot| slot.clone())
            .ok_or(IngestError::Stopped)?;
        let name = self.input_name.clone();
        let large = body.as_ref().len() >= BLOCKING_DECODE_BYTES;
        let decode_body = move || {
            let bytes = body.as_ref();
            let mut gather = Gather {
                // A rough guess (one event per 200 bytes) saves most regrowth.
                events: Vec::with_capacity((bytes.len() / 200).clamp(1, 10_000)),
                rejected: 0,
                errors: Vec::new(),
            };
            let mut reader = bytes;
            let options = Options::default();
            decode::decode_reader(chosen.name(), &name, &mut reader, &options, &mut gather)
                .map(|_| gather)
        };
        let gathered = if large {
            tokio::task::spawn_blocking(decode_body)
                .await
                .map_err(|error| IngestError::Unreadable(format!("decoding failed: {error}")))?
        } else {
            decode_body()
        };
        let gathered = gathered.map_err(|error| IngestError::Unreadable(error.to_string()))?;
        let counters = &self.counters;
        counters
            .decode_errors
            .fetch_add(gathered.rejected, Ordering::Relaxed);
        let mut accepted = 0;
        for event in gathered.events {
            if publisher.publish(event).await.is_err() {
                return Err(IngestError::Stopped);
            }
            counters.received.fetch_add(1, Ordering::Relaxed);
            accepted += 1;
        }
        Ok(IngestReport {
            accepted,
            rejected: gathered.rejected,
            errors: gathered.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::DetectConfig;
    use crate::detector::Detector;
    use crate::packs::RuleState;
    use crate::stream::{AlertSink, Stream, StreamSetup};

    struct Discard;

    impl AlertSink for Discard {
        fn alert(&mut self, _alert: &rampart_model::Alert, _new: bool) {}
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_makes_pushes_wait_not_drop_and_a_stopped_stream_refuses() {
        let stream = Stream::start(StreamSetup {
            config: DetectConfig {
                queue: 1,
                ..DetectConfig::default()
            },
            detectors: vec![Detector::new(
                None,
                Arc::new(RuleState::default()),
                None,
                Default::default(),
            )],
            retro_feed: None,
            sink: Box::new(Discard),
            options: Options::default(),
        })
        .await
        .unwrap();
        let ingest = stream.ingest();
        let body: String = (0..2000)
            .map(|n| format!("{{\"n\": {n}}}\n"))
            .chain(["{broken\n".to_owned()])
            .collect();
        let report = ingest.ingest("jsonl", body.into_bytes()).await.unwrap();
        assert_eq!(report.accepted, 2000);
        assert_eq!(report.rejected, 1);
        assert_eq!(report.errors[0].line, 2001);
        assert!(
            report.errors[0].message.contains("invalid JSON"),
            "{report:?}"
        );
        let unknown = ingest.ingest("nope", b"{}".to_vec()).await.unwrap_err();
        assert!(unknown.to_string().contains("jsonl"), "{unknown}");

        let status = stream.shutdown().await;
        assert_eq!(status.dropped, 0, "{status:?}");
        assert_eq!(status.received, 2000, "{status:?}");
        assert_eq!(status.processed, 2000, "{status:?}");
        assert!(matches!(
            ingest.ingest("jsonl", b"{}".to_vec()).await,
            Err(IngestError::Stopped)
        ));
    }
}
