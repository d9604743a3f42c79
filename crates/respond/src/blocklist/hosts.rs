//! A hosts(5) file: `0.0.0.0 evil.example` for each domain (and, optionally, `:: evil.example`).
//!
//! A hosts file matches exact names only, so subdomains are not blocked; URLs and IPs are
//! skipped. Comments are written after `#` on the same line.

use std::net::IpAddr;

use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, Rendered, Renderer, write_header};

/// hosts file options (`[respond.render.hosts]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostsOptions {
    /// The sink address listed names resolve to.
    pub address: IpAddr,
    /// A second sink line per name for IPv6 (`::`), if set.
    pub ipv6_address: Option<IpAddr>,
    /// Append each item's comment after `#`.
    pub comments: bool,
}

impl Default for HostsOptions {
    fn default() -> HostsOptions {
        HostsOptions {
            address: IpAddr::from([0, 0, 0, 0]),
            ipv6_address: None,
            comments: true,
        }
    }
}

pub(crate) struct HostsRenderer<'a>(pub &'a HostsOptions);

impl Renderer for HostsRenderer<'_> {
    fn format(&self) -> Format {
        Format::Hosts
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        &[IndicatorKind::Domain]
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        use std::fmt::Write;
        write_header(&mut out.body, "#", meta, Format::Hosts);
        let addresses = [Some(self.0.address), self.0.ipv6_address];
        for item in items {
            let domain = item.indicator.value();
            if let Some(reason) = values::dns_name_problem(domain) {
                out.reject(item, reason);
                continue;
            }
            for (index, address) in addresses.iter().flatten().enumerate() {
                let body = &mut out.body;
                let _ = write!(body, "{address} {domain}");
                if index == 0 && self.0.comments {
                    let mark = body.len();
                    body.push_str(" # ");
                    if !values::push_comment(body, &item.comment, 160, values::keep) {
                        body.truncate(mark);
                    }
                }
                body.push('\n');
            }
            out.written += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::RenderOptions;
    use crate::blocklist::tests::{item, render_with};

    #[test]
    fn points_domains_at_the_sink() {
        let mut options = RenderOptions::default();
        options.hosts.ipv6_address = Some("::".parse().unwrap());
        let items = [
            item(
                1,
                IndicatorKind::Domain,
                "evil.example",
                "c2\n127.0.0.1 bank.example",
            ),
            item(2, IndicatorKind::Ipv4, "198.51.100.7", ""),
        ];
        let rendered = render_with(Format::Hosts, &options, &items);
        let expected = "\
# Rampart block list \"test\" (hosts), serial 1, generated 2026-01-02T03:04:05Z
0.0.0.0 evil.example # c2 127.0.0.1 bank.example
:: evil.example
";
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (1, 1));
    }
}
