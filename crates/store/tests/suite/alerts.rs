//! Cases about alerts: recording, repeats, filters and paging, triage, and the overview's
//! counts (alerts by severity, status and tactic; indicators per day).

use rampart_model::{Alert, Detection, EventRef, IndicatorKind, MatchedField, Severity};
use rampart_store::{AlertQuery, AlertStatus, AlertTriage, DailyGroup, ImportBatch, Store};

use crate::fixtures::*;

fn alert(value: &str, severity: Severity, first: i64, last: i64, count: u64, retro: bool) -> Alert {
    let detection = Detection::Indicator {
        id: 7,
        kind: IndicatorKind::Domain,
        value: "evil.example".into(),
        score: 72.0,
        sources: vec!["feed-a".into()],
    };
    let matched = vec![MatchedField {
        field: "dns.question.name".into(),
        value: value.into(),
    }];
    Alert {
        key: Alert::key_for(&detection, &matched),
        detection,
        severity,
        techniques: vec!["T1566.002".parse().unwrap()],
        matched,
        event: EventRef::line("dns.jsonl", 12),
        first_seen: at(first),
        last_seen: at(last),
        count,
        retro,
    }
}

pub async fn alerts_are_recorded_updated_and_filtered(store: &dyn Store) {
    let first = alert("a.evil.example", Severity::High, 100, 100, 1, false);
    let other = alert("b.evil.example", Severity::Low, 150, 150, 1, true);
    store
        .record_alerts(&[first.clone(), other.clone()])
        .await
        .unwrap();
    // The same alert closed later with its final count updates its row…
    let closed = alert("a.evil.example", Severity::High, 100, 400, 5, false);
    store
        .record_alerts(std::slice::from_ref(&closed))
        .await
        .unwrap();
    // …and an older, smaller report of it (out of order) does not shrink it.
    store
        .record_alerts(std::slice::from_ref(&first))
        .await
        .unwrap();
    // Raised again after the window: a new row with the same key.
    let again = alert("a.evil.example", Severity::High, 900, 900, 1, false);
    store
        .record_alerts(std::slice::from_ref(&again))
        .await
        .unwrap();

    let all = store.alerts(&AlertQuery::default()).await.unwrap();
    let bodies: Vec<&Alert> = all.iter().map(|stored| &stored.alert).collect();
    assert_eq!(bodies, [&closed, &other, &again]);
    assert_eq!(all[0].alert.key, all[2].alert.key);

    let high = AlertQuery {
        min_severity: Some(Severity::Medium),
        ..AlertQuery::default()
    };
    assert_eq!(store.alerts(&high).await.unwrap().len(), 2);
    let retro = AlertQuery {
        retro: Some(true),
        ..AlertQuery::default()
    };
    assert_eq!(store.alerts(&retro).await.unwrap()[0].alert, other);
    let recent = AlertQuery {
        since: Some(at(300)),
        ..AlertQuery::default()
    };
    assert_eq!(store.alerts(&recent).await.unwrap().len(), 2);
    let page = AlertQuery {
        after_id: Some(all[0].id),
        limit: 1,
        ..AlertQuery::default()
    };
    let page = store.alerts(&page).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[1].id);
}

fn triage(status: AlertStatus, by: &str, second: i64, note: Option<&str>) -> AlertTriage {
    AlertTriage {
        status,
        by: by.into(),
        at: at(second),
        note: note.map(str::to_owned),
    }
}

pub async fn alerts_are_triaged_and_filtered_by_status(store: &dyn Store) {
    let first = alert("a.evil.example", Severity::High, 100, 100, 1, false);
    let second = alert("b.evil.example", Severity::Low, 150, 150, 1, false);
    let third = alert("c.evil.example", Severity::Medium, 160, 160, 1, false);
    store
        .record_alerts(&[first.clone(), second.clone(), third.clone()])
        .await
        .unwrap();
    let all = store.alerts(&AlertQuery::default()).await.unwrap();
    assert!(all.iter().all(|stored| stored.status == AlertStatus::Open));
    assert!(all.iter().all(|stored| stored.triage.is_none()));
    let (a, b) = (all[0].id, all[1].id);

    let acknowledged = store
        .triage_alert(
            a,
            &triage(AlertStatus::Acknowledged, "user:alice", 500, None),
        )
        .await
        .unwrap()
        .expect("alert a exists");
    assert_eq!(acknowledged.id, a);
    assert_eq!(acknowledged.alert, first);
    assert_eq!(acknowledged.status, AlertStatus::Acknowledged);
    assert_eq!(
        acknowledged.triage,
        Some(triage(AlertStatus::Acknowledged, "user:alice", 500, None))
    );
    let false_positive = triage(
        AlertStatus::FalsePositive,
        "token:soar",
        600,
        Some("the <b>CDN</b>, not the actor"),
    );
    let marked = store
        .triage_alert(b, &false_positive)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(marked.triage, Some(false_positive.clone()));
    assert!(
        store
            .triage_alert(
                999_999,
                &triage(AlertStatus::Closed, "user:alice", 700, None)
            )
            .await
            .unwrap()
            .is_none()
    );

    // A repeat of a triaged alert keeps its decision.
    let repeat = alert("b.evil.example", Severity::Low, 150, 800, 4, false);
    store.record_alerts(&[repeat]).await.unwrap();
    let by_status = |statuses: Vec<AlertStatus>| AlertQuery {
        statuses,
        ..AlertQuery::default()
    };
    let marked = store
        .alerts(&by_status(vec![AlertStatus::FalsePositive]))
        .await
        .unwrap();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].id, b);
    assert_eq!(marked[0].alert.count, 4);
    assert_eq!(marked[0].triage, Some(false_positive));

    let queue = store
        .alerts(&by_status(vec![
            AlertStatus::Open,
            AlertStatus::Acknowledged,
        ]))
        .await
        .unwrap();
    let ids: Vec<i64> = queue.iter().map(|stored| stored.id).collect();
    assert_eq!(ids, [a, all[2].id]);
    assert!(
        store
            .alerts(&by_status(vec![AlertStatus::Closed]))
            .await
            .unwrap()
            .is_empty()
    );
    // Reopened: back in the open filter, with who reopened it.
    store
        .triage_alert(
            a,
            &triage(AlertStatus::Open, "user:bob", 900, Some("again")),
        )
        .await
        .unwrap();
    let open = store
        .alerts(&by_status(vec![AlertStatus::Open]))
        .await
        .unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0].triage.as_ref().unwrap().by, "user:bob");
}

/// An alert on `value` with ATT&CK techniques.
fn with_techniques(value: &str, severity: Severity, second: i64, techniques: &[&str]) -> Alert {
    let mut raised = alert(value, severity, second, second, 1, false);
    raised.techniques = techniques.iter().map(|id| id.parse().unwrap()).collect();
    raised
}

fn attack_pattern(id: &str, attack_id: &str, tactics: &[&str]) -> rampart_model::ContextObject {
    let phases: Vec<serde_json::Value> = tactics
        .iter()
        .map(|phase| serde_json::json!({"kill_chain_name": "mitre-attack", "phase_name": phase}))
        .chain([serde_json::json!({"kill_chain_name": "other-chain", "phase_name": "ignored"})])
        .collect();
    let mut object = object(
        id,
        "attack-pattern",
        Some(1),
        serde_json::json!({"type": "attack-pattern", "id": id, "name": attack_id,
                           "kill_chain_phases": phases}),
    );
    object.attack_id = Some(attack_id.parse().unwrap());
    object
}

pub async fn alerts_are_counted_by_severity_status_and_tactic(store: &dyn Store) {
    let source = add_source(store, "attack").await;
    import(
        store,
        &source,
        vec![
            ImportBatch::Objects(vec![
                attack_pattern("attack-pattern--1", "T1566.002", &["initial-access"]),
                attack_pattern(
                    "attack-pattern--2",
                    "T1078",
                    &["defense-evasion", "persistence", "initial-access"],
                ),
            ]),
            commit(),
        ],
    )
    .await
    .unwrap();
    let empty = store.alert_breakdown(None).await.unwrap();
    assert_eq!(empty, Default::default());

    store
        .record_alerts(&[
            with_techniques("a.example", Severity::High, 100, &["T1566.002", "T1078"]),
            with_techniques("b.example", Severity::High, 200, &["T1078"]),
            with_techniques("c.example", Severity::Critical, 300, &["T1059.001"]),
            with_techniques("d.example", Severity::Low, 400, &[]),
        ])
        .await
        .unwrap();
    let first = store.alerts(&AlertQuery::default()).await.unwrap()[0].id;
    store
        .triage_alert(
            first,
            &triage(AlertStatus::FalsePositive, "user:a", 500, None),
        )
        .await
        .unwrap();

    let all = store.alert_breakdown(None).await.unwrap();
    assert_eq!(
        all.by_severity,
        [
            (Severity::Critical, 1),
            (Severity::High, 2),
            (Severity::Low, 1)
        ]
    );
    assert_eq!(
        all.by_status,
        [(AlertStatus::Open, 3), (AlertStatus::FalsePositive, 1)]
    );
    // a reaches initial-access through both techniques but counts once there; a and b reach
    // all three tactics of T1078; c's technique is unknown. Ties go by name.
    assert_eq!(
        all.by_tactic,
        [
            ("defense-evasion".to_owned(), 2),
            ("initial-access".to_owned(), 2),
            ("persistence".to_owned(), 2),
        ]
    );
    assert_eq!(
        all.by_technique,
        [
            ("T1078".to_owned(), 2),
            ("T1059.001".to_owned(), 1),
            ("T1566.002".to_owned(), 1),
        ]
    );
    assert_eq!(all.unmapped, 1);

    let recent = store.alert_breakdown(Some(at(250))).await.unwrap();
    assert_eq!(
        recent.by_severity,
        [(Severity::Critical, 1), (Severity::Low, 1)]
    );
    assert!(recent.by_tactic.is_empty());
    assert_eq!(recent.unmapped, 1);
}

pub async fn indicators_are_counted_per_day_by_source_and_kind(store: &dyn Store) {
    const DAY: i64 = 86_400;
    let feed_a = add_source(store, "feed-a").await;
    let feed_b = add_source(store, "feed-b").await;
    import_observations(
        store,
        &feed_a,
        vec![
            dated(domain("one.example"), "a", 10 * DAY + 5, 10 * DAY + 5),
            dated(domain("two.example"), "a", 10 * DAY + 9, 12 * DAY),
            dated(ipv4("192.0.2.1"), "a", 11 * DAY, 11 * DAY),
            dated(domain("old.example"), "a", 2 * DAY, 2 * DAY),
        ],
    )
    .await;
    import_observations(
        store,
        &feed_b,
        vec![
            dated(domain("one.example"), "b", 11 * DAY + 1, 11 * DAY + 1),
            dated(ipv4("192.0.2.2"), "b", 11 * DAY + 2, 11 * DAY + 2),
        ],
    )
    .await;
    let day = |n: i64| {
        at(n * DAY)
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()
    };
    let rows = |counts: Vec<rampart_store::DailyCount>| -> Vec<(jiff::civil::Date, String, u64)> {
        counts
            .into_iter()
            .map(|count| (count.day, count.group, count.count))
            .collect()
    };
    let by_source = store
        .indicators_per_day(at(10 * DAY), DailyGroup::Source)
        .await
        .unwrap();
    assert_eq!(
        rows(by_source),
        [
            (day(10), "feed-a".to_owned(), 2),
            (day(11), "feed-a".to_owned(), 1),
            (day(11), "feed-b".to_owned(), 2),
        ]
    );
    // one.example counts once, on the day it was first seen (feed-a's day 10).
    let by_kind = store
        .indicators_per_day(at(10 * DAY), DailyGroup::Kind)
        .await
        .unwrap();
    assert_eq!(
        rows(by_kind),
        [
            (day(10), "domain".to_owned(), 2),
            (day(11), "ipv4".to_owned(), 2),
        ]
    );
}
