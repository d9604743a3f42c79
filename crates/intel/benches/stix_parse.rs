//! STIX import throughput: a generated bundle of indicators through the STIX format, and the
//! pattern parser alone.
//!
//! `cargo bench -p rampart-intel --bench stix_parse`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_intel::formats::stix::{StixFormat, pattern};
use rampart_intel::formats::{Rejection, Sink};
use rampart_model::{ContextObject, Observation};

const INDICATORS: usize = 10_000;

/// Indicators shaped like a commercial feed's: one value each, four kinds, TLP and labels.
fn bundle(count: usize) -> Vec<u8> {
    let mut out = String::from(
        r#"{"type":"bundle","id":"bundle--6f1bd2d6-7f6a-4a8e-9d0e-2f4f1c2b9a10","objects":["#,
    );
    for index in 0..count {
        if index > 0 {
            out.push(',');
        }
        let pattern = match index % 4 {
            0 => format!(
                "[ipv4-addr:value = '10.{}.{}.{}']",
                index >> 16 & 255,
                index >> 8 & 255,
                index & 255
            ),
            1 => format!("[domain-name:value = 'host{index}.bad.example']"),
            2 => format!("[url:value = 'http://bad{index}.example/path/{index}']"),
            _ => format!("[file:hashes.'SHA-256' = '{index:064x}']"),
        };
        out.push_str(&format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{index:08x}-0000-4000-8000-000000000000","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","name":"generated","indicator_types":["malicious-activity"],"pattern":"{pattern}","pattern_type":"stix","pattern_version":"2.1","valid_from":"2024-01-01T00:00:00Z","confidence":70,"labels":["generated"],"object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]}}"#
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Batches like the import pipeline's sink (4096 observations, 1024 objects) and drops each
/// full batch, so building and freeing bodies are both measured, as on the import thread.
#[derive(Default)]
struct Batching {
    observations: Vec<Observation>,
    objects: Vec<ContextObject>,
    total: usize,
}

impl Sink for Batching {
    fn observation(&mut self, observation: Observation) {
        self.total += 1;
        self.observations.push(observation);
        if self.observations.len() >= 4096 {
            self.observations.clear();
        }
    }
    fn object(&mut self, object: ContextObject) {
        self.objects.push(object);
        if self.objects.len() >= 1024 {
            self.objects.clear();
        }
    }
    fn reject(&mut self, rejection: Rejection) {
        panic!("unexpected rejection {rejection}");
    }
}

fn stix_bundle(c: &mut Criterion) {
    let document = bundle(INDICATORS);
    let mut group = c.benchmark_group("stix_bundle");
    group.throughput(Throughput::Elements(INDICATORS as u64));
    group.sample_size(20);
    group.bench_function("parse_10k_indicators", |b| {
        b.iter(|| {
            let mut sink = Batching::default();
            let stats = StixFormat.parse_counted(&mut document.as_slice(), &mut sink);
            black_box((stats.is_ok(), sink.total))
        })
    });
    group.finish();
}

fn stix_pattern(c: &mut Criterion) {
    let patterns = [
        "[ipv4-addr:value = '198.51.100.7']",
        "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2']",
        "([file:name = 'x' AND file:size > 1000] FOLLOWEDBY [url:value LIKE '%evil%']) WITHIN 300 SECONDS",
    ];
    let mut group = c.benchmark_group("stix_pattern");
    group.throughput(Throughput::Elements(patterns.len() as u64));
    group.bench_function("parse_and_extract", |b| {
        b.iter(|| {
            for source in patterns {
                if let Ok(parsed) = pattern::parse(black_box(source)) {
                    black_box(pattern::extract(&parsed));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, stix_bundle, stix_pattern);
criterion_main!(benches);
