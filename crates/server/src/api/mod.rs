//! The handlers, one file per resource; each says how it is documented in OpenAPI. Which
//! path, method and role each one has is in [`crate::routes`].

pub mod accounts;
pub mod alerts;
pub mod assets;
pub mod audit;
pub mod blocklists;
pub mod case_changes;
pub mod case_exports;
pub mod case_work;
pub mod cases;
pub mod events;
pub mod health;
pub mod indicators;
pub mod intel_changes;
pub mod playbooks;
pub mod rules;
pub mod session;
pub mod source_changes;
pub mod sources;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Items per page when the client does not say.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most items per page.
pub const MAX_LIMIT: u32 = 1000;

/// One page of a list. `next` is the `cursor` to ask for the following page with; `null`
/// means this was the last page. A page may hold fewer than `limit` items without being the
/// last (filters applied after reading).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The page size asked for: 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(limit @ 1..=MAX_LIMIT) => Ok(limit),
        Some(other) => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit {other} is out of range: 1 to {MAX_LIMIT}"),
        )),
    }
}

/// A cursor that is a row id (lists in id order continue after it) or an offset; both are
/// decimal numbers, opaque to clients.
pub fn numeric_cursor(cursor: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    match cursor.parse::<i64>() {
        Ok(value) if value >= 0 => Ok(Some(value)),
        _ => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("invalid cursor {cursor:?}: use the `next` value of the previous page"),
        )),
    }
}

/// A page of an in-memory list by offset.
pub fn page_of<T>(
    all: Vec<T>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<T>, ApiError> {
    let limit = page_limit(limit)? as usize;
    let offset = numeric_cursor(cursor)?.unwrap_or(0) as usize;
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(items.len());
    Ok(Page {
        next: (end < total).then(|| end.to_string()),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        assert_eq!(page_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(page_limit(Some(1000)).unwrap(), 1000);
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(1001)).is_err());
        assert_eq!(numeric_cursor(Some("42")).unwrap(), Some(42));
        assert!(numeric_cursor(Some("-1")).is_err());
        assert!(numeric_cursor(Some("abc")).is_err());
    }

    #[test]
    fn offset_pages_end_with_no_next() {
        let first = page_of((0..5).map(|n| n as u8).collect(), Some(2), None).unwrap();
        assert_eq!(first.items, vec![0, 1]);
        assert_eq!(first.next.as_deref(), Some("2"));
        let last = page_of((0..5).map(|n| n as u8).collect(), Some(2), Some("4")).unwrap();
        assert_eq!(last.items, vec![4]);
        assert_eq!(last.next, None);
        let past = page_of((0..5).map(|n| n as u8).collect(), Some(2), Some("99")).unwrap();
        assert!(past.items.is_empty() && past.next.is_none());
    }
}
