//! HTTP load generator for a running `rampart serve`: sustained event ingest
//! (`POST /api/v1/events`, JSON lines) by several writers while readers query the API, both for
//! a fixed time. Prints one Markdown table: events/s accepted, ingest request latency, and the
//! latency of API reads made while the ingest runs (p50/p99/max).
//!
//! Loopback only: the target must be a 127.0.0.0/8 or ::1 address. Bounded by `--seconds`.
//! `bench/load.sh` sets up the server, the intel and the tokens, and runs this.
//!
//! ```text
//! cargo bench -p rampart --bench load -- --url http://127.0.0.1:18080 \
//!     --ingest-token rmp_… --read-token rmp_… --indicators values.txt --seconds 30
//! ```

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "HTTP load generator for rampart serve (loopback only)")]
struct Args {
    /// Base URL of the server (loopback only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Token with the ingest action.
    #[arg(long)]
    ingest_token: String,
    /// Token allowed to read alerts and intel.
    #[arg(long)]
    read_token: String,
    /// Indicator values (one per line) that some events carry, so that detection matches.
    #[arg(long)]
    indicators: Option<PathBuf>,
    /// Share of events that carry a known indicator.
    #[arg(long, default_value_t = 0.01)]
    hit_ratio: f64,
    /// How long the load runs.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Concurrent ingest connections.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Events per ingest request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent readers.
    #[arg(long, default_value_t = 2)]
    readers: usize,
    /// Pause between one reader's requests, in milliseconds (0: back to back).
    #[arg(long, default_value_t = 50)]
    read_pause_ms: u64,
}

/// What one worker measured.
#[derive(Default)]
struct Tally {
    requests: u64,
    failed: u64,
    events: u64,
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.events += other.events;
        self.latencies.extend(other.latencies);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn fail(&mut self, error: String) {
        self.failed += 1;
        self.first_error.get_or_insert(error);
    }
}

/// A small deterministic generator (xorshift), so runs send the same kind of traffic.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

/// Proxy-log-like events in ECS field names: mostly clean traffic, some carrying a known
/// indicator as destination, host or URL.
struct Events {
    known: Arc<Vec<String>>,
    hit_ratio: f64,
    noise: Noise,
    sequence: u64,
}

impl Events {
    fn batch(&mut self, count: usize, body: &mut String) {
        use std::fmt::Write as _;
        body.clear();
        let now = jiff::Timestamp::now();
        for _ in 0..count {
            self.sequence += 1;
            let n = &mut self.noise;
            let client = format!("10.{}.{}.{}", n.below(4), n.below(250), 1 + n.below(250));
            let user = format!("user{:03}", n.below(400));
            let (host, ip) = if !self.known.is_empty() && n.chance(self.hit_ratio) {
                let value = &self.known[n.below(self.known.len())];
                if value.parse::<IpAddr>().is_ok() {
                    (format!("cdn{}.example.net", n.below(50)), value.clone())
                } else {
                    (value.clone(), "198.18.0.10".to_owned())
                }
            } else {
                (
                    format!("site{}.shop-{}.net", n.below(5000), n.below(40)),
                    format!("198.18.{}.{}", n.below(250), 1 + n.below(250)),
                )
            };
            let event = serde_json::json!({
                "@timestamp": now.to_string(),
                "event": {"dataset": "proxy", "sequence": self.sequence},
                "source": {"ip": client},
                "user": {"name": user},
                "destination": {"ip": ip, "domain": host, "port": 443},
                "url": {"full": format!("https://{host}/p/{}", n.below(100_000))},
                "http": {"request": {"method": "GET"}, "response": {"status_code": 200}},
                "user_agent": {"original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"},
            });
            let _ = writeln!(body, "{event}");
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn writer(
    client: reqwest::Client,
    url: String,
    token: String,
    mut events: Events,
    batch: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut body = String::new();
    while Instant::now() < deadline {
        events.batch(batch, &mut body);
        let started = Instant::now();
        let reply = client
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(body.clone())
            .send()
            .await;
        tally.requests += 1;
        match reply {
            Ok(reply) if reply.status().is_success() => {
                let answer: serde_json::Value = reply.json().await.unwrap_or_default();
                tally.latencies.push(started.elapsed());
                tally.events += answer["accepted"].as_u64().unwrap_or(0);
            }
            Ok(reply) => {
                let status = reply.status();
                let text = reply.text().await.unwrap_or_default();
                tally.fail(format!("ingest {status}: {text}"));
            }
            Err(err) => tally.fail(format!("ingest: {err}")),
        }
    }
    tally
}

async fn reader(
    client: reqwest::Client,
    base: String,
    token: String,
    pause: Duration,
    seed: u64,
    deadline: Instant,
) -> Tally {
    let paths = [
        "/api/v1/alerts?limit=50",
        "/api/v1/indicators?limit=50",
        "/api/v1/indicators?q=example&limit=50",
        "/api/v1/sources",
    ];
    let mut noise = Noise(seed | 1);
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let path = paths[noise.below(paths.len())];
        let started = Instant::now();
        let reply = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await;
        tally.requests += 1;
        match reply {
            Ok(reply) if reply.status().is_success() => {
                let _ = reply.bytes().await;
                tally.latencies.push(started.elapsed());
            }
            Ok(reply) => tally.fail(format!("GET {path}: {}", reply.status())),
            Err(err) => tally.fail(format!("GET {path}: {err}")),
        }
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    tally
}

fn loopback_only(url: &str) -> anyhow::Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("bad --url {url}"))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--url {url}: this load generator only talks to loopback");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    loopback_only(&args.url)?;
    let base = args.url.trim_end_matches('/').to_owned();
    let known: Vec<String> = match &args.indicators {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let known = Arc::new(known);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(args.writers + args.readers)
        .build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let ingest_url = format!("{base}/api/v1/events");
    let writers: Vec<_> = (0..args.writers)
        .map(|i| {
            let events = Events {
                known: known.clone(),
                hit_ratio: args.hit_ratio,
                noise: Noise(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1)),
                sequence: (i as u64) << 40,
            };
            tokio::spawn(writer(
                client.clone(),
                ingest_url.clone(),
                args.ingest_token.clone(),
                events,
                args.batch,
                deadline,
            ))
        })
        .collect();
    let readers: Vec<_> = (0..args.readers)
        .map(|i| {
            tokio::spawn(reader(
                client.clone(),
                base.clone(),
                args.read_token.clone(),
                Duration::from_millis(args.read_pause_ms),
                i as u64 + 7,
                deadline,
            ))
        })
        .collect();
    let mut ingest = Tally::default();
    for task in writers {
        ingest.merge(task.await?);
    }
    let ingest_wall = started.elapsed();
    let mut reads = Tally::default();
    for task in readers {
        reads.merge(task.await?);
    }
    ingest.latencies.sort();
    reads.latencies.sort();

    println!(
        "load: {} writers × {} events/request, {} readers, {} s, {} known indicator values, hit ratio {}",
        args.writers,
        args.batch,
        args.readers,
        args.seconds,
        known.len(),
        args.hit_ratio
    );
    println!();
    println!("| measure | requests | failed | rate | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let seconds = ingest_wall.as_secs_f64();
    println!(
        "| ingest (events accepted) | {} | {} | {:.0} events/s | {} | {} | {} |",
        ingest.requests,
        ingest.failed,
        ingest.events as f64 / seconds,
        millis(percentile(&ingest.latencies, 50.0)),
        millis(percentile(&ingest.latencies, 99.0)),
        millis(ingest.latencies.last().copied().unwrap_or_default()),
    );
    println!(
        "| API reads while ingesting | {} | {} | {:.0} requests/s | {} | {} | {} |",
        reads.requests,
        reads.failed,
        reads.latencies.len() as f64 / seconds,
        millis(percentile(&reads.latencies, 50.0)),
        millis(percentile(&reads.latencies, 99.0)),
        millis(reads.latencies.last().copied().unwrap_or_default()),
    );
    for error in [&ingest.first_error, &reads.first_error]
        .into_iter()
        .flatten()
    {
        eprintln!("first error: {error}");
    }
    if ingest.events == 0 {
        bail!("no event was accepted");
    }
    Ok(())
}
