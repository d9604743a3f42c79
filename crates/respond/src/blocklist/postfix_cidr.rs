//! Postfix cidr_table(5), for `check_client_access cidr:/etc/postfix/rampart.cidr`: one
//! `network/length ACTION text` line per address or network (no `postmap` step; Postfix reads
//! the file and matches entries in order).

use rampart_model::IndicatorKind;

use super::values;
use super::{
    Format, ListItem, ListMeta, PostfixOptions, RenderError, Rendered, Renderer, write_header,
};

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
];

pub(crate) struct CidrRenderer<'a>(pub &'a PostfixOptions);

impl Renderer for CidrRenderer<'_> {
    fn format(&self) -> Format {
        Format::PostfixCidr
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        self.0.check(Format::PostfixCidr)
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        write_header(&mut out.body, "#", meta, Format::PostfixCidr);
        for item in items {
            match values::network(&item.indicator) {
                Ok(net) => {
                    values::push_network(&mut out.body, net);
                    self.0.push_action(&mut out.body, item);
                    out.written += 1;
                }
                Err(reason) => out.reject(item, reason),
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
    fn renders_addresses_and_networks() {
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(2, IndicatorKind::Cidr, "10.2.3.0/25", ""),
            item(3, IndicatorKind::Cidr, "2001:db8::/32", ""),
            item(4, IndicatorKind::Domain, "evil.example", ""),
        ];
        let rendered = render_with(Format::PostfixCidr, &RenderOptions::default(), &items);
        let expected = "\
# Rampart block list \"test\" (postfix-cidr), serial 1, generated 2026-01-02T03:04:05Z
198.51.100.7 REJECT Blocked by local policy
10.2.3.0/25 REJECT Blocked by local policy
2001:db8::/32 REJECT Blocked by local policy
";
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (3, 1));
    }
}
