//! Longest-prefix CIDR matching as one sorted array of disjoint segments.
//!
//! CIDR blocks are either nested or disjoint, so the address space they cover cuts into
//! segments, each owned by the most specific block covering it. A lookup is then one binary
//! search, and the layout is two flat arrays (a prefix trie spends a node per bit of prefix).
//! Each block also remembers the block directly around it, so that a lookup can fall back to
//! the enclosing block when the most specific one is masked (changed in the delta) or expired.

/// An address as an unsigned integer: `u32` for IPv4, `u128` for IPv6.
pub(crate) trait Address: Copy + Ord {
    const MAX: Self;
    fn successor(self) -> Self;
}

impl Address for u32 {
    const MAX: Self = u32::MAX;
    fn successor(self) -> Self {
        self.wrapping_add(1)
    }
}

impl Address for u128 {
    const MAX: Self = u128::MAX;
    fn successor(self) -> Self {
        self.wrapping_add(1)
    }
}

/// Marks a segment no block covers.
const NONE: u32 = u32::MAX;

/// One CIDR block to compile: its first and last address and its record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Block<A> {
    pub first: A,
    pub last: A,
    pub record: u32,
}

/// The compiled segments.
#[derive(Debug)]
pub(crate) struct Ranges<A> {
    /// Segment starts, ascending; a segment runs up to the next start.
    starts: Vec<A>,
    /// The record owning each segment, or `NONE`.
    owners: Vec<u32>,
    /// (record, enclosing record) for blocks nested in another, sorted by record.
    parents: Vec<(u32, u32)>,
}

impl<A: Address> Ranges<A> {
    pub(crate) fn build(mut blocks: Vec<Block<A>>) -> Ranges<A> {
        // Outer blocks first at equal starts, so that nested ones are pushed above them.
        blocks.sort_unstable_by(|a, b| a.first.cmp(&b.first).then(b.last.cmp(&a.last)));
        let mut ranges = Ranges {
            starts: Vec::with_capacity(blocks.len() * 2),
            owners: Vec::with_capacity(blocks.len() * 2),
            parents: Vec::new(),
        };
        let mut open: Vec<Block<A>> = Vec::new();
        for block in blocks {
            while let Some(top) = open.last().copied() {
                if top.last >= block.first {
                    break;
                }
                open.pop();
                let owner = open.last().map_or(NONE, |b| b.record);
                ranges.emit(top.last.successor(), owner);
            }
            if let Some(top) = open.last() {
                if top.last < block.last {
                    // Not nested: CIDR blocks cannot overlap partially, so this is a
                    // duplicate block under another id; the first one wins.
                    continue;
                }
                ranges.parents.push((block.record, top.record));
            }
            ranges.emit(block.first, block.record);
            open.push(block);
        }
        while let Some(top) = open.pop() {
            if top.last == A::MAX {
                continue;
            }
            let owner = open.last().map_or(NONE, |b| b.record);
            ranges.emit(top.last.successor(), owner);
        }
        ranges.parents.sort_unstable();
        ranges.starts.shrink_to_fit();
        ranges.owners.shrink_to_fit();
        ranges.parents.shrink_to_fit();
        ranges
    }

    fn emit(&mut self, start: A, owner: u32) {
        if self.starts.last() == Some(&start) {
            // A later, more specific block (or the end of several at once) at the same address.
            if let Some(last) = self.owners.last_mut() {
                *last = owner;
            }
        } else if self.owners.last() != Some(&owner) || self.starts.is_empty() {
            self.starts.push(start);
            self.owners.push(owner);
        }
    }

    /// The most specific block containing `address`.
    pub(crate) fn find(&self, address: A) -> Option<u32> {
        let after = self.starts.partition_point(|start| *start <= address);
        let owner = *self.owners.get(after.checked_sub(1)?)?;
        (owner != NONE).then_some(owner)
    }

    /// The block directly enclosing `record`'s block, if any.
    pub(crate) fn parent(&self, record: u32) -> Option<u32> {
        let index = self
            .parents
            .binary_search_by_key(&record, |(child, _)| *child)
            .ok()?;
        Some(self.parents[index].1)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.starts.capacity() * size_of::<A>()
            + self.owners.capacity() * size_of::<u32>()
            + self.parents.capacity() * size_of::<(u32, u32)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(first: u32, last: u32, record: u32) -> Block<u32> {
        Block {
            first,
            last,
            record,
        }
    }

    #[test]
    fn nested_blocks_give_the_most_specific_owner() {
        // 0..=255 (rec 0), 16..=31 (rec 1), 20..=23 (rec 2), 100..=100 (rec 3), 300..=400 (4)
        let ranges = Ranges::build(vec![
            block(20, 23, 2),
            block(0, 255, 0),
            block(300, 400, 4),
            block(16, 31, 1),
            block(100, 100, 3),
        ]);
        let expect = [
            (0, Some(0)),
            (15, Some(0)),
            (16, Some(1)),
            (19, Some(1)),
            (20, Some(2)),
            (23, Some(2)),
            (24, Some(1)),
            (31, Some(1)),
            (32, Some(0)),
            (100, Some(3)),
            (101, Some(0)),
            (255, Some(0)),
            (256, None),
            (299, None),
            (300, Some(4)),
            (400, Some(4)),
            (401, None),
        ];
        for (address, owner) in expect {
            assert_eq!(ranges.find(address), owner, "address {address}");
        }
        assert_eq!(ranges.parent(2), Some(1));
        assert_eq!(ranges.parent(1), Some(0));
        assert_eq!(ranges.parent(0), None);
        assert_eq!(ranges.parent(4), None);
    }

    #[test]
    fn blocks_ending_together_and_at_the_top_of_the_space() {
        let ranges = Ranges::build(vec![
            block(0, u32::MAX, 0),
            block(u32::MAX - 15, u32::MAX, 1),
            block(u32::MAX - 3, u32::MAX, 2),
        ]);
        assert_eq!(ranges.find(5), Some(0));
        assert_eq!(ranges.find(u32::MAX - 15), Some(1));
        assert_eq!(ranges.find(u32::MAX), Some(2));
        let empty: Ranges<u32> = Ranges::build(Vec::new());
        assert_eq!(empty.find(7), None);
    }
}
