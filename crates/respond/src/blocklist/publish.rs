//! Putting a rendered list where its reader loads it, and naming its version for HTTP.
//!
//! [`write_atomically`] writes to a temporary file in the target's directory, flushes it to
//! disk, renames it over the target and flushes the directory: a reader (named, Postfix,
//! Suricata, a web server) opens either the old file or the new one, never a partial one, and
//! after a crash the file is one of the two.

use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A file could not be published.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {path}: {source}")]
pub struct PublishError {
    pub path: PathBuf,
    pub action: &'static str,
    #[source]
    pub source: io::Error,
}

/// Mode of a new file: readable by the daemons that load it.
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o644;

/// Replaces `path` with `bytes` atomically (see the module documentation). An existing file's
/// permissions are kept; a new file is `0644`. On error the target is untouched and the
/// temporary file removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let error = |action, source| PublishError {
        path: path.to_path_buf(),
        action,
        source,
    };
    let file_name = path.file_name().ok_or_else(|| {
        error(
            "publish",
            io::Error::new(io::ErrorKind::InvalidInput, "no file name"),
        )
    })?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|source| error("create a temporary file beside", source))?;
    temporary
        .write_all(bytes)
        .map_err(|source| error("write the temporary file for", source))?;
    let permissions = fs::metadata(path)
        .ok()
        .map(|existing| existing.permissions())
        .or_else(new_file_permissions);
    if let Some(permissions) = permissions {
        temporary
            .as_file()
            .set_permissions(permissions)
            .map_err(|source| error("set permissions of the temporary file for", source))?;
    }
    temporary
        .as_file()
        .sync_all()
        .map_err(|source| error("flush the temporary file for", source))?;
    // On failure `persist` hands the temporary file back; dropping it deletes it.
    temporary
        .persist(path)
        .map_err(|persist| error("rename the temporary file over", persist.error))?;
    sync_directory(directory).map_err(|source| error("flush the directory of", source))?;
    Ok(())
}

#[cfg(unix)]
fn new_file_permissions() -> Option<Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(Permissions::from_mode(NEW_FILE_MODE))
}

/// Elsewhere a new file keeps the permissions it was created with.
#[cfg(not(unix))]
fn new_file_permissions() -> Option<Permissions> {
    None
}

/// Flushes a directory's entries, so the rename survives a crash (a no-op where directories
/// cannot be opened as files).
fn sync_directory(directory: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(directory)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = directory;
        Ok(())
    }
}

/// A strong HTTP ETag for `body`: the first 128 bits of its SHA-256, in hex, quoted.
pub fn etag(body: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        let _ = write!(tag, "{byte:02x}");
    }
    tag.push('"');
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_a_quoted_truncated_sha256() {
        // SHA-256("") = e3b0c44298fc1c149afbf4c8996fb924 27ae41e4649b934ca495991b7852b855
        assert_eq!(etag(b""), "\"e3b0c44298fc1c149afbf4c8996fb924\"");
        assert_ne!(etag(b"a"), etag(b"b"));
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("c2.rpz.zone");
        write_atomically(&path, b"first\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o644
            );
            fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        }
        write_atomically(&path, b"second\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
        let names: Vec<_> = fs::read_dir(directory.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("c2.rpz.zone")]);
    }

    #[test]
    fn errors_name_the_path_and_leave_the_target_alone() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("no-such-dir").join("list.txt");
        let error = write_atomically(&missing, b"x").unwrap_err();
        assert!(error.to_string().contains("no-such-dir"), "{error}");

        // A directory where the file should be: the rename fails and the temporary is removed.
        let occupied = directory.path().join("occupied");
        fs::create_dir(&occupied).unwrap();
        fs::write(occupied.join("keep"), b"k").unwrap();
        let error = write_atomically(&occupied, b"x").unwrap_err();
        assert!(error.to_string().contains("occupied"), "{error}");
        let leftovers = fs::read_dir(directory.path()).unwrap().count();
        assert_eq!(leftovers, 1, "only the occupied directory remains");
    }
}
