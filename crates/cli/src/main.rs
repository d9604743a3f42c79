//! `rampart`: the command line of the Rampart threat management platform.
//!
//! The binary only parses arguments and wires the stages together; the work is done in the
//! stage crates (`rampart-intel`, `rampart-store`, …).

mod commands;
mod context;
mod logging;
mod output;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

// Imports allocate and free millions of small strings and JSON values across a parser thread
// and a writer thread; glibc's malloc spent a third of an import in its own bookkeeping.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Threat management from feeds to reports: gather, score and enforce threat intelligence.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about)]
struct Cli {
    /// Configuration file (TOML). Without it, the embedded defaults are used.
    #[arg(long, global = true, env = "RAMPART_CONFIG")]
    config: Option<PathBuf>,
    /// Store URL (`sqlite://PATH` or `postgres://…`), overriding the configuration.
    #[arg(long, global = true, env = "RAMPART_STORE")]
    store: Option<String>,
    /// Machine-readable JSON output instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// Log line format, overriding `[log] format` (text or json).
    #[arg(long, global = true, env = "RAMPART_LOG_FORMAT", value_enum)]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Rampart in the foreground: the feed scheduler, detection and the HTTP API (and, in
    /// later releases, the mail filter).
    Serve(commands::serve::ServeArgs),
    /// Threat intelligence: import, show, search, export, suppress.
    #[command(subcommand)]
    Intel(commands::intel::IntelCommand),
    /// Feeds that run themselves: add, list, pull, status.
    #[command(subcommand)]
    Feeds(commands::feeds::FeedsCommand),
    /// Alerts raised by detection (`serve`), from the store.
    Alerts(commands::alerts::AlertsArgs),
    /// Hunt through log files and folders with Sigma rules and the store's indicators.
    Hunt(commands::hunt::HuntArgs),
    /// Sigma rule packs: update, list, enable, disable, level overrides.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// The organisation's own assets.
    #[command(subcommand)]
    Assets(commands::assets::AssetsCommand),
    /// Accounts and API tokens (no account exists until one is created here).
    #[command(subcommand)]
    Admin(commands::admin::AdminCommand),
    /// Playbooks: `playbook check` loads them as serve would, `playbook test` runs one against a
    /// sample without side effects.
    #[command(subcommand)]
    Playbook(commands::playbook::PlaybookCommand),
    /// The audit log: who did what, when; `audit export` writes it as JSON lines.
    Audit(commands::audit::AuditArgs),
    /// The configuration file: `config check` reports every problem with its line.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
}

/// `rampart intel search | head`: when the reader of standard output goes away, stop quietly
/// with the status a shell gives a process ended by SIGPIPE (128 + 13), not with a panic.
/// Rust ignores SIGPIPE, so the failed write surfaces as a panic of `println!`.
fn quiet_broken_pipe() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            // Nothing is left to flush: the reader of what we would write has gone. Store
            // transactions in flight are rolled back by the database, as after a SIGPIPE.
            #[allow(clippy::disallowed_methods)]
            std::process::exit(141);
        }
        default_hook(info);
    }));
}

fn main() -> std::process::ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    // Checking a configuration must not depend on it being valid.
    if let Command::Config(command) = cli.command {
        logging::init(&logging::LogConfig::default());
        return match commands::config::run(command, cli.config.as_deref()) {
            Ok(code) => code,
            Err(err) => {
                eprintln!("error: {err:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    // The configuration says how to log, so it is read before anything else is.
    let loaded = context::Context::load(cli.config.as_deref(), cli.store.as_deref(), cli.json)
        .and_then(|ctx| {
            let mut log = logging::LogConfig::from_table(ctx.config.log.as_ref())?;
            if let Some(format) = cli.log_format {
                log.format = format;
            }
            Ok((ctx, log))
        });
    let ctx = match loaded {
        Ok((ctx, log)) => {
            logging::init(&log);
            ctx
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // One crypto provider everywhere (ring): aws-lc-rs would need a C toolchain build.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(ctx, cli.command)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(ctx: context::Context, command: Command) -> anyhow::Result<std::process::ExitCode> {
    match command {
        Command::Serve(args) => commands::serve::run(ctx, args).await,
        Command::Intel(command) => commands::intel::run(ctx, command).await,
        Command::Feeds(command) => commands::feeds::run(ctx, command).await,
        Command::Assets(command) => commands::assets::run(ctx, command).await,
        Command::Rules(command) => commands::rules::run(ctx, command).await,
        Command::Hunt(args) => commands::hunt::run(ctx, args).await,
        Command::Alerts(args) => commands::alerts::run(ctx, args).await,
        Command::Admin(command) => commands::admin::run(ctx, command).await,
        Command::Audit(args) => commands::audit::run(ctx, args).await,
        Command::Playbook(command) => commands::playbook::run(ctx, command).await,
        Command::Config(command) => commands::config::run(command, None),
    }
}
