//! Grammar, precedence, error and extraction tests for STIX patterns.

use super::*;

fn parsed(source: &str) -> Pattern {
    match parse(source) {
        Ok(pattern) => pattern,
        Err(err) => panic!("{source}: {err}"),
    }
}

fn comparison(path: &str) -> ObservationExpr {
    let (object_type, key) = path.split_once(':').unwrap();
    ObservationExpr::Observation(ComparisonExpr::Comparison(Comparison {
        path: ObjectPath {
            object_type: object_type.into(),
            steps: vec![PathStep::Key(key.into())],
        },
        negated: false,
        test: Test::Compare(CompareOp::Equal, Literal::Int(1)),
    }))
}

#[test]
fn parses_every_form_of_the_grammar() {
    let sources = [
        "[ipv4-addr:value = '198.51.100.1/32']",
        "[ ipv4-addr:value = '10.0.0.0' ]",
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        "[file:hashes.md5 = '001dd76872d80801692ff942308c64e6']",
        "[email-message:from_ref.value MATCHES '.+\\\\banking@g0thamnatl\\\\.com$']",
        "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
        "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b']",
        "[file:extensions.'windows-pebinary-ext'.sections[0].entropy > 7.0]",
        "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']",
        "[network-traffic:dst_ref.value ISSUPERSET '198.51.100.0/24']",
        "[url:value LIKE '%evil%'] FOLLOWEDBY [domain-name:value != 'a.example']",
        "[file:size >= 10 AND file:size <= -1 AND file:size < +3 AND file:size > .5]",
        "[process:name NOT IN ('a', 'b', 'c') AND process:pid IN ()]",
        "[windows-registry-key:values[-1].data = h'00ff'] OR [artifact:payload_bin = b'AAE=']",
        "[file:created = t'2016-01-01T00:00:00Z' AND file:x = true AND file:y = false]",
        "[EXISTS file:hashes.MD5 OR (file:name = 'a' OR file:name <> 'b')]",
        "([a:b = 1] AND [c:d = 2]) WITHIN 300 SECONDS",
        "[a:b = 1] REPEATS 5 TIMES WITHIN 1.5 SECONDS",
        "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00.123Z'",
        "(([a:b = 1]) OR (([c:d = 2])))",
        "[a:b == 1] /* comment */ OR // line comment\n [c:d = 2]",
        "[x-custom-object:x_prop.'key with spaces' = 'it\\'s']",
    ];
    for source in sources {
        let pattern = parsed(source);
        let printed = pattern.to_string();
        assert_eq!(
            parse(&printed),
            Ok(pattern),
            "{source} printed as {printed}"
        );
    }
}

#[test]
fn observation_operators_bind_and_or_followedby_from_tightest() {
    let pattern = parsed("[a:a = 1] FOLLOWEDBY [b:b = 1] OR [c:c = 1] AND [d:d = 1]");
    assert_eq!(
        pattern.expression,
        ObservationExpr::FollowedBy(vec![
            comparison("a:a"),
            ObservationExpr::Or(vec![
                comparison("b:b"),
                ObservationExpr::And(vec![comparison("c:c"), comparison("d:d")]),
            ]),
        ])
    );
    let grouped = parsed("([a:a = 1] OR [b:b = 1]) AND [c:c = 1]");
    assert_eq!(
        grouped.expression,
        ObservationExpr::And(vec![
            ObservationExpr::Or(vec![comparison("a:a"), comparison("b:b")]),
            comparison("c:c"),
        ])
    );
    assert_eq!(
        grouped.to_string(),
        "([a:a = 1] OR [b:b = 1]) AND [c:c = 1]"
    );
}

#[test]
fn qualifiers_bind_to_the_observation_before_them() {
    let pattern = parsed("[a:a = 1] AND [b:b = 1] WITHIN 5 SECONDS");
    assert_eq!(
        pattern.expression,
        ObservationExpr::And(vec![
            comparison("a:a"),
            ObservationExpr::Qualified(Box::new(comparison("b:b")), Qualifier::Within(5.0)),
        ])
    );
    let whole = parsed("([a:a = 1] AND [b:b = 1]) REPEATS 2 TIMES");
    assert!(matches!(
        whole.expression,
        ObservationExpr::Qualified(_, Qualifier::Repeats(2))
    ));
    assert_eq!(
        whole.to_string(),
        "([a:a = 1] AND [b:b = 1]) REPEATS 2 TIMES"
    );
}

#[test]
fn comparison_and_binds_tighter_than_or() {
    let pattern = parsed("[a:a = 1 OR b:b = 1 AND c:c = 1]");
    let ObservationExpr::Observation(ComparisonExpr::Or(items)) = pattern.expression else {
        panic!("expected OR at the top");
    };
    assert!(matches!(items[0], ComparisonExpr::Comparison(_)));
    assert!(matches!(&items[1], ComparisonExpr::And(inner) if inner.len() == 2));
}

#[test]
fn reads_paths_and_literals() {
    let pattern =
        parsed(r"[file:extensions.'windows-pebinary-ext'.sections[*].name[0] NOT LIKE 'a\'b\\c']");
    let ObservationExpr::Observation(ComparisonExpr::Comparison(test)) = pattern.expression else {
        panic!("expected one comparison");
    };
    assert_eq!(test.path.object_type, "file");
    assert_eq!(
        test.path.steps,
        vec![
            PathStep::Key("extensions".into()),
            PathStep::Key("windows-pebinary-ext".into()),
            PathStep::Key("sections".into()),
            PathStep::AnyIndex,
            PathStep::Key("name".into()),
            PathStep::Index(0),
        ]
    );
    assert!(test.negated);
    assert_eq!(test.test, Test::Like("a'b\\c".into()));
    let set = parsed("[a:b IN (1, -2.5, 'x', true, b'AA==', h'ab', t'2020-01-01T00:00:00Z')]");
    let ObservationExpr::Observation(ComparisonExpr::Comparison(test)) = set.expression else {
        panic!("expected one comparison");
    };
    assert_eq!(
        test.test,
        Test::In(vec![
            Literal::Int(1),
            Literal::Float(-2.5),
            Literal::Str("x".into()),
            Literal::Bool(true),
            Literal::Binary("AA==".into()),
            Literal::Hex("ab".into()),
            Literal::Timestamp("2020-01-01T00:00:00Z".into()),
        ])
    );
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases = [
        ("", 1, "expected an observation expression"),
        (
            "ipv4-addr:value = '1.2.3.4'",
            1,
            "expected an observation expression ('[' or '('), found \"ipv4-addr\"",
        ),
        ("[ipv4-addr:value = ]", 20, "expected a literal, found ']'"),
        (
            "[ipv4-addr:value = '1.2.3.4'",
            29,
            "expected ']', AND or OR, found end of pattern",
        ),
        ("[ipv4-addr:value '1.2.3.4']", 18, "expected an operator"),
        (
            "[ipv4-addr value = 1]",
            12,
            "expected ':' after the object type",
        ),
        ("[a:b = 1] AND", 14, "expected an observation expression"),
        (
            "[a:b = 1] [c:d = 1]",
            11,
            "expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern",
        ),
        (
            "[a:b = 1] WITHIN 0 SECONDS",
            18,
            "expected a positive number of seconds",
        ),
        ("[a:b = 1] WITHIN 5 MINUTES", 20, "expected SECONDS"),
        (
            "[a:b = 1] REPEATS 2.5 TIMES",
            19,
            "expected a positive integer",
        ),
        (
            "[a:b = 1] START t'2016-01-01T00:00:00Z'",
            40,
            "expected STOP",
        ),
        ("[a:b > true]", 8, "expected a string, number"),
        ("[a:b LIKE 5]", 11, "expected a string"),
        ("[a:b IN ('x' 'y')]", 14, "expected ',' or ')'"),
        ("[a:b[x] = 1]", 6, "expected a list index or '*'"),
        ("[AND:b = 1]", 2, "expected an object path"),
        ("[a:b = 'x\\y']", 10, "invalid escape"),
        ("[é:b = 1]", 2, "unexpected character"),
        ("[a:é = 1]", 4, "unexpected character"),
        ("['é' = 1] é", 2, "expected an object path"),
    ];
    for (source, column, message) in cases {
        let err = parse(source).expect_err(source);
        assert_eq!(err.column, column, "{source}: {err}");
        assert!(err.message.contains(message), "{source}: {err}");
    }
}

#[test]
fn nesting_is_limited_and_long_chains_are_flat() {
    let deep = format!(
        "{}[a:b = 1]{}",
        "(".repeat(MAX_NESTING + 10),
        ")".repeat(MAX_NESTING + 10)
    );
    let err = parse(&deep).unwrap_err();
    assert!(err.message.contains("nesting deeper than"), "{err}");
    let ok = format!(
        "{}[a:b = 1]{}",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    parsed(&ok);
    let inner_deep = format!("[{}a:b = 1{}]", "(".repeat(200), ")".repeat(200));
    assert!(parse(&inner_deep).is_err());
    let long: Vec<String> = (0..20_000)
        .map(|i| format!("ipv4-addr:value = '10.0.{}.{}'", i / 256, i % 256))
        .collect();
    let pattern = parsed(&format!("[{}]", long.join(" OR ")));
    assert_eq!(extract(&pattern).values.len(), 20_000);
}

fn reasons(source: &str) -> (Vec<String>, Option<String>) {
    let extraction = extract(&parsed(source));
    (
        extraction.values.into_iter().map(|v| v.value).collect(),
        extraction.unenforced,
    )
}

#[test]
fn extracts_matchable_values_and_says_what_is_not_enforced() {
    let (values, unenforced) = reasons(
        "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.1'] \
         OR [file:hashes.'SHA-256' = 'x' OR file:hashes.sha1 = 'y' OR file:hashes.MD5 IN ('z', 'w')] \
         OR [email-message:from_ref.value = 'a@b.example' OR email-message:sender_ref.value = 'c@d.example']",
    );
    assert_eq!(
        values,
        [
            "a.example",
            "198.51.100.1",
            "x",
            "y",
            "z",
            "w",
            "a@b.example",
            "c@d.example"
        ]
    );
    assert_eq!(unenforced, None);

    let cases = [
        (
            "[url:value = 'u'] AND [url:value = 'v']",
            "observation expressions joined by AND are not enforced",
        ),
        (
            "[url:value = 'u'] FOLLOWEDBY [url:value = 'v']",
            "observation expressions joined by FOLLOWEDBY are not enforced",
        ),
        (
            "[url:value = 'u'] WITHIN 5 SECONDS",
            "WITHIN qualifier is not enforced",
        ),
        (
            "[url:value = 'u'] REPEATS 5 TIMES",
            "REPEATS qualifier is not enforced",
        ),
        (
            "[url:value = 'u'] START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00Z'",
            "START/STOP qualifier is not enforced",
        ),
        (
            "[url:value = 'u' AND url:value = 'v']",
            "comparisons joined by AND are not enforced",
        ),
        (
            "[url:value = 'u' OR file:name = 'CBricksDoc']",
            "comparison on file:name is not matchable",
        ),
        (
            "[url:value = 'u' OR url:value NOT = 'v']",
            "negated comparison on url:value is not enforced",
        ),
        (
            "[url:value = 'u' OR url:value LIKE 'v%']",
            "LIKE comparison on url:value is not matchable",
        ),
        (
            "[url:value = 'u' OR url:value != 'v']",
            "!= comparison on url:value is not matchable",
        ),
        (
            "[url:value = 'u' OR url:value = 5]",
            "non-string value compared with url:value is not matchable",
        ),
        (
            "[url:value = 'u' OR file:hashes.'SHA3-256' = 'v']",
            "comparison on file:hashes.'SHA3-256' is not matchable",
        ),
    ];
    for (source, reason) in cases {
        let (values, unenforced) = reasons(source);
        assert_eq!(values[0], "u", "{source}");
        assert_eq!(unenforced.as_deref(), Some(reason), "{source}");
    }
    let (values, unenforced) = reasons("[file:name = 'a'] AND [file:name = 'b'] WITHIN 5 SECONDS");
    assert!(values.is_empty());
    assert_eq!(
        unenforced.as_deref(),
        Some(
            "observation expressions joined by AND are not enforced; comparison on file:name is not matchable; \
             WITHIN qualifier is not enforced"
        )
    );
}

#[test]
fn targets_canonicalise_their_values() {
    let target = |object_type: &str, keys: &[&str]| {
        let steps: Vec<PathStep> = keys.iter().map(|k| PathStep::Key((*k).into())).collect();
        Target::of_path(object_type, &steps)
    };
    assert_eq!(
        target("file", &["hashes", "Sha-512"]),
        Some(Target::FileHash(rampart_model::IndicatorKind::Sha512))
    );
    assert_eq!(
        target("file", &["hashes", "SHA256"]),
        Some(Target::FileHash(rampart_model::IndicatorKind::Sha256))
    );
    assert_eq!(target("email-message", &["to_refs", "value"]), None);
    let cidr = Target::Ipv4Addr.indicator("203.0.113.0/24").unwrap();
    assert_eq!(cidr.kind(), rampart_model::IndicatorKind::Cidr);
    let single = Target::Ipv4Addr.indicator("203.0.113.9/32").unwrap();
    assert_eq!(single.kind(), rampart_model::IndicatorKind::Ipv4);
    assert_eq!(
        Target::Ipv6Addr.indicator("2001:db8::/32").unwrap().value(),
        "2001:db8::/32"
    );
    assert!(Target::Ipv4Addr.indicator("2001:db8::/32").is_err());
    assert!(Target::Ipv6Addr.indicator("198.51.100.0/24").is_err());
    assert!(
        Target::DomainName
            .indicator("domain autuo.xicp.net")
            .is_err()
    );
}

#[test]
fn quotes_strings_for_patterns() {
    assert_eq!(quote(r"it's a \ path"), r"'it\'s a \\ path'");
    let pattern = parsed(&format!("[url:value = {}]", quote(r"http://a.example/'\'")));
    assert_eq!(extract(&pattern).values[0].value, r"http://a.example/'\'");
}

/// Mutates valid patterns at random (fixed seed) and checks that parsing never panics and
/// that whatever parses prints back to the same tree.
#[test]
fn mutated_patterns_never_panic() {
    let seeds = [
        "[ipv4-addr:value = '198.51.100.0/24' OR domain-name:value IN ('a.example', 'b.example')]",
        "([file:hashes.'SHA-256' = 'ab' AND file:size > 10.5] FOLLOWEDBY [url:value LIKE '%x\\'%']) WITHIN 60 SECONDS",
        "[a:b[*].c NOT MATCHES '^x$'] REPEATS 3 TIMES START t'2016-01-01T00:00:00Z' STOP t'2017-01-01T00:00:00.5Z'",
        "[EXISTS x-c:d.'e-f'[0] OR (a:b = h'00' AND a:c = b'AA==')] OR [a:b != true]",
    ];
    let alphabet: Vec<&str> = vec![
        "[",
        "]",
        "(",
        ")",
        "'",
        "\\",
        ":",
        ".",
        ",",
        "*",
        "=",
        "!=",
        "<",
        ">=",
        " AND ",
        " OR ",
        " NOT ",
        " FOLLOWEDBY ",
        " WITHIN ",
        " SECONDS",
        " REPEATS ",
        " TIMES",
        " START ",
        " STOP ",
        " IN ",
        " LIKE ",
        " EXISTS ",
        "t'",
        "b'",
        "h'",
        "-",
        "+",
        "0",
        "9",
        "1.5",
        "é",
        "\u{0}",
        "/*",
        "//",
        "\n",
        "a",
        "Z",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed_ok = 0;
    for round in 0..20_000 {
        let mut text: Vec<char> = seeds[round % seeds.len()].chars().collect();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % (text.len() + 1);
            match next() % 3 {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 if at < text.len() => {
                    let piece = alphabet[(next() as usize) % alphabet.len()];
                    text.splice(at..at + 1, piece.chars());
                }
                _ => {
                    let piece = alphabet[(next() as usize) % alphabet.len()];
                    text.splice(at..at, piece.chars());
                }
            }
        }
        let source: String = text.into_iter().collect();
        if let Ok(pattern) = parse(&source) {
            parsed_ok += 1;
            let printed = pattern.to_string();
            assert_eq!(
                parse(&printed).as_ref(),
                Ok(&pattern),
                "{source} printed as {printed}"
            );
            let _ = extract(&pattern);
        }
    }
    assert!(parsed_ok > 100, "only {parsed_ok} mutants parsed");
}
