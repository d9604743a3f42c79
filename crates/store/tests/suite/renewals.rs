//! Cases about renewals: a statement listed again by its source counts as `updated` when its
//! content changed or it had been withdrawn, and as `unchanged` otherwise.

use rampart_model::{AttackId, Direction, Observation, PatternNote, Tlp};
use rampart_store::{Commit, ImportBatch, Store};

use crate::fixtures::*;

/// Four statements covering every compared field: plain, every field set, lists, defaults
/// given explicitly (the source's own 70 and green).
fn rich(reference: &str) -> Vec<Observation> {
    let plain = dated(domain("plain.example"), reference, 100, 200);
    let mut full = dated(domain("full.example"), reference, 100, 200);
    full.confidence = Some(20);
    full.tlp = Some(Tlp::Amber);
    full.valid_until = Some(at(10_000));
    full.revoked = true;
    full.direction = Some(Direction::Destination);
    full.port = Some(443);
    full.pattern = Some(PatternNote {
        pattern: "[domain-name:value = 'full.example']".into(),
        unenforced: Some("port".into()),
    });
    let mut lists = observation(domain("lists.example"), reference);
    lists.labels = vec!["phishing".into(), "c2".into()];
    lists.techniques = vec!["T1566".parse::<AttackId>().unwrap()];
    lists.threats = vec!["emotet".into(), "qakbot".into()];
    let mut defaults = observation(ipv4("192.0.2.1"), reference);
    defaults.confidence = Some(70);
    defaults.tlp = Some(Tlp::Green);
    vec![plain, full, lists, defaults]
}

pub async fn identical_reimport_is_unchanged(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    assert_eq!(
        import_observations(store, &a, rich("first")).await,
        summary(4, 0, 0, 0, 0)
    );
    // Later dates, another reference, lists in another order: still the same statements.
    let mut again = rich("second");
    for observation in &mut again {
        observation.labels.reverse();
        observation.threats.reverse();
        if observation.first_seen.is_some() {
            observation.first_seen = Some(at(150));
            observation.last_seen = Some(at(900));
        }
    }
    // The source's defaults, now left implicit, resolve to the stored values.
    again[3].confidence = None;
    again[3].tlp = None;
    let summary_again = import_observations(store, &a, again).await;
    assert_eq!(summary_again, summary(0, 0, 4, 0, 0));
    assert_eq!(summary_again.accepted(), 4);
    let plain = &stored(store, &domain("plain.example")).await.sources[0];
    assert_eq!((plain.first_seen, plain.last_seen), (at(100), at(900)));
    assert_eq!(plain.reference, "second");
    assert_eq!(
        store.source("alpha").await.unwrap().unwrap().last_summary,
        Some(summary_again)
    );
}

pub async fn changed_content_is_updated(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    import_observations(store, &a, rich("first")).await;

    // One change per statement that changes; the fourth stays as it was.
    let mut changed = rich("second");
    changed[0].confidence = Some(71);
    changed[2].labels.push("botnet".into());
    assert_eq!(
        import_observations(store, &a, changed).await,
        summary(0, 2, 2, 0, 0)
    );
    assert_eq!(
        stored(store, &domain("plain.example")).await.sources[0].confidence,
        71
    );

    // Each other field of the fully set statement, one import at a time.
    let changes: Vec<fn(&mut Observation)> = vec![
        |o| o.tlp = Some(Tlp::Red),
        |o| o.valid_until = Some(at(20_000)),
        |o| o.revoked = false,
        |o| o.direction = Some(Direction::Source),
        |o| o.port = Some(8443),
        |o| o.pattern = None,
        |o| o.techniques = vec!["T1071".parse().unwrap()],
        |o| o.threats = vec!["emotet".into()],
    ];
    for (index, change) in changes.into_iter().enumerate() {
        let original = rich("again").swap_remove(1);
        let mut full = original.clone();
        change(&mut full);
        let result = import_observations(store, &a, vec![full.clone()]).await;
        assert_eq!(result, summary(0, 1, 0, 0, 0), "change {index}");
        // The same again is unchanged; going back to the original is a change again.
        assert_eq!(
            import_observations(store, &a, vec![full]).await,
            summary(0, 0, 1, 0, 0),
            "change {index} repeated"
        );
        assert_eq!(
            import_observations(store, &a, vec![original]).await,
            summary(0, 1, 0, 0, 0),
            "change {index} undone"
        );
    }
}

pub async fn relisted_withdrawn_statement_is_updated(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let full = |values: &[&str]| {
        vec![
            ImportBatch::observations(
                values
                    .iter()
                    .map(|value| observation(domain(value), "listed"))
                    .collect(),
            ),
            ImportBatch::Commit(Commit {
                full_list: true,
                cursors: Vec::new(),
            }),
        ]
    };
    import(store, &a, full(&["x.example", "y.example"]))
        .await
        .unwrap();
    let withdrawn = import(store, &a, full(&["x.example"])).await.unwrap();
    assert_eq!((withdrawn.unchanged, withdrawn.withdrawn), (1, 1));
    // The same content as before the withdrawal, yet the statement comes back: updated.
    let relisted = import(store, &a, full(&["x.example", "y.example"]))
        .await
        .unwrap();
    assert_eq!(relisted, summary(0, 1, 1, 0, 0));
    assert!(
        stored(store, &domain("y.example")).await.sources[0]
            .withdrawn_at
            .is_none()
    );
    let again = import(store, &a, full(&["x.example", "y.example"]))
        .await
        .unwrap();
    assert_eq!(again, summary(0, 0, 2, 0, 0));
}
