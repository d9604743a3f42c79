//! Cases about everything but the import itself: suppression, search, allowlist, assets,
//! sources and counts.

use rampart_model::{Indicator, IndicatorKind, Reliability};
use rampart_store::{AllowEntry, Asset, Counts, ImportBatch, PullOutcome, SearchQuery, Store};

use crate::fixtures::*;

pub async fn suppression_set_and_clear(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let x = domain("x.example");
    let y = domain("y.example");
    let batch = |reason: Option<&str>| {
        vec![
            ImportBatch::Observations(vec![
                staged(observation(x.clone(), "x"), reason),
                staged(observation(y.clone(), "y"), None),
            ]),
            commit(),
        ]
    };
    import(store, &a, batch(Some("warninglist: top sites")))
        .await
        .unwrap();
    assert_eq!(
        stored(store, &x).await.suppressed.as_deref(),
        Some("warninglist: top sites")
    );
    assert_eq!(stored(store, &y).await.suppressed, None);
    assert_eq!(store.counts().await.unwrap().suppressed, 1);

    // An import never clears a suppression, but replaces it with a new reason.
    import(store, &a, batch(None)).await.unwrap();
    assert_eq!(
        stored(store, &x).await.suppressed.as_deref(),
        Some("warninglist: top sites")
    );
    import(store, &a, batch(Some("allowlist"))).await.unwrap();
    assert_eq!(
        stored(store, &x).await.suppressed.as_deref(),
        Some("allowlist")
    );

    assert!(
        store
            .set_suppression(&y, Some("analyst: false positive"))
            .await
            .unwrap()
    );
    assert_eq!(
        stored(store, &y).await.suppressed.as_deref(),
        Some("analyst: false positive")
    );
    assert!(store.set_suppression(&x, None).await.unwrap());
    assert_eq!(stored(store, &x).await.suppressed, None);
    assert!(
        !store
            .set_suppression(&domain("unknown.example"), Some("r"))
            .await
            .unwrap()
    );

    let changes = vec![
        (x.clone(), Some("first".to_owned())),
        (y.clone(), None),
        (domain("unknown.example"), Some("ignored".to_owned())),
        (x.clone(), Some("last wins".to_owned())),
    ];
    store.set_suppressions(&changes).await.unwrap();
    assert_eq!(
        stored(store, &x).await.suppressed.as_deref(),
        Some("last wins")
    );
    assert_eq!(stored(store, &y).await.suppressed, None);
    assert_eq!(
        store.indicator(&domain("unknown.example")).await.unwrap(),
        None
    );
    store.set_suppressions(&[]).await.unwrap();

    // Many changes at once: more rows than one multi-row statement takes.
    let many: Vec<Indicator> = (0..1500)
        .map(|n| domain(&format!("host{n}.example")))
        .collect();
    import_observations(
        store,
        &a,
        many.iter()
            .map(|indicator| observation(indicator.clone(), "m"))
            .collect(),
    )
    .await;
    let changes: Vec<(Indicator, Option<String>)> = many
        .iter()
        .map(|indicator| (indicator.clone(), Some("bulk".to_owned())))
        .collect();
    store.set_suppressions(&changes).await.unwrap();
    assert_eq!(store.counts().await.unwrap().suppressed, 1501);
}

pub async fn search_filters_and_pages(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let b = add_source(store, "beta").await;
    import_observations(
        store,
        &a,
        vec![
            observation(domain("alpha.example"), "1"),
            observation(domain("beta.example"), "2"),
            observation(ipv4("192.0.2.1"), "3"),
            observation(ipv4("192.0.2.2"), "4"),
            observation(
                Indicator::parse(IndicatorKind::Url, "http://alpha.example/Login").unwrap(),
                "5",
            ),
        ],
    )
    .await;
    import_observations(
        store,
        &b,
        vec![
            observation(domain("alpha.example"), "b1"),
            observation(ipv4("198.51.100.7"), "b2"),
        ],
    )
    .await;

    let values = |found: &[rampart_store::StoredIndicator]| -> Vec<String> {
        found
            .iter()
            .map(|stored| stored.indicator.value().to_owned())
            .collect()
    };
    let search = |query: SearchQuery| async move { store.search(&query).await.unwrap() };

    let everything = search(SearchQuery::default()).await;
    assert_eq!(everything.len(), 6);
    assert!(
        everything.windows(2).all(|pair| pair[0].id < pair[1].id),
        "id order"
    );

    let alpha = search(SearchQuery {
        contains: Some("ALPHA".into()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(
        values(&alpha),
        ["alpha.example", "http://alpha.example/Login"]
    );
    let login = search(SearchQuery {
        contains: Some("login".into()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(values(&login), ["http://alpha.example/Login"]);
    let domains = search(SearchQuery {
        kind: Some(IndicatorKind::Domain),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(values(&domains), ["alpha.example", "beta.example"]);
    let from_beta = search(SearchQuery {
        source: Some("beta".into()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(values(&from_beta), ["alpha.example", "198.51.100.7"]);
    let beta_ips = search(SearchQuery {
        source: Some("beta".into()),
        kind: Some(IndicatorKind::Ipv4),
        contains: Some("100".into()),
        ..SearchQuery::default()
    })
    .await;
    assert_eq!(values(&beta_ips), ["198.51.100.7"]);
    let nobody = search(SearchQuery {
        source: Some("nobody".into()),
        ..SearchQuery::default()
    })
    .await;
    assert!(nobody.is_empty());

    // Statements come with each indicator, whatever the filter.
    let both = &from_beta[0];
    let sources: Vec<&str> = both
        .sources
        .iter()
        .map(|statement| statement.source.as_str())
        .collect();
    assert_eq!(sources, ["alpha", "beta"]);
    assert_eq!(both, &stored(store, &domain("alpha.example")).await);

    // Pages of two walk through everything exactly once, for plain and per-source searches.
    let mut walked = Vec::new();
    let mut after_id = None;
    loop {
        let page = search(SearchQuery {
            after_id,
            limit: 2,
            ..SearchQuery::default()
        })
        .await;
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after_id = Some(last.id);
        walked.extend(page);
    }
    assert_eq!(walked, everything);
    let first = search(SearchQuery {
        source: Some("alpha".into()),
        limit: 3,
        ..SearchQuery::default()
    })
    .await;
    let rest = search(SearchQuery {
        source: Some("alpha".into()),
        after_id: Some(first[2].id),
        limit: 3,
        ..SearchQuery::default()
    })
    .await;
    assert_eq!((first.len(), rest.len()), (3, 2));
    assert!(rest[0].id > first[2].id);
}

pub async fn allowlist_entries(store: &dyn Store) {
    assert!(store.allowlist().await.unwrap().is_empty());
    let entry = |value: &str, reason: &str, second: i64| AllowEntry {
        value: value.to_owned(),
        reason: reason.to_owned(),
        added: at(second),
    };
    store
        .allow(&entry("example.org", "our domain", 10))
        .await
        .unwrap();
    store
        .allow(&entry("192.0.2.0/24", "office", 20))
        .await
        .unwrap();
    store
        .allow(&entry("example.org", "our main domain", 30))
        .await
        .unwrap();
    assert_eq!(
        store.allowlist().await.unwrap(),
        [
            entry("192.0.2.0/24", "office", 20),
            entry("example.org", "our main domain", 30)
        ]
    );
    assert!(store.disallow("example.org").await.unwrap());
    assert!(!store.disallow("example.org").await.unwrap());
    assert_eq!(
        store.allowlist().await.unwrap(),
        [entry("192.0.2.0/24", "office", 20)]
    );
}

pub async fn assets_are_replaced_by_name(store: &dyn Store) {
    let asset = |name: &str, owner: Option<&str>, criticality: u8| Asset {
        name: name.to_owned(),
        kind: "server".to_owned(),
        owner: owner.map(str::to_owned),
        criticality,
        tags: vec!["prod".to_owned()],
        networks: vec!["192.0.2.10".to_owned(), "198.51.100.0/24".to_owned()],
        hostnames: vec![format!("{name}.corp.example")],
        domains: Vec::new(),
    };
    assert_eq!(
        store
            .upsert_assets(&[asset("web", Some("ops"), 3), asset("db", None, 5)])
            .await
            .unwrap(),
        2
    );
    let mut replaced = asset("web", None, 4);
    replaced.tags = Vec::new();
    replaced.domains = vec!["shop.example".to_owned()];
    assert_eq!(
        store
            .upsert_assets(std::slice::from_ref(&replaced))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.assets().await.unwrap(),
        [asset("db", None, 5), replaced]
    );
    assert_eq!(store.upsert_assets(&[]).await.unwrap(), 0);
}

pub async fn sources_status_and_removal(store: &dyn Store) {
    assert_eq!(store.source("alpha").await.unwrap(), None);
    let mut a = add_source(store, "alpha").await;
    let record = store.source("alpha").await.unwrap().unwrap();
    assert_eq!(record.info, a);
    assert_eq!(
        record.settings,
        serde_json::json!({"url": "https://alpha.example/feed"})
    );
    assert_eq!(
        (
            record.last_attempt,
            record.last_success,
            record.last_error.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(
        (
            record.consecutive_failures,
            record.last_summary.as_ref(),
            record.active_statements
        ),
        (0, None, 0)
    );

    a.format = "csv".into();
    a.full_list = true;
    store
        .upsert_source(
            &a,
            &serde_json::json!({"url": "https://alpha.example/v2", "every": "1h"}),
        )
        .await
        .unwrap();
    store
        .record_pull(
            "alpha",
            &PullOutcome::Failure {
                at: at(10),
                error: "timed out".into(),
            },
        )
        .await
        .unwrap();
    store
        .record_pull(
            "alpha",
            &PullOutcome::Failure {
                at: at(20),
                error: "HTTP 503".into(),
            },
        )
        .await
        .unwrap();
    let record = store.source("alpha").await.unwrap().unwrap();
    assert_eq!(
        (record.info.format.as_str(), record.info.full_list),
        ("csv", true)
    );
    assert_eq!(record.settings["every"], "1h");
    assert_eq!(
        (record.last_attempt, record.last_success),
        (Some(at(20)), None)
    );
    assert_eq!(
        (record.last_error.as_deref(), record.consecutive_failures),
        (Some("HTTP 503"), 2)
    );

    let mut revoked = observation(domain("revoked.example"), "r");
    revoked.revoked = true;
    let imported = import_observations(
        store,
        &a,
        vec![
            observation(domain("x.example"), "x"),
            observation(domain("y.example"), "y"),
            revoked,
        ],
    )
    .await;
    let record = store.source("alpha").await.unwrap().unwrap();
    assert_eq!(record.last_summary.as_ref(), Some(&imported));
    assert_eq!(
        record.active_statements, 2,
        "revoked statements are not active"
    );
    store
        .record_pull(
            "alpha",
            &PullOutcome::Success {
                at: at(30),
                summary: imported.clone(),
            },
        )
        .await
        .unwrap();
    let record = store.source("alpha").await.unwrap().unwrap();
    assert_eq!(
        (
            record.last_attempt,
            record.last_success,
            record.consecutive_failures
        ),
        (Some(at(30)), Some(at(30)), 0)
    );
    store
        .record_pull("alpha", &PullOutcome::NotModified { at: at(40) })
        .await
        .unwrap();
    let record = store.source("alpha").await.unwrap().unwrap();
    assert_eq!(
        (record.last_attempt, record.last_success),
        (Some(at(40)), Some(at(40)))
    );
    assert_eq!(record.last_summary, Some(imported));

    store
        .set_reliability("alpha", Reliability::E)
        .await
        .unwrap();
    assert_eq!(
        store
            .source("alpha")
            .await
            .unwrap()
            .unwrap()
            .info
            .reliability,
        Reliability::E
    );
    assert_eq!(
        stored(store, &domain("x.example")).await.sources[0].reliability,
        Reliability::E
    );

    let b = add_source(store, "beta").await;
    import_observations(store, &b, vec![observation(domain("x.example"), "bx")]).await;
    store.set_cursor("alpha", "etag", "v1").await.unwrap();
    let names: Vec<String> = store
        .sources()
        .await
        .unwrap()
        .into_iter()
        .map(|record| record.info.name)
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    let listed = store.sources().await.unwrap();
    assert_eq!(listed[0], store.source("alpha").await.unwrap().unwrap());
    assert_eq!(listed[1].active_statements, 1);

    assert!(store.remove_source("alpha").await.unwrap());
    assert!(!store.remove_source("alpha").await.unwrap());
    assert_eq!(store.source("alpha").await.unwrap(), None);
    assert_eq!(store.cursor("alpha", "etag").await.unwrap(), None);
    // Indicators stay, with whatever other sources say about them.
    let y = stored(store, &domain("y.example")).await;
    assert!(y.sources.is_empty());
    let x = stored(store, &domain("x.example")).await;
    assert_eq!(
        x.sources
            .iter()
            .map(|s| s.source.as_str())
            .collect::<Vec<_>>(),
        ["beta"]
    );
    assert_eq!(store.counts().await.unwrap().statements, 1);
}

pub async fn counts_cover_every_table(store: &dyn Store) {
    assert_eq!(store.counts().await.unwrap(), Counts::default());
    let a = add_source(store, "alpha").await;
    let b = add_source(store, "beta").await;
    import(
        store,
        &a,
        vec![
            ImportBatch::Observations(vec![
                staged(observation(domain("x.example"), "x"), Some("top sites")),
                staged(observation(domain("y.example"), "y"), None),
                staged(observation(ipv4("192.0.2.1"), "ip"), None),
            ]),
            ImportBatch::Objects(vec![object(
                "malware--1",
                "malware",
                None,
                serde_json::json!({}),
            )]),
            commit(),
        ],
    )
    .await
    .unwrap();
    import_observations(store, &b, vec![observation(domain("x.example"), "x")]).await;
    store
        .upsert_assets(&[Asset {
            name: "web".into(),
            kind: "server".into(),
            owner: None,
            criticality: 1,
            tags: Vec::new(),
            networks: Vec::new(),
            hostnames: Vec::new(),
            domains: Vec::new(),
        }])
        .await
        .unwrap();
    store
        .allow(&AllowEntry {
            value: "example.org".into(),
            reason: "ours".into(),
            added: at(1),
        })
        .await
        .unwrap();
    assert_eq!(
        store.counts().await.unwrap(),
        Counts {
            indicators: 3,
            statements: 4,
            suppressed: 1,
            objects: 1,
            sources: 2,
            assets: 1
        }
    );
}
