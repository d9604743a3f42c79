//! The SigmaHQ corpus: every rule is compiled or listed with a reason, and every regression
//! event SigmaHQ ships matches the rule it was recorded for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rampart_detect::sigma::{Config, RuleSet};
use rampart_detect::{Event, EventRef, Locator};

const RULE_FOLDERS: [&str; 3] = ["rules", "rules-threat-hunting", "rules-emerging-threats"];

fn rule_dirs(data: &Path) -> Vec<PathBuf> {
    RULE_FOLDERS
        .iter()
        .map(|f| data.join("sigma").join(f))
        .collect()
}

fn files_named(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_named(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// The EVTX events, as `evtx_dump` renders them, in a regression `.json` file (a few files hold
/// more than one record, one JSON document after another).
pub fn evtx_events(path: &Path) -> Vec<Event> {
    let text = std::fs::read_to_string(path).expect("regression event readable");
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .enumerate()
        .map(|(index, value)| {
            let value =
                value.unwrap_or_else(|e| panic!("{}: record {}: {e}", path.display(), index + 1));
            Event {
                reference: EventRef {
                    source: path.display().to_string(),
                    locator: Locator::Record(index as u64 + 1),
                },
                format: "evtx".into(),
                time: None,
                fields: value.as_object().cloned().expect("event is an object"),
            }
        })
        .collect()
}

#[test]
fn every_sigmahq_rule_is_compiled_or_listed_with_a_reason() {
    let Some(data) =
        rampart_testkit::corpus("every_sigmahq_rule_is_compiled_or_listed_with_a_reason")
    else {
        return;
    };
    let dirs = rule_dirs(&data);
    let mut files = Vec::new();
    for dir in &dirs {
        files_named(
            dir,
            &|p| p.extension().is_some_and(|e| e == "yml"),
            &mut files,
        );
    }
    assert_eq!(files.len(), 3754, "the corpus holds 3,754 rule files");
    let (rules, failures) = RuleSet::load_dir(&dirs, &Config::default());
    for failure in &failures {
        println!(
            "not compiled: {} ({}): {}",
            failure.path.display(),
            failure.id.as_deref().unwrap_or("-"),
            failure.reason
        );
    }
    let compiled = rules.len();
    println!("compiled {compiled}, failed {}", failures.len());
    assert_eq!(compiled + failures.len(), 3754);
    assert!(
        compiled * 100 >= 3754 * 99,
        "only {compiled} of 3,754 rules compiled"
    );
    // Every failure names its file and says why.
    assert!(
        failures
            .iter()
            .all(|f| f.path.is_file() && !f.reason.is_empty())
    );
    let unrouted = rules.rules().filter(|r| !r.routed).count();
    println!("rules whose logsource no mapping covers (generic events only): {unrouted}");
}

#[test]
fn every_regression_event_matches_its_rule() {
    let Some(data) = rampart_testkit::corpus("every_regression_event_matches_its_rule") else {
        return;
    };
    let (rules, _) = RuleSet::load_dir(&rule_dirs(&data), &Config::default());
    let by_id: HashMap<String, usize> = rules
        .rules()
        .enumerate()
        .filter_map(|(i, r)| r.id.clone().map(|id| (id, i)))
        .collect();
    let mut events = Vec::new();
    files_named(
        &data.join("sigma/regression_data"),
        &|p| p.extension().is_some_and(|e| e == "json"),
        &mut events,
    );
    events.sort();
    assert_eq!(events.len(), 202);
    let mut missed = Vec::new();
    for path in &events {
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let Some(&rule) = by_id.get(&id) else {
            missed.push(format!("{}: rule {id} not compiled", path.display()));
            continue;
        };
        let events = evtx_events(path);
        if !events
            .iter()
            .any(|event| rules.matches(event).iter().any(|m| m.rule == rule))
        {
            missed.push(format!("{}: rule {id} did not match", path.display()));
        }
    }
    for line in &missed {
        println!("{line}");
    }
    assert!(
        missed.is_empty(),
        "{} of 202 regression events missed",
        missed.len()
    );
}

#[test]
fn rules_of_one_logsource_category_do_not_match_events_of_another() {
    let Some(data) =
        rampart_testkit::corpus("rules_of_one_logsource_category_do_not_match_events_of_another")
    else {
        return;
    };
    let (rules, _) = RuleSet::load_dir(&rule_dirs(&data), &Config::default());
    // Event ids each category may see, written here apart from the mapping files.
    let allowed: HashMap<&str, &[u64]> = HashMap::from([
        ("process_creation", &[1u64, 4688][..]),
        ("file_event", &[11][..]),
        ("image_load", &[7][..]),
        ("registry_set", &[13][..]),
        ("network_connection", &[3][..]),
        ("ps_script", &[4104][..]),
        ("pipe_created", &[17, 18][..]),
    ]);
    let mut events = Vec::new();
    files_named(
        &data.join("sigma/regression_data"),
        &|p| p.extension().is_some_and(|e| e == "json"),
        &mut events,
    );
    let mut checked = 0;
    let mut relabelled_matches = 0;
    for path in &events {
        for mut event in evtx_events(path) {
            let event_id = event
                .get("Event.System.EventID")
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.get("#text").and_then(|t| t.as_u64()))
                })
                .unwrap_or(0);
            for found in rules.matches(&event) {
                let category = rules
                    .rule(found.rule)
                    .and_then(|r| r.logsource.category.clone());
                if let Some(ids) = category.as_deref().and_then(|c| allowed.get(c)) {
                    checked += 1;
                    assert!(
                        ids.contains(&event_id),
                        "{} ({category:?}) matched event id {event_id} in {}",
                        found.rule_id,
                        path.display()
                    );
                }
            }
            // The same process creation presented as a Sysmon file event (id 11) must no
            // longer be seen by any process_creation rule.
            if event_id == 1
                && let Some(system) = event
                    .fields
                    .get_mut("Event")
                    .and_then(|e| e.get_mut("System"))
                    .and_then(|s| s.as_object_mut())
            {
                system.insert("EventID".into(), serde_json::json!(11));
                relabelled_matches += rules
                    .matches(&event)
                    .iter()
                    .filter(|m| {
                        rules
                            .rule(m.rule)
                            .and_then(|r| r.logsource.category.as_deref())
                            == Some("process_creation")
                    })
                    .count();
            }
        }
    }
    assert!(checked > 150, "only {checked} matches checked");
    assert_eq!(relabelled_matches, 0);
}
