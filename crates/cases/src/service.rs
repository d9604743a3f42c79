//! [`CaseService`]: the calls the server and playbooks make, on top of the store's
//! [`CaseStore`](rampart_store::CaseStore) and this crate's rules.

use jiff::Timestamp;
use rampart_model::{Alert, Case, CaseStatus, TimelineKind};
use rampart_store::{
    AlertLinks, AlertQuery, CaseQuery, CaseUpdate, MAX_TITLE_CHARS, NewCase, NewTimelineEntry,
    StatusUpdate, Store, StoredAlert,
};
use serde::Serialize;

use crate::export::{CaseBundle, ExportFormat};
use crate::grouping::{Candidate, GroupReason, Placement, place};
use crate::templates::TemplateContext;
use crate::thehive::ImportedAlert;
use crate::{CaseError, CaseSettings};

/// Where alerts were put.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    /// The case, as it is after the alerts were added.
    pub case: Case,
    /// Whether the case was opened for them.
    pub opened: bool,
    pub how: PlacedBy,
    pub links: AlertLinks,
}

/// How alerts found their case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum PlacedBy {
    /// The alert was in this case already.
    AlreadyInCase,
    /// The open case of the campaign key.
    Campaign { campaign: String },
    /// Automatic grouping with the case's alerts.
    Grouped { reason: GroupReason },
    /// No case fitted: a new one was opened with this campaign key.
    NewCase { campaign: String },
}

/// What importing a TheHive alert did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TheHiveImport {
    /// The store id of the recorded alert.
    pub alert_id: i64,
    pub placed: Placed,
    /// Observables new to the case.
    pub observables_added: usize,
    /// Observables of data types Rampart keeps only as the alert's matched text.
    pub observables_kept_as_text: usize,
}

/// The case calls of the server and playbooks, over a store and the case settings. Cheap to
/// make: build one per request or playbook run.
pub struct CaseService<'a> {
    store: &'a dyn Store,
    settings: &'a CaseSettings,
}

/// One line of at most the store's title length: control characters become spaces.
fn title_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TITLE_CHARS)
        .collect();
    let line = line.trim();
    if line.is_empty() {
        "Untitled alert".to_owned()
    } else {
        line.to_owned()
    }
}

impl<'a> CaseService<'a> {
    pub fn new(store: &'a dyn Store, settings: &'a CaseSettings) -> CaseService<'a> {
        CaseService { store, settings }
    }

    /// Opens a case. One without a due date gets its severity's SLA target from now.
    pub async fn open_case(&self, mut case: NewCase) -> Result<Case, CaseError> {
        if case.due.is_none() {
            case.due = self.settings.sla.due_at(case.severity, Timestamp::now());
        }
        Ok(self.store.create_case(&case).await?)
    }

    /// Opens a case from a template, its placeholders filled from `context`.
    pub async fn open_from_template(
        &self,
        template: &str,
        context: &TemplateContext,
        created_by: &str,
        campaign: Option<&str>,
    ) -> Result<Case, CaseError> {
        let template = self
            .settings
            .templates
            .get(template)
            .ok_or_else(|| CaseError::UnknownTemplate(template.to_owned()))?;
        let mut case = template.instantiate(context, created_by);
        case.campaign = campaign.map(str::to_owned);
        self.open_case(case).await
    }

    /// Puts recorded alerts in the open case of `campaign` (a playbook's campaign id, a report
    /// cluster), or opens that case: from `template` when given, else from the first alert.
    /// The case's severity rises to its most severe alert's and it gains their techniques.
    pub async fn add_to_campaign(
        &self,
        campaign: &str,
        alert_ids: &[i64],
        actor: &str,
        template: Option<(&str, &TemplateContext)>,
    ) -> Result<Placed, CaseError> {
        let mut alerts = Vec::with_capacity(alert_ids.len());
        for id in alert_ids {
            alerts.push(self.alert(*id).await?);
        }
        let how = PlacedBy::Campaign {
            campaign: campaign.to_owned(),
        };
        if let Some(case) = self.store.open_case_for_campaign(campaign).await? {
            return self.join(case, &alerts, actor, how).await;
        }
        let mut new_case = match (template, alerts.first()) {
            (Some((name, context)), _) => {
                let template = self
                    .settings
                    .templates
                    .get(name)
                    .ok_or_else(|| CaseError::UnknownTemplate(name.to_owned()))?;
                template.instantiate(context, actor)
            }
            (None, Some(first)) => case_for_alert(first, actor),
            (None, None) => {
                return Err(CaseError::Invalid(format!(
                    "campaign {campaign:?}: no alert to open its case from"
                )));
            }
        };
        new_case.campaign = Some(campaign.to_owned());
        let case = self.open_case(new_case).await?;
        let mut placed = self.join(case, &alerts, actor, how).await?;
        placed.opened = true;
        Ok(placed)
    }

    /// Puts one recorded alert in a case by automatic grouping ([`crate::grouping`]): the open
    /// case it shares indicators with or whose alerts are the same rule on the same host
    /// within the window; else the open case of its campaign key; else a new case opened from
    /// it. An alert that is in a case already stays there.
    pub async fn group_alert(&self, alert_id: i64, actor: &str) -> Result<Placed, CaseError> {
        let alert = self.alert(alert_id).await?;
        self.place_alert(&alert, actor, None).await
    }

    /// Closes a case as resolved or false positive, with what was found and done.
    pub async fn close_case(
        &self,
        id: i64,
        status: CaseStatus,
        resolution: &str,
        actor: &str,
    ) -> Result<Case, CaseError> {
        if !matches!(status, CaseStatus::Resolved | CaseStatus::FalsePositive) {
            return Err(CaseError::Invalid(format!(
                "case {id}: close as resolved or false_positive, not {status} (merge duplicates)"
            )));
        }
        if resolution.trim().is_empty() {
            return Err(CaseError::Invalid(format!(
                "case {id}: closing needs a resolution summary"
            )));
        }
        let update = StatusUpdate {
            status,
            duplicate_of: None,
            resolution: Some(resolution.trim().to_owned()),
        };
        Ok(self.store.set_case_status(id, &update, actor).await?)
    }

    /// Imports a TheHive-compatible alert body: records the alert, groups it into a case (a
    /// new case takes the body's title, description, severity, TLP, PAP and tags) and adds its
    /// indicator observables to that case. Posting the same alert again (same source, reference
    /// and date) updates it in place.
    pub async fn import_thehive(
        &self,
        body: &[u8],
        actor: &str,
    ) -> Result<TheHiveImport, CaseError> {
        let imported = ImportedAlert::from_json(body, Timestamp::now())?;
        let alert = imported.to_alert();
        self.store
            .record_alerts(std::slice::from_ref(&alert))
            .await?;
        let stored = self
            .store
            .alert_by_key(&alert.key, alert.first_seen)
            .await?
            .ok_or_else(|| CaseError::Invalid("the imported alert was not recorded".into()))?;
        let mut seed = NewCase::new(imported.title.clone(), imported.severity, actor);
        seed.description.clone_from(&imported.description);
        seed.tlp = imported.tlp;
        seed.pap = imported.pap;
        seed.tags.clone_from(&imported.tags);
        seed.techniques = imported.techniques();
        let placed = self.place_alert(&stored, actor, Some(seed)).await?;
        let mut observables_added = 0;
        for observable in &imported.observables {
            let (_, new) = self
                .store
                .add_observable(placed.case.id, observable, actor)
                .await?;
            observables_added += usize::from(new);
        }
        Ok(TheHiveImport {
            alert_id: stored.id,
            placed,
            observables_added,
            observables_kept_as_text: imported.other_observables.len(),
        })
    }

    /// A case with its tasks, observables, alerts and timeline, for a page or an export. Read
    /// in several queries: a change landing meanwhile may show in one part only.
    pub async fn bundle(&self, id: i64) -> Result<CaseBundle, CaseError> {
        let case = self
            .store
            .case(id)
            .await?
            .ok_or(rampart_store::StoreError::UnknownCase(id))?;
        Ok(CaseBundle {
            case,
            tasks: self.store.tasks(id).await?,
            observables: self.store.observables(id).await?,
            alerts: self.store.alerts_of_case(id).await?,
            timeline: self.store.timeline(id).await?,
        })
    }

    /// Renders a case and records the export in its timeline.
    pub async fn export(
        &self,
        id: i64,
        format: ExportFormat,
        actor: &str,
    ) -> Result<String, CaseError> {
        let bundle = self.bundle(id).await?;
        let rendered = format.renderer().render(&bundle);
        let entry = NewTimelineEntry {
            at: Timestamp::now(),
            actor: actor.to_owned(),
            kind: TimelineKind::Exported,
            message: format!("exported as {}", format.as_str()),
            detail: serde_json::json!({ "format": format, "bytes": rendered.len() }),
        };
        self.store.add_timeline(id, &entry).await?;
        Ok(rendered)
    }

    /// A recorded alert by its store id.
    async fn alert(&self, id: i64) -> Result<StoredAlert, CaseError> {
        // Alerts are listed by id: the first after `id - 1` is `id` if it exists.
        let query = AlertQuery {
            after_id: Some(id.saturating_sub(1)),
            limit: 1,
            ..AlertQuery::default()
        };
        let page = self.store.alerts(&query).await?;
        page.into_iter()
            .find(|alert| alert.id == id)
            .ok_or(CaseError::UnknownAlert(id))
    }

    /// Groups one alert; a new case is opened from `seed` when given, else from the alert.
    async fn place_alert(
        &self,
        stored: &StoredAlert,
        actor: &str,
        seed: Option<NewCase>,
    ) -> Result<Placed, CaseError> {
        if let Some(link) = self.store.case_of_alert(stored.id).await?
            && let Some(case) = self.store.case(link.case_id).await?
        {
            return Ok(Placed {
                case,
                opened: false,
                how: PlacedBy::AlreadyInCase,
                links: AlertLinks {
                    already: vec![stored.id],
                    ..AlertLinks::default()
                },
            });
        }
        let grouping = &self.settings.grouping;
        let open = self
            .store
            .cases(&CaseQuery {
                open_only: true,
                newest_first: true,
                limit: grouping.max_candidates.max(1),
                ..CaseQuery::default()
            })
            .await?;
        let mut alerts_of_cases: Vec<(i64, Vec<Alert>)> = Vec::with_capacity(open.len());
        for case in &open {
            let alerts = self.store.alerts_of_case(case.id).await?;
            alerts_of_cases.push((case.id, alerts.into_iter().map(|l| l.alert.alert).collect()));
        }
        let candidates: Vec<Candidate<'_>> = alerts_of_cases
            .iter()
            .map(|(case_id, alerts)| Candidate {
                case_id: *case_id,
                alerts,
            })
            .collect();
        let alerts = std::slice::from_ref(stored);
        match place(&stored.alert, &candidates, grouping) {
            Placement::Join { case_id, reason } => {
                let case = open
                    .into_iter()
                    .find(|case| case.id == case_id)
                    .ok_or(rampart_store::StoreError::UnknownCase(case_id))?;
                self.join(case, alerts, actor, PlacedBy::Grouped { reason })
                    .await
            }
            Placement::OpenNew { campaign } => {
                if let Some(case) = self.store.open_case_for_campaign(&campaign).await? {
                    return self
                        .join(case, alerts, actor, PlacedBy::Campaign { campaign })
                        .await;
                }
                let mut new_case = seed.unwrap_or_else(|| case_for_alert(stored, actor));
                new_case.campaign = Some(campaign.clone());
                let case = self.open_case(new_case).await?;
                let mut placed = self
                    .join(case, alerts, actor, PlacedBy::NewCase { campaign })
                    .await?;
                placed.opened = true;
                Ok(placed)
            }
        }
    }

    /// Links alerts to a case, raising its severity and adding their techniques.
    async fn join(
        &self,
        case: Case,
        alerts: &[StoredAlert],
        actor: &str,
        how: PlacedBy,
    ) -> Result<Placed, CaseError> {
        let ids: Vec<i64> = alerts.iter().map(|stored| stored.id).collect();
        let links = self.store.link_alerts(case.id, &ids, actor).await?;
        let most_severe = alerts.iter().map(|stored| stored.alert.severity).max();
        let mut techniques = case.techniques.clone();
        for stored in alerts {
            for technique in &stored.alert.techniques {
                if !techniques.contains(technique) {
                    techniques.push(technique.clone());
                }
            }
        }
        let update = CaseUpdate {
            severity: most_severe.filter(|severity| *severity > case.severity),
            techniques: (techniques != case.techniques).then_some(techniques),
            ..CaseUpdate::default()
        };
        let case = if update == CaseUpdate::default() {
            self.store.case(case.id).await?.unwrap_or(case)
        } else {
            self.store.update_case(case.id, &update, actor).await?
        };
        Ok(Placed {
            case,
            opened: false,
            how,
            links,
        })
    }
}

/// A case opened for one alert: its label as title, its severity and techniques.
fn case_for_alert(stored: &StoredAlert, actor: &str) -> NewCase {
    let alert = &stored.alert;
    let mut case = NewCase::new(title_line(&alert.detection.label()), alert.severity, actor);
    case.techniques = alert.techniques.clone();
    case.description = format!(
        "Opened for alert {} ({} on {}, first seen {}).",
        stored.id, alert.severity, alert.event.source, alert.first_seen
    );
    case
}
