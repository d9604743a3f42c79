//! The engine: starts runs for the subjects that fire a playbook, drives each run through its
//! actions on a task of its own (so a slow webhook never stalls another playbook), persists
//! every step, retries failed actions with back-off, pauses at approvals, and resumes what was
//! unfinished after a restart. Every action, done or failed, is in the audit log.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rampart_model::Indicator;
use rampart_store::{
    ActionRecord, ActionStatus, AuditEntry, BlockEntry, BlockSelector, NewRun, Removal,
    RunProgress, RunRecord, RunStatus, Store, StoreError,
};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

mod approvals;

use super::actions::{self, Context, Outcome};
use super::definition::Decision;
use super::facts::{Facts, Subject};
use super::guardrails::Guardrails;
use super::load::{Library, Playbook};
use super::services::ActionServices;

/// The longest one attempt of one action may take before it counts as failed (and retried).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// What the engine could not do.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no playbook run {0}")]
    UnknownRun(i64),
    #[error("run {run} is {status}, not waiting for an approval")]
    NotWaiting { run: i64, status: RunStatus },
}

/// How the engine is set up.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// Every run is a dry run, whatever its playbook says.
    pub dry_run: bool,
    /// Each configured block list's default expiry (`None`: until removed).
    pub list_expiry: BTreeMap<String, Option<SignedDuration>>,
}

/// The respond stage's playbook engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    services: Arc<dyn ActionServices>,
    settings: EngineSettings,
    library: RwLock<Arc<Library>>,
    guardrails: RwLock<Arc<Guardrails>>,
    /// Runs waiting for an approval, woken when someone decides.
    waiting: Mutex<HashMap<i64, Arc<Notify>>>,
    /// Serialises the settling of approvals (a decision racing its deadline).
    settling: tokio::sync::Mutex<()>,
    active: AtomicUsize,
    idle: Notify,
    /// Counts block-list changes; renderers watch it.
    blocks_changed: watch::Sender<u64>,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        services: Arc<dyn ActionServices>,
        settings: EngineSettings,
    ) -> Engine {
        let (blocks_changed, _) = watch::channel(0);
        Engine {
            inner: Arc::new(Inner {
                store,
                services,
                settings,
                library: RwLock::new(Arc::new(Library::default())),
                guardrails: RwLock::new(Arc::new(Guardrails::default())),
                waiting: Mutex::new(HashMap::new()),
                settling: tokio::sync::Mutex::new(()),
                active: AtomicUsize::new(0),
                idle: Notify::new(),
                blocks_changed,
            }),
        }
    }

    /// Replaces the playbooks; runs in progress go on with the version they started with
    /// when it is unchanged.
    pub fn set_library(&self, library: Library) {
        *self
            .inner
            .library
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(library);
    }

    pub fn library(&self) -> Arc<Library> {
        self.inner.library()
    }

    pub fn set_guardrails(&self, guardrails: Guardrails) {
        *self
            .inner
            .guardrails
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(guardrails);
    }

    /// The guardrails in force (for blocks made by hand, which obey them too).
    pub fn guardrails(&self) -> Arc<Guardrails> {
        self.inner.guardrails()
    }

    /// A receiver that changes whenever a block list changed through the engine.
    pub fn watch_blocks(&self) -> watch::Receiver<u64> {
        self.inner.blocks_changed.subscribe()
    }

    /// Starts a run of every enabled playbook that `subject` fires and whose conditions hold;
    /// returns the runs started. The runs go on in the background.
    pub async fn handle(&self, subject: &Subject) -> Result<Vec<i64>, EngineError> {
        let facts = Facts::of(subject);
        let library = self.library();
        let mut started = Vec::new();
        for playbook in library.iter() {
            let spec = &playbook.spec;
            if !spec.enabled || !spec.trigger.fires_on(&facts) {
                continue;
            }
            if !spec
                .conditions
                .iter()
                .all(|condition| condition.holds(&facts))
            {
                continue;
            }
            started.push(
                self.start(playbook, &facts, subject_summary(&facts))
                    .await?,
            );
        }
        Ok(started)
    }

    /// Starts one playbook on given facts (a schedule, `playbook test`, a manual run).
    pub async fn start(
        &self,
        playbook: &Playbook,
        facts: &Facts,
        trigger: Value,
    ) -> Result<i64, EngineError> {
        // Templates and services may read which playbook runs (`{{playbook.name}}`).
        let mut facts = facts.clone();
        facts.insert("playbook", json!({ "name": playbook.name() }));
        let run = self
            .inner
            .store
            .create_run(&NewRun {
                playbook: playbook.name().to_owned(),
                digest: playbook.digest.clone(),
                trigger,
                dry_run: playbook.spec.dry_run || self.inner.settings.dry_run,
                started: Timestamp::now(),
                state: facts.root().clone(),
            })
            .await?;
        let id = run.id;
        self.spawn(run);
        Ok(id)
    }

    /// Resumes every unfinished run (after a restart); returns how many.
    pub async fn resume(&self) -> Result<usize, EngineError> {
        let runs = self.inner.store.unfinished_runs().await?;
        let count = runs.len();
        for run in runs {
            self.spawn(run);
        }
        Ok(count)
    }

    /// Records an analyst's decision on a run waiting at an approval and lets it go on.
    pub async fn decide(
        &self,
        run_id: i64,
        decision: Decision,
        actor: &str,
    ) -> Result<RunRecord, EngineError> {
        let settled = self
            .inner
            .settle_approval(run_id, decision, actor, "decided")
            .await?;
        let waiter = self
            .inner
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&run_id)
            .cloned();
        if let Some(waiter) = waiter {
            waiter.notify_one();
        }
        Ok(settled)
    }

    /// Takes everything a run blocked off its lists.
    pub async fn roll_back_run(
        &self,
        run_id: i64,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<BlockEntry>, EngineError> {
        self.unblock(&BlockSelector::Run(run_id), actor, reason)
            .await
    }

    /// Takes a value off every list (its indicator was revoked, suppressed, expired or marked
    /// a false positive), and with a URL the host that a playbook run blocked with it.
    pub async fn unblock_indicator(
        &self,
        indicator: &Indicator,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<BlockEntry>, EngineError> {
        let mut removed = self
            .unblock(&BlockSelector::Indicator(indicator.clone()), actor, reason)
            .await?;
        let host = indicator
            .host()
            .filter(|_| indicator.kind() == rampart_model::IndicatorKind::Url)
            .and_then(|host| Indicator::guess(host).ok());
        let Some(host) = host else {
            return Ok(removed);
        };
        let runs: std::collections::BTreeSet<i64> =
            removed.iter().filter_map(|entry| entry.run_id).collect();
        for run_id in runs {
            let query = rampart_store::BlockQuery {
                run_id: Some(run_id),
                indicator: Some(host.clone()),
                standing_at: Some(Timestamp::now()),
                ..rampart_store::BlockQuery::default()
            };
            let derived: Vec<i64> = self
                .inner
                .store
                .blocks(&query)
                .await?
                .iter()
                .map(|entry| entry.id)
                .collect();
            if !derived.is_empty() {
                let reason = format!("{reason} (the host of {})", indicator.value());
                removed.extend(
                    self.unblock(&BlockSelector::Ids(derived), actor, &reason)
                        .await?,
                );
            }
        }
        Ok(removed)
    }

    async fn unblock(
        &self,
        selector: &BlockSelector,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<BlockEntry>, EngineError> {
        let removal = Removal {
            at: Timestamp::now(),
            by: actor.to_owned(),
            reason: reason.to_owned(),
        };
        let removed = self.inner.store.remove_blocks(selector, &removal).await?;
        if !removed.is_empty() {
            let ids: Vec<i64> = removed.iter().map(|entry| entry.id).collect();
            let entry = AuditEntry::new(actor, "blocklist.unblock")
                .detail(json!({ "entries": ids, "reason": reason }));
            self.inner.audit(entry).await;
            self.inner.blocks_changed.send_modify(|count| *count += 1);
        }
        Ok(removed)
    }

    /// Lets lapsed blocks leave their lists; returns them.
    pub async fn expire_blocks(&self) -> Result<Vec<BlockEntry>, EngineError> {
        let expired = self.inner.store.expire_blocks(Timestamp::now()).await?;
        if !expired.is_empty() {
            let ids: Vec<i64> = expired.iter().map(|entry| entry.id).collect();
            let entry =
                AuditEntry::new("rampart", "blocklist.expire").detail(json!({ "entries": ids }));
            self.inner.audit(entry).await;
            self.inner.blocks_changed.send_modify(|count| *count += 1);
        }
        Ok(expired)
    }

    /// Waits until no run is being driven (all finished, or waiting at an approval or for a
    /// retry that is still asleep counts as active).
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.inner.idle.notified();
            if self.inner.active.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    fn spawn(&self, run: RunRecord) {
        self.inner.active.fetch_add(1, Ordering::SeqCst);
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let run_id = run.id;
            if let Err(err) = inner.drive(run).await {
                tracing::error!(run = run_id, error = %err, "playbook run stopped: the store failed");
            }
            if inner.active.fetch_sub(1, Ordering::SeqCst) == 1 {
                inner.idle.notify_waiters();
            }
        });
    }
}

/// A short description of what started a run, for lists of runs.
fn subject_summary(facts: &Facts) -> Value {
    for (kind, label) in [
        ("alert", "rule"),
        ("indicator", "value"),
        ("report", "subject"),
        ("schedule", "name"),
    ] {
        if facts.first_value(kind).is_some() {
            let id = facts
                .first_value(&format!("{kind}.id"))
                .cloned()
                .unwrap_or(Value::Null);
            let label = facts
                .first_value(&format!("{kind}.{label}"))
                .cloned()
                .unwrap_or(Value::Null);
            return json!({ "type": kind, "id": id, "label": label });
        }
    }
    json!({ "type": "manual" })
}

impl Inner {
    fn library(&self) -> Arc<Library> {
        self.library
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn guardrails(&self) -> Arc<Guardrails> {
        self.guardrails
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    async fn audit(&self, entry: AuditEntry) {
        if let Err(err) = self.store.record_audit(&entry).await {
            tracing::error!(error = %err, action = entry.action, "cannot record a playbook action in the audit log");
        }
    }

    async fn progress(
        &self,
        run: &mut RunRecord,
        status: RunStatus,
        wake: Option<Timestamp>,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let progress = RunProgress {
            status,
            step: run.step,
            state: run.state.clone(),
            at: Timestamp::now(),
            wake,
            error,
        };
        if let Some(updated) = self.store.update_run(run.id, &progress).await? {
            *run = updated;
        }
        Ok(())
    }

    /// Drives a run from its current step to its end, or to a pause it sleeps through.
    async fn drive(self: &Arc<Self>, mut run: RunRecord) -> Result<(), StoreError> {
        let library = self.library();
        let playbook = match library.get(&run.playbook) {
            Some(playbook) if playbook.digest == run.digest => playbook.clone(),
            found => {
                let reason = match found {
                    Some(_) => "the playbook changed while the run was unfinished; start it again",
                    None => "the playbook is no longer loaded",
                };
                return self
                    .progress(
                        &mut run,
                        RunStatus::Cancelled,
                        None,
                        Some(reason.to_owned()),
                    )
                    .await;
            }
        };
        let mut attempts = match self.store.run(run.id).await? {
            Some((_, actions)) => actions
                .iter()
                .find(|action| action.step == run.step)
                .map_or(0, |action| action.attempts),
            None => 0,
        };
        loop {
            if run.status == RunStatus::Waiting {
                self.await_approval(&mut run).await?;
                attempts = 0;
                if run.status.is_finished() {
                    return Ok(());
                }
                continue;
            }
            let Some(spec) = playbook.spec.actions.get(run.step as usize) else {
                return self
                    .progress(&mut run, RunStatus::Succeeded, None, None)
                    .await;
            };
            if run.status == RunStatus::Retrying
                && let Some(wake) = run.wake
            {
                sleep_until(wake).await;
            }
            attempts += 1;
            let facts = Facts::new(run.state.clone());
            let guardrails = self.guardrails();
            let started = Timestamp::now();
            let context = Context {
                store: self.store.as_ref(),
                services: self.services.as_ref(),
                guardrails: &guardrails,
                list_expiry: &self.settings.list_expiry,
                playbook: &playbook,
                run_id: run.id,
                facts: &facts,
                now: started,
                dry_run: run.dry_run,
            };
            let outcome =
                match tokio::time::timeout(ATTEMPT_TIMEOUT, actions::execute(spec, &context)).await
                {
                    Ok(outcome) => outcome,
                    Err(_) => Err(super::services::ActionError::retryable(format!(
                        "no answer within {} s",
                        ATTEMPT_TIMEOUT.as_secs()
                    ))),
                };
            let finished = Timestamp::now();
            let mut record = ActionRecord {
                run_id: run.id,
                step: run.step,
                action: spec.kind().to_owned(),
                status: ActionStatus::Succeeded,
                attempts,
                started,
                finished: Some(finished),
                duration_ms: u64::try_from((finished - started).as_millis()).unwrap_or(0),
                result: Value::Null,
                error: None,
            };
            let actor = format!("playbook:{}", playbook.name());
            let audit = AuditEntry::new(actor, format!("playbook.{}", spec.kind()))
                .target(format!("run {}", run.id));
            match outcome {
                Ok(Outcome::Done { result, learned }) => {
                    record.status = if run.dry_run {
                        ActionStatus::Planned
                    } else {
                        ActionStatus::Succeeded
                    };
                    record.result = result.clone();
                    self.store.record_action(&record).await?;
                    self.audit(audit.detail(
                        json!({ "step": run.step, "dry_run": run.dry_run, "result": result }),
                    ))
                    .await;
                    if spec.kind() == "block" && !run.dry_run {
                        self.blocks_changed.send_modify(|count| *count += 1);
                    }
                    if let Some((key, value)) = learned {
                        let mut facts = facts;
                        facts.insert(key, value);
                        run.state = facts.root().clone();
                    }
                    run.step += 1;
                    attempts = 0;
                    self.progress(&mut run, RunStatus::Running, None, None)
                        .await?;
                }
                Ok(Outcome::Wait {
                    deadline,
                    default,
                    message,
                }) => {
                    record.status = ActionStatus::Waiting;
                    record.finished = None;
                    record.result =
                        json!({ "deadline": deadline, "default": default, "message": message });
                    self.store.record_action(&record).await?;
                    self.audit(audit.detail(
                        json!({ "step": run.step, "waiting_until": deadline, "default": default }),
                    ))
                    .await;
                    self.progress(&mut run, RunStatus::Waiting, Some(deadline), None)
                        .await?;
                }
                Err(err) => {
                    record.error = Some(err.message.clone());
                    let retry = err.retryable && attempts < playbook.spec.retry.attempts;
                    if retry {
                        let wait = playbook.spec.retry.backoff_after(attempts);
                        let wake = finished.checked_add(wait).unwrap_or(finished);
                        record.status = ActionStatus::Retrying;
                        self.store.record_action(&record).await?;
                        self.audit(audit.detail(json!({ "step": run.step, "attempt": attempts, "retry_at": wake })).failed(&err)).await;
                        self.progress(&mut run, RunStatus::Retrying, Some(wake), Some(err.message))
                            .await?;
                    } else {
                        record.status = ActionStatus::Failed;
                        self.store.record_action(&record).await?;
                        self.audit(
                            audit
                                .detail(json!({ "step": run.step, "attempt": attempts }))
                                .failed(&err),
                        )
                        .await;
                        let error = format!(
                            "step {} ({}) failed: {}",
                            run.step + 1,
                            spec.kind(),
                            err.message
                        );
                        return self
                            .progress(&mut run, RunStatus::Failed, None, Some(error))
                            .await;
                    }
                }
            }
        }
    }
}

pub(super) async fn sleep_until(when: Timestamp) {
    let wait = when.duration_since(Timestamp::now());
    if wait.is_positive() {
        tokio::time::sleep(wait.unsigned_abs()).await;
    }
}
