//! Sigma evaluation throughput: every SigmaHQ rule over the regression EVTX events (JSON as
//! `evtx_dump` renders them), replicated. Needs the corpus (`RAMPART_CORPUS` or
//! `../shared/data`); without it the bench has nothing to measure and says so.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_detect::sigma::{Config, RuleSet};
use rampart_detect::{Event, EventRef};

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn sigma(c: &mut Criterion) {
    let data = std::env::var_os("RAMPART_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let sigma = data.join("sigma");
    if !sigma.is_dir() {
        eprintln!("sigma bench: no corpus at {}", data.display());
        return;
    }
    let dirs: Vec<PathBuf> = ["rules", "rules-threat-hunting", "rules-emerging-threats"]
        .iter()
        .map(|d| sigma.join(d))
        .collect();
    let (rules, _) = RuleSet::load_dir(&dirs, &Config::default());
    let mut files = Vec::new();
    json_files(&sigma.join("regression_data"), &mut files);
    let mut events = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for value in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let Ok(serde_json::Value::Object(fields)) = value else {
                continue;
            };
            events.push(Event {
                reference: EventRef::line(file.display().to_string(), index as u64),
                format: "evtx".into(),
                time: None,
                fields,
            });
        }
    }
    // Replicate so one iteration is long enough to measure; warms every route's program.
    let batch: Vec<Event> = events
        .iter()
        .cycle()
        .take(events.len() * 10)
        .cloned()
        .collect();
    let mut group = c.benchmark_group("sigma");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("all_rules_over_regression_events", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for event in &batch {
                matched += rules.matches(event).len();
            }
            matched
        })
    });
    group.finish();
}

criterion_group!(benches, sigma);
criterion_main!(benches);
