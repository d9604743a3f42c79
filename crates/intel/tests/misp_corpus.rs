//! The MISP format over the real events and feed files in the shared corpus (`misp/events/`,
//! `misp/feed-format/`): nothing panics, every attribute is accounted for, and facts checked
//! by hand (with a Python one-liner over the same files) hold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_intel::formats::misp::{
    MispFormat, MispStats, NOT_FOR_IDS_CONFIDENCE, NOT_FOR_IDS_LABEL,
};
use rampart_intel::formats::{CollectSink, FormatError};
use rampart_model::{IndicatorKind, Tlp};
use serde_json::Value;

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "json") {
            found.push(path);
        }
    }
}

fn parse(path: &Path) -> (Result<MispStats, FormatError>, CollectSink) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = std::io::BufReader::new(file);
    let mut sink = CollectSink::default();
    let result = MispFormat.parse_counted(&mut reader, &mut sink);
    (result, sink)
}

/// The events of a document, found without the parser: `{"Event": …}`, `{"response": […]}`,
/// a list, or an object with `Attribute`, `Object` or `info`.
fn events_of(document: &Value) -> Vec<&Value> {
    match document {
        Value::Object(map) if map.get("Event").is_some_and(Value::is_object) => vec![&map["Event"]],
        Value::Object(map) if map.get("response").is_some_and(Value::is_array) => map["response"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(events_of)
            .collect(),
        Value::Object(map)
            if ["Attribute", "Object", "info"]
                .iter()
                .any(|key| map.contains_key(*key)) =>
        {
            vec![document]
        }
        Value::Array(elements) => elements.iter().flat_map(events_of).collect(),
        _ => Vec::new(),
    }
}

/// Attributes of an event: its `Attribute` list plus every `Object[].Attribute` list.
fn attributes_of(event: &Value) -> Vec<&Value> {
    let mut attributes: Vec<&Value> = event["Attribute"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    for object in event["Object"].as_array().into_iter().flatten() {
        attributes.extend(object["Attribute"].as_array().into_iter().flatten());
    }
    attributes
}

fn corpus() -> Option<PathBuf> {
    rampart_testkit::corpus("misp_corpus").map(|data| data.join("misp"))
}

#[test]
fn every_event_file_parses_and_every_attribute_is_accounted_for() {
    let Some(misp) = corpus() else { return };
    let mut files = Vec::new();
    json_files(&misp.join("events"), &mut files);
    json_files(&misp.join("feed-format"), &mut files);
    files.sort();
    assert!(files.len() >= 35, "found only {} JSON files", files.len());

    let mut checked_with_attribute_count = 0;
    for path in &files {
        let name = path.strip_prefix(&misp).unwrap().display().to_string();
        let document: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let events = events_of(&document);
        let (result, sink) = parse(path);
        if events.is_empty() {
            // Not an event: must fail cleanly or report what it rejected; checked by name below.
            continue;
        }
        let stats = result.unwrap_or_else(|err| panic!("{name}: {err}"));
        let attributes: usize = events.iter().map(|event| attributes_of(event).len()).sum();
        assert_eq!(stats.events as usize, events.len(), "{name}: events");
        assert_eq!(stats.attributes as usize, attributes, "{name}: attributes");
        assert_eq!(
            stats.indicator_attributes + stats.skipped + stats.rejected,
            attributes as u64,
            "{name}: imported + skipped + rejected"
        );
        assert_eq!(
            stats.rejected as usize,
            sink.rejections.len(),
            "{name}: rejections reported"
        );
        assert_eq!(
            stats.observations as usize,
            sink.observations.len(),
            "{name}: observations sent"
        );
        if events.iter().any(|event| {
            event
                .get("attribute_count")
                .is_some_and(|count| !count.is_null())
        }) {
            checked_with_attribute_count += 1;
        }
    }
    // misp_event.json ×2, misp-core/event.json, existing_event, malware_exist, shadow,
    // galaxy_1, japanese_test, sighting_1, search_index_result.
    assert_eq!(checked_with_attribute_count, 10);
}

#[test]
fn documents_that_are_not_events_fail_or_reject_clearly() {
    let Some(misp) = corpus() else { return };
    let invalid = [
        "events/pymisp/mispevent_testfiles/simple.json",
        "events/pymisp/mispevent_testfiles/galaxy.json",
        "events/pymisp/mispevent_testfiles/overwrite_file/definition.json",
        "events/pymisp/mispevent_testfiles/test_object_template/definition.json",
        "feed-format/feed-metadata/schema.json",
    ];
    for name in invalid {
        let (result, sink) = parse(&misp.join(name));
        assert!(
            matches!(result, Err(FormatError::Invalid(_))),
            "{name}: {result:?}"
        );
        assert!(sink.observations.is_empty(), "{name}");
    }
    // `simple.json` is `{}`: an empty object is no event, and saying so beats importing nothing.
    let (result, _) = parse(&misp.join("events/pymisp/mispevent_testfiles/simple.json"));
    assert!(result.unwrap_err().to_string().contains("not a MISP event"));

    // Lists of other MISP objects: each element is rejected. 84 default feeds (README), and 2
    // sharing groups (python3 -c 'import json; print(len(json.load(open(...))))').
    for (name, elements) in [
        ("feed-format/feed-metadata/defaults.json", 84),
        ("events/pymisp/sharing_groups.json", 2),
    ] {
        let (result, sink) = parse(&misp.join(name));
        let stats = result.unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            (stats.rejected_documents, sink.rejections.len()),
            (elements, elements as usize),
            "{name}"
        );
    }

    // A bare sighting `{"timestamp", "type": "bar", "value": "1"}` reads as one attribute of an
    // unknown type: skipped, not rejected. IntelMQ's bare attribute is one `url`.
    let (result, sink) = parse(&misp.join("events/pymisp/mispevent_testfiles/sighting.json"));
    assert_eq!(result.unwrap().skipped, 1);
    assert!(sink.observations.is_empty());
    let (result, sink) = parse(&misp.join("events/intelmq/misp_attribute.json"));
    assert_eq!(result.unwrap().indicator_attributes, 1);
    assert_eq!(
        sink.observations[0].indicator.value(),
        "http://fake.example.com/malware/is/here"
    );
}

#[test]
fn regin_event_gives_its_27_md5_hashes() {
    let Some(misp) = corpus() else { return };
    let path = misp.join("events/misp-core/event.json");
    let (result, sink) = parse(&path);
    let stats = result.unwrap();
    // python3: types are md5 27, filename 6, regkey 3, link 1, text 1 (38 attributes; the
    // event's attribute_count says 39 because one deleted attribute was not exported).
    assert_eq!(
        (
            stats.attributes,
            stats.indicator_attributes,
            stats.skipped,
            stats.rejected
        ),
        (38, 27, 11, 0)
    );

    let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let expected: BTreeSet<String> = attributes_of(&document["Event"])
        .into_iter()
        .filter(|attribute| attribute["type"] == "md5")
        .filter_map(|attribute| attribute["value"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let got: BTreeSet<String> = sink
        .observations
        .iter()
        .inspect(|o| assert_eq!(o.indicator.kind(), IndicatorKind::Md5))
        .map(|o| o.indicator.value().to_owned())
        .collect();
    assert_eq!(got, expected);

    // Its only tag is `Type:OSINT`: no TLP, no technique, no threat; analysis 2 → 80.
    for observation in &sink.observations {
        assert_eq!(observation.tlp, None);
        assert!(observation.techniques.is_empty() && observation.threats.is_empty());
        assert_eq!(observation.confidence, Some(80));
        assert!(observation.labels.contains(&"Type:OSINT".to_owned()));
        assert!(
            observation
                .labels
                .contains(&"misp:threat-level=high".to_owned())
        );
        assert!(observation.first_seen.is_some());
    }
    assert_eq!(sink.objects.len(), 1);
    assert_eq!(sink.objects[0].id, "54884656-2da8-4625-bf07-43ef950d210b");
    assert_eq!(
        sink.objects[0].name.as_deref(),
        Some("OSINT - F-Secure W32/Regin, Stage #1")
    );
}

#[test]
fn sednit_event_tags_give_tlp_and_fourteen_threats() {
    let Some(misp) = corpus() else { return };
    let (result, sink) = parse(&misp.join("events/pymisp/mispevent_testfiles/existing_event.json"));
    let stats = result.unwrap();
    // python3: domain 19, sha1 37, ip-dst 12 of 122 attributes.
    assert_eq!((stats.attributes, stats.indicator_attributes), (122, 68));
    let kinds: BTreeSet<IndicatorKind> = sink
        .observations
        .iter()
        .map(|o| o.indicator.kind())
        .collect();
    assert_eq!(
        kinds,
        [
            IndicatorKind::Ipv4,
            IndicatorKind::Domain,
            IndicatorKind::Sha1
        ]
        .into()
    );
    let first = &sink.observations[0];
    assert_eq!(first.tlp, Some(Tlp::Clear), "tlp:white");
    // Event tags: threat-actor Sofacy; exploit-kit Sednit EK, DealersChoice; tool GAMEFISH,
    // X-Tunnel, EVILTOSS, X-Agent; mitre-malware JHUHUGIT, XTunnel, ADVSTORESHELL, USBStealer,
    // XAgentOSX, CHOPSTICK, Downdelph. The Galaxy blocks repeat them and add none.
    let threats: BTreeSet<&str> = first.threats.iter().map(String::as_str).collect();
    assert_eq!(threats.len(), 14, "{threats:?}");
    assert!(
        threats.contains("Sofacy")
            && threats.contains("Sednit EK")
            && threats.contains("Downdelph")
    );
    assert!(
        first
            .labels
            .contains(&"workflow:state=\"incomplete\"".to_owned())
    );
}

#[test]
fn galaxy_event_gives_techniques_from_attribute_galaxies() {
    let Some(misp) = corpus() else { return };
    let (result, sink) = parse(&misp.join("events/pymisp/reportlab_testfiles/galaxy_1.json"));
    let stats = result.unwrap();
    // python3: sha256 ×2, sha1, md5 of 10 attributes.
    assert_eq!((stats.attributes, stats.indicator_attributes), (10, 4));
    let sha1 = sink
        .observations
        .iter()
        .find(|o| o.indicator.value() == "d63ff86f05b6f2fb86abf0dcd16cd2008fa3c158")
        .unwrap();
    let techniques: Vec<&str> = sha1.techniques.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        techniques,
        ["T1098"],
        "attribute galaxy mitre-enterprise-attack-attack-pattern"
    );
    let md5 = sink
        .observations
        .iter()
        .find(|o| o.indicator.kind() == IndicatorKind::Md5)
        .unwrap();
    assert!(
        md5.techniques.is_empty(),
        "a course-of-action T id is a mitigation, not a technique"
    );
    // Event-level intrusion sets and malware, ATT&CK ids dropped from the names.
    for threat in ["APT1", "APT12", "ANDROIDOS_ANSERVER.A", "BACKSPACE"] {
        assert!(
            md5.threats.iter().any(|t| t == threat),
            "{threat} in {:?}",
            md5.threats
        );
    }
    assert_eq!(md5.tlp, Some(Tlp::Clear));
}

#[test]
fn intelmq_event_url_is_not_for_ids() {
    let Some(misp) = corpus() else { return };
    let (result, sink) = parse(&misp.join("events/intelmq/misp_event.json"));
    let stats = result.unwrap();
    assert_eq!(
        (stats.indicator_attributes, stats.skipped),
        (1, 1),
        "url and text"
    );
    let url = &sink.observations[0];
    assert_eq!(url.reference, "575c8598-f1f0-4c16-a94a-0612c0a83866");
    assert_eq!(url.confidence, Some(NOT_FOR_IDS_CONFIDENCE));
    assert!(url.labels.contains(&NOT_FOR_IDS_LABEL.to_owned()));
    assert!(
        url.labels
            .contains(&"ecsirt:malicious-code=\"ransomware\"".to_owned())
    );
}

#[test]
fn feed_event_is_one_link_and_its_tlp() {
    let Some(misp) = corpus() else { return };
    let (result, sink) =
        parse(&misp.join("feed-format/misp-feed/56bf399d-c46c-4fdb-a9cf-d9bb02de0b81.json"));
    let stats = result.unwrap();
    assert_eq!(
        (stats.attributes, stats.skipped, stats.observations),
        (1, 1, 0),
        "a link is not an indicator"
    );
    assert_eq!(sink.objects[0].tlp, Some(Tlp::Clear));
    assert_eq!(
        sink.objects[0].modified,
        Some(rampart_model::Timestamp::from_second(1455373240).unwrap())
    );
}
