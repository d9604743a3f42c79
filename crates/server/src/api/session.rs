//! Browser login and logout: a password opens a session (an HttpOnly cookie) and hands back
//! the CSRF token the session's changing requests must carry.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use rampart_auth::{Role, SessionId, Username, new_csrf_token, passwords};
use rampart_store::{AuditEntry, AuditOutcome, NewSession};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, PrincipalKind, SESSION_COOKIE};
use crate::error::{ApiError, ApiJson};
use crate::limits::{ClientAddress, Limited};
use crate::state::AppState;

/// A password login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// An open session. The session id itself is only in the `Set-Cookie` header.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    /// Send it as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE of this session.
    pub csrf_token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires: Timestamp,
}

/// Why a login failed, for the audit log only: the client hears the same for all.
fn refused(reason: &'static str) -> (&'static str, ApiError) {
    (
        reason,
        ApiError::unauthorized("invalid username or password"),
    )
}

/// Logs in with a password and sets the `rampart_session` cookie (HttpOnly, SameSite=Strict,
/// Secure under TLS). Unknown accounts take as long to refuse as wrong passwords.
#[utoipa::path(post, path = "/api/v1/session", operation_id = "login", tag = "session", request_body = Login,
    responses((status = 200, description = "logged in; the cookie is set", body = SessionInfo),
              (status = 401, description = "invalid username or password", body = crate::error::ErrorBody),
              (status = 429, description = "too many failed logins for this account or address; see Retry-After", body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let (cookie, info) = open_session(&state, login, address).await?;
    let mut response = Json(info).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Checks a password login and opens a session, audited either way (the API's login and the
/// dashboard's both come here). Returns the `Set-Cookie` value and the session.
pub(crate) async fn open_session(
    state: &AppState,
    login: Login,
    address: Option<std::net::IpAddr>,
) -> Result<(HeaderValue, SessionInfo), ApiError> {
    let name = Username::parse(&login.username).ok();
    let actor = name
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |name| format!("user:{name}"));
    // Invalid names are counted under one key, so that they too run out.
    let account = name.as_ref().map_or("", |name| name.as_str()).to_owned();
    if let Err((limited, wait)) = state.login_limits.check(&account, address) {
        let (reason, whose) = match limited {
            Limited::Account => ("rate limited: account", "this account"),
            Limited::Address => ("rate limited: address", "your address"),
        };
        let entry = AuditEntry::new(actor, "login")
            .detail(serde_json::json!({
                "method": "password",
                "reason": reason,
                "address": address.map(|address| address.to_string()),
            }))
            .outcome(AuditOutcome::Failure);
        if let Err(err) = state.store.record_audit(&entry).await {
            tracing::warn!(%err, "cannot record a refused login in the audit log");
        }
        let seconds = wait.as_secs().max(1);
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_logins",
            format!("too many failed logins for {whose}; try again in {seconds}s"),
        )
        .retry_after(seconds));
    }
    let user = match &name {
        Some(name) => state.store.user(name.as_str()).await?,
        None => None,
    };
    let password = login.password;
    let verdict = match user {
        Some(user) if !user.disabled => {
            let stored = user.password_hash.clone();
            let matches =
                tokio::task::spawn_blocking(move || passwords::verify(&password, &stored))
                    .await
                    .map_err(ApiError::internal)?;
            match matches {
                Ok(true) => Ok(user),
                Ok(false) => Err(refused("wrong password")),
                Err(err) => {
                    tracing::error!(%err, user = %user.username, "stored password hash unusable");
                    Err(refused("stored password hash unusable"))
                }
            }
        }
        other => {
            tokio::task::spawn_blocking(move || passwords::verify_nobody(&password))
                .await
                .map_err(ApiError::internal)?;
            Err(refused(if other.is_some() {
                "account disabled"
            } else {
                "unknown account"
            }))
        }
    };
    let user = match verdict {
        Ok(user) => user,
        Err((reason, error)) => {
            state.login_limits.failed(&account, address);
            let entry = AuditEntry::new(actor, "login")
                .detail(serde_json::json!({
                    "method": "password",
                    "reason": reason,
                    "address": address.map(|address| address.to_string()),
                }))
                .outcome(AuditOutcome::Failure);
            if let Err(err) = state.store.record_audit(&entry).await {
                tracing::warn!(%err, "cannot record a failed login in the audit log");
            }
            return Err(error);
        }
    };
    state.login_limits.succeeded(&account);
    let id = SessionId::generate().map_err(ApiError::internal)?;
    let csrf_token = new_csrf_token().map_err(ApiError::internal)?;
    let lifetime =
        SignedDuration::try_from(state.config.session_lifetime).map_err(ApiError::internal)?;
    let expires = Timestamp::now()
        .checked_add(lifetime)
        .map_err(ApiError::internal)?;
    state
        .store
        .create_session(&NewSession {
            hash: id.hash(),
            user_id: user.id,
            expires,
            csrf_token: csrf_token.clone(),
        })
        .await?;
    // A login that cannot be audited is not granted: the log must show every session.
    state
        .store
        .record_audit(
            &AuditEntry::new(actor, "login")
                .detail(serde_json::json!({ "method": "password", "expires": expires })),
        )
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        id.expose(),
        state.config.session_lifetime.as_secs(),
        if state.tls { "; Secure" } else { "" }
    );
    let info = SessionInfo {
        username: user.username.to_string(),
        role: user.role,
        csrf_token,
        expires,
    };
    Ok((
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
        info,
    ))
}

/// Ends the current browser session and clears its cookie (needs the CSRF token).
#[utoipa::path(delete, path = "/api/v1/session", operation_id = "logout", tag = "session",
    responses((status = 204, description = "logged out")))]
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    close_session(&state, principal).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED_COOKIE));
    Ok(response)
}

/// The `Set-Cookie` value that clears the session cookie.
pub(crate) const CLEARED_COOKIE: &str =
    "rampart_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

/// Ends a browser session and audits the logout.
pub(crate) async fn close_session(state: &AppState, principal: Principal) -> Result<(), ApiError> {
    let PrincipalKind::Session { hash } = principal.kind else {
        return Err(ApiError::forbidden("not a browser session"));
    };
    state.store.delete_session(&hash).await?;
    if let Err(err) = state
        .store
        .record_audit(&AuditEntry::new(principal.actor, "logout"))
        .await
    {
        tracing::warn!(%err, "cannot record a logout in the audit log");
    }
    Ok(())
}
