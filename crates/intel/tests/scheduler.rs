//! Feeds that run themselves, against an HTTP server on loopback that serves a real feed
//! sample, then changes it, then fails, then serves garbage, then hangs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_intel::config::SourceConfig;
use rampart_intel::scheduler::{PullResult, Puller, next_due};
use rampart_model::{Indicator, IndicatorKind};
use rampart_store::Store;

#[derive(Clone)]
enum Mode {
    Serve { body: Vec<u8>, etag: &'static str },
    Fail,
    Hang,
}

async fn feed(State(mode): State<Arc<Mutex<Mode>>>, headers: HeaderMap) -> Response {
    let mode = mode.lock().map(|m| m.clone()).unwrap_or(Mode::Fail);
    match mode {
        Mode::Serve { body, etag } => {
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some(etag)
            {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            ([(header::ETAG, etag)], body).into_response()
        }
        Mode::Fail => (StatusCode::INTERNAL_SERVER_ERROR, "upstream broke").into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late".into_response()
        }
    }
}

/// The values of a DROP-style list, counted independently of Rampart's parser: every line that
/// is not a `;` comment holds one network before its ` ; SBL` reference.
fn drop_values(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.starts_with(';') && !line.trim().is_empty())
        .map(|line| line.split(';').next().unwrap_or("").trim().to_owned())
        .collect()
}

#[tokio::test]
async fn feed_pulls_survive_changes_failures_garbage_and_timeouts() {
    let Some(corpus) =
        rampart_testkit::corpus("feed_pulls_survive_changes_failures_garbage_and_timeouts")
    else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sample = std::fs::read(corpus.join("feeds/spamhaus/drop.txt")).unwrap();
    let values = drop_values(&String::from_utf8_lossy(&sample));
    assert!(
        values.len() >= 2,
        "the sample should list at least two networks"
    );

    let mode = Arc::new(Mutex::new(Mode::Serve {
        body: sample.clone(),
        etag: "\"v1\"",
    }));
    let app = axum::Router::new()
        .route("/drop.txt", axum::routing::get(feed))
        .with_state(mode.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        rampart_store::open(&format!("sqlite://{}", dir.path().join("r.db").display()))
            .await
            .unwrap()
            .into();
    let config: SourceConfig = toml::from_str(&format!(
        "name = \"drop\"\nformat = \"text\"\nurl = \"http://{address}/drop.txt\"\nfull_list = true\nreliability = \"A\"\ntimeout_secs = 1\n"
    ))
    .unwrap();
    store
        .upsert_source(&config.info(), &config.to_settings())
        .await
        .unwrap();
    let puller = Puller::new(store.clone(), reqwest::Client::new(), None);

    // 1. The real sample: every network is new.
    let PullResult::Imported(report) = puller.pull("drop").await.unwrap() else {
        panic!("expected an import")
    };
    assert_eq!(report.summary.new, values.len() as u64);
    for value in &values {
        let indicator = Indicator::parse(IndicatorKind::Cidr, value).unwrap();
        assert!(
            store.indicator(&indicator).await.unwrap().is_some(),
            "{value} stored"
        );
    }

    // 2. Unchanged: the ETag makes it one cheap request.
    assert!(matches!(
        puller.pull("drop").await.unwrap(),
        PullResult::NotModified
    ));

    // 3. The list shrinks: the missing network is withdrawn for this source.
    let shortened: String = String::from_utf8_lossy(&sample)
        .lines()
        .filter(|line| !line.starts_with(values[0].as_str()))
        .map(|line| format!("{line}\n"))
        .collect();
    *mode.lock().unwrap() = Mode::Serve {
        body: shortened.into_bytes(),
        etag: "\"v2\"",
    };
    let PullResult::Imported(report) = puller.pull("drop").await.unwrap() else {
        panic!("expected an import")
    };
    assert_eq!(report.summary.withdrawn, 1);
    let active_before = store
        .source("drop")
        .await
        .unwrap()
        .unwrap()
        .active_statements;
    assert_eq!(active_before, values.len() as u64 - 1);

    // 4. The server fails: the pull fails, the status says why, nothing changes.
    *mode.lock().unwrap() = Mode::Fail;
    let err = puller.pull("drop").await.unwrap_err().to_string();
    assert!(err.contains("500"), "{err}");
    let record = store.source("drop").await.unwrap().unwrap();
    assert_eq!(record.consecutive_failures, 1);
    assert!(record.last_error.as_deref().unwrap_or("").contains("500"));
    assert_eq!(record.active_statements, active_before);

    // 5. Garbage (an HTML error page with status 200): refused, nothing withdrawn.
    let garbage = b"<html><body><h1>Service temporarily unavailable</h1>\n<p>try again later</p></body></html>\n".to_vec();
    *mode.lock().unwrap() = Mode::Serve {
        body: garbage,
        etag: "\"v3\"",
    };
    let err = puller.pull("drop").await.unwrap_err().to_string();
    assert!(
        err.contains("does not look like the feed") || err.contains("full list is empty"),
        "{err}"
    );
    let record = store.source("drop").await.unwrap().unwrap();
    assert_eq!(record.consecutive_failures, 2);
    assert_eq!(record.active_statements, active_before);

    // 6. Back-off: after two failures the next try is two minutes after the last attempt,
    //    well before the one-hour interval.
    let due = next_due(&record, &config);
    let wait = due.duration_since(record.last_attempt.unwrap());
    assert_eq!(wait.as_secs(), 120);

    // 7. A server that hangs hits the timeout.
    *mode.lock().unwrap() = Mode::Hang;
    let started = std::time::Instant::now();
    assert!(puller.pull("drop").await.is_err());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        store
            .source("drop")
            .await
            .unwrap()
            .unwrap()
            .consecutive_failures,
        3
    );

    // 8. Recovery resets the failure count.
    *mode.lock().unwrap() = Mode::Serve {
        body: sample.clone(),
        etag: "\"v4\"",
    };
    assert!(matches!(
        puller.pull("drop").await.unwrap(),
        PullResult::Imported(_)
    ));
    let record = store.source("drop").await.unwrap().unwrap();
    assert_eq!(record.consecutive_failures, 0);
    assert_eq!(record.active_statements, values.len() as u64);
}
