//! `rampart serve` as a TAXII 2.1 server, read by two real clients: the OASIS `taxii2-client`
//! from PyPI (lists collections, pages through objects with `added_after`, adds objects to a
//! writable collection) and Rampart's own TAXII feed transport pulling a collection into a
//! second store.
//!
//! taxii2-client comes from PyPI: `python3 -m venv .venv-taxii && .venv-taxii/bin/pip install
//! medallion taxii2-client` at the workspace root (CI does this), or set `RAMPART_TAXII_PYTHON`
//! to a Python that has it.

mod support;

use std::path::PathBuf;
use std::process::Command;

use rampart_intel::export::stix::indicator_id;
use rampart_model::Indicator;
use support::{Rampart, json};

const PASSWORD: &str = "correct horse battery staple";
const ALL: &str = "5d0c7f7e-0b8e-4f7d-9a43-6c1b2f0d9e11";
const DOMAINS: &str = "5d0c7f7e-0b8e-4f7d-9a43-6c1b2f0d9e12";
const INBOX: &str = "5d0c7f7e-0b8e-4f7d-9a43-6c1b2f0d9e13";

/// Lists collections, pages through one with and without `added_after`, reads the manifest
/// and adds an envelope to the inbox; prints what it saw as JSON.
const SCRIPT: &str = r#"
import json, sys
from taxii2client.v21 import Server, as_pages

url, user, token, inbox_id = sys.argv[1:5]
server = Server(url, user=user, password=token)
root = server.api_roots[0]
out = {"title": server.title, "root": root.url,
       "collections": [[c.id, c.title, c.can_read, c.can_write] for c in root.collections]}
by_id = {c.id: c for c in root.collections}
everything = by_id[sys.argv[5]]

def pages(func, per_request, **filters):
    return [[o["id"] for o in envelope.get("objects", [])]
            for envelope in as_pages(func, per_request=per_request, **filters)]

out["all_pages"] = pages(everything.get_objects, 2)
manifest = [record for envelope in as_pages(everything.get_manifest, per_request=2)
            for record in envelope.get("objects", [])]
out["manifest"] = [[r["id"], r["date_added"]] for r in manifest]
first_added = manifest[0]["date_added"]
out["added_after"] = first_added
out["after_pages"] = pages(everything.get_objects, 1, added_after=first_added)
out["domain_pages"] = pages(by_id[sys.argv[6]].get_objects, 2)
one = everything.get_object(manifest[0]["id"])
out["one"] = [o["id"] for o in one["objects"]]

inbox = by_id[inbox_id]
status = inbox.add_objects({"objects": [{
    "type": "indicator", "spec_version": "2.1",
    "id": "indicator--0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
    "created": "2024-03-01T00:00:00.000Z", "modified": "2024-03-01T00:00:00.000Z",
    "pattern": "[domain-name:value = 'posted-by-client.example']", "pattern_type": "stix",
    "valid_from": "2024-03-01T00:00:00Z"}]})
out["status"] = [status.status, status.total_count, status.success_count, status.failure_count]
out["inbox_pages"] = pages(inbox.get_objects, 5)
print(json.dumps(out))
"#;

fn python() -> PathBuf {
    match std::env::var_os("RAMPART_TAXII_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => rampart_testkit::workspace_root().join(".venv-taxii/bin/python"),
    }
}

fn stix_id(value: &str) -> String {
    let indicator = Indicator::guess(value).unwrap();
    indicator_id(indicator.kind(), indicator.value())
}

fn config(rampart: &Rampart) -> String {
    rampart.write(
        "rampart.toml",
        &format!(
            r#"data_dir = "{data}"

[server]
listen = "127.0.0.1:0"

[taxii]
api_root = "rampart"

[[taxii.collections]]
id = "{ALL}"
title = "Everything up to green"

[[taxii.collections]]
id = "{DOMAINS}"
title = "Domains"
kinds = ["domain"]

[[taxii.collections]]
id = "{INBOX}"
title = "Inbox"
can_write = true
sources = ["taxii:{INBOX}"]
max_tlp = "amber"
"#,
            data = rampart.dir.path().join("data").display()
        ),
    )
}

#[test]
fn taxii2_client_and_rampart_read_rampart_serve() {
    let python = python();
    if !python.is_file() {
        rampart_testkit::skip_service(
            "taxii2_client_and_rampart_read_rampart_serve",
            "taxii2-client",
            &format!(
                "{} not found (python3 -m venv .venv-taxii && .venv-taxii/bin/pip install medallion taxii2-client, or set RAMPART_TAXII_PYTHON)",
                python.display()
            ),
        );
        return;
    }
    let rampart = Rampart::new();
    let config = config(&rampart);
    let created = rampart.run_with_input(
        &["admin", "create-user", "alice", "--role", "analyst"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = rampart
        .ok(&[
            "admin", "token", "create", "--user", "alice", "--name", "taxii", "--role", "analyst",
        ])
        .trim_end()
        .to_owned();
    // Separate imports (separate processes), separate commit times: `added_after` the first
    // gives the later ones.
    let first = ["first.example", "203.0.113.10", "second.example"];
    let second = ["third.example", "198.51.100.20"];
    let secret = "amber-only.example";
    let feed = rampart.write("first.txt", &format!("{}\n", first.join("\n")));
    rampart.ok(&[
        "intel",
        "import",
        &feed,
        "--source",
        "one",
        "--reliability",
        "B",
    ]);
    let feed = rampart.write("secret.txt", &format!("{secret}\n"));
    rampart.ok(&[
        "intel", "import", &feed, "--source", "sealed", "--tlp", "amber",
    ]);
    let feed = rampart.write("second.txt", &format!("{}\n", second.join("\n")));
    rampart.ok(&[
        "intel",
        "import",
        &feed,
        "--source",
        "two",
        "--reliability",
        "B",
    ]);

    let (serve, base) = rampart.serve_http(&config);
    let output = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .args([
            &format!("{base}/taxii2/"),
            "alice",
            &token,
            INBOX,
            ALL,
            DOMAINS,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "taxii2-client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = json(&String::from_utf8_lossy(&output.stdout));

    assert_eq!(seen["title"], "Rampart");
    assert_eq!(seen["root"], format!("{base}/taxii2/rampart/"));
    assert_eq!(
        seen["collections"],
        serde_json::json!([
            [ALL, "Everything up to green", true, false],
            [DOMAINS, "Domains", true, false],
            [INBOX, "Inbox", true, true],
        ])
    );
    // Five published (the amber one never), in the order they were added, two per page.
    let expected: Vec<String> = first.iter().chain(&second).map(|v| stix_id(v)).collect();
    let pages: Vec<Vec<String>> = serde_json::from_value(seen["all_pages"].clone()).unwrap();
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
    assert_eq!(pages.concat(), expected);
    assert!(!pages.concat().contains(&stix_id(secret)));
    let manifest: Vec<(String, String)> = serde_json::from_value(seen["manifest"].clone()).unwrap();
    assert_eq!(
        manifest
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(seen["added_after"], manifest[0].1.as_str());
    // added_after the first import: the second import's two, one per page.
    let after: Vec<Vec<String>> = serde_json::from_value(seen["after_pages"].clone()).unwrap();
    assert_eq!(after.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
    assert_eq!(
        after.concat(),
        second.iter().map(|v| stix_id(v)).collect::<Vec<_>>()
    );
    let domains: Vec<Vec<String>> = serde_json::from_value(seen["domain_pages"].clone()).unwrap();
    assert_eq!(
        domains.concat(),
        ["first.example", "second.example", "third.example"].map(stix_id)
    );
    assert_eq!(seen["one"], serde_json::json!([expected[0]]));
    // The envelope added through the client is imported and served by the inbox.
    assert_eq!(seen["status"], serde_json::json!(["complete", 1, 1, 0]));
    assert_eq!(
        seen["inbox_pages"],
        serde_json::json!([[stix_id("posted-by-client.example")]])
    );

    // Rampart's own TAXII transport pulls the collection into a second store.
    let mirror = Rampart::new();
    mirror.ok(&[
        "feeds",
        "add",
        "partner",
        "--format",
        "stix",
        "--transport",
        "taxii",
        "--url",
        &format!("{base}/taxii2/rampart/"),
        "--transport-option",
        "collection=Everything up to green",
        "--bearer-env",
        "RAMPART_TEST_TAXII_TOKEN",
    ]);
    let pulled = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["--store", &mirror.store_url(), "feeds", "pull", "partner"])
        .current_dir(mirror.dir.path())
        .env_remove("RAMPART_CONFIG")
        .env("RAMPART_TEST_TAXII_TOKEN", &token)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "pull failed: {}\n{}",
        String::from_utf8_lossy(&pulled.stderr),
        String::from_utf8_lossy(&pulled.stdout)
    );
    let exported = mirror.ok(&["intel", "export", "--format", "text"]);
    let mut values: Vec<&str> = exported.lines().collect();
    values.sort_unstable();
    let mut want: Vec<&str> = first.iter().chain(&second).copied().collect();
    want.sort_unstable();
    assert_eq!(values, want);
    drop(serve);
}
