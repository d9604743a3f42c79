//! The detection stream's figures as Prometheus metrics.
//!
//! The pipeline counts in atomics ([`StreamCounters`](crate::stream::StreamCounters)) on its
//! hot path and logs nothing per event; a scrape copies a [`StreamStatus`] snapshot into the
//! metrics recorder, so the counters and `detect-status.json` always agree.
//!
//! ```no_run
//! # fn demo(stream: &rampart_detect::stream::Stream) {
//! rampart_detect::telemetry::describe();
//! stream.status().publish();
//! # }
//! ```

use crate::bus::TopicCounts;
use crate::stream::StreamStatus;

/// Counters: name, help, and how to read it from a status.
type CounterFamily = (&'static str, &'static str, fn(&StreamStatus) -> u64);

const COUNTERS: [CounterFamily; 11] = [
    (
        "rampart_events_received_total",
        "events decoded by the detection inputs",
        |s| s.received,
    ),
    (
        "rampart_events_decode_errors_total",
        "records the detection inputs could not decode",
        |s| s.decode_errors,
    ),
    (
        "rampart_events_dropped_total",
        "events a UDP input dropped because the event queue was full",
        |s| s.dropped,
    ),
    (
        "rampart_events_processed_total",
        "events the detection workers finished",
        |s| s.processed,
    ),
    (
        "rampart_events_matched_total",
        "events that raised at least one alert",
        |s| s.matched,
    ),
    (
        "rampart_events_archived_total",
        "events written to the archive for retro-hunts",
        |s| s.archived,
    ),
    (
        "rampart_archive_errors_total",
        "archive writes that failed",
        |s| s.archive_errors,
    ),
    (
        "rampart_retro_sweeps_total",
        "retro-hunt sweeps of the archive",
        |s| s.retro_sweeps,
    ),
    (
        "rampart_retro_alerts_total",
        "alerts raised by retro-hunt sweeps",
        |s| s.retro_alerts,
    ),
    (
        "rampart_alerts_new_total",
        "alerts raised (first sighting within their window)",
        |s| s.alerts_new,
    ),
    (
        "rampart_alerts_repeated_total",
        "sightings folded into an alert already raised",
        |s| s.alerts_repeated,
    ),
];

const QUEUE_DEPTH: &str = "rampart_queue_depth";
const TOPIC_PUBLISHED: &str = "rampart_topic_published_total";
const TOPIC_REDELIVERED: &str = "rampart_topic_redelivered_total";

/// Help texts of the detection families, and the families at zero so a scrape before the
/// first event shows them.
pub fn describe() {
    for (name, help, _) in COUNTERS {
        metrics::describe_counter!(name, help);
    }
    metrics::describe_gauge!(
        QUEUE_DEPTH,
        "messages published to a pipeline queue and not yet acknowledged, by queue"
    );
    metrics::describe_counter!(TOPIC_PUBLISHED, "messages published, by pipeline queue");
    metrics::describe_counter!(
        TOPIC_REDELIVERED,
        "messages delivered again after a worker dropped them, by pipeline queue"
    );
    StreamStatus::default().publish();
}

impl StreamStatus {
    /// Copies this snapshot into the metrics recorder (counters as absolute totals).
    pub fn publish(&self) {
        for (name, _, read) in COUNTERS {
            metrics::counter!(name).absolute(read(self));
        }
        publish_topic("events", &self.events_topic);
        publish_topic("alerts", &self.alerts_topic);
    }
}

fn publish_topic(queue: &'static str, counts: &TopicCounts) {
    metrics::gauge!(QUEUE_DEPTH, "queue" => queue).set(counts.pending as f64);
    metrics::counter!(TOPIC_PUBLISHED, "queue" => queue).absolute(counts.published);
    metrics::counter!(TOPIC_REDELIVERED, "queue" => queue).absolute(counts.redelivered);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_becomes_counters_and_gauges() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let status = StreamStatus {
            received: 7,
            processed: 6,
            alerts_new: 2,
            events_topic: TopicCounts {
                published: 7,
                acked: 6,
                pending: 1,
                ..TopicCounts::default()
            },
            ..StreamStatus::default()
        };
        metrics::with_local_recorder(&recorder, || status.publish());
        let text = handle.render();
        for line in [
            "rampart_events_received_total 7",
            "rampart_events_processed_total 6",
            "rampart_alerts_new_total 2",
            "rampart_queue_depth{queue=\"events\"} 1",
            "rampart_queue_depth{queue=\"alerts\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
