//! The outbound services driven by the playbook engine against a real SQLite store and real
//! loopback webhooks: a failing webhook is retried until it answers, one that never answers
//! does not hold up another playbook, and a burst over a channel's rate is delayed, not lost.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_model::{Indicator, IndicatorKind, Reliability, Timestamp, Tlp};
use rampart_respond::playbook::outbound::{Outbound, OutboundConfig};
use rampart_respond::playbook::{Engine, EngineSettings, Library, Subject, parse};
use rampart_store::{ActionStatus, RunStatus, SourceStatement, Store, StoredIndicator};
use serde_json::json;
use support::{Receiver, Reply};

async fn store(dir: &Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.join("rampart.db").display());
    Arc::from(rampart_store::open(&url).await.expect("open store"))
}

fn indicator(value: &str) -> Subject {
    let statement = SourceStatement {
        source: "phishtank".into(),
        reliability: Reliability::B,
        first_seen: Timestamp::now(),
        last_seen: Timestamp::now(),
        confidence: 80,
        tlp: Tlp::Clear,
        labels: vec!["phishing".into()],
        techniques: vec![],
        threats: vec![],
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
            indicator: Indicator::parse(IndicatorKind::Domain, value).expect("indicator"),
            first_seen: Timestamp::now(),
            suppressed: None,
            sources: vec![statement],
        },
        score: 75.0,
    }
}

/// An engine whose services are the outbound ones built from `config`, with `playbooks`.
fn engine(store: &Arc<dyn Store>, config: &str, playbooks: &[&str]) -> Engine {
    let config: OutboundConfig = toml::from_str(config).expect("the configuration parses");
    let references = config.references();
    let services = Outbound::new(&config).expect("the services build");
    let engine = Engine::new(store.clone(), Arc::new(services), EngineSettings::default());
    let library = playbooks.iter().enumerate().map(|(index, text)| {
        parse(Path::new(&format!("p{index}.yaml")), text, &references).expect("playbook loads")
    });
    engine.set_library(Library::of(library));
    engine
}

fn notify_playbook(name: &str, channel: &str, retry: &str) -> String {
    format!(
        "name: {name}\ntrigger:\n  indicator: {{kinds: [domain]}}\nretry: {retry}\nactions:\n  \
         - notify: {{channel: {channel}, text: 'Blocked {{{{indicator.value}}}}'}}\n"
    )
}

async fn settle(engine: &Engine) {
    tokio::time::timeout(Duration::from_secs(60), engine.wait_idle())
        .await
        .expect("runs settle");
}

#[tokio::test]
async fn a_webhook_that_fails_twice_is_retried_until_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let receiver = Receiver::start().await;
    receiver.plan([Reply::Status(500, "down"), Reply::Status(503, "still down")]);
    let config = format!(
        "[[channels]]\nname = 'soc-chat'\nkind = 'webhook'\nurl = '{}/hook'\nformat = 'slack'\n",
        receiver.url
    );
    let playbook = notify_playbook("notice", "soc-chat", "{attempts: 3, backoff: 1s}");
    let engine = engine(&store, &config, &[&playbook]);
    let runs = engine.handle(&indicator("evil.example")).await.unwrap();
    settle(&engine).await;
    let (run, actions) = store.run(runs[0]).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        (actions[0].status, actions[0].attempts),
        (ActionStatus::Succeeded, 3)
    );
    assert_eq!(
        actions[0].result,
        json!({"channel": "soc-chat", "sent": {"status": 200}})
    );
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received
            .iter()
            .all(|r| r.json() == json!({"text": "*Rampart: notice*\nBlocked evil.example"}))
    );
}

#[tokio::test]
async fn a_webhook_that_never_answers_does_not_hold_up_another_playbook() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let stuck = Receiver::start().await;
    stuck.always(Reply::Hang);
    let prompt = Receiver::start().await;
    let config = format!(
        "[[channels]]\nname = 'stuck'\nkind = 'webhook'\nurl = '{}/hook'\ntimeout = '30s'\n\
         [[channels]]\nname = 'prompt'\nkind = 'webhook'\nurl = '{}/hook'\n",
        stuck.url, prompt.url
    );
    let engine = engine(
        &store,
        &config,
        &[
            &notify_playbook("a-stuck", "stuck", "{attempts: 1}"),
            &notify_playbook("b-prompt", "prompt", "{attempts: 1}"),
        ],
    );
    let started = Instant::now();
    let runs = engine.handle(&indicator("evil.example")).await.unwrap();
    assert_eq!(runs.len(), 2);
    let (stuck_run, prompt_run) = (runs[0], runs[1]);
    loop {
        let (run, _) = store.run(prompt_run).await.unwrap().unwrap();
        if run.status == RunStatus::Succeeded {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the prompt run is {} after 5 s",
            run.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(prompt.count(), 1);
    // The stuck run is still waiting for its webhook, which got the request.
    let (run, _) = store.run(stuck_run).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Running);
    while stuck.count() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the stuck webhook got nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_burst_over_a_channels_rate_is_delayed_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let receiver = Receiver::start().await;
    let config = format!(
        "[[channels]]\nname = 'soc-chat'\nkind = 'webhook'\nurl = '{}/hook'\nrate_per_minute = 60\nburst = 2\n",
        receiver.url
    );
    let playbook = notify_playbook(
        "notice",
        "soc-chat",
        "{attempts: 8, backoff: 1s, max_backoff: 2s}",
    );
    let engine = engine(&store, &config, &[&playbook]);
    let mut runs = Vec::new();
    for index in 0..5 {
        runs.extend(
            engine
                .handle(&indicator(&format!("evil{index}.example")))
                .await
                .unwrap(),
        );
    }
    settle(&engine).await;
    let mut retried = 0;
    for run_id in runs {
        let (run, actions) = store.run(run_id).await.unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
        if actions[0].attempts > 1 {
            retried += 1;
        }
    }
    // Five runs start within moments; a burst of two goes at once, the others wait their turn.
    assert!(retried >= 1, "the rate never held a message back");
    let mut sent: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_owned())
        .collect();
    sent.sort();
    let expected: Vec<String> = (0..5)
        .map(|index| format!("Blocked evil{index}.example"))
        .collect();
    assert_eq!(sent, expected, "each message sent once, none lost");
}
