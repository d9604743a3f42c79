//! Zeek intelligence framework file, for `redef Intel::read_files += { "…/c2.intel" };`.
//!
//! Tab-separated with a `#fields` header; types `Intel::ADDR`, `Intel::SUBNET`,
//! `Intel::DOMAIN`, `Intel::URL` (Zeek matches URLs as `host/path`, without scheme),
//! `Intel::EMAIL` and `Intel::FILE_HASH`. A value with a tab, a newline, a space or a control
//! character is rejected; comments (`meta.desc`) have theirs replaced by spaces and backslashes
//! by `/`, and an empty one is written `-` (Zeek's unset field).

use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer};

/// Zeek options (`[respond.render.zeek]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZeekOptions {
    /// `meta.source` of every entry, before `:` and the list name (`rampart:c2`); letters,
    /// digits, `-`, `_` and `.`.
    pub source: String,
}

impl Default for ZeekOptions {
    fn default() -> ZeekOptions {
        ZeekOptions {
            source: "rampart".into(),
        }
    }
}

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Domain,
    IndicatorKind::Url,
    IndicatorKind::Email,
    IndicatorKind::Md5,
    IndicatorKind::Sha1,
    IndicatorKind::Sha256,
    IndicatorKind::Sha512,
];

pub(crate) struct ZeekRenderer<'a>(pub &'a ZeekOptions);

impl Renderer for ZeekRenderer<'_> {
    fn format(&self) -> Format {
        Format::Zeek
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        let source = &self.0.source;
        if source.is_empty()
            || !source
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(RenderError::InvalidOption {
                format: Format::Zeek,
                option: "source",
                reason: "must be letters, digits, '-', '_' and '.'".into(),
            });
        }
        Ok(())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        out.body
            .push_str("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n");
        for item in items {
            let indicator = &item.indicator;
            let value = indicator.value();
            let start = out.body.len();
            let intel_type = match indicator.kind() {
                IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
                    match values::network(indicator) {
                        Ok(net) => {
                            values::push_network(&mut out.body, net);
                            if net.prefix_len() == net.max_prefix_len() {
                                Ok("Intel::ADDR")
                            } else {
                                Ok("Intel::SUBNET")
                            }
                        }
                        Err(reason) => Err(reason),
                    }
                }
                IndicatorKind::Domain => match values::dns_name_problem(value) {
                    None => {
                        out.body.push_str(value);
                        Ok("Intel::DOMAIN")
                    }
                    Some(reason) => Err(reason),
                },
                IndicatorKind::Url => match values::url_parts(value) {
                    Ok(parts) => {
                        // Zeek matches the URL it builds from the Host header (an IPv6 host
                        // keeps its brackets there) and the URI.
                        out.body.push_str(parts.without_scheme);
                        Ok("Intel::URL")
                    }
                    Err(reason) => Err(reason),
                },
                IndicatorKind::Email => match values::email_parts(value) {
                    Ok(_) => {
                        out.body.push_str(value);
                        Ok("Intel::EMAIL")
                    }
                    Err(reason) => Err(reason),
                },
                hash => {
                    let length = match hash {
                        IndicatorKind::Md5 => 32,
                        IndicatorKind::Sha1 => 40,
                        IndicatorKind::Sha256 => 64,
                        _ => 128,
                    };
                    match values::hex_digest_problem(value, length) {
                        None => {
                            out.body.push_str(value);
                            Ok("Intel::FILE_HASH")
                        }
                        Some(reason) => Err(reason),
                    }
                }
            };
            let intel_type = match intel_type {
                Ok(intel_type) => intel_type,
                Err(reason) => {
                    out.body.truncate(start);
                    out.reject(item, reason);
                    continue;
                }
            };
            let body = &mut out.body;
            body.push('\t');
            body.push_str(intel_type);
            body.push('\t');
            body.push_str(&self.0.source);
            body.push(':');
            body.push_str(&meta.name);
            body.push('\t');
            // Zeek's reader undoes `\x..` escapes in fields: backslashes are replaced so a
            // comment reads back as written.
            if !values::push_comment(
                body,
                &item.comment,
                200,
                |c| if c == '\\' { '/' } else { c },
            ) {
                body.push('-');
            }
            body.push('\n');
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
    fn renders_every_intel_type() {
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", "scanner\tbad"),
            item(2, IndicatorKind::Cidr, "203.0.113.0/24", ""),
            item(3, IndicatorKind::Domain, "evil.example", "c2"),
            item(4, IndicatorKind::Url, "https://evil.example:8443/a?b=c", ""),
            item(5, IndicatorKind::Url, "http://[2001:db8::1]/x", ""),
            item(6, IndicatorKind::Email, "bob@evil.example", ""),
            item(7, IndicatorKind::Sha1, &"b".repeat(40), ""),
        ];
        let rendered = render_with(Format::Zeek, &RenderOptions::default(), &items);
        let expected = "\
#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc
198.51.100.7\tIntel::ADDR\trampart:test\tscanner bad
203.0.113.0/24\tIntel::SUBNET\trampart:test\t-
evil.example\tIntel::DOMAIN\trampart:test\tc2
[2001:db8::1]/x\tIntel::URL\trampart:test\t-
evil.example:8443/a?b=c\tIntel::URL\trampart:test\t-
bob@evil.example\tIntel::EMAIL\trampart:test\t-
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\tIntel::FILE_HASH\trampart:test\t-
";
        assert_eq!(rendered.body, expected);
        assert_eq!(rendered.written, 7);
    }
}
