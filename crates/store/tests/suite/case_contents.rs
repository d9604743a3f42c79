//! Cases about what incident cases hold: linking and moving alerts, deduplicating observables,
//! and merging one case into another.

use rampart_model::{CaseStatus, Severity, TimelineKind, Tlp};
use rampart_store::{AlertQuery, MovedAlert, NewObservable, NewTask, Store, StoreError};

use crate::cases::{kinds, new_case, record_alerts};
use crate::fixtures::*;

pub async fn cases_link_move_and_unlink_alerts(store: &dyn Store) {
    let ids = record_alerts(store, &["ws-1", "ws-2", "ws-3"]).await;
    let first = store
        .create_case(&new_case("First", Severity::High))
        .await
        .unwrap();
    let second = store
        .create_case(&new_case("Second", Severity::High))
        .await
        .unwrap();

    let links = store
        .link_alerts(first.id, &[ids[1], ids[0], ids[0]], "user:alice")
        .await
        .unwrap();
    assert_eq!(links.linked, [ids[0], ids[1]]);
    assert!(links.moved.is_empty() && links.already.is_empty() && links.missing.is_empty());

    // Linking again is a no-op for those already there; unknown ids are reported.
    let links = store
        .link_alerts(first.id, &[ids[0], 999_999], "user:alice")
        .await
        .unwrap();
    assert_eq!(links.already, [ids[0]]);
    assert_eq!(links.missing, [999_999]);
    assert!(links.linked.is_empty());

    // An alert is in one case at most: linking it elsewhere moves it.
    let links = store
        .link_alerts(second.id, &[ids[1], ids[2]], "user:bob")
        .await
        .unwrap();
    assert_eq!(links.linked, [ids[2]]);
    assert_eq!(
        links.moved,
        [MovedAlert {
            alert_id: ids[1],
            from_case: first.id
        }]
    );
    let link = store.case_of_alert(ids[1]).await.unwrap().unwrap();
    assert_eq!(
        (link.case_id, link.linked_by.as_str()),
        (second.id, "user:bob")
    );
    assert_eq!(
        store.case_of_alert(ids[0]).await.unwrap().unwrap().case_id,
        first.id
    );
    let of_first: Vec<i64> = store
        .alerts_of_case(first.id)
        .await
        .unwrap()
        .iter()
        .map(|linked| linked.alert.id)
        .collect();
    assert_eq!(of_first, [ids[0]]);
    let of_second = store.alerts_of_case(second.id).await.unwrap();
    assert_eq!(of_second.len(), 2);
    assert_eq!(of_second[0].alert.id, ids[1]);
    assert_eq!(of_second[0].link.case_id, second.id);
    assert_eq!(of_second[0].alert.alert.matched[0].value, "ws-2");

    let first_timeline = store.timeline(first.id).await.unwrap();
    assert_eq!(
        kinds(&first_timeline),
        [
            TimelineKind::Created,
            TimelineKind::AlertLinked,
            TimelineKind::AlertUnlinked
        ]
    );
    assert_eq!(
        first_timeline[2].detail["alerts"],
        serde_json::json!([ids[1]])
    );
    assert_eq!(first_timeline[2].detail["to_case"], second.id);
    let second_timeline = store.timeline(second.id).await.unwrap();
    assert_eq!(second_timeline[1].kind, TimelineKind::AlertLinked);
    assert_eq!(
        second_timeline[1].detail["alerts"],
        serde_json::json!([ids[1], ids[2]])
    );

    // Unlinking takes out only what is in the case.
    let removed = store
        .unlink_alerts(second.id, &[ids[2], ids[0]], "user:bob")
        .await
        .unwrap();
    assert_eq!(removed, [ids[2]]);
    assert_eq!(store.case_of_alert(ids[2]).await.unwrap(), None);
    assert_eq!(
        store.case_of_alert(ids[0]).await.unwrap().unwrap().case_id,
        first.id
    );
    let unknown = store
        .link_alerts(second.id + 50, &[ids[0]], "user:bob")
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownCase(_))));

    // Alerts keep being what the alert queue shows.
    assert_eq!(store.alerts(&AlertQuery::default()).await.unwrap().len(), 3);
    assert_eq!(store.alert_by_key("nope", at(1)).await.unwrap(), None);
}

pub async fn cases_deduplicate_observables(store: &dyn Store) {
    let source = add_source(store, "alpha").await;
    import_observations(
        store,
        &source,
        vec![observation(domain("evil.example"), "x")],
    )
    .await;
    let known = stored(store, &domain("evil.example")).await;
    let case = store
        .create_case(&new_case("C2", Severity::High))
        .await
        .unwrap();
    let other = store
        .create_case(&new_case("Other", Severity::Low))
        .await
        .unwrap();

    let mut first = NewObservable::of(domain("EVIL.example."));
    first.tags = vec!["c2".into()];
    first.message = Some("beacon target".into());
    let (added, new) = store
        .add_observable(case.id, &first, "user:alice")
        .await
        .unwrap();
    assert!(new);
    assert_eq!(added.indicator.value(), "evil.example");
    assert_eq!(added.indicator_id, Some(known.id));
    assert!(!added.ioc);

    let mut again = NewObservable::of(domain("evil.example"));
    again.ioc = true;
    again.tlp = Tlp::Red;
    again.tags = vec!["c2".into(), "confirmed".into()];
    again.message = Some("later note".into());
    let (merged, new) = store
        .add_observable(case.id, &again, "user:bob")
        .await
        .unwrap();
    assert!(!new);
    assert_eq!(merged.id, added.id);
    assert!(merged.ioc);
    assert_eq!(merged.tlp, Tlp::Red);
    assert_eq!(merged.tags, ["c2", "confirmed"]);
    assert_eq!(merged.message.as_deref(), Some("beacon target"));

    let (unknown_to_intel, new) = store
        .add_observable(
            case.id,
            &NewObservable::of(ipv4("198.51.100.7")),
            "user:bob",
        )
        .await
        .unwrap();
    assert!(new);
    assert_eq!(unknown_to_intel.indicator_id, None);
    // Another case has its own observable of the same value.
    let (elsewhere, new) = store
        .add_observable(other.id, &first, "user:bob")
        .await
        .unwrap();
    assert!(new);
    assert_ne!(elsewhere.id, added.id);

    let observables = store.observables(case.id).await.unwrap();
    assert_eq!(observables, [merged, unknown_to_intel]);
    let timeline = store.timeline(case.id).await.unwrap();
    assert_eq!(
        kinds(&timeline),
        [
            TimelineKind::Created,
            TimelineKind::ObservableAdded,
            TimelineKind::ObservableAdded
        ]
    );
    assert_eq!(timeline[1].detail["value"], "evil.example");
}

pub async fn cases_merge_moving_alerts_tasks_and_observables(store: &dyn Store) {
    let ids = record_alerts(store, &["ws-1", "ws-2"]).await;
    let mut into_new = new_case("Campaign", Severity::Medium);
    into_new.tags = vec!["a".into()];
    into_new.tasks = vec![NewTask::titled("Scope")];
    let into = store.create_case(&into_new).await.unwrap();
    let mut from_new = new_case("Same campaign", Severity::Critical);
    from_new.tags = vec!["b".into(), "a".into()];
    from_new.techniques = vec!["T1071".parse().unwrap()];
    from_new.tasks = vec![NewTask::titled("Contain"), NewTask::titled("Eradicate")];
    let from = store.create_case(&from_new).await.unwrap();
    store
        .link_alerts(into.id, &[ids[0]], "user:a")
        .await
        .unwrap();
    store
        .link_alerts(from.id, &[ids[1]], "user:a")
        .await
        .unwrap();
    store
        .add_observable(into.id, &NewObservable::of(domain("x.example")), "user:a")
        .await
        .unwrap();
    let mut sighted = NewObservable::of(domain("x.example"));
    sighted.sighted = true;
    store
        .add_observable(from.id, &sighted, "user:a")
        .await
        .unwrap();
    store
        .add_observable(from.id, &NewObservable::of(domain("y.example")), "user:a")
        .await
        .unwrap();

    let outcome = store
        .merge_cases(into.id, from.id, "user:lead")
        .await
        .unwrap();
    assert_eq!(outcome.alerts_moved, 1);
    assert_eq!(outcome.tasks_moved, 2);
    assert_eq!(
        (outcome.observables_moved, outcome.observables_merged),
        (1, 1)
    );
    assert_eq!(outcome.into.severity, Severity::Critical);
    assert_eq!(outcome.into.tags, ["a", "b"]);
    assert_eq!(outcome.into.techniques.len(), 1);
    assert_eq!(
        store.case(into.id).await.unwrap(),
        Some(outcome.into.clone())
    );

    let alerts: Vec<i64> = store
        .alerts_of_case(into.id)
        .await
        .unwrap()
        .iter()
        .map(|linked| linked.alert.id)
        .collect();
    assert_eq!(alerts, ids);
    assert!(store.alerts_of_case(from.id).await.unwrap().is_empty());
    let titles: Vec<String> = store
        .tasks(into.id)
        .await
        .unwrap()
        .into_iter()
        .map(|task| task.title)
        .collect();
    assert_eq!(titles, ["Scope", "Contain", "Eradicate"]);
    let observables = store.observables(into.id).await.unwrap();
    let values: Vec<(&str, bool)> = observables
        .iter()
        .map(|observable| (observable.indicator.value(), observable.sighted))
        .collect();
    assert_eq!(values, [("x.example", true), ("y.example", false)]);
    assert!(store.observables(from.id).await.unwrap().is_empty());

    let merged_away = store.case(from.id).await.unwrap().unwrap();
    assert_eq!(merged_away.status, CaseStatus::Duplicate);
    assert_eq!(merged_away.duplicate_of, Some(into.id));
    assert!(merged_away.closed.is_some());
    assert_eq!(
        store.timeline(from.id).await.unwrap().last().unwrap().kind,
        TimelineKind::Merged
    );
    let last = store.timeline(into.id).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, TimelineKind::Merged);
    assert_eq!(last.detail["from"], from.id);

    // The merged case is closed now; a case cannot merge into itself or into a duplicate.
    let again = store.merge_cases(into.id, from.id, "user:lead").await;
    assert!(matches!(again, Err(StoreError::StatusChange { .. })));
    let itself = store.merge_cases(into.id, into.id, "user:lead").await;
    assert!(matches!(itself, Err(StoreError::Refused(_))));
    let third = store
        .create_case(&new_case("Third", Severity::Low))
        .await
        .unwrap();
    let into_duplicate = store.merge_cases(from.id, third.id, "user:lead").await;
    assert!(matches!(into_duplicate, Err(StoreError::Refused(_))));
    let unknown = store.merge_cases(into.id, third.id + 10, "user:lead").await;
    assert!(matches!(unknown, Err(StoreError::UnknownCase(_))));
}
