//! The HTTP API against a real SQLite store in a temporary directory, through the whole
//! router (layers, fallbacks, access checks) with `tower::ServiceExt::oneshot`: errors,
//! authentication, sessions, reads and the OpenAPI document.

mod support;

use axum::body::Body;
use axum::http::request::Builder as RequestBuilder;
use axum::http::{Method, Request, StatusCode, header};
use jiff::Timestamp;
use rampart_auth::{ApiToken, Role};
use rampart_server::routes::routes;
use rampart_server::{AppState, ServerConfig};
use rampart_store::{AuditQuery, NewToken};
use serde_json::{Value, json};
use support::*;
use tower::ServiceExt;

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
    let names: Vec<&str> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["source"]["info"]["name"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(names, ["loopback-feed", "seed"], "{}", reply.text);
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

#[tokio::test]
async fn metrics_need_a_token_unless_configured_public() {
    let h = harness().await;
    let anonymous = || Request::get("/metrics").body(Body::empty()).unwrap();
    let refused = h.send(anonymous()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    let ingest = h
        .send(
            Request::get("/metrics")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", h.token(Role::Ingest)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(ingest.status, StatusCode::FORBIDDEN, "{}", ingest.text);
    let scraper = h
        .send(
            Request::get("/metrics")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", h.token(Role::ReadOnly)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(scraper.status, StatusCode::OK, "{}", scraper.text);
    assert_eq!(
        scraper.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );

    let config = ServerConfig {
        metrics_public: true,
        ..ServerConfig::default()
    };
    let public = rampart_server::router(AppState::builder(h.store.clone(), config).build());
    let response = public.oneshot(anonymous()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
