//! Approvals: a run waiting at an `approve` step sleeps until an analyst decides or the
//! deadline passes, and the decision (or the default) is recorded whichever comes first.

use std::sync::Arc;

use jiff::Timestamp;
use rampart_store::{ActionStatus, AuditEntry, RunRecord, RunStatus, StoreError};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{EngineError, Inner, sleep_until};
use crate::playbook::definition::Decision;

impl Inner {
    /// Sleeps until someone decides or the deadline passes (then the default is taken), and
    /// reloads the run as settled.
    pub(super) async fn await_approval(
        self: &Arc<Self>,
        run: &mut RunRecord,
    ) -> Result<(), StoreError> {
        let waiter = Arc::new(Notify::new());
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(run.id, waiter.clone());
        let deadline = run.wake.unwrap_or_else(Timestamp::now);
        loop {
            let current = self.store.run(run.id).await?.map(|(record, _)| record);
            match current {
                Some(current) if current.status == RunStatus::Waiting => {}
                Some(current) => {
                    *run = current;
                    break;
                }
                None => break,
            }
            if Timestamp::now() >= deadline {
                let default = self
                    .pending_default(run.id)
                    .await?
                    .unwrap_or(Decision::Reject);
                match self
                    .settle_approval(run.id, default, "rampart", "deadline passed")
                    .await
                {
                    Ok(settled) => *run = settled,
                    Err(EngineError::Store(err)) => return Err(err),
                    // Someone decided meanwhile: read it on the next turn.
                    Err(_) => continue,
                }
                break;
            }
            tokio::select! {
                _ = waiter.notified() => {}
                _ = sleep_until(deadline) => {}
            }
        }
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&run.id);
        Ok(())
    }

    async fn pending_default(&self, run_id: i64) -> Result<Option<Decision>, StoreError> {
        let Some((run, actions)) = self.store.run(run_id).await? else {
            return Ok(None);
        };
        let pending = actions.iter().find(|action| action.step == run.step);
        Ok(pending
            .and_then(|action| action.result.get("default").cloned())
            .and_then(|default| serde_json::from_value(default).ok()))
    }

    /// Records the decision on a waiting run: approved, it goes on with the next step;
    /// rejected, it is cancelled.
    pub(super) async fn settle_approval(
        &self,
        run_id: i64,
        decision: Decision,
        actor: &str,
        how: &str,
    ) -> Result<RunRecord, EngineError> {
        let _serial = self.settling.lock().await;
        let (mut run, actions) = self
            .store
            .run(run_id)
            .await?
            .ok_or(EngineError::UnknownRun(run_id))?;
        if run.status != RunStatus::Waiting {
            return Err(EngineError::NotWaiting {
                run: run_id,
                status: run.status,
            });
        }
        let now = Timestamp::now();
        if let Some(mut action) = actions.into_iter().find(|action| action.step == run.step) {
            action.status = match decision {
                Decision::Approve => ActionStatus::Succeeded,
                Decision::Reject => ActionStatus::Failed,
            };
            action.finished = Some(now);
            action.duration_ms = u64::try_from((now - action.started).as_millis()).unwrap_or(0);
            if let Value::Object(result) = &mut action.result {
                result.insert("decision".into(), json!(decision));
                result.insert("by".into(), json!(actor));
                result.insert("how".into(), json!(how));
            }
            self.store.record_action(&action).await?;
        }
        let entry = AuditEntry::new(actor, "playbook.approval")
            .target(format!("run {run_id}"))
            .detail(json!({ "playbook": run.playbook, "decision": decision, "how": how }));
        self.audit(entry).await;
        let (status, error) = match decision {
            Decision::Approve => {
                run.step += 1;
                (RunStatus::Running, None)
            }
            Decision::Reject => (
                RunStatus::Cancelled,
                Some(format!("approval rejected by {actor} ({how})")),
            ),
        };
        self.progress(&mut run, status, None, error).await?;
        Ok(run)
    }
}
