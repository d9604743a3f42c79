//! Cases about retention and backups: old alerts pruned while the audit log stays, and a
//! backup taken while imports run that restores to a whole, consistent store.

use rampart_model::{Alert, Detection, EventRef, IndicatorKind, MatchedField, Severity};
use rampart_store::{AlertQuery, AuditEntry, AuditQuery, Store, StoreError};

use crate::Raw;
use crate::fixtures::*;

fn alert(value: &str, first: i64, last: i64) -> Alert {
    let detection = Detection::Indicator {
        id: 1,
        kind: IndicatorKind::Domain,
        value: value.into(),
        score: 60.0,
        sources: vec!["feed".into()],
    };
    let matched = vec![MatchedField {
        field: "dns.question.name".into(),
        value: value.into(),
    }];
    Alert {
        key: Alert::key_for(&detection, &matched),
        detection,
        severity: Severity::Medium,
        techniques: vec![],
        matched,
        event: EventRef::line("dns.jsonl", 1),
        first_seen: at(first),
        last_seen: at(last),
        count: 1,
        retro: false,
    }
}

pub async fn old_alerts_are_pruned_and_the_audit_log_is_kept(store: &dyn Store) {
    store
        .record_alerts(&[
            alert("old.example", 100, 100),
            // First seen long ago but seen again lately: kept.
            alert("lasting.example", 100, 5_000),
            alert("older.example", 50, 200),
        ])
        .await
        .unwrap();
    let mut entry = AuditEntry::new("user:olga", "source.add");
    entry.at = at(10);
    store.record_audit(&entry).await.unwrap();

    assert_eq!(store.prune_alerts(at(1_000), true).await.unwrap(), 2);
    assert_eq!(
        store.alerts(&AlertQuery::default()).await.unwrap().len(),
        3,
        "a dry run deletes nothing"
    );
    assert_eq!(store.prune_alerts(at(1_000), false).await.unwrap(), 2);
    let left = store.alerts(&AlertQuery::default()).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].alert.matched[0].value, "lasting.example");
    assert_eq!(store.prune_alerts(at(1_000), false).await.unwrap(), 0);
    let audit = store.audit(&AuditQuery::default()).await.unwrap();
    assert_eq!(audit.len(), 1, "retention never touches the audit log");
}

/// A batch of `size` new domains named for `round`.
fn round(round: usize, size: usize) -> Vec<rampart_model::Observation> {
    (0..size)
        .map(|n| observation(domain(&format!("r{round}-n{n}.evil.example")), "round"))
        .collect()
}

pub async fn a_backup_during_imports_restores_whole(store: &dyn Store, raw: &Raw) {
    const SIZE: usize = 40;
    const ROUNDS: usize = 15;
    let source = add_source(store, "alpha").await;
    import_observations(store, &source, round(0, SIZE)).await;
    let dir = tempfile::tempdir().unwrap();
    let during = dir.path().join("during.backup");
    let writes = async {
        for n in 1..=ROUNDS {
            import_observations(store, &source, round(n, SIZE)).await;
        }
    };
    let backup = async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        store.backup(&during).await
    };
    let ((), backed_up) = tokio::join!(writes, backup);
    backed_up.unwrap();
    assert!(std::fs::metadata(&during).unwrap().len() > 0);
    let again = store.backup(&during).await;
    assert!(
        matches!(&again, Err(StoreError::Backup(reason)) if reason.contains("already exists")),
        "{again:?}"
    );

    // Quiet now: a second backup, then changes after it, then the restore undoes them.
    let quiet = dir.path().join("quiet.backup");
    store.backup(&quiet).await.unwrap();
    let before = dump(store, &[]).await;
    import_observations(store, &source, round(99, SIZE)).await;
    let refused = rampart_store::restore(&raw.url, &quiet, false).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(reason)) if reason.contains("--force")),
        "{refused:?}"
    );
    rampart_store::restore(&raw.url, &quiet, true)
        .await
        .unwrap();
    let restored = rampart_store::open(&raw.url).await.unwrap();
    assert_eq!(dump(&*restored, &[]).await, before);

    // The backup taken during the imports holds whole imports only.
    rampart_store::restore(&raw.url, &during, true)
        .await
        .unwrap();
    let restored = rampart_store::open(&raw.url).await.unwrap();
    let counts = restored.counts().await.unwrap();
    assert!(counts.indicators >= SIZE as u64, "{counts:?}");
    assert_eq!(
        counts.indicators % SIZE as u64,
        0,
        "a torn import: {counts:?}"
    );
    assert_eq!(counts.statements, counts.indicators);
    assert!(counts.indicators <= ((ROUNDS + 1) * SIZE) as u64);
}
