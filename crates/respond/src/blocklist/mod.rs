//! Block lists rendered in the formats enforcement points read.
//!
//! A block list is a named set of [`ListItem`]s (an indicator, a stable key and a free-text
//! comment) plus its [`ListMeta`] (name, serial, time of generation, SID base). [`render`] writes
//! it in one [`Format`] into a single `String`, and [`publish::write_atomically`] puts that
//! string in place for the resolver, firewall, mail server or IDS to load.
//!
//! Every format is one file implementing [`Renderer`], registered in [`renderer`]. A renderer
//! declares the indicator kinds it takes; items of other kinds are *skipped* (counted in
//! [`Rendered::skipped`], not an error). An item of a taken kind whose value cannot be written
//! safely in the format (a newline, a quote, a space, a DNS label with a `;`, …) is *rejected*:
//! not written, and listed in [`Rendered::rejected`] with the reason. Comments are never
//! rejected: each format neutralises them (control characters become spaces, characters with a
//! meaning in the format are replaced, non-ASCII becomes `?`, and they are cut to a short
//! length).
//!
//! Output is deterministic: items are written in (kind, value, key) order whatever order the
//! caller passes them in (already sorted input is detected and not sorted again), so the same
//! list always gives the same bytes and the same [`Rendered::etag`].

mod edl;
mod hosts;
mod ids;
mod ipset;
mod nftables;
mod postfix;
mod postfix_access;
mod postfix_body_checks;
mod postfix_cidr;
mod postfix_header_checks;
pub mod publish;
pub mod publisher;
mod rpz;
mod snort;
mod suricata;
mod suricata_dataset;
mod values;
mod zeek;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use rampart_model::{Indicator, IndicatorKind, Timestamp};
use serde::{Deserialize, Serialize};

pub use edl::EdlOptions;
pub use hosts::HostsOptions;
pub use ids::RuleAction;
pub use ipset::IpsetOptions;
pub use nftables::NftablesOptions;
pub use postfix::{PostfixAction, PostfixOptions};
pub use rpz::{RpzOptions, RpzPolicy};
pub use snort::SnortOptions;
pub use suricata::SuricataOptions;
pub use zeek::ZeekOptions;

/// One value of a block list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Unique and stable for this value within its list (the caller guarantees it): Suricata and
    /// Snort SIDs are `sid_base + key`, so a value keeps its SID across renders.
    pub key: u64,
    /// The value to block. Canonical form is expected but not trusted: renderers check what
    /// their format needs.
    pub indicator: Indicator,
    /// Why the value is listed (a reason, a rule title). Attacker-influenced free text: each
    /// format neutralises it before writing it, or leaves it out.
    pub comment: String,
}

/// What a list is, as the rendered files name and version it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMeta {
    /// The list's name, `[a-z][a-z0-9_-]{0,47}`: it becomes part of set, dataset and file names,
    /// so anything else is refused with [`RenderError::InvalidListName`].
    pub name: String,
    /// Revision of the list, increased by the caller on every change. The RPZ SOA serial is
    /// derived from it (see [`RpzOptions`]).
    pub serial: u64,
    /// When this revision was generated; written in the files' header comments.
    pub generated: Timestamp,
    /// First Suricata/Snort SID of this list: a value's rule has SID `sid_base + key`, and the
    /// list-wide rules (IP lists, datasets) count down from `sid_base - 1`. Lists need bases far
    /// enough apart that their SID ranges do not meet.
    pub sid_base: u32,
}

impl ListMeta {
    /// The default SID base: local rules conventionally start at 1,000,000 and up.
    pub const DEFAULT_SID_BASE: u32 = 9_000_000;

    /// A list's metadata with the default SID base.
    pub fn new(name: impl Into<String>, serial: u64, generated: Timestamp) -> ListMeta {
        ListMeta {
            name: name.into(),
            serial,
            generated,
            sid_base: ListMeta::DEFAULT_SID_BASE,
        }
    }
}

/// The formats Rampart renders block lists in. The string names (`rpz`, `postfix-cidr`, …) are
/// stable: they appear in configuration and URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// DNS Response Policy Zone file (BIND, Unbound, PowerDNS Recursor, Knot Resolver).
    Rpz,
    /// An `nft -f` script that fills one IPv4 and one IPv6 interval set.
    Nftables,
    /// An `ipset restore` file that swaps in new `hash:net` sets.
    Ipset,
    /// Postfix access(5) table for `check_*_access` (domains, addresses, IPs).
    PostfixAccess,
    /// Postfix cidr_table(5) for `check_client_access cidr:` (IPs and networks).
    PostfixCidr,
    /// Postfix regexp_table(5)/pcre_table(5) for `header_checks` (sender domains, addresses).
    PostfixHeaderChecks,
    /// Postfix regexp_table(5)/pcre_table(5) for `body_checks` (domains, URLs).
    PostfixBodyChecks,
    /// Suricata 7 rules.
    Suricata,
    /// A Suricata dataset file of IPv4 addresses (`type ipv4`).
    SuricataDatasetIpv4,
    /// A Suricata dataset file of IPv6 addresses (`type ip`).
    SuricataDatasetIpv6,
    /// A Suricata dataset file of domain names (`type string`, base64 per line).
    SuricataDatasetDomains,
    /// A Suricata dataset / `filemd5` file of MD5 digests.
    SuricataDatasetMd5,
    /// A Suricata dataset / `filesha256` file of SHA-256 digests.
    SuricataDatasetSha256,
    /// Snort 3 rules.
    Snort,
    /// Zeek intelligence framework file.
    Zeek,
    /// External dynamic list of IPs and networks (PAN-OS, FortiGate), one per line.
    EdlIp,
    /// External dynamic list of domains, one per line.
    EdlDomain,
    /// External dynamic list of URLs without scheme, one per line.
    EdlUrl,
    /// A hosts(5) file pointing listed domains at a sink address.
    Hosts,
}

impl Format {
    /// Every format, in the order of this enum.
    pub const ALL: [Format; 19] = [
        Format::Rpz,
        Format::Nftables,
        Format::Ipset,
        Format::PostfixAccess,
        Format::PostfixCidr,
        Format::PostfixHeaderChecks,
        Format::PostfixBodyChecks,
        Format::Suricata,
        Format::SuricataDatasetIpv4,
        Format::SuricataDatasetIpv6,
        Format::SuricataDatasetDomains,
        Format::SuricataDatasetMd5,
        Format::SuricataDatasetSha256,
        Format::Snort,
        Format::Zeek,
        Format::EdlIp,
        Format::EdlDomain,
        Format::EdlUrl,
        Format::Hosts,
    ];

    /// The stable name of the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Rpz => "rpz",
            Format::Nftables => "nftables",
            Format::Ipset => "ipset",
            Format::PostfixAccess => "postfix-access",
            Format::PostfixCidr => "postfix-cidr",
            Format::PostfixHeaderChecks => "postfix-header-checks",
            Format::PostfixBodyChecks => "postfix-body-checks",
            Format::Suricata => "suricata",
            Format::SuricataDatasetIpv4 => "suricata-dataset-ipv4",
            Format::SuricataDatasetIpv6 => "suricata-dataset-ipv6",
            Format::SuricataDatasetDomains => "suricata-dataset-domains",
            Format::SuricataDatasetMd5 => "suricata-dataset-md5",
            Format::SuricataDatasetSha256 => "suricata-dataset-sha256",
            Format::Snort => "snort",
            Format::Zeek => "zeek",
            Format::EdlIp => "edl-ip",
            Format::EdlDomain => "edl-domain",
            Format::EdlUrl => "edl-url",
            Format::Hosts => "hosts",
        }
    }

    /// The media type to serve the rendered file with.
    pub fn content_type(self) -> &'static str {
        match self {
            // RFC 4027: the media type of DNS master files.
            Format::Rpz => "text/dns",
            _ => "text/plain; charset=utf-8",
        }
    }

    /// A suggested file name for `list` in this format (the list name is validated, so the
    /// result is a plain file name).
    pub fn file_name(self, list: &str) -> String {
        let suffix = match self {
            Format::Rpz => ".rpz.zone",
            Format::Nftables => ".nft",
            Format::Ipset => ".ipset",
            Format::PostfixAccess => ".access",
            Format::PostfixCidr => ".cidr",
            Format::PostfixHeaderChecks => ".header_checks",
            Format::PostfixBodyChecks => ".body_checks",
            Format::Suricata => ".rules",
            Format::SuricataDatasetIpv4 => "-ipv4.lst",
            Format::SuricataDatasetIpv6 => "-ipv6.lst",
            Format::SuricataDatasetDomains => "-domains.lst",
            Format::SuricataDatasetMd5 => "-md5.lst",
            Format::SuricataDatasetSha256 => "-sha256.lst",
            Format::Snort => ".snort.rules",
            Format::Zeek => ".intel",
            Format::EdlIp => "-ip.txt",
            Format::EdlDomain => "-domain.txt",
            Format::EdlUrl => "-url.txt",
            Format::Hosts => ".hosts",
        };
        format!("{list}{suffix}")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a block-list format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown block-list format {0:?} (expected one of {list})", list = format_names())]
pub struct UnknownFormat(pub String);

fn format_names() -> String {
    Format::ALL.map(Format::as_str).join(", ")
}

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(text: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == text)
            .ok_or_else(|| UnknownFormat(text.to_owned()))
    }
}

/// Per-format options, as the `[respond.render]` section of the configuration gives them; every
/// field has a default, so an empty table is valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// `[rpz]`: the DNS policy zone.
    pub rpz: RpzOptions,
    /// `[nftables]`: the nft script's table.
    pub nftables: NftablesOptions,
    /// `[ipset]`: set names and sizes.
    pub ipset: IpsetOptions,
    /// `[postfix]`: shared by the four Postfix formats.
    pub postfix: PostfixOptions,
    /// `[suricata]`: Suricata rules.
    pub suricata: SuricataOptions,
    /// `[snort]`: Snort 3 rules.
    pub snort: SnortOptions,
    /// `[zeek]`: the intel file's source.
    pub zeek: ZeekOptions,
    /// `[edl]`: shared by the three EDL formats.
    pub edl: EdlOptions,
    /// `[hosts]`: the hosts file's sink address.
    pub hosts: HostsOptions,
}

/// An item that was not written, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub key: u64,
    pub kind: IndicatorKind,
    pub value: String,
    pub reason: String,
}

/// A rendered block list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub format: Format,
    /// The file's content.
    pub body: String,
    /// Items of a kind the format takes that could not be written safely.
    pub rejected: Vec<Rejected>,
    /// Items represented in `body` (a URL whose host was already written counts as written).
    pub written: usize,
    /// Items of a kind the format does not take.
    pub skipped: usize,
}

impl Rendered {
    /// The strong HTTP ETag of the body.
    pub fn etag(&self) -> String {
        publish::etag(self.body.as_bytes())
    }

    /// Records that `item` is not written, for `reason`.
    pub fn reject(&mut self, item: &ListItem, reason: impl Into<String>) {
        self.rejected.push(Rejected {
            key: item.key,
            kind: item.indicator.kind(),
            value: item.indicator.value().to_owned(),
            reason: reason.into(),
        });
    }
}

/// Why a list could not be rendered at all (as opposed to one item being rejected).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("block list name {name:?} is invalid: {reason}")]
    InvalidListName { name: String, reason: &'static str },
    #[error("{format} option {option} is invalid: {reason}")]
    InvalidOption {
        format: Format,
        option: &'static str,
        reason: String,
    },
}

/// One block-list format.
pub trait Renderer {
    /// The format this renderer writes.
    fn format(&self) -> Format;

    /// The indicator kinds this format takes; items of other kinds are skipped.
    fn kinds(&self) -> &'static [IndicatorKind];

    /// Checks the options against the list before anything is written (names that grow too
    /// long, malformed configured text).
    fn check(&self, _meta: &ListMeta) -> Result<(), RenderError> {
        Ok(())
    }

    /// Appends the file for `items` (all of a kind in [`Renderer::kinds`], in (kind, value, key)
    /// order) to `out.body`, counting them in `out.written` or recording them in `out.rejected`.
    fn render(&self, meta: &ListMeta, items: &[&ListItem], out: &mut Rendered);
}

/// The renderer of `format` with its options: the one place formats are registered.
pub fn renderer(format: Format, options: &RenderOptions) -> Box<dyn Renderer + '_> {
    use suricata_dataset::DatasetKind;
    match format {
        Format::Rpz => Box::new(rpz::RpzRenderer(&options.rpz)),
        Format::Nftables => Box::new(nftables::NftablesRenderer(&options.nftables)),
        Format::Ipset => Box::new(ipset::IpsetRenderer(&options.ipset)),
        Format::PostfixAccess => Box::new(postfix_access::AccessRenderer(&options.postfix)),
        Format::PostfixCidr => Box::new(postfix_cidr::CidrRenderer(&options.postfix)),
        Format::PostfixHeaderChecks => Box::new(postfix_header_checks::HeaderChecksRenderer(
            &options.postfix,
        )),
        Format::PostfixBodyChecks => {
            Box::new(postfix_body_checks::BodyChecksRenderer(&options.postfix))
        }
        Format::Suricata => Box::new(suricata::SuricataRenderer(&options.suricata)),
        Format::SuricataDatasetIpv4 => Box::new(DatasetKind::Ipv4),
        Format::SuricataDatasetIpv6 => Box::new(DatasetKind::Ipv6),
        Format::SuricataDatasetDomains => Box::new(DatasetKind::Domains),
        Format::SuricataDatasetMd5 => Box::new(DatasetKind::Md5),
        Format::SuricataDatasetSha256 => Box::new(DatasetKind::Sha256),
        Format::Snort => Box::new(snort::SnortRenderer(&options.snort)),
        Format::Zeek => Box::new(zeek::ZeekRenderer(&options.zeek)),
        Format::EdlIp => Box::new(edl::EdlRenderer::ip(&options.edl)),
        Format::EdlDomain => Box::new(edl::EdlRenderer::domain(&options.edl)),
        Format::EdlUrl => Box::new(edl::EdlRenderer::url(&options.edl)),
        Format::Hosts => Box::new(hosts::HostsRenderer(&options.hosts)),
    }
}

/// Renders `items` of the list `meta` in `format`: the one entry point.
pub fn render(
    format: Format,
    meta: &ListMeta,
    options: &RenderOptions,
    items: &[ListItem],
) -> Result<Rendered, RenderError> {
    validate_list_name(&meta.name)?;
    let renderer = renderer(format, options);
    renderer.check(meta)?;
    let kinds = renderer.kinds();
    let mut selected: Vec<&ListItem> = items
        .iter()
        .filter(|item| kinds.contains(&item.indicator.kind()))
        .collect();
    if !selected.is_sorted_by(|a, b| item_order(a, b) != Ordering::Greater) {
        sort_items(&mut selected);
    }
    let mut rendered = Rendered {
        format,
        body: String::with_capacity(256 + selected.len() * 40),
        rejected: Vec::new(),
        written: 0,
        skipped: items.len() - selected.len(),
    };
    renderer.render(meta, &selected, &mut rendered);
    Ok(rendered)
}

/// The order items are written in: by kind, then value, then key (a total order, so output does
/// not depend on input order).
fn item_order(a: &ListItem, b: &ListItem) -> Ordering {
    a.indicator
        .kind()
        .cmp(&b.indicator.kind())
        .then_with(|| a.indicator.value().cmp(b.indicator.value()))
        .then_with(|| a.key.cmp(&b.key))
}

/// Sorts items in [`item_order`]. The kind and the first eight bytes of the value are copied
/// beside each reference first, so most comparisons are two integer compares instead of a
/// string compare through two pointers (the zero-padded big-endian prefix orders like the
/// bytes it comes from, and ties fall back to the full order).
fn sort_items(items: &mut Vec<&ListItem>) {
    let prefix = |value: &str| {
        let mut bytes = [0u8; 8];
        let length = value.len().min(8);
        bytes[..length].copy_from_slice(&value.as_bytes()[..length]);
        u64::from_be_bytes(bytes)
    };
    let mut keyed: Vec<(IndicatorKind, u64, &ListItem)> = items
        .iter()
        .map(|item| (item.indicator.kind(), prefix(item.indicator.value()), *item))
        .collect();
    keyed.sort_unstable_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| item_order(a.2, b.2))
    });
    items.clear();
    items.extend(keyed.into_iter().map(|(_, _, item)| item));
}

/// Longest list name: leaves room in Suricata dataset names (63) and RPZ labels for suffixes.
pub const MAX_LIST_NAME: usize = 48;

/// Checks a list name: `[a-z][a-z0-9_-]{0,47}`.
pub fn validate_list_name(name: &str) -> Result<(), RenderError> {
    let invalid = |reason| RenderError::InvalidListName {
        name: name.to_owned(),
        reason,
    };
    let Some(first) = name.bytes().next() else {
        return Err(invalid("empty"));
    };
    if !first.is_ascii_lowercase() {
        return Err(invalid("must start with a lowercase letter"));
    }
    if name.len() > MAX_LIST_NAME {
        return Err(invalid("longer than 48 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            "may only contain lowercase letters, digits, '-' and '_'",
        ));
    }
    Ok(())
}

/// Writes the header comment most formats start with, after `marker` (`#` or `;`).
fn write_header(out: &mut String, marker: &str, meta: &ListMeta, format: Format) {
    use std::fmt::Write;
    // Only validated or numeric fields: nothing here comes from an item.
    let _ = writeln!(
        out,
        "{marker} Rampart block list \"{}\" ({format}), serial {}, generated {}",
        meta.name, meta.serial, meta.generated
    );
}

#[cfg(test)]
mod tests;
