//! Accounts over HTTP: tokens within their owner's role, accounts managed by admins, failed
//! logins limited per account and per address, and the first-run admin token.

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use rampart_auth::Role;
use rampart_store::AuditQuery;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn tokens_stay_within_their_owner_and_admins_manage_accounts() {
    let h = harness().await;
    // Beyond the caller's role: refused.
    for (role, asked) in [
        (Role::ReadOnly, "admin"),
        (Role::ReadOnly, "ingest"),
        (Role::Analyst, "admin"),
    ] {
        let reply = h
            .call(
                Method::POST,
                "/api/v1/tokens",
                role,
                Some(&json!({"name": "more", "role": asked})),
            )
            .await;
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let reply = h
        .call(
            Method::POST,
            "/api/v1/tokens",
            Role::Analyst,
            Some(&json!({"name": "sensor-1", "role": "ingest", "expires_in": "30d"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let secret = reply.body["token"].as_str().unwrap().to_owned();
    let id = reply.body["record"]["id"].as_i64().unwrap();
    assert!(
        reply.body["record"]["expires"].is_string(),
        "{}",
        reply.text
    );
    // The new token pushes events and reads nothing.
    let reply = h
        .send(
            authorized(Request::post("/api/v1/events"), &secret)
                .header(header::CONTENT_TYPE, "application/x-ndjson")
                .body(Body::from("{\"a\": 1}\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // Listed among the analyst's own, never with a secret; not among the read-only user's.
    let reply = h.get("/api/v1/tokens", Role::Analyst).await;
    assert!(reply.text.contains("sensor-1"), "{}", reply.text);
    assert!(!reply.text.contains(&secret));
    let reply = h.get("/api/v1/tokens", Role::ReadOnly).await;
    assert!(!reply.text.contains("sensor-1"), "{}", reply.text);
    let reply = h.get("/api/v1/tokens?user=*", Role::Analyst).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = h.get("/api/v1/tokens?user=*", Role::Admin).await;
    assert!(reply.text.contains("sensor-1"), "{}", reply.text);
    // Someone else's token is not found for a non-admin; an admin revokes it.
    let path = format!("/api/v1/tokens/{id}");
    let reply = h.call(Method::DELETE, &path, Role::ReadOnly, None).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h.call(Method::DELETE, &path, Role::Admin, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let reply = h
        .call(Method::DELETE, "/api/v1/tokens/abc", Role::Admin, None)
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    for body in [
        json!({"name": ""}),
        json!({"name": "x", "expires_in": "forever"}),
        json!({"name": "x", "role": "superuser"}),
        json!({"name": "x", "secret": "mine"}),
    ] {
        let reply = h
            .call(Method::POST, "/api/v1/tokens", Role::Analyst, Some(&body))
            .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            reply.body["error"]["code"].as_str().unwrap_or("?"),
        );
        assert!(
            ["invalid_body", "refused"].contains(&reply.body["error"]["code"].as_str().unwrap()),
            "{}",
            reply.text
        );
    }

    // Accounts.
    let create = |body: Value| {
        let h = &h;
        async move {
            h.call(Method::POST, "/api/v1/users", Role::Admin, Some(&body))
                .await
        }
    };
    let reply = create(json!({"username": "bob", "role": "analyst", "password": "short"})).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let reply =
        create(json!({"username": "<script>", "role": "analyst", "password": PASSWORD})).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let reply = create(json!({"username": "bob", "role": "analyst", "password": PASSWORD})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert!(!reply.text.contains("argon2"), "{}", reply.text);
    let reply = create(json!({"username": "BOB", "role": "analyst", "password": PASSWORD})).await;
    assert_error(&reply, StatusCode::CONFLICT, "conflict");
    assert!(h.login("bob", PASSWORD).await.is_ok());
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/users/bob",
            Role::Admin,
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_eq!(reply.body["disabled"], true, "{}", reply.text);
    assert!(h.login("bob", PASSWORD).await.is_err());
    let reply = h
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{}", username(Role::Admin)),
            Role::Admin,
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_error(&reply, StatusCode::CONFLICT, "conflict");
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/users/nobody",
            Role::Admin,
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h.get("/api/v1/users?limit=2", Role::Admin).await;
    assert_eq!(reply.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(reply.body["next"], "2");
    assert!(!reply.text.contains("password"), "{}", reply.text);
}

fn login_from(address: &str, user: &str, password: &str) -> Request<Body> {
    let mut request = json_request(
        Method::POST,
        "/api/v1/session",
        &json!({"username": user, "password": password}),
    );
    let address: SocketAddr = address.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

#[tokio::test]
async fn failed_logins_are_limited_per_account_and_per_address() {
    let h = harness().await;
    let analyst = username(Role::Analyst);
    for _ in 0..5 {
        let reply = h
            .send(login_from("192.0.2.1:5000", &analyst, "wrong password!"))
            .await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Now even the right password waits, from anywhere.
    let reply = h
        .send(login_from("192.0.2.2:5000", &analyst, PASSWORD))
        .await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_logins");
    let wait: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    // Other accounts from another address are not affected…
    let reply = h
        .send(login_from(
            "192.0.2.2:5000",
            &username(Role::ReadOnly),
            PASSWORD,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // …but the guessing address is spent for every account.
    let reply = h
        .send(login_from(
            "192.0.2.1:5001",
            &username(Role::ReadOnly),
            PASSWORD,
        ))
        .await;
    assert_error(&reply, StatusCode::TOO_MANY_REQUESTS, "too_many_logins");

    let refused = h
        .store
        .audit(&AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|record| {
            record.entry.action == "login"
                && record.entry.detail["reason"]
                    .as_str()
                    .is_some_and(|reason| reason.starts_with("rate limited"))
        })
        .count();
    assert_eq!(refused, 2);
}

#[tokio::test]
async fn the_first_run_makes_one_admin_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store: std::sync::Arc<dyn rampart_store::Store> =
        rampart_store::open(&url).await.unwrap().into();
    let token = rampart_server::first_run::first_run(store.as_ref())
        .await
        .unwrap()
        .expect("an empty store gets a first-run token");
    let check = store
        .authenticate_token(&token.hash(), jiff::Timestamp::now())
        .await
        .unwrap();
    match check {
        rampart_store::TokenCheck::Valid(record) => {
            assert_eq!(record.role, Role::Admin);
            assert_eq!(record.owner.as_str(), "admin");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        rampart_server::first_run::first_run(store.as_ref())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.users().await.unwrap().len(), 1);
}
