//! What the matcher knows about one indicator: the input of a build, derived from the store's
//! [`StoredIndicator`] at build time.

use jiff::Timestamp;
use rampart_model::IndicatorKind;
use rampart_store::StoredIndicator;

/// One enforceable indicator, as compiled into a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The store's indicator id.
    pub id: i64,
    pub kind: IndicatorKind,
    /// The canonical value.
    pub value: String,
    /// 0–100, computed when the entry was made; a periodic rebuild refreshes decay.
    pub score: u8,
    /// Names of the sources whose statements are active, sorted.
    pub sources: Vec<String>,
    /// When the last active statement runs out (`valid_until`); `None` when one has no end.
    pub expires: Option<Timestamp>,
}

impl Entry {
    /// The entry for `indicator` at `now`, or `None` when it must not match: suppressed, or no
    /// source vouches for it any more (every statement revoked, withdrawn or past
    /// `valid_until`).
    pub fn from_stored(indicator: &StoredIndicator, now: Timestamp) -> Option<Entry> {
        if indicator.suppressed.is_some() {
            return None;
        }
        let active: Vec<_> = indicator
            .sources
            .iter()
            .filter(|statement| statement.is_active(now))
            .collect();
        if active.is_empty() {
            return None;
        }
        // Active statements either have no end or end after `now`: the entry lives as long as
        // the longest-lived of them.
        let expires = if active.iter().any(|s| s.valid_until.is_none()) {
            None
        } else {
            active.iter().filter_map(|s| s.valid_until).max()
        };
        let mut sources: Vec<String> = active.iter().map(|s| s.source.clone()).collect();
        sources.sort_unstable();
        sources.dedup();
        Some(Entry {
            id: indicator.id,
            kind: indicator.indicator.kind(),
            value: indicator.indicator.value().to_owned(),
            score: rampart_intel::score::score(indicator, now).score,
            sources,
            expires,
        })
    }
}

/// One change to apply to a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The indicator is new or changed: match it like this from now on.
    Upsert(Entry),
    /// The indicator (by store id) must no longer match: suppressed, expired or gone.
    Remove(i64),
}

impl Change {
    /// The change that brings a snapshot in line with the store's current row.
    pub fn from_stored(indicator: &StoredIndicator, now: Timestamp) -> Change {
        match Entry::from_stored(indicator, now) {
            Some(entry) => Change::Upsert(entry),
            None => Change::Remove(indicator.id),
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            Change::Upsert(entry) => entry.id,
            Change::Remove(id) => *id,
        }
    }
}

/// Seconds since the Unix epoch as stored in a record: 0 is "already expired", `u32::MAX` "never".
pub(crate) fn expiry_secs(expires: Option<Timestamp>) -> u32 {
    match expires {
        None => u32::MAX,
        Some(at) => {
            let secs = at.as_second();
            // Round up so that an entry is never treated as expired before its time.
            let secs = if at.subsec_nanosecond() > 0 {
                secs.saturating_add(1)
            } else {
                secs
            };
            u32::try_from(secs.max(0)).unwrap_or(u32::MAX - 1)
        }
    }
}

/// The inverse of [`expiry_secs`], for comparing tables as entries in tests.
#[cfg(test)]
pub(crate) fn expiry_time(secs: u32) -> Option<Timestamp> {
    if secs == u32::MAX {
        return None;
    }
    Timestamp::from_second(i64::from(secs)).ok()
}
