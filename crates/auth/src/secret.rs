//! Random secrets handed out once and stored only as hashes: API tokens for tools, session ids
//! for browsers, and the CSRF token of each session.
//!
//! Each secret is 256 bits from the operating system's generator, written as URL-safe base64
//! after a recognisable prefix (`rmp_` for tokens, `rms_` for sessions) so that secret scanners
//! and people can tell what leaked. The store keeps a SHA-256 of the whole text: a fast hash is
//! right here — unlike a password, a 256-bit random value cannot be guessed, so slowing down
//! each guess buys nothing, while every API request must look its token up.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AuthError;

/// Random bytes per secret.
const SECRET_BYTES: usize = 32;
/// Characters of their URL-safe base64 form (no padding).
const ENCODED_LEN: usize = 43;

/// 256 random bits, URL-safe base64.
fn random_text() -> Result<String, AuthError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(AuthError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `text` is `prefix` followed by one encoded secret.
fn well_formed(prefix: &str, text: &str) -> bool {
    text.strip_prefix(prefix).is_some_and(|body| {
        body.len() == ENCODED_LEN
            && body
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    })
}

/// The SHA-256 of a secret's text: what the store keeps and looks secrets up by. Equality is
/// constant-time.
#[derive(Clone, Copy, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash of `text` as given (prefix included).
    fn of(text: &str) -> SecretHash {
        SecretHash(Sha256::digest(text.as_bytes()).into())
    }

    /// Lowercase hex, the stored form.
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        self.0
            .iter()
            .fold(String::with_capacity(64), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            })
    }

    /// Reads the stored form back; `None` unless it is 64 hex digits.
    pub fn from_hex(text: &str) -> Option<SecretHash> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(SecretHash(bytes))
    }
}

impl PartialEq for SecretHash {
    fn eq(&self, other: &SecretHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "SecretHash({})", self.to_hex())
    }
}

/// Declares a secret type: generated, shown once, hashed, and recognised when presented.
macro_rules! secret {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        pub struct $name(String);

        impl $name {
            /// What every one of these starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new random one.
            pub fn generate() -> Result<$name, AuthError> {
                Ok($name(format!("{}{}", Self::PREFIX, random_text()?)))
            }

            /// The secret itself, to hand over once; never log it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// What the store keeps.
            pub fn hash(&self) -> SecretHash {
                SecretHash::of(&self.0)
            }

            /// The hash to look up a presented value by, after checking that it has the shape
            /// of one of these; anything else is refused before it reaches the store.
            pub fn hash_presented(text: &str) -> Result<SecretHash, AuthError> {
                if well_formed(Self::PREFIX, text) {
                    Ok(SecretHash::of(text))
                } else {
                    Err(AuthError::MalformedSecret($what))
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}({}…)", stringify!($name), Self::PREFIX)
            }
        }
    };
}

secret!(
    /// An API token for a tool or a sensor (`rmp_` + 43 characters).
    ApiToken,
    "rmp_",
    "API token"
);

secret!(
    /// A browser session's id, the value of its cookie (`rms_` + 43 characters).
    SessionId,
    "rms_",
    "session id"
);

/// A new CSRF token for a session: 256 random bits, URL-safe base64. It is stored with the
/// session as is (it guards forms, it does not log anyone in) and compared with
/// [`csrf_matches`].
pub fn new_csrf_token() -> Result<String, AuthError> {
    random_text()
}

/// Whether a form's CSRF token is the session's, compared in constant time.
pub fn csrf_matches(expected: &str, presented: &str) -> bool {
    // Lengths are public (every token has 43 characters); the contents are compared in full.
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_prefix_and_256_bits() {
        let token = ApiToken::generate().unwrap();
        let text = token.expose();
        assert!(text.starts_with("rmp_"), "{text}");
        assert_eq!(text.len(), 4 + 43);
        let decoded = URL_SAFE_NO_PAD.decode(&text[4..]).unwrap();
        assert_eq!(decoded.len(), 32);
        assert!(well_formed("rmp_", text));
    }

    #[test]
    fn tokens_differ() {
        let first = ApiToken::generate().unwrap();
        let second = ApiToken::generate().unwrap();
        assert_ne!(first.expose(), second.expose());
        assert_ne!(first.hash(), second.hash());
    }

    #[test]
    fn the_hash_is_sha256_of_the_whole_text() {
        // SHA-256("rmp_" + 43 × "A"), computed independently with `sha256sum`.
        let text = format!("rmp_{}", "A".repeat(43));
        let hash = ApiToken::hash_presented(&text).unwrap();
        assert_eq!(
            hash.to_hex(),
            "330c5d442b1651e4ef92983687bc79d246bff0d4a81e082ad1ed62029d912a33"
        );
    }

    #[test]
    fn presented_tokens_hash_to_the_stored_hash() {
        let token = ApiToken::generate().unwrap();
        assert_eq!(
            ApiToken::hash_presented(token.expose()).unwrap(),
            token.hash()
        );
        let stored = token.hash().to_hex();
        assert_eq!(stored.len(), 64);
        assert_eq!(SecretHash::from_hex(&stored).unwrap(), token.hash());
    }

    #[test]
    fn malformed_tokens_are_refused_without_echo() {
        let token = ApiToken::generate().unwrap();
        let text = token.expose();
        let session = SessionId::generate().unwrap();
        let cases = [
            String::new(),
            "rmp_".to_owned(),
            text[..text.len() - 1].to_owned(),
            format!("{text}A"),
            text.replacen("rmp_", "rmx_", 1),
            format!("rmp_{}", "+".repeat(43)),
            format!(" {text}"),
            session.expose().to_owned(),
        ];
        for case in cases {
            let refused = ApiToken::hash_presented(&case).unwrap_err();
            assert!(matches!(refused, AuthError::MalformedSecret("API token")));
            assert!(!refused.to_string().contains(&case) || case.is_empty());
        }
    }

    #[test]
    fn sessions_are_secrets_of_their_own_kind() {
        let session = SessionId::generate().unwrap();
        assert!(session.expose().starts_with("rms_"));
        assert_eq!(
            SessionId::hash_presented(session.expose()).unwrap(),
            session.hash()
        );
        assert!(ApiToken::hash_presented(session.expose()).is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = ApiToken::generate().unwrap();
        let shown = format!("{token:?}");
        assert_eq!(shown, "ApiToken(rmp_…)");
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let hash = SessionId::generate().unwrap().hash();
        assert_eq!(SecretHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(SecretHash::from_hex("abc"), None);
        assert_eq!(SecretHash::from_hex(&"zz".repeat(32)), None);
        assert_eq!(SecretHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let expected = new_csrf_token().unwrap();
        assert_eq!(expected.len(), 43);
        assert!(csrf_matches(&expected, &expected.clone()));
        assert!(!csrf_matches(&expected, &expected[..42]));
        assert!(!csrf_matches(&expected, ""));
        let mut changed = expected.clone().into_bytes();
        changed[0] = if changed[0] == b'A' { b'B' } else { b'A' };
        assert!(!csrf_matches(
            &expected,
            &String::from_utf8(changed).unwrap()
        ));
        assert_ne!(new_csrf_token().unwrap(), expected);
    }
}
