//! The respond stage's dashboard pages through the router, as seen: playbooks (listed with
//! their load problems, shown, edited with located errors), runs and block lists, for a
//! read-only account and with attacker-written text shown escaped. The forms that decide
//! approvals and block values are in `respond_forms.rs`.

mod respond_support;
mod support;

use axum::http::StatusCode;
use rampart_auth::Role;
use rampart_store::RunStatus;
use respond_support::*;
use serde_json::json;
use support::*;

/// A disabled playbook (started by hand only) whose description and approval message are
/// hostile.
const HOSTILE_PLAYBOOK: &str = "name: hostile\n\
    description: '<script>alert(1)</script> \"><img onerror=x>'\n\
    enabled: false\n\
    trigger: {indicator: {kinds: [domain]}}\n\
    actions:\n  \
    - approve: {timeout: 2h, default: reject, message: 'block {{indicator.value}}? <script>alert(1)</script>'}\n  \
    - block: {list: edge}\n";

/// A playbook file that does not load: its block list is not configured (line 4).
const BROKEN_PLAYBOOK: &str = "name: broken\ntrigger: {indicator: {kinds: [domain]}}\nactions:\n  \
    - block: {list: nowhere}\n";

#[tokio::test]
async fn read_only_sees_every_respond_page_with_hostile_text_escaped() {
    let h = harness().await;
    let playbooks = h.dir.path().join("playbooks");
    std::fs::write(playbooks.join("hostile.yaml"), HOSTILE_PLAYBOOK).unwrap();
    std::fs::write(playbooks.join("broken.yaml"), BROKEN_PLAYBOOK).unwrap();
    h.responder.reload_playbooks();
    // A run of the hostile playbook waiting at its approval, started with a hostile label.
    let run = {
        let engine = h.responder.engine();
        let library = engine.library();
        let playbook = library.get("hostile").expect("the hostile playbook loads");
        let facts = rampart_respond::playbook::Facts::new(
            json!({"indicator": {"kind": "domain", "value": "asked.example"}}),
        );
        engine
            .start(
                playbook,
                &facts,
                json!({"type": "indicator", "id": 7, "label": format!("{SCRIPT}{IMG}")}),
            )
            .await
            .unwrap()
    };
    run_eventually(&h, run, RunStatus::Waiting).await;
    // An entry with a hostile reason.
    let added = h
        .call(
            axum::http::Method::POST,
            "/api/v1/blocklists/edge/entries",
            Role::Analyst,
            Some(&json!({"value": "reasoned.example", "reason": format!("{SCRIPT} {IMG}")})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);

    let (cookie, _) = browser(&h, Role::ReadOnly).await;

    let list = h.send(get("/playbooks", &cookie)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("href=\"/playbooks/approve-block\""));
    assert!(list.text.contains("block after an approval"));
    assert!(list.text.contains("approve → block"));
    assert!(
        list.text.contains("badge never\">disabled"),
        "{}",
        list.text
    );
    let problems = &list.text[list.text.find("id=\"problems\"").expect("no problems box")..];
    assert!(
        problems.contains("broken.yaml:4: unknown block list"),
        "{problems}"
    );
    assert_hostile_escaped(&list);

    let shown = h.send(get("/playbooks/hostile", &cookie)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("<pre class=\"source\">"));
    assert!(
        !shown.text.contains("<textarea"),
        "read-only gets an editor"
    );
    assert_hostile_escaped(&shown);
    let digest = h
        .responder
        .engine()
        .library()
        .get("hostile")
        .unwrap()
        .digest
        .clone();
    assert!(shown.text.contains(&digest));
    let missing = h.send(get("/playbooks/nowhere", &cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let runs = h.send(get("/runs", &cookie)).await;
    assert_eq!(runs.status, StatusCode::OK, "{}", runs.text);
    let pending = &runs.text[runs.text.find("id=\"approvals\"").unwrap()..];
    let row = &pending[pending
        .find(&format!("id=\"pending-{run}\""))
        .expect("the waiting run is not among the approvals")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("hostile"), "{row}");
    assert!(row.contains("block asked.example?"), "{row}");
    assert!(row.contains("indicator #7"), "{row}");
    assert!(row.contains("then: reject"), "{row}");
    assert!(row.contains(" UTC"), "no deadline: {row}");
    assert!(
        !runs.text.contains("/approve\""),
        "read-only gets approve forms"
    );
    assert_hostile_escaped(&runs);
    let waiting = h.send(get("/runs?status=waiting", &cookie)).await;
    assert!(waiting.text.contains(&format!("id=\"run-{run}\"")));
    let done = h.send(get("/runs?status=succeeded", &cookie)).await;
    assert!(!done.text.contains(&format!("id=\"run-{run}\"")));

    let detail = h.send(get(&format!("/runs/{run}"), &cookie)).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert!(
        detail.text.contains("id=\"status\">waiting"),
        "{}",
        detail.text
    );
    assert!(detail.text.contains("id=\"step-0\""));
    assert!(
        detail.text.contains("&#34;deadline&#34;") || detail.text.contains("&quot;deadline&quot;")
    );
    assert!(
        !detail.text.contains("/rollback\""),
        "read-only gets a roll-back form"
    );
    assert!(!detail.text.contains("/approve\""));
    assert_hostile_escaped(&detail);
    for bad in ["/runs/999999", "/runs/x"] {
        let reply = h.send(get(bad, &cookie)).await;
        assert!(reply.status.is_client_error(), "{bad}: {}", reply.status);
    }

    let lists = h.send(get("/blocklists", &cookie)).await;
    assert_eq!(lists.status, StatusCode::OK, "{}", lists.text);
    assert!(lists.text.contains("id=\"list-edge\""));
    for format in ["edl-domain", "rpz"] {
        assert!(
            lists
                .text
                .contains(&format!("href=\"/blocklists/edge/{format}\"")),
            "{format}"
        );
    }
    assert!(lists.text.contains("reasoned.example"));
    assert!(lists.text.contains("indicators from score 50"));
    assert!(
        !lists.text.contains("/entries\""),
        "read-only gets a block form"
    );
    assert!(
        !lists.text.contains("/remove\""),
        "read-only gets unblock forms"
    );
    assert_hostile_escaped(&lists);
    // The notice after a form comes from the address: shown escaped too.
    let notice = h
        .send(get(
            "/blocklists?blocked=%3Cscript%3Ealert(1)%3C%2Fscript%3E&on=edge",
            &cookie,
        ))
        .await;
    assert_hostile_escaped(&notice);

    // The navigation links the three pages.
    for href in ["/playbooks", "/runs", "/blocklists"] {
        assert!(
            lists.text.contains(&format!("<a href=\"{href}\"")),
            "{href}"
        );
    }
}

#[tokio::test]
async fn a_playbook_is_edited_through_its_page_and_a_bad_edit_keeps_the_running_version() {
    let h = harness().await;
    let file = h.dir.path().join("playbooks").join("approve-block.yaml");
    let digest = || {
        h.responder
            .engine()
            .library()
            .get("approve-block")
            .unwrap()
            .digest
            .clone()
    };
    let before = digest();
    let (cookie, csrf) = browser(&h, Role::Analyst).await;

    let page = h.send(get("/playbooks/approve-block", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("action=\"/playbooks/approve-block\""));
    assert!(page.text.contains("<textarea name=\"source\""));
    assert!(page.text.contains("name: approve-block"));

    // A file that does not load: the error with its line, the text as sent, 422.
    let broken = APPROVAL_PLAYBOOK.replace("list: edge", "list: nowhere");
    let refused = h
        .send(post_form(
            "/playbooks/approve-block",
            &cookie,
            &[("csrf", &csrf), ("source", &broken)],
        ))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let error = &refused.text[refused.text.find("id=\"error\"").expect("no error box")..];
    assert!(error.contains(":6: unknown block list"), "{error}");
    assert!(error.contains("approve-block.yaml"), "{error}");
    assert!(
        refused.text.contains("list: nowhere"),
        "the text sent is lost"
    );
    assert_eq!(digest(), before, "the running version changed");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), APPROVAL_PLAYBOOK);
    // A file naming another playbook is refused too.
    let renamed = APPROVAL_PLAYBOOK.replace("name: approve-block", "name: other");
    let refused = h
        .send(post_form(
            "/playbooks/approve-block",
            &cookie,
            &[("csrf", &csrf), ("source", &renamed)],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text.contains("not &#34;approve-block&#34;")
            || refused.text.contains("not &quot;approve-block&quot;"),
        "{}",
        refused.text
    );

    // Without the CSRF token: refused, nothing written.
    let edited = APPROVAL_PLAYBOOK.replace("block after an approval", "block once approved");
    let forged = h
        .send(post_form(
            "/playbooks/approve-block",
            &cookie,
            &[("source", &edited)],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(digest(), before);

    // A good edit, with the CRLF line breaks browsers send: saved with LF, loaded, shown.
    let saved = h
        .send(post_form(
            "/playbooks/approve-block",
            &cookie,
            &[("csrf", &csrf), ("source", &edited.replace('\n', "\r\n"))],
        ))
        .await;
    let back = location(&saved);
    assert_eq!(back, "/playbooks/approve-block?saved=1");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
    assert_ne!(digest(), before);
    let shown = h.send(get(&back, &cookie)).await;
    assert!(shown.text.contains("Saved and loaded."));
    assert!(shown.text.contains("block once approved"));
    assert!(
        h.audit_actions()
            .await
            .contains(&("playbook.save".into(), "success".into()))
    );

    // A read-only role may look but not save.
    let (cookie, csrf) = browser(&h, Role::ReadOnly).await;
    let refused = h
        .send(post_form(
            "/playbooks/approve-block",
            &cookie,
            &[("csrf", &csrf), ("source", APPROVAL_PLAYBOOK)],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), edited);
}
