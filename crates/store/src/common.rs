//! Small rules both backends apply the same way.

use std::collections::HashMap;

use rampart_model::{Indicator, Timestamp};

use crate::rows::accounts::{SessionRow, TokenRow};
use crate::rows::micros;
use crate::{Session, StoreError, TokenCheck};

/// Page size when a query asks for 0 rows.
pub(crate) const DEFAULT_LIMIT: u32 = 1000;

pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(if limit == 0 { DEFAULT_LIMIT } else { limit })
}

/// The status filter of a query as the SQL compares it: `,open,acknowledged,` (a status
/// matches when `,status,` is inside), or empty for any status.
pub(crate) fn status_list<'a>(statuses: impl IntoIterator<Item = &'a str>) -> String {
    let mut list = String::new();
    for status in statuses {
        if list.is_empty() {
            list.push(',');
        }
        list.push_str(status);
        list.push(',');
    }
    list
}

/// An update that touched no row of `sources` names a source that does not exist.
pub(crate) fn require_source(name: &str, affected: u64) -> Result<(), StoreError> {
    if affected == 0 {
        Err(StoreError::UnknownSource(name.to_owned()))
    } else {
        Ok(())
    }
}

/// The last change listed for each indicator, in first-listed order: a multi-row update may
/// touch each row only once.
pub(crate) fn last_change_per_indicator(
    changes: &[(Indicator, Option<String>)],
) -> Vec<(&Indicator, Option<&str>)> {
    let mut positions: HashMap<&Indicator, usize> = HashMap::with_capacity(changes.len());
    let mut kept: Vec<(&Indicator, Option<&str>)> = Vec::with_capacity(changes.len());
    for (indicator, reason) in changes {
        match positions.get(indicator) {
            Some(&position) => kept[position].1 = reason.as_deref(),
            None => {
                positions.insert(indicator, kept.len());
                kept.push((indicator, reason.as_deref()));
            }
        }
    }
    kept
}

/// Turns rows of the change feed (with their statements) into a page continuing `cursor`.
pub(crate) fn change_page(
    cursor: crate::ChangeCursor,
    rows: Vec<crate::rows::ChangedRow>,
    statements: Vec<crate::rows::StatementRow>,
) -> Result<crate::ChangePage, StoreError> {
    let next = rows.last().map_or(cursor, |row| crate::ChangeCursor {
        seq: row.change_seq,
        after_id: row.indicator.id(),
    });
    let oldest_commit = rows
        .first()
        .and_then(|row| row.change_committed)
        .map(|micros| crate::rows::timestamp("changes", micros))
        .transpose()?;
    let mut marks = Vec::with_capacity(rows.len());
    let mut indicators = Vec::with_capacity(rows.len());
    for row in rows {
        // The feed reads committed changes only; a row without a time is a broken database.
        let committed = row.change_committed.ok_or_else(|| StoreError::Corrupt {
            table: "changes",
            reason: format!("change {} has no commit time", row.change_seq),
        })?;
        marks.push(crate::ChangeMark {
            cursor: crate::ChangeCursor {
                seq: row.change_seq,
                after_id: row.indicator.id(),
            },
            committed: crate::rows::timestamp("changes", committed)?,
        });
        indicators.push(row.indicator);
    }
    Ok(crate::ChangePage {
        indicators: crate::rows::assemble(indicators, statements)?,
        next,
        oldest_commit,
        marks,
    })
}

// ---- accounts --------------------------------------------------------------------------------

/// A token's last use is recorded at most this often (µs): a sensor posting every second costs
/// one write a minute, not one per request.
const TOKEN_TOUCH_MICROS: i64 = 60_000_000;

/// Maps a unique-key violation to `conflict`, any other error as it is.
pub(crate) fn on_unique(err: sqlx::Error, conflict: impl FnOnce() -> StoreError) -> StoreError {
    match &err {
        sqlx::Error::Database(database) if database.is_unique_violation() => conflict(),
        _ => StoreError::Database(err),
    }
}

/// Refuses a token that cannot be created for `owner` (read in the same transaction): an
/// unnamed or oddly named one, one for a missing or disabled account, one whose role exceeds
/// the owner's, or one that has expired already.
pub(crate) fn check_new_token(
    token: &crate::NewToken,
    owner: Option<crate::User>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let name_chars = token.name.chars().count();
    if name_chars == 0 || name_chars > 64 || token.name.chars().any(char::is_control) {
        return Err(StoreError::Refused(
            "a token name has 1 to 64 characters and no control characters".into(),
        ));
    }
    let Some(owner) = owner else {
        return Err(StoreError::UnknownUser(format!("id {}", token.owner_id)));
    };
    if owner.disabled {
        return Err(StoreError::Refused(format!(
            "user {:?} is disabled",
            owner.username.as_str()
        )));
    }
    if !token.role.within(owner.role) {
        return Err(StoreError::Refused(format!(
            "a {} token exceeds the role of its owner {:?} ({})",
            token.role,
            owner.username.as_str(),
            owner.role
        )));
    }
    if token.expires.is_some_and(|expires| expires <= now) {
        return Err(StoreError::Refused(
            "the token's expiry is in the past".into(),
        ));
    }
    Ok(())
}

/// The verdict on a looked-up token at `now`, and whether its last use should be recorded.
pub(crate) fn judge_token(
    row: Option<TokenRow>,
    now: Timestamp,
) -> Result<(TokenCheck, bool), StoreError> {
    let Some(row) = row else {
        return Ok((TokenCheck::Unknown, false));
    };
    let (record, owner_role, owner_disabled) = row.into_parts()?;
    let check = if record.revoked {
        TokenCheck::Revoked
    } else if record.expires.is_some_and(|expires| expires <= now) {
        TokenCheck::Expired
    } else if owner_disabled {
        TokenCheck::OwnerDisabled
    } else if !record.role.within(owner_role) {
        TokenCheck::RoleExceedsOwner
    } else {
        let touch = record
            .last_used
            .is_none_or(|last| micros(now).saturating_sub(micros(last)) >= TOKEN_TOUCH_MICROS);
        return Ok((TokenCheck::Valid(record), touch));
    };
    Ok((check, false))
}

/// Refuses a session for a missing or disabled account, or one that would be born expired.
pub(crate) fn check_new_session(
    session: &crate::NewSession,
    user: Option<crate::User>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(user) = user else {
        return Err(StoreError::UnknownUser(format!("id {}", session.user_id)));
    };
    if user.disabled {
        return Err(StoreError::Refused(format!(
            "user {:?} is disabled",
            user.username.as_str()
        )));
    }
    if session.expires <= now {
        return Err(StoreError::Refused(
            "the session's expiry is in the past".into(),
        ));
    }
    Ok(())
}

/// A looked-up session if it is still good at `now`: not expired, its account not disabled.
pub(crate) fn live_session(
    row: Option<SessionRow>,
    now: Timestamp,
) -> Result<Option<Session>, StoreError> {
    let Some(row) = row else { return Ok(None) };
    let session = row.into_session()?;
    Ok((session.expires > now && !session.user.disabled).then_some(session))
}
