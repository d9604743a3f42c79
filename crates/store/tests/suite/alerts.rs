//! Cases about alerts: recording, repeats, filters and paging.

use rampart_model::{Alert, Detection, EventRef, IndicatorKind, MatchedField, Severity};
use rampart_store::{AlertQuery, Store};

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
