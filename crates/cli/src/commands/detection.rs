//! Wiring continuous detection for `rampart serve`: the matcher kept current from the store,
//! the rule packs with the analyst's overrides, the streaming pipeline, and where alerts go
//! (the store and an optional file). The stages do the work; this only connects them.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rampart_detect::alert::{AlertWriter, OutputFormat};
use rampart_detect::config::DetectConfig;
use rampart_detect::decode::Options;
use rampart_detect::detector::Detector;
use rampart_detect::packs::RuleState;
use rampart_detect::sigma::{self, RuleSet};
use rampart_detect::stream::{AlertSink, IndicatorFeed, Stream, StreamSetup};
use rampart_matcher::{Entry, Matcher, MatcherConfig, Refresher, RefresherConfig};
use rampart_model::{Alert, Timestamp};
use rampart_store::{ChangeCursor, Store};
use tokio::sync::{mpsc, watch};

use crate::context::Context;

/// Detection running beside the feed scheduler.
pub struct Detection {
    stream: Stream,
    matcher: Matcher,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    status_path: PathBuf,
}

impl Detection {
    /// Starts detection on the configured inputs; with none, it still runs for events pushed
    /// over HTTP (`POST /api/v1/events`, through [`Detection::ingest`]).
    /// `raised` receives each new alert once it is stored (the respond stage starts playbooks
    /// from it).
    pub async fn start(
        ctx: &Context,
        store: Arc<dyn Store>,
        raised: Option<mpsc::UnboundedSender<Alert>>,
    ) -> anyhow::Result<Detection> {
        let config = ctx.detect()?;
        let refresher_config = RefresherConfig {
            matcher: MatcherConfig {
                thresholds: config.thresholds,
                ..MatcherConfig::default()
            },
            ..RefresherConfig::default()
        };
        let refresher = Refresher::start(store.clone(), refresher_config)
            .await
            .context("cannot build the indicator matcher")?;
        let matcher = refresher.matcher();
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![tokio::spawn(refresher.run(until(stopped.clone())))];

        let rules = load_rules(&config).await?;
        let overrides = Arc::new(RuleState::load(&ctx.rule_state_path())?);
        let detectors = (0..config.workers.max(1))
            .map(|_| {
                Detector::new(
                    rules.clone(),
                    overrides.clone(),
                    Some(matcher.clone()),
                    Default::default(),
                )
            })
            .collect();

        let (alerts, alerts_received) = mpsc::unbounded_channel();
        tasks.push(tokio::spawn(store_alerts(
            store.clone(),
            alerts_received,
            raised,
        )));
        let sink = Box::new(Sinks::new(&config, alerts)?);
        let retro_feed: Option<Box<dyn IndicatorFeed>> = match &config.archive {
            Some(_) => Some(Box::new(
                StoreFeed::open(store.clone(), ctx.config.data_dir.join("retro-hunt.cursor"))
                    .await?,
            )),
            None => None,
        };
        let mut inputs: Vec<String> = config.inputs.iter().map(|i| i.describe()).collect();
        inputs.push("http POST /api/v1/events".into());
        let stream = Stream::start(StreamSetup {
            config: config.clone(),
            detectors,
            retro_feed,
            sink,
            options: Options::default(),
        })
        .await?;
        for address in stream.listening() {
            crate::say!("rampart serve: listening on {address}");
        }
        crate::say!(
            "rampart serve: detection on {} inputs ({}), {} Sigma rules, {} indicators",
            inputs.len(),
            inputs.join(", "),
            rules.as_ref().map_or(0, |r| r.len()),
            matcher.stats().base_entries
        );
        // The status file goes beside the store's other state, even when no store file is there.
        std::fs::create_dir_all(&ctx.config.data_dir)
            .with_context(|| format!("cannot create {}", ctx.config.data_dir.display()))?;
        let status_path = ctx.config.data_dir.join("detect-status.json");
        Ok(Detection {
            stream,
            matcher,
            stop,
            tasks,
            status_path,
        })
    }

    /// A handle for pushing events into the pipeline (the HTTP API's ingest route).
    pub fn ingest(&self) -> rampart_detect::ingest::Ingest {
        self.stream.ingest()
    }

    /// The matcher, for metrics read at scrape time.
    pub fn matcher(&self) -> Matcher {
        self.matcher.clone()
    }

    /// Writes the status file (the pipeline's counters and the matcher's figures) and copies
    /// the same snapshot into the metrics, so that both always agree.
    pub fn write_status(&self) {
        let stream = self.stream.status();
        stream.publish();
        let status = serde_json::json!({
            "at": Timestamp::now(),
            "stream": stream,
            "matcher": self.matcher.stats(),
        });
        if let Ok(text) = serde_json::to_string_pretty(&status) {
            let temporary = self.status_path.with_extension("json.tmp");
            if std::fs::write(&temporary, text).is_ok() {
                let _ = std::fs::rename(&temporary, &self.status_path);
            }
        }
    }

    /// Stops inputs, drains the queue, flushes alerts.
    pub async fn stop(self) {
        let status = self.stream.shutdown().await;
        status.publish();
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let matcher = self.matcher.stats();
        let status =
            serde_json::json!({"at": Timestamp::now(), "stream": status, "matcher": matcher});
        if let Ok(text) = serde_json::to_string_pretty(&status) {
            let _ = std::fs::write(&self.status_path, text);
        }
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn until(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

async fn load_rules(config: &DetectConfig) -> anyhow::Result<Option<Arc<RuleSet>>> {
    if config.rule_packs.is_empty() {
        return Ok(None);
    }
    let paths: Vec<PathBuf> = config.rule_packs.iter().map(|p| p.path.clone()).collect();
    let sigma_config = sigma::Config {
        placeholders: config.placeholders.clone(),
        ..Default::default()
    };
    let (rules, failures) =
        tokio::task::spawn_blocking(move || RuleSet::load_dir(&paths, &sigma_config)).await?;
    for failure in &failures {
        tracing::warn!(
            path = %failure.path.display(),
            reason = failure.reason,
            "Sigma rule not compiled"
        );
    }
    crate::say!(
        "rampart serve: {} Sigma rules compiled, {} not compiled (see the log)",
        rules.len(),
        failures.len()
    );
    Ok(Some(Arc::new(rules)))
}

/// Alerts to the store (through a channel, so the pipeline never waits on the database) and
/// to the configured file.
struct Sinks {
    /// Each alert, and whether it was just raised (rather than a repeat).
    store: mpsc::UnboundedSender<(Alert, bool)>,
    file: Option<AlertWriter<std::io::BufWriter<std::fs::File>>>,
}

impl Sinks {
    fn new(
        config: &DetectConfig,
        store: mpsc::UnboundedSender<(Alert, bool)>,
    ) -> anyhow::Result<Sinks> {
        let file = match &config.alerts {
            Some(output) => {
                let format: OutputFormat = output
                    .format
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("[detect.alerts] {e}"))?;
                if let Some(parent) = output.path.parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent)?;
                }
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&output.path)
                    .with_context(|| format!("cannot open {}", output.path.display()))?;
                Some(AlertWriter::new(format, std::io::BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Sinks { store, file })
    }
}

impl AlertSink for Sinks {
    fn alert(&mut self, alert: &Alert, new: bool) {
        let _ = self.store.send((alert.clone(), new));
        // The file gets each alert once, when it is raised; the store also gets final counts.
        if new && let Some(file) = self.file.as_mut() {
            let written = file.write(alert).and_then(|()| file_flush(file));
            if let Err(error) = written {
                tracing::error!(%error, "cannot write the alert file");
            }
        }
    }
}

fn file_flush(writer: &mut AlertWriter<std::io::BufWriter<std::fs::File>>) -> std::io::Result<()> {
    writer.get_mut().flush()
}

async fn store_alerts(
    store: Arc<dyn Store>,
    mut alerts: mpsc::UnboundedReceiver<(Alert, bool)>,
    raised: Option<mpsc::UnboundedSender<Alert>>,
) {
    let mut batch = Vec::new();
    let mut new = Vec::new();
    while let Some(first) = alerts.recv().await {
        let mut next = Some(first);
        while let Some((alert, is_new)) = next.take() {
            if is_new {
                new.push(alert.clone());
            }
            batch.push(alert);
            if batch.len() < 500 {
                next = alerts.try_recv().ok();
            }
        }
        let mut delay = Duration::from_millis(200);
        // The database may be briefly unavailable; alerts wait rather than vanish.
        while let Err(error) = store.record_alerts(&batch).await {
            tracing::warn!(%error, alerts = batch.len(), "cannot store alerts; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
        }
        batch.clear();
        // Only once stored: playbooks read the alert back with its id.
        for alert in new.drain(..) {
            if let Some(raised) = &raised {
                let _ = raised.send(alert);
            }
        }
    }
}

/// New indicators for retro-hunts, from the store's change feed. The position is kept in a
/// file so indicators imported while `serve` was down are swept at the next start.
struct StoreFeed {
    store: Arc<dyn Store>,
    cursor: ChangeCursor,
    path: PathBuf,
}

impl StoreFeed {
    async fn open(store: Arc<dyn Store>, path: PathBuf) -> anyhow::Result<StoreFeed> {
        let saved = std::fs::read_to_string(&path).ok().and_then(|text| {
            let (seq, after_id) = text.trim().split_once(' ')?;
            Some(ChangeCursor {
                seq: seq.parse().ok()?,
                after_id: after_id.parse().ok()?,
            })
        });
        let cursor = match saved {
            Some(cursor) => cursor,
            // First start: what is in the store now was matched live from the start.
            None => store.change_cursor().await?,
        };
        Ok(StoreFeed {
            store,
            cursor,
            path,
        })
    }

    async fn batch(&mut self) -> Vec<Entry> {
        let mut entries = Vec::new();
        let now = Timestamp::now();
        loop {
            match self.store.indicators_changed_since(self.cursor, 5000).await {
                Ok(page) => {
                    let full = page.indicators.len() >= 5000;
                    entries.extend(
                        page.indicators
                            .iter()
                            .filter_map(|indicator| Entry::from_stored(indicator, now)),
                    );
                    self.cursor = page.next;
                    if !full {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "retro-hunt: cannot read new indicators");
                    break;
                }
            }
        }
        let _ = std::fs::write(
            &self.path,
            format!("{} {}\n", self.cursor.seq, self.cursor.after_id),
        );
        entries
    }
}

impl IndicatorFeed for StoreFeed {
    fn new_indicators(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Entry>> + Send + '_>> {
        Box::pin(self.batch())
    }

    fn already_alerted(
        &mut self,
        keys: Vec<String>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<String>> + Send + '_>> {
        Box::pin(async move {
            match self.store.alert_keys_present(&keys).await {
                Ok(present) => present,
                Err(error) => {
                    // Better a repeated retro alert than a lost one.
                    tracing::warn!(%error, "retro-hunt: cannot check earlier alerts");
                    Vec::new()
                }
            }
        })
    }
}
