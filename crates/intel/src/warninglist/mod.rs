//! MISP warninglists: lists of values that are known not to be threats (public DNS resolvers,
//! RFC 1918 networks, top domains, URL shorteners, hashes of empty files). An indicator on one
//! of them is kept but suppressed — never enforced — with the list's name as the reason.
//!
//! Lists load from a checkout of `misp-warninglists` (`lists/*/list.json`) into one [`Index`]:
//! CIDR lists in prefix tries, `string` lists in a hash set, `hostname` lists as domain
//! suffixes, `substring` lists in one Aho-Corasick automaton and `regex` lists in one
//! `RegexSet`. A list applies only to the indicator kinds its `matching_attributes` name.
//!
//! Matching rules, per list type:
//! - `cidr`: an IP inside a listed network; a CIDR indicator wholly inside one.
//! - `string`: the value, lowercased, equals an entry; for URL and email indicators the host
//!   may equal it too. An entry with a leading dot (`.google.com`) matches as a domain suffix.
//! - `hostname`: the domain, or the host of a URL or email address, is an entry or a subdomain
//!   of one.
//! - `substring`: an entry occurs in the value (ASCII case-insensitive).
//! - `regex`: the value matches (PCRE `/…/flags` delimiters are stripped; `i`, `m`, `s`, `x`
//!   become inline flags). A pattern that does not compile is reported and skipped.
//!
//! URLs whose host is an IP address are not checked against CIDR lists, as in MISP.
//!
//! ```
//! use rampart_intel::warninglist::Warninglists;
//! use rampart_model::{Indicator, IndicatorKind};
//! let json = br#"{"name": "List of RFC 1918 CIDR blocks", "type": "cidr", "version": 1,
//!   "description": "", "list": ["10.0.0.0/8"], "matching_attributes": ["ip-src", "ip-dst"]}"#;
//! let mut builder = Warninglists::builder();
//! builder.add_json("rfc1918", json).unwrap();
//! let (lists, _report) = builder.build().unwrap();
//! let ip = Indicator::parse(IndicatorKind::Ipv4, "10.1.2.3").unwrap();
//! assert_eq!(lists.first_match(&ip).unwrap().id, "rfc1918");
//! ```

mod allowlist;
mod index;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use rampart_model::{Indicator, IndicatorKind};
use serde::Deserialize;

pub use allowlist::{Allowlist, SuppressChain};
use index::{Index, IndexBuilder, KindMask};

use crate::import::Suppress;

/// A list file as MISP publishes it (`schema.json` of misp-warninglists).
#[derive(Debug, Clone, Deserialize)]
pub struct WarninglistFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub list_type: String,
    #[serde(default)]
    pub version: u64,
    pub list: Vec<String>,
    #[serde(default)]
    pub matching_attributes: Vec<String>,
}

/// How a list's entries match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    Cidr,
    String,
    Hostname,
    Substring,
    Regex,
}

impl ListType {
    fn parse(text: &str) -> Option<ListType> {
        match text {
            "cidr" => Some(ListType::Cidr),
            "string" => Some(ListType::String),
            "hostname" => Some(ListType::Hostname),
            "substring" => Some(ListType::Substring),
            "regex" => Some(ListType::Regex),
            _ => None,
        }
    }
}

/// One loaded list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListInfo {
    /// The list's folder name (`public-dns-v4`), or the id it was added under.
    pub id: String,
    /// MISP's name for it (`List of known IPv4 public DNS resolvers`).
    pub name: String,
    pub list_type: ListType,
    pub version: u64,
    /// The indicator kinds the list applies to; empty when none of its MISP attribute types
    /// is one Rampart has (phone numbers, Azure application ids).
    pub kinds: Vec<IndicatorKind>,
    /// Entries indexed (entries that could not be read are in the load report).
    pub entries: usize,
}

/// Something wrong with one list or entry; the rest still loads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadProblem {
    pub list: String,
    pub reason: String,
}

impl std::fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.list, self.reason)
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub lists: usize,
    /// Entries indexed over all lists.
    pub entries: usize,
    /// Entries skipped (unreadable network, regex that does not compile, …).
    pub skipped_entries: usize,
    pub problems: Vec<LoadProblem>,
}

/// A warninglist directory or index that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum WarninglistError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// MISP attribute types, by the indicator kinds they carry. `domain|ip` and friends carry both.
const ATTRIBUTE_KINDS: &[(&str, &[IndicatorKind])] = &[
    (
        "ip-src",
        &[
            IndicatorKind::Ipv4,
            IndicatorKind::Ipv6,
            IndicatorKind::Cidr,
        ],
    ),
    (
        "ip-dst",
        &[
            IndicatorKind::Ipv4,
            IndicatorKind::Ipv6,
            IndicatorKind::Cidr,
        ],
    ),
    ("ip-src|port", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6]),
    ("ip-dst|port", &[IndicatorKind::Ipv4, IndicatorKind::Ipv6]),
    (
        "domain|ip",
        &[
            IndicatorKind::Domain,
            IndicatorKind::Ipv4,
            IndicatorKind::Ipv6,
        ],
    ),
    ("domain", &[IndicatorKind::Domain]),
    ("hostname", &[IndicatorKind::Domain]),
    ("hostname|port", &[IndicatorKind::Domain]),
    ("url", &[IndicatorKind::Url]),
    ("uri", &[IndicatorKind::Url]),
    ("link", &[IndicatorKind::Url]),
    ("email", &[IndicatorKind::Email]),
    ("email-src", &[IndicatorKind::Email]),
    ("email-dst", &[IndicatorKind::Email]),
    ("email-reply-to", &[IndicatorKind::Email]),
    ("target-email", &[IndicatorKind::Email]),
    ("whois-registrant-email", &[IndicatorKind::Email]),
    ("dns-soa-email", &[IndicatorKind::Email]),
    ("md5", &[IndicatorKind::Md5]),
    ("filename|md5", &[IndicatorKind::Md5]),
    ("x509-fingerprint-md5", &[IndicatorKind::Md5]),
    ("sha1", &[IndicatorKind::Sha1]),
    ("filename|sha1", &[IndicatorKind::Sha1]),
    ("x509-fingerprint-sha1", &[IndicatorKind::Sha1]),
    ("sha256", &[IndicatorKind::Sha256]),
    ("filename|sha256", &[IndicatorKind::Sha256]),
    ("x509-fingerprint-sha256", &[IndicatorKind::Sha256]),
    ("sha512", &[IndicatorKind::Sha512]),
    ("filename|sha512", &[IndicatorKind::Sha512]),
];

/// The kinds a list applies to. MISP applies a list without `matching_attributes` to every type.
fn kinds_for(attributes: &[String]) -> KindMask {
    if attributes.is_empty() {
        return KindMask::ALL;
    }
    let mut mask = KindMask::default();
    for attribute in attributes {
        let attribute = attribute.trim().to_ascii_lowercase();
        for (name, kinds) in ATTRIBUTE_KINDS {
            if *name == attribute {
                mask = kinds.iter().fold(mask, |mask, kind| mask.with(*kind));
            }
        }
    }
    mask
}

/// Loaded warninglists, ready for lookups. Cheap to share behind an `Arc`.
pub struct Warninglists {
    lists: Vec<ListInfo>,
    index: Index,
}

impl std::fmt::Debug for Warninglists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Warninglists")
            .field("lists", &self.lists.len())
            .finish_non_exhaustive()
    }
}

impl Warninglists {
    pub fn builder() -> WarninglistsBuilder {
        WarninglistsBuilder::default()
    }

    /// Loads every `*/list.json` under `dir` (a misp-warninglists checkout, or its `lists/`).
    /// A list that cannot be read is reported and skipped; only an unreadable directory fails.
    pub fn load_dir(dir: &Path) -> Result<(Warninglists, LoadReport), WarninglistError> {
        let lists_dir = if dir.join("lists").is_dir() {
            dir.join("lists")
        } else {
            dir.to_path_buf()
        };
        let io = |path: &Path, source| WarninglistError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&lists_dir)
            .map_err(|err| io(&lists_dir, err))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.join("list.json").is_file())
            .collect();
        folders.sort();
        let mut builder = Warninglists::builder();
        for folder in folders {
            let id = folder
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let path = folder.join("list.json");
            match std::fs::read(&path) {
                Ok(bytes) => {
                    // A broken list is recorded by the builder and the others still load.
                    let _ = builder.add_json(&id, &bytes);
                }
                Err(err) => builder.problem(&id, format!("{}: {err}", path.display())),
            }
        }
        builder.build()
    }

    pub fn lists(&self) -> &[ListInfo] {
        &self.lists
    }

    /// The first list that matches, if any: enough to suppress an indicator.
    pub fn first_match(&self, indicator: &Indicator) -> Option<&ListInfo> {
        let mut first = None;
        self.index.each_match(indicator, &mut |list| {
            first = Some(list);
            ControlFlow::Break(())
        });
        first.and_then(|list| self.lists.get(usize::from(list)))
    }

    /// Every list that matches, each once, in load order.
    pub fn matches(&self, indicator: &Indicator) -> Vec<&ListInfo> {
        let mut found = Vec::new();
        self.index.each_match(indicator, &mut |list| {
            if !found.contains(&list) {
                found.push(list);
            }
            ControlFlow::Continue(())
        });
        found.sort_unstable();
        found
            .iter()
            .filter_map(|list| self.lists.get(usize::from(*list)))
            .collect()
    }
}

impl Suppress for Warninglists {
    fn reason(&self, indicator: &Indicator) -> Option<String> {
        self.first_match(indicator)
            .map(|list| format!("warninglist: {}", list.name))
    }
}

/// Gathers lists, then compiles them into [`Warninglists`].
#[derive(Default)]
pub struct WarninglistsBuilder {
    lists: Vec<ListInfo>,
    index: IndexBuilder,
    report: LoadReport,
}

impl WarninglistsBuilder {
    fn problem(&mut self, list: &str, reason: String) {
        self.report.problems.push(LoadProblem {
            list: list.to_owned(),
            reason,
        });
    }

    /// Adds one `list.json`. An unreadable document is reported (and returned) but does not
    /// stop the build.
    pub fn add_json(&mut self, id: &str, json: &[u8]) -> Result<(), LoadProblem> {
        match serde_json::from_slice::<WarninglistFile>(json) {
            Ok(file) => self.add(id, file),
            Err(err) => {
                let problem = LoadProblem {
                    list: id.to_owned(),
                    reason: format!("list.json: {err}"),
                };
                self.report.problems.push(problem.clone());
                Err(problem)
            }
        }
    }

    /// Adds one list.
    pub fn add(&mut self, id: &str, file: WarninglistFile) -> Result<(), LoadProblem> {
        let fail = |this: &mut WarninglistsBuilder, reason: String| {
            let problem = LoadProblem {
                list: id.to_owned(),
                reason,
            };
            this.report.problems.push(problem.clone());
            Err(problem)
        };
        let Some(list_type) = ListType::parse(&file.list_type) else {
            return fail(self, format!("unknown list type {:?}", file.list_type));
        };
        let kinds = kinds_for(&file.matching_attributes);
        let Some(list) = self.index.list(kinds) else {
            return fail(self, "more than 65535 lists".into());
        };
        let mut bad = BadEntries::default();
        let mut entries = 0usize;
        for raw in &file.list {
            let entry = raw.trim();
            if entry.is_empty() {
                continue;
            }
            let added = match list_type {
                ListType::Cidr => self.add_network(list, entry),
                ListType::String => self.add_string(list, entry),
                ListType::Hostname => self.add_hostname(list, entry),
                ListType::Substring => {
                    self.index.substring(list, entry.to_ascii_lowercase());
                    Ok(())
                }
                ListType::Regex => self.add_regex(list, entry),
            };
            match added {
                Ok(()) => entries += 1,
                Err(reason) => bad.add(entry, reason),
            }
        }
        if let Some(reason) = bad.summary() {
            self.problem(id, reason);
        }
        self.report.lists += 1;
        self.report.entries += entries;
        self.report.skipped_entries += bad.count;
        self.lists.push(ListInfo {
            id: id.to_owned(),
            name: file.name,
            list_type,
            version: file.version,
            kinds: kinds.kinds(),
            entries,
        });
        Ok(())
    }

    fn add_network(&mut self, list: u16, entry: &str) -> Result<(), String> {
        let network = match entry.parse::<IpNet>() {
            Ok(network) => network,
            Err(_) => entry
                .parse::<std::net::IpAddr>()
                .map(IpNet::from)
                .map_err(|_| "not an address or network".to_owned())?,
        };
        self.index.network(list, network);
        Ok(())
    }

    fn add_string(&mut self, list: u16, entry: &str) -> Result<(), String> {
        match entry.strip_prefix('.') {
            Some(domain) => self.add_hostname(list, domain),
            None => {
                self.index.exact(list, &entry.to_lowercase());
                Ok(())
            }
        }
    }

    fn add_hostname(&mut self, list: u16, entry: &str) -> Result<(), String> {
        let bare = entry.trim_start_matches("*.").trim_matches('.');
        if bare.is_empty() {
            return Err("empty host name".into());
        }
        if bare.is_ascii() {
            self.index.suffix(list, &bare.to_ascii_lowercase());
            return Ok(());
        }
        // Indicators hold punycode, so the list must too.
        let domain =
            Indicator::parse(IndicatorKind::Domain, bare).map_err(|err| err.to_string())?;
        self.index.suffix(list, domain.value());
        Ok(())
    }

    fn add_regex(&mut self, list: u16, entry: &str) -> Result<(), String> {
        let pattern = pcre_to_rust(entry)?;
        regex::Regex::new(&pattern).map_err(|err| {
            err.to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })?;
        self.index.regex(list, pattern);
        Ok(())
    }

    /// Compiles the lists. Fails only if the combined automata cannot be built.
    pub fn build(self) -> Result<(Warninglists, LoadReport), WarninglistError> {
        let index = self.index.build().map_err(WarninglistError::Invalid)?;
        Ok((
            Warninglists {
                lists: self.lists,
                index,
            },
            self.report,
        ))
    }
}

/// Entries of one list that could not be used: counted, the first few quoted.
#[derive(Default)]
struct BadEntries {
    count: usize,
    examples: Vec<String>,
}

impl BadEntries {
    fn add(&mut self, entry: &str, reason: String) {
        self.count += 1;
        if self.examples.len() < 3 {
            let shown: String = entry.chars().take(80).collect();
            self.examples.push(format!("{shown:?}: {reason}"));
        }
    }

    fn summary(&self) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} entries skipped, e.g. {}",
                self.count,
                self.examples.join("; ")
            )
        })
    }
}

/// A MISP (PCRE) regex as Rust's `regex` wants it: `/body/flags` → `(?flags)body`.
fn pcre_to_rust(entry: &str) -> Result<String, String> {
    let Some(rest) = entry.strip_prefix('/') else {
        return Ok(entry.to_owned());
    };
    let Some(end) = rest.rfind('/') else {
        return Ok(entry.to_owned());
    };
    let (body, flags) = (&rest[..end], &rest[end + 1..]);
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' | 'x' => inline.push(flag),
            // Global and unicode matching change nothing for a yes/no match.
            'g' | 'u' => {}
            other => return Err(format!("unsupported regex flag {other:?}")),
        }
    }
    Ok(if inline.is_empty() {
        body.to_owned()
    } else {
        format!("(?{inline}){body}")
    })
}

#[cfg(test)]
mod tests;
