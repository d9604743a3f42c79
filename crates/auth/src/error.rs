//! Errors of account handling.

/// What went wrong with a name, a password or a secret.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid username {name:?}: {reason}")]
    InvalidUsername { name: String, reason: &'static str },
    #[error("password refused: {0}")]
    WeakPassword(&'static str),
    /// The presented value is not a secret Rampart issued. The value itself is never echoed:
    /// it may be a real secret pasted in the wrong place.
    #[error("malformed {0}")]
    MalformedSecret(&'static str),
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("stored password hash is unusable: {0}")]
    StoredHash(String),
}
