//! Running `rampart serve` as an operator would: Prometheus metrics that move with the work,
//! JSON logs, HTTPS with a real certificate, a clean stop that finishes what is in flight, and
//! `rampart config check` on the example configuration.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Duration;

use support::exposition::{Series, parse_exposition, sample};
use support::{Rampart, Serve};

const PASSWORD: &str = "correct horse battery staple";

/// Reads serve's stderr until `prefix` starts a line (or a JSON log's message); returns the
/// rest of that line.
fn wait_for(serve: &Serve, prefix: &str) -> String {
    let mut seen = Vec::new();
    loop {
        let line = serve
            .lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve never said {prefix:?}: {seen:#?}"));
        let text = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(event) => event["fields"]["message"].as_str().unwrap_or("").to_owned(),
            Err(_) => line.clone(),
        };
        if let Some(rest) = text.strip_prefix(prefix) {
            return rest.to_owned();
        }
        seen.push(line);
    }
}

/// Reads serve's stderr until every prefix was seen, in any order; returns the rest of each
/// line.
fn wait_for_all(serve: &Serve, prefixes: &[&str]) -> Vec<String> {
    let mut found: Vec<Option<String>> = vec![None; prefixes.len()];
    let mut seen = Vec::new();
    while found.iter().any(Option::is_none) {
        let line = serve
            .lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve never said all of {prefixes:?}: {seen:#?}"));
        for (prefix, slot) in prefixes.iter().zip(found.iter_mut()) {
            if let Some(rest) = line.strip_prefix(prefix) {
                *slot = Some(rest.to_owned());
            }
        }
        seen.push(line);
    }
    found.into_iter().flatten().collect()
}

/// Sends SIGTERM and waits for a clean exit.
#[allow(clippy::disallowed_methods)] // synchronous tests polling a child process
fn terminate(serve: &mut Serve) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = serve.child.try_wait().unwrap() {
            return exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn user_and_token(rampart: &Rampart, role: &str) -> String {
    let created = rampart.run_with_input(
        &["admin", "create-user", "olga", "--role", "admin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    rampart
        .ok(&[
            "admin", "token", "create", "--user", "olga", "--name", "scraper", "--role", role,
        ])
        .trim_end()
        .to_owned()
}

#[tokio::test]
async fn metrics_move_with_events_feed_pulls_and_requests() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rampart = Rampart::new();
    let data = rampart.dir.path().join("data");
    let feed = rampart.write("good.txt", "203.0.113.66\nevil.example\n");
    let config = rampart.write(
        "rampart.toml",
        &format!(
            r#"data_dir = "{data}"

[[sources]]
name = "good"
format = "text"
url = "{feed}"
reliability = "A"
confidence = 90

[[sources]]
name = "broken"
format = "text"
url = "{missing}"

[detect]
inputs = [{{ kind = "syslog-tcp", listen = "127.0.0.1:0" }}]

[server]
listen = "127.0.0.1:0"
"#,
            data = data.display(),
            missing = rampart.dir.path().join("missing.txt").display(),
        ),
    );
    let token = user_and_token(&rampart, "read_only");
    let serve = rampart.serve(&config);
    let [syslog, base]: [String; 2] = wait_for_all(
        &serve,
        &[
            "rampart serve: listening on syslog+tcp://",
            "rampart serve: http listening on ",
        ],
    )
    .try_into()
    .unwrap();
    let client = reqwest::Client::new();

    let anonymous = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let scrape = || async {
        let response = client
            .get(format!("{base}/metrics"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        parse_exposition(&response.text().await.unwrap())
    };

    let first = scrape().await;
    // Families present from the start, at zero where nothing happened yet.
    for decision in ["accept", "reject", "quarantine", "tempfail", "discard"] {
        assert_eq!(
            sample(
                &first,
                "rampart_milter_decisions_total",
                &[("decision", decision)]
            ),
            Some(0.0),
            "{first:#?}"
        );
    }
    assert_eq!(
        sample(&first, "rampart_queue_depth", &[("queue", "events")]),
        Some(0.0)
    );
    assert!(sample(&first, "rampart_matcher_snapshot_age_seconds", &[]).is_some());

    // Both feeds are pulled at start: one imports, one fails.
    let mut last = first;
    for (source, outcome) in [("good", "imported"), ("broken", "failed")] {
        let labels = [("source", source), ("outcome", outcome)];
        let mut tries = 0;
        while sample(&last, "rampart_feed_pulls_total", &labels) != Some(1.0) {
            tries += 1;
            assert!(tries < 300, "no {outcome} pull of {source}: {last:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            last = scrape().await;
        }
    }
    assert_eq!(
        sample(
            &last,
            "rampart_feed_new_indicators_total",
            &[("source", "good")]
        ),
        Some(2.0)
    );

    // The matcher takes the pulled intel in; then events come: counted as received and
    // processed, one of them matched.
    let entries = |samples: &BTreeMap<Series, f64>| {
        sample(samples, "rampart_matcher_entries", &[("table", "base")]).unwrap_or(0.0)
            + sample(samples, "rampart_matcher_entries", &[("table", "delta")]).unwrap_or(0.0)
    };
    let mut tries = 0;
    while entries(&last) < 2.0 {
        tries += 1;
        assert!(
            tries < 300,
            "the matcher never took the intel in: {last:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = scrape().await;
    }
    {
        let mut stream = std::net::TcpStream::connect(&syslog).unwrap();
        stream
            .write_all(
                b"<38>Nov 27 10:00:01 gw sshd[811]: Failed password for root from 203.0.113.66 port 4242 ssh2\n\
                  <38>Nov 27 10:00:02 gw sshd[812]: Accepted password for alice from 192.0.2.1 port 4243 ssh2\n",
            )
            .unwrap();
    }
    let mut tries = 0;
    while sample(&last, "rampart_events_processed_total", &[]) != Some(2.0)
        || sample(&last, "rampart_alerts_new_total", &[]) != Some(1.0)
    {
        tries += 1;
        assert!(tries < 300, "events not counted: {last:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = scrape().await;
    }
    assert_eq!(
        sample(&last, "rampart_events_received_total", &[]),
        Some(2.0)
    );
    assert_eq!(
        sample(&last, "rampart_events_matched_total", &[]),
        Some(1.0)
    );

    // Requests by route template and status, with a latency histogram.
    let healthz = [("method", "GET"), ("route", "/healthz"), ("status", "200")];
    let before = sample(&last, "rampart_http_requests_total", &healthz).unwrap_or(0.0);
    for _ in 0..3 {
        client.get(format!("{base}/healthz")).send().await.unwrap();
    }
    client
        .get(format!("{base}/no/such/<script>"))
        .send()
        .await
        .unwrap();
    let after = scrape().await;
    assert_eq!(
        sample(&after, "rampart_http_requests_total", &healthz),
        Some(before + 3.0)
    );
    assert_eq!(
        sample(
            &after,
            "rampart_http_requests_total",
            &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0),
        "{after:#?}"
    );
    assert!(
        sample(
            &after,
            "rampart_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/healthz")]
        )
        .is_some_and(|count| count >= 3.0),
        "{after:#?}"
    );
    assert!(
        sample(
            &after,
            "rampart_http_request_duration_seconds_bucket",
            &[("method", "GET"), ("route", "/healthz"), ("le", "+Inf")]
        )
        .is_some()
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n\n[log]\nformat = \"json\"\nlevel = \"info\"\n",
            rampart.dir.path().join("data").display()
        ),
    );
    let mut serve = rampart.serve(&config);
    // Every line, from the first to the last: stop once serve is listening, read to the end.
    let mut events = Vec::new();
    let mut stopped = None;
    while let Ok(line) = serve.lines.recv_timeout(Duration::from_secs(30)) {
        if stopped.is_none() && line.contains("rampart serve: http listening on") {
            stopped = Some(terminate(&mut serve));
        }
        events.push(line);
    }
    assert!(stopped.is_some_and(|exit| exit.success()), "{events:#?}");
    assert!(!events.is_empty());
    for line in &events {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
        assert!(event["timestamp"].is_string(), "{line}");
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&event["level"].as_str().unwrap()),
            "{line}"
        );
        assert!(
            event["target"].as_str().is_some_and(|t| !t.is_empty()),
            "{line}"
        );
        assert!(event["fields"]["message"].is_string(), "{line}");
    }
    // Structured fields stay fields, not text in the message.
    assert!(
        events.iter().any(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            event["fields"]["store"] == "sqlite" && event["target"] == "rampart::commands::serve"
        }),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|line| line.contains("rampart serve: stopped")),
        "{events:#?}"
    );
}

#[tokio::test]
async fn https_only_with_a_secure_session_cookie() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rampart = Rampart::new();
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = certified.cert.pem();
    let cert = rampart.write("cert.pem", &cert_pem);
    let key = rampart.write("key.pem", &certified.signing_key.serialize_pem());
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{cert}\"\ntls_key = \"{key}\"\n",
            rampart.dir.path().join("data").display()
        ),
    );
    user_and_token(&rampart, "read_only");
    let serve = rampart.serve(&config);
    let base = wait_for(&serve, "rampart serve: https listening on ");
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let login = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "olga", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("rampart_session="), "{cookie}");
    assert!(
        cookie.split(';').any(|part| part.trim() == "Secure"),
        "{cookie}"
    );

    // Plain HTTP to the TLS port gets no answer, and a client that does not trust the
    // certificate refuses it.
    let plain = base.replacen("https://", "http://", 1);
    let refused = reqwest::Client::new()
        .get(format!("{plain}/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap()
        .get(format!("{base}/healthz"))
        .send()
        .await;
    assert!(untrusting.is_err(), "{untrusting:?}");
}

#[test]
fn a_missing_certificate_stops_serve_at_once() {
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        "[server]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"nope.pem\"\ntls_key = \"nope.key\"\n",
    );
    let output = rampart.run(&["--config", &config, "serve"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot load the TLS certificate nope.pem"),
        "{stderr}"
    );
}

#[test]
#[allow(clippy::disallowed_methods)] // a synchronous test pacing a request around a signal
fn sigterm_finishes_a_request_in_flight_and_drains_detection() {
    let rampart = Rampart::new();
    let data = rampart.dir.path().join("data");
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n[detect]\ninputs = [{{ kind = \"syslog-tcp\", listen = \"127.0.0.1:0\" }}]\n[server]\nlisten = \"127.0.0.1:0\"\n",
            data.display()
        ),
    );
    let mut serve = rampart.serve(&config);
    let [syslog, base]: [String; 2] = wait_for_all(
        &serve,
        &[
            "rampart serve: listening on syslog+tcp://",
            "rampart serve: http listening on http://",
        ],
    )
    .try_into()
    .unwrap();

    // Events, then a request whose body is still on its way when the stop comes.
    let mut events = std::net::TcpStream::connect(&syslog).unwrap();
    for n in 0..200 {
        writeln!(
            events,
            "<38>Nov 27 10:00:01 gw sshd[{n}]: Failed password for root from 198.51.100.{} port 22 ssh2",
            n % 250
        )
        .unwrap();
    }
    drop(events);
    let body = br#"{"username": "nobody", "password": "wrong password"}"#;
    let mut http = std::net::TcpStream::connect(&base).unwrap();
    http.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        http,
        "POST /api/v1/session HTTP/1.1\r\nHost: {base}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    http.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(300));
    http.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    http.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight was not answered: {answer:?}"
    );
    assert!(answer.contains("\"code\":\"unauthorized\""), "{answer}");

    assert!(terminate(&mut serve).success());
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("detect-status.json")).unwrap())
            .unwrap();
    let received = status["stream"]["received"].as_u64().unwrap();
    assert!(received > 0, "{status}");
    assert_eq!(status["stream"]["processed"], received, "{status}");
    assert_eq!(status["stream"]["queued"], 0, "{status}");
}

#[test]
fn the_example_configuration_passes_config_check() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rampart.example.toml");
    let rampart = Rampart::new();
    let output = rampart.run(&["config", "check", example]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(": ok"), "{stdout}");
    assert!(stdout.contains("retention  alerts kept 180d"), "{stdout}");
}

#[test]
fn config_check_reports_every_problem_with_its_line() {
    let rampart = Rampart::new();
    let config = rampart.write(
        "bad.toml",
        "data_dir = \"d\"\n\n[[sources]]\nname = \"x\"\nformat = \"nonsense\"\nurl = \"x.txt\"\n\n[server]\nbody_limit = \"12 parsecs\"\n\n[log]\nformat = \"xml\"\n",
    );
    let output = rampart.run(&["config", "check", &config]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{config}:3:1: source \"x\"")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{config}:9:")), "{stderr}");
    assert!(stderr.contains(&format!("{config}:12:")), "{stderr}");
    assert!(stderr.contains("3 problems"), "{stderr}");

    // A syntax error is located too, and nothing else is claimed.
    let broken = rampart.write("broken.toml", "data_dir = \"d\"\n[server\nlisten = 1\n");
    let output = rampart.run(&["config", "check", &broken]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{broken}:2:")), "{stderr}");
}

#[test]
fn backup_while_serving_restores_into_an_empty_store_only() {
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n[server]\nlisten = \"127.0.0.1:0\"\n[retention]\nalerts = \"30d\"\n",
            rampart.dir.path().join("data").display()
        ),
    );
    user_and_token(&rampart, "read_only");
    let feed = rampart.write("bad.txt", "203.0.113.66\nevil.example\n");
    rampart.ok(&["intel", "import", &feed, "--source", "demo"]);
    let mut serve = rampart.serve(&config);
    wait_for(&serve, "rampart serve: http listening on ");

    let backup = rampart.dir.path().join("backup.db");
    let backup = backup.to_str().unwrap();
    rampart.ok(&["admin", "backup", backup]);
    let again = rampart.run(&["admin", "backup", backup]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let pruned = rampart.ok(&["--config", &config, "admin", "prune", "--dry-run"]);
    let audit = rampart.ok(&["audit", "--json"]);
    assert!(audit.contains("store.backup"), "{audit}");
    assert!(pruned.contains("would delete 0 alerts"), "{pruned}");
    assert!(terminate(&mut serve).success());

    let elsewhere = Rampart::new();
    elsewhere.ok(&["admin", "restore", backup]);
    let users = elsewhere.ok(&["admin", "users"]);
    assert!(users.contains("olga"), "{users}");
    let shown = elsewhere.ok(&["--json", "intel", "show", "evil.example"]);
    assert!(shown.contains("evil.example"), "{shown}");
    // The restored store's history goes on from the backup, with the restore in it.
    let audit = elsewhere.ok(&["audit", "--json"]);
    assert!(audit.contains("user.create"), "{audit}");
    assert!(audit.contains("store.restore"), "{audit}");

    let refused = elsewhere.run(&["admin", "restore", backup]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--force"), "{stderr}");
    elsewhere.ok(&["admin", "restore", "--force", backup]);
}
