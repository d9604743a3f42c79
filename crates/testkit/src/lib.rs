//! Test support shared by every crate: where the third-party corpus is, and how a test that
//! cannot run here says so.
//!
//! A test that needs `../shared/data` asks [`corpus`]; one that needs PostgreSQL, NATS,
//! Postfix or Chromium calls [`skip_service`] when the service is missing. Either records the
//! skip under `target/test-skips/` (which `scripts/test` counts and prints) — unless
//! `RAMPART_REQUIRE_CORPUS=1` / `RAMPART_REQUIRE_SERVICES=1` is set, as CI does, in which case
//! the test fails instead.
//!
//! ```no_run
//! let Some(data) = rampart_testkit::corpus("stix_examples_import") else { return };
//! let bundle = data.join("stix/cti-documentation/examples");
//! # let _ = bundle;
//! ```

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// The shared corpus directory: `$RAMPART_CORPUS`, else `../shared/data` beside the workspace.
/// Returns `None` (and records a skip for `test`) when it is missing, or panics when
/// `RAMPART_REQUIRE_CORPUS=1`.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let path = match std::env::var_os("RAMPART_CORPUS") {
        Some(path) => PathBuf::from(path),
        None => workspace_root().join("../shared/data"),
    };
    if path.is_dir() {
        return Some(path);
    }
    let reason = format!(
        "corpus not found at {} (set RAMPART_CORPUS)",
        path.display()
    );
    if flag("RAMPART_REQUIRE_CORPUS") {
        panic!("{test}: {reason}, and RAMPART_REQUIRE_CORPUS=1");
    }
    record_skip(test, &reason);
    None
}

/// Records that `test` cannot reach `service` and returns; panics instead when
/// `RAMPART_REQUIRE_SERVICES=1`.
pub fn skip_service(test: &str, service: &str, reason: &str) {
    let reason = format!("{service} unavailable: {reason}");
    if flag("RAMPART_REQUIRE_SERVICES") {
        panic!("{test}: {reason}, and RAMPART_REQUIRE_SERVICES=1");
    }
    record_skip(test, &reason);
}

/// Whether tests must fail rather than skip when a service is missing.
pub fn services_required() -> bool {
    flag("RAMPART_REQUIRE_SERVICES")
}

/// The PostgreSQL server tests use: `$RAMPART_TEST_POSTGRES`, else the local one.
pub fn postgres_url() -> String {
    std::env::var("RAMPART_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| value == "1" || value.eq_ignore_ascii_case("true"))
}

fn record_skip(test: &str, reason: &str) {
    eprintln!("SKIPPED {test}: {reason}");
    let dir = workspace_root().join("target/test-skips");
    if std::fs::create_dir_all(&dir).is_ok() {
        let file: String = test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let _ = std::fs::write(dir.join(file), format!("{test}: {reason}\n"));
    }
}
