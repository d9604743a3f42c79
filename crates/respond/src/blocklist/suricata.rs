//! Suricata 7 rules.
//!
//! - a domain: one DNS rule matching the query name and its subdomains,
//!   `dns.query; dotprefix; content:".evil.example"; nocase; endswith;`, with optional TLS SNI
//!   and HTTP Host rules in SID ranges of their own;
//! - a URL: one HTTP rule on the host (`http.host; content:"evil.example"; bsize:12;`) and the
//!   start of the URI (`http.uri; content:"/login"; startswith;`). Only cleartext HTTP is seen:
//!   an `https://` URL matches only where TLS is decrypted before Suricata;
//! - IPs: up to `ip_dataset_threshold` addresses and networks go into rule headers
//!   (`alert ip [192.0.2.1,198.51.100.0/24] any <> any any`). Past it, single addresses go into
//!   datasets matched with one rule per family and direction
//!   (`ip.dst; dataset:isset,c2-ipv4,type ipv4,load c2-ipv4.lst;`) whose files are the
//!   `suricata-dataset-ipv4`/`-ipv6` formats of the same list, and networks, which datasets
//!   cannot hold, stay in rule headers.
//!
//! Hashes and email addresses are skipped: file hashes need `filemd5`/`filesha256` with a list
//! file, which the `suricata-dataset-md5`/`-sha256` formats write for rules of your own.

use std::fmt::Write;

use ipnet::IpNet;
use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::ids::{self, RuleAction};
use super::values::{self, UrlHost};
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer, write_header};

/// Suricata options (`[respond.render.suricata]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuricataOptions {
    /// Action of every rule.
    pub action: RuleAction,
    /// With more addresses and networks than this, single addresses are matched through
    /// datasets instead of rule headers.
    pub ip_dataset_threshold: usize,
    /// Directory of the dataset files as the `load` option gives it, relative to the rules
    /// file; empty for the same directory.
    pub dataset_dir: String,
    /// When set, also write a TLS SNI rule per domain with SID `tls_sni_sid_base + key`.
    pub tls_sni_sid_base: Option<u32>,
    /// When set, also write an HTTP Host rule per domain with SID `http_host_sid_base + key`.
    pub http_host_sid_base: Option<u32>,
    /// Add `metadata:rampart_list <list>, rampart_key <key>;` to each rule.
    pub metadata: bool,
    /// A `classtype` for every rule; it must exist in Suricata's classification.config.
    pub classtype: Option<String>,
    /// SIDs reserved below the list's `sid_base` for list-wide rules.
    pub list_rule_sids: u32,
}

impl Default for SuricataOptions {
    fn default() -> SuricataOptions {
        SuricataOptions {
            action: RuleAction::Alert,
            ip_dataset_threshold: 100,
            dataset_dir: String::new(),
            tls_sni_sid_base: None,
            http_host_sid_base: None,
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

/// List-wide rule slots: dataset rules first, then one per header address list.
const SLOT_IPV4_DST: u32 = 0;
const SLOT_IPV4_SRC: u32 = 1;
const SLOT_IPV6_DST: u32 = 2;
const SLOT_IPV6_SRC: u32 = 3;
const FIRST_LIST_SLOT: u32 = 4;

pub(crate) struct SuricataRenderer<'a>(pub &'a SuricataOptions);

impl Renderer for SuricataRenderer<'_> {
    fn format(&self) -> Format {
        Format::Suricata
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        KINDS
    }

    fn check(&self, meta: &ListMeta) -> Result<(), RenderError> {
        let options = self.0;
        ids::check_sids(
            Format::Suricata,
            meta,
            options.list_rule_sids.max(FIRST_LIST_SLOT + 1),
        )?;
        ids::check_classtype(Format::Suricata, options.classtype.as_deref())?;
        if !options
            .dataset_dir
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
        {
            return Err(RenderError::InvalidOption {
                format: Format::Suricata,
                option: "dataset_dir",
                reason: "may only contain letters, digits, '/', '.', '_' and '-'".into(),
            });
        }
        Ok(())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        write_header(&mut out.body, "#", meta, Format::Suricata);
        let networks = collect_networks(items, out);
        self.render_ip_rules(meta, &networks, out);

        let mut writer = RuleWriter {
            options: self.0,
            meta,
            scratch: String::new(),
        };
        for item in items {
            let start = out.body.len();
            let result = match item.indicator.kind() {
                IndicatorKind::Domain => writer.domain_rules(item, &mut out.body),
                IndicatorKind::Url => writer.url_rule(item, &mut out.body),
                _ => continue,
            };
            match result {
                Ok(()) => out.written += 1,
                Err(reason) => {
                    out.body.truncate(start);
                    out.reject(item, reason);
                }
            }
        }
    }
}

/// Parses the address and network items, rejecting those that cannot be written.
pub(crate) fn collect_networks<'a>(
    items: &[&'a ListItem],
    out: &mut Rendered,
) -> Vec<(&'a ListItem, IpNet)> {
    let mut networks = Vec::new();
    for item in items {
        if !item.indicator.kind().is_network() {
            continue;
        }
        match values::network(&item.indicator) {
            Ok(net) if net.prefix_len() == 0 => {
                out.reject(item, "a /0 network would match all traffic");
            }
            Ok(net) => networks.push((*item, net)),
            Err(reason) => out.reject(item, reason),
        }
    }
    networks
}

impl SuricataRenderer<'_> {
    fn render_ip_rules(
        &self,
        meta: &ListMeta,
        networks: &[(&ListItem, IpNet)],
        out: &mut Rendered,
    ) {
        let options = self.0;
        let use_datasets = networks.len() > options.ip_dataset_threshold;
        let is_address = |net: &IpNet| net.prefix_len() == net.max_prefix_len();
        if use_datasets {
            let families = [
                (
                    Format::SuricataDatasetIpv4,
                    "ipv4",
                    "IPv4",
                    SLOT_IPV4_DST,
                    SLOT_IPV4_SRC,
                ),
                (
                    Format::SuricataDatasetIpv6,
                    "ip",
                    "IPv6",
                    SLOT_IPV6_DST,
                    SLOT_IPV6_SRC,
                ),
            ];
            for (format, dataset_type, label, dst_slot, src_slot) in families {
                let want_v4 = format == Format::SuricataDatasetIpv4;
                let in_dataset = networks
                    .iter()
                    .filter(|(_, net)| is_address(net) && matches!(net, IpNet::V4(_)) == want_v4)
                    .count();
                if in_dataset == 0 {
                    continue;
                }
                out.written += in_dataset;
                let file = format.file_name(&meta.name);
                let dataset = file.trim_end_matches(".lst");
                let body = &mut out.body;
                for (buffer, direction, slot) in
                    [("ip.dst", "to", dst_slot), ("ip.src", "from", src_slot)]
                {
                    let _ = write!(
                        body,
                        "{} ip any any -> any any (msg:\"Rampart {}: traffic {direction} a listed {label} address\"; \
                         {buffer}; dataset:isset,{dataset},type {dataset_type},load ",
                        options.action.as_str(),
                        meta.name,
                    );
                    if !options.dataset_dir.is_empty() {
                        body.push_str(options.dataset_dir.trim_end_matches('/'));
                        body.push('/');
                    }
                    let _ = write!(body, "{file}; sid:{}; rev:1;", ids::list_sid(meta, slot));
                    push_tail(options, body, meta, None);
                }
            }
        }
        let in_headers: Vec<(&ListItem, IpNet)> = networks
            .iter()
            .filter(|(_, net)| !use_datasets || !is_address(net))
            .copied()
            .collect();
        ids::write_address_list_rules(
            &in_headers,
            meta,
            FIRST_LIST_SLOT,
            options.list_rule_sids,
            out,
            |body, list, number, total, sid| {
                let _ = write!(
                    body,
                    "{} ip {list} any <> any any (msg:\"Rampart {}: traffic with a listed IP address ({number}/{total})\"; sid:{sid}; rev:1;",
                    options.action.as_str(),
                    meta.name,
                );
                push_tail(options, body, meta, None);
            },
        );
    }
}

/// Writes ` sid:N; rev:1;`.
fn push_sid(body: &mut String, sid: u32) {
    body.push_str(" sid:");
    values::push_decimal(body, u64::from(sid));
    body.push_str("; rev:1;");
}

/// Writes classtype and metadata, and closes the rule.
fn push_tail(options: &SuricataOptions, body: &mut String, meta: &ListMeta, key: Option<u64>) {
    if let Some(classtype) = &options.classtype {
        body.push_str(" classtype:");
        body.push_str(classtype);
        body.push(';');
    }
    if options.metadata {
        body.push_str(" metadata:rampart_list ");
        body.push_str(&meta.name);
        if let Some(key) = key {
            body.push_str(", rampart_key ");
            values::push_decimal(body, key);
        }
        body.push(';');
    }
    body.push_str(")\n");
}

struct RuleWriter<'a> {
    options: &'a SuricataOptions,
    meta: &'a ListMeta,
    scratch: String,
}

impl RuleWriter<'_> {
    fn domain_rules(&mut self, item: &ListItem, body: &mut String) -> Result<(), &'static str> {
        let domain = item.indicator.value();
        if let Some(problem) = values::dns_name_problem(domain) {
            return Err(problem);
        }
        let dns_sid =
            ids::value_sid(self.meta, item.key).ok_or("SID sid_base + key overflows u32")?;
        let extra_sid = |base: Option<u32>| -> Result<Option<u32>, &'static str> {
            base.map(|base| {
                u64::from(base)
                    .checked_add(item.key)
                    .and_then(|sid| u32::try_from(sid).ok())
                    .ok_or("SID overflows u32")
            })
            .transpose()
        };
        // http.host is lowercased by Suricata and refuses `nocase`.
        let rules = [
            Some(("dns", "dns.query", "DNS query for", dns_sid, true)),
            extra_sid(self.options.tls_sni_sid_base)?
                .map(|sid| ("tls", "tls.sni", "TLS SNI of", sid, true)),
            extra_sid(self.options.http_host_sid_base)?
                .map(|sid| ("http", "http.host", "HTTP Host of", sid, false)),
        ];
        for (protocol, buffer, what, sid, nocase) in rules.into_iter().flatten() {
            let line_start = body.len();
            body.push_str(self.options.action.as_str());
            body.push(' ');
            body.push_str(protocol);
            body.push_str(" any any -> any any (msg:\"Rampart ");
            body.push_str(&self.meta.name);
            body.push_str(": ");
            body.push_str(what);
            body.push_str(" listed domain ");
            body.push_str(domain);
            self.push_comment(body, item);
            body.push_str("\"; ");
            body.push_str(buffer);
            body.push_str("; dotprefix; content:\".");
            body.push_str(domain);
            body.push_str("\";");
            if nocase {
                body.push_str(" nocase;");
            }
            body.push_str(" endswith;");
            push_sid(body, sid);
            push_tail(self.options, body, self.meta, Some(item.key));
            check_line(body, line_start)?;
        }
        Ok(())
    }

    fn url_rule(&mut self, item: &ListItem, body: &mut String) -> Result<(), &'static str> {
        let url = item.indicator.value();
        let parts = values::url_parts(url)?;
        let sid = ids::value_sid(self.meta, item.key).ok_or("SID sid_base + key overflows u32")?;
        let line_start = body.len();
        body.push_str(self.options.action.as_str());
        body.push_str(" http any any -> any any (msg:\"Rampart ");
        body.push_str(&self.meta.name);
        body.push_str(": HTTP request for listed URL ");
        ids::push_escaped_text(body, &mut self.scratch, url, 120);
        self.push_comment(body, item);
        body.push_str("\"; flow:established,to_server; http.host; content:");
        match parts.host {
            UrlHost::Name(name) => {
                ids::push_content(body, name.as_bytes());
                body.push_str("; bsize:");
                values::push_decimal(body, name.len() as u64);
                body.push(';');
            }
            UrlHost::Ip(addr) => {
                let text = addr.to_string();
                ids::push_content(body, text.as_bytes());
                body.push(';');
            }
        }
        body.push_str(" http.uri; content:");
        ids::push_content(body, parts.path_and_query.as_bytes());
        body.push_str("; startswith;");
        push_sid(body, sid);
        push_tail(self.options, body, self.meta, Some(item.key));
        check_line(body, line_start)
    }

    fn push_comment(&mut self, body: &mut String, item: &ListItem) {
        let mark = body.len();
        body.push_str(" - ");
        if !ids::push_escaped_text(body, &mut self.scratch, &item.comment, 100) {
            body.truncate(mark);
        }
    }
}

fn check_line(body: &str, line_start: usize) -> Result<(), &'static str> {
    if body.len() - line_start > ids::MAX_RULE_LINE {
        return Err("rule longer than the 8192-byte line Suricata reads");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::RenderOptions;
    use crate::blocklist::tests::{item, meta, render_with};

    #[test]
    fn renders_dns_http_and_header_rules() {
        let items = [
            item(
                7,
                IndicatorKind::Domain,
                "evil.example",
                "C2 \"beacon\"; stage 2",
            ),
            item(
                3,
                IndicatorKind::Url,
                "http://phish.example/login?a=b;c",
                "",
            ),
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(2, IndicatorKind::Cidr, "2001:db8::/32", ""),
            item(9, IndicatorKind::Sha256, &"a".repeat(64), ""),
        ];
        let rendered = render_with(Format::Suricata, &RenderOptions::default(), &items);
        let expected = concat!(
            "# Rampart block list \"test\" (suricata), serial 1, generated 2026-01-02T03:04:05Z\n",
            "alert ip [198.51.100.7] any <> any any (msg:\"Rampart test: traffic with a listed IP address (1/2)\"; sid:8999995; rev:1; metadata:rampart_list test;)\n",
            "alert ip [2001:db8::/32] any <> any any (msg:\"Rampart test: traffic with a listed IP address (2/2)\"; sid:8999994; rev:1; metadata:rampart_list test;)\n",
            "alert dns any any -> any any (msg:\"Rampart test: DNS query for listed domain evil.example - C2 \\\"beacon\\\"\\; stage 2\"; dns.query; dotprefix; content:\".evil.example\"; nocase; endswith; sid:9000007; rev:1; metadata:rampart_list test, rampart_key 7;)\n",
            "alert http any any -> any any (msg:\"Rampart test: HTTP request for listed URL http://phish.example/login?a=b\\;c\"; flow:established,to_server; http.host; content:\"phish.example\"; bsize:13; http.uri; content:\"/login?a=b|3b|c\"; startswith; sid:9000003; rev:1; metadata:rampart_list test, rampart_key 3;)\n",
        );
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (4, 1));
    }

    #[test]
    fn many_addresses_go_to_datasets_and_networks_stay_in_headers() {
        let mut options = RenderOptions::default();
        options.suricata.ip_dataset_threshold = 2;
        options.suricata.dataset_dir = "datasets".into();
        options.suricata.metadata = false;
        let items = [
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(2, IndicatorKind::Ipv4, "198.51.100.8", ""),
            item(3, IndicatorKind::Cidr, "203.0.113.0/24", ""),
        ];
        let rendered = render_with(Format::Suricata, &options, &items);
        let expected = concat!(
            "# Rampart block list \"test\" (suricata), serial 1, generated 2026-01-02T03:04:05Z\n",
            "alert ip any any -> any any (msg:\"Rampart test: traffic to a listed IPv4 address\"; ip.dst; dataset:isset,test-ipv4,type ipv4,load datasets/test-ipv4.lst; sid:8999999; rev:1;)\n",
            "alert ip any any -> any any (msg:\"Rampart test: traffic from a listed IPv4 address\"; ip.src; dataset:isset,test-ipv4,type ipv4,load datasets/test-ipv4.lst; sid:8999998; rev:1;)\n",
            "alert ip [203.0.113.0/24] any <> any any (msg:\"Rampart test: traffic with a listed IP address (1/1)\"; sid:8999995; rev:1;)\n",
        );
        assert_eq!(rendered.body, expected);
        assert_eq!(rendered.written, 3);
    }

    #[test]
    fn a_value_keeps_its_sid_when_others_are_added() {
        let one = [item(7, IndicatorKind::Domain, "evil.example", "")];
        let more = [
            item(1, IndicatorKind::Domain, "aaa.example", ""),
            item(7, IndicatorKind::Domain, "evil.example", ""),
            item(2, IndicatorKind::Domain, "zzz.example", ""),
        ];
        let sid_of = |items: &[ListItem]| {
            let body = render_with(Format::Suricata, &RenderOptions::default(), items).body;
            let line = body
                .lines()
                .find(|line| line.contains("\".evil.example\""))
                .unwrap()
                .to_owned();
            line.split("sid:")
                .nth(1)
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(sid_of(&one), "9000007");
        assert_eq!(sid_of(&more), "9000007");
    }

    #[test]
    fn extra_protocol_rules_and_sid_overflow() {
        let mut options = RenderOptions::default();
        options.suricata.tls_sni_sid_base = Some(20_000_000);
        options.suricata.http_host_sid_base = Some(30_000_000);
        let items = [
            item(5, IndicatorKind::Domain, "evil.example", ""),
            item(
                u64::from(u32::MAX),
                IndicatorKind::Domain,
                "big.example",
                "",
            ),
        ];
        let rendered = render_with(Format::Suricata, &options, &items);
        assert!(rendered.body.contains("alert tls any any -> any any (msg:\"Rampart test: TLS SNI of listed domain evil.example\"; tls.sni; dotprefix; content:\".evil.example\"; nocase; endswith; sid:20000005;"));
        assert!(
            rendered.body.contains(
                "http.host; dotprefix; content:\".evil.example\"; endswith; sid:30000005;"
            )
        );
        assert_eq!(rendered.written, 1);
        assert_eq!(rendered.rejected.len(), 1);
        assert!(!rendered.body.contains("big.example"));
        let mut low = meta("x", 1);
        low.sid_base = 10;
        assert!(
            crate::blocklist::render(Format::Suricata, &low, &RenderOptions::default(), &items)
                .is_err()
        );
    }
}
