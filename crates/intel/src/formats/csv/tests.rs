use rampart_model::IndicatorKind;

use super::*;
use crate::formats::CollectSink;

fn options(pairs: &[(&str, &str)]) -> FormatOptions {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse(pairs: &[(&str, &str)], input: &[u8]) -> CollectSink {
    let format = CsvFormat::from_options(&options(pairs)).unwrap();
    let mut sink = CollectSink::default();
    format.parse(&mut &input[..], &mut sink).unwrap();
    sink
}

fn values(sink: &CollectSink) -> Vec<&str> {
    sink.observations
        .iter()
        .map(|o| o.indicator.value())
        .collect()
}

#[test]
fn header_line_names_the_columns() {
    let input = b"\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"malware\"\n\
        \"2021-01-17 07:30:05\",\"192.0.2.5\",\"443\",\"Dridex\"\n\
        # END (1) entries\n";
    let sink = parse(
        &[
            ("header", "true"),
            ("value", "dst_ip"),
            ("kind", "ipv4"),
            ("first_seen", "first_seen_utc"),
            ("port", "dst_port"),
            ("threat", "malware"),
        ],
        input,
    );
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections);
    let observation = &sink.observations[0];
    assert_eq!(observation.indicator.value(), "192.0.2.5");
    assert_eq!(observation.port, Some(443));
    assert_eq!(observation.threats, ["Dridex"]);
    assert_eq!(observation.reference, "line 2");
    assert_eq!(
        observation.first_seen.unwrap().to_string(),
        "2021-01-17T07:30:05Z"
    );
}

#[test]
fn header_in_comment_takes_the_last_header_like_comment() {
    let input = b"#####\n# Feed, generated 2019\n#\n# Dateadded (UTC),URL,Threat\n\
        2019-02-13 00:34:42,http://evil.example/a,malware_download\n# of entries: 1\n";
    let sink = parse(
        &[
            ("header_in_comment", "true"),
            ("value", "url"),
            ("labels", "threat,tags?"),
            ("first_seen", "dateadded"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["http://evil.example/a"]);
    assert_eq!(sink.observations[0].labels, ["malware_download"]);
    assert_eq!(sink.observations[0].reference, "line 5");
}

#[test]
fn missing_named_column_fails_the_document() {
    let format =
        CsvFormat::from_options(&options(&[("header", "true"), ("value", "ioc")])).unwrap();
    let err = format
        .parse(
            &mut &b"ip,port\n192.0.2.1,80\n"[..],
            &mut CollectSink::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("no column named \"ioc\""), "{err}");
    assert!(err.to_string().starts_with("line 1:"), "{err}");
    let format = CsvFormat::from_options(&options(&[("value", "ip")])).unwrap();
    let err = format
        .parse(&mut &b"192.0.2.1,80\n"[..], &mut CollectSink::default())
        .unwrap_err();
    assert!(err.to_string().contains("no header"), "{err}");
}

#[test]
fn negative_columns_survive_delimiters_inside_fields() {
    let input = b"# ASN | ASname | saddr | utc | category\n\
        1  |  TEST-AS company | With | pipe   |  192.0.2.4   |  2024-04-02 12:00:00  |  sshpwauth\n\
        14080 | Telmex |\n";
    let sink = parse(
        &[
            ("delimiter", "|"),
            ("value", "-3"),
            ("kind", "ipv4"),
            ("last_seen", "-2"),
            ("labels", "-1"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["192.0.2.4"]);
    assert_eq!(sink.observations[0].labels, ["sshpwauth"]);
    assert_eq!(sink.rejections.len(), 1);
    assert_eq!(sink.rejections[0].reference, "line 3");
}

#[test]
fn prefix_length_column_makes_networks() {
    let input =
        b"Start\tEnd\tNetblock\n198.51.100.0\t198.51.100.255\t24\n203.0.113.0\t203.0.113.255\t\n";
    let sink = parse(
        &[
            ("delimiter", "\\t"),
            ("header", "true"),
            ("value", "start"),
            ("prefix_length", "netblock"),
            ("kind", "cidr"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["198.51.100.0/24"]);
    assert_eq!(
        sink.rejections[0].to_string(),
        "line 3: column 2: missing prefix length"
    );
}

#[test]
fn kind_column_and_multiple_value_columns() {
    let input = b"type,value,url\nip-dst,2001:db8::1,\ndomain,evil.example,http://evil.example/x\nmutex,abc,\nmd5,nothex,\n";
    let sink = parse(
        &[
            ("header", "true"),
            ("value", "value,url"),
            ("kind_column", "type"),
        ],
        input,
    );
    // A fixed kind from the column applies to every value column of the row.
    assert_eq!(values(&sink), ["2001:db8::1", "evil.example"]);
    let kinds: Vec<_> = sink
        .observations
        .iter()
        .map(|o| o.indicator.kind())
        .collect();
    assert_eq!(kinds, [IndicatorKind::Ipv6, IndicatorKind::Domain]);
    let reasons: Vec<String> = sink.rejections.iter().map(ToString::to_string).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].starts_with("line 3: column 2:"), "{reasons:?}");
    assert!(
        reasons[1].starts_with("line 4: column 0: unknown indicator kind \"mutex\""),
        "{reasons:?}"
    );
    assert!(reasons[2].starts_with("line 5:"), "{reasons:?}");
}

#[test]
fn guessed_kinds_quotes_and_blank_lines() {
    let input = b"\"evil.example\",\"a,b\"\n\n   \n\"http://x.example/p\",\"c\"\nd41d8cd98f00b204e9800998ecf8427e\n";
    let sink = parse(&[("value", "0"), ("labels", "1")], input);
    assert_eq!(
        values(&sink),
        [
            "evil.example",
            "http://x.example/p",
            "d41d8cd98f00b204e9800998ecf8427e"
        ]
    );
    assert_eq!(sink.observations[0].labels, ["a", "b"]);
    assert_eq!(sink.observations[2].reference, "line 5");
}

#[test]
fn bad_fields_reject_the_row_with_its_line() {
    let input =
        b"192.0.2.1,notatime,,\n192.0.2.2,,200,\n192.0.2.3,,,99999\n192.0.2.4,1700000000,55,8080\n";
    let sink = parse(
        &[
            ("value", "0"),
            ("first_seen", "1"),
            ("confidence", "2"),
            ("port", "3"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["192.0.2.4"]);
    assert_eq!(sink.observations[0].confidence, Some(55));
    assert_eq!(sink.observations[0].port, Some(8080));
    let references: Vec<&str> = sink
        .rejections
        .iter()
        .map(|r| r.reference.as_str())
        .collect();
    assert_eq!(references, ["line 1", "line 2", "line 3"]);
}

#[test]
fn bad_utf8_bom_crlf_and_skipped_lines() {
    let input = b"garbage line\r\n\xef\xbb\xbfnot,skipped\r\n192.0.2.9,caf\xe9\r\n";
    let sink = parse(
        &[
            ("skip_header_lines", "1"),
            ("header", "true"),
            ("value", "not"),
            ("labels", "skipped"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["192.0.2.9"]);
    assert_eq!(sink.observations[0].labels, ["caf\u{fffd}"]);
    assert_eq!(sink.observations[0].reference, "line 3");
}

#[test]
fn semicolon_comments_and_delimiter_together() {
    let input =
        b"; Spamhaus DROP List\n1.4.0.0/17 ; SBL256893\n2a06:e480::/29 ; SBL301771\n; EOF\n";
    let sink = parse(
        &[
            ("delimiter", ";"),
            ("comment", ";"),
            ("value", "0"),
            ("kind", "cidr"),
        ],
        input,
    );
    assert_eq!(values(&sink), ["1.4.0.0/17", "2a06:e480::/29"]);
    assert!(sink.rejections.is_empty());
}

#[test]
fn unclosed_quote_does_not_panic() {
    let sink = parse(&[("value", "0")], b"\"192.0.2.1\n192.0.2.2\n");
    assert_eq!(sink.observations.len() + sink.rejections.len(), 1);
}

#[test]
fn options_are_checked() {
    for bad in [
        vec![("value", "0"), ("delimiter", "ab")],
        vec![("value", "0"), ("header", "maybe")],
        vec![("value", "0"), ("colour", "red")],
        vec![("value", "0"), ("kind", "mutex")],
        vec![("value", "0"), ("kind", "ip"), ("kind_column", "1")],
        vec![("header", "true")],
    ] {
        assert!(CsvFormat::from_options(&options(&bad)).is_err(), "{bad:?}");
    }
}
