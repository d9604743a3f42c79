//! The respond routes: block lists fetched with ETags (and Basic auth, as firewalls send),
//! entries added and removed by hand under the guardrails, playbooks edited with located
//! errors, and approvals that let a run go on.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use rampart_auth::Role;
use serde_json::json;
use support::*;

/// The EDL of `edge` once it holds (or no longer holds) `value`.
async fn edl_eventually(h: &Harness, value: &str, present: bool) -> Reply {
    for _ in 0..300 {
        let reply = h.get("/blocklists/edge/edl-domain", Role::Ingest).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        if reply.text.lines().any(|line| line == value) == present {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{value} present={present} never happened in the edge EDL");
}

#[tokio::test]
async fn block_lists_are_served_with_etags_and_basic_auth() {
    let h = harness().await;
    let first = h.get("/blocklists/edge/edl-domain", Role::Ingest).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(
        first.headers[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "{etag}");

    // Unchanged: 304 with no body.
    let again = h
        .send(
            authorized(
                Request::get("/blocklists/edge/edl-domain"),
                h.token(Role::ReadOnly),
            )
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());

    // A firewall fetching an external dynamic list sends its account and token as Basic auth.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        username(Role::Ingest),
        h.token(Role::Ingest)
    ));
    let fetched = h
        .send(
            Request::get("/blocklists/edge/rpz")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text);
    assert!(fetched.text.contains(" SOA "), "{}", fetched.text);
    let wrong = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:rmp_not-a-token", username(Role::Ingest)));
    let refused = h
        .send(
            Request::get("/blocklists/edge/rpz")
                .header(header::AUTHORIZATION, format!("Basic {wrong}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    for path in [
        "/blocklists/edge/pdf",
        "/blocklists/nowhere/rpz",
        "/blocklists/edge/hosts",
    ] {
        assert_error(
            &h.get(path, Role::Admin).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    // A block by hand changes the list, and so its ETag.
    let added = h
        .call(
            Method::POST,
            "/api/v1/blocklists/edge/entries",
            Role::Analyst,
            Some(&json!({"value": "hand.example", "reason": "seen in a phishing mail"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["added_by"], "token:analyst-token");
    let changed = edl_eventually(&h, "hand.example", true).await;
    assert_ne!(changed.headers[header::ETAG].to_str().unwrap(), etag);

    // Removing it takes it off again; removing it twice is a conflict.
    let id = added.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/blocklists/edge/entries/{id}");
    let removed = h.call(Method::DELETE, &path, Role::Analyst, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(removed.body["removed"]["by"], "token:analyst-token");
    edl_eventually(&h, "hand.example", false).await;
    assert_error(
        &h.call(Method::DELETE, &path, Role::Analyst, None).await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let unknown = h
        .call(
            Method::DELETE,
            "/api/v1/blocklists/edge/entries/999999",
            Role::Analyst,
            None,
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");

    let actions = h.audit_actions().await;
    assert!(
        actions.contains(&("blocklist.block".into(), "success".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("blocklist.unblock".into(), "success".into())),
        "{actions:?}"
    );
}

#[tokio::test]
async fn hand_blocks_obey_the_guardrails_and_refuse_bad_values() {
    let h = harness().await;
    let h = &h;
    let post = |body: serde_json::Value| async move {
        h.call(
            Method::POST,
            "/api/v1/blocklists/edge/entries",
            Role::Admin,
            Some(&body),
        )
        .await
    };
    // 192.0.2.10 is the mail gateway of the asset inventory.
    let own = post(json!({"value": "192.0.2.10", "reason": "oops"})).await;
    assert_error(&own, StatusCode::CONFLICT, "guardrail");
    assert!(
        own.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mail-gw"),
        "{}",
        own.text
    );
    let wide = post(json!({"kind": "cidr", "value": "10.0.0.0/8", "reason": "too wide"})).await;
    assert_error(&wide, StatusCode::CONFLICT, "guardrail");
    for body in [
        json!({"value": "evil.example;reboot", "reason": "x"}),
        json!({"kind": "domain", "value": "a b.example", "reason": "x"}),
        json!({"value": "ok.example", "reason": "two\nlines"}),
        json!({"value": "ok.example", "reason": "x", "expires": "2001-01-01T00:00:00Z"}),
        json!({"value": "ok.example", "reason": "x", "extra": 1}),
    ] {
        let reply = post(body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.text);
    }
    let missing = h
        .call(
            Method::POST,
            "/api/v1/blocklists/nowhere/entries",
            Role::Admin,
            Some(&json!({"value": "a.example", "reason": "x"})),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn playbooks_are_edited_with_located_errors_and_runs_approved() {
    let h = harness().await;
    let list = h.get("/api/v1/playbooks", Role::ReadOnly).await;
    assert_eq!(list.body["playbooks"][0]["name"], "approve-block");
    assert_eq!(
        list.body["playbooks"][0]["actions"],
        json!(["approve", "block"])
    );
    let shown = h
        .get("/api/v1/playbooks/approve-block", Role::ReadOnly)
        .await;
    assert_eq!(shown.body["source"], APPROVAL_PLAYBOOK);

    // A broken file is refused with its line; the loaded version stays.
    let broken = APPROVAL_PLAYBOOK.replace("list: edge", "list: nowhere");
    let refused = h
        .call(
            Method::PUT,
            "/api/v1/playbooks/approve-block",
            Role::Analyst,
            Some(&json!({"source": broken})),
        )
        .await;
    assert_error(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_playbook",
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(":6: unknown block list \"nowhere\""),
        "{}",
        refused.text
    );
    let digest = shown.body["digest"].clone();
    assert_eq!(
        h.get("/api/v1/playbooks/approve-block", Role::ReadOnly)
            .await
            .body["digest"],
        digest
    );
    // A good edit is saved and loaded.
    let edited = APPROVAL_PLAYBOOK.replace("block after an approval", "block once approved");
    let saved = h
        .call(
            Method::PUT,
            "/api/v1/playbooks/approve-block",
            Role::Analyst,
            Some(&json!({"source": edited})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(saved.body["description"], "block once approved");
    assert_ne!(saved.body["digest"], digest);

    // A run waits at its approval; approving lets it block.
    let run = h.waiting_run("approved.example").await;
    let waiting = h.get(&format!("/api/v1/runs/{run}"), Role::ReadOnly).await;
    assert_eq!(waiting.body["run"]["status"], "waiting");
    assert_eq!(waiting.body["actions"][0]["status"], "waiting");
    let approved = h
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/approve"),
            Role::Analyst,
            None,
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    edl_eventually(&h, "approved.example", true).await;
    let done = h.get(&format!("/api/v1/runs/{run}"), Role::ReadOnly).await;
    assert_eq!(done.body["run"]["status"], "succeeded");
    assert_eq!(
        done.body["actions"][0]["result"]["by"],
        "token:analyst-token"
    );
    // Deciding again is a conflict; rolling back takes the block off.
    let again = h
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/reject"),
            Role::Analyst,
            None,
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    let rolled = h
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run}/rollback"),
            Role::Analyst,
            None,
        )
        .await;
    assert_eq!(
        rolled.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        rolled.text
    );
    edl_eventually(&h, "approved.example", false).await;

    let runs = h.get("/api/v1/runs?status=succeeded", Role::ReadOnly).await;
    assert_eq!(runs.body["items"][0]["id"], run);
    assert_error(
        &h.get("/api/v1/runs?status=bogus", Role::ReadOnly).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &h.get("/api/v1/runs/999999", Role::ReadOnly).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn a_false_positive_suppresses_unblocks_and_regrades() {
    let h = harness().await;
    h.store
        .set_reliability("seed", rampart_model::Reliability::B)
        .await
        .unwrap();
    let before = h.get("/api/v1/sources/seed", Role::ReadOnly).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let grade = |body: &serde_json::Value| {
        body.pointer("/source/info/reliability")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_else(|| panic!("no reliability in {body}"))
            .to_owned()
    };
    let grade_before = grade(&before.body);
    let blocked = h
        .call(
            Method::POST,
            "/api/v1/blocklists/edge/entries",
            Role::Analyst,
            Some(&json!({"value": "evil.example", "reason": "seen in the DNS logs"})),
        )
        .await;
    assert_eq!(blocked.status, StatusCode::CREATED, "{}", blocked.text);
    edl_eventually(&h, "evil.example", true).await;

    // The analyst marks the seeded alert (evil.example, vouched for by `seed`) a false positive.
    let path = format!("/api/v1/alerts/{}/false-positive", h.alert_id);
    let marked = h
        .call(
            Method::POST,
            &path,
            Role::Analyst,
            Some(&json!({"note": "our CDN"})),
        )
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.text);

    let indicator = h
        .get("/api/v1/indicators/domain/evil.example", Role::ReadOnly)
        .await;
    let reason = indicator.body["indicator"]["suppressed"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.starts_with("false positive: alert"),
        "{}",
        indicator.text
    );
    // The lowered grade is what the score explanation now weighs.
    assert_eq!(
        indicator.body["explanation"]["contributions"][0]["reliability"], "C",
        "{}",
        indicator.text
    );
    edl_eventually(&h, "evil.example", false).await;
    let entry = h
        .get(
            "/api/v1/blocklists/edge/entries?standing=false",
            Role::ReadOnly,
        )
        .await;
    let removed = entry.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["indicator"]["value"] == "evil.example")
        .expect("the hand block");
    assert!(
        removed["removed"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("false positive"),
        "{}",
        entry.text
    );

    let after = h.get("/api/v1/sources/seed", Role::ReadOnly).await;
    let grade_after = grade(&after.body);
    assert_eq!((grade_before.as_str(), grade_after.as_str()), ("B", "C"));
    let actions = h.audit_actions().await;
    for wanted in [
        "alert.false_positive",
        "intel.suppress",
        "source.regrade",
        "blocklist.unblock",
    ] {
        assert!(
            actions
                .iter()
                .any(|(action, outcome)| action == wanted && outcome == "success"),
            "{wanted}: {actions:?}"
        );
    }
}
