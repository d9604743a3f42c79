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
