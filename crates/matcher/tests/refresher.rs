//! The matcher against a real SQLite store: a first build from imported indicators, then
//! imports, suppressions and withdrawals seen through the [`Refresher`] within a second.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_matcher::{Refresher, RefresherConfig, ValueHint};
use rampart_model::{Indicator, IndicatorKind, Observation, Reliability, SourceInfo, Tlp};
use rampart_store::{Commit, ImportBatch, Store};

fn source(name: &str) -> SourceInfo {
    SourceInfo {
        name: name.into(),
        format: "text".into(),
        reliability: Reliability::A,
        default_confidence: 90,
        default_tlp: Tlp::Green,
        full_list: false,
    }
}

async fn import(store: &dyn Store, source: &SourceInfo, values: &[(IndicatorKind, &str)]) {
    let observations = values
        .iter()
        .map(|(kind, raw)| {
            Observation::new(
                Indicator::parse(*kind, raw).expect("valid indicator"),
                "test",
            )
        })
        .collect();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(ImportBatch::observations(observations))
        .await
        .expect("send batch");
    sender
        .send(ImportBatch::Commit(Commit::default()))
        .await
        .expect("send commit");
    drop(sender);
    store
        .import(source, receiver)
        .await
        .expect("import commits");
}

/// Polls until `check` holds, failing after `limit`; returns how long it took.
async fn within(
    limit: Duration,
    refresher: &mut Refresher,
    check: impl Fn(&Refresher) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        refresher.poll_once().await.expect("poll the change feed");
        if check(refresher) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "change not visible within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn imports_become_visible_through_the_refresher_within_a_second() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store: Arc<dyn Store> = Arc::from(rampart_store::open(&url).await.expect("open store"));
    let feed = source("feed-a");
    store
        .upsert_source(&feed, &serde_json::json!({}))
        .await
        .unwrap();
    import(
        store.as_ref(),
        &feed,
        &[
            (IndicatorKind::Domain, "evil.example"),
            (IndicatorKind::Cidr, "198.51.100.0/24"),
            (IndicatorKind::Url, "http://evil.example/payload.exe"),
        ],
    )
    .await;

    let mut refresher = Refresher::start(Arc::clone(&store), RefresherConfig::default())
        .await
        .expect("first build");
    let matcher = refresher.matcher();
    {
        let view = matcher.view();
        let hit = view
            .lookup_domain("cdn.evil.example")
            .expect("parent domain");
        assert_eq!(hit.value, "evil.example");
        assert!(hit.score > 0);
        assert_eq!(hit.sources.iter().collect::<Vec<_>>(), ["feed-a"]);
        let address: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            view.lookup_ip(address).map(|h| h.value),
            Some("198.51.100.0/24")
        );
        assert!(
            view.lookup(ValueHint::Url, "HTTP://evil.example:80/payload.exe")
                .is_some()
        );
        assert!(view.lookup_domain("later.example").is_none());
    }
    assert_eq!(matcher.stats().base_entries, 3);

    // A later import, by another source, reaches the matcher through the change feed.
    let other = source("feed-b");
    store
        .upsert_source(&other, &serde_json::json!({}))
        .await
        .unwrap();
    import(
        store.as_ref(),
        &other,
        &[
            (IndicatorKind::Domain, "later.example"),
            (IndicatorKind::Domain, "evil.example"),
        ],
    )
    .await;
    let took = within(Duration::from_secs(1), &mut refresher, |r| {
        let view = r.matcher().view();
        view.lookup_domain("x.later.example").is_some()
            && view
                .lookup_domain("evil.example")
                .is_some_and(|hit| hit.sources.len() == 2)
    })
    .await;
    assert!(took < Duration::from_secs(1));
    let stats = matcher.stats();
    assert_eq!(stats.delta_entries, 2);
    let latency = stats
        .last_latency
        .expect("import-to-match latency measured");
    assert!(latency < Duration::from_secs(1), "latency {latency:?}");

    // Suppression removes an indicator from matching; clearing it brings it back.
    let evil = Indicator::parse(IndicatorKind::Domain, "evil.example").unwrap();
    store
        .set_suppression(&evil, Some("allowlist: test"))
        .await
        .unwrap();
    within(Duration::from_secs(1), &mut refresher, |r| {
        r.matcher().view().lookup_domain("evil.example").is_none()
    })
    .await;
    store.set_suppression(&evil, None).await.unwrap();
    within(Duration::from_secs(1), &mut refresher, |r| {
        r.matcher().view().lookup_domain("evil.example").is_some()
    })
    .await;

    // Removing the only source of a CIDR withdraws it from the matcher.
    assert!(store.remove_source("feed-a").await.unwrap());
    within(Duration::from_secs(1), &mut refresher, |r| {
        r.matcher()
            .view()
            .lookup_ip("198.51.100.7".parse().unwrap())
            .is_none()
    })
    .await;

    // The background loop does the same on its own.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(refresher.run(async {
        let _ = stopped.await;
    }));
    import(
        store.as_ref(),
        &other,
        &[(IndicatorKind::Email, "phish@later.example")],
    )
    .await;
    let started = Instant::now();
    while matcher.view().lookup_email("phish@later.example").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not visible within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    task.await.expect("refresher stops");

    // A full rebuild gives the same answers as the merged delta.
    let rebuilt = Refresher::start(Arc::clone(&store), RefresherConfig::default())
        .await
        .expect("rebuild");
    let fresh = rebuilt.matcher();
    for probe in [
        "evil.example",
        "later.example",
        "phish@later.example",
        "198.51.100.7",
    ] {
        let expected = fresh
            .view()
            .lookup(ValueHint::Any, probe)
            .map(|h| (h.id, h.score));
        let actual = matcher
            .view()
            .lookup(ValueHint::Any, probe)
            .map(|h| (h.id, h.score));
        assert_eq!(actual, expected, "{probe}");
    }
}
