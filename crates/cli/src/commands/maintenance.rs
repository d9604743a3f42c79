//! `rampart admin backup`, `restore` and `prune`: the store's upkeep. Each is recorded in the
//! audit log; retention never deletes audit lines.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use jiff::Timestamp;
use rampart_store::{AuditEntry, Store};
use serde_json::json;

use super::accountable::{audited, cli_actor};
use super::retention::{RetentionConfig, friendly_std};
use crate::context::Context;

/// `admin backup FILE`: a consistent copy of the store, taken while `serve` may be writing.
pub async fn backup(ctx: &Context, file: &Path) -> anyhow::Result<()> {
    let store = ctx.open_store().await?;
    let entry = AuditEntry::new(cli_actor(), "store.backup")
        .target(file.display().to_string())
        .detail(json!({"backend": store.backend()}));
    let started = std::time::Instant::now();
    let outcome = store
        .backup(file)
        .await
        .with_context(|| format!("cannot back up the store to {}", file.display()));
    audited(&*store, entry, outcome).await?;
    let size = std::fs::metadata(file).map_or(0, |meta| meta.len());
    eprintln!(
        "backed up the {} store to {} ({size} bytes, {:.1}s)",
        store.backend(),
        file.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `admin restore FILE`: replaces an empty store (or, with `force`, any) by a backup.
pub async fn restore(ctx: &Context, file: &Path, force: bool) -> anyhow::Result<()> {
    let url = ctx.store_url();
    let rows = rampart_store::restore(url, file, force)
        .await
        .with_context(|| format!("cannot restore {}", file.display()))?;
    // Recorded in the restored store: it is the one whose history goes on.
    let store = ctx.open_store().await?;
    let entry = AuditEntry::new(cli_actor(), "store.restore")
        .target(file.display().to_string())
        .detail(json!({"backend": store.backend(), "force": force, "rows": rows}));
    audited(&*store, entry, Ok(())).await?;
    eprintln!(
        "restored {} into the {} store ({rows} rows)",
        file.display(),
        store.backend()
    );
    Ok(())
}

/// What one pruning pass did (or, dry, would do).
#[derive(Debug, serde::Serialize)]
pub struct Pruned {
    pub alerts: u64,
    pub alerts_before: Option<Timestamp>,
    pub dry_run: bool,
}

/// Deletes (or counts) the alerts past their retention. Nothing to do without `[retention]
/// alerts`.
pub async fn prune(
    store: &dyn Store,
    retention: &RetentionConfig,
    now: Timestamp,
    dry_run: bool,
) -> anyhow::Result<Pruned> {
    let Some(age) = retention.alerts else {
        return Ok(Pruned {
            alerts: 0,
            alerts_before: None,
            dry_run,
        });
    };
    let cutoff = now
        .checked_sub(jiff::SignedDuration::try_from(age)?)
        .context("the alert retention reaches before the year -9999")?;
    let alerts = store.prune_alerts(cutoff, dry_run).await?;
    Ok(Pruned {
        alerts,
        alerts_before: Some(cutoff),
        dry_run,
    })
}

/// `admin prune [--dry-run]`.
pub async fn prune_command(ctx: &Context, dry_run: bool) -> anyhow::Result<()> {
    let retention = RetentionConfig::from_table(ctx.config.retention.as_ref())?;
    let store = ctx.open_store().await?;
    let mut entry = AuditEntry::new(cli_actor(), "store.prune");
    let outcome = prune(&*store, &retention, Timestamp::now(), dry_run).await;
    let pruned = if dry_run {
        outcome?
    } else {
        if let Ok(pruned) = &outcome {
            entry.detail = serde_json::to_value(pruned)?;
        }
        audited(&*store, entry, outcome).await?
    };
    if ctx.json {
        println!("{}", serde_json::to_string(&pruned)?);
        return Ok(());
    }
    match (retention.alerts, pruned.alerts_before) {
        (Some(age), Some(cutoff)) => println!(
            "{} {} alerts last seen before {cutoff} (retention {})",
            if dry_run { "would delete" } else { "deleted" },
            pruned.alerts,
            friendly_std(age)
        ),
        _ => println!("no [retention] alerts set: alerts are kept"),
    }
    println!(
        "the audit log is kept; archived events are pruned by serve ([detect.archive] retention)"
    );
    Ok(())
}

/// How often `serve` prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Runs in `serve`: prunes at start and then every [`PRUNE_EVERY`], until `stop` resolves.
pub async fn prune_periodically(
    store: std::sync::Arc<dyn Store>,
    retention: RetentionConfig,
    stop: impl std::future::Future<Output = ()>,
) {
    if retention.alerts.is_none() {
        return;
    }
    tokio::pin!(stop);
    loop {
        match prune(&*store, &retention, Timestamp::now(), false).await {
            Ok(pruned) if pruned.alerts > 0 => {
                let mut entry = AuditEntry::new("system:retention", "store.prune");
                entry.detail = serde_json::to_value(&pruned).unwrap_or_default();
                if let Err(error) = store.record_audit(&entry).await {
                    tracing::warn!(%error, "cannot record pruning in the audit log");
                }
                tracing::info!(alerts = pruned.alerts, "retention: old alerts deleted");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "retention: pruning failed")
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}
