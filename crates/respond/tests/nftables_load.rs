//! The nftables script as `nft` reads it: `nft -c -f` must accept it, and loaded for real in a
//! private network namespace it must fill the sets — and loading a newer version must replace
//! the elements, not add to them.

mod common;

use std::process::Command;

use common::{
    can_unshare_network, hostile_items, item, mixed_items, render, run, text, tool, write,
};
use rampart_model::IndicatorKind;
use rampart_respond::blocklist::{Format, RenderOptions};

#[test]
fn nft_checks_the_script() {
    let Some(nft) = tool("nft") else {
        rampart_testkit::skip_service("nft_checks_the_script", "nft", "install nftables");
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let mut items = mixed_items();
    items.extend(hostile_items());
    let rendered = render(
        Format::Nftables,
        "c2-servers",
        &RenderOptions::default(),
        &items,
    );
    assert_eq!(rendered.rejected.len(), 2, "{:?}", rendered.rejected);
    for (name, body) in [
        ("full.nft", rendered.body.clone()),
        (
            "empty.nft",
            render(
                Format::Nftables,
                "c2-servers",
                &RenderOptions::default(),
                &[],
            )
            .body,
        ),
    ] {
        let path = write(directory.path(), name, &body);
        let output = run(Command::new(&nft).arg("-c").arg("-f").arg(&path));
        assert!(output.status.success(), "{name}: {}\n{body}", text(&output));
    }
}

#[test]
fn loading_again_replaces_the_elements() {
    if tool("nft").is_none() || !can_unshare_network() {
        rampart_testkit::skip_service(
            "loading_again_replaces_the_elements",
            "nft in a network namespace",
            "needs nftables and permission to run `unshare -n` (root)",
        );
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let options = RenderOptions::default();
    let first = render(Format::Nftables, "c2", &options, &mixed_items());
    let second = render(
        Format::Nftables,
        "c2",
        &options,
        &[
            item(1, IndicatorKind::Ipv4, "192.0.2.77", ""),
            item(2, IndicatorKind::Cidr, "2001:db8:77::/48", ""),
        ],
    );
    let first_path = write(directory.path(), "first.nft", &first.body);
    let second_path = write(directory.path(), "second.nft", &second.body);
    // Everything in one namespace: load, list, load the newer list, list.
    let script = format!(
        "set -e; nft -f {first}; nft list set inet rampart c2_v4; nft list set inet rampart c2_v6; \
         echo ===; nft -f {second}; nft list set inet rampart c2_v4; nft list set inet rampart c2_v6",
        first = first_path.display(),
        second = second_path.display()
    );
    let output = run(Command::new("unshare").args(["-n", "sh", "-c", &script]));
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (before, after) = stdout.split_once("===").unwrap();
    for element in [
        "198.51.100.7",
        "203.0.113.0/24",
        "10.20.0.0/16",
        "2001:db8::7",
        "2001:db8:abcd::/48",
    ] {
        assert!(before.contains(element), "{element} missing:\n{before}");
    }
    assert!(
        after.contains("192.0.2.77") && after.contains("2001:db8:77::/48"),
        "{after}"
    );
    for element in ["198.51.100.7", "203.0.113.0/24", "2001:db8::7"] {
        assert!(
            !after.contains(element),
            "{element} survived the reload:\n{after}"
        );
    }
}
