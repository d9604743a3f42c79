//! Correlation rules (all seven types, group-by, aliases, chaining, bounded state) and filter
//! documents, over our own rules and timed events.

use rampart_detect::sigma::{Config, CorrelationEngine, Limits, RuleSet};
use rampart_detect::{Event, EventRef};

const RULES: &str = r#"
title: failed login
id: failed
name: failed_login
logsource: {product: rampart_test}
detection:
    selection: {action: fail}
    condition: selection
---
title: good login
id: good
logsource: {product: rampart_test}
detection:
    selection: {action: ok}
    condition: selection
---
title: download
id: download
logsource: {product: rampart_test}
detection:
    selection: {action: download}
    condition: selection
---
title: brute force
id: corr-count
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [user]
    timespan: 60s
    condition: {gte: 3}
level: high
---
title: password spray
id: corr-distinct
correlation:
    type: value_count
    rules: [failed]
    group-by: [src]
    timespan: 60s
    condition: {gte: 3, field: user}
---
title: fail then success
id: corr-temporal
correlation:
    type: temporal
    rules: [failed, good]
    group-by: [account]
    timespan: 30s
    aliases:
        account:
            failed: user
            good: target_user
---
title: fail then success in order
id: corr-ordered
correlation:
    type: temporal_ordered
    rules: [failed, good]
    group-by: [user]
    timespan: 30s
---
title: big download total
id: corr-sum
correlation:
    type: value_sum
    rules: [download]
    group-by: [user]
    timespan: 1h
    condition: {gt: 1000, field: bytes}
---
title: big download average
id: corr-avg
correlation:
    type: value_avg
    rules: [download]
    group-by: [user]
    timespan: 1h
    condition: {gte: 500, field: bytes}
---
title: big download p90
id: corr-p90
correlation:
    type: value_percentile
    rules: [download]
    group-by: [user]
    timespan: 1h
    condition: {gte: 900, field: bytes, percentile: 90}
---
title: repeated brute force
id: corr-chain
correlation:
    type: event_count
    rules: [corr-count]
    group-by: [user]
    timespan: 10m
    condition: {gte: 2}
---
title: ignore the scanner
id: filter-scanner
logsource: {product: rampart_test}
filter:
    rules: [failed]
    selection: {src: 10.9.9.9}
    condition: not selection
"#;

fn event(second: i64, json: serde_json::Value) -> Event {
    Event {
        reference: EventRef::line("timed.jsonl", second as u64),
        format: "jsonl".into(),
        time: Some(jiff::Timestamp::from_second(1_700_000_000 + second).expect("valid time")),
        fields: json.as_object().cloned().expect("object"),
    }
}

/// Runs events through rules and correlations; returns the fired correlation ids per event.
fn run(events: &[Event], limits: Limits) -> (Vec<Vec<String>>, CorrelationEngine) {
    let (rules, failures) = RuleSet::from_yaml("corr.yml", RULES, &Config::default());
    assert!(failures.is_empty(), "{failures:?}");
    let mut engine = CorrelationEngine::new(&rules, limits);
    assert!(engine.failures.is_empty(), "{:?}", engine.failures);
    let fired = events
        .iter()
        .map(|event| {
            let mut ids = Vec::new();
            for found in rules.matches(event) {
                ids.extend(engine.process(&found, event).into_iter().map(|c| c.rule_id));
            }
            ids
        })
        .collect();
    (fired, engine)
}

#[test]
fn event_count_with_group_by_and_timespan_and_chaining() {
    use serde_json::json;
    let fail = |s, user: &str| {
        event(
            s,
            json!({"action": "fail", "user": user, "src": "10.0.0.1"}),
        )
    };
    let events = vec![
        fail(0, "ann"),
        fail(10, "ann"),
        fail(20, "bob"),
        fail(30, "ann"),  // third for ann within 60 s: brute force
        fail(100, "ann"), // window moved: only one in (40, 100]
        fail(110, "ann"),
        fail(120, "ann"), // three again → second brute force → chained correlation
    ];
    let (fired, _) = run(&events, Limits::default());
    let count = |i: usize| fired[i].iter().filter(|id| *id == "corr-count").count();
    assert_eq!(
        (0..7).map(count).collect::<Vec<_>>(),
        vec![0, 0, 0, 1, 0, 0, 1]
    );
    assert!(
        fired[6].contains(&"corr-chain".to_string()),
        "{:?}",
        fired[6]
    );
    assert!(!fired[3].contains(&"corr-chain".to_string()));
    // value_count: three distinct users from one source (bob, ann … at 20 s).
    assert!(fired[2].is_empty() || !fired[2].contains(&"corr-distinct".to_string()));
}

#[test]
fn value_count_counts_distinct_values_and_filters_apply() {
    use serde_json::json;
    let fail =
        |s, user: &str, src: &str| event(s, json!({"action": "fail", "user": user, "src": src}));
    let events = vec![
        fail(0, "a", "10.0.0.2"),
        fail(1, "a", "10.0.0.2"),
        fail(2, "b", "10.0.0.2"),
        fail(3, "c", "10.0.0.2"), // third distinct user
        fail(4, "d", "10.9.9.9"), // the filter drops the scanner's failures
        fail(5, "e", "10.9.9.9"),
        fail(6, "f", "10.9.9.9"),
    ];
    let (fired, _) = run(&events, Limits::default());
    let distinct: Vec<bool> = fired
        .iter()
        .map(|f| f.contains(&"corr-distinct".to_string()))
        .collect();
    assert_eq!(
        distinct,
        vec![false, false, false, true, false, false, false]
    );
}

#[test]
fn temporal_uses_aliases_and_ordered_needs_the_order() {
    use serde_json::json;
    let events = vec![
        event(
            0,
            json!({"action": "ok", "user": "x", "target_user": "cat"}),
        ),
        event(
            5,
            json!({"action": "fail", "user": "cat", "src": "10.0.0.3"}),
        ),
        event(
            50,
            json!({"action": "fail", "user": "dan", "src": "10.0.0.3"}),
        ),
        event(
            60,
            json!({"action": "ok", "user": "dan", "target_user": "dan"}),
        ),
    ];
    let (fired, _) = run(&events, Limits::default());
    // cat: success (aliased target_user) then failure 5 s later — temporal, but not ordered.
    assert!(fired[1].contains(&"corr-temporal".to_string()), "{fired:?}");
    assert!(!fired[1].contains(&"corr-ordered".to_string()));
    // dan: failure then success within 30 s — both.
    assert!(fired[3].contains(&"corr-temporal".to_string()));
    assert!(fired[3].contains(&"corr-ordered".to_string()));
}

#[test]
fn value_sum_avg_and_percentile() {
    use serde_json::json;
    let download = |s, bytes: u64| {
        event(
            s,
            json!({"action": "download", "user": "eve", "bytes": bytes}),
        )
    };
    let events: Vec<Event> = [100, 200, 300, 950, 10]
        .iter()
        .enumerate()
        .map(|(i, b)| download(i as i64, *b))
        .collect();
    let (fired, _) = run(&events, Limits::default());
    let has = |i: usize, id: &str| fired[i].contains(&id.to_string());
    // Sums 100, 300, 600, 1550, 1560: over 1000 from the fourth.
    assert_eq!(
        (0..5).map(|i| has(i, "corr-sum")).collect::<Vec<_>>(),
        vec![false, false, false, true, true]
    );
    // Averages 100, 150, 200, 387.5, 312: never 500.
    assert!((0..5).all(|i| !has(i, "corr-avg")));
    // p90 (nearest rank) of [100,200,300,950] is 950; of all five also 950.
    assert_eq!(
        (0..5).map(|i| has(i, "corr-p90")).collect::<Vec<_>>(),
        vec![false, false, false, true, true]
    );
}

#[test]
fn state_is_bounded_and_evictions_are_counted() {
    use serde_json::json;
    let events: Vec<Event> = (0..50)
        .map(|i| {
            event(
                i,
                json!({"action": "fail", "user": format!("u{i}"), "src": "10.0.0.4"}),
            )
        })
        .collect();
    let (_, engine) = run(
        &events,
        Limits {
            max_groups: 8,
            max_entries: 2,
        },
    );
    let stats = engine.stats();
    // brute force and ordered/temporal group by user: 50 users, 8 kept per correlation.
    assert!(stats.groups_evicted >= 42 * 3, "{stats:?}");
    // value_count groups by src: one group, capped at two entries.
    assert!(stats.entries_evicted >= 48, "{stats:?}");
    let mut untimed = events[0].clone();
    untimed.time = None;
    let (rules, _) = RuleSet::from_yaml("corr.yml", RULES, &Config::default());
    let mut engine = CorrelationEngine::new(&rules, Limits::default());
    for found in rules.matches(&untimed) {
        assert!(engine.process(&found, &untimed).is_empty());
    }
    assert_eq!(engine.stats().events_without_time, 1);
}
