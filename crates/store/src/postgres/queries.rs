//! The PostgreSQL statements, kept in `sql/postgres/*.sql` and embedded at compile time.

macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sql/postgres/",
            $name,
            ".sql"
        ))
    };
}

/// The migrations in order: version, description, SQL.
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0001_init.sql"
        )),
    ),
    (
        2,
        "accounts",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0002_accounts.sql"
        )),
    ),
    (
        3,
        "alert triage",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0003_alert_triage.sql"
        )),
    ),
    (
        4,
        "cases",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0004_cases.sql"
        )),
    ),
    (
        5,
        "respond",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/postgres/0005_respond.sql"
        )),
    ),
];

pub(super) const ALERT_LIST: &str = sql!("alert_list");
pub(super) const ALERTS_PRUNE: &str = sql!("alerts_prune");
pub(super) const ALERTS_PRUNE_COUNT: &str = sql!("alerts_prune_count");
pub(super) const STORE_ROWS: &str = sql!("store_rows");
pub(super) const ALERT_KEY_PRESENT: &str = sql!("alert_key_present");
pub(super) const ALERT_UPSERT: &str = sql!("alert_upsert");

// Triage and the overview's aggregates.
pub(super) const ALERT_TRIAGE: &str = sql!("alert_triage");
pub(super) const ALERTS_BY_SEVERITY: &str = sql!("alerts_by_severity");
pub(super) const ALERTS_BY_STATUS: &str = sql!("alerts_by_status");
pub(super) const ALERTS_BY_TACTIC: &str = sql!("alerts_by_tactic");
pub(super) const ALERTS_BY_TECHNIQUE: &str = sql!("alerts_by_technique");
pub(super) const ALERTS_UNMAPPED: &str = sql!("alerts_unmapped");
pub(super) const INDICATORS_PER_DAY_KIND: &str = sql!("indicators_per_day_kind");
pub(super) const INDICATORS_PER_DAY_SOURCE: &str = sql!("indicators_per_day_source");
pub(super) const ALLOW_DELETE: &str = sql!("allow_delete");
pub(super) const ALLOW_LIST: &str = sql!("allow_list");
pub(super) const ALLOW_UPSERT: &str = sql!("allow_upsert");
pub(super) const ASSET_LIST: &str = sql!("asset_list");
pub(super) const ASSET_UPSERT: &str = sql!("asset_upsert");
pub(super) const CHANGE_BEGIN: &str = sql!("change_begin");
pub(super) const CHANGE_COMMIT: &str = sql!("change_commit");
pub(super) const CHANGE_BEFORE: &str = sql!("change_before");
pub(super) const CHANGE_LATEST: &str = sql!("change_latest");
pub(super) const CHANGES_SINCE: &str = sql!("changes_since");
pub(super) const INDICATORS_MARK: &str = sql!("indicators_mark");
pub(super) const INDICATORS_MARK_SOURCE: &str = sql!("indicators_mark_source");
pub(super) const INDICATORS_MARK_UNRENEWED: &str = sql!("indicators_mark_unrenewed");
pub(super) const CHANGE_LOCK: &str = sql!("change_lock");
pub(super) const COUNTS: &str = sql!("counts");
pub(super) const CURSOR_GET: &str = sql!("cursor_get");
pub(super) const CURSOR_SET: &str = sql!("cursor_set");
pub(super) const IMPORT_BEGIN: &str = sql!("import_begin");
pub(super) const IMPORT_FINISH: &str = sql!("import_finish");
pub(super) const IMPORT_LOOKUP: &str = sql!("import_lookup");
pub(super) const INDICATOR_GET: &str = sql!("indicator_get");
pub(super) const INDICATOR_IDS: &str = sql!("indicator_ids");
pub(super) const INDICATOR_INSERT: &str = sql!("indicator_insert");
pub(super) const INDICATOR_SUPPRESS_MANY: &str = sql!("indicator_suppress_many");
pub(super) const OBJECT_GET: &str = sql!("object_get");
pub(super) const OBJECT_UPSERT: &str = sql!("object_upsert");
pub(super) const OBJECTS_BY_TYPE: &str = sql!("objects_by_type");
pub(super) const PULL_FAILURE: &str = sql!("pull_failure");
pub(super) const PULL_NOT_MODIFIED: &str = sql!("pull_not_modified");
pub(super) const PULL_SUCCESS: &str = sql!("pull_success");
pub(super) const RELATIONSHIPS_OF: &str = sql!("relationships_of");
pub(super) const SEARCH: &str = sql!("search");
pub(super) const SEARCH_BY_SOURCE: &str = sql!("search_by_source");
pub(super) const SOURCE_CURSORS_DELETE: &str = sql!("source_cursors_delete");
pub(super) const SOURCE_DELETE: &str = sql!("source_delete");
pub(super) const SOURCE_EXISTS: &str = sql!("source_exists");
pub(super) const SOURCE_GET: &str = sql!("source_get");
pub(super) const SOURCE_LIST: &str = sql!("source_list");
pub(super) const SOURCE_LOCK: &str = sql!("source_lock");
pub(super) const SOURCE_SET_RELIABILITY: &str = sql!("source_set_reliability");
pub(super) const SOURCE_SET_SUMMARY: &str = sql!("source_set_summary");
pub(super) const SOURCE_STATEMENTS_DELETE: &str = sql!("source_statements_delete");
pub(super) const SOURCE_UPSERT: &str = sql!("source_upsert");
pub(super) const STATEMENT_UPSERT: &str = sql!("statement_upsert");
pub(super) const STATEMENTS_OF: &str = sql!("statements_of");
pub(super) const STATEMENTS_WITHDRAW: &str = sql!("statements_withdraw");
pub(super) const SUPPRESSION_SET: &str = sql!("suppression_set");
pub(super) const SUPPRESSION_SET_MANY: &str = sql!("suppression_set_many");

// Accounts, tokens, sessions and the audit log.
pub(super) const AUDIT_INSERT: &str = sql!("audit_insert");
pub(super) const AUDIT_LIST: &str = sql!("audit_list");
pub(super) const AUDIT_LIST_NEWEST: &str = sql!("audit_list_newest");
pub(super) const SESSION_DELETE: &str = sql!("session_delete");
pub(super) const SESSION_GET: &str = sql!("session_get");
pub(super) const SESSION_INSERT: &str = sql!("session_insert");
pub(super) const SESSIONS_DELETE_USER: &str = sql!("sessions_delete_user");
pub(super) const SESSIONS_SWEEP: &str = sql!("sessions_sweep");
pub(super) const TOKEN_GET_BY_HASH: &str = sql!("token_get_by_hash");
pub(super) const TOKEN_INSERT: &str = sql!("token_insert");
pub(super) const TOKEN_LIST: &str = sql!("token_list");
pub(super) const TOKEN_REVOKE: &str = sql!("token_revoke");
pub(super) const TOKEN_TOUCH: &str = sql!("token_touch");
pub(super) const USER_GET: &str = sql!("user_get");
pub(super) const USER_GET_BY_ID: &str = sql!("user_get_by_id");
pub(super) const USER_INSERT: &str = sql!("user_insert");
pub(super) const USER_LIST: &str = sql!("user_list");
pub(super) const USER_LOGIN: &str = sql!("user_login");
pub(super) const USER_SET_DISABLED: &str = sql!("user_set_disabled");

// The respond stage: block lists and playbook runs.
pub(super) const BLOCK_FIND_STANDING: &str = sql!("block_find_standing");
pub(super) const BLOCK_INSERT: &str = sql!("block_insert");
pub(super) const BLOCK_SET_EXPIRY: &str = sql!("block_set_expiry");
pub(super) const BLOCK_LIST_BUMP: &str = sql!("block_list_bump");
pub(super) const BLOCK_REMOVE_ID: &str = sql!("block_remove_id");
pub(super) const BLOCK_REMOVE_INDICATOR: &str = sql!("block_remove_indicator");
pub(super) const BLOCK_REMOVE_LISTED: &str = sql!("block_remove_listed");
pub(super) const BLOCK_REMOVE_RUN: &str = sql!("block_remove_run");
pub(super) const BLOCK_EXPIRE: &str = sql!("block_expire");
pub(super) const BLOCK_LIST: &str = sql!("block_list");
pub(super) const BLOCK_LISTS: &str = sql!("block_lists");
pub(super) const RUN_INSERT: &str = sql!("run_insert");
pub(super) const RUN_UPDATE: &str = sql!("run_update");
pub(super) const RUN_GET: &str = sql!("run_get");
pub(super) const RUN_LIST: &str = sql!("run_list");
pub(super) const RUNS_UNFINISHED: &str = sql!("runs_unfinished");
pub(super) const ACTION_UPSERT: &str = sql!("action_upsert");
pub(super) const ACTIONS_OF_RUN: &str = sql!("actions_of_run");
// Incident cases, their tasks, observables, timeline and alerts.
pub(super) const CASE_INSERT: &str = sql!("case_insert");
pub(super) const CASE_GET: &str = sql!("case_get");
pub(super) const CASE_GET_FOR_UPDATE: &str = sql!("case_get_for_update");
pub(super) const CASE_SAVE: &str = sql!("case_save");
pub(super) const CASE_TOUCH: &str = sql!("case_touch");
pub(super) const CASE_LIST: &str = sql!("case_list");
pub(super) const CASE_LIST_NEWEST: &str = sql!("case_list_newest");
pub(super) const CASE_OPEN_FOR_CAMPAIGN: &str = sql!("case_open_for_campaign");
pub(super) const CASES_BY_STATUS: &str = sql!("cases_by_status");
pub(super) const CASES_OPEN_BY_SEVERITY: &str = sql!("cases_open_by_severity");
pub(super) const CASES_OPEN_OVERDUE: &str = sql!("cases_open_overdue");
pub(super) const TASK_INSERT: &str = sql!("task_insert");
pub(super) const TASK_GET_FOR_UPDATE: &str = sql!("task_get_for_update");
pub(super) const TASK_SAVE: &str = sql!("task_save");
pub(super) const TASK_LIST: &str = sql!("task_list");
pub(super) const TASK_NEXT_POSITION: &str = sql!("task_next_position");
pub(super) const TASKS_MOVE: &str = sql!("tasks_move");
pub(super) const OBSERVABLE_INSERT: &str = sql!("observable_insert");
pub(super) const OBSERVABLE_GET_BY_VALUE: &str = sql!("observable_get_by_value");
pub(super) const OBSERVABLE_SAVE: &str = sql!("observable_save");
pub(super) const OBSERVABLE_LIST: &str = sql!("observable_list");
pub(super) const OBSERVABLE_DELETE: &str = sql!("observable_delete");
pub(super) const INDICATOR_ID_OF: &str = sql!("indicator_id_of");
pub(super) const TIMELINE_INSERT: &str = sql!("timeline_insert");
pub(super) const TIMELINE_LIST: &str = sql!("timeline_list");
pub(super) const ALERT_PLACES: &str = sql!("alert_places");
pub(super) const CASE_ALERTS_UPSERT: &str = sql!("case_alerts_upsert");
pub(super) const CASE_ALERTS_UNLINK: &str = sql!("case_alerts_unlink");
pub(super) const CASE_ALERT_GET: &str = sql!("case_alert_get");
pub(super) const CASE_ALERTS_LIST: &str = sql!("case_alerts_list");
pub(super) const CASE_ALERTS_MOVE: &str = sql!("case_alerts_move");
pub(super) const ALERT_BY_KEY: &str = sql!("alert_by_key");
