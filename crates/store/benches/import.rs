//! Import throughput: 100,000 synthetic observations in batches of 4096 (the pipeline's batch
//! size) into a fresh SQLite file, as new indicators and again as a re-import of the same list
//! (every statement updated, the common case of a feed pulled again). PostgreSQL is measured
//! too when `rampart_testkit::postgres_url()` answers.
//!
//! `cargo bench -p rampart-store --bench import`; each run also prints indicators per second.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_model::{AttackId, Indicator, IndicatorKind, Observation, SourceInfo, Timestamp, Tlp};
use rampart_store::{Commit, ImportBatch, Store};
use sqlx::Connection;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

const OBSERVATIONS: usize = 100_000;
const BATCH: usize = 4096;

/// A realistic mix: addresses, domains, URLs and hashes, some with labels and techniques.
fn observations() -> Vec<Observation> {
    let technique: AttackId = "T1566.001".parse().expect("technique id");
    (0..OBSERVATIONS)
        .map(|n| {
            let indicator = match n % 4 {
                0 => Indicator::parse(
                    IndicatorKind::Ipv4,
                    &format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255),
                ),
                1 => Indicator::parse(
                    IndicatorKind::Domain,
                    &format!("host{n}.malware-{}.example", n % 97),
                ),
                2 => Indicator::parse(
                    IndicatorKind::Url,
                    &format!("http://site{}.example/path/{n}/login.php", n % 89),
                ),
                _ => Indicator::parse(IndicatorKind::Sha256, &format!("{n:064x}")),
            }
            .expect("valid synthetic indicator");
            let mut observation = Observation::new(indicator, format!("line {n}"));
            if n % 3 == 0 {
                observation.labels = vec!["botnet".to_owned(), "c2".to_owned()];
                observation.techniques = vec![technique.clone()];
                observation.confidence = Some(80);
                observation.tlp = Some(Tlp::Amber);
                observation.first_seen =
                    Some(Timestamp::from_second(1_700_000_000 + n as i64).expect("timestamp"));
            }
            observation
        })
        .collect()
}

fn batches(observations: &[Observation]) -> Vec<ImportBatch> {
    let mut batches: Vec<ImportBatch> = observations
        .chunks(BATCH)
        .map(|chunk| ImportBatch::observations(chunk.to_vec()))
        .collect();
    batches.push(ImportBatch::Commit(Commit {
        full_list: true,
        cursors: Vec::new(),
    }));
    batches
}

/// CPU seconds this process has used (all threads), from `/proc/self/stat`; 0 where missing.
/// Other work on a shared machine slows the wall clock, not this.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime, in clock ticks of 1/100 s on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs one import the way the pipeline does: a sender task feeding a channel of four.
async fn import(store: &dyn Store, source: &SourceInfo, batches: Vec<ImportBatch>) -> Duration {
    let (sender, receiver) = mpsc::channel(4);
    let feeder = tokio::spawn(async move {
        for batch in batches {
            if sender.send(batch).await.is_err() {
                break;
            }
        }
    });
    let cpu = cpu_seconds();
    let started = Instant::now();
    let summary = store
        .import(source, receiver)
        .await
        .expect("import commits");
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu;
    eprintln!(
        "  cpu {cpu:.2}s = {:.1} µs per indicator",
        cpu * 1e6 / OBSERVATIONS as f64
    );
    feeder.await.expect("feeder");
    assert_eq!(summary.accepted(), OBSERVATIONS as u64);
    elapsed
}

/// A fresh store with the bench source; the handle keeps its directory or database alive.
struct Fresh {
    store: Box<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

async fn fresh_sqlite(source: &SourceInfo) -> Fresh {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = rampart_store::open(&url).await.expect("open sqlite");
    store
        .upsert_source(source, &serde_json::json!({}))
        .await
        .expect("source");
    Fresh {
        store,
        _dir: Some(dir),
    }
}

async fn fresh_postgres(source: &SourceInfo) -> Option<Fresh> {
    let server = rampart_testkit::postgres_url();
    let mut admin = sqlx::PgConnection::connect(&server).await.ok()?;
    let name = "rampart_bench_import";
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .ok()?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .ok()?;
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    let store = rampart_store::open(&format!("{base}/{name}")).await.ok()?;
    store
        .upsert_source(source, &serde_json::json!({}))
        .await
        .ok()?;
    Some(Fresh { store, _dir: None })
}

fn report(label: &str, elapsed: Duration) {
    let rate = OBSERVATIONS as f64 / elapsed.as_secs_f64();
    eprintln!("{label}: {OBSERVATIONS} indicators in {elapsed:.2?} = {rate:.0}/s");
}

fn bench(criterion: &mut Criterion) {
    let runtime = Runtime::new().expect("tokio runtime");
    let source = SourceInfo::adhoc("bench", "text");
    let observations = observations();
    let mut group = criterion.benchmark_group("import");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(OBSERVATIONS as u64));

    group.bench_function("sqlite_new", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let elapsed = runtime.block_on(async {
                    let fresh = fresh_sqlite(&source).await;
                    import(&*fresh.store, &source, batches(&observations)).await
                });
                report("sqlite new", elapsed);
                total += elapsed;
            }
            total
        });
    });

    let reimport = runtime.block_on(async {
        let fresh = fresh_sqlite(&source).await;
        import(&*fresh.store, &source, batches(&observations)).await;
        fresh
    });
    group.bench_function("sqlite_reimport", |bencher| {
        bencher.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let elapsed =
                    runtime.block_on(import(&*reimport.store, &source, batches(&observations)));
                report("sqlite reimport", elapsed);
                total += elapsed;
            }
            total
        });
    });

    if runtime.block_on(fresh_postgres(&source)).is_some() {
        group.bench_function("postgres_new", |bencher| {
            bencher.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let elapsed = runtime.block_on(async {
                        let fresh = fresh_postgres(&source)
                            .await
                            .expect("postgres answered before");
                        import(&*fresh.store, &source, batches(&observations)).await
                    });
                    report("postgres new", elapsed);
                    total += elapsed;
                }
                total
            });
        });
        let reimport = runtime.block_on(async {
            let fresh = fresh_postgres(&source)
                .await
                .expect("postgres answered before");
            import(&*fresh.store, &source, batches(&observations)).await;
            fresh
        });
        group.bench_function("postgres_reimport", |bencher| {
            bencher.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let elapsed =
                        runtime.block_on(import(&*reimport.store, &source, batches(&observations)));
                    report("postgres reimport", elapsed);
                    total += elapsed;
                }
                total
            });
        });
    } else {
        eprintln!("postgres unreachable: skipping its benchmarks");
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
