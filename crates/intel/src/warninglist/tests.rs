use super::*;

fn list(name: &str, list_type: &str, attributes: &[&str], entries: &[&str]) -> WarninglistFile {
    WarninglistFile {
        name: name.to_owned(),
        description: String::new(),
        list_type: list_type.to_owned(),
        version: 1,
        list: entries.iter().map(|e| e.to_string()).collect(),
        matching_attributes: attributes.iter().map(|a| a.to_string()).collect(),
    }
}

fn fixture() -> (Warninglists, LoadReport) {
    let mut builder = Warninglists::builder();
    let ip = ["ip-src", "ip-dst", "domain|ip"];
    let host = ["domain", "hostname", "url"];
    builder
        .add(
            "dns",
            list(
                "DNS resolvers",
                "cidr",
                &ip,
                &["192.0.2.53", "2001:db8:53::/48", "bogus/99"],
            ),
        )
        .unwrap();
    builder
        .add(
            "private",
            list("Private", "cidr", &ip, &["10.0.0.0/8", "10.1.0.0/16"]),
        )
        .unwrap();
    builder
        .add(
            "top",
            list(
                "Top sites",
                "string",
                &host,
                &["Example.COM", ".cdn.example"],
            ),
        )
        .unwrap();
    builder
        .add(
            "short",
            list(
                "Shorteners",
                "hostname",
                &host,
                &["sho.rt", "*.tiny.example."],
            ),
        )
        .unwrap();
    builder
        .add(
            "hashes",
            list(
                "Empty hashes",
                "string",
                &["md5", "sha1"],
                &["D41D8CD98F00B204E9800998ECF8427E"],
            ),
        )
        .unwrap();
    builder
        .add(
            "mail",
            list("Disposable", "substring", &["email-src"], &["trash-mail"]),
        )
        .unwrap();
    builder
        .add(
            "contacts",
            list(
                "Contacts",
                "regex",
                &["email-dst"],
                &["/^(abuse|noc)\\@.*$/i", "/(unclosed/", "/x/q"],
            ),
        )
        .unwrap();
    builder
        .add(
            "phones",
            list("Phones", "regex", &["phone-number"], &["/555/g"]),
        )
        .unwrap();
    builder.build().unwrap()
}

fn ids(lists: &Warninglists, raw: &str) -> Vec<String> {
    let indicator = Indicator::guess(raw).unwrap();
    lists
        .matches(&indicator)
        .iter()
        .map(|list| list.id.clone())
        .collect()
}

#[test]
fn each_type_matches_its_way() {
    let (lists, _) = fixture();
    assert_eq!(ids(&lists, "192.0.2.53"), ["dns"]);
    assert_eq!(ids(&lists, "2001:db8:53::1"), ["dns"]);
    assert_eq!(ids(&lists, "10.1.2.3"), ["private"]);
    assert_eq!(ids(&lists, "10.1.0.0/24"), ["private"]);
    assert_eq!(
        ids(&lists, "10.0.0.0/7"),
        Vec::<String>::new(),
        "a wider network is not inside the list"
    );
    assert_eq!(ids(&lists, "example.com"), ["top"]);
    assert_eq!(
        ids(&lists, "www.example.com"),
        Vec::<String>::new(),
        "string lists are exact"
    );
    assert_eq!(
        ids(&lists, "a.b.cdn.example"),
        ["top"],
        "leading dot is a suffix entry"
    );
    assert_eq!(
        ids(&lists, "https://example.com/x"),
        ["top"],
        "url host against a string list"
    );
    assert_eq!(ids(&lists, "sho.rt"), ["short"]);
    assert_eq!(ids(&lists, "https://go.sho.rt/abc"), ["short"]);
    assert_eq!(ids(&lists, "x.tiny.example"), ["short"]);
    assert_eq!(ids(&lists, "notsho.rt"), Vec::<String>::new());
    assert_eq!(ids(&lists, "d41d8cd98f00b204e9800998ecf8427e"), ["hashes"]);
    assert_eq!(ids(&lists, "bob@Trash-Mail.example"), ["mail"]);
    assert_eq!(ids(&lists, "ABUSE@corp.example"), ["contacts"]);
}

#[test]
fn lists_apply_only_to_their_kinds() {
    let (lists, _) = fixture();
    // `hostname` kinds do not include email, so the shortener's host in an address is ignored.
    assert_eq!(ids(&lists, "x@sho.rt"), Vec::<String>::new());
    // The hashes list names md5 and sha1, not sha256.
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(ids(&lists, sha256), Vec::<String>::new());
    let phones = lists
        .lists()
        .iter()
        .find(|list| list.id == "phones")
        .unwrap();
    assert!(phones.kinds.is_empty());
}

#[test]
fn bad_entries_are_reported_not_fatal() {
    let (lists, report) = fixture();
    assert_eq!(report.lists, 8);
    assert_eq!(report.skipped_entries, 3);
    let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("dns: 1 entries skipped"),
        "{problems:?}"
    );
    assert!(
        problems[1].starts_with("contacts: 2 entries skipped"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("unsupported regex flag 'q'"),
        "{problems:?}"
    );
    assert_eq!(lists.lists()[0].entries, 2);
}

#[test]
fn broken_documents_and_unknown_types_are_skipped() {
    let mut builder = Warninglists::builder();
    assert!(builder.add_json("broken", b"{\"name\": ").is_err());
    assert!(
        builder
            .add("odd", list("Odd", "bloom", &[], &["x"]))
            .is_err()
    );
    builder
        .add("ok", list("Fine", "string", &[], &["evil.example"]))
        .unwrap();
    let (lists, report) = builder.build().unwrap();
    assert_eq!(report.lists, 1);
    assert_eq!(report.problems.len(), 2);
    // No matching_attributes: the list applies to every kind.
    assert_eq!(ids(&lists, "evil.example"), ["ok"]);
}

#[test]
fn suppression_reason_names_the_list() {
    let (lists, _) = fixture();
    let ip = Indicator::guess("10.9.9.9").unwrap();
    assert_eq!(lists.reason(&ip).as_deref(), Some("warninglist: Private"));
    assert_eq!(
        lists.reason(&Indicator::guess("203.0.113.1").unwrap()),
        None
    );
}

#[test]
fn pcre_delimiters_become_inline_flags() {
    assert_eq!(pcre_to_rust("/^a$/i").unwrap(), "(?i)^a$");
    assert_eq!(pcre_to_rust("/a/b/g").unwrap(), "a/b");
    assert_eq!(pcre_to_rust("plain").unwrap(), "plain");
    assert!(pcre_to_rust("/a/e").is_err());
}
