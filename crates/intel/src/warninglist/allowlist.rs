//! The organisation's own allowlist, and chaining suppressors so the first that matches gives
//! the reason.
//!
//! An allowlist entry is read by what it looks like: a CIDR covers the IPs and networks inside
//! it, a domain covers itself and its subdomains (and URLs and email addresses on them), and
//! anything else (an IP, URL, email address or hash) matches that exact indicator.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use rampart_model::{Indicator, IndicatorKind};
use rampart_store::AllowEntry;

use crate::import::Suppress;

/// A compiled allowlist.
#[derive(Default)]
pub struct Allowlist {
    entries: Vec<AllowEntry>,
    exact: HashMap<String, usize>,
    domains: HashMap<String, usize>,
    v4: PrefixMap<Ipv4Net, usize>,
    v6: PrefixMap<Ipv6Net, usize>,
}

impl std::fmt::Debug for Allowlist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Allowlist")
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Allowlist {
    pub fn new(entries: Vec<AllowEntry>) -> Allowlist {
        let mut allowlist = Allowlist::default();
        for (position, entry) in entries.iter().enumerate() {
            allowlist.index(position, &entry.value);
        }
        allowlist.entries = entries;
        allowlist
    }

    fn index(&mut self, position: usize, value: &str) {
        let trimmed = value.trim();
        let wildcard = trimmed
            .strip_prefix("*.")
            .or_else(|| trimmed.strip_prefix('.'));
        let parsed = match wildcard {
            Some(domain) => Indicator::parse(IndicatorKind::Domain, domain),
            None => Indicator::guess(trimmed),
        };
        let Ok(indicator) = parsed else {
            // Not an indicator we know: it can still match a value written exactly so.
            self.exact.entry(trimmed.to_lowercase()).or_insert(position);
            return;
        };
        match indicator.kind() {
            IndicatorKind::Domain => {
                self.domains
                    .entry(indicator.into_value())
                    .or_insert(position);
            }
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
                match network_of(&indicator) {
                    Some(IpNet::V4(net)) => {
                        self.v4.entry(net).or_insert(position);
                    }
                    Some(IpNet::V6(net)) => {
                        self.v6.entry(net).or_insert(position);
                    }
                    None => {}
                }
            }
            _ => {
                self.exact.entry(indicator.into_value()).or_insert(position);
            }
        }
    }

    pub fn entries(&self) -> &[AllowEntry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry that covers `indicator`, if any.
    pub fn find(&self, indicator: &Indicator) -> Option<&AllowEntry> {
        let position = self.position(indicator)?;
        self.entries.get(position)
    }

    fn position(&self, indicator: &Indicator) -> Option<usize> {
        if let Some(position) = self.exact.get(indicator.value()) {
            return Some(*position);
        }
        match network_of(indicator) {
            Some(IpNet::V4(net)) => return self.v4.cover_values(&net).next().copied(),
            Some(IpNet::V6(net)) => return self.v6.cover_values(&net).next().copied(),
            None => {}
        }
        let host = indicator.host()?;
        std::iter::once(host)
            .chain(host.match_indices('.').map(|(at, _)| &host[at + 1..]))
            .find_map(|suffix| self.domains.get(suffix).copied())
    }
}

fn network_of(indicator: &Indicator) -> Option<IpNet> {
    match indicator.kind() {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
            indicator.value().parse::<IpAddr>().ok().map(IpNet::from)
        }
        IndicatorKind::Cidr => indicator.value().parse::<IpNet>().ok(),
        _ => None,
    }
}

impl Suppress for Allowlist {
    fn reason(&self, indicator: &Indicator) -> Option<String> {
        let entry = self.find(indicator)?;
        Some(if entry.reason.trim().is_empty() {
            format!("allowlist: {}", entry.value)
        } else {
            format!("allowlist: {} ({})", entry.value, entry.reason)
        })
    }
}

/// Several suppressors asked in order; the first reason wins (put the allowlist first: the
/// organisation's own word is the most specific).
#[derive(Default, Clone)]
pub struct SuppressChain {
    links: Vec<Arc<dyn Suppress>>,
}

impl SuppressChain {
    pub fn new(links: Vec<Arc<dyn Suppress>>) -> SuppressChain {
        SuppressChain { links }
    }

    pub fn push(&mut self, link: Arc<dyn Suppress>) {
        self.links.push(link);
    }
}

impl Suppress for SuppressChain {
    fn reason(&self, indicator: &Indicator) -> Option<String> {
        self.links.iter().find_map(|link| link.reason(indicator))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::Timestamp;

    fn entry(value: &str, reason: &str) -> AllowEntry {
        AllowEntry {
            value: value.into(),
            reason: reason.into(),
            added: Timestamp::UNIX_EPOCH,
        }
    }

    fn indicator(raw: &str) -> Indicator {
        Indicator::guess(raw).unwrap()
    }

    #[test]
    fn entries_match_by_what_they_are() {
        let allowlist = Allowlist::new(vec![
            entry("example.com", "our domain"),
            entry("198.51.100.0/24", "office"),
            entry("2001:db8::/32", ""),
            entry("203.0.113.7", "vpn"),
            entry("http://partner.example/feed", "partner"),
            entry("D41D8CD98F00B204E9800998ECF8427E", "empty file"),
            entry("*.cdn.example", "cdn"),
            entry("not an indicator", "odd"),
        ]);
        let suppressed = [
            ("example.com", "allowlist: example.com (our domain)"),
            ("mail.example.com", "allowlist: example.com (our domain)"),
            (
                "https://www.example.com/login",
                "allowlist: example.com (our domain)",
            ),
            ("bob@example.com", "allowlist: example.com (our domain)"),
            ("198.51.100.9", "allowlist: 198.51.100.0/24 (office)"),
            ("198.51.100.128/25", "allowlist: 198.51.100.0/24 (office)"),
            ("2001:db8::1", "allowlist: 2001:db8::/32"),
            ("203.0.113.7", "allowlist: 203.0.113.7 (vpn)"),
            (
                "http://partner.example/feed",
                "allowlist: http://partner.example/feed (partner)",
            ),
            (
                "d41d8cd98f00b204e9800998ecf8427e",
                "allowlist: D41D8CD98F00B204E9800998ECF8427E (empty file)",
            ),
            ("a.cdn.example", "allowlist: *.cdn.example (cdn)"),
        ];
        for (raw, reason) in suppressed {
            assert_eq!(
                allowlist.reason(&indicator(raw)).as_deref(),
                Some(reason),
                "{raw}"
            );
        }
        for raw in [
            "notexample.com",
            "198.51.0.0/16",
            "203.0.113.8",
            "http://partner.example/other",
            "cdn.example.org",
        ] {
            assert_eq!(allowlist.reason(&indicator(raw)), None, "{raw}");
        }
    }

    #[test]
    fn chain_takes_the_first_reason() {
        struct Always(&'static str);
        impl Suppress for Always {
            fn reason(&self, _: &Indicator) -> Option<String> {
                Some(self.0.to_owned())
            }
        }
        let allowlist = Arc::new(Allowlist::new(vec![entry("example.com", "")]));
        let chain = SuppressChain::new(vec![allowlist, Arc::new(Always("second"))]);
        assert_eq!(
            chain.reason(&indicator("example.com")).as_deref(),
            Some("allowlist: example.com")
        );
        assert_eq!(
            chain.reason(&indicator("evil.example")).as_deref(),
            Some("second")
        );
        assert_eq!(
            SuppressChain::default().reason(&indicator("evil.example")),
            None
        );
    }
}
