//! `rampart rules`: Sigma rule packs as a managed set — update, list, enable, disable, level.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use jiff::Timestamp;
use rampart_detect::packs::{PackChanges, RuleState};
use rampart_model::Severity;

use crate::context::Context;
use crate::output::{self, Table};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Re-read the configured packs (or one) and show what changed since the last update.
    Update {
        /// Only this pack.
        pack: Option<String>,
    },
    /// List the rules of the last update with their overrides.
    List {
        /// Only disabled rules or rules with a level override.
        #[arg(long)]
        overridden: bool,
    },
    /// Run a rule again after `disable`.
    Enable { id: String },
    /// Stop a rule from raising alerts; survives pack updates.
    Disable { id: String },
    /// Override a rule's level (informational, low, medium, high, critical), or `default`.
    Level { id: String, level: String },
}

pub async fn run(ctx: Context, command: RulesCommand) -> anyhow::Result<std::process::ExitCode> {
    let detect = ctx.detect()?;
    let state_path = ctx.rule_state_path();
    let mut state = RuleState::load(&state_path)?;
    let now = Timestamp::now();
    match command {
        RulesCommand::Update { pack } => {
            let packs: Vec<_> = detect
                .rule_packs
                .iter()
                .filter(|p| pack.as_ref().is_none_or(|name| &p.name == name))
                .collect();
            if packs.is_empty() {
                match pack {
                    Some(name) => bail!("no rule pack named {name:?} in [[detect.rule_packs]]"),
                    None => bail!(
                        "no rule packs configured: add [[detect.rule_packs]] to the configuration"
                    ),
                }
            }
            let mut all = Vec::new();
            for pack in packs {
                all.push(state.update(pack, now)?);
            }
            state.save(&state_path)?;
            if ctx.json {
                output::json(&all)?;
            } else {
                for changes in &all {
                    print_changes(changes);
                }
            }
        }
        RulesCommand::List { overridden } => {
            if ctx.json {
                output::json(&state)?;
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let mut table = Table::new(vec!["pack", "id", "level", "enabled", "title"]);
            for (pack, manifest) in &state.packs {
                for (id, rule) in &manifest.rules {
                    let own = rule
                        .level
                        .as_deref()
                        .and_then(|l| l.parse::<Severity>().ok())
                        .unwrap_or(Severity::Medium);
                    let level = state.level_of(id, own);
                    let enabled = state.is_enabled(id);
                    if overridden && enabled && level == own {
                        continue;
                    }
                    let level = if level == own {
                        level.to_string()
                    } else {
                        format!("{level} (was {own})")
                    };
                    table.row(vec![
                        pack.clone(),
                        id.clone(),
                        level,
                        if enabled { "yes" } else { "no" }.into(),
                        output::printable(&rule.title),
                    ]);
                }
            }
            table.print();
        }
        RulesCommand::Enable { id } => {
            known_rule(&state, &id)?;
            state.set_enabled(&id, true, now);
            state.save(&state_path)?;
            println!("{id}: enabled");
        }
        RulesCommand::Disable { id } => {
            known_rule(&state, &id)?;
            state.set_enabled(&id, false, now);
            state.save(&state_path)?;
            println!("{id}: disabled");
        }
        RulesCommand::Level { id, level } => {
            known_rule(&state, &id)?;
            let level = match level.as_str() {
                "default" => None,
                other => Some(other.parse::<Severity>().context("level")?),
            };
            state.set_level(&id, level, now);
            state.save(&state_path)?;
            match level {
                Some(level) => println!("{id}: level {level}"),
                None => println!("{id}: level from the rule"),
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

fn known_rule(state: &RuleState, id: &str) -> anyhow::Result<()> {
    if state.rule(id).is_none() {
        bail!("no rule with id {id:?} in the packs as last updated (run `rampart rules update`)");
    }
    Ok(())
}

fn print_changes(changes: &PackChanges) {
    println!(
        "{}: {} added, {} removed, {} modified, {} unchanged, {} unreadable",
        changes.pack,
        changes.added.len(),
        changes.removed.len(),
        changes.modified.len(),
        changes.unchanged,
        changes.unreadable.len()
    );
    for (id, rule) in &changes.added {
        println!("  + {id}  {}", output::printable(&rule.title));
    }
    for (id, rule) in &changes.removed {
        println!("  - {id}  {}", output::printable(&rule.title));
    }
    for (id, before, after) in &changes.modified {
        let title = if before.title == after.title {
            output::printable(&after.title)
        } else {
            format!(
                "{} (was {})",
                output::printable(&after.title),
                output::printable(&before.title)
            )
        };
        println!("  ~ {id}  {title}");
    }
    for problem in &changes.unreadable {
        println!(
            "  ! {}: {}",
            output::printable(&problem.path),
            output::printable(&problem.reason)
        );
    }
    for id in &changes.orphaned_overrides {
        println!("  override kept for {id}, which no pack holds any more");
    }
}
