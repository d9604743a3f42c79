//! Syslog network listeners (UDP and TCP). TCP accepts both framings of RFC 6587: octet
//! counting (`LEN SP MSG`) and newline-terminated messages, chosen per message by its first
//! byte. Garbage never stops a listener: binary data, bad frames and unparsable messages are
//! counted errors; a connection whose framing cannot be recovered is closed, the listener
//! keeps accepting. Each message's locator is its number since the listener started.
//!
//! A UDP listener cannot slow its senders: when its sink is full it must drop (the sink
//! counts). A TCP connection waits for room in its [`StreamSink`] before it reads on, so a
//! full queue pauses reading and TCP flow control pushes back on the sender.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

use super::syslog::parse_syslog;
use super::{DecodeError, Options, Sink};
use crate::event::{Event, EventRef, Locator};

/// Where syslog listeners bind unless told otherwise: loopback only.
pub const DEFAULT_SYSLOG_ADDR: &str = "127.0.0.1:5514";

/// The largest message accepted (RFC 5425 asks receivers to handle at least 8 KiB).
const MAX_MESSAGE: usize = 64 * 1024;

/// Running totals of a listener, readable while it runs.
#[derive(Debug, Default)]
pub struct ListenerCounters {
    pub messages: AtomicU64,
    pub events: AtomicU64,
    pub errors: AtomicU64,
    pub connections: AtomicU64,
}

impl ListenerCounters {
    /// `(messages, events, errors, connections)` at this moment.
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.messages.load(Ordering::Relaxed),
            self.events.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            self.connections.load(Ordering::Relaxed),
        )
    }
}

/// A running listener; dropping it leaves it running, [`Listener::shutdown`] stops it.
pub struct Listener {
    local_addr: SocketAddr,
    counters: Arc<ListenerCounters>,
    task: JoinHandle<()>,
}

impl Listener {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn counters(&self) -> &ListenerCounters {
        &self.counters
    }

    /// Stops accepting and drops open connections; returns the final counters.
    pub async fn shutdown(self) -> Arc<ListenerCounters> {
        self.task.abort();
        let _ = self.task.await;
        self.counters
    }
}

/// Where a TCP listener delivers: [`StreamSink::event`] waits while there is no room.
pub trait StreamSink: Send + Sync + 'static {
    /// Takes one event, once there is room for it.
    fn event(&self, event: Event) -> impl Future<Output = ()> + Send;
    fn error(&self, error: DecodeError);
}

/// A plain sink behind a mutex always has room.
impl<S: Sink + Send + ?Sized + 'static> StreamSink for Arc<Mutex<S>> {
    fn event(&self, event: Event) -> impl Future<Output = ()> + Send {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .event(event);
        std::future::ready(())
    }
    fn error(&self, error: DecodeError) {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .error(error);
    }
}

/// What the tasks of one listener share.
struct State {
    source: String,
    options: Options,
    counters: Arc<ListenerCounters>,
}

impl State {
    /// Decodes one framed message, counting it.
    fn decode(&self, bytes: &[u8]) -> Result<Event, DecodeError> {
        let number = self.counters.messages.fetch_add(1, Ordering::Relaxed) + 1;
        let reference = EventRef {
            source: self.source.clone(),
            locator: Locator::Message(number),
        };
        match decode_message(bytes, reference.clone(), &self.options) {
            Ok(event) => {
                self.counters.events.fetch_add(1, Ordering::Relaxed);
                Ok(event)
            }
            Err(message) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                Err(DecodeError::Record {
                    reference,
                    decoder: "syslog",
                    message,
                })
            }
        }
    }

    fn framing_error(&self, message: String) -> DecodeError {
        let number = self.counters.messages.fetch_add(1, Ordering::Relaxed) + 1;
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        DecodeError::Record {
            reference: EventRef {
                source: self.source.clone(),
                locator: Locator::Message(number),
            },
            decoder: "syslog",
            message,
        }
    }
}

fn decode_message(bytes: &[u8], reference: EventRef, options: &Options) -> Result<Event, String> {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r' | b'\0') {
        end -= 1;
    }
    let bytes = &bytes[..end];
    if bytes.is_empty() {
        return Err("empty message".into());
    }
    if let Some(byte) = bytes
        .iter()
        .find(|byte| **byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r'))
    {
        return Err(format!(
            "binary data (byte {byte:#04x}), not a syslog message"
        ));
    }
    let text = String::from_utf8_lossy(bytes);
    // A listener runs for months: year-less timestamps are relative to each arrival.
    let options = Options {
        reference_time: Timestamp::now(),
        ..options.clone()
    };
    parse_syslog(&text, reference, &options)
}

/// Receives syslog datagrams on `addr` (one message per datagram) until shut down.
pub async fn listen_udp(
    addr: SocketAddr,
    options: Options,
    mut sink: impl Sink + Send + 'static,
) -> io::Result<Listener> {
    let socket = UdpSocket::bind(addr).await?;
    let local_addr = socket.local_addr()?;
    let counters = Arc::new(ListenerCounters::default());
    let state = State {
        source: format!("syslog+udp://{local_addr}"),
        options,
        counters: Arc::clone(&counters),
    };
    let task = tokio::spawn(async move {
        let mut buffer = vec![0u8; MAX_MESSAGE];
        loop {
            match socket.recv_from(&mut buffer).await {
                Ok((length, _peer)) => match state.decode(&buffer[..length]) {
                    Ok(event) => sink.event(event),
                    Err(error) => sink.error(error),
                },
                // ICMP errors and the like surface here on some systems; keep receiving.
                Err(error) => tracing::debug!(%error, "syslog udp receive failed"),
            }
        }
    });
    Ok(Listener {
        local_addr,
        counters,
        task,
    })
}

/// Accepts syslog over TCP on `addr` (octet-counted or newline-framed) until shut down.
pub async fn listen_tcp(
    addr: SocketAddr,
    options: Options,
    sink: impl StreamSink,
) -> io::Result<Listener> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let counters = Arc::new(ListenerCounters::default());
    let state = Arc::new(State {
        source: format!("syslog+tcp://{local_addr}"),
        options,
        counters: Arc::clone(&counters),
    });
    let sink = Arc::new(sink);
    let task = tokio::spawn(async move {
        // Connection tasks live in the set so aborting the listener ends them too.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        state.counters.connections.fetch_add(1, Ordering::Relaxed);
                        connections.spawn(read_connection(
                            stream,
                            Arc::clone(&state),
                            Arc::clone(&sink),
                        ));
                    }
                    Err(error) => tracing::debug!(%error, "syslog tcp accept failed"),
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(Listener {
        local_addr,
        counters,
        task,
    })
}

/// Reads one connection's messages; each is delivered (waiting for room) before the next is
/// looked at, so a full sink stops the reads.
async fn read_connection<S: StreamSink>(mut stream: TcpStream, state: Arc<State>, sink: Arc<S>) {
    let mut pending: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    // Bytes of an over-long newline-framed message still to skip.
    let mut skipping = false;
    loop {
        let read = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        pending.extend_from_slice(&chunk[..read]);
        loop {
            match next_frame(&pending, &mut skipping) {
                Frame::Message { start, end, next } => {
                    let decoded = state.decode(&pending[start..end]);
                    pending.drain(..next);
                    match decoded {
                        Ok(event) => sink.event(event).await,
                        Err(error) => sink.error(error),
                    }
                }
                Frame::Skipped { next } => {
                    pending.drain(..next);
                }
                Frame::Incomplete => break,
                Frame::TooLong => {
                    sink.error(
                        state.framing_error(format!("message longer than {MAX_MESSAGE} bytes")),
                    );
                    pending.clear();
                    skipping = true;
                    break;
                }
                Frame::Broken(message) => {
                    // An octet count that cannot be trusted leaves no way to find the next
                    // frame: report and drop this connection only.
                    sink.error(state.framing_error(message));
                    return;
                }
            }
        }
    }
    if !pending.is_empty() && !skipping {
        match state.decode(&pending) {
            Ok(event) => sink.event(event).await,
            Err(error) => sink.error(error),
        }
    }
}

enum Frame {
    Message {
        start: usize,
        end: usize,
        next: usize,
    },
    Skipped {
        next: usize,
    },
    Incomplete,
    TooLong,
    Broken(String),
}

fn next_frame(pending: &[u8], skipping: &mut bool) -> Frame {
    if *skipping {
        return match memchr::memchr(b'\n', pending) {
            Some(at) => {
                *skipping = false;
                Frame::Skipped { next: at + 1 }
            }
            None => Frame::Skipped {
                next: pending.len(),
            },
        };
    }
    let Some(&first) = pending.first() else {
        return Frame::Incomplete;
    };
    if first == b'\n' || first == b'\r' {
        return Frame::Skipped { next: 1 };
    }
    let digits = pending
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    if first.is_ascii_digit() && digits == pending.len() && digits <= 6 {
        return Frame::Incomplete;
    }
    // `LEN SP MSG`; a digit run not followed by a space is a newline-framed message that
    // starts with a digit (an RFC 3339 timestamp without a priority).
    if (1..=6).contains(&digits) && pending.get(digits) == Some(&b' ') {
        let length: usize = std::str::from_utf8(&pending[..digits])
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(usize::MAX);
        if length == 0 || length > MAX_MESSAGE {
            return Frame::Broken(format!("octet count {length} is outside 1..={MAX_MESSAGE}"));
        }
        let start = digits + 1;
        let end = start + length;
        return if pending.len() >= end {
            Frame::Message {
                start,
                end,
                next: end,
            }
        } else {
            Frame::Incomplete
        };
    }
    match memchr::memchr(b'\n', pending) {
        Some(at) => Frame::Message {
            start: 0,
            end: at,
            next: at + 1,
        },
        None if pending.len() > MAX_MESSAGE => Frame::TooLong,
        None => Frame::Incomplete,
    }
}

impl<S: Sink + ?Sized> Sink for Arc<Mutex<S>> {
    fn event(&mut self, event: Event) {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .event(event);
    }
    fn error(&mut self, error: DecodeError) {
        self.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .error(error);
    }
}
