//! `rampart assets`: the organisation's own assets.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::context::Context;
use crate::output::{self, Table};

#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// Import assets from CSV (name,kind,owner,criticality,tags,networks,hostnames,domains).
    Import { file: PathBuf },
    /// List the assets.
    List,
}

pub async fn run(ctx: Context, command: AssetsCommand) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    match command {
        AssetsCommand::Import { file } => {
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let import = rampart_intel::assets::read_csv(input)
                .with_context(|| format!("{}", file.display()))?;
            let written = store.upsert_assets(&import.assets).await?;
            if ctx.json {
                output::json(
                    &serde_json::json!({"imported": written, "rejected": import.rejections}),
                )?;
            } else {
                println!(
                    "{}: {written} assets imported, {} rows rejected",
                    file.display(),
                    import.rejections.len()
                );
                for rejection in &import.rejections {
                    println!(
                        "  {}: {}",
                        file.display(),
                        output::printable(&rejection.to_string())
                    );
                }
            }
            Ok(if import.rejections.is_empty() {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(2)
            })
        }
        AssetsCommand::List => {
            let assets = store.assets().await?;
            if ctx.json {
                output::json(&assets)?;
            } else {
                let mut table = Table::new(vec![
                    "name",
                    "kind",
                    "owner",
                    "criticality",
                    "networks",
                    "hostnames",
                    "domains",
                    "tags",
                ]);
                for asset in assets {
                    table.row(vec![
                        asset.name,
                        asset.kind,
                        asset.owner.unwrap_or_default(),
                        asset.criticality.to_string(),
                        asset.networks.join(" "),
                        asset.hostnames.join(" "),
                        asset.domains.join(" "),
                        asset.tags.join(","),
                    ]);
                }
                table.print();
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
    }
}
