//! Event decoders: every input format Rampart reads turns into the one [`Event`] type here.
//!
//! Each format is one file implementing [`Decoder`], listed once in [`DECODERS`]. Callers pick a
//! decoder by name ([`by_name`]) or let [`for_path`] / [`decode_path`] sniff the content (gzip
//! is unwrapped first), and stream the results into a [`Sink`] instead of collecting them. Bad
//! records are values: the sink receives a [`DecodeError`] carrying the record's [`EventRef`]
//! and the input keeps going; only an unreadable input (I/O, unknown format, an EVTX parse that
//! stalls) ends a decode early.
//!
//! ```
//! use rampart_detect::decode::{self, Collect, Options};
//! let lines = "{\"source\":{\"ip\":\"192.0.2.9\"}}\nnot json\n";
//! let mut sink = Collect::default();
//! let summary = decode::decode_reader("jsonl", "inline", &mut lines.as_bytes(), &Options::default(), &mut sink)
//!     .expect("jsonl is a known decoder");
//! assert_eq!((summary.events, summary.errors), (1, 1));
//! assert_eq!(sink.events[0].get_str("source.ip"), Some("192.0.2.9"));
//! ```

mod apache;
mod cef;
mod evtx;
mod input;
mod jsonl;
mod lines;
mod listen;
mod postfix;
mod proxifier;
mod rpz;
mod sshd;
mod suricata;
mod syslog;
mod zeek;

use std::io::{self, BufRead};
use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::event::{Event, EventRef, Locator};

pub use input::{decode_path, for_path};
pub use listen::{
    DEFAULT_SYSLOG_ADDR, Listener, ListenerCounters, StreamSink, listen_tcp, listen_udp,
};
pub use syslog::parse_syslog;

/// What a decoder needs besides its input.
#[derive(Debug, Clone)]
pub struct Options {
    /// Year-less timestamps (RFC 3164 syslog, Proxifier) take the year that puts them closest
    /// before this instant (at most a month after it, to allow for clock skew).
    pub reference_time: Timestamp,
    /// The zone of timestamps written without an offset (RFC 3164, Apache without `%z`).
    pub local_zone: TimeZone,
    /// An EVTX parse that produces no record for this long is abandoned with an error: the
    /// parser has had infinite-loop bugs on malformed chunks.
    pub evtx_stall_limit: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reference_time: Timestamp::now(),
            local_zone: TimeZone::UTC,
            evtx_stall_limit: Duration::from_secs(20),
        }
    }
}

/// One input being decoded: where it comes from (for references), its bytes, and the options.
pub struct Input<'a> {
    /// The file path, `-` for standard input, or a listener address.
    pub name: &'a str,
    pub reader: &'a mut dyn BufRead,
    pub options: &'a Options,
    /// The file name without `.gz`, when the input is a file (Zeek JSON logs are named by it).
    pub file_name: Option<&'a str>,
}

/// A log format: recognises its inputs and turns them into events.
pub trait Decoder: Send + Sync {
    /// The name callers select it by, e.g. `syslog` (also the start of its events' `format`).
    fn name(&self) -> &'static str;

    /// How sure this decoder is that an input whose first bytes are `head` is its format: 0 for
    /// not at all; the highest score among decoders wins.
    fn sniff(&self, head: &Head<'_>) -> u8;

    /// Decodes the whole input into `sink`. Bad records go to the sink as errors; an error
    /// returned here means the rest of the input could not be read.
    fn decode(&self, input: Input<'_>, sink: &mut dyn Sink) -> Result<(), DecodeError>;
}

/// The start of an input, for sniffing.
pub struct Head<'a> {
    /// Up to the first few KiB (already decompressed).
    pub bytes: &'a [u8],
    /// The input's file name, when it has one (`conn.log.gz`).
    pub file_name: Option<&'a str>,
}

impl Head<'_> {
    /// The first non-empty line, lossily as text.
    pub fn first_line(&self) -> std::borrow::Cow<'_, str> {
        let text = self
            .bytes
            .split(|byte| *byte == b'\n')
            .find(|line| !line.iter().all(u8::is_ascii_whitespace))
            .unwrap_or_default();
        String::from_utf8_lossy(text)
    }
}

/// Where decoded events and per-record errors go.
pub trait Sink {
    fn event(&mut self, event: Event);
    fn error(&mut self, error: DecodeError);
}

/// A sink that keeps everything, for tests and small inputs.
#[derive(Debug, Default)]
pub struct Collect {
    pub events: Vec<Event>,
    pub errors: Vec<DecodeError>,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn error(&mut self, error: DecodeError) {
        self.errors.push(error);
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn event(&mut self, event: Event) {
        (**self).event(event);
    }
    fn error(&mut self, error: DecodeError) {
        (**self).error(error);
    }
}

/// How many events and errors one decode produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: u64,
    pub errors: u64,
}

/// Counts what passes through to the caller's sink.
pub(crate) struct Counting<'s> {
    pub inner: &'s mut dyn Sink,
    pub summary: Summary,
}

impl Sink for Counting<'_> {
    fn event(&mut self, event: Event) {
        self.summary.events += 1;
        self.inner.event(event);
    }
    fn error(&mut self, error: DecodeError) {
        self.summary.errors += 1;
        self.inner.error(error);
    }
}

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// One record (line, EVTX record, network message) could not be decoded; the input goes on.
    #[error("{reference}: {decoder}: {message}")]
    Record {
        reference: EventRef,
        decoder: &'static str,
        message: String,
    },
    /// An EVTX chunk could not be read; the file's other chunks are still decoded.
    #[error("{input}#chunk{chunk}: evtx: {message}")]
    Chunk {
        input: String,
        chunk: u64,
        message: String,
    },
    /// The input could not be read from here on.
    #[error("{input}: cannot read: {error}")]
    Io {
        input: String,
        #[source]
        error: io::Error,
    },
    /// The whole input is unusable (bad file header, parser stalled).
    #[error("{input}: {decoder}: {message}")]
    Input {
        input: String,
        decoder: &'static str,
        message: String,
    },
    /// No decoder recognised the input.
    #[error("{input}: no decoder recognises this input")]
    UnknownFormat { input: String },
    /// The caller asked for a decoder that does not exist.
    #[error("no decoder named {name:?} (known: {known})")]
    UnknownDecoder { name: String, known: String },
}

impl DecodeError {
    pub(crate) fn record(
        input: &str,
        locator: Locator,
        decoder: &'static str,
        message: impl Into<String>,
    ) -> DecodeError {
        DecodeError::Record {
            reference: EventRef {
                source: input.to_owned(),
                locator,
            },
            decoder,
            message: message.into(),
        }
    }

    pub(crate) fn io(input: &str, error: io::Error) -> DecodeError {
        DecodeError::Io {
            input: input.to_owned(),
            error,
        }
    }

    /// The record this error is about, when it is about one.
    pub fn reference(&self) -> Option<&EventRef> {
        match self {
            DecodeError::Record { reference, .. } => Some(reference),
            _ => None,
        }
    }
}

/// Every decoder, in sniffing priority order (ties go to the earlier one).
pub static DECODERS: &[&dyn Decoder] = &[
    &evtx::Evtx,
    &zeek::Zeek,
    &suricata::Suricata,
    &jsonl::JsonLines,
    &cef::Cef,
    &rpz::Rpz,
    &syslog::Syslog,
    &apache::Apache,
    &proxifier::Proxifier,
    &lines::Lines,
];

/// The decoder called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Decoder> {
    DECODERS
        .iter()
        .copied()
        .find(|decoder| decoder.name() == name)
}

/// The decoder that best recognises `head`, if any does.
pub fn sniff(head: &Head<'_>) -> Option<&'static dyn Decoder> {
    let mut best: Option<(&'static dyn Decoder, u8)> = None;
    for decoder in DECODERS.iter().copied() {
        let score = decoder.sniff(head);
        if score > 0 && best.is_none_or(|(_, top)| score > top) {
            best = Some((decoder, score));
        }
    }
    best.map(|(decoder, _)| decoder)
}

/// Decodes `reader` with the decoder called `decoder` (or sniffs when it is `auto`), naming
/// the input `input` in references. Gzip input is decompressed.
pub fn decode_reader(
    decoder: &str,
    input: &str,
    reader: &mut dyn BufRead,
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Summary, DecodeError> {
    let chosen = if decoder == "auto" {
        None
    } else {
        Some(by_name(decoder).ok_or_else(|| {
            DecodeError::UnknownDecoder {
                name: decoder.to_owned(),
                known: DECODERS
                    .iter()
                    .map(|decoder| decoder.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?)
    };
    input::decode_stream(chosen, input, None, reader, options, sink)
}

/// The name part of a path, for sniffing and Zeek JSON log names.
pub(crate) fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|name| name.to_str())
}

#[cfg(test)]
mod tests;
