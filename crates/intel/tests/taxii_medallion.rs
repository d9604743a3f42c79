//! The TAXII client and transport against medallion, the OASIS reference TAXII 2.1 server,
//! run on a loopback port with a memory backend this test writes (page size 2, so every
//! listing is paged).
//!
//! medallion comes from PyPI: `python3 -m venv .venv-taxii && .venv-taxii/bin/pip install
//! medallion taxii2-client` at the workspace root, or set `RAMPART_MEDALLION` to its script.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rampart_intel::sources::PullStatus;
use rampart_intel::sources::taxii::{
    CollectionLocation, ObjectsQuery, TaxiiAuth, TaxiiClient, TaxiiTransport, collection_url,
    cursor_key,
};
use serde_json::{Value, json};
use support::{CountingStix, TestStore, simple_pattern};

const SOURCE: &str = "taxii-test";
const USER: &str = "analyst";
const PASSWORD: &str = "Corr3ct-horse";
const COLLECTION_ID: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const EMPTY_COLLECTION_ID: &str = "52892447-4d7e-4f70-b94d-d7f22742ff63";
const PAGE_SIZE: usize = 2;

/// Kills medallion when the test ends, however it ends.
struct ServerGuard {
    child: Child,
    log: PathBuf,
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ServerGuard {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn medallion_path() -> PathBuf {
    match std::env::var_os("RAMPART_MEDALLION") {
        Some(path) => PathBuf::from(path),
        None => rampart_testkit::workspace_root().join(".venv-taxii/bin/medallion"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

/// Seven objects, added one second apart; indicators with simple patterns, the rest context.
fn stix_objects() -> Vec<Value> {
    let kinds = [
        ("indicator", Some("[ipv4-addr:value = '198.51.100.1']")),
        ("indicator", Some("[domain-name:value = 'evil.example']")),
        ("malware", None),
        ("indicator", Some("[ipv4-addr:value = '198.51.100.4']")),
        ("identity", None),
        ("indicator", Some("[domain-name:value = 'bad.example']")),
        ("indicator", Some("[file:hashes.'SHA-256' = 'aaaa']")),
    ];
    kinds
        .iter()
        .enumerate()
        .map(|(index, (object_type, pattern))| {
            let n = index + 1;
            let stamp = format!("2023-06-0{n}T00:00:00.000Z");
            let mut object = json!({
                "type": object_type,
                "spec_version": "2.1",
                "id": format!("{object_type}--00000000-0000-4000-8000-00000000000{n}"),
                "created": stamp,
                "modified": stamp,
            });
            match pattern {
                Some(pattern) => {
                    object["pattern"] = json!(pattern);
                    object["pattern_type"] = json!("stix");
                    object["valid_from"] = json!("2023-06-01T00:00:00Z");
                }
                None if *object_type == "malware" => {
                    object["name"] = json!("Example Loader");
                    object["is_family"] = json!(true);
                }
                None => {
                    object["name"] = json!("Example Corp");
                    object["identity_class"] = json!("organization");
                }
            }
            object
        })
        .collect()
}

/// The memory backend's data file: discovery, one API root with a full and an empty collection.
fn backend_data(port: u16) -> Value {
    let objects = stix_objects();
    // Added in an order different from the list order, so the server's sorting by
    // `date_added` is what the test sees.
    let added_seconds = [3, 1, 7, 2, 6, 4, 5];
    let manifest: Vec<Value> = objects
        .iter()
        .zip(added_seconds)
        .map(|(object, second)| {
            json!({
                "id": object["id"],
                "date_added": format!("2024-01-01T00:00:0{second}.000000Z"),
                "version": object["modified"],
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let root = format!("http://127.0.0.1:{port}/api1/");
    json!({
        "/discovery": {
            "title": "Rampart test TAXII",
            "description": "medallion for the rampart-intel tests",
            "default": root,
            "api_roots": [root],
        },
        "api1": {
            "information": {
                "title": "Rampart test root",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9765625,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION_ID,
                    "title": "Indicators",
                    "can_read": true,
                    "can_write": false,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                },
                {
                    "id": EMPTY_COLLECTION_ID,
                    "title": "Empty",
                    "can_read": true,
                    "can_write": false,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                },
            ],
        },
    })
}

fn start_medallion(medallion: &Path, dir: &Path, port: u16) -> ServerGuard {
    let data_path = dir.join("data.json");
    std::fs::write(
        &data_path,
        serde_json::to_vec_pretty(&backend_data(port)).unwrap(),
    )
    .unwrap();
    let config = json!({
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": data_path,
        },
        "users": { USER: PASSWORD },
        "taxii": { "max_page_size": PAGE_SIZE },
    });
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
    let log = dir.join("medallion.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new(medallion)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_path)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", medallion.display()));
    ServerGuard { child, log }
}

/// Waits until medallion answers HTTP at all (any status), for at most about 15 seconds.
async fn wait_until_ready(server: &mut ServerGuard, url: &str) {
    let http = support::http_client();
    for _ in 0..150 {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "medallion exited with {status} before answering:\n{}",
                server.log_text()
            );
        }
        if http
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "medallion did not answer at {url} within 15 s:\n{}",
        server.log_text()
    );
}

/// Expected values, computed from the data file by plain JSON traversal (not by the code
/// under test): the objects, the indicators whose pattern names one IP address or domain
/// (each becomes one observation), and each object's `date_added`.
struct Expected {
    ids: Vec<String>,
    indicator_ids: Vec<String>,
    observation_count: usize,
    /// The values of those simple patterns, sorted.
    values: Vec<String>,
    added: Vec<(String, String)>,
}

fn expected(data: &Value) -> Expected {
    let collection = &data["api1"]["collections"][0];
    let objects = collection["objects"].as_array().unwrap();
    let mut ids: Vec<String> = objects
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut indicator_ids: Vec<String> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    indicator_ids.sort();
    let mut values: Vec<String> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .filter_map(|o| o["pattern"].as_str().and_then(simple_pattern))
        .map(|(_, value)| value.to_owned())
        .collect();
    values.sort();
    let observation_count = values.len();
    let mut added: Vec<(String, String)> = collection["manifest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["date_added"].as_str().unwrap().to_owned(),
                m["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    added.sort();
    Expected {
        ids,
        indicator_ids,
        observation_count,
        values,
        added,
    }
}

fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii_medallion() {
    let medallion = medallion_path();
    if !medallion.is_file() {
        rampart_testkit::skip_service(
            "taxii_medallion",
            "medallion",
            &format!(
                "{} not found (python3 -m venv .venv-taxii && .venv-taxii/bin/pip install medallion taxii2-client, or set RAMPART_MEDALLION)",
                medallion.display()
            ),
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let discovery_url = format!("{base}/taxii2/");
    let mut server = start_medallion(&medallion, dir.path(), port);
    wait_until_ready(&mut server, &discovery_url).await;
    let data = backend_data(port);
    let want = expected(&data);
    // The data file has seven objects, five of them indicators, four with simple patterns;
    // the numbers below are recomputed from the file by `expected`.
    assert_eq!(
        (
            want.ids.len(),
            want.indicator_ids.len(),
            want.observation_count
        ),
        (7, 5, 4)
    );

    let basic = TaxiiAuth::Basic {
        username: USER.into(),
        password: PASSWORD.into(),
    };
    let client = TaxiiClient::new(support::http_client(), basic.clone());

    // Discovery, API root and collections.
    let discovery = client.discovery(&discovery_url).await.unwrap();
    assert_eq!(discovery.title, "Rampart test TAXII");
    let roots = discovery.resolved_api_roots(&discovery_url).unwrap();
    assert_eq!(roots, [format!("{base}/api1/")]);
    let root = &roots[0];
    let api_root = client.api_root(root).await.unwrap();
    assert_eq!(api_root.title, "Rampart test root");
    assert_eq!(api_root.versions, ["application/taxii+json;version=2.1"]);
    let collections = client.collections(root).await.unwrap();
    let listed: Vec<(&str, &str)> = collections
        .iter()
        .map(|c| (c.id.as_str(), c.title.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (COLLECTION_ID, "Indicators"),
            (EMPTY_COLLECTION_ID, "Empty")
        ]
    );
    let info = client.collection(root, COLLECTION_ID).await.unwrap();
    assert_eq!(info.title, "Indicators");
    assert!(info.can_read && !info.can_write);

    // Objects, paged by hand: the server caps pages at two objects.
    let collection = collection_url(root, COLLECTION_ID).unwrap();
    let mut query = ObjectsQuery {
        limit: Some(100),
        ..Default::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = client.objects(collection.as_str(), &query).await.unwrap();
        assert!(
            page.objects.len() <= PAGE_SIZE,
            "{} objects on one page",
            page.objects.len()
        );
        let next = page.next.clone();
        let more = page.more;
        pages.push(page);
        if !more {
            break;
        }
        query.next = Some(next.expect("more without next"));
        assert!(pages.len() < 10, "paging does not end");
    }
    assert_eq!(pages.len(), want.ids.len().div_ceil(PAGE_SIZE));
    let paged_ids: Vec<String> = pages
        .iter()
        .flat_map(|p| p.objects.iter().filter_map(|o| o.id.clone()))
        .collect();
    // In `date_added` order, as the server sorts.
    let by_date: Vec<String> = want.added.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(paged_ids, by_date);
    assert_eq!(
        pages.last().unwrap().date_added_last.as_deref(),
        Some(want.added.last().unwrap().0.as_str())
    );

    // Filters.
    let indicators_only = ObjectsQuery {
        match_type: vec!["indicator".into()],
        limit: Some(100),
        ..Default::default()
    };
    let mut indicator_ids = Vec::new();
    let mut query = indicators_only.clone();
    loop {
        let page = client.objects(collection.as_str(), &query).await.unwrap();
        indicator_ids.extend(page.objects.iter().filter_map(|o| o.id.clone()));
        if !page.more {
            break;
        }
        query = ObjectsQuery {
            next: page.next.clone(),
            ..indicators_only.clone()
        };
    }
    assert_eq!(sorted(indicator_ids), want.indicator_ids);
    let one = ObjectsQuery {
        match_id: vec![want.ids[0].clone()],
        ..Default::default()
    };
    let page = client.objects(collection.as_str(), &one).await.unwrap();
    assert_eq!(
        page.objects
            .iter()
            .filter_map(|o| o.id.clone())
            .collect::<Vec<_>>(),
        [want.ids[0].clone()]
    );
    assert!(!page.more);

    // The manifest lists every object with its date_added.
    let mut entries = Vec::new();
    let mut query = ObjectsQuery {
        limit: Some(100),
        ..Default::default()
    };
    loop {
        let page = client.manifest(collection.as_str(), &query).await.unwrap();
        entries.extend(
            page.entries
                .iter()
                .map(|e| (e.date_added.clone(), e.id.clone())),
        );
        if !page.more {
            break;
        }
        query.next = page.next.clone();
    }
    assert_eq!(entries, want.added);

    // A full pull through the transport, locating the collection by title.
    let store = TestStore::new(SOURCE, "stix").await;
    let transport = TaxiiTransport::new(
        CollectionLocation::InApiRoot {
            api_root: root.clone(),
            collection: "Indicators".into(),
        },
        basic.clone(),
    )
    .with_page_size(100);
    let format = CountingStix::new();
    let (status, report) = store.pull(&transport, format.clone()).await.unwrap();
    let report = report.expect("committed");
    let pages_expected = want.ids.len().div_ceil(PAGE_SIZE) as u64;
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: pages_expected,
            full_list: false
        }
    );
    assert_eq!(format.documents_seen(), pages_expected);
    assert_eq!(format.objects_seen(), want.ids.len() as u64);
    assert_eq!(report.observations, want.observation_count as u64);
    assert_eq!(report.summary.new, want.observation_count as u64);
    assert_eq!(store.values().await, want.values);
    // Every object is in the store: the simple indicators as the references of their
    // statements, everything else (the file-hash indicator, whose value is not a SHA-256, is
    // rejected as a value and kept as context) as context objects, and nothing more.
    assert_eq!(store.stored_ids(&want.ids).await, want.ids);
    let context = (want.ids.len() - want.observation_count) as u64;
    assert_eq!(report.summary.objects, context);
    assert_eq!(report.rejected, 1, "the hash 'aaaa'");
    let counts = store.counts().await;
    assert_eq!(
        (counts.indicators, counts.statements, counts.objects),
        (
            want.observation_count as u64,
            want.observation_count as u64,
            context
        )
    );
    let key = cursor_key(COLLECTION_ID);
    let newest = want.added.last().unwrap().0.clone();
    assert_eq!(store.cursor(&key).await, Some(newest));

    // Nothing was added since: the next pull is NotModified and imports nothing.
    let format = CountingStix::new();
    let (status, report) = store.pull(&transport, format.clone()).await.unwrap();
    assert_eq!(status, PullStatus::NotModified);
    assert_eq!(format.objects_seen(), 0);
    assert!(report.is_none());
    assert_eq!(store.counts().await, counts);

    // With the cursor after the third object, exactly the four later ones arrive (through the
    // collection URL this time), into a new store so that what arrived is all it holds.
    let middle = want.added[2].0.clone();
    let later_store = TestStore::new(SOURCE, "stix").await;
    later_store.set_cursor(&key, &middle).await;
    let later: Vec<String> = sorted(
        want.added
            .iter()
            .filter(|(added, _)| *added > middle)
            .map(|(_, id)| id.clone())
            .collect(),
    );
    assert_eq!(later.len(), 4);
    let by_url = TaxiiTransport::new(
        CollectionLocation::Url(collection.to_string()),
        basic.clone(),
    );
    let format = CountingStix::new();
    let (status, _) = later_store.pull(&by_url, format.clone()).await.unwrap();
    assert_eq!(
        status,
        PullStatus::Fetched {
            documents: 2,
            full_list: false
        }
    );
    assert_eq!(later_store.stored_ids(&want.ids).await, later);
    assert_eq!(format.objects_seen(), 4);
    assert_eq!(
        later_store.cursor(&key).await.as_deref(),
        Some(want.added.last().unwrap().0.as_str())
    );

    // The empty collection has nothing to give.
    let empty = TaxiiTransport::new(
        CollectionLocation::InApiRoot {
            api_root: root.clone(),
            collection: EMPTY_COLLECTION_ID.into(),
        },
        basic,
    );
    let (status, _) = store.pull(&empty, CountingStix::new()).await.unwrap();
    assert_eq!(status, PullStatus::NotModified);
    assert_eq!(store.cursor(&cursor_key(EMPTY_COLLECTION_ID)).await, None);

    // A wrong password is an authentication error naming the URL, for the client and the pull.
    let wrong = TaxiiAuth::Basic {
        username: USER.into(),
        password: "wrong".into(),
    };
    let err = TaxiiClient::new(support::http_client(), wrong.clone())
        .discovery(&discovery_url)
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err}");
    assert_eq!(
        err.to_string(),
        format!("{discovery_url}: authentication failed (HTTP 401)")
    );
    let denied = TaxiiTransport::new(CollectionLocation::Url(collection.to_string()), wrong);
    let summary_before = store.last_summary().await;
    let err = store
        .pull(&denied, CountingStix::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("authentication failed (HTTP 401)") && err.contains(collection.as_str()),
        "{err}"
    );
    assert_eq!(store.last_summary().await, summary_before);
    assert_eq!(store.counts().await, counts);

    // An unknown collection is reported with the server's error message.
    let err = client
        .collection(root, "no-such-collection")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 404")
            && err.contains("ProcessingError: Collection 'no-such-collection' not found"),
        "{err}"
    );

    drop(server);
}
