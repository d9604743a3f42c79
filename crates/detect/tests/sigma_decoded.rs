//! Events as the decoders produce them reach the Sigma rules meant for them: the format names
//! the decoders set (`evtx`, `jsonl.windows`) are the ones the Sigma layouts and logsource
//! mappings expect.

use std::path::{Path, PathBuf};

use rampart_detect::decode::{self, Collect, Options};
use rampart_detect::sigma::{Config, RuleSet};

/// Every SigmaHQ rule set (emerging threats are filed by year, not product, so all of it).
fn sigmahq_rules(data: &Path) -> RuleSet {
    let dirs: Vec<PathBuf> = ["rules", "rules-threat-hunting", "rules-emerging-threats"]
        .iter()
        .map(|folder| data.join("sigma").join(folder))
        .collect();
    let (rules, _) = RuleSet::load_dir(&dirs, &Config::default());
    rules
}

fn files_with_extension(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_with_extension(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// SigmaHQ names each regression `.evtx` file after the rule it was recorded for.
#[test]
fn regression_evtx_files_decoded_by_the_evtx_decoder_fire_their_rules() {
    let Some(data) = rampart_testkit::corpus(
        "regression_evtx_files_decoded_by_the_evtx_decoder_fire_their_rules",
    ) else {
        return;
    };
    let rules = sigmahq_rules(&data);
    let mut files = Vec::new();
    files_with_extension(&data.join("sigma/regression_data"), "evtx", &mut files);
    files.sort();
    assert!(files.len() >= 19, "{} regression evtx files", files.len());
    let mut missed = Vec::new();
    for file in &files {
        let rule_id = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file named by rule id");
        let mut sink = Collect::default();
        decode::decode_path(file, &Options::default(), &mut sink).expect("evtx decodes");
        assert!(
            sink.errors.is_empty(),
            "{}: {:?}",
            file.display(),
            sink.errors
        );
        assert!(!sink.events.is_empty(), "{} has no events", file.display());
        assert!(sink.events.iter().all(|e| e.format == "evtx"));
        let fired = sink
            .events
            .iter()
            .any(|event| rules.matches(event).iter().any(|m| m.rule_id == rule_id));
        if !fired {
            missed.push(file.display().to_string());
        }
    }
    assert!(
        missed.is_empty(),
        "rules not fired by their evtx files: {missed:#?}"
    );
}

/// Security-Datasets exports Windows events as flat JSON lines; the decoder calls them
/// `jsonl.windows`, and the Windows rules must see them (not only the generic layout).
#[test]
fn security_datasets_windows_json_lines_reach_the_windows_rules() {
    let Some(data) =
        rampart_testkit::corpus("security_datasets_windows_json_lines_reach_the_windows_rules")
    else {
        return;
    };
    let rules = sigmahq_rules(&data);
    let file = data.join(
        "logs/security-datasets/atomic/windows/execution/host/psh_powershell_httplistener/\
         psh_powershell_httplistener_2020-11-0204130683.json",
    );
    let mut sink = Collect::default();
    decode::decode_path(&file, &Options::default(), &mut sink).expect("json lines decode");
    let cleared: Vec<_> = sink
        .events
        .iter()
        .filter(|e| e.get("EventID").and_then(|v| v.as_u64()) == Some(1102))
        .collect();
    assert_eq!(cleared.len(), 1, "one audit-log-cleared event in the file");
    assert_eq!(cleared[0].format, "jsonl.windows");
    let matched: Vec<String> = rules
        .matches(cleared[0])
        .into_iter()
        .map(|m| m.rule_id)
        .collect();
    // "Security Eventlog Cleared" (product windows, service security, EventID 1102).
    assert!(
        matched
            .iter()
            .any(|id| id == "d99b79d2-0a6f-4f46-ad8b-260b6e17f982"),
        "matched {matched:?}"
    );
    // An event of another channel is not routed to Security rules.
    let sysmon = sink
        .events
        .iter()
        .find(|e| e.get_str("Channel") == Some("Microsoft-Windows-Sysmon/Operational"));
    if let Some(sysmon) = sysmon {
        assert!(
            rules
                .matches(sysmon)
                .iter()
                .all(|m| m.rule_id != "d99b79d2-0a6f-4f46-ad8b-260b6e17f982")
        );
    }
}

/// EVTX renders unnamed `<Data>` elements as `{"#text": [..]}`; each string is a value of
/// the `Data` field (SigmaHQ's MSExchange rules read it).
#[test]
fn unnamed_evtx_data_elements_are_values_of_the_data_field() {
    let rule = r#"
title: Transport agent installed
id: 00000000-0000-4000-8000-00000000da7a
logsource: {product: windows, service: msexchange-management}
detection:
    selection:
        EventID: 6
        Data|contains: 'Install-TransportAgent'
    condition: selection
"#;
    let (rules, failures) = RuleSet::from_yaml("data.yml", rule, &Config::default());
    assert!(failures.is_empty(), "{failures:?}");
    let event = |data: serde_json::Value| rampart_detect::Event {
        reference: rampart_detect::EventRef::line("exchange.evtx", 1),
        format: "evtx".into(),
        time: None,
        fields: serde_json::json!({"Event": {
            "System": {"Channel": "MSExchange Management", "EventID": 6},
            "EventData": {"Data": data}
        }})
        .as_object()
        .cloned()
        .unwrap_or_default(),
    };
    let listed = event(serde_json::json!({"#text": ["-Name Evil", "install-transportagent"]}));
    assert_eq!(rules.matches(&listed).len(), 1);
    let other = event(serde_json::json!({"#text": ["Get-Mailbox", "-Identity x"]}));
    assert!(rules.matches(&other).is_empty());
}
