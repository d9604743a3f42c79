//! How long the first matcher build takes when read through a real SQLite store (the
//! `Refresher`'s full read with keyset-paged `search`), and how long an import takes to become
//! visible through the change feed at that size.
//!
//! `cargo run --release -p rampart-matcher --example store_build -- 1000000`

use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_matcher::{Refresher, RefresherConfig};
use rampart_model::{Indicator, IndicatorKind, Observation, Reliability, SourceInfo, Tlp};
use rampart_store::{Commit, ImportBatch, Store};

fn observation(n: usize) -> Observation {
    let (kind, raw) = match n % 4 {
        0 => (
            IndicatorKind::Domain,
            format!("h{n}.bad-{}.example", n % 997),
        ),
        1 => (
            IndicatorKind::Ipv4,
            format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255),
        ),
        2 => (
            IndicatorKind::Url,
            format!("http://s{}.example/p/{n}", n % 89),
        ),
        _ => (IndicatorKind::Sha256, format!("{n:064x}")),
    };
    let indicator = Indicator::parse(kind, &raw).expect("synthetic indicator");
    Observation::new(indicator, "example")
}

async fn import(store: &dyn Store, source: &SourceInfo, range: std::ops::Range<usize>) {
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let feeder = async move {
        let mut batch = Vec::with_capacity(4096);
        for n in range {
            batch.push(observation(n));
            if batch.len() == 4096 {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(4096));
                sender.send(ImportBatch::observations(full)).await.ok();
            }
        }
        sender.send(ImportBatch::observations(batch)).await.ok();
        sender
            .send(ImportBatch::Commit(Commit::default()))
            .await
            .ok();
    };
    let (_, summary) = tokio::join!(feeder, store.import(source, receiver));
    summary.expect("import commits");
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    let store: Arc<dyn Store> = Arc::from(rampart_store::open(&url).await.expect("open store"));
    let source = SourceInfo {
        name: "bench".into(),
        format: "text".into(),
        reliability: Reliability::B,
        default_confidence: 70,
        default_tlp: Tlp::Green,
        full_list: false,
    };
    store
        .upsert_source(&source, &serde_json::json!({}))
        .await
        .unwrap();
    let started = Instant::now();
    import(store.as_ref(), &source, 0..count).await;
    println!(
        "import of {count}: {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut refresher = Refresher::start(Arc::clone(&store), RefresherConfig::default())
        .await
        .expect("first build");
    let matcher = refresher.matcher();
    println!(
        "first build through the store: {:.2} s ({} entries, {:.1} heap bytes each)",
        started.elapsed().as_secs_f64(),
        matcher.stats().base_entries,
        matcher.stats().memory_bytes as f64 / count as f64
    );

    // One more import of 1000, then poll until visible, as the Refresher does every 250 ms.
    let started = Instant::now();
    import(store.as_ref(), &source, count..count + 1000).await;
    let imported = started.elapsed();
    let polled = Instant::now();
    let applied = refresher.poll_once().await.expect("poll");
    let stats = matcher.stats();
    println!(
        "import of 1000 more: {:.1} ms; one poll applied {applied} in {:.1} ms; commit → visible {:?}",
        imported.as_secs_f64() * 1000.0,
        polled.elapsed().as_secs_f64() * 1000.0,
        stats.last_latency.unwrap_or(Duration::ZERO)
    );
}
