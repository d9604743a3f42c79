//! Block-list rendering throughput: 1,000,000 synthetic items with a realistic kind mix (40 %
//! domains, 25 % IPv4, 5 % CIDR, 15 % URLs, 10 % SHA-256, 5 % emails) rendered to RPZ, the three
//! EDL formats and Suricata rules.
//!
//! `cargo bench -p rampart-respond --bench render`. Items are passed sorted, as the store
//! returns them; `rpz (shuffled input)` shows the cost of the sort `render` does otherwise.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_model::{Indicator, IndicatorKind, Timestamp};
use rampart_respond::blocklist::{self, Format, ListItem, ListMeta, RenderOptions};

const ITEMS: usize = 1_000_000;

fn items() -> Vec<ListItem> {
    (0..ITEMS as u64)
        .map(|key| {
            let n = key as u32;
            let (kind, value) = match key % 20 {
                0..=7 => (
                    IndicatorKind::Domain,
                    format!("host{n}.bad{}.example", n % 9973),
                ),
                8..=12 => (
                    IndicatorKind::Ipv4,
                    Ipv4Addr::from(0x0a00_0000 + n).to_string(),
                ),
                13 => (
                    IndicatorKind::Cidr,
                    format!("{}/24", Ipv4Addr::from(0x6400_0000 + (n << 8))),
                ),
                14..=16 => (
                    IndicatorKind::Url,
                    format!(
                        "http://site{}.example/path/{n}/login.php?id={key}",
                        n % 50_021
                    ),
                ),
                17 | 18 => (
                    IndicatorKind::Sha256,
                    format!("{:064x}", u128::from(n) * 0x9e37_79b9_7f4a_7c15),
                ),
                _ => (
                    IndicatorKind::Email,
                    format!("user{n}@mail{}.example", n % 997),
                ),
            };
            ListItem {
                key,
                indicator: Indicator::from_canonical(kind, value),
                comment: format!("feed {} confidence {}", key % 17, key % 100),
            }
        })
        .collect()
}

fn sorted(mut items: Vec<ListItem>) -> Vec<ListItem> {
    items.sort_by(|a, b| {
        (a.indicator.kind(), a.indicator.value(), a.key).cmp(&(
            b.indicator.kind(),
            b.indicator.value(),
            b.key,
        ))
    });
    items
}

fn bench_render(criterion: &mut Criterion) {
    let shuffled = items();
    let items = sorted(shuffled.clone());
    let meta = ListMeta::new("bench", 1, Timestamp::UNIX_EPOCH);
    let options = RenderOptions::default();

    let mut group = criterion.benchmark_group("render_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ITEMS as u64));
    for format in [
        Format::Rpz,
        Format::EdlIp,
        Format::EdlDomain,
        Format::EdlUrl,
        Format::Suricata,
    ] {
        group.bench_function(format.as_str(), |bencher| {
            bencher.iter(|| {
                let rendered =
                    blocklist::render(format, &meta, &options, black_box(&items)).unwrap();
                black_box(rendered.body.len())
            })
        });
    }
    group.bench_function("rpz (shuffled input)", |bencher| {
        bencher.iter(|| {
            let rendered =
                blocklist::render(Format::Rpz, &meta, &options, black_box(&shuffled)).unwrap();
            black_box(rendered.body.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_render);
criterion_main!(benches);
