//! Fixtures and tool lookup shared by the integration tests that check rendered lists with the
//! programs that read them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rampart_model::{Indicator, IndicatorKind, Timestamp};
use rampart_respond::blocklist::{self, Format, ListItem, ListMeta, RenderOptions, Rendered};

pub fn item(key: u64, kind: IndicatorKind, value: &str, comment: &str) -> ListItem {
    ListItem {
        key,
        indicator: Indicator::from_canonical(kind, value.to_owned()),
        comment: comment.to_owned(),
    }
}

pub fn meta(name: &str, serial: u64) -> ListMeta {
    let generated: Timestamp = "2026-03-04T05:06:07Z".parse().unwrap();
    ListMeta::new(name, serial, generated)
}

/// A list with every kind, IPv6 edge cases, subdomain-bearing domains, URLs with characters
/// rule and regex syntaxes give a meaning to, and comments written to break things.
pub fn mixed_items() -> Vec<ListItem> {
    let hostile = "reason\n; INJECTED \"q\" ; sid:1;) } #\t\\ |x| $y";
    let rows: &[(IndicatorKind, &str, &str)] = &[
        (IndicatorKind::Ipv4, "198.51.100.7", "scanner"),
        (IndicatorKind::Ipv4, "192.0.2.200", hostile),
        (IndicatorKind::Ipv6, "2001:db8::7", "v6 host"),
        (
            IndicatorKind::Ipv6,
            "2001:db8:0:1:1:1:1:1",
            "single zero word",
        ),
        (
            IndicatorKind::Ipv6,
            "2001:db8:0:0:1:0:0:1",
            "two equal zero runs",
        ),
        (IndicatorKind::Ipv6, "::ffff:192.0.2.33", "v4-mapped"),
        (IndicatorKind::Cidr, "203.0.113.0/24", "bad network"),
        (IndicatorKind::Cidr, "10.20.0.0/16", ""),
        (IndicatorKind::Cidr, "2001:db8:abcd::/48", "v6 network"),
        (IndicatorKind::Domain, "evil.example", hostile),
        (IndicatorKind::Domain, "c2.bad-actor.example", "beacon"),
        (
            IndicatorKind::Domain,
            "_dmarc.spoof.example",
            "underscore label",
        ),
        (IndicatorKind::Domain, "xn--bcher-kva.example", "punycode"),
        (
            IndicatorKind::Url,
            "http://phish.example/login.php?user=a;b|c",
            "url with ; and |",
        ),
        (IndicatorKind::Url, "https://drop.example:8443/p/a+b(1)", ""),
        (
            IndicatorKind::Url,
            "http://198.51.100.9/gate.php",
            "ip host",
        ),
        (IndicatorKind::Url, "http://root.example/", "root url"),
        (IndicatorKind::Email, "bob@spam.example", hostile),
        (
            IndicatorKind::Email,
            "o'brien+tag/x@mail.spam.example",
            "odd local part",
        ),
        (IndicatorKind::Md5, "d41d8cd98f00b204e9800998ecf8427e", ""),
        (
            IndicatorKind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "",
        ),
    ];
    rows.iter()
        .enumerate()
        .map(|(index, (kind, value, comment))| item(index as u64 * 3 + 1, *kind, value, comment))
        .collect()
}

/// Values that must be rejected.
pub fn hostile_items() -> Vec<ListItem> {
    vec![
        item(
            900,
            IndicatorKind::Domain,
            "evil.example\nINJECTED CNAME .",
            "",
        ),
        item(901, IndicatorKind::Domain, "evil.example;reboot", ""),
        item(902, IndicatorKind::Ipv4, "192.0.2.1 }", ""),
        item(
            903,
            IndicatorKind::Url,
            "http://phish.example/\"; sid:1;",
            "",
        ),
        item(904, IndicatorKind::Email, "a b@spam.example", ""),
        item(905, IndicatorKind::Cidr, "10.0.0.0/8\nflush ruleset", ""),
    ]
}

pub fn render(format: Format, name: &str, options: &RenderOptions, items: &[ListItem]) -> Rendered {
    blocklist::render(format, &meta(name, 7), options, items).unwrap()
}

/// The program `name` on PATH or in the sbin directories, if installed.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|directory| directory.join(name))
        .find(|candidate| candidate.is_file())
}

/// Runs a command and returns its output, failing the test if it cannot start.
pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"))
}

pub fn text(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn write(directory: &Path, name: &str, body: &str) -> PathBuf {
    let path = directory.join(name);
    blocklist::publish::write_atomically(&path, body.as_bytes()).unwrap();
    path
}

/// Whether this process may create a network namespace (`unshare -n`), where nft and ipset
/// can load sets without touching the host's.
pub fn can_unshare_network() -> bool {
    tool("unshare").is_some_and(|unshare| {
        Command::new(unshare)
            .args(["-n", "true"])
            .status()
            .is_ok_and(|status| status.success())
    })
}
