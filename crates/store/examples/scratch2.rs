use std::sync::Arc;
use std::time::Instant;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Executor};
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
}
const SCHEMA: &str = "CREATE TABLE statements (indicator_id INTEGER NOT NULL, source TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, confidence INTEGER NOT NULL, tlp TEXT NOT NULL, labels TEXT NOT NULL, techniques TEXT NOT NULL, threats TEXT NOT NULL, reference TEXT NOT NULL, valid_until INTEGER, revoked INTEGER NOT NULL, withdrawn_at INTEGER, direction TEXT, port INTEGER, pattern TEXT, import_id INTEGER NOT NULL, PRIMARY KEY (indicator_id, source)) STRICT, WITHOUT ROWID; CREATE INDEX sbs ON statements(source);";
const N: usize = 102_400;

fn values_sql(rows: usize) -> String {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)";
    format!("INSERT INTO statements VALUES {}", vec![row; rows].join(","))
}

#[tokio::main]
async fn main() {
    let mode = std::env::args().nth(1).unwrap_or("binds".into());
    let rows_per: usize = std::env::args().nth(2).map(|a| a.parse().unwrap()).unwrap_or(512);
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = SqliteConnectOptions::new().filename(dir.path().join("x.db")).create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal).synchronous(SqliteSynchronous::Normal)
            .pragma("page_size", "16384").row_buffer_size(1024)
            .pragma("cache_size", "-131072").connect().await.unwrap();
        conn.execute(SCHEMA).await.unwrap();
        let source: Arc<str> = Arc::from("bench");
        let sql = Box::leak(values_sql(rows_per).into_boxed_str());
        let c = cpu();
        let t = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        match mode.as_str() {
            "binds" => {
                for chunk in (0..N).collect::<Vec<_>>().chunks(rows_per) {
                    let mut q = sqlx::query(&*sql);
                    for &i in chunk {
                        q = q.bind(i as i64).bind(Arc::clone(&source)).bind(1_700_000_000_000_000i64).bind(1_700_000_000_000_000i64)
                            .bind(50i64).bind("clear").bind(String::from("[]")).bind(String::from("[]")).bind(String::from("[]"))
                            .bind(format!("line {i}")).bind(None::<i64>).bind(false).bind(None::<&str>).bind(None::<i64>).bind(None::<String>).bind(1i64);
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
            }
            _ => {
                for chunk in (0..N).collect::<Vec<_>>().chunks(rows_per) {
                    let mut json = String::with_capacity(chunk.len() * 120);
                    json.push('[');
                    for (k, &i) in chunk.iter().enumerate() {
                        if k > 0 { json.push(','); }
                        use std::fmt::Write;
                        write!(json, "[{},{},{},{},\"{}\",{},{},{},{},{},{},{},{},{}]", i, 1_700_000_000_000_000i64, 1_700_000_000_000_000i64, 50, "clear",
                            serde_json::to_string("[]").unwrap(), serde_json::to_string("[]").unwrap(), serde_json::to_string("[]").unwrap(), serde_json::to_string(&format!("line {i}")).unwrap(), "null", 0, "null", "null", "null").unwrap();
                    }
                    json.push(']');
                    sqlx::query("INSERT INTO statements SELECT j.value->>0, ?2, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5, j.value->>6, j.value->>7, j.value->>8, j.value->>9, j.value->>10, NULL, j.value->>11, j.value->>12, j.value->>13, ?3 FROM json_each(?1) AS j")
                        .bind(json).bind(Arc::clone(&source)).bind(1i64).execute(&mut *tx).await.unwrap();
                }
            }
        }
        let t1 = t.elapsed();
        tx.commit().await.unwrap();
        println!("{mode} {rows_per}: insert {:?} commit {:?} cpu {:.2}", t1, t.elapsed() - t1, cpu() - c);
    }
}
