//! Decoders against the real third-party corpus (`../shared/data`): golden parses, `evtx_dump`
//! renderings, Zeek's two writers, and every file under `logs/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rampart_detect::Event;
use rampart_detect::decode::{self, Collect, DecodeError, Options, Sink, Summary};
use serde_json::Value;

fn options() -> Options {
    Options {
        // The loghub OpenSSH sample is from December; any reference after it works.
        reference_time: "2026-11-27T00:00:00Z".parse().unwrap(),
        ..Options::default()
    }
}

fn decode_file(path: &Path) -> (Collect, Summary) {
    let mut sink = Collect::default();
    let summary = decode::decode_path(path, &options(), &mut sink).unwrap();
    (sink, summary)
}

#[test]
fn openssh_failed_password_and_invalid_user_match_the_loghub_golden_parse() {
    let Some(data) = rampart_testkit::corpus("openssh_golden") else {
        return;
    };
    let dir = data.join("logs/loghub/OpenSSH");
    let (sink, summary) = decode_file(&dir.join("OpenSSH_2k.log"));
    assert_eq!(
        summary,
        Summary {
            events: 2000,
            errors: 0
        }
    );
    let mut golden = csv::Reader::from_path(dir.join("OpenSSH_2k.log_structured.csv")).unwrap();
    let mut checked = BTreeMap::<&str, usize>::new();
    for (row, event) in golden.records().zip(&sink.events) {
        let row = row.unwrap();
        let (line, content, event_id) = (&row[0], &row[6], &row[7]);
        assert_eq!(
            event.reference.locator,
            rampart_detect::Locator::Line(line.parse().unwrap())
        );
        assert_eq!(event.format, "sshd");
        let kind = event.get_str("sshd.event");
        let repeated = event.get("sshd.repeated").is_some();
        let user = event.get_str("sshd.user").unwrap_or("?");
        let ip = event.get_str("sshd.ip").unwrap_or("?");
        let port = event.get("sshd.port").and_then(Value::as_u64).unwrap_or(0);
        // Rebuild the line from the decoded fields and compare with the golden content.
        match event_id {
            "E9" | "E10" => {
                assert_eq!(
                    (kind, repeated),
                    (Some("failed_password"), false),
                    "line {line}"
                );
                let invalid = if event.get("sshd.invalid_user") == Some(&Value::Bool(true)) {
                    "invalid user "
                } else {
                    ""
                };
                assert_eq!(
                    content,
                    format!("Failed password for {invalid}{user} from {ip} port {port} ssh2"),
                    "line {line}"
                );
                *checked.entry("failed_password").or_default() += 1;
            }
            "E13" => {
                assert_eq!(kind, Some("invalid_user"), "line {line}");
                assert_eq!(
                    content,
                    format!("Invalid user {user} from {ip}"),
                    "line {line}"
                );
                *checked.entry("invalid_user").or_default() += 1;
            }
            _ => {
                assert!(
                    kind != Some("failed_password") || repeated,
                    "line {line} is {event_id}, decoded as failed password"
                );
                assert_ne!(kind, Some("invalid_user"), "line {line} is {event_id}");
            }
        }
    }
    // 383 + 135 and 113 rows in the golden CSV (`cut -d, -f8 | sort | uniq -c`).
    assert_eq!(
        checked,
        BTreeMap::from([("failed_password", 518), ("invalid_user", 113)])
    );
}

#[test]
fn evtx_records_decode_to_the_evtx_dump_json_beside_them() {
    let Some(data) = rampart_testkit::corpus("evtx_regression_json") else {
        return;
    };
    let mut pairs = Vec::new();
    walk(&data.join("sigma/regression_data"), &mut pairs);
    pairs.retain(|path| path.extension().is_some_and(|ext| ext == "evtx"));
    pairs.sort();
    assert_eq!(pairs.len(), 19, "evtx files in sigma/regression_data");
    let (mut records, mut renumbered) = (0, 0);
    for evtx in &pairs {
        let text = std::fs::read(evtx.with_extension("json")).unwrap();
        // Some renderings hold several records one after another.
        let expected_records: Vec<Value> = serde_json::Deserializer::from_slice(&text)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap();
        let (sink, summary) = decode_file(evtx);
        assert_eq!(summary.errors, 0, "{}", evtx.display());
        for expected in expected_records {
            records += 1;
            renumbered += usize::from(check_rendering(evtx, &expected, &sink.events));
        }
    }
    eprintln!(
        "{records} rendered records in {} files; {renumbered} matched with EventRecordID renumbered",
        pairs.len()
    );
}

/// Finds the record `expected` renders and compares; returns whether it was renumbered.
fn check_rendering(evtx: &Path, expected: &Value, events: &[Event]) -> bool {
    let record_id = expected["Event"]["System"]["EventRecordID"]
        .as_u64()
        .unwrap();
    let mut renumbered = false;
    {
        let by_id = events
            .iter()
            .find(|event| event.reference.locator == rampart_detect::Locator::Record(record_id));
        let event = match by_id {
            Some(event) => {
                assert_eq!(
                    &Value::Object(event.fields.clone()),
                    expected,
                    "{}",
                    evtx.display()
                );
                event
            }
            None => {
                // Normalisation: some samples were re-exported after the JSON was rendered.
                // The export renumbers records (the file holds record 1, the JSON says
                // 34382) and stores GUIDs and times as text: `{c96b491c-…}` where the
                // original rendered `C96B491C-…`, and 100 ns digits where it had µs. So
                // these are compared without `EventRecordID`, with GUIDs in one spelling and
                // times cut to microseconds; every other value must be identical.
                renumbered = true;
                let without_id = |value: &Value| {
                    let mut value = normalise_export(value);
                    if let Some(system) = value
                        .pointer_mut("/Event/System")
                        .and_then(Value::as_object_mut)
                    {
                        system.remove("EventRecordID");
                    }
                    value
                };
                let expected = without_id(expected);
                events
                    .iter()
                    .find(|event| without_id(&Value::Object(event.fields.clone())) == expected)
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: no record renders like the JSON (record {record_id})",
                            evtx.display()
                        )
                    })
            }
        };
        let system_time: jiff::Timestamp =
            expected["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
        let decoded = event.time.unwrap();
        assert_eq!(
            decoded.as_microsecond(),
            system_time.as_microsecond(),
            "{}",
            evtx.display()
        );
    }
    renumbered
}

/// Two real single-chunk files joined under one file header, the first chunk's magic broken:
/// the broken chunk is a counted error naming chunk 0, the second chunk's records still come.
#[test]
fn a_corrupt_evtx_chunk_is_an_error_and_the_next_chunk_still_decodes() {
    let Some(data) = rampart_testkit::corpus("evtx_corrupt_chunk") else {
        return;
    };
    let dir = data.join("sigma/regression_data/rules/windows/registry");
    let first = std::fs::read(dir.join("registry_delete/registry_delete_disable_credential_guard/d645ef86-2396-48a1-a2b6-b629ca3f57ff.evtx")).unwrap();
    let second = std::fs::read(dir.join("registry_set/registry_set_add_load_service_in_safe_mode/1547e27c-3974-43e2-a7d7-7f484fb928ec.evtx")).unwrap();
    const HEADER: usize = 4096;
    assert_eq!(
        (first.len(), second.len()),
        (HEADER + 65536, HEADER + 65536)
    );
    let (intact, _) = decode_file(&dir.join("registry_set/registry_set_add_load_service_in_safe_mode/1547e27c-3974-43e2-a7d7-7f484fb928ec.evtx"));
    let mut joined = first.clone();
    joined[HEADER..HEADER + 7].copy_from_slice(b"BadChnk");
    joined.extend_from_slice(&second[HEADER..]);
    let mut sink = Collect::default();
    let summary = decode::decode_reader(
        "evtx",
        "joined.evtx",
        &mut joined.as_slice(),
        &options(),
        &mut sink,
    )
    .unwrap();
    assert_eq!(summary.events, intact.events.len() as u64);
    assert_eq!(summary.errors, 1);
    assert!(
        matches!(&sink.errors[0], DecodeError::Chunk { chunk: 0, input, .. } if input == "joined.evtx"),
        "{}",
        sink.errors[0]
    );
    assert_eq!(sink.events[0].fields, intact.events[0].fields);
}

#[test]
fn zeek_tsv_and_json_writers_give_the_same_field_names() {
    let Some(data) = rampart_testkit::corpus("zeek_tsv_json_schema") else {
        return;
    };
    let compound = data.join("logs/security-datasets/compound");
    let tsv_dir =
        compound.join("LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump_zeek_logs");
    let json_dir = compound.join("apt29/day1/zeek/SCRANTON-zeek_logs");
    // Fields one side has and the other lacks because the two sensors ran different Zeek
    // versions and packages (checked by diffing the `#fields` line with the JSON keys).
    let version_differences: BTreeMap<&str, &[&str]> = BTreeMap::from([
        (
            "conn",
            &[
                "local_orig",
                "local_resp",
                "tunnel_parents",
                "orig_l2_addr",
                "resp_l2_addr",
            ][..],
        ),
        ("dns", &[][..]),
        (
            "kerberos",
            &[
                "client_cert_fuid",
                "client_cert_subject",
                "from",
                "server_cert_fuid",
                "server_cert_subject",
            ][..],
        ),
        ("pe", &[][..]),
        ("weird", &["source"][..]),
        ("smb_mapping", &["native_file_system", "service"][..]),
    ]);
    for (log, differences) in version_differences {
        let (tsv, _) = decode_file(&tsv_dir.join(format!("{log}.log")));
        let (json, _) = decode_file(&json_dir.join(format!("{log}.log")));
        assert!(
            tsv.events
                .iter()
                .chain(&json.events)
                .all(|event| event.format == format!("zeek.{log}"))
        );
        let names = |events: &[Event]| -> BTreeSet<String> {
            events
                .iter()
                .flat_map(|event| event.fields.keys().cloned())
                .filter(|name| !name.starts_with('@') && !differences.contains(&name.as_str()))
                .collect()
        };
        let declared: BTreeSet<String> =
            std::fs::read_to_string(tsv_dir.join(format!("{log}.log")))
                .unwrap()
                .lines()
                .find_map(|line| line.strip_prefix("#fields\t"))
                .unwrap()
                .split('\t')
                .filter(|name| !differences.contains(name))
                .map(str::to_owned)
                .collect();
        let json_names = names(&json.events);
        assert_eq!(json_names, declared, "zeek {log}: JSON keys vs TSV #fields");
        // Values of the same field have the same JSON type on both sides.
        for name in names(&tsv.events).intersection(&json_names) {
            let kind = |events: &[Event]| {
                events
                    .iter()
                    .find_map(|event| event.fields.get(name))
                    .map(json_kind)
            };
            assert_eq!(
                kind(&tsv.events),
                kind(&json.events),
                "zeek {log} field {name}"
            );
        }
    }
}

/// GUIDs as upper case without braces, RFC 3339 times with at most 6 fraction digits, no
/// trailing spaces (one sample's export keeps a space after a command line that the
/// rendering beside it does not have).
fn normalise_export(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| (key.clone(), normalise_export(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalise_export).collect()),
        Value::String(text) => {
            let bare = text.trim_start_matches('{').trim_end_matches('}');
            let is_guid = bare.len() == 36
                && bare.char_indices().all(|(at, ch)| {
                    if [8, 13, 18, 23].contains(&at) {
                        ch == '-'
                    } else {
                        ch.is_ascii_hexdigit()
                    }
                });
            if is_guid {
                return Value::String(bare.to_ascii_uppercase());
            }
            if let Some(fraction) = text
                .strip_suffix('Z')
                .and_then(|rest| rest.rsplit_once('.'))
                && fraction.1.len() == 7
                && fraction.1.bytes().all(|byte| byte.is_ascii_digit())
            {
                return Value::String(format!("{}.{}Z", fraction.0, &fraction.1[..6]));
            }
            Value::String(text.trim_end().to_owned())
        }
        other => other.clone(),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[test]
fn apache_combined_log_decodes_every_line() {
    let Some(data) = rampart_testkit::corpus("apache_combined") else {
        return;
    };
    let (sink, summary) = decode_file(&data.join("logs/web/elastic-examples/apache_logs"));
    // `wc -l apache_logs` is 10000.
    assert_eq!(
        summary,
        Summary {
            events: 10000,
            errors: 0
        },
        "{:?}",
        sink.errors.first()
    );
    assert!(
        sink.events
            .iter()
            .all(|event| event.format == "apache" && event.time.is_some())
    );
    let first = &sink.events[0];
    assert_eq!(first.get_str("clientip"), Some("83.149.9.216"));
    assert_eq!(
        first.get_str("request"),
        Some("/presentations/logstash-monitorama-2013/images/kibana-search.png")
    );
    assert_eq!(first.get("bytes"), Some(&Value::from(203023)));
    // Line 8899 is cut inside the user agent; the request is kept.
    let truncated = &sink.events[8898];
    assert_eq!(
        truncated.get_str("agent"),
        Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html")
    );
}

/// Per-format totals for the whole of `logs/`.
#[derive(Default)]
struct Tally {
    formats: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

impl Sink for Tally {
    fn event(&mut self, event: Event) {
        *self.formats.entry(event.format).or_default() += 1;
    }
    fn error(&mut self, error: DecodeError) {
        let kind = match &error {
            DecodeError::Record { decoder, .. } => format!("record/{decoder}"),
            DecodeError::Chunk { .. } => "chunk/evtx".into(),
            DecodeError::UnknownFormat { .. } => "unknown-format".into(),
            other => format!("input: {other}"),
        };
        *self.errors.entry(kind).or_default() += 1;
    }
}

#[test]
fn every_file_under_logs_decodes_without_panic() {
    let Some(data) = rampart_testkit::corpus("logs_all_files") else {
        return;
    };
    let mut files = Vec::new();
    walk(&data.join("logs"), &mut files);
    files.sort();
    let mut tally = Tally::default();
    let mut per_file = BTreeMap::new();
    for file in &files {
        let before: u64 = tally.formats.values().sum();
        match decode::decode_path(file, &options(), &mut tally) {
            Ok(summary) => {
                per_file.insert(file.clone(), summary);
            }
            Err(error) => tally.error(error),
        }
        let _ = before;
    }
    eprintln!("events per format: {:#?}", tally.formats);
    eprintln!("errors: {:#?}", tally.errors);
    assert_eq!(files.len(), 183);
    // Facts checked apart from the decoders: record counts by python-evtx (see the report),
    // line counts by `wc -l` / `zcat | wc -l` (minus Zeek `#` header lines).
    let count = |format: &str| tally.formats.get(format).copied().unwrap_or(0);
    assert_eq!(count("sshd"), 2000);
    assert_eq!(count("apache"), 10000);
    assert_eq!(count("proxifier"), 2000);
    // python-evtx 0.8 (`Evtx.Evtx(path).records()`) counts 900 records in the 108 files.
    assert_eq!(count("evtx"), 900);
    assert_eq!(tally.errors.get("chunk/evtx"), None);
    // The only file no decoder takes is the Log4Shell pcap.
    assert_eq!(
        tally.errors,
        BTreeMap::from([("unknown-format".to_owned(), 1)])
    );
    // `ls logs/evtx/**/*.evtx | wc -l` is 108; each gives at least one record.
    let evtx_files = per_file
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|ext| ext == "evtx"));
    assert_eq!(evtx_files.clone().count(), 108);
    assert!(
        evtx_files
            .clone()
            .all(|(_, summary)| summary.events > 0 && summary.errors == 0)
    );
    let text_line_counts = [
        ("loghub/OpenSSH/OpenSSH_2k.log", 2000),
        ("loghub/Linux/Linux_2k.log", 2000),
        ("loghub/Apache/Apache_2k.log", 2000),
        ("loghub/Proxifier/Proxifier_2k.log", 2000),
        ("web/elastic-examples/apache_logs", 10000),
    ];
    for (relative, lines) in text_line_counts {
        let summary = per_file[&data.join("logs").join(relative)];
        assert_eq!(summary.events + summary.errors, lines, "{relative}");
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
