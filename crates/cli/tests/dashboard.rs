//! The dashboard in a real browser: Debian's headless Chromium, driven over WebDriver by
//! `chromedriver`, against the real `rampart serve`. A user made with `rampart admin`, intel
//! imported with `rampart intel import`, an alert in the store whose values are hostile HTML;
//! the browser logs in, searches an indicator and opens it, acknowledges the alert, and must
//! see the hostile values as text. Screenshots go to `target/screenshots/`.
//!
//! The WebDriver calls are a handful of JSON requests, made with the `reqwest` client the
//! binary already has rather than a WebDriver crate and its own HTTP stack.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_model::{Alert, Detection, EventRef, IndicatorKind, MatchedField, Severity};
use rampart_store::{AlertQuery, AlertStatus};
use serde_json::{Value, json};
use support::Rampart;

const PASSWORD: &str = "correct horse battery staple";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Hostile values, as an event or a feed could carry them.
const SCRIPT_VALUE: &str = "<script>alert(1)</script>.example";
const IMG_VALUE: &str = "<img src=x onerror=\"document.title='pwned'\">.example";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `chromedriver` on a loopback port, killed on drop.
struct Driver {
    child: Child,
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
struct Browser {
    client: reqwest::Client,
    session: String,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("webdriver {method} {path}: {err}"))
            .json()
            .await
            .unwrap();
        if reply["value"].get("error").is_some() {
            panic!("webdriver {method} {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks a button that submits a form and waits for the page it leads to.
    async fn submit(&self, css: &str) {
        self.script("window.rampartOldPage = true; return null;")
            .await;
        self.click(css).await;
        let started = Instant::now();
        loop {
            let loaded = self
                .script(
                    "return window.rampartOldPage === undefined \
                     && document.readyState === 'complete';",
                )
                .await;
            if loaded == Value::Bool(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no new page after clicking {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Saves a PNG of the window under `target/screenshots/` and prints its path.
    async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let directory = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("screenshots");
        std::fs::create_dir_all(&directory).unwrap();
        let path = directory.join(format!("dashboard-{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    async fn close(self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

async fn start_browser(profile: &Path) -> (Driver, Browser) {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("{}/status", driver.base))
            .send()
            .await
            .ok()
            .map(|reply| reply.status().is_success());
        if ready == Some(true) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: Value = client
        .post(format!("{}/session", driver.base))
        .json(&json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1366,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = created["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
        .to_owned();
    let browser = Browser {
        client,
        session: format!("{}/session/{session}", driver.base),
    };
    (driver, browser)
}

/// An indicator alert whose values are hostile HTML, on an address of a critical asset.
fn hostile_alert() -> Alert {
    let now = jiff::Timestamp::now();
    Alert::new(
        Detection::Indicator {
            id: 1,
            kind: IndicatorKind::Domain,
            value: SCRIPT_VALUE.into(),
            score: 80.0,
            sources: vec!["demo".into()],
        },
        Severity::High,
        vec!["T1071.004".parse().unwrap()],
        vec![
            MatchedField {
                field: "dns.question.name".into(),
                value: IMG_VALUE.into(),
            },
            MatchedField {
                field: "source.ip".into(),
                value: "192.0.2.10".into(),
            },
        ],
        EventRef::line("dns.jsonl", 7),
        now,
    )
}

/// The id of the rule of the test's pack.
const RULE: &str = "3c9a1f0e-7b2d-4e8a-9c1f-5d6e7f8a9b0c";

#[tokio::test]
async fn dashboard_in_a_real_browser() {
    const TEST: &str = "dashboard_in_a_real_browser";
    for tool in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(tool).exists() {
            rampart_testkit::skip_service(
                TEST,
                "chromium",
                &format!("{tool} is missing (apt-get install chromium chromium-driver)"),
            );
            return;
        }
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rampart = Rampart::new();
    // A rule pack whose one rule has a hostile title.
    let pack = rampart.dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(
        pack.join("rule.yml"),
        format!(
            "title: Suspicious <b>child</b> process\nid: {RULE}\nstatus: test\nlevel: high\n\
             logsource:\n  product: windows\n  category: process_creation\ndetection:\n  \
             selection:\n    Image|endswith: 'x.exe'\n  condition: selection\n"
        ),
    )
    .unwrap();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n\n[detect]\n\
             rule_packs = [{{ name = \"local\", path = \"{}\" }}]\n",
            rampart.dir.path().join("data").display(),
            pack.display()
        ),
    );
    rampart.ok(&["--config", &config, "rules", "update"]);
    let created = rampart.run_with_input(
        &["admin", "create-user", "alice", "--role", "analyst"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let feed = rampart.write("bad.txt", "evil.example\n203.0.113.66\nworse.example\n");
    rampart.ok(&[
        "intel",
        "import",
        &feed,
        "--source",
        "demo",
        "--reliability",
        "A",
    ]);
    let assets = rampart.write(
        "assets.csv",
        "name,kind,owner,criticality,tags,networks,hostnames,domains\n\
         dns-resolver,server,it,5,dns,192.0.2.0/24,,\n",
    );
    rampart.ok(&["assets", "import", &assets]);
    let store = rampart_store::open(&rampart.store_url()).await.unwrap();
    store.record_alerts(&[hostile_alert()]).await.unwrap();
    let alert_id = store.alerts(&AlertQuery::default()).await.unwrap()[0].id;

    let (_serve, base) = rampart.serve_http(&config);
    let profile = tempfile::tempdir().unwrap();
    let (_driver, browser) = start_browser(profile.path()).await;

    // An anonymous browser is sent to the login form, and comes back after it.
    browser.goto(&format!("{base}/")).await;
    assert!(
        browser.url().await.contains("/login?next="),
        "{}",
        browser.url().await
    );
    browser.type_into("#username", "alice").await;
    browser
        .type_into("#password", "wrong password, surely")
        .await;
    browser.submit("#login").await;
    assert_eq!(
        browser.text("#login-error").await,
        "invalid username or password"
    );
    browser.type_into("#password", PASSWORD).await;
    browser.submit("#login").await;
    assert_eq!(browser.url().await, format!("{base}/"));
    assert_eq!(browser.text("h1").await, "Overview");
    let overview = browser.text("main").await;
    assert!(overview.contains("3 indicators"), "{overview}");
    assert!(overview.contains("1 alerts to triage"), "{overview}");
    let matcher = browser.text("#matcher").await;
    assert!(
        matcher.starts_with("matcher: ") && !matcher.contains("not running"),
        "{matcher}"
    );
    browser.screenshot("overview").await;

    // Search, open the indicator, read its score explanation.
    browser.goto(&format!("{base}/indicators")).await;
    browser.type_into("#q", "evil").await;
    browser.submit("#search").await;
    let results = browser.text("#results").await;
    assert!(results.contains("evil.example"), "{results}");
    assert!(!results.contains("worse.example"), "{results}");
    browser.submit("#results a").await;
    assert_eq!(browser.text("#indicator-value").await, "evil.example");
    let score: u32 = browser.text("#score").await.parse().unwrap();
    assert!(score > 0 && score <= 100, "{score}");
    assert!(browser.text("main").await.contains("Score explanation"));
    browser.screenshot("indicator").await;

    // The alert queue shows the hostile values as text, and nothing of them ran.
    browser.goto(&format!("{base}/alerts")).await;
    let title = browser.script("return document.title;").await;
    assert_eq!(title, "Alerts · Rampart");
    let row = format!("#alert-{alert_id}");
    let shown = browser.text(&row).await;
    assert!(shown.contains(SCRIPT_VALUE), "{shown}");
    assert!(shown.contains(IMG_VALUE), "{shown}");
    assert!(
        shown.contains("dns-resolver"),
        "the critical asset is named: {shown}"
    );
    let injected = browser
        .script("return document.querySelectorAll('main script, main img').length;")
        .await;
    assert_eq!(injected, 0, "hostile HTML became elements");
    assert_eq!(browser.text(&format!("{row} .status")).await, "open");

    // Acknowledge it; the page shows the new state, and so does the store.
    browser
        .type_into(&format!("{row} input[name=note]"), "looking into it")
        .await;
    browser.submit(&format!("{row} button.ack")).await;
    assert_eq!(
        browser.text(&format!("{row} .status")).await,
        "acknowledged"
    );
    let shown = browser.text(&row).await;
    assert!(shown.contains("by user:alice"), "{shown}");
    assert!(shown.contains("looking into it"), "{shown}");
    assert_eq!(
        browser.script("return document.title;").await,
        "Alerts · Rampart"
    );
    let path = browser.screenshot("alerts").await;
    assert!(std::fs::metadata(&path).unwrap().len() > 10_000);
    let stored = store.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(stored[0].status, AlertStatus::Acknowledged);
    assert_eq!(stored[0].triage.as_ref().unwrap().by, "user:alice");

    // The rules page lists the pack's rule, title as text; the form disables it.
    browser.goto(&format!("{base}/rules")).await;
    let row = format!("#rule-{RULE}");
    let shown = browser.text(&row).await;
    assert!(shown.contains("Suspicious <b>child</b> process"), "{shown}");
    assert_eq!(
        browser.text(&format!("{row} td:nth-child(4)")).await,
        "enabled"
    );
    browser
        .script(&format!(
            "document.querySelector('{row} select[name=enabled]').value = 'false'; return null;"
        ))
        .await;
    browser.submit(&format!("{row} button")).await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/rules#rule-{RULE}"))
    );
    assert_eq!(
        browser.text(&format!("{row} td:nth-child(4)")).await,
        "disabled"
    );
    browser.screenshot("rules").await;

    // Logging out ends the session: the next page asks for a login again.
    browser.submit("header form.who button").await;
    assert!(
        browser.url().await.ends_with("/login"),
        "{}",
        browser.url().await
    );
    browser.goto(&format!("{base}/alerts")).await;
    assert!(browser.url().await.contains("/login?next="));
    browser.close().await;
}
