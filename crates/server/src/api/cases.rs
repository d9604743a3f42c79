//! Incident cases (`rampart-cases`) over HTTP: list, open and show them, and what every case
//! route shares (error mapping, ids, checks). Changes to a case, its lifecycle and merges are
//! in [`super::case_changes`]; tasks, observables, comments and alert links in
//! [`super::case_work`]; exports and webhook pushes in [`super::case_exports`].
//!
//! Every change is audited (`case.open`, `case.update`, `case.status`, `case.merge`, …) with
//! the caller as actor, who is also the actor of the case's own timeline entry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_cases::{CaseError, SlaState, TemplateContext, sla_state};
use rampart_model::{
    AttackId, Case, CaseStatus, Observable, Pap, Severity, StatusChangeError, Task, TimelineEntry,
    Tlp,
};
use rampart_store::{AuditEntry, CaseQuery, LinkedAlert, NewCase, StoreError};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::intel_changes::audited;
use super::{Page, numeric_cursor, page_limit};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

/// Most tags on a case, and the longest tag, in characters.
const MAX_TAGS: usize = 64;
const MAX_TAG_CHARS: usize = 128;
/// The longest description, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 100_000;
/// The longest campaign key, in characters.
const MAX_CAMPAIGN_CHARS: usize = 256;

/// The answer for a failed case call: unknown cases, tasks and alerts are 404, a status
/// change the lifecycle refuses is 409, a request the case rules refuse is 422; store
/// failures stay internal.
pub(crate) fn case_error(error: CaseError) -> ApiError {
    match error {
        CaseError::Store(error) => store_error(error),
        CaseError::UnknownAlert(id) => ApiError::not_found(format!("no alert with id {id}")),
        CaseError::UnknownTemplate(name) => invalid(format!("unknown case template {name:?}")),
        CaseError::TheHive(error) => invalid(error.to_string()),
        CaseError::Invalid(message) => invalid(message),
        CaseError::Template(error) => ApiError::internal(error),
    }
}

/// [`case_error`] for the store's own errors.
pub(crate) fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::UnknownCase(id) => ApiError::not_found(format!("no case with id {id}")),
        StoreError::UnknownTask(id) => ApiError::not_found(format!("no task with id {id}")),
        StoreError::Refused(reason) => invalid(reason),
        StoreError::StatusChange { case, source } => match source {
            StatusChangeError::Unchanged(_) | StatusChangeError::NotAllowed { .. } => {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "status_conflict",
                    format!("case {case}: {source}"),
                )
            }
            other => invalid(format!("case {case}: {other}")),
        },
        other => ApiError::internal(other),
    }
}

/// `422 invalid_body`: a well-formed body the case rules refuse.
pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
}

/// A path id: a positive integer, else `400`.
pub(crate) fn positive_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::bad_request(format!("a {what} id is a positive integer")))
}

/// The audit entry of a change to case `id`.
pub(crate) fn case_audit(principal: &Principal, action: &str, id: i64) -> AuditEntry {
    AuditEntry::new(principal.actor.clone(), action).target(format!("case:{id}"))
}

/// Reads a field that may be absent (leave as is), `null` (clear) or a value (set).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Tags as given, refused when too many, empty, too long or holding control characters.
pub(crate) fn checked_tags(tags: &[String]) -> Result<(), ApiError> {
    let bad = tags.iter().any(|tag| {
        tag.trim().is_empty()
            || tag.chars().count() > MAX_TAG_CHARS
            || tag.chars().any(char::is_control)
    });
    if tags.len() > MAX_TAGS || bad {
        return Err(invalid(format!(
            "tags: at most {MAX_TAGS}, each 1 to {MAX_TAG_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

pub(crate) fn checked_description(description: &str) -> Result<(), ApiError> {
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(invalid(format!(
            "a description has at most {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(())
}

pub(crate) fn checked_campaign(campaign: &str) -> Result<(), ApiError> {
    if campaign.trim().is_empty()
        || campaign.chars().count() > MAX_CAMPAIGN_CHARS
        || campaign.chars().any(char::is_control)
    {
        return Err(invalid(format!(
            "a campaign key has 1 to {MAX_CAMPAIGN_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

/// The account an assignee names, by its stored spelling; unknown names are refused.
pub(crate) async fn known_assignee(state: &AppState, name: &str) -> Result<String, ApiError> {
    match state.store.user(name.trim()).await? {
        Some(user) => Ok(user.username.to_string()),
        None => Err(invalid(format!(
            "no account named {:?} to assign to",
            crate::error::truncate(name)
        ))),
    }
}

/// A case with where it stands against its due date: the case's fields and `sla`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct CaseItem(pub CaseWithSla);

/// The fields of [`CaseItem`].
#[derive(Debug, Serialize)]
pub struct CaseWithSla {
    #[serde(flatten)]
    pub case: Case,
    /// `{"state": "no_target" | "on_track" | "breached" | "met" | "missed", …}` with the
    /// seconds remaining, overdue or late.
    pub sla: SlaState,
}

impl CaseItem {
    pub fn now(case: Case) -> CaseItem {
        let sla = sla_state(&case, Timestamp::now());
        CaseItem(CaseWithSla { case, sla })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseList {
    /// Only cases in these statuses, comma-separated: new, in_progress, resolved,
    /// false_positive, duplicate.
    pub status: Option<String>,
    /// `true`: only open cases (new, in progress); `false`: only closed ones.
    pub open: Option<bool>,
    /// Only cases assigned to this account.
    pub assignee: Option<String>,
    /// Only cases at least this severe: informational, low, medium, high, critical.
    pub min_severity: Option<String>,
    /// Only cases with this tag.
    pub tag: Option<String>,
    /// Only cases with this campaign key.
    pub campaign: Option<String>,
    /// Only cases whose title or description contains this text (ASCII case ignored).
    pub q: Option<String>,
    /// `newest` (default) or `oldest` first.
    pub order: Option<String>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message)
}

/// The store query of a list request.
pub(crate) fn case_query(params: &CaseList, limit: u32) -> Result<CaseQuery, ApiError> {
    let mut statuses = Vec::new();
    for name in params.status.iter().flat_map(|text| text.split(',')) {
        if name.trim().is_empty() {
            continue;
        }
        let status = name
            .parse::<CaseStatus>()
            .map_err(|err| invalid_query(err.to_string()))?;
        statuses.push(status);
    }
    let mut open_only = false;
    match params.open {
        Some(_) if !statuses.is_empty() => {
            return Err(invalid_query("give status or open, not both"));
        }
        Some(true) => open_only = true,
        Some(false) => {
            statuses = CaseStatus::ALL
                .iter()
                .copied()
                .filter(|status| status.is_closed())
                .collect();
        }
        None => {}
    }
    let min_severity = params
        .min_severity
        .as_deref()
        .map(|text| {
            text.parse::<Severity>()
                .map_err(|err| invalid_query(err.to_string()))
        })
        .transpose()?;
    let newest_first = match params.order.as_deref() {
        None | Some("newest") => true,
        Some("oldest") => false,
        Some(other) => {
            return Err(invalid_query(format!(
                "order {:?}: expected newest or oldest",
                crate::error::truncate(other)
            )));
        }
    };
    let nonempty = |text: &Option<String>| {
        text.as_deref()
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    Ok(CaseQuery {
        statuses,
        open_only,
        assignee: nonempty(&params.assignee),
        min_severity,
        tag: nonempty(&params.tag),
        campaign: nonempty(&params.campaign),
        contains: nonempty(&params.q),
        newest_first,
        after_id: numeric_cursor(params.cursor.as_deref())?,
        limit,
    })
}

/// Cases, newest first unless `order=oldest`, with their SLA state.
#[utoipa::path(get, path = "/api/v1/cases", operation_id = "list_cases", tag = "cases", params(CaseList),
    responses((status = 200, description = "one page of cases", body = Page<CaseItem>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<CaseList>,
) -> Result<Json<Page<CaseItem>>, ApiError> {
    let limit = page_limit(params.limit)?;
    let query = case_query(&params, limit)?;
    let cases = state.store.cases(&query).await?;
    let next = (cases.len() == limit as usize)
        .then(|| cases.last().map(|last| last.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: cases.into_iter().map(CaseItem::now).collect(),
        next,
    }))
}

/// A case to open: from a template (its title, description, severity, tags and tasks, with
/// `context` filling its placeholders), or from a title alone. Fields given override the
/// template's. Without `due`, the severity's SLA sets it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseRequest {
    /// One line, 1 to 512 characters; required without a template.
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    /// informational, low, medium (default), high or critical.
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    /// clear, green, amber (default), amber+strict or red.
    #[schema(value_type = Option<String>)]
    pub tlp: Option<Tlp>,
    /// clear, green, amber (default) or red.
    #[schema(value_type = Option<String>)]
    pub pap: Option<Pap>,
    /// An account name.
    pub assignee: Option<String>,
    pub tags: Option<Vec<String>>,
    /// ATT&CK technique ids (`T1566.001`).
    #[schema(value_type = Option<Vec<String>>)]
    pub techniques: Option<Vec<AttackId>>,
    /// The grouping key alerts of one campaign are gathered under.
    pub campaign: Option<String>,
    /// When it should be closed by (RFC 3339); default: the SLA of its severity.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due: Option<Timestamp>,
    /// A case template: phishing, malware, brute-force, c2, or one of `templates_dir`.
    pub template: Option<String>,
    /// Values of the template's placeholders (alert, rule, host, user, sender, subject,
    /// indicator, source, campaign, severity, date).
    #[serde(default)]
    pub context: BTreeMap<String, String>,
}

/// The case `request` describes, opened by `actor` (not yet stored).
pub(crate) async fn new_case(
    state: &AppState,
    request: NewCaseRequest,
    actor: &str,
) -> Result<NewCase, ApiError> {
    let mut case = match request.template.as_deref() {
        Some(name) => {
            let template = state
                .cases
                .templates
                .get(name)
                .ok_or_else(|| invalid(format!("unknown case template {name:?}")))?;
            let mut context = TemplateContext::new();
            for (key, value) in &request.context {
                if !rampart_cases::templates::PLACEHOLDERS.contains(&key.as_str()) {
                    return Err(invalid(format!(
                        "context: no placeholder {:?} (expected {})",
                        crate::error::truncate(key),
                        rampart_cases::templates::PLACEHOLDERS.join(", ")
                    )));
                }
                context.set(key, value);
            }
            template.instantiate(&context, actor)
        }
        None => {
            if !request.context.is_empty() {
                return Err(invalid("context fills a template's placeholders: name one"));
            }
            let Some(title) = request.title.clone() else {
                return Err(invalid("a case needs a title (or a template)"));
            };
            NewCase::new(title, Severity::Medium, actor)
        }
    };
    if let Some(title) = request.title {
        case.title = title;
    }
    if let Some(description) = request.description {
        checked_description(&description)?;
        case.description = description;
    }
    if let Some(severity) = request.severity {
        case.severity = severity;
    }
    if let Some(tlp) = request.tlp {
        case.tlp = tlp;
    }
    if let Some(pap) = request.pap {
        case.pap = pap;
    }
    if let Some(assignee) = request.assignee {
        case.assignee = Some(known_assignee(state, &assignee).await?);
    }
    if let Some(tags) = request.tags {
        checked_tags(&tags)?;
        case.tags = tags;
    }
    if let Some(techniques) = request.techniques {
        case.techniques = techniques;
    }
    if let Some(campaign) = request.campaign {
        checked_campaign(&campaign)?;
        case.campaign = Some(campaign);
    }
    case.due = request.due;
    Ok(case)
}

/// Opens `request` on behalf of `principal`, audited as `case.open`; the API and the
/// dashboard both come here.
pub(crate) async fn open(
    state: &AppState,
    principal: &Principal,
    request: NewCaseRequest,
) -> Result<Case, ApiError> {
    let template = request.template.clone();
    let opened = async {
        let case = new_case(state, request, &principal.actor).await?;
        state
            .case_service()
            .open_case(case)
            .await
            .map_err(case_error)
    }
    .await;
    let entry = AuditEntry::new(principal.actor.clone(), "case.open")
        .target(match &opened {
            Ok(case) => format!("case:{}", case.id),
            Err(_) => "case".to_owned(),
        })
        .detail(serde_json::json!({
            "template": template.as_deref().map(crate::error::truncate),
        }));
    audited(state.store.as_ref(), entry, opened).await
}

/// Opens a case; audited.
#[utoipa::path(post, path = "/api/v1/cases", operation_id = "open_case", tag = "cases",
    request_body = NewCaseRequest,
    responses((status = 201, description = "the case, opened", body = CaseItem)))]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewCaseRequest>,
) -> Result<Response, ApiError> {
    let case = open(&state, &principal, request).await?;
    Ok((StatusCode::CREATED, Json(CaseItem::now(case))).into_response())
}

/// A case with everything that belongs to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[schema(value_type = Object)]
    pub case: Case,
    #[schema(value_type = Object)]
    pub sla: SlaState,
    #[schema(value_type = Vec<Object>)]
    pub tasks: Vec<Task>,
    #[schema(value_type = Vec<Object>)]
    pub observables: Vec<Observable>,
    /// Linked alerts with their link (who, when).
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<LinkedAlert>,
    #[schema(value_type = Vec<Object>)]
    pub timeline: Vec<TimelineEntry>,
}

/// A case with its tasks, observables, alerts, timeline and SLA state.
#[utoipa::path(get, path = "/api/v1/cases/{id}", operation_id = "show_case", tag = "cases",
    params(("id" = i64, Path, description = "the case's id")),
    responses((status = 200, description = "the case", body = CaseDetail)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let id = positive_id(&id, "case")?;
    let bundle = state.case_service().bundle(id).await.map_err(case_error)?;
    Ok(Json(CaseDetail {
        sla: sla_state(&bundle.case, Timestamp::now()),
        case: bundle.case,
        tasks: bundle.tasks,
        observables: bundle.observables,
        alerts: bundle.alerts,
        timeline: bundle.timeline,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(query: &str) -> Result<CaseQuery, ApiError> {
        let params: CaseList = serde_json::from_value(serde_json::json!(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect::<BTreeMap<String, String>>()
        ))
        .unwrap_or_else(|_| panic!("{query}"));
        case_query(&params, 10)
    }

    #[test]
    fn list_filters_become_a_store_query() {
        let query = list("status=new,in-progress&q=%20beacon%20&min_severity=high").unwrap();
        assert_eq!(query.statuses, [CaseStatus::New, CaseStatus::InProgress]);
        assert_eq!(query.contains.as_deref(), Some("beacon"));
        assert_eq!(query.min_severity, Some(Severity::High));
        assert!(query.newest_first);
        let closed = list("order=oldest").unwrap();
        assert!(!closed.newest_first);
        assert!(list("status=maybe").is_err());
        assert!(list("order=sideways").is_err());
    }

    #[test]
    fn lifecycle_refusals_are_conflicts_and_rule_refusals_unprocessable() {
        let conflict = store_error(StoreError::StatusChange {
            case: 3,
            source: StatusChangeError::NotAllowed {
                from: CaseStatus::Resolved,
                to: CaseStatus::FalsePositive,
            },
        });
        assert_eq!(conflict.status, StatusCode::CONFLICT);
        assert!(
            conflict.message.contains("reopen it first"),
            "{}",
            conflict.message
        );
        let missing_target = store_error(StoreError::StatusChange {
            case: 3,
            source: StatusChangeError::DuplicateWithoutTarget,
        });
        assert_eq!(missing_target.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            store_error(StoreError::UnknownCase(9)).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            store_error(StoreError::Config("x".into())).status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
