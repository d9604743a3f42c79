//! Backups and restores of a whole store, for `rampart admin backup` and `restore`.
//!
//! A backup is taken online, while `serve` writes: SQLite's `VACUUM INTO` on a connection of
//! its own reads one WAL snapshot; PostgreSQL's `pg_dump` reads one transaction snapshot. A
//! restore is offline: the target must hold nothing (or the caller says `force`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), rampart_store::StoreError> {
//! let store = rampart_store::open("sqlite:///var/lib/rampart/rampart.db").await?;
//! store.backup(std::path::Path::new("/backups/rampart-2026-11-27.db")).await?;
//! rampart_store::restore("sqlite:///tmp/copy.db", "/backups/rampart-2026-11-27.db".as_ref(), false).await?;
//! # Ok(()) }
//! ```

use std::path::Path;

use crate::StoreError;

/// The backup format of a store URL's backend.
fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Refuses to overwrite an existing file: a backup is always a new file.
pub(crate) fn new_file(destination: &Path) -> Result<&str, StoreError> {
    if destination.exists() {
        return Err(StoreError::Backup(format!(
            "{} already exists; back up to a new file",
            destination.display()
        )));
    }
    destination
        .to_str()
        .ok_or_else(|| StoreError::Backup(format!("{} is not a UTF-8 path", destination.display())))
}

/// Writes a PostgreSQL database to `destination` with `pg_dump` (custom format, no owners, so
/// that it restores under another role).
pub(crate) async fn pg_dump(url: &str, destination: &Path) -> Result<(), StoreError> {
    new_file(destination)?;
    let (url, password) = without_password(url);
    let mut command = tokio::process::Command::new("pg_dump");
    command
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(destination)
        .arg("--dbname")
        .arg(&url);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .output()
        .await
        .map_err(|err| StoreError::Backup(format!("cannot run pg_dump: {err}")))?;
    if !output.status.success() {
        let _ = tokio::fs::remove_file(destination).await;
        return Err(StoreError::Backup(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Restores `backup` into the store at `url`. Refuses a target that holds anything unless
/// `force`; then SQLite's file is replaced, and PostgreSQL's objects are dropped and
/// recreated by `pg_restore --clean`. Returns the restored store's content rows.
pub async fn restore(url: &str, backup: &Path, force: bool) -> Result<u64, StoreError> {
    if !backup.is_file() {
        return Err(StoreError::Backup(format!(
            "no backup file at {}",
            backup.display()
        )));
    }
    let target = crate::open(url).await?;
    let rows = target.content_rows().await?;
    if rows > 0 && !force {
        return Err(StoreError::Refused(format!(
            "the target store holds {rows} rows; restore only into an empty store, or pass --force to replace them"
        )));
    }
    drop(target);
    if is_sqlite(url) {
        restore_sqlite(url, backup).await?;
    } else {
        pg_restore(url, backup).await?;
    }
    // Opening runs any migration the backup predates.
    crate::open(url).await?.content_rows().await
}

async fn restore_sqlite(url: &str, backup: &Path) -> Result<(), StoreError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|path| !path.is_empty() && !path.contains(":memory:"))
        .ok_or_else(|| StoreError::Backup(format!("cannot restore into {url:?}: not a file")))?;
    // Check the backup is a store before anything is replaced.
    let checked = async {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(backup)
            .read_only(true);
        let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
        // Not STORE_ROWS: a backup may predate tables that later migrations added.
        sqlx::query_scalar::<_, i64>(crate::sqlite::BACKUP_CHECK)
            .fetch_one(&mut connection)
            .await
    }
    .await;
    if let Err(err) = checked {
        return Err(StoreError::Backup(format!(
            "{} is not a Rampart SQLite backup: {err}",
            backup.display()
        )));
    }
    let target = Path::new(path);
    let staged = target.with_extension("restoring");
    tokio::fs::copy(backup, &staged)
        .await
        .map_err(|err| StoreError::Backup(format!("cannot copy {}: {err}", backup.display())))?;
    // The old file's WAL must not be replayed over the restored file.
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let _ = tokio::fs::remove_file(&side).await;
    }
    tokio::fs::rename(&staged, target)
        .await
        .map_err(|err| StoreError::Backup(format!("cannot replace {}: {err}", target.display())))?;
    Ok(())
}

async fn pg_restore(url: &str, backup: &Path) -> Result<(), StoreError> {
    let (url, password) = without_password(url);
    let mut command = tokio::process::Command::new("pg_restore");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
        ])
        .arg(&url)
        .arg(backup)
        .output()
        .await
        .map_err(|err| StoreError::Backup(format!("cannot run pg_restore: {err}")))?;
    if !output.status.success() {
        return Err(StoreError::Backup(format!(
            "pg_restore failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// The URL without its password, and the password (percent-decoded): the password goes to
/// `pg_dump`/`pg_restore` through `PGPASSWORD`, not on a command line every local user can read.
fn without_password(url: &str) -> (String, Option<String>) {
    let (Some(scheme_end), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return (url.to_owned(), None);
    };
    let credentials_start = scheme_end + 3;
    if at < credentials_start {
        return (url.to_owned(), None);
    }
    let credentials = &url[credentials_start..at];
    let Some((user, password)) = credentials.split_once(':') else {
        return (url.to_owned(), None);
    };
    let stripped = format!("{}{user}{}", &url[..credentials_start], &url[at..]);
    (stripped, Some(percent_decode(password)))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url_for_the_environment() {
        assert_eq!(
            without_password("postgres://rampart:s%40cret:x@db.example:5432/rampart"),
            (
                "postgres://rampart@db.example:5432/rampart".to_owned(),
                Some("s@cret:x".to_owned())
            )
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/db"),
            ("postgres://postgres@127.0.0.1/db".to_owned(), None)
        );
        assert_eq!(
            without_password("postgres://127.0.0.1/db"),
            ("postgres://127.0.0.1/db".to_owned(), None)
        );
    }
}
