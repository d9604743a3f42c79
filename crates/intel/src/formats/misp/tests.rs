//! Unit tests of the MISP format over small hand-written documents.

use rampart_model::{Direction, IndicatorKind, Tlp};

use super::*;
use crate::formats::CollectSink;

fn parse(document: &str) -> (CollectSink, MispStats) {
    let mut sink = CollectSink::default();
    let stats = MispFormat
        .parse_counted(&mut document.as_bytes(), &mut sink)
        .unwrap();
    assert_eq!(
        stats.attributes,
        stats.indicator_attributes + stats.skipped + stats.rejected,
        "every attribute is counted once"
    );
    (sink, stats)
}

fn values(sink: &CollectSink) -> Vec<(IndicatorKind, &str)> {
    sink.observations
        .iter()
        .map(|o| (o.indicator.kind(), o.indicator.value()))
        .collect()
}

const EVENT: &str = r#"{"Event": {
  "uuid": "11111111-1111-4111-8111-111111111111", "info": "Phishing wave", "date": "2024-03-01",
  "analysis": "2", "threat_level_id": "1", "timestamp": "1709300000",
  "Tag": [{"name": "tlp:green"}, {"name": "misp-galaxy:threat-actor=\"Sofacy\""}, {"name": "type:OSINT"}],
  "Attribute": [
    {"uuid": "a1", "type": "ip-src", "value": "203.0.113.9", "to_ids": true, "timestamp": "1709301000"},
    {"uuid": "a2", "type": "ip-dst|port", "value": "198.51.100.0/24|443", "to_ids": true,
     "Tag": [{"name": "tlp:red"}, {"name": "misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""}]},
    {"uuid": "a3", "type": "domain|ip", "value": "Evil.Example|2001:db8::7", "to_ids": "1"},
    {"uuid": "a4", "type": "url", "value": "hxxp://evil[.]example/login", "to_ids": false,
     "first_seen": "2024-02-01T10:00:00.000000+00:00", "last_seen": "2024-02-03T10:00:00+00:00"},
    {"uuid": "a5", "type": "filename|sha256",
     "value": "invoice.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "deleted": true},
    {"uuid": "a6", "type": "link", "value": "https://blog.example/post"},
    {"uuid": "a7", "type": "text", "value": "Sofacy again"},
    {"uuid": "a8", "type": "md5", "value": "not-a-hash"},
    {"type": "email-src", "value": "Boss@Evil.Example", "timestamp": 1709302000}
  ],
  "Object": [{"name": "file", "uuid": "o1", "Tag": [{"name": "osint:certainty=\"93\""}],
    "Attribute": [
      {"uuid": "o1a1", "type": "filename", "value": "invoice.exe"},
      {"uuid": "o1a2", "type": "sha1", "value": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}
    ]}],
  "Sighting": [{"type": "0", "date_sighting": "1709400000"}]
}}"#;

#[test]
fn an_event_gives_observations_skips_and_rejections() {
    let (sink, stats) = parse(EVENT);
    assert_eq!(
        stats,
        MispStats {
            events: 1,
            attributes: 11,
            indicator_attributes: 7,
            skipped: 3,
            rejected: 1,
            observations: 8,
            ..MispStats::default()
        }
    );
    assert_eq!(
        values(&sink),
        [
            (IndicatorKind::Ipv4, "203.0.113.9"),
            (IndicatorKind::Cidr, "198.51.100.0/24"),
            (IndicatorKind::Domain, "evil.example"),
            (IndicatorKind::Ipv6, "2001:db8::7"),
            (IndicatorKind::Url, "http://evil.example/login"),
            (
                IndicatorKind::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            (IndicatorKind::Email, "boss@evil.example"),
            (
                IndicatorKind::Sha1,
                "da39a3ee5e6b4b0d3255bfef95601890afd80709"
            ),
        ]
    );
    assert_eq!(sink.rejections.len(), 1);
    assert_eq!(sink.rejections[0].reference, "a8");
    assert!(
        sink.rejections[0].reason.starts_with("md5 \"not-a-hash\""),
        "{}",
        sink.rejections[0].reason
    );
}

#[test]
fn event_context_reaches_every_observation() {
    let (sink, _) = parse(EVENT);
    let by_reference = |reference: &str| {
        sink.observations
            .iter()
            .find(|o| o.reference == reference)
            .unwrap()
    };

    let source_ip = by_reference("a1");
    assert_eq!(source_ip.direction, Some(Direction::Source));
    assert_eq!(source_ip.tlp, Some(Tlp::Green));
    assert_eq!(source_ip.threats, ["Sofacy"]);
    assert_eq!(source_ip.confidence, Some(80), "analysis 2 (completed)");
    assert!(source_ip.labels.contains(&"type:OSINT".to_owned()));
    assert!(
        source_ip
            .labels
            .contains(&"misp:threat-level=high".to_owned())
    );
    assert_eq!(
        source_ip.first_seen,
        Some("2024-03-01T13:50:00Z".parse().unwrap()),
        "attribute timestamp"
    );

    let network = by_reference("a2");
    assert_eq!(network.port, Some(443));
    assert_eq!(network.direction, Some(Direction::Destination));
    assert_eq!(network.tlp, Some(Tlp::Red), "attribute tag is stricter");
    assert_eq!(network.techniques[0].as_str(), "T1566");
    assert_eq!(
        network.first_seen,
        Some("2024-03-01T00:00:00Z".parse().unwrap()),
        "event date"
    );

    let url = by_reference("a4");
    assert_eq!(url.confidence, Some(NOT_FOR_IDS_CONFIDENCE));
    assert!(url.labels.contains(&NOT_FOR_IDS_LABEL.to_owned()));
    assert!(!url.revoked, "to_ids false is imported, not revoked");
    assert_eq!(
        url.first_seen,
        Some("2024-02-01T10:00:00Z".parse().unwrap())
    );
    assert_eq!(url.last_seen, Some("2024-02-03T10:00:00Z".parse().unwrap()));

    assert!(by_reference("a5").revoked, "deleted attribute");
    let unnamed = by_reference("event 11111111-1111-4111-8111-111111111111 attribute 9");
    assert_eq!(unnamed.direction, Some(Direction::Source));
    assert_eq!(
        by_reference("o1a2").confidence,
        Some(93),
        "object certainty tag"
    );
}

#[test]
fn the_event_is_kept_whole_as_a_context_object() {
    let (sink, _) = parse(EVENT);
    assert_eq!(sink.objects.len(), 1);
    let event = &sink.objects[0];
    assert_eq!(event.id, "11111111-1111-4111-8111-111111111111");
    assert_eq!(event.object_type, "misp-event");
    assert_eq!(event.name.as_deref(), Some("Phishing wave"));
    assert_eq!(event.tlp, Some(Tlp::Green));
    assert_eq!(
        event.modified,
        Some("2024-03-01T13:33:20Z".parse().unwrap())
    );
    assert_eq!(event.body["Sighting"][0]["date_sighting"], "1709400000");
    assert_eq!(event.body["Attribute"].as_array().map(Vec::len), Some(9));
}

#[test]
fn reads_every_document_shape() {
    let attribute = r#"{"uuid": "x1", "type": "domain", "value": "a.example"}"#;
    let event = format!(r#"{{"uuid": "e1", "info": "bare", "Attribute": [{attribute}]}}"#);
    let shapes = [
        format!(r#"{{"Event": {event}}}"#),
        event.clone(),
        format!(r#"{{"response": [{{"Event": {event}}}, {{"Event": {event}}}]}}"#),
        format!(r#"[{event}, {{"Event": {event}}}]"#),
        format!(r#"{{"response": {{"Attribute": [{attribute}, {attribute}]}}}}"#),
        format!(r#"{{"Attribute": [{attribute}]}}"#),
        attribute.to_owned(),
    ];
    let expected_events = [1, 1, 2, 2, 0, 1, 0];
    for (shape, events) in shapes.iter().zip(expected_events) {
        let (sink, stats) = parse(shape);
        assert_eq!(stats.events, events, "{shape}");
        assert!(!sink.observations.is_empty(), "{shape}");
        assert!(
            sink.observations
                .iter()
                .all(|o| o.indicator.value() == "a.example"),
            "{shape}"
        );
    }
}

#[test]
fn empty_and_foreign_documents() {
    let mut sink = CollectSink::default();
    let err = MispFormat
        .parse_counted(&mut "{}".as_bytes(), &mut sink)
        .unwrap_err();
    assert!(matches!(err, FormatError::Invalid(_)), "{err}");
    let err = MispFormat
        .parse_counted(
            &mut r#"{"type": "bundle", "objects": []}"#.as_bytes(),
            &mut sink,
        )
        .unwrap_err();
    assert!(err.to_string().contains("not a MISP event"), "{err}");
    let err = MispFormat
        .parse_counted(&mut r#"{"Event": {"info": "cut"#.as_bytes(), &mut sink)
        .unwrap_err();
    assert!(matches!(err, FormatError::Syntax { line: 1, .. }), "{err}");
    let err = MispFormat
        .parse_counted(&mut r#"{"Event": {}} trailing"#.as_bytes(), &mut sink)
        .unwrap_err();
    assert!(matches!(err, FormatError::Syntax { .. }), "{err}");

    let (sink, stats) = parse(r#"{"response": []}"#);
    assert_eq!((stats.events, sink.rejections.len()), (0, 0));
    let (sink, stats) = parse(r#"[{"Feed": {"name": "x"}}, 42]"#);
    assert_eq!(stats.rejected_documents, 2);
    assert_eq!(sink.rejections[1].reference, "element 2");
}

#[test]
fn hostile_values_do_not_panic() {
    let document = r#"{"Event": {"Attribute": [
        {"type": "ip-dst|port", "value": "|"},
        {"type": "domain|ip", "value": "||||"},
        {"type": "url", "value": ""},
        {"type": "ip-dst", "value": 7},
        {"type": 7, "value": "x"},
        "not an object",
        {"type": "hostname|port", "value": "é.example|-1"},
        {"type": "email-dst", "value": "@"}
    ], "Object": [{"Attribute": "nope"}, 3, {"Attribute": [null]}], "Tag": "nope", "Galaxy": [1, {"GalaxyCluster": [2]}]}}"#;
    let (sink, stats) = parse(document);
    assert_eq!(stats.rejected, 9);
    assert_eq!(sink.observations.len(), 0);
}

#[test]
fn format_is_registered_and_takes_no_options() {
    assert!(crate::formats::names().contains(&"misp"));
    assert_eq!(
        crate::formats::by_name("misp", &Default::default())
            .unwrap()
            .name(),
        "misp"
    );
    let options = [("kind".to_owned(), "md5".to_owned())]
        .into_iter()
        .collect();
    assert!(crate::formats::by_name("misp", &options).is_err());
}

#[test]
fn rest_search_attributes_take_their_event_context() {
    let document = r#"{"response": {"Attribute": [
        {"type": "domain", "value": "a.example", "Tag": [{"name": "tlp:amber"}],
         "Event": {"uuid": "e-1", "analysis": "0", "threat_level_id": "3", "date": "2024-01-02"}},
        {"uuid": "b", "type": "sha1", "value": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "timestamp": "1704200000"}
    ]}}"#;
    let (sink, stats) = parse(document);
    assert_eq!(
        (stats.events, stats.standalone, stats.observations),
        (0, 2, 2)
    );
    let first = &sink.observations[0];
    assert_eq!(first.reference, "event e-1 attribute 1");
    assert_eq!(first.confidence, Some(50), "analysis 0 (initial)");
    assert!(first.labels.contains(&"misp:threat-level=low".to_owned()));
    assert_eq!(first.tlp, Some(Tlp::Amber));
    assert_eq!(
        first.first_seen,
        Some("2024-01-02T00:00:00Z".parse().unwrap())
    );
    let second = &sink.observations[1];
    assert_eq!((second.reference.as_str(), second.confidence), ("b", None));
    assert_eq!(
        second.last_seen,
        Some("2024-01-02T12:53:20Z".parse().unwrap())
    );
    assert!(sink.objects.is_empty(), "no event object without the event");
}
