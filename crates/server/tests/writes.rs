//! The API's changing routes against a real store, a real detection pipeline and a feed on
//! loopback: event ingest, indicators added by hand and exported, feeds added, pulled and
//! removed, rule overrides, and bad bodies on every one of them.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use rampart_auth::Role;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn pushed_events_are_detected_and_bad_lines_reported() {
    let h = harness().await;
    let ingest = h.token(Role::Ingest).to_owned();
    let body = concat!(
        "{\"destination\": {\"domain\": \"evil.example\"}, \"message\": \"<script>alert(1)</script>\"}\n",
        "not json at all\n",
        "\n",
        "[1, 2]\n",
        "{\"source\": {\"ip\": \"192.0.2.200\"}}\n",
    );
    let reply = h.push("", "application/x-ndjson", body, &ingest).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["accepted"], 2, "{}", reply.text);
    assert_eq!(reply.body["rejected"], 2, "{}", reply.text);
    let lines: Vec<u64> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4], "{}", reply.text);

    // The indicator in the first event raises an alert, with the event's text kept as data.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let alert = loop {
        if let Some(alert) = h.alerts.lock().unwrap().first().cloned() {
            break alert;
        }
        assert!(std::time::Instant::now() < deadline, "no alert was raised");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let alert = serde_json::to_string(&alert).unwrap();
    assert!(alert.contains("evil.example"), "{alert}");

    // application/json with one object per line is accepted too; so is a named decoder.
    let reply = h
        .push(
            "?decoder=jsonl",
            "application/json; charset=utf-8",
            "{\"a\": 1}",
            &ingest,
        )
        .await;
    assert_eq!(reply.body["accepted"], 1, "{}", reply.text);
    let reply = h
        .push(
            "?decoder=syslog",
            "text/plain",
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8\n",
            &ingest,
        )
        .await;
    assert_eq!(reply.body["accepted"], 1, "{}", reply.text);

    // Whole-body failures.
    let reply = h
        .push("", "application/x-ndjson", "nope\n{\n", &ingest)
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_body");
    assert!(reply.text.contains("line 1"), "{}", reply.text);
    let reply = h.push("", "application/x-ndjson", " \n\n", &ingest).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = h
        .push(
            "?decoder=../../etc/passwd",
            "application/x-ndjson",
            "{}",
            &ingest,
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    let reply = h
        .push(
            "?decoder=jsonl&sink=x",
            "application/x-ndjson",
            "{}",
            &ingest,
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_query");
    let reply = h.push("", "text/csv", "{}", &ingest).await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let reply = h
        .push(
            "",
            "application/x-ndjson",
            &"{\"a\": 1}\n".repeat(BODY_LIMIT / 8),
            &ingest,
        )
        .await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // The ingest role pushes and reads nothing back.
    let reply = h.get("/api/v1/alerts", Role::Ingest).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    let status = h.stream.status();
    assert_eq!(status.received, 4, "{status:?}");
    assert!(status.decode_errors >= 4, "{status:?}");
}

#[tokio::test]
async fn indicators_are_added_by_hand_unsuppressed_and_exported() {
    let h = harness().await;
    let add = |body: Value| {
        let h = &h;
        async move {
            h.call(
                Method::POST,
                "/api/v1/indicators",
                Role::Analyst,
                Some(&body),
            )
            .await
        }
    };
    let reply = add(json!({
        "kind": "domain",
        "value": "hand[.]example",
        "confidence": 80,
        "tlp": "amber",
        "labels": ["<script>alert('x')</script>", "phishing"],
        "expires": "2999-01-01T00:00:00Z",
    }))
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"kind": "domain", "value": "hand.example", "source": "manual", "new": true})
    );
    let reply = add(json!({"kind": "domain", "value": "evil.example"})).await;
    assert_eq!(reply.body["new"], false, "{}", reply.text);

    // Stored and returned as data, in JSON, never as markup.
    let reply = h
        .get("/api/v1/indicators/domain/hand.example", Role::ReadOnly)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    let statement = &reply.body["indicator"]["sources"][0];
    assert_eq!(statement["source"], "manual", "{}", reply.text);
    assert_eq!(
        statement["labels"][0], "<script>alert('x')</script>",
        "{}",
        reply.text
    );

    for (body, code) in [
        (json!({"kind": "planet", "value": "earth"}), "invalid_body"),
        (
            json!({"kind": "ipv4", "value": "999.1.1.1"}),
            "invalid_body",
        ),
        (
            json!({"kind": "domain", "value": "a.example", "confidence": 101}),
            "invalid_body",
        ),
        (
            json!({"kind": "domain", "value": "a.example", "tlp": "purple"}),
            "invalid_body",
        ),
        (
            json!({"kind": "domain", "value": "a.example", "expires": "2001-01-01T00:00:00Z"}),
            "invalid_body",
        ),
        (
            json!({"kind": "domain", "value": "a.example", "labels": ["a\u{1b}[31m"]}),
            "invalid_body",
        ),
        (
            json!({"kind": "domain", "value": "a.example", "score": 100}),
            "invalid_body",
        ),
    ] {
        let reply = add(body.clone()).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code);
    }

    // Export: the amber indicator stays out of the default (TLP:GREEN) export.
    let reply = h
        .send(
            authorized(
                Request::get("/api/v1/indicators/export?format=text"),
                h.token(Role::ReadOnly),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains("evil.example"), "{}", reply.text);
    assert!(!reply.text.contains("hand.example"), "{}", reply.text);
    let reply = h
        .get(
            "/api/v1/indicators/export?format=stix&max_tlp=amber",
            Role::ReadOnly,
        )
        .await;
    assert_eq!(reply.body["type"], "bundle", "{}", reply.text);
    assert!(reply.text.contains("hand.example"), "{}", reply.text);
    for bad in [
        "/api/v1/indicators/export?format=pdf",
        "/api/v1/indicators/export?max_tlp=purple",
        "/api/v1/indicators/export?min_score=200",
        "/api/v1/indicators/export?kind=planet",
        "/api/v1/indicators/export?colour=red",
    ] {
        assert_error(
            &h.get(bad, Role::ReadOnly).await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        );
    }

    // Suppress, then take it back.
    let reply = h
        .call(
            Method::POST,
            "/api/v1/indicators/suppress",
            Role::Analyst,
            Some(&json!({"value": "hand.example", "reason": "ours"})),
        )
        .await;
    assert_eq!(reply.body["changed"], 1, "{}", reply.text);
    let unsuppress = json!({"value": "hand[.]example"});
    let reply = h
        .call(
            Method::POST,
            "/api/v1/indicators/unsuppress",
            Role::Analyst,
            Some(&unsuppress),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.body,
        json!({"value": "hand.example", "changed": 1}),
        "{}",
        reply.text
    );
    let reply = h
        .call(
            Method::POST,
            "/api/v1/indicators/unsuppress",
            Role::Analyst,
            Some(&unsuppress),
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    let actions = h.audit_actions().await;
    let count = |action: &str, outcome: &str| {
        actions
            .iter()
            .filter(|(a, o)| a == action && o == outcome)
            .count()
    };
    assert_eq!(count("indicator.add", "success"), 2, "{actions:?}");
    assert_eq!(count("indicator.add", "failure"), 6, "{actions:?}");
    assert_eq!(count("indicator.unsuppress", "success"), 1, "{actions:?}");
    assert_eq!(count("indicator.unsuppress", "failure"), 1, "{actions:?}");
}

#[tokio::test]
async fn feeds_are_added_pulled_shown_and_removed() {
    let h = harness().await;
    let add = |body: Value| {
        let h = &h;
        async move {
            h.call(Method::POST, "/api/v1/sources", Role::Analyst, Some(&body))
                .await
        }
    };
    for body in [
        json!({"name": "local", "format": "text", "url": "/etc/passwd"}),
        json!({"name": "local", "format": "text", "url": "file:///etc/passwd"}),
        json!({"name": "../up", "format": "text", "url": h.feed_url}),
        json!({"name": "x", "format": "no-such-format", "url": h.feed_url}),
        json!({"name": "x", "format": "text", "url": h.feed_url, "interval": "soon"}),
        json!({"name": "x", "format": "text", "url": h.feed_url, "confidence": 300}),
        json!({"name": "x", "format": "text", "url": h.feed_url, "schedule": "daily"}),
        json!({"name": "x", "format": "text"}),
        json!({"name": "x", "format": "text", "url": h.feed_url, "transport": "carrier-pigeon"}),
    ] {
        let reply = add(body.clone()).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
    let reply = add(json!({
        "name": "partner",
        "format": "text",
        "url": h.feed_url,
        "interval": "6h",
        "reliability": "B",
    }))
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["source"]["info"]["name"], "partner");
    assert_eq!(reply.body["enabled"], true);

    let reply = h
        .call(
            Method::POST,
            "/api/v1/sources/partner/pull",
            Role::Analyst,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["status"], "imported", "{}", reply.text);
    assert_eq!(reply.body["report"]["summary"]["new"], 2, "{}", reply.text);
    let reply = h.get("/api/v1/sources/partner", Role::ReadOnly).await;
    assert!(
        reply.body["source"]["last_success"].is_string(),
        "{}",
        reply.text
    );
    let reply = h
        .get("/api/v1/indicators/domain/bad.example", Role::ReadOnly)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let reply = h
        .call(
            Method::POST,
            "/api/v1/sources/nobody/pull",
            Role::Analyst,
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h.get("/api/v1/sources/nobody", Role::ReadOnly).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let reply = h
        .call(
            Method::DELETE,
            "/api/v1/sources/partner",
            Role::Analyst,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    let reply = h
        .call(
            Method::DELETE,
            "/api/v1/sources/partner",
            Role::Analyst,
            None,
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");

    let actions = h.audit_actions().await;
    for expected in [
        ("source.add", "success"),
        ("source.add", "failure"),
        ("source.pull", "success"),
        ("source.pull", "failure"),
        ("source.remove", "success"),
        ("source.remove", "failure"),
    ] {
        assert!(
            actions.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {actions:?}"
        );
    }
}

#[tokio::test]
async fn rules_are_listed_and_overridden() {
    let h = harness().await;
    let reply = h.get("/api/v1/rules", Role::ReadOnly).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let rule = &reply.body["items"][0];
    assert_eq!(rule["id"], RULE_ID);
    assert_eq!(rule["pack"], "local");
    assert_eq!(rule["title"], "Test <b>rule</b>");
    assert_eq!(rule["level"], "high");
    assert_eq!(rule["enabled"], true);
    let reply = h.get("/api/v1/rules?overridden=true", Role::ReadOnly).await;
    assert_eq!(reply.body["items"], json!([]), "{}", reply.text);

    let path = format!("/api/v1/rules/{RULE_ID}");
    let reply = h
        .call(
            Method::PATCH,
            &path,
            Role::Analyst,
            Some(&json!({"enabled": false, "level": "low"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["enabled"], false);
    assert_eq!(reply.body["level"], "low");
    assert_eq!(reply.body["own_level"], "high");
    let reply = h.get("/api/v1/rules?overridden=true", Role::ReadOnly).await;
    assert_eq!(reply.body["items"][0]["id"], RULE_ID, "{}", reply.text);
    let reply = h
        .call(
            Method::PATCH,
            &path,
            Role::Analyst,
            Some(&json!({"enabled": true, "level": "default"})),
        )
        .await;
    assert_eq!(reply.body["level"], "high", "{}", reply.text);

    for body in [
        json!({}),
        json!({"level": "apocalyptic"}),
        json!({"on": true}),
    ] {
        let reply = h
            .call(Method::PATCH, &path, Role::Analyst, Some(&body))
            .await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
    let reply = h
        .call(
            Method::PATCH,
            "/api/v1/rules/no-such-rule",
            Role::Analyst,
            Some(&json!({"enabled": false})),
        )
        .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    // Two changes and three refusals; the body with an unknown field never reached the
    // handler (refused while reading it), so it changed nothing to audit.
    let actions = h.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|(action, _)| action == "rule.change")
            .count(),
        5,
        "{actions:?}"
    );
}

#[tokio::test]
async fn every_json_body_route_refuses_broken_json_and_other_content_types() {
    let h = harness().await;
    let admin = h.token(Role::Admin).to_owned();
    for (method, path) in [
        (Method::POST, "/api/v1/indicators"),
        (Method::POST, "/api/v1/indicators/unsuppress"),
        (Method::POST, "/api/v1/sources"),
        (Method::PATCH, &*format!("/api/v1/rules/{RULE_ID}")),
        (Method::POST, "/api/v1/tokens"),
        (Method::POST, "/api/v1/users"),
        (Method::PATCH, "/api/v1/users/bob"),
    ] {
        let send = |content_type: &'static str, body: &'static str| {
            h.send(
                authorized(Request::builder().method(method.clone()).uri(path), &admin)
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from(body))
                    .unwrap(),
            )
        };
        let reply = send("application/json", "{,").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json");
        let reply = send("application/json", "[1, 2]").await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
        let reply = send("text/plain", "{}").await;
        assert_error(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
        let reply = send("application/json", "{\"<script>\": 1}").await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }
}

#[tokio::test]
async fn assets_are_imported_from_csv_and_audited() {
    let h = harness().await;
    let post = |content_type: &'static str, body: &'static str| {
        authorized(Request::post("/api/v1/assets"), h.token(Role::Analyst))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let csv = "name,kind,owner,criticality,networks,domains\n\
               web-1,server,web team,5,198.51.100.20,shop.example\n\
               <script>alert(1)</script>,laptop,,2,,\n\
               bad-row,server,,9,,\n";
    let reply = h.send(post("text/csv; charset=utf-8", csv)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["imported"], 2, "{}", reply.text);
    let rejected = reply.body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{}", reply.text);
    assert_eq!(rejected[0]["reference"], "line 4", "{}", reply.text);

    let assets = h.get("/api/v1/assets?limit=100", Role::ReadOnly).await;
    let names: Vec<&str> = assets.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| asset["name"].as_str().unwrap())
        .collect();
    // The hostile name is stored as data, returned as a JSON string.
    assert!(names.contains(&"web-1") && names.contains(&"<script>alert(1)</script>"));
    let web = &assets.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|asset| asset["name"] == "web-1")
        .unwrap()
        .clone();
    assert_eq!(web["criticality"], 5);
    assert!(
        h.audit_actions()
            .await
            .contains(&("assets.import".to_owned(), "success".to_owned()))
    );

    let wrong_type = h.send(post("application/json", "{}")).await;
    assert_error(
        &wrong_type,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let no_name = h.send(post("text/csv", "kind,owner\nserver,it\n")).await;
    assert_error(&no_name, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        h.audit_actions()
            .await
            .contains(&("assets.import".to_owned(), "failure".to_owned()))
    );
    let read_only = h
        .send(
            authorized(Request::post("/api/v1/assets"), h.token(Role::ReadOnly))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from("name\nx\n"))
                .unwrap(),
        )
        .await;
    assert_error(&read_only, StatusCode::FORBIDDEN, "forbidden");
}
