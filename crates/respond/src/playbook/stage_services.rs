//! The services actions take from the other stages: `case` opens or joins incident cases
//! through the cases stage, `retro_hunt` sweeps detection's event archive for the run's values
//! and puts what it finds in the run's case.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use rampart_cases::{CaseService, CaseSettings, TemplateContext};
use rampart_detect::archive::ArchiveConfig;
use rampart_matcher::Entry;
use rampart_model::Indicator;
use rampart_store::{NewObservable, Store};
use serde_json::{Value, json};

use super::facts::Facts;
use super::services::{ActionError, ActionServices, CaseRequest};

/// Cases and retro-hunts for playbook actions.
pub struct StageServices {
    store: Arc<dyn Store>,
    cases: CaseSettings,
    /// Detection's event archive; `None`: retro-hunts fail with a clear error.
    archive: Option<ArchiveConfig>,
    /// Held while a case is found or opened: two runs of one campaign at once must not open
    /// two cases (the store's lookup and creation are two steps).
    opening: tokio::sync::Mutex<()>,
}

impl StageServices {
    pub fn new(
        store: Arc<dyn Store>,
        cases: CaseSettings,
        archive: Option<ArchiveConfig>,
    ) -> StageServices {
        StageServices {
            store,
            cases,
            archive,
            opening: tokio::sync::Mutex::new(()),
        }
    }

    /// The case templates playbooks may name.
    pub fn case_templates(&self) -> Vec<String> {
        self.cases
            .templates
            .iter()
            .map(|template| template.name.clone())
            .collect()
    }
}

fn store_failed(error: impl std::fmt::Display) -> ActionError {
    ActionError::retryable(format!("store: {error}"))
}

#[async_trait]
impl ActionServices for StageServices {
    async fn case(&self, request: &CaseRequest) -> Result<Value, ActionError> {
        let service = CaseService::new(self.store.as_ref(), &self.cases);
        let actor = format!("playbook:{}", request.playbook);
        let first = request
            .observables
            .first()
            .map(|indicator| indicator.value().to_owned())
            .unwrap_or_default();
        let mut context = TemplateContext::new()
            .with("indicator", &first)
            .with("source", &actor);
        if let Some(campaign) = &request.campaign {
            context = context.with("campaign", campaign);
        }
        let alerts: Vec<i64> = request.alert_id.into_iter().collect();
        let opening = self.opening.lock().await;
        let (case, opened) = match &request.campaign {
            Some(campaign) => {
                let placed = service
                    .add_to_campaign(
                        campaign,
                        &alerts,
                        &actor,
                        Some((&request.template, &context)),
                    )
                    .await
                    .map_err(|err| ActionError::permanent(err.to_string()))?;
                (placed.case, placed.opened)
            }
            None => {
                let case = service
                    .open_from_template(&request.template, &context, &actor, None)
                    .await
                    .map_err(|err| ActionError::permanent(err.to_string()))?;
                if !alerts.is_empty() {
                    self.store
                        .link_alerts(case.id, &alerts, &actor)
                        .await
                        .map_err(store_failed)?;
                }
                (case, true)
            }
        };
        let case = match (&request.title, opened) {
            (Some(title), true) => {
                let update = rampart_store::CaseUpdate {
                    title: Some(title.clone()),
                    ..Default::default()
                };
                self.store
                    .update_case(case.id, &update, &actor)
                    .await
                    .map_err(store_failed)?
            }
            _ => case,
        };
        drop(opening);
        for indicator in &request.observables {
            let mut observable = NewObservable::of(indicator.clone());
            observable.ioc = true;
            observable.message = Some(format!(
                "from playbook {} run {}",
                request.playbook, request.run_id
            ));
            self.store
                .add_observable(case.id, &observable, &actor)
                .await
                .map_err(store_failed)?;
        }
        Ok(
            json!({ "id": case.id, "title": case.title, "opened": opened, "campaign": case.campaign }),
        )
    }

    async fn retro_hunt(
        &self,
        values: &[Indicator],
        since: Timestamp,
        facts: &Facts,
    ) -> Result<Value, ActionError> {
        let Some(archive) = self.archive.clone() else {
            return Err(ActionError::permanent(
                "no event archive is configured ([detect.archive])",
            ));
        };
        let now = Timestamp::now();
        let mut entries = Vec::new();
        for value in values {
            let stored = self.store.indicator(value).await.map_err(store_failed)?;
            if let Some(entry) = stored
                .as_ref()
                .and_then(|stored| Entry::from_stored(stored, now))
            {
                entries.push(entry);
            }
        }
        if entries.is_empty() {
            return Ok(
                json!({ "swept": false, "reason": "none of the values is an enforceable indicator" }),
            );
        }
        let swept =
            tokio::task::spawn_blocking(move || rampart_detect::stream::sweep(&archive, &entries))
                .await
                .map_err(|err| ActionError::retryable(format!("retro-hunt task: {err}")))?
                .map_err(|err| ActionError::retryable(format!("retro-hunt: {err}")))?;
        let (found, stats) = swept;
        let recent: Vec<_> = found
            .into_iter()
            .filter(|alert| alert.first_seen >= since)
            .collect();
        // Alerts already raised (by detection's own retro-hunt, or an earlier run) are not
        // recorded twice, but they belong in the run's case all the same.
        let keys: Vec<String> = recent.iter().map(|alert| alert.key.clone()).collect();
        let known = self
            .store
            .alert_keys_present(&keys)
            .await
            .map_err(store_failed)?;
        let new: Vec<_> = recent
            .iter()
            .filter(|alert| !known.contains(&alert.key))
            .cloned()
            .collect();
        self.store.record_alerts(&new).await.map_err(store_failed)?;
        let mut ids = Vec::new();
        for alert in &recent {
            if let Some(stored) = self
                .store
                .alert_by_key(&alert.key, alert.first_seen)
                .await
                .map_err(store_failed)?
            {
                ids.push(stored.id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let case = facts.first_value("case.id").and_then(Value::as_i64);
        if let (Some(case), false) = (case, ids.is_empty()) {
            let actor = facts
                .first_value("playbook.name")
                .and_then(Value::as_str)
                .map_or_else(|| "playbook".to_owned(), |name| format!("playbook:{name}"));
            self.store
                .link_alerts(case, &ids, &actor)
                .await
                .map_err(store_failed)?;
        }
        Ok(json!({
            "events": stats.events,
            "segments": stats.segments,
            "alerts": ids,
            "new_alerts": new.len(),
            "case": case,
        }))
    }
}
