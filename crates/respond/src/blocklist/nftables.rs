//! An `nft -f` script holding a list as two interval sets, `<list>_v4` and `<list>_v6`, in a
//! table of their own.
//!
//! `nft -f` applies a file as one transaction, and the script only *adds* the table and sets
//! (a no-op when they exist) before flushing and refilling the sets, so loading it again replaces
//! the elements atomically without touching the chains that reference the sets
//! (`ip saddr @phishing_v4 drop`). The sets are `flags interval; auto-merge;` so networks and
//! addresses inside them may overlap. A set that already exists with other flags or another
//! type makes the load fail as a whole (`nft delete set …` it once).

use std::fmt::Write;

use ipnet::IpNet;
use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer, write_header};

/// nftables options (`[respond.render.nftables]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NftablesOptions {
    /// Address family of the table: `inet` (default), `ip`, `ip6`, `bridge` or `netdev`.
    pub family: String,
    /// Table holding the sets; Rampart only adds to it, so it can also hold your chains.
    pub table: String,
}

impl Default for NftablesOptions {
    fn default() -> NftablesOptions {
        NftablesOptions {
            family: "inet".into(),
            table: "rampart".into(),
        }
    }
}

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
];

/// Elements per `add element` statement: all of them are one transaction anyway, this only
/// keeps lines readable.
const ELEMENTS_PER_STATEMENT: usize = 512;

pub(crate) struct NftablesRenderer<'a>(pub &'a NftablesOptions);

impl Renderer for NftablesRenderer<'_> {
    fn format(&self) -> Format {
        Format::Nftables
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        let invalid = |option, reason: &str| RenderError::InvalidOption {
            format: Format::Nftables,
            option,
            reason: reason.to_owned(),
        };
        if !["inet", "ip", "ip6", "bridge", "netdev"].contains(&self.0.family.as_str()) {
            return Err(invalid(
                "family",
                "must be one of inet, ip, ip6, bridge, netdev",
            ));
        }
        let table = self.0.table.as_bytes();
        if table.is_empty()
            || table.len() > 64
            || !table[0].is_ascii_alphabetic()
            || !table
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return Err(invalid(
                "table",
                "must be a letter followed by up to 63 letters, digits or '_'",
            ));
        }
        Ok(())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        let NftablesOptions { family, table } = self.0;
        // List names are `[a-z][a-z0-9_-]*`; nft identifiers allow the same characters.
        let set_v4 = format!("{}_v4", meta.name);
        let set_v6 = format!("{}_v6", meta.name);
        let body = &mut out.body;
        write_header(body, "#", meta, Format::Nftables);
        body.push_str("# One transaction: the sets are emptied and refilled atomically.\n");
        let _ = writeln!(body, "add table {family} {table}");
        for (set, address_type) in [(&set_v4, "ipv4_addr"), (&set_v6, "ipv6_addr")] {
            let _ = writeln!(
                body,
                "add set {family} {table} {set} {{ type {address_type}; flags interval; auto-merge; }}"
            );
        }
        for set in [&set_v4, &set_v6] {
            let _ = writeln!(body, "flush set {family} {table} {set}");
        }

        // Parse every item once; the two families are written as two statements runs.
        let mut networks: Vec<IpNet> = Vec::with_capacity(items.len());
        for item in items {
            match values::network(&item.indicator) {
                Ok(net) => {
                    networks.push(net);
                    out.written += 1;
                }
                Err(reason) => out.reject(item, reason),
            }
        }
        let body = &mut out.body;
        for (set, want_v4) in [(&set_v4, true), (&set_v6, false)] {
            let mut in_statement = 0;
            for net in networks
                .iter()
                .filter(|net| matches!(net, IpNet::V4(_)) == want_v4)
            {
                if in_statement == 0 {
                    let _ = write!(body, "add element {family} {table} {set} {{ ");
                } else {
                    body.push_str(", ");
                }
                values::push_network(body, *net);
                in_statement += 1;
                if in_statement == ELEMENTS_PER_STATEMENT {
                    body.push_str(" }\n");
                    in_statement = 0;
                }
            }
            if in_statement > 0 {
                body.push_str(" }\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::RenderOptions;
    use crate::blocklist::tests::{item, render_with};

    #[test]
    fn renders_both_sets_with_flush_before_add() {
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", "x"),
            item(2, IndicatorKind::Cidr, "203.0.113.0/24", ""),
            item(3, IndicatorKind::Ipv6, "2001:db8::1", ""),
            item(4, IndicatorKind::Cidr, "2001:db8:1::/48", ""),
            item(5, IndicatorKind::Domain, "evil.example", ""),
        ];
        let rendered = render_with(Format::Nftables, &RenderOptions::default(), &items);
        let expected = "\
# Rampart block list \"test\" (nftables), serial 1, generated 2026-01-02T03:04:05Z
# One transaction: the sets are emptied and refilled atomically.
add table inet rampart
add set inet rampart test_v4 { type ipv4_addr; flags interval; auto-merge; }
add set inet rampart test_v6 { type ipv6_addr; flags interval; auto-merge; }
flush set inet rampart test_v4
flush set inet rampart test_v6
add element inet rampart test_v4 { 198.51.100.7, 203.0.113.0/24 }
add element inet rampart test_v6 { 2001:db8::1, 2001:db8:1::/48 }
";
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (4, 1));
    }

    #[test]
    fn an_empty_list_still_declares_and_flushes_the_sets() {
        let rendered = render_with(Format::Nftables, &RenderOptions::default(), &[]);
        assert!(rendered.body.contains("flush set inet rampart test_v6\n"));
        assert!(!rendered.body.contains("add element"));
    }

    #[test]
    fn long_lists_are_split_into_statements() {
        let items: Vec<_> = (0..1300u32)
            .map(|n| {
                item(
                    u64::from(n),
                    IndicatorKind::Ipv4,
                    &std::net::Ipv4Addr::from(0x0a00_0000 + n).to_string(),
                    "",
                )
            })
            .collect();
        let rendered = render_with(Format::Nftables, &RenderOptions::default(), &items);
        assert_eq!(rendered.body.matches("add element").count(), 3);
        assert_eq!(rendered.written, 1300);
    }

    #[test]
    fn table_and_family_are_validated() {
        let mut options = RenderOptions::default();
        options.nftables.table = "rampart; flush ruleset".into();
        let meta = crate::blocklist::tests::meta("x", 1);
        assert!(crate::blocklist::render(Format::Nftables, &meta, &options, &[]).is_err());
        options.nftables.table = "rampart".into();
        options.nftables.family = "arp".into();
        assert!(crate::blocklist::render(Format::Nftables, &meta, &options, &[]).is_err());
    }
}
