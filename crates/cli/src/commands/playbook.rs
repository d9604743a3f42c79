//! `rampart playbook`: check playbook files, and run one against a sample without side effects.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use rampart_respond::playbook::{
    Engine, EngineSettings, Facts, Guardrails, Library, NoServices, References, parse,
};
use serde_json::{Value, json};

use crate::context::Context;
use crate::output;

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// Checks playbook files (default: the configured `[respond] playbooks` directory) against
    /// the block lists, channels, destinations, lookups and case templates this configuration
    /// has; every problem is reported with its file and line.
    Check {
        /// Playbook files or directories.
        paths: Vec<PathBuf>,
    },
    /// Runs one playbook against a sample subject as a dry run: says whether it fires (and
    /// which condition stops it) and what each action would do. Nothing is blocked, sent or
    /// stored; the guardrails are the configured ones.
    Test {
        /// The playbook file.
        file: PathBuf,
        /// A JSON file with the subject: `{"indicator": {…}}`, `{"alert": {…}}` or
        /// `{"report": {…}}`, as the playbook's conditions and templates read it.
        #[arg(long)]
        event: PathBuf,
    },
}

pub async fn run(ctx: Context, command: PlaybookCommand) -> anyhow::Result<std::process::ExitCode> {
    let respond = ctx.respond()?;
    let cases = ctx.cases()?;
    let references =
        respond.references(cases.templates.iter().map(|template| template.name.clone()));
    match command {
        PlaybookCommand::Check { paths } => {
            check(&ctx, paths, respond.playbooks.clone(), &references)
        }
        PlaybookCommand::Test { file, event } => {
            let guardrails = Guardrails::new(respond.guardrails.clone());
            test(&ctx, &file, &event, &references, guardrails).await
        }
    }
}

fn check(
    ctx: &Context,
    paths: Vec<PathBuf>,
    configured: Option<PathBuf>,
    references: &References,
) -> anyhow::Result<std::process::ExitCode> {
    let paths = if paths.is_empty() {
        vec![configured.context("no paths given and no [respond] playbooks directory configured")?]
    } else {
        paths
    };
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let (library, errors) = Library::load_dir(path, references, None);
            loaded.extend(library.iter().map(|playbook| playbook.name().to_owned()));
            problems.extend(errors);
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            match parse(path, &text, references) {
                Ok(playbook) => loaded.push(playbook.name().to_owned()),
                Err(error) => problems.push(error),
            }
        }
    }
    if ctx.json {
        let problems: Vec<Value> = problems
            .iter()
            .map(|problem| json!({"file": problem.file, "line": problem.line, "reason": problem.reason}))
            .collect();
        output::json(&json!({"playbooks": loaded, "problems": problems}))?;
    } else {
        for problem in &problems {
            eprintln!("{}", output::printable(&problem.to_string()));
        }
        println!(
            "{} playbooks load, {} problems",
            loaded.len(),
            problems.len()
        );
    }
    Ok(if problems.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

async fn test(
    ctx: &Context,
    file: &std::path::Path,
    event: &std::path::Path,
    references: &References,
    guardrails: Guardrails,
) -> anyhow::Result<std::process::ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let playbook = parse(file, &text, references)?;
    let subject: Value = serde_json::from_str(
        &std::fs::read_to_string(event)
            .with_context(|| format!("cannot read {}", event.display()))?,
    )
    .with_context(|| format!("{} is not JSON", event.display()))?;
    let facts = Facts::new(subject);
    let spec = &playbook.spec;
    let mut report = json!({ "playbook": playbook.name(), "fires": false });
    let stopped_by = if !spec.trigger.fires_on(&facts) {
        Some(format!(
            "its {} trigger does not fire on this subject",
            spec.trigger.subject_name()
        ))
    } else {
        spec.conditions
            .iter()
            .position(|condition| !condition.holds(&facts))
            .map(|index| {
                format!(
                    "condition {} ({}) does not hold",
                    index + 1,
                    spec.conditions[index].field
                )
            })
    };
    if let Some(reason) = stopped_by {
        report["reason"] = json!(reason);
        print_report(ctx, &report)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // A dry run in a store of its own that lives as long as this command.
    let store: Arc<dyn rampart_store::Store> = rampart_store::open("sqlite::memory:").await?.into();
    let engine = Engine::new(
        store.clone(),
        Arc::new(NoServices),
        EngineSettings {
            dry_run: true,
            list_expiry: Default::default(),
        },
    );
    engine.set_guardrails(guardrails);
    engine.set_library(Library::of([playbook.clone()]));
    let run_id = engine
        .start(&playbook, &facts, json!({"type": "test"}))
        .await?;
    tokio::time::timeout(std::time::Duration::from_secs(60), engine.wait_idle())
        .await
        .context("the dry run did not finish within a minute")?;
    let (run, actions) = store.run(run_id).await?.context("the dry run vanished")?;
    report["fires"] = json!(true);
    report["status"] = json!(run.status);
    report["error"] = json!(run.error);
    report["actions"] = actions
        .iter()
        .map(|action| json!({"step": action.step + 1, "action": action.action, "status": action.status, "result": action.result, "error": action.error}))
        .collect();
    print_report(ctx, &report)?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn print_report(ctx: &Context, report: &Value) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(report);
    }
    let name = report["playbook"].as_str().unwrap_or_default();
    if report["fires"] != json!(true) {
        println!(
            "{name}: does not run: {}",
            report["reason"].as_str().unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{name}: runs ({})",
        report["status"].as_str().unwrap_or_default()
    );
    if let Some(error) = report["error"].as_str() {
        println!("  stops: {}", output::printable(error));
    }
    for action in report["actions"].as_array().into_iter().flatten() {
        println!(
            "  {}. {} {}: {}",
            action["step"],
            action["action"].as_str().unwrap_or_default(),
            action["status"].as_str().unwrap_or_default(),
            output::printable(&action["result"].to_string()),
        );
        if let Some(error) = action["error"].as_str() {
            println!("     {}", output::printable(error));
        }
    }
    Ok(())
}
