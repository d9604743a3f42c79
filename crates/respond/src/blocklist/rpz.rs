//! DNS Response Policy Zone (draft-vixie-dnsop-dns-rpz), as BIND, Unbound, PowerDNS Recursor
//! and Knot Resolver load it.
//!
//! Domains become QNAME triggers (`evil.example CNAME .`, plus `*.evil.example CNAME .` for its
//! subdomains), IPs and networks become response-IP triggers (`32.4.3.2.1.rpz-ip CNAME .`,
//! `128.1.zz.db8.2001.rpz-ip CNAME .`), and URLs contribute their host as one or the other.
//! Email addresses and hashes are skipped: DNS cannot block them.
//!
//! The SOA serial is `serial mod 2^32` of the list. Serial arithmetic (RFC 1982) sees that as an
//! increase as long as the list's serial advances by less than 2^31 between two transfers to a
//! secondary, which a revision counter never does; the wrap from 4294967295 to 0 is itself an
//! increase under RFC 1982.

use std::fmt::Write;
use std::net::IpAddr;

use ipnet::IpNet;
use rampart_model::IndicatorKind;
use serde::Deserialize;

use super::values::{self, UrlHost};
use super::{Format, ListItem, ListMeta, RenderError, Rendered, Renderer, write_header};

/// RPZ zone options (`[respond.render.rpz]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpzOptions {
    /// The zone's origin, written as `$ORIGIN`: it must be the zone name the resolver is
    /// configured with (`response-policy { zone "rpz.rampart"; }`), absolute (ending in `.`).
    pub origin: String,
    /// `$TTL` of the policy records, in seconds.
    pub ttl: u32,
    /// SOA MNAME: the primary server's name, absolute.
    pub soa_mname: String,
    /// SOA RNAME: the administrator's mailbox as a DNS name (`hostmaster.example.`), absolute.
    pub soa_rname: String,
    /// SOA refresh: how often secondaries check the serial, in seconds.
    pub refresh: u32,
    /// SOA retry: how soon a secondary retries a failed refresh, in seconds.
    pub retry: u32,
    /// SOA expire: how long a secondary serves the zone without reaching the primary, in seconds.
    pub expire: u32,
    /// SOA minimum: how long resolvers cache negative answers from the zone, in seconds.
    pub minimum: u32,
    /// The name server in the zone's NS record (RPZ zones need one; it is never queried).
    pub ns: String,
    /// What a match does.
    pub policy: RpzPolicy,
    /// Also block every subdomain of a listed domain with a `*.` trigger.
    pub subdomains: bool,
    /// Block the host of each listed URL (the whole site: careful with URL lists on shared
    /// hosting). When false, URLs are skipped.
    pub url_hosts: bool,
    /// Append each item's comment to its first record as a `;` comment.
    pub comments: bool,
}

impl Default for RpzOptions {
    fn default() -> RpzOptions {
        RpzOptions {
            origin: "rpz.rampart.".into(),
            ttl: 300,
            soa_mname: "localhost.".into(),
            soa_rname: "hostmaster.localhost.".into(),
            refresh: 3600,
            retry: 600,
            expire: 604_800,
            minimum: 300,
            ns: "localhost.".into(),
            policy: RpzPolicy::Nxdomain,
            subdomains: true,
            url_hosts: true,
            comments: true,
        }
    }
}

/// The RPZ policy action, written as the CNAME target of every trigger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RpzPolicy {
    /// Answer NXDOMAIN (`CNAME .`).
    Nxdomain,
    /// Answer NODATA (`CNAME *.`).
    Nodata,
    /// Drop the query without answering (`CNAME rpz-drop.`).
    Drop,
    /// Make UDP clients retry over TCP (`CNAME rpz-tcp-only.`).
    TcpOnly,
    /// Let the answer through, e.g. to log matches only (`CNAME rpz-passthru.`).
    Passthru,
    /// Redirect to a walled garden: `policy = { redirect = "blocked.example." }`.
    Redirect(String),
}

impl RpzPolicy {
    fn target(&self) -> &str {
        match self {
            RpzPolicy::Nxdomain => ".",
            RpzPolicy::Nodata => "*.",
            RpzPolicy::Drop => "rpz-drop.",
            RpzPolicy::TcpOnly => "rpz-tcp-only.",
            RpzPolicy::Passthru => "rpz-passthru.",
            RpzPolicy::Redirect(name) => name,
        }
    }
}

/// Last labels that make an owner name something other than a QNAME trigger.
const RESERVED_LABELS: [&str; 4] = ["rpz-ip", "rpz-nsip", "rpz-nsdname", "rpz-client-ip"];

const KINDS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Domain,
    IndicatorKind::Url,
];
const KINDS_WITHOUT_URLS: &[IndicatorKind] = &[
    IndicatorKind::Ipv4,
    IndicatorKind::Ipv6,
    IndicatorKind::Cidr,
    IndicatorKind::Domain,
];

pub(crate) struct RpzRenderer<'a>(pub &'a RpzOptions);

impl Renderer for RpzRenderer<'_> {
    fn format(&self) -> Format {
        Format::Rpz
    }

    fn kinds(&self) -> &'static [IndicatorKind] {
        if self.0.url_hosts {
            KINDS
        } else {
            KINDS_WITHOUT_URLS
        }
    }

    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        let options = self.0;
        let fields = [
            ("origin", options.origin.as_str()),
            ("soa_mname", options.soa_mname.as_str()),
            ("soa_rname", options.soa_rname.as_str()),
            ("ns", options.ns.as_str()),
        ];
        for (option, name) in fields {
            absolute_name(name).map_err(|reason| RenderError::InvalidOption {
                format: Format::Rpz,
                option,
                reason: format!("{name:?}: {reason}"),
            })?;
        }
        if options.origin == "." {
            return Err(RenderError::InvalidOption {
                format: Format::Rpz,
                option: "origin",
                reason: "the root cannot be a policy zone".into(),
            });
        }
        if let RpzPolicy::Redirect(target) = &options.policy {
            absolute_name(target).map_err(|reason| RenderError::InvalidOption {
                format: Format::Rpz,
                option: "policy.redirect",
                reason: format!("{target:?}: {reason}"),
            })?;
        }
        Ok(())
    }

    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered) {
        let options = self.0;
        let body = &mut out.body;
        write_header(body, ";", meta, Format::Rpz);
        let _ = writeln!(body, "$ORIGIN {}", options.origin);
        let _ = writeln!(body, "$TTL {}", options.ttl);
        let _ = writeln!(
            body,
            "@ IN SOA {} {} {} {} {} {} {}",
            options.soa_mname,
            options.soa_rname,
            soa_serial(meta.serial),
            options.refresh,
            options.retry,
            options.expire,
            options.minimum
        );
        let _ = writeln!(body, "@ IN NS {}", options.ns);

        let target = options.policy.target();
        // Owner names are relative to the origin; the absolute name must fit 254 characters
        // (255 octets on the wire), with the `*.` of the wildcard when it is written.
        let wildcard_length = if options.subdomains { 2 } else { 0 };
        let name_budget = 254usize.saturating_sub(options.origin.len() + 1 + wildcard_length);
        let line = TriggerLine { options, target };

        // Items come sorted by kind then value, so addresses, networks and domains are each
        // written once in order; URL hosts are gathered, deduplicated and written last unless
        // the list already names them (sorting instead of hashing: fast, and no hash flooding).
        let mut written_networks: Vec<IpNet> = Vec::new();
        let mut url_names: Vec<(&str, &ListItem)> = Vec::new();
        let mut url_networks: Vec<(IpNet, &ListItem)> = Vec::new();
        let domain_items_start =
            items.partition_point(|item| item.indicator.kind() < IndicatorKind::Domain);
        let domain_items_end =
            items.partition_point(|item| item.indicator.kind() <= IndicatorKind::Domain);
        let domain_items = &items[domain_items_start..domain_items_end];
        let mut last_domain: Option<&str> = None;
        for item in items {
            let indicator = &item.indicator;
            match indicator.kind() {
                IndicatorKind::Domain => {
                    let name = indicator.value();
                    match qname_problem(name, name_budget) {
                        Some(reason) => out.reject(item, reason),
                        None => {
                            // The same value under two keys is written once.
                            if last_domain != Some(name) {
                                line.name(&mut out.body, name, item);
                            }
                            last_domain = Some(name);
                            out.written += 1;
                        }
                    }
                }
                IndicatorKind::Url => match values::url_parts(indicator.value()) {
                    Ok(parts) => match parts.host {
                        UrlHost::Name(name) => match qname_problem(name, name_budget) {
                            Some(reason) => out.reject(item, reason),
                            None => url_names.push((name, *item)),
                        },
                        UrlHost::Ip(addr) => url_networks.push((IpNet::from(addr), *item)),
                    },
                    Err(reason) => out.reject(item, reason),
                },
                _ => match values::network(indicator) {
                    Ok(net) if net.prefix_len() == 0 => {
                        out.reject(item, "a /0 network cannot be an RPZ trigger");
                    }
                    Ok(net) => {
                        if written_networks.last() != Some(&net) {
                            line.network(&mut out.body, net, item);
                            written_networks.push(net);
                        }
                        out.written += 1;
                    }
                    Err(reason) => out.reject(item, reason),
                },
            }
        }

        url_names.sort_by(|a, b| a.0.cmp(b.0));
        let mut previous: Option<&str> = None;
        for (name, item) in url_names {
            out.written += 1;
            let listed = domain_items
                .binary_search_by(|domain| domain.indicator.value().cmp(name))
                .is_ok();
            if listed || previous == Some(name) {
                continue;
            }
            previous = Some(name);
            line.name(&mut out.body, name, item);
        }
        written_networks.sort_unstable();
        url_networks.sort_by_key(|(net, _)| *net);
        let mut previous: Option<IpNet> = None;
        for (net, item) in url_networks {
            out.written += 1;
            if written_networks.binary_search(&net).is_ok() || previous == Some(net) {
                continue;
            }
            previous = Some(net);
            line.network(&mut out.body, net, item);
        }
    }
}

/// Writes trigger records.
struct TriggerLine<'a> {
    options: &'a RpzOptions,
    target: &'a str,
}

impl TriggerLine<'_> {
    fn name(&self, body: &mut String, name: &str, item: &ListItem) {
        body.push_str(name);
        body.push_str(" CNAME ");
        body.push_str(self.target);
        push_comment(body, self.options, item);
        body.push('\n');
        if self.options.subdomains {
            body.push_str("*.");
            body.push_str(name);
            body.push_str(" CNAME ");
            body.push_str(self.target);
            body.push('\n');
        }
    }

    fn network(&self, body: &mut String, net: IpNet, item: &ListItem) {
        push_rpz_ip_name(body, net);
        body.push_str(" CNAME ");
        body.push_str(self.target);
        push_comment(body, self.options, item);
        body.push('\n');
    }
}

fn push_comment(body: &mut String, options: &RpzOptions, item: &ListItem) {
    if !options.comments {
        return;
    }
    let mark = body.len();
    body.push_str(" ; ");
    // After `;` the zone-file lexer ignores everything up to the newline, and the comment
    // cannot contain one. Backslashes are replaced all the same, in case a zone parser reads
    // one before a line end as a continuation.
    if !values::push_comment(
        body,
        &item.comment,
        160,
        |c| if c == '\\' { '/' } else { c },
    ) {
        body.truncate(mark);
    }
}

/// Why `name` cannot be a QNAME trigger in a zone whose names may be `budget` characters long.
fn qname_problem(name: &str, budget: usize) -> Option<&'static str> {
    if let Some(problem) = values::dns_name_problem(name) {
        return Some(problem);
    }
    if name.len() > budget {
        return Some("domain name too long once the zone origin (and wildcard) is added");
    }
    let last_label = name.rsplit('.').next().unwrap_or(name);
    if RESERVED_LABELS.contains(&last_label) {
        return Some("domain name ends in a label RPZ reserves for other trigger types");
    }
    None
}

/// Why `name` is not an absolute DNS name usable in the SOA, NS, origin or a CNAME target.
fn absolute_name(name: &str) -> Result<(), &'static str> {
    if name == "." {
        return Ok(());
    }
    let Some(relative) = name.strip_suffix('.') else {
        return Err("must be an absolute name ending in '.'");
    };
    let relative = relative.strip_prefix("*.").unwrap_or(relative);
    match values::dns_name_problem(relative) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// The SOA serial for a list serial: its low 32 bits (see the module documentation).
pub(crate) fn soa_serial(list_serial: u64) -> u32 {
    (list_serial & u64::from(u32::MAX)) as u32
}

/// Writes the `rpz-ip` owner name of a network: the prefix length, then the address with its
/// parts in reverse order — IPv4 octets in decimal, IPv6 16-bit words in lowercase hex without
/// leading zeros and the longest run of two or more zero words (the first such run, counting
/// in address order, when two are as long) written `zz` — which is the form BIND checks names
/// against. IPv4-mapped IPv6 networks of /96 or longer are written as IPv4, as BIND keys them.
pub(crate) fn push_rpz_ip_name(out: &mut String, net: IpNet) {
    let (addr, prefix) = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => (IpAddr::V4(v4), v6.prefix_len() - 96),
            None => (IpAddr::V6(v6.addr()), v6.prefix_len()),
        },
        _ => (net.addr(), net.prefix_len()),
    };
    values::push_decimal(out, u64::from(prefix));
    match addr {
        IpAddr::V4(v4) => {
            for octet in v4.octets().iter().rev() {
                out.push('.');
                values::push_decimal(out, u64::from(*octet));
            }
        }
        IpAddr::V6(v6) => {
            let words = v6.segments();
            let (run_start, run_length) = longest_zero_run(&words);
            let mut index = words.len();
            while index > 0 {
                index -= 1;
                if run_length >= 2 && index == run_start + run_length - 1 {
                    out.push_str(".zz");
                    index = run_start;
                    continue;
                }
                out.push('.');
                push_hex(out, words[index]);
            }
        }
    }
    out.push_str(".rpz-ip");
}

/// Lowercase hex without leading zeros.
fn push_hex(out: &mut String, word: u16) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let nibble = usize::from((word >> shift) & 0xf);
        if nibble != 0 || started || shift == 0 {
            out.push(char::from(DIGITS[nibble]));
            started = true;
        }
    }
}

/// The first longest run of zero words (start, length); length 0 when there is none.
fn longest_zero_run(words: &[u16; 8]) -> (usize, usize) {
    let (mut best_start, mut best_length) = (0, 0);
    let mut index = 0;
    while index < words.len() {
        if words[index] != 0 {
            index += 1;
            continue;
        }
        let start = index;
        while index < words.len() && words[index] == 0 {
            index += 1;
        }
        if index - start > best_length {
            (best_start, best_length) = (start, index - start);
        }
    }
    (best_start, best_length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocklist::tests::{item, meta, render_with};
    use crate::blocklist::{RenderOptions, render};

    fn rpz_ip(net: &str) -> String {
        let mut out = String::new();
        push_rpz_ip_name(&mut out, net.parse().unwrap());
        out
    }

    #[test]
    fn ip_triggers_use_the_reversed_rpz_ip_form() {
        assert_eq!(rpz_ip("1.2.3.4/32"), "32.4.3.2.1.rpz-ip");
        assert_eq!(rpz_ip("1.2.3.0/24"), "24.0.3.2.1.rpz-ip");
        assert_eq!(rpz_ip("2001:db8::1/128"), "128.1.zz.db8.2001.rpz-ip");
        assert_eq!(rpz_ip("2001:db8::/32"), "32.zz.db8.2001.rpz-ip");
        // A single zero word is not compressed; of two equal runs the first (in address order)
        // is, as RFC 5952 and BIND's canonical form do.
        assert_eq!(
            rpz_ip("2001:db8:0:1:1:1:1:1/128"),
            "128.1.1.1.1.1.0.db8.2001.rpz-ip"
        );
        assert_eq!(
            rpz_ip("2001:db8:0:0:1:0:0:1/128"),
            "128.1.0.0.1.zz.db8.2001.rpz-ip"
        );
        assert_eq!(rpz_ip("::/1"), "1.zz.rpz-ip");
        assert_eq!(rpz_ip("::1/128"), "128.1.zz.rpz-ip");
        assert_eq!(rpz_ip("fe80::/10"), "10.zz.fe80.rpz-ip");
        assert_eq!(rpz_ip("::ffff:1.2.3.4/128"), "32.4.3.2.1.rpz-ip");
    }

    #[test]
    fn soa_serial_is_the_low_32_bits() {
        assert_eq!(soa_serial(42), 42);
        assert_eq!(soa_serial(u64::from(u32::MAX) + 1), 0);
        assert_eq!(soa_serial((7 << 32) + 9), 9);
    }

    #[test]
    fn renders_a_zone() {
        let items = [
            item(
                3,
                IndicatorKind::Domain,
                "evil.example",
                "c2; beacon\nsub CNAME .",
            ),
            item(1, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(2, IndicatorKind::Cidr, "203.0.113.0/24", "scanner"),
            item(4, IndicatorKind::Ipv6, "2001:db8::1", ""),
            item(
                5,
                IndicatorKind::Url,
                "http://evil.example/login",
                "dup host",
            ),
            item(6, IndicatorKind::Url, "http://phish.example/a", ""),
            item(7, IndicatorKind::Email, "bob@evil.example", ""),
            item(8, IndicatorKind::Sha256, &"a".repeat(64), ""),
        ];
        let rendered = render(
            Format::Rpz,
            &meta("c2", 42),
            &RenderOptions::default(),
            &items,
        )
        .unwrap();
        let expected = "\
; Rampart block list \"c2\" (rpz), serial 42, generated 2026-01-02T03:04:05Z
$ORIGIN rpz.rampart.
$TTL 300
@ IN SOA localhost. hostmaster.localhost. 42 3600 600 604800 300
@ IN NS localhost.
32.7.100.51.198.rpz-ip CNAME .
128.1.zz.db8.2001.rpz-ip CNAME .
24.0.113.0.203.rpz-ip CNAME . ; scanner
evil.example CNAME . ; c2; beacon sub CNAME .
*.evil.example CNAME .
phish.example CNAME .
*.phish.example CNAME .
";
        assert_eq!(rendered.body, expected);
        assert_eq!((rendered.written, rendered.skipped), (6, 2));
        assert!(rendered.rejected.is_empty());
    }

    #[test]
    fn options_change_policy_and_wildcards() {
        let mut options = RenderOptions::default();
        options.rpz.policy = RpzPolicy::Redirect("walled.example.".into());
        options.rpz.subdomains = false;
        options.rpz.comments = false;
        options.rpz.url_hosts = false;
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", "x"),
            item(2, IndicatorKind::Url, "http://other.example/", ""),
        ];
        let rendered = render_with(Format::Rpz, &options, &items);
        assert!(
            rendered
                .body
                .ends_with("@ IN NS localhost.\nevil.example CNAME walled.example.\n")
        );
        assert_eq!(rendered.skipped, 1);

        options.rpz.origin = "rpz.rampart".into();
        let error = render(Format::Rpz, &meta("x", 1), &options, &items).unwrap_err();
        assert!(error.to_string().contains("origin"), "{error}");
    }

    #[test]
    fn each_trigger_is_written_once() {
        let items = [
            item(1, IndicatorKind::Domain, "evil.example", "first"),
            item(
                2,
                IndicatorKind::Domain,
                "evil.example",
                "same value, other key",
            ),
            item(3, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(4, IndicatorKind::Ipv4, "198.51.100.7", ""),
            item(5, IndicatorKind::Url, "http://198.51.100.7/x", ""),
            item(6, IndicatorKind::Url, "http://evil.example/x", ""),
            item(7, IndicatorKind::Url, "http://other.example/a", ""),
            item(8, IndicatorKind::Url, "http://other.example/b", ""),
        ];
        let rendered = render_with(Format::Rpz, &RenderOptions::default(), &items);
        assert_eq!(rendered.written, 8);
        for (trigger, count) in [
            ("\nevil.example CNAME", 1),
            ("\n32.7.100.51.198.rpz-ip CNAME", 1),
            ("\nother.example CNAME", 1),
        ] {
            assert_eq!(
                rendered.body.matches(trigger).count(),
                count,
                "{trigger}\n{}",
                rendered.body
            );
        }
    }

    #[test]
    fn reserved_and_oversized_names_are_rejected() {
        let long = format!(
            "{}.{}.{}.{}.example",
            "a".repeat(60),
            "b".repeat(60),
            "c".repeat(60),
            "d".repeat(50)
        );
        let items = [
            item(1, IndicatorKind::Domain, "1.2.3.4.rpz-ip", ""),
            item(2, IndicatorKind::Domain, "x.rpz-nsdname", ""),
            item(3, IndicatorKind::Domain, &long, ""),
            item(4, IndicatorKind::Cidr, "0.0.0.0/0", ""),
        ];
        let rendered = render_with(Format::Rpz, &RenderOptions::default(), &items);
        assert_eq!(rendered.written, 0);
        assert_eq!(rendered.rejected.len(), 4, "{:?}", rendered.rejected);
        assert!(rendered.body.ends_with("@ IN NS localhost.\n"));
    }
}
