//! The real `rampart` binary, detection side: rule packs, hunting, streaming detection.

mod support;

use support::{Rampart, json};

fn rule(id: &str, title: &str, level: &str, image: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nstatus: test\nlevel: {level}\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  selection:\n    Image|endswith: '{image}'\n  condition: selection\n"
    )
}

#[test]
fn rule_pack_overrides_survive_an_update() {
    let rampart = Rampart::new();
    let rules = rampart.dir.path().join("pack");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("a.yml"),
        rule(
            "11111111-1111-4111-8111-111111111111",
            "Rule A",
            "high",
            "\\a.exe",
        ),
    )
    .unwrap();
    std::fs::write(
        rules.join("b.yml"),
        rule(
            "22222222-2222-4222-8222-222222222222",
            "Rule B",
            "low",
            "\\b.exe",
        ),
    )
    .unwrap();
    let config = rampart.write(
        "rampart.toml",
        &format!(
            "data_dir = \"{}\"\n[detect]\nrule_packs = [{{ name = \"local\", path = \"{}\" }}]\n",
            rampart.dir.path().join("data").display(),
            rules.display()
        ),
    );
    let first = rampart.ok(&["--config", &config, "rules", "update"]);
    assert!(
        first.contains("local: 2 added, 0 removed, 0 modified, 0 unchanged"),
        "{first}"
    );
    rampart.ok(&[
        "--config",
        &config,
        "rules",
        "disable",
        "22222222-2222-4222-8222-222222222222",
    ]);
    rampart.ok(&[
        "--config",
        &config,
        "rules",
        "level",
        "11111111-1111-4111-8111-111111111111",
        "critical",
    ]);
    let unknown = rampart.run(&["--config", &config, "rules", "disable", "no-such-rule"]);
    assert!(!unknown.status.success());

    // Upstream changes rule A's title and adds C.
    std::fs::write(
        rules.join("a.yml"),
        rule(
            "11111111-1111-4111-8111-111111111111",
            "Rule A v2",
            "high",
            "\\a.exe",
        ),
    )
    .unwrap();
    std::fs::write(
        rules.join("c.yml"),
        rule(
            "33333333-3333-4333-8333-333333333333",
            "Rule C",
            "medium",
            "\\c.exe",
        ),
    )
    .unwrap();
    let second = rampart.ok(&["--config", &config, "rules", "update"]);
    assert!(
        second.contains("local: 1 added, 0 removed, 1 modified, 1 unchanged"),
        "{second}"
    );
    assert!(
        second.contains("~ 11111111-1111-4111-8111-111111111111  Rule A v2 (was Rule A)"),
        "{second}"
    );
    let listed = rampart.ok(&["--config", &config, "rules", "list", "--overridden"]);
    assert!(listed.contains("critical (was high)"), "{listed}");
    assert!(
        listed.contains("22222222-2222-4222-8222-222222222222"),
        "{listed}"
    );
    assert!(!listed.contains("33333333"), "{listed}");
    let state = json(&rampart.ok(&["--config", &config, "--json", "rules", "list"]));
    assert_eq!(
        state["overrides"]["22222222-2222-4222-8222-222222222222"]["enabled"],
        false
    );
    assert_eq!(
        state["packs"]["local"]["rules"]
            .as_object()
            .map(|r| r.len()),
        Some(3)
    );
}

/// Waits (up to 30 s) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if check() {
            return;
        }
        let (_sender, wait) = std::sync::mpsc::channel::<()>();
        let _ = wait.recv_timeout(std::time::Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn serve_matches_syslog_live_and_retro_hunts_new_intel() {
    let rampart = Rampart::new();
    let data = rampart.dir.path().join("data");
    let alerts_file = data.join("alerts.jsonl");
    let config = rampart.write(
        "rampart.toml",
        &format!(
            r#"data_dir = "{data}"
[detect]
retro_hunt_interval = "200ms"
alerts = {{ path = "{alerts}" }}
inputs = [{{ kind = "syslog-udp", listen = "127.0.0.1:0" }}, {{ kind = "syslog-tcp", listen = "127.0.0.1:0" }}]
[detect.archive]
dir = "{data}/archive"
retention = "7d"
[server]
listen = "127.0.0.1:0"
"#,
            data = data.display(),
            alerts = alerts_file.display()
        ),
    );
    let known = rampart.write("known.txt", "203.0.113.66\n");
    rampart.ok(&[
        "intel",
        "import",
        &known,
        "--source",
        "seed",
        "--reliability",
        "A",
        "--confidence",
        "90",
    ]);

    let mut serve = rampart.serve(&config);
    let mut udp = None;
    let mut tcp = None;
    let mut seen = Vec::new();
    while udp.is_none() || tcp.is_none() {
        let line = serve
            .lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve did not report its listeners: {seen:?}"));
        if let Some(address) = line.strip_prefix("rampart serve: listening on syslog+udp://") {
            udp = Some(address.to_owned());
        }
        if let Some(address) = line.strip_prefix("rampart serve: listening on syslog+tcp://") {
            tcp = Some(address.to_owned());
        }
        seen.push(line);
    }
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = udp.unwrap();
    // A known attacker (live match), an address nobody knows yet, and garbage.
    socket
        .send_to(b"<38>Nov 27 10:00:01 gw sshd[811]: Failed password for root from 203.0.113.66 port 4242 ssh2", &udp)
        .unwrap();
    socket
        .send_to(b"<38>Nov 27 10:00:02 gw sshd[812]: Failed password for admin from 198.51.100.77 port 5151 ssh2", &udp)
        .unwrap();
    socket.send_to(&[0xff, 0x00, 0xfe, 0x1b], &udp).unwrap();
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(tcp.unwrap()).unwrap();
        stream
            .write_all(b"<38>Nov 27 10:00:03 gw sshd[813]: Invalid user oracle from 203.0.113.66 port 6000\n")
            .unwrap();
    }
    let read_alerts = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&alerts_file)
            .unwrap_or_default()
            .lines()
            .map(json)
            .collect()
    };
    eventually("the live alert", || {
        read_alerts()
            .iter()
            .any(|a| a["detection"]["value"] == "203.0.113.66" && a["retro"] == false)
    });
    // Intel arrives after the event: the retro-hunt finds the earlier sighting.
    let late = rampart.write("late.txt", "198.51.100.77\n");
    rampart.ok(&[
        "intel",
        "import",
        &late,
        "--source",
        "seed",
        "--reliability",
        "A",
        "--confidence",
        "90",
    ]);
    eventually("the retro-hunt alert", || {
        read_alerts()
            .iter()
            .any(|a| a["detection"]["value"] == "198.51.100.77" && a["retro"] == true)
    });
    let status_file = data.join("detect-status.json");
    let mut last_status = String::new();
    eventually("garbage counted as an error", || {
        last_status = std::fs::read_to_string(&status_file).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&last_status).is_ok_and(|status| {
            status["stream"]["received"] == 3
                && status["stream"]["decode_errors"] == 1
                && status["stream"]["alerts_repeated"] == 1
        })
    });
    // Both indicators change (a second source lists them): they are swept again, but the
    // sightings already alerted to, live or retro, raise nothing new.
    let both = rampart.write("both.txt", "203.0.113.66\n198.51.100.77\n");
    rampart.ok(&[
        "intel",
        "import",
        &both,
        "--source",
        "second",
        "--reliability",
        "B",
    ]);
    eventually("a sweep that finds only known sightings", || {
        last_status = std::fs::read_to_string(&status_file).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&last_status)
            .is_ok_and(|status| status["stream"]["retro_known"].as_u64() >= Some(2))
    });
    let status: serde_json::Value = json(&last_status);
    assert_eq!(status["stream"]["retro_alerts"], 1, "{last_status}");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &serve.child.id().to_string()])
        .status();
    assert!(serve.child.wait().unwrap().success());
    assert_eq!(
        read_alerts().iter().filter(|a| a["retro"] == true).count(),
        1,
        "no second retro alert"
    );

    // The store holds the alerts too; the same address over UDP and TCP is one alert, seen twice.
    let stored = json(&rampart.ok(&["--config", &config, "--json", "alerts"]));
    let stored = stored.as_array().unwrap();
    let live: Vec<&serde_json::Value> = stored
        .iter()
        .filter(|s| s["alert"]["detection"]["value"] == "203.0.113.66")
        .collect();
    assert_eq!(live.len(), 1, "one alert per matched value: {stored:?}");
    assert_eq!(live[0]["alert"]["count"], 2);
    let retro = json(&rampart.ok(&["--config", &config, "--json", "alerts", "--retro"]));
    assert_eq!(retro.as_array().map(Vec::len), Some(1));
    assert_eq!(
        retro[0]["alert"]["event"]["source"],
        format!("syslog+udp://{udp}")
    );
}

#[test]
fn hunt_finds_each_regression_rule_in_its_evtx_and_intel_in_zeek_logs() {
    let Some(corpus) = rampart_testkit::corpus("hunt_regression_evtx") else {
        return;
    };
    let rampart = Rampart::new();
    // The 19 regression EVTX files, each named after the rule it must trigger.
    let evtx_dir = rampart.dir.path().join("evtx");
    std::fs::create_dir_all(&evtx_dir).unwrap();
    let mut expected = Vec::new();
    let mut stack = vec![corpus.join("sigma/regression_data")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "evtx") {
                let name = path.file_name().unwrap();
                std::fs::copy(&path, evtx_dir.join(name)).unwrap();
                expected.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    assert_eq!(expected.len(), 19);
    let rules: Vec<String> = ["rules", "rules-threat-hunting", "rules-emerging-threats"]
        .iter()
        .map(|folder| corpus.join("sigma").join(folder).display().to_string())
        .collect();
    let mut args = vec!["--json", "hunt"];
    for folder in &rules {
        args.extend(["--sigma", folder.as_str()]);
    }
    let evtx = evtx_dir.display().to_string();
    args.push(&evtx);
    let report = json(&rampart.ok(&args));
    assert_eq!(report["summary"]["decode_errors"], 0);
    let alerts = report["alerts"].as_array().unwrap();
    for rule_id in &expected {
        let file = format!("{rule_id}.evtx");
        assert!(
            alerts
                .iter()
                .any(|a| a["detection"]["rule_id"] == rule_id.as_str()
                    && a["event"]["source"]
                        .as_str()
                        .is_some_and(|s| s.ends_with(&file))),
            "rule {rule_id} did not fire on {file}"
        );
    }
    let summary_ids: Vec<&str> = report["summary"]["by_detection"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|line| line["id"].as_str())
        .collect();
    assert!(expected.iter().all(|id| summary_ids.contains(&id.as_str())));

    // Intel: a CIDR covering the attacker's host in the LSASS campaign's Zeek logs. 31 log
    // lines there carry 10.0.5.13 as a whole field (counted with awk), and each is one event.
    let zeek = corpus.join(
        "logs/security-datasets/compound/LSASS_campaign_01/metasploit_logonpasswords_lsass_memory_dump_zeek_logs",
    );
    let list = rampart.write("attacker.txt", "10.0.5.0/24\n");
    rampart.ok(&[
        "intel",
        "import",
        &list,
        "--source",
        "seed",
        "--reliability",
        "A",
        "--confidence",
        "90",
    ]);
    let report = json(&rampart.ok(&["--json", "hunt", "--intel", zeek.to_str().unwrap()]));
    assert_eq!(report["summary"]["events"], 261);
    let alerts = report["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty());
    assert!(
        alerts
            .iter()
            .all(|a| a["detection"]["value"] == "10.0.5.0/24")
    );
    let events: u64 = alerts.iter().map(|a| a["count"].as_u64().unwrap()).sum();
    assert_eq!(events, 31);
}
