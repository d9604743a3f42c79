//! What the respond pages' tests share: a logged-in browser, form posts, and waiting for the
//! respond stage (a block list's EDL, a run's status) to catch up.

#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rampart_auth::Role;
use rampart_model::{Indicator, IndicatorKind};
use rampart_store::{BlockQuery, RunStatus};

use crate::support::*;

/// The hostile strings every page must show escaped.
pub const SCRIPT: &str = "<script>alert(1)</script>";
pub const IMG: &str = "\"><img onerror=x>";

/// A logged-in browser: its session cookie and CSRF token.
pub async fn browser(h: &Harness, role: Role) -> (String, String) {
    h.login(&username(role), PASSWORD)
        .await
        .unwrap_or_else(|reply| panic!("login failed: {}", reply.text))
}

/// A page requested by a browser with the session cookie.
pub fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

/// A form posted by a browser with the session cookie (fields URL-encoded).
pub fn post_form(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// Where a `303` after a form sends the browser.
pub fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply.headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// Whether `page` shows `text` HTML-escaped (askama writes `&#60;`, others `&lt;`).
pub fn escaped(page: &str, text: &str) -> bool {
    let numeric = text
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let named = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    page.contains(&numeric) || page.contains(&named)
}

/// Asserts that neither hostile string appears raw in `page`, and that `SCRIPT` appears
/// escaped.
pub fn assert_hostile_escaped(page: &Reply) {
    assert!(!page.text.contains(SCRIPT), "raw script: {}", page.text);
    assert!(
        !page.text.contains("<img onerror"),
        "raw img: {}",
        page.text
    );
    assert!(escaped(&page.text, SCRIPT), "{}", page.text);
}

/// The EDL of `edge` once it holds (or no longer holds) `value`.
pub async fn edl_eventually(h: &Harness, value: &str, present: bool) {
    for _ in 0..300 {
        let reply = h.get("/blocklists/edge/edl-domain", Role::Ingest).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        if reply.text.lines().any(|line| line == value) == present {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{value} present={present} never happened in the edge EDL");
}

/// A run's status as stored now.
pub async fn run_status(h: &Harness, id: i64) -> RunStatus {
    h.store.run(id).await.unwrap().unwrap().0.status
}

/// Waits (up to six seconds) for a run to reach `status`.
pub async fn run_eventually(h: &Harness, id: i64, status: RunStatus) {
    for _ in 0..300 {
        if run_status(h, id).await == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {id} never became {status}");
}

/// The standing entries of `edge` for a domain.
pub async fn standing(h: &Harness, domain: &str) -> Vec<rampart_store::BlockEntry> {
    h.store
        .blocks(&BlockQuery {
            list: Some("edge".into()),
            indicator: Some(Indicator::parse(IndicatorKind::Domain, domain).unwrap()),
            standing_at: Some(jiff::Timestamp::now()),
            ..BlockQuery::default()
        })
        .await
        .unwrap()
}
