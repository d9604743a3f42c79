//! Cases leaving and entering Rampart: pushed as JSON to webhooks (a failing one is a 502,
//! recorded in the case's timeline), and alerts imported in TheHive's format or grouped,
//! landing in one case per campaign.

mod support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use rampart_auth::Role;
use rampart_store::AuditQuery;
use serde_json::{Value, json};
use support::*;

/// A webhook on loopback: `/ok` keeps what it is sent and answers 202, `/fail` answers 500.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let app = Router::new()
        .route(
            "/ok",
            axum::routing::post(move |body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    kept.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    StatusCode::ACCEPTED
                }
            }),
        )
        .route(
            "/fail",
            axum::routing::post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

#[tokio::test]
async fn cases_are_pushed_to_webhooks_and_failures_are_bad_gateways() {
    let h = harness().await;
    let (base, received) = webhook().await;
    let id = open_case(&h, json!({"title": "Push me", "severity": "medium"})).await;
    let push_path = format!("/api/v1/cases/{id}/push");
    let push = |url: String| analyst_post(&h, &push_path, json!({ "url": url }));

    let pushed = push(format!("{base}/ok?token=s3cret")).await;
    assert_eq!(pushed.status, StatusCode::OK, "{}", pushed.text);
    assert_eq!(pushed.body["status"], 202);
    assert_eq!(pushed.body["target"], base);
    {
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0]["format"], "rampart.case");
        assert_eq!(received[0]["case"]["title"], "Push me");
    }

    let failed = push(format!("{base}/fail")).await;
    assert_error(&failed, StatusCode::BAD_GATEWAY, "bad_gateway");
    assert!(failed.text.contains("500"), "{}", failed.text);
    // Nothing listens on port 1 of loopback: refused at once, not a hang.
    let started = std::time::Instant::now();
    let unreachable = push("http://127.0.0.1:1/hook".into()).await;
    assert_error(&unreachable, StatusCode::BAD_GATEWAY, "bad_gateway");
    assert!(started.elapsed() < std::time::Duration::from_secs(12));
    for url in ["file:///etc/passwd", "gopher://127.0.0.1/", "not a url"] {
        let refused = push(url.into()).await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
    let missing = analyst_post(
        &h,
        "/api/v1/cases/999999/push",
        json!({"url": format!("{base}/ok")}),
    )
    .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(received.lock().unwrap().len(), 1);

    // The timeline says where each push went and what came back, without the URL's secrets.
    let case = show_case(&h, id).await;
    let messages: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "exported")
        .map(|entry| entry["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(
        messages[0],
        format!("pushed as json to {base}: HTTP 202 Accepted")
    );
    assert_eq!(
        messages[1],
        format!("push to {base} failed: HTTP 500 Internal Server Error")
    );
    assert!(messages[2].contains("cannot connect"), "{}", messages[2]);
    assert!(!case.to_string().contains("s3cret"));
    let audit = h
        .store
        .audit(&AuditQuery {
            action: Some("case.push".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<&str> = audit
        .iter()
        .map(|record| record.entry.outcome.as_str())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "success").count(), 1);
    assert_eq!(outcomes.iter().filter(|o| **o == "failure").count(), 6);
    assert!(!format!("{audit:?}").contains("s3cret"));
}

#[tokio::test]
async fn thehive_alerts_of_one_campaign_land_in_one_case() {
    let h = harness().await;
    let import = |body: Value| analyst_post(&h, "/api/v1/alerts/import", body);
    let first = import(json!({
        "type": "external", "source": "SIEM-prod", "sourceRef": "alert-1",
        "title": "Beacon to c2.campaign.example", "severity": 3, "tags": ["c2"],
        "observables": [{"dataType": "domain", "data": "c2.campaign.example", "ioc": true}]
    }))
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["placed"]["opened"], true);
    let case_id = first.body["placed"]["case"]["id"].as_i64().unwrap();
    assert_eq!(first.body["placed"]["case"]["severity"], "high");
    let second = import(json!({
        "type": "edr", "source": "EDR", "sourceRef": "e-77",
        "title": "Process talking to c2", "severity": 2,
        "observables": [
            {"dataType": "domain", "data": "c2.campaign.example"},
            {"dataType": "ip", "data": "203.0.113.9"}
        ]
    }))
    .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.body["placed"]["case"]["id"], case_id);
    assert_eq!(second.body["placed"]["opened"], false);
    assert_eq!(second.body["placed"]["how"]["how"], "grouped");
    assert_eq!(second.body["observables_added"], 1);
    let case = show_case(&h, case_id).await;
    assert_eq!(case["alerts"].as_array().unwrap().len(), 2);
    let values: Vec<&str> = case["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|observable| observable["indicator"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["c2.campaign.example", "203.0.113.9"]);
    let audit = h
        .store
        .audit(&AuditQuery {
            action: Some("alert.import".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].entry.actor, "token:analyst-token");

    // Bodies that are not alerts.
    let bad = import(json!({"title": 1})).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let plain = h
        .send(
            authorized(
                Request::post("/api/v1/alerts/import"),
                h.token(Role::Analyst),
            )
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("{}"))
            .unwrap(),
        )
        .await;
    assert_error(
        &plain,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let sensor = h
        .call(
            Method::POST,
            "/api/v1/alerts/import",
            Role::Ingest,
            Some(&json!({})),
        )
        .await;
    assert_error(&sensor, StatusCode::FORBIDDEN, "forbidden");

    // Grouping recorded alerts: the seeded one opens its own case, then stays there.
    let grouped = analyst_post(
        &h,
        "/api/v1/alerts/group",
        json!({"alerts": [h.alert_id, 999999]}),
    )
    .await;
    assert_eq!(grouped.status, StatusCode::OK, "{}", grouped.text);
    assert_eq!(grouped.body["missing"], json!([999999]));
    assert_eq!(grouped.body["placed"][0]["opened"], true);
    assert_eq!(grouped.body["placed"][0]["how"]["how"], "new_case");
    let own_case = grouped.body["placed"][0]["case_id"].as_i64().unwrap();
    assert_ne!(own_case, case_id);
    let again = analyst_post(&h, "/api/v1/alerts/group", json!({"alerts": [h.alert_id]})).await;
    assert_eq!(again.body["placed"][0]["case_id"], own_case);
    assert_eq!(again.body["placed"][0]["how"]["how"], "already_in_case");
    let empty = analyst_post(&h, "/api/v1/alerts/group", json!({"alerts": []})).await;
    assert_error(&empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
}
