//! Line formats with no checker to run here (Zeek intel, EDLs, hosts, Suricata datasets): each
//! is parsed back the way its reader splits it and compared with the honest input values.

mod common;

use std::collections::BTreeSet;

use base64::Engine;
use common::{hostile_items, mixed_items, render};
use rampart_respond::blocklist::{Format, RenderOptions};

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn items() -> Vec<rampart_respond::blocklist::ListItem> {
    let mut items = mixed_items();
    items.extend(hostile_items());
    items
}

#[test]
fn zeek_intel_reads_back_as_four_tab_separated_columns() {
    let rendered = render(Format::Zeek, "spam", &RenderOptions::default(), &items());
    assert_eq!(rendered.rejected.len(), 6);
    let mut lines = rendered.body.lines();
    assert_eq!(
        lines.next(),
        Some("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc")
    );
    let mut indicators = BTreeSet::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line:?}");
        assert!(fields[1].starts_with("Intel::"), "{line:?}");
        assert_eq!(fields[2], "rampart:spam");
        assert!(!fields[3].is_empty());
        indicators.insert(format!("{} {}", fields[1], fields[0]));
    }
    let expected = set(&[
        "Intel::ADDR 198.51.100.7",
        "Intel::ADDR 192.0.2.200",
        "Intel::ADDR 2001:db8::7",
        "Intel::ADDR 2001:db8:0:1:1:1:1:1",
        "Intel::ADDR 2001:db8::1:0:0:1",
        "Intel::ADDR ::ffff:192.0.2.33",
        "Intel::SUBNET 203.0.113.0/24",
        "Intel::SUBNET 10.20.0.0/16",
        "Intel::SUBNET 2001:db8:abcd::/48",
        "Intel::DOMAIN evil.example",
        "Intel::DOMAIN c2.bad-actor.example",
        "Intel::DOMAIN _dmarc.spoof.example",
        "Intel::DOMAIN xn--bcher-kva.example",
        "Intel::URL phish.example/login.php?user=a;b|c",
        "Intel::URL drop.example:8443/p/a+b(1)",
        "Intel::URL 198.51.100.9/gate.php",
        "Intel::URL root.example/",
        "Intel::EMAIL bob@spam.example",
        "Intel::EMAIL o'brien+tag/x@mail.spam.example",
        "Intel::FILE_HASH d41d8cd98f00b204e9800998ecf8427e",
        "Intel::FILE_HASH e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]);
    assert_eq!(indicators, expected);
}

#[test]
fn edl_lists_read_back_one_entry_per_line() {
    let options = RenderOptions::default();
    let lines = |format| -> BTreeSet<String> {
        let rendered = render(format, "spam", &options, &items());
        assert!(rendered.body.ends_with('\n') || rendered.body.is_empty());
        rendered.body.lines().map(str::to_owned).collect()
    };
    assert_eq!(
        lines(Format::EdlIp),
        set(&[
            "198.51.100.7",
            "192.0.2.200",
            "2001:db8::7",
            "2001:db8:0:1:1:1:1:1",
            "2001:db8::1:0:0:1",
            "::ffff:192.0.2.33",
            "203.0.113.0/24",
            "10.20.0.0/16",
            "2001:db8:abcd::/48",
        ])
    );
    let domains = [
        "evil.example",
        "c2.bad-actor.example",
        "_dmarc.spoof.example",
        "xn--bcher-kva.example",
    ];
    let mut expected = set(&domains);
    expected.extend(domains.iter().map(|domain| format!("*.{domain}")));
    assert_eq!(lines(Format::EdlDomain), expected);
    assert_eq!(
        lines(Format::EdlUrl),
        set(&[
            "phish.example/login.php?user=a;b|c",
            "drop.example:8443/p/a+b(1)",
            "198.51.100.9/gate.php",
            "root.example/"
        ])
    );
}

#[test]
fn hosts_file_reads_back_as_address_and_name() {
    let rendered = render(Format::Hosts, "spam", &RenderOptions::default(), &items());
    let mut names = BTreeSet::new();
    for line in rendered.body.lines() {
        // hosts(5): `#` starts a comment; fields are separated by blanks.
        let data = line.split('#').next().unwrap();
        let fields: Vec<&str> = data.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        assert_eq!(fields.len(), 2, "{line:?}");
        assert_eq!(fields[0], "0.0.0.0");
        names.insert(fields[1].to_owned());
    }
    assert_eq!(
        names,
        set(&[
            "evil.example",
            "c2.bad-actor.example",
            "_dmarc.spoof.example",
            "xn--bcher-kva.example"
        ])
    );
}

#[test]
fn dataset_files_read_back_in_their_encodings() {
    let options = RenderOptions::default();
    let domains = render(Format::SuricataDatasetDomains, "spam", &options, &items());
    let decoded: BTreeSet<String> = domains
        .body
        .lines()
        .map(|line| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(line)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        })
        .collect();
    assert_eq!(
        decoded,
        set(&[
            "evil.example",
            "c2.bad-actor.example",
            "_dmarc.spoof.example",
            "xn--bcher-kva.example"
        ])
    );
    assert_eq!(domains.rejected.len(), 2);
    let md5 = render(Format::SuricataDatasetMd5, "spam", &options, &items());
    assert_eq!(md5.body, "d41d8cd98f00b204e9800998ecf8427e\n");
    let sha256 = render(Format::SuricataDatasetSha256, "spam", &options, &items());
    assert_eq!(
        sha256.body,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    );
}
