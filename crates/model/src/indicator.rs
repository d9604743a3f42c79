//! Indicators: a kind plus a canonical value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::canon;

/// What an indicator's value is. The string forms (`ipv4`, `sha256`, …) are stable: they are
/// stored, exported and used in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

/// A name that is not an indicator kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unknown indicator kind {0:?} (expected one of ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512)"
)]
pub struct UnknownKind(pub String);

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 10] = [
        IndicatorKind::Ipv4,
        IndicatorKind::Ipv6,
        IndicatorKind::Cidr,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Email,
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
        IndicatorKind::Sha512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Email => "email",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Sha512 => "sha512",
        }
    }

    pub fn is_hash(self) -> bool {
        matches!(
            self,
            IndicatorKind::Md5
                | IndicatorKind::Sha1
                | IndicatorKind::Sha256
                | IndicatorKind::Sha512
        )
    }

    pub fn is_network(self) -> bool {
        matches!(
            self,
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr
        )
    }

    /// The hash kind of a hex digest of this many characters.
    pub fn hash_for_length(length: usize) -> Option<IndicatorKind> {
        match length {
            32 => Some(IndicatorKind::Md5),
            40 => Some(IndicatorKind::Sha1),
            64 => Some(IndicatorKind::Sha256),
            128 => Some(IndicatorKind::Sha512),
            _ => None,
        }
    }
}

impl FromStr for IndicatorKind {
    type Err = UnknownKind;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        IndicatorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == lower)
            .or(match lower.as_str() {
                "ip" | "ip4" => Some(IndicatorKind::Ipv4),
                "ip6" => Some(IndicatorKind::Ipv6),
                "hostname" | "fqdn" => Some(IndicatorKind::Domain),
                "sha-1" => Some(IndicatorKind::Sha1),
                "sha-256" => Some(IndicatorKind::Sha256),
                "sha-512" => Some(IndicatorKind::Sha512),
                _ => None,
            })
            .ok_or(UnknownKind(text.to_owned()))
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a raw value could not become an indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct CanonError {
    reason: String,
}

impl CanonError {
    pub(crate) fn new(reason: impl Into<String>) -> CanonError {
        CanonError {
            reason: reason.into(),
        }
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// One canonical indicator. Two indicators are equal exactly when kind and canonical value are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Indicator {
    kind: IndicatorKind,
    value: String,
}

impl Indicator {
    /// Canonicalises `raw` as an indicator of `kind`, refanging it first.
    ///
    /// A CIDR of a single address (`/32`, `/128`) becomes an IP indicator, and an IPv4-mapped
    /// IPv6 address stays IPv6: it is what the sender wrote and what logs will show.
    pub fn parse(kind: IndicatorKind, raw: &str) -> Result<Indicator, CanonError> {
        let refanged = canon::refang(raw);
        let text = refanged.as_str();
        if text.is_empty() {
            return Err(CanonError::new("empty value"));
        }
        if text.len() > 8192 {
            return Err(CanonError::new("value longer than 8192 bytes"));
        }
        let (kind, value) = match kind {
            IndicatorKind::Ipv4 => (kind, canon::ipv4(text)?.to_string()),
            IndicatorKind::Ipv6 => (kind, canon::ipv6(text)?.to_string()),
            IndicatorKind::Cidr => match canon::cidr(text)? {
                Ok(net) => (kind, net.to_string()),
                Err(std::net::IpAddr::V4(addr)) => (IndicatorKind::Ipv4, addr.to_string()),
                Err(std::net::IpAddr::V6(addr)) => (IndicatorKind::Ipv6, addr.to_string()),
            },
            IndicatorKind::Domain => (kind, canon::domain(text)?),
            IndicatorKind::Url => (kind, canon::url(text)?),
            IndicatorKind::Email => (kind, canon::email(text)?),
            IndicatorKind::Md5 => (kind, canon::hash(text, 32)?),
            IndicatorKind::Sha1 => (kind, canon::hash(text, 40)?),
            IndicatorKind::Sha256 => (kind, canon::hash(text, 64)?),
            IndicatorKind::Sha512 => (kind, canon::hash(text, 128)?),
        };
        Ok(Indicator { kind, value })
    }

    /// Canonicalises a value whose kind is not given, as plain-text feeds need: hashes by length,
    /// then IPs, CIDRs, URLs, email addresses and finally domains.
    pub fn guess(raw: &str) -> Result<Indicator, CanonError> {
        let refanged = canon::refang(raw);
        let text = refanged.trim();
        if text.is_empty() {
            return Err(CanonError::new("empty value"));
        }
        if let Some(kind) = IndicatorKind::hash_for_length(text.len())
            && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Indicator::parse(kind, text);
        }
        if text.parse::<std::net::Ipv4Addr>().is_ok() {
            return Indicator::parse(IndicatorKind::Ipv4, text);
        }
        if text.contains(':') && !text.contains("://") && canon::ipv6(text).is_ok() {
            return Indicator::parse(IndicatorKind::Ipv6, text);
        }
        if text.contains('/') && text.parse::<ipnet::IpNet>().is_ok() {
            return Indicator::parse(IndicatorKind::Cidr, text);
        }
        if text.contains("://") {
            return Indicator::parse(IndicatorKind::Url, text);
        }
        if let Some((host, _)) = text.split_once('/') {
            // Without a scheme, only `host.tld/path` reads as a URL: `a/b` in a text list is
            // a path or prose, not a threat.
            if !host.contains('.') {
                return Err(CanonError::new(
                    "not a URL: no scheme and no dotted host before '/'",
                ));
            }
            return Indicator::parse(IndicatorKind::Url, text);
        }
        if text.contains('@') {
            return Indicator::parse(IndicatorKind::Email, text);
        }
        if !text.contains('.') {
            return Err(CanonError::new(
                "not an IP, CIDR, URL, email, hash or dotted domain name",
            ));
        }
        Indicator::parse(IndicatorKind::Domain, text)
    }

    /// Builds an indicator from a value already in canonical form (as read back from the store).
    /// The caller vouches for canonicality; nothing is checked.
    pub fn from_canonical(kind: IndicatorKind, value: String) -> Indicator {
        Indicator { kind, value }
    }

    pub fn kind(&self) -> IndicatorKind {
        self.kind
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn into_value(self) -> String {
        self.value
    }

    /// The host part of a URL or email indicator, or the domain itself.
    pub fn host(&self) -> Option<&str> {
        match self.kind {
            IndicatorKind::Domain => Some(&self.value),
            IndicatorKind::Email => self.value.rsplit_once('@').map(|(_, host)| host),
            IndicatorKind::Url => {
                let after_scheme = self.value.split_once("://")?.1;
                let authority = after_scheme.split(['/', '?']).next()?;
                let host_port = authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host);
                if host_port.starts_with('[') {
                    return host_port
                        .split(']')
                        .next()
                        .map(|h| h.trim_start_matches('['));
                }
                Some(host_port.split(':').next().unwrap_or(host_port))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(kind: IndicatorKind, raw: &str) -> String {
        Indicator::parse(kind, raw).unwrap().value().to_owned()
    }

    #[test]
    fn refangs_before_canonicalising() {
        assert_eq!(
            canonical(IndicatorKind::Url, "hxxps[:]//bad[.]site/x"),
            "https://bad.site/x"
        );
        assert_eq!(canonical(IndicatorKind::Domain, "bad(.)site"), "bad.site");
        assert_eq!(
            canonical(IndicatorKind::Email, "Bob[at]Bad[.]Site"),
            "bob@bad.site"
        );
        assert_eq!(
            canonical(IndicatorKind::Ipv4, "198.51.100[.]7"),
            "198.51.100.7"
        );
    }

    #[test]
    fn domains_are_lowercase_punycode_without_trailing_dot() {
        assert_eq!(
            canonical(IndicatorKind::Domain, "WWW.Example.COM."),
            "www.example.com"
        );
        assert_eq!(
            canonical(IndicatorKind::Domain, "bücher.de"),
            "xn--bcher-kva.de"
        );
        assert!(Indicator::parse(IndicatorKind::Domain, "a..b").is_err());
        assert!(Indicator::parse(IndicatorKind::Domain, "bad domain.com").is_err());
        assert!(
            Indicator::parse(IndicatorKind::Domain, &format!("{}.com", "a".repeat(64))).is_err()
        );
    }

    #[test]
    fn ips_and_networks_are_compressed_and_truncated() {
        assert_eq!(
            canonical(
                IndicatorKind::Ipv6,
                "2001:0DB8:0000:0000:0000:0000:0000:0001"
            ),
            "2001:db8::1"
        );
        assert_eq!(
            canonical(IndicatorKind::Cidr, "192.0.2.77/24"),
            "192.0.2.0/24"
        );
        assert_eq!(
            canonical(IndicatorKind::Cidr, "2001:db8::ff/32"),
            "2001:db8::/32"
        );
        let single = Indicator::parse(IndicatorKind::Cidr, "203.0.113.9/32").unwrap();
        assert_eq!(
            (single.kind(), single.value()),
            (IndicatorKind::Ipv4, "203.0.113.9")
        );
        assert!(Indicator::parse(IndicatorKind::Ipv4, "256.1.1.1").is_err());
        assert!(Indicator::parse(IndicatorKind::Cidr, "10.0.0.0/33").is_err());
    }

    #[test]
    fn urls_are_normalised() {
        assert_eq!(
            canonical(
                IndicatorKind::Url,
                "HTTP://Evil.Example.COM:80/a%7Eb/%2f?q=%3a#frag"
            ),
            "http://evil.example.com/a~b/%2F?q=%3A"
        );
        assert_eq!(
            canonical(IndicatorKind::Url, "https://evil.example:443"),
            "https://evil.example/"
        );
        assert_eq!(
            canonical(IndicatorKind::Url, "https://evil.example:8443/"),
            "https://evil.example:8443/"
        );
        assert_eq!(
            canonical(IndicatorKind::Url, "evil.example/login.php"),
            "http://evil.example/login.php"
        );
        assert_eq!(
            canonical(IndicatorKind::Url, "http://bücher.de/"),
            "http://xn--bcher-kva.de/"
        );
        assert!(Indicator::parse(IndicatorKind::Url, "http://").is_err());
    }

    #[test]
    fn hashes_are_validated() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(canonical(IndicatorKind::Md5, md5), md5.to_ascii_lowercase());
        assert!(Indicator::parse(IndicatorKind::Sha1, md5).is_err());
        assert!(Indicator::parse(IndicatorKind::Md5, "z41d8cd98f00b204e9800998ecf8427e").is_err());
    }

    #[test]
    fn guesses_kinds() {
        let cases = [
            ("203.0.113.5", IndicatorKind::Ipv4),
            ("2001:db8::5", IndicatorKind::Ipv6),
            ("198.51.100.0/24", IndicatorKind::Cidr),
            ("hxxp://a.example/x", IndicatorKind::Url),
            ("a.example/x", IndicatorKind::Url),
            ("x@a.example", IndicatorKind::Email),
            ("a.example", IndicatorKind::Domain),
            ("d41d8cd98f00b204e9800998ecf8427e", IndicatorKind::Md5),
        ];
        for (raw, kind) in cases {
            assert_eq!(Indicator::guess(raw).unwrap().kind(), kind, "{raw}");
        }
        assert!(Indicator::guess("localhost").is_err());
        assert!(Indicator::guess("not/a/value").is_err());
    }

    #[test]
    fn one_indicator_per_kind_and_canonical_value() {
        let a = Indicator::parse(IndicatorKind::Url, "hxxp://EVIL[.]example:80/#x").unwrap();
        let b = Indicator::parse(IndicatorKind::Url, "http://evil.example/").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.host(), Some("evil.example"));
    }
}
