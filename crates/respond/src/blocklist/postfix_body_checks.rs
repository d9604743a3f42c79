//! Postfix `body_checks` table, valid both as regexp_table(5) and pcre_table(5):
//! `body_checks = pcre:/etc/postfix/rampart.body_checks`.
//!
//! Postfix matches body checks line by line on the raw message, without MIME decoding: a domain
//! or URL inside base64 or across a quoted-printable soft line break is not seen.
//!
//! - a domain matches as a whole name, or with `subdomains` as the end of a longer one, with a
//!   non-name character (or the line's end, or a sentence's final dot) on either side:
//!   `/(^|[^a-z0-9_.-])([a-z0-9_-]+\.)*evil\.example\.?([^a-z0-9_.-]|$)/`;
//! - a URL matches as written (scheme included; a root URL also without its final `/`),
//!   followed by a character that ends URLs in text: `/http:\/\/evil\.example\/a([[:space:]"'<>]|$)/`.

use rampart_model::IndicatorKind;

use super::postfix::{SUBDOMAINS, push_regex_escaped};
use super::values;
use super::{
    Format, ListItem, ListMeta, PostfixOptions, RenderError, Rendered, Renderer, write_header,
};

const KINDS: &[IndicatorKind] = &[IndicatorKind::Domain, IndicatorKind::Url];

const NAME_START: &str = "(^|[^a-z0-9_.-])";
const NAME_END: &str = "\\.?([^a-z0-9_.-]|$)";
const URL_END: &str = "([[:space:]\"'<>]|$)";

pub(crate) struct BodyChecksRenderer<'a>(pub &'a PostfixOptions);

impl Renderer for BodyChecksRenderer<'_> {
    fn format(&self) -> Format {
        Format::PostfixBodyChecks
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        self.0.check(Format::PostfixBodyChecks)
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        write_header(&mut out.body, "#", meta, Format::PostfixBodyChecks);
        for item in items {
            let value = item.indicator.value();
            if item.indicator.kind() == IndicatorKind::Domain {
                if let Some(reason) = values::dns_name_problem(value) {
                    out.reject(item, reason);
                    continue;
                }
                let body = &mut out.body;
                body.push('/');
                body.push_str(NAME_START);
                if self.0.subdomains {
                    body.push_str(SUBDOMAINS);
                }
                push_regex_escaped(body, value);
                body.push_str(NAME_END);
            } else {
                let parts = match values::url_parts(value) {
                    Ok(parts) => parts,
                    Err(reason) => {
                        out.reject(item, reason);
                        continue;
                    }
                };
                let body = &mut out.body;
                body.push('/');
                // `http://evil.example/` is usually written without its final slash in mail.
                match value
                    .strip_suffix('/')
                    .filter(|_| parts.path_and_query == "/")
                {
                    Some(root) => {
                        push_regex_escaped(body, root);
                        body.push_str("(\\/)?");
                    }
                    None => push_regex_escaped(body, value),
                }
                body.push_str(URL_END);
            }
            out.body.push('/');
            self.0.push_action(&mut out.body, item);
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
    fn renders_domains_and_urls() {
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", ""),
            item(2, IndicatorKind::Url, "http://evil.example/", ""),
            item(3, IndicatorKind::Url, "https://phish.example/a?b=c", ""),
            item(4, IndicatorKind::Email, "bob@evil.example", ""),
        ];
        let rendered = render_with(Format::PostfixBodyChecks, &RenderOptions::default(), &items);
        let expected = concat!(
            "# Rampart block list \"test\" (postfix-body-checks), serial 1, generated 2026-01-02T03:04:05Z\n",
            "/(^|[^a-z0-9_.-])([a-z0-9_-]+\\.)*evil\\.example\\.?([^a-z0-9_.-]|$)/ REJECT Blocked by local policy\n",
            "/http:\\/\\/evil\\.example(\\/)?([[:space:]\"'<>]|$)/ REJECT Blocked by local policy\n",
            "/https:\\/\\/phish\\.example\\/a\\?b=c([[:space:]\"'<>]|$)/ REJECT Blocked by local policy\n",
        );
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (3, 1));
    }
}
