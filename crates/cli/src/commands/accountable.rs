//! What the account and audit commands share: who the CLI acts as, recording its actions in
//! the audit log, and reading times and lifetimes from the command line.

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use rampart_store::{AuditEntry, Store};

/// The actor the command line writes audit lines as: `cli:` and the operating-system user.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|name| !name.is_empty())
        .map(|name| {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._@-".contains(c) {
                        c
                    } else {
                        '?'
                    }
                })
                .collect()
        })
        .unwrap_or_else(os_uid);
    format!("cli:{user}")
}

#[cfg(unix)]
fn os_uid() -> String {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self")
        .map_or_else(|_| "unknown".into(), |meta| format!("uid{}", meta.uid()))
}

#[cfg(not(unix))]
fn os_uid() -> String {
    "unknown".into()
}

/// Records how an action ended and passes its result on. A failed action is recorded with its
/// error; if the audit line itself cannot be written after a success, that is the error, since
/// an action must not go unrecorded without anyone noticing.
pub async fn audited<T>(
    store: &dyn Store,
    entry: AuditEntry,
    outcome: anyhow::Result<T>,
) -> anyhow::Result<T> {
    match outcome {
        Ok(value) => {
            store
                .record_audit(&entry)
                .await
                .context("the action was done, but the audit log could not record it")?;
            Ok(value)
        }
        Err(err) => {
            let failed = entry.failed(format!("{err:#}"));
            if let Err(audit_err) = store.record_audit(&failed).await {
                tracing::warn!(error = %audit_err, "cannot record a failed action in the audit log");
            }
            Err(err)
        }
    }
}

/// A length of time (`30d`, `12h`), as clap's value parser wants it.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    rampart_model::parse_duration(text).map_err(|err| err.to_string())
}

/// A point in time: RFC 3339 (`2026-11-01T00:00:00Z`), or a duration before now (`7d`).
pub fn parse_when(text: &str) -> Result<Timestamp, String> {
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let ago = parse_duration(text)
        .map_err(|err| format!("{err}; or give an RFC 3339 time such as 2026-11-01T00:00:00Z"))?;
    Timestamp::now()
        .checked_sub(ago)
        .map_err(|err| format!("{text:?}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_ago() {
        assert_eq!(
            parse_when("2026-11-01T00:00:00Z").unwrap(),
            "2026-11-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
        let ago = parse_when("1h").unwrap();
        let expected = Timestamp::now() - SignedDuration::from_hours(1);
        assert!((expected - ago).abs() < SignedDuration::from_secs(5));
        assert!(parse_when("yesterday").is_err());
    }

    #[test]
    fn the_actor_names_the_cli() {
        assert!(cli_actor().starts_with("cli:"));
        assert!(cli_actor().len() > 4);
    }
}
