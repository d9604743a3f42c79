//! The TAXII 2.1 endpoints against a real SQLite store, through the whole router (layers,
//! access checks, the TAXII error rewriting) with `tower::ServiceExt::oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use jiff::Timestamp;
use rampart_auth::{ApiToken, Role, Username};
use rampart_intel::export::stix::indicator_id;
use rampart_model::{Indicator, Observation, Reliability, SourceInfo, Tlp};
use rampart_server::taxii::{TAXII_MEDIA_TYPE, TaxiiConfig};
use rampart_server::{AppState, ServerConfig};
use rampart_store::{ImportBatch, NewToken, NewUser, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

const ALL: &str = "11111111-1111-4111-8111-111111111111";
const DOMAINS: &str = "22222222-2222-4222-8222-222222222222";
const INBOX: &str = "33333333-3333-4333-8333-333333333333";
const SEALED: &str = "44444444-4444-4444-8444-444444444444";
const BODY_LIMIT: usize = 16 * 1024;
const ROOT: &str = "/taxii2/shared";

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    app: Router,
    token: String,
    ingest_token: String,
}

fn taxii_config() -> TaxiiConfig {
    let table: toml::Table = toml::from_str(&format!(
        r#"
        api_root = "shared"
        max_page = 50
        [[collections]]
        id = "{ALL}"
        title = "Everything up to green"
        [[collections]]
        id = "{DOMAINS}"
        title = "Domains from alpha, clear only"
        sources = ["alpha"]
        kinds = ["domain"]
        max_tlp = "clear"
        [[collections]]
        id = "{INBOX}"
        title = "Inbox"
        can_write = true
        sources = ["taxii:{INBOX}"]
        max_tlp = "amber"
        [[collections]]
        id = "{SEALED}"
        title = "Unreadable"
        can_read = false
        "#
    ))
    .unwrap();
    TaxiiConfig::from_table(Some(&table)).unwrap()
}

async fn token_for(store: &dyn Store, name: &str, role: Role) -> String {
    let hasher = rampart_auth::passwords::Hasher::with_cost(1024, 1).unwrap();
    let user = store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            role,
            password_hash: hasher.hash("correct horse battery staple").unwrap(),
        })
        .await
        .unwrap();
    let token = ApiToken::generate().unwrap();
    store
        .create_token(&NewToken {
            name: format!("{name}-token"),
            owner_id: user.id,
            role,
            hash: token.hash(),
            expires: None,
        })
        .await
        .unwrap();
    token.expose().to_owned()
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store: Arc<dyn Store> = rampart_store::open(&url).await.unwrap().into();
    let token = token_for(store.as_ref(), "analyst", Role::Analyst).await;
    let ingest_token = token_for(store.as_ref(), "sensor", Role::Ingest).await;
    let config = ServerConfig {
        body_limit: BODY_LIMIT,
        ..ServerConfig::default()
    };
    let state = AppState::builder(store.clone(), config)
        .taxii(taxii_config())
        .build();
    Harness {
        _dir: dir,
        store,
        app: rampart_server::router(state),
        token,
        ingest_token,
    }
}

fn indicator(text: &str) -> Indicator {
    Indicator::guess(text).unwrap()
}

/// One import by `source` (created on first use) of values, each with its TLP.
async fn import(store: &dyn Store, source: &str, values: &[(&str, Tlp)]) {
    let info = SourceInfo {
        reliability: Reliability::B,
        ..SourceInfo::adhoc(source, "text")
    };
    store.upsert_source(&info, &json!({})).await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let import = store.import(&info, receiver);
    let observations = values
        .iter()
        .map(|(value, tlp)| Observation {
            tlp: Some(*tlp),
            confidence: Some(80),
            ..Observation::new(indicator(value), "test")
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
    import.await.unwrap();
    // Commit times are microseconds: keep imports apart.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

fn stix_id(value: &str) -> String {
    let parsed = indicator(value);
    indicator_id(parsed.kind(), parsed.value())
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn ids(&self) -> Vec<String> {
        self.body["objects"]
            .as_array()
            .map(|objects| {
                objects
                    .iter()
                    .map(|o| o["id"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a TAXII error message with this status.
    fn assert_error(&self, status: StatusCode) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), Some(TAXII_MEDIA_TYPE));
        assert_eq!(self.body["http_status"], status.as_u16().to_string());
        assert!(self.body["title"].is_string(), "{}", self.body);
        assert!(self.body["description"].is_string(), "{}", self.body);
        assert!(self.body.get("error").is_none(), "{}", self.body);
    }
}

impl Harness {
    async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.request(
            Request::get(uri)
                .header(header::ACCEPT, TAXII_MEDIA_TYPE)
                .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, uri: &str, content_type: &str, body: String, token: &str) -> Reply {
        self.request(
            Request::post(uri)
                .header(header::ACCEPT, TAXII_MEDIA_TYPE)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Every object of a collection, paging by `limit`: the ids and the number of pages.
    async fn page_through(
        &self,
        collection: &str,
        query: &str,
        limit: usize,
    ) -> (Vec<String>, usize) {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        for pages in 1..100 {
            let mut uri = format!("{ROOT}/collections/{collection}/objects/?limit={limit}{query}");
            if let Some(next) = &next {
                uri.push_str(&format!("&next={next}"));
            }
            let reply = self.get(&uri).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            let page = reply.ids();
            assert!(page.len() <= limit);
            ids.extend(page);
            if reply.body["more"] != true {
                assert!(reply.body.get("next").is_none());
                return (ids, pages);
            }
            assert_eq!(reply.ids().len(), limit, "a page with more is full");
            next = Some(reply.body["next"].as_str().unwrap().to_owned());
        }
        panic!("paging does not end");
    }
}

#[tokio::test]
async fn discovery_root_and_collections() {
    let h = harness().await;
    let discovery = h.get("/taxii2/").await;
    assert_eq!(discovery.status, StatusCode::OK);
    assert_eq!(discovery.header("content-type"), Some(TAXII_MEDIA_TYPE));
    assert_eq!(discovery.body["api_roots"], json!(["/taxii2/shared/"]));
    assert_eq!(discovery.body["default"], "/taxii2/shared/");

    let root = h.get("/taxii2/shared/").await;
    assert_eq!(root.body["versions"], json!([TAXII_MEDIA_TYPE]));
    assert_eq!(root.body["max_content_length"], BODY_LIMIT);

    let collections = h.get("/taxii2/shared/collections/").await;
    let listed: Vec<(&str, bool, bool)> = collections.body["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap(),
                c["can_read"].as_bool().unwrap(),
                c["can_write"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (ALL, true, false),
            (DOMAINS, true, false),
            (INBOX, true, true),
            (SEALED, false, false)
        ]
    );
    let one = h.get(&format!("{ROOT}/collections/{DOMAINS}/")).await;
    assert_eq!(one.body["title"], "Domains from alpha, clear only");
    assert_eq!(
        one.body["media_types"],
        json!(["application/stix+json;version=2.1"])
    );
}

#[tokio::test]
async fn objects_page_with_next_and_added_after_and_respect_the_filters() {
    let h = harness().await;
    let store = h.store.as_ref();
    import(
        store,
        "alpha",
        &[
            ("one.example", Tlp::Clear),
            ("two.example", Tlp::Green),
            ("198.51.100.1", Tlp::Clear),
            ("secret.example", Tlp::Amber),
            ("three.example", Tlp::Clear),
        ],
    )
    .await;
    import(
        store,
        "beta",
        &[("four.example", Tlp::Clear), ("198.51.100.2", Tlp::Clear)],
    )
    .await;
    import(store, "alpha", &[("five.example", Tlp::Clear)]).await;

    // Everything up to green: the amber one is never published. Feed order: by import, then
    // by id; pages of two split the first import.
    let everything = [
        "one.example",
        "two.example",
        "198.51.100.1",
        "three.example",
        "four.example",
        "198.51.100.2",
        "five.example",
    ]
    .map(stix_id);
    let (ids, pages) = h.page_through(ALL, "", 2).await;
    assert_eq!(ids, everything);
    assert_eq!(pages, 4);
    let (ids, _) = h.page_through(ALL, "", 50).await;
    assert_eq!(ids, everything);

    // The domain collection: alpha's clear domains only.
    let (ids, _) = h.page_through(DOMAINS, "", 1).await;
    assert_eq!(
        ids,
        ["one.example", "three.example", "five.example"].map(stix_id)
    );

    // added_after the first import's date_added: the two later imports.
    let first = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/?limit=4"))
        .await;
    let first_added = first.header("x-taxii-date-added-first").unwrap().to_owned();
    let last_added = first.header("x-taxii-date-added-last").unwrap().to_owned();
    assert_eq!(first_added, last_added, "one import, one date_added");
    let query = format!("&added_after={last_added}");
    let (later, pages) = h.page_through(ALL, &query, 2).await;
    assert_eq!(
        later,
        ["four.example", "198.51.100.2", "five.example"].map(stix_id)
    );
    assert_eq!(pages, 2);

    // The manifest agrees with the objects, with microsecond date_added.
    let manifest = h
        .get(&format!("{ROOT}/collections/{ALL}/manifest/?limit=50"))
        .await;
    let records = manifest.body["objects"].as_array().unwrap();
    assert_eq!(records.len(), everything.len());
    assert_eq!(records[0]["date_added"], first_added.as_str());
    assert_eq!(
        records[0]["media_type"],
        "application/stix+json;version=2.1"
    );
    let objects = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/?limit=50"))
        .await;
    for (record, object) in records
        .iter()
        .zip(objects.body["objects"].as_array().unwrap())
    {
        assert_eq!(record["id"], object["id"]);
        assert_eq!(record["version"], object["modified"]);
        assert_eq!(object["type"], "indicator");
        assert_eq!(object["spec_version"], "2.1");
    }
    let stamp = |text: &str| text.parse::<Timestamp>().unwrap();
    assert!(stamp(records[6]["date_added"].as_str().unwrap()) > stamp(&first_added));

    // match[type], match[spec_version], match[id], match[version].
    let none = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/?match[type]=malware"
        ))
        .await;
    assert_eq!((none.status, none.ids().len()), (StatusCode::OK, 0));
    assert_eq!(none.body["more"], false);
    assert!(none.header("x-taxii-date-added-first").is_none());
    let none = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/?match[spec_version]=2.0"
        ))
        .await;
    assert_eq!(none.ids().len(), 0);
    let typed = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/?match[type]=indicator,malware&match[spec_version]=2.1"))
        .await;
    assert_eq!(typed.ids().len(), everything.len());
    let picked = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/?match[id]={},{},{}",
            stix_id("five.example"),
            stix_id("one.example"),
            stix_id("secret.example")
        ))
        .await;
    assert_eq!(
        picked.ids(),
        ["one.example", "five.example"].map(stix_id),
        "feed order, the amber one left out"
    );
    let version = objects.body["objects"][0]["modified"].as_str().unwrap();
    let exact = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/{}/?match[version]={version}",
            stix_id("one.example")
        ))
        .await;
    assert_eq!(exact.ids(), [stix_id("one.example")]);
    let other = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/{}/?match[version]=2001-01-01T00:00:00.000Z",
            stix_id("one.example")
        ))
        .await;
    other.assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_changed_statement_is_a_new_version_added_later() {
    let h = harness().await;
    let store = h.store.as_ref();
    import(
        store,
        "alpha",
        &[("one.example", Tlp::Clear), ("two.example", Tlp::Clear)],
    )
    .await;
    let id = stix_id("one.example");
    let before = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/{id}/"))
        .await;
    assert_eq!(before.status, StatusCode::OK);
    let old_version = before.body["objects"][0]["modified"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_added = before.header("x-taxii-date-added-last").unwrap().to_owned();

    // The same content again is no new version.
    import(store, "alpha", &[("one.example", Tlp::Clear)]).await;
    let same = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/{id}/versions/"))
        .await;
    assert_eq!(same.body["versions"], json!([old_version]));

    // A second source's statement is.
    import(store, "beta", &[("one.example", Tlp::Clear)]).await;
    let versions = h
        .get(&format!("{ROOT}/collections/{ALL}/objects/{id}/versions/"))
        .await;
    assert_eq!(versions.status, StatusCode::OK);
    let new_version = versions.body["versions"][0].as_str().unwrap().to_owned();
    assert!(
        new_version > old_version,
        "{new_version} after {old_version}"
    );
    let newer = h
        .get(&format!(
            "{ROOT}/collections/{ALL}/objects/?added_after={old_added}"
        ))
        .await;
    assert_eq!(
        newer.ids(),
        std::slice::from_ref(&id),
        "only the changed one is newer"
    );
    assert_eq!(newer.body["objects"][0]["modified"], new_version.as_str());

    // Suppressed: no longer published.
    store
        .set_suppression(&indicator("one.example"), Some("our own"))
        .await
        .unwrap();
    h.get(&format!("{ROOT}/collections/{ALL}/objects/{id}/"))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let (ids, _) = h.page_through(ALL, "", 10).await;
    assert_eq!(ids, [stix_id("two.example")]);
}

fn envelope(objects: &[Value]) -> String {
    json!({ "objects": objects }).to_string()
}

fn stix_indicator(n: u32, pattern: &str) -> Value {
    json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-02T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
    })
}

#[tokio::test]
async fn objects_posted_to_a_writable_collection_become_its_source() {
    let h = harness().await;
    let body = envelope(&[
        stix_indicator(1, "[domain-name:value = 'posted.example']"),
        stix_indicator(2, "[ipv4-addr:value = '203.0.113.9']"),
        stix_indicator(3, "[this is not a pattern"),
    ]);
    let uri = format!("{ROOT}/collections/{INBOX}/objects/");
    let accepted = h.post(&uri, TAXII_MEDIA_TYPE, body, &h.ingest_token).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert_eq!(accepted.header("content-type"), Some(TAXII_MEDIA_TYPE));
    let status = &accepted.body;
    assert_eq!(status["status"], "complete");
    assert_eq!(
        (
            status["total_count"].as_u64(),
            status["success_count"].as_u64(),
            status["failure_count"].as_u64(),
            status["pending_count"].as_u64()
        ),
        (Some(3), Some(2), Some(1), Some(0)),
        "{status}"
    );
    assert_eq!(
        status["failures"][0]["id"],
        "indicator--00000000-0000-4000-8000-000000000003"
    );
    assert_eq!(
        status["successes"][0]["version"],
        "2024-05-02T00:00:00.000Z"
    );

    // The status can be read back by the poster.
    let status_id = status["id"].as_str().unwrap();
    let again = h
        .request(
            Request::get(format!("{ROOT}/status/{status_id}/"))
                .header(header::AUTHORIZATION, format!("Bearer {}", h.ingest_token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], status_id);

    // The objects are in the store under the collection's source, and the inbox (which
    // publishes that source up to amber) serves them.
    let source = format!("taxii:{INBOX}");
    let stored = h
        .store
        .indicator(&indicator("posted.example"))
        .await
        .unwrap()
        .expect("imported");
    assert_eq!(stored.sources[0].source, source);
    assert_eq!(
        stored.sources[0].tlp,
        Tlp::Amber,
        "unmarked objects are amber"
    );
    let (ids, _) = h.page_through(INBOX, "", 10).await;
    assert_eq!(ids, ["posted.example", "203.0.113.9"].map(stix_id));
    let (ids, _) = h.page_through(ALL, "", 10).await;
    assert!(
        ids.is_empty(),
        "amber is not published by a green collection"
    );

    // The audit log names the sensor.
    let audit = h
        .store
        .audit(&rampart_store::AuditQuery::default())
        .await
        .unwrap();
    let line = audit
        .iter()
        .find(|line| line.entry.action == "taxii.add_objects")
        .expect("audited");
    assert_eq!(line.entry.actor, "token:sensor-token");
    assert_eq!(line.entry.target.as_deref(), Some(INBOX));
}

#[tokio::test]
async fn bad_requests_get_taxii_errors_never_500() {
    let h = harness().await;
    import(h.store.as_ref(), "alpha", &[("one.example", Tlp::Clear)]).await;
    let objects = format!("{ROOT}/collections/{ALL}/objects/");

    // Wrong Accept: 406; wrong Content-Type: 415.
    let wrong_accept = h
        .request(
            Request::get(&objects)
                .header(header::ACCEPT, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {}", h.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    wrong_accept.assert_error(StatusCode::NOT_ACCEPTABLE);
    let inbox = format!("{ROOT}/collections/{INBOX}/objects/");
    h.post(&inbox, "application/json", envelope(&[]), &h.token)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Bad parameters: 400.
    for query in [
        "added_after=yesterday",
        "limit=0",
        "limit=-3",
        "next=garbage",
        "match[version]=newest",
        "match[colour]=red",
    ] {
        h.get(&format!("{objects}?{query}"))
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }

    // Unknown API root, collection, object, status, path: 404.
    for uri in [
        "/taxii2/other/".to_owned(),
        format!("{ROOT}/collections/55555555-5555-4555-8555-555555555555/"),
        format!("{ROOT}/collections/not-a-uuid/objects/"),
        format!("{objects}indicator--00000000-0000-4000-8000-000000000000/"),
        format!("{objects}not-an-id/versions/"),
        format!("{ROOT}/status/nothing/"),
        format!("{ROOT}/collections/{ALL}/nothing/"),
    ] {
        h.get(&uri).await.assert_error(StatusCode::NOT_FOUND);
    }

    // An unreadable collection and a read-only one refuse: 403.
    h.get(&format!("{ROOT}/collections/{SEALED}/objects/"))
        .await
        .assert_error(StatusCode::FORBIDDEN);
    h.post(&objects, TAXII_MEDIA_TYPE, envelope(&[]), &h.token)
        .await
        .assert_error(StatusCode::FORBIDDEN);
    // A reader may not post at all; an ingest token may not read.
    let reader = token_for(h.store.as_ref(), "reader", Role::ReadOnly).await;
    h.post(&inbox, TAXII_MEDIA_TYPE, envelope(&[]), &reader)
        .await
        .assert_error(StatusCode::FORBIDDEN);

    // Not an envelope, not JSON: 400; nothing imported.
    for body in ["{\"type\": \"bundle\"}", "{\"objects\": [", "[]"] {
        h.post(&inbox, TAXII_MEDIA_TYPE, body.to_owned(), &h.token)
            .await
            .assert_error(StatusCode::BAD_REQUEST);
    }
    // Oversized: 413, as a TAXII error.
    let big = envelope(
        &(0..400)
            .map(|n| stix_indicator(n, "[domain-name:value = 'big.example']"))
            .collect::<Vec<_>>(),
    );
    assert!(big.len() > BODY_LIMIT);
    h.post(&inbox, TAXII_MEDIA_TYPE, big, &h.token)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        h.store
            .indicator(&indicator("big.example"))
            .await
            .unwrap()
            .is_none()
    );

    // No credentials, bad ones: 401 with a Basic challenge; a wrong method: 405.
    let anonymous = h
        .request(Request::get(&objects).body(Body::empty()).unwrap())
        .await;
    anonymous.assert_error(StatusCode::UNAUTHORIZED);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .contains("Basic")
    );
    let deleted = h
        .request(
            Request::builder()
                .method(Method::DELETE)
                .uri(&objects)
                .header(header::AUTHORIZATION, format!("Bearer {}", h.token))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    deleted.assert_error(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn basic_auth_takes_the_user_and_an_api_token() {
    use base64::Engine as _;
    let h = harness().await;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let send = |authorization: String| {
        h.request(
            Request::get("/taxii2/")
                .header(header::AUTHORIZATION, authorization)
                .body(Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(
        send(basic("analyst", &h.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(basic("ANALYST", &h.token)).await.status,
        StatusCode::OK
    );
    send(basic("sensor", &h.token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    send(basic("analyst", "correct horse battery staple"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    send("Basic !!!".into())
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
}
