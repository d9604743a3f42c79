//! Tests every format shares: names, determinism, and that hostile values and comments cannot
//! inject anything. Each format's own output is tested beside its renderer.

use std::collections::BTreeSet;

use rampart_model::{Indicator, IndicatorKind, Timestamp};

use super::*;

pub(crate) fn item(key: u64, kind: IndicatorKind, value: &str, comment: &str) -> ListItem {
    ListItem {
        key,
        indicator: Indicator::from_canonical(kind, value.to_owned()),
        comment: comment.to_owned(),
    }
}

pub(crate) fn meta(name: &str, serial: u64) -> ListMeta {
    let generated: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
    ListMeta::new(name, serial, generated)
}

pub(crate) fn render_with(format: Format, options: &RenderOptions, items: &[ListItem]) -> Rendered {
    render(format, &meta("test", 1), options, items).unwrap()
}

#[test]
fn format_names_round_trip_through_fromstr_and_serde() {
    let names: BTreeSet<&str> = Format::ALL.iter().map(|format| format.as_str()).collect();
    assert_eq!(names.len(), Format::ALL.len());
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        assert_eq!(format.to_string(), format.as_str());
        #[derive(serde::Deserialize)]
        struct Wrapper {
            format: Format,
        }
        let parsed: Wrapper = toml::from_str(&format!("format = \"{format}\"")).unwrap();
        assert_eq!(parsed.format, format);
        let file = format.file_name("c2");
        assert!(file.starts_with("c2") && !file.contains('/'), "{file}");
    }
    let error = "bind".parse::<Format>().unwrap_err();
    assert!(error.to_string().contains("postfix-cidr"), "{error}");
}

#[test]
fn list_names_are_validated() {
    for good in ["c2", "phishing-domains", "a_b-9"] {
        assert!(validate_list_name(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "C2",
        "9lives",
        "c2 list",
        "c2;x",
        "c2/x",
        "c2.list",
        &"a".repeat(49),
    ] {
        assert!(validate_list_name(bad).is_err(), "{bad:?}");
        let error =
            render(Format::Hosts, &meta(bad, 1), &RenderOptions::default(), &[]).unwrap_err();
        assert!(matches!(error, RenderError::InvalidListName { .. }));
    }
}

#[test]
fn options_deserialize_from_toml_with_defaults() {
    let options: RenderOptions = toml::from_str(
        r#"
        [rpz]
        origin = "rpz.example.org."
        policy = "drop"
        [suricata]
        ip_dataset_threshold = 10
        action = "drop"
        [postfix]
        action = "hold"
        [hosts]
        address = "127.0.0.1"
        "#,
    )
    .unwrap();
    assert_eq!(options.rpz.origin, "rpz.example.org.");
    assert_eq!(options.rpz.policy, RpzPolicy::Drop);
    assert_eq!(options.rpz.ttl, 300);
    assert_eq!(options.suricata.ip_dataset_threshold, 10);
    assert_eq!(options.suricata.action, RuleAction::Drop);
    assert_eq!(options.postfix.action, PostfixAction::Hold);
    assert_eq!(options.hosts.address.to_string(), "127.0.0.1");
    let redirect: RenderOptions =
        toml::from_str("[rpz]\npolicy = { redirect = \"garden.example.\" }\n").unwrap();
    assert_eq!(
        redirect.rpz.policy,
        RpzPolicy::Redirect("garden.example.".into())
    );
    assert!(toml::from_str::<RenderOptions>("[rpz]\norigni = \"x.\"\n").is_err());
    assert_eq!(
        toml::from_str::<RenderOptions>("").unwrap(),
        RenderOptions::default()
    );
}

/// One honest value of each kind.
fn honest_items(comment: &str) -> Vec<ListItem> {
    vec![
        item(1, IndicatorKind::Ipv4, "198.51.100.7", comment),
        item(2, IndicatorKind::Ipv6, "2001:db8::7", comment),
        item(3, IndicatorKind::Cidr, "203.0.113.0/24", comment),
        item(4, IndicatorKind::Domain, "evil.example", comment),
        item(
            5,
            IndicatorKind::Url,
            "http://phish.example/login?a=1",
            comment,
        ),
        item(6, IndicatorKind::Email, "bob@spam.example", comment),
        item(
            7,
            IndicatorKind::Md5,
            "d41d8cd98f00b204e9800998ecf8427e",
            comment,
        ),
        item(
            8,
            IndicatorKind::Sha1,
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            comment,
        ),
        item(
            9,
            IndicatorKind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            comment,
        ),
        item(10, IndicatorKind::Sha512, &"c".repeat(128), comment),
    ]
}

/// Values no format may write, each with the marker `INJECTED` where it can hold one.
fn hostile_items() -> Vec<ListItem> {
    let mut items = Vec::new();
    let mut push = |kind, value: &str| {
        let key = 100 + items.len() as u64;
        items.push(item(key, kind, value, "hostile"));
    };
    for suffix in [
        "\nINJECTED",
        "\r\nINJECTED",
        "\"INJECTED",
        ";INJECTED",
        " INJECTED",
        "\tINJECTED",
        "}INJECTED",
        "/INJECTED",
        "|INJECTED",
        "\u{0}INJECTED",
    ] {
        push(IndicatorKind::Ipv4, &format!("192.0.2.1{suffix}"));
        push(IndicatorKind::Ipv6, &format!("2001:db8::1{suffix}"));
        push(IndicatorKind::Cidr, &format!("192.0.2.0/24{suffix}"));
        push(IndicatorKind::Domain, &format!("evil{suffix}.example"));
        push(IndicatorKind::Domain, &format!("evil.example{suffix}"));
    }
    for domain in [
        "<script>alert(1)</script>.example",
        "evil.example;reboot",
        "évil.example",
        "EVIL.example",
        "evil..example",
        "-evil.example",
    ] {
        push(IndicatorKind::Domain, domain);
    }
    for suffix in [
        "\nINJECTED",
        " INJECTED",
        "\tINJECTED",
        "\"INJECTED",
        "}INJECTED",
        "<INJECTED>",
        "\\INJECTED",
        "#INJECTED",
        "\u{7f}INJECTED",
        "é",
    ] {
        push(
            IndicatorKind::Url,
            &format!("http://phish.example/a{suffix}"),
        );
    }
    push(IndicatorKind::Url, "http://evil;INJECTED.example/");
    push(IndicatorKind::Url, "evil.example/INJECTED");
    for local in [
        "bob\nINJECTED",
        "bob INJECTED",
        "bob\"INJECTED",
        "bob;INJECTED",
        "bob<INJECTED>",
        "bob,INJECTED",
        "bob\tINJECTED",
    ] {
        push(IndicatorKind::Email, &format!("{local}@spam.example"));
    }
    push(IndicatorKind::Email, "bob@spam.example\nINJECTED");
    push(IndicatorKind::Email, "bob@spam/INJECTED.example");
    push(IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf8427\n");
    push(IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf84;7e");
    push(
        IndicatorKind::Sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85\"",
    );
    items
}

const HOSTILE_COMMENT: &str =
    "reason\nINJECTED CNAME .\r\n\"; sid:1; rev:1;)\n} flush ruleset\t#x\u{0}\u{1b}[2J\u{2028}end";

#[test]
fn hostile_values_are_rejected_and_hostile_comments_stay_on_their_line() {
    let options = RenderOptions::default();
    for format in Format::ALL {
        let plain = render_with(format, &options, &honest_items("plain reason"));
        let mut items = honest_items(HOSTILE_COMMENT);
        let hostile = hostile_items();
        items.extend(hostile.iter().cloned());
        let rendered = render_with(format, &options, &items);

        let taken = renderer(format, &options).kinds();
        let hostile_taken: BTreeSet<u64> = hostile
            .iter()
            .filter(|item| taken.contains(&item.indicator.kind()))
            .map(|item| item.key)
            .collect();
        let rejected: BTreeSet<u64> = rendered
            .rejected
            .iter()
            .map(|rejected| rejected.key)
            .collect();
        assert_eq!(
            rejected, hostile_taken,
            "{format}: every hostile value of a taken kind is rejected"
        );
        assert_eq!(rendered.written, plain.written, "{format}");
        assert_eq!(
            rendered.body.lines().count(),
            plain.body.lines().count(),
            "{format}: a hostile comment added a line:\n{}",
            rendered.body
        );
        let lines_with_marker = rendered
            .body
            .lines()
            .filter(|line| line.contains("INJECTED"))
            .count();
        let lines_with_comment = rendered
            .body
            .lines()
            .filter(|line| line.contains("INJECTED CNAME"))
            .count();
        assert_eq!(
            lines_with_marker, lines_with_comment,
            "{format}: a hostile value was written"
        );
        let forbidden: &[char] = if format == Format::Zeek {
            &['\r', '\0', '\u{1b}', '\u{2028}']
        } else {
            &['\r', '\0', '\u{1b}', '\u{2028}', '\t']
        };
        assert!(
            !rendered.body.contains(forbidden),
            "{format}: a control character got through"
        );
        if format == Format::Zeek {
            // Four columns: three tabs on every line but the `#fields` header.
            for line in rendered.body.lines().skip(1) {
                assert_eq!(line.matches('\t').count(), 3, "{line:?}");
            }
        }
    }
}

#[test]
fn output_does_not_depend_on_input_order() {
    let options = RenderOptions::default();
    let items = honest_items("reason");
    let mut reversed = items.clone();
    reversed.reverse();
    for format in Format::ALL {
        let forward = render_with(format, &options, &items);
        let backward = render_with(format, &options, &reversed);
        assert_eq!(forward.body, backward.body, "{format}");
        assert_eq!(forward.etag(), backward.etag(), "{format}");
        assert_eq!(
            forward.written + forward.skipped + forward.rejected.len(),
            items.len(),
            "{format}"
        );
    }
}

#[test]
fn every_format_renders_an_empty_list() {
    for format in Format::ALL {
        let rendered = render_with(format, &RenderOptions::default(), &[]);
        assert_eq!((rendered.written, rendered.skipped), (0, 0), "{format}");
        assert!(rendered.rejected.is_empty());
    }
}

#[test]
fn every_format_writes_its_honest_kinds() {
    let options = RenderOptions::default();
    let items = honest_items("reason");
    for format in Format::ALL {
        let rendered = render_with(format, &options, &items);
        assert!(
            rendered.rejected.is_empty(),
            "{format}: {:?}",
            rendered.rejected
        );
        assert!(rendered.written > 0, "{format}");
        assert_eq!(renderer(format, &options).format(), format);
    }
}

#[test]
fn the_prefix_sort_gives_the_item_order() {
    let values = [
        "",
        "a",
        "ab",
        "ab\u{0}",
        "abcdefgh",
        "abcdefghi",
        "abcdefgh0",
        "abcdefgg",
        "b",
        "évil",
        "http://site1/",
        "http://site1/a",
        "http://site0/z",
    ];
    let mut items = Vec::new();
    for (index, value) in values.iter().enumerate() {
        for kind in [IndicatorKind::Domain, IndicatorKind::Url] {
            items.push(item(index as u64 % 3, kind, value, ""));
            items.push(item(100 - index as u64, kind, value, ""));
        }
    }
    let mut expected: Vec<&ListItem> = items.iter().collect();
    expected.sort_by(|a, b| item_order(a, b));
    let mut sorted: Vec<&ListItem> = items.iter().rev().collect();
    sort_items(&mut sorted);
    assert_eq!(sorted, expected);
}
