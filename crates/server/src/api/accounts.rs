//! API tokens and accounts over HTTP, as `rampart admin token|create-user|disable-user` manage
//! them. Everyone with a person's role manages their own tokens; admins manage accounts and
//! anyone's tokens. A token's secret is in the answer to its creation and nowhere else.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use rampart_auth::{Action, ApiToken, Role, Username, passwords};
use rampart_store::{AuditEntry, NewToken, NewUser, StoreError, TokenRecord, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::intel_changes::audited;
use super::{Page, page_of};
use crate::auth::Principal;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenList {
    /// Admins only: this user's tokens, or `*` for everyone's (default: one's own).
    pub user: Option<String>,
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// A token as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct TokenItem(pub TokenRecord);

fn refused(error: StoreError) -> ApiError {
    match error {
        StoreError::Refused(reason) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", reason)
        }
        StoreError::UserExists(name) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("user {name:?} already exists"),
        ),
        StoreError::UnknownUser(name) => ApiError::not_found(format!("unknown user {name}")),
        other => ApiError::internal(other),
    }
}

async fn own_account(state: &AppState, principal: &Principal) -> Result<User, ApiError> {
    state
        .store
        .user(principal.username.as_str())
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account behind this caller is gone"))
}

/// One's own API tokens (revoked ones included), in creation order.
#[utoipa::path(get, path = "/api/v1/tokens", operation_id = "list_tokens", tag = "accounts", params(TokenList),
    responses((status = 200, description = "one page of tokens", body = Page<TokenItem>)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<TokenList>,
) -> Result<Json<Page<TokenItem>>, ApiError> {
    let owner = match params.user.as_deref() {
        None => Some(own_account(&state, &principal).await?.id),
        Some(other) => {
            crate::auth::require(&principal, Action::ManageUsers)?;
            if other == "*" {
                None
            } else {
                let user = state.store.user(other).await?.ok_or_else(|| {
                    ApiError::not_found(format!("unknown user {:?}", crate::error::truncate(other)))
                })?;
                Some(user.id)
            }
        }
    };
    let tokens = state.store.tokens(owner).await?;
    Ok(Json(page_of(
        tokens.into_iter().map(TokenItem).collect(),
        params.limit,
        params.cursor.as_deref(),
    )?))
}

/// A token to create for oneself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    /// What it is for (1–64 characters), e.g. the sensor's name.
    pub name: String,
    /// Its role, within one's own (default: one's own role).
    #[schema(value_type = Option<String>, example = "ingest")]
    pub role: Option<Role>,
    /// Lifetime: `90d`, `12h`, `2w` (default: no expiry).
    pub expires_in: Option<String>,
}

/// A new token: the secret is shown here once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(value_type = Object)]
    pub record: TokenRecord,
}

/// Creates an API token for the caller; its role may not exceed the caller's. Audited.
#[utoipa::path(post, path = "/api/v1/tokens", operation_id = "create_token", tag = "accounts",
    request_body = NewTokenRequest,
    responses((status = 201, description = "created; the secret is in `token`, only here", body = CreatedToken)))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let mut entry = AuditEntry::new(principal.actor.clone(), "token.create")
        .target(crate::error::truncate(&request.name))
        .detail(serde_json::json!({ "user": principal.username, "role": request.role }));
    let created = async {
        let owner = own_account(&state, &principal).await?;
        let role = request.role.unwrap_or(principal.role);
        // A token made with a token is bounded by that token's role too, not only the owner's.
        if !role.within(principal.role) {
            return Err(ApiError::forbidden(format!(
                "a token's role may not exceed the caller's ({})",
                principal.role
            )));
        }
        let expires = match request.expires_in.as_deref() {
            None => None,
            Some(text) => {
                let lifetime = rampart_intel::config::parse_interval(text).map_err(|reason| {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", reason)
                })?;
                let lifetime = SignedDuration::try_from(lifetime).map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        "expires_in is too long",
                    )
                })?;
                Some(Timestamp::now().checked_add(lifetime).map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        "expires_in is too long",
                    )
                })?)
            }
        };
        let token = ApiToken::generate().map_err(ApiError::internal)?;
        let record = store
            .create_token(&NewToken {
                name: request.name.clone(),
                owner_id: owner.id,
                role,
                hash: token.hash(),
                expires,
            })
            .await
            .map_err(refused)?;
        Ok((token, record))
    }
    .await;
    if let Ok((_, record)) = &created {
        entry = entry.detail(serde_json::json!({
            "id": record.id,
            "user": record.owner,
            "role": record.role,
            "expires": record.expires,
        }));
    }
    let (token, record) = audited(store, entry, created).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.expose().to_owned(),
            record,
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes a token: one's own, or anyone's for an admin. Audited.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", operation_id = "revoke_token", tag = "accounts",
    params(("id" = i64, Path, description = "the token's id")),
    responses((status = 204, description = "revoked (revoking twice is no error)")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor.clone(), "token.revoke")
        .target(crate::error::truncate(&id));
    let revoked = async {
        let id: i64 = id
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::bad_request("a token id is a positive integer"))?;
        let not_found = || ApiError::not_found(format!("no token with id {id}"));
        let owner_id = if principal.role.allows(Action::ManageUsers) {
            None
        } else {
            Some(own_account(&state, &principal).await?.id)
        };
        // Someone else's token is "not found", not "forbidden": ids are not to be probed.
        let tokens = store.tokens(owner_id).await?;
        if !tokens.iter().any(|token| token.id == id) {
            return Err(not_found());
        }
        if !store.revoke_token(id).await? {
            return Err(not_found());
        }
        Ok(StatusCode::NO_CONTENT)
    }
    .await;
    audited(store, entry, revoked).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserList {
    /// Items per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// An account: name, role, state, creation and last login; never its password hash.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct UserItem(pub User);

/// Every account, by name.
#[utoipa::path(get, path = "/api/v1/users", operation_id = "list_users", tag = "accounts", params(UserList),
    responses((status = 200, description = "one page of accounts", body = Page<UserItem>)))]
pub async fn list_users(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<UserList>,
) -> Result<Json<Page<UserItem>>, ApiError> {
    let users = state.store.users().await?;
    Ok(Json(page_of(
        users.into_iter().map(UserItem).collect(),
        params.limit,
        params.cursor.as_deref(),
    )?))
}

/// An account to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub username: String,
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    /// At least 12 characters.
    pub password: String,
}

/// Creates an account with a password (argon2id); audited.
#[utoipa::path(post, path = "/api/v1/users", operation_id = "create_user", tag = "accounts",
    request_body = NewUserRequest,
    responses((status = 201, description = "created", body = UserItem)))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let entry = AuditEntry::new(principal.actor, "user.create")
        .target(crate::error::truncate(&request.username))
        .detail(serde_json::json!({ "role": request.role }));
    let created = async {
        let username = Username::parse(&request.username).map_err(|err| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                err.to_string(),
            )
        })?;
        passwords::check(&request.password).map_err(|err| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                err.to_string(),
            )
        })?;
        if store.user(username.as_str()).await?.is_some() {
            return Err(refused(StoreError::UserExists(username.to_string())));
        }
        let password = request.password;
        let password_hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        store
            .create_user(&NewUser {
                username,
                role: request.role,
                password_hash,
            })
            .await
            .map_err(refused)
    }
    .await;
    let user = audited(store, entry, created).await?;
    Ok((StatusCode::CREATED, Json(UserItem(user))).into_response())
}

/// A change to an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    /// `true` disables the account (its sessions end, its tokens are refused); `false`
    /// enables it again.
    pub disabled: bool,
}

/// Disables or re-enables an account; audited. One's own account cannot be disabled.
#[utoipa::path(patch, path = "/api/v1/users/{name}", operation_id = "change_user", tag = "accounts",
    params(("name" = String, Path, description = "the account's name")),
    request_body = UserChange,
    responses((status = 200, description = "the account as it is now", body = UserItem)))]
pub async fn change_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<UserChange>,
) -> Result<Json<UserItem>, ApiError> {
    let store = state.store.as_ref();
    let action = if request.disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let entry =
        AuditEntry::new(principal.actor.clone(), action).target(crate::error::truncate(&name));
    let changed = async {
        if request.disabled && name.eq_ignore_ascii_case(principal.username.as_str()) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "you cannot disable your own account",
            ));
        }
        let not_found =
            || ApiError::not_found(format!("unknown user {:?}", crate::error::truncate(&name)));
        if !store.set_user_disabled(&name, request.disabled).await? {
            return Err(not_found());
        }
        store.user(&name).await?.ok_or_else(not_found)
    }
    .await;
    Ok(Json(UserItem(audited(store, entry, changed).await?)))
}
