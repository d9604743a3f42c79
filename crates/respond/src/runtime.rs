//! The respond stage running beside detection in `rampart serve`: the playbook engine, the
//! block-list publisher, and the tasks that feed them — new and changed intel from the store's
//! change feed, new alerts from detection, expiries, and renderings when lists change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use rampart_matcher::Entry;
use rampart_model::Alert;
use rampart_store::{ChangeCursor, SearchQuery, Store, StoreError, StoredIndicator};
use tokio::sync::{Notify, mpsc};

use crate::blocklist::publisher::{Enforceable, Publisher};
use crate::config::RespondConfig;
use crate::playbook::{
    ActionServices, Engine, EngineSettings, Guardrails, Library, PlaybookError, References, Subject,
};

/// How often the change feed is read when it had nothing new.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How often expired blocks are swept, scheduled playbooks started when due, and every list's
/// store revision compared.
const SWEEP_INTERVAL: Duration = Duration::from_secs(15);
/// How often every indicator is read again: scores decay and `valid_until` passes without a
/// change in the store, so the lists' automatic part and the blocks of indicators that lapsed
/// are brought up to date this often.
const RECHECK_INTERVAL: Duration = Duration::from_secs(600);

/// The respond stage's handle: cheap to clone, shared with the HTTP routes.
#[derive(Clone)]
pub struct Responder {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: RespondConfig,
    engine: Engine,
    publisher: Arc<Publisher>,
    references: References,
    playbook_errors: RwLock<Vec<PlaybookError>>,
    changed: Notify,
    alerts: mpsc::UnboundedSender<Alert>,
    /// When each scheduled playbook last started (or was first seen).
    schedules: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl Responder {
    /// Loads the playbooks, resumes unfinished runs, renders every list once and starts the
    /// feeding tasks, which stop when `stop` completes. `references` names the channels,
    /// destinations, lookups and case templates configured outside `[respond]`; `cursor` is
    /// the file that keeps the change-feed position across restarts.
    pub async fn start(
        store: Arc<dyn Store>,
        config: RespondConfig,
        services: Arc<dyn ActionServices>,
        mut references: References,
        cursor: PathBuf,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(Responder, tokio::task::JoinHandle<()>), StoreError> {
        references.lists = config
            .blocklists
            .iter()
            .map(|list| list.name.clone())
            .collect();
        let settings = EngineSettings {
            dry_run: config.dry_run,
            list_expiry: config
                .blocklists
                .iter()
                .map(|list| (list.name.clone(), list.default_expiry.map(|span| span.0)))
                .collect(),
        };
        let engine = Engine::new(store.clone(), services, settings);
        let publisher = Arc::new(Publisher::new(
            store.clone(),
            config.blocklists.clone(),
            config.render.clone(),
        ));
        let (alerts, alerts_received) = mpsc::unbounded_channel();
        let responder = Responder {
            inner: Arc::new(Inner {
                store: store.clone(),
                config,
                engine,
                publisher,
                references,
                playbook_errors: RwLock::new(Vec::new()),
                changed: Notify::new(),
                alerts,
                schedules: Default::default(),
            }),
        };
        responder.refresh_guardrails().await?;
        for error in responder.reload_playbooks() {
            tracing::warn!(%error, "playbook not loaded");
        }
        let resumed = responder
            .inner
            .engine
            .resume()
            .await
            .map_err(engine_store_error)?;
        if resumed > 0 {
            tracing::info!(runs = resumed, "playbook runs resumed");
        }
        let cursor_position = read_cursor(store.as_ref(), &cursor).await?;
        if responder.inner.publisher.wants_indicators() {
            let entries = enforceable(store.as_ref()).await?;
            responder.inner.publisher.replace_enforceable(entries);
        }
        responder.inner.publisher.sync_revisions().await?;
        responder.publish().await;
        let task = tokio::spawn(responder.clone().run(
            cursor_position,
            cursor,
            alerts_received,
            stop,
        ));
        Ok((responder, task))
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn publisher(&self) -> &Arc<Publisher> {
        &self.inner.publisher
    }

    pub fn config(&self) -> &RespondConfig {
        &self.inner.config
    }

    /// Where new alerts go to start playbooks (after they are stored).
    pub fn alert_sender(&self) -> mpsc::UnboundedSender<Alert> {
        self.inner.alerts.clone()
    }

    /// The problems of the last playbook load.
    pub fn playbook_errors(&self) -> Vec<PlaybookError> {
        self.inner
            .playbook_errors
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Loads the playbook directory again; files that no longer load keep their previous
    /// version. Returns the problems found.
    pub fn reload_playbooks(&self) -> Vec<PlaybookError> {
        let Some(dir) = &self.inner.config.playbooks else {
            return Vec::new();
        };
        let previous = self.inner.engine.library();
        let (library, errors) = Library::load_dir(dir, &self.inner.references, Some(&previous));
        self.inner.engine.set_library(library);
        *self
            .inner
            .playbook_errors
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = errors.clone();
        errors
    }

    /// The names playbooks may refer to.
    pub fn references(&self) -> &References {
        &self.inner.references
    }

    /// Reads the asset inventory again into the never-block guardrail.
    pub async fn refresh_guardrails(&self) -> Result<(), StoreError> {
        let mut guardrails = Guardrails::new(self.inner.config.guardrails.clone());
        for asset in self.inner.store.assets().await? {
            let names: Vec<String> = asset
                .hostnames
                .iter()
                .chain(&asset.domains)
                .cloned()
                .collect();
            guardrails.protect_asset(&asset.name, &asset.networks, &names);
        }
        self.inner.engine.set_guardrails(guardrails);
        Ok(())
    }

    /// Asks for a rendering of the lists whose entries changed (a block made by hand).
    pub fn blocks_changed(&self) {
        self.inner.changed.notify_one();
    }

    /// Renders the dirty lists now.
    async fn publish(&self) {
        match self.inner.publisher.refresh().await {
            Ok((report, waits)) => {
                for error in &report.errors {
                    tracing::error!(%error, "block list not published");
                }
                for wait in waits {
                    crate::telemetry::BlocklistPublished::record(wait);
                }
            }
            Err(error) => tracing::warn!(%error, "block lists not rendered; trying again"),
        }
    }

    async fn run(
        self,
        mut cursor: ChangeCursor,
        cursor_path: PathBuf,
        mut alerts: mpsc::UnboundedReceiver<Alert>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut blocks = self.inner.engine.watch_blocks();
        let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
        let mut poll = tokio::time::interval(POLL_INTERVAL);
        let mut recheck = tokio::time::interval(RECHECK_INTERVAL);
        recheck.tick().await;
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = poll.tick() => {
                    match self.follow_intel(cursor).await {
                        Ok(next) if next != cursor => {
                            cursor = next;
                            write_cursor(&cursor_path, cursor);
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "respond: cannot read intel changes"),
                    }
                }
                Some(alert) = alerts.recv() => self.alert_raised(alert).await,
                Ok(()) = blocks.changed() => {
                    if let Err(error) = self.inner.publisher.sync_revisions().await {
                        tracing::warn!(%error, "respond: cannot read block-list revisions");
                    }
                }
                () = self.inner.changed.notified() => {
                    let _ = self.inner.publisher.sync_revisions().await;
                }
                _ = sweep.tick() => {
                    // Assets imported meanwhile are protected from then on.
                    if let Err(error) = self.refresh_guardrails().await {
                        tracing::warn!(%error, "respond: cannot read the asset inventory");
                    }
                    if let Err(error) = self.inner.engine.expire_blocks().await {
                        tracing::warn!(%error, "respond: cannot expire blocks");
                    }
                    let _ = self.inner.publisher.sync_revisions().await;
                    self.start_scheduled().await;
                }
                _ = recheck.tick() => {
                    if let Err(error) = self.recheck().await {
                        tracing::warn!(%error, "respond: cannot re-read the indicators");
                    }
                }
            }
            if self.inner.publisher.is_dirty() {
                self.publish().await;
            }
        }
    }

    /// Starts each enabled scheduled playbook whose period has passed since its last start (or
    /// since it was first seen: a scheduled playbook runs one period after the start, then
    /// every period); returns the runs started. `serve` calls this every 15 seconds.
    pub async fn start_scheduled(&self) -> Vec<i64> {
        let mut started = Vec::new();
        let library = self.inner.engine.library();
        for playbook in library.iter() {
            let crate::playbook::definition::Trigger::Schedule(schedule) = &playbook.spec.trigger
            else {
                continue;
            };
            if !playbook.spec.enabled {
                continue;
            }
            let period = schedule.every.0.unsigned_abs();
            {
                let mut last = self
                    .inner
                    .schedules
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                let since = *last
                    .entry(playbook.name().to_owned())
                    .or_insert_with(std::time::Instant::now);
                if since.elapsed() < period {
                    continue;
                }
                last.insert(playbook.name().to_owned(), std::time::Instant::now());
            }
            let facts = crate::playbook::Facts::of(&Subject::Schedule {
                name: playbook.name().to_owned(),
            });
            if !playbook
                .spec
                .conditions
                .iter()
                .all(|condition| condition.holds(&facts))
            {
                continue;
            }
            let trigger = serde_json::json!({ "type": "schedule", "label": playbook.name() });
            match self.inner.engine.start(playbook, &facts, trigger).await {
                Ok(id) => started.push(id),
                Err(error) => {
                    tracing::warn!(%error, playbook = playbook.name(), "respond: scheduled run not started");
                }
            }
        }
        started
    }

    /// Reads every indicator again: the lists' automatic part gets today's scores, and the
    /// blocks of indicators that lapsed (`valid_until` passed, every source gone) are rolled
    /// back. Values blocked by hand that are no indicator at all stay.
    pub async fn recheck(&self) -> Result<usize, StoreError> {
        if self.inner.publisher.wants_indicators() {
            let entries = enforceable(self.inner.store.as_ref()).await?;
            self.inner.publisher.replace_enforceable(entries);
        }
        let now = Timestamp::now();
        let mut lapsed = std::collections::BTreeSet::new();
        let mut query = rampart_store::BlockQuery {
            standing_at: Some(now),
            limit: 1000,
            ..Default::default()
        };
        loop {
            let page = self.inner.store.blocks(&query).await?;
            let Some(last) = page.last() else { break };
            query.after_id = Some(last.id);
            let full = page.len() >= 1000;
            for entry in page {
                if lapsed.contains(&entry.indicator) {
                    continue;
                }
                if let Some(stored) = self.inner.store.indicator(&entry.indicator).await?
                    && Entry::from_stored(&stored, now).is_none()
                {
                    lapsed.insert(entry.indicator);
                }
            }
            if !full {
                break;
            }
        }
        let mut removed = 0;
        for indicator in &lapsed {
            let reason = "indicator lapsed: no active source vouches for it any more";
            match self
                .inner
                .engine
                .unblock_indicator(indicator, "rampart", reason)
                .await
            {
                Ok(entries) => removed += entries.len(),
                Err(error) => tracing::warn!(%error, "respond: blocks not rolled back"),
            }
        }
        Ok(removed)
    }

    /// Applies every intel change since `cursor`: the lists' automatic part, playbooks for
    /// new or changed indicators, and unblocking of values no longer enforceable.
    async fn follow_intel(&self, mut cursor: ChangeCursor) -> Result<ChangeCursor, StoreError> {
        loop {
            let page = self
                .inner
                .store
                .indicators_changed_since(cursor, 5000)
                .await?;
            let now = Timestamp::now();
            for stored in &page.indicators {
                self.indicator_changed(stored, now).await;
            }
            let full = page.indicators.len() >= 5000;
            cursor = page.next;
            if !full {
                return Ok(cursor);
            }
        }
    }

    async fn indicator_changed(&self, stored: &StoredIndicator, now: Timestamp) {
        let entry = Entry::from_stored(stored, now);
        self.inner.publisher.indicator_changed(
            stored.id,
            entry.as_ref().map(|entry| Enforceable {
                id: entry.id,
                indicator: stored.indicator.clone(),
                score: entry.score,
            }),
        );
        match entry {
            Some(entry) => {
                let subject = Subject::Indicator {
                    indicator: stored.clone(),
                    score: f64::from(entry.score),
                };
                if let Err(error) = self.inner.engine.handle(&subject).await {
                    tracing::warn!(%error, indicator = stored.indicator.value(), "respond: playbooks not started");
                }
            }
            None => {
                let reason = match &stored.suppressed {
                    Some(reason) => format!("indicator suppressed: {reason}"),
                    None => "indicator revoked, withdrawn or expired".to_owned(),
                };
                if let Err(error) = self
                    .inner
                    .engine
                    .unblock_indicator(&stored.indicator, "rampart", &reason)
                    .await
                {
                    tracing::warn!(%error, indicator = stored.indicator.value(), "respond: blocks not rolled back");
                }
            }
        }
    }

    async fn alert_raised(&self, alert: Alert) {
        let stored = match self
            .inner
            .store
            .alert_by_key(&alert.key, alert.first_seen)
            .await
        {
            Ok(Some(stored)) => stored,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%error, "respond: cannot read a new alert");
                return;
            }
        };
        let subject = Subject::Alert {
            alert: Box::new(stored),
            host: None,
        };
        if let Err(error) = self.inner.engine.handle(&subject).await {
            tracing::warn!(%error, "respond: playbooks not started for an alert");
        }
    }
}

fn engine_store_error(error: crate::playbook::EngineError) -> StoreError {
    match error {
        crate::playbook::EngineError::Store(error) => error,
        other => StoreError::Config(other.to_string()),
    }
}

/// Every enforceable indicator, for the automatic part of lists.
async fn enforceable(store: &dyn Store) -> Result<Vec<Enforceable>, StoreError> {
    let mut entries = Vec::new();
    let mut query = SearchQuery {
        limit: 5000,
        ..SearchQuery::default()
    };
    let now = Timestamp::now();
    loop {
        let page = store.search(&query).await?;
        let Some(last) = page.last() else { break };
        query.after_id = Some(last.id);
        let full = page.len() >= 5000;
        for stored in page {
            if let Some(entry) = Entry::from_stored(&stored, now) {
                entries.push(Enforceable {
                    id: stored.id,
                    indicator: stored.indicator,
                    score: entry.score,
                });
            }
        }
        if !full {
            break;
        }
    }
    Ok(entries)
}

/// The saved change-feed position, or the feed's end on a first start (what is in the store
/// already was read in full).
async fn read_cursor(store: &dyn Store, path: &Path) -> Result<ChangeCursor, StoreError> {
    let saved = std::fs::read_to_string(path).ok().and_then(|text| {
        let (seq, after_id) = text.trim().split_once(' ')?;
        Some(ChangeCursor {
            seq: seq.parse().ok()?,
            after_id: after_id.parse().ok()?,
        })
    });
    match saved {
        Some(cursor) => Ok(cursor),
        None => {
            let cursor = store.change_cursor().await?;
            write_cursor(path, cursor);
            Ok(cursor)
        }
    }
}

fn write_cursor(path: &Path, cursor: ChangeCursor) {
    if let Err(error) = crate::blocklist::publish::write_atomically(
        path,
        format!("{} {}\n", cursor.seq, cursor.after_id).as_bytes(),
    ) {
        tracing::warn!(%error, "respond: cannot save the change-feed position");
    }
}
