//! What every request can reach: the store, the settings, the start time.

use std::sync::Arc;
use std::time::Instant;

use rampart_detect::ingest::Ingest;
use rampart_intel::import::Suppress;
use rampart_intel::scheduler::Puller;
use rampart_store::Store;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::taxii::{Taxii, TaxiiConfig};

/// What the dashboard shows of the running matcher, read when a page asks.
#[derive(Debug, Clone, Default)]
pub struct MatcherStatus {
    /// Indicators in the base table.
    pub base_entries: usize,
    /// Changed or removed indicators waiting in the delta.
    pub delta_entries: usize,
    /// When the snapshot was last known to hold every change committed to the store.
    pub synced_at: Option<jiff::Timestamp>,
}

/// Reads the running matcher's status: set by `serve` over its detection's matcher, so that
/// this crate needs no handle on the matcher itself.
pub type MatcherProbe = Arc<dyn Fn() -> MatcherStatus + Send + Sync>;

/// Shared, cheap to clone (one `Arc`). Later stages add their own handles here (TAXII
/// collections, metrics, detection status) through [`AppStateBuilder`], so that adding one
/// does not change every place a state is made.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub config: ServerConfig,
    /// The configured warninglists, applied with the store's allowlist after a suppression.
    pub warninglists: Option<Arc<dyn Suppress>>,
    /// Whether clients reach us over TLS: session cookies are then marked `Secure`.
    pub tls: bool,
    /// Where `/metrics` reads from: the process-wide recorder in `serve`, a detached one by
    /// default.
    pub metrics: Metrics,
    pub started: Instant,
    /// The TAXII server's collections, id index and recent statuses.
    pub taxii: Arc<Taxii>,
    /// The running detection pipeline's queue, for `POST /api/v1/events`; `None` when this
    /// server runs without detection (the route then answers 503).
    pub ingest: Option<Ingest>,
    /// Pulls a source now (`POST /api/v1/sources/{name}/pull`); `None`: answered 503.
    pub puller: Option<Puller>,
    /// The file of rule pack manifests and per-rule overrides (`rampart rules`); `None`:
    /// the rules routes answer 503.
    pub rule_state: Option<std::path::PathBuf>,
    /// Held while the rule state file is read, changed and rewritten.
    pub rule_state_lock: tokio::sync::Mutex<()>,
    /// The running matcher's status for the overview; `None`: detection has no matcher here.
    pub matcher: Option<MatcherProbe>,
    /// Failed logins per account and per client address.
    pub login_limits: crate::limits::LoginLimits,
    /// The respond stage (playbooks, runs, block lists); `None`: its routes answer 503.
    pub responder: Option<rampart_respond::runtime::Responder>,
    /// The case settings (SLA, grouping, templates) of `[cases]`.
    pub cases: rampart_cases::CaseSettings,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Starts a state with the required parts; the rest have defaults.
    pub fn builder(store: Arc<dyn Store>, config: ServerConfig) -> AppStateBuilder {
        AppStateBuilder {
            inner: Inner {
                store,
                config,
                warninglists: None,
                tls: false,
                metrics: Metrics::detached(),
                started: Instant::now(),
                taxii: Arc::new(Taxii::new(TaxiiConfig::default_with_collection())),
                ingest: None,
                puller: None,
                rule_state: None,
                rule_state_lock: tokio::sync::Mutex::new(()),
                matcher: None,
                login_limits: crate::limits::LoginLimits::default(),
                responder: None,
                cases: rampart_cases::CaseSettings::default(),
            },
        }
    }

    /// The case calls over this state's store and case settings.
    pub fn case_service(&self) -> rampart_cases::CaseService<'_> {
        rampart_cases::CaseService::new(self.store.as_ref(), &self.cases)
    }
}

/// Builds an [`AppState`].
pub struct AppStateBuilder {
    inner: Inner,
}

impl AppStateBuilder {
    pub fn warninglists(mut self, warninglists: Option<Arc<dyn Suppress>>) -> AppStateBuilder {
        self.inner.warninglists = warninglists;
        self
    }

    pub fn tls(mut self, tls: bool) -> AppStateBuilder {
        self.inner.tls = tls;
        self
    }

    /// The TAXII collections (default: the one read-only `rampart-indicators`).
    pub fn taxii(mut self, config: TaxiiConfig) -> AppStateBuilder {
        self.inner.taxii = Arc::new(Taxii::new(config));
        self
    }

    pub fn ingest(mut self, ingest: Option<Ingest>) -> AppStateBuilder {
        self.inner.ingest = ingest;
        self
    }

    pub fn puller(mut self, puller: Option<Puller>) -> AppStateBuilder {
        self.inner.puller = puller;
        self
    }

    pub fn rule_state(mut self, path: Option<std::path::PathBuf>) -> AppStateBuilder {
        self.inner.rule_state = path;
        self
    }

    pub fn matcher(mut self, probe: Option<MatcherProbe>) -> AppStateBuilder {
        self.inner.matcher = probe;
        self
    }

    pub fn login_limits(mut self, limits: crate::limits::LoginLimits) -> AppStateBuilder {
        self.inner.login_limits = limits;
        self
    }

    /// Case settings loaded by the caller, instead of those read from `config.cases`.
    pub fn cases(mut self, settings: rampart_cases::CaseSettings) -> AppStateBuilder {
        self.inner.cases = settings;
        self
    }

    pub fn metrics(mut self, metrics: Metrics) -> AppStateBuilder {
        self.inner.metrics = metrics;
        self
    }

    /// The running respond stage.
    pub fn responder(
        mut self,
        responder: Option<rampart_respond::runtime::Responder>,
    ) -> AppStateBuilder {
        self.inner.responder = responder;
        self
    }

    pub fn build(self) -> AppState {
        AppState(Arc::new(self.inner))
    }
}
