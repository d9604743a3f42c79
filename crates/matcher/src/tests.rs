//! Lookups of every kind, the delta overlay seen through the handle, and merges that must
//! equal a fresh build.

use std::net::IpAddr;

use jiff::Timestamp;
use proptest::prelude::*;
use rampart_model::{Indicator, IndicatorKind};

use crate::matcher::entries_of;
use crate::{Change, Consumer, Entry, Matcher, MatcherConfig, ValueHint, canonical_url};

fn entry(id: i64, kind: IndicatorKind, raw: &str, score: u8) -> Entry {
    let indicator = Indicator::parse(kind, raw).expect("valid test indicator");
    Entry {
        id,
        kind: indicator.kind(),
        value: indicator.into_value(),
        score,
        sources: vec!["feed-a".into()],
        expires: None,
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn sample() -> Vec<Entry> {
    vec![
        entry(1, IndicatorKind::Ipv4, "192.0.2.10", 80),
        entry(2, IndicatorKind::Cidr, "10.0.0.0/8", 40),
        entry(3, IndicatorKind::Cidr, "10.1.0.0/16", 50),
        entry(4, IndicatorKind::Cidr, "10.1.2.0/24", 60),
        entry(5, IndicatorKind::Ipv6, "2001:db8::1", 70),
        entry(6, IndicatorKind::Cidr, "2001:db8::/32", 30),
        entry(7, IndicatorKind::Cidr, "2001:db8:aa::/48", 35),
        entry(8, IndicatorKind::Domain, "evil.com", 90),
        entry(9, IndicatorKind::Domain, "b.evil.com", 45),
        entry(10, IndicatorKind::Domain, "bücher.example", 55),
        entry(11, IndicatorKind::Url, "http://evil.com/login.php?a=1", 65),
        entry(
            12,
            IndicatorKind::Md5,
            "D41D8CD98F00B204E9800998ECF8427E",
            75,
        ),
        entry(13, IndicatorKind::Sha256, &"ab".repeat(32), 85),
        entry(14, IndicatorKind::Email, "Phisher@Evil.com", 95),
        entry(15, IndicatorKind::Sha1, &"cd".repeat(20), 20),
    ]
}

#[test]
fn ipv4_exact_then_longest_prefix() {
    let matcher = Matcher::new(&sample(), MatcherConfig::default());
    let view = matcher.view();
    assert_eq!(view.lookup_ip(ip("192.0.2.10")).map(|h| h.id), Some(1));
    assert_eq!(view.lookup_ip(ip("192.0.2.11")).map(|h| h.id), None);
    let hit = view.lookup_ip(ip("10.1.2.3")).expect("in 10.1.2.0/24");
    assert_eq!(
        (hit.id, hit.value, hit.kind),
        (4, "10.1.2.0/24", IndicatorKind::Cidr)
    );
    assert_eq!(
        view.lookup_ip(ip("10.1.3.3")).map(|h| h.value),
        Some("10.1.0.0/16")
    );
    assert_eq!(
        view.lookup_ip(ip("10.200.0.1")).map(|h| h.value),
        Some("10.0.0.0/8")
    );
    assert_eq!(view.lookup_ip(ip("11.0.0.0")).map(|h| h.id), None);
    // An IPv4-mapped IPv6 address is the IPv4 host.
    assert_eq!(view.lookup_ip(ip("::ffff:10.1.2.3")).map(|h| h.id), Some(4));
}

#[test]
fn ipv6_exact_then_longest_prefix() {
    let matcher = Matcher::new(&sample(), MatcherConfig::default());
    let view = matcher.view();
    assert_eq!(view.lookup_ip(ip("2001:db8::1")).map(|h| h.id), Some(5));
    assert_eq!(view.lookup_ip(ip("2001:db8:aa::5")).map(|h| h.id), Some(7));
    assert_eq!(view.lookup_ip(ip("2001:db8:ab::5")).map(|h| h.id), Some(6));
    assert_eq!(view.lookup_ip(ip("2001:db9::1")).map(|h| h.id), None);
    assert_eq!(
        view.lookup(ValueHint::Ip, "[2001:DB8::1]").map(|h| h.id),
        Some(5)
    );
}

#[test]
fn domains_exact_parent_case_idn_and_trailing_dot() {
    let matcher = Matcher::new(&sample(), MatcherConfig::default());
    let view = matcher.view();
    assert_eq!(view.lookup_domain("evil.com").map(|h| h.id), Some(8));
    let hit = view.lookup_domain("x.y.EVIL.com.").expect("parent domain");
    assert_eq!((hit.id, hit.value), (8, "evil.com"));
    // The most specific listed parent wins.
    assert_eq!(view.lookup_domain("a.b.evil.com").map(|h| h.id), Some(9));
    assert_eq!(view.lookup_domain("notevil.com").map(|h| h.id), None);
    assert_eq!(view.lookup_domain("com").map(|h| h.id), None);
    assert_eq!(
        view.lookup_domain("www.BÜCHER.example").map(|h| h.id),
        Some(10)
    );
    assert_eq!(
        view.lookup_domain("www.xn--bcher-kva.example")
            .map(|h| h.id),
        Some(10)
    );
    // Events are not refanged.
    assert_eq!(
        view.lookup(ValueHint::Domain, "evil[.]com").map(|h| h.id),
        None
    );
}

#[test]
fn urls_hashes_and_emails() {
    let matcher = Matcher::new(&sample(), MatcherConfig::default());
    let view = matcher.view();
    let canonical = canonical_url("HTTP://Evil.COM:80/login.php?a=1#top").expect("a URL");
    assert_eq!(canonical, "http://evil.com/login.php?a=1");
    assert_eq!(view.lookup_url(&canonical).map(|h| h.id), Some(11));
    assert_eq!(
        view.lookup(ValueHint::Url, "http://EVIL.com/login.php?a=1")
            .map(|h| h.id),
        Some(11)
    );
    assert_eq!(
        view.lookup_url("http://evil.com/login.php").map(|h| h.id),
        None
    );
    assert_eq!(
        view.lookup_hash("d41d8cd98f00b204e9800998ecf8427e")
            .map(|h| (h.id, h.kind)),
        Some((12, IndicatorKind::Md5))
    );
    assert_eq!(
        view.lookup_hash(&"AB".repeat(32)).map(|h| (h.id, h.kind)),
        Some((13, IndicatorKind::Sha256))
    );
    assert_eq!(
        view.lookup_hash(&"cd".repeat(20)).map(|h| h.kind),
        Some(IndicatorKind::Sha1)
    );
    assert_eq!(view.lookup_hash(&"ab".repeat(31)).map(|h| h.id), None);
    assert_eq!(
        view.lookup_email("PHISHER@evil.COM").map(|h| h.id),
        Some(14)
    );
    assert_eq!(view.lookup_email("other@evil.com").map(|h| h.id), None);
    // Guessing the kind from the value's shape.
    assert_eq!(
        view.lookup(ValueHint::Any, "10.1.2.3").map(|h| h.id),
        Some(4)
    );
    assert_eq!(
        view.lookup(ValueHint::Any, "phisher@evil.com")
            .map(|h| h.id),
        Some(14)
    );
    assert_eq!(
        view.lookup(ValueHint::Any, "d41d8cd98f00b204e9800998ecf8427e")
            .map(|h| h.id),
        Some(12)
    );
    assert_eq!(
        view.lookup(ValueHint::Any, "deep.evil.com").map(|h| h.id),
        Some(8)
    );
}

#[test]
fn hits_carry_sources_and_pass_thresholds() {
    let mut entries = sample();
    entries[7].sources = vec!["feed-a".into(), "feed-b".into()];
    let matcher = Matcher::new(&entries, MatcherConfig::default());
    let view = matcher.view();
    let hit = view.lookup_domain("evil.com").expect("listed");
    assert_eq!(hit.sources.iter().collect::<Vec<_>>(), ["feed-a", "feed-b"]);
    assert!(hit.passes(Consumer::Blocklist));
    let weak = view.lookup_ip(ip("10.200.0.1")).expect("score 40");
    assert!(weak.passes(Consumer::Alert));
    assert!(!weak.passes(Consumer::Mail));
    matcher.set_thresholds(crate::Thresholds {
        alert: 41.0,
        ..crate::Thresholds::default()
    });
    let view = matcher.view();
    assert!(
        !view
            .lookup_ip(ip("10.200.0.1"))
            .expect("listed")
            .passes(Consumer::Alert)
    );
}

#[test]
fn expired_entries_stop_matching_and_uncover_parents() {
    let mut entries = sample();
    let expiry: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
    entries[8].expires = Some(expiry); // b.evil.com
    entries[3].expires = Some(expiry); // 10.1.2.0/24
    let matcher = Matcher::new(&entries, MatcherConfig::default());
    let before = matcher.view_at("2029-12-31T23:59:59Z".parse().unwrap());
    assert_eq!(before.lookup_domain("a.b.evil.com").map(|h| h.id), Some(9));
    assert_eq!(before.lookup_ip(ip("10.1.2.3")).map(|h| h.id), Some(4));
    let after = matcher.view_at(expiry);
    assert_eq!(after.lookup_domain("a.b.evil.com").map(|h| h.id), Some(8));
    assert_eq!(after.lookup_ip(ip("10.1.2.3")).map(|h| h.id), Some(3));
}

#[test]
fn delta_add_update_remove_visible_through_the_handle() {
    let matcher = Matcher::new(&sample(), MatcherConfig::default());
    let reader = matcher.clone();
    let old_view = reader.view();
    matcher.apply(
        vec![
            Change::Upsert(entry(100, IndicatorKind::Domain, "new-evil.org", 50)),
            Change::Upsert(entry(8, IndicatorKind::Domain, "evil.com", 10)),
            // Suppressed or expired in the store: the store sends the row, the matcher removes.
            Change::Remove(4),
            Change::Remove(14),
        ],
        None,
    );
    let view = reader.view();
    assert_eq!(
        view.lookup_domain("x.new-evil.org").map(|h| h.id),
        Some(100)
    );
    assert_eq!(view.lookup_domain("evil.com").map(|h| h.score), Some(10));
    // 10.1.2.0/24 is gone: the enclosing /16 of the base matches again.
    assert_eq!(view.lookup_ip(ip("10.1.2.3")).map(|h| h.id), Some(3));
    assert_eq!(view.lookup_email("phisher@evil.com").map(|h| h.id), None);
    // A view taken earlier keeps reading its own snapshot.
    assert_eq!(
        old_view.lookup_domain("evil.com").map(|h| h.score),
        Some(90)
    );
    assert_eq!(old_view.lookup_domain("new-evil.org").map(|h| h.id), None);
    // A more specific CIDR in the delta beats the base's; a less specific one does not.
    matcher.apply(
        vec![
            Change::Upsert(entry(101, IndicatorKind::Cidr, "10.1.2.128/25", 99)),
            Change::Upsert(entry(102, IndicatorKind::Cidr, "10.0.0.0/7", 99)),
        ],
        Some(Timestamp::now()),
    );
    let view = reader.view();
    assert_eq!(view.lookup_ip(ip("10.1.2.200")).map(|h| h.id), Some(101));
    assert_eq!(view.lookup_ip(ip("10.1.2.3")).map(|h| h.id), Some(3));
    assert_eq!(view.lookup_ip(ip("11.0.0.1")).map(|h| h.id), Some(102));
    let stats = matcher.stats();
    assert_eq!(stats.delta_entries, 6);
    assert_eq!(stats.measured_batches, 1);
    assert!(stats.last_latency.is_some());
    assert!(stats.memory_bytes > 0);
    // Merging keeps what readers see.
    matcher.merge_now();
    let view = reader.view();
    assert_eq!(matcher.stats().delta_entries, 0);
    assert_eq!(view.lookup_ip(ip("10.1.2.200")).map(|h| h.id), Some(101));
    assert_eq!(view.lookup_ip(ip("10.1.2.3")).map(|h| h.id), Some(3));
    assert_eq!(view.lookup_domain("evil.com").map(|h| h.score), Some(10));
    assert_eq!(view.lookup_email("phisher@evil.com").map(|h| h.id), None);
}

#[test]
fn background_merge_starts_at_the_threshold() {
    let config = MatcherConfig {
        merge_threshold: 3,
        ..MatcherConfig::default()
    };
    let matcher = Matcher::new(&sample(), config);
    let changes = (0..3)
        .map(|n| {
            Change::Upsert(entry(
                200 + n,
                IndicatorKind::Domain,
                &format!("d{n}.net"),
                50,
            ))
        })
        .collect();
    matcher.apply(changes, None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while matcher.stats().merges == 0 {
        assert!(std::time::Instant::now() < deadline, "no merge within 10 s");
        std::thread::yield_now();
    }
    let stats = matcher.stats();
    assert_eq!(stats.delta_entries, 0);
    assert_eq!(stats.base_entries, sample().len() + 3);
    assert_eq!(
        matcher.view().lookup_domain("d2.net").map(|h| h.id),
        Some(202)
    );
}

fn arbitrary_entry() -> impl Strategy<Value = Entry> {
    let value = prop_oneof![
        (0u8..4, 0u8..4).prop_map(|(a, b)| (IndicatorKind::Ipv4, format!("10.0.{a}.{b}"))),
        (0u8..4, 24u8..33).prop_map(|(a, len)| (IndicatorKind::Cidr, format!("10.0.{a}.0/{len}"))),
        (0u8..6).prop_map(|n| (IndicatorKind::Domain, format!("d{n}.example"))),
        (0u8..6).prop_map(|n| (IndicatorKind::Url, format!("http://u{n}.example/x"))),
        (0u8..6).prop_map(|n| (IndicatorKind::Md5, format!("{n:032x}"))),
        (0u8..6).prop_map(|n| (IndicatorKind::Email, format!("u{n}@example.org"))),
    ];
    (
        value,
        0u8..=100,
        prop::sample::subsequence(vec!["a", "b", "c"], 1..3),
    )
        .prop_map(|((kind, raw), score, sources)| {
            let mut built = entry(0, kind, &raw, score);
            built.sources = sources.into_iter().map(String::from).collect();
            built
        })
}

/// Entries keyed by indicator: the store gives each (kind, value) one id.
fn with_ids(entries: Vec<Entry>) -> Vec<Entry> {
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::new();
    for mut entry in entries {
        let next = seen.len() as i64 + 1;
        let id = *seen
            .entry((entry.kind, entry.value.clone()))
            .or_insert(next);
        entry.id = id;
        out.retain(|e: &Entry| e.id != id);
        out.push(entry);
    }
    out
}

proptest! {
    #[test]
    fn base_plus_delta_equals_a_fresh_build(
        base in prop::collection::vec(arbitrary_entry(), 0..30),
        updates in prop::collection::vec(arbitrary_entry(), 0..20),
        removals in prop::collection::vec(0usize..30, 0..10),
    ) {
        let all = with_ids(base.into_iter().chain(updates).collect());
        let (initial, later) = all.split_at(all.len() / 2);
        let mut expected: std::collections::BTreeMap<i64, Entry> =
            initial.iter().map(|e| (e.id, e.clone())).collect();
        let matcher = Matcher::new(initial, MatcherConfig::default());
        let mut changes: Vec<Change> = later.iter().cloned().map(Change::Upsert).collect();
        for index in removals {
            if let Some(entry) = all.get(index) {
                changes.push(Change::Remove(entry.id));
            }
        }
        for change in &changes {
            match change {
                Change::Upsert(entry) => { expected.insert(entry.id, entry.clone()); }
                Change::Remove(id) => { expected.remove(id); }
            }
        }
        matcher.apply(changes, None);
        let expected: Vec<Entry> = expected.into_values().collect();
        let fresh = Matcher::new(&expected, MatcherConfig::default());
        // Same answers before and after merging, and the same as a fresh build.
        let probes = ["10.0.0.0", "10.0.1.3", "10.0.3.200", "x.d1.example", "d5.example",
            "http://u2.example/x", "00000000000000000000000000000003", "u4@example.org"];
        let answer = |m: &Matcher| -> Vec<Option<(i64, u8, Vec<String>)>> {
            let view = m.view();
            probes.iter().map(|probe| view.lookup(ValueHint::Any, probe)
                .map(|h| (h.id, h.score, h.sources.iter().map(String::from).collect())))
                .collect()
        };
        prop_assert_eq!(answer(&matcher), answer(&fresh));
        matcher.merge_now();
        prop_assert_eq!(answer(&matcher), answer(&fresh));
        prop_assert_eq!(entries_of(&matcher), entries_of(&fresh));
    }
}
