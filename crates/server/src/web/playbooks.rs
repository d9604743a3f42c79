//! The playbooks pages: what is loaded (and which files failed, with their line), and one
//! playbook with its YAML in an editor that saves through the same code as
//! `PUT /api/v1/playbooks/{name}` — a file that does not load is shown back with its error and
//! the running version stays.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use rampart_auth::Action;

use super::{Chrome, Form, PageError, html, redirect};
use crate::api::blocklists::responder;
use crate::api::playbooks::{PlaybookSummary, playbook_detail, playbook_list, save_playbook};
use crate::auth::Principal;
use crate::state::AppState;

/// A playbook as the pages show it.
pub struct PlaybookView {
    pub name: String,
    pub description: String,
    pub trigger: String,
    /// The actions' types in order, joined with arrows.
    pub actions: String,
    pub enabled: bool,
    pub dry_run: bool,
    pub file: String,
    /// Which version of the file is loaded (`sha256:` and the start of the hash).
    pub digest: String,
}

impl From<PlaybookSummary> for PlaybookView {
    fn from(summary: PlaybookSummary) -> PlaybookView {
        PlaybookView {
            actions: summary.actions.join(" → "),
            name: summary.name,
            description: summary.description,
            trigger: summary.trigger,
            enabled: summary.enabled,
            dry_run: summary.dry_run,
            file: summary.file,
            digest: summary.digest,
        }
    }
}

#[derive(Template)]
#[template(path = "playbooks.html")]
pub struct PlaybooksPage {
    pub chrome: Option<Chrome>,
    pub playbooks: Vec<PlaybookView>,
    /// The files that did not load: `file:line: reason`.
    pub problems: Vec<String>,
}

/// `GET /playbooks`: the loaded playbooks and the load problems.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, PageError> {
    let loaded = playbook_list(responder(&state)?);
    Ok(html(&PlaybooksPage {
        chrome: Some(Chrome::new(&principal, "playbooks")),
        playbooks: loaded
            .playbooks
            .into_iter()
            .map(PlaybookView::from)
            .collect(),
        problems: loaded
            .problems
            .into_iter()
            .map(|problem| format!("{}:{}: {}", problem.file, problem.line, problem.reason))
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "playbook.html")]
pub struct PlaybookPage {
    pub chrome: Option<Chrome>,
    /// The name in the address (the playbook's, or the one a new file is saved as).
    pub name: String,
    /// The version running now; none for a name not loaded yet.
    pub playbook: Option<PlaybookView>,
    /// The text in the editor: the file's, or what was submitted and refused.
    pub source: String,
    /// Why the submitted text was refused (`file:line: reason`).
    pub error: Option<String>,
    /// The text was just saved and loaded.
    pub saved: bool,
    pub can_manage: bool,
}

/// `GET /playbooks/{name}`: one playbook, its YAML in an editor for roles that may save it.
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    uri: Uri,
) -> Result<Response, PageError> {
    let detail = playbook_detail(&state, &name).await?;
    let saved = Form::query(&uri).get("saved") == Some("1");
    Ok(html(&PlaybookPage {
        chrome: Some(Chrome::new(&principal, "playbooks")),
        name,
        playbook: Some(PlaybookView::from(detail.summary)),
        source: detail.source,
        error: None,
        saved,
        can_manage: principal.role.allows(Action::ManageResponse),
    }))
}

/// `POST /playbooks/{name}` (source): saves the text as the API does; back to the playbook
/// once it loads, or the page again with the error and the text as sent (422 for a file that
/// does not load), the running version unchanged.
pub async fn save(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    form: Form,
) -> Result<Response, PageError> {
    // Without the respond stage there is nothing to show the text against: an error page.
    responder(&state)?;
    // Browsers send a textarea's line breaks as CRLF; the file keeps the usual LF.
    let source = form.get("source").unwrap_or_default().replace("\r\n", "\n");
    let refusal = match save_playbook(&state, &principal, &name, &source).await {
        Ok(saved) => {
            let path: String =
                url::form_urlencoded::byte_serialize(saved.name.as_bytes()).collect();
            return Ok(redirect(&format!("/playbooks/{path}?saved=1")));
        }
        Err(refusal) => refusal,
    };
    let running = playbook_detail(&state, &name).await.ok();
    let mut response = html(&PlaybookPage {
        chrome: Some(Chrome::new(&principal, "playbooks")),
        name,
        playbook: running.map(|detail| PlaybookView::from(detail.summary)),
        source,
        error: Some(refusal.message.clone()),
        saved: false,
        can_manage: true,
    });
    *response.status_mut() = refusal.status;
    Ok(response)
}
