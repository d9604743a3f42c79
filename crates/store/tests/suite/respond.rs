//! Cases about block lists and playbook runs.

use rampart_model::{Indicator, IndicatorKind};
use rampart_store::{
    ActionRecord, ActionStatus, BlockOutcome, BlockQuery, BlockSelector, NewBlock, NewRun, Removal,
    RunProgress, RunQuery, RunStatus, Store,
};
use serde_json::json;

use crate::fixtures::{at, domain, ipv4};

fn block(list: &str, indicator: Indicator, expires: Option<i64>) -> NewBlock {
    NewBlock {
        list: list.to_owned(),
        indicator,
        reason: "phishing campaign".to_owned(),
        added_by: "playbook:phishing".to_owned(),
        run_id: Some(7),
        expires: expires.map(at),
    }
}

fn removal(second: i64, reason: &str) -> Removal {
    Removal {
        at: at(second),
        by: "alice".to_owned(),
        reason: reason.to_owned(),
    }
}

async fn revision(store: &dyn Store, list: &str, now: i64) -> (u64, u64) {
    let lists = store.block_lists(at(now)).await.expect("block lists");
    let found = lists
        .iter()
        .find(|entry| entry.name == list)
        .unwrap_or_else(|| panic!("list {list} in {lists:?}"));
    (found.revision, found.standing)
}

async fn standing(store: &dyn Store, list: &str, now: i64) -> Vec<String> {
    let query = BlockQuery {
        list: Some(list.to_owned()),
        standing_at: Some(at(now)),
        ..BlockQuery::default()
    };
    let entries = store.blocks(&query).await.expect("blocks");
    entries
        .into_iter()
        .map(|entry| entry.indicator.value().to_owned())
        .collect()
}

pub async fn blocks_are_added_renewed_and_revised(store: &dyn Store) {
    let outcomes = store
        .add_blocks(
            &[
                block("mail", domain("evil.example"), Some(2_000)),
                block("mail", ipv4("203.0.113.9"), None),
                block("dns", domain("evil.example"), Some(1_500)),
            ],
            at(1_000),
        )
        .await
        .expect("add");
    assert!(matches!(
        outcomes[..],
        [
            BlockOutcome::Added(_),
            BlockOutcome::Added(_),
            BlockOutcome::Added(_)
        ]
    ));
    assert_eq!(revision(store, "mail", 1_000).await, (1, 2));
    assert_eq!(revision(store, "dns", 1_000).await, (1, 1));

    // The same value again: renewed with the later expiry, listed once, a new revision.
    let again = store
        .add_blocks(
            &[block("mail", domain("evil.example"), Some(3_000))],
            at(1_100),
        )
        .await
        .expect("renew");
    assert_eq!(again, vec![BlockOutcome::Renewed(outcomes[0].id())]);
    assert_eq!(revision(store, "mail", 1_100).await, (2, 2));
    // An earlier expiry changes nothing, not even the revision.
    store
        .add_blocks(
            &[block("mail", domain("evil.example"), Some(2_500))],
            at(1_200),
        )
        .await
        .expect("renew earlier");
    assert_eq!(revision(store, "mail", 1_200).await, (2, 2));
    // No expiry is the latest of all.
    store
        .add_blocks(&[block("mail", domain("evil.example"), None)], at(1_300))
        .await
        .expect("renew forever");
    let query = BlockQuery {
        indicator: Some(domain("evil.example")),
        list: Some("mail".to_owned()),
        ..BlockQuery::default()
    };
    let entries = store.blocks(&query).await.expect("blocks");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].expires, None);
    assert_eq!(entries[0].reason, "phishing campaign");
    assert_eq!(entries[0].added_by, "playbook:phishing");
    assert_eq!(entries[0].run_id, Some(7));
    assert_eq!(entries[0].added, at(1_000));
    assert_eq!(revision(store, "mail", 1_300).await, (3, 2));

    // Standing is judged at a time: the dns entry has lapsed at 1,500 even before a sweep.
    assert_eq!(standing(store, "dns", 1_499).await, vec!["evil.example"]);
    assert!(standing(store, "dns", 1_500).await.is_empty());
    assert_eq!(revision(store, "dns", 1_500).await, (1, 0));
}

pub async fn blocks_are_removed_by_id_value_list_and_run(store: &dyn Store) {
    let evil = domain("evil.example");
    let outcomes = store
        .add_blocks(
            &[
                block("mail", evil.clone(), None),
                block("dns", evil.clone(), None),
                block("dns", domain("other.example"), None),
                NewBlock {
                    run_id: Some(8),
                    ..block("edl", ipv4("198.51.100.4"), None)
                },
                NewBlock {
                    run_id: Some(8),
                    ..block("edl", ipv4("198.51.100.5"), None)
                },
            ],
            at(100),
        )
        .await
        .expect("add");

    // The indicator was revoked: it leaves every list, and only those lists change.
    let removed = store
        .remove_blocks(
            &BlockSelector::Indicator(evil.clone()),
            &removal(200, "indicator revoked"),
        )
        .await
        .expect("remove indicator");
    let mut lists: Vec<_> = removed.iter().map(|entry| entry.list.as_str()).collect();
    lists.sort();
    assert_eq!(lists, ["dns", "mail"]);
    let record = removed[0].removed.as_ref().expect("removal recorded");
    assert_eq!((record.at, record.by.as_str()), (at(200), "alice"));
    assert_eq!(record.reason, "indicator revoked");
    assert_eq!(standing(store, "dns", 300).await, vec!["other.example"]);
    assert!(standing(store, "mail", 300).await.is_empty());
    assert_eq!(revision(store, "edl", 300).await, (1, 2));
    // Removing again finds nothing standing.
    let twice = store
        .remove_blocks(
            &BlockSelector::Indicator(evil.clone()),
            &removal(210, "again"),
        )
        .await
        .expect("remove twice");
    assert!(twice.is_empty());
    assert_eq!(revision(store, "dns", 300).await, (2, 1));

    // The history keeps removed entries; a new block of the value is a new entry.
    let history = store
        .blocks(&BlockQuery {
            indicator: Some(evil.clone()),
            ..BlockQuery::default()
        })
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
    let relisted = store
        .add_blocks(&[block("dns", evil.clone(), None)], at(400))
        .await
        .expect("relist");
    assert!(matches!(relisted[..], [BlockOutcome::Added(id)] if id > outcomes[4].id()));

    // One value on one list.
    let listed = store
        .remove_blocks(
            &BlockSelector::Listed {
                list: "dns".to_owned(),
                indicator: evil.clone(),
            },
            &removal(500, "false positive"),
        )
        .await
        .expect("remove listed");
    assert_eq!(listed.len(), 1);

    // A run rolled back, and entries by id.
    let rolled_back = store
        .remove_blocks(&BlockSelector::Run(8), &removal(600, "run rolled back"))
        .await
        .expect("remove run");
    assert_eq!(rolled_back.len(), 2);
    assert!(standing(store, "edl", 700).await.is_empty());
    let by_id = store
        .remove_blocks(
            &BlockSelector::Ids(vec![outcomes[2].id(), 999_999]),
            &removal(800, "by hand"),
        )
        .await
        .expect("remove ids");
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].indicator, domain("other.example"));
}

pub async fn expired_blocks_are_swept_once(store: &dyn Store) {
    store
        .add_blocks(
            &[
                block("dns", domain("a.example"), Some(1_000)),
                block("dns", domain("b.example"), Some(2_000)),
                block("dns", domain("c.example"), None),
            ],
            at(500),
        )
        .await
        .expect("add");
    assert!(
        store
            .expire_blocks(at(999))
            .await
            .expect("sweep early")
            .is_empty()
    );
    assert_eq!(revision(store, "dns", 999).await.0, 1);
    let expired = store.expire_blocks(at(1_000)).await.expect("sweep");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].indicator, domain("a.example"));
    let removal = expired[0].removed.as_ref().expect("removal");
    assert_eq!(
        (removal.by.as_str(), removal.reason.as_str()),
        ("rampart", "expired")
    );
    assert_eq!(revision(store, "dns", 1_000).await, (2, 2));
    assert!(
        store
            .expire_blocks(at(1_001))
            .await
            .expect("sweep again")
            .is_empty()
    );
    assert_eq!(standing(store, "dns", 3_000).await, vec!["c.example"]);
}

pub async fn block_queries_filter_and_page(store: &dyn Store) {
    let mut blocks = Vec::new();
    for number in 0..25 {
        let indicator =
            Indicator::parse(IndicatorKind::Ipv4, &format!("192.0.2.{number}")).unwrap();
        let mut new = block("fw", indicator, None);
        if number % 5 == 0 {
            new.added_by = "bob".to_owned();
            new.run_id = None;
        }
        blocks.push(new);
    }
    store.add_blocks(&blocks, at(100)).await.expect("add");
    store
        .add_blocks(&[block("fw", ipv4("198.51.100.1"), None)], at(200))
        .await
        .expect("add later");

    let mut seen = Vec::new();
    let mut after_id = None;
    loop {
        let page = store
            .blocks(&BlockQuery {
                list: Some("fw".to_owned()),
                after_id,
                limit: 10,
                ..BlockQuery::default()
            })
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        after_id = page.last().map(|entry| entry.id);
        seen.extend(page.into_iter().map(|entry| entry.id));
    }
    assert_eq!(seen.len(), 26);
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]));

    let by_bob = store
        .blocks(&BlockQuery {
            added_by: Some("bob".to_owned()),
            ..BlockQuery::default()
        })
        .await
        .expect("by bob");
    assert_eq!(by_bob.len(), 5);
    let recent = store
        .blocks(&BlockQuery {
            added_since: Some(at(150)),
            ..BlockQuery::default()
        })
        .await
        .expect("recent");
    assert_eq!(recent.len(), 1);
    let of_run = store
        .blocks(&BlockQuery {
            run_id: Some(7),
            ..BlockQuery::default()
        })
        .await
        .expect("of run");
    assert_eq!(of_run.len(), 21);
}

pub async fn runs_progress_finish_and_resume(store: &dyn Store) {
    let started = at(1_000);
    let new = NewRun {
        playbook: "phishing".to_owned(),
        digest: "sha256:abc".to_owned(),
        trigger: json!({"type": "indicator", "value": "evil.example"}),
        dry_run: false,
        started,
        state: json!({"values": ["evil.example"]}),
    };
    let run = store.create_run(&new).await.expect("create run");
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!((run.step, run.started, run.updated), (0, started, started));
    assert_eq!(run.trigger, new.trigger);
    let other = store
        .create_run(&NewRun {
            playbook: "brute-force".to_owned(),
            dry_run: true,
            ..new.clone()
        })
        .await
        .expect("second run");

    // Waiting at an approval, with a deadline: unfinished, so resumed after a restart.
    let waiting = RunProgress {
        status: RunStatus::Waiting,
        step: 2,
        state: json!({"values": ["evil.example"], "case": 4}),
        at: at(1_010),
        wake: Some(at(5_000)),
        error: None,
    };
    let updated = store
        .update_run(run.id, &waiting)
        .await
        .expect("update")
        .expect("run exists");
    assert_eq!(
        (updated.status, updated.step, updated.wake),
        (RunStatus::Waiting, 2, Some(at(5_000)))
    );
    assert_eq!(updated.finished, None);
    assert_eq!(updated.state["case"], 4);
    let action = ActionRecord {
        run_id: run.id,
        step: 0,
        action: "block".to_owned(),
        status: ActionStatus::Retrying,
        attempts: 1,
        started: at(1_001),
        finished: None,
        duration_ms: 12,
        result: json!({}),
        error: Some("webhook answered 500".to_owned()),
    };
    store.record_action(&action).await.expect("action");
    store
        .record_action(&ActionRecord {
            status: ActionStatus::Succeeded,
            attempts: 2,
            finished: Some(at(1_003)),
            result: json!({"blocked": 1}),
            error: None,
            ..action.clone()
        })
        .await
        .expect("action retried");
    store
        .record_action(&ActionRecord {
            step: 1,
            action: "approve".to_owned(),
            status: ActionStatus::Waiting,
            ..action.clone()
        })
        .await
        .expect("approval");
    let unfinished = store.unfinished_runs().await.expect("unfinished");
    assert_eq!(
        unfinished.iter().map(|run| run.id).collect::<Vec<_>>(),
        vec![run.id, other.id]
    );

    let (stored, actions) = store.run(run.id).await.expect("run").expect("exists");
    assert_eq!(stored, updated);
    assert_eq!(actions.len(), 2);
    assert_eq!(
        (actions[0].status, actions[0].attempts),
        (ActionStatus::Succeeded, 2)
    );
    assert_eq!(actions[0].result, json!({"blocked": 1}));
    assert_eq!(actions[1].action, "approve");

    // Finishing sets the finish time; the run leaves the unfinished list.
    let done = store
        .update_run(
            run.id,
            &RunProgress {
                status: RunStatus::Succeeded,
                step: 3,
                wake: None,
                at: at(1_100),
                ..waiting.clone()
            },
        )
        .await
        .expect("finish")
        .expect("exists");
    assert_eq!(done.finished, Some(at(1_100)));
    let unfinished = store.unfinished_runs().await.expect("unfinished");
    assert_eq!(
        unfinished.iter().map(|run| run.id).collect::<Vec<_>>(),
        vec![other.id]
    );
    assert!(
        store
            .update_run(999_999, &waiting)
            .await
            .expect("update missing")
            .is_none()
    );
    assert!(store.run(999_999).await.expect("missing run").is_none());

    let newest = store.runs(&RunQuery::default()).await.expect("runs");
    assert_eq!(
        newest.iter().map(|run| run.id).collect::<Vec<_>>(),
        vec![other.id, run.id]
    );
    let succeeded = store
        .runs(&RunQuery {
            statuses: vec![RunStatus::Succeeded, RunStatus::Failed],
            ..RunQuery::default()
        })
        .await
        .expect("by status");
    assert_eq!(succeeded.len(), 1);
    let of_playbook = store
        .runs(&RunQuery {
            playbook: Some("brute-force".to_owned()),
            ..RunQuery::default()
        })
        .await
        .expect("by playbook");
    assert!(of_playbook[0].dry_run);
    let older = store
        .runs(&RunQuery {
            before_id: Some(other.id),
            ..RunQuery::default()
        })
        .await
        .expect("older");
    assert_eq!(older.len(), 1);
}
