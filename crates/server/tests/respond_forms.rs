//! The respond stage's dashboard forms through the router: approvals decided and runs rolled
//! back from the runs pages, values blocked and unblocked by hand from the block lists page —
//! each doing what the API does (same code, same audit, same guardrails), with CSRF on every
//! form.

mod respond_support;
mod support;

use axum::http::{StatusCode, header};
use rampart_auth::Role;
use rampart_store::RunStatus;
use respond_support::*;
use support::*;

#[tokio::test]
async fn approvals_are_decided_and_runs_rolled_back_through_the_pages() {
    let h = harness().await;
    let (cookie, csrf) = browser(&h, Role::Analyst).await;
    let approved = h.waiting_run("page-approved.example").await;
    let rejected = h.waiting_run("page-rejected.example").await;

    let runs = h.send(get("/runs", &cookie)).await;
    for run in [approved, rejected] {
        assert!(
            runs.text
                .contains(&format!("action=\"/runs/{run}/approve\""))
        );
        assert!(
            runs.text
                .contains(&format!("formaction=\"/runs/{run}/reject\""))
        );
    }

    // Without the CSRF token nothing is decided.
    let forged = h
        .send(post_form(
            &format!("/runs/{approved}/approve"),
            &cookie,
            &[],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(run_status(&h, approved).await, RunStatus::Waiting);

    // Approving from the list: the run goes on and blocks.
    let reply = h
        .send(post_form(
            &format!("/runs/{approved}/approve"),
            &cookie,
            &[("csrf", &csrf)],
        ))
        .await;
    let back = location(&reply);
    assert_eq!(back, format!("/runs?decided={approved}&decision=approved"));
    let shown = h.send(get(&back, &cookie)).await;
    assert!(shown.text.contains(&format!("Run #{approved} approved.")));
    edl_eventually(&h, "page-approved.example", true).await;
    run_eventually(&h, approved, RunStatus::Succeeded).await;
    let (_, actions) = h.store.run(approved).await.unwrap().unwrap();
    assert_eq!(actions[0].result["by"], "user:analyst-user");

    // Rejecting from the run's page: cancelled, nothing blocked.
    let reply = h
        .send(post_form(
            &format!("/runs/{rejected}/reject"),
            &cookie,
            &[("csrf", &csrf), ("from", "run")],
        ))
        .await;
    let back = location(&reply);
    assert_eq!(
        back,
        format!("/runs/{rejected}?decided={rejected}&decision=rejected")
    );
    run_eventually(&h, rejected, RunStatus::Cancelled).await;
    assert!(standing(&h, "page-rejected.example").await.is_empty());
    let page = h.send(get(&back, &cookie)).await;
    assert!(page.text.contains(&format!("Run #{rejected} rejected.")));
    assert!(page.text.contains("id=\"status\">cancelled"));

    // Deciding again is a conflict, shown as a page.
    let again = h
        .send(post_form(
            &format!("/runs/{approved}/reject"),
            &cookie,
            &[("csrf", &csrf)],
        ))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // The approved run's page offers the roll-back; it takes the block off.
    let page = h.send(get(&format!("/runs/{approved}"), &cookie)).await;
    assert!(
        page.text
            .contains(&format!("action=\"/runs/{approved}/rollback\""))
    );
    assert!(page.text.contains("id=\"status\">succeeded"));
    assert!(
        page.text.contains("id=\"step-1\""),
        "the block step is not shown"
    );
    let reply = h
        .send(post_form(
            &format!("/runs/{approved}/rollback"),
            &cookie,
            &[("csrf", &csrf)],
        ))
        .await;
    let back = location(&reply);
    assert_eq!(back, format!("/runs/{approved}?rolled_back=1"));
    edl_eventually(&h, "page-approved.example", false).await;
    let page = h.send(get(&back, &cookie)).await;
    assert!(
        page.text
            .contains("Rolled back: 1 block-list entry taken off.")
    );

    // A read-only role may not decide.
    let waiting = h.waiting_run("page-read-only.example").await;
    let (cookie, csrf) = browser(&h, Role::ReadOnly).await;
    let refused = h
        .send(post_form(
            &format!("/runs/{waiting}/approve"),
            &cookie,
            &[("csrf", &csrf)],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(run_status(&h, waiting).await, RunStatus::Waiting);
}

#[tokio::test]
async fn values_are_blocked_and_unblocked_by_hand_through_the_forms() {
    let h = harness().await;
    let (cookie, csrf) = browser(&h, Role::Analyst).await;
    let page = h.send(get("/blocklists", &cookie)).await;
    assert!(page.text.contains("action=\"/blocklists/edge/entries\""));

    // Without the CSRF token: refused, nothing blocked.
    let forged = h
        .send(post_form(
            "/blocklists/edge/entries",
            &cookie,
            &[("value", "forged.example"), ("reason", "x")],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(standing(&h, "forged.example").await.is_empty());

    // Blocked with an expiry typed as the datetime field sends it (UTC).
    let reply = h
        .send(post_form(
            "/blocklists/edge/entries",
            &cookie,
            &[
                ("csrf", &csrf),
                ("value", "hand-page.example"),
                ("kind", "domain"),
                ("reason", "seen in a phishing mail"),
                ("expires", "2099-01-02T03:04"),
            ],
        ))
        .await;
    let back = location(&reply);
    assert_eq!(
        back,
        "/blocklists?blocked=hand-page.example&on=edge#list-edge"
    );
    edl_eventually(&h, "hand-page.example", true).await;
    let entries = standing(&h, "hand-page.example").await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.added_by, "user:analyst-user");
    assert_eq!(entry.expires, Some("2099-01-02T03:04:00Z".parse().unwrap()));
    let shown = h.send(get(&back, &cookie)).await;
    assert!(shown.text.contains("hand-page.example blocked on edge."));
    let unblock = format!("/blocklists/edge/entries/{}/remove", entry.id);
    assert!(shown.text.contains(&format!("action=\"{unblock}\"")));
    assert!(shown.text.contains("2099-01-02 03:04 UTC"));

    // Unblocked: without the token refused, with it taken off.
    let forged = h.send(post_form(&unblock, &cookie, &[])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(standing(&h, "hand-page.example").await.len(), 1);
    let reply = h
        .send(post_form(&unblock, &cookie, &[("csrf", &csrf)]))
        .await;
    assert_eq!(
        location(&reply),
        "/blocklists?unblocked=hand-page.example&on=edge#list-edge"
    );
    edl_eventually(&h, "hand-page.example", false).await;
    // Twice: the entry is gone (an error page, not a crash).
    let again = h
        .send(post_form(&unblock, &cookie, &[("csrf", &csrf)]))
        .await;
    assert!(again.status.is_client_error(), "{}", again.status);

    // A guardrail refusal: the mail gateway's address is one of our assets (409), shown
    // beside the form with what was typed.
    let refused = h
        .send(post_form(
            "/blocklists/edge/entries",
            &cookie,
            &[("csrf", &csrf), ("value", "192.0.2.10"), ("reason", "oops")],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let error = &refused.text[refused.text.find("id=\"block-error\"").expect("no error")..];
    assert!(error.contains("mail-gw"), "{error}");
    assert!(refused.text.contains("value=\"192.0.2.10\""));
    assert!(refused.text.contains("value=\"oops\""));

    // Bad values and expiries: 422 with the reason, hostile input echoed escaped.
    for (fields, expected) in [
        (
            vec![
                ("kind", "domain"),
                ("value", "a b.example"),
                ("reason", "x"),
            ],
            "",
        ),
        (
            vec![
                ("value", "ok.example"),
                ("reason", "x"),
                ("expires", "soon <script>"),
            ],
            "expires: ",
        ),
        (
            vec![
                ("value", "ok.example"),
                ("reason", "x"),
                ("expires", "2001-01-01T00:00"),
            ],
            "expires is in the past",
        ),
        (vec![("value", "ok.example"), ("reason", "")], "reason: "),
        (
            vec![("value", "\"><img onerror=x>"), ("reason", SCRIPT)],
            "",
        ),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields.iter().copied());
        let reply = h
            .send(post_form("/blocklists/edge/entries", &cookie, &all))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            reply.text
        );
        assert!(reply.text.contains("id=\"block-error\""), "{fields:?}");
        assert!(reply.text.contains(expected), "{fields:?}: {expected}");
        assert!(!reply.text.contains("<script>") && !reply.text.contains("<img onerror"));
    }
    assert!(standing(&h, "ok.example").await.is_empty());
    // A list that is not configured: an error page.
    let missing = h
        .send(post_form(
            "/blocklists/nowhere/entries",
            &cookie,
            &[("csrf", &csrf), ("value", "a.example"), ("reason", "x")],
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let actions = h.audit_actions().await;
    for expected in [
        ("blocklist.block", "success"),
        ("blocklist.unblock", "success"),
        ("blocklist.block", "failure"),
    ] {
        assert!(
            actions.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} not in {actions:?}"
        );
    }

    // A read-only role may not block.
    let (cookie, csrf) = browser(&h, Role::ReadOnly).await;
    let refused = h
        .send(post_form(
            "/blocklists/edge/entries",
            &cookie,
            &[("csrf", &csrf), ("value", "ro.example"), ("reason", "x")],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(standing(&h, "ro.example").await.is_empty());
}
