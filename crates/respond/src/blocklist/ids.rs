//! What Suricata and Snort rules share: actions, SIDs, quoted strings and address lists.
//!
//! SIDs: the rule of a value has SID `sid_base + key`, so the same value keeps its SID
//! whatever else is in the list or in which order; a key that would overflow `u32` rejects the
//! item. List-wide rules (IP address lists in rule headers, dataset rules) take the SIDs below
//! the base, `sid_base - 1`, `sid_base - 2`, …, within `list_rule_sids` reserved SIDs.

use std::fmt::Write;

use ipnet::IpNet;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, RenderError, Rendered};

/// The action of generated rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleAction {
    /// Log an alert (the default).
    Alert,
    /// Drop the packet (inline/IPS mode).
    Drop,
    /// Drop and send a reset or ICMP error.
    Reject,
    /// Let the traffic through without further inspection (an allow list).
    Pass,
}

impl RuleAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RuleAction::Alert => "alert",
            RuleAction::Drop => "drop",
            RuleAction::Reject => "reject",
            RuleAction::Pass => "pass",
        }
    }
}

/// Longest rule line written: Suricata reads rule lines into an 8192-byte buffer.
pub(crate) const MAX_RULE_LINE: usize = 8000;
/// Longest address list in one rule header.
const MAX_ADDRESS_LIST: usize = 4000;

/// The SID of the rule for the value with `key`, or `None` when it overflows `u32`.
pub(crate) fn value_sid(meta: &ListMeta, key: u64) -> Option<u32> {
    u64::from(meta.sid_base)
        .checked_add(key)
        .and_then(|sid| u32::try_from(sid).ok())
}

/// The SID of list-wide rule number `slot` (`slot < reserved`, checked by [`check_sids`]).
pub(crate) fn list_sid(meta: &ListMeta, slot: u32) -> u32 {
    meta.sid_base - 1 - slot
}

/// Checks that `reserved` SIDs fit below the list's SID base.
pub(crate) fn check_sids(
    format: Format,
    meta: &ListMeta,
    reserved: u32,
) -> Result<(), RenderError> {
    if meta.sid_base <= reserved {
        return Err(RenderError::InvalidOption {
            format,
            option: "list_rule_sids",
            reason: format!(
                "{reserved} SIDs are reserved below the list's sid_base {}, which is too low",
                meta.sid_base
            ),
        });
    }
    Ok(())
}

/// Checks a classtype name.
pub(crate) fn check_classtype(format: Format, classtype: Option<&str>) -> Result<(), RenderError> {
    let Some(classtype) = classtype else {
        return Ok(());
    };
    if classtype.is_empty()
        || !classtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(RenderError::InvalidOption {
            format,
            option: "classtype",
            reason: "must be letters, digits, '-' and '_'".into(),
        });
    }
    Ok(())
}

/// Appends `bytes` as a quoted content string: printable ASCII as is, except `"`, `;`, `\` and
/// `|`, which like every other byte are written in `|hex|` notation — the one escape Suricata
/// and both Snort generations read the same way.
pub(crate) fn push_content(out: &mut String, bytes: &[u8]) {
    out.push('"');
    let mut in_hex = false;
    for &byte in bytes {
        let plain = (byte.is_ascii_graphic() && !matches!(byte, b'"' | b';' | b'\\' | b'|'))
            || byte == b' ';
        if plain {
            if in_hex {
                out.push('|');
                in_hex = false;
            }
            out.push(char::from(byte));
        } else {
            if in_hex {
                out.push(' ');
            } else {
                out.push('|');
                in_hex = true;
            }
            let _ = write!(out, "{byte:02x}");
        }
    }
    if in_hex {
        out.push('|');
    }
    out.push('"');
}

/// Appends a neutralised comment escaped for a Suricata quoted option (`msg`): `\`, `"` and `;`
/// get a backslash. `scratch` is reused between calls to avoid allocating per item.
pub(crate) fn push_escaped_text(
    out: &mut String,
    scratch: &mut String,
    text: &str,
    limit: usize,
) -> bool {
    scratch.clear();
    if !values::push_comment(scratch, text, limit, values::keep) {
        return false;
    }
    for character in scratch.chars() {
        if matches!(character, '\\' | '"' | ';') {
            out.push('\\');
        }
        out.push(character);
    }
    true
}

/// Splits networks into rule-header address lists (`[a,b,c]`) of bounded length, each with the
/// number of networks it holds.
pub(crate) fn address_lists(networks: impl IntoIterator<Item = IpNet>) -> Vec<(String, usize)> {
    let mut lists = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for net in networks {
        if current.len() > MAX_ADDRESS_LIST {
            current.push(']');
            lists.push((std::mem::take(&mut current), count));
            count = 0;
        }
        current.push(if current.is_empty() { '[' } else { ',' });
        values::push_network(&mut current, net);
        count += 1;
    }
    if !current.is_empty() {
        current.push(']');
        lists.push((current, count));
    }
    lists
}

/// Writes one rule per address list (`<action> ip [list] any <> any any (...)`) with SIDs from
/// `first_slot` on, as many as `reserved` allows; the networks of lists past it are rejected.
/// IPv4 and IPv6 networks go into separate lists (IPv4 first), which keeps each rule readable
/// and lets rule checkers that only know IPv4 headers read the IPv4 ones.
pub(crate) fn write_address_list_rules(
    networks: &[(&ListItem, IpNet)],
    meta: &ListMeta,
    first_slot: u32,
    reserved: u32,
    out: &mut Rendered,
    mut write_rule: impl FnMut(&mut String, &str, usize, usize, u32),
) {
    let (v4, v6): (Vec<_>, Vec<_>) = networks
        .iter()
        .partition(|(_, net)| matches!(net, IpNet::V4(_)));
    let mut lists = address_lists(v4.iter().map(|(_, net)| *net));
    lists.extend(address_lists(v6.iter().map(|(_, net)| *net)));
    let capacity = reserved.saturating_sub(first_slot) as usize;
    let total = lists.len().min(capacity);
    let mut placed = 0;
    for (index, (list, count)) in lists.iter().take(total).enumerate() {
        let sid = list_sid(meta, first_slot + index as u32);
        write_rule(&mut out.body, list, index + 1, total, sid);
        placed += count;
    }
    out.written += placed;
    for (item, _) in v4.iter().chain(&v6).skip(placed) {
        out.reject(
            item,
            "more address-list rules than reserved SIDs (raise list_rule_sids)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_escapes_what_rule_parsers_give_a_meaning() {
        let mut out = String::new();
        push_content(&mut out, b"a;b\"c\\d|e f\n\x00");
        assert_eq!(out, "\"a|3b|b|22|c|5c|d|7c|e f|0a 00|\"");
    }

    #[test]
    fn text_is_neutralised_then_escaped() {
        let (mut out, mut scratch) = (String::new(), String::new());
        assert!(push_escaped_text(
            &mut out,
            &mut scratch,
            "a\"b;c\\d\ne",
            100
        ));
        assert_eq!(out, "a\\\"b\\;c\\\\d e");
    }

    #[test]
    fn sids_are_base_plus_key_and_overflow_is_refused() {
        let mut meta = crate::blocklist::tests::meta("x", 1);
        meta.sid_base = 1000;
        assert_eq!(value_sid(&meta, 5), Some(1005));
        assert_eq!(value_sid(&meta, u64::from(u32::MAX)), None);
        assert_eq!(list_sid(&meta, 0), 999);
        assert!(check_sids(Format::Suricata, &meta, 1000).is_err());
        assert!(check_sids(Format::Suricata, &meta, 999).is_ok());
    }

    #[test]
    fn address_lists_are_bounded() {
        let networks: Vec<IpNet> = (0..2000u32)
            .map(|n| {
                IpNet::from(std::net::IpAddr::from(std::net::Ipv4Addr::from(
                    0x0a00_0000 + n,
                )))
            })
            .collect();
        let lists = address_lists(networks);
        assert!(lists.len() > 1);
        assert!(
            lists
                .iter()
                .all(|(list, _)| list.len() <= MAX_ADDRESS_LIST + 50)
        );
        let total: usize = lists
            .iter()
            .map(|(list, count)| {
                assert_eq!(list.matches(',').count() + 1, *count);
                count
            })
            .sum();
        assert_eq!(total, 2000);
    }
}
