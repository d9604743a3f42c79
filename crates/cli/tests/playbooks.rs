//! The shipped playbook library: it loads with the example configuration, and every scenario
//! under `playbooks/tests/` (a subject in, the actions it must plan out) holds when run through
//! `rampart playbook test`, the command users run on their own playbooks.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Rampart, json};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `actual` has everything `expected` has: objects key by key, arrays item by item
/// with the same length, scalars equal.
fn contains(actual: &Value, expected: &Value, path: &str, problems: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => {
            for (key, wanted) in expected {
                match actual.get(key) {
                    Some(found) => contains(found, wanted, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key} is missing")),
                }
            }
        }
        (Value::Array(actual), Value::Array(expected)) => {
            if actual.len() != expected.len() {
                problems.push(format!(
                    "{path} has {} items, expected {}",
                    actual.len(),
                    expected.len()
                ));
                return;
            }
            for (index, (found, wanted)) in actual.iter().zip(expected).enumerate() {
                contains(found, wanted, &format!("{path}[{index}]"), problems);
            }
        }
        _ if actual == expected => {}
        _ => problems.push(format!("{path} is {actual}, expected {expected}")),
    }
}

#[test]
fn the_library_loads_with_the_example_configuration() {
    let rampart = Rampart::new();
    let config = repository().join("rampart.example.toml");
    let output = rampart.run(&[
        "--config",
        config.to_str().unwrap(),
        "--json",
        "playbook",
        "check",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&stdout);
    let mut names: Vec<&str> = report["playbooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "brute-force-scanner",
            "c2-beaconing",
            "malware-hash",
            "phishing-campaign"
        ]
    );
}

#[test]
fn every_scenario_of_the_library_plans_what_it_expects() {
    let rampart = Rampart::new();
    let config = repository().join("rampart.example.toml");
    let scenarios = repository().join("playbooks/tests");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&scenarios)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "scenarios in {}", scenarios.display());
    let mut failures = Vec::new();
    for file in &files {
        let scenario: Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let event = rampart.write("event.json", &scenario["event"].to_string());
        let playbook = repository()
            .join("playbooks")
            .join(scenario["playbook"].as_str().unwrap());
        let output = rampart.run(&[
            "--config",
            config.to_str().unwrap(),
            "--json",
            "playbook",
            "test",
            playbook.to_str().unwrap(),
            "--event",
            &event,
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let report = json(&stdout);
        let mut problems = Vec::new();
        contains(&report, &scenario["expect"], "", &mut problems);
        if let Some(wanted) = scenario["error_contains"].as_str()
            && !report["error"]
                .as_str()
                .is_some_and(|error| error.contains(wanted))
        {
            problems.push(format!("error {} lacks {wanted:?}", report["error"]));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n  got {report}",
                file.display(),
                problems.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
