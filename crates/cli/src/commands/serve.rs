//! `rampart serve`: the main job, in the foreground — the feed scheduler, detection and the
//! HTTP API, until Ctrl-C or SIGTERM.

use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use rampart_intel::scheduler::{self, Puller};
use rampart_server::metrics::Metrics;
use rampart_server::taxii::TaxiiConfig;
use rampart_server::{AppState, ServerConfig};
use tokio::sync::watch;

use crate::context::Context;

#[derive(Debug, Args)]
pub struct ServeArgs {}

/// How long requests in flight may take to finish after a stop was asked for.
const HTTP_DRAIN: Duration = Duration::from_secs(10);

pub async fn run(ctx: Context, _args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    let server_config = ServerConfig::from_table(ctx.config.server.as_ref())?;
    let taxii_config = TaxiiConfig::from_table(ctx.config.taxii.as_ref())?;
    let retention = super::retention::RetentionConfig::from_table(ctx.config.retention.as_ref())?;
    let respond_config = ctx.respond()?;
    let case_settings = ctx.cases()?;
    let store = ctx.store().await?;
    let suppress = ctx.warninglists()?;
    // Read before listening, so that a missing or mismatched certificate stops `serve` at once.
    let tls = match server_config.tls() {
        Some((cert, key)) => Some(rampart_server::tls_config(cert, key).await.with_context(
            || {
                format!(
                    "cannot load the TLS certificate {} and key {}",
                    cert.display(),
                    key.display()
                )
            },
        )?),
        None => None,
    };
    // Bound before anything runs, so that a taken port stops `serve` at once.
    let listener = tokio::net::TcpListener::bind(server_config.listen)
        .await
        .with_context(|| format!("cannot listen on {} for HTTP", server_config.listen))?;
    let http_address = listener.local_addr()?;
    if let Some(token) = rampart_server::first_run::first_run(store.as_ref()).await? {
        announce_first_run(&token, http_address);
    }
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
    crate::say!(
        "rampart serve: {} store, {} sources ({enabled} enabled); pulling feeds on their intervals, Ctrl-C to stop",
        store.backend(),
        sources.len()
    );
    // One stop signal, seen by every part.
    let (stop_sender, stop) = watch::channel(false);
    let signalled = shutdown_signal();
    tokio::spawn(async move {
        signalled.await;
        let _ = stop_sender.send(true);
    });
    let stopped = |mut stop: watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };

    std::fs::create_dir_all(&ctx.config.data_dir)
        .with_context(|| format!("cannot create {}", ctx.config.data_dir.display()))?;
    // Playbook actions: cases and retro-hunts from the other stages, then the configured
    // channels, destinations and lookups.
    let stage = rampart_respond::playbook::StageServices::new(
        store.clone(),
        case_settings.clone(),
        ctx.detect()?.archive,
    );
    let references = respond_config.references(stage.case_templates());
    let services = rampart_respond::playbook::outbound::Outbound::new(&respond_config.outbound())
        .context("invalid [respond] channels, destinations or lookups")?
        .with_rest(std::sync::Arc::new(stage));
    let (responder, respond_task) = rampart_respond::runtime::Responder::start(
        store.clone(),
        respond_config,
        std::sync::Arc::new(services),
        references,
        ctx.config.data_dir.join("respond.cursor"),
        stopped(stop.clone()),
    )
    .await
    .context("cannot start the respond stage")?;
    for problem in responder.playbook_errors() {
        crate::say!("rampart serve: playbook not loaded: {problem}");
    }
    crate::say!(
        "rampart serve: respond: {} playbooks, {} block lists",
        responder.engine().library().len(),
        responder.config().blocklists.len()
    );
    let detection =
        super::detection::Detection::start(&ctx, store.clone(), Some(responder.alert_sender()))
            .await?;
    let puller = Puller::new(store.clone(), super::http_client()?, suppress.clone());
    let metrics = Metrics::install()?;
    let source_names: Vec<String> = sources.iter().map(|s| s.info.name.clone()).collect();
    rampart_intel::scheduler::FeedPulled::describe(&source_names);
    rampart_detect::telemetry::describe();
    rampart_matcher::telemetry::describe();
    rampart_respond::telemetry::describe();
    let matcher = detection.matcher();
    metrics.add_collector(std::sync::Arc::new(move || {
        matcher.stats().publish(jiff::Timestamp::now());
    }));
    let matcher = detection.matcher();
    let matcher_probe: rampart_server::state::MatcherProbe = std::sync::Arc::new(move || {
        let stats = matcher.stats();
        rampart_server::state::MatcherStatus {
            base_entries: stats.base_entries,
            delta_entries: stats.delta_entries,
            synced_at: stats.synced_at,
        }
    });
    let state = AppState::builder(store.clone(), server_config)
        .warninglists(suppress)
        .taxii(taxii_config)
        .ingest(Some(detection.ingest()))
        .puller(Some(puller.clone()))
        .rule_state(Some(ctx.rule_state_path()))
        .metrics(metrics.clone())
        .matcher(Some(matcher_probe))
        .tls(tls.is_some())
        .responder(Some(responder))
        .cases(case_settings)
        .build();
    let (http, scheme) = match tls {
        Some(tls) => (
            tokio::spawn(rampart_server::serve_tls(
                listener,
                tls,
                state,
                stopped(stop.clone()),
            )),
            "https",
        ),
        None => (
            tokio::spawn(rampart_server::serve(
                listener,
                state,
                stopped(stop.clone()),
            )),
            "http",
        ),
    };
    crate::say!("rampart serve: {scheme} listening on {scheme}://{http_address}");
    crate::say!("rampart serve: TAXII 2.1 discovery at {scheme}://{http_address}/taxii2/");
    let pruning = tokio::spawn(super::maintenance::prune_periodically(
        store.clone(),
        retention,
        stopped(stop.clone()),
    ));
    let scheduler = scheduler::run(puller, ctx.config.concurrent_pulls, stopped(stop.clone()));
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
    let _ = pruning.await;
    let _ = respond_task.await;
    let mut failed = false;
    match tokio::time::timeout(HTTP_DRAIN, http).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(err))) => {
            crate::say!("rampart serve: http server failed: {err}");
            failed = true;
        }
        Ok(Err(err)) => {
            crate::say!("rampart serve: http server task failed: {err}");
            failed = true;
        }
        Err(_) => crate::say!(
            "rampart serve: http requests still running after {}s were cut off",
            HTTP_DRAIN.as_secs()
        ),
    }
    // After the HTTP server, so that events pushed by requests in flight are still detected.
    detection.stop().await;
    crate::say!("rampart serve: stopped");
    Ok(if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// Prints the first-run admin token, once, where the operator starting the server sees it.
fn announce_first_run(token: &rampart_auth::ApiToken, address: std::net::SocketAddr) {
    if crate::logging::json() {
        // One event a log collector can route, with the token as a field of its own.
        tracing::warn!(
            target: "rampart::progress",
            first_run_admin_token = token.expose(),
            users_url = %format!("http://{address}/api/v1/users"),
            "rampart serve: first run: an `admin` account without a password was created; its API token is shown only this once"
        );
        return;
    }
    let rule = "=".repeat(76);
    eprintln!("{rule}");
    eprintln!("rampart serve: FIRST RUN. No account existed, so an `admin` account was created");
    eprintln!("without a password, with the admin API token below. It is shown only this once:");
    eprintln!("rampart serve: first-run admin token: {}", token.expose());
    eprintln!("Use it (as TOKEN) to create accounts with passwords:");
    eprintln!("  curl -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\");
    eprintln!(
        "    -d '{{\"username\":\"alice\",\"role\":\"admin\",\"password\":\"…\"}}' http://{address}/api/v1/users"
    );
    eprintln!("or, on this machine: rampart admin create-user alice --role admin");
    eprintln!("{rule}");
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call, before anything
/// is announced: a stop sent right after "listening" must not hit the default action (death).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (terminate, interrupt) = signals;
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate) => {}
                () = wait(interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
