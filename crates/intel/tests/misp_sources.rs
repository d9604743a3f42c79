//! MISP transports end to end: the feed layout from a directory and over loopback HTTP, and a
//! MISP server fixture (axum) that implements the documented `attributes/restSearch` and
//! `sightings/add` endpoints, checks the auth key, pages and honours `timestamp`.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rampart_intel::sources::PullStatus;
use rampart_intel::sources::misp_feed::{MANIFEST_ETAG, MispFeedTransport};
use rampart_intel::sources::misp_server::{MispServerTransport, TIMESTAMP_CURSOR, push_sightings};
use rampart_model::{Indicator, Tlp};
use serde_json::{Value, json};
use support::{TestStore, http_client, misp_format, serve};

const SOURCE: &str = "misp-test";
const FEED_EVENT: &str = "56bf399d-c46c-4fdb-a9cf-d9bb02de0b81";

fn corpus_feed() -> Option<PathBuf> {
    rampart_testkit::corpus("misp_feed_transport")
        .map(|data| data.join("misp/feed-format/misp-feed"))
}

async fn store() -> TestStore {
    TestStore::new(SOURCE, "misp").await
}

/// Whether no import ever committed: no summary, nothing stored.
async fn nothing_committed(store: &TestStore) -> bool {
    let counts = store.counts().await;
    store.last_summary().await.is_none()
        && (counts.indicators, counts.statements, counts.objects) == (0, 0, 0)
}

/// The values whose statement was last seen at `epoch_seconds`, sorted: in the feed tests every
/// attribute carries its event's timestamp, so these are the values of that event version.
async fn values_seen_at(store: &TestStore, epoch_seconds: i64) -> Vec<String> {
    let at = rampart_model::Timestamp::from_second(epoch_seconds).unwrap();
    let mut values: Vec<String> = store
        .indicators()
        .await
        .into_iter()
        .filter(|stored| stored.sources.iter().any(|s| s.last_seen == at))
        .map(|stored| stored.indicator.into_value())
        .collect();
    values.sort();
    values
}

// ---- feed ------------------------------------------------------------------------------

#[tokio::test]
async fn feed_directory_from_corpus_imports_once() {
    let Some(dir) = corpus_feed() else { return };
    let store = store().await;
    let transport = MispFeedTransport::new(dir.display().to_string());

    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 1,
            full_list: false
        }
    );
    let report = report.unwrap();
    // The one event holds one `link` attribute: context, not an indicator.
    assert_eq!((report.observations, report.summary.objects), (0, 1));
    let counts = store.counts().await;
    assert_eq!((counts.indicators, counts.objects), (0, 1));
    let event = store
        .store
        .context_object(FEED_EVENT)
        .await
        .unwrap()
        .expect("the event as context");
    assert_eq!(
        event.name.as_deref(),
        Some("OSINT - Hunting for Malware with Machine Learning")
    );
    assert_eq!(
        store
            .cursor(&format!("event/{FEED_EVENT}"))
            .await
            .as_deref(),
        Some("1455373240")
    );

    let (status, _) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::NotModified,
        "manifest timestamp not newer than the cursor"
    );
}

/// Serves files of one directory under `/feed/`, with an ETag on the manifest, counting requests.
#[derive(Clone)]
struct FeedServer {
    dir: PathBuf,
    requests: Arc<Mutex<BTreeMap<String, u32>>>,
}

async fn feed_file(
    State(server): State<FeedServer>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    *server
        .requests
        .lock()
        .unwrap()
        .entry(file.clone())
        .or_default() += 1;
    if file.contains('/') || file.contains("..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let Ok(bytes) = std::fs::read(server.dir.join(&file)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!(
        "\"{}-{}\"",
        bytes.len(),
        bytes.iter().map(|b| u64::from(*b)).sum::<u64>()
    );
    if file == "manifest.json"
        && headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::ETAG, etag),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

async fn feed_server(dir: PathBuf) -> (String, Arc<Mutex<BTreeMap<String, u32>>>) {
    let requests = Arc::new(Mutex::new(BTreeMap::new()));
    let state = FeedServer {
        dir,
        requests: requests.clone(),
    };
    let router = axum::Router::new()
        .route("/feed/{file}", get(feed_file))
        .with_state(state);
    (format!("{}/feed/", serve(router).await), requests)
}

#[tokio::test]
async fn feed_over_http_from_corpus_uses_etag_and_cursors() {
    let Some(dir) = corpus_feed() else { return };
    let (base, requests) = feed_server(dir).await;
    let store = store().await;
    let transport = MispFeedTransport::new(base);

    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 1,
            full_list: false
        }
    );
    assert_eq!(report.unwrap().summary.objects, 1);
    let event = store.store.context_object(FEED_EVENT).await.unwrap();
    assert_eq!(
        event.expect("the event as context").tlp,
        Some(Tlp::Clear),
        "tlp:white tag"
    );
    assert!(store.cursor(MANIFEST_ETAG).await.is_some());

    let (status, _) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(status, PullStatus::NotModified);
    let requests = requests.lock().unwrap().clone();
    assert_eq!(requests.get("manifest.json"), Some(&2));
    assert_eq!(
        requests.get(&format!("{FEED_EVENT}.json")),
        Some(&1),
        "event fetched once"
    );
}

/// An event whose attributes carry the event's timestamp, so the store tells which event
/// version a statement came from.
fn feed_event(uuid: &str, timestamp: u64, values: &[(&str, &str)]) -> String {
    let attributes: Vec<Value> = values
        .iter()
        .map(|(kind, value)| json!({"type": kind, "value": value, "timestamp": timestamp.to_string()}))
        .collect();
    json!({"Event": {"uuid": uuid, "info": format!("event {uuid}"), "timestamp": timestamp.to_string(),
                     "Attribute": attributes}})
    .to_string()
}

#[tokio::test]
async fn feed_fetches_only_events_newer_than_their_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let first = "11111111-1111-4111-8111-111111111111";
    let second = "22222222-2222-4222-8222-222222222222";
    let missing = "33333333-3333-4333-8333-333333333333";
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        &format!("{first}.json"),
        &feed_event(first, 100, &[("domain", "first.example")]),
    );
    write(
        &format!("{second}.json"),
        &feed_event(second, 200, &[("url", "http://second.example/x")]),
    );
    write("passwd", "root:x:0:0");
    let manifest = |second_timestamp: u64| {
        json!({first: {"timestamp": 100}, second: {"timestamp": second_timestamp}, missing: {"timestamp": 50},
               "../passwd": {"timestamp": 1}})
        .to_string()
    };
    write("manifest.json", &manifest(200));

    let store = store().await;
    let transport = MispFeedTransport::new(format!("file://{}", dir.path().display()));
    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 2,
            full_list: false
        },
        "missing and non-uuid entries skipped"
    );
    assert_eq!(report.unwrap().summary.new, 2);
    assert_eq!(
        store.values().await,
        ["first.example", "http://second.example/x"]
    );
    assert_eq!(store.cursor(&format!("event/{missing}")).await, None);

    // The second event is republished with a newer timestamp and one more attribute.
    write(
        &format!("{second}.json"),
        &feed_event(
            second,
            300,
            &[
                ("url", "http://second.example/x"),
                ("ip-dst", "203.0.113.30"),
            ],
        ),
    );
    write("manifest.json", &manifest(300));
    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 1,
            full_list: false
        }
    );
    let summary = report.unwrap().summary;
    // The url attribute is renewed with the same content (only its seen date moves).
    assert_eq!((summary.new, summary.updated, summary.unchanged), (1, 0, 1));
    // Only the second event was read again: its two values are last seen at 300, the first
    // event's value stays at 100.
    assert_eq!(
        values_seen_at(&store, 300).await,
        ["203.0.113.30", "http://second.example/x"]
    );
    assert_eq!(values_seen_at(&store, 100).await, ["first.example"]);
    assert_eq!(
        store.cursor(&format!("event/{second}")).await.as_deref(),
        Some("300")
    );
    assert_eq!(
        store.cursor(&format!("event/{first}")).await.as_deref(),
        Some("100")
    );
}

#[tokio::test]
async fn broken_feed_event_fails_the_pull_and_moves_no_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let uuid = "44444444-4444-4444-8444-444444444444";
    std::fs::write(
        dir.path().join("manifest.json"),
        json!({uuid: {"timestamp": 7}}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(format!("{uuid}.json")),
        "{\"Event\": {\"info\": ",
    )
    .unwrap();
    let store = store().await;
    let transport = MispFeedTransport::new(dir.path().display().to_string());
    let err = store.pull(&transport, misp_format()).await.unwrap_err();
    assert!(err.to_string().contains(&format!("{uuid}.json")), "{err}");
    assert_eq!(store.cursor(&format!("event/{uuid}")).await, None);
    assert!(nothing_committed(&store).await);
}

// ---- server ----------------------------------------------------------------------------

const KEY: &str = "Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4dEf7hIj0k";

#[derive(Default)]
struct Fixture {
    attributes: Vec<Value>,
    searches: Vec<Value>,
    sightings: Vec<Value>,
}

type Shared = Arc<Mutex<Fixture>>;

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == KEY.as_bytes())
}

fn denied() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"name": "Authentication failed.", "message": "Authentication failed."})),
    )
        .into_response()
}

fn number(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}

/// `POST /attributes/restSearch` as MISP documents it: `timestamp` (>=), `published`, `to_ids`,
/// `deleted` (default: not deleted), `limit`/`page` (1-based).
async fn rest_search(
    State(fixture): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return denied();
    }
    assert_eq!(
        headers.get(header::ACCEPT).map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    assert_eq!(
        headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    assert_eq!(body["returnFormat"], "json");
    let mut fixture = fixture.lock().unwrap();
    fixture.searches.push(body.clone());
    let since = body.get("timestamp").and_then(number);
    let include_deleted = body["deleted"] == json!([0, 1]);
    let matching: Vec<Value> = fixture
        .attributes
        .iter()
        .filter(|a| since.is_none_or(|since| number(&a["timestamp"]).is_some_and(|t| t >= since)))
        .filter(|a| {
            body.get("published")
                .is_none_or(|p| a["Event"]["published"] == *p)
        })
        .filter(|a| body.get("to_ids").is_none_or(|t| a["to_ids"] == *t))
        .filter(|a| include_deleted || a["deleted"] != true)
        .cloned()
        .collect();
    let limit = body.get("limit").and_then(number).unwrap_or(i64::MAX) as usize;
    let page = body.get("page").and_then(number).unwrap_or(1).max(1) as usize;
    let slice: Vec<Value> = matching
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect();
    Json(json!({"response": {"Attribute": slice}})).into_response()
}

/// `POST /sightings/add` with `{"values": [...], "source": ...}`.
async fn sightings_add(
    State(fixture): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&headers) {
        return denied();
    }
    let count = body["values"].as_array().map_or(0, Vec::len);
    fixture.lock().unwrap().sightings.push(body);
    Json(
        json!({"saved": true, "success": true, "name": "Sightings added",
                "message": format!("{count} sightings successfully added.")}),
    )
    .into_response()
}

fn attribute(id: u32, misp_type: &str, value: &str, timestamp: i64, to_ids: bool) -> Value {
    json!({
        "id": id.to_string(), "event_id": "7", "uuid": format!("00000000-0000-4000-8000-{id:012}"),
        "type": misp_type, "category": "Network activity", "value": value, "to_ids": to_ids,
        "deleted": false, "timestamp": timestamp.to_string(),
        "Event": {"id": "7", "uuid": "77777777-7777-4777-8777-777777777777", "info": "fixture", "date": "2024-01-02",
                  "published": true, "org_id": "1"},
        "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:threat-actor=\"Sofacy\""}]
    })
}

async fn misp_server(attributes: Vec<Value>) -> (String, Shared) {
    let fixture: Shared = Arc::new(Mutex::new(Fixture {
        attributes,
        ..Fixture::default()
    }));
    let router = axum::Router::new()
        .route("/attributes/restSearch", post(rest_search))
        .route("/sightings/add", post(sightings_add))
        .with_state(fixture.clone());
    (serve(router).await, fixture)
}

fn five_attributes() -> Vec<Value> {
    vec![
        attribute(1, "domain", "one.example", 1000, true),
        attribute(2, "ip-dst", "203.0.113.2", 2000, true),
        attribute(3, "url", "http://three.example/x", 3000, false),
        attribute(4, "md5", "d41d8cd98f00b204e9800998ecf8427e", 4000, true),
        attribute(5, "email-src", "five@evil.example", 5000, true),
    ]
}

#[tokio::test]
async fn server_pull_pages_then_fetches_only_newer_attributes() {
    let (base, fixture) = misp_server(five_attributes()).await;
    let store = store().await;
    let mut transport = MispServerTransport::new(base, KEY);
    transport.page_size = 2;

    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 3,
            full_list: false
        },
        "pages of 2, 2 and 1"
    );
    let report = report.unwrap();
    assert_eq!((report.observations, report.summary.new), (5, 5));
    assert_eq!(store.values().await.len(), 5);
    let url = store.statement("http://three.example/x").await;
    assert_eq!(url.tlp, Tlp::Amber, "event tags come with includeEventTags");
    assert_eq!(url.threats, ["Sofacy"]);
    assert_eq!(url.confidence, 30, "to_ids false");
    assert_eq!(url.reference, "00000000-0000-4000-8000-000000000003");
    assert_eq!(
        store.cursor(TIMESTAMP_CURSOR).await.as_deref(),
        Some("5000")
    );
    {
        let fixture = fixture.lock().unwrap();
        let pages: Vec<&Value> = fixture.searches.iter().map(|s| &s["page"]).collect();
        assert_eq!(pages, [&json!(1), &json!(2), &json!(3)]);
        assert!(
            fixture.searches[0].get("timestamp").is_none(),
            "first pull asks for everything"
        );
        assert_eq!(fixture.searches[0]["includeEventTags"], true);
    }

    fixture
        .lock()
        .unwrap()
        .attributes
        .push(attribute(6, "hostname", "six.example", 6000, true));
    let before = store.values().await;
    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 1,
            full_list: false
        }
    );
    let report = report.unwrap();
    assert_eq!((report.observations, report.summary.new), (1, 1));
    assert_eq!(report.summary.accepted(), 1, "only the new attribute");
    let added: Vec<String> = store
        .values()
        .await
        .into_iter()
        .filter(|value| !before.contains(value))
        .collect();
    assert_eq!(added, ["six.example"]);
    assert_eq!(fixture.lock().unwrap().searches[3]["timestamp"], 5001);
    assert_eq!(
        store.cursor(TIMESTAMP_CURSOR).await.as_deref(),
        Some("6000")
    );

    let (status, _) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(status, PullStatus::NotModified);
    assert_eq!(fixture.lock().unwrap().searches[4]["timestamp"], 6001);
    assert_eq!(
        store.cursor(TIMESTAMP_CURSOR).await.as_deref(),
        Some("6000")
    );
}

#[tokio::test]
async fn server_pull_of_exactly_full_pages_stops_at_the_empty_one() {
    let mut attributes = five_attributes();
    attributes.pop();
    let (base, fixture) = misp_server(attributes).await;
    let store = store().await;
    let mut transport = MispServerTransport::new(base, KEY);
    transport.page_size = 2;
    let (status, report) = store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 2,
            full_list: false
        }
    );
    assert_eq!(report.unwrap().observations, 4);
    assert_eq!(store.counts().await.indicators, 4);
    assert_eq!(fixture.lock().unwrap().searches.len(), 3);
}

#[tokio::test]
async fn server_pull_sends_filters_and_deleted_attributes_revoke() {
    let mut attributes = five_attributes();
    attributes[0]["deleted"] = json!(true);
    let (base, fixture) = misp_server(attributes).await;
    let store = store().await;
    let mut transport = MispServerTransport::new(base, KEY);
    transport.published = Some(true);
    transport.to_ids = Some(true);
    let (_, report) = store.pull(&transport, misp_format()).await.unwrap();
    let report = report.unwrap();
    let search = fixture.lock().unwrap().searches[0].clone();
    assert_eq!(
        (search["published"].clone(), search["to_ids"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        report.observations, 4,
        "the to_ids false url is filtered by the server"
    );
    assert!(
        !store
            .values()
            .await
            .contains(&"http://three.example/x".to_owned())
    );
    assert!(store.statement("one.example").await.revoked);
    assert!(!store.statement("203.0.113.2").await.revoked);
}

#[tokio::test]
async fn server_cursor_stays_behind_a_second_that_is_not_over() {
    let now = rampart_model::Timestamp::now().as_second();
    let (base, fixture) =
        misp_server(vec![attribute(1, "domain", "late.example", now + 30, true)]).await;
    let store = store().await;
    let transport = MispServerTransport::new(base, KEY);
    store.pull(&transport, misp_format()).await.unwrap();
    assert_eq!(
        store.cursor(TIMESTAMP_CURSOR).await,
        Some((now + 29).to_string())
    );
    let (status, _) = store.pull(&transport, misp_format()).await.unwrap();
    assert!(
        matches!(status, PullStatus::Fetched { .. }),
        "that second is asked for again"
    );
    assert_eq!(fixture.lock().unwrap().searches[1]["timestamp"], now + 30);
}

#[tokio::test]
async fn server_rejects_a_wrong_key() {
    let (base, _) = misp_server(five_attributes()).await;
    let store = store().await;
    let transport = MispServerTransport::new(base, "wrong");
    let err = store.pull(&transport, misp_format()).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    assert!(err.to_string().contains("auth key"), "{err}");
    assert_eq!(store.cursor(TIMESTAMP_CURSOR).await, None);
    assert!(nothing_committed(&store).await);
}

#[tokio::test]
async fn sightings_are_pushed_by_value() {
    let (base, fixture) = misp_server(Vec::new()).await;
    let http = http_client();
    let values = vec![
        Indicator::guess("evil.example").unwrap().into_value(),
        Indicator::guess("203.0.113.9").unwrap().into_value(),
    ];
    push_sightings(&http, &base, KEY, &values).await.unwrap();
    push_sightings(&http, &base, KEY, &[]).await.unwrap();
    let sightings = fixture.lock().unwrap().sightings.clone();
    assert_eq!(
        sightings,
        [json!({"values": ["evil.example", "203.0.113.9"], "source": "rampart", "type": "0"})]
    );

    let err = push_sightings(&http, &base, "wrong", &values)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}
