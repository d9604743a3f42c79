//! An `ipset restore` file: two `hash:net` sets, `<prefix><list>-v4` and `<prefix><list>-v6`.
//!
//! Each set is filled under a temporary name (`…-n`) and swapped in with `swap`, so iptables
//! rules that match the live set (`-m set --match-set rampart-c2-v4 src`) see the old or the
//! new content, never a half-filled set; the temporary set is then destroyed. `-exist` makes the
//! `create` lines no-ops on later loads — which requires the create options (`hashsize`,
//! `maxelem`) to stay the same, so they are fixed options, not derived from the list's size.
//! ipset names are at most 31 characters: prefix + list name + `-v4-n` must fit.
//! No comments are written: `ipset restore` has no comment syntax.

use std::fmt::Write;

use ipnet::IpNet;
use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer};

/// ipset options (`[respond.render.ipset]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpsetOptions {
    /// Prefix of the set names (letters, digits, `-`, `_`; may be empty).
    pub prefix: String,
    /// `hashsize` of the sets (initial hash size, a power of two).
    pub hashsize: u32,
    /// `maxelem` of the sets: items past it are rejected.
    pub maxelem: u32,
}

impl Default for IpsetOptions {
    fn default() -> IpsetOptions {
        IpsetOptions {
            prefix: "rampart-".into(),
            hashsize: 1024,
            maxelem: 1 << 20,
        }
    }
}

/// Longest ipset set name (IPSET_MAXNAMELEN is 32 with the terminating NUL).
const MAX_SET_NAME: usize = 31;
const TEMPORARY_SUFFIX: &str = "-n";

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
];

pub(crate) struct IpsetRenderer<'a>(pub &'a IpsetOptions);

impl IpsetRenderer<'_> {
    fn set_name(&self, meta: &ListMeta, family: &str) -> String {
        format!("{}{}-{family}", self.0.prefix, meta.name)
    }
}

impl Renderer for IpsetRenderer<'_> {
    fn format(&self) -> Format {
        Format::Ipset
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, meta: &ListMeta) -> Result<(), RenderError> {
        let invalid = |option, reason: String| RenderError::InvalidOption {
            format: Format::Ipset,
            option,
            reason,
        };
        if !self
            .0
            .prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "prefix",
                "may only contain letters, digits, '-' and '_'".into(),
            ));
        }
        let longest = self.set_name(meta, "v4").len() + TEMPORARY_SUFFIX.len();
        if longest > MAX_SET_NAME {
            return Err(invalid(
                "prefix",
                format!(
                    "set name {:?} would be {longest} characters, ipset allows {MAX_SET_NAME}: \
                     shorten the list name or the prefix",
                    format!("{}{TEMPORARY_SUFFIX}", self.set_name(meta, "v4"))
                ),
            ));
        }
        if !self.0.hashsize.is_power_of_two() || self.0.maxelem == 0 {
            return Err(invalid(
                "hashsize",
                "hashsize must be a power of two and maxelem above 0".into(),
            ));
        }
        Ok(())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        let IpsetOptions {
            hashsize, maxelem, ..
        } = self.0;
        let maxelem = *maxelem as usize;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for item in items {
            let net = match values::network(&item.indicator) {
                Ok(net) => net,
                Err(reason) => {
                    out.reject(item, reason);
                    continue;
                }
            };
            if net.prefix_len() == 0 {
                out.reject(item, "hash:net sets cannot hold a /0 network");
                continue;
            }
            let family = if matches!(net, IpNet::V4(_)) {
                &mut v4
            } else {
                &mut v6
            };
            if family.len() >= maxelem {
                out.reject(item, "the set is full (raise ipset.maxelem)");
                continue;
            }
            family.push(net);
            out.written += 1;
        }

        let body = &mut out.body;
        for (nets, family, suffix) in [(&v4, "inet", "v4"), (&v6, "inet6", "v6")] {
            let live = self.set_name(meta, suffix);
            let temporary = format!("{live}{TEMPORARY_SUFFIX}");
            for name in [&live, &temporary] {
                let _ = writeln!(
                    body,
                    "create {name} hash:net family {family} hashsize {hashsize} maxelem {maxelem} -exist"
                );
            }
            let _ = writeln!(body, "flush {temporary}");
            for net in nets {
                let _ = write!(body, "add {temporary} ");
                values::push_network(body, *net);
                body.push_str(" -exist\n");
            }
            let _ = writeln!(body, "swap {temporary} {live}");
            let _ = writeln!(body, "destroy {temporary}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::tests::{item, meta, render_with};
    use crate::blocklist::{RenderOptions, render};

    #[test]
    fn fills_temporary_sets_and_swaps_them_in() {
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", "x"),
            item(2, IndicatorKind::Cidr, "2001:db8::/32", ""),
            item(3, IndicatorKind::Cidr, "0.0.0.0/0", ""),
        ];
        let rendered = render_with(Format::Ipset, &RenderOptions::default(), &items);
        let expected = "\
create rampart-test-v4 hash:net family inet hashsize 1024 maxelem 1048576 -exist
create rampart-test-v4-n hash:net family inet hashsize 1024 maxelem 1048576 -exist
flush rampart-test-v4-n
add rampart-test-v4-n 198.51.100.7 -exist
swap rampart-test-v4-n rampart-test-v4
destroy rampart-test-v4-n
create rampart-test-v6 hash:net family inet6 hashsize 1024 maxelem 1048576 -exist
create rampart-test-v6-n hash:net family inet6 hashsize 1024 maxelem 1048576 -exist
flush rampart-test-v6-n
add rampart-test-v6-n 2001:db8::/32 -exist
swap rampart-test-v6-n rampart-test-v6
destroy rampart-test-v6-n
";
        assert_eq!(rendered.body, expected);
        assert_eq!(rendered.written, 2);
        assert_eq!(rendered.rejected.len(), 1);
    }

    #[test]
    fn set_names_must_fit_31_characters() {
        let options = RenderOptions::default();
        // "rampart-" + 18 + "-v4-n" = 31
        assert!(render(Format::Ipset, &meta(&"a".repeat(18), 1), &options, &[]).is_ok());
        let error = render(Format::Ipset, &meta(&"a".repeat(19), 1), &options, &[]).unwrap_err();
        assert!(error.to_string().contains("31"), "{error}");
    }

    #[test]
    fn items_past_maxelem_are_rejected() {
        let mut options = RenderOptions::default();
        options.ipset.maxelem = 1;
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(2, IndicatorKind::Ipv4, "198.51.100.8", ""),
        ];
        let rendered = render_with(Format::Ipset, &options, &items);
        assert_eq!(rendered.written, 1);
        assert_eq!(rendered.rejected[0].value, "198.51.100.8");
    }
}
