//! Postfix access(5) table, for `check_sender_access`, `check_client_access` and friends, built
//! with `postmap hash:FILE` (or `lmdb:`, `cdb:`).
//!
//! - domains: `evil.example REJECT …`, plus `.evil.example REJECT …` for subdomains (see
//!   [`PostfixOptions::subdomains`](super::PostfixOptions::subdomains) for how
//!   `parent_domain_matches_subdomains` decides which of the two matches them);
//! - email addresses: `bob@evil.example REJECT …`;
//! - IPv4 and IPv6 addresses as Postfix prints them;
//! - IPv4 networks of /8, /16 and /24 as the truncated forms access(5) matches (`10`,
//!   `10.1`, `10.1.2`). Other networks are rejected: a hash table cannot match them, the
//!   `postfix-cidr` format can.

use rampart_model::IndicatorKind;

use super::values;
use super::{
    Format, ListItem, ListMeta, PostfixOptions, RenderError, Rendered, Renderer, write_header,
};

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Domain,
    IndicatorKind::Email,
];

pub(crate) struct AccessRenderer<'a>(pub &'a PostfixOptions);

impl Renderer for AccessRenderer<'_> {
    fn format(&self) -> Format {
        Format::PostfixAccess
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        self.0.check(Format::PostfixAccess)
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        let options = self.0;
        write_header(&mut out.body, "#", meta, Format::PostfixAccess);
        for item in items {
            let value = item.indicator.value();
            match item.indicator.kind() {
                IndicatorKind::Domain => {
                    if let Some(reason) = values::dns_name_problem(value) {
                        out.reject(item, reason);
                        continue;
                    }
                    out.body.push_str(value);
                    options.push_action(&mut out.body, item);
                    if options.subdomains {
                        out.body.push('.');
                        out.body.push_str(value);
                        options.push_action(&mut out.body, item);
                    }
                }
                IndicatorKind::Email => {
                    if let Err(reason) = values::email_parts(value) {
                        out.reject(item, reason);
                        continue;
                    }
                    if value.starts_with('#') {
                        out.reject(
                            item,
                            "a key starting with '#' is a comment in Postfix tables",
                        );
                        continue;
                    }
                    out.body.push_str(value);
                    options.push_action(&mut out.body, item);
                }
                _ => {
                    let net = match values::network(&item.indicator) {
                        Ok(net) => net,
                        Err(reason) => {
                            out.reject(item, reason);
                            continue;
                        }
                    };
                    if net.prefix_len() == net.max_prefix_len() {
                        values::push_network(&mut out.body, net);
                    } else if let (ipnet::IpNet::V4(v4), 8 | 16 | 24) = (net, net.prefix_len()) {
                        let octets = v4.addr().octets();
                        let kept = usize::from(v4.prefix_len() / 8);
                        for (index, octet) in octets[..kept].iter().enumerate() {
                            if index > 0 {
                                out.body.push('.');
                            }
                            out.body.push_str(&octet.to_string());
                        }
                    } else {
                        out.reject(
                            item,
                            "only IPv4 /8, /16 and /24 networks fit an access table: use postfix-cidr",
                        );
                        continue;
                    }
                    options.push_action(&mut out.body, item);
                }
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
    fn renders_domains_addresses_and_ips() {
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", "x"),
            item(2, IndicatorKind::Email, "bob@phish.example", ""),
            item(3, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(4, IndicatorKind::Ipv6, "2001:db8::1", ""),
            item(5, IndicatorKind::Cidr, "10.1.0.0/16", ""),
            item(6, IndicatorKind::Cidr, "10.2.3.0/25", ""),
            item(7, IndicatorKind::Url, "http://evil.example/", ""),
        ];
        let rendered = render_with(Format::PostfixAccess, &RenderOptions::default(), &items);
        let expected = "\
# Rampart block list \"test\" (postfix-access), serial 1, generated 2026-01-02T03:04:05Z
198.51.100.7 REJECT Blocked by local policy
2001:db8::1 REJECT Blocked by local policy
10.1 REJECT Blocked by local policy
evil.example REJECT Blocked by local policy
.evil.example REJECT Blocked by local policy
bob@phish.example REJECT Blocked by local policy
";
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (5, 1));
        assert_eq!(rendered.rejected.len(), 1);
        assert!(rendered.rejected[0].reason.contains("postfix-cidr"));
    }

    #[test]
    fn comments_can_be_appended_to_the_text() {
        let mut options = RenderOptions::default();
        options.postfix.append_comment = true;
        options.postfix.action = crate::blocklist::PostfixAction::Hold;
        options.postfix.subdomains = false;
        let items = [item(
            1,
            IndicatorKind::Domain,
            "evil.example",
            "phish (kit)\r\nX: $y",
        )];
        let rendered = render_with(Format::PostfixAccess, &options, &items);
        assert!(
            rendered
                .body
                .ends_with("\nevil.example HOLD Blocked by local policy (phish _kit_ X: _y)\n"),
            "{}",
            rendered.body
        );
    }
}
