//! Continuous detection for `rampart serve`:
//!
//! ```text
//! inputs (syslog UDP/TCP, followed files) ─► events topic ─► detection workers ─► alerts topic ─► alert sink
//!                                                                  │
//!                                                                  └─► archive ◄── retro-hunt sweeps
//! ```
//!
//! Stages talk through the [`bus`](crate::bus) with explicit acknowledgement: a worker acks an
//! event only after its alerts are published. Queues are bounded: followed files wait when the
//! event queue is full; network listeners cannot make a sender wait, so what they cannot queue
//! is dropped *and counted*. Every counter is in [`StreamCounters`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;
use rampart_matcher::{Entry, Matcher, MatcherConfig};
use rampart_model::Alert;
use serde::Serialize;
use tokio::runtime::Handle;

use crate::alert::{AlertBook, Recorded};
use crate::archive::{Archive, ArchiveError, SweepStats};
use crate::bus::{
    InProcessPublisher, InProcessSubscriber, InProcessTopic, Publisher, Subscriber, TopicCounts,
    TopicStats, TryPublishError,
};
use crate::config::{DetectConfig, InputConfig};
use crate::decode::{self, DecodeError, Listener, Options, Sink};
use crate::detector::{Detector, DetectorStats, indicator_alerts};
use crate::event::Event;
use crate::follow::Follow;
use crate::ingest::Ingest;
use crate::mappings::FieldMap;

/// Totals of the streaming pipeline since start.
#[derive(Debug, Default)]
pub struct StreamCounters {
    /// Events decoded by the inputs.
    pub received: AtomicU64,
    /// Records the inputs could not decode.
    pub decode_errors: AtomicU64,
    /// Events a UDP input could not queue because the queue was full (TCP and files wait).
    pub dropped: AtomicU64,
    /// Events the workers finished.
    pub processed: AtomicU64,
    /// Events that raised at least one alert.
    pub matched: AtomicU64,
    pub alerts_new: AtomicU64,
    pub alerts_repeated: AtomicU64,
    pub archived: AtomicU64,
    pub archive_errors: AtomicU64,
    pub retro_sweeps: AtomicU64,
    pub retro_alerts: AtomicU64,
    /// Sightings a sweep found that had already been alerted to.
    pub retro_known: AtomicU64,
}

/// A snapshot of the counters and queues, for status output and metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StreamStatus {
    pub received: u64,
    pub decode_errors: u64,
    pub dropped: u64,
    pub processed: u64,
    pub matched: u64,
    pub alerts_new: u64,
    pub alerts_repeated: u64,
    pub archived: u64,
    pub archive_errors: u64,
    pub retro_sweeps: u64,
    pub retro_alerts: u64,
    pub retro_known: u64,
    /// Events queued for detection and not yet acknowledged.
    pub queued: u64,
    pub events_topic: TopicCounts,
    pub alerts_topic: TopicCounts,
}

/// Where alerts end up: the store, a file. Called from one thread, in order.
pub trait AlertSink: Send + 'static {
    /// A new alert (`new`), or an alert closed by its window with its final count.
    fn alert(&mut self, alert: &Alert, new: bool);
}

/// Indicators that became matchable, in batches: the retro-hunt's input. The CLI reads them
/// from the store's change feed; detection itself never touches the store.
pub trait IndicatorFeed: Send + 'static {
    /// Indicators added or changed since the previous call (empty when none).
    fn new_indicators(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Entry>> + Send + '_>>;

    /// Of these alert keys, the ones already raised, live or by an earlier sweep. A changed
    /// indicator (a new source, a re-sent list) is swept again; only sightings nobody was
    /// alerted to become retro-hunt alerts.
    fn already_alerted(
        &mut self,
        keys: Vec<String>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + '_>>;
}

/// What the pipeline runs with.
pub struct StreamSetup {
    pub config: DetectConfig,
    /// A detector per worker (they may share compiled rules and the matcher).
    pub detectors: Vec<Detector>,
    /// Where retro-hunts learn of new indicators; `None` (or no archive) disables them.
    pub retro_feed: Option<Box<dyn IndicatorFeed>>,
    pub sink: Box<dyn AlertSink>,
    pub options: Options,
}

/// A running pipeline.
pub struct Stream {
    counters: Arc<StreamCounters>,
    events: Arc<TopicStats>,
    alerts: Arc<TopicStats>,
    listeners: Vec<Listener>,
    listening: Vec<String>,
    threads: Vec<JoinHandle<()>>,
    stop_followers: Vec<std_mpsc::Sender<()>>,
    events_publisher: Option<InProcessPublisher<Event>>,
    /// The publisher pushes ([`Ingest`]) go through; emptied at shutdown.
    ingest: Arc<Mutex<Option<InProcessPublisher<Event>>>>,
    archive: Option<std_mpsc::SyncSender<ArchiveMessage>>,
    retro: Option<tokio::task::JoinHandle<()>>,
    alert_task: Option<tokio::task::JoinHandle<()>>,
    pub stats: Arc<Mutex<Vec<DetectorStats>>>,
}

enum ArchiveMessage {
    Event(Box<Event>),
    /// Close the open segment (so a sweep sees it), then answer.
    Rotate(std_mpsc::Sender<()>),
}

/// Publishes decoded events to the events topic.
struct PublishSink {
    publisher: InProcessPublisher<Event>,
    counters: Arc<StreamCounters>,
    /// Followed files wait for room; UDP cannot (TCP uses [`WaitingSink`]).
    wait: Option<Handle>,
}

impl Sink for PublishSink {
    fn event(&mut self, event: Event) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        match &self.wait {
            Some(handle) => {
                if handle.block_on(self.publisher.publish(event)).is_err() {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => match self.publisher.try_publish(event) {
                Ok(()) => {}
                Err(TryPublishError::Full(_)) | Err(TryPublishError::Closed(_)) => {
                    let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                    if dropped.is_power_of_two() {
                        tracing::warn!(dropped, "event queue full: network events dropped");
                    }
                }
            },
        }
    }

    fn error(&mut self, error: DecodeError) {
        count_decode_error(&self.counters, &error);
    }
}

/// Publishes events from a TCP connection, waiting for room: a full queue stops that
/// connection's reads and TCP pushes back on the sender, so nothing is dropped.
struct WaitingSink {
    publisher: InProcessPublisher<Event>,
    counters: Arc<StreamCounters>,
}

impl decode::StreamSink for WaitingSink {
    async fn event(&self, event: Event) {
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        if self.publisher.publish(event).await.is_err() {
            // Only when the pipeline is shutting down.
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn error(&self, error: DecodeError) {
        count_decode_error(&self.counters, &error);
    }
}

fn count_decode_error(counters: &StreamCounters, error: &DecodeError) {
    let errors = counters.decode_errors.fetch_add(1, Ordering::Relaxed) + 1;
    if errors.is_power_of_two() {
        tracing::warn!(%error, errors, "undecodable input record");
    }
}

impl Stream {
    /// Starts inputs, workers, the alert sink, the archive and retro-hunting.
    pub async fn start(setup: StreamSetup) -> Result<Stream, StreamError> {
        let StreamSetup {
            config,
            detectors,
            retro_feed,
            mut sink,
            options,
        } = setup;
        let counters = Arc::new(StreamCounters::default());
        let (events_publisher, events_subscriber, events) =
            InProcessTopic::open::<Event>("events", config.queue);
        let (alerts_publisher, mut alerts_subscriber, alerts) =
            InProcessTopic::open::<Alert>("alerts", config.queue);
        let handle = Handle::current();
        let mut threads = Vec::new();

        // The archive: one thread owns the open segment.
        let archive = match &config.archive {
            Some(archive_config) => {
                let archive = Archive::open(archive_config.clone())?;
                let (sender, receiver) = std_mpsc::sync_channel(config.queue.max(1));
                let archive_counters = counters.clone();
                threads.push(spawn("rampart-archive", move || {
                    run_archive(archive, receiver, &archive_counters)
                })?);
                Some(sender)
            }
            None => None,
        };

        // Detection workers share the events topic like a queue group.
        let stats = Arc::new(Mutex::new(vec![DetectorStats::default(); detectors.len()]));
        for (index, mut detector) in detectors.into_iter().enumerate() {
            let mut subscriber: InProcessSubscriber<Event> = events_subscriber.clone();
            let alerts_publisher = alerts_publisher.clone();
            let counters = counters.clone();
            let archive = archive.clone();
            let stats = stats.clone();
            let handle = handle.clone();
            threads.push(spawn(&format!("rampart-detect-{index}"), move || {
                while let Some(delivery) = handle.block_on(subscriber.next()) {
                    let mut raised = Vec::new();
                    detector.process(delivery.message(), &mut |alert| raised.push(alert));
                    if !raised.is_empty() {
                        counters.matched.fetch_add(1, Ordering::Relaxed);
                    }
                    for alert in raised {
                        if handle.block_on(alerts_publisher.publish(alert)).is_err() {
                            return;
                        }
                    }
                    let event = delivery.ack();
                    counters.processed.fetch_add(1, Ordering::Relaxed);
                    if let Some(archive) = &archive
                        && archive
                            .send(ArchiveMessage::Event(Box::new(event)))
                            .is_err()
                    {
                        counters.archive_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Ok(mut all) = stats.lock()
                        && let Some(slot) = all.get_mut(index)
                    {
                        *slot = detector.stats;
                    }
                }
            })?);
        }
        drop(events_subscriber);

        // The alert sink: deduplicates and hands alerts on, in order.
        let window = config.suppression_window;
        let sink_counters = counters.clone();
        let alert_task = tokio::spawn(async move {
            let mut book = AlertBook::new(window, 100_000);
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    delivery = alerts_subscriber.next() => {
                        let Some(delivery) = delivery else { break };
                        let alert = delivery.ack();
                        match book.record(alert) {
                            Recorded::New(alert) => {
                                sink_counters.alerts_new.fetch_add(1, Ordering::Relaxed);
                                sink.alert(&alert, true);
                            }
                            Recorded::Repeat { .. } => {
                                sink_counters.alerts_repeated.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        for closed in book.take_closed() {
                            sink.alert(&closed, false);
                        }
                    }
                    _ = tick.tick() => {
                        for closed in book.expire(Timestamp::now()) {
                            sink.alert(&closed, false);
                        }
                    }
                }
            }
            for closed in book
                .take_closed()
                .into_iter()
                .chain(book.expire(Timestamp::MAX))
            {
                sink.alert(&closed, false);
            }
        });

        // Inputs.
        let mut listeners: Vec<Listener> = Vec::new();
        let mut listening = Vec::new();
        let mut stop_followers = Vec::new();
        for input in &config.inputs {
            let publish = PublishSink {
                publisher: events_publisher.clone(),
                counters: counters.clone(),
                wait: None,
            };
            match input {
                InputConfig::SyslogUdp { listen } => {
                    let listener = decode::listen_udp(*listen, options.clone(), publish)
                        .await
                        .map_err(|error| StreamError::Input(input.describe(), error))?;
                    listening.push(format!("syslog+udp://{}", listener.local_addr()));
                    listeners.push(listener);
                }
                InputConfig::SyslogTcp { listen } => {
                    let waiting = WaitingSink {
                        publisher: publish.publisher,
                        counters: publish.counters,
                    };
                    let listener = decode::listen_tcp(*listen, options.clone(), waiting)
                        .await
                        .map_err(|error| StreamError::Input(input.describe(), error))?;
                    listening.push(format!("syslog+tcp://{}", listener.local_addr()));
                    listeners.push(listener);
                }
                InputConfig::File { path, format } => {
                    let (stop, stopped) = std_mpsc::channel();
                    let follow = Follow::open(path, stopped, Duration::from_millis(250))
                        .map_err(|error| StreamError::Input(input.describe(), error))?;
                    stop_followers.push(stop);
                    let decoder = format.clone().unwrap_or_else(|| "auto".into());
                    let name = input.describe();
                    let options = options.clone();
                    let mut sink = PublishSink {
                        wait: Some(handle.clone()),
                        ..publish
                    };
                    threads.push(spawn("rampart-follow", move || {
                        let mut reader = std::io::BufReader::new(follow);
                        if let Err(error) =
                            decode::decode_reader(&decoder, &name, &mut reader, &options, &mut sink)
                        {
                            tracing::error!(%error, input = name, "followed input stopped");
                        }
                    })?);
                }
            }
        }

        // Retro-hunting: new indicators, batched, swept against the archive.
        let retro = match (&archive, retro_feed, &config.archive) {
            (Some(archive), Some(feed), Some(archive_config)) => Some(tokio::spawn(retro_hunt(
                feed,
                archive.clone(),
                archive_config.clone(),
                alerts_publisher.clone(),
                counters.clone(),
                config.retro_hunt_interval,
            ))),
            _ => None,
        };
        drop(alerts_publisher);

        Ok(Stream {
            counters,
            events,
            alerts,
            listeners,
            listening,
            threads,
            stop_followers,
            ingest: Arc::new(Mutex::new(Some(events_publisher.clone()))),
            events_publisher: Some(events_publisher),
            archive,
            retro,
            alert_task: Some(alert_task),
            stats,
        })
    }

    /// The addresses the network inputs listen on (after binding, so port 0 is resolved).
    pub fn listening(&self) -> Vec<String> {
        self.listening.clone()
    }

    /// A handle for pushing events into this pipeline (HTTP ingest), counted with the
    /// inputs' events; refused once the stream shuts down.
    pub fn ingest(&self) -> Ingest {
        Ingest {
            publisher: self.ingest.clone(),
            counters: self.counters.clone(),
            input_name: Arc::from("http"),
        }
    }

    /// Counters and queue depths at this moment.
    pub fn status(&self) -> StreamStatus {
        let c = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let events_topic = self.events.counts();
        StreamStatus {
            received: load(&c.received),
            decode_errors: load(&c.decode_errors),
            dropped: load(&c.dropped),
            processed: load(&c.processed),
            matched: load(&c.matched),
            alerts_new: load(&c.alerts_new),
            alerts_repeated: load(&c.alerts_repeated),
            archived: load(&c.archived),
            archive_errors: load(&c.archive_errors),
            retro_sweeps: load(&c.retro_sweeps),
            retro_alerts: load(&c.retro_alerts),
            retro_known: load(&c.retro_known),
            queued: events_topic.pending,
            events_topic,
            alerts_topic: self.alerts.counts(),
        }
    }

    /// Stops the inputs, lets the workers finish what is queued, flushes alerts and closes
    /// the archive segment.
    pub async fn shutdown(mut self) -> StreamStatus {
        for listener in self.listeners.drain(..) {
            listener.shutdown().await;
        }
        for stop in self.stop_followers.drain(..) {
            let _ = stop.send(());
        }
        if let Some(retro) = self.retro.take() {
            retro.abort();
        }
        // Workers end when every publisher is gone and the queue is drained; pushes still in
        // flight hold their own clone until they finish.
        self.events_publisher.take();
        if let Ok(mut slot) = self.ingest.lock() {
            slot.take();
        }
        let threads = std::mem::take(&mut self.threads);
        let archive = self.archive.take();
        let _ = tokio::task::spawn_blocking(move || {
            // Followers and workers first; the archive thread ends when its senders are gone.
            drop(archive);
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
        if let Some(task) = self.alert_task.take() {
            let _ = task.await;
        }
        self.status()
    }
}

/// What can stop the pipeline from starting.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("input {0}: {1}")]
    Input(String, std::io::Error),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("cannot start thread {0}: {1}")]
    Thread(String, std::io::Error),
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StreamError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|error| StreamError::Thread(name.to_owned(), error))
}

fn run_archive(
    mut archive: Archive,
    receiver: std_mpsc::Receiver<ArchiveMessage>,
    counters: &StreamCounters,
) {
    let mut last_prune = std::time::Instant::now();
    for message in receiver {
        match message {
            ArchiveMessage::Event(event) => match archive.append(&event) {
                Ok(()) => {
                    counters.archived.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => {
                    let errors = counters.archive_errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if errors.is_power_of_two() {
                        tracing::error!(%error, errors, "event archive write failed");
                    }
                }
            },
            ArchiveMessage::Rotate(done) => {
                if let Err(error) = archive.close() {
                    tracing::error!(%error, "event archive segment could not be closed");
                }
                let _ = done.send(());
            }
        }
        if last_prune.elapsed() > Duration::from_secs(600) {
            last_prune = std::time::Instant::now();
            if let Err(error) = archive.prune(Timestamp::now()) {
                tracing::warn!(%error, "event archive retention failed");
            }
        }
    }
    if let Err(error) = archive.close() {
        tracing::error!(%error, "event archive segment could not be closed");
    }
}

/// Sweeps the archive once per batch of indicators that became matchable since the last
/// sweep: every segment is read once per batch, however many indicators the batch holds.
async fn retro_hunt(
    mut feed: Box<dyn IndicatorFeed>,
    archive: std_mpsc::SyncSender<ArchiveMessage>,
    archive_config: crate::archive::ArchiveConfig,
    alerts: InProcessPublisher<Alert>,
    counters: Arc<StreamCounters>,
    interval: jiff::SignedDuration,
) {
    let period = Duration::try_from(interval).unwrap_or(Duration::from_secs(60));
    let mut tick = tokio::time::interval(period.max(Duration::from_millis(100)));
    loop {
        tick.tick().await;
        let batch = feed.new_indicators().await;
        if batch.is_empty() {
            continue;
        }
        // Close the open segment so the sweep sees every event archived so far.
        let (done, finished) = std_mpsc::channel();
        if archive.send(ArchiveMessage::Rotate(done)).is_err() {
            return;
        }
        let config = archive_config.clone();
        let sweep_counters = counters.clone();
        let found = tokio::task::spawn_blocking(move || {
            let _ = finished.recv_timeout(Duration::from_secs(30));
            sweep(&config, &batch)
        })
        .await;
        counters.retro_sweeps.fetch_add(1, Ordering::Relaxed);
        match found {
            Ok(Ok((alerts_found, stats))) => {
                tracing::info!(
                    segments = stats.segments,
                    events = stats.events,
                    alerts = alerts_found.len(),
                    "retro-hunt sweep done"
                );
                let keys = alerts_found.iter().map(|a| a.key.clone()).collect();
                let known: std::collections::HashSet<String> =
                    feed.already_alerted(keys).await.into_iter().collect();
                for alert in alerts_found {
                    if known.contains(&alert.key) {
                        sweep_counters.retro_known.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    sweep_counters.retro_alerts.fetch_add(1, Ordering::Relaxed);
                    if alerts.publish(alert).await.is_err() {
                        return;
                    }
                }
            }
            Ok(Err(error)) => tracing::error!(%error, "retro-hunt sweep failed"),
            Err(error) => tracing::error!(%error, "retro-hunt sweep task failed"),
        }
    }
}

/// Matches every archived event against a batch of new indicators.
pub fn sweep(
    config: &crate::archive::ArchiveConfig,
    batch: &[Entry],
) -> Result<(Vec<Alert>, SweepStats), ArchiveError> {
    let batch_matcher = Matcher::new(batch, MatcherConfig::default());
    let view = batch_matcher.view();
    let archive = Archive::open_readonly(config.clone())?;
    let mut alerts = Vec::new();
    let mut stats = DetectorStats::default();
    let swept = archive.sweep(|event| {
        let Some(map) = FieldMap::for_format(&event.format) else {
            return;
        };
        let at = event.time.unwrap_or_else(Timestamp::now);
        indicator_alerts(
            &view,
            map.observables(&event),
            &event,
            at,
            &mut stats,
            &mut |mut alert| {
                alert.retro = true;
                alerts.push(alert);
            },
        );
    })?;
    Ok((alerts, swept))
}
