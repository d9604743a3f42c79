//! The harness of the HTTP API tests: a real SQLite store in a temporary directory with a
//! user and a token per role, seeded indicators, a running detection pipeline (for ingest),
//! a rule pack, and a feed served on loopback (for pulls); requests go through the whole
//! router (layers, fallbacks, access checks) with `tower::ServiceExt::oneshot`.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::request::Builder as RequestBuilder;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use jiff::Timestamp;
use rampart_auth::passwords::Hasher;
use rampart_auth::{ApiToken, Role, Username};
use rampart_detect::packs::{RulePack, RuleState};
use rampart_detect::stream::{AlertSink, Stream, StreamSetup};
use rampart_intel::config::SourceConfig;
use rampart_model::{
    Alert, Detection, EventRef, Indicator, IndicatorKind, MatchedField, Observation, Severity,
    SourceInfo,
};
use rampart_server::taxii::{TAXII_MEDIA_TYPE, TaxiiConfig};
use rampart_server::{AppState, ServerConfig};
use rampart_store::{Asset, AuditQuery, ImportBatch, NewToken, NewUser, Store};
use serde_json::{Value, json};
use std::sync::Mutex;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
/// The body limit the test server runs with.
pub const BODY_LIMIT: usize = 64 * 1024;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub app: Router,
    /// A token per role, each owned by the user of that role.
    pub tokens: BTreeMap<&'static str, String>,
    /// The seeded indicators' ids, by value.
    pub ids: BTreeMap<String, i64>,
    /// The detection pipeline events are pushed into; alerts land in `alerts`.
    pub stream: Stream,
    pub alerts: Arc<Mutex<Vec<Alert>>>,
    /// The id of the one rule of the harness's pack.
    pub rule_id: &'static str,
    /// The loopback URL of a plain-text feed (`198.51.100.7`, `bad.example`).
    pub feed_url: String,
    /// A loopback webhook that accepts any POST (`204`), for case pushes.
    pub hook_url: String,
    /// The seeded alert's id.
    pub alert_id: i64,
    /// A TAXII status resource, once [`Harness::post_taxii`] made one.
    pub taxii_status: String,
    /// The respond stage: block list `edge` (edl-domain, rpz, automatic from score 50) and
    /// the playbook `approve-block` (an approval, then a block on `edge`).
    pub responder: rampart_respond::runtime::Responder,
}

/// The playbook of the harness: an indicator trigger that waits for an approval.
pub const APPROVAL_PLAYBOOK: &str = "name: approve-block\ndescription: block after an approval\n\
    trigger: {indicator: {kinds: [domain]}}\nactions:\n  \
    - approve: {timeout: 1h, default: reject}\n  - block: {list: edge}\n";

/// The TAXII collections of the test server: the default read-only one and a writable one.
pub const TAXII_INBOX: &str = "7b3c0a9e-51d4-4c2e-9a0f-3e6d2b1c4f58";

fn taxii_config() -> TaxiiConfig {
    let table: toml::Table = toml::from_str(&format!(
        "[[collections]]\nid = \"{}\"\ntitle = \"rampart-indicators\"\n\
         [[collections]]\nid = \"{TAXII_INBOX}\"\ntitle = \"inbox\"\ncan_write = true\n",
        rampart_server::taxii::config::DEFAULT_COLLECTION_ID
    ))
    .unwrap();
    TaxiiConfig::from_table(Some(&table)).unwrap()
}

/// A TAXII envelope with one indicator, as the RBAC walk posts it.
pub fn taxii_envelope() -> Value {
    json!({"objects": [{
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'posted.example']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"
    }]})
}

/// The rule of the harness's pack.
pub const RULE_ID: &str = "5f1c3a52-2d7e-4c1b-9f3e-7d7a1b2c3d4e";
const RULE: &str = "title: Test <b>rule</b>
id: 5f1c3a52-2d7e-4c1b-9f3e-7d7a1b2c3d4e
status: test
logsource:
  product: test
detection:
  selection:
    message: never-seen
  condition: selection
level: high
";
/// What the harness's feed serves.
pub const FEED: &str = "198.51.100.7\nbad.example\n";

/// Collects alerts for the tests to look at.
struct Collected(Arc<Mutex<Vec<Alert>>>);

impl AlertSink for Collected {
    fn alert(&mut self, alert: &Alert, new: bool) {
        if new {
            self.0.lock().unwrap().push(alert.clone());
        }
    }
}

pub fn username(role: Role) -> String {
    format!("{}-user", role.as_str().replace('_', "-"))
}

pub async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store: Arc<dyn Store> = rampart_store::open(&url).await.unwrap().into();
    // A cheap argon2 cost: verification uses the parameters stored with the hash.
    let hasher = Hasher::with_cost(1024, 1).unwrap();
    let mut tokens = BTreeMap::new();
    for role in Role::ALL {
        let user = store
            .create_user(&NewUser {
                username: Username::parse(&username(role)).unwrap(),
                role,
                password_hash: hasher.hash(PASSWORD).unwrap(),
            })
            .await
            .unwrap();
        let token = ApiToken::generate().unwrap();
        store
            .create_token(&NewToken {
                name: format!("{}-token", role.as_str()),
                owner_id: user.id,
                role,
                hash: token.hash(),
                expires: None,
            })
            .await
            .unwrap();
        tokens.insert(role.as_str(), token.expose().to_owned());
    }
    let source = SourceInfo::adhoc("seed", "text");
    store.upsert_source(&source, &json!({})).await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let import = store.import(&source, receiver);
    let observations = [
        (IndicatorKind::Domain, "evil.example"),
        (IndicatorKind::Domain, "worse.example"),
        (IndicatorKind::Ipv4, "203.0.113.66"),
        (IndicatorKind::Url, "http://x4z9arb.example/4712/payload"),
    ]
    .into_iter()
    .map(|(kind, value)| Observation::new(Indicator::parse(kind, value).unwrap(), "seed"))
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
    import.await.unwrap();
    let mut ids = BTreeMap::new();
    for stored in store.search(&Default::default()).await.unwrap() {
        ids.insert(stored.indicator.value().to_owned(), stored.id);
    }
    store
        .upsert_assets(&[Asset {
            name: "mail-gw".into(),
            kind: "server".into(),
            owner: Some("it".into()),
            criticality: 4,
            tags: vec![],
            networks: vec!["192.0.2.10".into()],
            hostnames: vec![],
            domains: vec![],
        }])
        .await
        .unwrap();
    store.record_alerts(&[seed_alert()]).await.unwrap();
    let alert_id = store.alerts(&Default::default()).await.unwrap()[0].id;

    // Detection over the seeded indicators, as `rampart serve` runs it.
    let now = Timestamp::now();
    let entries: Vec<rampart_matcher::Entry> = store
        .search(&Default::default())
        .await
        .unwrap()
        .iter()
        .filter_map(|stored| rampart_matcher::Entry::from_stored(stored, now))
        .collect();
    // The seeds come from an ungraded source (score 27): alert on any score.
    let matcher = rampart_matcher::Matcher::new(
        &entries,
        rampart_matcher::MatcherConfig {
            thresholds: rampart_matcher::Thresholds {
                alert: 1.0,
                ..Default::default()
            },
            ..Default::default()
        },
    );
    let probed = matcher.clone();
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let stream = Stream::start(StreamSetup {
        config: Default::default(),
        detectors: vec![rampart_detect::detector::Detector::new(
            None,
            Arc::new(RuleState::default()),
            Some(matcher),
            Default::default(),
        )],
        retro_feed: None,
        sink: Box::new(Collected(alerts.clone())),
        options: Default::default(),
    })
    .await
    .unwrap();

    // A rule pack, updated as `rampart rules update` does.
    let pack = dir.path().join("pack");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("rule.yml"), RULE).unwrap();
    let rule_state = dir.path().join("rules.json");
    let mut rules = RuleState::default();
    rules
        .update(
            &RulePack {
                name: "local".into(),
                path: pack,
            },
            now,
        )
        .unwrap();
    rules.save(&rule_state).unwrap();

    // A feed on loopback, and a source pulling it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed.txt", listener.local_addr().unwrap());
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let feed = Router::new()
        .route("/feed.txt", axum::routing::get(|| async { FEED }))
        .route(
            "/hook",
            axum::routing::post(|| async { StatusCode::NO_CONTENT }),
        );
    tokio::spawn(async move { axum::serve(listener, feed).await });
    let source = SourceConfig::from_settings(&json!({
        "name": "loopback-feed",
        "format": "text",
        "url": feed_url,
    }))
    .unwrap();
    store
        .upsert_source(&source.info(), &source.to_settings())
        .await
        .unwrap();
    // The pulls' HTTP client needs a TLS provider, even for plain HTTP.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let puller = rampart_intel::scheduler::Puller::new(store.clone(), reqwest::Client::new(), None);

    // The respond stage, with its own playbook directory and one block list.
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).unwrap();
    std::fs::write(playbooks.join("approve-block.yaml"), APPROVAL_PLAYBOOK).unwrap();
    let respond: toml::Table = toml::from_str(&format!(
        "playbooks = \"{}\"\n[[blocklists]]\nname = \"edge\"\nformats = [\"edl-domain\", \"rpz\"]\nmin_score = 50\n",
        playbooks.display()
    ))
    .unwrap();
    let (responder, _) = rampart_respond::runtime::Responder::start(
        store.clone(),
        rampart_respond::config::RespondConfig::from_table(Some(&respond)).unwrap(),
        Arc::new(rampart_respond::playbook::NoServices),
        rampart_respond::playbook::References::default(),
        dir.path().join("respond.cursor"),
        std::future::pending(),
    )
    .await
    .unwrap();

    let config = ServerConfig {
        body_limit: BODY_LIMIT,
        ..ServerConfig::default()
    };
    let state = AppState::builder(store.clone(), config)
        .responder(Some(responder.clone()))
        .ingest(Some(stream.ingest()))
        .puller(Some(puller))
        .rule_state(Some(rule_state))
        .matcher(Some(Arc::new(move || {
            let stats = probed.stats();
            rampart_server::state::MatcherStatus {
                base_entries: stats.base_entries,
                delta_entries: stats.delta_entries,
                synced_at: stats.synced_at,
            }
        })))
        .taxii(taxii_config())
        .build();
    let app = rampart_server::router(state);
    Harness {
        dir,
        store,
        app,
        tokens,
        ids,
        stream,
        alerts,
        rule_id: RULE_ID,
        feed_url,
        hook_url,
        alert_id,
        taxii_status: String::new(),
        responder,
    }
}

impl Harness {
    /// A run of `approve-block` waiting at its approval.
    pub async fn waiting_run(&self, value: &str) -> i64 {
        let engine = self.responder.engine();
        let library = engine.library();
        let playbook = library.get("approve-block").expect("the harness playbook");
        let facts = rampart_respond::playbook::Facts::new(
            json!({"indicator": {"kind": "domain", "value": value}}),
        );
        let id = engine
            .start(playbook, &facts, json!({"type": "test"}))
            .await
            .unwrap();
        for _ in 0..500 {
            let (run, _) = self.store.run(id).await.unwrap().unwrap();
            if run.status == rampart_store::RunStatus::Waiting {
                return id;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("run {id} never waited");
    }
}

/// An indicator match on evil.example from a host of the mail gateway asset.
fn seed_alert() -> Alert {
    Alert::new(
        Detection::Indicator {
            id: 1,
            kind: IndicatorKind::Domain,
            value: "evil.example".into(),
            score: 60.0,
            sources: vec!["seed".into()],
        },
        Severity::Medium,
        vec![],
        vec![MatchedField {
            field: "source.ip".into(),
            value: "192.0.2.10".into(),
        }],
        EventRef::line("dns.jsonl", 3),
        Timestamp::now(),
    )
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Harness {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.contains("json"));
        // Bodies in other formats (CSV and text exports) are only in `text`.
        let body = if text.is_empty() || !is_json {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
        };
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Posts [`taxii_envelope`] to the writable collection as the ingest role; the status id.
    pub async fn post_taxii(&self) -> String {
        let reply = self
            .send(
                Request::post(format!(
                    "/taxii2/rampart/collections/{TAXII_INBOX}/objects/"
                ))
                .header(header::CONTENT_TYPE, TAXII_MEDIA_TYPE)
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", self.token(Role::Ingest)),
                )
                .body(Body::from(taxii_envelope().to_string()))
                .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[role.as_str()]
    }

    pub async fn get(&self, path: &str, role: Role) -> Reply {
        self.send(
            Request::get(path)
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", self.token(role)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Logs in; returns the cookie pair and the CSRF token.
    pub async fn login(&self, user: &str, password: &str) -> Result<(String, String), Reply> {
        let reply = self
            .send(json_request(
                Method::POST,
                "/api/v1/session",
                &json!({ "username": user, "password": password }),
            ))
            .await;
        if reply.status != StatusCode::OK {
            return Err(reply);
        }
        let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        let pair = cookie.split(';').next().unwrap().to_owned();
        Ok((pair, reply.body["csrf_token"].as_str().unwrap().to_owned()))
    }
}

pub fn json_request(method: Method, path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Asserts the error shape: status repeated in the body, a code, a message.
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/json",
        "{}",
        reply.text
    );
    assert_eq!(
        reply.body["error"]["status"],
        status.as_u16(),
        "{}",
        reply.text
    );
    assert_eq!(reply.body["error"]["code"], code, "{}", reply.text);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        reply.text
    );
}

pub fn authorized(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header(header::AUTHORIZATION, format!("Bearer {token}"))
}

impl Harness {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        role: Role,
        body: Option<&Value>,
    ) -> Reply {
        let request = authorized(
            Request::builder().method(method).uri(path),
            self.token(role),
        );
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn push(&self, query: &str, content_type: &str, body: &str, token: &str) -> Reply {
        self.send(
            authorized(Request::post(format!("/api/v1/events{query}")), token)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    pub async fn audit_actions(&self) -> Vec<(String, String)> {
        self.store
            .audit(&AuditQuery::default())
            .await
            .unwrap()
            .into_iter()
            .map(|record| {
                (
                    record.entry.action,
                    record.entry.outcome.as_str().to_owned(),
                )
            })
            .collect()
    }
}

// ---- cases ---------------------------------------------------------------------------------

/// A case title an attacker could have written (an imported alert, a mail subject).
pub const HOSTILE_CASE_TITLE: &str =
    "<script>alert(1)</script> | Invoice [click](http://evil.example)";

/// A POST with a JSON body as the analyst.
pub async fn analyst_post(h: &Harness, path: &str, body: Value) -> Reply {
    h.call(Method::POST, path, Role::Analyst, Some(&body)).await
}

/// A PATCH with a JSON body as the analyst.
pub async fn analyst_patch(h: &Harness, path: &str, body: Value) -> Reply {
    h.call(Method::PATCH, path, Role::Analyst, Some(&body))
        .await
}

/// Opens a case as the analyst; its id.
pub async fn open_case(h: &Harness, body: Value) -> i64 {
    let reply = analyst_post(h, "/api/v1/cases", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_i64().unwrap()
}

/// A case with its tasks, observables, alerts and timeline, as the read-only role sees it.
pub async fn show_case(h: &Harness, id: i64) -> Value {
    let reply = h.get(&format!("/api/v1/cases/{id}"), Role::ReadOnly).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body
}
