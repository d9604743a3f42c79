//! The TAXII transport against a small axum server that behaves in ways medallion does not:
//! it wants a bearer token, answers objects as `application/stix+json`, sends no
//! `X-TAXII-Date-Added-*` headers (so the cursor comes from the manifest), pages without `next`,
//! loops, or answers HTML. It also checks every request's `Accept` header.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_intel::sources::PullStatus;
use rampart_intel::sources::taxii::{
    CollectionLocation, TAXII_MEDIA_TYPE, TaxiiAuth, TaxiiClient, TaxiiTransport, cursor_key,
};
use serde_json::{Value, json};
use support::{CountingStix, TestStore};

const SOURCE: &str = "taxii-test";
const TOKEN: &str = "fixture-token";
const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

struct Fixture {
    /// (date_added, object), in date_added order.
    objects: Vec<(&'static str, Value)>,
    requests: AtomicUsize,
    bad_accept: AtomicUsize,
}

fn fixture_objects() -> Vec<(&'static str, Value)> {
    vec![
        (
            "2024-02-01T10:00:00.000Z",
            json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--10000000-0000-4000-8000-000000000001",
                   "created": "2024-01-15T00:00:00.000Z", "modified": "2024-01-15T00:00:00.000Z",
                   "pattern": "[ipv4-addr:value = '203.0.113.10']", "pattern_type": "stix",
                   "valid_from": "2024-01-15T00:00:00Z"}),
        ),
        (
            "2024-02-01T11:00:00.000Z",
            json!({"type": "indicator", "spec_version": "2.1", "id": "indicator--10000000-0000-4000-8000-000000000002",
                   "created": "2024-01-16T00:00:00.000Z", "modified": "2024-01-16T00:00:00.000Z",
                   "pattern": "[domain-name:value = 'phish.example']", "pattern_type": "stix",
                   "valid_from": "2024-01-16T00:00:00Z"}),
        ),
        (
            "2024-02-01T12:00:00.000Z",
            json!({"type": "malware", "spec_version": "2.1", "id": "malware--10000000-0000-4000-8000-000000000003",
                   "created": "2024-01-17T00:00:00.000Z", "modified": "2024-01-17T00:00:00.000Z",
                   "name": "Fixture Loader", "is_family": true}),
        ),
    ]
}

fn taxii_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, TAXII_MEDIA_TYPE)],
        body.to_string(),
    )
        .into_response()
}

/// Refuses requests without the bearer token or without the TAXII 2.1 `Accept`.
fn refuse(fixture: &Fixture, headers: &HeaderMap) -> Option<Response> {
    fixture.requests.fetch_add(1, Ordering::SeqCst);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept != TAXII_MEDIA_TYPE {
        fixture.bad_accept.fetch_add(1, Ordering::SeqCst);
        return Some(taxii_json(
            StatusCode::NOT_ACCEPTABLE,
            &json!({"title": "NotAcceptable"}),
        ));
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if authorization != format!("Bearer {TOKEN}") {
        return Some(taxii_json(
            StatusCode::UNAUTHORIZED,
            &json!({"title": "Unauthorized", "description": "bad bearer token", "http_status": "401"}),
        ));
    }
    None
}

/// The objects added after `added_after`, as (date_added, object).
fn added_after<'a>(
    fixture: &'a Fixture,
    query: &HashMap<String, String>,
) -> Vec<&'a (&'static str, Value)> {
    let after: Option<jiff::Timestamp> = query
        .get("added_after")
        .map(|t| t.parse().expect("added_after timestamp"));
    fixture
        .objects
        .iter()
        .filter(|(added, _)| {
            after.is_none_or(|after| added.parse::<jiff::Timestamp>().unwrap() > after)
        })
        .collect()
}

async fn discovery(State(fixture): State<Arc<Fixture>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse(&fixture, &headers) {
        return refusal;
    }
    // A relative API root, which the client resolves against the discovery URL.
    taxii_json(
        StatusCode::OK,
        &json!({"title": "Fixture TAXII", "api_roots": ["/api/"]}),
    )
}

async fn collections(State(fixture): State<Arc<Fixture>>, headers: HeaderMap) -> Response {
    if let Some(refusal) = refuse(&fixture, &headers) {
        return refusal;
    }
    let collection = |id: &str, title: &str| json!({"id": id, "title": title, "can_read": true, "can_write": false});
    taxii_json(
        StatusCode::OK,
        &json!({"collections": [
            collection("c1", "Bearer feed"),
            collection("headers", "Paged by date"),
            collection("loop", "Looping"),
            collection("html", "Html"),
        ]}),
    )
}

async fn objects(
    State(fixture): State<Arc<Fixture>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse(&fixture, &headers) {
        return refusal;
    }
    let wanted = added_after(&fixture, &query);
    let limit: usize = query.get("limit").map_or(2, |l| l.parse().unwrap()).min(2);
    match id.as_str() {
        // Paged with `next` offsets, no date headers; later pages labelled as STIX.
        "c1" => {
            if wanted.is_empty() {
                return taxii_json(StatusCode::OK, &json!({}));
            }
            let offset: usize = query.get("next").map_or(0, |n| n.parse().unwrap());
            let end = (offset + limit).min(wanted.len());
            let page: Vec<&Value> = wanted[offset..end]
                .iter()
                .map(|(_, object)| object)
                .collect();
            let mut envelope = json!({"more": end < wanted.len(), "objects": page});
            if end < wanted.len() {
                envelope["next"] = json!(end.to_string());
            }
            let media_type = if offset == 0 {
                TAXII_MEDIA_TYPE
            } else {
                STIX_MEDIA_TYPE
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, media_type)],
                envelope.to_string(),
            )
                .into_response()
        }
        // Paged by `added_after` alone: `more` without `next`, with the date headers.
        "headers" => {
            if wanted.is_empty() {
                return taxii_json(StatusCode::OK, &json!({}));
            }
            let page = &wanted[..limit.min(wanted.len())];
            let envelope = json!({"more": wanted.len() > page.len(), "objects": page.iter().map(|(_, o)| o).collect::<Vec<_>>()});
            let first = page.first().map(|(added, _)| *added).unwrap_or_default();
            let last = page.last().map(|(added, _)| *added).unwrap_or_default();
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, TAXII_MEDIA_TYPE),
                    (
                        header::HeaderName::from_static("x-taxii-date-added-first"),
                        first,
                    ),
                    (
                        header::HeaderName::from_static("x-taxii-date-added-last"),
                        last,
                    ),
                ],
                envelope.to_string(),
            )
                .into_response()
        }
        // The same page forever.
        "loop" => taxii_json(
            StatusCode::OK,
            &json!({"more": true, "next": "again", "objects": [fixture.objects[0].1.clone()]}),
        ),
        "html" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html></html>",
        )
            .into_response(),
        _ => taxii_json(
            StatusCode::NOT_FOUND,
            &json!({"title": "NotFound", "description": format!("no collection {id}"), "http_status": "404"}),
        ),
    }
}

async fn manifest(
    State(fixture): State<Arc<Fixture>>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refuse(&fixture, &headers) {
        return refusal;
    }
    if id != "c1" {
        return taxii_json(StatusCode::NOT_FOUND, &json!({"title": "NotFound"}));
    }
    let mut entries: Vec<Value> = added_after(&fixture, &query)
        .iter()
        .map(|(added, object)| {
            // The version at another precision than the object's `modified`: still the same.
            let version = object["modified"].as_str().unwrap().replace(".000Z", "Z");
            json!({"id": object["id"], "date_added": added, "version": version, "media_type": STIX_MEDIA_TYPE})
        })
        .collect();
    // A newer version of the first object, added later, that the pull never received: its
    // date must not become the cursor.
    entries.push(
        json!({"id": fixture.objects[0].1["id"], "date_added": "2024-02-01T13:00:00.000Z",
                        "version": "2024-03-01T00:00:00.000Z", "media_type": STIX_MEDIA_TYPE}),
    );
    taxii_json(StatusCode::OK, &json!({"more": false, "objects": entries}))
}

/// Starts the fixture on a loopback port; returns its base URL. The server lives as long as
/// the test's runtime.
async fn start() -> (String, Arc<Fixture>) {
    let fixture = Arc::new(Fixture {
        objects: fixture_objects(),
        requests: AtomicUsize::new(0),
        bad_accept: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/taxii2/", get(discovery))
        .route("/api/collections/", get(collections))
        .route("/api/collections/{id}/objects/", get(objects))
        .route("/api/collections/{id}/manifest/", get(manifest))
        .with_state(fixture.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), fixture)
}

async fn store() -> TestStore {
    TestStore::new(SOURCE, "stix").await
}

/// Whether no import ever committed: no summary, nothing stored.
async fn nothing_committed(store: &TestStore) -> bool {
    let counts = store.counts().await;
    store.last_summary().await.is_none()
        && (counts.indicators, counts.statements, counts.objects) == (0, 0, 0)
}

fn bearer() -> TaxiiAuth {
    TaxiiAuth::Bearer {
        token: TOKEN.into(),
    }
}

fn in_root(base: &str, collection: &str, auth: TaxiiAuth) -> TaxiiTransport {
    TaxiiTransport::new(
        CollectionLocation::InApiRoot {
            api_root: format!("{base}/api/"),
            collection: collection.into(),
        },
        auth,
    )
}

#[tokio::test]
async fn bearer_pull_reads_every_page_and_takes_the_cursor_from_the_manifest() {
    let (base, fixture) = start().await;
    let discovery_url = format!("{base}/taxii2/");
    let client = TaxiiClient::new(support::http_client(), bearer());
    let discovery = client.discovery(&discovery_url).await.unwrap();
    assert_eq!(discovery.title, "Fixture TAXII");
    assert_eq!(
        discovery.resolved_api_roots(&discovery_url).unwrap(),
        [format!("{base}/api/")]
    );

    let store = store().await;
    let transport = in_root(&base, "Bearer feed", bearer());
    let format = CountingStix::new();
    let (status, report) = store.pull(&transport, format.clone()).await.unwrap();
    let report = report.expect("committed");
    // Three objects at two per page: two pages, the second labelled application/stix+json.
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 2,
            full_list: false
        }
    );
    assert_eq!(format.objects_seen(), 3);
    // Two indicators with one value each, one malware object kept as context.
    assert_eq!(report.observations, 2);
    assert_eq!(
        (report.summary.new, report.summary.objects, report.rejected),
        (2, 1, 0)
    );
    assert_eq!(
        store.values().await,
        ["203.0.113.10", "phish.example"],
        "the values of the fixture's two patterns"
    );
    let expected_ids: Vec<String> = {
        let mut ids: Vec<String> = fixture
            .objects
            .iter()
            .map(|(_, o)| o["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(store.stored_ids(&expected_ids).await, expected_ids);
    let malware = store
        .store
        .context_object("malware--10000000-0000-4000-8000-000000000003")
        .await
        .unwrap()
        .expect("the malware object");
    assert_eq!(malware.name.as_deref(), Some("Fixture Loader"));
    // No date headers: the cursor is the latest manifest date of a version received (12:00),
    // not the 13:00 entry for a version this pull never saw.
    assert_eq!(
        store.cursor(&cursor_key("c1")).await.as_deref(),
        Some("2024-02-01T12:00:00.000Z")
    );

    let format = CountingStix::new();
    let (status, report) = store.pull(&transport, format.clone()).await.unwrap();
    assert_eq!(status, PullStatus::NotModified);
    assert!(report.is_none());
    assert_eq!(format.objects_seen(), 0);
    assert_eq!(
        store.cursor(&cursor_key("c1")).await.as_deref(),
        Some("2024-02-01T12:00:00.000Z")
    );
    assert!(fixture.requests.load(Ordering::SeqCst) > 5);
    assert_eq!(
        fixture.bad_accept.load(Ordering::SeqCst),
        0,
        "a request lacked the TAXII Accept header"
    );
}

#[tokio::test]
async fn more_without_next_continues_from_the_last_date_added() {
    let (base, _) = start().await;
    let store = store().await;
    let format = CountingStix::new();
    let (status, report) = store
        .pull(&in_root(&base, "headers", bearer()), format.clone())
        .await
        .unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 2,
            full_list: false
        }
    );
    assert_eq!(format.objects_seen(), 3);
    assert_eq!(report.expect("committed").summary.accepted(), 2);
    assert_eq!(
        store.cursor(&cursor_key("headers")).await.as_deref(),
        Some("2024-02-01T12:00:00.000Z")
    );
}

#[tokio::test]
async fn a_wrong_token_is_an_authentication_error_with_the_servers_message() {
    let (base, _) = start().await;
    let store = store().await;
    let wrong = TaxiiAuth::Bearer {
        token: "stolen".into(),
    };
    let transport = TaxiiTransport::new(
        CollectionLocation::Url(format!("{base}/api/collections/c1/")),
        wrong,
    );
    let err = store
        .pull(&transport, CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{base}/api/collections/c1/objects/?limit=500: authentication failed (HTTP 401)"
        )),
        "{err}"
    );
    assert!(err.ends_with("Unauthorized: bad bearer token"), "{err}");
    assert_eq!(store.cursor(&cursor_key("c1")).await, None);
    assert!(nothing_committed(&store).await);
}

#[tokio::test]
async fn a_looping_server_is_stopped() {
    let (base, _) = start().await;
    let store = store().await;
    let err = store
        .pull(&in_root(&base, "loop", bearer()), CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("the server is looping"), "{err}");
    assert!(nothing_committed(&store).await);
}

#[tokio::test]
async fn other_content_types_and_error_statuses_are_reported() {
    let (base, _) = start().await;
    let store = store().await;
    let err = store
        .pull(&in_root(&base, "Html", bearer()), CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unexpected content type \"text/html; charset=utf-8\""),
        "{err}"
    );

    let missing = TaxiiTransport::new(
        CollectionLocation::Url(format!("{base}/api/collections/gone/")),
        bearer(),
    );
    let err = store
        .pull(&missing, CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("server answered HTTP 404: NotFound: no collection gone"),
        "{err}"
    );

    let unknown = in_root(&base, "Nonexistent", bearer());
    let err = store
        .pull(&unknown, CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no collection \"Nonexistent\"") && err.contains("c1 (\"Bearer feed\")"),
        "{err}"
    );
    assert!(nothing_committed(&store).await);
}
