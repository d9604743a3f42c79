//! `rampart hunt`: run Sigma rules and known indicators over log files and folders.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use rampart_detect::alert::{AlertWriter, OutputFormat};
use rampart_detect::decode::Options;
use rampart_detect::detector::Detector;
use rampart_detect::hunt::{Hunt, HuntSummary};
use rampart_detect::packs::RuleState;
use rampart_detect::sigma::{self, RuleSet};
use rampart_matcher::{Refresher, RefresherConfig};

use crate::context::Context;
use crate::output::{self, Table};

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Sigma rules: a rule file or a folder searched recursively (repeatable). Without
    /// `--sigma` and `--intel`, the configured rule packs and the store's indicators are used.
    #[arg(long = "sigma", value_name = "PATH")]
    sigma: Vec<PathBuf>,
    /// Match the store's indicators (those scoring at least the alert threshold).
    #[arg(long)]
    intel: bool,
    /// Decoder for every input (`jsonl`, `evtx`, `syslog`, `zeek`, `apache`, …); sniffed from
    /// each file's first bytes when absent.
    #[arg(long, value_name = "NAME")]
    decoder: Option<String>,
    /// Also write every alert to this file.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Format of `--output` (and of the alert list on standard output): table, jsonl, csv.
    #[arg(long, default_value = "table")]
    format: OutputFormat,
    /// Print only the summary, not each alert.
    #[arg(long)]
    summary_only: bool,
    /// Files, folders (recursive) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub async fn run(ctx: Context, args: HuntArgs) -> anyhow::Result<std::process::ExitCode> {
    let detect = ctx.detect()?;
    let use_config = args.sigma.is_empty() && !args.intel;
    let rule_paths: Vec<PathBuf> = if use_config {
        detect.rule_packs.iter().map(|p| p.path.clone()).collect()
    } else {
        args.sigma.clone()
    };
    let overrides = Arc::new(RuleState::load(&ctx.rule_state_path())?);
    let rules = if rule_paths.is_empty() {
        None
    } else {
        let config = sigma::Config {
            placeholders: detect.placeholders.clone(),
            ..Default::default()
        };
        let (rules, failures) =
            tokio::task::spawn_blocking(move || RuleSet::load_dir(&rule_paths, &config)).await?;
        eprintln!(
            "rampart hunt: {} Sigma rules compiled, {} not compiled{}",
            rules.len(),
            failures.len(),
            if failures.is_empty() { "" } else { ":" }
        );
        for failure in &failures {
            eprintln!(
                "  {}: {}",
                failure.path.display(),
                output::printable(&failure.reason)
            );
        }
        Some(Arc::new(rules))
    };
    let matcher = if use_config || args.intel {
        let store = ctx.store().await?;
        let refresher = Refresher::start(store, RefresherConfig::default())
            .await
            .context("cannot build the indicator matcher")?;
        let matcher = refresher.matcher();
        eprintln!(
            "rampart hunt: {} indicators loaded for matching",
            matcher.stats().base_entries
        );
        Some(matcher)
    } else {
        None
    };
    if rules.is_none() && matcher.is_none() {
        bail!(
            "nothing to hunt with: give --sigma PATH or --intel, or configure [[detect.rule_packs]]"
        );
    }
    let detector = Detector::new(rules, overrides, matcher, Default::default());
    let window = detect.suppression_window;
    let paths = args.paths.clone();
    let decoder = args.decoder.clone();
    let progress = progress_spinner();
    let ticker = progress.clone();
    let (alerts, summary) = tokio::task::spawn_blocking(move || {
        let mut hunt = Hunt::new(
            detector,
            window,
            Box::new(move |events| ticker.set_position(events)),
        );
        let options = Options::default();
        let mut failed = Vec::new();
        for path in &paths {
            let result = match &decoder {
                Some(name) if path.as_os_str() == "-" => {
                    let stdin = std::io::stdin();
                    hunt.run_reader(name, "-", &mut stdin.lock(), &options)
                }
                Some(name) => std::fs::File::open(path)
                    .map_err(|error| rampart_detect::decode::DecodeError::Io {
                        input: path.display().to_string(),
                        error,
                    })
                    .and_then(|file| {
                        let mut reader = std::io::BufReader::new(file);
                        hunt.run_reader(name, &path.display().to_string(), &mut reader, &options)
                    }),
                None => hunt.run_path(path, &options),
            };
            if let Err(error) = result {
                failed.push(error.to_string());
            }
        }
        let (alerts, mut summary) = hunt.finish();
        summary.decode_errors += failed.len() as u64;
        summary.first_errors.extend(failed);
        (alerts, summary)
    })
    .await?;
    progress.finish_and_clear();

    if let Some(path) = &args.output {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut writer = AlertWriter::new(args.format, std::io::BufWriter::new(file));
        for alert in &alerts {
            writer.write(alert)?;
        }
        writer.into_inner().flush()?;
    }
    if ctx.json {
        output::json(&serde_json::json!({"summary": summary, "alerts": alerts}))?;
    } else {
        if !args.summary_only {
            let stdout = std::io::stdout();
            let mut writer = AlertWriter::new(args.format, stdout.lock());
            for alert in &alerts {
                writer.write(alert)?;
            }
        }
        print_summary(&summary);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn progress_spinner() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {pos} events {per_sec}") {
        bar.set_style(style);
    }
    bar
}

fn print_summary(summary: &HuntSummary) {
    println!();
    println!(
        "{} events, {} decode errors, {} alerts in {:.1} s ({:.0} events/s)",
        summary.events,
        summary.decode_errors,
        summary.alerts,
        summary.elapsed.as_secs_f64(),
        summary.events_per_second
    );
    for error in &summary.first_errors {
        println!("  {}", output::printable(error));
    }
    if !summary.by_severity.is_empty() {
        let levels: Vec<String> = summary
            .by_severity
            .iter()
            .rev()
            .map(|(level, count)| format!("{level} {count}"))
            .collect();
        println!("by level: {}", levels.join(", "));
    }
    if summary.by_detection.is_empty() {
        return;
    }
    let mut table = Table::new(vec!["level", "kind", "alerts", "events", "detection"]);
    for line in &summary.by_detection {
        table.row(vec![
            line.severity.to_string(),
            line.kind.to_string(),
            line.alerts.to_string(),
            line.events.to_string(),
            line.label.clone(),
        ]);
    }
    table.print();
}
