//! The respond stage's events as log lines and Prometheus metrics, written together.

use std::time::Duration;

const PUBLISHED: &str = "rampart_blocklist_renders_total";
const PUBLISH_WAIT: &str = "rampart_blocklist_publish_wait_seconds";

/// Help texts of the respond stage's families.
pub fn describe() {
    metrics::describe_counter!(PUBLISHED, "block lists rendered again after a change");
    metrics::describe_gauge!(
        PUBLISH_WAIT,
        metrics::Unit::Seconds,
        "from a block list's first change to its new rendering being served, last rendering"
    );
}

/// A block list rendered again after a change, `wait` after the change.
pub struct BlocklistPublished;

impl BlocklistPublished {
    pub fn record(wait: Duration) {
        metrics::counter!(PUBLISHED).increment(1);
        metrics::gauge!(PUBLISH_WAIT).set(wait.as_secs_f64());
        tracing::debug!(wait_ms = wait.as_millis() as u64, "block list published");
    }
}
