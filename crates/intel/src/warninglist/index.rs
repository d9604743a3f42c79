//! The compiled form of many warninglists: one structure per match type, each entry pointing
//! back at the lists that hold it, so a lookup costs a few hash probes and two trie walks
//! whatever the number of lists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use rampart_model::{Indicator, IndicatorKind};
use regex::RegexSet;

/// Which indicator kinds a list applies to, one bit per [`IndicatorKind::ALL`] position.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct KindMask(u16);

impl KindMask {
    pub(crate) const ALL: KindMask = KindMask((1 << IndicatorKind::ALL.len()) - 1);

    fn bit(kind: IndicatorKind) -> u16 {
        let position = IndicatorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        1 << position
    }

    pub(crate) fn with(self, kind: IndicatorKind) -> KindMask {
        KindMask(self.0 | KindMask::bit(kind))
    }

    pub(crate) fn contains(self, kind: IndicatorKind) -> bool {
        self.0 & KindMask::bit(kind) != 0
    }

    pub(crate) fn kinds(self) -> Vec<IndicatorKind> {
        IndicatorKind::ALL
            .into_iter()
            .filter(|kind| self.contains(*kind))
            .collect()
    }
}

/// The lists holding one entry. Most entries are in one list, so that case does not allocate.
#[derive(Debug, Clone)]
enum ListIds {
    One(u16),
    Many(Vec<u16>),
}

impl ListIds {
    fn push(&mut self, list: u16) {
        match self {
            ListIds::One(existing) if *existing == list => {}
            ListIds::One(existing) => *self = ListIds::Many(vec![*existing, list]),
            ListIds::Many(lists) if lists.contains(&list) => {}
            ListIds::Many(lists) => lists.push(list),
        }
    }

    fn as_slice(&self) -> &[u16] {
        match self {
            ListIds::One(list) => std::slice::from_ref(list),
            ListIds::Many(lists) => lists,
        }
    }
}

fn insert<K: std::hash::Hash + Eq>(map: &mut HashMap<K, ListIds>, key: K, list: u16) {
    map.entry(key)
        .and_modify(|lists| lists.push(list))
        .or_insert(ListIds::One(list));
}

fn insert_prefix<P: prefix_trie::Prefix>(map: &mut PrefixMap<P, ListIds>, prefix: P, list: u16) {
    match map.get_mut(&prefix) {
        Some(lists) => lists.push(list),
        None => {
            map.insert(prefix, ListIds::One(list));
        }
    }
}

/// Entries being gathered before the automata are built.
#[derive(Default)]
pub(crate) struct IndexBuilder {
    kinds: Vec<KindMask>,
    v4: PrefixMap<Ipv4Net, ListIds>,
    v6: PrefixMap<Ipv6Net, ListIds>,
    exact: HashMap<Box<str>, ListIds>,
    suffix: HashMap<Box<str>, ListIds>,
    substrings: Vec<String>,
    substring_lists: Vec<u16>,
    regexes: Vec<String>,
    regex_lists: Vec<u16>,
}

impl IndexBuilder {
    /// Registers a list and returns its id.
    pub(crate) fn list(&mut self, kinds: KindMask) -> Option<u16> {
        let id = u16::try_from(self.kinds.len()).ok()?;
        self.kinds.push(kinds);
        Some(id)
    }

    pub(crate) fn network(&mut self, list: u16, network: IpNet) {
        match network.trunc() {
            IpNet::V4(net) => insert_prefix(&mut self.v4, net, list),
            IpNet::V6(net) => insert_prefix(&mut self.v6, net, list),
        }
    }

    /// An exact value, already lowercased.
    pub(crate) fn exact(&mut self, list: u16, value: &str) {
        insert(&mut self.exact, Box::from(value), list);
    }

    /// A domain matching itself and its subdomains, already lowercased, without dots around.
    pub(crate) fn suffix(&mut self, list: u16, domain: &str) {
        insert(&mut self.suffix, Box::from(domain), list);
    }

    pub(crate) fn substring(&mut self, list: u16, needle: String) {
        self.substrings.push(needle);
        self.substring_lists.push(list);
    }

    /// A regex already known to compile on its own.
    pub(crate) fn regex(&mut self, list: u16, pattern: String) {
        self.regexes.push(pattern);
        self.regex_lists.push(list);
    }

    pub(crate) fn build(self) -> Result<Index, String> {
        let mut substring = Vec::new();
        let mut regex = Vec::new();
        // Kinds that select the same lists share one automaton (IPv4 and IPv6 always do).
        let mut built_substrings: HashMap<Vec<u16>, Arc<SubstringIndex>> = HashMap::new();
        let mut built_regexes: HashMap<Vec<u16>, Arc<RegexIndex>> = HashMap::new();
        for kind in IndicatorKind::ALL {
            let applies = |list: &u16| {
                self.kinds
                    .get(usize::from(*list))
                    .is_some_and(|mask| mask.contains(kind))
            };
            let (needles, lists) = self.for_kind(&self.substrings, &self.substring_lists, applies);
            substring.push(match built_substrings.get(&lists) {
                _ if needles.is_empty() => None,
                Some(shared) => Some(Arc::clone(shared)),
                None => {
                    let automaton = AhoCorasickBuilder::new()
                        .ascii_case_insensitive(true)
                        .match_kind(MatchKind::Standard)
                        .build(&needles)
                        .map_err(|err| format!("substring automaton: {err}"))?;
                    let shared = Arc::new((automaton, lists.clone()));
                    built_substrings.insert(lists, Arc::clone(&shared));
                    Some(shared)
                }
            });
            let (patterns, lists) = self.for_kind(&self.regexes, &self.regex_lists, applies);
            regex.push(match built_regexes.get(&lists) {
                _ if patterns.is_empty() => None,
                Some(shared) => Some(Arc::clone(shared)),
                None => {
                    let set =
                        RegexSet::new(&patterns).map_err(|err| format!("regex set: {err}"))?;
                    let shared = Arc::new((set, lists.clone()));
                    built_regexes.insert(lists, Arc::clone(&shared));
                    Some(shared)
                }
            });
        }
        let union = |lists: &mut dyn Iterator<Item = u16>| {
            let mut mask = KindMask::default();
            for list in lists {
                for kind in self
                    .kinds
                    .get(usize::from(list))
                    .map(|mask| mask.kinds())
                    .unwrap_or_default()
                {
                    mask = mask.with(kind);
                }
            }
            mask
        };
        let network_kinds = union(
            &mut self
                .v4
                .values()
                .chain(self.v6.values())
                .flat_map(|ids| ids.as_slice().iter().copied()),
        );
        let exact_kinds = union(
            &mut self
                .exact
                .values()
                .flat_map(|ids| ids.as_slice().iter().copied()),
        );
        let suffix_kinds = union(
            &mut self
                .suffix
                .values()
                .flat_map(|ids| ids.as_slice().iter().copied()),
        );
        Ok(Index {
            kinds: self.kinds,
            v4: self.v4,
            v6: self.v6,
            network_kinds,
            exact: self.exact,
            exact_kinds,
            suffix: self.suffix,
            suffix_kinds,
            substring,
            regex,
        })
    }

    /// The patterns (and their lists) of lists that apply to one kind.
    fn for_kind(
        &self,
        patterns: &[String],
        lists: &[u16],
        applies: impl Fn(&u16) -> bool,
    ) -> (Vec<String>, Vec<u16>) {
        patterns
            .iter()
            .zip(lists)
            .filter(|(_, list)| applies(list))
            .map(|(pattern, list)| (pattern.clone(), *list))
            .unzip()
    }
}

/// An automaton and the list of each of its patterns.
type SubstringIndex = (AhoCorasick, Vec<u16>);
type RegexIndex = (RegexSet, Vec<u16>);

/// All lists, compiled.
pub(crate) struct Index {
    kinds: Vec<KindMask>,
    v4: PrefixMap<Ipv4Net, ListIds>,
    v6: PrefixMap<Ipv6Net, ListIds>,
    /// Kinds some network list applies to; other kinds skip the tries (likewise below).
    network_kinds: KindMask,
    exact: HashMap<Box<str>, ListIds>,
    exact_kinds: KindMask,
    suffix: HashMap<Box<str>, ListIds>,
    suffix_kinds: KindMask,
    /// Per kind (position in `IndicatorKind::ALL`): an automaton of the substrings of the
    /// lists that apply to it, and each pattern's list. Kinds no list applies to pay nothing.
    substring: Vec<Option<Arc<SubstringIndex>>>,
    regex: Vec<Option<Arc<RegexIndex>>>,
}

impl Index {
    /// Calls `found` with each list that matches `indicator` and applies to its kind, until it
    /// breaks. A list may be reported more than once.
    pub(crate) fn each_match(
        &self,
        indicator: &Indicator,
        found: &mut dyn FnMut(u16) -> ControlFlow<()>,
    ) {
        let kind = indicator.kind();
        let mut report = |lists: &[u16]| -> ControlFlow<()> {
            for list in lists {
                if self
                    .kinds
                    .get(usize::from(*list))
                    .is_some_and(|mask| mask.contains(kind))
                {
                    found(*list)?;
                }
            }
            ControlFlow::Continue(())
        };
        let _ = self.walk(indicator, &mut report);
    }

    fn walk(
        &self,
        indicator: &Indicator,
        report: &mut dyn FnMut(&[u16]) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let value = indicator.value();
        // The most specific network first: its list says most about the value (a resolver's
        // own /32 rather than its provider's range). The wider ones follow for `matches`.
        let kind = indicator.kind();
        if let Some(network) = network_of(indicator).filter(|_| self.network_kinds.contains(kind)) {
            match network {
                IpNet::V4(net) => {
                    if let Some((_, lists)) = self.v4.get_lpm(&net) {
                        report(lists.as_slice())?;
                    }
                    for lists in self.v4.cover_values(&net) {
                        report(lists.as_slice())?;
                    }
                }
                IpNet::V6(net) => {
                    if let Some((_, lists)) = self.v6.get_lpm(&net) {
                        report(lists.as_slice())?;
                    }
                    for lists in self.v6.cover_values(&net) {
                        report(lists.as_slice())?;
                    }
                }
            }
        }
        let lower = lowercase(value);
        let exact = self.exact_kinds.contains(kind);
        if exact && let Some(lists) = self.exact.get(lower.as_ref()) {
            report(lists.as_slice())?;
        }
        if let Some(host) = indicator.host() {
            let host = lowercase(host);
            if exact
                && kind != IndicatorKind::Domain
                && let Some(lists) = self.exact.get(host.as_ref())
            {
                report(lists.as_slice())?;
            }
            if self.suffix_kinds.contains(kind) {
                for suffix in suffixes(&host) {
                    if let Some(lists) = self.suffix.get(suffix) {
                        report(lists.as_slice())?;
                    }
                }
            }
        }
        let position = IndicatorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        if let Some(Some(shared)) = self.substring.get(position) {
            let (automaton, lists) = shared.as_ref();
            for found in automaton.find_overlapping_iter(lower.as_ref()) {
                if let Some(list) = lists.get(found.pattern().as_usize()) {
                    report(std::slice::from_ref(list))?;
                }
            }
        }
        if let Some(Some(shared)) = self.regex.get(position) {
            let (set, lists) = shared.as_ref();
            for pattern in set.matches(value).iter() {
                if let Some(list) = lists.get(pattern) {
                    report(std::slice::from_ref(list))?;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The network an IP or CIDR indicator stands for.
fn network_of(indicator: &Indicator) -> Option<IpNet> {
    match indicator.kind() {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
            indicator.value().parse::<IpAddr>().ok().map(IpNet::from)
        }
        IndicatorKind::Cidr => indicator.value().parse::<IpNet>().ok(),
        _ => None,
    }
}

fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// `a.b.example` → `a.b.example`, `b.example`, `example`.
fn suffixes(host: &str) -> impl Iterator<Item = &str> {
    std::iter::once(host)
        .chain(host.match_indices('.').map(move |(at, _)| &host[at + 1..]))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_walk_label_boundaries() {
        assert_eq!(
            suffixes("mail.google.com").collect::<Vec<_>>(),
            ["mail.google.com", "google.com", "com"]
        );
        assert_eq!(suffixes("localhost").collect::<Vec<_>>(), ["localhost"]);
    }

    #[test]
    fn list_ids_deduplicate() {
        let mut map = HashMap::new();
        for list in [3, 3, 5, 3, 7] {
            insert(&mut map, "x", list);
        }
        assert_eq!(map["x"].as_slice(), [3, 5, 7]);
    }

    #[test]
    fn kind_masks() {
        let mask = KindMask::default()
            .with(IndicatorKind::Url)
            .with(IndicatorKind::Md5);
        assert!(mask.contains(IndicatorKind::Url) && !mask.contains(IndicatorKind::Domain));
        assert_eq!(mask.kinds(), [IndicatorKind::Url, IndicatorKind::Md5]);
        assert!(KindMask::ALL.contains(IndicatorKind::Sha512));
    }
}
