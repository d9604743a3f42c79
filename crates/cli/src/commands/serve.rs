//! `rampart serve`: the main job, in the foreground.

use clap::Args;
use rampart_intel::scheduler::{self, Puller};

use crate::context::Context;

#[derive(Debug, Args)]
pub struct ServeArgs {}

pub async fn run(ctx: Context, _args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    let store = ctx.store().await?;
    let suppress = ctx.warninglists()?;
    let sources = store.sources().await?;
    let enabled = sources
        .iter()
        .filter(|s| {
            rampart_intel::config::SourceConfig::from_settings(&s.settings).is_ok_and(|c| c.enabled)
        })
        .count();
    tracing::info!(
        store = store.backend(),
        sources = sources.len(),
        enabled,
        "rampart serve: feed scheduler running (Ctrl-C to stop)"
    );
    eprintln!(
        "rampart serve: {} store, {} sources ({enabled} enabled); pulling feeds on their intervals, Ctrl-C to stop",
        store.backend(),
        sources.len()
    );
    let detection = super::detection::Detection::start(&ctx, store.clone()).await?;
    let puller = Puller::new(store, super::http_client()?, suppress);
    let scheduler = scheduler::run(puller, ctx.config.concurrent_pulls, shutdown_signal());
    match &detection {
        Some(detection) => {
            // The status file is rewritten while serving, for operators and tests.
            let status = async {
                loop {
                    detection.write_status();
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            };
            tokio::select! {
                () = scheduler => {}
                () = status => {}
            }
        }
        None => scheduler.await,
    }
    if let Some(detection) = detection {
        detection.stop().await;
    }
    eprintln!("rampart serve: stopped");
    Ok(std::process::ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
