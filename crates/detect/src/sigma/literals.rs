//! All literals of all rules on one field, split by where they must sit so each kind costs
//! only what it needs: whole-value literals are one hash probe, prefixes one anchored walk
//! from the start, suffixes one anchored walk backwards from the end (over reversed patterns), and only
//! true substrings an overlapping Aho-Corasick scan of the whole value. Scanning every
//! `endswith '.exe'` as a substring would stop at every `.exe` inside a command line.

use std::collections::HashMap;

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, MatchKind};
use foldhash::fast::RandomState;

use super::compile::Anchor;
use super::program::Scratch;

/// Patterns and, per pattern, the atoms it stands for.
struct AnchoredSet {
    automaton: NFA,
    owners: Vec<Vec<u32>>,
}

struct Substrings {
    automaton: AhoCorasick,
    owners: Vec<Vec<u32>>,
    /// Few patterns: a leftmost-first automaton over the same patterns, whose search skips
    /// through the value with a vectorised prefilter (aho-corasick's packed searcher serves
    /// only leftmost match kinds). The overlapping walk, which has none, runs only when it
    /// finds something.
    precheck: Option<AhoCorasick>,
}

/// Up to this many substrings, the prefilter of a plain search is worth a second pass on the
/// values that hold one (aho-corasick's packed searcher takes up to 64 patterns).
const PRECHECK_PATTERNS: usize = 64;

/// One field's literals (all case-folded, or all cased: the caller folds the value to match).
pub(crate) struct LiteralIndex {
    equals: HashMap<Box<[u8]>, Vec<u32>, RandomState>,
    prefixes: Option<AnchoredSet>,
    suffixes: Option<AnchoredSet>,
    contains: Option<Substrings>,
}

fn grouped(list: Vec<(Vec<u8>, u32)>) -> (Vec<Vec<u8>>, Vec<Vec<u32>>) {
    let mut map: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
    for (bytes, atom) in list {
        map.entry(bytes).or_default().push(atom);
    }
    let mut sorted: Vec<_> = map.into_iter().collect();
    sorted.sort();
    sorted.into_iter().unzip()
}

fn anchored(list: Vec<(Vec<u8>, u32)>) -> Option<AnchoredSet> {
    if list.is_empty() {
        return None;
    }
    let (keys, owners) = grouped(list);
    // Fails only past the automaton's size limits, far beyond any rule set; say so loudly
    // rather than drop literals quietly.
    match aho_corasick::nfa::contiguous::Builder::new()
        .match_kind(MatchKind::Standard)
        .build(&keys)
    {
        Ok(automaton) => Some(AnchoredSet { automaton, owners }),
        Err(error) => {
            tracing::error!(%error, patterns = keys.len(), "sigma literal automaton too large");
            None
        }
    }
}

impl LiteralIndex {
    /// `None` when there are no literals.
    pub(crate) fn build(literals: Vec<(Vec<u8>, Anchor, u32)>) -> Option<LiteralIndex> {
        if literals.is_empty() {
            return None;
        }
        let mut equals: HashMap<Box<[u8]>, Vec<u32>, RandomState> = HashMap::default();
        let (mut prefixes, mut suffixes, mut contains) = (Vec::new(), Vec::new(), Vec::new());
        for (bytes, anchor, atom) in literals {
            match anchor {
                Anchor::Equals => equals.entry(bytes.into()).or_default().push(atom),
                Anchor::StartsWith => prefixes.push((bytes, atom)),
                Anchor::EndsWith => {
                    let mut reversed = bytes;
                    reversed.reverse();
                    suffixes.push((reversed, atom));
                }
                Anchor::Contains => contains.push((bytes, atom)),
            }
        }
        let contains = if contains.is_empty() {
            None
        } else {
            let (keys, owners) = grouped(contains);
            match AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&keys)
            {
                Ok(automaton) => Some(Substrings {
                    precheck: (keys.len() <= PRECHECK_PATTERNS)
                        .then(|| {
                            AhoCorasickBuilder::new()
                                .match_kind(MatchKind::LeftmostFirst)
                                .build(&keys)
                                .ok()
                        })
                        .flatten(),
                    automaton,
                    owners,
                }),
                Err(error) => {
                    tracing::error!(%error, patterns = keys.len(), "sigma literal automaton too large");
                    None
                }
            }
        };
        Some(LiteralIndex {
            equals,
            prefixes: anchored(prefixes),
            suffixes: anchored(suffixes),
            contains,
        })
    }

    /// Marks the atoms of every literal `haystack` holds where its anchor says.
    pub(crate) fn mark(&self, haystack: &[u8], scratch: &mut Scratch) {
        if let Some(atoms) = self.equals.get(haystack) {
            atoms.iter().for_each(|a| scratch.mark(*a));
        }
        if let Some(prefixes) = &self.prefixes {
            walk_anchored(prefixes, haystack.iter().copied(), scratch);
        }
        if let Some(suffixes) = &self.suffixes {
            walk_anchored(suffixes, haystack.iter().rev().copied(), scratch);
        }
        if let Some(contains) = &self.contains
            && contains
                .precheck
                .as_ref()
                .is_none_or(|precheck| precheck.is_match(haystack))
        {
            for found in contains.automaton.find_overlapping_iter(haystack) {
                for atom in &contains.owners[found.pattern().as_usize()] {
                    scratch.mark(*atom);
                }
            }
        }
    }
}

/// Follows the trie from the start of `bytes`, reporting every pattern that is a prefix.
fn walk_anchored(index: &AnchoredSet, bytes: impl Iterator<Item = u8>, scratch: &mut Scratch) {
    let automaton = &index.automaton;
    let Ok(mut state) = automaton.start_state(Anchored::Yes) else {
        return;
    };
    for (consumed, byte) in bytes.enumerate() {
        state = automaton.next_state(Anchored::Yes, state, byte);
        if automaton.is_dead(state) {
            return;
        }
        if automaton.is_match(state) {
            for index_in_state in 0..automaton.match_len(state) {
                let pattern = automaton.match_pattern(state, index_in_state);
                // A state also reports shorter patterns ending here (suffixes of the path);
                // only one read from the very start is a prefix.
                if automaton.pattern_len(pattern) == consumed + 1 {
                    for atom in &index.owners[pattern.as_usize()] {
                        scratch.mark(*atom);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(index: &LiteralIndex, haystack: &str) -> Vec<u32> {
        let mut scratch = Scratch::default();
        scratch.begin(16, 0);
        index.mark(haystack.as_bytes(), &mut scratch);
        let mut held: Vec<u32> = (0..16).filter(|a| scratch.held(*a)).collect();
        held.sort_unstable();
        held
    }

    #[test]
    fn each_literal_holds_only_where_its_anchor_says() {
        let literal = |text: &str, anchor, atom| (text.as_bytes().to_vec(), anchor, atom);
        let index = LiteralIndex::build(vec![
            literal("cmd.exe", Anchor::Equals, 0),
            literal("c:\\windows\\", Anchor::StartsWith, 1),
            literal("\\cmd.exe", Anchor::EndsWith, 2),
            literal(".exe", Anchor::EndsWith, 3),
            literal("whoami", Anchor::Contains, 4),
            literal("windows", Anchor::StartsWith, 5),
            literal("exe", Anchor::Contains, 6),
            literal("d.exe", Anchor::StartsWith, 7),
            literal("cmd.exe", Anchor::Contains, 8),
        ])
        .expect("literals");
        assert_eq!(marked(&index, "cmd.exe"), vec![0, 3, 6, 8]);
        assert_eq!(
            marked(&index, "c:\\windows\\system32\\cmd.exe"),
            vec![1, 2, 3, 6, 8]
        );
        assert_eq!(
            marked(&index, "c:\\windows\\cmd.exe /c whoami.exe x"),
            vec![1, 4, 6, 8]
        );
        // `windows` and `d.exe` occur, but not at the start.
        assert_eq!(marked(&index, "xwindows d.exe"), vec![3, 6]);
        assert_eq!(marked(&index, ""), Vec::<u32>::new());
    }
}
