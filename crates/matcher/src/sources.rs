//! Interned source names. Most indicators come from one to three feeds, and millions share
//! the same combination, so a record keeps one 4-byte number for its whole set of sources.

use std::collections::HashMap;

/// Every distinct set of source names in a table.
#[derive(Debug, Default)]
pub(crate) struct SourceSets {
    names: Vec<Box<str>>,
    by_name: HashMap<Box<str>, u32>,
    /// Members of every set, as name numbers; set `n` is `members[bounds[n]..bounds[n + 1]]`.
    members: Vec<u32>,
    bounds: Vec<u32>,
    by_members: HashMap<Box<[u32]>, u32>,
    scratch: Vec<u32>,
}

impl SourceSets {
    /// The number of the set holding `names` (sorted, deduplicated by the caller).
    pub(crate) fn intern<'a>(&mut self, names: impl Iterator<Item = &'a str>) -> u32 {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        for name in names {
            let number = match self.by_name.get(name) {
                Some(number) => *number,
                None => {
                    let number = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                    self.names.push(name.into());
                    self.by_name.insert(name.into(), number);
                    number
                }
            };
            scratch.push(number);
        }
        let set = match self.by_members.get(scratch.as_slice()) {
            Some(set) => *set,
            None => {
                if self.bounds.is_empty() {
                    self.bounds.push(0);
                }
                let set = u32::try_from(self.bounds.len() - 1).unwrap_or(u32::MAX);
                self.members.extend_from_slice(&scratch);
                self.bounds
                    .push(u32::try_from(self.members.len()).unwrap_or(u32::MAX));
                self.by_members.insert(scratch.as_slice().into(), set);
                set
            }
        };
        self.scratch = scratch;
        set
    }

    pub(crate) fn get(&self, set: u32) -> Sources<'_> {
        let set = set as usize;
        let members = match (self.bounds.get(set), self.bounds.get(set + 1)) {
            (Some(&start), Some(&end)) => self
                .members
                .get(start as usize..end as usize)
                .unwrap_or(&[]),
            _ => &[],
        };
        Sources {
            names: &self.names,
            members,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let names: usize = self.names.iter().map(|name| name.len()).sum();
        let sets: usize = self
            .by_members
            .keys()
            .map(|members| members.len() * 4)
            .sum();
        // Names are held twice (list and map), member lists twice (flat and as map keys); the
        // maps' own tables are counted at a typical 16 bytes per slot plus control byte.
        names * 2
            + self.names.capacity() * size_of::<Box<str>>()
            + self.by_name.capacity() * (size_of::<(Box<str>, u32)>() + 1)
            + (self.members.capacity() + self.bounds.capacity()) * 4
            + sets
            + self.by_members.capacity() * (size_of::<(Box<[u32]>, u32)>() + 1)
    }
}

/// The source names of one hit.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    names: &'a [Box<str>],
    members: &'a [u32],
}

impl<'a> Sources<'a> {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let names = self.names;
        self.members
            .iter()
            .filter_map(move |&number| names.get(number as usize).map(|name| &**name))
    }

    pub fn contains(&self, source: &str) -> bool {
        self.iter().any(|name| name == source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_sets_share_a_number() {
        let mut sets = SourceSets::default();
        let a = sets.intern(["feed-a", "feed-b"].into_iter());
        let b = sets.intern(["feed-a"].into_iter());
        let c = sets.intern(["feed-a", "feed-b"].into_iter());
        let empty = sets.intern(std::iter::empty());
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert_eq!(sets.get(a).iter().collect::<Vec<_>>(), ["feed-a", "feed-b"]);
        assert_eq!(sets.get(b).iter().collect::<Vec<_>>(), ["feed-a"]);
        assert!(sets.get(empty).is_empty());
        assert!(sets.get(a).contains("feed-b"));
    }
}
