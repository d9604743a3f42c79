//! Feeds that run themselves: pull each enabled source on its interval, back off when it fails,
//! and keep a status per feed.
//!
//! A pull is one import transaction. It is committed only if the transport succeeded and the
//! result looks like the feed (not mostly rejected lines, and not an empty full list, which
//! would withdraw everything the source listed): a feed that breaks or serves garbage never
//! replaces good data.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rampart_store::{Commit, PullOutcome, SourceRecord, Store};
use tokio::sync::Semaphore;

use crate::config::{AuthConfig, SourceConfig, TransportKind};
use crate::import::{ImportError, ImportReport, ImportSession, Suppress};
use crate::sources::http::HttpTransport;
use crate::sources::{PullContext, PullError, PullStatus, Transport};

/// First retry delay after a failure; doubles per consecutive failure up to the interval.
pub const FIRST_RETRY: Duration = Duration::from_secs(60);

/// The result of one pull.
#[derive(Debug, Clone, serde::Serialize)]
pub enum PullResult {
    Imported(ImportReport),
    NotModified,
}

/// One pull of a feed finished: its log line and its metrics, together.
pub struct FeedPulled<'a> {
    pub source: &'a str,
    pub outcome: &'a PullOutcome,
    pub elapsed: Duration,
}

/// `rampart_feed_pulls_total{source, outcome}`: pulls by outcome (`imported`, `not_modified`,
/// `failed`).
pub const FEED_PULLS: &str = "rampart_feed_pulls_total";
/// `rampart_feed_pull_duration_seconds{source}`: how long pulls took, fetch and import.
pub const FEED_PULL_DURATION: &str = "rampart_feed_pull_duration_seconds";
/// `rampart_feed_new_indicators_total{source}`: indicators a pull brought that were not known.
pub const FEED_INDICATORS: &str = "rampart_feed_new_indicators_total";

impl FeedPulled<'_> {
    pub fn record(&self) {
        let source = self.source.to_owned();
        let outcome = match self.outcome {
            PullOutcome::Success { summary, .. } => {
                tracing::info!(source = self.source, outcome = ?self.outcome, "feed pulled");
                metrics::counter!(FEED_INDICATORS, "source" => source.clone())
                    .increment(summary.new);
                "imported"
            }
            PullOutcome::NotModified { .. } => {
                tracing::info!(source = self.source, outcome = ?self.outcome, "feed pulled");
                "not_modified"
            }
            PullOutcome::Failure { error, .. } => {
                tracing::warn!(source = self.source, error = %error, "feed pull failed");
                "failed"
            }
        };
        metrics::counter!(FEED_PULLS, "source" => source.clone(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!(FEED_PULL_DURATION, "source" => source)
            .record(self.elapsed.as_secs_f64());
    }

    /// Help texts, and every source's families at zero so a feed that never pulled shows.
    pub fn describe(sources: &[String]) {
        metrics::describe_counter!(FEED_PULLS, "feed pulls by source and outcome");
        metrics::describe_histogram!(
            FEED_PULL_DURATION,
            metrics::Unit::Seconds,
            "time a pull took, fetch and import, by source"
        );
        metrics::describe_counter!(
            FEED_INDICATORS,
            "indicators new to the store, by the source whose pull brought them"
        );
        for source in sources {
            for outcome in ["imported", "not_modified", "failed"] {
                metrics::counter!(FEED_PULLS, "source" => source.clone(), "outcome" => outcome)
                    .increment(0);
            }
        }
    }
}

/// Pulls sources into the store.
#[derive(Clone)]
pub struct Puller {
    store: Arc<dyn Store>,
    http: reqwest::Client,
    /// Warninglists; the allowlist is read from the store at each pull.
    warninglists: Option<Arc<dyn Suppress>>,
}

impl Puller {
    pub fn new(
        store: Arc<dyn Store>,
        http: reqwest::Client,
        warninglists: Option<Arc<dyn Suppress>>,
    ) -> Puller {
        Puller {
            store,
            http,
            warninglists,
        }
    }

    /// Pulls one source now and records the outcome in its feed status.
    pub async fn pull(&self, name: &str) -> Result<PullResult, PullError> {
        let record = self
            .store
            .source(name)
            .await
            .map_err(ImportError::from)?
            .ok_or_else(|| PullError::Other(format!("unknown source {name:?}")))?;
        let started = std::time::Instant::now();
        let result = self.pull_record(&record).await;
        let elapsed = started.elapsed();
        let at = Timestamp::now();
        let outcome = match &result {
            Ok(PullResult::Imported(report)) => PullOutcome::Success {
                at,
                summary: report.summary.clone(),
            },
            Ok(PullResult::NotModified) => PullOutcome::NotModified { at },
            Err(err) => PullOutcome::Failure {
                at,
                error: err.to_string(),
            },
        };
        FeedPulled {
            source: name,
            outcome: &outcome,
            elapsed,
        }
        .record();
        self.store
            .record_pull(name, &outcome)
            .await
            .map_err(ImportError::from)?;
        result
    }

    async fn pull_record(&self, record: &SourceRecord) -> Result<PullResult, PullError> {
        let config = SourceConfig::from_settings(&record.settings).map_err(PullError::Other)?;
        let format: Arc<dyn crate::formats::Format> =
            crate::formats::by_name(&config.format, &config.options)
                .map_err(|err| PullError::Other(err.to_string()))?
                .into();
        let transport = build_transport(&config)?;
        let http = self.http.clone();
        let suppress =
            crate::import::current_suppression(self.store.as_ref(), self.warninglists.clone())
                .await
                .map_err(ImportError::from)?;
        let mut session = ImportSession::begin(self.store.clone(), record.info.clone(), suppress);
        let mut ctx = PullContext {
            store: self.store.as_ref(),
            source: &record.info.name,
            session: &mut session,
            http: &http,
            cursors: Vec::new(),
        };
        let status = transport.pull(format, &mut ctx).await;
        let cursors = std::mem::take(&mut ctx.cursors);
        match status {
            Ok(PullStatus::NotModified) => {
                session.abort("not modified").await;
                Ok(PullResult::NotModified)
            }
            Ok(PullStatus::Fetched { full_list, .. }) => {
                let full_list = record.info.full_list || full_list;
                if let Err(reason) = plausibility(session.report(), full_list) {
                    session.abort(&reason).await;
                    return Err(PullError::Other(reason));
                }
                let report = session.commit(Commit { full_list, cursors }).await?;
                Ok(PullResult::Imported(report))
            }
            Err(err) => {
                session.abort(&err.to_string()).await;
                Err(err)
            }
        }
    }
}

/// Refuses results that do not look like the feed: mostly rejected lines, or an empty full
/// list (committing it would withdraw every value the source listed).
fn plausibility(report: &ImportReport, full_list: bool) -> Result<(), String> {
    if report.rejected > 0 && report.rejected > report.observations {
        let example = report
            .rejections
            .first()
            .map(|r| format!(" (first: {r})"))
            .unwrap_or_default();
        return Err(format!(
            "refused: {} of {} entries rejected, this does not look like the feed{example}",
            report.rejected,
            report.rejected + report.observations
        ));
    }
    if full_list && report.observations == 0 {
        return Err(
            "refused: the full list is empty, which would withdraw every value of this source"
                .into(),
        );
    }
    Ok(())
}

/// The transport a source is configured with.
pub fn build_transport(config: &SourceConfig) -> Result<Box<dyn Transport>, PullError> {
    match config.transport {
        TransportKind::Http => {
            let mut headers = Vec::new();
            match &config.auth {
                None => {}
                Some(auth @ AuthConfig::Basic { user, .. }) => {
                    let password = auth.secret().map_err(PullError::Other)?;
                    headers.push(("authorization".into(), basic_auth(user, &password)));
                }
                Some(auth @ AuthConfig::Bearer { .. }) => {
                    headers.push((
                        "authorization".into(),
                        format!("Bearer {}", auth.secret().map_err(PullError::Other)?),
                    ));
                }
                Some(auth @ AuthConfig::Header { name, .. }) => {
                    headers.push((name.clone(), auth.secret().map_err(PullError::Other)?));
                }
            }
            Ok(Box::new(HttpTransport {
                url: config.url.clone(),
                headers,
                timeout: Duration::from_secs(config.timeout_secs),
            }))
        }
        TransportKind::Taxii => {
            use crate::sources::taxii::{CollectionLocation, TaxiiAuth, TaxiiTransport};
            let auth = match &config.auth {
                None => TaxiiAuth::None,
                Some(auth @ AuthConfig::Basic { user, .. }) => TaxiiAuth::Basic {
                    username: user.clone(),
                    password: auth.secret().map_err(PullError::Other)?,
                },
                Some(auth @ AuthConfig::Bearer { .. }) => TaxiiAuth::Bearer {
                    token: auth.secret().map_err(PullError::Other)?,
                },
                Some(AuthConfig::Header { .. }) => {
                    return Err(PullError::Other(
                        "TAXII sources take basic or bearer auth".into(),
                    ));
                }
            };
            // `url` is the collection URL, or the API root with `transport_options.collection`.
            let location = match config.transport_options.get("collection") {
                Some(collection) => CollectionLocation::InApiRoot {
                    api_root: config.url.clone(),
                    collection: collection.clone(),
                },
                None => CollectionLocation::Url(config.url.clone()),
            };
            let mut transport = TaxiiTransport::new(location, auth);
            if let Some(size) = config.transport_options.get("page_size") {
                let size = size
                    .parse()
                    .map_err(|_| PullError::Other(format!("page_size {size:?} is not a number")))?;
                transport = transport.with_page_size(size);
            }
            if let Some(types) = config.transport_options.get("types") {
                transport =
                    transport.with_types(types.split(',').map(|t| t.trim().to_owned()).collect());
            }
            Ok(Box::new(transport))
        }
        other => Err(PullError::Other(format!(
            "transport {other:?} is not available in this build"
        ))),
    }
}

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// When a source is next due, from its status.
pub fn next_due(record: &SourceRecord, config: &SourceConfig) -> Timestamp {
    let Some(last) = record.last_attempt else {
        return Timestamp::UNIX_EPOCH;
    };
    let interval = config.interval();
    let wait = if record.consecutive_failures == 0 {
        interval
    } else {
        let exponent = record.consecutive_failures.saturating_sub(1).min(20);
        FIRST_RETRY.saturating_mul(1u32 << exponent).min(interval)
    };
    last.checked_add(jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

/// Runs pulls until `shutdown` resolves: every second, each enabled source that is due and not
/// already running is pulled, at most `concurrency` at a time.
pub async fn run(
    puller: Puller,
    concurrency: usize,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick.tick() => {}
        }
        running.retain(|_, handle| !handle.is_finished());
        let sources = match puller.store.sources().await {
            Ok(sources) => sources,
            Err(err) => {
                tracing::error!(error = %err, "cannot read sources");
                continue;
            }
        };
        let now = Timestamp::now();
        for record in sources {
            if running.contains_key(&record.info.name) {
                continue;
            }
            let Ok(config) = SourceConfig::from_settings(&record.settings) else {
                continue;
            };
            if !config.enabled || next_due(&record, &config) > now {
                continue;
            }
            let puller = puller.clone();
            let permits = permits.clone();
            let name = record.info.name.clone();
            let handle = tokio::spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                let _ = puller.pull(&name).await;
            });
            running.insert(record.info.name, handle);
        }
    }
    for (_, handle) in running {
        handle.abort();
    }
}
