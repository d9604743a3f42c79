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
