//! The RBAC walk: every route of the table (API, dashboard pages, TAXII), with every role, by
//! token and by session, and anonymously; each answers 2xx exactly when the role allows the
//! route's action (pages: a login redirect or a 403 page; TAXII: TAXII error bodies).

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jiff::Timestamp;
use rampart_auth::{ApiToken, Role};
use rampart_model::IndicatorKind;
use rampart_server::auth::Access;
use rampart_server::routes::{Verb, routes};
use rampart_server::taxii::TAXII_MEDIA_TYPE;
use rampart_store::{NewCase, NewTask, NewToken};
use serde_json::{Value, json};
use support::*;

/// What a sample request sends.
enum SampleBody {
    None,
    Json(Value),
    /// A form; `{csrf}` is replaced by the caller's session CSRF token (empty for others),
    /// `{role}` by the caller's role (`anonymous` without one), `{alert}` by the seeded
    /// alert's id.
    Form(&'static str),
    /// A CSV document.
    Csv(&'static str),
}

/// The login form's double-submit token the RBAC walk sends as cookie and field.
const LOGIN_TOKEN: &str = "rbac-walk-login-token";

/// A request for each route of the table that succeeds when `role` may make it (`None`:
/// anonymous). Routes that consume what they act on (removals, revocations) get a fresh
/// target each time. A new route without a sample here fails the RBAC walk.
async fn sample(
    h: &Harness,
    verb: Verb,
    path: &str,
    role: Option<Role>,
) -> Option<(String, SampleBody)> {
    static FRESH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FRESH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let evil = h.ids["evil.example"];
    let alert = h.alert_id;
    let (uri, body) = match (verb, path) {
        (Verb::Get, "/healthz" | "/readyz" | "/api/openapi.json" | "/metrics") => {
            (path.to_owned(), SampleBody::None)
        }
        (Verb::Post, "/api/v1/session") => (
            path.to_owned(),
            SampleBody::Json(json!({"username": username(Role::ReadOnly), "password": PASSWORD})),
        ),
        (Verb::Delete, "/api/v1/session") => (path.to_owned(), SampleBody::None),
        (Verb::Get, "/api/v1/indicators") => {
            ("/api/v1/indicators?q=example".into(), SampleBody::None)
        }
        (Verb::Post, "/api/v1/indicators") => (
            path.to_owned(),
            SampleBody::Json(json!({"kind": "domain", "value": format!("rbac-{n}.example")})),
        ),
        (Verb::Get, "/api/v1/indicators/export") => (
            "/api/v1/indicators/export?format=csv".into(),
            SampleBody::None,
        ),
        (Verb::Post, "/api/v1/indicators/suppress") => (
            path.to_owned(),
            SampleBody::Json(json!({"value": "198.51.100.0/24", "reason": "rbac walk"})),
        ),
        (Verb::Post, "/api/v1/indicators/unsuppress") => {
            let value = format!("unsuppress-{n}.example");
            h.store
                .allow(&rampart_store::AllowEntry {
                    value: value.clone(),
                    reason: "rbac walk".into(),
                    added: Timestamp::now(),
                })
                .await
                .unwrap();
            (path.to_owned(), SampleBody::Json(json!({ "value": value })))
        }
        (Verb::Get, "/api/v1/indicators/{id}") => {
            (format!("/api/v1/indicators/{evil}"), SampleBody::None)
        }
        (Verb::Get, "/api/v1/indicators/{kind}/{value}") => (
            "/api/v1/indicators/domain/evil.example".into(),
            SampleBody::None,
        ),
        (
            Verb::Get,
            "/api/v1/sources" | "/api/v1/alerts" | "/api/v1/assets" | "/api/v1/audit"
            | "/api/v1/rules" | "/api/v1/tokens" | "/api/v1/users",
        ) => (format!("{path}?limit=5"), SampleBody::None),
        (Verb::Post, "/api/v1/assets") => (
            path.to_owned(),
            SampleBody::Csv("name,kind,criticality,networks\nrbac-host,server,2,192.0.2.200\n"),
        ),
        (Verb::Post, "/api/v1/sources") => (
            path.to_owned(),
            SampleBody::Json(json!({"name": "rbac-feed", "format": "text", "url": h.feed_url})),
        ),
        (Verb::Get, "/api/v1/sources/{name}") => {
            ("/api/v1/sources/loopback-feed".into(), SampleBody::None)
        }
        (Verb::Delete, "/api/v1/sources/{name}") => {
            let name = format!("rbac-remove-{n}");
            h.store
                .upsert_source(
                    &rampart_model::SourceInfo::adhoc(name.as_str(), "text"),
                    &json!({}),
                )
                .await
                .unwrap();
            (format!("/api/v1/sources/{name}"), SampleBody::None)
        }
        (Verb::Post, "/api/v1/sources/{name}/pull") => (
            "/api/v1/sources/loopback-feed/pull".into(),
            SampleBody::None,
        ),
        (Verb::Post, "/api/v1/events") => (
            path.to_owned(),
            SampleBody::Json(json!({"destination": {"domain": "evil.example"}})),
        ),
        (Verb::Patch, "/api/v1/rules/{id}") => (
            format!("/api/v1/rules/{RULE_ID}"),
            SampleBody::Json(json!({"level": "critical"})),
        ),
        (Verb::Post, "/api/v1/tokens") => (
            path.to_owned(),
            SampleBody::Json(json!({"name": format!("rbac-{n}"), "expires_in": "1d"})),
        ),
        (Verb::Delete, "/api/v1/tokens/{id}") => {
            let owner = username(role.unwrap_or(Role::ReadOnly));
            let owner = h.store.user(&owner).await.unwrap().unwrap();
            let token = ApiToken::generate().unwrap();
            let record = h
                .store
                .create_token(&NewToken {
                    name: format!("rbac-revoke-{n}"),
                    owner_id: owner.id,
                    role: owner.role,
                    hash: token.hash(),
                    expires: None,
                })
                .await
                .unwrap();
            (format!("/api/v1/tokens/{}", record.id), SampleBody::None)
        }
        (Verb::Post, "/api/v1/users") => (
            path.to_owned(),
            SampleBody::Json(json!({
                "username": format!("rbac-user-{n}"),
                "role": "read_only",
                "password": PASSWORD,
            })),
        ),
        (Verb::Patch, "/api/v1/users/{name}") => (
            format!("/api/v1/users/{}", username(Role::Ingest)),
            SampleBody::Json(json!({"disabled": false})),
        ),
        (Verb::Post, "/api/v1/alerts/{id}/acknowledge") => (
            format!("/api/v1/alerts/{alert}/acknowledge"),
            SampleBody::None,
        ),
        // A false positive suppresses the alert's indicator: each call marks an alert of its
        // own, so that the seeded indicator stays published for the TAXII samples.
        (Verb::Post, "/api/v1/alerts/{id}/false-positive") => (
            format!("/api/v1/alerts/{}/false-positive", fresh_alert(h, n).await),
            SampleBody::Json(json!({"note": "rbac walk"})),
        ),
        // The respond stage.
        (Verb::Get, "/blocklists/{list}/{format}") => {
            ("/blocklists/edge/edl-domain".into(), SampleBody::None)
        }
        (Verb::Get, "/api/v1/blocklists" | "/api/v1/playbooks") => {
            (path.to_owned(), SampleBody::None)
        }
        (Verb::Get, "/api/v1/blocklists/{list}/entries") => (
            "/api/v1/blocklists/edge/entries?standing=false".into(),
            SampleBody::None,
        ),
        (Verb::Post, "/api/v1/blocklists/{list}/entries") => (
            "/api/v1/blocklists/edge/entries".into(),
            SampleBody::Json(
                json!({"value": format!("block-{n}.rbac.example"), "reason": "rbac walk"}),
            ),
        ),
        (Verb::Delete, "/api/v1/blocklists/{list}/entries/{id}") => {
            let id = block_by_store(h, &format!("unblock-{n}.rbac.example")).await;
            (
                format!("/api/v1/blocklists/edge/entries/{id}"),
                SampleBody::None,
            )
        }
        (Verb::Get, "/api/v1/playbooks/{name}") => {
            ("/api/v1/playbooks/approve-block".into(), SampleBody::None)
        }
        (Verb::Put, "/api/v1/playbooks/{name}") => (
            "/api/v1/playbooks/approve-block".into(),
            SampleBody::Json(json!({"source": APPROVAL_PLAYBOOK})),
        ),
        (Verb::Get, "/api/v1/runs") => ("/api/v1/runs?limit=5".into(), SampleBody::None),
        (Verb::Get, "/api/v1/runs/{id}") | (Verb::Post, "/api/v1/runs/{id}/rollback") => {
            let id = h.waiting_run("rbac-run.example").await;
            (path.replace("{id}", &id.to_string()), SampleBody::None)
        }
        (Verb::Post, "/api/v1/runs/{id}/approve" | "/api/v1/runs/{id}/reject") => {
            let id = h.waiting_run(&format!("decide-{n}.rbac.example")).await;
            (path.replace("{id}", &id.to_string()), SampleBody::None)
        }
        // Cases: each change acts on a case of its own, so that lifecycle steps and merges
        // never meet a case an earlier caller already moved.
        (Verb::Get, "/api/v1/cases") => {
            ("/api/v1/cases?open=true&limit=5".into(), SampleBody::None)
        }
        (Verb::Post, "/api/v1/cases") => (
            path.to_owned(),
            SampleBody::Json(json!({"title": format!("rbac case {n}"), "severity": "low"})),
        ),
        (Verb::Get, "/api/v1/cases/{id}") => (
            format!("/api/v1/cases/{}", fresh_case(h, n).await),
            SampleBody::None,
        ),
        (Verb::Patch, "/api/v1/cases/{id}") => (
            format!("/api/v1/cases/{}", fresh_case(h, n).await),
            SampleBody::Json(json!({"severity": "high", "tags": ["rbac"]})),
        ),
        (Verb::Post, "/api/v1/cases/{id}/status") => (
            format!("/api/v1/cases/{}/status", fresh_case(h, n).await),
            SampleBody::Json(json!({"status": "in_progress"})),
        ),
        (Verb::Post, "/api/v1/cases/{id}/merge") => {
            let into = fresh_case(h, n).await;
            let from = fresh_case(h, n).await;
            (
                format!("/api/v1/cases/{into}/merge"),
                SampleBody::Json(json!({ "from": from })),
            )
        }
        (Verb::Post, "/api/v1/cases/{id}/tasks") => (
            format!("/api/v1/cases/{}/tasks", fresh_case(h, n).await),
            SampleBody::Json(json!({"title": "Collect the logs"})),
        ),
        (Verb::Patch, "/api/v1/cases/{id}/tasks/{task}") => {
            let (case, task) = fresh_task(h, n).await;
            (
                format!("/api/v1/cases/{case}/tasks/{task}"),
                SampleBody::Json(json!({"status": "done"})),
            )
        }
        (Verb::Post, "/api/v1/cases/{id}/observables") => (
            format!("/api/v1/cases/{}/observables", fresh_case(h, n).await),
            SampleBody::Json(json!({"kind": "domain", "value": "evil.example", "ioc": true})),
        ),
        (Verb::Post, "/api/v1/cases/{id}/comments") => (
            format!("/api/v1/cases/{}/comments", fresh_case(h, n).await),
            SampleBody::Json(json!({"message": "rbac walk"})),
        ),
        (Verb::Post, "/api/v1/cases/{id}/alerts") => (
            format!("/api/v1/cases/{}/alerts", fresh_case(h, n).await),
            SampleBody::Json(json!({ "alerts": [alert] })),
        ),
        (Verb::Delete, "/api/v1/cases/{id}/alerts/{alert}") => {
            let case = case_with_alert(h, n).await;
            (
                format!("/api/v1/cases/{case}/alerts/{alert}"),
                SampleBody::None,
            )
        }
        (Verb::Get, "/api/v1/cases/{id}/export") => (
            format!(
                "/api/v1/cases/{}/export?format=json",
                fresh_case(h, n).await
            ),
            SampleBody::None,
        ),
        (Verb::Post, "/api/v1/cases/{id}/push") => (
            format!("/api/v1/cases/{}/push", fresh_case(h, n).await),
            SampleBody::Json(json!({ "url": h.hook_url })),
        ),
        (Verb::Post, "/api/v1/alerts/import") => (
            path.to_owned(),
            SampleBody::Json(json!({
                "type": "external", "source": "rbac", "sourceRef": format!("rbac-{n}"),
                "title": "Imported in the RBAC walk", "severity": 2,
            })),
        ),
        (Verb::Post, "/api/v1/alerts/group") => (
            path.to_owned(),
            SampleBody::Json(json!({ "alerts": [alert] })),
        ),
        (Verb::Get, "/cases") => ("/cases?status=all&q=rbac".into(), SampleBody::None),
        (Verb::Post, "/cases") => (
            path.to_owned(),
            SampleBody::Form("csrf={csrf}&title=opened+by+{role}&severity=low"),
        ),
        (Verb::Get, "/cases/{id}") => (
            format!("/cases/{}", fresh_case(h, n).await),
            SampleBody::None,
        ),
        (Verb::Post, "/cases/{id}/status") => (
            format!("/cases/{}/status", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&status=in_progress"),
        ),
        (Verb::Post, "/cases/{id}/assign") => (
            format!("/cases/{}/assign", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&assignee=analyst-user"),
        ),
        (Verb::Post, "/cases/{id}/comments") => (
            format!("/cases/{}/comments", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&message=rbac+walk"),
        ),
        (Verb::Post, "/cases/{id}/tasks") => (
            format!("/cases/{}/tasks", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&title=Contain"),
        ),
        (Verb::Post, "/cases/{id}/tasks/{task}") => {
            let (case, task) = fresh_task(h, n).await;
            (
                format!("/cases/{case}/tasks/{task}"),
                SampleBody::Form("csrf={csrf}&status=in_progress"),
            )
        }
        (Verb::Post, "/cases/{id}/observables") => (
            format!("/cases/{}/observables", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&kind=ipv4&value=203.0.113.66&ioc=on"),
        ),
        (Verb::Post, "/cases/{id}/alerts") => (
            format!("/cases/{}/alerts", fresh_case(h, n).await),
            SampleBody::Form("csrf={csrf}&alerts={alert}"),
        ),
        (Verb::Post, "/cases/{id}/alerts/{alert}/unlink") => {
            let case = case_with_alert(h, n).await;
            (
                format!("/cases/{case}/alerts/{alert}/unlink"),
                SampleBody::Form("csrf={csrf}"),
            )
        }
        // The dashboard.
        (Verb::Get, "/static/rampart.css" | "/login" | "/" | "/feeds" | "/assets" | "/rules") => {
            (path.to_owned(), SampleBody::None)
        }
        (Verb::Post, "/login") => (
            path.to_owned(),
            SampleBody::Form(
                "csrf=rbac-walk-login-token&username=read-only-user&password=correct+horse+battery+staple&next=%2Falerts",
            ),
        ),
        (Verb::Post, "/logout") => (path.to_owned(), SampleBody::Form("csrf={csrf}")),
        (Verb::Get, "/indicators") => ("/indicators?q=evil".into(), SampleBody::None),
        (Verb::Get, "/indicators/{id}") => (format!("/indicators/{evil}"), SampleBody::None),
        (Verb::Post, "/indicators/suppress") => (
            path.to_owned(),
            SampleBody::Form(
                "csrf={csrf}&value={role}.rbac.example&reason=rbac+walk&back=%2Findicators",
            ),
        ),
        // Each role lifts the entry it made with the suppress page just before (routes run in
        // table order): lifting an entry that is gone answers 404.
        (Verb::Post, "/indicators/unsuppress") => (
            path.to_owned(),
            SampleBody::Form("csrf={csrf}&value={role}.rbac.example&back=%2Findicators"),
        ),
        (Verb::Post, "/feeds/{name}/pull") => (
            "/feeds/loopback-feed/pull".into(),
            SampleBody::Form("csrf={csrf}"),
        ),
        (Verb::Post, "/rules/{id}") => (
            format!("/rules/{RULE_ID}"),
            SampleBody::Form("csrf={csrf}&enabled=true&level=high&back=%2Frules"),
        ),
        (Verb::Get, "/alerts") => ("/alerts?status=queue".into(), SampleBody::None),
        (Verb::Post, "/alerts/{id}/acknowledge") => (
            format!("/alerts/{alert}/acknowledge"),
            SampleBody::Form("csrf={csrf}&note=rbac+walk"),
        ),
        (Verb::Post, "/alerts/{id}/false-positive") => (
            format!("/alerts/{}/false-positive", fresh_alert(h, n).await),
            SampleBody::Form("csrf={csrf}"),
        ),
        // The respond stage's pages.
        (Verb::Get, "/playbooks" | "/blocklists") => (path.to_owned(), SampleBody::None),
        (Verb::Get, "/runs") => ("/runs?status=waiting".into(), SampleBody::None),
        (Verb::Get, "/playbooks/{name}") => ("/playbooks/approve-block".into(), SampleBody::None),
        (Verb::Post, "/playbooks/{name}") => (
            "/playbooks/approve-block".into(),
            SampleBody::Form(PLAYBOOK_FORM.as_str()),
        ),
        (Verb::Get, "/runs/{id}") => {
            let id = h.waiting_run("rbac-page-run.example").await;
            (format!("/runs/{id}"), SampleBody::None)
        }
        (Verb::Post, "/runs/{id}/rollback") => {
            let id = h.waiting_run("rbac-page-run.example").await;
            (
                format!("/runs/{id}/rollback"),
                SampleBody::Form("csrf={csrf}"),
            )
        }
        (Verb::Post, "/runs/{id}/approve" | "/runs/{id}/reject") => {
            let id = h
                .waiting_run(&format!("page-decide-{n}.rbac.example"))
                .await;
            (
                path.replace("{id}", &id.to_string()),
                SampleBody::Form("csrf={csrf}"),
            )
        }
        (Verb::Post, "/blocklists/{list}/entries") => (
            "/blocklists/edge/entries".into(),
            SampleBody::Form("csrf={csrf}&value={role}.page-block.rbac.example&reason=rbac+walk"),
        ),
        (Verb::Post, "/blocklists/{list}/entries/{id}/remove") => {
            let id = block_by_store(h, &format!("page-unblock-{n}.rbac.example")).await;
            (
                format!("/blocklists/edge/entries/{id}/remove"),
                SampleBody::Form("csrf={csrf}"),
            )
        }
        _ if path.starts_with("/taxii2/") => return taxii_sample(h, verb, path),
        _ => return None,
    };
    Some((uri, body))
}

/// A new alert (an indicator match on a value of its own), recorded in the store directly.
async fn fresh_alert(h: &Harness, n: usize) -> i64 {
    let alert = rampart_model::Alert::new(
        rampart_model::Detection::Indicator {
            id: 0,
            kind: IndicatorKind::Domain,
            value: format!("fp-{n}.rbac.example"),
            score: 60.0,
            sources: vec!["seed".into()],
        },
        rampart_model::Severity::Low,
        vec![],
        vec![],
        rampart_model::EventRef::line("rbac.jsonl", n as u64),
        Timestamp::now(),
    );
    h.store
        .record_alerts(std::slice::from_ref(&alert))
        .await
        .unwrap();
    h.store
        .alert_by_key(&alert.key, alert.first_seen)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A new case, opened in the store directly.
async fn fresh_case(h: &Harness, n: usize) -> i64 {
    h.store
        .create_case(&NewCase::new(
            format!("rbac walk {n}"),
            rampart_model::Severity::Medium,
            "user:rbac",
        ))
        .await
        .unwrap()
        .id
}

/// A new case with one task: (case, task).
async fn fresh_task(h: &Harness, n: usize) -> (i64, i64) {
    let case = fresh_case(h, n).await;
    let task = h
        .store
        .add_task(case, &NewTask::titled("Triage"), "user:rbac")
        .await
        .unwrap();
    (case, task.id)
}

/// A new case holding the seeded alert (taken from whichever case had it).
async fn case_with_alert(h: &Harness, n: usize) -> i64 {
    let case = fresh_case(h, n).await;
    h.store
        .link_alerts(case, &[h.alert_id], "user:rbac")
        .await
        .unwrap();
    case
}

/// Puts a domain on the block list `edge` as a playbook would; the entry's id.
async fn block_by_store(h: &Harness, domain: &str) -> i64 {
    let indicator = rampart_model::Indicator::parse(IndicatorKind::Domain, domain).unwrap();
    let outcomes = h
        .store
        .add_blocks(
            &[rampart_store::NewBlock {
                list: "edge".into(),
                indicator,
                reason: "rbac walk".into(),
                added_by: "rbac".into(),
                run_id: None,
                expires: None,
            }],
            Timestamp::now(),
        )
        .await
        .unwrap();
    outcomes[0].id()
}

/// The playbook page's form saving the harness's playbook unchanged.
static PLAYBOOK_FORM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let source: String =
        url::form_urlencoded::byte_serialize(APPROVAL_PLAYBOOK.as_bytes()).collect();
    format!("csrf={{csrf}}&source={source}")
});

/// Whether a reply is the dashboard sending a browser to log in.
fn sent_to_login(reply: &Reply) -> bool {
    reply.status == StatusCode::SEE_OTHER
        && reply.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
}

/// The TAXII routes' samples: the default collection's evil.example, the set-up POST's status.
fn taxii_sample(h: &Harness, verb: Verb, path: &str) -> Option<(String, SampleBody)> {
    let collection = rampart_server::taxii::config::DEFAULT_COLLECTION_ID.to_string();
    let object = rampart_intel::export::stix::indicator_id(IndicatorKind::Domain, "evil.example");
    let uri = path
        .replace("{api_root}", "rampart")
        .replace("{object_id}", &object)
        .replace("{status_id}", &h.taxii_status);
    let body = match verb {
        Verb::Post => {
            let uri = uri.replace("{id}", TAXII_INBOX);
            return Some((uri, SampleBody::Json(taxii_envelope())));
        }
        Verb::Get => SampleBody::None,
        _ => return None,
    };
    Some((uri.replace("{id}", &collection), body))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Caller {
    Anonymous,
    Token(Role),
    Session(Role),
}

#[tokio::test]
async fn rbac_every_route_with_every_role() {
    let mut h = harness().await;
    h.taxii_status = h.post_taxii().await;
    let mut callers = vec![Caller::Anonymous];
    callers.extend(Role::ALL.map(Caller::Token));
    callers.extend(Role::ALL.map(Caller::Session));
    let mut checked = 0;
    for route in routes() {
        for caller in &callers {
            let role = match caller {
                Caller::Anonymous => None,
                Caller::Token(role) | Caller::Session(role) => Some(*role),
            };
            let (uri, body) = sample(&h, route.verb, route.path, role)
                .await
                .unwrap_or_else(|| panic!("no RBAC sample for {:?} {}", route.verb, route.path));
            let mut request = Request::builder().method(route.verb.method()).uri(&uri);
            let mut csrf = String::new();
            let role_name = match role {
                None => "anonymous".to_owned(),
                Some(role) => role.as_str().replace('_', "-"),
            };
            match caller {
                Caller::Anonymous => {}
                Caller::Token(role) => {
                    request =
                        request.header(header::AUTHORIZATION, format!("Bearer {}", h.token(*role)));
                }
                Caller::Session(role) => {
                    // A fresh session each time: the logout routes end the one they are sent
                    // with.
                    let (cookie, token) = h.login(&username(*role), PASSWORD).await.ok().unwrap();
                    request = request
                        .header(header::COOKIE, cookie)
                        .header("X-CSRF-Token", &token);
                    csrf = token;
                }
            }
            if route.path == "/login" && route.verb == Verb::Post {
                request = request.header(header::COOKIE, format!("rampart_login={LOGIN_TOKEN}"));
            }
            let is_taxii = route.path.starts_with("/taxii2/");
            let request = match &body {
                SampleBody::Json(body) => request
                    .header(
                        header::CONTENT_TYPE,
                        if is_taxii {
                            TAXII_MEDIA_TYPE
                        } else {
                            "application/json"
                        },
                    )
                    .body(Body::from(body.to_string())),
                SampleBody::Form(form) => request
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(
                        form.replace("{csrf}", &csrf)
                            .replace("{role}", &role_name)
                            .replace("{alert}", &h.alert_id.to_string()),
                    )),
                SampleBody::Csv(csv) => request
                    .header(header::CONTENT_TYPE, "text/csv")
                    .body(Body::from(*csv)),
                SampleBody::None => request.body(Body::empty()),
            }
            .unwrap();
            let reply = h.send(request).await;
            let context = format!(
                "{caller:?} {:?} {} → {}: {}",
                route.verb, route.path, reply.status, reply.text
            );
            // Pages look at browser sessions only: without one (anonymous, or an API token)
            // the browser is sent to the login form; a role without the action gets a 403
            // page; anything else is a page or a redirect after a form.
            if let Access::Page(action) = route.access {
                match caller {
                    Caller::Anonymous | Caller::Token(_) => {
                        assert!(
                            sent_to_login(&reply),
                            "expected a login redirect: {context}"
                        );
                    }
                    Caller::Session(role) if action.is_some_and(|action| !role.allows(action)) => {
                        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{context}");
                        assert!(
                            reply.headers[header::CONTENT_TYPE]
                                .to_str()
                                .unwrap()
                                .starts_with("text/html"),
                            "{context}"
                        );
                    }
                    Caller::Session(_) => {
                        let redirected =
                            reply.status == StatusCode::SEE_OTHER && !sent_to_login(&reply);
                        assert!(
                            reply.status.is_success() || redirected,
                            "expected a page: {context}"
                        );
                    }
                }
                checked += 1;
                continue;
            }
            let expected = match (route.access, caller) {
                (Access::Public, _) => None,
                (_, Caller::Anonymous) => Some(StatusCode::UNAUTHORIZED),
                (Access::Session, Caller::Token(_)) => Some(StatusCode::FORBIDDEN),
                (Access::Session, Caller::Session(_)) => None,
                (Access::Action(action), Caller::Token(role) | Caller::Session(role)) => {
                    (!role.allows(action)).then_some(StatusCode::FORBIDDEN)
                }
                // No client address reaches the router here, so no allowlist applies.
                (Access::Fetch, Caller::Token(role) | Caller::Session(role)) => (!role
                    .allows(rampart_auth::Action::FetchBlocklists))
                .then_some(StatusCode::FORBIDDEN),
                (Access::Page(_), _) => unreachable!("pages are checked above"),
            };
            match expected {
                // A public page may send a logged-in browser on (`/login` → `/`).
                None => assert!(
                    reply.status.is_success()
                        || (route.page && reply.status == StatusCode::SEE_OTHER),
                    "expected 2xx: {context}"
                ),
                Some(status) if is_taxii => {
                    // TAXII routes answer TAXII error messages.
                    assert_eq!(reply.status, status, "{context}");
                    assert_eq!(reply.body["http_status"], status.as_str(), "{context}");
                    assert!(reply.body["title"].is_string(), "{context}");
                }
                Some(status) => {
                    assert_eq!(reply.status, status, "{context}");
                    let code = if status == StatusCode::UNAUTHORIZED {
                        "unauthorized"
                    } else {
                        "forbidden"
                    };
                    assert_eq!(reply.body["error"]["code"], code, "{context}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, routes().len() * 9);
    // Every action a route needs was seen allowed and refused.
    assert!(
        routes()
            .iter()
            .any(|route| route.access == Access::Action(rampart_auth::Action::ReadAudit))
    );
}
