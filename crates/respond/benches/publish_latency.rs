//! From an indicator's import to the block list that serves it: with a store of N indicators
//! (default 1,000,000) all listed by score, each round imports one new domain and waits until
//! the served EDL and RPZ zone contain it. Prints p50/p95/p99/max. Run with
//! `cargo bench -p rampart-respond --bench publish_latency` (`RAMPART_BENCH_INDICATORS` sets N,
//! `RAMPART_BENCH_ROUNDS` the rounds), or `bench/blocklist.sh`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_model::{Indicator, IndicatorKind, Observation, Reliability, SourceInfo};
use rampart_respond::blocklist::Format;
use rampart_respond::config::RespondConfig;
use rampart_respond::playbook::{NoServices, References};
use rampart_respond::runtime::Responder;
use rampart_store::{ImportBatch, Store};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

async fn import(store: &dyn Store, source: &SourceInfo, values: impl Iterator<Item = String>) {
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let import = store.import(source, receiver);
    let feeding = async {
        let mut batch = Vec::with_capacity(10_000);
        for value in values {
            let mut observation = Observation::new(
                Indicator::from_canonical(IndicatorKind::Domain, value),
                "bench",
            );
            observation.confidence = Some(90);
            batch.push(observation);
            if batch.len() == 10_000 {
                sender
                    .send(ImportBatch::observations(std::mem::take(&mut batch)))
                    .await
                    .ok();
            }
        }
        sender.send(ImportBatch::observations(batch)).await.ok();
        sender
            .send(ImportBatch::Commit(Default::default()))
            .await
            .ok();
        drop(sender);
    };
    let (summary, ()) = tokio::join!(import, feeding);
    summary.expect("import");
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let indicators = setting("RAMPART_BENCH_INDICATORS", 1_000_000);
    let rounds = setting("RAMPART_BENCH_ROUNDS", 30);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
        let store: Arc<dyn Store> = Arc::from(rampart_store::open(&url).await.unwrap());
        let mut source = SourceInfo::adhoc("bench-feed", "text");
        source.reliability = Reliability::A;
        store.upsert_source(&source, &serde_json::json!({})).await.unwrap();
        let loading = Instant::now();
        import(store.as_ref(), &source, (0..indicators).map(|n| format!("host-{n}.bench.example"))).await;
        let loaded = loading.elapsed();

        let table: toml::Table = toml::from_str(
            "[[blocklists]]\nname = \"bench\"\nformats = [\"edl-domain\", \"rpz\"]\nmin_score = 1\nkinds = [\"domain\"]\n[render.rpz]\norigin = \"rpz.bench.\"\n",
        )
        .unwrap();
        let starting = Instant::now();
        let (responder, _task) = Responder::start(
            store.clone(),
            RespondConfig::from_table(Some(&table)).unwrap(),
            Arc::new(NoServices),
            References::default(),
            dir.path().join("respond.cursor"),
            std::future::pending(),
        )
        .await
        .unwrap();
        let started = starting.elapsed();
        let first = responder.publisher().get("bench", Format::EdlDomain).unwrap();
        assert!(first.written >= indicators, "{} listed", first.written);

        let mut latencies = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let value = format!("fresh-{round}.bench.example");
            let began = Instant::now();
            import(store.as_ref(), &source, std::iter::once(value.clone())).await;
            let trigger = format!("{value} ");
            // Each new rendering (a new serial) is looked at once: scanning a million lines on
            // every poll would take the CPU the renderer needs.
            let mut seen = 0;
            loop {
                let edl = responder.publisher().get("bench", Format::EdlDomain).unwrap();
                let rpz = responder.publisher().get("bench", Format::Rpz).unwrap();
                let serial = edl.serial.min(rpz.serial);
                if serial != seen {
                    seen = serial;
                    let listed = edl.body.lines().any(|line| line.trim_end() == value);
                    if listed && rpz.body.lines().any(|line| line.starts_with(&trigger)) {
                        break;
                    }
                }
                assert!(began.elapsed() < Duration::from_secs(60), "{value} never published");
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies.push(began.elapsed());
        }
        latencies.sort();
        let ms = |duration: Duration| format!("{:.0}", duration.as_secs_f64() * 1000.0);
        println!("block-list publication latency (import → served EDL and RPZ)");
        println!("| indicators listed | rounds | p50 ms | p95 ms | p99 ms | max ms | store load s | start s |");
        println!("|---|---|---|---|---|---|---|---|");
        println!(
            "| {} | {rounds} | {} | {} | {} | {} | {:.1} | {:.1} |",
            first.written,
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.95)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
            loaded.as_secs_f64(),
            started.as_secs_f64(),
        );
    });
}
