//! Prometheus metrics: the process-wide recorder every stage reports to through the `metrics`
//! facade, the `/metrics` exposition, and the telemetry of HTTP requests.
//!
//! Stages own their figures as types that log and count together (a feed pull in
//! `rampart_intel::scheduler`, the detection stream's counters in `rampart_detect::stream`).
//! Figures kept as atomics by a stage are copied into the recorder by a [`Collector`] when
//! scraped, so the hot path pays nothing for metrics.
//!
//! ```no_run
//! let metrics = rampart_server::metrics::Metrics::install().expect("one recorder per process");
//! metrics.add_collector(std::sync::Arc::new(|| { /* copy a stage's atomics */ }));
//! let text = metrics.render(); // Prometheus text exposition format 0.0.4
//! ```

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Upper bounds of the latency histograms (`*_seconds`), from a millisecond to a minute.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// The decisions a mail filter can take; registered at zero until the mail stage counts them.
pub const MILTER_DECISIONS: [&str; 5] = ["accept", "reject", "quarantine", "tempfail", "discard"];

/// Copies a stage's figures into the recorder, just before each scrape.
pub type Collector = Arc<dyn Fn() + Send + Sync>;

/// The recorder's handle and the collectors to run before rendering. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    collectors: Arc<Mutex<Vec<Collector>>>,
}

/// The recorder could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the metrics recorder: {0}")]
pub struct MetricsError(String);

impl Metrics {
    /// Installs the process-wide recorder, once: later calls return the same recorder (tests
    /// start several servers in one process).
    pub fn install() -> Result<Metrics, MetricsError> {
        static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let recorder = builder().map_err(|err| err.to_string())?;
            recorder.install_recorder().map_err(|err| err.to_string())
        });
        let handle = handle.clone().map_err(MetricsError)?;
        describe();
        Ok(Metrics {
            handle,
            collectors: Arc::default(),
        })
    }

    /// A recorder of its own that nothing reports to (for states built in tests): `/metrics`
    /// answers, with only what collectors write through [`metrics::with_local_recorder`].
    pub fn detached() -> Metrics {
        let recorder = builder()
            .map(|builder| builder.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        Metrics {
            handle: recorder.handle(),
            collectors: Arc::default(),
        }
    }

    /// Adds a collector, run before every render.
    pub fn add_collector(&self, collector: Collector) {
        self.lock().push(collector);
    }

    /// Runs the collectors and renders the text exposition format.
    pub fn render(&self) -> String {
        let collectors: Vec<Collector> = self.lock().clone();
        for collector in collectors {
            collector();
        }
        // Without the exporter's own HTTP listener nobody else drains histogram buffers.
        self.handle.run_upkeep();
        self.handle.render()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Collector>> {
        // A collector that panicked leaves the list intact; keep using it.
        self.collectors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn builder() -> Result<PrometheusBuilder, metrics_exporter_prometheus::BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
}

/// Help texts of the server's own families, and the milter family at zero so that
/// dashboards and alert rules can be written before the mail stage exists.
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "time from a request's arrival to its response head, by method and route template"
    );
    metrics::describe_counter!(
        MILTER_DECISIONS_TOTAL,
        "mail filter decisions by kind (counted by the mail stage; zero until it runs)"
    );
    for decision in MILTER_DECISIONS {
        metrics::counter!(MILTER_DECISIONS_TOTAL, "decision" => decision).increment(0);
    }
}

const HTTP_REQUESTS: &str = "rampart_http_requests_total";
const HTTP_DURATION: &str = "rampart_http_request_duration_seconds";
const MILTER_DECISIONS_TOTAL: &str = "rampart_milter_decisions_total";

/// One HTTP request answered: a debug log line and its two metrics.
#[derive(Debug)]
pub struct HttpRequestServed {
    pub method: &'static str,
    /// The route template (`/api/v1/indicators/{id}`), never the raw path: raw paths are
    /// chosen by the caller and would make one series per probe.
    pub route: String,
    pub status: u16,
    pub elapsed: Duration,
}

impl HttpRequestServed {
    pub fn record(&self) {
        tracing::debug!(
            method = self.method,
            route = %self.route,
            status = self.status,
            elapsed_ms = self.elapsed.as_secs_f64() * 1000.0,
            "http request"
        );
        metrics::counter!(
            HTTP_REQUESTS,
            "method" => self.method,
            "route" => self.route.clone(),
            "status" => self.status.to_string(),
        )
        .increment(1);
        metrics::histogram!(
            HTTP_DURATION,
            "method" => self.method,
            "route" => self.route.clone(),
        )
        .record(self.elapsed.as_secs_f64());
    }
}

/// A method as a label: the usual ones by name, any other (callers may invent methods) as
/// `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware over every route (and the fallback): counts and times each request.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    HttpRequestServed {
        method,
        route,
        status: response.status().as_u16(),
        elapsed: started.elapsed(),
    }
    .record();
    response
}

/// The Prometheus text exposition of every figure.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
               content_type = "text/plain")))]
pub async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = state.metrics.clone();
    // Collectors read locks and atomics only, but rendering a large registry is real work.
    let text = tokio::task::spawn_blocking(move || metrics.render())
        .await
        .unwrap_or_default();
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_by_route_template() {
        let metrics = Metrics::detached();
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            HttpRequestServed {
                method: "GET",
                route: "/api/v1/indicators/{id}".into(),
                status: 404,
                elapsed: Duration::from_millis(3),
            }
            .record();
        });
        let text = handle.render();
        assert!(
            text.contains(
                "rampart_http_requests_total{method=\"GET\",route=\"/api/v1/indicators/{id}\",status=\"404\"} 1"
            ),
            "{text}"
        );
        assert!(metrics.render().is_empty());
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
