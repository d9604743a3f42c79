use std::time::Instant;
use rampart_model::{AttackId, Indicator, IndicatorKind, Observation, SourceInfo, Timestamp, Tlp};
use rampart_store::{Commit, ImportBatch};
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}
fn observations(count: usize) -> Vec<Observation> {
    let technique: AttackId = "T1566.001".parse().unwrap();
    (0..count).map(|n| {
        let indicator = match n % 4 {
            0 => Indicator::parse(IndicatorKind::Ipv4, &format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255)),
            1 => Indicator::parse(IndicatorKind::Domain, &format!("host{n}.malware-{}.example", n % 97)),
            2 => Indicator::parse(IndicatorKind::Url, &format!("http://site{}.example/path/{n}/login.php", n % 89)),
            _ => Indicator::parse(IndicatorKind::Sha256, &format!("{n:064x}")),
        }.unwrap();
        let mut o = Observation::new(indicator, format!("line {n}"));
        if n % 3 == 0 {
            o.labels = vec!["botnet".into(), "c2".into()];
            o.techniques = vec![technique.clone()];
            o.confidence = Some(80);
            o.tlp = Some(Tlp::Amber);
            o.first_seen = Some(Timestamp::from_second(1_700_000_000 + n as i64).unwrap());
        }
        o
    }).collect()
}
#[tokio::main]
async fn main() {
    let count: usize = std::env::args().nth(1).map(|a| a.parse().unwrap()).unwrap_or(100_000);
    let rounds: usize = std::env::args().nth(2).map(|a| a.parse().unwrap()).unwrap_or(3);
    let obs = observations(count);
    let source = SourceInfo::adhoc("bench", "text");
    for _ in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let store = rampart_store::open(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap();
        store.upsert_source(&source, &serde_json::json!({})).await.unwrap();
        for label in ["new", "again"] {
            let mut batches: Vec<ImportBatch> = obs.chunks(4096).map(|c| ImportBatch::observations(c.to_vec())).collect();
            batches.push(ImportBatch::Commit(Commit { full_list: true, cursors: vec![] }));
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            let feeder = tokio::spawn(async move { for b in batches { if tx.send(b).await.is_err() { break } } });
            let c = cpu();
            let t = Instant::now();
            let s = store.import(&source, rx).await.unwrap();
            let wall = t.elapsed();
            feeder.await.unwrap();
            println!("{label}: {:?} wall, cpu {:.2}s = {:.2} µs/indicator, {:.0}/s ({} accepted)", wall, cpu() - c, (cpu() - c) * 1e6 / count as f64, count as f64 / wall.as_secs_f64(), s.accepted());
        }
    }
}
