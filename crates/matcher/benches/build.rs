//! Matcher build time, memory and lookup throughput over synthetic indicators with a realistic
//! kind mix (40 % domains, 25 % IPv4, 5 % CIDR, 15 % URLs, 10 % SHA-256/MD5, 5 % emails). The
//! entries are generated in memory, not read through a store: this measures the matcher alone.
//!
//! `cargo bench -p rampart-matcher --bench build` runs the criterion benchmarks (100k and 1M);
//! with `RAMPART_MATCHER_TABLE=1` it prints instead the table of `bench/matcher.sh` for 1M and
//! 10M indicators (`RAMPART_MATCHER_SIZES=1000000,10000000` to choose).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use rampart_matcher::{Change, Entry, Matcher, MatcherConfig, ValueHint};
use rampart_model::IndicatorKind;

/// Counts live heap bytes, to check the matcher's own capacity-based count.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const FEEDS: [&str; 8] = [
    "abuse-ch-urlhaus",
    "abuse-ch-feodo",
    "spamhaus-drop",
    "openphish",
    "misp-circl",
    "otx-pulses",
    "blocklist-de",
    "taxii-partner",
];

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The `n`-th synthetic indicator's kind and value.
fn value(n: u64, rng: &mut Rng) -> (IndicatorKind, String) {
    let r = rng.next();
    match n % 20 {
        0..=7 => (
            IndicatorKind::Domain,
            format!(
                "h{:x}.{}-{}.com",
                r % 4096,
                ["login", "cdn", "secure", "mail"][(r >> 20) as usize % 4],
                n
            ),
        ),
        8..=12 => (
            IndicatorKind::Ipv4,
            Ipv4Addr::from_bits((n as u32).wrapping_mul(2_654_435_761)).to_string(),
        ),
        13 => {
            let length = 16 + (r % 13) as u32;
            let address = ((n as u32).wrapping_mul(2_246_822_519)) & (u32::MAX << (32 - length));
            (
                IndicatorKind::Cidr,
                format!("{}/{length}", Ipv4Addr::from_bits(address)),
            )
        }
        14..=16 => (
            IndicatorKind::Url,
            format!(
                "http://site{}.example/wp-content/{:x}/login.php?id={n}",
                r % 100_000,
                r >> 40
            ),
        ),
        17 => (
            IndicatorKind::Sha256,
            format!("{:016x}{:016x}{:016x}{n:016x}", r, r >> 3, r >> 5),
        ),
        18 => (IndicatorKind::Md5, format!("{:016x}{n:016x}", r)),
        _ => (
            IndicatorKind::Email,
            format!("billing{}@mail{}.example", r % 1000, n),
        ),
    }
}

fn entries(count: u64) -> Vec<Entry> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|n| {
            let (kind, value) = value(n, &mut rng);
            let r = rng.next();
            let mut sources = vec![FEEDS[(r % 8) as usize].to_owned()];
            if r.is_multiple_of(5) {
                sources.push(FEEDS[((r >> 8) % 8) as usize].to_owned());
                sources.sort();
                sources.dedup();
            }
            Entry {
                id: n as i64 + 1,
                kind,
                value,
                score: (r % 101) as u8,
                sources,
                expires: None,
            }
        })
        .collect()
}

/// Probe values: half the listed values (subdomains for domains), half unknown ones.
fn probes(entries: &[Entry], count: usize) -> Vec<(ValueHint, String)> {
    let mut rng = Rng(42);
    (0..count)
        .map(|n| {
            let entry = &entries[(rng.next() % entries.len() as u64) as usize];
            let listed = n % 2 == 0;
            match entry.kind {
                IndicatorKind::Domain if listed => {
                    (ValueHint::Domain, format!("www.{}", entry.value))
                }
                IndicatorKind::Domain => (ValueHint::Domain, format!("www.unknown{n}.org")),
                IndicatorKind::Ipv4 | IndicatorKind::Cidr => {
                    let address = if listed {
                        entry
                            .value
                            .split('/')
                            .next()
                            .unwrap_or("0.0.0.0")
                            .to_owned()
                    } else {
                        Ipv4Addr::from_bits(rng.next() as u32).to_string()
                    };
                    (ValueHint::Ip, address)
                }
                IndicatorKind::Url if listed => (ValueHint::Url, entry.value.clone()),
                IndicatorKind::Url => (ValueHint::Url, format!("http://clean{n}.example/")),
                IndicatorKind::Email if listed => (ValueHint::Email, entry.value.clone()),
                IndicatorKind::Email => (ValueHint::Email, format!("u{n}@clean.example")),
                _ if listed => (ValueHint::Hash, entry.value.clone()),
                _ => (ValueHint::Hash, format!("{:064x}", n)),
            }
        })
        .collect()
}

/// Lookups of canonical values through the typed entry points (URLs already canonical).
fn lookup(view: &rampart_matcher::View, hint: ValueHint, value: &str) -> bool {
    match hint {
        ValueHint::Ip => value
            .parse::<IpAddr>()
            .ok()
            .and_then(|a| view.lookup_ip(a))
            .is_some(),
        ValueHint::Domain => view.lookup_domain(value).is_some(),
        ValueHint::Url => view.lookup_url(value).is_some(),
        ValueHint::Email => view.lookup_email(value).is_some(),
        _ => view.lookup_hash(value).is_some(),
    }
}

fn table(sizes: &[u64]) {
    println!(
        "| indicators | build | merge (base+50k delta) | heap bytes/indicator (counted / allocator) | lookups/s (1 thread) | hit rate | change visible (1 / 1k / 50k pending) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &size in sizes {
        let entries = entries(size);
        let before = LIVE.load(Ordering::Relaxed);
        let started = Instant::now();
        let matcher = Matcher::new(
            &entries,
            MatcherConfig {
                merge_threshold: usize::MAX,
                ..MatcherConfig::default()
            },
        );
        let build = started.elapsed();
        let allocated = LIVE.load(Ordering::Relaxed) - before;
        let stats = matcher.stats();

        let probes = probes(&entries, 2_000_000);
        let view = matcher.view();
        let started = Instant::now();
        let mut hits = 0usize;
        for (hint, value) in &probes {
            hits += usize::from(lookup(&view, *hint, black_box(value)));
        }
        let lookup_time = started.elapsed();
        drop(view);

        // Visibility: from apply() to a view that sees the change, with pending deltas of
        // 0, 1k and 50k entries (the delta table is rebuilt on every apply).
        let mut visible = Vec::new();
        for (next_id, pending) in (size as i64 + 1..).zip([0usize, 1000, 49_999]) {
            let filler: Vec<Change> = (0..pending)
                .map(|n| {
                    let mut entry = entries[n % entries.len()].clone();
                    entry.score = 1;
                    Change::Upsert(entry)
                })
                .collect();
            if !filler.is_empty() {
                matcher.apply(filler, None);
            }
            let value = format!("fresh{next_id}.example");
            let started = Instant::now();
            matcher.apply(
                vec![Change::Upsert(Entry {
                    id: next_id,
                    kind: IndicatorKind::Domain,
                    value: value.clone(),
                    score: 90,
                    sources: vec!["bench".into()],
                    expires: None,
                })],
                None,
            );
            assert!(matcher.view().lookup_domain(&value).is_some());
            visible.push(started.elapsed());
        }
        let started = Instant::now();
        matcher.merge_now();
        let merge = started.elapsed();

        println!(
            "| {size} | {:.2} s | {:.2} s | {:.1} / {:.1} | {:.2} M | {:.0} % | {} / {} / {} |",
            build.as_secs_f64(),
            merge.as_secs_f64(),
            stats.memory_bytes as f64 / size as f64,
            allocated as f64 / size as f64,
            probes.len() as f64 / lookup_time.as_secs_f64() / 1e6,
            hits as f64 * 100.0 / probes.len() as f64,
            millis(visible[0]),
            millis(visible[1]),
            millis(visible[2]),
        );
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

fn bench(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("matcher");
    group.sample_size(10);
    for size in [100_000u64, 1_000_000] {
        let entries = entries(size);
        group.throughput(Throughput::Elements(size));
        group.bench_function(format!("build_{size}"), |bencher| {
            bencher.iter(|| Matcher::new(black_box(&entries), MatcherConfig::default()));
        });
        let matcher = Matcher::new(&entries, MatcherConfig::default());
        let probes = probes(&entries, 100_000);
        group.throughput(Throughput::Elements(probes.len() as u64));
        group.bench_function(format!("lookup_mix_{size}"), |bencher| {
            let view = matcher.view();
            bencher.iter(|| {
                probes
                    .iter()
                    .filter(|(hint, value)| lookup(&view, *hint, value))
                    .count()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os("RAMPART_MATCHER_TABLE").is_some() {
        let sizes: Vec<u64> = std::env::var("RAMPART_MATCHER_SIZES")
            .unwrap_or_else(|_| "1000000,10000000".into())
            .split(',')
            .filter_map(|size| size.trim().parse().ok())
            .collect();
        table(&sizes);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
