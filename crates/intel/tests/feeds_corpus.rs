//! Every preset over its real feed samples (`feeds/` in the corpus, taken from intelmq's parser
//! tests), and every feed file through the generic formats without a panic.
//!
//! Expected counts were computed independently of this crate, from the files themselves:
//! "data lines" are lines that are neither blank nor start with the feed's comment character
//! (minus a header line where the feed has one). Where a value needs checking, Python's
//! `ipaddress` module decided, with this one-off script (run in `feeds/`):
//!
//! ```text
//! python3 -c 'import ipaddress,glob
//! def ok(s):
//!     try: ipaddress.ip_address(s.strip()); return 1
//!     except ValueError: return 0
//! for f in sorted(glob.glob("dataplane/*.txt")+glob.glob("team-cymru/*.txt")):
//!     rows=[l for l in open(f).read().splitlines() if l.strip() and not l.startswith("#")]
//!     col=1 if "cymru" in f else (-4 if "proto41" in f else -3)
//!     print(f,len(rows),sum(len(r.split("|"))>abs(col)-(col<0) and ok(r.split("|")[col]) for r in rows))'
//! ```
//!
//! which printed 1 row / 1 address for every DataPlane file except `sshclient.txt` (3 rows, 2
//! addresses: its last row is cut short) and `sshpwauth.txt` (3 / 3, one AS name holds pipes),
//! and 35 / 35 and 9 / 9 for the two Team Cymru files.

use std::path::{Path, PathBuf};

use rampart_intel::formats::{self, CollectSink, FormatOptions};
use rampart_model::IndicatorKind;

fn corpus(test: &str) -> Option<PathBuf> {
    rampart_testkit::corpus(test).map(|root| root.join("feeds"))
}

fn parse_with(format: &str, options: &[(&str, &str)], path: &Path) -> CollectSink {
    let options: FormatOptions = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let format = formats::by_name(format, &options).unwrap_or_else(|err| panic!("{format}: {err}"));
    let file = std::fs::File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut sink = CollectSink::default();
    format
        .parse(&mut std::io::BufReader::new(file), &mut sink)
        .unwrap_or_else(|err| panic!("{} as {}: {err}", path.display(), format.name()));
    sink
}

fn preset(name: &str, path: &Path) -> CollectSink {
    parse_with(name, &[], path)
}

/// Asserts the counts, printing the rejections when they differ.
fn counts(sink: &CollectSink, observations: usize, rejections: usize, what: &str) {
    assert_eq!(
        (sink.observations.len(), sink.rejections.len()),
        (observations, rejections),
        "{what}: rejections {:?}",
        sink.rejections
    );
}

fn values(sink: &CollectSink) -> Vec<&str> {
    sink.observations
        .iter()
        .map(|o| o.indicator.value())
        .collect()
}

#[test]
fn feodotracker() {
    let Some(feeds) = corpus("feeds_feodotracker") else {
        return;
    };
    // 2 data lines after the quoted header line.
    let sink = preset(
        "feodotracker",
        &feeds.join("abusech-feodotracker/feodoips.txt"),
    );
    counts(&sink, 2, 0, "feodoips.txt");
    assert_eq!(values(&sink), ["10.213.75.205", "192.16.238.101"]);
    let first = &sink.observations[0];
    assert_eq!(first.threats, ["Dridex"]);
    assert_eq!(first.port, Some(443));
    assert_eq!(
        first.first_seen.map(|t| t.to_string()).as_deref(),
        Some("2021-01-17T07:30:05Z")
    );
    assert_eq!(first.labels, ["c2", "botnet"]);
    assert_eq!(first.reference, "line 10");
}

#[test]
fn urlhaus() {
    let Some(feeds) = corpus("feeds_urlhaus") else {
        return;
    };
    // 2 data lines; the header is the commented line `# Dateadded (UTC),URL,...`.
    let sink = preset("urlhaus", &feeds.join("abusech-urlhaus/urlhaus.txt"));
    counts(&sink, 2, 0, "urlhaus.txt");
    assert_eq!(
        values(&sink),
        [
            "http://marconuenlist.ch/verif.accounts.docs.net/",
            "http://cbd-planet.ch/sec.myacc.send.com/"
        ]
    );
    assert_eq!(
        sink.observations[0].labels,
        ["malware_download", "malware-distribution"]
    );
    assert_eq!(
        sink.observations[1]
            .first_seen
            .map(|t| t.to_string())
            .as_deref(),
        Some("2019-02-12T14:27:03Z")
    );
}

#[test]
fn openphish() {
    let Some(feeds) = corpus("feeds_openphish") else {
        return;
    };
    // 2 lines, both with an empty host label (`www..example.com`, anonymised by intelmq):
    // not valid host names, so both are rejected.
    let sink = preset("openphish", &feeds.join("openphish/feed.txt"));
    counts(&sink, 0, 2, "feed.txt");
    assert_eq!(sink.rejections[1].reference, "line 2");
    assert!(
        sink.rejections
            .iter()
            .all(|r| r.reason.ends_with("empty label")),
        "{:?}",
        sink.rejections
    );
    // 2 JSON lines, each with a `url`.
    let sink = preset(
        "openphish-commercial",
        &feeds.join("openphish/feed_commercial.txt"),
    );
    counts(&sink, 2, 0, "feed_commercial.txt");
    assert_eq!(
        sink.observations[0].indicator.value(),
        "http://example.com/glossy/zip/secure/d553c33636b465c21554b757e48bcf04/"
    );
    assert_eq!(
        sink.observations[1]
            .first_seen
            .map(|t| t.to_string())
            .as_deref(),
        Some("2018-02-06T15:13:22Z")
    );
}

#[test]
fn spamhaus() {
    let Some(feeds) = corpus("feeds_spamhaus") else {
        return;
    };
    // 2 lines not starting with `;`.
    let sink = preset("spamhaus-drop", &feeds.join("spamhaus/drop.txt"));
    counts(&sink, 2, 0, "drop.txt");
    assert_eq!(values(&sink), ["1.4.0.0/17", "2a06:e480::/29"]);
    assert!(
        sink.observations
            .iter()
            .all(|o| o.indicator.kind() == IndicatorKind::Cidr)
    );
    // 19 data lines, every first column an IP address (Python ipaddress).
    let sink = preset("spamhaus-cert", &feeds.join("spamhaus/cert.txt"));
    counts(&sink, 19, 0, "cert.txt");
    assert_eq!(sink.observations[1].threats, ["patcher"]);
    assert_eq!(
        sink.observations[0].last_seen.map(|t| t.as_second()),
        Some(1_441_008_970)
    );
}

#[test]
fn blocklistde() {
    let Some(feeds) = corpus("feeds_blocklistde") else {
        return;
    };
    let sink = preset("blocklistde", &feeds.join("blocklistde/imap.txt"));
    counts(&sink, 6, 0, "imap.txt");
    assert_eq!(sink.observations[5].indicator.value(), "203.0.113.254");
}

#[test]
fn dshield() {
    let Some(feeds) = corpus("feeds_dshield") else {
        return;
    };
    // 2 data lines after the `Start End Netblock ...` header; start + "/" + netblock.
    let sink = preset("dshield-block", &feeds.join("dshield/block.txt"));
    counts(&sink, 2, 0, "block.txt");
    assert_eq!(values(&sink), ["43.229.53.0/24", "194.63.140.0/24"]);
    // 2 data lines after the `Site` header.
    let sink = preset(
        "dshield-suspicious-domains",
        &feeds.join("dshield/suspiciousdomains_High.txt"),
    );
    counts(&sink, 2, 0, "suspiciousdomains_High.txt");
    assert_eq!(values(&sink), ["example.com", "example.org"]);
}

#[test]
fn dataplane() {
    let Some(feeds) = corpus("feeds_dataplane") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(feeds.join("dataplane"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "txt"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 13);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (preset_name, expected) = match name.as_str() {
            "proto41.txt" => ("dataplane-proto41", (1, 0)),
            "sshclient.txt" => ("dataplane", (2, 1)),
            "sshpwauth.txt" => ("dataplane", (3, 0)),
            _ => ("dataplane", (1, 0)),
        };
        let sink = preset(preset_name, &path);
        counts(&sink, expected.0, expected.1, &name);
        let category = name.trim_end_matches(".txt");
        assert!(
            sink.observations.iter().all(|o| o.labels == [category]),
            "{name}: {:?}",
            sink.observations
        );
    }
    let sink = preset("dataplane", &feeds.join("dataplane/sshpwauth.txt"));
    assert_eq!(
        values(&sink),
        ["170.239.104.183", "117.21.224.121", "1.2.3.4"]
    );
    let sink = preset("dataplane-proto41", &feeds.join("dataplane/proto41.txt"));
    assert_eq!(values(&sink), ["45.6.192.1"]);
    assert_eq!(
        sink.observations[0]
            .first_seen
            .map(|t| t.to_string())
            .as_deref(),
        Some("2021-08-28T05:00:18Z")
    );
}

#[test]
fn bambenek() {
    let Some(feeds) = corpus("feeds_bambenek") else {
        return;
    };
    // One data line each after a block of `#` comments.
    let sink = preset(
        "bambenek-c2-ip",
        &feeds.join("bambenek/c2-ipmasterlist.txt"),
    );
    counts(&sink, 1, 0, "c2-ipmasterlist.txt");
    assert_eq!(values(&sink), ["213.247.47.190"]);
    let sink = preset(
        "bambenek-c2-domain",
        &feeds.join("bambenek/c2-dommasterlist.txt"),
    );
    counts(&sink, 1, 0, "c2-dommasterlist.txt");
    assert_eq!(values(&sink), ["sfkh21okrrnlu.com"]);
    assert_eq!(
        sink.observations[0]
            .last_seen
            .map(|t| t.to_string())
            .as_deref(),
        Some("2016-11-12T15:02:00Z")
    );
    let sink = preset("bambenek-dga", &feeds.join("bambenek/dga-feed.txt"));
    counts(&sink, 1, 0, "dga-feed.txt");
    assert_eq!(values(&sink), ["xqmclnusaswvof.com"]);
    assert_eq!(sink.observations[0].labels, ["dga", "c2"]);
}

#[test]
fn turris_greylist() {
    let Some(feeds) = corpus("feeds_turris") else {
        return;
    };
    // 2 data lines after the `Address,Country,Tags,ASN` header.
    let sink = preset(
        "turris-greylist",
        &feeds.join("turris-greylist/greylist-latest.csv"),
    );
    counts(&sink, 2, 0, "greylist-latest.csv");
    assert_eq!(values(&sink), ["1.1.1.2", "1.20.96.142"]);
    assert_eq!(sink.observations[1].labels, ["telnet", "scanner"]);
}

#[test]
fn netlab360() {
    let Some(feeds) = corpus("feeds_netlab360") else {
        return;
    };
    // dga.txt: 2 tab-separated data lines.
    let sink = preset("netlab360-dga", &feeds.join("netlab360/dga.txt"));
    counts(&sink, 2, 0, "dga.txt");
    assert_eq!(values(&sink), ["difficultdress.net", "example.com"]);
    assert_eq!(sink.observations[0].threats, ["suppobox"]);
    assert_eq!(
        sink.observations[1]
            .valid_until
            .map(|t| t.to_string())
            .as_deref(),
        Some("2030-05-04T00:08:08Z")
    );
    // magnitude.txt: 1 data line giving a domain and a URL.
    let sink = preset(
        "netlab360-magnitude",
        &feeds.join("netlab360/magnitude.txt"),
    );
    counts(&sink, 2, 0, "magnitude.txt");
    assert_eq!(
        values(&sink),
        [
            "3ebo08o4ct0f6n2336.insides.party",
            "http://3ebo08o4ct0f6n2336.insides.party/d97cc5cfab47e305536690a9987115ac"
        ]
    );
    assert_eq!(
        sink.observations[0].first_seen.map(|t| t.as_second()),
        Some(1_478_946_665)
    );
}

#[test]
fn team_cymru() {
    let Some(feeds) = corpus("feeds_team_cymru") else {
        return;
    };
    let sink = preset(
        "team-cymru-cap",
        &feeds.join("team-cymru/certname_20190327.txt"),
    );
    counts(&sink, 35, 0, "certname_20190327.txt");
    assert_eq!(sink.observations[0].labels, ["bot"]);
    let sink = preset(
        "team-cymru-cap",
        &feeds.join("team-cymru/infected_20171031.txt"),
    );
    counts(&sink, 9, 0, "infected_20171031.txt");
    assert_eq!(
        sink.observations[8]
            .last_seen
            .map(|t| t.to_string())
            .as_deref(),
        Some("2017-10-31T10:00:05Z")
    );
}

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            data_files(&path, out);
        } else if path.extension().is_none_or(|ext| ext != "license") {
            out.push(path);
        }
    }
}

/// Every file, including the 12 folders without a preset (JSON, XML, HTML, Shadowserver CSV),
/// through the generic formats: no panic, no document-level error, and every line accounted
/// for as an observation, a rejection or a skipped line.
#[test]
fn every_feed_file_survives_the_generic_formats() {
    let Some(feeds) = corpus("feeds_every_file") else {
        return;
    };
    let mut files = Vec::new();
    data_files(&feeds, &mut files);
    let folders: std::collections::BTreeSet<_> = files
        .iter()
        .filter_map(|path| path.strip_prefix(&feeds).ok()?.components().next())
        .collect();
    assert_eq!(
        folders.len(),
        25 + 2,
        "25 feed folders plus README.md and SOURCES.tsv"
    );
    let mut seen = 0;
    for path in &files {
        let lines = std::fs::read(path)
            .unwrap()
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .count();
        let text = parse_with("text", &[], path);
        assert!(
            text.observations.len() + text.rejections.len() <= lines,
            "{}",
            path.display()
        );
        for delimiter in [",", "\\t", "|", ";"] {
            for (column, kind) in [("0", None), ("-1", Some("ip")), ("1", Some("url"))] {
                let mut options = vec![("delimiter", delimiter), ("value", column)];
                options.extend(kind.map(|kind| ("kind", kind)));
                // A quote left open swallows the rest, so counts can only be bounded above.
                let sink = parse_with("csv", &options, path);
                assert!(
                    sink.observations.len() + sink.rejections.len() <= lines,
                    "{}",
                    path.display()
                );
            }
        }
        let header = parse_with("csv", &[("header", "true"), ("value", "0")], path);
        assert!(
            header.observations.len() + header.rejections.len() <= lines,
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 154, "{seen} files");
}
