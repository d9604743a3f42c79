//! Cases about imports: counts, merging, withdrawal, atomicity, cursors, objects.

use rampart_model::{AttackId, Indicator, IndicatorKind, SourceInfo, Timestamp, Tlp};
use rampart_store::{Commit, ImportBatch, ImportSummary, SearchQuery, Store, StoreError};

use crate::fixtures::*;

pub async fn counts_new_updated_added_source_and_duplicates(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let b = add_source(store, "beta").await;
    let first = import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![
                observation(domain("x.example"), "line 1"),
                observation(domain("y.example"), "line 2"),
                observation(domain("X.EXAMPLE."), "line 3"),
            ]),
            ImportBatch::Rejected(3),
            commit(),
        ],
    )
    .await
    .expect("first import");
    assert_eq!(
        first,
        ImportSummary {
            rejected: 3,
            ..summary(2, 0, 0, 0, 1)
        }
    );
    assert_eq!(first.accepted(), 2);

    let again = import_observations(
        store,
        &a,
        vec![
            observation(domain("x.example"), "line 1"),
            observation(domain("z.example"), "line 2"),
        ],
    )
    .await;
    assert_eq!(again, summary(1, 0, 1, 0, 0));

    let other = import_observations(
        store,
        &b,
        vec![
            observation(domain("x.example"), "row 1"),
            observation(domain("w.example"), "row 2"),
        ],
    )
    .await;
    assert_eq!(other, summary(1, 0, 0, 1, 0));

    let x = stored(store, &domain("x.example")).await;
    let sources: Vec<&str> = x
        .sources
        .iter()
        .map(|statement| statement.source.as_str())
        .collect();
    assert_eq!(sources, ["alpha", "beta"]);
    assert_eq!(store.counts().await.unwrap().indicators, 4);
    assert_eq!(store.counts().await.unwrap().statements, 5);
    assert_eq!(
        store.source("alpha").await.unwrap().unwrap().last_summary,
        Some(again)
    );
}

pub async fn duplicates_across_batches_merge_lists(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let technique: AttackId = "T1566".parse().unwrap();
    let mut first = observation(domain("x.example"), "event 1");
    first.labels = vec!["phishing".into()];
    first.techniques = vec![technique.clone()];
    let mut second = observation(domain("x.example"), "event 2");
    second.labels = vec!["c2".into(), "phishing".into()];
    second.threats = vec!["emotet".into()];
    let result = import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![first]),
            ImportBatch::observations(vec![second]),
            commit(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(result, summary(1, 0, 0, 0, 1));
    let statement = &stored(store, &domain("x.example")).await.sources[0];
    assert_eq!(statement.labels, ["phishing", "c2"]);
    assert_eq!(statement.techniques, [technique]);
    assert_eq!(statement.threats, ["emotet"]);
    assert_eq!(statement.reference, "event 2");

    // A later import replaces the lists; only repeats within one import are united.
    let mut third = observation(domain("x.example"), "event 3");
    third.labels = vec!["botnet".into()];
    let mut fourth = observation(domain("x.example"), "event 4");
    fourth.labels = vec!["spam".into()];
    let result = import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![third]),
            ImportBatch::observations(vec![fourth]),
            commit(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(result, summary(0, 1, 0, 0, 1));
    let statement = &stored(store, &domain("x.example")).await.sources[0];
    assert_eq!(statement.labels, ["botnet", "spam"]);
    assert!(statement.techniques.is_empty());
    assert!(statement.threats.is_empty());
}

pub async fn seen_dates_widen_and_fields_follow_the_newest(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let mut first = dated(domain("x.example"), "r1", 100, 200);
    first.confidence = Some(10);
    first.tlp = Some(Tlp::Amber);
    first.port = Some(8080);
    first.direction = Some(rampart_model::Direction::Destination);
    first.pattern = Some(rampart_model::PatternNote {
        pattern: "[domain-name:value = 'x.example']".into(),
        unenforced: None,
    });
    import_observations(store, &a, vec![first]).await;
    let statement = &stored(store, &domain("x.example")).await.sources[0];
    assert_eq!(
        (statement.first_seen, statement.last_seen),
        (at(100), at(200))
    );
    assert_eq!(
        (statement.confidence, statement.tlp, statement.port),
        (10, Tlp::Amber, Some(8080))
    );
    assert_eq!(
        statement.direction,
        Some(rampart_model::Direction::Destination)
    );
    assert!(statement.pattern.is_some());
    assert_eq!(statement.reliability, rampart_model::Reliability::B);

    let second = dated(domain("x.example"), "r2", 150, 300);
    import_observations(store, &a, vec![second]).await;
    let x = stored(store, &domain("x.example")).await;
    let statement = &x.sources[0];
    assert_eq!(
        (statement.first_seen, statement.last_seen),
        (at(100), at(300))
    );
    // Missing confidence and TLP come from the source's defaults, not the older statement.
    assert_eq!((statement.confidence, statement.tlp), (70, Tlp::Green));
    assert_eq!(
        (
            statement.reference.as_str(),
            statement.port,
            statement.pattern.is_none()
        ),
        ("r2", None, true)
    );

    import_observations(store, &a, vec![dated(domain("x.example"), "r3", 50, 120)]).await;
    let x = stored(store, &domain("x.example")).await;
    assert_eq!(
        (x.sources[0].first_seen, x.sources[0].last_seen),
        (at(50), at(300))
    );
    // The indicator's own first sighting is when it was first stored.
    assert_eq!(x.first_seen, at(100));

    let before = Timestamp::now();
    import_observations(store, &a, vec![observation(domain("y.example"), "undated")]).await;
    let after = Timestamp::now();
    let y = stored(store, &domain("y.example")).await;
    let seen = y.sources[0].first_seen;
    assert!(
        before <= seen && seen <= after,
        "{before} <= {seen} <= {after}"
    );
    assert_eq!(y.sources[0].last_seen, seen);
    assert_eq!(y.first_seen, seen);
}

pub async fn full_list_withdraws_and_relists(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let b = add_source(store, "beta").await;
    let full = |values: &[&str]| {
        vec![
            ImportBatch::observations(
                values
                    .iter()
                    .map(|value| observation(domain(value), value))
                    .collect(),
            ),
            ImportBatch::Commit(Commit {
                full_list: true,
                cursors: Vec::new(),
            }),
        ]
    };
    assert_eq!(
        import(store, &a, full(&["x.example", "y.example", "z.example"]))
            .await
            .unwrap(),
        summary(3, 0, 0, 0, 0)
    );
    import_observations(store, &b, vec![observation(domain("q.example"), "q")]).await;

    let second = import(store, &a, full(&["x.example", "y.example"]))
        .await
        .unwrap();
    assert_eq!(
        second,
        ImportSummary {
            withdrawn: 1,
            ..summary(0, 0, 2, 0, 0)
        }
    );
    let z = stored(store, &domain("z.example")).await;
    assert!(z.sources[0].withdrawn_at.is_some());
    assert!(!z.sources[0].is_active(Timestamp::now()));
    assert!(
        stored(store, &domain("x.example")).await.sources[0]
            .withdrawn_at
            .is_none()
    );
    assert_eq!(
        store
            .source("alpha")
            .await
            .unwrap()
            .unwrap()
            .active_statements,
        2
    );
    // Another source's statements are not this list's business.
    assert!(
        stored(store, &domain("q.example")).await.sources[0]
            .withdrawn_at
            .is_none()
    );

    let third = import(store, &a, full(&["x.example", "y.example"]))
        .await
        .unwrap();
    assert_eq!(
        third.withdrawn, 0,
        "a withdrawn statement is withdrawn once"
    );

    let relisted =
        import_observations(store, &a, vec![observation(domain("z.example"), "back")]).await;
    assert_eq!(relisted, summary(0, 1, 0, 0, 0));
    assert!(
        stored(store, &domain("z.example")).await.sources[0]
            .withdrawn_at
            .is_none()
    );
    assert_eq!(
        store
            .source("alpha")
            .await
            .unwrap()
            .unwrap()
            .active_statements,
        3
    );
}

/// A store with a little of everything, for the atomicity cases.
async fn populated(store: &dyn Store) -> SourceInfo {
    let a = add_source(store, "alpha").await;
    import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![dated(domain("x.example"), "x", 100, 200)]),
            ImportBatch::Objects(vec![object(
                "malware--1",
                "malware",
                Some(10),
                serde_json::json!({"name": "m"}),
            )]),
            ImportBatch::Commit(Commit {
                full_list: false,
                cursors: vec![("etag".into(), "v1".into())],
            }),
        ],
    )
    .await
    .unwrap();
    a
}

fn doomed_batches() -> Vec<ImportBatch> {
    vec![
        ImportBatch::Observations(vec![
            staged(
                dated(domain("x.example"), "x2", 50, 500),
                Some("suppressed now"),
            ),
            staged(observation(domain("new.example"), "n"), None),
        ]),
        ImportBatch::Objects(vec![
            object(
                "malware--1",
                "malware",
                Some(20),
                serde_json::json!({"name": "m2"}),
            ),
            object(
                "malware--2",
                "malware",
                Some(20),
                serde_json::json!({"name": "m3"}),
            ),
        ]),
        ImportBatch::Rejected(2),
    ]
}

pub async fn abort_leaves_the_store_unchanged(store: &dyn Store) {
    let a = populated(store).await;
    let before = dump(store, &[("alpha", "etag")]).await;
    let mut batches = doomed_batches();
    batches.push(ImportBatch::Abort("operator said stop".into()));
    let result = import(store, &a, batches).await;
    assert!(
        matches!(result, Err(StoreError::Aborted(ref reason)) if reason == "operator said stop"),
        "{result:?}"
    );
    assert_eq!(dump(store, &[("alpha", "etag")]).await, before);
    // The write lock is free again.
    assert_eq!(
        import_observations(store, &a, vec![observation(domain("new.example"), "n")])
            .await
            .new,
        1
    );
}

pub async fn closed_channel_leaves_the_store_unchanged(store: &dyn Store) {
    let a = populated(store).await;
    let before = dump(store, &[("alpha", "etag")]).await;
    let result = import(store, &a, doomed_batches()).await;
    assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    assert_eq!(dump(store, &[("alpha", "etag")]).await, before);
}

pub async fn unknown_source_is_refused(store: &dyn Store) {
    populated(store).await;
    let before = dump(store, &[("alpha", "etag")]).await;
    let stranger = SourceInfo::adhoc("stranger", "text");
    let mut batches = doomed_batches();
    batches.push(commit());
    let result = import(store, &stranger, batches).await;
    assert!(
        matches!(result, Err(StoreError::UnknownSource(ref name)) if name == "stranger"),
        "{result:?}"
    );
    assert_eq!(dump(store, &[("alpha", "etag")]).await, before);
    let outcome = rampart_store::PullOutcome::NotModified { at: at(1) };
    assert!(matches!(
        store.record_pull("stranger", &outcome).await,
        Err(StoreError::UnknownSource(_))
    ));
    assert!(matches!(
        store.set_cursor("stranger", "k", "v").await,
        Err(StoreError::UnknownSource(_))
    ));
    assert!(matches!(
        store
            .set_reliability("stranger", rampart_model::Reliability::A)
            .await,
        Err(StoreError::UnknownSource(_))
    ));
}

pub async fn failure_mid_import_leaves_nothing(store: &dyn Store) {
    let a = populated(store).await;
    let before = dump(store, &[("alpha", "etag")]).await;
    // The store refuses values over 64 KiB (canonical values are far shorter): the second
    // batch fails after the first was written.
    let oversized = Indicator::from_canonical(IndicatorKind::Domain, "a".repeat(70_000));
    let mut batches = doomed_batches();
    batches.push(ImportBatch::observations(vec![observation(
        oversized, "huge",
    )]));
    batches.push(commit());
    let result = import(store, &a, batches).await;
    assert!(
        matches!(result, Err(StoreError::Aborted(ref reason)) if reason.contains("longer than the store's limit")),
        "{result:?}"
    );
    assert_eq!(dump(store, &[("alpha", "etag")]).await, before);
    assert_eq!(
        import_observations(store, &a, vec![observation(domain("new.example"), "n")])
            .await
            .new,
        1
    );
}

pub async fn cursors_move_only_with_a_commit(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    assert_eq!(store.cursor("alpha", "etag").await.unwrap(), None);
    store.set_cursor("alpha", "etag", "v1").await.unwrap();
    let moving = || Commit {
        full_list: false,
        cursors: vec![("etag".into(), "v2".into()), ("page".into(), "3".into())],
    };

    let aborted = import(
        store,
        &a,
        vec![
            ImportBatch::Abort("no".into()),
            ImportBatch::Commit(moving()),
        ],
    )
    .await;
    assert!(aborted.is_err());
    let dropped = import(
        store,
        &a,
        vec![ImportBatch::observations(vec![observation(
            domain("x.example"),
            "x",
        )])],
    )
    .await;
    assert!(dropped.is_err());
    assert_eq!(
        store.cursor("alpha", "etag").await.unwrap().as_deref(),
        Some("v1")
    );
    assert_eq!(store.cursor("alpha", "page").await.unwrap(), None);

    import(store, &a, vec![ImportBatch::Commit(moving())])
        .await
        .unwrap();
    assert_eq!(
        store.cursor("alpha", "etag").await.unwrap().as_deref(),
        Some("v2")
    );
    assert_eq!(
        store.cursor("alpha", "page").await.unwrap().as_deref(),
        Some("3")
    );
    store.set_cursor("alpha", "etag", "v3").await.unwrap();
    assert_eq!(
        store.cursor("alpha", "etag").await.unwrap().as_deref(),
        Some("v3")
    );
    assert_eq!(store.cursor("beta", "etag").await.unwrap(), None);
}

pub async fn large_import_spans_many_chunks(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    // 5000 distinct addresses in two batches of 2500, plus 300 repeats of the first batch's
    // values in the second: more rows than one multi-row statement takes, and an odd tail.
    let address = |n: u32| ipv4(&format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255));
    let first: Vec<_> = (0..2500)
        .map(|n| observation(address(n), "first"))
        .collect();
    let mut second: Vec<_> = (2500..5000)
        .map(|n| observation(address(n), "second"))
        .collect();
    second.extend((0..300).map(|n| observation(address(n * 7), "repeat")));
    let result = import(
        store,
        &a,
        vec![
            ImportBatch::observations(first),
            ImportBatch::observations(second),
            commit(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(result, summary(5000, 0, 0, 0, 300));
    assert_eq!(store.counts().await.unwrap().indicators, 5000);
    assert_eq!(
        stored(store, &address(7)).await.sources[0].reference,
        "repeat"
    );

    // Again, with 100 new ones at the end: after a batch of known indicators the store looks
    // the next one up before inserting, after a new one it inserts first; both must count alike.
    let known: Vec<_> = (0..2500)
        .map(|n| observation(address(n), "again"))
        .collect();
    let mixed: Vec<_> = (2500..5100)
        .map(|n| observation(address(n), "again"))
        .collect();
    let fresh: Vec<_> = (5100..5200)
        .map(|n| observation(address(n), "fresh"))
        .collect();
    let again = import(
        store,
        &a,
        vec![
            ImportBatch::observations(known),
            ImportBatch::observations(mixed),
            ImportBatch::observations(fresh),
            ImportBatch::Commit(Commit {
                full_list: true,
                cursors: Vec::new(),
            }),
        ],
    )
    .await
    .unwrap();
    assert_eq!(again, summary(200, 0, 5000, 0, 0));
    assert_eq!(store.counts().await.unwrap().indicators, 5200);
    let page = store
        .search(&SearchQuery {
            limit: 0,
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 1000, "limit 0 means the default page of 1000");
}

pub async fn objects_keep_the_newest_and_relate(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let objects =
        |list: Vec<rampart_model::ContextObject>| vec![ImportBatch::Objects(list), commit()];
    let relationship = object(
        "relationship--1",
        "relationship",
        Some(10),
        serde_json::json!({
            "type": "relationship", "source_ref": "indicator--x", "target_ref": "malware--1",
            "relationship_type": "indicates", "x_custom": [1, 2, {"deep": true}]
        }),
    );
    let sighting = object(
        "sighting--1",
        "sighting",
        None,
        serde_json::json!({"type": "sighting", "sighting_of_ref": "indicator--x", "count": 3}),
    );
    let malware = object(
        "malware--1",
        "malware",
        Some(100),
        serde_json::json!({"name": "old", "is_family": true}),
    );
    let written = import(
        store,
        &a,
        objects(vec![relationship.clone(), sighting.clone(), malware]),
    )
    .await
    .unwrap();
    assert_eq!(written.objects, 3);

    let older = object(
        "malware--1",
        "malware",
        Some(50),
        serde_json::json!({"name": "older"}),
    );
    assert_eq!(
        import(store, &a, objects(vec![older]))
            .await
            .unwrap()
            .objects,
        0
    );
    let undated = object(
        "malware--1",
        "malware",
        None,
        serde_json::json!({"name": "undated"}),
    );
    assert_eq!(
        import(store, &a, objects(vec![undated]))
            .await
            .unwrap()
            .objects,
        0
    );
    assert_eq!(
        store
            .context_object("malware--1")
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("old")
    );
    let newer = object(
        "malware--1",
        "malware",
        Some(200),
        serde_json::json!({"name": "new"}),
    );
    let same_batch = vec![
        object(
            "malware--2",
            "malware",
            Some(20),
            serde_json::json!({"name": "b"}),
        ),
        object(
            "malware--2",
            "malware",
            Some(10),
            serde_json::json!({"name": "a"}),
        ),
    ];
    let mut list = vec![newer];
    list.extend(same_batch);
    assert_eq!(import(store, &a, objects(list)).await.unwrap().objects, 2);
    assert_eq!(
        store
            .context_object("malware--1")
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("new")
    );
    assert_eq!(
        store
            .context_object("malware--2")
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("b")
    );
    // Undated objects replace undated ones.
    let resighted = object(
        "sighting--1",
        "sighting",
        None,
        serde_json::json!({"type": "sighting", "sighting_of_ref": "indicator--x", "count": 4}),
    );
    assert_eq!(
        import(store, &a, objects(vec![resighted.clone()]))
            .await
            .unwrap()
            .objects,
        1
    );

    let related = store.relationships_of("indicator--x").await.unwrap();
    assert_eq!(related, vec![relationship, resighted]);
    assert!(
        store
            .relationships_of("malware--1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.context_object("nothing--0").await.unwrap(), None);

    let first_page = store.context_objects("malware", None, 1).await.unwrap();
    assert_eq!(first_page.len(), 1);
    assert_eq!(first_page[0].id, "malware--1");
    let second_page = store
        .context_objects("malware", Some("malware--1"), 1)
        .await
        .unwrap();
    assert_eq!(
        second_page
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["malware--2"]
    );
    assert!(
        store
            .context_objects("malware", Some("malware--2"), 1)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn long_values_are_stored(store: &dyn Store) {
    // Longer than a PostgreSQL B-tree entry may be (2704 bytes): uniqueness must not rely on
    // indexing the value itself there.
    let a = add_source(store, "alpha").await;
    let long = format!("http://long.example/{}", "q".repeat(6000));
    let url = Indicator::parse(IndicatorKind::Url, &long).unwrap();
    let first = import_observations(store, &a, vec![observation(url.clone(), "long")]).await;
    assert_eq!(first, summary(1, 0, 0, 0, 0));
    assert_eq!(
        import_observations(store, &a, vec![observation(url.clone(), "again")]).await,
        summary(0, 0, 1, 0, 0)
    );
    assert_eq!(stored(store, &url).await.indicator, url);
    assert!(store.set_suppression(&url, Some("long")).await.unwrap());
    let found = store
        .search(&SearchQuery {
            contains: Some("QQQQ".into()),
            ..SearchQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}

pub async fn failure_is_reported_while_the_sender_waits(store: &dyn Store, raw: &crate::Raw) {
    // A sender that keeps the channel open (a feed client waiting on the network) must still
    // learn of a failed write at once, and see its channel closed. The write fails in the
    // database itself: its statements table is gone, so the indicators are written and the
    // statements are not, and the rollback must take the indicators back.
    let a = add_source(store, "alpha").await;
    raw.execute("DROP TABLE statements").await;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(ImportBatch::observations(vec![observation(
            domain("x.example"),
            "x",
        )]))
        .await
        .unwrap();
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        store.import(&a, receiver),
    )
    .await;
    assert!(
        matches!(result, Ok(Err(StoreError::Database(_)))),
        "{result:?}"
    );
    assert!(
        sender.send(commit()).await.is_err(),
        "the channel is closed"
    );
    assert_eq!(raw.count("SELECT count(*) FROM indicators").await, 0);
    assert_eq!(raw.count("SELECT count(*) FROM imports").await, 0);
}
