//! `rampart alerts`: the alerts detection raised, from the store.

use clap::Args;
use rampart_detect::alert::{AlertWriter, OutputFormat};
use rampart_model::{Severity, Timestamp};
use rampart_store::{AlertQuery, AlertStatus};

use crate::context::Context;

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only alerts seen at or after this time (RFC 3339).
    #[arg(long)]
    since: Option<Timestamp>,
    /// Only alerts at least this severe.
    #[arg(long)]
    min_severity: Option<Severity>,
    /// Only alerts raised by retro-hunts.
    #[arg(long)]
    retro: bool,
    /// Only alerts in this triage state: open, acknowledged, false_positive, closed.
    #[arg(long)]
    status: Option<AlertStatus>,
    /// At most this many.
    #[arg(long, default_value_t = 1000)]
    limit: u32,
    /// table, jsonl or csv.
    #[arg(long, default_value = "table")]
    format: OutputFormat,
}

pub async fn run(ctx: Context, args: AlertsArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    let query = AlertQuery {
        since: args.since,
        min_severity: args.min_severity,
        retro: args.retro.then_some(true),
        statuses: args.status.into_iter().collect(),
        after_id: None,
        limit: args.limit,
    };
    let alerts = store.alerts(&query).await?;
    if ctx.json {
        crate::output::json(&alerts)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut writer = AlertWriter::new(args.format, stdout.lock());
    for stored in &alerts {
        writer.write(&stored.alert)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
