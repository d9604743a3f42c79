//! Suricata dataset files: one value per line, no header (a comment line would be read as a
//! value).
//!
//! | format | dataset `type` | line |
//! |---|---|---|
//! | `suricata-dataset-ipv4` | `ipv4` | `192.0.2.1` |
//! | `suricata-dataset-ipv6` | `ip` | `2001:db8::1` |
//! | `suricata-dataset-domains` | `string` | base64 of the name (`ZXZpbC5leGFtcGxl`) |
//! | `suricata-dataset-md5` | `md5` | 32 hex digits (also a `filemd5` list) |
//! | `suricata-dataset-sha256` | `sha256` | 64 hex digits (also a `filesha256` list) |
//!
//! Datasets hold exact values: networks are skipped (the `suricata` format puts them in rule
//! headers) and a domain dataset matches the name itself, not its subdomains, e.g.
//! `dns.query; dataset:isset,c2-domains,type string,load c2-domains.lst;`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rampart_model::IndicatorKind;

use super::values;
use super::{Format, ListItem, ListMeta, Rendered, Renderer};

/// Which dataset file; the renderer needs no options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatasetKind {
    Ipv4,
    Ipv6,
    Domains,
    Md5,
    Sha256,
}

impl Renderer for DatasetKind {
    fn format(&self) -> Format {
        match self {
            DatasetKind::Ipv4 => Format::SuricataDatasetIpv4,
            DatasetKind::Ipv6 => Format::SuricataDatasetIpv6,
            DatasetKind::Domains => Format::SuricataDatasetDomains,
            DatasetKind::Md5 => Format::SuricataDatasetMd5,
            DatasetKind::Sha256 => Format::SuricataDatasetSha256,
        }
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        match self {
            DatasetKind::Ipv4 => &[IndicatorKind::Ipv4],
            DatasetKind::Ipv6 => &[IndicatorKind::Ipv6],
            DatasetKind::Domains => &[IndicatorKind::Domain],
            DatasetKind::Md5 => &[IndicatorKind::Md5],
            DatasetKind::Sha256 => &[IndicatorKind::Sha256],
        }
    }

    fn render(&self, _meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        for item in items {
            let value = item.indicator.value();
            let problem = match self {
                DatasetKind::Ipv4 | DatasetKind::Ipv6 => match values::network(&item.indicator) {
                    Ok(net) => {
                        values::push_network(&mut out.body, net);
                        None
                    }
                    Err(reason) => Some(reason),
                },
                DatasetKind::Domains => match values::dns_name_problem(value) {
                    None => {
                        STANDARD.encode_string(value, &mut out.body);
                        None
                    }
                    problem => problem,
                },
                DatasetKind::Md5 | DatasetKind::Sha256 => {
                    let length = if *self == DatasetKind::Md5 { 32 } else { 64 };
                    match values::hex_digest_problem(value, length) {
                        None => {
                            out.body.push_str(value);
                            None
                        }
                        problem => problem,
                    }
                }
            };
            match problem {
                None => {
                    out.body.push('\n');
                    out.written += 1;
                }
                Some(reason) => out.reject(item, reason),
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
    fn one_value_per_line_in_the_dataset_encoding() {
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", ""),
            item(2, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(3, IndicatorKind::Ipv6, "2001:db8::1", ""),
            item(
                4,
                IndicatorKind::Md5,
                "d41d8cd98f00b204e9800998ecf8427e",
                "",
            ),
            item(
                5,
                IndicatorKind::Md5,
                "D41D8CD98F00B204E9800998ECF8427E",
                "",
            ),
            item(6, IndicatorKind::Cidr, "10.0.0.0/8", ""),
        ];
        let options = RenderOptions::default();
        assert_eq!(
            render_with(Format::SuricataDatasetDomains, &options, &items).body,
            "ZXZpbC5leGFtcGxl\n"
        );
        assert_eq!(
            render_with(Format::SuricataDatasetIpv4, &options, &items).body,
            "198.51.100.7\n"
        );
        assert_eq!(
            render_with(Format::SuricataDatasetIpv6, &options, &items).body,
            "2001:db8::1\n"
        );
        let md5 = render_with(Format::SuricataDatasetMd5, &options, &items);
        assert_eq!(md5.body, "d41d8cd98f00b204e9800998ecf8427e\n");
        assert_eq!(md5.rejected.len(), 1);
        assert_eq!(md5.skipped, 4);
    }
}
