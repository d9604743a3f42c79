//! Cases about the change feed: which writes put an indicator on it, in which order, and how
//! a reader pages through it.

use rampart_model::Reliability;
use rampart_store::{ChangeCursor, Commit, ImportBatch, Store};

use crate::fixtures::*;

/// Every change after `cursor`, read in pages of `page`: the values in feed order, and the end.
async fn read_feed(
    store: &dyn Store,
    mut cursor: ChangeCursor,
    page: u32,
) -> (Vec<String>, ChangeCursor) {
    let mut values = Vec::new();
    loop {
        let changes = store
            .indicators_changed_since(cursor, page)
            .await
            .expect("change feed");
        if changes.indicators.is_empty() {
            assert_eq!(changes.next, cursor, "an empty page keeps the cursor");
            return (values, cursor);
        }
        assert!(changes.next > cursor, "the cursor moves forward");
        assert!(
            changes.oldest_commit.is_some(),
            "committed changes carry their time"
        );
        values.extend(
            changes
                .indicators
                .iter()
                .map(|i| i.indicator.value().to_owned()),
        );
        cursor = changes.next;
    }
}

pub async fn change_feed_follows_imports_in_commit_order(store: &dyn Store) {
    let start = store.change_cursor().await.expect("cursor");
    assert_eq!(start.seq, 0);
    let a = add_source(store, "alpha").await;
    let before = jiff::Timestamp::now();
    import_observations(
        store,
        &a,
        vec![
            observation(domain("one.example"), "r"),
            observation(domain("two.example"), "r"),
            observation(ipv4("192.0.2.1"), "r"),
        ],
    )
    .await;
    // Paging by two through one change of three indicators.
    let (first, after_first) = read_feed(store, start, 2).await;
    assert_eq!(first, ["one.example", "two.example", "192.0.2.1"]);
    let page = store.indicators_changed_since(start, 10).await.unwrap();
    let committed = page.oldest_commit.expect("commit time");
    assert!(committed >= before && committed <= jiff::Timestamp::now());
    assert_eq!(store.change_cursor().await.unwrap().seq, after_first.seq);

    // A renewal with the same content is not a change; a new source on it is.
    import_observations(store, &a, vec![observation(domain("one.example"), "again")]).await;
    assert_eq!(
        read_feed(store, after_first, 10).await.0,
        Vec::<String>::new()
    );
    let b = add_source(store, "beta").await;
    import_observations(
        store,
        &b,
        vec![
            observation(domain("two.example"), "b"),
            observation(domain("three.example"), "b"),
        ],
    )
    .await;
    let (second, after_second) = read_feed(store, after_first, 10).await;
    assert_eq!(second, ["two.example", "three.example"]);

    // A changed statement is a change, and so is a new suppression from an import.
    let mut changed = observation(domain("one.example"), "r");
    changed.confidence = Some(5);
    import(
        store,
        &a,
        vec![
            ImportBatch::Observations(vec![
                staged(changed, None),
                staged(
                    observation(ipv4("192.0.2.1"), "r"),
                    Some("warninglist: test"),
                ),
            ]),
            commit(),
        ],
    )
    .await
    .unwrap();
    let (third, after_third) = read_feed(store, after_second, 10).await;
    assert_eq!(third, ["one.example", "192.0.2.1"]);

    // An aborted import leaves no trace on the feed.
    import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![observation(domain("four.example"), "x")]),
            ImportBatch::Abort("test".into()),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(
        read_feed(store, after_third, 10).await.0,
        Vec::<String>::new()
    );
    // Reading from the start gives each indicator once, under its latest change.
    let (everything, _) = read_feed(store, ChangeCursor::default(), 1).await;
    assert_eq!(
        everything,
        ["two.example", "three.example", "one.example", "192.0.2.1"]
    );
}

pub async fn change_feed_covers_withdrawal_suppression_and_sources(store: &dyn Store) {
    let mut a = add_source(store, "alpha").await;
    a.full_list = true;
    import_observations(
        store,
        &a,
        vec![
            observation(domain("kept.example"), "r"),
            observation(domain("dropped.example"), "r"),
        ],
    )
    .await;
    let cursor = store.change_cursor().await.unwrap();
    // A full list without dropped.example withdraws it: a change.
    import(
        store,
        &a,
        vec![
            ImportBatch::observations(vec![observation(domain("kept.example"), "r")]),
            ImportBatch::Commit(Commit {
                full_list: true,
                cursors: Vec::new(),
            }),
        ],
    )
    .await
    .unwrap();
    let (withdrawn, cursor) = read_feed(store, cursor, 10).await;
    assert_eq!(withdrawn, ["dropped.example"]);
    let row = stored(store, &domain("dropped.example")).await;
    assert!(row.sources[0].withdrawn_at.is_some());

    // Suppression: set, repeated (no change), cleared.
    assert!(
        store
            .set_suppression(&domain("kept.example"), Some("allowlist"))
            .await
            .unwrap()
    );
    let (suppressed, cursor) = read_feed(store, cursor, 10).await;
    assert_eq!(suppressed, ["kept.example"]);
    // The same change again, from its start: the row comes as it is now.
    let again = ChangeCursor {
        seq: cursor.seq,
        after_id: 0,
    };
    let page = store.indicators_changed_since(again, 10).await.unwrap();
    assert_eq!(page.indicators[0].suppressed.as_deref(), Some("allowlist"));
    store
        .set_suppressions(&[(domain("kept.example"), Some("allowlist".into()))])
        .await
        .unwrap();
    assert_eq!(read_feed(store, cursor, 10).await.0, Vec::<String>::new());
    store
        .set_suppressions(&[
            (domain("kept.example"), None),
            (domain("nowhere.example"), None),
        ])
        .await
        .unwrap();
    let (cleared, cursor) = read_feed(store, cursor, 10).await;
    assert_eq!(cleared, ["kept.example"]);

    // Regrading or removing a source changes the scores of everything it speaks about.
    store
        .set_reliability("alpha", Reliability::E)
        .await
        .unwrap();
    let (regraded, cursor) = read_feed(store, cursor, 10).await;
    assert_eq!(regraded, ["kept.example", "dropped.example"]);
    assert!(store.remove_source("alpha").await.unwrap());
    let page = store.indicators_changed_since(cursor, 10).await.unwrap();
    let values: Vec<&str> = page
        .indicators
        .iter()
        .map(|i| i.indicator.value())
        .collect();
    assert_eq!(values, ["kept.example", "dropped.example"]);
    assert!(page.indicators.iter().all(|i| i.sources.is_empty()));
}

/// TAXII's `added_after` over the change feed: a time becomes a cursor, and each indicator of
/// a page carries its commit time and the cursor that continues right after it.
pub async fn change_feed_starts_after_a_time_and_marks_each_indicator(store: &dyn Store) {
    let a = add_source(store, "alpha").await;
    let before_all = jiff::Timestamp::now();
    assert_eq!(
        store.change_cursor_after(before_all).await.unwrap().seq,
        0,
        "nothing committed yet"
    );
    import_observations(
        store,
        &a,
        vec![
            observation(domain("one.example"), "r"),
            observation(domain("two.example"), "r"),
        ],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let between = jiff::Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    import_observations(store, &a, vec![observation(ipv4("192.0.2.7"), "r")]).await;

    let everything = store
        .indicators_changed_since(store.change_cursor_after(before_all).await.unwrap(), 10)
        .await
        .unwrap();
    let values: Vec<&str> = everything
        .indicators
        .iter()
        .map(|i| i.indicator.value())
        .collect();
    assert_eq!(values, ["one.example", "two.example", "192.0.2.7"]);
    assert_eq!(everything.marks.len(), 3, "one mark per indicator");
    let times: Vec<jiff::Timestamp> = everything.marks.iter().map(|m| m.committed).collect();
    assert_eq!(times[0], times[1], "one import, one commit time");
    assert!(times[0] > before_all && times[0] < between, "{times:?}");
    assert!(times[2] > between, "{times:?}");
    assert_eq!(everything.marks[2].cursor, everything.next);
    assert_eq!(
        everything.marks[0].cursor.after_id,
        everything.indicators[0].id
    );

    // Continuing from the first indicator's mark gives the rest, in order.
    let rest = store
        .indicators_changed_since(everything.marks[0].cursor, 10)
        .await
        .unwrap();
    let rest: Vec<&str> = rest
        .indicators
        .iter()
        .map(|i| i.indicator.value())
        .collect();
    assert_eq!(rest, ["two.example", "192.0.2.7"]);

    // After `between`: only the second import.
    let later = store
        .indicators_changed_since(store.change_cursor_after(between).await.unwrap(), 10)
        .await
        .unwrap();
    let later: Vec<&str> = later
        .indicators
        .iter()
        .map(|i| i.indicator.value())
        .collect();
    assert_eq!(later, ["192.0.2.7"]);

    // After the last commit time exactly: nothing (added_after is strict).
    let after_last = store.change_cursor_after(times[2]).await.unwrap();
    assert_eq!(after_last.seq, store.change_cursor().await.unwrap().seq);
    let none = store
        .indicators_changed_since(after_last, 10)
        .await
        .unwrap();
    assert!(none.indicators.is_empty() && none.marks.is_empty());
}
