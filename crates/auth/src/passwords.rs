//! Password hashing with argon2id, kept as PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)
//! so that each stored hash carries its own parameters and old hashes keep verifying after the
//! recommended cost changes.
//!
//! Hashing costs tens of milliseconds of CPU by design: async callers run it on a blocking
//! thread (`tokio::task::spawn_blocking`).

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::AuthError;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest password accepted, in bytes: hashing cost grows with the input, and no one
/// types more.
pub const MAX_BYTES: usize = 1024;

/// Checks a new password against the policy: at least [`MIN_CHARS`] characters, at most
/// [`MAX_BYTES`] bytes, not only white space.
pub fn check(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_CHARS {
        return Err(AuthError::WeakPassword(
            "it must be at least 12 characters long",
        ));
    }
    if password.len() > MAX_BYTES {
        return Err(AuthError::WeakPassword(
            "it must be at most 1024 bytes long",
        ));
    }
    if password.trim().is_empty() {
        return Err(AuthError::WeakPassword("it is only white space"));
    }
    Ok(())
}

/// Hashes new passwords with fixed argon2id parameters.
pub struct Hasher {
    argon2: Argon2<'static>,
}

impl Hasher {
    /// OWASP's recommended argon2id cost: 19 MiB of memory, 2 passes, 1 lane (also the argon2
    /// crate's default).
    pub fn recommended() -> Hasher {
        Hasher {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default()),
        }
    }

    /// A hasher with another memory cost (KiB) and number of passes, e.g. a cheaper one for
    /// tests or a dearer one for a large server.
    pub fn with_cost(memory_kib: u32, passes: u32) -> Result<Hasher, AuthError> {
        let params = Params::new(memory_kib, passes, 1, None)
            .map_err(|err| AuthError::Hashing(format!("invalid argon2 parameters: {err}")))?;
        Ok(Hasher {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        })
    }

    /// Checks `password` against the policy ([`check`]) and hashes it with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        check(password)?;
        let hash = self
            .argon2
            .hash_password(password.as_bytes())
            .map_err(|err| AuthError::Hashing(err.to_string()))?;
        Ok(hash.to_string())
    }
}

/// [`Hasher::hash`] at the recommended cost.
pub fn hash(password: &str) -> Result<String, AuthError> {
    Hasher::recommended().hash(password)
}

/// Whether `password` matches the stored PHC string, using the parameters stored with it; the
/// comparison of the outputs is constant-time. A stored string that is not an argon2id hash is
/// an error, not a mismatch: it means the row was damaged or written by something else.
pub fn verify(password: &str, stored: &str) -> Result<bool, AuthError> {
    let parsed = PasswordHash::new(stored).map_err(|err| AuthError::StoredHash(err.to_string()))?;
    if parsed.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str() {
        return Err(AuthError::StoredHash(format!(
            "algorithm {} instead of argon2id",
            parsed.algorithm
        )));
    }
    if password.len() > MAX_BYTES {
        // No such password can have been set; answer after the same work as a mismatch.
        verify_nobody(password);
        return Ok(false);
    }
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(err) => Err(AuthError::StoredHash(err.to_string())),
    }
}

/// Spends the time of one verification at the recommended cost and returns nothing: a login
/// for an unknown or disabled account calls it so that it takes as long as a wrong password,
/// and response times do not tell which accounts exist.
pub fn verify_nobody(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let mut random = [0u8; 24];
        getrandom::fill(&mut random).ok()?;
        let password: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        hash(&password).ok()
    });
    if let Some(dummy) = dummy
        && let Ok(parsed) = PasswordHash::new(dummy)
    {
        let input = &password.as_bytes()[..password.len().min(MAX_BYTES)];
        let _ = Argon2::default().verify_password(input, &parsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Hasher {
        Hasher::with_cost(1024, 1).unwrap()
    }

    #[test]
    fn recommended_hashes_are_argon2id_phc_strings_that_verify() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery staple", &stored).unwrap());
        assert!(!verify("correct horse battery stapler", &stored).unwrap());
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let hasher = cheap();
        let first = hasher.hash("the same password").unwrap();
        let second = hasher.hash("the same password").unwrap();
        assert_ne!(first, second);
        assert!(verify("the same password", &first).unwrap());
        assert!(verify("the same password", &second).unwrap());
    }

    #[test]
    fn stored_parameters_are_used_to_verify() {
        let stored = cheap().hash("a cheap test password").unwrap();
        assert!(stored.contains("m=1024,t=1,p=1"), "{stored}");
        assert!(verify("a cheap test password", &stored).unwrap());
        assert!(!verify("A cheap test password", &stored).unwrap());
    }

    #[test]
    fn the_policy_refuses_short_and_blank_passwords() {
        for weak in ["", "short", "elevenchars", "            "] {
            assert!(
                matches!(cheap().hash(weak), Err(AuthError::WeakPassword(_))),
                "{weak:?}"
            );
        }
        assert!(check("twelve chars").is_ok());
        // Characters, not bytes: twelve accented letters are enough.
        assert!(check("éééééééééééé").is_ok());
        assert!(check(&"x".repeat(MAX_BYTES + 1)).is_err());
    }

    #[test]
    fn damaged_or_foreign_hashes_are_errors() {
        assert!(matches!(
            verify("whatever password", "not a hash"),
            Err(AuthError::StoredHash(_))
        ));
        let argon2i = "$argon2i$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$\
                       0sUEyqvnqOC0Qk+HoiVBx6lcx5oMu5Emcv9jPZ3GpZw";
        assert!(matches!(
            verify("whatever password", argon2i),
            Err(AuthError::StoredHash(_))
        ));
    }

    #[test]
    fn over_long_passwords_never_match() {
        let stored = cheap().hash("a cheap test password").unwrap();
        assert!(!verify(&"x".repeat(MAX_BYTES + 1), &stored).unwrap());
    }
}
