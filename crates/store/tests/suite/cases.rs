//! Cases about incident cases: opening with tasks, the status lifecycle, campaign lookup,
//! filters and paging, and the timeline (their alerts, observables and merges are in
//! `case_contents.rs`), with the helpers both files use.

use rampart_model::{
    Alert, CaseStatus, Detection, EventRef, MatchedField, Pap, Severity, StatusChangeError,
    TaskStatus, TimelineKind, Timestamp, Tlp,
};
use rampart_store::{
    CaseQuery, CaseUpdate, NewCase, NewTask, NewTimelineEntry, StatusUpdate, Store, StoreError,
    TaskUpdate,
};

use crate::fixtures::*;

pub fn new_case(title: &str, severity: Severity) -> NewCase {
    NewCase::new(title, severity, "user:alice")
}

pub fn kinds(entries: &[rampart_model::TimelineEntry]) -> Vec<TimelineKind> {
    entries.iter().map(|entry| entry.kind).collect()
}

pub fn status(status: CaseStatus) -> StatusUpdate {
    StatusUpdate {
        status,
        duplicate_of: None,
        resolution: None,
    }
}

/// Records one sigma alert per host and returns the store ids, in the order given.
pub async fn record_alerts(store: &dyn Store, hosts: &[&str]) -> Vec<i64> {
    let alerts: Vec<Alert> = hosts
        .iter()
        .enumerate()
        .map(|(index, host)| {
            Alert::new(
                Detection::Sigma {
                    rule_id: "rule-1".into(),
                    title: "Suspicious PowerShell".into(),
                },
                Severity::High,
                vec!["T1059.001".parse().unwrap()],
                vec![MatchedField {
                    field: "host.name".into(),
                    value: (*host).into(),
                }],
                EventRef::line("events.jsonl", index as u64 + 1),
                at(1_000 + index as i64),
            )
        })
        .collect();
    store.record_alerts(&alerts).await.unwrap();
    let mut ids = Vec::new();
    for alert in &alerts {
        let stored = store
            .alert_by_key(&alert.key, alert.first_seen)
            .await
            .unwrap()
            .expect("recorded alert is found by key");
        assert_eq!(stored.alert.matched, alert.matched);
        ids.push(stored.id);
    }
    ids
}

pub async fn cases_open_with_tasks_and_a_created_entry(store: &dyn Store) {
    let mut new = new_case("Phishing wave", Severity::High);
    new.description = "Users reported *mails*.".into();
    new.tags = vec!["phishing".into(), " phishing ".into(), "mail".into()];
    new.techniques = vec!["T1566".parse().unwrap(), "T1566".parse().unwrap()];
    new.campaign = Some("campaign-7".into());
    new.due = Some(at(100_000));
    new.tlp = Tlp::Red;
    new.pap = Pap::Green;
    new.tasks = vec![
        NewTask::titled("Collect headers"),
        NewTask::titled("Block sender"),
    ];
    let case = store.create_case(&new).await.unwrap();
    assert_eq!(case.status, CaseStatus::New);
    assert_eq!(case.title, "Phishing wave");
    assert_eq!(case.tags, ["phishing", "mail"]);
    assert_eq!(case.techniques.len(), 1);
    assert_eq!((case.tlp, case.pap), (Tlp::Red, Pap::Green));
    assert_eq!(case.due, Some(at(100_000)));
    assert_eq!(case.created, case.updated);
    assert_eq!(case.closed, None);
    assert_eq!(case.created_by, "user:alice");
    assert_eq!(store.case(case.id).await.unwrap(), Some(case.clone()));
    assert_eq!(store.case(case.id + 100).await.unwrap(), None);

    let tasks = store.tasks(case.id).await.unwrap();
    let titles: Vec<&str> = tasks.iter().map(|task| task.title.as_str()).collect();
    assert_eq!(titles, ["Collect headers", "Block sender"]);
    assert!(tasks.iter().all(|task| task.status == TaskStatus::Waiting));
    let timeline = store.timeline(case.id).await.unwrap();
    assert_eq!(kinds(&timeline), [TimelineKind::Created]);
    assert_eq!(timeline[0].actor, "user:alice");
    assert_eq!(timeline[0].detail["tasks"], 2);

    // A task added later goes last; updating it records what changed.
    let added = store
        .add_task(case.id, &NewTask::titled("Notify users"), "user:bob")
        .await
        .unwrap();
    assert_eq!(added.order, 2);
    let done = store
        .update_task(
            added.id,
            &TaskUpdate {
                status: Some(TaskStatus::Done),
                assignee: Some(Some("bob".into())),
                ..TaskUpdate::default()
            },
            "user:bob",
        )
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Done);
    assert_eq!(store.tasks(case.id).await.unwrap()[2], done);
    let timeline = store.timeline(case.id).await.unwrap();
    assert_eq!(
        kinds(&timeline),
        [
            TimelineKind::Created,
            TimelineKind::TaskAdded,
            TimelineKind::TaskUpdated
        ]
    );
    assert_eq!(timeline[2].detail["changes"]["status"]["to"], "done");

    // Refusals leave nothing behind.
    let untitled = store.create_case(&new_case(" ", Severity::Low)).await;
    assert!(matches!(untitled, Err(StoreError::Refused(_))));
    let mut bad_task = new_case("ok", Severity::Low);
    bad_task.tasks = vec![NewTask::titled("two\nlines")];
    assert!(matches!(
        store.create_case(&bad_task).await,
        Err(StoreError::Refused(_))
    ));
    assert_eq!(store.cases(&CaseQuery::default()).await.unwrap().len(), 1);
    let missing = store
        .add_task(case.id + 100, &NewTask::titled("x"), "user:bob")
        .await;
    assert!(matches!(missing, Err(StoreError::UnknownCase(id)) if id == case.id + 100));
    let missing = store
        .update_task(9_999, &TaskUpdate::default(), "user:bob")
        .await;
    assert!(matches!(missing, Err(StoreError::UnknownTask(9_999))));
}

pub async fn cases_follow_the_status_lifecycle(store: &dyn Store) {
    let case = store
        .create_case(&new_case("Beacon", Severity::Medium))
        .await
        .unwrap();
    let other = store
        .create_case(&new_case("Beacon again", Severity::Low))
        .await
        .unwrap();

    let started = store
        .set_case_status(case.id, &status(CaseStatus::InProgress), "user:bob")
        .await
        .unwrap();
    assert_eq!(started.status, CaseStatus::InProgress);
    assert_eq!(started.closed, None);
    let mut resolve = status(CaseStatus::Resolved);
    resolve.resolution = Some("Host reimaged.".into());
    let resolved = store
        .set_case_status(case.id, &resolve, "user:bob")
        .await
        .unwrap();
    assert!(resolved.closed.is_some());
    assert_eq!(resolved.resolution.as_deref(), Some("Host reimaged."));

    // Closed to closed is refused with the lifecycle's reason, and changes nothing.
    let refused = store
        .set_case_status(case.id, &status(CaseStatus::FalsePositive), "user:bob")
        .await;
    match refused {
        Err(StoreError::StatusChange { case: id, source }) => {
            assert_eq!(id, case.id);
            assert_eq!(
                source,
                StatusChangeError::NotAllowed {
                    from: CaseStatus::Resolved,
                    to: CaseStatus::FalsePositive
                }
            );
        }
        other => panic!("expected a refused status change, got {other:?}"),
    }
    assert_eq!(store.case(case.id).await.unwrap(), Some(resolved.clone()));

    let reopened = store
        .set_case_status(case.id, &status(CaseStatus::InProgress), "user:carol")
        .await
        .unwrap();
    assert_eq!(reopened.closed, None);
    assert_eq!(reopened.resolution, None);

    // A duplicate names an existing other case.
    let without = store
        .set_case_status(case.id, &status(CaseStatus::Duplicate), "user:bob")
        .await;
    assert!(matches!(
        without,
        Err(StoreError::StatusChange {
            source: StatusChangeError::DuplicateWithoutTarget,
            ..
        })
    ));
    let mut duplicate = status(CaseStatus::Duplicate);
    duplicate.duplicate_of = Some(other.id + 100);
    let unknown = store.set_case_status(case.id, &duplicate, "user:bob").await;
    assert!(matches!(unknown, Err(StoreError::UnknownCase(id)) if id == other.id + 100));
    duplicate.duplicate_of = Some(other.id);
    let marked = store
        .set_case_status(case.id, &duplicate, "user:bob")
        .await
        .unwrap();
    assert_eq!(marked.duplicate_of, Some(other.id));
    assert!(marked.closed.is_some());

    let timeline = store.timeline(case.id).await.unwrap();
    assert_eq!(
        kinds(&timeline),
        [
            TimelineKind::Created,
            TimelineKind::StatusChanged,
            TimelineKind::StatusChanged,
            TimelineKind::Reopened,
            TimelineKind::StatusChanged,
        ]
    );
    assert_eq!(timeline[2].detail["resolution"], "Host reimaged.");
    assert_eq!(timeline[3].actor, "user:carol");

    // Field updates: the assignee has its own entry; an update that changes nothing records
    // nothing.
    let update = CaseUpdate {
        severity: Some(Severity::Critical),
        assignee: Some(Some("dave".into())),
        title: Some("Beacon".into()),
        ..CaseUpdate::default()
    };
    let updated = store
        .update_case(other.id, &update, "user:bob")
        .await
        .unwrap();
    assert_eq!(updated.severity, Severity::Critical);
    assert_eq!(updated.assignee.as_deref(), Some("dave"));
    assert!(updated.updated >= other.updated);
    store
        .update_case(other.id, &update, "user:bob")
        .await
        .unwrap();
    let timeline = store.timeline(other.id).await.unwrap();
    assert_eq!(
        kinds(&timeline),
        [
            TimelineKind::Created,
            TimelineKind::Assigned,
            TimelineKind::Updated
        ]
    );
    assert_eq!(timeline[2].detail["changes"]["severity"]["from"], "low");
    assert_eq!(timeline[2].detail["changes"]["title"]["to"], "Beacon");
    assert_eq!(store.case(other.id).await.unwrap(), Some(updated));
}

pub async fn cases_of_a_campaign_find_the_newest_open_one(store: &dyn Store) {
    let mut older = new_case("Older", Severity::Low);
    older.campaign = Some("apt-x".into());
    let older = store.create_case(&older).await.unwrap();
    let mut newer = new_case("Newer", Severity::Low);
    newer.campaign = Some("apt-x".into());
    let newer = store.create_case(&newer).await.unwrap();
    let mut unrelated = new_case("Unrelated", Severity::Low);
    unrelated.campaign = Some("apt-y".into());
    store.create_case(&unrelated).await.unwrap();

    let found = store
        .open_case_for_campaign("apt-x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, newer.id);
    store
        .set_case_status(newer.id, &status(CaseStatus::FalsePositive), "user:a")
        .await
        .unwrap();
    let found = store
        .open_case_for_campaign("apt-x")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, older.id);
    store
        .set_case_status(older.id, &status(CaseStatus::Resolved), "user:a")
        .await
        .unwrap();
    assert_eq!(store.open_case_for_campaign("apt-x").await.unwrap(), None);
    assert_eq!(store.open_case_for_campaign("APT-X").await.unwrap(), None);
}

pub async fn cases_are_filtered_paged_and_counted(store: &dyn Store) {
    let specs = [
        ("Mail from Évil", Severity::Low, Some("ann"), "phishing"),
        ("Ransom note", Severity::Critical, Some("bob"), "malware"),
        ("Brute force on VPN", Severity::High, None, "auth"),
        (
            "Second phishing wave",
            Severity::Medium,
            Some("ann"),
            "phishing",
        ),
        ("C2 beacon", Severity::High, Some("bob"), "c2"),
    ];
    let mut ids = Vec::new();
    for (title, severity, assignee, tag) in specs {
        let mut new = new_case(title, severity);
        new.assignee = assignee.map(str::to_owned);
        new.tags = vec![tag.to_owned()];
        new.campaign = Some(format!("campaign-{tag}"));
        new.due = Some(at(10_000));
        ids.push(store.create_case(&new).await.unwrap().id);
    }
    store
        .set_case_status(ids[1], &status(CaseStatus::Resolved), "user:a")
        .await
        .unwrap();
    store
        .set_case_status(ids[2], &status(CaseStatus::InProgress), "user:a")
        .await
        .unwrap();
    let found = |query: CaseQuery| async move {
        store
            .cases(&query)
            .await
            .unwrap()
            .into_iter()
            .map(|case| case.id)
            .collect::<Vec<i64>>()
    };
    assert_eq!(found(CaseQuery::default()).await, ids);
    assert_eq!(
        found(CaseQuery {
            open_only: true,
            ..CaseQuery::default()
        })
        .await,
        [ids[0], ids[2], ids[3], ids[4]]
    );
    assert_eq!(
        found(CaseQuery {
            statuses: vec![CaseStatus::Resolved, CaseStatus::InProgress],
            ..CaseQuery::default()
        })
        .await,
        [ids[1], ids[2]]
    );
    assert_eq!(
        found(CaseQuery {
            assignee: Some("ann".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[0], ids[3]]
    );
    assert_eq!(
        found(CaseQuery {
            min_severity: Some(Severity::High),
            ..CaseQuery::default()
        })
        .await,
        [ids[1], ids[2], ids[4]]
    );
    assert_eq!(
        found(CaseQuery {
            tag: Some("phishing".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[0], ids[3]]
    );
    assert_eq!(
        found(CaseQuery {
            campaign: Some("campaign-c2".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[4]]
    );
    assert_eq!(
        found(CaseQuery {
            contains: Some("PHISHING".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[3]]
    );
    // ASCII case only: both backends compare other letters exactly.
    assert_eq!(
        found(CaseQuery {
            contains: Some("FROM Évil".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[0]]
    );
    assert!(
        found(CaseQuery {
            contains: Some("from évil".into()),
            ..CaseQuery::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        found(CaseQuery {
            open_only: true,
            assignee: Some("bob".into()),
            ..CaseQuery::default()
        })
        .await,
        [ids[4]]
    );

    // Pages in both orders.
    let page = |after_id: Option<i64>, newest_first: bool| CaseQuery {
        after_id,
        newest_first,
        limit: 2,
        ..CaseQuery::default()
    };
    assert_eq!(found(page(None, false)).await, [ids[0], ids[1]]);
    assert_eq!(found(page(Some(ids[1]), false)).await, [ids[2], ids[3]]);
    assert_eq!(found(page(Some(ids[3]), false)).await, [ids[4]]);
    assert_eq!(found(page(None, true)).await, [ids[4], ids[3]]);
    assert_eq!(found(page(Some(ids[3]), true)).await, [ids[2], ids[1]]);
    assert_eq!(found(page(Some(ids[1]), true)).await, [ids[0]]);

    let counts = store.case_counts(at(20_000)).await.unwrap();
    assert_eq!(
        counts.by_status,
        [
            (CaseStatus::New, 3),
            (CaseStatus::InProgress, 1),
            (CaseStatus::Resolved, 1)
        ]
    );
    assert_eq!(
        counts.open_by_severity,
        [
            (Severity::High, 2),
            (Severity::Medium, 1),
            (Severity::Low, 1)
        ]
    );
    assert_eq!(counts.open_overdue, 4);
    assert_eq!(store.case_counts(at(5_000)).await.unwrap().open_overdue, 0);
}

pub async fn cases_timeline_is_in_time_order(store: &dyn Store) {
    let case = store
        .create_case(&new_case("Timeline", Severity::Low))
        .await
        .unwrap();
    let entry = |at: Timestamp, message: &str, detail: serde_json::Value| NewTimelineEntry {
        at,
        actor: "playbook:triage".into(),
        kind: TimelineKind::PlaybookAction,
        message: message.into(),
        detail,
    };
    // An entry dated before the case (an imported event) sorts first; equal times keep the
    // order they were written in.
    let earlier = Timestamp::from_second(case.created.as_second() - 3_600).unwrap();
    let later = Timestamp::from_second(case.created.as_second() + 3_600).unwrap();
    store
        .add_timeline(
            case.id,
            &entry(later, "blocked", serde_json::json!({"list": "rpz"})),
        )
        .await
        .unwrap();
    let first = store
        .add_timeline(
            case.id,
            &entry(earlier, "first sighting", serde_json::json!("raw")),
        )
        .await
        .unwrap();
    assert_eq!(first.detail, serde_json::json!({"value": "raw"}));
    store
        .add_timeline(case.id, &entry(later, "notified", serde_json::Value::Null))
        .await
        .unwrap();
    let messages: Vec<String> = store
        .timeline(case.id)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.message)
        .collect();
    assert_eq!(
        messages,
        ["first sighting", "case opened", "blocked", "notified"]
    );
    let stored = store.timeline(case.id).await.unwrap();
    assert_eq!(stored[0], first);
    assert_eq!(stored[3].detail, serde_json::json!({}));
    // The case's updated time follows its newest entry.
    assert_eq!(store.case(case.id).await.unwrap().unwrap().updated, later);
    let unknown = store
        .add_timeline(case.id + 1, &entry(later, "x", serde_json::Value::Null))
        .await;
    assert!(matches!(unknown, Err(StoreError::UnknownCase(_))));
}
