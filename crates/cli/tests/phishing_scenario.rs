//! The model scenario, end to end through the real binary: proxy logs are archived; a STIX
//! bundle of a phishing campaign is imported; the `phishing-campaign` playbook blocks its URLs
//! and domains (the RPZ zone and the Postfix map are rendered again and written), notifies a
//! webhook on loopback, opens one case, and its retro-hunt puts the earlier victims' alerts in
//! that case; the organisation's own domain in the bundle is refused by the guardrail; revoking
//! an indicator rolls its block back.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use support::Rampart;

/// A webhook receiver on loopback: every request body, in order.
fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/soc", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let received = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let received = received.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    let mut first = true;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    received
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).into_owned());
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                }
            });
        }
    });
    (url, bodies)
}

fn indicator(id: &str, pattern: &str, modified: Timestamp, revoked: bool) -> Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-11-01T00:00:00Z", "modified": modified.to_string(),
        "name": "Storm-0001 credential phishing", "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z", "labels": ["phishing"], "confidence": 90,
        "revoked": revoked,
    })
}

const URL_ID: &str = "indicator--4f0c2d9e-7b1a-4c55-9e61-0c3b8f1d2a01";
const DOMAIN_ID: &str = "indicator--4f0c2d9e-7b1a-4c55-9e61-0c3b8f1d2a02";
const OWN_ID: &str = "indicator--4f0c2d9e-7b1a-4c55-9e61-0c3b8f1d2a03";

fn bundle(indicators: Vec<Value>) -> String {
    json!({"type": "bundle", "id": "bundle--6a3c1f00-2b7d-4e1a-8c9f-0d2e4b6a8c01", "objects": indicators}).to_string()
}

/// Polls `check` until it gives `Some`, for up to `seconds`.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    seconds: u64,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "never: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A GET with the admin token: the body as text.
async fn get(client: &reqwest::Client, base: &str, token: &str, path: &str) -> String {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn get_json(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    let text = get(client, base, token, path).await;
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phishing_campaign_is_blocked_notified_cased_and_hunted() {
    let rampart = Rampart::new();
    let (hook, bodies) = webhook();
    let dir = rampart.dir.path();
    let lists = dir.join("lists");
    let playbooks = dir.join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    let library = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../playbooks/phishing-campaign.yaml");
    std::fs::copy(library, playbooks.join("phishing-campaign.yaml")).unwrap();
    // The organisation's own domain is in the inventory: the guardrail protects it.
    rampart.ok(&[
        "assets",
        "import",
        &rampart.write(
            "assets.csv",
            "name,kind,criticality,domains\nintranet,domain,5,corp.example\n",
        ),
    ]);
    let config = rampart.write(
        "rampart.toml",
        &format!(
            r#"data_dir = "{data}"
[server]
listen = "127.0.0.1:0"
[detect]
retro_hunt_interval = "1h"
[detect.archive]
dir = "{archive}"
segment_events = 1
[respond]
playbooks = "{playbooks}"
[[respond.blocklists]]
name = "phishing"
formats = ["rpz", "postfix-access"]
write_dir = "{lists}"
[respond.render.rpz]
origin = "rpz.rampart."
[[respond.channels]]
name = "soc-chat"
kind = "webhook"
url = "{hook}"
format = "json"
"#,
            data = dir.join("data").display(),
            archive = dir.join("archive").display(),
            playbooks = playbooks.display(),
            lists = lists.display(),
        ),
    );
    let serve = rampart.serve(&config);
    let (base, seen) = serve.until_listening();
    let token = seen
        .iter()
        .find_map(|line| line.strip_prefix("rampart serve: first-run admin token: "))
        .expect("the first-run token")
        .to_owned();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (client, base, token) = (&client, base.as_str(), token.as_str());

    // Yesterday two people opened the campaign's pages through the proxy.
    let yesterday = Timestamp::now() - SignedDuration::from_hours(24);
    let events = [
        json!({"@timestamp": yesterday.to_string(), "event": {"category": "web"}, "user": {"name": "alice"},
               "source": {"ip": "10.0.0.5"}, "url": {"full": "https://login.example-bank.test/verify", "domain": "login.example-bank.test"}}),
        json!({"@timestamp": yesterday.to_string(), "event": {"category": "web"}, "user": {"name": "bob"},
               "source": {"ip": "10.0.0.6"}, "url": {"domain": "pay.example-bank.test"}}),
        json!({"@timestamp": yesterday.to_string(), "event": {"category": "web"}, "user": {"name": "carol"},
               "source": {"ip": "10.0.0.7"}, "url": {"domain": "news.example"}}),
        // A segment closes when the next event comes: this one closes carol's.
        json!({"@timestamp": Timestamp::now().to_string(), "event": {"category": "web"}, "user": {"name": "dave"},
               "source": {"ip": "10.0.0.8"}, "url": {"domain": "intranet.corp.example"}}),
    ];
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    let pushed = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .header("content-type", "application/x-ndjson")
        .body(lines.join("\n"))
        .send()
        .await
        .unwrap();
    assert!(
        pushed.status().is_success(),
        "{}",
        pushed.text().await.unwrap()
    );
    // Archived in closed segments before the intel arrives.
    eventually(10, "three archived segments", || async {
        let closed = std::fs::read_dir(dir.join("archive"))
            .ok()?
            .filter(|entry| {
                entry
                    .as_ref()
                    .is_ok_and(|entry| !entry.file_name().to_string_lossy().ends_with(".part"))
            });
        (closed.count() >= 3).then_some(())
    })
    .await;

    // The campaign's intel arrives as a STIX bundle.
    let now = Timestamp::now();
    let first = rampart.write(
        "campaign.json",
        &bundle(vec![
            indicator(
                URL_ID,
                "[url:value = 'https://login.example-bank.test/verify']",
                now,
                false,
            ),
            indicator(
                DOMAIN_ID,
                "[domain-name:value = 'pay.example-bank.test']",
                now,
                false,
            ),
            indicator(
                OWN_ID,
                "[domain-name:value = 'sso.corp.example']",
                now,
                false,
            ),
        ]),
    );
    rampart.ok(&[
        "--config",
        &config,
        "intel",
        "import",
        &first,
        "--source",
        "isac",
        "--reliability",
        "A",
    ]);

    // The resolver's zone and the mail server's map are rendered again and written.
    let rpz = eventually(20, "the RPZ zone lists the campaign", || async {
        let text = get(client, base, token, "/blocklists/phishing/rpz").await;
        (text.contains("login.example-bank.test") && text.contains("pay.example-bank.test"))
            .then_some(text)
    })
    .await;
    assert!(
        !rpz.contains("corp.example"),
        "the own domain was blocked:\n{rpz}"
    );
    let zone_file = std::fs::read_dir(&lists)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().contains("rpz"))
        .expect("the zone file is written");
    let written = std::fs::read_to_string(zone_file).unwrap();
    assert!(written.contains("pay.example-bank.test"), "{written}");
    let postfix = get(client, base, token, "/blocklists/phishing/postfix-access").await;
    assert!(
        postfix.contains("pay.example-bank.test REJECT"),
        "{postfix}"
    );

    // The three runs: two succeeded, the own domain's refused by the guardrail.
    let runs: Value = eventually(30, "three finished runs", || async {
        let runs = get_json(client, base, token, "/api/v1/runs").await;
        let items = runs["items"].as_array()?;
        let finished = items
            .iter()
            .filter(|run| run["finished"].is_string())
            .count();
        (items.len() == 3 && finished == 3).then_some(runs.clone())
    })
    .await;
    let mut cases = Vec::new();
    let mut hunted = Vec::new();
    let mut opened = 0;
    for run in runs["items"].as_array().unwrap() {
        let detail = get_json(client, base, token, &format!("/api/v1/runs/{}", run["id"])).await;
        let label = detail["run"]["trigger"]["label"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if label.contains("corp.example") {
            assert_eq!(detail["run"]["status"], "failed", "{detail}");
            assert!(
                detail["run"]["error"]
                    .as_str()
                    .unwrap()
                    .contains("refused by the guardrails"),
                "{detail}"
            );
            continue;
        }
        assert_eq!(detail["run"]["status"], "succeeded", "{detail}");
        let actions = detail["actions"].as_array().unwrap();
        assert_eq!(
            actions
                .iter()
                .map(|a| a["action"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["block", "notify", "case", "retro_hunt"]
        );
        cases.push(actions[2]["result"]["id"].as_i64().unwrap());
        let found = &actions[3]["result"]["found"];
        assert_eq!(found["case"], actions[2]["result"]["id"], "{detail}");
        assert_eq!(
            actions[2]["result"]["title"], "Phishing campaign  reported by isac",
            "{detail}"
        );
        opened += usize::from(actions[2]["result"]["opened"] == true);
        hunted.extend(
            found["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_i64().unwrap()),
        );
    }
    // One case for the campaign, holding both earlier victims' alerts (not carol's).
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0], cases[1], "one case per campaign");
    assert_eq!(opened, 1, "opened once, joined once");
    hunted.sort_unstable();
    hunted.dedup();
    assert_eq!(hunted.len(), 2, "alice's and bob's visits: {hunted:?}");
    let linked = alerts_of_case(&rampart.store_url(), cases[0]).await;
    let mut linked_ids: Vec<i64> = linked.iter().map(|(id, _)| *id).collect();
    linked_ids.sort_unstable();
    assert_eq!(linked_ids, hunted);
    assert!(linked.iter().all(|(_, retro)| *retro), "retro-hunt alerts");

    // The SOC heard of both blocks on its webhook, as JSON.
    let messages = eventually(10, "two webhook messages", || async {
        let messages = bodies.lock().unwrap().clone();
        (messages.len() >= 2).then_some(messages)
    })
    .await;
    assert!(
        messages
            .iter()
            .any(|body| body.contains("pay.example-bank.test")),
        "{messages:?}"
    );
    for body in &messages {
        serde_json::from_str::<Value>(body).expect("webhook bodies are JSON");
    }

    // The ISAC revokes the domain: its block is rolled back and the zone no longer has it.
    let later = Timestamp::now() + SignedDuration::from_secs(1);
    let revocation = rampart.write(
        "revoked.json",
        &bundle(vec![indicator(
            DOMAIN_ID,
            "[domain-name:value = 'pay.example-bank.test']",
            later,
            true,
        )]),
    );
    rampart.ok(&[
        "--config",
        &config,
        "intel",
        "import",
        &revocation,
        "--source",
        "isac",
        "--reliability",
        "A",
    ]);
    eventually(20, "the revoked domain leaves the zone", || async {
        let text = get(client, base, token, "/blocklists/phishing/rpz").await;
        (!text.contains("pay.example-bank.test") && text.contains("login.example-bank.test"))
            .then_some(())
    })
    .await;
    let entries = get_json(
        client,
        base,
        token,
        "/api/v1/blocklists/phishing/entries?standing=false",
    )
    .await;
    let removed: Vec<&Value> = entries["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| !entry["removed"].is_null())
        .collect();
    assert_eq!(removed.len(), 1, "{entries}");
    assert!(
        removed[0]["removed"]["reason"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{entries}"
    );
    drop(serve);
}

/// The alerts linked to a case, read from the store `serve` writes (alert id, raised by a
/// retro-hunt).
async fn alerts_of_case(url: &str, case: i64) -> Vec<(i64, bool)> {
    let store = rampart_store::open(url).await.unwrap();
    store
        .alerts_of_case(case)
        .await
        .unwrap()
        .into_iter()
        .map(|linked| (linked.alert.id, linked.alert.alert.retro))
        .collect()
}
