//! Cheap canonicalisation of values taken from events, on the lookup path.
//!
//! Events are not intel: their values are not refanged (a log line with `evil[.]com` did not
//! contact `evil.com`). Case and a trailing dot are normalised in a stack buffer, so the
//! common ASCII case allocates nothing; only internationalised names and URLs go through the
//! model's full canonicalisation.

use rampart_model::{Indicator, IndicatorKind};

/// Longest value normalised on the stack (a domain is at most 253 bytes, an email 320).
const STACK: usize = 320;

/// ASCII-lowercases `value` into `buffer` unless it is lowercase already.
pub(crate) fn lower<'a>(value: &'a str, buffer: &'a mut [u8; STACK]) -> Option<&'a str> {
    if !value.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(value);
    }
    let bytes = value.as_bytes();
    let target = buffer.get_mut(..bytes.len())?;
    for (out, byte) in target.iter_mut().zip(bytes) {
        *out = byte.to_ascii_lowercase();
    }
    std::str::from_utf8(target).ok()
}

pub(crate) fn buffer() -> [u8; STACK] {
    [0; STACK]
}

/// A domain from an event, trimmed of whitespace and one trailing dot. Non-ASCII names are
/// returned as `Err` with their IDNA form (which allocates).
pub(crate) fn domain_input(raw: &str) -> Result<&str, Option<String>> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_ascii() {
        return Ok(trimmed);
    }
    Err(Indicator::parse(IndicatorKind::Domain, trimmed)
        .ok()
        .map(Indicator::into_value))
}

/// The canonical form of a URL (scheme and host lowercase, default port dropped, path
/// escapes normalised, fragment dropped), as stored for URL indicators. `None` when it is not
/// a URL with a host. Note that the model's parser undoes defanging too.
pub fn canonical_url(raw: &str) -> Option<String> {
    Indicator::parse(IndicatorKind::Url, raw)
        .ok()
        .map(Indicator::into_value)
}

/// Whether a URL from an event is already in the canonical form [`canonical_url`] would give
/// it, judged conservatively without parsing: lowercase `http`/`https`, a lowercase ASCII
/// host name (not an address), no default or odd port, a path of plain characters without
/// escapes, dot segments, fragments or defanging brackets. Most URLs in proxy logs pass, and
/// their lookups then need neither the parser nor an allocation; anything unusual takes the
/// full canonicalisation.
pub(crate) fn is_canonical_url(raw: &str) -> bool {
    let (rest, default_port) = if let Some(rest) = raw.strip_prefix("http://") {
        (rest, "80")
    } else if let Some(rest) = raw.strip_prefix("https://") {
        (rest, "443")
    } else {
        return false;
    };
    let Some(slash) = rest.find('/') else {
        return false; // the canonical form adds the root path
    };
    let (authority, path) = rest.split_at(slash);
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if let Some(port) = port
        && (port == default_port
            || port.is_empty()
            || port.len() > 5
            || port.starts_with('0')
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u32>().map_or(true, |n| n > 65_535))
    {
        return false;
    }
    plain_host(host) && plain_path(path)
}

/// A lowercase host name of letter-digit-hyphen labels, ending in an alphabetic label (so it
/// is not an address), without punycode (which the IDNA pass would check).
fn plain_host(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut last = "";
    for label in host.split('.') {
        if label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || label.starts_with("xn--")
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return false;
        }
        last = label;
    }
    last.bytes().all(|b| b.is_ascii_lowercase())
}

/// A path and query of characters the URL parser and the percent normalisation leave as they
/// are, without dot segments.
fn plain_path(path: &str) -> bool {
    let plain = path.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'?'
                    | b'='
                    | b'&'
                    | b'+'
                    | b','
                    | b';'
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'*'
            )
    });
    if !plain {
        return false;
    }
    let path_only = path.split('?').next().unwrap_or(path);
    !path_only
        .split('/')
        .any(|segment| segment == "." || segment == "..")
}

#[cfg(test)]
mod canonical_url_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_urls_are_recognised_and_odd_ones_are_not() {
        for url in [
            "https://www.evil.example/index.html?q=a&b=c",
            "http://login-paypa1.example.com:8080/verify/account.php",
            "https://cdn.example.net/a/b.c/d~e_f-g",
        ] {
            assert!(is_canonical_url(url), "{url}");
            assert_eq!(canonical_url(url).as_deref(), Some(url));
        }
        for url in [
            "HTTP://evil.example/",
            "http://Evil.example/",
            "http://evil.example",
            "http://evil.example:80/",
            "http://evil.example/a/../b",
            "http://evil.example/%7e",
            "http://evil.example/#top",
            "http://192.0.2.1/",
            "http://xn--bcher-kva.example/",
            "http://evil.example/a(dot)b",
            "ftp://evil.example/",
        ] {
            assert!(!is_canonical_url(url), "{url}");
        }
    }

    proptest! {
        /// Whatever the quick check accepts, the full canonicalisation leaves unchanged.
        #[test]
        fn accepted_urls_are_their_own_canonical_form(
            scheme in "https?",
            labels in proptest::collection::vec("[a-z0-9-]{1,12}", 1..4),
            tld in "[a-z]{2,6}",
            port in proptest::option::of(1u32..70_000),
            path in "(/[A-Za-z0-9._~!$*+,;:@=&?-]{0,10}){1,4}",
        ) {
            let host = format!("{}.{tld}", labels.join("."));
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = format!("{scheme}://{host}{port}{path}");
            if is_canonical_url(&url) {
                let canonical = canonical_url(&url);
                prop_assert_eq!(canonical.as_deref(), Some(url.as_str()));
            }
        }
    }
}
