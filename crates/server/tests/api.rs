//! The HTTP API against a real SQLite store in a temporary directory, through the whole
//! router (layers, fallbacks, access checks) with `tower::ServiceExt::oneshot`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::request::Builder as RequestBuilder;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use jiff::Timestamp;
use rampart_auth::passwords::Hasher;
use rampart_auth::{ApiToken, Role, Username};
use rampart_model::{
    Alert, Detection, EventRef, Indicator, IndicatorKind, MatchedField, Observation, Severity,
    SourceInfo,
};
use rampart_server::auth::Access;
use rampart_server::routes::{Verb, routes};
use rampart_server::taxii::{TAXII_MEDIA_TYPE, TaxiiConfig};
use rampart_server::{AppState, ServerConfig};
use rampart_store::{Asset, AuditQuery, ImportBatch, NewToken, NewUser, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery staple";
/// The body limit the test server runs with.
const BODY_LIMIT: usize = 64 * 1024;

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    app: Router,
    /// A token per role, each owned by the user of that role.
    tokens: BTreeMap<&'static str, String>,
    /// The seeded indicators' ids, by value.
    ids: BTreeMap<String, i64>,
    /// The seeded alert's id.
    alert_id: i64,
    /// A TAXII status resource, once [`Harness::post_taxii`] made one.
    taxii_status: String,
}

/// The TAXII collections of the test server: the default read-only one and a writable one.
const TAXII_INBOX: &str = "7b3c0a9e-51d4-4c2e-9a0f-3e6d2b1c4f58";

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
fn taxii_envelope() -> Value {
    json!({"objects": [{
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": "[domain-name:value = 'posted.example']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z"
    }]})
}

fn username(role: Role) -> String {
    format!("{}-user", role.as_str().replace('_', "-"))
}

async fn harness() -> Harness {
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
    let config = ServerConfig {
        body_limit: BODY_LIMIT,
        ..ServerConfig::default()
    };
    let app = rampart_server::router(
        AppState::builder(store.clone(), config)
            .taxii(taxii_config())
            .build(),
    );
    Harness {
        _dir: dir,
        store,
        app,
        tokens,
        ids,
        alert_id,
        taxii_status: String::new(),
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

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Harness {
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| {
                let value = value.as_bytes();
                value.starts_with(b"application/json") || value.starts_with(b"application/taxii+json")
            });
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
    async fn post_taxii(&self) -> String {
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

    fn token(&self, role: Role) -> &str {
        &self.tokens[role.as_str()]
    }

    async fn get(&self, path: &str, role: Role) -> Reply {
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
    async fn login(&self, user: &str, password: &str) -> Result<(String, String), Reply> {
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

fn json_request(method: Method, path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Asserts the error shape: status repeated in the body, a code, a message.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
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

fn authorized(request: RequestBuilder, token: &str) -> RequestBuilder {
    request.header(header::AUTHORIZATION, format!("Bearer {token}"))
}

#[tokio::test]
async fn bad_requests_get_json_errors_never_500() {
    let h = harness().await;
    let admin = h.token(Role::Admin).to_owned();
    let suppress = || authorized(Request::post("/api/v1/indicators/suppress"), &admin);

    let reply = h
        .send(
            suppress()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"value\": \"evil.example\", "))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json");

    let reply = h
        .send(
            suppress()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"value": "evil.example", "reason": "x", "reasn": "typo"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(reply.text.contains("reasn"), "{}", reply.text);

    let reply = h
        .send(
            suppress()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(
                    json!({"value": "evil.example", "reason": "x"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    // Too large, announced by Content-Length and refused before reading…
    let big = format!(
        "{{\"value\": \"evil.example\", \"reason\": \"{}\"}}",
        "a".repeat(BODY_LIMIT)
    );
    let reply = h
        .send(
            suppress()
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // …and streamed without a length, cut off while reading.
    let stream = futures_stream(big.into_bytes());
    let reply = h
        .send(
            suppress()
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let reply = h.get("/api/v1/nothing-here", Role::Admin).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h
        .send(Request::get("/no/such/page").body(Body::empty()).unwrap())
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    // A long path is not reflected whole.
    let long = format!("/api/v1/{}", "x".repeat(5000));
    let reply = h.get(&long, Role::Admin).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 301,
        "{}",
        reply.text
    );

    let reply = h
        .send(
            authorized(Request::delete("/api/v1/indicators"), &admin)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(
        reply
            .headers
            .get(header::ALLOW)
            .is_some_and(|allow| allow.to_str().unwrap().contains("GET")),
        "{:?}",
        reply.headers
    );

    for bad in [
        "/api/v1/indicators?limit=0",
        "/api/v1/indicators?limit=1001",
        "/api/v1/indicators?limit=many",
        "/api/v1/indicators?kinds=domain",
        "/api/v1/indicators?kind=planet",
        "/api/v1/indicators?cursor=-5",
        "/api/v1/alerts?min_severity=apocalyptic",
        "/api/v1/alerts?since=yesterday",
        "/api/v1/audit?cursor=x",
    ] {
        let reply = h.get(bad, Role::Admin).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    }
    let reply = h.get("/api/v1/indicators/planet/earth", Role::Admin).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    let reply = h
        .get("/api/v1/indicators/ipv4/not-an-ip", Role::Admin)
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = h.get("/api/v1/indicators/0", Role::Admin).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = h
        .send(json_request(
            Method::POST,
            "/api/v1/session",
            &json!({"username": "x", "password": 5}),
        ))
        .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
}

/// A body that arrives in chunks, without a Content-Length.
fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures::stream::iter(
        bytes
            .chunks(4096)
            .map(|chunk| Ok(chunk.to_vec()))
            .collect::<Vec<_>>(),
    )
}

#[tokio::test]
async fn tokens_are_checked_and_never_echoed() {
    let h = harness().await;
    let reply = h.get("/api/v1/indicators", Role::ReadOnly).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let send_with = |value: String| {
        h.send(
            Request::get("/api/v1/indicators")
                .header(header::AUTHORIZATION, value)
                .body(Body::empty())
                .unwrap(),
        )
    };
    for garbage in [
        "Bearer".to_owned(),
        "Bearer nonsense".to_owned(),
        "Bearer rmp_short".to_owned(),
        format!("Basic {}", "YWxpY2U6cGFzc3dvcmQ="),
        format!("Bearer rms_{}", "A".repeat(43)),
    ] {
        let reply = send_with(garbage.clone()).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
        let secret = garbage.split(' ').nth(1).unwrap_or("Bearer");
        if secret.len() > 8 {
            assert!(!reply.text.contains(secret), "{}", reply.text);
        }
    }
    // Well formed but unknown.
    let unknown = ApiToken::generate().unwrap();
    let reply = send_with(format!("Bearer {}", unknown.expose())).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(reply.text.contains("unknown token"), "{}", reply.text);
    assert!(!reply.text.contains(unknown.expose()));

    // Revoked.
    let analyst = h.token(Role::Analyst).to_owned();
    let record = h
        .store
        .tokens(None)
        .await
        .unwrap()
        .into_iter()
        .find(|token| token.name == "analyst-token")
        .unwrap();
    h.store.revoke_token(record.id).await.unwrap();
    let reply = send_with(format!("Bearer {analyst}")).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(reply.text.contains("revoked"), "{}", reply.text);
    assert!(!reply.text.contains(&analyst));

    // Expired: a token valid for one second, used after it.
    let owner = h
        .store
        .user(&username(Role::ReadOnly))
        .await
        .unwrap()
        .unwrap();
    let short = ApiToken::generate().unwrap();
    h.store
        .create_token(&NewToken {
            name: "short-lived".into(),
            owner_id: owner.id,
            role: Role::ReadOnly,
            hash: short.hash(),
            expires: Some(
                Timestamp::now()
                    .checked_add(jiff::SignedDuration::from_millis(1000))
                    .unwrap(),
            ),
        })
        .await
        .unwrap();
    let reply = send_with(format!("Bearer {}", short.expose())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let reply = send_with(format!("Bearer {}", short.expose())).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(reply.text.contains("expired"), "{}", reply.text);

    // Its owner disabled.
    let ingest_owner = username(Role::ReadOnly);
    h.store
        .set_user_disabled(&ingest_owner, true)
        .await
        .unwrap();
    let reply = h.get("/api/v1/indicators", Role::ReadOnly).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(reply.text.contains("disabled"), "{}", reply.text);
}

#[tokio::test]
async fn sessions_log_in_need_csrf_for_changes_and_are_audited() {
    let h = harness().await;
    let analyst = username(Role::Analyst);

    // Wrong password and unknown account: the same answer.
    let wrong = h
        .login(&analyst, "not the password at all")
        .await
        .unwrap_err();
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown = h.login("nobody", PASSWORD).await.unwrap_err();
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(wrong.body, unknown.body);
    assert!(!wrong.text.contains("not the password"));

    let reply = h
        .send(json_request(
            Method::POST,
            "/api/v1/session",
            &json!({"username": analyst, "password": PASSWORD}),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["role"], "analyst");
    let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("rampart_session=rms_"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "no TLS here: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let csrf = reply.body["csrf_token"].as_str().unwrap().to_owned();
    assert!(
        !reply.text.contains(&pair[16..]),
        "the session id is only in the cookie"
    );

    let with_cookie = |request: RequestBuilder| request.header(header::COOKIE, &pair);
    let reply = h
        .send(
            with_cookie(Request::get("/api/v1/indicators"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let suppression = json!({"value": "evil.example", "reason": "a partner's test domain"});
    let post = |csrf: Option<&str>| {
        let mut request = with_cookie(Request::post("/api/v1/indicators/suppress"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        request.body(Body::from(suppression.to_string())).unwrap()
    };
    let reply = h.send(post(None)).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    let reply = h.send(post(Some("A".repeat(43).as_str()))).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "csrf_failed");
    let reply = h.send(post(Some(&csrf))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["value"], "evil.example");
    assert_eq!(reply.body["changed"], 1);

    // The suppression shows on the indicator.
    let reply = h
        .get("/api/v1/indicators/domain/evil.example", Role::Admin)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.body["indicator"]["suppressed"], "allowlist: evil.example (a partner's test domain)",
        "{}",
        reply.text
    );

    // Logout needs the CSRF token too, and ends the session.
    let logout = |csrf: Option<&str>| {
        let mut request = with_cookie(Request::delete("/api/v1/session"));
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        request.body(Body::empty()).unwrap()
    };
    assert_error(
        &h.send(logout(None)).await,
        StatusCode::FORBIDDEN,
        "csrf_failed",
    );
    let reply = h.send(logout(Some(&csrf))).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(
        reply.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let reply = h
        .send(
            with_cookie(Request::get("/api/v1/indicators"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");

    // A forged cookie.
    let reply = h
        .send(
            Request::get("/api/v1/indicators")
                .header(header::COOKIE, "rampart_session=<script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(!reply.text.contains("<script>"));

    let audit = h
        .store
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|record| {
            (
                record.entry.actor,
                record.entry.action,
                record.entry.outcome.as_str().to_owned(),
            )
        })
        .collect::<Vec<_>>();
    let actor = format!("user:{analyst}");
    let expected = [
        (actor.clone(), "login".to_owned(), "failure".to_owned()),
        ("user:nobody".into(), "login".into(), "failure".into()),
        (actor.clone(), "login".into(), "success".into()),
        (actor.clone(), "indicator.suppress".into(), "success".into()),
        (actor.clone(), "logout".into(), "success".into()),
    ];
    assert_eq!(audit, expected);
    // The admin reads it over the API, newest first.
    let reply = h.get("/api/v1/audit?limit=2", Role::Admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["items"][0]["action"], "logout");
    assert_eq!(reply.body["next"], "2");
}

#[tokio::test]
async fn indicators_search_page_and_explain() {
    let h = harness().await;
    let reply = h.get("/api/v1/indicators?limit=2", Role::ReadOnly).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    let next = reply.body["next"].as_str().unwrap().to_owned();
    let reply = h
        .get(
            &format!("/api/v1/indicators?limit=2&cursor={next}"),
            Role::ReadOnly,
        )
        .await;
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    let next = reply.body["next"].as_str().unwrap().to_owned();
    let reply = h
        .get(
            &format!("/api/v1/indicators?limit=2&cursor={next}"),
            Role::ReadOnly,
        )
        .await;
    assert_eq!(reply.body["items"], json!([]), "{}", reply.text);
    assert_eq!(reply.body["next"], Value::Null);

    let reply = h
        .get("/api/v1/indicators?q=EXAMPLE&kind=domain", Role::ReadOnly)
        .await;
    let values: Vec<&str> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item["indicator"]["indicator"]["value"]
                .as_str()
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(values, ["evil.example", "worse.example"], "{}", reply.text);
    let reply = h
        .get("/api/v1/indicators?source=nobody", Role::ReadOnly)
        .await;
    assert_eq!(reply.body["items"], json!([]));
    let reply = h
        .get("/api/v1/indicators?min_score=101", Role::ReadOnly)
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    let reply = h
        .get("/api/v1/indicators?min_score=1", Role::ReadOnly)
        .await;
    assert_eq!(
        reply.body["items"].as_array().unwrap().len(),
        4,
        "{}",
        reply.text
    );

    // One indicator with the score explanation `intel show` prints; a URL, percent-encoded,
    // and a defanged address, refanged.
    let reply = h
        .get(
            "/api/v1/indicators/url/http%3A%2F%2Fx4z9arb.example%2F4712%2Fpayload",
            Role::ReadOnly,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["explanation"]["kind"], "url");
    assert_eq!(
        reply.body["explanation"]["contributions"][0]["source"],
        "seed"
    );
    let reply = h
        .get("/api/v1/indicators/ipv4/203.0.113%5B.%5D66", Role::ReadOnly)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let score = reply.body["explanation"]["score"].as_u64().unwrap();
    assert!(score > 0, "{}", reply.text);

    let id = h.ids["evil.example"];
    let reply = h
        .get(&format!("/api/v1/indicators/{id}"), Role::ReadOnly)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.body["indicator"]["indicator"]["value"],
        "evil.example"
    );
    let reply = h.get("/api/v1/indicators/999999", Role::ReadOnly).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h
        .get("/api/v1/indicators/domain/unknown.example", Role::ReadOnly)
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    let reply = h.get("/api/v1/sources", Role::ReadOnly).await;
    assert_eq!(
        reply.body["items"][0]["source"]["info"]["name"], "seed",
        "{}",
        reply.text
    );
    let reply = h.get("/api/v1/assets?limit=1", Role::ReadOnly).await;
    assert_eq!(reply.body["items"][0]["name"], "mail-gw", "{}", reply.text);
    assert_eq!(reply.body["next"], Value::Null);
    let reply = h
        .get(
            "/api/v1/alerts?min_severity=high&retro=false",
            Role::ReadOnly,
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"items": [], "next": null}),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_route_table() {
    let h = harness().await;
    let reply = h
        .send(
            Request::get("/api/openapi.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let document = reply.body;
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(document["components"]["schemas"]["ErrorBody"].is_object());
    let mut documented = Vec::new();
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(operation) = item.get(method) {
                documented.push((method.to_uppercase(), path.clone()));
                let id = operation["operationId"].as_str().unwrap().to_owned();
                assert!(operation_ids.insert(id.clone()), "operationId {id} twice");
                assert!(
                    operation["responses"]["default"].is_object(),
                    "{method} {path} has no error response"
                );
            }
        }
    }
    // Dashboard pages are for browsers, and TAXII routes follow their own specification (OASIS
    // TAXII 2.1): both are left out of the API document on purpose, and must stay out.
    let mut table: Vec<(String, String)> = routes()
        .iter()
        .filter(|route| !route.page && !route.path.starts_with("/taxii2/"))
        .map(|route| (route.verb.method().to_string(), route.path.to_owned()))
        .collect();
    assert!(
        routes()
            .iter()
            .any(|route| route.path.starts_with("/taxii2/")),
        "the TAXII routes are in the table"
    );
    assert!(
        documented
            .iter()
            .all(|(_, path)| !path.starts_with("/taxii2/")),
        "TAXII is not documented in OpenAPI"
    );
    documented.sort();
    table.sort();
    assert_eq!(documented, table);
    let search = &document["paths"]["/api/v1/indicators"]["get"];
    assert_eq!(search["x-rampart-action"], "read_intel");
    assert_eq!(search["security"], json!([{"bearer": []}, {"session": []}]));
    assert_eq!(document["paths"]["/healthz"]["get"]["security"], json!([]));
}

/// What a sample request sends.
enum SampleBody {
    None,
    Json(Value),
    /// A form; `{csrf}` is replaced by the caller's session CSRF token (empty for others),
    /// `{role}` by the caller's role (`anonymous` without one).
    Form(&'static str),
}

/// The login form's double-submit token the RBAC walk sends as cookie and field.
const LOGIN_TOKEN: &str = "rbac-walk-login-token";

/// A request for each route of the table that succeeds when the caller may make it. A new
/// route without one here fails the RBAC walk.
fn sample(h: &Harness, verb: Verb, path: &str) -> Option<(String, SampleBody)> {
    let evil = h.ids["evil.example"];
    let alert = h.alert_id;
    let (uri, body) = match (verb, path) {
        (Verb::Get, "/healthz" | "/readyz" | "/api/openapi.json") => {
            (path.to_owned(), SampleBody::None)
        }
        (Verb::Post, "/api/v1/session") => (
            path.to_owned(),
            SampleBody::Json(json!({"username": username(Role::ReadOnly), "password": PASSWORD})),
        ),
        (Verb::Delete, "/api/v1/session") => (path.to_owned(), SampleBody::None),
        (Verb::Get, "/api/v1/indicators") => {
            ("/api/v1/indicators?q=example".into(), SampleBody::None)
        }
        (Verb::Post, "/api/v1/indicators/suppress") => (
            path.to_owned(),
            SampleBody::Json(json!({"value": "198.51.100.0/24", "reason": "rbac walk"})),
        ),
        (Verb::Get, "/api/v1/indicators/{id}") => {
            (format!("/api/v1/indicators/{evil}"), SampleBody::None)
        }
        (Verb::Get, "/api/v1/indicators/{kind}/{value}") => (
            "/api/v1/indicators/domain/evil.example".into(),
            SampleBody::None,
        ),
        (Verb::Get, "/api/v1/sources" | "/api/v1/alerts" | "/api/v1/assets" | "/api/v1/audit") => {
            (format!("{path}?limit=5"), SampleBody::None)
        }
        (Verb::Post, "/api/v1/alerts/{id}/acknowledge") => (
            format!("/api/v1/alerts/{alert}/acknowledge"),
            SampleBody::None,
        ),
        (Verb::Post, "/api/v1/alerts/{id}/false-positive") => (
            format!("/api/v1/alerts/{alert}/false-positive"),
            SampleBody::Json(json!({"note": "rbac walk"})),
        ),
        // The dashboard.
        (Verb::Get, "/static/rampart.css" | "/login" | "/" | "/feeds" | "/assets") => {
            (path.to_owned(), SampleBody::None)
        }
        (Verb::Post, "/login") => (
            path.to_owned(),
            SampleBody::Form(
                "csrf=rbac-walk-login-token&username=read-only-user&password=correct+horse+battery+staple&next=%2Falerts",
            ),
        ),
        (Verb::Post, "/logout") => (path.to_owned(), SampleBody::Form("csrf={csrf}")),
        (Verb::Get, "/indicators") => ("/indicators?q=evil".into(), SampleBody::None),
        (Verb::Get, "/indicators/{id}") => (format!("/indicators/{evil}"), SampleBody::None),
        (Verb::Post, "/indicators/suppress") => (
            path.to_owned(),
            SampleBody::Form(
                "csrf={csrf}&value={role}.rbac.example&reason=rbac+walk&back=%2Findicators",
            ),
        ),
        // Each role lifts the entry it made with the suppress page just before (routes run in
        // table order): lifting an entry that is gone answers 404.
        (Verb::Post, "/indicators/unsuppress") => (
            path.to_owned(),
            SampleBody::Form("csrf={csrf}&value={role}.rbac.example&back=%2Findicators"),
        ),
        (Verb::Get, "/alerts") => ("/alerts?status=queue".into(), SampleBody::None),
        (Verb::Post, "/alerts/{id}/acknowledge") => (
            format!("/alerts/{alert}/acknowledge"),
            SampleBody::Form("csrf={csrf}&note=rbac+walk"),
        ),
        (Verb::Post, "/alerts/{id}/false-positive") => (
            format!("/alerts/{alert}/false-positive"),
            SampleBody::Form("csrf={csrf}"),
        ),
        _ if path.starts_with("/taxii2/") => return taxii_sample(h, verb, path),
        _ => return None,
    };
    Some((uri, body))
}

/// Whether a reply is the dashboard sending a browser to log in.
fn sent_to_login(reply: &Reply) -> bool {
    reply.status == StatusCode::SEE_OTHER
        && reply.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
}

/// The TAXII routes' samples: the default collection's evil.example, the set-up POST's status.
fn taxii_sample(h: &Harness, verb: Verb, path: &str) -> Option<(String, SampleBody)> {
    let collection = rampart_server::taxii::config::DEFAULT_COLLECTION_ID.to_string();
    let object = rampart_intel::export::stix::indicator_id(IndicatorKind::Domain, "evil.example");
    let uri = path
        .replace("{api_root}", "rampart")
        .replace("{object_id}", &object)
        .replace("{status_id}", &h.taxii_status);
    let body = match verb {
        Verb::Post => {
            let uri = uri.replace("{id}", TAXII_INBOX);
            return Some((uri, SampleBody::Json(taxii_envelope())));
        }
        Verb::Get => SampleBody::None,
        _ => return None,
    };
    Some((uri.replace("{id}", &collection), body))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    Token(Role),
    Session(Role),
}

#[tokio::test]
async fn rbac_every_route_with_every_role() {
    let mut h = harness().await;
    h.taxii_status = h.post_taxii().await;
    let mut callers = vec![Caller::Anonymous];
    callers.extend(Role::ALL.map(Caller::Token));
    callers.extend(Role::ALL.map(Caller::Session));
    let mut checked = 0;
    for route in routes() {
        let (uri, body) = sample(&h, route.verb, route.path)
            .unwrap_or_else(|| panic!("no RBAC sample for {:?} {}", route.verb, route.path));
        for caller in &callers {
            let mut request = Request::builder().method(route.verb.method()).uri(&uri);
            let mut csrf = String::new();
            let role_name = match caller {
                Caller::Anonymous => "anonymous".to_owned(),
                Caller::Token(role) | Caller::Session(role) => role.as_str().replace('_', "-"),
            };
            match caller {
                Caller::Anonymous => {}
                Caller::Token(role) => {
                    request =
                        request.header(header::AUTHORIZATION, format!("Bearer {}", h.token(*role)));
                }
                Caller::Session(role) => {
                    // A fresh session each time: the logout routes end the one they are sent
                    // with.
                    let (cookie, token) = h.login(&username(*role), PASSWORD).await.ok().unwrap();
                    request = request
                        .header(header::COOKIE, cookie)
                        .header("X-CSRF-Token", &token);
                    csrf = token;
                }
            }
            if route.path == "/login" && route.verb == Verb::Post {
                request = request.header(header::COOKIE, format!("rampart_login={LOGIN_TOKEN}"));
            }
            let is_taxii = route.path.starts_with("/taxii2/");
            let request = match &body {
                SampleBody::Json(body) => request
                    .header(
                        header::CONTENT_TYPE,
                        if is_taxii {
                            TAXII_MEDIA_TYPE
                        } else {
                            "application/json"
                        },
                    )
                    .body(Body::from(body.to_string())),
                SampleBody::Form(form) => request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(
                        form.replace("{csrf}", &csrf).replace("{role}", &role_name),
                    )),
                SampleBody::None => request.body(Body::empty()),
            }
            .unwrap();
            let reply = h.send(request).await;
            let context = format!(
                "{caller:?} {:?} {} → {}: {}",
                route.verb, route.path, reply.status, reply.text
            );
            // Pages look at browser sessions only: without one (anonymous, or an API token)
            // the browser is sent to the login form; a role without the action gets a 403
            // page; anything else is a page or a redirect after a form.
            if let Access::Page(action) = route.access {
                match caller {
                    Caller::Anonymous | Caller::Token(_) => {
                        assert!(
                            sent_to_login(&reply),
                            "expected a login redirect: {context}"
                        );
                    }
                    Caller::Session(role) if action.is_some_and(|action| !role.allows(action)) => {
                        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{context}");
                        assert!(
                            reply.headers[header::CONTENT_TYPE]
                                .to_str()
                                .unwrap()
                                .starts_with("text/html"),
                            "{context}"
                        );
                    }
                    Caller::Session(_) => {
                        let redirected =
                            reply.status == StatusCode::SEE_OTHER && !sent_to_login(&reply);
                        assert!(
                            reply.status.is_success() || redirected,
                            "expected a page: {context}"
                        );
                    }
                }
                checked += 1;
                continue;
            }
            let expected = match (route.access, caller) {
                (Access::Public, _) => None,
                (_, Caller::Anonymous) => Some(StatusCode::UNAUTHORIZED),
                (Access::Session, Caller::Token(_)) => Some(StatusCode::FORBIDDEN),
                (Access::Session, Caller::Session(_)) => None,
                (Access::Action(action), Caller::Token(role) | Caller::Session(role)) => {
                    (!role.allows(action)).then_some(StatusCode::FORBIDDEN)
                }
                (Access::Page(_), _) => unreachable!("pages are checked above"),
            };
            match expected {
                // A public page may send a logged-in browser on (`/login` → `/`).
                None => assert!(
                    reply.status.is_success()
                        || (route.page && reply.status == StatusCode::SEE_OTHER),
                    "expected 2xx: {context}"
                ),
                Some(status) if is_taxii => {
                    // TAXII routes answer TAXII error messages.
                    assert_eq!(reply.status, status, "{context}");
                    assert_eq!(reply.body["http_status"], status.as_str(), "{context}");
                    assert!(reply.body["title"].is_string(), "{context}");
                }
                Some(status) => {
                    assert_eq!(reply.status, status, "{context}");
                    let code = if status == StatusCode::UNAUTHORIZED {
                        "unauthorized"
                    } else {
                        "forbidden"
                    };
                    assert_eq!(reply.body["error"]["code"], code, "{context}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes().len() * 9);
    // Every action a route needs was seen allowed and refused.
    assert!(
        routes()
            .iter()
            .any(|route| route.access == Access::Action(rampart_auth::Action::ReadAudit))
    );
}

#[tokio::test]
async fn alerts_are_triaged_over_the_api_and_audited() {
    let h = harness().await;
    let analyst = h.token(Role::Analyst).to_owned();
    let id = h.alert_id;
    let reply = h
        .send(
            authorized(
                Request::post(format!("/api/v1/alerts/{id}/acknowledge")),
                &analyst,
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"note": "on it"}).to_string()))
            .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["status"], "acknowledged");
    assert_eq!(reply.body["triage"]["by"], "token:analyst-token");
    assert_eq!(reply.body["triage"]["note"], "on it");

    let listed = h
        .get("/api/v1/alerts?status=acknowledged", Role::ReadOnly)
        .await;
    assert_eq!(listed.body["items"][0]["id"], id, "{}", listed.text);
    let none = h
        .get("/api/v1/alerts?status=false_positive", Role::ReadOnly)
        .await;
    assert_eq!(none.body["items"], json!([]));
    let bad = h.get("/api/v1/alerts?status=maybe", Role::ReadOnly).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_query");

    // Without a body, then with bad ones.
    let post = |path: String| authorized(Request::post(path), &analyst);
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/false-positive"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.body["status"], "false_positive", "{}", reply.text);
    assert_eq!(reply.body["triage"]["note"], Value::Null);
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"note": "x", "extra": 1}).to_string()))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"note": "n".repeat(1001)}).to_string()))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("note"))
                .unwrap(),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    for path in [
        "/api/v1/alerts/999999/acknowledge",
        "/api/v1/alerts/0/acknowledge",
    ] {
        let reply = h.send(post(path.into()).body(Body::empty()).unwrap()).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.text);
        assert!(reply.body["error"]["code"].is_string(), "{}", reply.text);
    }

    let audit = h
        .store
        .audit(&AuditQuery {
            action: Some("alert.false_positive".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.actor, "token:analyst-token");
    assert_eq!(
        audit[0].entry.target.as_deref(),
        Some(format!("alert:{id}").as_str())
    );
    let acknowledged = h
        .store
        .audit(&AuditQuery {
            action: Some("alert.acknowledged".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(acknowledged.len(), 1, "only the successful acknowledgement");
    assert_eq!(acknowledged[0].entry.detail["note"], "on it");
}

/// The `Set-Cookie` pair of a reply's cookie named `name`.
fn set_cookie(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie: {:?}", reply.headers))
}

/// The value of a hidden form field in a page.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn pages_log_in_check_csrf_and_escape_hostile_values() {
    let h = harness().await;
    // A hostile value from a feed: its label, shown on the indicator page.
    let source = SourceInfo::adhoc("hostile <feed>", "text");
    h.store.upsert_source(&source, &json!({})).await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let import = h.store.import(&source, receiver);
    let mut observation = Observation::new(
        Indicator::parse(IndicatorKind::Domain, "evil.example").unwrap(),
        "<script>alert(1)</script>",
    );
    observation.labels = vec!["<img src=x onerror=alert(1)>".into()];
    sender
        .send(ImportBatch::observations(vec![observation]))
        .await
        .unwrap();
    sender
        .send(ImportBatch::Commit(Default::default()))
        .await
        .unwrap();
    drop(sender);
    import.await.unwrap();

    // The form sets its token cookie; a post without it is refused.
    let form = h
        .send(
            Request::get("/login?next=%2Falerts")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let login_cookie = set_cookie(&form, "rampart_login");
    let token = hidden_field(&form.text, "csrf");
    assert_eq!(login_cookie, format!("rampart_login={token}"));
    assert_eq!(hidden_field(&form.text, "next"), "/alerts");
    let body = format!(
        "csrf={token}&username={}&password=correct+horse+battery+staple&next=%2Falerts",
        username(Role::Analyst)
    );
    let post_login = |cookie: Option<&str>, body: String| {
        let mut request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from(body)).unwrap()
    };
    let refused = h.send(post_login(None, body.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let wrong = h
        .send(post_login(
            Some(&login_cookie),
            body.replace("battery", "batterie"),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("invalid username or password"));
    let done = h.send(post_login(Some(&login_cookie), body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.headers[header::LOCATION], "/alerts");
    let session = set_cookie(&done, "rampart_session");
    // An offsite `next` is ignored.
    let form = h
        .send(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    let token = hidden_field(&form.text, "csrf");
    let offsite = h
        .send(post_login(
            Some(&format!("rampart_login={token}")),
            format!(
                "csrf={token}&username={}&password=correct+horse+battery+staple&next=%2F%2Fevil.example%2F",
                username(Role::Analyst)
            ),
        ))
        .await;
    assert_eq!(offsite.headers[header::LOCATION], "/");

    let page = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap()
    };
    let evil = h.ids["evil.example"];
    let detail = h.send(page(&format!("/indicators/{evil}"))).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(
        detail.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    for hostile in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "hostile <feed>",
    ] {
        assert!(!detail.text.contains(hostile), "{hostile} unescaped");
    }
    assert!(
        detail
            .text
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || detail
                .text
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        detail.text
    );
    assert!(!detail.text.contains("<script"), "no script at all");
    let csrf = hidden_field(&detail.text, "csrf");

    // Forms need the session's token.
    let triage = |body: String| {
        Request::post(format!("/alerts/{}/acknowledge", h.alert_id))
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let forged = h.send(triage("csrf=forged&note=x".into())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let missing = h.send(triage("note=x".into())).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let status = |h: &Harness| {
        let store = h.store.clone();
        async move { store.alerts(&Default::default()).await.unwrap()[0].status }
    };
    assert_eq!(status(&h).await, rampart_store::AlertStatus::Open);
    let done = h
        .send(triage(format!("csrf={csrf}&note=%3Cb%3Echecked%3C%2Fb%3E")))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(status(&h).await, rampart_store::AlertStatus::Acknowledged);
    let queue = h.send(page("/alerts")).await;
    assert!(queue.text.contains("&#60;b&#62;checked") || queue.text.contains("&lt;b&gt;checked"));
    assert!(queue.text.contains("data-status=\"acknowledged\""));

    // Suppress from the indicator page, then lift it again.
    let form = |path: &str, body: String| {
        Request::post(path)
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let worse = Indicator::parse(IndicatorKind::Domain, "worse.example").unwrap();
    let suppressed = |h: &Harness| {
        let (store, worse) = (h.store.clone(), worse.clone());
        async move { store.indicator(&worse).await.unwrap().unwrap().suppressed }
    };
    let done = h
        .send(form(
            "/indicators/suppress",
            format!("csrf={csrf}&value=worse.example&reason=a+partner&back=%2Findicators%2F7"),
        ))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.headers[header::LOCATION], "/indicators/7");
    assert!(suppressed(&h).await.unwrap().contains("a partner"));
    let lifted = h
        .send(form(
            "/indicators/unsuppress",
            format!("csrf={csrf}&value=worse.example"),
        ))
        .await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER, "{}", lifted.text);
    assert_eq!(suppressed(&h).await, None);
    let again = h
        .send(form(
            "/indicators/unsuppress",
            format!("csrf={csrf}&value=worse.example"),
        ))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);

    // Every page renders for the analyst.
    for path in [
        "/",
        "/?days=7",
        "/indicators?q=example&kind=domain",
        "/feeds",
        "/assets",
        "/alerts?status=false_positive",
        "/indicators?kind=nonsense",
    ] {
        let reply = h.send(page(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        if path == "/" || path.starts_with("/?") {
            assert!(reply.text.contains("<svg"), "{path}: no chart");
        }
    }
    let missing = h.send(page("/indicators/999999")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
