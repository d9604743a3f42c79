//! Alert triage over the API, and the dashboard pages through the router: login with the
//! form's CSRF double-submit, CSRF on every form, hostile values shown escaped.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rampart_auth::Role;
use rampart_model::{Indicator, IndicatorKind, Observation, SourceInfo};
use rampart_store::{AuditQuery, ImportBatch};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn alerts_are_triaged_over_the_api_and_audited() {
    let h = harness().await;
    let analyst = h.token(Role::Analyst).to_owned();
    let id = h.alert_id;
    let reply = h
        .send(
            authorized(
                Request::post(format!("/api/v1/alerts/{id}/acknowledge")),
                &analyst,
            )
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"note": "on it"}).to_string()))
            .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["status"], "acknowledged");
    assert_eq!(reply.body["triage"]["by"], "token:analyst-token");
    assert_eq!(reply.body["triage"]["note"], "on it");

    let listed = h
        .get("/api/v1/alerts?status=acknowledged", Role::ReadOnly)
        .await;
    assert_eq!(listed.body["items"][0]["id"], id, "{}", listed.text);
    let none = h
        .get("/api/v1/alerts?status=false_positive", Role::ReadOnly)
        .await;
    assert_eq!(none.body["items"], json!([]));
    let bad = h.get("/api/v1/alerts?status=maybe", Role::ReadOnly).await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_query");

    // Without a body, then with bad ones.
    let post = |path: String| authorized(Request::post(path), &analyst);
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/false-positive"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.body["status"], "false_positive", "{}", reply.text);
    assert_eq!(reply.body["triage"]["note"], Value::Null);
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"note": "x", "extra": 1}).to_string()))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json!({"note": "n".repeat(1001)}).to_string()))
                .unwrap(),
        )
        .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "bad_request");
    let reply = h
        .send(
            post(format!("/api/v1/alerts/{id}/acknowledge"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("note"))
                .unwrap(),
        )
        .await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    for path in [
        "/api/v1/alerts/999999/acknowledge",
        "/api/v1/alerts/0/acknowledge",
    ] {
        let reply = h.send(post(path.into()).body(Body::empty()).unwrap()).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.text);
        assert!(reply.body["error"]["code"].is_string(), "{}", reply.text);
    }

    let audit = h
        .store
        .audit(&AuditQuery {
            action: Some("alert.false_positive".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].entry.actor, "token:analyst-token");
    assert_eq!(
        audit[0].entry.target.as_deref(),
        Some(format!("alert:{id}").as_str())
    );
    let acknowledged = h
        .store
        .audit(&AuditQuery {
            action: Some("alert.acknowledged".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(acknowledged.len(), 1, "only the successful acknowledgement");
    assert_eq!(acknowledged[0].entry.detail["note"], "on it");
}

/// The `Set-Cookie` pair of a reply's cookie named `name`.
fn set_cookie(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap().to_owned())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie: {:?}", reply.headers))
}

/// The value of a hidden form field in a page.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn pages_log_in_check_csrf_and_escape_hostile_values() {
    let h = harness().await;
    // A hostile value from a feed: its label, shown on the indicator page.
    let source = SourceInfo::adhoc("hostile <feed>", "text");
    h.store.upsert_source(&source, &json!({})).await.unwrap();
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let import = h.store.import(&source, receiver);
    let mut observation = Observation::new(
        Indicator::parse(IndicatorKind::Domain, "evil.example").unwrap(),
        "<script>alert(1)</script>",
    );
    observation.labels = vec!["<img src=x onerror=alert(1)>".into()];
    sender
        .send(ImportBatch::observations(vec![observation]))
        .await
        .unwrap();
    sender
        .send(ImportBatch::Commit(Default::default()))
        .await
        .unwrap();
    drop(sender);
    import.await.unwrap();

    // The form sets its token cookie; a post without it is refused.
    let form = h
        .send(
            Request::get("/login?next=%2Falerts")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let login_cookie = set_cookie(&form, "rampart_login");
    let token = hidden_field(&form.text, "csrf");
    assert_eq!(login_cookie, format!("rampart_login={token}"));
    assert_eq!(hidden_field(&form.text, "next"), "/alerts");
    let body = format!(
        "csrf={token}&username={}&password=correct+horse+battery+staple&next=%2Falerts",
        username(Role::Analyst)
    );
    let post_login = |cookie: Option<&str>, body: String| {
        let mut request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::from(body)).unwrap()
    };
    let refused = h.send(post_login(None, body.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let wrong = h
        .send(post_login(
            Some(&login_cookie),
            body.replace("battery", "batterie"),
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("invalid username or password"));
    let done = h.send(post_login(Some(&login_cookie), body)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.headers[header::LOCATION], "/alerts");
    let session = set_cookie(&done, "rampart_session");
    // An offsite `next` is ignored.
    let form = h
        .send(Request::get("/login").body(Body::empty()).unwrap())
        .await;
    let token = hidden_field(&form.text, "csrf");
    let offsite = h
        .send(post_login(
            Some(&format!("rampart_login={token}")),
            format!(
                "csrf={token}&username={}&password=correct+horse+battery+staple&next=%2F%2Fevil.example%2F",
                username(Role::Analyst)
            ),
        ))
        .await;
    assert_eq!(offsite.headers[header::LOCATION], "/");

    let page = |path: &str| {
        Request::get(path)
            .header(header::COOKIE, &session)
            .body(Body::empty())
            .unwrap()
    };
    let evil = h.ids["evil.example"];
    let detail = h.send(page(&format!("/indicators/{evil}"))).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(
        detail.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    for hostile in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "hostile <feed>",
    ] {
        assert!(!detail.text.contains(hostile), "{hostile} unescaped");
    }
    assert!(
        detail
            .text
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || detail
                .text
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        detail.text
    );
    assert!(!detail.text.contains("<script"), "no script at all");
    let csrf = hidden_field(&detail.text, "csrf");

    // Forms need the session's token.
    let triage = |body: String| {
        Request::post(format!("/alerts/{}/acknowledge", h.alert_id))
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let forged = h.send(triage("csrf=forged&note=x".into())).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let missing = h.send(triage("note=x".into())).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let status = |h: &Harness| {
        let store = h.store.clone();
        async move { store.alerts(&Default::default()).await.unwrap()[0].status }
    };
    assert_eq!(status(&h).await, rampart_store::AlertStatus::Open);
    let done = h
        .send(triage(format!("csrf={csrf}&note=%3Cb%3Echecked%3C%2Fb%3E")))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(status(&h).await, rampart_store::AlertStatus::Acknowledged);
    let queue = h.send(page("/alerts")).await;
    assert!(queue.text.contains("&#60;b&#62;checked") || queue.text.contains("&lt;b&gt;checked"));
    assert!(queue.text.contains("data-status=\"acknowledged\""));

    // Suppress from the indicator page, then lift it again.
    let form = |path: &str, body: String| {
        Request::post(path)
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    let worse = Indicator::parse(IndicatorKind::Domain, "worse.example").unwrap();
    let suppressed = |h: &Harness| {
        let (store, worse) = (h.store.clone(), worse.clone());
        async move { store.indicator(&worse).await.unwrap().unwrap().suppressed }
    };
    let done = h
        .send(form(
            "/indicators/suppress",
            format!("csrf={csrf}&value=worse.example&reason=a+partner&back=%2Findicators%2F7"),
        ))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.headers[header::LOCATION], "/indicators/7");
    assert!(suppressed(&h).await.unwrap().contains("a partner"));
    let lifted = h
        .send(form(
            "/indicators/unsuppress",
            format!("csrf={csrf}&value=worse.example"),
        ))
        .await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER, "{}", lifted.text);
    assert_eq!(suppressed(&h).await, None);
    let again = h
        .send(form(
            "/indicators/unsuppress",
            format!("csrf={csrf}&value=worse.example"),
        ))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);

    // Every page renders for the analyst.
    for path in [
        "/",
        "/?days=7",
        "/indicators?q=example&kind=domain",
        "/feeds",
        "/assets",
        "/alerts?status=false_positive",
        "/indicators?kind=nonsense",
    ] {
        let reply = h.send(page(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        if path == "/" || path.starts_with("/?") {
            assert!(reply.text.contains("<svg"), "{path}: no chart");
        }
    }
    let missing = h.send(page("/indicators/999999")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}
