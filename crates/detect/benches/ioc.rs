//! Indicator matching over ECS-like JSON lines, against what `serde_json` needs just to
//! validate the same lines. Prints the table `bench/ioc.sh` shows; run it pinned to one core.
//!
//! 1,000,000 synthetic indicators (40 % domains, 25 % IPv4, 5 % CIDR, 15 % URLs, 10 % hashes,
//! 5 % emails) are compiled into a matcher; 1,000,000 ECS-like lines (~450 bytes: proxy, DNS
//! and file events, about 1 % carrying a listed value) are generated in memory, then:
//! - `validate`: `serde_json::from_slice::<IgnoredAny>` over every line (the floor);
//! - `scan+match`: the [`FieldScanner`] over the ECS mapping's fields, every value looked up;
//! - `decode+match`: the path `hunt` and `serve` take, streaming (decode each line to an
//!   `Event`, the ECS mapping's observables, lookups).
//!
//! Sizes: `RAMPART_IOC_INDICATORS`, `RAMPART_IOC_EVENTS`.

use std::hint::black_box;
use std::time::Instant;

use rampart_detect::decode::{self, Options};
use rampart_detect::detector::{DetectorStats, indicator_alerts};
use rampart_detect::mappings::{FieldKind, FieldMap};
use rampart_detect::scan::FieldScanner;
use rampart_matcher::{Entry, Matcher, MatcherConfig, ValueHint};
use rampart_model::IndicatorKind;

// As in the `rampart` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ipv4(rng: &mut Rng) -> String {
    let bits = rng.next() as u32;
    std::net::Ipv4Addr::from(bits).to_string()
}

fn hex(rng: &mut Rng, len: usize) -> String {
    let mut text = String::with_capacity(len);
    while text.len() < len {
        text.push_str(&format!("{:016x}", rng.next()));
    }
    text.truncate(len);
    text
}

fn indicators(count: usize) -> (Vec<Entry>, Vec<(IndicatorKind, String)>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut entries = Vec::with_capacity(count);
    let mut sample = Vec::new();
    for id in 0..count {
        let roll = rng.below(100);
        let (kind, value) = match roll {
            0..40 => (
                IndicatorKind::Domain,
                format!("{}-{}.example{}.com", hex(&mut rng, 8), id, id % 97),
            ),
            40..65 => (IndicatorKind::Ipv4, ipv4(&mut rng)),
            65..70 => {
                let bits = (rng.next() as u32) & 0xffff_ff00;
                (
                    IndicatorKind::Cidr,
                    format!("{}/24", std::net::Ipv4Addr::from(bits)),
                )
            }
            70..85 => (
                IndicatorKind::Url,
                format!("http://{}.example.net/{}/login.php", hex(&mut rng, 10), id),
            ),
            85..90 => (IndicatorKind::Sha256, hex(&mut rng, 64)),
            90..95 => (IndicatorKind::Md5, hex(&mut rng, 32)),
            _ => (
                IndicatorKind::Email,
                format!("{}@{}.example.org", hex(&mut rng, 6), hex(&mut rng, 6)),
            ),
        };
        if id % 1000 == 0 {
            sample.push((kind, value.clone()));
        }
        entries.push(Entry {
            id: id as i64 + 1,
            kind,
            value,
            score: 40 + (id % 60) as u8,
            sources: vec!["feed".into()],
            expires: None,
        });
    }
    (entries, sample)
}

fn events(count: usize, listed: &[(IndicatorKind, String)]) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut lines = Vec::with_capacity(count);
    for n in 0..count {
        let hit = rng.below(100) == 0;
        let pick = &listed[rng.below(listed.len() as u64) as usize];
        let domain = if hit && pick.0 == IndicatorKind::Domain {
            pick.1.clone()
        } else {
            format!("www.{}.example.com", hex(&mut rng, 6))
        };
        let ip = if hit && pick.0 == IndicatorKind::Ipv4 {
            pick.1.clone()
        } else {
            ipv4(&mut rng)
        };
        let line = match n % 3 {
            0 => format!(
                r#"{{"@timestamp":"2026-11-27T10:{:02}:{:02}.{:03}Z","event":{{"kind":"event","category":["network","web"],"dataset":"proxy.access"}},"source":{{"ip":"10.{}.{}.{}","port":{}}},"destination":{{"ip":"{ip}","port":443,"domain":"{domain}"}},"url":{{"full":"https://{domain}/index.html?q={}","domain":"{domain}"}},"http":{{"request":{{"method":"GET"}},"response":{{"status_code":200,"bytes":{}}}}},"user_agent":{{"original":"Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}},"user":{{"name":"user{}"}}}}"#,
                n % 60,
                n % 59,
                n % 1000,
                n % 250,
                n % 200,
                n % 100,
                1024 + n % 60000,
                hex(&mut rng, 8),
                n % 100_000,
                n % 500
            ),
            1 => format!(
                r#"{{"@timestamp":"2026-11-27T10:{:02}:{:02}.{:03}Z","event":{{"kind":"event","category":["network"],"dataset":"dns"}},"source":{{"ip":"10.{}.{}.{}","port":{}}},"destination":{{"ip":"10.0.0.53","port":53}},"dns":{{"question":{{"name":"{domain}","type":"A"}},"response_code":"NOERROR","answers":[{{"data":"{ip}","type":"A"}}]}},"network":{{"transport":"udp"}},"host":{{"name":"ws-{}"}}}}"#,
                n % 60,
                n % 59,
                n % 1000,
                n % 250,
                n % 200,
                n % 100,
                1024 + n % 60000,
                n % 300
            ),
            _ => {
                let hash = if hit && pick.0 == IndicatorKind::Sha256 {
                    pick.1.clone()
                } else {
                    hex(&mut rng, 64)
                };
                format!(
                    r#"{{"@timestamp":"2026-11-27T10:{:02}:{:02}.{:03}Z","event":{{"kind":"event","category":["file"],"action":"creation"}},"file":{{"path":"C:\\Users\\user{}\\Downloads\\invoice-{}.pdf.exe","hash":{{"sha256":"{hash}","md5":"{}"}},"size":{}}},"process":{{"name":"chrome.exe","pid":{}}},"host":{{"name":"ws-{}","ip":["{ip}"]}}}}"#,
                    n % 60,
                    n % 59,
                    n % 1000,
                    n % 500,
                    n,
                    hex(&mut rng, 32),
                    n % 1_000_000,
                    n % 30000,
                    n % 300
                )
            }
        };
        lines.push(line.into_bytes());
    }
    lines
}

fn hint(kind: FieldKind) -> ValueHint {
    match kind {
        FieldKind::Ip => ValueHint::Ip,
        FieldKind::Domain => ValueHint::Domain,
        FieldKind::Url => ValueHint::Url,
        FieldKind::Hash => ValueHint::Hash,
        FieldKind::Email => ValueHint::Email,
        FieldKind::Host => ValueHint::Any,
    }
}

fn size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; criterion-style filters are not used here.
    let indicator_count = size("RAMPART_IOC_INDICATORS", 1_000_000);
    let event_count = size("RAMPART_IOC_EVENTS", 1_000_000);
    let (entries, listed) = indicators(indicator_count);
    let started = Instant::now();
    let matcher = Matcher::new(&entries, MatcherConfig::default());
    let build = started.elapsed();
    drop(entries);
    let lines = events(event_count, &listed);
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();

    // The floor: validating the JSON.
    let started = Instant::now();
    for line in &lines {
        black_box(serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok());
    }
    let validate = started.elapsed();

    // The scanner over the ECS mapping's fields.
    let ecs = FieldMap::for_format("jsonl").expect("the ECS mapping covers jsonl");
    let hints: Vec<ValueHint> = ecs.fields.iter().map(|f| hint(f.kind)).collect();
    let scanner = FieldScanner::new(
        ecs.fields
            .iter()
            .enumerate()
            .map(|(index, field)| (field.path.as_str(), index as u32)),
    );
    let started = Instant::now();
    let view = matcher.view();
    let mut scan_hits = 0u64;
    for line in &lines {
        let _ = scanner.scan(line, &mut |index, value| {
            if view.lookup(hints[index as usize], value).is_some() {
                scan_hits += 1;
            }
        });
    }
    let scan = started.elapsed();

    if std::env::var_os("RAMPART_IOC_SCAN_ONLY").is_some() {
        println!(
            "scan+match {:.0} events/s, validate {:.0} events/s",
            event_count as f64 / scan.as_secs_f64(),
            event_count as f64 / validate.as_secs_f64()
        );
        return;
    }
    // The full path: decode to events, observables, lookups.
    let mut text = Vec::with_capacity(bytes);
    for line in &lines {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    struct MatchSink<'v> {
        view: &'v rampart_matcher::View,
        stats: DetectorStats,
        alerts: u64,
        errors: u64,
        at: jiff::Timestamp,
    }
    impl decode::Sink for MatchSink<'_> {
        fn event(&mut self, event: rampart_detect::Event) {
            if let Some(map) = FieldMap::for_format(&event.format) {
                let alerts = &mut self.alerts;
                indicator_alerts(
                    self.view,
                    map.observables(&event),
                    &event,
                    self.at,
                    &mut self.stats,
                    &mut |_| *alerts += 1,
                );
            }
        }
        fn error(&mut self, _: decode::DecodeError) {
            self.errors += 1;
        }
    }
    let mut sink = MatchSink {
        view: &view,
        stats: DetectorStats::default(),
        alerts: 0,
        errors: 0,
        at: jiff::Timestamp::now(),
    };
    let started = Instant::now();
    decode::decode_reader(
        "jsonl",
        "bench",
        &mut text.as_slice(),
        &Options::default(),
        &mut sink,
    )
    .expect("jsonl decoder");
    let full = started.elapsed();
    assert_eq!(sink.errors, 0);
    let alerts = sink.alerts;

    let rate = |seconds: f64| event_count as f64 / seconds;
    println!(
        "indicators: {indicator_count}, matcher build {:.2} s; events: {event_count} ECS-like lines, {:.0} bytes each",
        build.as_secs_f64(),
        bytes as f64 / event_count as f64
    );
    println!("| path | seconds | events/s | × validate | hits |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| serde_json validate (IgnoredAny) | {:.3} | {:.0} | 1.00 | – |",
        validate.as_secs_f64(),
        rate(validate.as_secs_f64())
    );
    println!(
        "| scan + match (FieldScanner, ECS mapping) | {:.3} | {:.0} | {:.2} | {scan_hits} |",
        scan.as_secs_f64(),
        rate(scan.as_secs_f64()),
        scan.as_secs_f64() / validate.as_secs_f64()
    );
    println!(
        "| decode to Event + match (the path of hunt and serve) | {:.3} | {:.0} | {:.2} | {alerts} alerts |",
        full.as_secs_f64(),
        rate(full.as_secs_f64()),
        full.as_secs_f64() / validate.as_secs_f64()
    );
}
