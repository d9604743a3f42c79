//! The STIX format over the real third-party corpus (`../shared/data/stix`): every object
//! accounted for, every example indicator pattern parsed, the ATT&CK ICS bundle kept whole.
//!
//! Expected numbers are counted here independently with `serde_json::Value`, and the fixed
//! ones were checked with Python's `json` module over the same files (see each constant).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rampart_intel::formats::stix::{StixFormat, StixStats, pattern};
use rampart_intel::formats::{CollectSink, FormatError};
use rampart_model::IndicatorKind;
use serde_json::Value;

/// Indicator objects in `cti-stix2-json-schemas/examples` and `cti-documentation/examples`
/// (the data README says 48; `python3`: sum of `type == "indicator"` over both trees).
const EXAMPLE_INDICATORS: usize = 48;
/// Objects in `ics-attack-18.1.json` (data README and `len(bundle["objects"])`).
const ICS_OBJECTS: usize = 1826;
/// Attack patterns in the ICS bundle; each has a `mitre-attack`/`mitre-ics-attack` `T….` id.
const ICS_ATTACK_PATTERNS: usize = 95;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn corpus_files(data: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [
        "stix/cti-stix2-json-schemas/examples",
        "stix/cti-documentation/examples",
        "stix/attack-stix-data",
    ] {
        json_files(&data.join(dir), &mut files);
    }
    files
}

/// The STIX objects of a document as plain JSON: a bundle's `objects`, an array, or a bare
/// object; `None` for JSON that is none of these.
fn independent_objects(document: &Value) -> Option<Vec<&Value>> {
    match document {
        Value::Array(items) => Some(items.iter().collect()),
        Value::Object(map) => match map.get("objects") {
            Some(Value::Array(items)) => Some(items.iter().collect()),
            _ if map.get("type").is_some_and(Value::is_string) => Some(vec![document]),
            _ => None,
        },
        _ => None,
    }
}

fn parse(path: &Path) -> (CollectSink, Result<StixStats, FormatError>) {
    let bytes = std::fs::read(path).expect("read corpus file");
    let mut sink = CollectSink::default();
    let result = StixFormat.parse_counted(&mut bytes.as_slice(), &mut sink);
    (sink, result)
}

#[test]
fn every_corpus_object_is_accounted_for() {
    let Some(data) = rampart_testkit::corpus("stix_corpus_every_object") else {
        return;
    };
    let files = corpus_files(&data);
    assert!(
        files.len() >= 19,
        "expected the 16 example bundles and 3 ATT&CK files, found {}",
        files.len()
    );
    let mut example_indicators = 0;
    let mut documents = 0;
    for path in &files {
        let name = path
            .strip_prefix(&data)
            .unwrap_or(path)
            .display()
            .to_string();
        let document: Value =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("corpus is JSON");
        let (sink, result) = parse(path);
        let Some(expected) = independent_objects(&document) else {
            // attack-stix-data/index.json is a collection index, not STIX.
            assert!(
                matches!(result, Err(FormatError::Invalid(_))),
                "{name}: {result:?}"
            );
            println!(
                "{name}: not a STIX document ({})",
                result.err().map(|e| e.to_string()).unwrap_or_default()
            );
            continue;
        };
        let stats = result.unwrap_or_else(|err| panic!("{name}: {err}"));
        documents += 1;
        assert_eq!(stats.objects as usize, expected.len(), "{name}");
        assert_eq!(
            sink.objects.len() + stats.rejected_objects as usize,
            expected.len(),
            "{name}"
        );
        // Every id is either kept or named by a rejection; observations only name ids that
        // exist in the document.
        let kept: BTreeSet<&str> = sink.objects.iter().map(|o| o.id.as_str()).collect();
        let rejected: BTreeSet<&str> = sink
            .rejections
            .iter()
            .map(|r| r.reference.as_str())
            .collect();
        let ids: BTreeSet<&str> = expected.iter().filter_map(|o| o["id"].as_str()).collect();
        for id in &ids {
            assert!(
                kept.contains(id) || rejected.contains(id),
                "{name}: {id} lost"
            );
        }
        for observation in &sink.observations {
            assert!(
                ids.contains(observation.reference.as_str()),
                "{name}: {}",
                observation.reference
            );
        }
        let pattern_rejections: Vec<_> = sink
            .rejections
            .iter()
            .filter(|r| r.reason.starts_with("pattern"))
            .collect();
        assert!(
            pattern_rejections.is_empty(),
            "{name}: {pattern_rejections:?}"
        );
        // Each example pattern also prints back to a pattern that parses to the same tree.
        for object in sink.objects.iter().filter(|o| o.object_type == "indicator") {
            let Some(source) = object.body["pattern"].as_str() else {
                continue;
            };
            let parsed =
                pattern::parse(source).unwrap_or_else(|err| panic!("{name}: {source}: {err}"));
            assert_eq!(
                pattern::parse(&parsed.to_string()).as_ref(),
                Ok(&parsed),
                "{name}: {source}"
            );
        }
        let indicators = expected.iter().filter(|o| o["type"] == "indicator").count();
        assert_eq!(stats.indicators as usize, indicators, "{name}");
        if !name.contains("attack-stix-data") {
            example_indicators += indicators;
        }
        println!(
            "{name}: {} objects, {} indicators ({} without matchable values, {} not enforced as written), \
             {} observations, {} rejections",
            stats.objects,
            stats.indicators,
            stats.patterns_without_values,
            stats.patterns_unenforced,
            stats.observations,
            sink.rejections.len()
        );
    }
    assert_eq!(example_indicators, EXAMPLE_INDICATORS);
    println!("{documents} documents; {example_indicators} example indicator patterns, all parsed");
}

#[test]
fn example_indicators_yield_their_values() {
    let Some(data) = rampart_testkit::corpus("stix_corpus_example_values") else {
        return;
    };
    let reports = data.join("stix/cti-stix2-json-schemas/examples/threat-reports");

    let (apt1, _) = parse(&reports.join("apt1.json"));
    let values: BTreeSet<(IndicatorKind, String)> = apt1
        .observations
        .iter()
        .map(|o| (o.indicator.kind(), o.indicator.value().to_owned()))
        .collect();
    // 4 CIDRs, 3 domains and 3 MD5s; the two x509-certificate patterns name nothing matchable.
    assert_eq!(values.len(), 10);
    assert!(values.contains(&(IndicatorKind::Cidr, "223.166.0.0/15".into())));
    assert!(values.contains(&(
        IndicatorKind::Md5,
        "001dd76872d80801692ff942308c64e6".into()
    )));
    let x509 = apt1
        .objects
        .iter()
        .filter(|o| o.object_type == "indicator")
        .filter(|o| {
            o.body["pattern"]
                .as_str()
                .is_some_and(|p| p.contains("x509"))
        })
        .count();
    assert_eq!(
        x509, 2,
        "indicators without matchable values are kept as context"
    );

    let (poisonivy, _) = parse(&reports.join("poisonivy.json"));
    let values: BTreeSet<(IndicatorKind, String)> = poisonivy
        .observations
        .iter()
        .map(|o| (o.indicator.kind(), o.indicator.value().to_owned()))
        .collect();
    // 43 distinct domain/IP values in the patterns (Python regex over them), one of which,
    // 'domain autuo.xicp.net', is not a domain name and is rejected as a value.
    assert_eq!(values.len(), 42);
    let value_rejections: Vec<_> = poisonivy
        .rejections
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert_eq!(value_rejections.len(), 1, "{value_rejections:?}");
    assert!(value_rejections[0].contains("domain autuo.xicp.net"));
    // Patterns that OR observable values together are enforceable as a set.
    let enforced = poisonivy
        .observations
        .iter()
        .filter(|o| o.pattern.as_ref().is_some_and(|p| p.unenforced.is_none()));
    assert!(enforced.count() > 30);

    let (marked, _) = parse(
        &data.join("stix/cti-documentation/examples/example_json/using-marking-definitions.json"),
    );
    assert_eq!(marked.observations.len(), 1);
    assert_eq!(marked.observations[0].tlp, Some(rampart_model::Tlp::Amber));
}

#[test]
fn ics_attack_bundle_is_kept_whole() {
    let Some(data) = rampart_testkit::corpus("stix_corpus_ics_attack") else {
        return;
    };
    let path = data.join("stix/attack-stix-data/ics-attack/ics-attack-18.1.json");
    let document: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let expected = independent_objects(&document).expect("a bundle");
    assert_eq!(expected.len(), ICS_OBJECTS);
    let (sink, result) = parse(&path);
    let stats = result.expect("ics bundle parses");
    assert_eq!(sink.objects.len(), ICS_OBJECTS);
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections.first());
    assert_eq!(stats.observations, 0);

    // Object types, custom x-mitre-* ones included, are kept with their counts.
    let mut expected_types: HashMap<&str, usize> = HashMap::new();
    for object in &expected {
        *expected_types
            .entry(object["type"].as_str().unwrap_or(""))
            .or_default() += 1;
    }
    let mut kept_types: HashMap<&str, usize> = HashMap::new();
    for object in &sink.objects {
        *kept_types.entry(object.object_type.as_str()).or_default() += 1;
    }
    assert_eq!(kept_types, expected_types);
    assert_eq!(kept_types["attack-pattern"], ICS_ATTACK_PATTERNS);
    assert_eq!(kept_types["x-mitre-tactic"], 12);

    // Custom x_mitre_* properties survive in the bodies.
    let with_custom = |objects: &mut dyn Iterator<Item = &Value>| {
        objects
            .filter(|o| {
                o.as_object()
                    .is_some_and(|m| m.keys().any(|k| k.starts_with("x_mitre_")))
            })
            .count()
    };
    let expected_custom = with_custom(&mut expected.iter().copied());
    assert!(expected_custom > 1800);
    assert_eq!(
        with_custom(&mut sink.objects.iter().map(|o| &o.body)),
        expected_custom
    );
    for (kept, original) in sink.objects.iter().zip(&expected) {
        assert_eq!(&&kept.body, original, "{} changed", kept.id);
    }

    // Every attack pattern carries its technique id, and only attack patterns do.
    let techniques: Vec<_> = sink
        .objects
        .iter()
        .filter(|o| o.attack_id.is_some())
        .collect();
    assert_eq!(techniques.len(), ICS_ATTACK_PATTERNS);
    assert!(techniques.iter().all(|o| o.object_type == "attack-pattern"));
    assert!(techniques.iter().all(|o| {
        o.attack_id
            .as_ref()
            .is_some_and(|id| id.as_str().starts_with("T0"))
    }));
    let revoked_expected = expected.iter().filter(|o| o["revoked"] == true).count();
    assert_eq!(
        sink.objects.iter().filter(|o| o.revoked).count(),
        revoked_expected
    );
}

#[test]
fn round_trip_through_json_keeps_ids() {
    let Some(data) = rampart_testkit::corpus("stix_corpus_round_trip") else {
        return;
    };
    for path in corpus_files(&data) {
        let (first, result) = parse(&path);
        if result.is_err() {
            continue;
        }
        let bodies: Vec<&Value> = first.objects.iter().map(|o| &o.body).collect();
        let bundle =
            serde_json::json!({"type": "bundle", "id": "bundle--round-trip", "objects": bodies});
        let text = serde_json::to_vec(&bundle).expect("serialise");
        let mut second = CollectSink::default();
        StixFormat
            .parse_counted(&mut text.as_slice(), &mut second)
            .expect("parse again");
        let ids = |sink: &CollectSink| {
            sink.objects
                .iter()
                .map(|o| o.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&first), ids(&second), "{}", path.display());
        assert_eq!(
            first.observations,
            second.observations,
            "{}",
            path.display()
        );
        assert_eq!(first.objects, second.objects, "{}", path.display());
    }
}
