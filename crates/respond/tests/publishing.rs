//! The respond runtime against a real SQLite store: intel imported → automatic list entries and
//! playbook blocks rendered and written; suppression → rolled back; expiry → gone.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_model::{Indicator, IndicatorKind, Observation, Reliability, SourceInfo};
use rampart_respond::blocklist::Format;
use rampart_respond::config::RespondConfig;
use rampart_respond::playbook::{NoServices, References};
use rampart_respond::runtime::Responder;
use rampart_store::{BlockQuery, ImportBatch, Store};

async fn store(dir: &Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("rampart.db").display());
    Arc::from(rampart_store::open(&url).await.expect("open store"))
}

async fn import(store: &dyn Store, values: &[(IndicatorKind, &str)]) {
    import_until(store, values, None).await;
}

async fn import_until(
    store: &dyn Store,
    values: &[(IndicatorKind, &str)],
    valid_until: Option<jiff::Timestamp>,
) {
    let mut source = SourceInfo::adhoc("trusted-feed", "text");
    source.reliability = Reliability::A;
    store
        .upsert_source(&source, &serde_json::json!({}))
        .await
        .unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let import = store.import(&source, receiver);
    let observations = values
        .iter()
        .map(|(kind, value)| {
            let mut observation = Observation::new(Indicator::parse(*kind, value).unwrap(), "test");
            observation.confidence = Some(95);
            observation.labels = vec!["phishing".into()];
            observation.valid_until = valid_until;
            observation
        })
        .collect();
    sender
        .send(ImportBatch::observations(observations))
        .await
        .unwrap();
    sender
        .send(ImportBatch::Commit(Default::default()))
        .await
        .unwrap();
    drop(sender);
    import.await.expect("import");
}

fn config(dir: &Path) -> RespondConfig {
    let playbooks = dir.join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::write(
        playbooks.join("phishing.yaml"),
        "name: phishing\ntrigger: {indicator: {kinds: [url]}}\nactions:\n  - block: {list: mail, include_hosts: true}\n",
    )
    .unwrap();
    let text = format!(
        r#"
playbooks = "{playbooks}"
[[blocklists]]
name = "dns"
formats = ["rpz", "edl-domain"]
min_score = 50
kinds = ["domain"]
write_dir = "{lists}"
[[blocklists]]
name = "mail"
formats = ["postfix-access", "hosts"]
"#,
        playbooks = playbooks.display(),
        lists = dir.join("lists").display(),
    );
    let table: toml::Table = toml::from_str(&text).unwrap();
    RespondConfig::from_table(Some(&table)).expect("config")
}

async fn served_eventually(
    responder: &Responder,
    list: &str,
    format: Format,
    wanted: &str,
    present: bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let body = responder
            .publisher()
            .get(list, format)
            .map(|published| published.body.to_string())
            .unwrap_or_default();
        if body.contains(wanted) == present {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{list}/{format}: {wanted:?} present={present} never; body:\n{body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn imported_intel_reaches_the_lists_and_suppression_takes_it_off() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    import(
        store.as_ref(),
        &[(IndicatorKind::Domain, "already.example")],
    )
    .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (responder, task) = Responder::start(
        store.clone(),
        config(dir.path()),
        Arc::new(NoServices),
        References::default(),
        dir.path().join("respond.cursor"),
        async move {
            let _ = stopped.await;
        },
    )
    .await
    .expect("start");
    assert!(
        responder.playbook_errors().is_empty(),
        "{:?}",
        responder.playbook_errors()
    );

    // What was in the store at start is listed by score; the file is written.
    let first = responder
        .publisher()
        .get("dns", Format::Rpz)
        .expect("rendered at start");
    assert!(first.body.contains("already.example"), "{}", first.body);
    let file = std::fs::read_to_string(dir.path().join("lists").join(Format::Rpz.file_name("dns")))
        .unwrap();
    assert_eq!(file, &*first.body);

    // New intel: the domain joins the automatic list, the URL starts the playbook, whose
    // block (with the URL's host) is rendered for the mail server.
    import(
        store.as_ref(),
        &[
            (IndicatorKind::Domain, "fresh.example"),
            (IndicatorKind::Url, "https://login.lure.example/x"),
        ],
    )
    .await;
    let waited =
        served_eventually(&responder, "dns", Format::EdlDomain, "fresh.example", true).await;
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    served_eventually(
        &responder,
        "mail",
        Format::Hosts,
        "login.lure.example",
        true,
    )
    .await;
    let second = responder.publisher().get("dns", Format::Rpz).unwrap();
    assert!(second.serial > first.serial);
    assert_ne!(second.etag, first.etag);

    // Suppressing the URL rolls its blocks back; suppressing the domain drops it by score.
    let url = Indicator::parse(IndicatorKind::Url, "https://login.lure.example/x").unwrap();
    store
        .set_suppression(&url, Some("false positive"))
        .await
        .unwrap();
    store
        .set_suppression(
            &Indicator::parse(IndicatorKind::Domain, "fresh.example").unwrap(),
            Some("benign"),
        )
        .await
        .unwrap();
    served_eventually(&responder, "dns", Format::EdlDomain, "fresh.example", false).await;
    served_eventually(
        &responder,
        "mail",
        Format::PostfixAccess,
        "lure.example",
        false,
    )
    .await;
    let removed = store
        .blocks(&BlockQuery {
            list: Some("mail".into()),
            ..BlockQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert!(removed.iter().all(|entry| {
        entry
            .removed
            .as_ref()
            .is_some_and(|removal| removal.reason.contains("false positive"))
    }));

    let _ = stop.send(());
    task.await.unwrap();
}

fn start(
    store: Arc<dyn Store>,
    dir: &Path,
    config: RespondConfig,
) -> impl std::future::Future<Output = Responder> {
    let cursor = dir.join("respond.cursor");
    async move {
        let (responder, _task) = Responder::start(
            store,
            config,
            Arc::new(NoServices),
            References::default(),
            cursor,
            std::future::pending(),
        )
        .await
        .expect("start");
        responder
    }
}

#[tokio::test]
async fn lapsed_indicators_leave_the_lists_at_the_recheck() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    import_until(
        store.as_ref(),
        &[(IndicatorKind::Domain, "short.example")],
        Some(soon),
    )
    .await;
    import(
        store.as_ref(),
        &[(IndicatorKind::Domain, "lasting.example")],
    )
    .await;
    let responder = start(store.clone(), dir.path(), config(dir.path())).await;
    // Blocked by hand too, on the list without automatic entries.
    store
        .add_blocks(
            &[rampart_store::NewBlock {
                list: "mail".into(),
                indicator: Indicator::parse(IndicatorKind::Domain, "short.example").unwrap(),
                reason: "by hand".into(),
                added_by: "user:alice".into(),
                run_id: None,
                expires: None,
            }],
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    responder.blocks_changed();
    served_eventually(&responder, "dns", Format::EdlDomain, "short.example", true).await;
    served_eventually(&responder, "mail", Format::Hosts, "short.example", true).await;

    // Its valid_until passes without any change in the store; the recheck notices.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        responder.recheck().await.unwrap(),
        1,
        "the hand block of the lapsed value"
    );
    served_eventually(&responder, "dns", Format::EdlDomain, "short.example", false).await;
    served_eventually(&responder, "mail", Format::Hosts, "short.example", false).await;
    let listed = responder.publisher().get("dns", Format::EdlDomain).unwrap();
    assert!(listed.body.contains("lasting.example"), "{}", listed.body);
}

#[tokio::test]
async fn scheduled_playbooks_start_every_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let mut config = config(dir.path());
    let playbooks = config.playbooks.clone().unwrap();
    std::fs::write(
        playbooks.join("hourly.yaml"),
        "name: hourly\ntrigger: {schedule: {every: 1s}}\nactions:\n  - block: {list: mail, values: {fields: [schedule.name]}}\n",
    )
    .unwrap();
    config.dry_run = true;
    let responder = start(store.clone(), dir.path(), config).await;
    assert!(
        responder.playbook_errors().is_empty(),
        "{:?}",
        responder.playbook_errors()
    );
    // The first look only notes the playbook; a period later it runs, then not again at once.
    assert!(responder.start_scheduled().await.is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = responder.start_scheduled().await;
    assert_eq!(started.len(), 1);
    assert!(responder.start_scheduled().await.is_empty());
    responder.engine().wait_idle().await;
    let (run, _) = store.run(started[0]).await.unwrap().unwrap();
    assert_eq!(run.playbook, "hourly");
    assert_eq!(run.trigger["type"], "schedule");
}
