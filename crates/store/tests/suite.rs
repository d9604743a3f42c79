//! One test suite, every backend: each case below runs against a fresh SQLite file and a fresh
//! PostgreSQL database, so the two backends cannot drift apart.
//!
//! PostgreSQL comes from `rampart_testkit::postgres_url()`; each test creates its own database
//! there and drops it afterwards. When the server is unreachable the PostgreSQL half is skipped
//! (recorded by the testkit), or fails under `RAMPART_REQUIRE_SERVICES=1`.

#[path = "suite/accounts.rs"]
mod accounts;
#[path = "suite/alerts.rs"]
mod alerts;
#[path = "suite/case_contents.rs"]
mod case_contents;
#[path = "suite/cases.rs"]
mod cases;
#[path = "suite/changes.rs"]
mod changes;
#[path = "suite/fixtures.rs"]
mod fixtures;
#[path = "suite/imports.rs"]
mod imports;
#[path = "suite/maintenance.rs"]
mod maintenance;
#[path = "suite/records.rs"]
mod records;
#[path = "suite/renewals.rs"]
mod renewals;
#[path = "suite/respond.rs"]
mod respond;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::FutureExt;
use rampart_store::Store;
use sqlx::Connection;

/// The database under a store, for the few cases that must break it behind the store's back.
pub struct Raw {
    url: String,
}

impl Raw {
    /// Runs statements on a connection of its own.
    pub async fn execute(&self, sql: &'static str) {
        if self.url.starts_with("sqlite:") {
            let mut connection = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("raw sqlite");
            sqlx::raw_sql(sql)
                .execute(&mut connection)
                .await
                .expect("raw sqlite statement");
        } else {
            let mut connection = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("raw postgres");
            sqlx::raw_sql(sql)
                .execute(&mut connection)
                .await
                .expect("raw postgres statement");
        }
    }

    /// Runs statements that may fail; the error's text when they do.
    pub async fn try_execute(&self, sql: &'static str) -> Result<(), String> {
        let outcome = if self.url.starts_with("sqlite:") {
            let mut connection = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("raw sqlite");
            sqlx::raw_sql(sql).execute(&mut connection).await.map(drop)
        } else {
            let mut connection = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("raw postgres");
            sqlx::raw_sql(sql).execute(&mut connection).await.map(drop)
        };
        outcome.map_err(|err| err.to_string())
    }

    /// The number of rows of a query's first column (`SELECT count(*) …`).
    pub async fn count(&self, sql: &'static str) -> i64 {
        if self.url.starts_with("sqlite:") {
            let mut connection = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("raw sqlite");
            sqlx::query_scalar(sql)
                .fetch_one(&mut connection)
                .await
                .expect("raw sqlite count")
        } else {
            let mut connection = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("raw postgres");
            sqlx::query_scalar(sql)
                .fetch_one(&mut connection)
                .await
                .expect("raw postgres count")
        }
    }
}

/// Runs `case` against a store in a new temporary SQLite file.
async fn on_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Box<dyn Store>, Raw) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    // A directory that does not exist yet: opening must create it.
    let path = dir.path().join("nested").join("rampart.db");
    let url = format!("sqlite://{}", path.display());
    let store = rampart_store::open(&url).await.expect("open sqlite store");
    assert_eq!(store.backend(), "sqlite");
    case(store, Raw { url }).await;
}

/// Runs `case` against a store in a new PostgreSQL database, dropped afterwards even if the
/// case panics.
async fn on_postgres<F, Fut>(test: &str, case: F)
where
    F: FnOnce(Box<dyn Store>, Raw) -> Fut,
    Fut: Future<Output = ()>,
{
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let server = rampart_testkit::postgres_url();
    let mut admin = match sqlx::PgConnection::connect(&server).await {
        Ok(connection) => connection,
        Err(err) => {
            rampart_testkit::skip_service(test, "postgresql", &err.to_string());
            return;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let name = format!(
        "rampart_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = database_url(&server, &name);
    let outcome = AssertUnwindSafe(async {
        let store = rampart_store::open(&url)
            .await
            .expect("open postgres store");
        assert_eq!(store.backend(), "postgres");
        case(store, Raw { url: url.clone() }).await;
    })
    .catch_unwind()
    .await;
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.expect("drop test database");
}

/// `server` with its database name replaced by `database`.
fn database_url(server: &str, database: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(base, query)| (base, Some(query)));
    let after_scheme = base.find("://").map_or(0, |at| at + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// Declares every case twice: `sqlite::case` and `postgres::case`. Cases after `raw:` also
/// get the [`Raw`] database.
macro_rules! suite {
    ($($module:ident :: $case:ident),* $(,)? ; raw: $($raw_module:ident :: $raw_case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    super::on_sqlite(|store, _| async move { super::$module::$case(&*store).await }).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $raw_case() {
                    super::on_sqlite(|store, raw| async move { super::$raw_module::$raw_case(&*store, &raw).await }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let test = concat!("store_suite_postgres_", stringify!($case));
                    super::on_postgres(test, |store, _| async move { super::$module::$case(&*store).await }).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $raw_case() {
                    let test = concat!("store_suite_postgres_", stringify!($raw_case));
                    super::on_postgres(test, |store, raw| async move { super::$raw_module::$raw_case(&*store, &raw).await }).await;
                }
            )*
        }
    };
}

suite! {
    imports::counts_new_updated_added_source_and_duplicates,
    imports::duplicates_across_batches_merge_lists,
    imports::seen_dates_widen_and_fields_follow_the_newest,
    imports::full_list_withdraws_and_relists,
    imports::abort_leaves_the_store_unchanged,
    imports::closed_channel_leaves_the_store_unchanged,
    imports::unknown_source_is_refused,
    imports::failure_mid_import_leaves_nothing,
    imports::cursors_move_only_with_a_commit,
    imports::large_import_spans_many_chunks,
    imports::objects_keep_the_newest_and_relate,
    imports::long_values_are_stored,
    alerts::alerts_are_recorded_updated_and_filtered,
    alerts::alerts_are_triaged_and_filtered_by_status,
    alerts::alerts_are_counted_by_severity_status_and_tactic,
    alerts::indicators_are_counted_per_day_by_source_and_kind,
    records::suppression_set_and_clear,
    records::search_filters_and_pages,
    records::allowlist_entries,
    records::assets_are_replaced_by_name,
    records::sources_status_and_removal,
    records::counts_cover_every_table,
    renewals::identical_reimport_is_unchanged,
    renewals::changed_content_is_updated,
    renewals::relisted_withdrawn_statement_is_updated,
    changes::change_feed_follows_imports_in_commit_order,
    changes::change_feed_covers_withdrawal_suppression_and_sources,
    changes::change_feed_starts_after_a_time_and_marks_each_indicator,
    accounts::users_are_created_found_and_disabled,
    accounts::tokens_are_refused_when_revoked_expired_or_orphaned,
    accounts::token_creation_checks_owner_role_name_and_expiry,
    accounts::token_use_is_recorded_in_the_background,
    accounts::sessions_open_expire_and_end,
    accounts::disabling_a_user_ends_their_sessions,
    accounts::audit_lines_are_filtered_paged_and_exported,
    maintenance::old_alerts_are_pruned_and_the_audit_log_is_kept,
    respond::blocks_are_added_renewed_and_revised,
    respond::blocks_are_removed_by_id_value_list_and_run,
    respond::expired_blocks_are_swept_once,
    respond::block_queries_filter_and_page,
    respond::runs_progress_finish_and_resume,
    cases::cases_open_with_tasks_and_a_created_entry,
    cases::cases_follow_the_status_lifecycle,
    case_contents::cases_link_move_and_unlink_alerts,
    case_contents::cases_deduplicate_observables,
    case_contents::cases_merge_moving_alerts_tasks_and_observables,
    cases::cases_of_a_campaign_find_the_newest_open_one,
    cases::cases_are_filtered_paged_and_counted,
    cases::cases_timeline_is_in_time_order;
    raw:
    imports::failure_is_reported_while_the_sender_waits,
    accounts::audit_log_is_append_only,
    accounts::a_token_beyond_its_owners_lowered_role_is_refused,
    accounts::corrupt_account_rows_are_reported,
    maintenance::a_backup_during_imports_restores_whole,
}

#[test]
fn database_url_replaces_the_database() {
    assert_eq!(
        database_url("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        database_url("postgres://u@h:5432", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        database_url("postgres://u@h/db?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
}

#[tokio::test]
async fn in_memory_sqlite_works_for_tests() {
    let store = rampart_store::open("sqlite::memory:")
        .await
        .expect("open in-memory store");
    let source = fixtures::add_source(&*store, "alpha").await;
    let summary = fixtures::import_observations(
        &*store,
        &source,
        vec![fixtures::observation(fixtures::domain("x.example"), "x")],
    )
    .await;
    assert_eq!(summary.new, 1);
    assert_eq!(fixtures::all_indicators(&*store).await.len(), 1);
    // Each in-memory store is its own database.
    let other = rampart_store::open("sqlite::memory:")
        .await
        .expect("open another");
    assert_eq!(other.counts().await.unwrap().indicators, 0);
}

#[tokio::test]
async fn unknown_store_urls_are_refused() {
    let refused = rampart_store::open("mysql://localhost/rampart").await;
    assert!(matches!(refused, Err(rampart_store::StoreError::Config(_))));
}

#[tokio::test]
async fn sqlite_store_reopens_with_its_data() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    {
        let store = rampart_store::open(&url).await.expect("open");
        let source = fixtures::add_source(&*store, "alpha").await;
        fixtures::import_observations(
            &*store,
            &source,
            vec![fixtures::observation(fixtures::domain("x.example"), "x")],
        )
        .await;
    }
    let store = rampart_store::open(&url)
        .await
        .expect("reopen runs no migration twice");
    assert_eq!(store.counts().await.unwrap().indicators, 1);
    assert_eq!(
        store
            .source("alpha")
            .await
            .unwrap()
            .unwrap()
            .active_statements,
        1
    );
}
