//! Rows of the account tables (users, api_tokens, sessions, audit_log), shared by both
//! backends like the rest of [`crate::rows`].

use rampart_auth::{Role, Username};

use super::{corrupt, from_json, optional_timestamp, parse_column, timestamp, to_json};
use crate::{AuditEntry, AuditRecord, Session, StoreError, TokenRecord, User};

fn username(table: &'static str, text: String) -> Result<Username, StoreError> {
    Username::parse(&text).map_err(|err| corrupt(table, err.to_string()))
}

fn role(table: &'static str, column: &str, text: &str) -> Result<Role, StoreError> {
    parse_column(table, column, text)
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    role: String,
    password_hash: String,
    created: i64,
    disabled: bool,
    last_login: Option<i64>,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        const TABLE: &str = "users";
        Ok(User {
            id: self.id,
            username: username(TABLE, self.username)?,
            role: role(TABLE, "role", &self.role)?,
            password_hash: self.password_hash,
            created: timestamp(TABLE, self.created)?,
            disabled: self.disabled,
            last_login: optional_timestamp(TABLE, self.last_login)?,
        })
    }
}

/// A token joined with the state of its owner.
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    name: String,
    owner_id: i64,
    owner: String,
    owner_role: String,
    owner_disabled: bool,
    role: String,
    created: i64,
    expires: Option<i64>,
    last_used: Option<i64>,
    revoked: bool,
}

impl TokenRow {
    /// The token, its owner's current role, and whether the owner is disabled.
    pub(crate) fn into_parts(self) -> Result<(TokenRecord, Role, bool), StoreError> {
        const TABLE: &str = "api_tokens";
        let owner_role = role(TABLE, "owner role", &self.owner_role)?;
        let record = TokenRecord {
            id: self.id,
            name: self.name,
            owner_id: self.owner_id,
            owner: username(TABLE, self.owner)?,
            role: role(TABLE, "role", &self.role)?,
            created: timestamp(TABLE, self.created)?,
            expires: optional_timestamp(TABLE, self.expires)?,
            last_used: optional_timestamp(TABLE, self.last_used)?,
            revoked: self.revoked,
        };
        Ok((record, owner_role, self.owner_disabled))
    }
}

/// A session joined with its account.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    session_created: i64,
    session_expires: i64,
    csrf_token: String,
    #[sqlx(flatten)]
    user: UserRow,
}

impl SessionRow {
    pub(crate) fn into_session(self) -> Result<Session, StoreError> {
        const TABLE: &str = "sessions";
        Ok(Session {
            created: timestamp(TABLE, self.session_created)?,
            expires: timestamp(TABLE, self.session_expires)?,
            csrf_token: self.csrf_token,
            user: self.user.into_user()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    action: String,
    target: Option<String>,
    detail: String,
    outcome: String,
}

impl AuditRow {
    pub(crate) fn into_record(self) -> Result<AuditRecord, StoreError> {
        const TABLE: &str = "audit_log";
        Ok(AuditRecord {
            id: self.id,
            entry: AuditEntry {
                at: timestamp(TABLE, self.at)?,
                detail: from_json(TABLE, "detail", &self.detail)?,
                outcome: self
                    .outcome
                    .parse()
                    .map_err(|err: String| corrupt(TABLE, err))?,
                actor: self.actor,
                action: self.action,
                target: self.target,
            },
        })
    }
}

/// The columns of an audit line as written: at, actor, action, target, detail, outcome.
pub(crate) fn audit_columns(entry: &AuditEntry) -> (i64, &str, &str, Option<&str>, String, &str) {
    (
        super::micros(entry.at),
        &entry.actor,
        &entry.action,
        entry.target.as_deref(),
        to_json(&entry.detail),
        entry.outcome.as_str(),
    )
}
