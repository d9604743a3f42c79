//! The block lists page: each configured list with its formats and last renderings, its
//! standing entries with an Unblock form each, and a form to block a value by hand. Blocks and
//! unblocks go through the same code as the API, guardrails included: a refusal is shown on
//! the page beside the form, with what was typed.
//!
//! The dashboard's paths share `/blocklists` with the fetch route
//! (`GET /blocklists/{list}/{format}`) without clashing: the index has one segment, the forms
//! are POSTs (`/blocklists/{list}/entries`, whose static last segment the router prefers) or
//! longer (`/blocklists/{list}/entries/{id}/remove`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use rampart_auth::Action;
use rampart_model::IndicatorKind;
use rampart_store::BlockEntry;

use super::{Chrome, Form, PageError, html, redirect, when, when_or_never};
use crate::api::blocklists::{
    BlockRequest, add_entry, entry_page, list_summaries, remove_entry, responder,
};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Standing entries shown per list (the API pages through the rest).
const ENTRIES_SHOWN: u32 = 200;

/// What was typed into a list's block form.
#[derive(Default)]
pub struct Draft {
    pub value: String,
    pub kind: String,
    pub reason: String,
    pub expires: String,
}

/// One format as last rendered.
pub struct RenderingRow {
    pub format: String,
    pub serial: u64,
    pub generated: String,
    pub written: usize,
    pub rejected: usize,
}

/// One standing entry.
pub struct EntryRow {
    pub id: i64,
    pub kind: &'static str,
    pub value: String,
    pub reason: String,
    pub added_by: String,
    pub run_id: Option<i64>,
    pub added: String,
    pub expires: String,
}

/// One configured list.
pub struct ListView {
    pub name: String,
    pub description: String,
    pub formats: Vec<String>,
    pub standing: u64,
    pub min_score: Option<u8>,
    pub renderings: Vec<RenderingRow>,
    pub entries: Vec<EntryRow>,
    /// More entries stand than are shown.
    pub more: bool,
    pub draft: Draft,
    /// Why the last block by hand on this list was refused.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "blocklists.html")]
pub struct BlocklistsPage {
    pub chrome: Option<Chrome>,
    pub can_manage: bool,
    pub lists: Vec<ListView>,
    pub kinds: Vec<&'static str>,
    pub notice: Option<String>,
}

fn entry_row(entry: BlockEntry, now: Timestamp) -> EntryRow {
    EntryRow {
        id: entry.id,
        kind: entry.indicator.kind().as_str(),
        value: entry.indicator.value().to_owned(),
        reason: entry.reason,
        added_by: entry.added_by,
        run_id: entry.run_id,
        added: when(entry.added, now),
        expires: when_or_never(entry.expires, now),
    }
}

/// Every configured list with its renderings and standing entries.
async fn list_views(state: &AppState) -> Result<Vec<ListView>, PageError> {
    let now = Timestamp::now();
    let mut views = Vec::new();
    for summary in list_summaries(state).await? {
        let entries = entry_page(state, &summary.name, true, None, ENTRIES_SHOWN).await?;
        views.push(ListView {
            renderings: summary
                .renderings
                .into_iter()
                .map(|rendering| RenderingRow {
                    format: rendering.format,
                    serial: rendering.serial,
                    generated: when(rendering.generated, now),
                    written: rendering.written,
                    rejected: rendering.rejected,
                })
                .collect(),
            more: entries.next.is_some(),
            entries: entries
                .items
                .into_iter()
                .map(|entry| entry_row(entry, now))
                .collect(),
            name: summary.name,
            description: summary.description,
            formats: summary.formats,
            standing: summary.standing,
            min_score: summary.min_score,
            draft: Draft::default(),
            error: None,
        });
    }
    Ok(views)
}

fn page(principal: &Principal, lists: Vec<ListView>, notice: Option<String>) -> BlocklistsPage {
    BlocklistsPage {
        chrome: Some(Chrome::new(principal, "blocklists")),
        can_manage: principal.role.allows(Action::ManageResponse),
        lists,
        kinds: IndicatorKind::ALL
            .iter()
            .map(|kind| kind.as_str())
            .collect(),
        notice,
    }
}

/// `GET /blocklists`: every configured list, its entries, and the forms.
pub async fn index(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
) -> Result<Response, PageError> {
    let params = Form::query(&uri);
    let notice = params.get("on").and_then(|list| {
        let (done, value) = match (params.get("blocked"), params.get("unblocked")) {
            (Some(value), _) => ("blocked on", value),
            (None, Some(value)) => ("taken off", value),
            (None, None) => return None,
        };
        Some(format!("{value} {done} {list}."))
    });
    let lists = list_views(&state).await?;
    Ok(html(&page(&principal, lists, notice)))
}

/// The expiry typed into the form: a `datetime-local` value read as UTC
/// (`2026-05-01T12:30`), or a full RFC 3339 time; empty means none.
pub fn parse_expiry(text: &str) -> Result<Option<Timestamp>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(Some(at));
    }
    text.parse::<DateTime>()
        .and_then(|local| TimeZone::UTC.to_timestamp(local))
        .map(Some)
        .map_err(|_| format!("expires: {text:?} is not a date and time (UTC)"))
}

/// `POST /blocklists/{list}/entries` (value, kind, reason, expires): blocks a value by hand as
/// the API does; back to the page with a notice, or the page again with the refusal beside
/// the form and the status of the API's answer (409 for a guardrail, 422 for a bad value).
pub async fn block(
    State(state): State<AppState>,
    principal: Principal,
    Path(list): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    responder(&state)?;
    let draft = Draft {
        value: form.get("value").unwrap_or_default().trim().to_owned(),
        kind: form.get("kind").unwrap_or_default().trim().to_owned(),
        reason: form.get("reason").unwrap_or_default().trim().to_owned(),
        expires: form.get("expires").unwrap_or_default().trim().to_owned(),
    };
    let result = match parse_expiry(&draft.expires) {
        Ok(expires) => {
            let request = BlockRequest {
                kind: (!draft.kind.is_empty()).then(|| draft.kind.clone()),
                value: draft.value.clone(),
                reason: draft.reason.clone(),
                expires,
            };
            add_entry(&state, &principal, &list, request).await
        }
        Err(message) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            message,
        )),
    };
    let refusal = match result {
        Ok(added) => {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("blocked", added.indicator.value())
                .append_pair("on", &added.list)
                .finish();
            return Ok(redirect(&format!(
                "/blocklists?{query}#list-{}",
                added.list
            )));
        }
        Err(refusal) => refusal,
    };
    let mut lists = list_views(&state).await?;
    let Some(view) = lists.iter_mut().find(|view| view.name == list) else {
        // Not a configured list: nowhere on the page to show the form again.
        return Err(PageError(refusal));
    };
    view.error = Some(refusal.message.clone());
    view.draft = draft;
    let mut response = html(&page(&principal, lists, None));
    *response.status_mut() = refusal.status;
    Ok(response)
}

/// `POST /blocklists/{list}/entries/{id}/remove`: takes an entry off its list as the API does,
/// back to the page.
pub async fn unblock(
    State(state): State<AppState>,
    principal: Principal,
    Path((list, id)): Path<(String, String)>,
    _form: Form,
) -> Result<Response, PageError> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| PageError(ApiError::bad_request("an entry id is a positive integer")))?;
    let removed = remove_entry(&state, &principal, &list, id).await?;
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("unblocked", removed.indicator.value())
        .append_pair("on", &removed.list)
        .finish();
    Ok(redirect(&format!(
        "/blocklists?{query}#list-{}",
        removed.list
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_read_as_utc() {
        assert_eq!(parse_expiry("").unwrap(), None);
        assert_eq!(
            parse_expiry("2031-05-01T12:30").unwrap(),
            Some("2031-05-01T12:30:00Z".parse().unwrap())
        );
        assert_eq!(
            parse_expiry("2031-05-01T14:30:00+02:00").unwrap(),
            Some("2031-05-01T12:30:00Z".parse().unwrap())
        );
        let refused = parse_expiry("next tuesday <b>").unwrap_err();
        assert!(refused.starts_with("expires: "), "{refused}");
    }
}
