//! A snapshot is the base table, the delta table on top of it and the ids the delta
//! overrides; a [`View`] reads one snapshot without locks or allocation.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use foldhash::fast::RandomState;
use jiff::Timestamp;
use rampart_model::IndicatorKind;

use crate::canon;
use crate::sources::Sources;
use crate::table::{Table, now_secs, prefix_length};
use crate::thresholds::{Consumer, Thresholds};

/// One immutable state of the matcher.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub base: Arc<Table>,
    pub delta: Arc<Table>,
    /// Ids changed or removed since the base was built: their base records are dead.
    pub masked: Arc<HashSet<i64, RandomState>>,
    pub thresholds: Thresholds,
}

impl Snapshot {
    pub(crate) fn heap_bytes(&self) -> usize {
        self.base.heap_bytes()
            + self.delta.heap_bytes()
            + self.masked.capacity() * (size_of::<i64>() + 1)
    }
}

/// An indicator that matched.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// The store's indicator id.
    pub id: i64,
    /// The kind of the indicator that matched (a CIDR for an address, a domain for a subdomain).
    pub kind: IndicatorKind,
    /// The canonical value of the indicator that matched, e.g. `10.0.0.0/8` or `evil.com`.
    pub value: &'a str,
    /// 0–100, as of the last build of this entry.
    pub score: u8,
    /// The sources whose statements are active.
    pub sources: Sources<'a>,
    thresholds: &'a Thresholds,
}

impl Hit<'_> {
    /// Whether the hit's score reaches the minimum configured for `consumer`.
    pub fn passes(&self, consumer: Consumer) -> bool {
        self.thresholds.passes(consumer, self.score)
    }
}

/// What a raw event value is expected to be, for [`View::lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueHint {
    Ip,
    Domain,
    Url,
    Hash,
    Email,
    /// Unknown: guessed from the value's shape.
    Any,
}

/// A consistent read of the matcher at one moment.
pub struct View {
    pub(crate) snapshot: arc_swap::Guard<Arc<Snapshot>>,
    pub(crate) now: u32,
}

/// Where a record lives.
#[derive(Clone, Copy)]
enum Layer {
    Base,
    Delta,
}

impl View {
    pub(crate) fn new(snapshot: arc_swap::Guard<Arc<Snapshot>>, now: Timestamp) -> View {
        View {
            snapshot,
            now: now_secs(now),
        }
    }

    fn table(&self, layer: Layer) -> &Table {
        match layer {
            Layer::Base => &self.snapshot.base,
            Layer::Delta => &self.snapshot.delta,
        }
    }

    /// Whether a record may match: not expired, and (in the base) not overridden by the delta.
    fn usable(&self, layer: Layer, record: u32) -> bool {
        let record = self.table(layer).record(record);
        if !Table::live(record, self.now) {
            return false;
        }
        match layer {
            Layer::Delta => true,
            Layer::Base => {
                self.snapshot.masked.is_empty() || !self.snapshot.masked.contains(&record.id)
            }
        }
    }

    fn hit(&self, layer: Layer, record: u32) -> Hit<'_> {
        let table = self.table(layer);
        let record = table.record(record);
        Hit {
            id: record.id,
            kind: table.kind(record),
            value: table.value(record),
            score: record.score,
            sources: table.sources(record),
            thresholds: &self.snapshot.thresholds,
        }
    }

    /// The delta's record for an exact key, else the base's.
    fn exact(&self, find: impl Fn(&Table) -> Option<u32>) -> Option<Hit<'_>> {
        for layer in [Layer::Delta, Layer::Base] {
            if let Some(record) = find(self.table(layer))
                && self.usable(layer, record)
            {
                return Some(self.hit(layer, record));
            }
        }
        None
    }

    /// The most specific usable CIDR of either layer.
    fn longest_prefix(&self, address: IpAddr) -> Option<Hit<'_>> {
        let mut best: Option<(u8, Hit<'_>)> = None;
        for layer in [Layer::Delta, Layer::Base] {
            let table = self.table(layer);
            let usable = |record: &u32| self.usable(layer, *record);
            let found = match address {
                IpAddr::V4(v4) => table.cidrs_v4(v4.to_bits()).find(usable),
                IpAddr::V6(v6) => table.cidrs_v6(v6.to_bits()).find(usable),
            };
            let Some(record) = found else {
                continue;
            };
            let hit = self.hit(layer, record);
            let length = prefix_length(hit.value);
            if best
                .as_ref()
                .is_none_or(|(best_length, _)| length > *best_length)
            {
                best = Some((length, hit));
            }
        }
        best.map(|(_, hit)| hit)
    }

    /// An exact IP indicator, else the most specific CIDR containing the address. An
    /// IPv4-mapped IPv6 address also matches its IPv4 form.
    pub fn lookup_ip(&self, address: IpAddr) -> Option<Hit<'_>> {
        match address {
            IpAddr::V4(v4) => {
                let bits = v4.to_bits();
                self.exact(|table| table.find_ipv4(bits))
                    .or_else(|| self.longest_prefix(address))
            }
            IpAddr::V6(v6) => {
                let bits = v6.to_bits();
                self.exact(|table| table.find_ipv6(bits))
                    .or_else(|| self.longest_prefix(address))
                    .or_else(|| {
                        v6.to_ipv4_mapped()
                            .and_then(|v4| self.lookup_ip(IpAddr::V4(v4)))
                    })
            }
        }
    }

    /// The domain itself, else its closest listed parent (`evil.com` matches `a.b.evil.com`).
    /// Case and one trailing dot are ignored; internationalised names are converted to IDNA.
    pub fn lookup_domain(&self, domain: &str) -> Option<Hit<'_>> {
        match canon::domain_input(domain) {
            Ok(ascii) => {
                let mut buffer = canon::buffer();
                let lower = canon::lower(ascii, &mut buffer)?;
                self.lookup_canonical_domain(lower)
            }
            Err(Some(idna)) => self.lookup_canonical_domain(&idna),
            Err(None) => None,
        }
    }

    fn lookup_canonical_domain(&self, domain: &str) -> Option<Hit<'_>> {
        let mut candidate = domain;
        loop {
            if let Some(hit) =
                self.exact(|table| table.find_string(IndicatorKind::Domain, candidate))
            {
                return Some(hit);
            }
            let (_, parent) = candidate.split_once('.')?;
            if parent.is_empty() {
                return None;
            }
            candidate = parent;
        }
    }

    /// A URL indicator, by canonical URL (see [`crate::canonical_url`]).
    pub fn lookup_url(&self, url: &str) -> Option<Hit<'_>> {
        self.exact(|table| table.find_string(IndicatorKind::Url, url))
    }

    /// An MD5, SHA-1, SHA-256 or SHA-512 indicator, told apart by length; any case.
    pub fn lookup_hash(&self, hash: &str) -> Option<Hit<'_>> {
        let hash = hash.trim();
        let kind = IndicatorKind::hash_for_length(hash.len())?;
        let mut buffer = canon::buffer();
        let lower = canon::lower(hash, &mut buffer)?;
        self.exact(|table| table.find_string(kind, lower))
    }

    /// An email address indicator; any case.
    pub fn lookup_email(&self, email: &str) -> Option<Hit<'_>> {
        let email = email.trim();
        let mut buffer = canon::buffer();
        let lower = canon::lower(email, &mut buffer)?;
        self.exact(|table| table.find_string(IndicatorKind::Email, lower))
    }

    /// Looks up a raw value from an event. Values are not refanged; URLs are canonicalised
    /// (which allocates), everything else is normalised on the stack.
    pub fn lookup(&self, hint: ValueHint, raw: &str) -> Option<Hit<'_>> {
        let raw = raw.trim();
        match hint {
            ValueHint::Ip => self.lookup_ip(parse_ip(raw)?),
            ValueHint::Domain => self.lookup_domain(raw),
            ValueHint::Url if canon::is_canonical_url(raw) => self.lookup_url(raw),
            ValueHint::Url => self.lookup_url(&canon::canonical_url(raw)?),
            ValueHint::Hash => self.lookup_hash(raw),
            ValueHint::Email => self.lookup_email(raw),
            ValueHint::Any => {
                if let Some(address) = parse_ip(raw) {
                    return self.lookup_ip(address);
                }
                if raw.contains("://") {
                    return self.lookup(ValueHint::Url, raw);
                }
                if raw.contains('@') {
                    return self.lookup_email(raw);
                }
                if IndicatorKind::hash_for_length(raw.len()).is_some()
                    && raw.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return self.lookup_hash(raw);
                }
                self.lookup_domain(raw)
            }
        }
    }

    /// Entries in the base and the delta (the delta's overrides are counted twice).
    pub fn len(&self) -> usize {
        self.snapshot.base.len() + self.snapshot.delta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An address as logs write it: plain, or in brackets (`[2001:db8::1]`).
fn parse_ip(raw: &str) -> Option<IpAddr> {
    let raw = raw
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(raw);
    raw.parse().ok()
}
