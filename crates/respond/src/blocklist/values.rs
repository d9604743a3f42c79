//! What a value must look like before a renderer writes it, and how comments are neutralised.
//!
//! `Indicator` values are canonical when they come from `Indicator::parse`, but
//! `Indicator::from_canonical` accepts anything, so every renderer re-checks what its format
//! needs: these helpers return the reason a value cannot be written, and renderers reject the
//! item with it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use rampart_model::{Indicator, IndicatorKind};

/// Why `name` is not a lowercase DNS name of letters, digits, `-` and `_` (the canonical domain
/// form), or `None` when it is one.
pub(crate) fn dns_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty domain name");
    }
    if name.len() > 253 {
        return Some("domain name longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("domain name has an empty label");
        }
        if label.len() > 63 {
            return Some("domain label longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Some("domain label has a character other than a-z, 0-9, '-' and '_'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some("domain label starts or ends with '-'");
        }
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some("top-level label is all digits");
    }
    None
}

/// An address or network indicator as a network (a single address is a /32 or /128), with host
/// bits cleared. Renderers write this parsed form, never the raw value.
pub(crate) fn network(indicator: &Indicator) -> Result<IpNet, &'static str> {
    let value = indicator.value();
    match indicator.kind() {
        IndicatorKind::Ipv4 => value
            .parse::<Ipv4Addr>()
            .map(|addr| IpNet::V4(Ipv4Net::from(addr)))
            .map_err(|_| "not an IPv4 address"),
        IndicatorKind::Ipv6 => value
            .parse::<Ipv6Addr>()
            .map(|addr| IpNet::V6(Ipv6Net::from(addr)))
            .map_err(|_| "not an IPv6 address"),
        IndicatorKind::Cidr => value
            .parse::<IpNet>()
            .map(|net| net.trunc())
            .map_err(|_| "not a CIDR network"),
        _ => Err("not an address or network"),
    }
}

/// Writes a network as a bare address when it is a single host, else as `addr/len`.
pub(crate) fn push_network(out: &mut String, net: IpNet) {
    use std::fmt::Write;
    let _ = if net.prefix_len() == net.max_prefix_len() {
        write!(out, "{}", net.addr())
    } else {
        write!(out, "{net}")
    };
}

/// Appends a number in decimal without the formatting machinery (rule SIDs and RPZ labels are
/// written for every item).
pub(crate) fn push_decimal(out: &mut String, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|digit| char::from(*digit)));
}

/// The host of a URL, split into what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlHost<'a> {
    Name(&'a str),
    Ip(IpAddr),
}

/// A URL value taken apart (`scheme://[userinfo@]host[:port]/path?query`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UrlParts<'a> {
    pub scheme: &'a str,
    pub host: UrlHost<'a>,
    /// The host as written in the URL (IPv6 with its brackets).
    pub host_text: &'a str,
    pub port: Option<u16>,
    /// From the first `/` (or `/` when the URL has no path), query included.
    pub path_and_query: &'a str,
    /// Everything after `scheme://` without user information: `host[:port]/path?query`.
    pub without_scheme: &'a str,
}

/// Takes a URL value apart, refusing what no format should write: whitespace, control or
/// non-ASCII characters, a fragment, a host that is neither an IP nor a DNS name.
pub(crate) fn url_parts(value: &str) -> Result<UrlParts<'_>, &'static str> {
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("URL has a space, control or non-ASCII character");
    }
    if value.contains(['"', '<', '>', '`', '{', '}', '\\']) {
        return Err("URL has a character canonical URLs percent-encode");
    }
    let (scheme, rest) = value.split_once("://").ok_or("URL has no scheme")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
    {
        return Err("URL scheme is not lowercase letters, digits, '+', '-' and '.'");
    }
    if rest.contains('#') {
        return Err("URL has a fragment");
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(authority_end);
    let (host_port, without_scheme) = match authority.rsplit_once('@') {
        Some((_, host_port)) => (host_port, &rest[authority.len() - host_port.len()..]),
        None => (authority, rest),
    };
    let (host_text, port_text) = if host_port.starts_with('[') {
        let close = host_port
            .find(']')
            .ok_or("URL has an unclosed '[' in its host")?;
        let after = &host_port[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(port) => Some(port),
            None if after.is_empty() => None,
            None => return Err("URL has text after its IPv6 host"),
        };
        (&host_port[..=close], port)
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let port = match port_text {
        Some(text) => Some(
            text.parse::<u16>()
                .ok()
                .filter(|port| *port != 0 && text.bytes().all(|b| b.is_ascii_digit()))
                .ok_or("URL port is not a number from 1 to 65535")?,
        ),
        None => None,
    };
    let host = if let Some(inner) = host_text
        .strip_prefix('[')
        .and_then(|text| text.strip_suffix(']'))
    {
        UrlHost::Ip(IpAddr::V6(
            inner
                .parse::<Ipv6Addr>()
                .map_err(|_| "URL host in brackets is not an IPv6 address")?,
        ))
    } else if let Ok(addr) = host_text.parse::<Ipv4Addr>() {
        UrlHost::Ip(IpAddr::V4(addr))
    } else {
        if let Some(problem) = dns_name_problem(host_text) {
            return Err(problem);
        }
        UrlHost::Name(host_text)
    };
    let path_and_query = if path_and_query.is_empty() {
        "/"
    } else {
        path_and_query
    };
    Ok(UrlParts {
        scheme,
        host,
        host_text,
        port,
        path_and_query,
        without_scheme,
    })
}

/// An email address split at its last `@`, refusing local parts that are not plain
/// unquoted ASCII (no whitespace, quotes, backslashes or address separators) and domains that
/// are not DNS names.
pub(crate) fn email_parts(value: &str) -> Result<(&str, &str), &'static str> {
    let (local, domain) = value.rsplit_once('@').ok_or("email address has no '@'")?;
    if local.is_empty() || local.len() > 64 {
        return Err("email local part is empty or longer than 64 characters");
    }
    if !local.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("email local part has a space, control or non-ASCII character");
    }
    if local.bytes().any(|b| b"\"\\<>()[],;:@".contains(&b)) {
        return Err("email local part has a quote, backslash or address separator");
    }
    if let Some(problem) = dns_name_problem(domain) {
        return Err(problem);
    }
    Ok((local, domain))
}

/// Why `value` is not a lowercase hex digest of `length` characters.
pub(crate) fn hex_digest_problem(value: &str, length: usize) -> Option<&'static str> {
    if value.len() != length {
        return Some("digest has the wrong length for its kind");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Some("digest is not lowercase hexadecimal");
    }
    None
}

/// Appends a neutralised `comment` to `out` and says whether anything was written.
///
/// Whitespace and control characters become one space (so a comment can never end a line),
/// non-ASCII characters become `?`, every other ASCII character goes through `map` (which
/// replaces the characters the format gives a meaning to), leading and trailing spaces are
/// dropped, and at most `limit` characters are written.
pub(crate) fn push_comment(
    out: &mut String,
    comment: &str,
    limit: usize,
    map: impl Fn(char) -> char,
) -> bool {
    let mut written = 0;
    let mut pending_space = false;
    for character in comment.chars() {
        if written >= limit {
            break;
        }
        let mapped = if character.is_ascii_graphic() {
            map(character)
        } else if character.is_whitespace() || character.is_control() {
            ' '
        } else {
            '?'
        };
        debug_assert!(mapped == ' ' || mapped.is_ascii_graphic());
        if mapped == ' ' || !mapped.is_ascii_graphic() {
            pending_space = written > 0;
            continue;
        }
        if pending_space {
            out.push(' ');
            written += 1;
            pending_space = false;
            if written >= limit {
                break;
            }
        }
        out.push(mapped);
        written += 1;
    }
    written > 0
}

/// Keeps every printable ASCII character (for formats where a comment runs to the end of the
/// line and nothing in it has a meaning).
pub(crate) fn keep(character: char) -> char {
    character
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_checked_label_by_label() {
        assert_eq!(dns_name_problem("evil.example"), None);
        assert_eq!(dns_name_problem("_dmarc.x-y.example"), None);
        for bad in [
            "",
            "evil..example",
            "evil.example;reboot",
            "<script>.example",
            "Evil.example",
            "evil example",
            "-evil.example",
            "evil.example\n",
            "1.2.3.4",
            "évil.example",
        ] {
            assert!(dns_name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(dns_name_problem(&format!("{}.example", "a".repeat(64))).is_some());
    }

    #[test]
    fn networks_are_parsed_and_truncated() {
        let cidr = Indicator::from_canonical(IndicatorKind::Cidr, "10.1.2.3/8".into());
        assert_eq!(network(&cidr).unwrap().to_string(), "10.0.0.0/8");
        let bad = Indicator::from_canonical(IndicatorKind::Ipv4, "1.2.3.4\nflush".into());
        assert!(network(&bad).is_err());
        let mut out = String::new();
        push_network(
            &mut out,
            network(&Indicator::from_canonical(
                IndicatorKind::Ipv6,
                "2001:DB8::1".into(),
            ))
            .unwrap(),
        );
        assert_eq!(out, "2001:db8::1");
    }

    #[test]
    fn decimals_are_written_like_display() {
        for number in [0, 7, 10, 255, 9_000_007, u64::MAX] {
            let mut out = String::new();
            push_decimal(&mut out, number);
            assert_eq!(out, number.to_string());
        }
    }

    #[test]
    fn urls_are_taken_apart() {
        let parts = url_parts("https://user@evil.example:8443/a/b?c=d").unwrap();
        assert_eq!(parts.scheme, "https");
        assert_eq!(parts.host, UrlHost::Name("evil.example"));
        assert_eq!(parts.port, Some(8443));
        assert_eq!(parts.path_and_query, "/a/b?c=d");
        assert_eq!(parts.without_scheme, "evil.example:8443/a/b?c=d");
        let v6 = url_parts("http://[2001:db8::1]/x").unwrap();
        assert_eq!(v6.host, UrlHost::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(v6.without_scheme, "[2001:db8::1]/x");
        assert_eq!(
            url_parts("http://evil.example").unwrap().path_and_query,
            "/"
        );
        for bad in [
            "http://evil.example/a b",
            "http://evil.example/\nx",
            "http://evil;rm.example/",
            "http://evil.example/#frag",
            "evil.example/x",
            "http://evil.example:99999/",
            "http://[zz]/",
        ] {
            assert!(url_parts(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_plain_local_parts() {
        assert_eq!(
            email_parts("a.b+c@evil.example"),
            Ok(("a.b+c", "evil.example"))
        );
        for bad in [
            "a b@evil.example",
            "a\"b@evil.example",
            "a@evil.example;x",
            "@evil.example",
            "a;b@evil.example",
        ] {
            assert!(email_parts(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn comments_are_neutralised() {
        let mut out = String::new();
        assert!(push_comment(
            &mut out,
            "  line one\r\n\tline two ünï  ",
            100,
            keep
        ));
        assert_eq!(out, "line one line two ?n?");
        out.clear();
        assert!(!push_comment(&mut out, " \n\t ", 100, keep));
        assert_eq!(out, "");
        out.clear();
        push_comment(&mut out, "a;b\"c", 100, |c| {
            if c == ';' || c == '"' { '_' } else { c }
        });
        assert_eq!(out, "a_b_c");
        out.clear();
        push_comment(&mut out, "abcdef", 3, keep);
        assert_eq!(out, "abc");
    }
}
