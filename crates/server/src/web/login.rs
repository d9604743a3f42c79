//! The login form and logout. Logging in goes through the API's session code (the same
//! password check, audit and cookie); the form itself is protected against login CSRF by a
//! double-submit token: a short-lived cookie that the form must repeat.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rampart_auth::{csrf_matches, new_csrf_token};

use super::{Form, PageError, error_page, html, local_path, redirect};
use crate::api::session::{CLEARED_COOKIE, Login, close_session, open_session};
use crate::auth::{Principal, page_principal};
use crate::error::ApiError;
use crate::limits::ClientAddress;
use crate::state::AppState;

/// The cookie holding the login form's token (only sent back to `/login`).
const LOGIN_COOKIE: &str = "rampart_login";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
}

/// The form with a fresh token, and the cookie it must match.
fn login_page(
    state: &AppState,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let csrf = new_csrf_token().map_err(ApiError::internal)?;
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if state.tls { "; Secure" } else { "" }
    );
    let mut response = html(&LoginPage {
        csrf,
        next: local_path(next),
        username: username.to_owned(),
        error: error.map(str::to_owned),
    });
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// `GET /login`: the form, or straight on for a browser that is logged in already.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, PageError> {
    let next = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "next")
        .map_or_else(|| "/".to_owned(), |(_, value)| value.into_owned());
    if page_principal(&state, &headers).await?.is_some() {
        return Ok(redirect(&next));
    }
    login_page(&state, &next, "", None)
}

/// The value of one cookie.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `POST /login`: checks the password and opens a session, then goes to `next`.
pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    form: Form,
) -> Result<Response, PageError> {
    let next = local_path(form.get("next").unwrap_or("/"));
    let username = form.get("username").unwrap_or_default().trim().to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    let presented = form.get("csrf").unwrap_or_default();
    if expected.is_empty() || !csrf_matches(expected, presented) {
        // Most often a form left open past the cookie's hour: show a fresh one.
        let mut response = login_page(
            &state,
            &next,
            &username,
            Some("the login form expired; please try again"),
        )?;
        *response.status_mut() = StatusCode::FORBIDDEN;
        return Ok(response);
    }
    let login = Login {
        username: username.clone(),
        password: form.get("password").unwrap_or_default().to_owned(),
    };
    match open_session(&state, login, address).await {
        Ok((session_cookie, _)) => {
            let mut response = redirect(&next);
            let headers = response.headers_mut();
            headers.append(header::SET_COOKIE, session_cookie);
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_static("rampart_login=; Path=/login; Max-Age=0"),
            );
            Ok(response)
        }
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            let mut response = login_page(&state, &next, &username, Some(&error.message))?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(error) => Ok(error_page(error.status, &error.message, None)),
    }
}

/// `POST /logout`: ends the session and shows the login form.
pub async fn logout(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, PageError> {
    close_session(&state, principal).await?;
    let mut response = redirect("/login");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_static(CLEARED_COOKIE));
    Ok(response.into_response())
}
