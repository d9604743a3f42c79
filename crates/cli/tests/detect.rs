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
