//! Rows of the respond tables (block_entries, block_lists, playbook_runs, playbook_actions),
//! shared by both backends like the rest of [`crate::rows`].

use rampart_model::Indicator;

use super::{from_json, kind_from, optional_timestamp, parse_column, small, timestamp};
use crate::{ActionRecord, BlockEntry, BlockListRevision, Removal, RunRecord, StoreError};

#[derive(sqlx::FromRow)]
pub(crate) struct BlockRow {
    id: i64,
    list: String,
    kind: String,
    value: String,
    reason: String,
    added_by: String,
    run_id: Option<i64>,
    added: i64,
    expires: Option<i64>,
    removed: Option<i64>,
    removed_by: Option<String>,
    removed_reason: Option<String>,
}

impl BlockRow {
    pub(crate) fn into_entry(self) -> Result<BlockEntry, StoreError> {
        const TABLE: &str = "block_entries";
        let removed = match self.removed {
            Some(at) => Some(Removal {
                at: timestamp(TABLE, at)?,
                by: self.removed_by.unwrap_or_default(),
                reason: self.removed_reason.unwrap_or_default(),
            }),
            None => None,
        };
        Ok(BlockEntry {
            id: self.id,
            list: self.list,
            indicator: Indicator::from_canonical(kind_from(TABLE, &self.kind)?, self.value),
            reason: self.reason,
            added_by: self.added_by,
            run_id: self.run_id,
            added: timestamp(TABLE, self.added)?,
            expires: optional_timestamp(TABLE, self.expires)?,
            removed,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct StandingRow {
    pub(crate) id: i64,
    pub(crate) expires: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct BlockListRow {
    name: String,
    revision: i64,
    updated: i64,
    standing: i64,
}

impl BlockListRow {
    pub(crate) fn into_revision(self) -> Result<BlockListRevision, StoreError> {
        const TABLE: &str = "block_lists";
        Ok(BlockListRevision {
            name: self.name,
            revision: small(TABLE, "revision", self.revision)?,
            updated: timestamp(TABLE, self.updated)?,
            standing: small(TABLE, "standing", self.standing)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RunRow {
    id: i64,
    playbook: String,
    digest: String,
    trigger: String,
    dry_run: bool,
    status: String,
    step: i64,
    state: String,
    started: i64,
    updated: i64,
    finished: Option<i64>,
    wake: Option<i64>,
    error: Option<String>,
}

impl RunRow {
    pub(crate) fn into_record(self) -> Result<RunRecord, StoreError> {
        const TABLE: &str = "playbook_runs";
        Ok(RunRecord {
            id: self.id,
            playbook: self.playbook,
            digest: self.digest,
            trigger: from_json(TABLE, "trigger", &self.trigger)?,
            dry_run: self.dry_run,
            status: parse_column(TABLE, "status", &self.status)?,
            step: small(TABLE, "step", self.step)?,
            state: from_json(TABLE, "state", &self.state)?,
            started: timestamp(TABLE, self.started)?,
            updated: timestamp(TABLE, self.updated)?,
            finished: optional_timestamp(TABLE, self.finished)?,
            wake: optional_timestamp(TABLE, self.wake)?,
            error: self.error,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActionRow {
    run_id: i64,
    step: i64,
    action: String,
    status: String,
    attempts: i64,
    started: i64,
    finished: Option<i64>,
    duration_ms: i64,
    result: String,
    error: Option<String>,
}

impl ActionRow {
    pub(crate) fn into_record(self) -> Result<ActionRecord, StoreError> {
        const TABLE: &str = "playbook_actions";
        Ok(ActionRecord {
            run_id: self.run_id,
            step: small(TABLE, "step", self.step)?,
            action: self.action,
            status: parse_column(TABLE, "status", &self.status)?,
            attempts: small(TABLE, "attempts", self.attempts)?,
            started: timestamp(TABLE, self.started)?,
            finished: optional_timestamp(TABLE, self.finished)?,
            duration_ms: small(TABLE, "duration_ms", self.duration_ms)?,
            result: from_json(TABLE, "result", &self.result)?,
            error: self.error,
        })
    }
}
