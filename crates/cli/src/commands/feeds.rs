//! `rampart feeds`: sources that run themselves.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use rampart_intel::config::{AuthConfig, SourceConfig, TransportKind};
use rampart_intel::scheduler::{self, PullResult, Puller};

use crate::context::Context;
use crate::output::{self, Table, when};

#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// Add a feed, or replace one of the same name.
    Add(Box<AddArgs>),
    /// List feeds and their settings.
    List,
    /// Pull feeds now (all enabled ones when no name is given).
    Pull { names: Vec<String> },
    /// Feed health: last success, last error, counts of the last pull.
    Status,
    /// Enable a feed.
    Enable { name: String },
    /// Disable a feed (its indicators stay).
    Disable { name: String },
    /// Remove a feed and its statements.
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub name: String,
    /// Format or preset: stix, misp, csv, text, urlhaus, spamhaus-drop, …
    #[arg(long)]
    pub format: String,
    /// URL or local path (default: the preset's public address).
    #[arg(long)]
    pub url: Option<String>,
    /// http (default), taxii, misp-server or misp-feed.
    #[arg(long, default_value = "http")]
    pub transport: String,
    #[arg(long, default_value = "1h")]
    pub interval: String,
    #[command(flatten)]
    pub defaults: super::SourceDefaults,
    /// Each pull is the whole list: values missing from it are withdrawn.
    #[arg(long)]
    pub full_list: bool,
    /// Format option, repeatable: `--option value=url --option delimiter=,`.
    #[arg(long = "option", value_parser = parse_key_value)]
    pub options: Vec<(String, String)>,
    /// Transport option, repeatable (TAXII collection, MISP filters…).
    #[arg(long = "transport-option", value_parser = parse_key_value)]
    pub transport_options: Vec<(String, String)>,
    /// Add the feed disabled.
    #[arg(long)]
    pub disabled: bool,
    /// HTTP basic auth: `USER=ENV_VAR`, the password read from that environment variable.
    #[arg(long, value_parser = parse_key_value, conflicts_with_all = ["bearer_env", "auth_header"])]
    pub basic: Option<(String, String)>,
    /// Bearer token read from this environment variable.
    #[arg(long, conflicts_with = "auth_header")]
    pub bearer_env: Option<String>,
    /// A header whose value is read from an environment variable: `NAME=ENV_VAR`
    /// (MISP: `Authorization=MISP_KEY`).
    #[arg(long, value_parser = parse_key_value)]
    pub auth_header: Option<(String, String)>,
}

pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?} is not key=value"))
}

pub async fn run(ctx: Context, command: FeedsCommand) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    match command {
        FeedsCommand::Add(args) => {
            let transport: TransportKind = serde_json::from_value(serde_json::Value::String(
                args.transport.clone(),
            ))
            .map_err(|_| {
                anyhow::anyhow!(
                    "unknown transport {:?} (http, taxii, misp-server, misp-feed)",
                    args.transport
                )
            })?;
            let preset = rampart_intel::formats::presets::preset_defaults(&args.format);
            let url = match (args.url, preset.as_ref().and_then(|p| p.url.clone())) {
                (Some(url), _) | (None, Some(url)) => url,
                (None, None) => bail!("--url is needed: {:?} has no default address", args.format),
            };
            let (reliability, confidence, tlp) = args.defaults.resolve(preset.as_ref());
            let config = SourceConfig {
                name: args.name,
                format: args.format,
                transport,
                url,
                interval: args.interval,
                enabled: !args.disabled,
                reliability,
                confidence,
                tlp,
                full_list: args.full_list.then_some(true),
                options: args.options.into_iter().collect::<BTreeMap<_, _>>(),
                auth: match (args.basic, args.bearer_env, args.auth_header) {
                    (Some((user, password_env)), _, _) => {
                        Some(AuthConfig::Basic { user, password_env })
                    }
                    (_, Some(token_env), _) => Some(AuthConfig::Bearer { token_env }),
                    (_, _, Some((name, value_env))) => Some(AuthConfig::Header { name, value_env }),
                    _ => None,
                },
                timeout_secs: 60,
                transport_options: args.transport_options.into_iter().collect(),
            };
            config
                .validate()
                .map_err(|reason| anyhow::anyhow!("feed {:?}: {reason}", config.name))?;
            store
                .upsert_source(&config.info(), &config.to_settings())
                .await?;
            println!(
                "feed {:?} added ({}, every {})",
                config.name, config.format, config.interval
            );
        }
        FeedsCommand::List => {
            let sources = store.sources().await?;
            if ctx.json {
                output::json(&sources)?;
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let mut table = Table::new(vec![
                "name",
                "format",
                "enabled",
                "interval",
                "reliability",
                "full list",
                "url",
            ]);
            for record in sources {
                let config = SourceConfig::from_settings(&record.settings).ok();
                table.row(vec![
                    record.info.name.clone(),
                    record.info.format.clone(),
                    config.as_ref().map_or("?".into(), |c| {
                        if c.enabled { "yes".into() } else { "no".into() }
                    }),
                    config.as_ref().map_or("-".into(), |c| c.interval.clone()),
                    record.info.reliability.to_string(),
                    if record.info.full_list {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    config.map_or("-".into(), |c| c.url),
                ]);
            }
            table.print();
        }
        FeedsCommand::Status => {
            let sources = store.sources().await?;
            if ctx.json {
                output::json(&sources)?;
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let mut table = Table::new(vec![
                "name",
                "active",
                "last success",
                "last attempt",
                "failures",
                "new",
                "updated",
                "unchanged",
                "rejected",
                "withdrawn",
                "next due",
                "last error",
            ]);
            for record in sources {
                let summary = record.last_summary.clone().unwrap_or_default();
                let next = SourceConfig::from_settings(&record.settings)
                    .ok()
                    .map(|config| {
                        if config.enabled {
                            when(Some(scheduler::next_due(&record, &config)))
                        } else {
                            "disabled".into()
                        }
                    })
                    .unwrap_or_default();
                table.row(vec![
                    record.info.name.clone(),
                    record.active_statements.to_string(),
                    when(record.last_success),
                    when(record.last_attempt),
                    record.consecutive_failures.to_string(),
                    summary.new.to_string(),
                    (summary.updated + summary.added_source).to_string(),
                    summary.unchanged.to_string(),
                    summary.rejected.to_string(),
                    summary.withdrawn.to_string(),
                    next,
                    record.last_error.clone().unwrap_or_default(),
                ]);
            }
            table.print();
        }
        FeedsCommand::Pull { names } => {
            let names = if names.is_empty() {
                store
                    .sources()
                    .await?
                    .into_iter()
                    .filter(|s| SourceConfig::from_settings(&s.settings).is_ok_and(|c| c.enabled))
                    .map(|s| s.info.name)
                    .collect()
            } else {
                names
            };
            let suppress = ctx.warninglists()?;
            let puller = Puller::new(store.clone(), super::http_client()?, suppress);
            let mut failures = 0;
            let mut results = Vec::new();
            for name in names {
                let result = puller.pull(&name).await;
                match &result {
                    Ok(PullResult::Imported(report)) => {
                        let s = &report.summary;
                        if !ctx.json {
                            println!(
                                "{name}: {} new, {} updated, {} unchanged, {} new to this source, {} withdrawn, {} rejected, {} suppressed",
                                s.new,
                                s.updated,
                                s.unchanged,
                                s.added_source,
                                s.withdrawn,
                                report.rejected,
                                report.suppressed
                            );
                            for rejection in report.rejections.iter().take(5) {
                                println!(
                                    "  rejected {}",
                                    output::printable(&rejection.to_string())
                                );
                            }
                        }
                    }
                    Ok(PullResult::NotModified) if !ctx.json => println!("{name}: not modified"),
                    Ok(PullResult::NotModified) => {}
                    Err(err) => {
                        failures += 1;
                        eprintln!(
                            "{name}: pull failed: {}",
                            output::printable(&err.to_string())
                        );
                    }
                }
                results.push(serde_json::json!({
                    "source": name,
                    "result": result.as_ref().map(|r| serde_json::to_value(r).unwrap_or_default()).map_err(|e| e.to_string()),
                }));
            }
            if ctx.json {
                output::json(&results)?;
            }
            if failures > 0 {
                return Ok(std::process::ExitCode::from(2));
            }
        }
        FeedsCommand::Enable { name } => set_enabled(&ctx, store.as_ref(), &name, true).await?,
        FeedsCommand::Disable { name } => set_enabled(&ctx, store.as_ref(), &name, false).await?,
        FeedsCommand::Remove { name } => {
            if !store.remove_source(&name).await? {
                bail!("no feed named {name:?}");
            }
            println!("feed {name:?} removed");
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn set_enabled(
    ctx: &Context,
    store: &dyn rampart_store::Store,
    name: &str,
    enabled: bool,
) -> anyhow::Result<()> {
    if ctx.config_from_file && ctx.config.sources.iter().any(|s| s.name == name) {
        bail!("feed {name:?} is defined in the configuration file: change `enabled` there");
    }
    let record = store
        .source(name)
        .await?
        .with_context(|| format!("no feed named {name:?}"))?;
    let mut config = SourceConfig::from_settings(&record.settings)
        .map_err(|e| anyhow::anyhow!("feed {name:?}: {e}"))?;
    config.enabled = enabled;
    store
        .upsert_source(&record.info, &config.to_settings())
        .await?;
    println!(
        "feed {name:?} {}",
        if enabled { "enabled" } else { "disabled" }
    );
    Ok(())
}
