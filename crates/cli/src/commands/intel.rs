//! `rampart intel`: import, show, search, export and suppress indicators.

use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use rampart_intel::formats::FormatOptions;
use rampart_intel::query::{self, ExportFilter};
use rampart_intel::score::score;
use rampart_model::{Indicator, IndicatorKind, SourceInfo, Tlp};
use rampart_store::{AllowEntry, SearchQuery};

use crate::commands::feeds::parse_key_value;
use crate::context::Context;
use crate::output::{self, Table, when};

#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    /// Import a file or URL as one transaction.
    Import(ImportArgs),
    /// Show one indicator: sources, score explanation, context.
    Show {
        value: String,
        /// The kind, when guessing is not enough (e.g. a CIDR written as an address).
        #[arg(long)]
        kind: Option<IndicatorKind>,
    },
    /// Search indicators.
    Search(SearchArgs),
    /// Export indicators (default: TLP:GREEN and below, not suppressed, score ≥ 1).
    Export(ExportArgs),
    /// Suppress a value (and its subdomains or network) locally: it is kept but never enforced.
    Suppress {
        value: String,
        #[arg(long)]
        reason: String,
    },
    /// Remove a value from the local allowlist.
    Unsuppress { value: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A file path or an http(s) URL.
    pub input: String,
    /// Format or preset (guessed from the content when absent).
    #[arg(long)]
    pub format: Option<String>,
    /// The source to record the statements under (default: `import`).
    #[arg(long, default_value = "import")]
    pub source: String,
    #[command(flatten)]
    pub defaults: super::SourceDefaults,
    /// The file is the source's whole list: its values missing here are withdrawn.
    #[arg(long)]
    pub full_list: bool,
    /// Format option, repeatable (`--option value=url`).
    #[arg(long = "option", value_parser = parse_key_value)]
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Substring of the value.
    pub text: Option<String>,
    #[arg(long)]
    pub kind: Option<IndicatorKind>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub min_score: u8,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// stix, misp, csv or text.
    #[arg(long, default_value = "stix")]
    pub format: String,
    /// Highest TLP to include.
    #[arg(long, default_value = "green")]
    pub max_tlp: Tlp,
    #[arg(long, default_value_t = 1)]
    pub min_score: u8,
    #[arg(long)]
    pub kind: Option<IndicatorKind>,
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub include_suppressed: bool,
    /// Write to this file (atomically: a temporary file renamed into place) instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn run(ctx: Context, command: IntelCommand) -> anyhow::Result<std::process::ExitCode> {
    match command {
        IntelCommand::Import(args) => import(ctx, args).await,
        IntelCommand::Show { value, kind } => show(ctx, &value, kind).await,
        IntelCommand::Search(args) => search(ctx, args).await,
        IntelCommand::Export(args) => export(ctx, args).await,
        IntelCommand::Suppress { value, reason } => {
            let store = ctx.store().await?;
            let value = canonical_allow_value(&value)?;
            store
                .allow(&AllowEntry {
                    value: value.clone(),
                    reason: reason.clone(),
                    added: Timestamp::now(),
                })
                .await?;
            let changed = resuppress(&ctx, store.as_ref()).await?;
            println!(
                "{value} allowlisted ({reason}); {changed} indicator(s) now suppressed or updated"
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        IntelCommand::Unsuppress { value } => {
            let store = ctx.store().await?;
            let value = canonical_allow_value(&value)?;
            if !store.disallow(&value).await? {
                bail!("{value} is not on the allowlist");
            }
            let changed = resuppress(&ctx, store.as_ref()).await?;
            println!("{value} removed from the allowlist; {changed} indicator(s) updated");
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}

/// The canonical form of an allowlist value: an indicator value, or a network.
fn canonical_allow_value(raw: &str) -> anyhow::Result<String> {
    Ok(Indicator::guess(raw)
        .with_context(|| format!("{raw:?} is not an indicator value"))?
        .into_value())
}

/// Re-applies the suppression lists to every indicator; returns how many changed.
async fn resuppress(ctx: &Context, store: &dyn rampart_store::Store) -> anyhow::Result<u64> {
    let suppress = ctx.suppression(store).await?;
    Ok(rampart_intel::import::reapply_suppression(store, suppress).await?)
}

async fn import(ctx: Context, args: ImportArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    let options: FormatOptions = args.options.into_iter().collect();
    let is_url = args.input.starts_with("http://") || args.input.starts_with("https://");
    let (reader, size): (Box<dyn BufRead + Send>, Option<u64>) = if is_url {
        let response = super::http_client()?
            .get(&args.input)
            .send()
            .await
            .with_context(|| format!("cannot fetch {}", args.input))?;
        if !response.status().is_success() {
            bail!("{}: server answered {}", args.input, response.status());
        }
        let body = rampart_intel::sources::read_body(
            response,
            &args.input,
            rampart_intel::sources::http::MAX_BODY,
        )
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
        let size = body.0.len() as u64;
        (body.into_reader(), Some(size))
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input))?;
        let size = file.metadata().ok().map(|m| m.len());
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let _ = reader.fill_buf();
        let gz = reader.buffer().starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if gz {
            Box::new(std::io::BufReader::new(flate2_reader(reader)))
        } else {
            Box::new(reader)
        };
        (reader, size)
    };
    let mut reader = reader;
    let format_name = match &args.format {
        Some(name) => name.clone(),
        None => {
            let head = reader.fill_buf().unwrap_or(&[]);
            rampart_intel::import::sniff_format(&args.input, head).to_owned()
        }
    };
    let format: Arc<dyn rampart_intel::formats::Format> =
        rampart_intel::formats::by_name(&format_name, &options)
            .map_err(|err| anyhow::anyhow!("{err}"))?
            .into();
    let source = match store.source(&args.source).await? {
        Some(existing) => existing.info,
        None => {
            let preset = rampart_intel::formats::presets::preset_defaults(&format_name);
            let (reliability, default_confidence, default_tlp) =
                args.defaults.resolve(preset.as_ref());
            let info = SourceInfo {
                name: args.source.clone(),
                format: format_name.clone(),
                reliability,
                default_confidence,
                default_tlp,
                full_list: args.full_list,
            };
            let settings = serde_json::json!({"name": info.name, "format": format_name, "url": args.input, "enabled": false});
            store.upsert_source(&info, &settings).await?;
            info
        }
    };
    let progress = progress_bar(size);
    let reader: Box<dyn BufRead + Send> =
        Box::new(std::io::BufReader::new(progress.wrap_read(reader)));
    let suppress = ctx.suppression(store.as_ref()).await?;
    let started = std::time::Instant::now();
    let mut source = source;
    source.full_list = source.full_list || args.full_list;
    let result = rampart_intel::import::import_document(
        store,
        source,
        format,
        reader,
        &args.input,
        suppress,
    )
    .await;
    progress.finish_and_clear();
    let report =
        result.map_err(|err| anyhow::anyhow!("import failed, nothing was changed: {err}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    if ctx.json {
        output::json(&report)?;
    } else {
        let s = &report.summary;
        println!(
            "{}: {} observations in {:.2}s ({:.0}/s): {} new, {} updated, {} unchanged, {} new to this source, {} duplicate, {} withdrawn, {} objects, {} rejected, {} suppressed",
            args.input,
            report.observations,
            elapsed,
            report.observations as f64 / elapsed.max(1e-9),
            s.new,
            s.updated,
            s.unchanged,
            s.added_source,
            s.duplicate,
            s.withdrawn,
            s.objects,
            report.rejected,
            report.suppressed
        );
        for rejection in &report.rejections {
            println!(
                "  rejected {}: {}",
                args.input,
                output::printable(&rejection.to_string())
            );
        }
        if report.rejected > report.rejections.len() as u64 {
            println!(
                "  … and {} more rejected",
                report.rejected - report.rejections.len() as u64
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn flate2_reader(reader: impl Read + Send + 'static) -> impl Read + Send {
    flate2::read::MultiGzDecoder::new(reader)
}

fn progress_bar(size: Option<u64>) -> indicatif::ProgressBar {
    let bar = match size {
        Some(size) if size > 8 * 1024 * 1024 => indicatif::ProgressBar::new(size),
        _ => return indicatif::ProgressBar::hidden(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

async fn show(
    ctx: Context,
    raw: &str,
    kind: Option<IndicatorKind>,
) -> anyhow::Result<std::process::ExitCode> {
    let indicator = match kind {
        Some(kind) => Indicator::parse(kind, raw),
        None => Indicator::guess(raw),
    }
    .with_context(|| format!("{raw:?} is not an indicator value"))?;
    let store = ctx.store().await?;
    let Some(report) = query::show(store.as_ref(), &indicator, Timestamp::now()).await? else {
        eprintln!("{indicator} is not known");
        return Ok(std::process::ExitCode::from(1));
    };
    if ctx.json {
        output::json(&report)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let stored = &report.indicator;
    println!(
        "{} {}",
        stored.indicator.kind(),
        output::printable(stored.indicator.value())
    );
    println!("score      {}", report.explanation.score);
    println!("tlp        {}", stored.tlp());
    println!("first seen {}", when(Some(stored.first_seen)));
    if let Some(reason) = &stored.suppressed {
        println!("suppressed {}", output::printable(reason));
    }
    println!("\nwhy this score:\n{}", report.explanation);
    let mut table = Table::new(vec![
        "source",
        "rel",
        "conf",
        "tlp",
        "first seen",
        "last seen",
        "state",
        "labels",
        "techniques",
        "threats",
        "reference",
    ]);
    let now = Timestamp::now();
    for s in &stored.sources {
        let state = if s.is_active(now) {
            "active".to_owned()
        } else if s.revoked {
            "revoked".into()
        } else if s.withdrawn_at.is_some() {
            "withdrawn".into()
        } else {
            "expired".into()
        };
        table.row(vec![
            s.source.clone(),
            s.reliability.to_string(),
            s.confidence.to_string(),
            s.tlp.short().to_owned(),
            when(Some(s.first_seen)),
            when(Some(s.last_seen)),
            state,
            s.labels.join(","),
            s.techniques
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            s.threats.join(","),
            s.reference.clone(),
        ]);
        if let Some(pattern) = &s.pattern
            && let Some(reason) = &pattern.unenforced
        {
            println!(
                "note: {} pattern not enforced as written: {}",
                s.source,
                output::printable(reason)
            );
        }
    }
    table.print();
    if !report.related.is_empty() {
        println!("\nrelated:");
        for related in &report.related {
            println!(
                "  {:<14} {} {}{}",
                related.relation,
                related.object.object_type,
                output::printable(related.object.name.as_deref().unwrap_or(&related.object.id)),
                related
                    .object
                    .attack_id
                    .as_ref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn search(ctx: Context, args: SearchArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    let now = Timestamp::now();
    let mut query = SearchQuery {
        contains: args.text.map(|t| t.to_lowercase()),
        kind: args.kind,
        source: args.source,
        after_id: None,
        limit: 1000,
    };
    let mut found = Vec::new();
    'pages: loop {
        let page = store.search(&query).await?;
        let Some(last) = page.last() else { break };
        query.after_id = Some(last.id);
        for stored in page {
            let explanation = score(&stored, now);
            if explanation.score >= args.min_score {
                found.push((stored, explanation.score));
                if found.len() >= args.limit {
                    break 'pages;
                }
            }
        }
    }
    if ctx.json {
        let rows: Vec<_> = found
            .iter()
            .map(|(stored, score)| serde_json::json!({"indicator": stored, "score": score}))
            .collect();
        output::json(&rows)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let mut table = Table::new(vec![
        "kind",
        "score",
        "tlp",
        "sources",
        "suppressed",
        "value",
    ]);
    for (stored, score) in &found {
        table.row(vec![
            stored.indicator.kind().to_string(),
            score.to_string(),
            stored.tlp().short().to_owned(),
            stored
                .sources
                .iter()
                .map(|s| s.source.as_str())
                .collect::<Vec<_>>()
                .join(","),
            if stored.suppressed.is_some() {
                "yes".into()
            } else {
                String::new()
            },
            stored.indicator.value().to_owned(),
        ]);
    }
    table.print();
    Ok(std::process::ExitCode::SUCCESS)
}

async fn export(ctx: Context, args: ExportArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    let mut exporter = rampart_intel::export::by_name(&args.format).with_context(|| {
        format!(
            "unknown export format {:?} (known: {})",
            args.format,
            rampart_intel::export::names().join(", ")
        )
    })?;
    let filter = ExportFilter {
        max_tlp: args.max_tlp,
        min_score: args.min_score,
        kind: args.kind,
        source: args.source,
        include_suppressed: args.include_suppressed,
    };
    let now = Timestamp::now();
    let written = match &args.output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let temp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            let mut out = std::io::BufWriter::new(temp);
            let written =
                query::export(store.as_ref(), exporter.as_mut(), &filter, now, &mut out).await?;
            let temp = out
                .into_inner()
                .map_err(|err| anyhow::anyhow!("write failed: {}", err.error()))?;
            temp.persist(path)
                .with_context(|| format!("cannot replace {}", path.display()))?;
            written
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let written =
                query::export(store.as_ref(), exporter.as_mut(), &filter, now, &mut out).await?;
            std::io::Write::flush(&mut out)?;
            written
        }
    };
    eprintln!(
        "exported {written} indicators ({}, TLP ≤ {}, score ≥ {})",
        args.format,
        args.max_tlp.short(),
        args.min_score
    );
    Ok(std::process::ExitCode::SUCCESS)
}
