//! Canonicalisation helpers: undoing defanging, and the per-kind normal forms.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::indicator::CanonError;

/// Undoes the defanging that analysts and feeds apply so that values cannot be clicked:
/// `hxxp`/`hxxps`/`fxp`, `[.]`, `(.)`, `{.}`, `[dot]`, `[at]`, `(at)`, `[@]`, `[:]`, `[://]`.
///
/// ```
/// assert_eq!(rampart_model::refang("hxxps[:]//evil[.]example(.)com"), "https://evil.example.com");
/// assert_eq!(rampart_model::refang("bob[at]evil[dot]com"), "bob@evil.com");
/// ```
pub fn refang(raw: &str) -> String {
    const PAIRS: [(&str, &str); 14] = [
        ("[://]", "://"),
        ("[:]", ":"),
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[at]", "@"),
        ("(at)", "@"),
        ("[@]", "@"),
        ("[/]", "/"),
        ("\\.", "."),
        ("[", ""),
        ("]", ""),
    ];
    let trimmed = raw.trim();
    let mut text = if trimmed.contains(['[', '(', '{', '\\']) {
        let mut out = trimmed.to_owned();
        // Bracketed IPv6 in URLs ("http://[2001:db8::1]/") must keep its brackets: only the
        // defang forms are replaced, and lone brackets are left alone unless defanging was seen.
        let mut defanged = false;
        for (from, to) in &PAIRS[..12] {
            if contains_ignore_case(&out, from) {
                out = replace_ignore_case(&out, from, to);
                defanged = true;
            }
        }
        if defanged && !out.contains("://[") {
            for (from, to) in &PAIRS[12..] {
                out = out.replace(from, to);
            }
        }
        out
    } else {
        trimmed.to_owned()
    };
    for (from, to) in [
        ("hxxps://", "https://"),
        ("hxxp://", "http://"),
        ("fxp://", "ftp://"),
    ] {
        // `get`, not indexing: the prefix may end inside a multi-byte character ("www.bÜcher").
        if let Some(prefix) = text.get(..from.len())
            && prefix.eq_ignore_ascii_case(from)
        {
            text = format!("{to}{}", &text[from.len()..]);
        }
    }
    text
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack.to_ascii_lowercase().contains(needle)
}

fn replace_ignore_case(haystack: &str, needle: &str, with: &str) -> String {
    let lower = haystack.to_ascii_lowercase();
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(needle) {
        out.push_str(&haystack[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

pub(crate) fn ipv4(text: &str) -> Result<Ipv4Addr, CanonError> {
    text.parse::<Ipv4Addr>()
        .map_err(|_| CanonError::new("not an IPv4 address"))
}

pub(crate) fn ipv6(text: &str) -> Result<Ipv6Addr, CanonError> {
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    // Zone ids (fe80::1%eth0) name an interface on the reporting host, not a threat.
    let without_zone = bare.split('%').next().unwrap_or(bare);
    without_zone
        .parse::<Ipv6Addr>()
        .map_err(|_| CanonError::new("not an IPv6 address"))
}

/// A network in canonical form; host bits are cleared. A single-address prefix is returned as
/// the address itself so that `1.2.3.4/32` and `1.2.3.4` are one indicator.
pub(crate) fn cidr(text: &str) -> Result<Result<IpNet, IpAddr>, CanonError> {
    let net: IpNet = text
        .parse()
        .map_err(|_| CanonError::new("not a CIDR network (address/prefix-length)"))?;
    let net = net.trunc();
    if net.prefix_len() == net.max_prefix_len() {
        return Ok(Err(net.addr()));
    }
    Ok(Ok(net))
}

/// A lowercase ASCII (punycode) domain name without trailing dot.
pub(crate) fn domain(text: &str) -> Result<String, CanonError> {
    let trimmed = text.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(CanonError::new("empty domain name"));
    }
    if trimmed.contains(|c: char| c.is_whitespace() || matches!(c, '/' | '@' | ':' | '?' | '#')) {
        return Err(CanonError::new(
            "domain name contains a character not allowed in host names",
        ));
    }
    let wildcard = trimmed.strip_prefix("*.");
    let body = wildcard.unwrap_or(trimmed);
    let ascii = if body.is_ascii() {
        body.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(body)
            .map_err(|_| CanonError::new("invalid internationalised domain name"))?
    };
    if ascii.len() > 253 {
        return Err(CanonError::new("domain name longer than 253 characters"));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(CanonError::new("domain name has an empty label"));
        }
        if label.len() > 63 {
            return Err(CanonError::new("domain label longer than 63 characters"));
        }
        // Underscores are not valid in host names but appear in real DNS names (SRV, DKIM,
        // and malware infrastructure), so they are kept.
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CanonError::new(
                "domain label contains characters other than letters, digits, '-' and '_'",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(CanonError::new("domain label starts or ends with '-'"));
        }
    }
    if ascii.parse::<Ipv4Addr>().is_ok() {
        return Err(CanonError::new("an IPv4 address is not a domain name"));
    }
    if ascii
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(CanonError::new("top-level label is all digits"));
    }
    Ok(ascii)
}

/// A URL with lowercase scheme and host, IDNA host, no default port, normalised
/// percent-encoding (unreserved characters decoded, hex digits uppercase) and no fragment.
pub(crate) fn url(text: &str) -> Result<String, CanonError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CanonError::new("empty URL"));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let mut parsed = url::Url::parse(&with_scheme)
        .map_err(|err| CanonError::new(format!("invalid URL: {err}")))?;
    if parsed.cannot_be_a_base() {
        return Err(CanonError::new("URL has no host"));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(name)) => {
            let canonical = domain(name)?;
            Some(canonical)
        }
        Some(_) => None,
        None => return Err(CanonError::new("URL has no host")),
    };
    if let Some(host) = host {
        parsed
            .set_host(Some(&host))
            .map_err(|err| CanonError::new(format!("invalid URL host: {err}")))?;
    }
    parsed.set_fragment(None);
    let path = normalise_percent(parsed.path());
    parsed.set_path(&path);
    if let Some(query) = parsed.query() {
        let query = normalise_percent(query);
        parsed.set_query(Some(&query));
    }
    Ok(parsed.to_string())
}

/// Decodes percent-escapes of unreserved characters (RFC 3986 §2.3) and uppercases the hex
/// digits of the others, so that equivalent URLs compare equal.
fn normalise_percent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && index + 2 < bytes.len()
            && bytes[index + 1].is_ascii_hexdigit()
            && bytes[index + 2].is_ascii_hexdigit()
        {
            let high = hex_value(bytes[index + 1]);
            let low = hex_value(bytes[index + 2]);
            let decoded = high * 16 + low;
            if decoded.is_ascii_alphanumeric() || matches!(decoded, b'-' | b'.' | b'_' | b'~') {
                out.push(decoded as char);
            } else {
                out.push('%');
                out.push(bytes[index + 1].to_ascii_uppercase() as char);
                out.push(bytes[index + 2].to_ascii_uppercase() as char);
            }
            index += 3;
        } else {
            // The url crate has already percent-encoded everything outside ASCII.
            out.push(bytes[index] as char);
            index += 1;
        }
    }
    out
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// An email address with a lowercase address. Local parts are case-sensitive in theory but not
/// in any mail system that phishing uses, and one spelling per address is what dedupe needs.
pub(crate) fn email(text: &str) -> Result<String, CanonError> {
    let trimmed = text
        .trim()
        .trim_start_matches("mailto:")
        .trim_matches(['<', '>']);
    let (local, host) = trimmed
        .rsplit_once('@')
        .ok_or_else(|| CanonError::new("email address has no '@'"))?;
    if local.is_empty() || local.len() > 64 {
        return Err(CanonError::new(
            "email local part is empty or longer than 64 characters",
        ));
    }
    if local.contains(|c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';')
    }) {
        return Err(CanonError::new(
            "email local part contains whitespace or separators",
        ));
    }
    let host = domain(host)?;
    Ok(format!("{}@{host}", local.to_lowercase()))
}

/// A lowercase hex digest of the expected length.
pub(crate) fn hash(text: &str, length: usize) -> Result<String, CanonError> {
    let trimmed = text.trim();
    if trimmed.len() != length {
        return Err(CanonError::new(format!(
            "hash has {} characters, expected {length}",
            trimmed.len()
        )));
    }
    if !trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CanonError::new("hash contains non-hexadecimal characters"));
    }
    Ok(trimmed.to_ascii_lowercase())
}

#[cfg(test)]
mod refang_tests {
    /// Regression: refanging a value whose sixth byte falls inside a multi-byte character
    /// panicked while comparing it with the `fxp://` prefix.
    #[test]
    fn refang_does_not_split_multibyte_characters() {
        assert_eq!(super::refang("www.BÜCHER.example"), "www.BÜCHER.example");
        assert_eq!(super::refang("ßßßß"), "ßßßß");
    }
}
