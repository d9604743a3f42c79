//! The ipset restore file: parsed back it must hold exactly the honest networks, and where
//! `ipset` and a private network namespace are available, `ipset restore` must load it twice
//! (the second time swapping in the new content).

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{
    can_unshare_network, hostile_items, item, mixed_items, render, run, text, tool, write,
};
use rampart_model::IndicatorKind;
use rampart_respond::blocklist::{Format, RenderOptions};

#[test]
fn the_restore_file_holds_the_list_and_nothing_else() {
    let mut items = mixed_items();
    items.extend(hostile_items());
    let rendered = render(Format::Ipset, "c2", &RenderOptions::default(), &items);
    let mut added = BTreeSet::new();
    for line in rendered.body.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "create" => assert!(
                words[1].len() <= 31 && words.last() == Some(&"-exist"),
                "{line}"
            ),
            "add" => {
                assert_eq!(words.len(), 4, "{line}");
                assert!(words[1].ends_with("-n"));
                added.insert(words[2].to_owned());
            }
            "flush" | "swap" | "destroy" => {}
            other => panic!("unexpected command {other:?} in {line:?}"),
        }
    }
    let expected: BTreeSet<String> = [
        "198.51.100.7",
        "192.0.2.200",
        "2001:db8::7",
        "2001:db8:0:1:1:1:1:1",
        "2001:db8::1:0:0:1",
        "::ffff:192.0.2.33",
        "203.0.113.0/24",
        "10.20.0.0/16",
        "2001:db8:abcd::/48",
    ]
    .map(String::from)
    .into();
    assert_eq!(added, expected);
    assert_eq!(rendered.rejected.len(), 2);
}

#[test]
fn ipset_restores_and_swaps_the_sets() {
    if tool("ipset").is_none() || !can_unshare_network() {
        rampart_testkit::skip_service(
            "ipset_restores_and_swaps_the_sets",
            "ipset in a network namespace",
            "needs the ipset package and permission to run `unshare -n` (root)",
        );
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let options = RenderOptions::default();
    let first = write(
        directory.path(),
        "first.ipset",
        &render(Format::Ipset, "c2", &options, &mixed_items()).body,
    );
    let second = write(
        directory.path(),
        "second.ipset",
        &render(
            Format::Ipset,
            "c2",
            &options,
            &[item(1, IndicatorKind::Ipv4, "192.0.2.77", "")],
        )
        .body,
    );
    let script = format!(
        "set -e; ipset restore < {first}; ipset list rampart-c2-v4; ipset list rampart-c2-v6; echo ===; \
         ipset restore < {second}; ipset list rampart-c2-v4; ipset list rampart-c2-v6; ipset list -n",
        first = first.display(),
        second = second.display()
    );
    let output = run(Command::new("unshare").args(["-n", "sh", "-c", &script]));
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (before, after) = stdout.split_once("===").unwrap();
    assert!(
        before.contains("198.51.100.7") && before.contains("2001:db8:abcd::/48"),
        "{before}"
    );
    assert!(
        before.contains("Number of entries: 5") && before.contains("Number of entries: 4"),
        "{before}"
    );
    assert!(
        after.contains("192.0.2.77") && !after.contains("198.51.100.7"),
        "{after}"
    );
    // The temporary sets are gone.
    assert!(!after.contains("rampart-c2-v4-n"), "{after}");
}
