//! STIX export: the bundle passes the OASIS validator, and reads back through the STIX format
//! as the same indicators.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use rampart_intel::export::{self, ExportItem};
use rampart_intel::formats::{CollectSink, Format, stix::StixFormat};
use rampart_model::{AttackId, Indicator, IndicatorKind, Reliability, Timestamp, Tlp};
use rampart_store::{SourceStatement, StoredIndicator};

fn at(text: &str) -> Timestamp {
    text.parse().expect("test timestamp")
}

fn statement(source: &str, tlp: Tlp, labels: &[&str]) -> SourceStatement {
    SourceStatement {
        source: source.into(),
        reliability: Reliability::B,
        first_seen: at("2024-03-01T10:00:00.123456Z"),
        last_seen: at("2024-03-05T12:30:00Z"),
        confidence: 70,
        tlp,
        labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        techniques: vec!["T1566.001".parse::<AttackId>().expect("technique")],
        threats: vec!["Emotet".into()],
        reference: "indicator--source".into(),
        valid_until: None,
        revoked: false,
        withdrawn_at: None,
        direction: None,
        port: None,
        pattern: None,
    }
}

/// One indicator of every kind (CIDR in both families), with values that need escaping in
/// patterns, every TLP, and one indicator with two sources.
fn items() -> Vec<ExportItem> {
    let long_hash = "ab".repeat(64);
    let values = [
        (IndicatorKind::Ipv4, "203.0.113.7"),
        (IndicatorKind::Ipv6, "2001:db8::7"),
        (IndicatorKind::Cidr, "198.51.100.0/24"),
        (IndicatorKind::Cidr, "2001:db8:1::/48"),
        (IndicatorKind::Domain, "evil.example"),
        (
            IndicatorKind::Url,
            r"http://evil.example/it's/a%5Cpath?q='x'\y",
        ),
        (IndicatorKind::Email, "o'brien@evil.example"),
        (IndicatorKind::Md5, "001dd76872d80801692ff942308c64e6"),
        (
            IndicatorKind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            IndicatorKind::Sha256,
            "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
        ),
        (IndicatorKind::Sha512, long_hash.as_str()),
    ];
    let tlps = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];
    values
        .iter()
        .enumerate()
        .map(|(index, (kind, raw))| {
            let indicator = Indicator::parse(*kind, raw).expect("test indicator");
            let mut sources = vec![statement(
                "feed-a",
                tlps[index % tlps.len()],
                &["c2", "kill-chain:delivery"],
            )];
            if index == 0 {
                let mut second = statement("feed-b", Tlp::Red, &["botnet", "c2"]);
                second.valid_until = Some(at("2025-01-01T00:00:00Z"));
                sources.push(second);
            }
            if index == 1 {
                sources[0].valid_until = Some(at("2024-12-01T00:00:00Z"));
            }
            ExportItem {
                indicator: StoredIndicator {
                    id: index as i64 + 1,
                    indicator,
                    first_seen: at("2024-03-01T10:00:00.123456Z"),
                    suppressed: None,
                    sources,
                },
                score: 40 + index as u8,
            }
        })
        .collect()
}

fn export(items: &[ExportItem]) -> Vec<u8> {
    let mut exporter = export::by_name("stix").expect("stix exporter");
    let mut out = Vec::new();
    exporter.begin(&mut out).expect("begin");
    for item in items {
        exporter.item(item, &mut out).expect("item");
    }
    exporter.end(&mut out).expect("end");
    out
}

/// `$RAMPART_STIX_VALIDATOR`, else `.venv-stix/bin/stix2_validator` in the workspace.
fn validator() -> Option<PathBuf> {
    let path = match std::env::var_os("RAMPART_STIX_VALIDATOR") {
        Some(path) => PathBuf::from(path),
        None => rampart_testkit::workspace_root().join(".venv-stix/bin/stix2_validator"),
    };
    path.is_file().then_some(path)
}

#[test]
fn exported_bundle_passes_the_oasis_validator() {
    let Some(validator) = validator() else {
        rampart_testkit::skip_service(
            "exported_bundle_passes_the_oasis_validator",
            "stix2-validator",
            "install it with `python3 -m venv .venv-stix && .venv-stix/bin/pip install stix2-validator` \
             or set RAMPART_STIX_VALIDATOR",
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let full = dir.path().join("export.json");
    std::fs::write(&full, export(&items())).expect("write export");
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, export(&[])).expect("write empty export");
    for file in [&full, &empty] {
        // --strict turns the validator's best-practice warnings into failures too, except
        // 103 ("not a valid UUIDv4 ID"): ids are UUIDv5 on purpose, so that a re-export
        // updates an indicator instead of duplicating it (STIX 2.1 section 2.9 requires an
        // RFC 4122 UUID and only recommends v4).
        let output = Command::new(&validator)
            .args(["--strict", "--disable", "103"])
            .arg(file)
            .output()
            .expect("run stix2_validator");
        let report = String::from_utf8_lossy(&output.stdout);
        println!("{report}{}", String::from_utf8_lossy(&output.stderr));
        assert!(
            output.status.success(),
            "{} is not valid STIX 2.1:\n{report}",
            file.display()
        );
        assert!(report.contains("STIX JSON: Valid"), "{report}");
    }
}

#[test]
fn export_reads_back_as_the_same_indicators() {
    let items = items();
    let bundle = export(&items);
    let document: serde_json::Value = serde_json::from_slice(&bundle).expect("export is JSON");
    let objects = document["objects"].as_array().expect("objects");
    let markings: Vec<&str> = objects
        .iter()
        .filter(|o| o["type"] == "marking-definition")
        .filter_map(|o| o["id"].as_str())
        .collect();
    // Each TLP in use appears once: all five levels.
    assert_eq!(markings.len(), 5);
    assert_eq!(markings.iter().collect::<BTreeSet<_>>().len(), 5);

    let mut sink = CollectSink::default();
    StixFormat
        .parse(&mut bundle.as_slice(), &mut sink)
        .expect("parse export");
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections);
    let expected: BTreeSet<(IndicatorKind, String)> = items
        .iter()
        .map(|item| {
            (
                item.indicator.indicator.kind(),
                item.indicator.indicator.value().to_owned(),
            )
        })
        .collect();
    let read: BTreeSet<(IndicatorKind, String)> = sink
        .observations
        .iter()
        .map(|o| (o.indicator.kind(), o.indicator.value().to_owned()))
        .collect();
    assert_eq!(read, expected);
    assert_eq!(sink.observations.len(), items.len());

    for (item, observation) in items.iter().zip(&sink.observations) {
        let stored = &item.indicator;
        assert_eq!(observation.indicator, stored.indicator);
        assert_eq!(observation.tlp, Some(stored.tlp()));
        assert_eq!(observation.confidence, Some(item.score));
        assert_eq!(observation.first_seen, Some(at("2024-03-01T10:00:00.123Z")));
        assert_eq!(observation.last_seen, Some(at("2024-03-05T12:30:00Z")));
        assert!(
            observation
                .labels
                .contains(&"kill-chain:delivery".to_owned())
        );
        assert!(
            observation
                .labels
                .contains(&"malicious-activity".to_owned())
        );
        assert_eq!(
            observation
                .pattern
                .as_ref()
                .and_then(|p| p.unenforced.clone()),
            None
        );
    }
    // Only an indicator whose every source gives an end gets `valid_until`.
    assert_eq!(sink.observations[0].valid_until, None);
    assert_eq!(
        sink.observations[1].valid_until,
        Some(at("2024-12-01T00:00:00Z"))
    );
    // ATT&CK techniques travel as external references.
    assert_eq!(
        objects[1]["external_references"][0]["external_id"],
        "T1566.001"
    );
    // Exporting again gives the same object ids in a new bundle.
    let again: serde_json::Value = serde_json::from_slice(&export(&items)).expect("json");
    let ids = |doc: &serde_json::Value| -> Vec<String> {
        doc["objects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(ids(&document), ids(&again));
    assert_ne!(document["id"], again["id"], "each export is its own bundle");
}
