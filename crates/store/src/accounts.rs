//! The plain types of accounts, API tokens, browser sessions and the audit log.
//!
//! The store keeps what `rampart-auth` produces — PHC password hashes, SHA-256 hashes of
//! tokens and session ids — and never sees a password or a secret itself.

use std::fmt;

use rampart_auth::{Role, SecretHash, Username};
use rampart_model::Timestamp;
use serde::{Deserialize, Serialize};

/// An account to create.
pub struct NewUser {
    pub username: Username,
    pub role: Role,
    /// The argon2id PHC string of its password (`rampart_auth::passwords::hash`).
    pub password_hash: String,
}

/// An account as stored. Its password hash is left out of JSON and debug output.
#[derive(Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub username: Username,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created: Timestamp,
    /// A disabled account cannot log in, its sessions are gone and its tokens are refused.
    pub disabled: bool,
    /// When a session was last opened for it.
    pub last_login: Option<Timestamp>,
}

impl fmt::Debug for User {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("created", &self.created)
            .field("disabled", &self.disabled)
            .field("last_login", &self.last_login)
            .finish_non_exhaustive()
    }
}

/// An API token to record; the token itself was shown to its owner and is not kept.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What it is for (`zeek-sensor-3`): 1 to 64 characters, no control characters.
    pub name: String,
    /// The owning user's id.
    pub owner_id: i64,
    /// The role the token acts with: within its owner's ([`Role::within`]).
    pub role: Role,
    /// `ApiToken::hash` of the token.
    pub hash: SecretHash,
    /// When it stops working; `None` for never (until revoked).
    pub expires: Option<Timestamp>,
}

/// An API token as stored, with its owner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub owner_id: i64,
    pub owner: Username,
    pub role: Role,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    /// When it was last accepted, to the minute (see [`crate::Store::authenticate_token`]).
    pub last_used: Option<Timestamp>,
    pub revoked: bool,
}

/// The verdict on a presented API token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenCheck {
    /// Act as the token's owner with the token's role.
    Valid(TokenRecord),
    /// No token has this hash.
    Unknown,
    Revoked,
    Expired,
    /// The owner's account is disabled.
    OwnerDisabled,
    /// The owner's role no longer covers the token's (it was lowered after the token was made).
    RoleExceedsOwner,
}

impl TokenCheck {
    /// Why a token was refused, for logs and the audit trail; `None` when it is valid.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            TokenCheck::Valid(_) => None,
            TokenCheck::Unknown => Some("unknown token"),
            TokenCheck::Revoked => Some("token revoked"),
            TokenCheck::Expired => Some("token expired"),
            TokenCheck::OwnerDisabled => Some("token owner disabled"),
            TokenCheck::RoleExceedsOwner => Some("token role exceeds its owner's"),
        }
    }
}

/// A browser session to open after a successful login.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// `SessionId::hash` of the id sent in the cookie.
    pub hash: SecretHash,
    pub user_id: i64,
    pub expires: Timestamp,
    /// The session's CSRF token (`rampart_auth::new_csrf_token`).
    pub csrf_token: String,
}

/// A live session with its account.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: User,
    pub created: Timestamp,
    pub expires: Timestamp,
    pub csrf_token: String,
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    /// Attempted and failed (bad input, a conflict, an error).
    Failure,
    /// Refused: the actor was not authenticated or not allowed.
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
            AuditOutcome::Denied => "denied",
        }
    }
}

impl std::str::FromStr for AuditOutcome {
    type Err = String;

    fn from_str(text: &str) -> Result<AuditOutcome, String> {
        match text {
            "success" => Ok(AuditOutcome::Success),
            "failure" => Ok(AuditOutcome::Failure),
            "denied" => Ok(AuditOutcome::Denied),
            other => Err(format!("unknown outcome {other:?}")),
        }
    }
}

/// One line of the audit log: who did what, when, to what, and how it ended.
///
/// Actors are written `user:NAME` (a UI session), `token:NAME` (an API token, by its name),
/// `cli:OSUSER` (the command line), or `system` (automated work, with its reason in `detail`).
/// Actions are dotted verbs: `login`, `user.create`, `token.revoke`, `source.add`…
///
/// ```
/// use rampart_store::{AuditEntry, AuditOutcome};
/// let entry = AuditEntry::new("user:alice", "source.add")
///     .target("urlhaus")
///     .detail(serde_json::json!({ "format": "urlhaus-csv" }));
/// assert_eq!(entry.outcome, AuditOutcome::Success);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// A JSON object with whatever explains the action.
    pub detail: serde_json::Value,
    pub outcome: AuditOutcome,
}

impl AuditEntry {
    /// A successful action now, without target or detail.
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at: Timestamp::now(),
            actor: actor.into(),
            action: action.into(),
            target: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
            outcome: AuditOutcome::Success,
        }
    }

    /// What the action was done to.
    pub fn target(mut self, target: impl Into<String>) -> AuditEntry {
        self.target = Some(target.into());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> AuditEntry {
        self.detail = detail;
        self
    }

    pub fn outcome(mut self, outcome: AuditOutcome) -> AuditEntry {
        self.outcome = outcome;
        self
    }

    /// Marks the action failed and adds the error to the detail as `error`.
    pub fn failed(mut self, error: impl fmt::Display) -> AuditEntry {
        self.outcome = AuditOutcome::Failure;
        let error = serde_json::Value::String(error.to_string());
        match &mut self.detail {
            serde_json::Value::Object(fields) => {
                fields.insert("error".into(), error);
            }
            other => {
                *other = serde_json::json!({ "error": error, "detail": other.take() });
            }
        }
        self
    }
}

/// An audit line as stored, with its id (the order lines were recorded in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit lines [`crate::Store::audit`] returns. Empty fields match everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only lines at or after this time.
    pub since: Option<Timestamp>,
    /// Only lines before this time.
    pub until: Option<Timestamp>,
    /// Only this actor (exactly).
    pub actor: Option<String>,
    /// Only this action (exactly).
    pub action: Option<String>,
    /// Newest first instead of oldest first.
    pub newest_first: bool,
    /// Page size; 0 means the default of 1000.
    pub limit: u32,
    /// Lines to skip, for paging.
    pub offset: u64,
}
