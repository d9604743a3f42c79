//! Windows event logs (`.evtx`), decoded with the `evtx` crate into the JSON `evtx_dump`
//! prints: `{"Event": {"#attributes": …, "System": …, "EventData": …}}`. Each record's
//! locator is its `EventRecordID`; its time is `Event.System.TimeCreated.#attributes.SystemTime`.
//!
//! The parser has had infinite-loop bugs on malformed chunks, so it runs on its own thread and
//! the decode gives up with an error when no record has arrived for
//! [`Options::evtx_stall_limit`]; the stuck thread is abandoned (it ends at its next record,
//! when it finds nobody listening). Unreadable chunks and records are counted errors naming
//! the chunk or record, and the rest of the file is still decoded.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use jiff::Timestamp;
use serde_json::Value;

use super::input::read_all;
use super::{DecodeError, Decoder, Head, Input, Sink};
use crate::event::{Event, EventRef, Locator};

pub(crate) struct Evtx;

const MAGIC: &[u8] = b"ElfFile\0";

/// What the parsing thread reports, in file order.
enum Parsed {
    Record {
        id: u64,
        header_time: Option<Timestamp>,
        data: Value,
    },
    RecordError {
        id: u64,
        message: String,
    },
    ChunkError {
        chunk: u64,
        message: String,
    },
    OtherError(String),
    /// The file itself could not be opened as EVTX, or the parser panicked.
    Fatal(String),
}

impl Decoder for Evtx {
    fn name(&self) -> &'static str {
        "evtx"
    }

    fn sniff(&self, head: &Head<'_>) -> u8 {
        if head.bytes.starts_with(MAGIC) { 10 } else { 0 }
    }

    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError> {
        let bytes = read_all(input.reader, input.name)?;
        let limit = input.options.evtx_stall_limit;
        let outcome = watched(
            input.name,
            limit,
            move |sender| parse(bytes, sender),
            |parsed| deliver(parsed, input.name, sink),
        )?;
        match outcome {
            Outcome::Finished => Ok(()),
            Outcome::Stalled => Err(DecodeError::Input {
                input: input.name.to_owned(),
                decoder: "evtx",
                message: format!(
                    "parser made no progress for {} s; gave up on the rest of the file",
                    limit.as_secs_f64()
                ),
            }),
        }
    }
}

/// How a watched producer ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Finished,
    /// Nothing arrived within the limit; the producer thread was left behind.
    Stalled,
}

/// Runs `produce` on its own thread and hands what it sends to `consume`, giving up when
/// nothing arrives for `limit`. The channel is bounded so a fast producer cannot run far
/// ahead of a slow sink.
fn watched<T: Send + 'static>(
    name: &str,
    limit: Duration,
    produce: impl FnOnce(SyncSender<T>) + Send + 'static,
    mut consume: impl FnMut(T) -> Result<(), DecodeError>,
) -> Result<Outcome, DecodeError> {
    let (sender, receiver) = sync_channel(256);
    std::thread::Builder::new()
        .name("evtx-parse".into())
        .spawn(move || produce(sender))
        .map_err(|error| DecodeError::io(name, error))?;
    loop {
        match receiver.recv_timeout(limit) {
            Ok(item) => consume(item)?,
            Err(RecvTimeoutError::Disconnected) => return Ok(Outcome::Finished),
            Err(RecvTimeoutError::Timeout) => return Ok(Outcome::Stalled),
        }
    }
}

/// Turns one parser report into an event or an error for the sink; a fatal report ends the
/// decode.
fn deliver(parsed: Parsed, name: &str, sink: &mut dyn Sink) -> Result<(), DecodeError> {
    match parsed {
        Parsed::Record {
            id,
            header_time,
            data: Value::Object(fields),
        } => {
            let mut event = Event {
                reference: EventRef {
                    source: name.to_owned(),
                    locator: Locator::Record(id),
                },
                format: "evtx".into(),
                time: None,
                fields,
            };
            event.time = event
                .get_str("Event.System.TimeCreated.#attributes.SystemTime")
                .and_then(|text| text.parse::<Timestamp>().ok())
                .or(header_time);
            sink.event(event);
        }
        Parsed::Record { id, .. } => sink.error(DecodeError::record(
            name,
            Locator::Record(id),
            "evtx",
            "record did not render to a JSON object",
        )),
        Parsed::RecordError { id, message } => {
            sink.error(DecodeError::record(
                name,
                Locator::Record(id),
                "evtx",
                message,
            ));
        }
        Parsed::ChunkError { chunk, message } => sink.error(DecodeError::Chunk {
            input: name.to_owned(),
            chunk,
            message,
        }),
        Parsed::OtherError(message) => sink.error(DecodeError::Input {
            input: name.to_owned(),
            decoder: "evtx",
            message,
        }),
        Parsed::Fatal(message) => {
            return Err(DecodeError::Input {
                input: name.to_owned(),
                decoder: "evtx",
                message,
            });
        }
    }
    Ok(())
}

/// Runs on the parsing thread; stops as soon as the receiver is gone.
fn parse(bytes: Vec<u8>, sender: SyncSender<Parsed>) {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let parser = match EvtxParser::from_buffer(bytes) {
            Ok(parser) => parser,
            Err(error) => {
                let _ = sender.send(Parsed::Fatal(format!(
                    "not a readable evtx file: {}",
                    chain(&error)
                )));
                return;
            }
        };
        let mut parser = parser.with_configuration(ParserSettings::new().num_threads(1));
        for record in parser.records_json_value() {
            let parsed = match record {
                Ok(record) => Parsed::Record {
                    id: record.event_record_id,
                    header_time: Timestamp::from_microsecond(record.timestamp.as_microsecond())
                        .ok(),
                    data: record.data,
                },
                Err(error) => classify(&error),
            };
            if sender.send(parsed).is_err() {
                return;
            }
        }
    }));
    if outcome.is_err() {
        let _ = sender.send(Parsed::Fatal(
            "the evtx parser panicked; rest of the file skipped".into(),
        ));
    }
}

fn classify(error: &EvtxError) -> Parsed {
    match error {
        EvtxError::FailedToParseRecord { record_id, .. } => Parsed::RecordError {
            id: *record_id,
            message: chain(error),
        },
        EvtxError::FailedToParseChunk { chunk_id, .. } => Parsed::ChunkError {
            chunk: *chunk_id,
            message: chain(error),
        },
        EvtxError::FailedToReadRecordAt {
            chunk: Some(chunk), ..
        } => Parsed::ChunkError {
            chunk: *chunk,
            message: chain(error),
        },
        other => Parsed::OtherError(chain(other)),
    }
}

/// The error and its causes, lowercased at the start as our messages are.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A producer that really stops making progress (it waits on a channel nobody writes
    /// to): the watcher returns `Stalled` after the limit instead of waiting forever.
    #[test]
    fn a_stalled_producer_is_abandoned_after_the_limit() {
        let (_keep_open, never) = std::sync::mpsc::channel::<()>();
        let mut received = Vec::new();
        let started = std::time::Instant::now();
        let outcome = watched(
            "stuck.evtx",
            Duration::from_millis(100),
            move |sender| {
                let _ = sender.send(1);
                let _ = never.recv();
            },
            |item| {
                received.push(item);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!((outcome, received), (Outcome::Stalled, vec![1]));
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(100) && elapsed < Duration::from_secs(5));
        let finished = watched(
            "done.evtx",
            Duration::from_secs(5),
            |sender| {
                let _ = sender.send(2);
            },
            |_| Ok(()),
        )
        .unwrap();
        assert_eq!(finished, Outcome::Finished);
    }
}
