//! Which atoms can start a rule: for each rule, a set of atoms at least one of which holds
//! whenever the rule matches. Evaluation then reads the condition of only the rules one of
//! whose trigger atoms was marked for the event, so the cost per event follows what the event
//! contains rather than how many rules were loaded.

use super::compile::{Anchor, Atom, Node, Test};

/// How likely an atom is to hold for an arbitrary event; lower is rarer. Used to pick, for an
/// `and`, the branch whose atoms fire least often.
fn rarity(atom: &Atom) -> u32 {
    match &atom.test {
        Test::Literal { bytes, anchor, .. } if !bytes.is_empty() => {
            let short = if bytes.len() < 4 { 4 } else { 0 };
            let loose = match anchor {
                Anchor::Equals => 0,
                Anchor::StartsWith | Anchor::EndsWith => 1,
                Anchor::Contains => 2,
            };
            1 + short + loose
        }
        Test::Regex(_) => 8,
        Test::Number(..) | Test::Cidr(_) | Test::Time(..) | Test::FieldRef { .. } => 20,
        Test::Exists(true) => 200,
        // Absent fields, empty values: true for most events.
        Test::Literal { .. } | Test::Null | Test::Exists(false) => 1000,
    }
}

/// A trigger set for `node`, or `None` when the node can hold without any atom holding (it
/// sits under a `not`, or counts zero of its parts).
pub(crate) fn triggers(node: &Node, atoms: &[Atom]) -> Option<Vec<u32>> {
    let mut set = trigger_set(node, atoms)?;
    set.sort_unstable();
    set.dedup();
    Some(set)
}

fn trigger_set(node: &Node, atoms: &[Atom]) -> Option<Vec<u32>> {
    match node {
        Node::Atom(atom) => Some(vec![*atom]),
        Node::Not(_) => None,
        Node::AtLeast(0, _) => None,
        Node::Or(parts) | Node::AtLeast(_, parts) => {
            let mut union = Vec::new();
            for part in parts {
                union.extend(trigger_set(part, atoms)?);
            }
            // An empty `or` never holds: no trigger can start it, which is right.
            Some(union)
        }
        Node::And(parts) => parts
            .iter()
            .filter_map(|part| trigger_set(part, atoms))
            .min_by_key(|set| {
                set.iter()
                    .map(|a| atoms.get(*a as usize).map_or(1000, rarity))
                    .sum::<u32>()
            }),
        // (An `and` of nothing always holds: `min_by_key` finds no set, so no trigger.)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(field: &str, text: &str) -> Atom {
        Atom {
            field: Some(field.into()),
            test: Test::Literal {
                anchor: Anchor::Contains,
                cased: false,
                bytes: text.as_bytes().to_vec(),
            },
        }
    }

    #[test]
    fn an_and_is_started_by_its_rarest_branch_and_a_not_by_nothing() {
        let atoms = vec![
            Atom {
                field: Some("Image".into()),
                test: Test::Exists(true),
            },
            literal("CommandLine", "mimikatz"),
            literal("CommandLine", "sekurlsa"),
        ];
        let rule = Node::And(vec![
            Node::Atom(0),
            Node::Or(vec![Node::Atom(1), Node::Atom(2)]),
            Node::Not(Box::new(Node::Atom(0))),
        ]);
        assert_eq!(triggers(&rule, &atoms), Some(vec![1, 2]));
        let negated = Node::Not(Box::new(Node::Atom(1)));
        assert_eq!(triggers(&negated, &atoms), None);
        let counted = Node::AtLeast(0, vec![Node::Atom(1)]);
        assert_eq!(triggers(&counted, &atoms), None);
        let either = Node::Or(vec![Node::Atom(1), negated]);
        assert_eq!(triggers(&either, &atoms), None);
    }
}
