//! Rampart's accounts, apart from where they are stored: who may do what ([`Role`] and
//! [`Action`]), valid [`Username`]s, password hashing (argon2id, PHC strings), and the random
//! secrets handed to tools and browsers — API tokens and session ids, which are stored only as
//! a SHA-256 [`SecretHash`] — with their CSRF tokens.
//!
//! Nothing here does I/O besides reading the operating system's random number generator; the
//! store keeps users, token hashes, sessions and the audit log.
//!
//! ```
//! use rampart_auth::{Action, ApiToken, Role, Username, passwords};
//! let name = Username::parse("alice@example.org")?;
//! assert!(Role::Analyst.allows(Action::TriageAlerts));
//! assert!(!Role::ReadOnly.allows(Action::WriteIntel));
//!
//! let phc = passwords::hash("correct horse battery staple")?;
//! assert!(passwords::verify("correct horse battery staple", &phc)?);
//!
//! let token = ApiToken::generate()?;           // shown to its owner once
//! let stored = token.hash();                   // what the store keeps
//! assert_eq!(ApiToken::hash_presented(token.expose())?, stored);
//! # let _ = name;
//! # Ok::<(), rampart_auth::AuthError>(())
//! ```

mod error;
pub mod passwords;
mod role;
mod secret;
mod username;

pub use error::AuthError;
pub use role::{Action, Role, UnknownRole};
pub use secret::{ApiToken, SecretHash, SessionId, csrf_matches, new_csrf_token};
pub use username::Username;
