//! Literals a regex needs: a set of ASCII strings at least one of which (lowercased) occurs in
//! the ASCII-lowercased text of every ASCII value the regex matches. The regex then runs only
//! for values where the field's literal scan saw one of them (non-ASCII values always run).
//! Works on the parsed pattern (`regex-syntax`'s HIR), so wildcard values (`*\rundll32.exe*`,
//! compiled to `.*` runs) and hand-written `re` values (`\s(-u|--user)\s*:`) are gated alike.

use regex_syntax::hir::{Class, Hir, HirKind};

/// More alternatives than this and a gate costs more than it saves.
const MAX_LITERALS: usize = 32;

/// The gate literals of `pattern`, lowercased; `None` when no literal is required (the
/// pattern can match without any fixed text, or does not parse).
pub(crate) fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut set = required(&hir)?;
    set.sort();
    set.dedup();
    Some(set)
}

/// What one piece of a pattern contributes: one fixed byte (a literal or a class that is one
/// ASCII letter in either case), or a set of required literals, or nothing known.
enum Piece {
    Exact(Vec<u8>),
    Required(Vec<Vec<u8>>),
    Unknown,
}

/// The byte an ASCII value must hold where `class` matches, if there is exactly one after
/// lowercasing. Non-ASCII members cannot match an ASCII value and are ignored.
fn class_byte(class: &Class) -> Option<u8> {
    let mut found: Option<u8> = None;
    let mut take = |start: u32, end: u32| -> Option<()> {
        for point in start..=end.min(0x7f) {
            let byte = (point as u8).to_ascii_lowercase();
            match found {
                None => found = Some(byte),
                Some(seen) if seen == byte => {}
                Some(_) => return None,
            }
        }
        Some(())
    };
    match class {
        Class::Unicode(class) => {
            for range in class.iter() {
                take(range.start() as u32, range.end() as u32)?;
            }
        }
        Class::Bytes(class) => {
            for range in class.iter() {
                if range.end() > 0x7f {
                    // A byte class reaching past ASCII can match bytes a `&str` scan of an
                    // ASCII value never sees; be safe and give no gate.
                    return None;
                }
                take(u32::from(range.start()), u32::from(range.end()))?;
            }
        }
    }
    found
}

fn piece(hir: &Hir) -> Piece {
    match hir.kind() {
        HirKind::Literal(literal) if literal.0.is_ascii() => {
            Piece::Exact(literal.0.to_ascii_lowercase())
        }
        // Cannot occur in an ASCII value (such values are never gated).
        HirKind::Literal(_) => Piece::Unknown,
        HirKind::Class(class) => match class_byte(class) {
            Some(byte) => Piece::Exact(vec![byte]),
            None => Piece::Unknown,
        },
        _ => match required(hir) {
            Some(set) => Piece::Required(set),
            None => Piece::Unknown,
        },
    }
}

/// The better of two gates: the one whose shortest literal is longest, then the smaller set.
fn better(a: Vec<Vec<u8>>, b: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let shortest = |set: &[Vec<u8>]| set.iter().map(Vec::len).min().unwrap_or(0);
    let key = |set: &[Vec<u8>]| (shortest(set), std::cmp::Reverse(set.len()));
    if key(&b) > key(&a) { b } else { a }
}

fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => match piece(hir) {
            Piece::Exact(bytes) => Some(vec![bytes]),
            _ => None,
        },
        HirKind::Capture(capture) => required(&capture.sub),
        HirKind::Repetition(repetition) if repetition.min >= 1 => required(&repetition.sub),
        HirKind::Concat(parts) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut offer = |set: Vec<Vec<u8>>| {
                if !set.is_empty() && set.iter().all(|l| !l.is_empty()) {
                    best = Some(match best.take() {
                        Some(current) => better(current, set),
                        None => set,
                    });
                }
            };
            let mut run: Vec<u8> = Vec::new();
            for part in parts {
                match piece(part) {
                    Piece::Exact(bytes) => run.extend(bytes),
                    other => {
                        offer(vec![std::mem::take(&mut run)]);
                        if let Piece::Required(set) = other {
                            offer(set);
                        }
                    }
                }
            }
            offer(vec![run]);
            best
        }
        HirKind::Alternation(branches) => {
            let mut union = Vec::new();
            for branch in branches {
                union.extend(required(branch)?);
                if union.len() > MAX_LITERALS {
                    return None;
                }
            }
            Some(union)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(pattern: &str) -> Option<Vec<String>> {
        required_literals(pattern).map(|set| {
            set.into_iter()
                .map(|l| String::from_utf8(l).unwrap_or_default())
                .collect()
        })
    }

    fn strings(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn wildcard_and_hand_written_regexes_get_their_best_required_literals() {
        assert_eq!(
            gate(r"(?si)^.*\\Rundll32\.exe.*,\#.*$"),
            strings(&[r"\rundll32.exe"])
        );
        assert_eq!(gate(r"(?s)ab.cdef"), strings(&["cdef"]));
        assert_eq!(gate(r"(?i)\s(-u|--user)\s*:"), strings(&["--user", "-u"]));
        assert_eq!(gate(r"ipconfig\s+/all"), strings(&["ipconfig"]));
        assert_eq!(gate(r"https?://0[0-9]{3,11}"), strings(&["http"]));
        assert_eq!(
            gate(r"[Rr][Uu][Nn][Dd][Ll][Ll]32(?:\.[Ee][Xx][Ee])? \S+?\w:\S+?:"),
            strings(&["rundll32"])
        );
        assert_eq!(gate(r"\+.*\+.*\+"), strings(&["+"]));
        assert_eq!(gate(r"(?:ab)+c"), strings(&["ab"]));
        // Nothing required: optional parts, classes, a branch with no literal.
        assert_eq!(gate(r"(?si)^a|b$"), strings(&["a", "b"]));
        assert_eq!(gate(r"\d+"), None);
        assert_eq!(gate(r"(?:abc)?\w"), None);
        assert_eq!(gate(r"abc|\d"), None);
        assert_eq!(gate(r"(?si).*.?"), None);
        // `é` cannot occur in an ASCII value: the ASCII runs around it are what is required.
        assert_eq!(gate("(?i)caf\u{e9}.*xy"), strings(&["caf"]));
        assert_eq!(gate("caf\u{e9}"), None);
    }

    #[test]
    fn every_ascii_value_a_gated_regex_matches_holds_one_of_its_literals() {
        let cases = [
            (
                r"(?si)^.*\\Rundll32\.exe.*,\#.*$",
                r"C:\WINDOWS\RUNDLL32.EXE foo,#1",
            ),
            (r"(?i)\s(-u|--user)\s*:", "curl --USER :"),
            (r"(?i)\$\{`?e`?n`?v`?:`?p`?a`?t`?h`?\}", "${E`NV:path}"),
            (r"(?i)kelvin", "\u{212a}ELVIN kelvin"),
            (r"'\n\n\n'", "'\n\n\n'"),
            (
                "https?://(?:0[0-9]{1,11}\\.){3}0[0-9]{1,11}",
                "http://01.02.03.04",
            ),
        ];
        for (pattern, value) in cases {
            let regex = regex::Regex::new(pattern).expect("valid");
            assert!(regex.is_match(value), "{pattern} on {value}");
            let set = required_literals(pattern).expect("gated");
            let folded = value.to_ascii_lowercase();
            assert!(
                set.iter().any(|l| folded
                    .as_bytes()
                    .windows(l.len())
                    .any(|w| w == l.as_slice())),
                "{pattern}: none of {set:?} in {value:?}"
            );
        }
    }
}
