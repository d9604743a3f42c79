//! One compiled layer of a snapshot (the base, or the delta on top of it): an arena of value
//! bytes, fixed-size records, and per-kind indexes over record numbers.
//!
//! Indicator values are attacker-controlled, so the string index hashes with a per-table
//! random seed (foldhash), and it stores 4-byte record numbers rather than keys: the key
//! bytes live once, in the arena.

use std::net::{Ipv4Addr, Ipv6Addr};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use jiff::Timestamp;
use rampart_model::IndicatorKind;

#[cfg(test)]
use crate::entry::expiry_time;
use crate::entry::{Entry, expiry_secs};
use crate::ranges::{Block, Ranges};
use crate::sources::{SourceSets, Sources};

/// Values longer than this are left out (the model caps them at 8192 bytes anyway).
const MAX_VALUE_LEN: usize = u16::MAX as usize;

/// One indicator, 24 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    pub id: i64,
    value_start: u32,
    sources: u32,
    /// Seconds since the epoch after which the record no longer matches; `u32::MAX`: never.
    expires: u32,
    value_len: u16,
    kind: u8,
    pub score: u8,
}

/// An entry borrowed from wherever it lives (a fresh [`Entry`] or another table's record).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryRef<'a> {
    pub id: i64,
    pub kind: IndicatorKind,
    pub value: &'a str,
    pub score: u8,
    pub sources: SourcesRef<'a>,
    pub expires: u32,
}

/// Source names of an [`EntryRef`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum SourcesRef<'a> {
    Owned(&'a [String]),
    Interned(Sources<'a>),
}

impl<'a> EntryRef<'a> {
    pub(crate) fn from_entry(entry: &'a Entry) -> EntryRef<'a> {
        EntryRef {
            id: entry.id,
            kind: entry.kind,
            value: &entry.value,
            score: entry.score,
            sources: SourcesRef::Owned(&entry.sources),
            expires: expiry_secs(entry.expires),
        }
    }

    /// An owned copy, for comparing tables in tests.
    #[cfg(test)]
    pub(crate) fn to_entry(self) -> Entry {
        let sources = match self.sources {
            SourcesRef::Owned(names) => names.to_vec(),
            SourcesRef::Interned(names) => names.iter().map(str::to_owned).collect(),
        };
        Entry {
            id: self.id,
            kind: self.kind,
            value: self.value.to_owned(),
            score: self.score,
            sources,
            expires: expiry_time(self.expires),
        }
    }
}

/// Why a value did not make it into a table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped {
    /// Values that are not the canonical form of their kind (an IP or CIDR that does not parse).
    pub malformed: u64,
    /// Values over 65535 bytes.
    pub too_long: u64,
    /// The same kind and value under a second id (the store never has those).
    pub duplicate: u64,
}

/// One compiled layer.
#[derive(Debug)]
pub(crate) struct Table {
    arena: String,
    records: Vec<Record>,
    sources: SourceSets,
    /// Records of domains, URLs, emails and hashes, keyed by (kind, value).
    strings: HashTable<u32>,
    hasher: RandomState,
    /// Exact IPv4 addresses, sorted, with their records alongside.
    ipv4: Vec<u32>,
    ipv4_records: Vec<u32>,
    ipv6: Vec<u128>,
    ipv6_records: Vec<u32>,
    cidr4: Ranges<u32>,
    cidr6: Ranges<u128>,
    pub skipped: Skipped,
}

fn kind_code(kind: IndicatorKind) -> u8 {
    IndicatorKind::ALL
        .iter()
        .position(|known| *known == kind)
        .and_then(|index| u8::try_from(index).ok())
        .unwrap_or(u8::MAX)
}

fn kind_of(code: u8) -> IndicatorKind {
    IndicatorKind::ALL
        .get(usize::from(code))
        .copied()
        .unwrap_or(IndicatorKind::Domain)
}

impl Table {
    pub(crate) fn empty() -> Table {
        Table::build(std::iter::empty(), 0)
    }

    /// Compiles `entries` (ids unique; `expected` sizes the arrays up front).
    pub(crate) fn build<'a>(entries: impl Iterator<Item = EntryRef<'a>>, expected: usize) -> Table {
        let mut table = Table {
            arena: String::new(),
            records: Vec::with_capacity(expected),
            sources: SourceSets::default(),
            strings: HashTable::new(),
            hasher: RandomState::default(),
            ipv4: Vec::new(),
            ipv4_records: Vec::new(),
            ipv6: Vec::new(),
            ipv6_records: Vec::new(),
            cidr4: Ranges::build(Vec::new()),
            cidr6: Ranges::build(Vec::new()),
            skipped: Skipped::default(),
        };
        let mut ipv4: Vec<(u32, u32)> = Vec::new();
        let mut ipv6: Vec<(u128, u32)> = Vec::new();
        let mut cidr4 = Vec::new();
        let mut cidr6 = Vec::new();
        let mut string_records: Vec<u32> = Vec::with_capacity(expected);
        for entry in entries {
            if entry.value.len() > MAX_VALUE_LEN {
                table.skipped.too_long += 1;
                continue;
            }
            let Ok(record) = u32::try_from(table.records.len()) else {
                break;
            };
            let Ok(value_start) = u32::try_from(table.arena.len()) else {
                break;
            };
            match entry.kind {
                IndicatorKind::Ipv4 => match entry.value.parse::<Ipv4Addr>() {
                    Ok(address) => ipv4.push((address.to_bits(), record)),
                    Err(_) => {
                        table.skipped.malformed += 1;
                        continue;
                    }
                },
                IndicatorKind::Ipv6 => match entry.value.parse::<Ipv6Addr>() {
                    Ok(address) => ipv6.push((address.to_bits(), record)),
                    Err(_) => {
                        table.skipped.malformed += 1;
                        continue;
                    }
                },
                IndicatorKind::Cidr => match parse_cidr(entry.value) {
                    Some(Cidr::V4(first, last)) => cidr4.push(Block {
                        first,
                        last,
                        record,
                    }),
                    Some(Cidr::V6(first, last)) => cidr6.push(Block {
                        first,
                        last,
                        record,
                    }),
                    None => {
                        table.skipped.malformed += 1;
                        continue;
                    }
                },
                _ => string_records.push(record),
            }
            let sources = match entry.sources {
                SourcesRef::Owned(names) => table.sources.intern(names.iter().map(String::as_str)),
                SourcesRef::Interned(names) => table.sources.intern(names.iter()),
            };
            table.arena.push_str(entry.value);
            table.records.push(Record {
                id: entry.id,
                value_start,
                sources,
                expires: entry.expires,
                value_len: u16::try_from(entry.value.len()).unwrap_or(u16::MAX),
                kind: kind_code(entry.kind),
                score: entry.score,
            });
        }
        table.strings = HashTable::with_capacity(string_records.len());
        for record in string_records {
            let (kind, value) = table.key_of(record);
            let hash = table.hash(kind, value);
            let duplicate = table
                .strings
                .find(hash, |&other| table.key_of(other) == (kind, value))
                .is_some();
            if duplicate {
                table.skipped.duplicate += 1;
                continue;
            }
            let records = &table.records;
            let arena = &table.arena;
            let hasher = &table.hasher;
            table.strings.insert_unique(hash, record, |&other| {
                let (kind, value) = key(records, arena, other);
                hash_key(hasher, kind, value)
            });
        }
        ipv4.sort_unstable();
        ipv4.dedup_by_key(|(address, _)| *address);
        (table.ipv4, table.ipv4_records) = ipv4.into_iter().unzip();
        ipv6.sort_unstable();
        ipv6.dedup_by_key(|(address, _)| *address);
        (table.ipv6, table.ipv6_records) = ipv6.into_iter().unzip();
        table.cidr4 = Ranges::build(cidr4);
        table.cidr6 = Ranges::build(cidr6);
        table.arena.shrink_to_fit();
        table.records.shrink_to_fit();
        table
    }

    fn key_of(&self, record: u32) -> (u8, &str) {
        key(&self.records, &self.arena, record)
    }

    fn hash(&self, kind: u8, value: &str) -> u64 {
        hash_key(&self.hasher, kind, value)
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    pub(crate) fn record(&self, record: u32) -> &Record {
        &self.records[record as usize]
    }

    pub(crate) fn value(&self, record: &Record) -> &str {
        let start = record.value_start as usize;
        self.arena
            .get(start..start + usize::from(record.value_len))
            .unwrap_or("")
    }

    pub(crate) fn kind(&self, record: &Record) -> IndicatorKind {
        kind_of(record.kind)
    }

    pub(crate) fn sources(&self, record: &Record) -> Sources<'_> {
        self.sources.get(record.sources)
    }

    pub(crate) fn live(record: &Record, now_secs: u32) -> bool {
        record.expires > now_secs
    }

    pub(crate) fn entry(&self, record: &Record) -> EntryRef<'_> {
        EntryRef {
            id: record.id,
            kind: self.kind(record),
            value: self.value(record),
            score: record.score,
            sources: SourcesRef::Interned(self.sources(record)),
            expires: record.expires,
        }
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = EntryRef<'_>> {
        self.records.iter().map(|record| self.entry(record))
    }

    /// The record of a domain, URL, email or hash, by canonical value.
    pub(crate) fn find_string(&self, kind: IndicatorKind, value: &str) -> Option<u32> {
        let code = kind_code(kind);
        let hash = self.hash(code, value);
        self.strings
            .find(hash, |&record| self.key_of(record) == (code, value))
            .copied()
    }

    pub(crate) fn find_ipv4(&self, address: u32) -> Option<u32> {
        let index = self.ipv4.binary_search(&address).ok()?;
        self.ipv4_records.get(index).copied()
    }

    pub(crate) fn find_ipv6(&self, address: u128) -> Option<u32> {
        let index = self.ipv6.binary_search(&address).ok()?;
        self.ipv6_records.get(index).copied()
    }

    /// The most specific CIDR containing the address, and the ones around it, innermost first.
    pub(crate) fn cidrs_v4(&self, address: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.cidr4.find(address), |&record| {
            self.cidr4.parent(record)
        })
    }

    pub(crate) fn cidrs_v6(&self, address: u128) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(self.cidr6.find(address), |&record| {
            self.cidr6.parent(record)
        })
    }

    /// Heap bytes held, counted from capacities.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.records.capacity() * size_of::<Record>()
            + self.sources.heap_bytes()
            + self.strings.allocation_size()
            + (self.ipv4.capacity() + self.ipv4_records.capacity()) * size_of::<u32>()
            + self.ipv6.capacity() * size_of::<u128>()
            + self.ipv6_records.capacity() * size_of::<u32>()
            + self.cidr4.heap_bytes()
            + self.cidr6.heap_bytes()
    }
}

fn key<'a>(records: &[Record], arena: &'a str, record: u32) -> (u8, &'a str) {
    let Some(record) = records.get(record as usize) else {
        return (u8::MAX, "");
    };
    let start = record.value_start as usize;
    let value = arena
        .get(start..start + usize::from(record.value_len))
        .unwrap_or("");
    (record.kind, value)
}

fn hash_key(hasher: &RandomState, kind: u8, value: &str) -> u64 {
    use std::hash::BuildHasher;
    hasher.hash_one((kind, value))
}

enum Cidr {
    V4(u32, u32),
    V6(u128, u128),
}

/// The first and last address of a canonical CIDR (`10.0.0.0/8`, `2001:db8::/32`).
fn parse_cidr(value: &str) -> Option<Cidr> {
    let (address, length) = value.split_once('/')?;
    let length: u32 = length.parse().ok()?;
    if let Ok(address) = address.parse::<Ipv4Addr>() {
        let host_bits = 32u32.checked_sub(length)?;
        let mask = u32::MAX.checked_shr(32 - host_bits).unwrap_or(0);
        let mask = if host_bits == 0 { 0 } else { mask };
        let first = address.to_bits() & !mask;
        return Some(Cidr::V4(first, first | mask));
    }
    let address = address.parse::<Ipv6Addr>().ok()?;
    let host_bits = 128u32.checked_sub(length)?;
    let mask = if host_bits == 0 {
        0
    } else {
        u128::MAX >> (128 - host_bits)
    };
    let first = address.to_bits() & !mask;
    Some(Cidr::V6(first, first | mask))
}

/// The prefix length written in a CIDR value, for comparing how specific two matches are.
pub(crate) fn prefix_length(value: &str) -> u8 {
    value
        .rsplit_once('/')
        .and_then(|(_, length)| length.parse().ok())
        .unwrap_or(0)
}

/// Whether an entry expired at `now` (an entry expiring exactly now no longer matches).
pub(crate) fn now_secs(now: Timestamp) -> u32 {
    u32::try_from(now.as_second().max(0)).unwrap_or(u32::MAX - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_bounds() {
        let Some(Cidr::V4(first, last)) = parse_cidr("10.1.0.0/16") else {
            panic!("not parsed")
        };
        assert_eq!(Ipv4Addr::from_bits(first), Ipv4Addr::new(10, 1, 0, 0));
        assert_eq!(Ipv4Addr::from_bits(last), Ipv4Addr::new(10, 1, 255, 255));
        let Some(Cidr::V4(first, last)) = parse_cidr("0.0.0.0/0") else {
            panic!("not parsed")
        };
        assert_eq!((first, last), (0, u32::MAX));
        let Some(Cidr::V6(first, last)) = parse_cidr("2001:db8::/32") else {
            panic!("not parsed")
        };
        assert_eq!(
            Ipv6Addr::from_bits(first),
            "2001:db8::".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            Ipv6Addr::from_bits(last),
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("nonsense").is_none());
    }

    #[test]
    fn records_are_24_bytes() {
        assert_eq!(size_of::<Record>(), 24);
    }
}
