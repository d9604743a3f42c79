//! The first start of a server without any account: there is no default password, so an
//! `admin` account is created whose password nobody knows, with one API token that the
//! caller shows once. With it, the operator creates real accounts (`POST /api/v1/users`).

use rampart_auth::{ApiToken, Role, Username, passwords};
use rampart_store::{AuditEntry, NewToken, NewUser, Store};

/// The account made on first start.
pub const FIRST_ADMIN: &str = "admin";

/// Why the first-run account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FirstRunError {
    #[error("first run: {0}")]
    Store(#[from] rampart_store::StoreError),
    #[error("first run: {0}")]
    Auth(#[from] rampart_auth::AuthError),
    #[error("first run: password hashing failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// When the store has no account at all, creates `admin` (with a password hash of random
/// bytes nobody kept, so it cannot log in with a password) and an admin API token, and
/// returns the token's secret; `None` when any account exists, so a restart never makes a
/// second one. Audited as `first_run`.
pub async fn first_run(store: &dyn Store) -> Result<Option<ApiToken>, FirstRunError> {
    if !store.users().await?.is_empty() {
        return Ok(None);
    }
    let unknowable = ApiToken::generate()?;
    let password_hash =
        tokio::task::spawn_blocking(move || passwords::hash(unknowable.expose())).await??;
    let user = store
        .create_user(&NewUser {
            username: Username::parse(FIRST_ADMIN)?,
            role: Role::Admin,
            password_hash,
        })
        .await?;
    let token = ApiToken::generate()?;
    let record = store
        .create_token(&NewToken {
            name: "first-run".into(),
            owner_id: user.id,
            role: Role::Admin,
            hash: token.hash(),
            expires: None,
        })
        .await?;
    store
        .record_audit(
            &AuditEntry::new("system", "first_run")
                .target(FIRST_ADMIN)
                .detail(serde_json::json!({ "token": record.id })),
        )
        .await?;
    Ok(Some(token))
}
