//! Store errors.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    #[error("unknown source {0:?}")]
    UnknownSource(String),
    #[error("import aborted: {0}")]
    Aborted(String),
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// A request the store will not carry out (a token beyond its owner's role, a session for
    /// a disabled account, an expiry in the past…), with the reason.
    #[error("refused: {0}")]
    Refused(String),
    #[error("backup or restore: {0}")]
    Backup(String),
    #[error("unknown case {0}")]
    UnknownCase(i64),
    #[error("unknown task {0}")]
    UnknownTask(i64),
    /// A case status change the lifecycle refuses.
    #[error("case {case}: {source}")]
    StatusChange {
        case: i64,
        source: rampart_model::StatusChangeError,
    },
    #[error("cannot write the export: {0}")]
    Export(#[from] std::io::Error),
}
