//! Warninglist index: loading all MISP lists from the corpus, and lookups of a mix of
//! indicator kinds (one million per iteration of `lookup_1m`).
//!
//! `cargo bench -p rampart-intel --bench warninglists` (needs the corpus; skips without it).
//!
//! Measured here (2 shared cores, others compiling): loading the 136 lists (528,972 entries)
//! ~0.28 s, of which reading and parsing the JSON is ~0.04 s; a lookup 20–60 ns for IPv4,
//! hashes and listed domains, ~200–290 ns for unlisted domains and URLs (the substring
//! automaton of disposable-email applies to them) and for IPv6; 1M mixed lookups ~0.17 s.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_intel::warninglist::Warninglists;
use rampart_model::Indicator;

fn lists_dir() -> Option<PathBuf> {
    rampart_testkit::corpus("bench_warninglists").map(|root| root.join("misp/warninglists/lists"))
}

/// A mix of hits and misses across the list types.
fn probes() -> Vec<Indicator> {
    let raw = [
        "8.8.8.8",
        "10.1.2.3",
        "203.0.113.77",
        "2001:4860:4860::8888",
        "bit.ly",
        "https://bit.ly/abc",
        "mail.google.com",
        "evil-unlisted.example",
        "http://evil-unlisted.example/payload.exe",
        "d41d8cd98f00b204e9800998ecf8427e",
        "0123456789abcdef0123456789abcdef",
        "abuse@example.org",
        "someone@0-mail.com",
        "198.51.100.0/24",
        "www.example-shop.test",
        "52.95.110.1",
    ];
    raw.iter()
        .filter_map(|value| Indicator::guess(value).ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    let Some(dir) = lists_dir() else { return };
    let mut group = c.benchmark_group("warninglists");
    group.sample_size(10);
    group.bench_function("load_all_lists", |b| {
        b.iter(|| {
            Warninglists::load_dir(black_box(&dir))
                .map(|(lists, _)| lists.lists().len())
                .unwrap_or(0)
        })
    });
    let Ok((lists, report)) = Warninglists::load_dir(&dir) else {
        return;
    };
    eprintln!(
        "{} lists, {} entries, {} skipped",
        report.lists, report.entries, report.skipped_entries
    );
    let probes = probes();
    group.bench_function("lookup_1m", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for indicator in probes.iter().cycle().take(1_000_000) {
                hits += usize::from(lists.first_match(black_box(indicator)).is_some());
            }
            hits
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
