//! Unit tests of the STIX format on small hand-written bundles.

use rampart_model::{IndicatorKind, Tlp};

use super::*;
use crate::formats::CollectSink;

fn parse(document: &str) -> (CollectSink, StixStats) {
    let mut sink = CollectSink::default();
    match StixFormat.parse_counted(&mut document.as_bytes(), &mut sink) {
        Ok(stats) => (sink, stats),
        Err(err) => panic!("{err}\n{document}"),
    }
}

fn indicator(id: &str, pattern: &str, extra: &str) -> String {
    format!(
        r#"{{"type": "indicator", "spec_version": "2.1", "id": "{id}", "created": "2024-01-01T00:00:00.000Z",
            "modified": "2024-02-01T00:00:00.000Z", "pattern": {pattern:?}, "pattern_type": "stix",
            "valid_from": "2024-01-05T00:00:00Z"{extra}}}"#
    )
}

fn bundle(objects: &[String]) -> String {
    format!(
        r#"{{"type": "bundle", "id": "bundle--1", "objects": [{}]}}"#,
        objects.join(",")
    )
}

fn values(sink: &CollectSink) -> Vec<(IndicatorKind, String)> {
    sink.observations
        .iter()
        .map(|o| (o.indicator.kind(), o.indicator.value().to_owned()))
        .collect()
}

#[test]
fn indicator_fields_become_observation_fields() {
    let extra = r#", "valid_until": "2025-01-01T00:00:00Z", "confidence": 85, "revoked": false,
        "labels": ["apt", "c2"], "indicator_types": ["malicious-activity", "c2"],
        "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "command-and-control"}],
        "x_custom": {"kept": true}"#;
    let document = bundle(&[indicator(
        "indicator--a",
        "[ipv4-addr:value = '198.51.100.0/24'] OR [ipv4-addr:value = '198.51.100.7/32'] OR [domain-name:value = 'Evil.Example.']",
        extra,
    )]);
    let (sink, stats) = parse(&document);
    assert_eq!(
        values(&sink),
        [
            (IndicatorKind::Cidr, "198.51.100.0/24".into()),
            (IndicatorKind::Ipv4, "198.51.100.7".into()),
            (IndicatorKind::Domain, "evil.example".into()),
        ]
    );
    let first = &sink.observations[0];
    assert_eq!(first.reference, "indicator--a");
    assert_eq!(
        first.first_seen.unwrap().to_string(),
        "2024-01-05T00:00:00Z"
    );
    assert_eq!(first.last_seen.unwrap().to_string(), "2024-02-01T00:00:00Z");
    assert_eq!(
        first.valid_until.unwrap().to_string(),
        "2025-01-01T00:00:00Z"
    );
    assert_eq!(first.confidence, Some(85));
    assert_eq!(
        first.labels,
        [
            "apt",
            "c2",
            "malicious-activity",
            "kill-chain:command-and-control"
        ]
    );
    let note = first.pattern.as_ref().unwrap();
    assert_eq!(note.unenforced, None);
    assert!(note.pattern.starts_with("[ipv4-addr:value"));
    assert_eq!(sink.objects.len(), 1);
    assert_eq!(sink.objects[0].body["x_custom"]["kept"], true);
    assert_eq!(stats.indicators, 1);
    assert_eq!(stats.observations, 3);
}

#[test]
fn created_stands_in_for_valid_from_and_confidence_out_of_range_is_dropped() {
    let object = r#"{"type": "indicator", "id": "indicator--b", "created": "2023-03-03T03:03:03Z",
        "pattern": "[url:value = 'http://a.example/x']", "confidence": 300, "revoked": true}"#;
    let (sink, _) = parse(&bundle(&[object.to_owned()]));
    let observation = &sink.observations[0];
    assert_eq!(
        observation.first_seen.unwrap().to_string(),
        "2023-03-03T03:03:03Z"
    );
    assert_eq!(observation.confidence, None);
    assert!(observation.revoked);
}

#[test]
fn tlp_comes_from_known_ids_and_earlier_marking_definitions() {
    let tlp1_amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
    let custom = r#"{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--c1",
        "created": "2024-01-01T00:00:00Z", "definition_type": "tlp", "definition": {"tlp": "red"}}"#;
    let tlp2 = format!(
        r#"{{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--c2",
        "created": "2022-10-01T00:00:00.000Z", "name": "TLP:AMBER+STRICT",
        "extensions": {{"{TLP2_EXTENSION}": {{"extension_type": "property-extension", "tlp_2_0": "amber+strict"}}}}}}"#
    );
    let statement = r#"{"type": "marking-definition", "id": "marking-definition--s", "created": "2024-01-01T00:00:00Z",
        "definition_type": "statement", "definition": {"statement": "copyright"}}"#;
    let marked = |id: &str, refs: &str| {
        indicator(
            id,
            "[domain-name:value = 'a.example']",
            &format!(r#", "object_marking_refs": [{refs}]"#),
        )
    };
    let document = bundle(&[
        marked("indicator--early", r#""marking-definition--c1""#),
        custom.to_owned(),
        tlp2,
        statement.to_owned(),
        marked(
            "indicator--tlp1",
            &format!("{tlp1_amber:?}, \"marking-definition--s\""),
        ),
        marked(
            "indicator--custom",
            &format!("{tlp1_amber:?}, \"marking-definition--c1\""),
        ),
        marked("indicator--tlp2", r#""marking-definition--c2""#),
        marked(
            "indicator--tlp2-known",
            &format!("{:?}", Tlp::Green.stix_marking_id()),
        ),
    ]);
    let (sink, _) = parse(&document);
    let tlps: Vec<_> = sink
        .observations
        .iter()
        .map(|o| (o.reference.as_str(), o.tlp))
        .collect();
    assert_eq!(
        tlps,
        [
            ("indicator--early", None),
            ("indicator--tlp1", Some(Tlp::Amber)),
            ("indicator--custom", Some(Tlp::Red)),
            ("indicator--tlp2", Some(Tlp::AmberStrict)),
            ("indicator--tlp2-known", Some(Tlp::Green)),
        ]
    );
    // The three marking definitions; the plain indicators live on in their statements.
    assert_eq!(sink.objects.len(), 3);
}

#[test]
fn indicators_with_more_than_their_statements_keep_are_kept_as_context() {
    let plain = indicator("indicator--plain", "[url:value = 'http://a.example/']", "");
    let described = indicator(
        "indicator--described",
        "[url:value = 'http://b.example/']",
        r#","description":"phishing kit landing page""#,
    );
    let custom = indicator(
        "indicator--custom",
        "[url:value = 'http://c.example/']",
        r#","x_acme_campaign":"autumn""#,
    );
    let unenforced = indicator(
        "indicator--and",
        "[url:value = 'http://d.example/'] AND [domain-name:value = 'd.example']",
        "",
    );
    let (sink, _) = parse(&bundle(&[plain, described, custom, unenforced]));
    assert_eq!(sink.observations.len(), 5);
    let kept: Vec<&str> = sink.objects.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        kept,
        [
            "indicator--described",
            "indicator--custom",
            "indicator--and"
        ]
    );
    assert_eq!(sink.objects[1].body["x_acme_campaign"], "autumn");
}

#[test]
fn bad_patterns_are_rejected_and_unmatchable_ones_kept_as_context() {
    let document = bundle(&[
        indicator("indicator--bad", "[ipv4-addr:value = ]", ""),
        indicator("indicator--name", "[file:name = 'CBricksDoc']", ""),
        indicator("indicator--and", "[file:name = 'x' AND file:hashes.MD5 = '001dd76872d80801692ff942308c64e6']", ""),
        indicator("indicator--space", "[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']", ""),
        r#"{"type": "indicator", "id": "indicator--sigma", "pattern_type": "sigma", "pattern": "title: x"}"#.to_owned(),
        r#"{"type": "indicator", "id": "indicator--none"}"#.to_owned(),
    ]);
    let (sink, stats) = parse(&document);
    let rejected: Vec<String> = sink.rejections.iter().map(ToString::to_string).collect();
    assert_eq!(
        rejected,
        [
            "indicator--bad: pattern: column 20: expected a literal, found ']'",
            "indicator--space: value \"domain autuo.xicp.net\" of domain-name is not valid: \
             domain name contains a character not allowed in host names",
            "indicator--none: indicator has no pattern",
        ]
    );
    let kept: Vec<&str> = sink.objects.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        kept,
        [
            "indicator--name",
            "indicator--and",
            "indicator--space",
            "indicator--sigma"
        ]
    );
    assert_eq!(
        values(&sink),
        [
            (
                IndicatorKind::Md5,
                "001dd76872d80801692ff942308c64e6".into()
            ),
            (IndicatorKind::Ipv4, "60.10.1.115".into()),
        ]
    );
    let and_note = sink.observations[0]
        .pattern
        .as_ref()
        .unwrap()
        .unenforced
        .as_deref()
        .unwrap();
    assert_eq!(
        and_note,
        "comparisons joined by AND are not enforced; comparison on file:name is not matchable"
    );
    let space_note = sink.observations[1]
        .pattern
        .as_ref()
        .unwrap()
        .unenforced
        .as_deref()
        .unwrap();
    assert!(
        space_note.starts_with("value \"domain autuo.xicp.net\" of domain-name is not valid"),
        "{space_note}"
    );
    assert_eq!(stats.patterns_without_values, 1);
    assert_eq!(stats.other_pattern_types, 1);
    assert_eq!(stats.rejected_objects, 2);
    assert_eq!(stats.rejected_values, 1);
    assert_eq!(stats.patterns_unenforced, 2);
}

#[test]
fn observables_give_observations_and_context() {
    let document = bundle(&[
        r#"{"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--1", "value": "203.0.113.0/24"}"#.into(),
        r#"{"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:DB8::1"}"#.into(),
        r#"{"type": "domain-name", "id": "domain-name--1", "value": "bad.example"}"#.into(),
        r#"{"type": "url", "id": "url--1", "value": "http://bad.example/a"}"#.into(),
        r#"{"type": "email-addr", "id": "email-addr--1", "value": "Mallory@Bad.Example"}"#.into(),
        r#"{"type": "file", "id": "file--1", "name": "x.exe", "hashes": {"MD5": "001dd76872d80801692ff942308c64e6",
            "SHA-256": "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c", "SSDEEP": "3:a:b"}}"#
            .into(),
        r#"{"type": "ipv4-addr", "id": "ipv4-addr--bad", "value": "2001:db8::1"}"#.into(),
    ]);
    let (sink, stats) = parse(&document);
    assert_eq!(
        values(&sink),
        [
            (IndicatorKind::Cidr, "203.0.113.0/24".into()),
            (IndicatorKind::Ipv6, "2001:db8::1".into()),
            (IndicatorKind::Domain, "bad.example".into()),
            (IndicatorKind::Url, "http://bad.example/a".into()),
            (IndicatorKind::Email, "mallory@bad.example".into()),
            (
                IndicatorKind::Md5,
                "001dd76872d80801692ff942308c64e6".into()
            ),
            (
                IndicatorKind::Sha256,
                "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c".into()
            ),
        ]
    );
    assert!(sink.observations.iter().all(|o| o.labels == ["observable"]));
    assert_eq!(sink.observations[5].reference, "file--1");
    assert_eq!(sink.objects.len(), 7);
    assert_eq!(stats.rejected_values, 1);
    assert_eq!(sink.rejections[0].reference, "ipv4-addr--bad");
}

#[test]
fn context_objects_carry_name_attack_id_and_custom_properties() {
    let document = bundle(&[
        r#"{"type": "attack-pattern", "id": "attack-pattern--1", "name": "Spearphishing Attachment",
            "modified": "2024-04-01T00:00:00.000Z", "x_mitre_platforms": ["Windows"],
            "external_references": [{"source_name": "capec", "external_id": "CAPEC-163"},
                                    {"source_name": "mitre-attack", "external_id": "T1566.001"}]}"#
            .into(),
        r#"{"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Initial Access",
            "external_references": [{"source_name": "mitre-attack", "external_id": "TA0001"}]}"#
            .into(),
        r#"{"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
            "source_ref": "indicator--1", "target_ref": "malware--1", "revoked": true}"#
            .into(),
        r#"{"type": "malware", "name": "no id"}"#.into(),
        r#"{"id": "x--no-type"}"#.into(),
        r#""not an object""#.into(),
    ]);
    let (sink, stats) = parse(&document);
    assert_eq!(sink.objects.len(), 3);
    let technique = &sink.objects[0];
    assert_eq!(technique.name.as_deref(), Some("Spearphishing Attachment"));
    assert_eq!(
        technique.attack_id.as_ref().map(|id| id.as_str()),
        Some("T1566.001")
    );
    assert_eq!(
        technique.modified.unwrap().to_string(),
        "2024-04-01T00:00:00Z"
    );
    assert_eq!(technique.body["x_mitre_platforms"][0], "Windows");
    assert_eq!(sink.objects[1].attack_id, None);
    assert!(sink.objects[2].revoked);
    let rejected: Vec<String> = sink.rejections.iter().map(ToString::to_string).collect();
    assert_eq!(
        rejected,
        [
            "objects[3]: malware has no id",
            "x--no-type: object has no type",
            "objects[5]: not a JSON object"
        ]
    );
    assert_eq!(stats.objects, 6);
    assert_eq!(stats.rejected_objects, 3);
}

#[test]
fn accepts_bare_objects_arrays_and_taxii_envelopes() {
    let one = indicator("indicator--solo", "[url:value = 'http://a.example/']", "");
    let (sink, _) = parse(&one);
    // A plain indicator is kept whole by its statement: no context object.
    assert_eq!((sink.observations.len(), sink.objects.len()), (1, 0));

    let (sink, _) = parse(&format!("[{one}, {one}]"));
    assert_eq!(sink.observations.len(), 2);

    let envelope = format!(r#"{{"more": true, "next": "abc", "objects": [{one}]}}"#);
    let (sink, _) = parse(&envelope);
    assert_eq!(sink.observations.len(), 1);

    let (sink, _) = parse(r#"{"more": false}"#);
    assert!(sink.objects.is_empty());
    let (sink, _) = parse(r#"{"type": "bundle", "id": "bundle--empty"}"#);
    assert!(sink.objects.is_empty());

    // A STIX 2.0 observed-data keeps its `objects` dictionary.
    let observed = r#"{"type": "observed-data", "id": "observed-data--1", "objects": {"0": {"type": "file"}}}"#;
    let (sink, _) = parse(observed);
    assert_eq!(sink.objects[0].body["objects"]["0"]["type"], "file");
}

#[test]
fn malformed_json_has_a_position_and_non_stix_is_invalid() {
    let mut sink = CollectSink::default();
    let broken = "{\"type\": \"bundle\", \"objects\": [\n  {\"type\": \"indicator\",, }]}";
    match StixFormat.parse(&mut broken.as_bytes(), &mut sink) {
        Err(FormatError::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 24)),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    let truncated = "{\"type\": \"bundle\", \"objects\": [{\"type\": \"x\"";
    assert!(matches!(
        StixFormat.parse(&mut truncated.as_bytes(), &mut sink),
        Err(FormatError::Syntax { .. })
    ));
    for document in [
        r#"{"id": "10296991", "name": "MITRE ATT&CK", "collections": []}"#,
        r#""a string""#,
        "42",
        r#"{"type": "indicator", "objects": [], "id": "x"}"#,
        r#"{"type": 7}"#,
    ] {
        match StixFormat.parse(&mut document.as_bytes(), &mut sink) {
            Err(FormatError::Invalid(_)) => {}
            other => panic!("{document}: expected invalid, got {other:?}"),
        }
    }
    let trailing = r#"{"type": "bundle", "id": "bundle--1"} x"#;
    assert!(matches!(
        StixFormat.parse(&mut trailing.as_bytes(), &mut sink),
        Err(FormatError::Syntax { .. })
    ));
}

#[test]
fn the_format_is_registered() {
    let format = crate::formats::by_name("stix", &Default::default()).unwrap();
    assert_eq!(format.name(), "stix");
    assert!(crate::formats::names().contains(&"stix"));
    let mut options = crate::formats::FormatOptions::new();
    options.insert("kind".into(), "ipv4".into());
    assert!(crate::formats::by_name("stix", &options).is_err());
}

/// A bundle of `count` indicators shaped like a real feed's, for throughput tests.
pub(crate) fn generated_bundle(count: usize) -> String {
    let mut objects = Vec::with_capacity(count);
    for index in 0..count {
        let pattern = match index % 4 {
            0 => format!(
                "[ipv4-addr:value = '10.{}.{}.{}']",
                index >> 16 & 255,
                index >> 8 & 255,
                index & 255
            ),
            1 => format!("[domain-name:value = 'host{index}.bad.example']"),
            2 => format!("[url:value = 'http://bad{index}.example/path/{index}']"),
            _ => format!("[file:hashes.'SHA-256' = '{index:064x}']"),
        };
        objects.push(format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{index:08x}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","name":"generated","indicator_types":["malicious-activity"],"pattern":"{pattern}","pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-01T00:00:00Z","confidence":70,"labels":["generated"],"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}}"#
        ));
    }
    format!(
        r#"{{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[{}]}}"#,
        objects.join(",")
    )
}

#[test]
fn parses_a_generated_bundle_of_ten_thousand_indicators() {
    let document = generated_bundle(10_000);
    let (sink, stats) = parse(&document);
    assert_eq!(stats.indicators, 10_000);
    assert_eq!(sink.observations.len(), 10_000);
    assert_eq!(
        sink.objects.len(),
        0,
        "plain indicators need no context objects"
    );
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections.first());
}

/// `cargo test -p rampart-intel --release --lib stix_parse_rate -- --ignored --nocapture`
///
/// Prints wall time and, where Linux reports it, this thread's CPU time: on a shared machine
/// the CPU time is the figure that compares across runs. Two sinks: one that drops what it
/// gets at once (the parser's own cost) and one that batches like the import pipeline and
/// drops full batches (which adds the allocator's cost of many live objects).
#[test]
#[ignore = "throughput measurement, run by hand"]
fn stix_parse_rate() {
    #[derive(Default)]
    struct Batching {
        limit: usize,
        count: u64,
        observations: Vec<rampart_model::Observation>,
        objects: Vec<rampart_model::ContextObject>,
    }
    impl Sink for Batching {
        fn observation(&mut self, observation: rampart_model::Observation) {
            self.count += 1;
            self.observations.push(observation);
            if self.observations.len() >= self.limit * 4 {
                self.observations.clear();
            }
        }
        fn object(&mut self, object: rampart_model::ContextObject) {
            self.objects.push(object);
            if self.objects.len() >= self.limit {
                self.objects.clear();
            }
        }
        fn reject(&mut self, _: crate::formats::Rejection) {}
    }
    fn cpu_nanos() -> Option<u64> {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        text.split_whitespace().next()?.parse().ok()
    }
    let count = 200_000;
    let document = generated_bundle(count);
    for (what, limit) in [
        ("dropped at once", 1),
        ("batched like the import pipeline", 1024),
    ] {
        let cpu_before = cpu_nanos();
        let started = std::time::Instant::now();
        let mut sink = Batching {
            limit,
            ..Batching::default()
        };
        StixFormat
            .parse_counted(&mut document.as_bytes(), &mut sink)
            .unwrap();
        let elapsed = started.elapsed();
        let cpu = cpu_before
            .zip(cpu_nanos())
            .map(|(before, after)| after - before);
        assert_eq!(sink.count, count as u64);
        println!(
            "{count} indicators ({} MB), {what}: wall {elapsed:?} ({:.0}/s, {:.2} µs each)",
            document.len() / 1_000_000,
            count as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1e6 / count as f64
        );
        if let Some(cpu) = cpu {
            println!(
                "  cpu {:.3} s ({:.0}/s, {:.2} µs each)",
                cpu as f64 / 1e9,
                count as f64 * 1e9 / cpu as f64,
                cpu as f64 / 1e3 / count as f64
            );
        }
    }
}
