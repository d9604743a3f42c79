//! The matcher's figures as Prometheus metrics, copied from [`MatcherStats`] when scraped.
//!
//! ```no_run
//! # fn demo(matcher: &rampart_matcher::Matcher) {
//! rampart_matcher::telemetry::describe();
//! matcher.stats().publish(jiff::Timestamp::now());
//! # }
//! ```

use jiff::Timestamp;

use crate::MatcherStats;

const ENTRIES: &str = "rampart_matcher_entries";
const MEMORY: &str = "rampart_matcher_memory_bytes";
const SNAPSHOT_AGE: &str = "rampart_matcher_snapshot_age_seconds";
const MERGES: &str = "rampart_matcher_merges_total";
const LATENCY: &str = "rampart_matcher_import_latency_seconds";

/// Help texts of the matcher's families.
pub fn describe() {
    metrics::describe_gauge!(
        ENTRIES,
        "indicators in the matcher snapshot, by table (base, delta)"
    );
    metrics::describe_gauge!(
        MEMORY,
        metrics::Unit::Bytes,
        "heap bytes of the matcher snapshot"
    );
    metrics::describe_gauge!(
        SNAPSHOT_AGE,
        metrics::Unit::Seconds,
        "time since the snapshot was last known to hold every change committed to the store"
    );
    metrics::describe_counter!(MERGES, "merges of the delta into a new base table");
    metrics::describe_gauge!(
        LATENCY,
        metrics::Unit::Seconds,
        "from an import's commit to its indicators being matched, last batch"
    );
}

impl MatcherStats {
    /// Copies these figures into the metrics recorder; the age is measured at `now`.
    pub fn publish(&self, now: Timestamp) {
        metrics::gauge!(ENTRIES, "table" => "base").set(self.base_entries as f64);
        metrics::gauge!(ENTRIES, "table" => "delta").set(self.delta_entries as f64);
        metrics::gauge!(MEMORY).set(self.memory_bytes as f64);
        if let Some(synced) = self.synced_at {
            let age = now.duration_since(synced).as_secs_f64().max(0.0);
            metrics::gauge!(SNAPSHOT_AGE).set(age);
        }
        metrics::counter!(MERGES).absolute(self.merges);
        if let Some(latency) = self.last_latency {
            metrics::gauge!(LATENCY).set(latency.as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_become_gauges_with_an_age() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let synced = Timestamp::from_second(1_000).unwrap();
        let stats = MatcherStats {
            base_entries: 12,
            delta_entries: 3,
            synced_at: Some(synced),
            ..MatcherStats::default()
        };
        let now = Timestamp::from_second(1_042).unwrap();
        metrics::with_local_recorder(&recorder, || stats.publish(now));
        let text = handle.render();
        for line in [
            "rampart_matcher_entries{table=\"base\"} 12",
            "rampart_matcher_entries{table=\"delta\"} 3",
            "rampart_matcher_snapshot_age_seconds 42",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
