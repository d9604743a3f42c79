//! Generates synthetic threat-intel documents for benchmarks: a STIX 2.1 bundle of indicator
//! objects and a URLhaus-style CSV feed, with unique, non-reserved values of every common kind.
//!
//! `cargo run --release -p rampart-intel --example gen_intel -- COUNT STIX_OUT CSV_OUT`

use std::io::{BufWriter, Write};

/// A small deterministic generator (SplitMix64): reproducible documents without a dependency.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The n-th value: kinds rotate, and n is encoded into each so all values are distinct.
fn value(n: u64, mix: &mut Mix) -> (&'static str, String) {
    match n % 5 {
        0 => {
            // Public-looking IPv4 space from 11.0.0.0 upwards; n/5 is unique within 2^24 per /8.
            let k = n / 5;
            (
                "ipv4",
                format!(
                    "{}.{}.{}.{}",
                    11 + (k >> 24) % 100,
                    (k >> 16) & 255,
                    (k >> 8) & 255,
                    k & 255
                ),
            )
        }
        1 => (
            "domain",
            format!("x{n:x}-{:04x}.bench-evil.net", mix.next() & 0xffff),
        ),
        2 => (
            "url",
            format!(
                "http://h{n:x}.bench-phish.org/login/{:08x}.php?id={n}",
                mix.next() as u32
            ),
        ),
        3 => (
            "sha256",
            format!(
                "{:016x}{:016x}{:016x}{n:016x}",
                mix.next(),
                mix.next(),
                mix.next()
            ),
        ),
        _ => ("md5", format!("{:016x}{n:016x}", mix.next())),
    }
}

fn pattern(kind: &str, value: &str) -> String {
    match kind {
        "ipv4" => format!("[ipv4-addr:value = '{value}']"),
        "domain" => format!("[domain-name:value = '{value}']"),
        "url" => format!("[url:value = '{value}']"),
        "sha256" => format!("[file:hashes.'SHA-256' = '{value}']"),
        _ => format!("[file:hashes.MD5 = '{value}']"),
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        return Err(std::io::Error::other(
            "usage: gen_intel COUNT STIX_OUT CSV_OUT",
        ));
    }
    let count: u64 = args[1].parse().unwrap_or(1_000_000);
    let mut stix = BufWriter::new(std::fs::File::create(&args[2])?);
    let mut csv = BufWriter::new(std::fs::File::create(&args[3])?);
    let mut mix = Mix(0x5eed);
    writeln!(
        stix,
        "{{\"type\": \"bundle\", \"id\": \"bundle--6f2a7c1e-0d4b-4f8e-9a3c-2b1d5e7f9a01\", \"objects\": ["
    )?;
    writeln!(
        csv,
        "# synthetic URLhaus-style feed generated for benchmarks"
    )?;
    writeln!(csv, "dateadded,value,kind,threat,tags")?;
    for n in 0..count {
        let (kind, text) = value(n, &mut mix);
        let uuid_tail = mix.next() & 0xffff_ffff_ffff;
        let day = 1 + n % 28;
        let separator = if n + 1 == count { "" } else { "," };
        writeln!(
            stix,
            "{{\"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"indicator--{:08x}-{:04x}-4{:03x}-8{:03x}-{uuid_tail:012x}\", \"created\": \"2026-10-{day:02}T08:00:00.000Z\", \"modified\": \"2026-10-{day:02}T08:00:00.000Z\", \"name\": \"bench {kind}\", \"indicator_types\": [\"malicious-activity\"], \"pattern_type\": \"stix\", \"pattern\": \"{}\", \"valid_from\": \"2026-10-{day:02}T08:00:00Z\", \"confidence\": {}}}{separator}",
            n as u32,
            (n >> 32) as u16,
            n % 4096,
            (n / 4096) % 4096,
            pattern(kind, &text),
            50 + n % 50,
        )?;
        writeln!(
            csv,
            "2026-10-{day:02} 08:00:00,{text},{kind},malware_download,bench"
        )?;
    }
    writeln!(stix, "]}}")?;
    stix.flush()?;
    csv.flush()
}
