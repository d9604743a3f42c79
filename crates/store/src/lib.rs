//! Rampart's persistence: one [`Store`] trait with two backends, SQLite (the embedded default)
//! and PostgreSQL (to scale out), sharing one test suite so they cannot drift.
//!
//! Callers never see SQL. An import is one transaction fed by batches over a channel: a feed
//! that fails half-way leaves the store exactly as it was.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use rampart_store::{open, ImportBatch};
//! use rampart_model::{Indicator, IndicatorKind, Observation, SourceInfo};
//! let store = open("sqlite:///tmp/rampart-demo.db").await?;
//! let source = SourceInfo::adhoc("demo", "text");
//! store.upsert_source(&source, &serde_json::json!({})).await?;
//! let (sender, receiver) = tokio::sync::mpsc::channel(4);
//! let import = store.import(&source, receiver);
//! let indicator = Indicator::parse(IndicatorKind::Domain, "evil.example")?;
//! sender.send(ImportBatch::observations(vec![Observation::new(indicator, "line 1")])).await.ok();
//! sender.send(ImportBatch::Commit(Default::default())).await.ok();
//! drop(sender);
//! let summary = import.await?;
//! assert_eq!(summary.new, 1);
//! # Ok(()) }
//! ```

mod account_store;
mod accounts;
mod alert_store;
mod case_store;
mod case_writes;
mod cases;
mod common;
mod error;
mod export;
mod import;
mod maintenance;
mod multirow;
mod postgres;
mod respond;
mod respond_store;
mod rows;
mod sqlite;
mod types;

use async_trait::async_trait;
use rampart_auth::SecretHash;
use rampart_model::{
    Alert, Case, CaseAlert, ContextObject, Indicator, Observable, SourceInfo, Task, TimelineEntry,
    Timestamp,
};
use tokio::sync::mpsc;

pub use accounts::*;
pub use cases::*;
pub use error::StoreError;
pub use export::export_audit;
pub use maintenance::restore;
pub use postgres::PostgresStore;
pub use respond::*;
pub use sqlite::SqliteStore;
pub use types::*;

/// Everything Rampart persists, behind one interface. Accounts, tokens, sessions and the audit
/// log are in [`AccountStore`], incident cases in [`CaseStore`], block lists and playbook runs
/// in [`RespondStore`]; every store is all three.
#[async_trait]
pub trait Store: AccountStore + CaseStore + RespondStore + Send + Sync {
    /// Which backend this is (`sqlite`, `postgres`), for status output.
    fn backend(&self) -> &'static str;

    // ---- sources -------------------------------------------------------------------------

    /// Adds a source or updates its settings. `settings` is the source's own configuration
    /// (URL, schedule, auth reference…) kept as JSON for the scheduler. Updating keeps the
    /// feed status (last pull, failures, last summary).
    async fn upsert_source(
        &self,
        source: &SourceInfo,
        settings: &serde_json::Value,
    ) -> Result<(), StoreError>;
    /// One source with its status; [`SourceRecord::active_statements`] counts its statements
    /// that are neither withdrawn nor revoked.
    async fn source(&self, name: &str) -> Result<Option<SourceRecord>, StoreError>;
    /// Every source, by name.
    async fn sources(&self) -> Result<Vec<SourceRecord>, StoreError>;
    /// Removes a source, its statements and its cursors, in one transaction; indicators no
    /// source vouches for any more stay, without sources, so that history and suppressions are
    /// kept. Returns whether the source existed.
    async fn remove_source(&self, name: &str) -> Result<bool, StoreError>;
    /// Lowers or raises a source's reliability (e.g. after false positives). Statements read
    /// afterwards carry the new grade. [`StoreError::UnknownSource`] if there is no such source.
    async fn set_reliability(
        &self,
        name: &str,
        reliability: rampart_model::Reliability,
    ) -> Result<(), StoreError>;
    /// Records the outcome of one pull attempt for the feed status; every outcome sets
    /// `last_attempt`. Success sets `last_success` and `last_summary` and resets
    /// `consecutive_failures`; NotModified sets `last_success` and resets the failures (the
    /// server answered); Failure sets `last_error` and counts one more failure. `last_error` is
    /// kept after a success, as history. [`StoreError::UnknownSource`] if there is no such source.
    async fn record_pull(&self, name: &str, outcome: &PullOutcome) -> Result<(), StoreError>;
    /// A per-source cursor (TAXII `added_after` per collection, MISP timestamp, HTTP ETag…).
    async fn cursor(&self, source: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets a cursor outside an import (use [`Commit::cursors`] to move it with an import).
    /// [`StoreError::UnknownSource`] if there is no such source.
    async fn set_cursor(&self, source: &str, key: &str, value: &str) -> Result<(), StoreError>;

    // ---- imports -------------------------------------------------------------------------

    /// Runs one import as one transaction: every batch received is written, and the
    /// transaction commits on [`ImportBatch::Commit`]. If the channel closes without a commit,
    /// or [`ImportBatch::Abort`] arrives, or any write fails, nothing of it is kept and the
    /// error is returned ([`StoreError::Aborted`] for the first two); the receiver is closed
    /// at once so that the sender notices. The source must exist
    /// ([`StoreError::UnknownSource`]).
    ///
    /// For each observation: the indicator is created if new (first seen: the observation's
    /// first seen, else its last seen, else now) and its suppression set when the observation
    /// carries one (never cleared here). This source's statement on it is created (counted
    /// `new` if the indicator was new, else `added_source`) or renewed (`updated`): the first
    /// seen keeps the earliest, the last seen the latest, every other field is the newest
    /// observation's, a withdrawal is undone. An observation without a confidence or TLP gets
    /// the source's defaults; one without dates was seen now, one with only a first seen was
    /// last seen now. Observations repeating an indicator within one import count as
    /// `duplicate` and are merged the same way, with labels, techniques and threats united.
    ///
    /// Context objects are upserted by id, keeping a stored one whose `modified` is newer (an
    /// object without `modified` replaces only another without). On [`Commit::full_list`], this
    /// source's statements not renewed by this import are withdrawn (`withdrawn`);
    /// [`Commit::cursors`] move in the same transaction; the summary becomes the source's
    /// `last_summary`. The feed status fields are [`Store::record_pull`]'s job.
    async fn import(
        &self,
        source: &SourceInfo,
        batches: mpsc::Receiver<ImportBatch>,
    ) -> Result<ImportSummary, StoreError>;

    // ---- indicators ----------------------------------------------------------------------

    /// One indicator by kind and canonical value, with every source's statement on it (by
    /// source name).
    async fn indicator(&self, indicator: &Indicator)
    -> Result<Option<StoredIndicator>, StoreError>;
    /// One page of indicators matching the query, in id order, with their source statements.
    /// `contains` matches a substring of the value ignoring ASCII case; pages continue with
    /// `after_id` set to the last id of the previous page.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<StoredIndicator>, StoreError>;
    /// Marks an indicator suppressed with a reason, or clears it (`None`). Returns whether the
    /// indicator exists.
    async fn set_suppression(
        &self,
        indicator: &Indicator,
        reason: Option<&str>,
    ) -> Result<bool, StoreError>;
    /// Replaces the suppression reasons of many indicators in one transaction (after warninglists
    /// or the allowlist changed). Indicators not listed keep theirs; unknown ones are ignored;
    /// an indicator listed twice gets its last reason.
    async fn set_suppressions(
        &self,
        changes: &[(Indicator, Option<String>)],
    ) -> Result<(), StoreError>;
    /// The change feed's current end: reading from it returns only changes committed later.
    /// Take it before a full read (with [`Store::search`]) that later changes will top up.
    async fn change_cursor(&self) -> Result<ChangeCursor, StoreError>;
    /// Up to `limit` (0: 1000) indicators touched by changes committed after `cursor`, as they
    /// are now, in commit order. A change touches an indicator when an import creates it, adds
    /// or changes (not merely renews) a statement on it, withdraws a statement, or changes its
    /// suppression; and when a source it has a statement from is removed or regraded. Renewals
    /// that only move `last_seen` are left out: a periodic full rebuild refreshes scores.
    async fn indicators_changed_since(
        &self,
        cursor: ChangeCursor,
        limit: u32,
    ) -> Result<ChangePage, StoreError>;
    /// The change-feed cursor from which [`Store::indicators_changed_since`] returns exactly
    /// the changes committed after `after` (TAXII's `added_after`): changes are numbered in
    /// commit order and their commit times follow it.
    async fn change_cursor_after(&self, after: Timestamp) -> Result<ChangeCursor, StoreError>;
    /// Row totals for status output.
    async fn counts(&self) -> Result<Counts, StoreError>;

    // ---- context -------------------------------------------------------------------------

    /// One context object by id, with its body exactly as received.
    async fn context_object(&self, id: &str) -> Result<Option<ContextObject>, StoreError>;
    /// Context objects of one type (e.g. all `attack-pattern`s), in id order (bytewise), one
    /// page of `limit` (0: 1000) after `after_id`.
    async fn context_objects(
        &self,
        object_type: &str,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ContextObject>, StoreError>;
    /// Relationship and sighting objects whose source is `id` (`source_ref`, `sighting_of_ref`),
    /// in id order.
    async fn relationships_of(&self, id: &str) -> Result<Vec<ContextObject>, StoreError>;

    // ---- alerts --------------------------------------------------------------------------

    /// Records alerts: a new alert is a new row; an alert with the same key and first-seen
    /// time updates that row's count, last-seen time and body (counts only grow).
    async fn record_alerts(&self, alerts: &[Alert]) -> Result<(), StoreError>;
    /// Alerts matching `query`, in the order they were first recorded.
    async fn alerts(&self, query: &AlertQuery) -> Result<Vec<StoredAlert>, StoreError>;
    /// Which of `keys` some recorded alert has (at any time).
    async fn alert_keys_present(&self, keys: &[String]) -> Result<Vec<String>, StoreError>;
    /// Records a triage decision on alert `id` (acknowledged, false positive, closed, or open
    /// again): its new status and who made it when, with an optional note; the previous
    /// decision is replaced (the audit log keeps the history). Repeats of the alert recorded
    /// later keep the decision. Returns the alert as now stored, `None` if there is no such id.
    async fn triage_alert(
        &self,
        id: i64,
        triage: &AlertTriage,
    ) -> Result<Option<StoredAlert>, StoreError>;
    /// Alert totals over alerts last seen at or after `since` (all with `None`): by severity,
    /// triage status, ATT&CK tactic and technique, counted in the database.
    async fn alert_breakdown(&self, since: Option<Timestamp>)
    -> Result<AlertBreakdown, StoreError>;

    // ---- overview ------------------------------------------------------------------------

    /// How many indicators were first seen per UTC day since `since`, by source or by kind,
    /// counted in the database; days and groups without indicators are left out. Ordered by
    /// day, then group.
    async fn indicators_per_day(
        &self,
        since: Timestamp,
        by: DailyGroup,
    ) -> Result<Vec<DailyCount>, StoreError>;

    // ---- allowlist -----------------------------------------------------------------------

    /// Adds an allowlist entry, or replaces the reason and date of the entry for that value.
    async fn allow(&self, entry: &AllowEntry) -> Result<(), StoreError>;
    /// Removes the entry for `value`; returns whether there was one.
    async fn disallow(&self, value: &str) -> Result<bool, StoreError>;
    /// The allowlist, by value.
    async fn allowlist(&self) -> Result<Vec<AllowEntry>, StoreError>;

    // ---- assets --------------------------------------------------------------------------

    /// Inserts or replaces assets by name, all in one transaction. Returns how many were given.
    async fn upsert_assets(&self, assets: &[Asset]) -> Result<usize, StoreError>;
    /// Every asset, by name.
    async fn assets(&self) -> Result<Vec<Asset>, StoreError>;

    // ---- maintenance ---------------------------------------------------------------------

    /// Deletes the alerts last seen before `last_seen_before`, or with `dry_run` only counts
    /// them; returns how many. Retention never touches the audit log.
    async fn prune_alerts(
        &self,
        last_seen_before: Timestamp,
        dry_run: bool,
    ) -> Result<u64, StoreError>;
    /// Rows a restore would overwrite (sources, indicators, alerts, accounts, audit, assets,
    /// allowlist, block lists, playbook runs, cases); zero for a new store, whose only content is its
    /// schema.
    async fn content_rows(&self) -> Result<u64, StoreError>;
    /// Writes a consistent copy of the whole store to `destination` (a new file) while it is
    /// in use: SQLite's `VACUUM INTO`, PostgreSQL's `pg_dump` custom format.
    async fn backup(&self, destination: &std::path::Path) -> Result<(), StoreError>;
}

/// Accounts, API tokens, browser sessions and the audit log. The store keeps hashes only:
/// passwords are hashed and secrets generated by `rampart-auth` before they get here.
#[async_trait]
pub trait AccountStore: Send + Sync {
    // ---- users ---------------------------------------------------------------------------

    /// Creates an account. [`StoreError::UserExists`] if the name is taken (ignoring ASCII
    /// case).
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError>;
    /// One account by name, ignoring ASCII case.
    async fn user(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Every account, by name ignoring case.
    async fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Disables (ending its sessions at once; its tokens are refused while it stays disabled)
    /// or re-enables an account. Returns whether the account exists.
    async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError>;

    // ---- API tokens ----------------------------------------------------------------------

    /// Records a new token. Refused ([`StoreError::Refused`]) when its name is empty, longer
    /// than 64 characters or holds control characters, when its role is not within its
    /// owner's, when the owner is disabled, or when its expiry has passed;
    /// [`StoreError::UnknownUser`] without such an owner.
    async fn create_token(&self, token: &NewToken) -> Result<TokenRecord, StoreError>;
    /// Tokens, revoked ones included, in creation order; only one user's with `owner_id`.
    async fn tokens(&self, owner_id: Option<i64>) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token for good. Returns whether it exists (revoking twice is no error).
    async fn revoke_token(&self, id: i64) -> Result<bool, StoreError>;
    /// Looks a presented token up by its hash and judges it at `now`: refused when revoked,
    /// expired, when its owner is disabled or its owner's role no longer covers the token's.
    /// An accepted token's last use is recorded at most once a minute, in the background, so
    /// that a request never waits for a write (SQLite's single writer may be busy with an
    /// import); it is advisory and may be lost if the process stops at that moment.
    async fn authenticate_token(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> Result<TokenCheck, StoreError>;

    // ---- sessions ------------------------------------------------------------------------

    /// Opens a session after a successful login and records the login time on the account.
    /// Refused for a disabled account or an expiry that has passed; [`StoreError::UnknownUser`]
    /// without such an account.
    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError>;
    /// The session with this id hash, if it is still good at `now`: not expired, and its
    /// account not disabled.
    async fn session(
        &self,
        hash: &SecretHash,
        now: Timestamp,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session (logout). Returns whether there was one.
    async fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError>;
    /// Deletes the sessions expired at `now`; returns how many.
    async fn sweep_sessions(&self, now: Timestamp) -> Result<u64, StoreError>;

    // ---- audit log -----------------------------------------------------------------------

    /// Appends one line to the audit log: a single insert, durable when this returns. The
    /// log is append-only: the schema refuses updates and deletions.
    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// One page of audit lines matching `query`, in the order they were recorded (or the
    /// reverse with [`AuditQuery::newest_first`]).
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

/// The respond stage's records: block-list entries and playbook runs with their actions.
#[async_trait]
pub trait RespondStore: Send + Sync {
    // ---- block lists ---------------------------------------------------------------------

    /// Puts values on block lists at `now`, in one transaction. A value already standing on
    /// its list is renewed rather than listed twice: its entry keeps its reason and gets the
    /// later expiry. Every list that changed gets a new revision. The outcomes are in the
    /// order of `blocks`.
    async fn add_blocks(
        &self,
        blocks: &[NewBlock],
        now: Timestamp,
    ) -> Result<Vec<BlockOutcome>, StoreError>;
    /// Takes the selected standing entries off their lists, recording who, when and why, in
    /// one transaction; their lists get a new revision. Returns the entries removed.
    async fn remove_blocks(
        &self,
        selector: &BlockSelector,
        removal: &Removal,
    ) -> Result<Vec<BlockEntry>, StoreError>;
    /// Removes the entries whose expiry is at or before `now` (removed by `rampart`, reason
    /// `expired`); returns them.
    async fn expire_blocks(&self, now: Timestamp) -> Result<Vec<BlockEntry>, StoreError>;
    /// Entries matching `query`, in id order.
    async fn blocks(&self, query: &BlockQuery) -> Result<Vec<BlockEntry>, StoreError>;
    /// Every list that ever had an entry, by name, with its revision and the entries standing
    /// at `now`.
    async fn block_lists(&self, now: Timestamp) -> Result<Vec<BlockListRevision>, StoreError>;

    // ---- playbook runs -------------------------------------------------------------------

    /// Records a run that starts now (status running at step 0).
    async fn create_run(&self, run: &NewRun) -> Result<RunRecord, StoreError>;
    /// Writes a run's new standing; a finished status sets its finish time. Returns the run as
    /// now stored, `None` if there is no such run.
    async fn update_run(
        &self,
        id: i64,
        progress: &RunProgress,
    ) -> Result<Option<RunRecord>, StoreError>;
    /// Records one action of a run, replacing an earlier record of the same step.
    async fn record_action(&self, action: &ActionRecord) -> Result<(), StoreError>;
    /// One run with its actions in step order.
    async fn run(&self, id: i64) -> Result<Option<(RunRecord, Vec<ActionRecord>)>, StoreError>;
    /// Runs matching `query`, newest first.
    async fn runs(&self, query: &RunQuery) -> Result<Vec<RunRecord>, StoreError>;
    /// Every run not finished (running, waiting or retrying), oldest first: what to resume
    /// after a restart.
    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>, StoreError>;
}

/// Incident cases with their tasks, observables, timeline and linked alerts.
///
/// Every write is one transaction that also appends what it did to the case's timeline, as
/// `actor` (named as in the audit log: `user:alice`, `playbook:phishing`), and moves the case's
/// `updated` time. Writes to a case that does not exist fail with [`StoreError::UnknownCase`].
#[async_trait]
pub trait CaseStore: Send + Sync {
    // ---- cases ---------------------------------------------------------------------------

    /// Opens a case (status `new`) with its initial tasks and a `created` timeline entry, by
    /// `case.created_by`. Tags are trimmed and deduplicated, techniques deduplicated.
    /// [`StoreError::Refused`] for a title that is empty, longer than [`MAX_TITLE_CHARS`] or
    /// holds control characters (tasks' titles alike).
    async fn create_case(&self, case: &NewCase) -> Result<Case, StoreError>;
    /// One case by id.
    async fn case(&self, id: i64) -> Result<Option<Case>, StoreError>;
    /// One page of cases matching `query`, by id (oldest or newest first).
    async fn cases(&self, query: &CaseQuery) -> Result<Vec<Case>, StoreError>;
    /// Changes a case's fields. Records `assigned` when the assignee changed and `updated`
    /// (with each changed field's old and new value) for the others; a change that changes
    /// nothing records nothing. Returns the case as now stored.
    async fn update_case(
        &self,
        id: i64,
        update: &CaseUpdate,
        actor: &str,
    ) -> Result<Case, StoreError>;
    /// Moves a case through its lifecycle ([`rampart_model::CaseStatus::transition_to`]):
    /// closing sets the closed time and keeps the resolution given; reopening clears both and
    /// is recorded as `reopened`, other changes as `status_changed`. A refused change is
    /// [`StoreError::StatusChange`]; a duplicate of a case that does not exist is
    /// [`StoreError::UnknownCase`].
    async fn set_case_status(
        &self,
        id: i64,
        update: &StatusUpdate,
        actor: &str,
    ) -> Result<Case, StoreError>;
    /// The newest open case whose campaign key is `campaign`.
    async fn open_case_for_campaign(&self, campaign: &str) -> Result<Option<Case>, StoreError>;
    /// Merges case `from` into case `into`: `from`'s alerts and tasks move (tasks after
    /// `into`'s own), its observables move or unite with `into`'s (flags and tags united, the
    /// stricter TLP); `into` gets the higher severity and the union of tags and techniques;
    /// `from` becomes a duplicate of `into` (so it must be open). Both timelines record
    /// `merged`. [`StoreError::Refused`] for a case merged into itself or into a duplicate.
    async fn merge_cases(
        &self,
        into: i64,
        from: i64,
        actor: &str,
    ) -> Result<MergeOutcome, StoreError>;
    /// Case totals for the overview: by status, open ones by severity, and open ones past
    /// their due date at `now`.
    async fn case_counts(&self, now: Timestamp) -> Result<CaseCounts, StoreError>;

    // ---- tasks ---------------------------------------------------------------------------

    /// Adds a task (status `waiting`) at its given position or after the last one; records
    /// `task_added`.
    async fn add_task(&self, case_id: i64, task: &NewTask, actor: &str)
    -> Result<Task, StoreError>;
    /// Changes a task; records `task_updated` with the changed fields on its case unless
    /// nothing changed. [`StoreError::UnknownTask`] without such a task.
    async fn update_task(
        &self,
        task_id: i64,
        update: &TaskUpdate,
        actor: &str,
    ) -> Result<Task, StoreError>;
    /// A case's tasks by position, then id.
    async fn tasks(&self, case_id: i64) -> Result<Vec<Task>, StoreError>;

    // ---- observables ---------------------------------------------------------------------

    /// Adds an observable, or unites it with the case's observable of the same kind and value
    /// (flags or-ed, tags united, the stricter TLP, the first message kept). Links the store's
    /// indicator of that value when there is one. Returns the observable as now stored and
    /// whether it is new; only new ones are recorded (`observable_added`).
    async fn add_observable(
        &self,
        case_id: i64,
        observable: &NewObservable,
        actor: &str,
    ) -> Result<(Observable, bool), StoreError>;
    /// A case's observables in the order they were added.
    async fn observables(&self, case_id: i64) -> Result<Vec<Observable>, StoreError>;

    // ---- timeline ------------------------------------------------------------------------

    /// Appends an entry (a comment, a playbook action, an export…) to a case's timeline.
    async fn add_timeline(
        &self,
        case_id: i64,
        entry: &NewTimelineEntry,
    ) -> Result<TimelineEntry, StoreError>;
    /// A case's timeline by time, then in the order entries were written.
    async fn timeline(&self, case_id: i64) -> Result<Vec<TimelineEntry>, StoreError>;

    // ---- alerts --------------------------------------------------------------------------

    /// Puts recorded alerts (by store id) in a case. An alert is in at most one case: one in
    /// another case moves, recording `alert_unlinked` there and `alert_linked` here (one entry
    /// per case, listing the alerts). Ids of no recorded alert are reported, not an error.
    async fn link_alerts(
        &self,
        case_id: i64,
        alert_ids: &[i64],
        actor: &str,
    ) -> Result<AlertLinks, StoreError>;
    /// Takes alerts out of a case (records `alert_unlinked`); returns the ids that were in it,
    /// ascending.
    async fn unlink_alerts(
        &self,
        case_id: i64,
        alert_ids: &[i64],
        actor: &str,
    ) -> Result<Vec<i64>, StoreError>;
    /// The case an alert is in, if any.
    async fn case_of_alert(&self, alert_id: i64) -> Result<Option<CaseAlert>, StoreError>;
    /// A case's alerts with their links, by alert id. Alerts pruned since they were linked
    /// are left out.
    async fn alerts_of_case(&self, case_id: i64) -> Result<Vec<LinkedAlert>, StoreError>;
    /// The recorded alert with this key and first-seen time (what identifies an alert row),
    /// to learn the store id of an alert just passed to [`Store::record_alerts`].
    async fn alert_by_key(
        &self,
        key: &str,
        first_seen: Timestamp,
    ) -> Result<Option<StoredAlert>, StoreError>;
}

/// Opens a store from a URL: `sqlite://PATH` (the file and its directory are created if
/// missing; `sqlite::memory:` for a store that lives as long as the handle) or
/// `postgres://…`. Migrations run on open.
pub async fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Box::new(SqliteStore::open(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Box::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported store URL {url:?}: expected sqlite://PATH or postgres://…"
        )))
    }
}
