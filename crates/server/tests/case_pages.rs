//! The case pages: the list and one case, with hostile text escaped, SLA badges, and forms
//! that need the session's CSRF token and change the case as the API would.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rampart_auth::Role;
use serde_json::json;
use support::*;

/// The value of the first hidden form field `name` in a page.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn case_pages_escape_hostile_text_and_their_forms_need_the_csrf_token() {
    let h = harness().await;
    let id = open_case(
        &h,
        json!({"title": HOSTILE_CASE_TITLE, "severity": "critical"}),
    )
    .await;
    let late = open_case(
        &h,
        json!({"title": "Long overdue", "severity": "low", "due": "2020-01-01T00:00:00Z"}),
    )
    .await;
    analyst_post(
        &h,
        &format!("/api/v1/cases/{id}/comments"),
        json!({"message": "<img src=x onerror=alert(2)>"}),
    )
    .await;
    let (session, csrf) = h
        .login(&username(Role::Analyst), PASSWORD)
        .await
        .ok()
        .unwrap();
    let page = |path: String| {
        Request::get(path)
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap()
    };
    // Escaped one way or the other.
    let escaped = |page: &str, raw: &str| {
        page.contains(&raw.replace('<', "&#60;").replace('>', "&#62;"))
            || page.contains(&raw.replace('<', "&lt;").replace('>', "&gt;"))
    };
    let list = h.send(page("/cases".into())).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(!list.text.contains("<script"), "{}", list.text);
    assert!(
        escaped(&list.text, "<script>alert(1)</script>"),
        "{}",
        list.text
    );
    assert!(list.text.contains("href=\"/cases\" class=\"active\""));
    // The overdue case is badged red; the critical one is due within hours.
    let late_row = &list.text[list.text.find(&format!("id=\"case-{late}\"")).unwrap()..];
    assert!(
        late_row[..late_row.find("</tr>").unwrap()].contains("sla-overdue"),
        "{late_row}"
    );
    let filtered = h
        .send(page("/cases?status=all&min_severity=critical".into()))
        .await;
    assert!(filtered.text.contains(&format!("id=\"case-{id}\"")));
    assert!(!filtered.text.contains(&format!("id=\"case-{late}\"")));

    let detail = h.send(page(format!("/cases/{id}"))).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(!detail.text.contains("<script"), "{}", detail.text);
    assert!(!detail.text.contains("<img"), "{}", detail.text);
    assert!(escaped(&detail.text, "<script>alert(1)</script>"));
    assert!(escaped(&detail.text, "<img src=x onerror=alert(2)>"));
    assert!(detail.text.contains("id=\"status-form\""));
    assert_eq!(hidden_field(&detail.text, "csrf"), csrf);

    // The status form: refused without the session's token, then done with it.
    let form = |body: String| {
        Request::post(format!("/cases/{id}/status"))
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let forged = h.send(form("csrf=forged&status=in_progress".into())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    assert_eq!(show_case(&h, id).await["case"]["status"], "new");
    let done = h
        .send(form(format!("csrf={csrf}&status=in_progress")))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(
        done.headers[header::LOCATION],
        format!("/cases/{id}#case").as_str()
    );
    let case = show_case(&h, id).await;
    assert_eq!(case["case"]["status"], "in_progress");
    let last = case["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "user:analyst-user");
    // A refused transition is an error page, not a redirect.
    let refused = h.send(form(format!("csrf={csrf}&status=new"))).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(
        refused.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // The other forms.
    let submit = |path: String, body: String| {
        Request::post(path)
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    for (path, body) in [
        (
            format!("/cases/{id}/comments"),
            format!("csrf={csrf}&message=%3Cb%3Echecked%3C%2Fb%3E"),
        ),
        (
            format!("/cases/{id}/tasks"),
            format!("csrf={csrf}&title=Isolate+the+host"),
        ),
        (
            format!("/cases/{id}/observables"),
            format!("csrf={csrf}&kind=ipv4&value=203.0.113.66&ioc=on"),
        ),
        (
            format!("/cases/{id}/alerts"),
            format!("csrf={csrf}&alerts={}", h.alert_id),
        ),
        (
            format!("/cases/{id}/assign"),
            format!("csrf={csrf}&assignee=admin-user"),
        ),
    ] {
        let reply = h.send(submit(path.clone(), body)).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{path}: {}",
            reply.text
        );
    }
    let case = show_case(&h, id).await;
    assert_eq!(case["case"]["assignee"], "admin-user");
    assert_eq!(case["tasks"][0]["title"], "Isolate the host");
    assert_eq!(case["observables"][0]["indicator"]["value"], "203.0.113.66");
    assert_eq!(case["alerts"][0]["alert"]["id"], h.alert_id);
    let task = case["tasks"][0]["id"].as_i64().unwrap();
    let reply = h
        .send(submit(
            format!("/cases/{id}/tasks/{task}"),
            format!("csrf={csrf}&status=done"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(show_case(&h, id).await["tasks"][0]["status"], "done");
    let detail = h.send(page(format!("/cases/{id}"))).await;
    assert!(escaped(&detail.text, "<b>checked"), "{}", detail.text);
    assert!(
        detail.text.contains("href=\"/indicators/"),
        "observable links its indicator"
    );
    let opened = h
        .send(submit(
            "/cases".into(),
            format!("csrf={csrf}&title=From+the+page&severity=low"),
        ))
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.text);

    // A read-only account sees the case without the forms, and cannot post them.
    let (viewer, viewer_csrf) = h
        .login(&username(Role::ReadOnly), PASSWORD)
        .await
        .ok()
        .unwrap();
    let seen = h
        .send(
            Request::get(format!("/cases/{id}"))
                .header(header::COOKIE, &viewer)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.text.contains("status-form"));
    let refused = h
        .send(
            Request::post(format!("/cases/{id}/comments"))
                .header(header::COOKIE, &viewer)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={viewer_csrf}&message=hi")))
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let missing = h.send(page("/cases/999999".into())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
