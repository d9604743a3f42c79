//! The runs pages: approvals waiting for a decision (with Approve and Reject forms), recent
//! runs by status, and one run with each of its actions and a form to roll back its blocks.
//! Decisions and roll-backs go through the same code as the API.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use jiff::Timestamp;
use rampart_auth::Action;
use rampart_respond::playbook::Decision;
use rampart_store::{ActionRecord, ActionStatus, RunQuery, RunRecord, RunStatus};
use serde_json::Value;

use super::{Chrome, Form, PageError, html, redirect, when, when_or_never};
use crate::api::playbooks::{decide, roll_back, run_detail, run_page};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Recent runs per page, and the most approvals listed.
const PAGE: u32 = 50;
const MAX_PENDING: u32 = 200;

/// A short line for what started a run: its type, the id and label when it has them
/// (`indicator #12 evil.example`).
pub fn trigger_summary(trigger: &Value) -> String {
    let kind = trigger["type"].as_str().unwrap_or("unknown");
    let mut summary = kind.to_owned();
    match &trigger["id"] {
        Value::Null => {}
        Value::String(id) => summary.push_str(&format!(" #{id}")),
        id => summary.push_str(&format!(" #{id}")),
    }
    match &trigger["label"] {
        Value::Null => {}
        Value::String(label) => summary.push_str(&format!(" {label}")),
        label => summary.push_str(&format!(" {label}")),
    }
    summary
}

/// A run in a list.
pub struct RunRow {
    pub id: i64,
    pub playbook: String,
    pub status: &'static str,
    pub dry_run: bool,
    pub trigger: String,
    pub started: String,
    pub error: Option<String>,
}

impl RunRow {
    fn new(run: &RunRecord, now: Timestamp) -> RunRow {
        RunRow {
            id: run.id,
            playbook: run.playbook.clone(),
            status: run.status.as_str(),
            dry_run: run.dry_run,
            trigger: trigger_summary(&run.trigger),
            started: when(run.started, now),
            error: run.error.clone(),
        }
    }
}

/// What a run waiting at an approval asks: the approval's message and its deadline, from the
/// waiting action's result.
pub struct Approval {
    pub message: String,
    pub deadline: String,
    /// What happens at the deadline without a decision (`approve` or `reject`).
    pub default: String,
}

fn approval(actions: &[ActionRecord], now: Timestamp) -> Option<Approval> {
    let waiting = actions
        .iter()
        .rev()
        .find(|action| action.status == ActionStatus::Waiting)?;
    let result = &waiting.result;
    let deadline = result["deadline"]
        .as_str()
        .and_then(|text| text.parse::<Timestamp>().ok())
        .map_or_else(|| "—".to_owned(), |deadline| when(deadline, now));
    Some(Approval {
        message: result["message"].as_str().unwrap_or_default().to_owned(),
        deadline,
        default: result["default"].as_str().unwrap_or_default().to_owned(),
    })
}

/// A run waiting for a decision.
pub struct PendingRow {
    pub run: RunRow,
    pub approval: Option<Approval>,
}

#[derive(Template)]
#[template(path = "runs.html")]
pub struct RunsPage {
    pub chrome: Option<Chrome>,
    pub can_manage: bool,
    pub pending: Vec<PendingRow>,
    /// The status filter of the recent runs (`all` or a status), and the choices.
    pub filter: String,
    pub filters: Vec<&'static str>,
    /// The playbook the list is narrowed to (empty: all).
    pub playbook: String,
    pub runs: Vec<RunRow>,
    /// The query string of the next (older) page.
    pub next: Option<String>,
    pub notice: Option<String>,
}

/// The flash of a decision, from the redirect's query: only known words and a number, so a
/// crafted link cannot put text on the page.
fn decision_notice(params: &Form) -> Option<String> {
    let id = params.get("decided")?.parse::<i64>().ok()?;
    let decision = params
        .get("decision")
        .filter(|decision| matches!(*decision, "approved" | "rejected"))?;
    Some(format!("Run #{id} {decision}."))
}

/// `GET /runs?status=&playbook=&before=`: approvals waiting for a decision, then recent runs.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let status = params
        .get("status")
        .and_then(|status| status.parse::<RunStatus>().ok());
    let playbook = params.get("playbook").unwrap_or_default().trim().to_owned();
    let before_id = params
        .get("before")
        .and_then(|before| before.parse::<i64>().ok());
    let now = Timestamp::now();

    let waiting = run_page(
        &state,
        RunQuery {
            statuses: vec![RunStatus::Waiting],
            limit: MAX_PENDING,
            ..RunQuery::default()
        },
    )
    .await?;
    let mut pending = Vec::with_capacity(waiting.items.len());
    for run in &waiting.items {
        // A run decided meanwhile is gone from the store's waiting list on the next load.
        let actions = match run_detail(&state, run.id).await {
            Ok(detail) => detail.actions,
            Err(_) => continue,
        };
        pending.push(PendingRow {
            run: RunRow::new(run, now),
            approval: approval(&actions, now),
        });
    }

    let recent = run_page(
        &state,
        RunQuery {
            playbook: (!playbook.is_empty()).then(|| playbook.clone()),
            statuses: status.into_iter().collect(),
            before_id,
            limit: PAGE,
        },
    )
    .await?;
    let filter = status.map_or("all", RunStatus::as_str).to_owned();
    let next = recent.next.map(|before| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(status) = status {
            query.append_pair("status", status.as_str());
        }
        if !playbook.is_empty() {
            query.append_pair("playbook", &playbook);
        }
        query.append_pair("before", &before).finish()
    });
    let mut filters = vec!["all"];
    filters.extend(RunStatus::ALL.map(RunStatus::as_str));
    Ok(html(&RunsPage {
        chrome: Some(Chrome::new(&principal, "runs")),
        can_manage: principal.role.allows(Action::ManageResponse),
        pending,
        filter,
        filters,
        playbook,
        runs: recent
            .items
            .iter()
            .map(|run| RunRow::new(run, now))
            .collect(),
        next,
        notice: decision_notice(&params),
    }))
}

/// One action of a run.
pub struct ActionRow {
    pub step: u32,
    pub action: String,
    pub status: &'static str,
    pub attempts: u32,
    pub duration: String,
    pub started: String,
    /// The result as indented JSON.
    pub result: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "run.html")]
pub struct RunPage {
    pub chrome: Option<Chrome>,
    pub can_manage: bool,
    pub run: RunRow,
    pub digest: String,
    pub step: u32,
    pub updated: String,
    pub finished: String,
    pub wake: Option<String>,
    /// What started it, as indented JSON.
    pub trigger_json: String,
    pub actions: Vec<ActionRow>,
    /// The approval it waits at, when it does.
    pub approval: Option<Approval>,
    pub waiting: bool,
    pub notice: Option<String>,
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `GET /runs/{id}`: one run with its trigger and each action's record.
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, PageError> {
    let id = run_id(&id)?;
    let detail = run_detail(&state, id).await?;
    let now = Timestamp::now();
    let params = Form::query(&uri);
    let notice = decision_notice(&params).or_else(|| {
        let removed = params.get("rolled_back")?.parse::<usize>().ok()?;
        Some(format!(
            "Rolled back: {removed} block-list entr{} taken off.",
            if removed == 1 { "y" } else { "ies" }
        ))
    });
    let run = &detail.run;
    Ok(html(&RunPage {
        chrome: Some(Chrome::new(&principal, "runs")),
        can_manage: principal.role.allows(Action::ManageResponse),
        digest: run.digest.clone(),
        step: run.step,
        updated: when(run.updated, now),
        finished: when_or_never(run.finished, now),
        wake: run.wake.map(|wake| when(wake, now)),
        trigger_json: pretty(&run.trigger),
        waiting: run.status == RunStatus::Waiting,
        approval: approval(&detail.actions, now),
        actions: detail
            .actions
            .iter()
            .map(|action| ActionRow {
                step: action.step,
                action: action.action.clone(),
                status: action.status.as_str(),
                attempts: action.attempts,
                duration: format!("{} ms", action.duration_ms),
                started: when(action.started, now),
                result: pretty(&action.result),
                error: action.error.clone(),
            })
            .collect(),
        run: RunRow::new(run, now),
        notice,
    }))
}

fn run_id(text: &str) -> Result<i64, PageError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| PageError(ApiError::bad_request("a run id is a positive integer")))
}

/// Decides an approval and goes back where the form was: the run's page (`from=run`) or the
/// runs list.
async fn decide_from_form(
    state: &AppState,
    principal: &Principal,
    id: &str,
    decision: Decision,
    form: &Form,
) -> Result<Response, PageError> {
    let id = run_id(id)?;
    decide(state, principal, id, decision).await?;
    let word = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
    };
    if form.get("from") == Some("run") {
        return Ok(redirect(&format!(
            "/runs/{id}?decided={id}&decision={word}"
        )));
    }
    Ok(redirect(&format!("/runs?decided={id}&decision={word}")))
}

/// `POST /runs/{id}/approve` (from): approves a waiting run, which goes on at once.
pub async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    decide_from_form(&state, &principal, &id, Decision::Approve, &form).await
}

/// `POST /runs/{id}/reject` (from): rejects a waiting run, which is cancelled.
pub async fn reject(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    decide_from_form(&state, &principal, &id, Decision::Reject, &form).await
}

/// `POST /runs/{id}/rollback`: takes everything the run blocked off its lists, back to the
/// run with how many entries were removed.
pub async fn rollback(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response, PageError> {
    let id = run_id(&id)?;
    let removed = roll_back(&state, &principal, id).await?;
    Ok(redirect(&format!(
        "/runs/{id}?rolled_back={}",
        removed.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn triggers_are_summarised_in_one_line() {
        assert_eq!(
            trigger_summary(&json!({"type": "indicator", "id": 12, "label": "evil.example"})),
            "indicator #12 evil.example"
        );
        assert_eq!(
            trigger_summary(&json!({"type": "alert", "id": 3, "label": null})),
            "alert #3"
        );
        assert_eq!(trigger_summary(&json!({"type": "manual"})), "manual");
        assert_eq!(trigger_summary(&json!("odd")), "unknown");
    }

    #[test]
    fn decision_flashes_hold_only_known_words() {
        let shown = Form::parse(b"decided=7&decision=approved");
        assert_eq!(decision_notice(&shown).as_deref(), Some("Run #7 approved."));
        for crafted in [
            &b"decided=7&decision=%3Cscript%3E"[..],
            b"decided=x&decision=approved",
            b"decision=rejected",
        ] {
            assert_eq!(decision_notice(&Form::parse(crafted)), None);
        }
    }
}
