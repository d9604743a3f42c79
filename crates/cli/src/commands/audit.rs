//! `rampart audit`: read and export the audit log.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use rampart_store::{AuditEntry, AuditQuery, Store};
use serde_json::json;

use crate::commands::accountable::{audited, cli_actor, parse_when};
use crate::context::Context;
use crate::output::{self, Table, when};

/// Without a subcommand: the latest lines, newest first.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    filter: AuditFilter,
    /// At most this many lines.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Skip this many of the newest lines first (for paging).
    #[arg(long, default_value_t = 0)]
    offset: u64,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Write the lines as JSON lines, oldest first.
    Export {
        /// The file to write (`-` for standard output).
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        filter: AuditFilter,
    },
}

/// Which lines: every filter given must match.
#[derive(Debug, Args)]
struct AuditFilter {
    /// Only lines at or after this time: RFC 3339, or an age such as 7d or 12h.
    #[arg(long, value_parser = parse_when)]
    since: Option<Timestamp>,
    /// Only lines before this time (same forms as --since).
    #[arg(long, value_parser = parse_when)]
    until: Option<Timestamp>,
    /// Only this actor (e.g. user:alice, cli:root, system).
    #[arg(long)]
    actor: Option<String>,
    /// Only this action (e.g. login, token.create).
    #[arg(long)]
    action: Option<String>,
}

impl AuditFilter {
    fn query(self) -> AuditQuery {
        AuditQuery {
            since: self.since,
            until: self.until,
            actor: self.actor,
            action: self.action,
            ..AuditQuery::default()
        }
    }
}

pub async fn run(ctx: Context, args: AuditArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    match args.command {
        Some(AuditCommand::Export { output, filter }) => {
            export(&*store, &output, filter.query()).await?
        }
        None => {
            let query = AuditQuery {
                newest_first: true,
                limit: args.limit,
                offset: args.offset,
                ..args.filter.query()
            };
            list(&ctx, &*store, &query).await?
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn list(ctx: &Context, store: &dyn Store, query: &AuditQuery) -> anyhow::Result<()> {
    let records = store.audit(query).await?;
    if ctx.json {
        return output::json(&records);
    }
    let mut table = Table::new(vec![
        "time", "actor", "action", "target", "outcome", "detail",
    ]);
    for record in records {
        let entry = record.entry;
        let detail = match &entry.detail {
            serde_json::Value::Object(fields) if fields.is_empty() => String::new(),
            detail => detail.to_string(),
        };
        table.row(vec![
            when(Some(entry.at)),
            entry.actor,
            entry.action,
            entry.target.unwrap_or_default(),
            entry.outcome.as_str().into(),
            detail,
        ]);
    }
    table.print();
    Ok(())
}

async fn export(store: &dyn Store, path: &PathBuf, query: AuditQuery) -> anyhow::Result<()> {
    let to_stdout = path.as_os_str() == "-";
    let entry = AuditEntry::new(cli_actor(), "audit.export")
        .target(path.display().to_string())
        .detail(json!({ "query": &query }));
    let exported = async {
        let mut out: Box<dyn std::io::Write + Send> = if to_stdout {
            Box::new(std::io::BufWriter::new(std::io::stdout()))
        } else {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Box::new(std::io::BufWriter::new(file))
        };
        let lines = rampart_store::export_audit(store, &query, &mut out)
            .await
            .with_context(|| format!("cannot export the audit log to {}", path.display()))?;
        out.flush()?;
        Ok(lines)
    }
    .await;
    let lines = audited(store, entry, exported).await?;
    if !to_stdout {
        eprintln!("{lines} audit lines written to {}", path.display());
    }
    Ok(())
}
