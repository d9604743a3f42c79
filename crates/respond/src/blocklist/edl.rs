//! External dynamic lists, as PAN-OS and FortiGate fetch them over HTTP(S): one entry per line,
//! nothing else (no header: some firewalls count a comment line as an invalid entry).
//!
//! - `edl-ip`: addresses and networks (`192.0.2.1`, `198.51.100.0/24`, `2001:db8::/32`);
//! - `edl-domain`: domains, each followed by `*.evil.example` when `domain_wildcards` is on
//!   (PAN-OS domain lists match exact names unless told to expand subdomains; FortiGate
//!   domain feeds accept the wildcard form);
//! - `edl-url`: URLs without scheme (`evil.example/login?x=1`), as PAN-OS URL lists want them.
//!   A URL containing `*` or `^` is rejected: both are wildcards in PAN-OS URL lists.

use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values;
use super::{Format, ListItem, ListMeta, Rendered, Renderer};

/// EDL options (`[respond.render.edl]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdlOptions {
    /// In `edl-domain`, also write `*.name` after each name, to block subdomains.
    pub domain_wildcards: bool,
}

impl Default for EdlOptions {
    fn default() -> EdlOptions {
        EdlOptions {
            domain_wildcards: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Ip,
    Domain,
    Url,
}

pub(crate) struct EdlRenderer<'a> {
    options: &'a EdlOptions,
    flavour: Flavour,
}

impl<'a> EdlRenderer<'a> {
    pub(crate) fn ip(options: &'a EdlOptions) -> EdlRenderer<'a> {
        EdlRenderer {
            options,
            flavour: Flavour::Ip,
        }
    }

    pub(crate) fn domain(options: &'a EdlOptions) -> EdlRenderer<'a> {
        EdlRenderer {
            options,
            flavour: Flavour::Domain,
        }
    }

    pub(crate) fn url(options: &'a EdlOptions) -> EdlRenderer<'a> {
        EdlRenderer {
            options,
            flavour: Flavour::Url,
        }
    }
}

impl Renderer for EdlRenderer<'_> {
    fn format(&self) -> Format {
        match self.flavour {
            Flavour::Ip => Format::EdlIp,
            Flavour::Domain => Format::EdlDomain,
            Flavour::Url => Format::EdlUrl,
        }
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        match self.flavour {
            Flavour::Ip => &[
                IndicatorKind::Ipv4,
                IndicatorKind::Ipv6,
                IndicatorKind::Cidr,
            ],
            Flavour::Domain => &[IndicatorKind::Domain],
            Flavour::Url => &[IndicatorKind::Url],
        }
    }

    fn render(&self, _meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        for item in items {
            let value = item.indicator.value();
            let problem = match self.flavour {
                Flavour::Ip => match values::network(&item.indicator) {
                    Ok(net) => {
                        values::push_network(&mut out.body, net);
                        None
                    }
                    Err(reason) => Some(reason),
                },
                Flavour::Domain => match values::dns_name_problem(value) {
                    None => {
                        out.body.push_str(value);
                        if self.options.domain_wildcards {
                            out.body.push_str("\n*.");
                            out.body.push_str(value);
                        }
                        None
                    }
                    problem => problem,
                },
                Flavour::Url => match values::url_parts(value) {
                    Ok(parts) if parts.without_scheme.contains(['*', '^']) => {
                        Some("URL contains '*' or '^', which are wildcards in URL lists")
                    }
                    Ok(parts) => {
                        out.body.push_str(parts.without_scheme);
                        None
                    }
                    Err(reason) => Some(reason),
                },
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

    fn items() -> Vec<ListItem> {
        vec![
            item(1, IndicatorKind::Ipv4, "198.51.100.7", "x"),
            item(2, IndicatorKind::Cidr, "2001:db8::/32", ""),
            item(3, IndicatorKind::Domain, "evil.example", ""),
            item(4, IndicatorKind::Url, "https://evil.example/login?x=1", ""),
            item(5, IndicatorKind::Url, "http://evil.example/a*b", ""),
        ]
    }

    #[test]
    fn one_entry_per_line() {
        let options = RenderOptions::default();
        assert_eq!(
            render_with(Format::EdlIp, &options, &items()).body,
            "198.51.100.7\n2001:db8::/32\n"
        );
        assert_eq!(
            render_with(Format::EdlDomain, &options, &items()).body,
            "evil.example\n*.evil.example\n"
        );
        let urls = render_with(Format::EdlUrl, &options, &items());
        assert_eq!(urls.body, "evil.example/login?x=1\n");
        assert_eq!(urls.rejected.len(), 1);
    }

    #[test]
    fn wildcards_can_be_turned_off() {
        let mut options = RenderOptions::default();
        options.edl.domain_wildcards = false;
        assert_eq!(
            render_with(Format::EdlDomain, &options, &items()).body,
            "evil.example\n"
        );
    }
}
