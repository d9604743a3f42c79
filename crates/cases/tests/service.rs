//! The case service against a real SQLite store: grouping alerts into campaign cases,
//! playbook campaigns from templates, TheHive imports, closing, and exports of hostile text.

use jiff::{SignedDuration, Timestamp};
use rampart_cases::{
    CaseDocument, CaseError, CaseService, CaseSettings, ExportFormat, GroupReason, PlacedBy,
    TemplateContext,
};
use rampart_model::{
    Alert, CaseStatus, Detection, EventRef, IndicatorKind, MatchedField, Severity, TimelineKind,
    Tlp,
};
use rampart_store::{Store, StoreError};

async fn store() -> (tempfile::TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store = rampart_store::open(&url).await.expect("open store");
    (dir, store)
}

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + minutes * 60).unwrap()
}

fn field(name: &str, value: &str) -> MatchedField {
    MatchedField {
        field: name.into(),
        value: value.into(),
    }
}

fn dns_alert(host: &str, severity: Severity, minute: i64) -> Alert {
    Alert::new(
        Detection::Indicator {
            id: 1,
            kind: IndicatorKind::Domain,
            value: "evil.example".into(),
            score: 85.0,
            sources: vec!["feed".into()],
        },
        severity,
        vec!["T1071.004".parse().unwrap()],
        vec![
            field("dns.question.name", "cdn.evil.example"),
            field("host.name", host),
        ],
        EventRef::line("dns.jsonl", minute as u64),
        at(minute),
    )
}

fn rule_alert(rule: &str, host: &str, minute: i64) -> Alert {
    Alert::new(
        Detection::Sigma {
            rule_id: rule.into(),
            title: format!("Rule {rule}"),
        },
        Severity::Medium,
        vec!["T1110".parse().unwrap()],
        vec![field("host.name", host), field("user.name", "root")],
        EventRef::line("auth.log", minute as u64),
        at(minute),
    )
}

/// Records alerts and returns their store ids.
async fn record(store: &dyn Store, alerts: &[Alert]) -> Vec<i64> {
    store.record_alerts(alerts).await.unwrap();
    let mut ids = Vec::new();
    for alert in alerts {
        let stored = store
            .alert_by_key(&alert.key, alert.first_seen)
            .await
            .unwrap();
        ids.push(stored.expect("recorded").id);
    }
    ids
}

#[tokio::test]
async fn alerts_of_one_campaign_share_a_case_and_others_open_their_own() {
    let (_dir, store) = store().await;
    let settings = CaseSettings::default();
    let service = CaseService::new(&*store, &settings);
    let ids = record(
        &*store,
        &[
            dns_alert("ws-1", Severity::High, 0),
            dns_alert("ws-2", Severity::High, 30),
            dns_alert("ws-3", Severity::Critical, 600),
            rule_alert("ssh-brute", "bastion", 10),
            rule_alert("ssh-brute", "bastion", 70),
        ],
    )
    .await;

    let first = service
        .group_alert(ids[0], "system:grouping")
        .await
        .unwrap();
    assert!(first.opened);
    assert_eq!(
        first.how,
        PlacedBy::NewCase {
            campaign: "indicator:domain:cdn.evil.example".into()
        }
    );
    assert_eq!(first.case.title, "domain evil.example");
    assert_eq!(first.case.severity, Severity::High);
    // High: due 24 hours after opening.
    let due_in = first.case.due.unwrap().duration_since(first.case.created);
    assert!(
        (SignedDuration::from_hours(24) - due_in).abs() < SignedDuration::from_secs(5),
        "{due_in:?}"
    );

    for id in [ids[1], ids[2]] {
        let joined = service.group_alert(id, "system:grouping").await.unwrap();
        assert!(!joined.opened);
        assert_eq!(joined.case.id, first.case.id);
        assert!(matches!(
            joined.how,
            PlacedBy::Grouped {
                reason: GroupReason::SharedIndicators { .. }
            }
        ));
    }
    // The critical alert raised the case.
    let case = store.case(first.case.id).await.unwrap().unwrap();
    assert_eq!(case.severity, Severity::Critical);
    let linked: Vec<i64> = store
        .alerts_of_case(case.id)
        .await
        .unwrap()
        .iter()
        .map(|linked| linked.alert.id)
        .collect();
    assert_eq!(linked, ids[..3]);

    // An unrelated alert opens another case; the same rule on the same host an hour later
    // joins that one.
    let other = service
        .group_alert(ids[3], "system:grouping")
        .await
        .unwrap();
    assert!(other.opened);
    assert_ne!(other.case.id, case.id);
    assert_eq!(
        other.case.campaign.as_deref(),
        Some("rule:sigma:ssh-brute@bastion")
    );
    let again = service
        .group_alert(ids[4], "system:grouping")
        .await
        .unwrap();
    assert_eq!(again.case.id, other.case.id);
    assert_eq!(
        again.how,
        PlacedBy::Grouped {
            reason: GroupReason::SameRuleOnHost {
                rule: "sigma:ssh-brute".into(),
                host: "bastion".into()
            }
        }
    );
    // Grouping an alert twice leaves it where it is.
    let repeat = service
        .group_alert(ids[1], "system:grouping")
        .await
        .unwrap();
    assert_eq!(repeat.how, PlacedBy::AlreadyInCase);
    assert_eq!(repeat.case.id, case.id);
    assert_eq!(store.cases(&Default::default()).await.unwrap().len(), 2);
    assert!(matches!(
        service.group_alert(9_999, "system:grouping").await,
        Err(CaseError::UnknownAlert(9_999))
    ));
}

#[tokio::test]
async fn playbook_campaigns_open_one_case_from_a_template() {
    let (_dir, store) = store().await;
    let settings = CaseSettings::default();
    let service = CaseService::new(&*store, &settings);
    let ids = record(
        &*store,
        &[
            rule_alert("phish-link", "mail-1", 0),
            rule_alert("phish-link", "mail-2", 5),
            rule_alert("phish-attach", "mail-3", 9),
        ],
    )
    .await;
    let context = TemplateContext::new()
        .with("subject", "Your parcel")
        .with("sender", "post@evil.example");
    let first = service
        .add_to_campaign(
            "phish-0427",
            &ids[..2],
            "playbook:phishing",
            Some(("phishing", &context)),
        )
        .await
        .unwrap();
    assert!(first.opened);
    assert_eq!(
        first.case.title,
        "Phishing: Your parcel from post@evil.example"
    );
    assert_eq!(first.links.linked, ids[..2]);
    assert_eq!(store.tasks(first.case.id).await.unwrap().len(), 5);
    let second = service
        .add_to_campaign(
            "phish-0427",
            &ids[2..],
            "playbook:phishing",
            Some(("phishing", &context)),
        )
        .await
        .unwrap();
    assert!(!second.opened);
    assert_eq!(second.case.id, first.case.id);
    assert_eq!(store.alerts_of_case(first.case.id).await.unwrap().len(), 3);

    let unknown = service
        .open_from_template("ransomware", &context, "user:alice", None)
        .await;
    assert!(matches!(unknown, Err(CaseError::UnknownTemplate(name)) if name == "ransomware"));

    // Closing needs a closed status and a summary; a closed campaign gets a new case.
    let refused = service
        .close_case(first.case.id, CaseStatus::InProgress, "x", "user:alice")
        .await;
    assert!(matches!(refused, Err(CaseError::Invalid(_))));
    let refused = service
        .close_case(first.case.id, CaseStatus::Resolved, "  ", "user:alice")
        .await;
    assert!(matches!(refused, Err(CaseError::Invalid(_))));
    let closed = service
        .close_case(
            first.case.id,
            CaseStatus::Resolved,
            "Sender blocked.",
            "user:alice",
        )
        .await
        .unwrap();
    assert_eq!(closed.status, CaseStatus::Resolved);
    assert_eq!(closed.resolution.as_deref(), Some("Sender blocked."));
    let again = service
        .close_case(
            first.case.id,
            CaseStatus::FalsePositive,
            "oops",
            "user:alice",
        )
        .await;
    assert!(matches!(
        again,
        Err(CaseError::Store(StoreError::StatusChange { .. }))
    ));
    let reopened = service
        .add_to_campaign("phish-0427", &ids[..1], "playbook:phishing", None)
        .await
        .unwrap();
    assert!(reopened.opened);
    assert_ne!(reopened.case.id, first.case.id);
    assert_eq!(reopened.case.title, "Rule phish-link");
    assert_eq!(reopened.links.moved.len(), 1);
}

const HOSTILE: &str = r#"{
    "type": "external", "source": "mail-gw", "sourceRef": "msg-1",
    "title": "Invoice | <script>alert(1)</script> `pay` [now](http://evil.example)",
    "description": "Forwarded:\n<img src=x onerror=alert(1)>\n# Fake heading",
    "severity": 4, "tlp": 3, "pap": 1, "tags": ["phishing", "a|b"], "date": 1700000000000,
    "observables": [
        {"dataType": "url", "data": "http://evil.example/pay?x=<b>|`", "ioc": true,
         "message": "clicked by\nbob | <i>"},
        {"dataType": "mail", "data": "ceo@evil.example"},
        {"dataType": "filename", "data": "invoice.pdf.exe"}
    ]
}"#;

#[tokio::test]
async fn thehive_imports_become_cases_and_export_escaped() {
    let (_dir, store) = store().await;
    let settings = CaseSettings::default();
    let service = CaseService::new(&*store, &settings);
    let imported = service
        .import_thehive(HOSTILE.as_bytes(), "token:mailgw")
        .await
        .unwrap();
    assert!(imported.placed.opened);
    assert_eq!(imported.observables_added, 2);
    assert_eq!(imported.observables_kept_as_text, 1);
    let case = &imported.placed.case;
    assert!(case.title.starts_with("Invoice | <script>"));
    assert_eq!((case.severity, case.tlp), (Severity::Critical, Tlp::Red));
    assert_eq!(case.tags, ["phishing", "a|b"]);
    // Critical: due four hours after opening.
    let due_in = case.due.unwrap().duration_since(case.created);
    assert!((SignedDuration::from_hours(4) - due_in).abs() < SignedDuration::from_secs(5));

    // Posting it again updates the same alert and case; nothing is duplicated.
    let again = service
        .import_thehive(HOSTILE.as_bytes(), "token:mailgw")
        .await;
    let again = again.unwrap();
    assert_eq!(again.alert_id, imported.alert_id);
    assert_eq!(again.placed.how, PlacedBy::AlreadyInCase);
    assert_eq!(again.observables_added, 0);
    let bad = service
        .import_thehive(br#"{"type":"x","source":"s"}"#, "token:mailgw")
        .await;
    assert!(matches!(bad, Err(CaseError::TheHive(error)) if error.path == "(body)"));

    let markdown = service
        .export(case.id, ExportFormat::Markdown, "user:alice")
        .await
        .unwrap();
    assert!(!markdown.contains("<script>"), "{markdown}");
    assert!(!markdown.contains("<img"), "{markdown}");
    assert!(markdown.starts_with(&format!(
        "# Case {}: Invoice \\| \\<script\\>alert(1)\\</script\\> \\`pay\\` \\[now\\](http\\://evil.example)\n",
        case.id
    )));
    assert!(markdown.contains("\\# Fake heading"));
    assert!(markdown.contains("| Tags | phishing, a\\|b |"));
    assert!(
        markdown.contains("clicked by\\\\nbob \\| \\<i\\>"),
        "{markdown}"
    );
    assert!(
        markdown.contains("ceo\\[@\\]evil\\[.\\]example"),
        "{markdown}"
    );
    for line in markdown.lines().filter(|line| line.starts_with("| url ")) {
        let unescaped_pipes = line
            .char_indices()
            .filter(|(index, c)| *c == '|' && !line[..*index].ends_with('\\'))
            .count();
        assert_eq!(unescaped_pipes, 8, "{line}");
    }

    let json = service
        .export(case.id, ExportFormat::Json, "user:alice")
        .await
        .unwrap();
    let document: CaseDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(document.case.title, case.title);
    assert_eq!(document.alerts.len(), 1);
    assert_eq!(document.observables.len(), 2);
    let timeline = store.timeline(case.id).await.unwrap();
    let exports = timeline
        .iter()
        .filter(|entry| entry.kind == TimelineKind::Exported)
        .count();
    assert_eq!(exports, 2);
}
