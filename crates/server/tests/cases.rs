//! Incident cases over the API, through the whole router with the real store: a case's
//! lifecycle, its tasks, observables (promoted to indicators), alerts moved between cases,
//! merges and exports with hostile text; and bad requests answered with JSON 4xx errors.
//! Pushes and imports are in `case_exchange.rs`, the pages in `case_pages.rs`.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use rampart_auth::Role;
use rampart_store::AuditQuery;
use serde_json::{Value, json};
use support::*;

fn timeline_kinds(case: &Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn bad_case_requests_are_json_client_errors() {
    let h = harness().await;
    let cases = "/api/v1/cases";
    for (body, status, code) in [
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        (
            json!({"title": "x", "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"title": "two\nlines"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"title": "x", "severity": "catastrophic"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"title": "x", "assignee": "nobody-here"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"template": "no-such-template"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"template": "phishing", "context": {"colour": "red"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            json!({"title": "x", "tags": [""]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
    ] {
        let reply = analyst_post(&h, cases, body.clone()).await;
        assert_error(&reply, status, code);
    }
    let reply = h
        .send(
            authorized(Request::post(cases), h.token(Role::Analyst))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"title\": "))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json");
    let refused = h
        .call(
            Method::POST,
            cases,
            Role::ReadOnly,
            Some(&json!({"title": "x"})),
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    let bad_id = h.get("/api/v1/cases/abc", Role::ReadOnly).await;
    assert_error(&bad_id, StatusCode::BAD_REQUEST, "bad_request");
    let missing = h.get("/api/v1/cases/999999", Role::ReadOnly).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let bad_filter = h.get("/api/v1/cases?status=bogus", Role::ReadOnly).await;
    assert_error(&bad_filter, StatusCode::BAD_REQUEST, "invalid_query");
    let both = h
        .get("/api/v1/cases?status=new&open=true", Role::ReadOnly)
        .await;
    assert_error(&both, StatusCode::BAD_REQUEST, "invalid_query");
    for (path, body) in [
        ("/api/v1/cases/999999/tasks", json!({"title": "t"})),
        ("/api/v1/cases/999999/comments", json!({"message": "m"})),
        (
            "/api/v1/cases/999999/observables",
            json!({"kind": "domain", "value": "x.example"}),
        ),
        ("/api/v1/cases/999999/merge", json!({"from": 1})),
    ] {
        let reply = analyst_post(&h, path, body).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    }
    // Every JSON body route of cases refuses broken JSON, other shapes, other content types
    // and unknown fields with a JSON 4xx.
    let id = open_case(&h, json!({"title": "Target"})).await;
    let task = analyst_post(
        &h,
        &format!("/api/v1/cases/{id}/tasks"),
        json!({"title": "t"}),
    )
    .await
    .body["id"]
        .as_i64()
        .unwrap();
    let analyst = h.token(Role::Analyst).to_owned();
    for (method, path) in [
        (Method::POST, "/api/v1/cases".to_owned()),
        (Method::PATCH, format!("/api/v1/cases/{id}")),
        (Method::POST, format!("/api/v1/cases/{id}/status")),
        (Method::POST, format!("/api/v1/cases/{id}/merge")),
        (Method::POST, format!("/api/v1/cases/{id}/tasks")),
        (Method::PATCH, format!("/api/v1/cases/{id}/tasks/{task}")),
        (Method::POST, format!("/api/v1/cases/{id}/observables")),
        (Method::POST, format!("/api/v1/cases/{id}/comments")),
        (Method::POST, format!("/api/v1/cases/{id}/alerts")),
        (Method::POST, format!("/api/v1/cases/{id}/push")),
        (Method::POST, "/api/v1/alerts/group".to_owned()),
    ] {
        let send = |content_type: &'static str, body: &'static str| {
            h.send(
                authorized(
                    Request::builder().method(method.clone()).uri(&path),
                    &analyst,
                )
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap(),
            )
        };
        let reply = send("application/json", "{,").await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json");
        // (An array of numbers would be read as a tuple of the fields by serde, and some
        // single-number bodies then fail as "trailing characters", a 400.)
        let reply = send("application/json", "[{}]").await;
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
    for body in ["{,", "[1, 2]", "{\"<script>\": 1}", ""] {
        let reply = h
            .send(
                authorized(Request::post("/api/v1/alerts/import"), &analyst)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    }

    // Failed changes are audited too: the six bodies that reached the handler (the rest
    // were refused by the JSON reader or the role check), then the one that worked.
    let opened = h
        .store
        .audit(&AuditQuery {
            action: Some("case.open".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let outcomes: Vec<&str> = opened
        .iter()
        .map(|record| record.entry.outcome.as_str())
        .collect();
    assert_eq!(outcomes[..6], ["failure"; 6]);
    assert_eq!(outcomes[6..], ["success"]);
    assert_eq!(opened[6].entry.target.as_deref(), Some("case:1"));
}

#[tokio::test]
async fn a_case_moves_through_its_lifecycle_with_tasks_observables_and_alerts() {
    let h = harness().await;
    let first = open_case(
        &h,
        json!({
            "title": HOSTILE_CASE_TITLE, "severity": "high", "tags": ["phishing"],
            "assignee": username(Role::Analyst),
            "description": "# Not a section\n<img src=x onerror=alert(1)>",
        }),
    )
    .await;
    let case = show_case(&h, first).await;
    assert_eq!(case["case"]["title"], HOSTILE_CASE_TITLE);
    assert_eq!(case["case"]["status"], "new");
    assert_eq!(case["case"]["created_by"], "token:analyst-token");
    assert_eq!(case["case"]["assignee"], "analyst-user");
    assert_eq!(case["sla"]["state"], "on_track");
    // High: due 24 hours after it was opened (the store stamps `created` a moment later).
    let due: jiff::Timestamp = case["case"]["due"].as_str().unwrap().parse().unwrap();
    let created: jiff::Timestamp = case["case"]["created"].as_str().unwrap().parse().unwrap();
    let to_due = due.duration_since(created).as_secs();
    assert!((24 * 3600 - 60..=24 * 3600).contains(&to_due), "{to_due}");

    // From a template: its title and tasks.
    let templated = open_case(
        &h,
        json!({"template": "phishing", "context": {"subject": "Invoice 7", "sender": "billing@evil.example"}}),
    )
    .await;
    let case = show_case(&h, templated).await;
    assert_eq!(
        case["case"]["title"],
        "Phishing: Invoice 7 from billing@evil.example"
    );
    assert_eq!(case["tasks"].as_array().unwrap().len(), 5);

    // A task, then its status; a task of another case is not found through this one.
    let task = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/tasks"),
        json!({"title": "Pull the headers"}),
    )
    .await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.text);
    let task_id = task.body["id"].as_i64().unwrap();
    let done = analyst_patch(
        &h,
        &format!("/api/v1/cases/{first}/tasks/{task_id}"),
        json!({"status": "done"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "done");
    let elsewhere = analyst_patch(
        &h,
        &format!("/api/v1/cases/{templated}/tasks/{task_id}"),
        json!({"status": "done"}),
    )
    .await;
    assert_error(&elsewhere, StatusCode::NOT_FOUND, "not_found");
    let bad_status = analyst_patch(
        &h,
        &format!("/api/v1/cases/{first}/tasks/{task_id}"),
        json!({"status": "maybe"}),
    )
    .await;
    assert_error(
        &bad_status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    );

    // An observable promoted to an indicator: it exists in intel afterwards.
    let before = h
        .get("/api/v1/indicators/domain/promoted.example", Role::ReadOnly)
        .await;
    assert_error(&before, StatusCode::NOT_FOUND, "not_found");
    let observable = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/observables"),
        json!({"kind": "domain", "value": "promoted[.]example", "ioc": true, "promote": true, "message": "in the lure"}),
    )
    .await;
    assert_eq!(
        observable.status,
        StatusCode::CREATED,
        "{}",
        observable.text
    );
    assert_eq!(observable.body["new"], true);
    assert_eq!(observable.body["promoted"]["source"], "manual");
    assert_eq!(observable.body["promoted"]["new"], true);
    assert!(observable.body["observable"]["indicator_id"].is_i64());
    let promoted = h
        .get("/api/v1/indicators/domain/promoted.example", Role::ReadOnly)
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.text);
    assert!(promoted.text.contains("manual"), "{}", promoted.text);
    for (body, code) in [
        (json!({"kind": "nonsense", "value": "x"}), "invalid_body"),
        (
            json!({"kind": "ipv4", "value": "not an address"}),
            "invalid_body",
        ),
        (json!({"kind": "domain"}), "invalid_body"),
    ] {
        let reply = analyst_post(&h, &format!("/api/v1/cases/{first}/observables"), body).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code);
    }

    // A comment with a line break and Markdown meant to break out of the export.
    let comment = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/comments"),
        json!({"message": "first line\n# Injected heading | cell"}),
    )
    .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.text);
    assert_eq!(comment.body["kind"], "comment");
    let empty = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/comments"),
        json!({"message": "  "}),
    )
    .await;
    assert_error(&empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    // The seeded alert: linked here, then moved to a second case.
    let alert = h.alert_id;
    let linked = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/alerts"),
        json!({"alerts": [alert]}),
    )
    .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    assert_eq!(linked.body["linked"], json!([alert]));
    let second = open_case(&h, json!({"title": "Second look", "severity": "low"})).await;
    let moved = analyst_post(
        &h,
        &format!("/api/v1/cases/{second}/alerts"),
        json!({"alerts": [alert, 999999]}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(
        moved.body["moved"],
        json!([{"alert_id": alert, "from_case": first}])
    );
    assert_eq!(moved.body["missing"], json!([999999]));
    let case = show_case(&h, first).await;
    assert_eq!(case["alerts"], json!([]));
    assert!(timeline_kinds(&case).contains(&"alert_unlinked".to_owned()));
    let bad_ids = analyst_post(
        &h,
        &format!("/api/v1/cases/{second}/alerts"),
        json!({"alerts": []}),
    )
    .await;
    assert_error(&bad_ids, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    // Out and back in.
    let out = h
        .call(
            Method::DELETE,
            &format!("/api/v1/cases/{second}/alerts/{alert}"),
            Role::Analyst,
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text);
    assert_eq!(out.body["unlinked"], json!([alert]));
    let again = h
        .call(
            Method::DELETE,
            &format!("/api/v1/cases/{second}/alerts/{alert}"),
            Role::Analyst,
            None,
        )
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
    analyst_post(
        &h,
        &format!("/api/v1/cases/{second}/alerts"),
        json!({"alerts": [alert]}),
    )
    .await;

    // The second case merged into the first: its alert comes along, it becomes a duplicate.
    let merged = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/merge"),
        json!({"from": second}),
    )
    .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.text);
    assert_eq!(merged.body["alerts_moved"], 1);
    assert_eq!(merged.body["into"]["id"], first);
    let duplicate = show_case(&h, second).await;
    assert_eq!(duplicate["case"]["status"], "duplicate");
    assert_eq!(duplicate["case"]["duplicate_of"], first);
    let case = show_case(&h, first).await;
    assert_eq!(case["alerts"][0]["alert"]["id"], alert);
    let itself = analyst_post(
        &h,
        &format!("/api/v1/cases/{first}/merge"),
        json!({"from": first}),
    )
    .await;
    assert_error(&itself, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    // The lifecycle: start, a refused step back, close (with a resolution), a refused
    // close-to-close, reopen.
    let status_path = format!("/api/v1/cases/{first}/status");
    let status = |body: Value| analyst_post(&h, &status_path, body);
    let started = status(json!({"status": "in_progress"})).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    assert_eq!(started.body["status"], "in_progress");
    let back = status(json!({"status": "new"})).await;
    assert_error(&back, StatusCode::CONFLICT, "status_conflict");
    let unexplained = status(json!({"status": "resolved"})).await;
    assert_error(
        &unexplained,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
    );
    let resolved =
        status(json!({"status": "resolved", "resolution": "Domain blocked, mailbox cleaned"}))
            .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert!(resolved.body["closed"].is_string());
    assert_eq!(resolved.body["sla"]["state"], "met");
    let reclassified = status(json!({"status": "false_positive", "resolution": "x"})).await;
    assert_error(&reclassified, StatusCode::CONFLICT, "status_conflict");
    assert!(
        reclassified.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reopen it first"),
        "{}",
        reclassified.text
    );
    let reopened = status(json!({"status": "in_progress"})).await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert_eq!(reopened.body["closed"], Value::Null);
    assert!(timeline_kinds(&show_case(&h, first).await).contains(&"reopened".to_owned()));

    // Field changes: unassign and raise; nothing to change and unknown accounts are refused.
    let changed = analyst_patch(
        &h,
        &format!("/api/v1/cases/{first}"),
        json!({"assignee": null, "severity": "critical"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["assignee"], Value::Null);
    assert_eq!(changed.body["severity"], "critical");
    let nothing = analyst_patch(&h, &format!("/api/v1/cases/{first}"), json!({})).await;
    assert_error(&nothing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let ghost = analyst_patch(
        &h,
        &format!("/api/v1/cases/{first}"),
        json!({"assignee": "ghost"}),
    )
    .await;
    assert_error(&ghost, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");

    // Lists and their filters.
    let ids = |reply: &Reply| -> Vec<i64> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_i64().unwrap())
            .collect()
    };
    let open = h.get("/api/v1/cases?open=true", Role::ReadOnly).await;
    assert_eq!(ids(&open), [templated, first], "{}", open.text);
    let duplicates = h
        .get("/api/v1/cases?status=duplicate", Role::ReadOnly)
        .await;
    assert_eq!(ids(&duplicates), [second]);
    let closed = h.get("/api/v1/cases?open=false", Role::ReadOnly).await;
    assert_eq!(ids(&closed), [second]);
    let searched = h.get("/api/v1/cases?q=INVOICE%207", Role::ReadOnly).await;
    assert_eq!(ids(&searched), [templated]);
    let critical = h
        .get("/api/v1/cases?min_severity=critical", Role::ReadOnly)
        .await;
    assert_eq!(ids(&critical), [first]);
    let tagged = h.get("/api/v1/cases?tag=phishing", Role::ReadOnly).await;
    assert_eq!(ids(&tagged), [templated, first]);
    let page = h.get("/api/v1/cases?limit=2", Role::ReadOnly).await;
    assert_eq!(ids(&page), [second, templated]);
    let rest = h
        .get(
            &format!(
                "/api/v1/cases?limit=2&cursor={}",
                page.body["next"].as_str().unwrap()
            ),
            Role::ReadOnly,
        )
        .await;
    assert_eq!(ids(&rest), [first]);
    assert_eq!(rest.body["next"], Value::Null);
    assert!(page.body["items"][0]["sla"]["state"].is_string());

    // Exports: Markdown with the hostile text kept as text, JSON as stored.
    let markdown = h
        .get(
            &format!("/api/v1/cases/{first}/export?format=markdown"),
            Role::ReadOnly,
        )
        .await;
    assert_eq!(markdown.status, StatusCode::OK, "{}", markdown.text);
    assert!(
        markdown.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/markdown"),
    );
    assert_eq!(
        markdown.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"case-{first}.md\"").as_str()
    );
    let text = &markdown.text;
    assert!(!text.contains("<script>"), "{text}");
    assert!(!text.contains("<img"), "{text}");
    assert!(text.contains("\\<script\\>"), "{text}");
    assert!(text.contains("\\| Invoice"), "{text}");
    assert!(!text.contains("](http://"), "a live link: {text}");
    assert!(
        !text
            .lines()
            .any(|line| line.trim_start().starts_with("# Injected")),
        "{text}"
    );
    assert!(
        !text.lines().any(|line| line.starts_with("# Not a section")),
        "{text}"
    );
    assert!(text.contains("first line\\\\n"), "{text}");
    let document = h
        .get(
            &format!("/api/v1/cases/{first}/export?format=json"),
            Role::ReadOnly,
        )
        .await;
    assert_eq!(document.status, StatusCode::OK, "{}", document.text);
    assert_eq!(
        document.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"case-{first}.json\"").as_str()
    );
    assert_eq!(document.body["format"], "rampart.case");
    assert_eq!(document.body["case"]["title"], HOSTILE_CASE_TITLE);
    let unknown = h
        .get(
            &format!("/api/v1/cases/{first}/export?format=pdf"),
            Role::ReadOnly,
        )
        .await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid_query");
    let case = show_case(&h, first).await;
    let exports = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "exported")
        .count();
    assert_eq!(exports, 2);

    // Every change is in the audit log, by the token that made it.
    let audit = h.store.audit(&AuditQuery::default()).await.unwrap();
    for action in [
        "case.open",
        "case.task.add",
        "case.task.update",
        "case.observable.add",
        "indicator.add",
        "case.comment",
        "case.alerts.link",
        "case.alerts.unlink",
        "case.merge",
        "case.status",
        "case.update",
    ] {
        let record = audit
            .iter()
            .find(|record| {
                record.entry.action == action && record.entry.outcome.as_str() == "success"
            })
            .unwrap_or_else(|| panic!("no successful {action} in the audit log"));
        assert_eq!(record.entry.actor, "token:analyst-token", "{action}");
    }
    let refused_status = audit
        .iter()
        .filter(|record| {
            record.entry.action == "case.status" && record.entry.outcome.as_str() == "failure"
        })
        .count();
    assert_eq!(refused_status, 3);
}
