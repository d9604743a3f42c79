//! Sigma throughput over real Windows events, for `bench/sigma.sh`.
//!
//! Decodes every EVTX file under `<corpus>/logs/evtx` and the flat Windows JSON lines under
//! `<corpus>/logs/security-datasets` (timed apart), loads every Windows rule of SigmaHQ
//! (`product: windows` in `<corpus>/sigma/rules*`, timed apart), then evaluates the decoded
//! events over and over until at least `--events` evaluations were made, on the calling thread
//! only (the script pins it to one core). It prints one table row per figure and, with
//! `--export DIR`, writes what a peer engine needs to run on the same rules and events:
//! `rules.txt` (the rule files), `events.jsonl` (each event once, flattened the way Sigma names
//! fields), `matches.tsv` (rule id, how many of those events it matched, title) and
//! `by-event.tsv` (event line number from 0, rule id).
//!
//! ```text
//! cargo run --release -p rampart-detect --example sigma_bench -- \
//!     --corpus ../shared/data --events 1000000 --export bench/out/sigma
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rampart_detect::Event;
use rampart_detect::decode::{self, DecodeError, Options, Sink};
use rampart_detect::sigma::{Config, RuleSet};
use serde_json::{Map, Value};

struct Args {
    corpus: PathBuf,
    events: u64,
    export: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        corpus: PathBuf::from("../shared/data"),
        events: 1_000_000,
        export: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--corpus" => args.corpus = PathBuf::from(value()?),
            "--events" => {
                args.events = value()?
                    .parse()
                    .map_err(|_| "--events needs a number".to_string())?
            }
            "--export" => args.export = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

/// Keeps Windows events only: EVTX records and flat Windows JSON lines.
#[derive(Default)]
struct WindowsEvents {
    events: Vec<Event>,
    other: u64,
    errors: u64,
}

impl Sink for WindowsEvents {
    fn event(&mut self, event: Event) {
        if event.format == "evtx" || event.format == "jsonl.windows" {
            self.events.push(event);
        } else {
            self.other += 1;
        }
    }
    fn error(&mut self, _error: DecodeError) {
        self.errors += 1;
    }
}

fn files_under(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut children: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            files_under(&child, extension, out);
        } else if child.extension().is_some_and(|e| e == extension) {
            out.push(child);
        }
    }
}

/// Every rule file of every SigmaHQ rule set (`rules*`) whose logsource product is Windows.
/// The emerging-threats set is filed by year, not product, so folders alone do not tell.
fn windows_rule_files(sigma: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(sigma) else {
        return Vec::new();
    };
    let mut roots: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rules"))
        })
        .collect();
    roots.sort();
    let mut files = Vec::new();
    for root in roots {
        files_under(&root, "yml", &mut files);
    }
    files.retain(|file| {
        std::fs::read_to_string(file)
            .is_ok_and(|text| text.lines().any(|line| line.trim() == "product: windows"))
    });
    files
}

/// The event as one flat object with Sigma's field names, for engines without our layouts:
/// EVTX `EventData`/`UserData` fields and the `System` ones Sigma names (`Channel`,
/// `EventID`, `Computer`, `Provider_Name`) at the top level; flat JSON lines as they are.
fn flatten(event: &Event) -> Map<String, Value> {
    if event.format != "evtx" {
        return event.fields.clone();
    }
    let mut flat = Map::new();
    let root = event.fields.get("Event").and_then(Value::as_object);
    let text = |value: &Value| match value {
        Value::Object(object) => object.get("#text").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    if let Some(system) = root
        .and_then(|r| r.get("System"))
        .and_then(Value::as_object)
    {
        for (key, value) in system {
            if key == "Provider" {
                if let Some(name) = value.pointer("/#attributes/Name") {
                    flat.insert("Provider_Name".into(), name.clone());
                }
            } else if !value.is_object() || value.get("#text").is_some() {
                flat.insert(key.clone(), text(value));
            }
        }
    }
    if let Some(Value::Object(user)) = root.and_then(|r| r.get("UserData")) {
        for inner in user.values() {
            if let Value::Object(inner) = inner {
                for (key, value) in inner {
                    flat.insert(key.clone(), text(value));
                }
            }
        }
    }
    if let Some(Value::Object(data)) = root.and_then(|r| r.get("EventData")) {
        for (key, value) in data {
            if key != "#attributes" {
                flat.insert(key.clone(), text(value));
            }
        }
    }
    flat
}

/// CPU time this thread has run, from the scheduler's own account: the machine is shared, so
/// wall time alone would charge other processes' turns to the engine.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("sigma_bench: {error}");
            eprintln!("usage: sigma_bench [--corpus DIR] [--events N] [--export DIR]");
            return ExitCode::from(2);
        }
    };
    let options = Options::default();
    let mut sink = WindowsEvents::default();
    let mut files = Vec::new();
    files_under(&args.corpus.join("logs/evtx"), "evtx", &mut files);
    let evtx_files = files.len();
    files_under(
        &args.corpus.join("logs/security-datasets"),
        "json",
        &mut files,
    );
    let started = Instant::now();
    for file in &files {
        if let Err(error) = decode::decode_path(file, &options, &mut sink) {
            eprintln!("sigma_bench: {error}");
        }
    }
    let decode_time = started.elapsed();
    let base = sink.events;
    if base.is_empty() {
        eprintln!(
            "sigma_bench: no Windows events under {}",
            args.corpus.display()
        );
        return ExitCode::FAILURE;
    }

    let rule_files = windows_rule_files(&args.corpus.join("sigma"));
    let started = Instant::now();
    let (rules, failures) = RuleSet::load_dir(&rule_files, &Config::default());
    let load_time = started.elapsed();

    // One pass over the distinct events: the per-rule counts the peer engine is compared
    // with, and every route's program built before the clock starts.
    let started = Instant::now();
    let mut per_rule: BTreeMap<usize, u64> = BTreeMap::new();
    let mut per_event: Vec<(usize, usize)> = Vec::new();
    for (index, event) in base.iter().enumerate() {
        rules.evaluate(event, &mut |found| {
            *per_rule.entry(found.rule).or_default() += 1;
            per_event.push((index, found.rule));
        });
    }
    let first_pass = started.elapsed();

    let rounds = args.events.div_ceil(base.len() as u64).max(1);
    let started = Instant::now();
    let cpu_before = thread_cpu();
    let mut matched = 0u64;
    for _ in 0..rounds {
        for event in &base {
            rules.evaluate(event, &mut |_| matched += 1);
        }
    }
    let eval_time = started.elapsed();
    let eval_cpu = thread_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let evaluated = rounds * base.len() as u64;

    let rate = |count: u64, secs: f64| count as f64 / secs.max(1e-9);
    println!("| figure | value |");
    println!("|---|---:|");
    println!(
        "| input files | {} evtx + {} json |",
        evtx_files,
        files.len() - evtx_files
    );
    println!(
        "| distinct Windows events | {} (other events skipped: {}, decode errors: {}) |",
        base.len(),
        sink.other,
        sink.errors
    );
    println!(
        "| decoding | {:.2} s ({:.0} events/s) |",
        decode_time.as_secs_f64(),
        rate(base.len() as u64, decode_time.as_secs_f64())
    );
    println!(
        "| Windows rules | {} files; {} rules compiled, {} not usable |",
        rule_files.len(),
        rules.len(),
        failures.len()
    );
    println!("| rule loading | {:.2} s |", load_time.as_secs_f64());
    println!(
        "| first pass (builds programs) | {:.2} s |",
        first_pass.as_secs_f64()
    );
    println!("| events evaluated | {evaluated} ({rounds} rounds) |");
    println!("| evaluation, wall | {:.2} s |", eval_time.as_secs_f64());
    println!(
        "| events/s, wall (one thread) | {:.0} |",
        rate(evaluated, eval_time.as_secs_f64())
    );
    if let Some(cpu) = eval_cpu {
        println!("| evaluation, thread CPU | {:.2} s |", cpu.as_secs_f64());
        println!(
            "| **events/s, CPU (one thread)** | **{:.0}** |",
            rate(evaluated, cpu.as_secs_f64())
        );
    }
    println!(
        "| matches | {matched} ({} per round; {} rules matched at least once) |",
        matched / rounds,
        per_rule.len()
    );
    let mut top: Vec<(&usize, &u64)> = per_rule.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    println!();
    println!("| rule | matches per round |");
    println!("|---|---:|");
    for (rule, count) in top.iter().take(10) {
        let title = rules.rule(**rule).map(|r| r.title.as_str()).unwrap_or("?");
        println!("| {title} | {count} |");
    }

    if let Some(dir) = &args.export
        && let Err(error) = export(dir, &base, &rules, &rule_files, &per_rule, &per_event)
    {
        eprintln!("sigma_bench: export to {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn export(
    dir: &Path,
    base: &[Event],
    rules: &RuleSet,
    rule_files: &[PathBuf],
    per_rule: &BTreeMap<usize, u64>,
    per_event: &[(usize, usize)],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut list = std::io::BufWriter::new(std::fs::File::create(dir.join("rules.txt"))?);
    for file in rule_files {
        writeln!(list, "{}", file.display())?;
    }
    list.flush()?;
    let mut events = std::io::BufWriter::new(std::fs::File::create(dir.join("events.jsonl"))?);
    for event in base {
        serde_json::to_writer(&mut events, &flatten(event))?;
        events.write_all(b"\n")?;
    }
    events.flush()?;
    let mut matches = std::io::BufWriter::new(std::fs::File::create(dir.join("matches.tsv"))?);
    for (rule, count) in per_rule {
        if let Some(info) = rules.rule(*rule) {
            let id = info.id.as_deref().unwrap_or(&info.title);
            writeln!(matches, "{id}\t{count}\t{}", info.title)?;
        }
    }
    matches.flush()?;
    let mut by_event = std::io::BufWriter::new(std::fs::File::create(dir.join("by-event.tsv"))?);
    for (event, rule) in per_event {
        if let Some(info) = rules.rule(*rule) {
            writeln!(
                by_event,
                "{event}\t{}",
                info.id.as_deref().unwrap_or(&info.title)
            )?;
        }
    }
    by_event.flush()
}
