//! Account names.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::AuthError;

/// A valid account name: 1 to 64 characters of `A-Z a-z 0-9 . _ @ -`, so that it can stand in
/// a URL, a log line or an audit row without quoting. Names are compared ignoring ASCII case by
/// the store (`Alice` and `alice` are one account); the spelling given at creation is kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 64;

    /// Checks `text` and keeps it as written.
    pub fn parse(text: &str) -> Result<Username, AuthError> {
        let invalid = |reason| AuthError::InvalidUsername {
            name: text.chars().take(Self::MAX_LEN + 8).collect(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(invalid("it is longer than 64 characters"));
        }
        if !text.bytes().all(Username::allowed) {
            return Err(invalid(
                "only letters A-Z a-z, digits and . _ @ - are allowed",
            ));
        }
        Ok(Username(text.to_owned()))
    }

    fn allowed(byte: u8) -> bool {
        byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'@' | b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::str::FromStr for Username {
    type Err = AuthError;

    fn from_str(text: &str) -> Result<Username, AuthError> {
        Username::parse(text)
    }
}

impl TryFrom<String> for Username {
    type Error = AuthError;

    fn try_from(text: String) -> Result<Username, AuthError> {
        Username::parse(&text)
    }
}

impl From<Username> for String {
    fn from(name: Username) -> String {
        name.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for name in [
            "a",
            "alice",
            "Bob.Smith",
            "svc_zeek-01",
            "alice@example.org",
        ] {
            assert_eq!(Username::parse(name).unwrap().as_str(), name);
        }
        let longest = "x".repeat(64);
        assert!(Username::parse(&longest).is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        let too_long = "x".repeat(65);
        for name in [
            "",
            too_long.as_str(),
            "al ice",
            "alice\n",
            "al/ice",
            "<script>",
            "alïce",
            "a:b",
        ] {
            let refused = Username::parse(name);
            assert!(
                matches!(refused, Err(AuthError::InvalidUsername { .. })),
                "{name:?} was accepted"
            );
        }
    }

    #[test]
    fn deserialising_validates() {
        assert!(serde_json::from_str::<Username>("\"ok.name\"").is_ok());
        assert!(serde_json::from_str::<Username>("\"not ok\"").is_err());
    }
}
