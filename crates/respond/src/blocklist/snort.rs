//! Snort 3 rules (written with full rule headers, which Snort 3 reads like Snort 2 did).
//!
//! - a domain: one rule on DNS over UDP matching the query name in wire format,
//!   `content:"|04|evil|07|example|00|", nocase;` — a name and every subdomain of it end with
//!   these bytes, and the length bytes keep `notevil.example` out;
//! - a URL: one rule on the Host header and the start of the URI (`service:http;` lets Snort 3
//!   apply it on any port its HTTP inspector recognises);
//! - IPs and networks: rule headers with address lists (Snort has no datasets).
//!
//! SIDs are those of the Suricata format (`sid_base + key`, list rules below the base), so a
//! list rendered for both keeps one SID per value. Messages are neutralised rather than
//! escaped: `"`, `\` and `;` become `'`, `/` and `,`. Hashes and email addresses are skipped.

use std::fmt::Write;

use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::ids::{self, RuleAction};
use super::suricata::collect_networks;
use super::values::{self, UrlHost};
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer, write_header};

/// Snort options (`[respond.render.snort]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnortOptions {
    /// Action of every rule (`drop`/`reject` need inline mode).
    pub action: RuleAction,
    /// Add `metadata:rampart_list <list>, rampart_key <key>;` to each rule.
    pub metadata: bool,
    /// A `classtype` for every rule; it must exist in Snort's classifications.
    pub classtype: Option<String>,
    /// SIDs reserved below the list's `sid_base` for address-list rules.
    pub list_rule_sids: u32,
}

impl Default for SnortOptions {
    fn default() -> SnortOptions {
        SnortOptions {
            action: RuleAction::Alert,
            metadata: true,
            classtype: None,
            list_rule_sids: 1000,
        }
    }
}

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Domain,
    IndicatorKind::Url,
];

/// Address-list rules take the same slots as in the Suricata format (after its dataset rules).
const FIRST_LIST_SLOT: u32 = 4;

pub(crate) struct SnortRenderer<'a>(pub &'a SnortOptions);

impl Renderer for SnortRenderer<'_> {
    fn format(&self) -> Format {
        Format::Snort
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, meta: &ListMeta) -> Result<(), RenderError> {
        ids::check_sids(
            Format::Snort,
            meta,
            self.0.list_rule_sids.max(FIRST_LIST_SLOT + 1),
        )?;
        ids::check_classtype(Format::Snort, self.0.classtype.as_deref())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        let options = self.0;
        write_header(&mut out.body, "#", meta, Format::Snort);
        let networks = collect_networks(items, out);
        ids::write_address_list_rules(
            &networks,
            meta,
            FIRST_LIST_SLOT,
            options.list_rule_sids,
            out,
            |body, list, number, total, sid| {
                let _ = write!(
                    body,
                    "{} ip {list} any <> any any ( msg:\"Rampart {}: traffic with a listed IP address ({number}/{total})\"; sid:{sid}; rev:1;",
                    options.action.as_str(),
                    meta.name,
                );
                self.push_tail(body, meta, None);
            },
        );
        for item in items {
            let start = out.body.len();
            let result = match item.indicator.kind() {
                IndicatorKind::Domain => self.domain_rule(meta, item, &mut out.body),
                IndicatorKind::Url => self.url_rule(meta, item, &mut out.body),
                _ => continue,
            };
            match result {
                Ok(()) if out.body.len() - start <= ids::MAX_RULE_LINE => out.written += 1,
                Ok(()) => {
                    out.body.truncate(start);
                    out.reject(item, "rule longer than 8000 bytes");
                }
                Err(reason) => {
                    out.body.truncate(start);
                    out.reject(item, reason);
                }
            }
        }
    }
}

impl SnortRenderer<'_> {
    fn domain_rule(
        &self,
        meta: &ListMeta,
        item: &ListItem,
        body: &mut String,
    ) -> Result<(), &'static str> {
        let domain = item.indicator.value();
        if let Some(problem) = values::dns_name_problem(domain) {
            return Err(problem);
        }
        let sid = ids::value_sid(meta, item.key).ok_or("SID sid_base + key overflows u32")?;
        let _ = write!(
            body,
            "{} udp any any -> any 53 ( msg:\"Rampart {}: DNS query for listed domain {domain}",
            self.0.action.as_str(),
            meta.name
        );
        push_comment(body, item);
        body.push_str("\"; content:\"");
        // Labels are checked to be a-z, 0-9, '-' and '_', so only the length bytes need hex.
        for label in domain.split('.') {
            let _ = write!(body, "|{:02X}|{label}", label.len());
        }
        let _ = write!(body, "|00|\", nocase; sid:{sid}; rev:1;");
        self.push_tail(body, meta, Some(item.key));
        Ok(())
    }

    fn url_rule(
        &self,
        meta: &ListMeta,
        item: &ListItem,
        body: &mut String,
    ) -> Result<(), &'static str> {
        let url = item.indicator.value();
        let parts = values::url_parts(url)?;
        let sid = ids::value_sid(meta, item.key).ok_or("SID sid_base + key overflows u32")?;
        let _ = write!(
            body,
            "{} tcp any any -> any any ( msg:\"Rampart {}: HTTP request for listed URL ",
            self.0.action.as_str(),
            meta.name
        );
        values::push_comment(body, url, 120, neutralise);
        push_comment(body, item);
        body.push_str("\"; flow:established,to_server; http_header:field host; content:");
        match parts.host {
            UrlHost::Name(name) => ids::push_content(body, name.as_bytes()),
            UrlHost::Ip(addr) => ids::push_content(body, addr.to_string().as_bytes()),
        }
        body.push_str(", nocase; http_uri; content:");
        ids::push_content(body, parts.path_and_query.as_bytes());
        let _ = write!(
            body,
            ", depth {}; service:http; sid:{sid}; rev:1;",
            parts.path_and_query.len()
        );
        self.push_tail(body, meta, Some(item.key));
        Ok(())
    }

    fn push_tail(&self, body: &mut String, meta: &ListMeta, key: Option<u64>) {
        if let Some(classtype) = &self.0.classtype {
            let _ = write!(body, " classtype:{classtype};");
        }
        if self.0.metadata {
            let _ = write!(body, " metadata:rampart_list {}", meta.name);
            if let Some(key) = key {
                let _ = write!(body, ", rampart_key {key}");
            }
            body.push(';');
        }
        body.push_str(" )\n");
    }
}

/// Replaces the characters a Snort quoted option gives a meaning to.
fn neutralise(character: char) -> char {
    match character {
        '"' => '\'',
        '\\' => '/',
        ';' => ',',
        other => other,
    }
}

fn push_comment(body: &mut String, item: &ListItem) {
    let mark = body.len();
    body.push_str(" - ");
    if !values::push_comment(body, &item.comment, 100, neutralise) {
        body.truncate(mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::RenderOptions;
    use crate::blocklist::tests::{item, render_with};

    #[test]
    fn renders_dns_http_and_header_rules() {
        let items = [
            item(
                7,
                IndicatorKind::Domain,
                "evil.example",
                "C2 \"beacon\"; stage\\2",
            ),
            item(3, IndicatorKind::Url, "http://phish.example/login", ""),
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(4, IndicatorKind::Email, "bob@evil.example", ""),
        ];
        let rendered = render_with(Format::Snort, &RenderOptions::default(), &items);
        let expected = concat!(
            "# Rampart block list \"test\" (snort), serial 1, generated 2026-01-02T03:04:05Z\n",
            "alert ip [198.51.100.7] any <> any any ( msg:\"Rampart test: traffic with a listed IP address (1/1)\"; sid:8999995; rev:1; metadata:rampart_list test; )\n",
            "alert udp any any -> any 53 ( msg:\"Rampart test: DNS query for listed domain evil.example - C2 'beacon', stage/2\"; content:\"|04|evil|07|example|00|\", nocase; sid:9000007; rev:1; metadata:rampart_list test, rampart_key 7; )\n",
            "alert tcp any any -> any any ( msg:\"Rampart test: HTTP request for listed URL http://phish.example/login\"; flow:established,to_server; http_header:field host; content:\"phish.example\", nocase; http_uri; content:\"/login\", depth 6; service:http; sid:9000003; rev:1; metadata:rampart_list test, rampart_key 3; )\n",
        );
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (3, 1));
    }
}
