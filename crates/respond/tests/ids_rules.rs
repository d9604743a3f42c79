//! Suricata and Snort rules as rule parsers read them. Suricata itself is not packaged here, so
//! the rules go through the PyPI parsers in `<workspace>/.venv-rules` (`idstools`, and the
//! `suricata-check` linter): every rule must parse, SIDs must be unique and equal to
//! `sid_base + key`, and `msg` and `content` must read back as the values and comments written.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{hostile_items, mixed_items, render, run, text, write};
use rampart_respond::blocklist::{Format, ListMeta, RenderOptions};
use serde_json::Value;

/// Parses each rule line of a file with idstools and prints one JSON object per line.
const PARSE_RULES: &str = r##"
import json, sys
from idstools import rule
for number, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    parsed = rule.parse(line)
    if parsed is None:
        print(json.dumps({"unparsed": line}))
        continue
    print(json.dumps({
        "line": number, "action": parsed.action, "proto": parsed.proto,
        "source_addr": parsed.source_addr, "dest_addr": parsed.dest_addr,
        "direction": parsed.direction, "sid": parsed.sid, "rev": parsed.rev,
        "msg": parsed.msg, "options": parsed.options,
    }))
"##;

fn venv_python(test: &str) -> Option<PathBuf> {
    let python = rampart_testkit::workspace_root().join(".venv-rules/bin/python");
    if python.is_file() {
        return Some(python);
    }
    rampart_testkit::skip_service(
        test,
        "idstools/suricata-check",
        "create it: python3 -m venv .venv-rules && .venv-rules/bin/pip install idstools suricata-check",
    );
    None
}

fn parse_rules(python: &Path, file: &Path) -> Vec<Value> {
    let output = run(Command::new(python).arg("-c").arg(PARSE_RULES).arg(file));
    assert!(output.status.success(), "{}", text(&output));
    let rules: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for parsed in &rules {
        assert!(
            parsed.get("unparsed").is_none(),
            "idstools could not parse {parsed}"
        );
    }
    rules
}

/// The options named `name`, in order.
fn rule_options<'a>(rule: &'a Value, name: &str) -> Vec<&'a str> {
    rule["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|option| option["name"] == name)
        .map(|option| option["value"].as_str().unwrap_or(""))
        .collect()
}

/// A quoted option value with its backslash escapes undone.
fn unescape(quoted: &str) -> String {
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap();
    let mut out = String::new();
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        out.push(if character == '\\' {
            characters.next().unwrap()
        } else {
            character
        });
    }
    out
}

/// A content string's bytes, `|hex|` runs decoded (Snort 3 modifiers after the comma dropped).
fn content_bytes(value: &str) -> Vec<u8> {
    let quoted = value.split("\", ").next().unwrap();
    let quoted = if quoted.ends_with('"') {
        quoted.to_owned()
    } else {
        format!("{quoted}\"")
    };
    let inner = unescape(&quoted);
    let mut bytes = Vec::new();
    for (index, part) in inner.split('|').enumerate() {
        if index % 2 == 1 {
            bytes.extend(
                part.split(' ')
                    .map(|hex| u8::from_str_radix(hex, 16).unwrap()),
            );
        } else {
            bytes.extend(part.as_bytes());
        }
    }
    bytes
}

fn sids(rules: &[Value]) -> BTreeMap<u64, &Value> {
    let mut by_sid = BTreeMap::new();
    for parsed in rules {
        let sid = parsed["sid"].as_u64().unwrap();
        assert_eq!(parsed["rev"], 1, "{parsed}");
        assert!(by_sid.insert(sid, parsed).is_none(), "duplicate sid {sid}");
    }
    by_sid
}

fn header_addresses(rules: &[Value]) -> BTreeSet<String> {
    rules
        .iter()
        .filter(|parsed| parsed["direction"] == "<>")
        .flat_map(|parsed| {
            let list = parsed["source_addr"].as_str().unwrap();
            list.trim_matches(['[', ']'])
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

const HOSTILE_NEUTRALISED: &str = "reason ; INJECTED \"q\" ; sid:1;) } # \\ |x| $y";
const BASE: u64 = ListMeta::DEFAULT_SID_BASE as u64;

fn all_addresses() -> BTreeSet<String> {
    [
        "198.51.100.7",
        "192.0.2.200",
        "2001:db8::7",
        "2001:db8:0:1:1:1:1:1",
        "2001:db8::1:0:0:1",
        "::ffff:192.0.2.33",
        "203.0.113.0/24",
        "10.20.0.0/16",
        "2001:db8:abcd::/48",
    ]
    .map(String::from)
    .into()
}

#[test]
fn suricata_rules_parse_and_read_back() {
    let Some(python) = venv_python("suricata_rules_parse_and_read_back") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let mut items = mixed_items();
    items.extend(hostile_items());
    let rendered = render(Format::Suricata, "spam", &RenderOptions::default(), &items);
    // Hostile domain ×2, IPv4, URL and CIDR rejected; the email is skipped.
    assert_eq!(rendered.rejected.len(), 5, "{:?}", rendered.rejected);
    let path = write(directory.path(), "spam.rules", &rendered.body);
    let rules = parse_rules(&python, &path);
    // One IPv4 and one IPv6 address-list rule, four domains, four URLs.
    assert_eq!(rules.len(), 2 + 4 + 4, "{}", rendered.body);
    let by_sid = sids(&rules);
    assert_eq!(header_addresses(&rules), all_addresses());

    for (key, domain) in [
        (28, "evil.example"),
        (31, "c2.bad-actor.example"),
        (34, "_dmarc.spoof.example"),
        (37, "xn--bcher-kva.example"),
    ] {
        let parsed = by_sid[&(BASE + key)];
        assert_eq!(parsed["proto"], "dns");
        assert_eq!(
            content_bytes(rule_options(parsed, "content")[0]),
            format!(".{domain}").into_bytes()
        );
        let msg = unescape(rule_options(parsed, "msg")[0]);
        assert!(
            msg.starts_with(&format!(
                "Rampart spam: DNS query for listed domain {domain} - "
            )),
            "{msg}"
        );
        if domain == "evil.example" {
            assert_eq!(
                msg,
                format!(
                    "Rampart spam: DNS query for listed domain evil.example - {HOSTILE_NEUTRALISED}"
                )
            );
        }
    }
    for (key, host, uri) in [
        (40, "phish.example", "/login.php?user=a;b|c"),
        (43, "drop.example", "/p/a+b(1)"),
        (46, "198.51.100.9", "/gate.php"),
        (49, "root.example", "/"),
    ] {
        let parsed = by_sid[&(BASE + key)];
        let contents = rule_options(parsed, "content");
        assert_eq!(content_bytes(contents[0]), host.as_bytes(), "{parsed}");
        assert_eq!(content_bytes(contents[1]), uri.as_bytes(), "{parsed}");
        let msg = unescape(rule_options(parsed, "msg")[0]);
        assert!(
            msg.starts_with("Rampart spam: HTTP request for listed URL http"),
            "{msg}"
        );
    }

    // suricata-check reads the same file: every rule must reach its checks, no mandatory option
    // may be missing. Its header regex knows no IPv6 addresses, so it calls the IPv6
    // address-list rule invalid: that rule, and only that one, is left out.
    let checker = python.with_file_name("suricata-check");
    let report = directory.path().join("report");
    let output = run(Command::new(&checker)
        .arg("-r")
        .arg(&path)
        .arg("-o")
        .arg(&report));
    assert!(output.status.success(), "{}", text(&output));
    let log = std::fs::read_to_string(report.join("suricata-check.log")).unwrap();
    let errors: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" - ERROR - ") || line.contains("CRITICAL"))
        .collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(
        errors[0].contains("Invalid rule") && errors[0].contains("alert ip [2001:db8"),
        "{log}"
    );
    let checked = std::fs::read_to_string(report.join("suricata-check.jsonl")).unwrap();
    let checked: Vec<Value> = checked
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(checked.len(), rules.len() - 1);
    for entry in &checked {
        for issue in entry["issues"].as_array().unwrap() {
            let code = issue["code"].as_str().unwrap();
            assert!(
                !code.starts_with('M'),
                "mandatory-option issue {issue} in {}",
                entry["rule"]
            );
        }
    }
}

#[test]
fn suricata_dataset_rules_match_the_dataset_files() {
    let Some(python) = venv_python("suricata_dataset_rules_match_the_dataset_files") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let mut options = RenderOptions::default();
    options.suricata.ip_dataset_threshold = 3;
    let items = mixed_items();
    let rules_path = write(
        directory.path(),
        "spam.rules",
        &render(Format::Suricata, "spam", &options, &items).body,
    );
    let rules = parse_rules(&python, &rules_path);
    let by_sid = sids(&rules);
    // Four dataset rules (two families, two directions), the networks in header lists.
    for (sid, buffer, dataset) in [
        (
            BASE - 1,
            "ip.dst",
            "isset,spam-ipv4,type ipv4,load spam-ipv4.lst",
        ),
        (
            BASE - 2,
            "ip.src",
            "isset,spam-ipv4,type ipv4,load spam-ipv4.lst",
        ),
        (
            BASE - 3,
            "ip.dst",
            "isset,spam-ipv6,type ip,load spam-ipv6.lst",
        ),
        (
            BASE - 4,
            "ip.src",
            "isset,spam-ipv6,type ip,load spam-ipv6.lst",
        ),
    ] {
        let parsed = by_sid[&sid];
        assert!(
            parsed["options"]
                .as_array()
                .unwrap()
                .iter()
                .any(|option| option["name"] == buffer),
            "{parsed}"
        );
        assert_eq!(rule_options(parsed, "dataset"), [dataset]);
    }
    assert_eq!(
        header_addresses(&rules),
        ["203.0.113.0/24", "10.20.0.0/16", "2001:db8:abcd::/48"]
            .map(String::from)
            .into()
    );
    // The dataset files the rules load hold exactly the single addresses.
    for (format, expected) in [
        (
            Format::SuricataDatasetIpv4,
            vec!["192.0.2.200", "198.51.100.7"],
        ),
        (
            Format::SuricataDatasetIpv6,
            vec![
                "2001:db8::1:0:0:1",
                "2001:db8:0:1:1:1:1:1",
                "2001:db8::7",
                "::ffff:192.0.2.33",
            ],
        ),
    ] {
        let file = render(format, "spam", &options, &items);
        assert!(rules.iter().any(|parsed| {
            rule_options(parsed, "dataset")
                .first()
                .is_some_and(|dataset| {
                    dataset.ends_with(&format!("load {}", format.file_name("spam")))
                })
        }));
        assert_eq!(file.body.lines().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn snort_rules_parse_and_read_back() {
    let Some(python) = venv_python("snort_rules_parse_and_read_back") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let mut items = mixed_items();
    items.extend(hostile_items());
    let rendered = render(Format::Snort, "spam", &RenderOptions::default(), &items);
    assert_eq!(rendered.rejected.len(), 5, "{:?}", rendered.rejected);
    let path = write(directory.path(), "spam.snort.rules", &rendered.body);
    let rules = parse_rules(&python, &path);
    assert_eq!(rules.len(), 2 + 4 + 4, "{}", rendered.body);
    let by_sid = sids(&rules);
    assert_eq!(header_addresses(&rules), all_addresses());
    for (key, domain) in [
        (28, "evil.example"),
        (31, "c2.bad-actor.example"),
        (34, "_dmarc.spoof.example"),
    ] {
        let parsed = by_sid[&(BASE + key)];
        assert_eq!(
            (parsed["proto"].as_str(), parsed["dest_addr"].as_str()),
            (Some("udp"), Some("any"))
        );
        // The DNS wire form: each label after its length byte, then the root's zero byte.
        let wire = content_bytes(rule_options(parsed, "content")[0]);
        let mut labels = Vec::new();
        let mut rest = wire.as_slice();
        while let [length, tail @ ..] = rest {
            if *length == 0 {
                assert!(tail.is_empty());
                break;
            }
            let (label, after) = tail.split_at(usize::from(*length));
            labels.push(String::from_utf8(label.to_vec()).unwrap());
            rest = after;
        }
        assert_eq!(labels.join("."), domain);
    }
    let msg = unescape(rule_options(by_sid[&(BASE + 28)], "msg")[0]);
    assert_eq!(
        msg,
        "Rampart spam: DNS query for listed domain evil.example - reason , INJECTED 'q' , sid:1,) } # / |x| $y"
    );
    let url_rule = by_sid[&(BASE + 40)];
    let contents = rule_options(url_rule, "content");
    assert_eq!(content_bytes(contents[0]), b"phish.example");
    assert_eq!(content_bytes(contents[1]), b"/login.php?user=a;b|c");
}
