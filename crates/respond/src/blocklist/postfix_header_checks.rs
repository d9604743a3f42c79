//! Postfix `header_checks` table, valid both as regexp_table(5) (POSIX extended regexes) and
//! pcre_table(5): `header_checks = regexp:/etc/postfix/rampart.header_checks`.
//!
//! Each listed sender is matched in the `From:`, `Reply-To:`, `Sender:` and `Return-Path:`
//! headers (Postfix joins folded header lines before matching; matching is case-insensitive by
//! default):
//!
//! - a domain matches an address at that domain or, with `subdomains`, at any subdomain:
//!   `/^(From|…):.*@([a-z0-9_-]+\.)*evil\.example([>[:space:],;")]|$)/`;
//! - an address matches when it stands alone (not as the tail of a longer local part):
//!   `/^(From|…):(.*[<[:space:],;:"(])?bob@evil\.example([>[:space:],;")]|$)/`.
//!
//! Values are regex-escaped; no bracket expression holds a backslash (POSIX and PCRE read
//! backslashes in brackets differently) or a `/` (which would end the pattern).

use rampart_model::IndicatorKind;

use super::postfix::{SUBDOMAINS, push_regex_escaped};
use super::values;
use super::{
    Format, ListItem, ListMeta, PostfixOptions, RenderError, Rendered, Renderer, write_header,
};

const KINDS: &[IndicatorKind] = &[IndicatorKind::Domain, IndicatorKind::Email];

const HEADERS: &str = "^(From|Reply-To|Sender|Return-Path):";
/// What may precede an address's local part: the header colon, an angle bracket, a space, a
/// list separator, a quote or a parenthesis.
const ADDRESS_START: &str = "(.*[<[:space:],;:\"(])?";
/// What may follow an address.
const ADDRESS_END: &str = "([>[:space:],;\")]|$)";

pub(crate) struct HeaderChecksRenderer<'a>(pub &'a PostfixOptions);

impl Renderer for HeaderChecksRenderer<'_> {
    fn format(&self) -> Format {
        Format::PostfixHeaderChecks
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        self.0.check(Format::PostfixHeaderChecks)
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        write_header(&mut out.body, "#", meta, Format::PostfixHeaderChecks);
        for item in items {
            let value = item.indicator.value();
            let problem = match item.indicator.kind() {
                IndicatorKind::Domain => values::dns_name_problem(value),
                _ => values::email_parts(value).err(),
            };
            if let Some(reason) = problem {
                out.reject(item, reason);
                continue;
            }
            let body = &mut out.body;
            body.push('/');
            body.push_str(HEADERS);
            if item.indicator.kind() == IndicatorKind::Domain {
                body.push_str(".*@");
                if self.0.subdomains {
                    body.push_str(SUBDOMAINS);
                }
            } else {
                body.push_str(ADDRESS_START);
            }
            push_regex_escaped(body, value);
            body.push_str(ADDRESS_END);
            body.push('/');
            self.0.push_action(body, item);
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
    fn renders_one_pattern_per_sender() {
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", ""),
            item(2, IndicatorKind::Email, "a/b+c@phish.example", ""),
            item(3, IndicatorKind::Url, "http://evil.example/", ""),
        ];
        let rendered = render_with(
            Format::PostfixHeaderChecks,
            &RenderOptions::default(),
            &items,
        );
        let expected = concat!(
            "# Rampart block list \"test\" (postfix-header-checks), serial 1, generated 2026-01-02T03:04:05Z\n",
            "/^(From|Reply-To|Sender|Return-Path):.*@([a-z0-9_-]+\\.)*evil\\.example([>[:space:],;\")]|$)/ REJECT Blocked by local policy\n",
            "/^(From|Reply-To|Sender|Return-Path):(.*[<[:space:],;:\"(])?a\\/b\\+c@phish\\.example([>[:space:],;\")]|$)/ REJECT Blocked by local policy\n",
        );
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (2, 1));
    }
}
