//! Playbooks loaded from files and run by the engine against a real SQLite store: blocks,
//! guardrails, retries, approvals, restarts, dry runs, rollbacks and rate caps.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rampart_model::{Indicator, IndicatorKind, Reliability, Timestamp, Tlp};
use rampart_respond::playbook::{
    ActionError, ActionServices, Decision, Engine, EngineSettings, GuardrailSettings, Guardrails,
    Library, Message, NoServices, References, Subject, parse,
};
use rampart_store::{
    ActionStatus, AuditQuery, BlockQuery, RunStatus, SourceStatement, Store, StoredIndicator,
};
use serde_json::{Value, json};

fn references() -> References {
    References {
        lists: ["phishing".to_owned(), "edge".to_owned()].into(),
        channels: ["soc-chat".to_owned()].into(),
        case_templates: ["phishing".to_owned()].into(),
        ..References::default()
    }
}

const PHISHING: &str = "\
name: phishing
trigger:
  indicator: {kinds: [url, domain], min_score: 60}
conditions:
  - {field: indicator.labels, contains: phish}
actions:
  - block: {list: phishing, include_hosts: true, expires: 30d, reason: 'campaign {{indicator.threats}}'}
  - notify: {channel: soc-chat, text: 'Blocked {{indicator.value}}'}
";

async fn store(dir: &Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("rampart.db").display());
    Arc::from(rampart_store::open(&url).await.expect("open store"))
}

fn indicator(kind: IndicatorKind, value: &str, labels: &[&str]) -> Subject {
    let statement = SourceStatement {
        source: "phishtank".into(),
        reliability: Reliability::B,
        first_seen: Timestamp::now(),
        last_seen: Timestamp::now(),
        confidence: 80,
        tlp: Tlp::Clear,
        labels: labels.iter().map(|label| (*label).to_owned()).collect(),
        techniques: vec![],
        threats: vec!["Storm-1234".into()],
        reference: "test".into(),
        valid_until: None,
        revoked: false,
        withdrawn_at: None,
        direction: None,
        port: None,
        pattern: None,
    };
    Subject::Indicator {
        indicator: StoredIndicator {
            id: 1,
            indicator: Indicator::parse(kind, value).expect("indicator"),
            first_seen: Timestamp::now(),
            suppressed: None,
            sources: vec![statement],
        },
        score: 75.0,
    }
}

/// Notifications that fail a given number of times, then succeed; what was sent is kept.
#[derive(Default)]
struct FlakyChannel {
    failures_left: AtomicU32,
    sent: std::sync::Mutex<Vec<Message>>,
}

#[async_trait]
impl ActionServices for FlakyChannel {
    async fn notify(&self, message: &Message) -> Result<Value, ActionError> {
        let left = self.failures_left.load(Ordering::SeqCst);
        if left > 0 {
            self.failures_left.store(left - 1, Ordering::SeqCst);
            return Err(ActionError::retryable("webhook answered 500"));
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(json!({"status": 200}))
    }
}

fn engine(store: &Arc<dyn Store>, services: Arc<dyn ActionServices>, playbooks: &[&str]) -> Engine {
    let engine = Engine::new(store.clone(), services, EngineSettings::default());
    let library = playbooks.iter().enumerate().map(|(index, text)| {
        parse(Path::new(&format!("p{index}.yaml")), text, &references()).expect("playbook loads")
    });
    engine.set_library(Library::of(library));
    engine
}

async fn settle(engine: &Engine) {
    tokio::time::timeout(Duration::from_secs(30), engine.wait_idle())
        .await
        .expect("runs settle");
}

#[test]
fn bad_files_are_refused_with_file_line_and_reason() {
    let cases = [
        (
            "name: x\ntrigger: {indicator: {}}\nactions:\n  - block: {list: phishing\n",
            5,
            "did not find expected",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nactions:\n  - explode: {}\n",
            4,
            "unknown variant `explode`",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nactions:\n  - notify: {channel: soc-chat, text: hi}\n  - block: {list: nowhere}\n",
            5,
            "unknown block list \"nowhere\"",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nactions:\n  - case: {template: ransom}\n",
            4,
            "unknown case template",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nactions:\n  - block: {list: phishing, expires: 3y}\n",
            4,
            "unknown unit",
        ),
        (
            "name: x\ntrigger: {alert: {}}\nactions:\n  - notify: {channel: soc-chat, text: '{{indicator.value}}'}\n",
            4,
            "not a field of this playbook's runs",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nactions: []\n",
            3,
            "at least one action",
        ),
        (
            "name: Bad Name\ntrigger: {indicator: {}}\nactions:\n  - block: {list: phishing}\n",
            1,
            "playbook name",
        ),
        (
            "name: x\ntrigger: {indicator: {}}\nconditions:\n  - {field: indicator.score, gte: high}\nactions:\n  - block: {list: phishing}\n",
            4,
            "",
        ),
    ];
    for (text, line, reason) in cases {
        let err = parse(Path::new("playbooks/x.yaml"), text, &references()).expect_err(text);
        assert_eq!(err.line, line, "{text}\n{err}");
        assert!(err.reason.contains(reason), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("playbooks/x.yaml:{line}: ")),
            "{err}"
        );
    }
}

#[test]
fn a_broken_file_keeps_its_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("phishing.yaml");
    std::fs::write(&file, PHISHING).unwrap();
    let (first, errors) = Library::load_dir(dir.path(), &references(), None);
    assert!(errors.is_empty(), "{errors:?}");
    let digest = first.get("phishing").expect("loaded").digest.clone();

    std::fs::write(&file, PHISHING.replace("list: phishing", "list: missing")).unwrap();
    std::fs::write(dir.path().join("copy.yml"), PHISHING).unwrap();
    let (second, errors) = Library::load_dir(dir.path(), &references(), Some(&first));
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().any(|err| err.file == file && err.line == 7),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|err| err.reason.contains("already defined")),
        "{errors:?}"
    );
    assert_eq!(second.len(), 1);
    assert_eq!(second.get("phishing").expect("kept").digest, digest);
}

#[tokio::test]
async fn an_indicator_is_blocked_notified_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let channel = Arc::new(FlakyChannel::default());
    let engine = engine(&store, channel.clone(), &[PHISHING]);
    let blocks_changed = engine.watch_blocks();

    let runs = engine
        .handle(&indicator(
            IndicatorKind::Url,
            "https://login.evil.example/reset",
            &["Phishing"],
        ))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    // Conditions and triggers that do not hold start nothing.
    assert!(
        engine
            .handle(&indicator(
                IndicatorKind::Url,
                "https://x.example/",
                &["malware"]
            ))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .handle(&indicator(
                IndicatorKind::Ipv4,
                "203.0.113.4",
                &["phishing"]
            ))
            .await
            .unwrap()
            .is_empty()
    );
    settle(&engine).await;

    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(
        actions
            .iter()
            .map(|a| (a.action.as_str(), a.status))
            .collect::<Vec<_>>(),
        [
            ("block", ActionStatus::Succeeded),
            ("notify", ActionStatus::Succeeded)
        ]
    );
    let entries = store
        .blocks(&BlockQuery {
            list: Some("phishing".into()),
            ..BlockQuery::default()
        })
        .await
        .unwrap();
    let values: Vec<&str> = entries
        .iter()
        .map(|entry| entry.indicator.value())
        .collect();
    assert_eq!(
        values,
        ["login.evil.example", "https://login.evil.example/reset"]
    );
    assert_eq!(entries[0].reason, "campaign Storm-1234");
    assert_eq!(entries[0].added_by, "playbook:phishing");
    assert_eq!(entries[0].run_id, Some(run.id));
    let expires = entries[0].expires.expect("expiry");
    let days = (expires - entries[0].added).as_hours() / 24;
    assert_eq!(days, 30);
    assert!(blocks_changed.has_changed().unwrap());
    assert_eq!(
        channel.sent.lock().unwrap()[0].text,
        "Blocked https://login.evil.example/reset"
    );

    let audit = store
        .audit(&AuditQuery {
            actor: Some("playbook:phishing".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .map(|line| line.entry.action.as_str())
        .collect();
    assert_eq!(actions, ["playbook.block", "playbook.notify"]);

    // Rolling the run back takes its blocks off the list.
    let removed = engine
        .roll_back_run(run.id, "alice", "wrong campaign")
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    let standing = store
        .blocks(&BlockQuery {
            list: Some("phishing".into()),
            standing_at: Some(Timestamp::now()),
            ..BlockQuery::default()
        })
        .await
        .unwrap();
    assert!(standing.is_empty());
}

#[tokio::test]
async fn guardrails_refuse_own_assets_and_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let engine = engine(&store, Arc::new(NoServices), &[PHISHING]);
    let mut guardrails = Guardrails::new(GuardrailSettings::default());
    guardrails.protect_asset("intranet", &[], &["corp.example".into()]);
    engine.set_guardrails(guardrails);

    let runs = engine
        .handle(&indicator(
            IndicatorKind::Domain,
            "sso.corp.example",
            &["phishing"],
        ))
        .await
        .unwrap();
    settle(&engine).await;
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("error");
    assert!(
        error.contains("refused by the guardrails") && error.contains("asset intranet"),
        "{error}"
    );
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].attempts, 1, "a refusal is not retried");
    assert!(
        store
            .blocks(&BlockQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn failed_actions_retry_with_backoff_then_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let retrying = PHISHING.replace("actions:", "retry: {attempts: 3, backoff: 1s}\nactions:");
    let channel = Arc::new(FlakyChannel::default());
    channel.failures_left.store(2, Ordering::SeqCst);
    let engine = engine(&store, channel.clone(), &[&retrying]);
    let started = std::time::Instant::now();
    let runs = engine
        .handle(&indicator(
            IndicatorKind::Domain,
            "evil.example",
            &["phishing"],
        ))
        .await
        .unwrap();
    settle(&engine).await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "waited 1 s, then 2 s"
    );
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        (actions[1].status, actions[1].attempts),
        (ActionStatus::Succeeded, 3)
    );

    // Three failures in a row: the run fails and says why; nothing vanishes.
    channel.failures_left.store(3, Ordering::SeqCst);
    let runs = engine
        .handle(&indicator(
            IndicatorKind::Domain,
            "other.example",
            &["phishing"],
        ))
        .await
        .unwrap();
    settle(&engine).await;
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.error.as_deref(),
        Some("step 2 (notify) failed: webhook answered 500")
    );
    assert_eq!(
        (actions[1].status, actions[1].attempts),
        (ActionStatus::Failed, 3)
    );
}

const APPROVED: &str = "\
name: approved-block
trigger:
  indicator: {kinds: [domain]}
actions:
  - approve: {timeout: 1h, default: reject, message: 'Block {{indicator.value}}?'}
  - block: {list: edge}
";

#[tokio::test]
async fn approvals_wait_survive_a_restart_and_go_on_when_approved() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let first = engine(&store, Arc::new(NoServices), &[APPROVED]);
    let runs = first
        .handle(&indicator(IndicatorKind::Domain, "evil.example", &[]))
        .await
        .unwrap();
    let run_id = runs[0];
    wait_for(&store, run_id, RunStatus::Waiting).await;
    let (run, actions) = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(actions[0].status, ActionStatus::Waiting);
    assert_eq!(actions[0].result["message"], "Block evil.example?");
    assert!(run.wake.is_some());
    drop(first);

    // A new engine on the same store, as after a restart, picks the approval up again.
    let second = engine(&store, Arc::new(NoServices), &[APPROVED]);
    assert_eq!(second.resume().await.unwrap(), 1);
    let decided = second
        .decide(run_id, Decision::Approve, "alice")
        .await
        .unwrap();
    assert_eq!(decided.status, RunStatus::Running);
    wait_for(&store, run_id, RunStatus::Succeeded).await;
    let (_, actions) = store.run(run_id).await.unwrap().unwrap();
    assert_eq!(actions[0].result["decision"], "approve");
    assert_eq!(actions[0].result["by"], "alice");
    assert_eq!(actions[1].status, ActionStatus::Succeeded);
    assert_eq!(store.blocks(&BlockQuery::default()).await.unwrap().len(), 1);
    // Deciding twice is refused.
    assert!(
        second
            .decide(run_id, Decision::Reject, "bob")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_approval_past_its_deadline_takes_its_default() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let quick = APPROVED.replace("timeout: 1h", "timeout: 1s");
    let engine = engine(&store, Arc::new(NoServices), &[&quick]);
    let runs = engine
        .handle(&indicator(IndicatorKind::Domain, "evil.example", &[]))
        .await
        .unwrap();
    settle(&engine).await;
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(actions[0].result["how"], "deadline passed");
    assert!(
        store
            .blocks(&BlockQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_dry_run_plans_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let dry = PHISHING.replace("actions:", "dry_run: true\nactions:");
    let channel = Arc::new(FlakyChannel::default());
    let engine = engine(&store, channel.clone(), &[&dry]);
    let runs = engine
        .handle(&indicator(
            IndicatorKind::Domain,
            "evil.example",
            &["phishing"],
        ))
        .await
        .unwrap();
    settle(&engine).await;
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert!(run.dry_run);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert!(
        actions
            .iter()
            .all(|action| action.status == ActionStatus::Planned)
    );
    assert_eq!(
        actions[0].result["would_block"],
        json!([{"kind": "domain", "value": "evil.example"}])
    );
    assert_eq!(
        actions[1].result["would_send"]["text"],
        "Blocked evil.example"
    );
    assert!(
        store
            .blocks(&BlockQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(channel.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_rate_cap_refuses_blocks_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let capped = PHISHING.replace("actions:", "max_blocks_per_hour: 2\nactions:");
    let engine = engine(&store, Arc::new(FlakyChannel::default()), &[&capped]);
    let mut statuses = Vec::new();
    for name in ["a.example", "b.example", "c.example"] {
        let runs = engine
            .handle(&indicator(IndicatorKind::Domain, name, &["phishing"]))
            .await
            .unwrap();
        settle(&engine).await;
        let (run, _) = store.run(runs[0]).await.unwrap().unwrap();
        statuses.push((run.status, run.error.unwrap_or_default()));
    }
    assert_eq!(statuses[0].0, RunStatus::Succeeded);
    assert_eq!(statuses[1].0, RunStatus::Succeeded);
    assert_eq!(statuses[2].0, RunStatus::Failed);
    assert!(
        statuses[2].1.contains("rate cap: this playbook blocked 2"),
        "{}",
        statuses[2].1
    );
}

async fn wait_for(store: &Arc<dyn Store>, run_id: i64, status: RunStatus) {
    for _ in 0..300 {
        if store
            .run(run_id)
            .await
            .unwrap()
            .is_some_and(|(run, _)| run.status == status)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {run_id} never became {status}");
}
