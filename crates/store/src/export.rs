//! Exports that page through the store.

use std::io::Write;

use crate::{AuditQuery, Store, StoreError};

/// Lines read per page while exporting.
const EXPORT_PAGE: u32 = 1000;

/// Writes every audit line matching `query`'s time range, actor and action, oldest first, as
/// JSON lines (one [`crate::AuditRecord`] per line), and returns how many. The query's order,
/// limit and offset are ignored. The log is append-only, so paging by offset is stable; lines
/// recorded while the export runs may or may not be included.
pub async fn export_audit(
    store: &dyn Store,
    query: &AuditQuery,
    out: &mut (dyn Write + Send),
) -> Result<u64, StoreError> {
    let mut page = AuditQuery {
        newest_first: false,
        limit: EXPORT_PAGE,
        offset: 0,
        ..query.clone()
    };
    let mut written = 0u64;
    loop {
        let records = store.audit(&page).await?;
        for record in &records {
            serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        written += records.len() as u64;
        if records.len() < EXPORT_PAGE as usize {
            break;
        }
        page.offset += records.len() as u64;
    }
    out.flush()?;
    Ok(written)
}
