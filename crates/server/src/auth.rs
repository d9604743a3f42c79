//! Who is calling, and whether they may: API tokens and browser sessions become a
//! [`Principal`]; each route's [`Access`] is checked against its role before the handler runs.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use rampart_auth::{Action, ApiToken, Role, SecretHash, SessionId, Username, csrf_matches};
use rampart_store::TokenCheck;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rampart_session";
/// The header a session's unsafe requests carry their CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "action")]
pub enum Access {
    /// Anyone, unauthenticated (health checks, login, the OpenAPI document).
    Public,
    /// A logged-in browser session, whatever its role (logout).
    Session,
    /// Any principal whose role allows this action.
    Action(Action),
    /// A dashboard page: a browser session only (API tokens are not looked at), whose role
    /// allows the action if one is named. Without a session the browser is sent to `/login`;
    /// a role without the action gets a 403 page. Unsafe methods carry the session's CSRF
    /// token as the form field `csrf`, checked here before the handler runs.
    Page(Option<Action>),
    /// Rendered block lists: clients in `[respond.publish] allow_networks` without
    /// credentials, anyone else as `Action(FetchBlocklists)` (a token as Bearer, or as the
    /// password of HTTP Basic auth, which firewalls fetching external dynamic lists send).
    Fetch,
}

impl Access {
    /// The action a caller's role must allow, if any.
    pub fn action(self) -> Option<Action> {
        match self {
            Access::Action(action) => Some(action),
            Access::Page(action) => action,
            Access::Fetch => Some(Action::FetchBlocklists),
            Access::Public | Access::Session => None,
        }
    }
}

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrincipalKind {
    /// An API token, by its id.
    Token { id: i64 },
    /// A browser session, by the hash of its id.
    Session { hash: SecretHash },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// How the audit log names it: `user:NAME` for a session, `token:NAME` for a token.
    pub actor: String,
    /// The account behind it.
    pub username: Username,
    /// The role it acts with (a token's own role, within its owner's).
    pub role: Role,
    pub kind: PrincipalKind,
    /// A session's CSRF token, which the dashboard's forms carry.
    pub csrf_token: Option<String>,
}

/// Refuses with 403 unless the principal's role allows `action`.
pub fn require(principal: &Principal, action: Action) -> Result<(), ApiError> {
    if principal.role.allows(action) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "role {} may not {action}",
            principal.role
        )))
    }
}

/// Whether a method changes state and so needs a CSRF token when sent by a browser.
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The value of one cookie in the `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// The session behind a dashboard request: `None` without a live one (no cookie, a malformed
/// or ended one), so that the page can send the browser to the login form.
pub(crate) async fn page_principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    match session_principal(state, headers, Timestamp::now()).await {
        Ok(principal) => Ok(principal),
        Err(error) if error.status == axum::http::StatusCode::UNAUTHORIZED => Ok(None),
        Err(error) => Err(error),
    }
}

/// Authenticates a request: a bearer token if there is an `Authorization` header (which then
/// decides alone), else the session cookie. Presented secrets are never echoed back.
pub async fn authenticate(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let now = Timestamp::now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let Some((scheme, credentials)) = value.trim().split_once(' ') else {
            return Err(ApiError::unauthorized(
                "malformed Authorization header: expected \"Bearer rmp_…\"",
            ));
        };
        // HTTP Basic is what TAXII clients send: the user name and an API token of theirs as
        // the password. Passwords themselves are for the browser login only.
        let (token, basic_user) = if scheme.eq_ignore_ascii_case("bearer") {
            (credentials.trim().to_owned(), None)
        } else if scheme.eq_ignore_ascii_case("basic") {
            let (user, token) = basic_credentials(credentials.trim()).ok_or_else(|| {
                ApiError::unauthorized("malformed Basic credentials: expected base64 of user:token")
            })?;
            (token, Some(user))
        } else {
            return Err(ApiError::unauthorized(
                "unsupported authorization scheme: expected \"Bearer rmp_…\" (or Basic with an API token as the password)",
            ));
        };
        let hash = ApiToken::hash_presented(&token)
            .map_err(|_| ApiError::unauthorized("malformed API token"))?;
        return match state.store.authenticate_token(&hash, now).await? {
            TokenCheck::Valid(record)
                if basic_user
                    .as_deref()
                    .is_some_and(|user| !user.eq_ignore_ascii_case(record.owner.as_str())) =>
            {
                Err(ApiError::unauthorized(
                    "the API token does not belong to this user",
                ))
            }
            TokenCheck::Valid(record) => Ok(Principal {
                actor: format!("token:{}", record.name),
                username: record.owner,
                role: record.role,
                kind: PrincipalKind::Token { id: record.id },
                csrf_token: None,
            }),
            refused => Err(ApiError::unauthorized(
                refused.refusal().unwrap_or("token refused"),
            )),
        };
    }
    if let Some(principal) = session_principal(state, headers, now).await? {
        if is_unsafe(method) {
            let presented = headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("");
            let expected = principal.csrf_token.as_deref().unwrap_or_default();
            if !csrf_matches(expected, presented) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "missing or wrong X-CSRF-Token header for this session",
                ));
            }
        }
        return Ok(principal);
    }
    Err(ApiError::unauthorized(
        "authentication required: an API token (Authorization: Bearer rmp_…) or a session",
    ))
}

/// The principal of the request's session cookie, if it names a live session; `Err` for a
/// malformed cookie or an ended session. The CSRF check is the caller's.
async fn session_principal(
    state: &AppState,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Option<Principal>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = SessionId::hash_presented(id)
        .map_err(|_| ApiError::unauthorized("malformed session cookie"))?;
    let Some(session) = state.store.session(&hash, now).await? else {
        return Err(ApiError::unauthorized(
            "the session has expired or ended; log in again",
        ));
    };
    Ok(Some(Principal {
        actor: format!("user:{}", session.user.username),
        username: session.user.username,
        role: session.user.role,
        kind: PrincipalKind::Session { hash },
        csrf_token: Some(session.csrf_token),
    }))
}

/// The user name and password of HTTP Basic credentials (`base64(user:password)`).
fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Route middleware: checks the route's [`Access`] and hands the [`Principal`] to the handler
/// through the request's extensions.
pub async fn check_access(
    State((state, access)): State<(AppState, Access)>,
    mut request: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    if let Access::Page(action) = access {
        return crate::web::check_page(&state, action, request, next).await;
    }
    if access == Access::Fetch && fetch_allowed_from(&state, &request) {
        return next.run(request).await;
    }
    let principal = match authenticate(&state, request.method(), request.headers()).await {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    let allowed = match access {
        Access::Public | Access::Page(_) => Ok(()),
        Access::Session => match principal.kind {
            PrincipalKind::Session { .. } => Ok(()),
            PrincipalKind::Token { .. } => Err(ApiError::forbidden(
                "this endpoint is for browser sessions, not API tokens",
            )),
        },
        Access::Action(action) => require(&principal, action),
        Access::Fetch => require(&principal, Action::FetchBlocklists),
    };
    if let Err(error) = allowed {
        return error.into_response();
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// Whether the client's address is in the networks allowed to fetch block lists without
/// credentials.
fn fetch_allowed_from(state: &AppState, request: &Request) -> bool {
    let Some(responder) = &state.responder else {
        return false;
    };
    let Some(address) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
    else {
        return false;
    };
    responder
        .config()
        .publish
        .allow_networks
        .iter()
        .any(|network| network.contains(&address))
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("authentication required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            "a=1; rampart_session=rms_x; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("rms_x"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "rampart"), None);
    }

    #[test]
    fn basic_credentials_are_decoded() {
        // base64("analyst:rmp_abc")
        assert_eq!(
            basic_credentials("YW5hbHlzdDpybXBfYWJj"),
            Some(("analyst".into(), "rmp_abc".into()))
        );
        assert_eq!(basic_credentials("not base64!"), None);
        // base64("no-colon")
        assert_eq!(basic_credentials("bm8tY29sb24="), None);
    }

    #[test]
    fn only_safe_methods_skip_csrf() {
        assert!(!is_unsafe(&Method::GET));
        assert!(!is_unsafe(&Method::HEAD));
        assert!(is_unsafe(&Method::POST));
        assert!(is_unsafe(&Method::DELETE));
        assert!(is_unsafe(&Method::PUT));
        assert!(is_unsafe(&Method::PATCH));
    }
}
