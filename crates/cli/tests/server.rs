//! `rampart serve` answers HTTP: a user and a token made with `rampart admin`, an indicator
//! imported with `rampart intel import`, read back over the API with a real HTTP client.

mod support;

use std::time::Duration;

use support::{Rampart, Serve};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn serve_answers_the_api_with_a_token_and_stops_on_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n",
            rampart.dir.path().join("data").display()
        ),
    );
    let created = rampart.run_with_input(
        &["admin", "create-user", "alice", "--role", "analyst"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = rampart
        .ok(&[
            "admin",
            "token",
            "create",
            "--user",
            "alice",
            "--name",
            "api-test",
            "--role",
            "read_only",
        ])
        .trim_end()
        .to_owned();
    let feed = rampart.write("bad.txt", "203.0.113.66\nevil.example\n");
    rampart.ok(&[
        "intel",
        "import",
        &feed,
        "--source",
        "demo",
        "--reliability",
        "A",
    ]);

    let (mut serve, base) = rampart.serve_http(&config);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok");

    let document: serde_json::Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(document["paths"]["/api/v1/indicators"]["get"].is_object());

    let anonymous = client
        .get(format!("{base}/api/v1/indicators"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let error: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(error["error"]["code"], "unauthorized");

    let found = client
        .get(format!("{base}/api/v1/indicators"))
        .query(&[("q", "203.0.113")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    let found: serde_json::Value = found.json().await.unwrap();
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["indicator"]["indicator"]["value"], "203.0.113.66");
    assert!(items[0]["score"].as_u64().unwrap() > 0, "{found}");
    assert_eq!(found["next"], serde_json::Value::Null);

    // A read-only token may not suppress.
    let refused = client
        .post(format!("{base}/api/v1/indicators/suppress"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"value": "evil.example", "reason": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // SIGTERM: a clean stop, exit 0.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = serve.child.try_wait().unwrap() {
            break exit;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The reader ends at the end of the pipe, which the exit closed.
    let rest: Vec<String> = serve.lines.iter().collect();
    assert!(exit.success(), "{exit:?}: {rest:?}");
    assert!(
        rest.iter().any(|line| line == "rampart serve: stopped"),
        "{rest:?}"
    );
}

fn stop(serve: &mut Serve) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = serve.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn first_run_token_then_http_ingest_raises_an_alert() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n",
            rampart.dir.path().join("data").display()
        ),
    );
    let feed = rampart.write("bad.txt", "203.0.113.66\n");
    rampart.ok(&[
        "intel",
        "import",
        &feed,
        "--source",
        "demo",
        "--reliability",
        "A",
    ]);

    // No account yet: the first start prints one admin token, no [[detect.inputs]] needed.
    let mut serve = rampart.serve(&config);
    let (base, before) = serve.until_listening();
    let marker = "rampart serve: first-run admin token: ";
    let admin = before
        .iter()
        .find_map(|line| line.strip_prefix(marker))
        .unwrap_or_else(|| panic!("no first-run token in {before:?}"))
        .to_owned();
    assert!(admin.starts_with("rmp_"), "{admin}");
    assert_eq!(
        before.iter().filter(|line| line.contains(&admin)).count(),
        1,
        "the token is printed once: {before:?}"
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    // The admin makes a sensor token, and a person with a password.
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "sensor", "role": "ingest"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sensor = created["token"].as_str().unwrap().to_owned();
    let user = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"username": "alice", "role": "analyst", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 201);
    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    // The first-run admin has no password to log in with.
    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 401);

    let pushed = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(&sensor)
        .header("content-type", "application/x-ndjson")
        .body("{\"source\": {\"ip\": \"192.0.2.5\"}, \"destination\": {\"ip\": \"203.0.113.66\"}}\nbroken\n")
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let pushed: serde_json::Value = pushed.json().await.unwrap();
    assert_eq!(pushed["accepted"], 1, "{pushed}");
    assert_eq!(pushed["rejected"], 1, "{pushed}");
    assert_eq!(pushed["errors"][0]["line"], 2, "{pushed}");

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let alerts: serde_json::Value = client
            .get(format!("{base}/api/v1/alerts"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if alerts["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            assert!(alerts.to_string().contains("203.0.113.66"), "{alerts}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no alert: {alerts}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop(&mut serve);

    // A later start prints no token.
    let mut serve = rampart.serve(&config);
    let (_, before) = serve.until_listening();
    assert!(
        !before.iter().any(|line| line.contains("first-run")),
        "{before:?}"
    );
    stop(&mut serve);
}
