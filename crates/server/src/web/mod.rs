//! The dashboard: server-rendered pages for people in a browser, over the same store and the
//! same role checks as the API. Templates are compiled in (askama) with HTML escaping on, so
//! every value shown — intel values, alert fields, feed errors, all attacker-writable — is
//! escaped; pages carry no script, and a Content-Security-Policy forbids any.
//!
//! Pages are [`Access::Page`](crate::auth::Access::Page) routes: a browser without a session
//! is sent to `/login`, a role that may not see a page gets a 403 page, and every form posts
//! the session's CSRF token as the field `csrf`, checked in [`check_page`] before a handler
//! runs. Forms work without JavaScript and answer with a redirect (post/redirect/get).

pub mod alerts;
pub mod blocklists;
pub mod case_forms;
pub mod cases;
pub mod charts;
pub mod indicators;
pub mod lists;
pub mod login;
pub mod overview;
pub mod playbooks;
pub mod rules;
pub mod runs;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_auth::{Action, csrf_matches};

use crate::auth::{Principal, is_unsafe, page_principal};
use crate::error::ApiError;
use crate::state::AppState;

/// The largest form body read (forms hold a few short fields).
const FORM_LIMIT: usize = 64 * 1024;

/// What every page shows around its content: who is logged in, the navigation, and the CSRF
/// token its forms carry.
pub struct Chrome {
    pub username: String,
    pub role: String,
    pub csrf: String,
    /// The navigation entry to highlight.
    pub active: &'static str,
    pub can_triage: bool,
    pub can_write_intel: bool,
    pub can_manage_cases: bool,
}

impl Chrome {
    pub fn new(principal: &Principal, active: &'static str) -> Chrome {
        Chrome {
            username: principal.username.to_string(),
            role: principal.role.to_string(),
            csrf: principal.csrf_token.clone().unwrap_or_default(),
            active,
            can_triage: principal.role.allows(Action::TriageAlerts),
            can_write_intel: principal.role.allows(Action::WriteIntel),
            can_manage_cases: principal.role.allows(Action::ManageCases),
        }
    }
}

/// A page that could not be shown, answered as an HTML page with the error's status.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Option<Chrome>,
    pub status: u16,
    pub title: String,
    pub message: String,
}

/// An [`ApiError`] met while building a page: shown as an HTML error page.
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> PageError {
        PageError(error)
    }
}

impl From<rampart_store::StoreError> for PageError {
    fn from(error: rampart_store::StoreError) -> PageError {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(self.0.status, &self.0.message, None)
    }
}

/// An HTML error page.
pub fn error_page(status: StatusCode, message: &str, chrome: Option<Chrome>) -> Response {
    let page = ErrorPage {
        chrome,
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("error").to_owned(),
        message: message.to_owned(),
    };
    let mut response = html(&page);
    *response.status_mut() = status;
    response
}

/// Renders a page with the headers every page has: no caching (pages show live data), no
/// framing, no script, no sniffing.
pub fn html(page: &impl Template) -> Response {
    let text = match page.render() {
        Ok(text) => text,
        Err(err) => {
            tracing::error!(%err, "a dashboard template failed to render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<!doctype html><title>error</title><p>internal error; see the server log</p>",
            )
                .into_response();
        }
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A `303 See Other` to a path of this site.
pub fn redirect(location: &str) -> Response {
    let location = HeaderValue::from_str(&local_path(location))
        .unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// `path` if it is a path on this site, else `/`: a `next` parameter must not send the
/// browser elsewhere (`//host`, `https://…`, `/\host`).
pub fn local_path(path: &str) -> String {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control());
    if local {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Sends a browser without a session to the login form, to come back here afterwards.
fn to_login(uri: &Uri, method_is_safe: bool) -> Response {
    let back = if method_is_safe {
        uri.path_and_query().map_or("/", |path| path.as_str())
    } else {
        "/"
    };
    let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    redirect(&format!("/login?next={next}"))
}

/// The access check of [`Access::Page`](crate::auth::Access::Page) routes.
pub(crate) async fn check_page(
    state: &AppState,
    action: Option<Action>,
    request: Request,
    next: Next,
) -> Response {
    let principal = match page_principal(state, request.headers()).await {
        Ok(Some(principal)) => principal,
        Ok(None) => return to_login(request.uri(), !is_unsafe(request.method())),
        Err(error) => return error_page(error.status, &error.message, None),
    };
    if let Some(action) = action
        && !principal.role.allows(action)
    {
        let message = format!(
            "your role ({}) may not {action}; ask an administrator",
            principal.role
        );
        let chrome = Chrome::new(&principal, "");
        return error_page(StatusCode::FORBIDDEN, &message, Some(chrome));
    }
    let mut request = request;
    if is_unsafe(request.method()) {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
            return error_page(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large", None);
        };
        let presented = Form::parse(&bytes)
            .get("csrf")
            .unwrap_or_default()
            .to_owned();
        let expected = principal.csrf_token.as_deref().unwrap_or_default();
        if !csrf_matches(expected, &presented) {
            let chrome = Chrome::new(&principal, "");
            return error_page(
                StatusCode::FORBIDDEN,
                "this form has expired or was not sent from this dashboard; reload the page and \
                 try again",
                Some(chrome),
            );
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The fields of a submitted form (`application/x-www-form-urlencoded`), by name.
pub struct Form(Vec<(String, String)>);

impl Form {
    fn parse(bytes: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(bytes).into_owned().collect())
    }

    /// The parameters of a page's query string (pages read them leniently: a malformed one
    /// is as good as none).
    pub fn query(uri: &Uri) -> Form {
        Form::parse(uri.query().unwrap_or_default().as_bytes())
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field that must be there, trimmed.
    pub fn required(&self, name: &str) -> Result<&str, PageError> {
        match self.get(name).map(str::trim) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(PageError(ApiError::bad_request(format!(
                "the form field {name:?} is missing"
            )))),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected a form (application/x-www-form-urlencoded)",
            )));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|_| {
            PageError(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the form is too large",
            ))
        })?;
        Ok(Form::parse(&bytes))
    }
}

/// The dashboard's one stylesheet, compiled in.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../static/rampart.css"),
    )
        .into_response()
}

/// A time as pages show it: UTC, to the minute, with how long ago.
pub fn when(at: Timestamp, now: Timestamp) -> String {
    let shown = at.strftime("%Y-%m-%d %H:%M UTC").to_string();
    let seconds = now.duration_since(at).as_secs();
    let ago = match seconds {
        s if s < 0 => return shown,
        s if s < 90 => "just now".to_owned(),
        s if s < 90 * 60 => format!("{} min ago", s / 60),
        s if s < 36 * 3600 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    };
    format!("{shown} ({ago})")
}

/// [`when`] for an optional time: `never` without one.
pub fn when_or_never(at: Option<Timestamp>, now: Timestamp) -> String {
    at.map_or_else(|| "never".to_owned(), |at| when(at, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_stay_on_this_site() {
        assert_eq!(local_path("/alerts?status=open"), "/alerts?status=open");
        for outside in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil",
            "alerts",
            "",
        ] {
            assert_eq!(local_path(outside), "/", "{outside}");
        }
    }

    #[test]
    fn forms_are_decoded() {
        let form = Form::parse(b"csrf=abc&value=%3Cscript%3E+x&empty=");
        assert_eq!(form.get("csrf"), Some("abc"));
        assert_eq!(form.get("value"), Some("<script> x"));
        assert!(form.required("empty").is_err());
        assert!(form.required("missing").is_err());
    }
}
