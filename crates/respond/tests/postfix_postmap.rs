//! The Postfix tables as Postfix reads them: `postmap` builds the access table and looks keys
//! up in it, and looks header lines, body lines and client addresses up in the regexp, pcre and
//! cidr tables — which proves every line parses and every regex compiles, and that escaping
//! works (`evil.example` must not match `evilXexample`). Any warning fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{hostile_items, mixed_items, render, run, text, tool, write};
use rampart_respond::blocklist::{Format, RenderOptions};

struct Postmap {
    program: PathBuf,
    config: tempfile::TempDir,
}

impl Postmap {
    fn find(test: &str) -> Option<Postmap> {
        let Some(program) = tool("postmap") else {
            rampart_testkit::skip_service(test, "postmap", "install postfix");
            return None;
        };
        // postmap reads main.cf from the -c directory; an empty one gives the defaults.
        let config = tempfile::tempdir().unwrap();
        std::fs::write(config.path().join("main.cf"), "").unwrap();
        Some(Postmap { program, config })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.arg("-c").arg(self.config.path());
        command
    }

    fn map_types(&self) -> String {
        let postconf = self.program.with_file_name("postconf");
        let output = run(Command::new(postconf)
            .arg("-c")
            .arg(self.config.path())
            .arg("-m"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn build(&self, map: &str) {
        let output = run(self.command().arg(map));
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "postmap {map}: {}",
            text(&output)
        );
    }

    /// The action the table gives `key`, or `None` when no entry matches.
    fn query(&self, map: &str, key: &str) -> Option<String> {
        let output = run(self.command().arg("-q").arg(key).arg(map));
        assert!(
            output.stderr.is_empty(),
            "postmap -q {key:?} {map}: {}",
            text(&output)
        );
        match output.status.code() {
            Some(0) => Some(
                String::from_utf8_lossy(&output.stdout)
                    .trim_end()
                    .to_owned(),
            ),
            Some(1) => None,
            _ => panic!("postmap -q {key:?} {map}: {}", text(&output)),
        }
    }
}

fn map(kind: &str, path: &Path) -> String {
    format!("{kind}:{}", path.display())
}

const REJECT: &str = "REJECT Blocked by local policy";

fn items() -> Vec<rampart_respond::blocklist::ListItem> {
    let mut items = mixed_items();
    items.extend(hostile_items());
    items
}

#[test]
fn postmap_builds_and_queries_the_access_table() {
    let Some(postmap) = Postmap::find("postmap_builds_and_queries_the_access_table") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let rendered = render(
        Format::PostfixAccess,
        "spam",
        &RenderOptions::default(),
        &items(),
    );
    // The /48 (an access table cannot match IPv6 networks) and the five hostile values of
    // taken kinds are rejected.
    assert_eq!(rendered.rejected.len(), 1 + 5, "{:?}", rendered.rejected);
    let path = write(directory.path(), "spam.access", &rendered.body);
    let types = postmap.map_types();
    let kinds: Vec<&str> = ["hash", "lmdb"]
        .into_iter()
        .filter(|kind| types.lines().any(|line| line == *kind))
        .collect();
    assert!(kinds.contains(&"hash"), "{types}");
    for kind in kinds {
        let table = map(kind, &path);
        postmap.build(&table);
        for key in [
            "evil.example",
            ".evil.example",
            "c2.bad-actor.example",
            "_dmarc.spoof.example",
            "bob@spam.example",
            "o'brien+tag/x@mail.spam.example",
            "198.51.100.7",
            "2001:db8::7",
            "2001:db8::1:0:0:1",
            "10.20",
            "203.0.113",
        ] {
            assert_eq!(
                postmap.query(&table, key).as_deref(),
                Some(REJECT),
                "{table} {key}\n{}",
                rendered.body
            );
        }
        for key in [
            "notevil.example",
            "evil.example;reboot",
            "203.0.114",
            "192.0.2.1",
            "alice@spam.example",
        ] {
            assert_eq!(postmap.query(&table, key), None, "{table} {key}");
        }
    }
}

#[test]
fn postmap_queries_the_cidr_table() {
    let Some(postmap) = Postmap::find("postmap_queries_the_cidr_table") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let rendered = render(
        Format::PostfixCidr,
        "spam",
        &RenderOptions::default(),
        &items(),
    );
    assert_eq!(rendered.rejected.len(), 2);
    let table = map(
        "cidr",
        &write(directory.path(), "spam.cidr", &rendered.body),
    );
    for address in [
        "198.51.100.7",
        "203.0.113.9",
        "10.20.5.5",
        "2001:db8::7",
        "2001:db8:abcd::99",
        "2001:db8::1:0:0:1",
    ] {
        assert_eq!(
            postmap.query(&table, address).as_deref(),
            Some(REJECT),
            "{address}\n{}",
            rendered.body
        );
    }
    for address in ["192.0.2.201", "10.21.0.1", "2001:db8:abce::1"] {
        assert_eq!(postmap.query(&table, address), None, "{address}");
    }
}

fn regexp_kinds(postmap: &Postmap) -> Vec<&'static str> {
    let types = postmap.map_types();
    let mut kinds = vec!["regexp"];
    if types.lines().any(|line| line == "pcre") {
        kinds.push("pcre");
    } else if rampart_testkit::services_required() {
        panic!("postfix-pcre is not installed: {types}");
    }
    kinds
}

#[test]
fn postmap_matches_header_lines_against_the_header_checks() {
    let Some(postmap) = Postmap::find("postmap_matches_header_lines_against_the_header_checks")
    else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let rendered = render(
        Format::PostfixHeaderChecks,
        "spam",
        &RenderOptions::default(),
        &items(),
    );
    assert_eq!(rendered.rejected.len(), 3, "{:?}", rendered.rejected);
    let path = write(directory.path(), "spam.header_checks", &rendered.body);
    for kind in regexp_kinds(&postmap) {
        let table = map(kind, &path);
        for line in [
            "From: Evil Sender <x@evil.example>",
            "Reply-To: x@sub.evil.example",
            "Return-Path: <bounce@c2.bad-actor.example>",
            "Sender: bob@spam.example",
            "From: \"Bob\" <bob@spam.example>, other@else.example",
            "from: <o'brien+tag/x@mail.spam.example>",
            "From: someone@_dmarc.spoof.example",
        ] {
            assert_eq!(
                postmap.query(&table, line).as_deref(),
                Some(REJECT),
                "{kind}: {line}\n{}",
                rendered.body
            );
        }
        for line in [
            "From: x@evilXexample",
            "From: x@notevil.example",
            "From: x@evil.example.com",
            "Subject: mail from x@evil.example",
            "From: jbob@spam.example",
            "From: o'brienXtag/x@mail.spam.example",
            "From: o'brien+tagXx@mail.spam.example",
        ] {
            assert_eq!(postmap.query(&table, line), None, "{kind}: {line}");
        }
    }
}

#[test]
fn postmap_matches_body_lines_against_the_body_checks() {
    let Some(postmap) = Postmap::find("postmap_matches_body_lines_against_the_body_checks") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let rendered = render(
        Format::PostfixBodyChecks,
        "spam",
        &RenderOptions::default(),
        &items(),
    );
    assert_eq!(rendered.rejected.len(), 3, "{:?}", rendered.rejected);
    let path = write(directory.path(), "spam.body_checks", &rendered.body);
    for kind in regexp_kinds(&postmap) {
        let table = map(kind, &path);
        for line in [
            "visit evil.example now",
            "visit www.EVIL.example.",
            "evil.example",
            "<a href=\"https://c2.bad-actor.example/x\">",
            "click http://phish.example/login.php?user=a;b|c now",
            "see http://root.example",
            "see <http://root.example/>",
            "https://drop.example:8443/p/a+b(1)",
            "http://198.51.100.9/gate.php",
        ] {
            assert_eq!(
                postmap.query(&table, line).as_deref(),
                Some(REJECT),
                "{kind}: {line}\n{}",
                rendered.body
            );
        }
        for line in [
            "visit evil.example.com",
            "visit notevil.example",
            "evilXexample",
            "http://phish.example/login.phpXuser=a;b|c",
            "see http://root.example/other",
            "https://drop.example:8443/p/aab(1)",
            "http://198.51.100.9/gateXphp",
        ] {
            assert_eq!(postmap.query(&table, line), None, "{kind}: {line}");
        }
    }
}
