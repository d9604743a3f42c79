//! The real `rampart` binary, end to end: import, show, search, export, suppress, feeds,
//! assets — and bad input that must leave the store untouched.

mod support;

use std::process::Command;

use support::{Rampart, json};

#[test]
fn text_import_show_search_export_and_suppress() {
    let rampart = Rampart::new();
    let list = rampart.write(
        "list.txt",
        "# my list\nhxxp://login-paypa1[.]com/verify\n203.0.113.66\nEVIL-Example.COM.\nnot/a/value at all\n",
    );
    let report = json(&rampart.ok(&[
        "--json",
        "intel",
        "import",
        &list,
        "--source",
        "mine",
        "--reliability",
        "B",
        "--confidence",
        "80",
    ]));
    assert_eq!(report["summary"]["new"], 3);
    assert_eq!(report["rejected"], 1);

    let shown = json(&rampart.ok(&[
        "--json",
        "intel",
        "show",
        "http://LOGIN-PAYPA1.com:80/verify#x",
    ]));
    assert_eq!(
        shown["indicator"]["indicator"]["value"],
        "http://login-paypa1.com/verify"
    );
    // reliability B (0.85) × confidence 0.8 × no decay yet = 68
    assert_eq!(shown["explanation"]["score"], 68);
    let text = rampart.ok(&["intel", "show", "evil-example.com"]);
    assert!(
        text.contains("why this score") && text.contains("reliability B"),
        "{text}"
    );

    let found = json(&rampart.ok(&["--json", "intel", "search", "example", "--kind", "domain"]));
    assert_eq!(found.as_array().unwrap().len(), 1);

    let exported = rampart.ok(&["intel", "export", "--format", "text"]);
    let mut lines: Vec<&str> = exported.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "203.0.113.66",
            "evil-example.com",
            "http://login-paypa1.com/verify"
        ]
    );

    rampart.ok(&[
        "intel",
        "suppress",
        "203.0.113.0/24",
        "--reason",
        "partner range",
    ]);
    let exported = rampart.ok(&["intel", "export", "--format", "text"]);
    assert!(!exported.contains("203.0.113.66"), "{exported}");
    let shown = rampart.ok(&["intel", "show", "203.0.113.66"]);
    assert!(shown.contains("partner range"), "{shown}");
    rampart.ok(&["intel", "unsuppress", "203.0.113.0/24"]);
    assert!(
        rampart
            .ok(&["intel", "export", "--format", "text"])
            .contains("203.0.113.66")
    );

    let csv_path = rampart.dir.path().join("out.csv");
    rampart.ok(&[
        "intel",
        "export",
        "--format",
        "csv",
        "-o",
        csv_path.to_str().unwrap(),
    ]);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv.starts_with("kind,value,score,tlp"), "{csv}");
    assert_eq!(csv.lines().count(), 4);
}

#[test]
fn a_failed_import_changes_nothing() {
    let rampart = Rampart::new();
    let good = rampart.write("good.txt", "198.51.100.200\n");
    rampart.ok(&["intel", "import", &good, "--source", "s"]);
    let broken = rampart.write(
        "broken.json",
        "{\"type\": \"bundle\", \"objects\": [ {\"type\": \"indicator\",",
    );
    let output = rampart.run(&[
        "intel", "import", &broken, "--source", "s", "--format", "stix",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.json") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    let found = json(&rampart.ok(&["--json", "intel", "search"]));
    assert_eq!(found.as_array().unwrap().len(), 1);
}

#[test]
fn feeds_and_assets_from_the_cli() {
    let rampart = Rampart::new();
    let list = rampart.write("feed.txt", "198.51.100.1\n198.51.100.2\n");
    rampart.ok(&[
        "feeds",
        "add",
        "local",
        "--format",
        "text",
        "--url",
        &list,
        "--full-list",
        "--reliability",
        "C",
    ]);
    let pulled = rampart.ok(&["feeds", "pull", "local"]);
    assert!(pulled.contains("2 new"), "{pulled}");
    std::fs::write(&list, "198.51.100.2\n").unwrap();
    let pulled = rampart.ok(&["feeds", "pull", "local"]);
    assert!(pulled.contains("1 withdrawn"), "{pulled}");
    let status = json(&rampart.ok(&["--json", "feeds", "status"]));
    let local = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["info"]["name"] == "local")
        .unwrap();
    assert_eq!(local["active_statements"], 1);
    assert_eq!(local["consecutive_failures"], 0);
    // The embedded defaults list the public feeds, disabled.
    let urlhaus = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["info"]["name"] == "urlhaus")
        .unwrap();
    assert_eq!(urlhaus["settings"]["enabled"], false);

    let assets = rampart.write(
        "assets.csv",
        "name,kind,owner,criticality,tags,networks,hostnames,domains\nmx,server,it,5,mail,192.0.2.25,mx.corp.example,corp.example\nbad,server,it,7,,,,\n",
    );
    let output = rampart.run(&["assets", "import", &assets]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a rejected row is reported with a non-zero exit"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("line 3"));
    let listed = json(&rampart.ok(&["--json", "assets", "list"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["criticality"], 5);
}

#[test]
#[allow(clippy::disallowed_methods)] // a synchronous test polling a child process
fn serve_runs_the_feed_scheduler_until_terminated() {
    let rampart = Rampart::new();
    let feed = rampart.write("feed.txt", "198.51.100.9\nbad-actor.example.net\n");
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{dir}\"\n\n[[sources]]\nname = \"local\"\nformat = \"text\"\nurl = \"{feed}\"\ninterval = \"1h\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n",
            dir = rampart.dir.path().join("data").display()
        ),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["--config", &config, "serve"])
        .current_dir(rampart.dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let store = format!(
        "sqlite://{}",
        rampart.dir.path().join("data/rampart.db").display()
    );
    let mut pulled = false;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let output = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args([
                "--config", &config, "--store", &store, "--json", "feeds", "status",
            ])
            .output()
            .unwrap();
        if !output.status.success() {
            continue;
        }
        let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
        if status.as_array().is_some_and(|all| {
            all.iter()
                .any(|s| s["info"]["name"] == "local" && s["active_statements"] == 2)
        }) {
            pulled = true;
            break;
        }
    }
    // SIGTERM: serve must stop cleanly.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().unwrap();
    assert!(pulled, "serve did not pull the configured feed");
    assert!(exit.success(), "serve exited with {exit:?}");
}

/// Every kind, for round trips.
const ALL_KINDS: &str = "198.51.100.23\n2001:db8:77::1\n198.51.100.0/25\n2001:db8:99::/48\nbad-login.example.org\nhttps://bad-login.example.org/a?b=c\nphisher@bad-login.example.org\nd41d8cd98f00b204e9800998ecf8427f\nda39a3ee5e6b4b0d3255bfef95601890afd80709\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff\n";

fn exported_values(rampart: &Rampart) -> Vec<String> {
    let mut values: Vec<String> = rampart
        .ok(&["intel", "export", "--format", "text"])
        .lines()
        .map(str::to_owned)
        .collect();
    values.sort();
    values
}

#[test]
fn stix_and_misp_round_trips_keep_every_indicator() {
    let origin = Rampart::new();
    let list = origin.write("all.txt", ALL_KINDS);
    origin.ok(&[
        "intel",
        "import",
        &list,
        "--source",
        "seed",
        "--reliability",
        "B",
    ]);
    let expected = exported_values(&origin);
    assert_eq!(expected.len(), 11);
    for format in ["stix", "misp"] {
        let file = origin.dir.path().join(format!("out.{format}.json"));
        origin.ok(&[
            "intel",
            "export",
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ]);
        let copy = Rampart::new();
        let report = json(&copy.ok(&[
            "--json",
            "intel",
            "import",
            file.to_str().unwrap(),
            "--source",
            "copy",
        ]));
        assert_eq!(report["rejected"], 0, "{format}: {report}");
        assert_eq!(exported_values(&copy), expected, "{format} round trip");
    }
}

#[test]
fn corpus_documents_import_end_to_end() {
    let Some(corpus) = rampart_testkit::corpus("corpus_documents_import_end_to_end") else {
        return;
    };
    let rampart = Rampart::new();
    let stix = corpus.join("stix/cti-stix2-json-schemas/examples/threat-reports/poisonivy.json");
    let report = json(&rampart.ok(&[
        "--json",
        "intel",
        "import",
        stix.to_str().unwrap(),
        "--source",
        "oasis",
    ]));
    // 42 distinct values (64 statements) and one rejected value, as checked independently
    // in the intel corpus tests.
    assert_eq!(report["summary"]["new"], 42);
    assert_eq!(report["observations"], 64);
    assert_eq!(report["rejected"], 1);
    let misp = corpus.join("misp/events/misp-core/event.json");
    let report = json(&rampart.ok(&[
        "--json",
        "intel",
        "import",
        misp.to_str().unwrap(),
        "--source",
        "regin",
    ]));
    assert_eq!(
        report["observations"], 27,
        "the Regin event carries 27 MD5 hashes"
    );
    let drop = corpus.join("feeds/spamhaus/drop.txt");
    rampart.ok(&[
        "intel",
        "import",
        drop.to_str().unwrap(),
        "--format",
        "spamhaus-drop",
        "--source",
        "drop",
    ]);
    let shown = rampart.ok(&["intel", "show", "1.4.0.0/17"]);
    assert!(
        shown.contains("drop") && shown.contains("why this score"),
        "{shown}"
    );
}

#[test]
fn warninglists_from_the_configuration_suppress_known_benign_values() {
    let Some(corpus) =
        rampart_testkit::corpus("warninglists_from_the_configuration_suppress_known_benign_values")
    else {
        return;
    };
    let rampart = Rampart::new();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\nwarninglists = \"{}\"\n",
            rampart.dir.path().join("data").display(),
            corpus.join("misp/warninglists/lists").display()
        ),
    );
    let list = rampart.write("list.txt", "8.8.8.8\nqzv-rampart-unlisted.net\n");
    let report = json(&rampart.ok(&[
        "--config", &config, "--json", "intel", "import", &list, "--source", "mixed",
    ]));
    assert_eq!(report["suppressed"], 1);
    let shown = json(&rampart.ok(&["--config", &config, "--json", "intel", "show", "8.8.8.8"]));
    let reason = shown["indicator"]["suppressed"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        reason.starts_with("warninglist: ") && reason.contains("DNS"),
        "{reason}"
    );
    let exported = rampart.ok(&["--config", &config, "intel", "export", "--format", "text"]);
    assert_eq!(exported.trim(), "qzv-rampart-unlisted.net");
}

#[test]
fn presets_give_feeds_their_defaults() {
    let rampart = Rampart::new();
    rampart.ok(&[
        "feeds",
        "add",
        "drop",
        "--format",
        "spamhaus-drop",
        "--disabled",
    ]);
    let listed = json(&rampart.ok(&["--json", "feeds", "list"]));
    let drop = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["info"]["name"] == "drop")
        .unwrap();
    assert_eq!(
        drop["settings"]["url"],
        "https://www.spamhaus.org/drop/drop.txt"
    );
    assert_eq!(drop["info"]["reliability"], "A");
    assert_eq!(drop["info"]["full_list"], true);
    let output = rampart.run(&["feeds", "add", "x", "--format", "csv"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--url is needed"));
}

#[test]
#[allow(clippy::disallowed_methods)] // a synchronous test timing a child process
fn a_killed_import_leaves_the_store_as_it_was() {
    let rampart = Rampart::new();
    let seed = rampart.write("seed.txt", "198.51.100.200\n");
    rampart.ok(&["intel", "import", &seed, "--source", "s"]);
    // Large enough that the import is still running when it is killed.
    let big: String = (0..1_000_000u32)
        .map(|n| format!("11.{}.{}.{}\n", n >> 16, (n >> 8) & 255, n & 255))
        .collect();
    let big = rampart.write("big.txt", &big);
    let store = format!(
        "sqlite://{}",
        rampart.dir.path().join("rampart.db").display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["--store", &store, "intel", "import", &big, "--source", "s"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import finished before it could be killed: {status:?}"
    );
    let found = json(&rampart.ok(&["--json", "intel", "search", "--limit", "10"]));
    let values: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["indicator"]["indicator"]["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["198.51.100.200"]);
}

/// `rampart intel search --json | head -c 100`: the reader goes away mid-output; the binary
/// stops with the SIGPIPE status instead of panicking.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::Read as _;
    let rampart = Rampart::new();
    // Enough output to fill the pipe, so that the write after the close must fail.
    let list: String = (0..3000).map(|n| format!("host-{n}.example\n")).collect();
    let list = rampart.write("many.txt", &list);
    rampart.ok(&["intel", "import", &list, "--source", "many"]);
    let mut child = rampart
        .command(&["--json", "intel", "search", "--limit", "3000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut start = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut start).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(141), "{stderr}");
}
