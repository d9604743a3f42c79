//! Decodes files or directories and prints events, errors and throughput per input — a quick
//! check of the decoders on real logs (`DUMP=1` also prints every event's fields).
//!
//! `cargo run --release -p rampart-detect --example decode_stats -- ../shared/data/logs`
use std::time::Instant;

use rampart_detect::decode::{self, Collect, Options};

fn main() {
    for path in std::env::args().skip(1) {
        let mut sink = Collect::default();
        let started = Instant::now();
        let result =
            decode::decode_path(std::path::Path::new(&path), &Options::default(), &mut sink);
        let seconds = started.elapsed().as_secs_f64();
        let events = sink.events.len();
        println!(
            "{path}: {result:?} in {seconds:.3} s ({:.0} events/s)",
            events as f64 / seconds.max(1e-9)
        );
        if std::env::var_os("DUMP").is_some() {
            for event in &sink.events {
                println!(
                    "{} {}",
                    event.reference,
                    serde_json::Value::Object(event.fields.clone())
                );
            }
        }
        for error in sink.errors.iter().take(10) {
            println!("  error {error}");
        }
    }
}
