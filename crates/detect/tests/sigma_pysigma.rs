//! Sigma semantics checked against pySigma, the reference implementation kept by Sigma's
//! authors: `support/pysigma_sqlite.py` converts every feature rule
//! (`fixtures/sigma/features.yml`) into an SQLite query with pySigma-backend-sqlite, runs it
//! over the feature events (`features.jsonl`) and reports which events each query selects.
//! Rampart must select the same events for every rule pySigma converts. Where SQLite cannot
//! express Sigma's meaning (ASCII-only case folding, addresses compared as text) the case is
//! listed in [`OVERRULED`] with the specification's words and both answers asserted; rules
//! pySigma refuses, and questions the table cannot answer (null vs. absent), are judged by
//! hand in [`BY_HAND`].
//!
//! The Python comes from `$RAMPART_PYSIGMA_PYTHON`, else `<workspace>/.venv-sigma/bin/python`
//! (`.ci/run` installs pySigma 2.0.1 and pySigma-backend-sqlite 2.1.1 there).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use rampart_detect::sigma::{Config, RuleSet};
use rampart_detect::{Event, EventRef};

const TEST: &str = "sigma_pysigma";

/// A rule on which pySigma's SQL and the Sigma specification part ways.
struct Overruled {
    rule: &'static str,
    /// The event lines pySigma's query selects.
    pysigma: &'static [usize],
    /// The event lines Rampart matches.
    ours: &'static [usize],
    why: &'static str,
}

const OVERRULED: &[Overruled] = &[
    Overruled {
        rule: "feature-non_ascii_ci",
        pysigma: &[31],
        ours: &[30, 31],
        why: "modifiers appendix, cased: \"Default Sigma behavior is case-insensitive \
              matching\"; SQLite's LIKE and NOCASE fold ASCII letters only, so 'ÄRGER' misses \
              'ärger'",
    },
    Overruled {
        rule: "feature-cidr6",
        pysigma: &[19],
        ours: &[19, 39],
        why: "modifiers appendix, cidr: \"The value is handled as an CIDR by backends. \
              Supports both IPv4 and IPv6 notations\"; the backend turns a network into text \
              prefixes (LIKE '2001:db8:%'), which misses 2001:0db8:0:0::9, the same kind of \
              address written with leading zeros (RFC 4291 section 2.2)",
    },
    Overruled {
        rule: "feature-week_first",
        pysigma: &[28, 44],
        ours: &[28],
        why: "modifiers appendix, week: \"number between 1 and 52\"; SQLite's %W counts \
              from the year's first Monday and calls 1 January 2021 week 0, we use ISO 8601 \
              weeks (that day is in week 53 of 2020)",
    },
    Overruled {
        rule: "feature-gt_text",
        pysigma: &[32],
        ours: &[],
        why: "modifiers appendix: the numeric modifiers \"can only be applied to numeric \
              values\"; SQLite orders every text after every number, so `Note > 5` holds for \
              the text 'runs evilXtool'",
    },
];

/// Rules judged by hand: pySigma refuses them (the reason must contain `refused`), or its
/// table cannot tell the cases apart.
struct ByHand {
    rule: &'static str,
    /// A part of pySigma's reason for refusing the rule; `None` when pySigma converts it.
    refused: Option<&'static str>,
    lines: &'static [usize],
    why: &'static str,
}

const BY_HAND: &[ByHand] = &[
    ByHand {
        rule: "feature-keywords",
        refused: Some("Keyword search requires fulltext_field"),
        lines: &[4, 32],
        why: "keywords search every string value; `*` inside a keyword is a wildcard",
    },
    ByHand {
        rule: "feature-keywords_and_field",
        refused: Some("Keyword search requires fulltext_field"),
        lines: &[4],
        why: "a keyword and a field selection, both on line 4",
    },
    ByHand {
        rule: "feature-keywords_all",
        refused: Some("Keyword search requires fulltext_field"),
        lines: &[5, 46],
        why: "'|all' links keywords with AND (rules specification, keywords search)",
    },
    ByHand {
        rule: "feature-utf16le_base64offset",
        refused: Some("Unknown modifier 'utf16le'"),
        lines: &[43, 45],
        why: "the modifiers appendix (v2.1) lists utf16le, wide being its alias; pySigma \
              2.0.1 knows only wide",
    },
    ByHand {
        rule: "feature-exists_true",
        refused: None,
        lines: &[17, 18, 19],
        why: "exists \"only verifies the presence of a field, not its value, be it empty or \
              null\" (modifiers appendix); the table stores JSON null as SQL NULL, so \
              pySigma's IS NOT NULL cannot see line 19's Token: null",
    },
    ByHand {
        rule: "feature-exists_false",
        refused: None,
        lines: &[
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27,
            28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46,
        ],
        why: "the negation of exists_true: line 19 carries Token, as null",
    },
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sigma")
        .join(name)
}

fn python() -> PathBuf {
    match std::env::var_os("RAMPART_PYSIGMA_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => rampart_testkit::workspace_root().join(".venv-sigma/bin/python"),
    }
}

/// pySigma's answer per rule id: `Ok(lines)` or `Err(reason it refused)`; `None` (after
/// recording a skip) when pySigma is not installed here.
fn pysigma() -> Option<BTreeMap<String, Result<Vec<usize>, String>>> {
    let python = python();
    if !python.exists() {
        let reason = format!("no python at {}", python.display());
        rampart_testkit::skip_service(TEST, "pysigma", &reason);
        return None;
    }
    let helper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/pysigma_sqlite.py");
    let output = Command::new(&python)
        .arg(&helper)
        .arg(fixture("features.yml"))
        .arg(fixture("features.jsonl"))
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        if stderr.contains("ModuleNotFoundError") {
            rampart_testkit::skip_service(TEST, "pysigma", stderr.trim());
            return None;
        }
        panic!("pysigma_sqlite.py failed: {stderr}");
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the helper prints JSON");
    let mut rules = BTreeMap::new();
    for rule in answer["rules"].as_array().expect("a list of rules") {
        let id = rule["id"].as_str().expect("rule id").to_string();
        let result = match rule.get("lines") {
            Some(lines) => Ok(lines
                .as_array()
                .expect("lines")
                .iter()
                .map(|l| l.as_u64().expect("line number") as usize)
                .collect()),
            None => Err(rule["error"].as_str().unwrap_or("no reason").to_string()),
        };
        rules.insert(id, result);
    }
    Some(rules)
}

/// The lines of the feature events each rule matches, for Rampart.
fn ours() -> BTreeMap<String, Vec<usize>> {
    let rules_text = std::fs::read_to_string(fixture("features.yml")).expect("features.yml");
    let events_text = std::fs::read_to_string(fixture("features.jsonl")).expect("features.jsonl");
    let (rules, failures) = RuleSet::from_yaml("features.yml", &rules_text, &Config::default());
    assert!(failures.is_empty(), "{failures:?}");
    let mut matched: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, line) in events_text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("features.jsonl:{}: {e}", index + 1));
        let event = Event {
            reference: EventRef::line("features.jsonl", index as u64 + 1),
            format: "jsonl".into(),
            time: None,
            fields: value.as_object().cloned().expect("object"),
        };
        for found in rules.matches(&event) {
            matched.entry(found.rule_id).or_default().push(index + 1);
        }
    }
    matched
}

#[test]
fn feature_rules_agree_with_pysigma_sqlite() {
    let Some(theirs) = pysigma() else { return };
    let ours = ours();
    let overruled: BTreeMap<&str, &Overruled> = OVERRULED.iter().map(|o| (o.rule, o)).collect();
    let by_hand: BTreeMap<&str, &ByHand> = BY_HAND.iter().map(|h| (h.rule, h)).collect();
    let mut problems = Vec::new();
    let mut compared = 0;
    for (rule, answer) in &theirs {
        let mine = ours.get(rule).cloned().unwrap_or_default();
        if let Some(hand) = by_hand.get(rule.as_str()) {
            match (answer, hand.refused) {
                (Err(reason), Some(expected)) if !reason.contains(expected) => problems.push(
                    format!("{rule}: pySigma refuses it for {reason:?}, listed as {expected:?}"),
                ),
                (Ok(lines), Some(_)) => problems.push(format!(
                    "{rule}: listed as refused, but pySigma now converts it (lines {lines:?})"
                )),
                (Err(reason), None) => {
                    problems.push(format!("{rule}: pySigma refuses it: {reason}"))
                }
                _ => {}
            }
            if mine != hand.lines {
                problems.push(format!(
                    "{rule}: we match {mine:?}, by hand {:?} ({})",
                    hand.lines, hand.why
                ));
            }
            continue;
        }
        let lines = match answer {
            Ok(lines) => lines,
            Err(reason) => {
                problems.push(format!("{rule}: pySigma refuses it, unlisted: {reason}"));
                continue;
            }
        };
        compared += 1;
        if let Some(case) = overruled.get(rule.as_str()) {
            if lines != case.pysigma || mine != case.ours {
                problems.push(format!(
                    "{rule}: overruled case changed: pySigma {lines:?} (listed {:?}), \
                     we {mine:?} (listed {:?}); {}",
                    case.pysigma, case.ours, case.why
                ));
            }
            continue;
        }
        if *lines != mine {
            problems.push(format!("{rule}: pySigma {lines:?}, we {mine:?}"));
        }
    }
    let listed: BTreeSet<&str> = OVERRULED
        .iter()
        .map(|o| o.rule)
        .chain(BY_HAND.iter().map(|h| h.rule))
        .collect();
    for rule in listed {
        if !theirs.contains_key(rule) {
            problems.push(format!("{rule}: listed here but not in features.yml"));
        }
    }
    println!(
        "{compared} rules compared with pySigma, {} judged by hand",
        BY_HAND.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared >= 50, "only {compared} rules compared");
}
