//! The dashboard's management forms through the router: "pull now" on the feeds page and the
//! rules page's per-rule overrides, each doing what the API does (same code, same audit), and
//! hostile values shown escaped.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rampart_auth::Role;
use rampart_model::{Indicator, IndicatorKind};
use support::*;

/// A logged-in browser: its session cookie and CSRF token.
async fn browser(h: &Harness, role: Role) -> (String, String) {
    h.login(&username(role), PASSWORD)
        .await
        .unwrap_or_else(|reply| panic!("login failed: {}", reply.text))
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn post_form(path: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// Whether `page` shows `text` HTML-escaped (askama writes `&#60;`, others `&lt;`).
fn escaped(page: &str, text: &str) -> bool {
    let numeric = text.replace('<', "&#60;").replace('>', "&#62;");
    let named = text.replace('<', "&lt;").replace('>', "&gt;");
    page.contains(&numeric) || page.contains(&named)
}

#[tokio::test]
async fn feeds_page_pulls_a_feed_now_for_roles_that_may() {
    let h = harness().await;
    let (cookie, csrf) = browser(&h, Role::Admin).await;
    let page = h.send(get("/feeds", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("action=\"/feeds/loopback-feed/pull\""));

    let before = h
        .store
        .indicator(&Indicator::parse(IndicatorKind::Domain, "bad.example").unwrap())
        .await
        .unwrap();
    assert!(
        before.is_none(),
        "the feed's value is there before the pull"
    );
    let pulled = h
        .send(post_form(
            "/feeds/loopback-feed/pull",
            &cookie,
            format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(pulled.status, StatusCode::SEE_OTHER, "{}", pulled.text);
    let location = pulled.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with("/feeds?pulled=loopback-feed&outcome=imported"),
        "{location}"
    );
    for (kind, value) in [
        (IndicatorKind::Ipv4, "198.51.100.7"),
        (IndicatorKind::Domain, "bad.example"),
    ] {
        let found = h
            .store
            .indicator(&Indicator::parse(kind, value).unwrap())
            .await
            .unwrap();
        assert!(found.is_some(), "{value} not imported by the pull");
    }
    let shown = h.send(get(&location, &cookie)).await;
    assert!(
        shown
            .text
            .contains("Pull of <strong>loopback-feed</strong>: imported: 2 new"),
        "{}",
        shown.text
    );
    assert!(
        h.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "source.pull"),
        "the pull is not audited"
    );

    // The flash is attacker-reachable (a link): shown escaped.
    let hostile = h
        .send(get(
            "/feeds?pulled=%3Cscript%3Ex%3C%2Fscript%3E&outcome=%3Cimg+src%3Dx%3E",
            &cookie,
        ))
        .await;
    assert!(!hostile.text.contains("<script>x"));
    assert!(!hostile.text.contains("<img src=x>"));
    assert!(escaped(&hostile.text, "<script>x"), "{}", hostile.text);

    // A missing feed is an outcome on the page, not an error page.
    let missing = h
        .send(post_form(
            "/feeds/no-such-feed/pull",
            &cookie,
            format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(missing.status, StatusCode::SEE_OTHER);
    assert!(
        missing.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .contains("outcome=failed")
    );

    // A read-only role sees no pull form, and may not post one.
    let (cookie, csrf) = browser(&h, Role::ReadOnly).await;
    let page = h.send(get("/feeds", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("loopback-feed"));
    assert!(!page.text.contains("/pull\""));
    let refused = h
        .send(post_form(
            "/feeds/loopback-feed/pull",
            &cookie,
            format!("csrf={csrf}"),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rules_page_lists_the_packs_and_changes_a_rule_through_its_form() {
    let h = harness().await;
    let (cookie, csrf) = browser(&h, Role::Analyst).await;
    let page = h.send(get("/rules", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(RULE_ID));
    assert!(page.text.contains("next start of detection"));
    // The rule's title is `Test <b>rule</b>`: shown escaped.
    assert!(!page.text.contains("<b>rule</b>"));
    assert!(escaped(&page.text, "Test <b>rule</b>"), "{}", page.text);
    assert!(page.text.contains(&format!("action=\"/rules/{RULE_ID}\"")));
    // Filters: another pack, or a search that misses, shows no rule; a hostile query is
    // echoed escaped.
    let other = h.send(get("/rules?pack=sigmahq", &cookie)).await;
    assert!(!other.text.contains(&format!("id=\"rule-{RULE_ID}\"")));
    let missed = h
        .send(get(
            "/rules?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            &cookie,
        ))
        .await;
    assert!(!missed.text.contains(&format!("id=\"rule-{RULE_ID}\"")));
    assert!(!missed.text.contains("<script>alert(1)"));
    let found = h.send(get("/rules?pack=local&q=TEST+%3Cb", &cookie)).await;
    assert!(found.text.contains(&format!("id=\"rule-{RULE_ID}\"")));

    let changed = h
        .send(post_form(
            &format!("/rules/{RULE_ID}"),
            &cookie,
            format!("csrf={csrf}&enabled=false&level=critical&back=%2Frules%3Fpack%3Dlocal"),
        ))
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
    assert_eq!(
        changed.headers[header::LOCATION],
        format!("/rules?pack=local#rule-{RULE_ID}").as_str()
    );
    let state = rampart_detect::packs::RuleState::load(&h.dir.path().join("rules.json")).unwrap();
    assert!(!state.is_enabled(RULE_ID));
    assert_eq!(
        state.level_of(RULE_ID, rampart_model::Severity::High),
        rampart_model::Severity::Critical
    );
    assert!(
        h.audit_actions()
            .await
            .iter()
            .any(|(action, _)| action == "rule.change")
    );
    let overridden = h.send(get("/rules?overridden=true", &cookie)).await;
    assert!(overridden.text.contains("disabled"));
    assert!(overridden.text.contains("overridden; own high"));

    // Back to the rule's own level and enabled; an unknown level is refused.
    let reset = h
        .send(post_form(
            &format!("/rules/{RULE_ID}"),
            &cookie,
            format!("csrf={csrf}&enabled=true&level=default"),
        ))
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    let state = rampart_detect::packs::RuleState::load(&h.dir.path().join("rules.json")).unwrap();
    assert!(state.is_enabled(RULE_ID));
    assert_eq!(
        state.level_of(RULE_ID, rampart_model::Severity::High),
        rampart_model::Severity::High
    );
    let bad = h
        .send(post_form(
            &format!("/rules/{RULE_ID}"),
            &cookie,
            format!("csrf={csrf}&level=%3Cscript%3E"),
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!bad.text.contains("<script>"));

    // A read-only role sees the rules but no forms.
    let (cookie, _) = browser(&h, Role::ReadOnly).await;
    let page = h.send(get("/rules", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(RULE_ID));
    assert!(!page.text.contains("action=\"/rules/"));
}

#[tokio::test]
async fn overview_shows_the_running_matcher() {
    let h = harness().await;
    let (cookie, _) = browser(&h, Role::ReadOnly).await;
    let page = h.send(get("/", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let start = page.text.find("id=\"matcher\"").expect("no matcher line");
    let line = &page.text[start..][..page.text[start..].find("</li>").unwrap()];
    // The harness's matcher holds the seeded indicators (more than none).
    assert!(line.contains("matcher: "), "{line}");
    assert!(!line.contains("matcher: 0 entries"), "{line}");
    assert!(!line.contains("not running"), "{line}");
}
