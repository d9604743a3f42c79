//! Small rules both backends apply the same way.

use std::collections::HashMap;

use rampart_model::Indicator;

use crate::StoreError;

/// Page size when a query asks for 0 rows.
pub(crate) const DEFAULT_LIMIT: u32 = 1000;

pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(if limit == 0 { DEFAULT_LIMIT } else { limit })
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
    let indicators = rows.into_iter().map(|row| row.indicator).collect();
    Ok(crate::ChangePage {
        indicators: crate::rows::assemble(indicators, statements)?,
        next,
        oldest_commit,
    })
}
